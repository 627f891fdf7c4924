/* SPDX-License-Identifier: MIT */
/* Per-CPU deferred work (hv/host/work.h). */
#include "hv/host/work.h"
#include "hv/host/cpu.h"
#include "hv/host/vectors.h"
#include "hv/lib/lib.h"

struct work_item {
	work_fn fn;
	void *arg;
	u64 x, y;
};

struct work_ring {
	struct spinlock lock;
	u32 head, count;
	struct work_item item[WORK_RING];
};

static struct work_ring rings[MAX_CPUS];
static u64 nr_queued, nr_ran, nr_overflow;

bool work_queue(struct cpu *c, work_fn fn, void *arg, u64 x, u64 y)
{
	struct work_ring *r = &rings[c->id];
	u64 f = spin_lock_irqsave(&r->lock);
	if (r->count == WORK_RING) {
		spin_unlock_irqrestore(&r->lock, f);
		__atomic_fetch_add(&nr_overflow, 1, __ATOMIC_RELAXED);
		fn(arg, x, y);
		return false;
	}
	r->item[(r->head + r->count) % WORK_RING] = (struct work_item){ fn, arg, x, y };
	bool first = r->count++ == 0;
	spin_unlock_irqrestore(&r->lock, f);
	__atomic_fetch_add(&nr_queued, 1, __ATOMIC_RELAXED);
	/* A non-empty ring already has its interrupt on the way (or being handled: the
	 * handler takes items until the ring is empty). */
	if (first)
		lapic_send_ipi(c->apic_id, VECTOR_WORK);
	return true;
}

/* VECTOR_WORK: run this CPU's items, one at a time outside the lock. */
static void work_vector(u8 vector, void *arg)
{
	(void)vector;
	(void)arg;
	struct work_ring *r = &rings[this_cpu()->id];
	for (;;) {
		u64 f = spin_lock_irqsave(&r->lock);
		if (!r->count) {
			spin_unlock_irqrestore(&r->lock, f);
			return;
		}
		struct work_item it = r->item[r->head];
		r->head = (r->head + 1) % WORK_RING;
		r->count--;
		spin_unlock_irqrestore(&r->lock, f);
		it.fn(it.arg, it.x, it.y);
		__atomic_fetch_add(&nr_ran, 1, __ATOMIC_RELAXED);
	}
}

bool work_init(void)
{
	return host_vector_register(VECTOR_WORK, "work", work_vector, NULL);
}

void work_stats(u64 *queued, u64 *ran, u64 *overflow)
{
	*queued = __atomic_load_n(&nr_queued, __ATOMIC_RELAXED);
	*ran = __atomic_load_n(&nr_ran, __ATOMIC_RELAXED);
	*overflow = __atomic_load_n(&nr_overflow, __ATOMIC_RELAXED);
}
