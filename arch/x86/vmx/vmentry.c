/* SPDX-License-Identifier: MIT */
/*
 * The entry path: requests (INIT, SIPI, NMI, EOI-exit bitmap), delivery of what was
 * posted (vintr.c), and the VMX-preemption timer that stands for the guest's
 * LAPIC timer. vmx_prepare_entry runs before every VM entry that leaves "in guest".
 */
#include "arch/x86/vmx/exit_internal.h"
#include "hv/vm/hypercall.h"
#include "hv/sched/sched.h"
#include "hv/irq/vioapic.h"

static void inject_nmi(struct vcpu *v)
{
	if (!(vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID) &&
	    !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS | INTR_BLOCK_NMI))) {
		vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 2 | INTR_TYPE_NMI | INTR_INFO_VALID);
		v->nmi_pending--;
		/* The latched one follows when the handler's IRET ends NMI blocking. */
		vmx_set_proc(v, CPU_NMI_WINDOW_EXITING, v->nmi_pending && (v->arch.pin & PIN_VIRTUAL_NMIS));
	} else if (v->arch.pin & PIN_VIRTUAL_NMIS) {
		vmx_set_proc(v, CPU_NMI_WINDOW_EXITING, true);
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

void vmx_program_timer(struct vcpu *v)
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
			if (!(v->arch.pin & PIN_PREEMPTION_TIMER)) {
				v->arch.pin |= PIN_PREEMPTION_TIMER;
				vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, v->arch.pin);
			}
			vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffull ? 0xffffffffu : (u32)ticks);
			return;
		}
	}
	if (v->arch.pin & PIN_PREEMPTION_TIMER) {
		v->arch.pin &= ~(u32)PIN_PREEMPTION_TIMER;
		vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, v->arch.pin);
	}
}

/* Everything after "in guest" is marked: timers, then the PIR sync, then injection. */
void vmx_entry_tail(struct vcpu *v)
{
	if (unlikely(v->race.window))
		race_window(v, HC_RACE_WINDOW_IN_GUEST);
	if (v->vm->ptimer)
		vmx_program_timer(v);
	if (v->nmi_pending)
		inject_nmi(v);
	sync_or_inject(v, false);
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
		msi_apic_changed(v->vm);   /* a renumbered xAPIC ID is back to the vCPU index */
		v->nmi_pending = 0;
		__atomic_store_n(&v->nmi_queued, 0, __ATOMIC_SEQ_CST);
		v->lapic.timer_deadline = 0;
		/* Interrupts posted before the INIT do not survive it. */
		for (int i = 0; i < 8; i++)
			__atomic_store_n(&v->arch.pi->pir[i], 0, __ATOMIC_SEQ_CST);
		pi_test_and_clear_on(v->arch.pi);
		if (!(req & REQ_SIPI)) {
			u32 expected = v->state;
			if (expected != VCPU_STOPPED)
				__atomic_compare_exchange_n((u32 *)&v->state, &expected, VCPU_WAIT_SIPI, false,
							    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
		}
		v->vm->arch.vintr->reset(v);
		if (v->vm->restart != RESTART_NONE) {
			/* Parked for a VM restart (hv/vm/restart.c): the APIC at its power-up
			 * state ("Local APIC State After Power-Up or Reset": xAPIC, enabled),
			 * which INIT alone does not give (it keeps x2APIC mode). vCPU 0 gets
			 * its BSP flag back from arch_vcpu_reset. The last one parked reloads. */
			v->lapic.apic_base = APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE;
			vlapic_reset(&v->lapic, v->id, false);
			v->vm->arch.vintr->apic_mode(v);
			vm_restart_parked(v->vm);
		}
	}
	if (req & REQ_RESET) {
		/* A VM restart: vCPU 0 at the entry state (hv/vm/restart.c). */
		arch_vcpu_reset(v, &v->vm->entry);
		req &= ~(u32)REQ_SIPI;
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
	if (req & REQ_EOI_BITMAP)
		v->vm->arch.vintr->eoi_exits(v);
}

/*
 * The entry path, in the order the posting protocol needs (posted.c): interrupts off before the vCPU is marked
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
	vmx_entry_tail(v);
	return true;
}
