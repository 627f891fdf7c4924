/* SPDX-License-Identifier: MIT */
/*
 * The virtual LAPIC's exits: interrupt and NMI windows, TPR below threshold, APIC
 * access and APIC write, EOI-induced exits.
 */
#include "arch/x86/vmx/exit_internal.h"
#include "hv/trace/trace.h"

/* Interrupt window (no APICv): the guest can take an interrupt now; the entry path
 * injects it. */
enum exit_action vmx_exit_interrupt_window(struct vcpu *v)
{
	v->arch.proc &= ~(u32)CPU_INTR_WINDOW_EXITING;
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v->arch.proc);
	return EXIT_RESUME;
}

enum exit_action vmx_exit_nmi_window(struct vcpu *v)
{
	v->arch.proc &= ~(u32)CPU_NMI_WINDOW_EXITING;
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v->arch.proc);
	return EXIT_RESUME;
}

/* TPR below threshold (TPR shadow without virtual-interrupt delivery): the guest
 * lowered its TPR under a pending interrupt's class; the entry path injects it. */
enum exit_action vmx_exit_tpr_below_threshold(struct vcpu *v)
{
	(void)v;
	return EXIT_RESUME;
}

/* APIC write (trap-like, "APIC-Write VM Exits"): the write is already in the virtual-
 * APIC page; the exit qualification is its offset. */
enum exit_action vmx_exit_apic_write(struct vcpu *v)
{
	u32 off = (u32)vmcs_readl(EXIT_QUALIFICATION) & 0xff0;
	u64 val = vlapic_reg(&v->lapic, off);
	if (off == APIC_ICR && vlapic_x2apic(&v->lapic))
		val |= (u64)vlapic_reg(&v->lapic, APIC_ICR + 4) << 32;
	vlapic_write(v, off, val);
	return EXIT_RESUME;
}

/* EOI-induced exit (trap-like, "EOI Virtualization"): the CPU has done the EOI; the
 * vector is level-triggered (its EOI-exit bitmap bit is set): broadcast to the IOAPIC. */
enum exit_action vmx_exit_eoi_induced(struct vcpu *v)
{
	int vec = (int)(vmcs_readl(EXIT_QUALIFICATION) & 0xff);
	TRACE(TEV_EOI, v, vec, 1);
	vlapic_eoi_vector(v, vec, true);
	return EXIT_RESUME;
}

/* APIC access (fault-like, "APIC-Access VM Exits"): an access the CPU does not
 * virtualize, e.g. the timer's current count: emulate the instruction on the xAPIC
 * device (hv/dev/xapic.c). */
enum exit_action vmx_exit_apic_access(struct vcpu *v)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	u32 type = (q >> 12) & 0xf;
	if (type > 1) {   /* not a linear read/write: fetch or during event delivery */
		vm_fault(v, "APIC access of type %u at offset 0x%llx: not emulated", type,
			 (unsigned long long)(q & 0xfff));
		return EXIT_LEAVE;
	}
	bool claimed;
	enum exit_action a = vmx_xapic_emulate(v, APIC_DEFAULT_BASE + (q & 0xfff), &claimed);
	if (!claimed)
		vm_fault(v, "APIC access at offset 0x%llx: no device at the xAPIC page", (unsigned long long)(q & 0xfff));
	return a;
}
