/* SPDX-License-Identifier: MIT */
/*
 * Requests, wakeups and kicks between CPUs (hv/sched.h).
 *
 * A halted vCPU (HLT with nothing pending) is not entered until it is woken. The
 * blocker and the waker each write, then read what the other wrote, with full
 * barriers in between (a store-load fence on each side): the HLT handler publishes
 * state HALTED, then re-reads ON and the requests; a poster sets ON (locked), then
 * reads the state. At least one of them sees the other's write, so no wakeup is lost.
 */
#include "hv/sched.h"
#include "hv/vm.h"
#include "hv/cpu.h"

bool vcpu_wake(struct vcpu *v)
{
	u32 expected = VCPU_HALTED;
	if (!__atomic_compare_exchange_n((u32 *)&v->state, &expected, VCPU_RUNNABLE, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_RELAXED))
		return false;
	__atomic_fetch_add(&v->ctr.wakeups, 1, __ATOMIC_RELAXED);
	if (v->cpu != this_cpu())
		lapic_send_ipi(v->cpu->apic_id, VECTOR_KICK);   /* its CPU may be idle in HLT */
	return true;
}

void vcpu_request(struct vcpu *v, u32 req)
{
	__atomic_fetch_or(&v->requests, req, __ATOMIC_SEQ_CST);
	if (req & REQ_SIPI) {
		u32 expected = VCPU_WAIT_SIPI;
		__atomic_compare_exchange_n((u32 *)&v->state, &expected, VCPU_RUNNABLE, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED);
	}
	if (v->state == VCPU_HALTED && (req & (REQ_NMI | REQ_INIT))) {
		vcpu_wake(v);
		return;
	}
	if (v->cpu != this_cpu() && (v->mode == VCPU_IN_GUEST || v->state == VCPU_RUNNABLE))
		lapic_send_ipi(v->cpu->apic_id, VECTOR_KICK);
}
