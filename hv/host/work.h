/* SPDX-License-Identifier: MIT */
/*
 * Deferred work: a small per-CPU queue of function calls that another CPU (or the CPU
 * itself) hands over, run by the owning CPU from its VECTOR_WORK interrupt handler
 * (host_irq: at an external-interrupt exit or in the idle loop, interrupts off). It is
 * the "bounce through a worker" that msi_delivery=deferred measures (hv/irq/msi.c):
 * the work item costs the target CPU an interrupt, and a VM exit when that CPU is in a
 * guest.
 */
#ifndef HV_HOST_WORK_H
#define HV_HOST_WORK_H

#include "hv/lib/types.h"

struct cpu;

#define VECTOR_WORK 0xf3   /* deferred work queued on this CPU (hv/host/work.c) */
#define WORK_RING 64       /* items waiting per CPU; a full ring runs the item at once */

typedef void (*work_fn)(void *arg, u64 x, u64 y);

/* Queue fn(arg, x, y) on CPU c and interrupt it when its queue was empty. Any CPU,
 * any context. false when the ring was full: fn then ran here, at once (counted). */
bool work_queue(struct cpu *c, work_fn fn, void *arg, u64 x, u64 y);
/* Register VECTOR_WORK (once, at boot); false when it is taken. */
bool work_init(void);
/* Items queued, run by their CPU, and run at once because a ring was full. */
void work_stats(u64 *queued, u64 *ran, u64 *overflow);

#endif
