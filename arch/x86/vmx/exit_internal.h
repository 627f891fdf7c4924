/* SPDX-License-Identifier: MIT */
/*
 * What the VM-exit files share (private to arch/x86/vmx/): exit_dispatch.c (the exit
 * table, vmx_handle_exit and the small handlers), vmentry.c (the entry path: requests,
 * event injection, timer programming), exit_cr.c (control registers, XSETBV),
 * exit_io.c (port I/O), exit_apic.c (the virtual LAPIC's exits). Handlers follow the
 * return contract of enum exit_action (hv/vm/vm.h).
 */
#ifndef ARCH_X86_VMX_EXIT_INTERNAL_H
#define ARCH_X86_VMX_EXIT_INTERNAL_H

#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/mmio.h"
#include "arch/x86/vmx/vintr.h"
#include "arch/x86/pi_desc.h"
#include "arch/x86/x86.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/trace/trace.h"

/* VMX instructions in the guest: VMX is not exposed (CPUID.1:ECX.VMX = 0), so behave
 * like a CPU without it: #UD. The same for MONITOR/MWAIT (CPUID.1:ECX.MONITOR = 0). */
static inline enum exit_action inject_ud(struct vcpu *v)
{
	vmx_inject_exception(v, X86_UD, false, 0);
	return EXIT_RESUME;
}

/* RDPMC with no performance counters exposed (CPUID leaf 0xA is zero): #GP(0). */
static inline enum exit_action inject_gp(struct vcpu *v)
{
	vmx_inject_exception(v, X86_GP, true, 0);
	return EXIT_RESUME;
}

/* After an emulated instruction: move RIP past it and drop the one-instruction
 * interrupt shadow of STI / MOV SS, which the instruction has consumed. The
 * instruction completed, so RF is cleared ("EFLAGS Register": "the processor clears
 * RF ... after every instruction that completes"), and with RFLAGS.TF set the single-
 * step trap it owes is made pending through the BS bit of the pending debug
 * exceptions ("Guest Non-Register State"; "Single-Step Exception Condition": a #DB
 * after the instruction), delivered by the CPU right after VM entry; not with
 * DEBUGCTL.BTF, which single-steps on branches only, and no emulated instruction
 * branches. */
void skip_instruction_trap(u64 rflags);   /* exit_dispatch.c: the TF/RF part */
static inline __attribute__((always_inline)) void skip_rip_and_shadow(void)
{
	vmcs_writel_cur(GUEST_RIP, vmcs_readl_cur(GUEST_RIP) + vmcs_read32_cur(VM_EXIT_INSTRUCTION_LEN));
	u32 intr = vmcs_read32_cur(GUEST_INTERRUPTIBILITY_INFO);
	if (unlikely(intr & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~(u32)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
}

static inline __attribute__((always_inline)) void skip_instruction(void)
{
	skip_rip_and_shadow();
	u64 rflags = vmcs_readl_cur(GUEST_RFLAGS);
	if (unlikely(rflags & (RFLAGS_TF | RFLAGS_RF)))
		skip_instruction_trap(rflags);
}

/* skip_instruction for a handler that has read GUEST_RFLAGS already. */
static inline __attribute__((always_inline)) void skip_instruction_rflags(u64 rflags)
{
	skip_rip_and_shadow();
	if (unlikely(rflags & (RFLAGS_TF | RFLAGS_RF)))
		skip_instruction_trap(rflags);
}

/* exit_cr.c */
enum exit_action vmx_exit_cr_access(struct vcpu *v);
enum exit_action vmx_exit_xsetbv(struct vcpu *v);

/* exit_io.c */
enum exit_action vmx_exit_io(struct vcpu *v);

/* exit_apic.c */
enum exit_action vmx_exit_interrupt_window(struct vcpu *v);
enum exit_action vmx_exit_nmi_window(struct vcpu *v);
enum exit_action vmx_exit_tpr_below_threshold(struct vcpu *v);
enum exit_action vmx_exit_apic_write(struct vcpu *v);
enum exit_action vmx_exit_eoi_induced(struct vcpu *v);
enum exit_action vmx_exit_apic_access(struct vcpu *v);

/* vmentry.c: the pieces of the entry path that vmx_handle_exit's shortcuts reuse;
 * vintr.c: injection without APICv. */
void vmx_program_timer(struct vcpu *v);
void vmx_inject_pending_irq(struct vcpu *v);
void vmx_entry_tail(struct vcpu *v);

/* Move the posted vectors (PIR) into the virtual IRR if ON is set (clearing it).
 * Returns the highest vector moved, or -1. */
static inline int harvest_pir(struct vcpu *v)
{
	if (!pi_test_and_clear_on(v->arch.pi))
		return -1;
	return pi_harvest(v->arch.pi, v->lapic.regs + APIC_IRR);
}

/* Last step before entry: make what was posted reach the guest (vintr.h: sync into
 * RVI, or inject / ask for a window), always or, with only_if_posted, only when
 * something was posted since the last look. */
static inline void sync_or_inject(struct vcpu *v, bool only_if_posted)
{
	if (only_if_posted && likely(!pi_test_on(v->arch.pi)))
		return;
	v->vm->arch.vintr->deliver(v);
}

/* APICv: a vector for the vCPU this CPU runs, from its own exit (its VMCS current, "in
 * guest" marked, interrupts off: the WRMSR fastpath's timer): into the virtual-APIC
 * page's IRR and RVI directly, as "Posted-Interrupt Processing" would move it from PIR
 * (set the vIRR bit, RVI = max(RVI, vector)), with no PIR bit, no ON and no
 * notification; the VM entry evaluates it ("Virtual-Interrupt Delivery": pending
 * virtual interrupts are evaluated at VM entry). Only this CPU writes v's vIRR while v
 * runs here (every other source posts into PIR), as in the harvest. It records what a
 * post with its notification elided and its sync record (TEV_POST, TEV_ELIDE,
 * TEV_INJECT), and counts a post and an elision. */
static inline __attribute__((always_inline)) void apicv_deliver_self(struct vcpu *v, u8 vec)
{
	struct vlapic *l = &v->lapic;
	u32 off = (u32)(vec >> 5) * 16, bit = 1u << (vec & 31);
	TRACE_POST(v, vec, false);
	u32 *tmr = (u32 *)(l->regs + APIC_TMR + off);
	if (unlikely(*(volatile u32 *)tmr & bit))   /* edge-triggered (vlapic_vec_clear) */
		__atomic_fetch_and(tmr, ~bit, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&v->ctr.posted, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&v->ctr.elided, 1, __ATOMIC_RELAXED);
	TRACE(TEV_ELIDE, v, 0, TELIDE_FASTPATH);
	*(volatile u32 *)(l->regs + APIC_IRR + off) |= bit;
	TRACE(TEV_INJECT, v, vec, 1);
	u16 st = vmcs_read16_cur(GUEST_INTR_STATUS);
	if ((st & 0xff) < vec)
		vmcs_write16_cur(GUEST_INTR_STATUS, (u16)((st & 0xff00) | vec));
}

/* Set or clear bits of the primary processor-based controls (VMCS current). */
static inline void vmx_set_proc(struct vcpu *v, u32 bits, bool on)
{
	u32 p = on ? v->arch.proc | bits : v->arch.proc & ~bits;
	if (p != v->arch.proc) {
		v->arch.proc = p;
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, p);
	}
}

#endif
