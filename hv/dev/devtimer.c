/* SPDX-License-Identifier: MIT */
/* A device's deadline timer with one host timer per physical CPU (hv/dev/devtimer.h). */
#include "hv/dev/devtimer.h"
#include "hv/lib/lib.h"
#include "arch/x86/x86.h"

static void slot_fired(struct hv_timer *t, u64 now)
{
	struct dev_timer_slot *s = container_of(t, struct dev_timer_slot, t);
	struct dev_timer *dt = s->owner;
	u32 self = this_cpu()->id;
	u64 f = spin_lock_irqsave(dt->lock);
	if (dt->armed && dt->deadline <= now) {
		dt->armed = false;
		dt->fn(dt, now);   /* may set the next deadline: arms this CPU's slot */
	} else if (dt->armed && dt->cpu == self) {
		hv_timer_arm(t, dt->deadline);   /* early: not expected, but keep the owner armed */
	}
	spin_unlock_irqrestore(dt->lock, f);
}

void dev_timer_init(struct dev_timer *dt, struct spinlock *lock, void (*fn)(struct dev_timer *dt, u64 now))
{
	memset(dt, 0, sizeof(*dt));
	dt->lock = lock;
	dt->fn = fn;
	for (u32 i = 0; i < MAX_CPUS; i++) {
		dt->slot[i].owner = dt;
		dt->slot[i].t.fn = slot_fired;
	}
}

void dev_timer_set(struct dev_timer *dt, u64 deadline)
{
	u32 self = this_cpu()->id;
	dt->deadline = deadline;
	dt->cpu = self;
	dt->armed = true;
	hv_timer_arm(&dt->slot[self].t, deadline);
}

void dev_timer_stop(struct dev_timer *dt)
{
	dt->armed = false;
	/* Only this CPU's slot may be cancelled here; the others fire and find nothing. */
	struct hv_timer *t = &dt->slot[this_cpu()->id].t;
	if (hv_timer_armed(t))
		hv_timer_cancel(t);
}

void dev_timer_shutdown(struct dev_timer *dt)
{
	u64 f = spin_lock_irqsave(dt->lock);
	dev_timer_stop(dt);
	spin_unlock_irqrestore(dt->lock, f);
}
