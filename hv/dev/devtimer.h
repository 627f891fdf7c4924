/* SPDX-License-Identifier: MIT */
/*
 * A device's deadline timer on host timers (hv/host/timer.h), for device models whose
 * registers any vCPU of the VM may program from any physical CPU (the PIT, the RTC).
 *
 * A host timer belongs to the CPU that armed it and may be cancelled only there, so a
 * device timer has one host timer per physical CPU: setting the deadline arms the
 * calling CPU's timer, which becomes the owner; timers still pending on other CPUs are
 * left alone, and when they fire they find nothing due (the deadline has moved) and
 * are not re-armed. A timer that fires with the deadline reached calls fn under the
 * device's lock; fn may set the next deadline. Everything runs under that lock: the
 * device's access callbacks (the bus holds it) and the firing (which takes it).
 */
#ifndef HV_DEV_DEVTIMER_H
#define HV_DEV_DEVTIMER_H

#include "hv/lib/types.h"
#include "hv/host/timer.h"
#include "hv/host/cpu.h"

struct dev_timer;

struct dev_timer_slot {
	struct hv_timer t;
	struct dev_timer *owner;
};

struct dev_timer {
	volatile bool armed;          /* a deadline is set: read without the lock by the scheduler */
	u64 deadline;                 /* TSC */
	u32 cpu;                      /* the CPU whose slot carries the deadline */
	struct spinlock *lock;        /* the device's lock */
	void (*fn)(struct dev_timer *dt, u64 now);   /* the deadline passed; under *lock */
	struct dev_timer_slot slot[MAX_CPUS];
};

/* Before first use: fn and the device lock it runs under. */
void dev_timer_init(struct dev_timer *dt, struct spinlock *lock, void (*fn)(struct dev_timer *dt, u64 now));
/* Under the device lock: fire fn at TSC deadline (on the calling CPU) / not at all. */
void dev_timer_set(struct dev_timer *dt, u64 deadline);
void dev_timer_stop(struct dev_timer *dt);
/* When the device is destroyed (takes the device lock): no deadline any more; timers
 * still pending on CPUs fire and find nothing due. */
void dev_timer_shutdown(struct dev_timer *dt);

#endif
