/* SPDX-License-Identifier: MIT */
/*
 * Host timers: one-shot callbacks at a TSC deadline, per physical CPU, on the host
 * LAPIC timer in TSC-deadline mode (Intel SDM Vol. 3A, "TSC-Deadline Mode"). A timer
 * belongs to the CPU that arms it and fires there, in interrupt context (interrupts
 * off): arm, cancel and fire never race with another CPU.
 *
 * Users: the software alternative to the VMX-preemption timer for guest LAPIC timers
 * (hv/irq/vlapic.c), and scheduler time slices.
 */
#ifndef HV_TIMER_H
#define HV_TIMER_H

#include "hv/lib/types.h"

struct cpu;

struct hv_timer {
	u64 deadline;                                  /* TSC */
	void (*fn)(struct hv_timer *t, u64 now);
	struct hv_timer *next;
	struct cpu *cpu;                               /* where it is armed (or firing), or NULL */
	bool linked;                                   /* on cpu's list */
};

/* Does this CPU's LAPIC timer have TSC-deadline mode (CPUID.1:ECX[24])? */
bool hv_timer_available(void);
/* Arm (or re-arm) t on the calling CPU. */
void hv_timer_arm(struct hv_timer *t, u64 deadline);
/* Cancel t; it must have been armed on the calling CPU (or not at all). */
void hv_timer_cancel(struct hv_timer *t);
static inline bool hv_timer_armed(const struct hv_timer *t)
{
	return t->cpu != NULL;
}
/* Is a timer of this CPU due at TSC now (its interrupt may be pending, not taken yet)? */
bool hv_timer_due(u64 now);
/* The LAPIC timer interrupt: run every expired timer of this CPU. */
void hv_timer_interrupt(void);
/* Boot (BSP, before any timer is armed): take the host timer vector. */
void hv_timer_init(void);

#endif
