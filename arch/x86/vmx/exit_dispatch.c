/* SPDX-License-Identifier: MIT */
/*
 * VM-exit dispatch: a const table indexed by basic exit reason (Intel SDM Vol. 3D,
 * Appendix C). Each handler follows the return contract of enum exit_action (hv/vm/vm.h).
 * A reason without a handler stops the VM with a diagnosis: the guest caused something
 * this hypervisor does not emulate, which must never take the hypervisor down.
 *
 * The handlers of other concerns live beside it (exit_internal.h lists them).
 *
 * Hot path: vmx_exit_stub (entry.S) -> vmx_exit_entry[reason]: handle_exit_simple
 * (CPUID, VMCALL, port I/O) or handle_exit_full -> handler -> (skip) -> vmresume. Keep
 * everything not needed on every exit out of both.
 */
#include "arch/x86/vmx/exit_internal.h"
#include "hv/vm/hypercall.h"
#include "hv/sched/sched.h"

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

/* skip_instruction (exit_internal.h) with RFLAGS.TF or RF set: out of line, so that
 * the inline part costs one VMREAD and a test on every other exit. */
void __attribute__((noinline)) skip_instruction_trap(u64 rflags)
{
	vmcs_writel(GUEST_RFLAGS, rflags & ~(u64)RFLAGS_RF);
	if ((rflags & RFLAGS_TF) && !(vmcs_read64(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF))
		vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
}

/* ---- simple handlers ---- */

/* Without "acknowledge interrupt on exit" the interrupt is still pending: open the
 * host's interrupt window for one instruction so the IDT handler takes it. */
static void irq_window_for_host(void)
{
	asm volatile("sti; nop; cli" ::: "memory");
}

static inline __attribute__((always_inline)) enum exit_action handle_cpuid(struct vcpu *v)
{
	u32 out[4];
	guest_cpuid(v, (u32)v->gpr[GPR_RAX], (u32)v->gpr[GPR_RCX], out);
	v->gpr[GPR_RAX] = out[0];
	v->gpr[GPR_RBX] = out[1];
	v->gpr[GPR_RCX] = out[2];
	v->gpr[GPR_RDX] = out[3];
	return EXIT_SKIP;
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
static inline __attribute__((always_inline)) enum exit_action handle_vmcall(struct vcpu *v)
{
	if (unlikely(vmcs_read32(GUEST_SS_AR_BYTES) & AR_DPL_MASK) && !v->vm->cfg->user_hc)
		return inject_ud(v);
	return hypercall(v);
}


static enum exit_action handle_invd(struct vcpu *v)
{
	(void)v;
	asm volatile("wbinvd" ::: "memory");   /* INVD would drop other VMs' dirty lines */
	return EXIT_SKIP;
}

static bool halt_should_wake(struct vcpu *v, u64 rflags);

/* HLT ("HLT—Halt"): the vCPU waits for an interrupt it can take (or NMI, INIT). With
 * one pending it goes on at once; else it blocks (hv/sched/sched.c) and its CPU runs others
 * or idles until it is woken (hv/sched/sched.c). */
static enum exit_action handle_hlt(struct vcpu *v)
{
	u64 rflags = vmcs_readl(GUEST_RFLAGS);
	bool irqs = rflags & RFLAGS_IF;
	skip_instruction_rflags(rflags);
	/* A single-step trap is pending after HLT: the #DB is an event, so the vCPU
	 * takes it instead of halting. (RFLAGS after the skip differ at most in RF.) */
	if ((rflags & RFLAGS_TF) || halt_should_wake(v, rflags))
		return EXIT_RESUME;
	if (!irqs && v->vm->nr_vcpus == 1) {
		vm_stop(v->vm, HV_STATUS_STOPPED, false, 0,
			"vCPU %u halted with interrupts disabled: only an NMI or INIT could wake it, "
			"and this VM has no other vCPU to send one", v->id);
		return EXIT_LEAVE;
	}
	/* Block once this CPU has left the vCPU (hv/sched/sched.c:put_prev), which also
	 * looks at ON again after publishing HALTED. */
	v->halt_irq_wake = irqs;
	v->want_block = true;
	v->ctr.halts++;
	return EXIT_LEAVE;
}

bool vcpu_halt_should_wake(struct vcpu *v)
{
	return halt_should_wake(v, vmcs_readl(GUEST_RFLAGS));
}

static bool halt_should_wake(struct vcpu *v, u64 rflags)
{
	if (v->nmi_pending || (v->requests & (REQ_NMI | REQ_INIT)))
		return true;
	if (!(rflags & RFLAGS_IF))
		return false;
	if (pi_test_on(v->arch.pi)) {
		/* Take PIR into the IRR to see whether its vectors beat PPR. */
		v->vm->arch.vintr->take_posted(v);
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
	/* The local APIC page (the interrupt path without APICv) is never RAM (no RAM lies
	 * in the hole, hv/mm/guest_map.h): no lookup for it. */
	bool in_ram = gpa - GUEST_LAPIC_BASE >= PAGE_SIZE && gpa_to_hva(v->vm, gpa, 1) != NULL;
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

/* PAUSE-loop exit ("PAUSE-loop exiting"): the vCPU spins; maybe yield (hv/sched/sched.c). */
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
 * entry path then sees need_resched. hv/irq/vlapic.c also bounds the period. */
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
	[EXIT_REASON_CR_ACCESS] = vmx_exit_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = vmx_exit_io,
	[EXIT_REASON_MSR_READ] = handle_rdmsr,
	[EXIT_REASON_MSR_WRITE] = handle_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_XSETBV] = vmx_exit_xsetbv,
	[EXIT_REASON_INTERRUPT_WINDOW] = vmx_exit_interrupt_window,
	[EXIT_REASON_NMI_WINDOW] = vmx_exit_nmi_window,
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = vmx_exit_tpr_below_threshold,
	[EXIT_REASON_APIC_ACCESS] = vmx_exit_apic_access,
	[EXIT_REASON_APIC_WRITE] = vmx_exit_apic_write,
	[EXIT_REASON_EOI_INDUCED] = vmx_exit_eoi_induced,
	[EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer,
	[EXIT_REASON_PAUSE] = handle_pause,
};


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

/* An event whose delivery the exit interrupted ("Information for VM Exits That Occur
 * During Event Delivery") is delivered again on the next entry. An NMI whose delivery
 * was cut short leaves (virtual-)NMI blocking in effect at the exit ("Event Delivery
 * and VM Exits": "virtual-NMI blocking is in effect before the VM exit commences"),
 * and VM entry refuses to inject an NMI with blocking by NMI set ("Checks on Guest
 * Non-Register State"); the NMI was not delivered, so the blocking is cleared (the
 * SDM's advice for re-injecting from the IDT-vectoring information, "Handling of VM
 * Exits Due to Exceptions" in "VMM Programming Considerations"). */
static void reinject(u32 idt)
{
	u32 info = idt & (INTR_INFO_VECTOR_MASK | INTR_TYPE_MASK | INTR_INFO_DELIVER_CODE | INTR_INFO_VALID);
	if (idt & INTR_INFO_DELIVER_CODE)
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(IDT_VECTORING_ERROR_CODE));
	u32 type = idt & INTR_TYPE_MASK;
	if (type == INTR_TYPE_NMI) {
		u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
		if (intr & INTR_BLOCK_NMI)
			vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~(u32)INTR_BLOCK_NMI);
	}
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
}

/* An EPT violation while an event was being delivered ("Information for VM Exits That
 * Occur During Event Delivery": the IDT-vectoring information is valid): the access
 * was the delivery's own (pushing the frame, reading the IDT, GDT or TSS), not the
 * instruction's at RIP, which has not run. Outside RAM that is device memory or
 * nothing; it cannot be emulated as an access of the instruction (mmio.c would decode
 * the instruction at RIP, perform its access and move RIP past an instruction that
 * never ran), so the VM is stopped with what was being delivered. In RAM it is a
 * hypervisor EPT bug, reported as such by handle_ept_violation. */
static bool __attribute__((noinline)) ept_violation_in_delivery(struct vcpu *v, u32 idt)
{
	u64 gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	if (gpa_to_hva(v->vm, gpa, 1))
		return false;
	static const char *const types[8] = { "external interrupt", "reserved", "NMI", "hardware exception",
					      "software interrupt", "privileged software exception",
					      "software exception", "other event" };
	const struct gmap_entry *e = guest_map_find(&v->vm->map, gpa);
	vm_fault(v, "EPT violation at GPA 0x%llx (%s) during the delivery of vector %u (%s): IDT, GDT, "
		 "TSS or stack outside RAM; not emulated", (unsigned long long)gpa,
		 e ? guest_map_kind_name(e->kind) : "unassigned", idt & INTR_INFO_VECTOR_MASK,
		 types[(idt & INTR_TYPE_MASK) >> 8]);
	return true;
}

/* Every exit but the simple ones (vmx_exit_entry). */
static u64 handle_exit_full(struct vcpu *v, u32 reason)
{
	u32 basic = reason & 0xffff;
	enum exit_action a;

	v->exits_total++;
	/* The fastpath (after Linux "KVM: VMX: Handle preemption timer fastpath"): still in
	 * guest mode, interrupts off; the expiry posts into PIR with no notification
	 * (the target is this vCPU: notification elision) and the entry tail syncs it. */
	if (basic == EXIT_REASON_PREEMPTION_TIMER && v->vm->fastpath && !v->requests) {
		u64 now = rdtsc();
		/* Not when a host timer (the time slice) is due: handle_preemption_timer. */
		if (likely(!hv_timer_due(now))) {
			v->exits[basic]++;
			v->ctr.fastpath++;
			vlapic_timer_expired(v, now);
			vmx_entry_tail(v);
			return 0;
		}
	}
	v->mode = VCPU_OUTSIDE_GUEST;
	u32 idt = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	if (unlikely(idt & INTR_INFO_VALID)) {
		reinject(idt);
		v->ctr.reinjected++;
		if (basic == EXIT_REASON_EPT_VIOLATION && !(reason & EXIT_REASON_FAILED_ENTRY) &&
		    ept_violation_in_delivery(v, idt)) {
			v->exits[basic]++;
			return 1;
		}
	}
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

/* Simple instruction exits (CPUID, VMCALL, I/O: no event delivery was under way, so
 * no IDT-vectoring information; handlers that neither block nor touch timers or APIC
 * state) are handled like the fastpath: still "in guest", interrupts off, so a post
 * sees IN_GUEST and its notification stays pending until entry, and a request or a
 * stop comes with a kick that exits right after entry. Only what this exit's own
 * handler may have posted (ON) and a running preemption timer (restarted at every
 * entry) need work here. A function of its own (entered from vmx_exit_entry), so that
 * it saves no more registers than it needs; the two small handlers are inlined. */
static u64 handle_exit_simple(struct vcpu *v, u32 reason)
{
	enum exit_action a;
	if (unlikely(v->race.window))
		return handle_exit_full(v, reason);
	v->exits_total++;
	v->exits[reason]++;
	if (reason == EXIT_REASON_CPUID)
		a = handle_cpuid(v);
	else if (reason == EXIT_REASON_VMCALL)
		a = handle_vmcall(v);
	else
		a = vmx_exit_io(v);
	if (likely(a == EXIT_SKIP))
		skip_instruction();
	if (likely(a != EXIT_LEAVE && !v->requests && v->state == VCPU_RUNNING)) {
		if (unlikely(v->arch.pin & PIN_PREEMPTION_TIMER))
			vmx_program_timer(v);
		sync_or_inject(v, true);
		return 0;
	}
	v->mode = VCPU_OUTSIDE_GUEST;
	if (a == EXIT_LEAVE)
		return 1;
	return vmx_prepare_entry(v) ? 0 : 1;
}

/* entry.S: after an exit whose basic reason (VM_EXIT_REASON with no other bit set) is
 * below NR_EXIT_REASONS, vmx_exit_stub calls vmx_exit_entry[reason](v, reason); for any
 * other value vmx_handle_exit. Non-zero: leave for the run loop; 0: resume. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const exit_entry_t vmx_exit_entry[NR_EXIT_REASONS] = {
	[0 ... NR_EXIT_REASONS - 1] = handle_exit_full,
	[EXIT_REASON_CPUID] = handle_exit_simple,
	[EXIT_REASON_VMCALL] = handle_exit_simple,
	[EXIT_REASON_IO_INSTRUCTION] = handle_exit_simple,
};
#pragma GCC diagnostic pop

u64 vmx_handle_exit(struct vcpu *v)
{
	return handle_exit_full(v, vmcs_read32(VM_EXIT_REASON));
}
