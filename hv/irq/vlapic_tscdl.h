/* SPDX-License-Identifier: MIT */
/*
 * IA32_TSC_DEADLINE written with a deadline already passed, for the caller that
 * delivers the timer's vector itself (the WRMSR fastpath under APICv, exit_dispatch.c):
 * inline there, so that the exit makes no call for it.
 */
#ifndef HV_VLAPIC_TSCDL_H
#define HV_VLAPIC_TSCDL_H

#include "hv/vm/vm.h"
#include "hv/trace/trace.h"
#include "arch/x86/x86.h"

/* A deadline already passed (guest TSC = host TSC + tsc_offset), in TSC-deadline mode,
 * with a deliverable vector (unmasked, 16-255: "Error Handling"): the timer is armed and
 * fires here, as vlapic_write_tsc_deadline and vlapic_timer_expired would do it (no
 * period; the MSR reads 0 after it fired: "TSC-Deadline Mode"), and its vector is
 * returned for the caller to deliver. Anything else: vlapic_write_tsc_deadline, and -1. */
static inline __attribute__((always_inline)) int vlapic_write_tsc_deadline_due(struct vcpu *v, u64 val,
									      s64 tsc_offset)
{
	struct vlapic *l = &v->lapic;
	u32 lvt = vlapic_reg(l, APIC_LVT_TIMER);
	if (likely(APIC_LVT_TIMER_MODE(lvt) == APIC_TIMER_TSC_DEADLINE && !(lvt & APIC_LVT_MASKED) && (lvt & 0xf0))) {
		u64 now = rdtsc();
		if (likely(val && val <= now + (u64)tsc_offset)) {
			l->tsc_deadline = 0;
			l->timer_period = 0;
			TRACE(TEV_TIMER_ARM, v, now, 0);
			TRACE_TIMER_FIRE(v, now);
			l->timer_deadline = 0;
			if (unlikely(!v->vm->ptimer)) {
				vlapic_timer_changed(v);   /* the software timer: cancel */
				lvt = vlapic_reg(l, APIC_LVT_TIMER);   /* not kept across the call */
			}
			return (int)(lvt & 0xff);
		}
	}
	vlapic_write_tsc_deadline(v, val, tsc_offset);
	return -1;
}

#endif
