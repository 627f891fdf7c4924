/* SPDX-License-Identifier: MIT */
/*
 * Posting an interrupt to a vCPU: the one entry point for every source (IPIs from
 * other vCPUs, the vIOAPIC, timers, devices), callable from any CPU.
 *
 * The protocol (after Linux "kvm: x86: do not use KVM_REQ_EVENT for APICv interrupt
 * injection"; Intel SDM Vol. 3C "Posted-Interrupt Processing"):
 *   poster:  set PIR[vector]; test-and-set ON; if ON was already set, stop (a
 *            notification or an entry-path sync is already due); else read the
 *            target's mode:
 *              IN_GUEST  -> notification IPI to its CPU (posted-interrupt vector with
 *                           APICv: the CPU moves PIR into vIRR without a VM exit; the
 *                           kick vector without APICv: a VM exit, then the entry path
 *                           injects), except when the target is the vCPU in the exit
 *                           fastpath on this CPU (notification elision): its entry path syncs PIR;
 *              halted    -> wake it (hv/sched/sched.c);
 *              otherwise -> nothing: its entry path syncs PIR. No kick (3ce7bf58e125:
 *                           a vCPU outside guest mode does not need one).
 *   target's entry path (vmentry.c, vmx_prepare_entry): interrupts off, then mode =
 *            IN_GUEST with a full barrier, then if ON: clear ON, move PIR into the
 *            IRR and raise RVI. A poster that saw OUTSIDE set ON before the target
 *            read it; a poster that saw IN_GUEST sends an IPI that stays pending
 *            (interrupts are off) until VM entry, where the CPU processes it.
 * The elision is safe because IN_GUEST on this CPU's current vCPU can only be seen
 * from code running with interrupts off between the mark and VM entry, i.e. the
 * fastpath: no interrupt handler can be the poster (fdba608f15e2).
 *
 * This file owns the descriptor: besides the posters below, only the scheduling hooks
 * at its end (what the scheduler tells the architecture layer, arch/x86/arch.h) and the
 * entry path's harvest (which takes PIR and ON, never NV, NDST or SN) touch it.
 */
#include "arch/x86/pi_desc.h"
#include "hv/vm/vm.h"
#include "hv/sched/sched.h"
#include "arch/x86/vmx/vmx.h"
#include "hv/host/cpu.h"
#include "hv/trace/trace.h"
#include "hv/mm/mm.h"

static inline void count(u64 *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* Two recording points per post: the post itself, first (while vector and level are
 * in their argument registers), and on each way out what became of it (the vector is
 * taken from the post record; docs/tracing.md "Cost"). */
void vcpu_post_irq(struct vcpu *v, u8 vector, bool level)
{
	TRACE_POST(v, vector, level);
	if (level)
		vlapic_vec_set(&v->lapic, APIC_TMR, vector);
	else if (unlikely(vlapic_vec_test(&v->lapic, APIC_TMR, vector)))
		vlapic_vec_clear(&v->lapic, APIC_TMR, vector);
	count(&v->ctr.posted);
	pi_test_and_set_pir(v->arch.pi, vector);
	/* SN: the vCPU is preempted; PIR only, no ON and no notification (VT-d,
	 * "Posted-Interrupt Descriptor"). Scheduling it in recomputes ON. */
	if (pi_test_sn(v->arch.pi)) {
		TRACE(TEV_ELIDE, v, 0, TELIDE_SN);
		return;
	}
	if (pi_test_and_set_on(v->arch.pi)) {
		TRACE(TEV_ELIDE, v, 0, TELIDE_ON);
		return;
	}
	if (v->mode == VCPU_IN_GUEST) {
		struct cpu *me = this_cpu();
		if (me->vcpu == v && v->vm->elide) {
			count(&v->ctr.elided);
			TRACE(TEV_ELIDE, v, 0, TELIDE_FASTPATH);
			return;
		}
		count(&v->ctr.notify_ipis);
		TRACE(TEV_NOTIFY, v, v->vm->arch.kick_vector, v->cpu->apic_id);
		lapic_send_ipi(v->cpu->apic_id, v->vm->arch.kick_vector);
		return;
	}
	if (v->state == VCPU_HALTED && v->halt_irq_wake) {
		/* As the IOMMU would: the descriptor's vector to its destination, i.e.
		 * the wakeup vector (or the VM's vector) to the CPU it sleeps on. */
		u64 ctl = __atomic_load_n(&v->arch.pi->control, __ATOMIC_SEQ_CST);
		count(&v->ctr.notify_ipis);
		TRACE_NOTIFY_WAKE(v, (u8)(ctl >> 16), (u32)(ctl >> 32));
		lapic_send_ipi_ndst((u32)(ctl >> 32), (u8)(ctl >> 16));
		return;
	}
	TRACE(TEV_ELIDE, v, 0, TELIDE_OUTSIDE);
}

bool arch_irq_posted(const struct vcpu *v)
{
	return pi_test_on(v->arch.pi);
}

u64 arch_vcpu_pi_desc_pa(const struct vcpu *v)
{
	return virt_to_phys(v->arch.pi);
}

/* ---- The descriptor across scheduling (arch/x86/arch.h) ---- */

/* The NDST value that names CPU c in the host LAPIC's mode (pi_ndst_encode). */
static u32 pi_ndst_of(const struct cpu *c)
{
	return pi_ndst_encode(c->apic_id, lapic_x2apic_mode());
}

void arch_sched_in(struct vcpu *v, struct cpu *c)
{
	pi_update(v->arch.pi, false, v->vm->nv, pi_ndst_of(c));
}

void arch_sched_preempted(struct vcpu *v, struct cpu *c, bool migratable)
{
	pi_update(v->arch.pi, true, v->vm->nv, pi_ndst_of(c));
	if (migratable)
		vmx_vcpu_put(v);
}

void arch_sched_block(struct vcpu *v, struct cpu *c, bool migratable, bool wakeup_vector)
{
	if (migratable)
		vmx_vcpu_put(v);
	if (wakeup_vector)
		pi_update(v->arch.pi, false, VECTOR_WAKEUP, pi_ndst_of(c));
}

void arch_sched_woken(struct vcpu *v, bool wakeup_vector)
{
	if (wakeup_vector)
		pi_update(v->arch.pi, false, v->vm->nv, pi_ndst(v->arch.pi));
}

bool arch_vcpu_released(const struct vcpu *v)
{
	return !v->arch.vmcs_cpu;
}
