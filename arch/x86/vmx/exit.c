/* SPDX-License-Identifier: MIT */
/*
 * VM-exit dispatch: a const table indexed by basic exit reason (Intel SDM Vol. 3D,
 * Appendix C). Each handler follows the return contract of enum exit_action (hv/vm.h).
 * A reason without a handler stops the VM with a diagnosis: the guest caused something
 * this hypervisor does not emulate, which must never take the hypervisor down.
 *
 * Hot path: vmx_exit_stub -> vmx_handle_exit -> handler -> (skip) -> vmresume. Keep
 * everything not needed on every exit out of vmx_handle_exit.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/mmio.h"
#include "arch/x86/x86.h"
#include "hv/console.h"
#include "hv/lib.h"
#include "hv/hypercall.h"
#include "hv/sched.h"
#include "hv/vioapic.h"
#include "arch/x86/vmx/posted.h"

typedef enum exit_action (*exit_handler_t)(struct vcpu *v);

static const char *const exit_names[NR_EXIT_REASONS] = {
	[EXIT_REASON_EXCEPTION_NMI] = "exception_nmi",
	[EXIT_REASON_EXTERNAL_INTERRUPT] = "external_interrupt",
	[EXIT_REASON_TRIPLE_FAULT] = "triple_fault",
	[EXIT_REASON_INIT] = "init",
	[EXIT_REASON_SIPI] = "sipi",
	[EXIT_REASON_INTERRUPT_WINDOW] = "interrupt_window",
	[EXIT_REASON_NMI_WINDOW] = "nmi_window",
	[EXIT_REASON_TASK_SWITCH] = "task_switch",
	[EXIT_REASON_CPUID] = "cpuid",
	[EXIT_REASON_GETSEC] = "getsec",
	[EXIT_REASON_HLT] = "hlt",
	[EXIT_REASON_INVD] = "invd",
	[EXIT_REASON_INVLPG] = "invlpg",
	[EXIT_REASON_RDPMC] = "rdpmc",
	[EXIT_REASON_RDTSC] = "rdtsc",
	[EXIT_REASON_RSM] = "rsm",
	[EXIT_REASON_VMCALL] = "vmcall",
	[EXIT_REASON_VMCLEAR] = "vmclear",
	[EXIT_REASON_VMLAUNCH] = "vmlaunch",
	[EXIT_REASON_VMPTRLD] = "vmptrld",
	[EXIT_REASON_VMPTRST] = "vmptrst",
	[EXIT_REASON_VMREAD] = "vmread",
	[EXIT_REASON_VMRESUME] = "vmresume",
	[EXIT_REASON_VMWRITE] = "vmwrite",
	[EXIT_REASON_VMXOFF] = "vmxoff",
	[EXIT_REASON_VMXON] = "vmxon",
	[EXIT_REASON_CR_ACCESS] = "cr_access",
	[EXIT_REASON_DR_ACCESS] = "dr_access",
	[EXIT_REASON_IO_INSTRUCTION] = "io",
	[EXIT_REASON_MSR_READ] = "rdmsr",
	[EXIT_REASON_MSR_WRITE] = "wrmsr",
	[EXIT_REASON_INVALID_GUEST_STATE] = "invalid_guest_state",
	[EXIT_REASON_MSR_LOADING] = "msr_loading",
	[EXIT_REASON_MWAIT] = "mwait",
	[EXIT_REASON_MONITOR_TRAP_FLAG] = "monitor_trap_flag",
	[EXIT_REASON_MONITOR] = "monitor",
	[EXIT_REASON_PAUSE] = "pause",
	[EXIT_REASON_MCE_DURING_ENTRY] = "mce_during_entry",
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = "tpr_below_threshold",
	[EXIT_REASON_APIC_ACCESS] = "apic_access",
	[EXIT_REASON_EOI_INDUCED] = "eoi_induced",
	[EXIT_REASON_GDTR_IDTR] = "gdtr_idtr",
	[EXIT_REASON_LDTR_TR] = "ldtr_tr",
	[EXIT_REASON_EPT_VIOLATION] = "ept_violation",
	[EXIT_REASON_EPT_MISCONFIG] = "ept_misconfig",
	[EXIT_REASON_INVEPT] = "invept",
	[EXIT_REASON_RDTSCP] = "rdtscp",
	[EXIT_REASON_PREEMPTION_TIMER] = "preemption_timer",
	[EXIT_REASON_INVVPID] = "invvpid",
	[EXIT_REASON_WBINVD] = "wbinvd",
	[EXIT_REASON_XSETBV] = "xsetbv",
	[EXIT_REASON_APIC_WRITE] = "apic_write",
	[EXIT_REASON_RDRAND] = "rdrand",
	[EXIT_REASON_INVPCID] = "invpcid",
	[EXIT_REASON_VMFUNC] = "vmfunc",
	[EXIT_REASON_ENCLS] = "encls",
	[EXIT_REASON_RDSEED] = "rdseed",
	[EXIT_REASON_PML_FULL] = "pml_full",
	[EXIT_REASON_XSAVES] = "xsaves",
	[EXIT_REASON_XRSTORS] = "xrstors",
	[EXIT_REASON_UMWAIT] = "umwait",
	[EXIT_REASON_TPAUSE] = "tpause",
};

const char *exit_reason_name(unsigned basic)
{
	return basic < NR_EXIT_REASONS && exit_names[basic] ? exit_names[basic] : "unknown";
}

/* ---- simple handlers ---- */

/* Without "acknowledge interrupt on exit" the interrupt is still pending: open the
 * host's interrupt window for one instruction so the IDT handler takes it. */
static void irq_window_for_host(void)
{
	asm volatile("sti; nop; cli" ::: "memory");
}

static enum exit_action handle_cpuid(struct vcpu *v)
{
	u32 out[4];
	guest_cpuid(v, (u32)v->gpr[GPR_RAX], (u32)v->gpr[GPR_RCX], out);
	v->gpr[GPR_RAX] = out[0];
	v->gpr[GPR_RBX] = out[1];
	v->gpr[GPR_RCX] = out[2];
	v->gpr[GPR_RDX] = out[3];
	return EXIT_SKIP;
}

/* VMX instructions in the guest: VMX is not exposed (CPUID.1:ECX.VMX = 0), so behave
 * like a CPU without it: #UD. The same for MONITOR/MWAIT (CPUID.1:ECX.MONITOR = 0). */
static enum exit_action inject_ud(struct vcpu *v)
{
	vmx_inject_exception(v, X86_UD, false, 0);
	return EXIT_RESUME;
}

/*
 * VMCALL ("VMCALL—Call to VM Monitor"): in VMX non-root operation it causes a VM exit
 * whatever the CPL ("IF not in VMX operation THEN #UD; ELSIF in VMX non-root operation
 * THEN VM exit"; the #GP(0) for CPL > 0 applies only in VMX root operation), so
 * checking the privilege is the hypervisor's job. The hypercall ABI is for the guest's
 * kernel: from CPL > 0 (guest user mode; also virtual-8086 mode, whose CPL is 3) the
 * call is refused with #UD, unless the VM was given user_hc=on. #UD rather than an
 * error in RAX: user code then sees what a processor without a VMM (outside VMX
 * operation) gives it, nothing in its registers changes, and the guest kernel's
 * #UD handler, not the hypervisor, decides what happens to the program (as it does
 * for any instruction the program may not use). The CPL is SS.DPL ("Guest Register
 * State": "the value of the DPL field for SS is always equal to the logical
 * processor's current privilege level").
 */
static enum exit_action handle_vmcall(struct vcpu *v)
{
	if (unlikely(vmcs_read32(GUEST_SS_AR_BYTES) & AR_DPL_MASK) && !v->vm->cfg->user_hc)
		return inject_ud(v);
	return hypercall(v);
}

/* RDPMC with no performance counters exposed (CPUID leaf 0xA is zero): #GP(0). */
static enum exit_action inject_gp(struct vcpu *v)
{
	vmx_inject_exception(v, X86_GP, true, 0);
	return EXIT_RESUME;
}

static enum exit_action handle_invd(struct vcpu *v)
{
	(void)v;
	asm volatile("wbinvd" ::: "memory");   /* INVD would drop other VMs' dirty lines */
	return EXIT_SKIP;
}

static inline void skip_instruction(void);

/* HLT ("HLT—Halt"): the vCPU waits for an interrupt it can take (or NMI, INIT). With
 * one pending it goes on at once; else it blocks (hv/sched.c) and its CPU runs others
 * or idles until it is woken (hv/sched.c). */
static enum exit_action handle_hlt(struct vcpu *v)
{
	u64 rflags = vmcs_readl(GUEST_RFLAGS);
	bool irqs = rflags & RFLAGS_IF;
	skip_instruction();
	/* A single-step trap is pending after HLT: the #DB is an event, so the vCPU
	 * takes it instead of halting. */
	if ((rflags & RFLAGS_TF) || vcpu_halt_should_wake(v))
		return EXIT_RESUME;
	if (!irqs && v->vm->nr_vcpus == 1) {
		vm_stop(v->vm, HV_STATUS_STOPPED, false, 0,
			"vCPU %u halted with interrupts disabled: only an NMI or INIT could wake it, "
			"and this VM has no other vCPU to send one", v->id);
		return EXIT_LEAVE;
	}
	/* Block once this CPU has left the vCPU (hv/sched.c:put_prev), which also
	 * looks at ON again after publishing HALTED. */
	v->halt_irq_wake = irqs;
	v->want_block = true;
	v->ctr.halts++;
	return EXIT_LEAVE;
}

bool vcpu_halt_should_wake(struct vcpu *v)
{
	if (v->nmi_pending || (v->requests & (REQ_NMI | REQ_INIT)))
		return true;
	if (!(vmcs_readl(GUEST_RFLAGS) & RFLAGS_IF))
		return false;
	if (pi_test_on(v->pi)) {
		/* Take PIR into the IRR to see whether its vectors beat PPR. */
		if (v->vm->apicv)
			vmx_sync_pir(v);
		else if (pi_test_and_clear_on(v->pi))
			pi_harvest(v->pi, v->lapic.regs + APIC_IRR);
	}
	return vlapic_deliverable(&v->lapic) >= 0;
}

static enum exit_action handle_triple_fault(struct vcpu *v)
{
	vm_fault(v, "triple fault (shutdown): the guest took an exception while delivering a double fault");
	return EXIT_LEAVE;
}

static enum exit_action handle_ept_violation(struct vcpu *v)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	u64 gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	const char *what = q & BIT(1) ? "write" : q & BIT(2) ? "instruction fetch" : "read";
	bool in_ram = gpa_to_hva(v->vm, gpa, 1) != NULL;
	if (!in_ram) {
		bool claimed;
		enum exit_action act = vm_mmio_dispatch(v, gpa, q, &claimed);
		if (claimed)
			return act;
	}
	const struct gmap_entry *e = guest_map_find(&v->vm->map, gpa);
	if (in_ram)
		vm_fault(v, "EPT violation at GPA 0x%llx inside guest RAM (%s, qualification 0x%llx): "
			 "hypervisor EPT bug", (unsigned long long)gpa, what, (unsigned long long)q);
	else
		vm_fault(v, "EPT violation: %s of GPA 0x%llx (%s) outside guest RAM (0-0x%llx%s) and of "
			 "any emulated device (qualification 0x%llx, linear 0x%llx)", what, (unsigned long long)gpa,
			 e ? guest_map_kind_name(e->kind) : "unassigned", (unsigned long long)guest_map_low_end(&v->vm->map),
			 v->vm->map.nr_spans > 1 ? " and from 4 GiB" : "", (unsigned long long)q,
			 (unsigned long long)(q & BIT(7) ? vmcs_readl(GUEST_LINEAR_ADDRESS) : 0));
	return EXIT_LEAVE;
}

/* Task switch ("Task Switch" in "Instructions That Cause VM Exits Unconditionally";
 * qualification: "Exit Qualification for Task Switches", bits 15:0 the TSS selector,
 * 31:30 the source). Task switching is not emulated: the guest gets the #GP a CPU
 * raises for a TSS it refuses, with the selector in the error code ("Error Code": the
 * IDT flag and vector for a task gate in the IDT, EXT for a switch during the delivery
 * of an event other than a software interrupt), and the VM runs on. A guest that
 * loops delivering through a task gate only spins itself. */
static enum exit_action handle_task_switch(struct vcpu *v)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	u32 err = (u32)q & 0xfffc;
	if (((q >> 30) & 3) == 3) {
		u32 idt = vmcs_read32(IDT_VECTORING_INFO_FIELD);
		u32 type = idt & INTR_TYPE_MASK;
		bool soft = type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION ||
			    type == INTR_TYPE_PRIV_SW_EXCEPTION;
		err = ((idt & INTR_INFO_VECTOR_MASK) << 3) | 2 | (soft ? 0 : 1);
	}
	vmx_inject_exception(v, X86_GP, true, err);   /* replaces a re-injected event */
	return EXIT_RESUME;
}

static enum exit_action handle_ept_misconfig(struct vcpu *v)
{
	vm_fault(v, "EPT misconfiguration at GPA 0x%llx: hypervisor EPT bug",
		 (unsigned long long)vmcs_read64(GUEST_PHYSICAL_ADDRESS));
	return EXIT_LEAVE;
}

/* Host external interrupt while the guest ran ("acknowledge interrupt on exit" gives
 * its vector). The host has no device interrupts yet; the kick IPI only makes the vCPU
 * look at its VM's state again. */
static enum exit_action handle_external_interrupt(struct vcpu *v)
{
	u32 info = vmcs_read32(VM_EXIT_INTR_INFO);
	if (info & INTR_INFO_VALID)
		host_irq(info & INTR_INFO_VECTOR_MASK);
	else
		irq_window_for_host();   /* no ack-on-exit: take it in the host */
	return v->vm->state == VM_RUNNING ? EXIT_RESUME : EXIT_LEAVE;
}

static enum exit_action handle_exception_nmi(struct vcpu *v)
{
	u32 info = vmcs_read32(VM_EXIT_INTR_INFO);
	if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
		printk("NMI received while vCPU %s/%u ran; ignored\n", v->vm->name, v->id);
		return EXIT_RESUME;
	}
	vm_fault(v, "unexpected exception exit: vector %u (interruption info 0x%x)", info & 0xff, info);
	return EXIT_LEAVE;
}

/* ---- control registers ---- */

u64 vcpu_gpr_read(struct vcpu *v, unsigned n)
{
	return n == GPR_RSP ? vmcs_readl(GUEST_RSP) : v->gpr[n];
}

void vcpu_gpr_write(struct vcpu *v, unsigned n, u64 val)
{
	if (n == GPR_RSP)
		vmcs_writel(GUEST_RSP, val);
	else
		v->gpr[n] = val;
}

/* With EPT, PAE paging outside IA-32e mode takes its PDPTEs from the VMCS ("Loading
 * Guest PDPTEs" / "PDPTE registers"), which the CPU only fills on an unintercepted
 * MOV to CR3/CR0/CR4: when the hypervisor emulates a paging-mode change, it loads them,
 * for the new CR0/CR4/EFER, before any of them is committed. A present PDPTE with a
 * reserved bit set (bits 2:1, 8:5 and MAXPHYADDR-63: "PDPTE Registers", "PAE Paging")
 * makes the MOV fault with #GP(0) ("MOV—Move to/from Control Registers") and nothing
 * changes. Returns 0 (loaded or not needed), 1 (#GP) or -1 (CR3 outside guest RAM). */
static int load_pdptes(struct vcpu *v, u64 cr0, u64 cr4, u64 efer)
{
	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (efer & EFER_LMA))
		return 0;
	const u64 *p = gpa_to_hva(v->vm, vmcs_readl(GUEST_CR3) & 0xffffffe0ull, 32);
	if (!p)
		return -1;
	u32 r[4];
	guest_cpuid(v, 0x80000008u, 0, r);
	unsigned maxphy = r[0] & 0xff ? r[0] & 0xff : 36;
	u64 rsvd = 0x1e6ull | ~((1ull << maxphy) - 1);
	for (int i = 0; i < 4; i++)
		if ((p[i] & 1) && (p[i] & rsvd))
			return 1;
	vmcs_write64(GUEST_PDPTE0, p[0]);
	vmcs_write64(GUEST_PDPTE1, p[1]);
	vmcs_write64(GUEST_PDPTE2, p[2]);
	vmcs_write64(GUEST_PDPTE3, p[3]);
	return 0;
}

static enum exit_action pdpte_fault(struct vcpu *v, int r)
{
	if (r > 0)
		return inject_gp(v);
	vm_fault(v, "PAE paging enabled with CR3 outside guest RAM");
	return EXIT_LEAVE;
}

static enum exit_action set_cr0(struct vcpu *v, u64 val)
{
	u64 old = vmcs_readl(GUEST_CR0);
	u64 efer = vmcs_read64(GUEST_IA32_EFER);
	u32 entry = vmcs_read32(VM_ENTRY_CONTROLS);

	/* MOV to CR0 faults: reserved bits 63:32, PG without PE, NW without CD. */
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
		return inject_gp(v);
	if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
		if (!(vmcs_readl(GUEST_CR4) & CR4_PAE))
			return inject_gp(v);
		efer |= EFER_LMA;
		entry |= ENTRY_IA32E_MODE;
	} else if (!(val & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
		/* "MOV—Move to/from Control Registers": #GP(0) for "an attempt to clear
		 * CR0.PG[bit 31]" in 64-bit mode; only compatibility mode (CS.L = 0) may
		 * leave IA-32e mode this way. */
		if (vmcs_read32(GUEST_CS_AR_BYTES) & AR_L)
			return inject_gp(v);
		efer &= ~(u64)EFER_LMA;
		entry &= ~(u32)ENTRY_IA32E_MODE;
	}
	int r = load_pdptes(v, val, vmcs_readl(GUEST_CR4), efer);
	if (r)
		return pdpte_fault(v, r);
	vmcs_write64(GUEST_IA32_EFER, efer);
	vmcs_write32(VM_ENTRY_CONTROLS, entry);
	vmcs_writel(CR0_READ_SHADOW, val);
	vmcs_writel(GUEST_CR0, (val | (vmx_caps.cr0_fixed0 & ~(u64)(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1);
	return EXIT_SKIP;
}

static enum exit_action set_cr4(struct vcpu *v, u64 val)
{
	/* Bits the CPU cannot hold in VMX operation, and those of features the guest's
	 * CPUID does not offer (VMXE, UMIP, PKE...: cpuid.c, guest_cr4_valid). */
	u64 refused = ~guest_cr4_valid(v) | CR4_VMXE;
	if (val & refused)
		return inject_gp(v);
	if ((vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && !(val & CR4_PAE))
		return inject_gp(v);
	int r = load_pdptes(v, vmcs_readl(GUEST_CR0), val, vmcs_read64(GUEST_IA32_EFER));
	if (r)
		return pdpte_fault(v, r);
	vmcs_writel(CR4_READ_SHADOW, val);
	vmcs_writel(GUEST_CR4, val | vmx_caps.cr4_fixed0);
	return EXIT_SKIP;
}

/* Exit qualification for control-register accesses ("Exit Qualification for Control-
 * Register Accesses"): bits 3:0 the CR, 5:4 the access type, 11:8 the GPR. */
static enum exit_action handle_cr_access(struct vcpu *v)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;

	if (type == 0) {   /* MOV to CR */
		u64 val = vcpu_gpr_read(v, reg);
		switch (cr) {
		case 0: return set_cr0(v, val);
		case 4: return set_cr4(v, val);
		case 8:
			if (val >> 4)
				return inject_gp(v);
			/* CR8 is TPR[7:4] ("Task Priority in IA-32e Mode"). */
			vlapic_set_reg(&v->lapic, APIC_TPR, (u32)val << 4);
			return EXIT_SKIP;
		}
	} else if (type == 1 && cr == 8) {   /* MOV from CR8 */
		vcpu_gpr_write(v, reg, vlapic_reg(&v->lapic, APIC_TPR) >> 4);
		return EXIT_SKIP;
	} else if (type == 3) {   /* LMSW: only the low four bits of CR0, and it cannot clear PE */
		u64 src = (q >> 16) & 0xf;
		u64 cr0 = vmcs_readl(CR0_READ_SHADOW);
		return set_cr0(v, (cr0 & ~0xeull) | (src & 0xe) | ((cr0 | src) & CR0_PE));
	}
	vm_fault(v, "unexpected control-register access (qualification 0x%llx)", (unsigned long long)q);
	return EXIT_LEAVE;
}

/* XSETBV always exits ("Instructions That Cause VM Exits Unconditionally"). Accept what
 * is offered to guests (vmx_xcr0_allowed: what the CPU supports and the vCPU's FPU area
 * holds) and the SDM allows ("Extended Control Registers (Including XCR0)": bit 0 set,
 * AVX needs SSE, the AVX-512 bits together and with AVX), else #GP(0). */
static enum exit_action handle_xsetbv(struct vcpu *v)
{
	u64 val = (v->gpr[GPR_RDX] << 32) | (u32)v->gpr[GPR_RAX];
	u64 supported = vmx_xcr0_allowed;
	if ((u32)v->gpr[GPR_RCX] != 0 || !(val & 1) || (val & ~supported) ||
	    ((val & 4) && !(val & 2)) || ((val & 0xe0) && (val & 0xe0) != 0xe0) ||
	    ((val & 0xe0) && !(val & 4)))
		return inject_gp(v);
	xsetbv(0, val);
	v->xcr0 = val;
	return EXIT_SKIP;
}

/* ---- port I/O ---- */

/* A port access the bus did not complete: the device stopped the VM, or refused the
 * access (the VM is stopped here, naming the device, the port, the size and the
 * instruction). */
static __attribute__((noinline)) enum exit_action io_failed(struct vcpu *v, const struct io_req *req,
							    enum io_result r, bool string)
{
	if (r == IO_REFUSED) {
		const struct vdev *dev = io_bus_find(v->vm, IO_SPACE_PORT, req->addr);
		const char *insn = req->write ? (string ? "OUTS" : "OUT") : (string ? "INS" : "IN");
		if (req->write)
			vm_fault(v, "%s refused a %u-byte write of 0x%llx to port 0x%llx (%s at RIP 0x%llx)",
				 dev ? dev->name : "port I/O", req->size, (unsigned long long)req->value,
				 (unsigned long long)req->addr, insn, (unsigned long long)vmcs_readl(GUEST_RIP));
		else
			vm_fault(v, "%s refused a %u-byte read of port 0x%llx (%s at RIP 0x%llx)",
				 dev ? dev->name : "port I/O", req->size, (unsigned long long)req->addr, insn,
				 (unsigned long long)vmcs_readl(GUEST_RIP));
	}
	return EXIT_LEAVE;
}

#define STRING_IO_BATCH 4096   /* iterations per exit; the rest re-executes */
#define CS_AR_L BIT(13)        /* "Guest Register State": CS access rights, 64-bit mode */

/*
 * INS/OUTS, with or without REP ("Exit Qualification for I/O Instructions"; the
 * guest-linear address field gives the memory operand's linear address). Each element
 * is translated through the guest's page tables with the access rights of "Access
 * Rights" (gwalk.c) before it moves: INS writes memory, OUTS reads it. An element that
 * crosses into the next page is translated on both pages (the two may map anywhere)
 * and checked on both before the port is touched. A fault delivers #PF with CR2 = the
 * linear address of the first byte on the faulting page, and leaves RCX and RSI/RDI
 * as the completed elements left them ("Repeat String Operation Prefix": the
 * registers let the handler's IRET resume the string), RIP on the instruction.
 * The offset is the index register's low 16/32/64 bits (the address size) and wraps
 * there; the linear address is the segment base (the exit's linear address minus the
 * first offset) plus the offset, 32 bits wide outside 64-bit mode.
 */
static __attribute__((noinline)) enum exit_action string_io(struct vcpu *v, u64 q, u16 port, unsigned size, bool in)
{
	bool rep = q & BIT(5);
	u32 info = vmcs_read32(VMX_INSTRUCTION_INFO);
	unsigned asz = (info >> 7) & 7;   /* 0: 16-bit, 1: 32-bit, 2: 64-bit */
	u64 amask = asz == 0 ? 0xffffull : asz == 1 ? 0xffffffffull : ~0ull;
	u64 count = rep ? v->gpr[GPR_RCX] & amask : 1;
	bool down = vmcs_readl(GUEST_RFLAGS) & RFLAGS_DF;
	unsigned idx_reg = in ? GPR_RDI : GPR_RSI;
	bool mode64 = (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && (vmcs_read32(GUEST_CS_AR_BYTES) & CS_AR_L);
	u64 lmask = mode64 ? ~0ull : 0xffffffffull;
	u64 seg_base = vmcs_readl(GUEST_LINEAR_ADDRESS) - (v->gpr[idx_reg] & amask);
	u64 n = MIN(count, (u64)STRING_IO_BATCH);

	for (u64 i = 0; i < n; i++) {
		u64 la = (seg_base + (v->gpr[idx_reg] & amask)) & lmask;
		unsigned len[2];
		u8 *mem[2] = { NULL, NULL };
		len[0] = (unsigned)MIN((u64)size, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
		len[1] = size - len[0];
		for (unsigned k = 0; k < 2 && len[k]; k++) {
			u64 at = k ? (la + len[0]) & lmask : la;
			struct pw_out o;
			enum pw_result r = vmx_guest_walk(v, at, in ? PW_WRITE : PW_READ, 0, &o);
			if (r != PW_OK)
				return vmx_guest_walk_failed(v, at, r, &o, in ? "INS" : "OUTS");
			mem[k] = gpa_to_hva(v->vm, o.gpa, len[k]);
			if (!mem[k]) {
				vm_fault(v, "string I/O on port 0x%x with a buffer outside guest RAM (GPA 0x%llx)", port,
					 (unsigned long long)o.gpa);
				return EXIT_LEAVE;
			}
		}
		struct io_req req = { .space = IO_SPACE_PORT, .addr = port, .size = (u8)size, .write = !in };
		u8 buf[8] = { 0 };
		if (!in) {
			memcpy(buf, mem[0], len[0]);
			if (len[1])
				memcpy(buf + len[0], mem[1], len[1]);
			memcpy(&req.value, buf, sizeof(req.value));
		}
		enum io_result r = io_bus_dispatch(v->vm, v, &req, NULL, NULL);
		if (r != IO_DONE)
			return io_failed(v, &req, r, true);
		if (in) {
			memcpy(buf, &req.value, sizeof(buf));
			memcpy(mem[0], buf, len[0]);
			if (len[1])
				memcpy(mem[1], buf + len[0], len[1]);
		}
		u64 step = down ? (u64)-(s64)size : size;
		v->gpr[idx_reg] = (v->gpr[idx_reg] & ~amask) | ((v->gpr[idx_reg] + step) & amask);
		if (rep)
			v->gpr[GPR_RCX] = (v->gpr[GPR_RCX] & ~amask) | ((v->gpr[GPR_RCX] - 1) & amask);
	}
	/* Not finished: leave RIP on the instruction so that it continues. */
	return rep && count > n ? EXIT_RESUME : EXIT_SKIP;
}

static enum exit_action handle_io(struct vcpu *v)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	unsigned size = (q & 7) + 1;
	bool in = q & BIT(3);
	u16 port = (u16)(q >> 16);

	if (unlikely(q & BIT(4)))
		return string_io(v, q, port, size, in);
	/* OUT: the data is the low size bytes of RAX (the bus ignores the rest). */
	struct io_req req = { .space = IO_SPACE_PORT, .addr = port, .size = (u8)size, .write = !in,
			      .value = v->gpr[GPR_RAX] };
	enum io_result r;
	if (unlikely(!io_bus_port_fast(&v->vm->bus, v, &req, &r)))
		r = io_bus_dispatch(v->vm, v, &req, NULL, NULL);
	if (unlikely(r != IO_DONE))
		return io_failed(v, &req, r, false);
	/* From req (in memory anyway, the device had it): fewer registers live across the
	 * device's call on this hot path. */
	if (!req.write) {
		u64 rax = v->gpr[GPR_RAX];
		if (req.size == 4)
			rax = (u32)req.value;   /* a 32-bit destination zero-extends into RAX */
		else if (req.size == 2)
			rax = (rax & ~0xffffull) | (u16)req.value;
		else
			rax = (rax & ~0xffull) | (u8)req.value;
		v->gpr[GPR_RAX] = rax;
	}
	return EXIT_SKIP;
}

/* ---- the virtual LAPIC's exits ---- */

/* Interrupt window (no APICv): the guest can take an interrupt now; the entry path
 * injects it. */
static enum exit_action handle_interrupt_window(struct vcpu *v)
{
	v->proc &= ~(u32)CPU_INTR_WINDOW_EXITING;
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v->proc);
	return EXIT_RESUME;
}

static enum exit_action handle_nmi_window(struct vcpu *v)
{
	v->proc &= ~(u32)CPU_NMI_WINDOW_EXITING;
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v->proc);
	return EXIT_RESUME;
}

/* TPR below threshold (TPR shadow without virtual-interrupt delivery): the guest
 * lowered its TPR under a pending interrupt's class; the entry path injects it. */
static enum exit_action handle_tpr_below_threshold(struct vcpu *v)
{
	(void)v;
	return EXIT_RESUME;
}

/* APIC write (trap-like, "APIC-Write VM Exits"): the write is already in the virtual-
 * APIC page; the exit qualification is its offset. */
static enum exit_action handle_apic_write(struct vcpu *v)
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
static enum exit_action handle_eoi_induced(struct vcpu *v)
{
	vlapic_eoi_vector(v, (int)(vmcs_readl(EXIT_QUALIFICATION) & 0xff), true);
	return EXIT_RESUME;
}

/* APIC access (fault-like, "APIC-Access VM Exits"): an access the CPU does not
 * virtualize, e.g. the timer's current count: emulate the instruction on the xAPIC
 * device (hv/dev/xapic.c). */
static enum exit_action handle_apic_access(struct vcpu *v)
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

/* PAUSE-loop exit ("PAUSE-loop exiting"): the vCPU spins; maybe yield (hv/sched.c). */
static enum exit_action handle_pause(struct vcpu *v)
{
	return sched_pause_exit(v);
}

/* The VMX-preemption timer fired outside the fastpath (fastpath off, or a host timer
 * is due). A VM exit for a preemption timer that is already 0 at VM entry comes before
 * the guest runs an instruction and before a pending external interrupt ("VMX-
 * Preemption Timer"; "Event Priority" puts it above NMI and maskable interrupts), so a
 * guest timer due at every entry would keep the host's own timer interrupt (the time
 * slice) from ever being delivered as an exit: a due host timer is run here, and the
 * entry path then sees need_resched. hv/vlapic.c also bounds the period. */
static enum exit_action handle_preemption_timer(struct vcpu *v)
{
	u64 now = rdtsc();
	vlapic_timer_expired(v, now);
	if (hv_timer_due(now))
		hv_timer_interrupt();   /* its LAPIC interrupt comes later and finds nothing due */
	return EXIT_RESUME;
}

/* ---- dispatch ---- */

static const exit_handler_t exit_handlers[NR_EXIT_REASONS] = {
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_TASK_SWITCH] = handle_task_switch,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_INVD] = handle_invd,
	[EXIT_REASON_RDPMC] = inject_gp,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_VMCLEAR] = inject_ud,
	[EXIT_REASON_VMLAUNCH] = inject_ud,
	[EXIT_REASON_VMPTRLD] = inject_ud,
	[EXIT_REASON_VMPTRST] = inject_ud,
	[EXIT_REASON_VMREAD] = inject_ud,
	[EXIT_REASON_VMRESUME] = inject_ud,
	[EXIT_REASON_VMWRITE] = inject_ud,
	[EXIT_REASON_VMXOFF] = inject_ud,
	[EXIT_REASON_VMXON] = inject_ud,
	[EXIT_REASON_INVEPT] = inject_ud,
	[EXIT_REASON_INVVPID] = inject_ud,
	[EXIT_REASON_VMFUNC] = inject_ud,
	[EXIT_REASON_MWAIT] = inject_ud,
	[EXIT_REASON_MONITOR] = inject_ud,
	[EXIT_REASON_CR_ACCESS] = handle_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_MSR_READ] = handle_rdmsr,
	[EXIT_REASON_MSR_WRITE] = handle_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_XSETBV] = handle_xsetbv,
	[EXIT_REASON_INTERRUPT_WINDOW] = handle_interrupt_window,
	[EXIT_REASON_NMI_WINDOW] = handle_nmi_window,
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = handle_tpr_below_threshold,
	[EXIT_REASON_APIC_ACCESS] = handle_apic_access,
	[EXIT_REASON_APIC_WRITE] = handle_apic_write,
	[EXIT_REASON_EOI_INDUCED] = handle_eoi_induced,
	[EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer,
	[EXIT_REASON_PAUSE] = handle_pause,
};

/* After an emulated instruction: move RIP past it and drop the one-instruction
 * interrupt shadow of STI / MOV SS, which the instruction has consumed. The
 * instruction completed, so RF is cleared ("EFLAGS Register": "the processor clears
 * RF ... after every instruction that completes"), and with RFLAGS.TF set the single-
 * step trap it owes is made pending through the BS bit of the pending debug
 * exceptions ("Guest Non-Register State"; "Single-Step Exception Condition": a #DB
 * after the instruction), delivered by the CPU right after VM entry; not with
 * DEBUGCTL.BTF, which single-steps on branches only, and no emulated instruction
 * branches. */
static inline void skip_instruction(void)
{
	vmcs_writel(GUEST_RIP, vmcs_readl(GUEST_RIP) + vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	if (unlikely(intr & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~(u32)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
	u64 rflags = vmcs_readl(GUEST_RFLAGS);
	if (unlikely(rflags & (RFLAGS_TF | RFLAGS_RF))) {
		vmcs_writel(GUEST_RFLAGS, rflags & ~(u64)RFLAGS_RF);
		if ((rflags & RFLAGS_TF) && !(vmcs_read64(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF))
			vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS,
				    vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
	}
}

static enum exit_action unexpected_exit(struct vcpu *v, u32 reason)
{
	u32 basic = reason & 0xffff;
	if (reason & EXIT_REASON_FAILED_ENTRY)
		vm_fault(v, "VM entry failed while loading guest state: exit reason %u (%s), "
			 "qualification 0x%llx", basic, exit_reason_name(basic),
			 (unsigned long long)vmcs_readl(EXIT_QUALIFICATION));
	else
		vm_fault(v, "unexpected VM exit: reason %u (%s), qualification 0x%llx", basic,
			 exit_reason_name(basic), (unsigned long long)vmcs_readl(EXIT_QUALIFICATION));
	return EXIT_LEAVE;
}

/* Exits handled without leaving "in guest" (vmx_handle_exit). */
static const bool simple_exit[NR_EXIT_REASONS] = {
	[EXIT_REASON_CPUID] = true,
	[EXIT_REASON_VMCALL] = true,
	[EXIT_REASON_IO_INSTRUCTION] = true,
};

/* ---- the entry path ---- */

/* Move PIR into vIRR and raise RVI (APICv; v's CPU, interrupts off, VMCS current).
 * "Posted-Interrupt Processing" does the same in the CPU when the notification
 * arrives in guest mode. */
void vmx_sync_pir(struct vcpu *v)
{
	if (!pi_test_and_clear_on(v->pi))
		return;
	int hi = pi_harvest(v->pi, v->lapic.regs + APIC_IRR);
	if (hi < 0)
		return;
	u16 st = vmcs_read16(GUEST_INTR_STATUS);
	if ((int)(st & 0xff) < hi)
		vmcs_write16(GUEST_INTR_STATUS, (u16)((st & 0xff00) | (u32)hi));
}

static void set_proc(struct vcpu *v, u32 bits, bool on)
{
	u32 p = on ? v->proc | bits : v->proc & ~bits;
	if (p != v->proc) {
		v->proc = p;
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, p);
	}
}

/* Without APICv: inject the highest deliverable interrupt if the guest can take it
 * now, else ask for an interrupt-window exit ("Interrupt-Window Exiting", "Event
 * Injection"). With a TPR shadow, a pending interrupt held off by TPR arms the TPR
 * threshold so that lowering TPR exits. */
static void inject_pending_irq(struct vcpu *v)
{
	struct vlapic *l = &v->lapic;
	if (pi_test_on(v->pi) && pi_test_and_clear_on(v->pi))
		pi_harvest(v->pi, l->regs + APIC_IRR);
	int vec = vlapic_deliverable(l);
	if (v->proc & CPU_TPR_SHADOW) {
		int irr = vlapic_highest(l, APIC_IRR);
		u32 tpr_class = (vlapic_reg(l, APIC_TPR) >> 4) & 0xf;
		u32 thr = irr < 0 || vec >= 0 ? 0 : MIN((u32)irr >> 4, tpr_class);
		if (thr != v->tpr_threshold) {
			v->tpr_threshold = thr;
			vmcs_write32(TPR_THRESHOLD, thr);
		}
	}
	if (vec < 0) {
		set_proc(v, CPU_INTR_WINDOW_EXITING, false);
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
		vec = vlapic_deliverable(l);   /* another one behind it? */
	}
	set_proc(v, CPU_INTR_WINDOW_EXITING, vec >= 0);
}

static void inject_nmi(struct vcpu *v)
{
	if (!(vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID) &&
	    !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS | INTR_BLOCK_NMI))) {
		vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 2 | INTR_TYPE_NMI | INTR_INFO_VALID);
		v->nmi_pending--;
		/* The latched one follows when the handler's IRET ends NMI blocking. */
		set_proc(v, CPU_NMI_WINDOW_EXITING, v->nmi_pending && (v->pin & PIN_VIRTUAL_NMIS));
	} else if (v->pin & PIN_VIRTUAL_NMIS) {
		set_proc(v, CPU_NMI_WINDOW_EXITING, true);
	}
}

/* HC_RACE_POST: stop at a window of the entry path until the poster has posted. */
static void __attribute__((noinline)) race_window(struct vcpu *v, u32 window)
{
	if (v->race.window != window)
		return;
	__atomic_store_n(&v->race.reached, 1, __ATOMIC_SEQ_CST);
	u64 end = rdtsc() + 200000000ull;
	while (!__atomic_load_n(&v->race.posted, __ATOMIC_SEQ_CST) && rdtsc() < end)
		cpu_relax();
	v->race.window = 0;
}

static void program_timer(struct vcpu *v)
{
	u64 dl = v->lapic.timer_deadline;
	if (hv_timer_armed(&v->sw_timer))
		hv_timer_cancel(&v->sw_timer);   /* it stood in while the vCPU was halted */
	if (dl) {
		u64 now = rdtsc();
		if (dl <= now) {
			vlapic_timer_expired(v, now);   /* due: post now, before the PIR sync */
			dl = v->lapic.timer_deadline;
		}
		if (dl) {
			/* Round up: the timer must not fire before the deadline
			 * ("VMX-Preemption Timer": it counts down once every 2^rate TSC ticks). */
			u64 unit = 1ull << vmx_caps.preemption_timer_rate;
			u64 ticks = dl > now ? (dl - now + unit - 1) >> vmx_caps.preemption_timer_rate : 0;
			if (!(v->pin & PIN_PREEMPTION_TIMER)) {
				v->pin |= PIN_PREEMPTION_TIMER;
				vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, v->pin);
			}
			vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffull ? 0xffffffffu : (u32)ticks);
			return;
		}
	}
	if (v->pin & PIN_PREEMPTION_TIMER) {
		v->pin &= ~(u32)PIN_PREEMPTION_TIMER;
		vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, v->pin);
	}
}

/* Everything after "in guest" is marked: timers, then the PIR sync, then injection. */
static void entry_tail(struct vcpu *v)
{
	if (unlikely(v->race.window))
		race_window(v, HC_RACE_WINDOW_IN_GUEST);
	if (v->vm->ptimer)
		program_timer(v);
	if (v->nmi_pending)
		inject_nmi(v);
	if (v->vm->apicv) {
		if (pi_test_on(v->pi))
			vmx_sync_pir(v);
	} else {
		inject_pending_irq(v);
	}
	if (unlikely(v->race.window))
		race_window(v, HC_RACE_WINDOW_SYNCED);
}

void vmx_handle_requests(struct vcpu *v)
{
	u32 req = __atomic_exchange_n(&v->requests, 0, __ATOMIC_SEQ_CST);
	if (req & REQ_INIT) {
		/* INIT: the vCPU waits for a start-up IPI ("INIT Reset"); its APIC keeps
		 * its ID and mode. A SIPI that came with it is honoured below. */
		vlapic_reset(&v->lapic, v->id, false);
		v->nmi_pending = 0;
		__atomic_store_n(&v->nmi_queued, 0, __ATOMIC_SEQ_CST);
		v->lapic.timer_deadline = 0;
		/* Interrupts posted before the INIT do not survive it. */
		for (int i = 0; i < 8; i++)
			__atomic_store_n(&v->pi->pir[i], 0, __ATOMIC_SEQ_CST);
		pi_test_and_clear_on(v->pi);
		if (!(req & REQ_SIPI)) {
			u32 expected = v->state;
			if (expected != VCPU_STOPPED)
				__atomic_compare_exchange_n((u32 *)&v->state, &expected, VCPU_WAIT_SIPI, false,
							    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
		}
		if (v->vm->apicv)
			vmcs_write16(GUEST_INTR_STATUS, 0);
	}
	if (req & REQ_SIPI)
		vmx_vcpu_start_ap(v, (u8)v->sipi_vector);
	if (req & REQ_NMI) {
		/* One NMI may wait while another is handled: two wait when none is in
		 * service (blocked by NMI) or being injected, else one. */
		u32 n = __atomic_exchange_n(&v->nmi_queued, 0, __ATOMIC_SEQ_CST);
		u32 info = vmcs_read32(VM_ENTRY_INTR_INFO_FIELD);
		bool busy = (vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & INTR_BLOCK_NMI) ||
			    ((info & INTR_INFO_VALID) && (info & INTR_TYPE_MASK) == INTR_TYPE_NMI);
		v->nmi_pending = (u8)MIN(v->nmi_pending + n, busy ? 1u : 2u);
	}
	if (req & REQ_EOI_BITMAP && v->vm->apicv) {
		/* "EOI-Exit Bitmaps": an EOI of a level-triggered vector must exit so that
		 * the vIOAPIC sees it (Remote IRR). */
		u64 bm[4];
		vioapic_level_vectors(&v->vm->ioapic, bm);
		vmcs_write64(EOI_EXIT_BITMAP0, bm[0]);
		vmcs_write64(EOI_EXIT_BITMAP1, bm[1]);
		vmcs_write64(EOI_EXIT_BITMAP2, bm[2]);
		vmcs_write64(EOI_EXIT_BITMAP3, bm[3]);
	}
}

/*
 * The entry path, in the order of seed 003: interrupts off before the vCPU is marked
 * in guest, PIR synced into RVI after. Requests are looked at after the mark too, so
 * one made in between is not left for a later exit.
 */
bool vmx_prepare_entry(struct vcpu *v)
{
	irq_disable();
	for (;;) {
		if (v->requests)
			vmx_handle_requests(v);
		if (v->state != VCPU_RUNNING || v->vm->state != VM_RUNNING || this_cpu()->need_resched)
			return false;
		if (unlikely(v->race.window))
			race_window(v, HC_RACE_WINDOW_IRQS_OFF);
		__atomic_exchange_n(&v->mode, VCPU_IN_GUEST, __ATOMIC_SEQ_CST);   /* a full barrier */
		if (likely(!v->requests))
			break;
		v->mode = VCPU_OUTSIDE_GUEST;
	}
	struct cpu *c = this_cpu();
	if (unlikely(c->rq_head || c->blocked))
		sched_entry_check(c);
	entry_tail(v);
	return true;
}

/* An event whose delivery the exit interrupted ("Information for VM Exits That Occur
 * During Event Delivery") is delivered again on the next entry. */
static void reinject(u32 idt)
{
	u32 info = idt & (INTR_INFO_VECTOR_MASK | INTR_TYPE_MASK | INTR_INFO_DELIVER_CODE | INTR_INFO_VALID);
	if (idt & INTR_INFO_DELIVER_CODE)
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(IDT_VECTORING_ERROR_CODE));
	u32 type = idt & INTR_TYPE_MASK;
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
}

u64 vmx_handle_exit(struct vcpu *v)
{
	u32 reason = vmcs_read32(VM_EXIT_REASON);
	u32 basic = reason & 0xffff;
	enum exit_action a;

	v->exits_total++;
	/* The fastpath ("Handle preemption timer fastpath", MECHANISMS.md): still in
	 * guest mode, interrupts off; the expiry posts into PIR with no notification
	 * (the target is this vCPU, seed 004) and the entry tail syncs it. */
	if (basic == EXIT_REASON_PREEMPTION_TIMER && v->vm->fastpath && !v->requests) {
		u64 now = rdtsc();
		/* Not when a host timer (the time slice) is due: handle_preemption_timer. */
		if (likely(!hv_timer_due(now))) {
			v->exits[basic]++;
			v->ctr.fastpath++;
			vlapic_timer_expired(v, now);
			entry_tail(v);
			return 0;
		}
	}
	/* Simple instruction exits (no event delivery was under way, so no IDT-vectoring
	 * information; handlers that neither block nor touch timers or APIC state) are
	 * handled like the fastpath: still "in guest", interrupts off, so a post sees
	 * IN_GUEST and its notification stays pending until entry, and a request or a
	 * stop comes with a kick that exits right after entry. Only what this exit's own
	 * handler may have posted (ON) and a running preemption timer (restarted at every
	 * entry) need work here. */
	if (likely(basic < NR_EXIT_REASONS && simple_exit[basic] && !(reason & EXIT_REASON_FAILED_ENTRY) &&
		   !v->race.window)) {
		v->exits[basic]++;
		a = exit_handlers[basic](v);
		if (likely(a == EXIT_SKIP))
			skip_instruction();
		if (likely(a != EXIT_LEAVE && !v->requests && v->state == VCPU_RUNNING)) {
			if (unlikely(v->pin & PIN_PREEMPTION_TIMER))
				program_timer(v);
			if (v->vm->apicv) {
				if (unlikely(pi_test_on(v->pi)))
					vmx_sync_pir(v);
			} else if (unlikely(pi_test_on(v->pi))) {
				inject_pending_irq(v);
			}
			return 0;
		}
		v->mode = VCPU_OUTSIDE_GUEST;
		if (a == EXIT_LEAVE)
			return 1;
		return vmx_prepare_entry(v) ? 0 : 1;
	}
	v->mode = VCPU_OUTSIDE_GUEST;
	u32 idt = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	if (unlikely(idt & INTR_INFO_VALID))
		reinject(idt);
	if (likely(basic < NR_EXIT_REASONS)) {
		v->exits[basic]++;
		exit_handler_t h = exit_handlers[basic];
		if (likely(h && !(reason & EXIT_REASON_FAILED_ENTRY)))
			a = h(v);
		else
			a = unexpected_exit(v, reason);
	} else {
		a = unexpected_exit(v, reason);
	}
	if (likely(a == EXIT_SKIP))
		skip_instruction();
	else if (a == EXIT_LEAVE)
		return 1;
	return vmx_prepare_entry(v) ? 0 : 1;
}
