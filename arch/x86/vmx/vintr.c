/* SPDX-License-Identifier: MIT */
/*
 * The two ways interrupts reach a guest (vintr.h): APICv and event injection. Each
 * function runs on the vCPU's own CPU with its VMCS current.
 */
#include "arch/x86/vmx/vintr.h"
#include "arch/x86/vmx/exit_internal.h"
#include "hv/irq/vioapic.h"
#include "hv/mm/mm.h"
#include "hv/mm/guest_layout.h"
#include "hv/trace/trace.h"

/* ---- APICv ---- */

static bool apicv_vm_init(struct vm *vm, char *err, size_t errlen)
{
	/* "Virtualizing Memory-Mapped APIC Accesses": guest accesses to the page whose
	 * address is the APIC-access address are virtualized; EPT maps the guest's xAPIC
	 * page there. */
	vm->arch.apic_access_page = alloc_page();
	if (!vm->arch.apic_access_page ||
	    !ept_map(&vm->arch.ept, GUEST_LAPIC_BASE, virt_to_phys(vm->arch.apic_access_page), 4096, EPT_RWX,
		     EPT_MT_WB)) {
		hv_snprintf(err, errlen, "out of memory for the APIC-access page");
		return false;
	}
	vm->arch.kick_vector = vm->nv;
	return true;
}

static void apicv_controls(struct vcpu *v)
{
	v->arch.proc2 |= SEC_APIC_REGISTER_VIRT | SEC_VIRTUAL_INTR_DELIVERY;
}

static void apicv_vmcs_setup(struct vcpu *v)
{
	vmcs_write64(APIC_ACCESS_ADDR, virt_to_phys(v->vm->arch.apic_access_page));
	vmcs_write16(POSTED_INTR_NV, v->vm->nv);
	vmcs_write64(POSTED_INTR_DESC_ADDR, virt_to_phys(v->arch.pi));
	vmcs_write64(EOI_EXIT_BITMAP0, 0);
	vmcs_write64(EOI_EXIT_BITMAP1, 0);
	vmcs_write64(EOI_EXIT_BITMAP2, 0);
	vmcs_write64(EOI_EXIT_BITMAP3, 0);
	vmcs_write16(GUEST_INTR_STATUS, 0);
}

/* Vol. 3C, "Secondary Processor-Based VM-Execution Controls": "virtualize APIC
 * accesses" and "virtualize x2APIC mode" exclude each other; in x2APIC mode the MSR
 * bitmap lets the virtualized x2APIC MSRs through. */
static void apicv_apic_mode(struct vcpu *v)
{
	bool x2 = vlapic_x2apic(&v->lapic);
	if (x2)
		v->arch.proc2 = (v->arch.proc2 & ~(u32)SEC_VIRTUALIZE_APIC_ACCESSES) | SEC_VIRTUALIZE_X2APIC;
	else
		v->arch.proc2 = (v->arch.proc2 & ~(u32)SEC_VIRTUALIZE_X2APIC) | SEC_VIRTUALIZE_APIC_ACCESSES;
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, v->arch.proc2);
	vmcs_write64(MSR_BITMAP, virt_to_phys(x2 ? v->vm->arch.msr_bitmap_x2apic : v->vm->arch.msr_bitmap));
}

static void apicv_reset(struct vcpu *v)
{
	(void)v;
	vmcs_write16(GUEST_INTR_STATUS, 0);
}

/* "EOI-Exit Bitmaps": an EOI of a level-triggered vector must exit so that the vIOAPIC
 * sees it (Remote IRR). */
static void apicv_eoi_exits(struct vcpu *v)
{
	u64 bm[4];
	vioapic_level_vectors(&v->vm->ioapic, bm);
	vmcs_write64(EOI_EXIT_BITMAP0, bm[0]);
	vmcs_write64(EOI_EXIT_BITMAP1, bm[1]);
	vmcs_write64(EOI_EXIT_BITMAP2, bm[2]);
	vmcs_write64(EOI_EXIT_BITMAP3, bm[3]);
}

/* Move PIR into vIRR and raise RVI. "Posted-Interrupt Processing" does the same in the
 * CPU when the notification arrives in guest mode. */
static void apicv_take_posted(struct vcpu *v)
{
	int hi = harvest_pir(v);
	if (hi < 0)
		return;
	TRACE(TEV_INJECT, v, hi, 1);
	u16 st = vmcs_read16(GUEST_INTR_STATUS);
	if ((int)(st & 0xff) < hi)
		vmcs_write16(GUEST_INTR_STATUS, (u16)((st & 0xff00) | (u32)hi));
}

static void apicv_deliver(struct vcpu *v)
{
	if (pi_test_on(v->arch.pi))
		apicv_take_posted(v);
}

const struct vintr_ops vintr_apicv = {
	.name = "apicv",
	.vm_init = apicv_vm_init,
	.controls = apicv_controls,
	.vmcs_setup = apicv_vmcs_setup,
	.apic_mode = apicv_apic_mode,
	.reset = apicv_reset,
	.eoi_exits = apicv_eoi_exits,
	.deliver = apicv_deliver,
	.take_posted = apicv_take_posted,
};

/* ---- Event injection ---- */

static bool inject_vm_init(struct vm *vm, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	vm->arch.kick_vector = VECTOR_KICK;
	return true;
}

static void inject_controls(struct vcpu *v)
{
	v->arch.pin &= ~(u32)PIN_POSTED_INTERRUPTS;
}

static void inject_nothing(struct vcpu *v)
{
	(void)v;
}

/* Inject the highest deliverable interrupt if the guest can take it now, else ask for
 * an interrupt-window exit ("Interrupt-Window Exiting", "Event Injection"). With a TPR
 * shadow, a pending interrupt held off by TPR arms the TPR threshold so that lowering
 * TPR exits. */
void vmx_inject_pending_irq(struct vcpu *v)
{
	struct vlapic *l = &v->lapic;
	if (pi_test_on(v->arch.pi))
		harvest_pir(v);
	int vec = vlapic_deliverable(l);
	if (v->arch.proc & CPU_TPR_SHADOW) {
		int irr = vlapic_highest(l, APIC_IRR);
		u32 tpr_class = (vlapic_reg(l, APIC_TPR) >> 4) & 0xf;
		u32 thr = irr < 0 || vec >= 0 ? 0 : MIN((u32)irr >> 4, tpr_class);
		if (thr != v->arch.tpr_threshold) {
			v->arch.tpr_threshold = thr;
			vmcs_write32(TPR_THRESHOLD, thr);
		}
	}
	if (vec < 0) {
		vmx_set_proc(v, CPU_INTR_WINDOW_EXITING, false);
		return;
	}
	/* A pending single-step trap (skip_instruction) comes first: it is of higher
	 * priority than an external interrupt ("Priority Among Concurrent Events"). */
	if (!(vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID) && (vmcs_readl(GUEST_RFLAGS) & RFLAGS_IF) &&
	    !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) &&
	    !(vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS)) {
		vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, (u32)vec | INTR_TYPE_EXT_INTR | INTR_INFO_VALID);
		vlapic_ack(l, (u8)vec);
		v->ctr.injected++;
		TRACE(TEV_INJECT, v, vec, 0);
		vec = vlapic_deliverable(l);   /* another one behind it? */
	}
	vmx_set_proc(v, CPU_INTR_WINDOW_EXITING, vec >= 0);
}

static void inject_take_posted(struct vcpu *v)
{
	harvest_pir(v);
}

const struct vintr_ops vintr_inject = {
	.name = "inject",
	.vm_init = inject_vm_init,
	.controls = inject_controls,
	.vmcs_setup = inject_nothing,
	.apic_mode = inject_nothing,
	.reset = inject_nothing,
	.eoi_exits = inject_nothing,
	.deliver = vmx_inject_pending_irq,
	.take_posted = inject_take_posted,
};
