/* SPDX-License-Identifier: MIT */
/*
 * The architecture layer as the generic core (hv/) sees it: the per-CPU, per-VM and
 * per-vCPU state the VMX layer keeps inside the core's structures (c->arch, vm->arch,
 * v->arch), and every call the core makes into that layer.
 *
 * Rules (docs/ARCHITECTURE.md, "Who may call whom"; tests/check-layering enforces the
 * first three):
 *  - a file under hv/ includes no header under arch/x86/vmx/ (this one is the bridge);
 *  - a file under hv/ calls no vmx_* function: it calls the arch_* functions below;
 *  - a file under hv/ reads or writes no field of c->arch, vm->arch or v->arch;
 *  - the posted-interrupt descriptor (v->arch.pi) is changed only by
 *    arch/x86/vmx/posted.c: the scheduler says what happened to the vCPU (switched
 *    in, preempted, blocked, woken) and that module decides what the descriptor needs.
 */
#ifndef ARCH_X86_ARCH_H
#define ARCH_X86_ARCH_H

#include "hv/lib/types.h"
#include "hv/init/config.h"
#include "arch/x86/pi_desc.h"
#include "arch/x86/paging.h"
#include "arch/x86/insn.h"
#include "arch/x86/vmx/ept.h"
#include "arch/x86/vmx/exit_reason.h"

struct cpu;
struct vm;
struct vcpu;
struct vintr_ops;

/* Per physical CPU. */
struct cpu_arch {
	u8 vmxon_region[4096] __aligned(4096);
	u32 ept_seen[MAX_VMS];     /* per VM: the vm_arch.ept_gen this CPU last flushed (INVEPT) */
};

#define VM_CPUID_CACHE 32
struct cpuid_cached {
	u32 r[4];
	bool valid;
};

/* Per VM. */
struct vm_arch {
	struct ept ept;
	u64 eptp;
	u8 *msr_bitmap;            /* xAPIC mode: every x2APIC MSR intercepted */
	u8 *msr_bitmap_x2apic;     /* x2APIC mode with APICv: virtualized MSRs pass */
	u8 *apic_access_page;      /* APICv: the APIC-access page at GPA 0xfee00000 */
	/* How interrupts reach the guest: APICv (virtual-interrupt delivery from PIR) or
	 * event injection (arch/x86/vmx/vintr.h). Chosen once, from vm->apicv. */
	const struct vintr_ops *vintr;
	u8 kick_vector;            /* what a poster sends a vCPU in guest mode: nv, or VECTOR_KICK */
	u32 ept_gen;               /* bumped when a translation is removed at run time (arch_vm_unmap_mmio) */
	struct cpuid_cached cpuid_cache[VM_CPUID_CACHE];   /* arch/x86/vmx/cpuid.c */
};

/* Per vCPU. */
struct vcpu_arch {
	struct cpu *vmcs_cpu;      /* where its VMCS is active; NULL = clear */
	struct cpu *last_cpu;      /* where it ran last (counts migrations) */
	u64 vmcs_pa;
	void *vmcs;
	bool launched;
	u16 vpid;
	struct pi_desc *pi;        /* page-aligned: Bochs 3.0 rejects less at VM entry */
	u32 pin, proc, proc2;      /* the controls now in its VMCS */
	u32 tpr_threshold;         /* the VMCS's TPR threshold (TPR shadow without APICv) */
	u64 xcr0;
	/* Its x87/SSE/AVX registers while another vCPU's are loaded on its CPU: an XSAVE
	 * (or FXSAVE) area, one page (arch/x86/vmx/vmx.c, "FPU state"). */
	void *fpu;
	u64 kernel_gs_base, star, lstar, cstar, fmask;   /* switched on load */
	/* Registers the guest reads directly and no VMCS field holds: switched on load
	 * (arch/x86/vmx/vmx.c, "State the VMCS does not switch"). */
	u64 cr2, dr[4], dr6;
	/* Guest MSRs emulated per vCPU (arch/x86/vmx/msr.c): the TSC is the host's plus
	 * tsc_offset (the VMCS TSC offset), tsc_adjust is IA32_TSC_ADJUST ("Time-Stamp
	 * Counter Adjustment"); tsc_aux the guest's IA32_TSC_AUX (switched on load when
	 * RDTSCP is offered, arch/x86/vmx/vmx.c). */
	s64 tsc_offset;
	u64 tsc_adjust, tsc_aux, misc_enable;
	/* The last guest page walk the hypervisor made for it (arch/x86/vmx/gwalk.c). */
	struct pw_memo walk_memo;
	/* The last instructions its MMIO exits decoded (arch/x86/vmx/mmio.c). */
	struct mmio_insn_cache {
		struct {
			u64 w0, w1;   /* the 15 instruction bytes: bytes 0-7 and 7-14 */
			u8 mode;      /* enum insn_mode + 1; 0: empty */
			struct insn in;
		} e[4];
		u32 next;
	} insn_cache;
};

/* ---- Start-up (hv/init/main.c) ---- */

/* BSP: check the virtualization extensions, negotiate capabilities. false + why. */
bool arch_probe(char *why, size_t len);
/* Every CPU, before arch_cpu_on (after arch_probe): negotiate its own capabilities, log
 * them, and compare them with the boot CPU's; false + why when it cannot run the boot
 * CPU's VMCS controls (arch/x86/vmx/cpucheck.c). */
bool arch_cpu_check(struct cpu *c, char *why, size_t len);
/* Every CPU: enter VMX operation. Sets c->virt_on. false + why. */
bool arch_cpu_on(struct cpu *c, char *why, size_t len);
/* What the CPU offers for the interrupt-virtualisation switches (after arch_probe). */
bool arch_has_apicv(void);
bool arch_has_preemption_timer(void);

/* ---- VMs and vCPUs (hv/vm/vm.c) ---- */

/* Per-VM state (EPT from vm->map, MSR bitmaps, APICv pages); false + message. */
bool arch_vm_init(struct vm *vm, char *err, size_t errlen);
/* Per-vCPU state; entry: vCPU 0's start state from the loader (hv/vm/loader.h); an
 * AP waits for SIPI. */
struct guest_entry_state;
bool arch_vcpu_init(struct vcpu *v, const struct guest_entry_state *entry, char *err, size_t errlen);
/* A VM restart (hv/vm/restart.c), on v's CPU with v loaded: the entry state again, as
 * after power-on (APIC, pending events, timer, switched registers, FPU). */
void arch_vcpu_reset(struct vcpu *v, const struct guest_entry_state *entry);
/* Print the vCPU's guest state (its own CPU, the vCPU loaded). */
void arch_dump_guest(struct vcpu *v);
/* The vCPU's APIC moved between xAPIC and x2APIC mode (its own CPU). */
void arch_apic_mode_changed(struct vcpu *v);
/* The guest's TSC at host TSC host_tsc. */
u64 vcpu_guest_tsc(struct vcpu *v, u64 host_tsc);

/* ---- Interrupts (any CPU) ---- */

/* Post vector to v (from any CPU, interrupts on or off): the single entry point for
 * fixed interrupts to a vCPU (arch/x86/vmx/posted.c). level: level-triggered (TMR). */
void vcpu_post_irq(struct vcpu *v, u8 vector, bool level);
/* Is a posted interrupt waiting for v (ON)? */
bool arch_irq_posted(const struct vcpu *v);
/* The physical address of v's posted-interrupt descriptor (a VT-d posted IRTE names it;
 * posted.c stays the only writer of its NV, NDST and SN). */
u64 arch_vcpu_pi_desc_pa(const struct vcpu *v);

/* ---- Guest-physical MMIO of assigned devices (hv/pci/passthru.c) ---- */

/* Map host MMIO [hpa, hpa + size) at guest-physical gpa (4 KiB aligned, read/write,
 * uncached), while the VM may run: adding a translation needs no INVEPT. */
bool arch_vm_map_mmio(struct vm *vm, u64 gpa, u64 hpa, u64 size);
/* Remove it: INVEPT on this CPU now, on every other CPU at its next VM entry of this VM
 * (until then a vCPU of this VM running elsewhere may still reach the old place, which
 * is its own device). */
void arch_vm_unmap_mmio(struct vm *vm, u64 gpa, u64 size);

/* ---- Scheduling (hv/sched/sched.c): the descriptor and VMCS follow these ---- */

/* Run v on this CPU: never returns (the exit path goes back to cpu_run_loop()). */
void vcpu_run(struct vcpu *v) __noreturn;
/* Is anything pending that ends v's HLT (v's own CPU, v loaded)? */
bool vcpu_halt_should_wake(struct vcpu *v);
/* v is switched in on c: notifications to c again, ON recomputed from PIR. */
void arch_sched_in(struct vcpu *v, struct cpu *c);
/* v was preempted on c (involuntarily, still runnable): notifications suppressed
 * (PIR only) until it runs again; its state released from c if it may migrate. */
void arch_sched_preempted(struct vcpu *v, struct cpu *c, bool migratable);
/* v blocks (halted) on c's blocked list: its state released from c if it may migrate;
 * with wakeup_vector its notifications go to the wakeup vector on c (block=wakeup). */
void arch_sched_block(struct vcpu *v, struct cpu *c, bool migratable, bool wakeup_vector);
/* v was woken: notifications back to its VM's vector (when they went to the wakeup
 * vector). */
void arch_sched_woken(struct vcpu *v, bool wakeup_vector);
/* May v's state be loaded on another CPU now (not active on any)? */
bool arch_vcpu_released(const struct vcpu *v);

#endif
