/* SPDX-License-Identifier: MIT */
/* Host timers on the LAPIC's TSC-deadline mode (see timer.h). */
#include "hv/host/timer.h"
#include "hv/host/cpu.h"
#include "hv/host/vectors.h"
#include "hv/lib/console.h"
#include "arch/x86/x86.h"
#include "arch/x86/apic_regs.h"

#define LVT_TSC_DEADLINE (2u << 17)
#define CPUID1_ECX_TSC_DEADLINE BIT(24)

static void timer_vector(u8 vector, void *arg)
{
	(void)vector;
	(void)arg;
	hv_timer_interrupt();
}

void hv_timer_init(void)
{
	if (!host_vector_register(VECTOR_TIMER, "timer", timer_vector, NULL))
		panic("host vector 0x%x is taken\n", VECTOR_TIMER);
}

bool hv_timer_available(void)
{
	u32 a, b, c, d;
	cpuid_count(1, 0, &a, &b, &c, &d);
	return c & CPUID1_ECX_TSC_DEADLINE;
}

static void program(struct cpu *c)
{
	if (!c->tsc_deadline) {
		/* "TSC-Deadline Mode": select the mode in the LVT timer register first. */
		lapic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | VECTOR_TIMER);
		c->tsc_deadline = true;
	}
	/* Writing 0 disarms; an expired deadline fires at once. */
	wrmsr(MSR_IA32_TSC_DEADLINE, c->timers ? c->timers->deadline : 0);
}

static void unlink(struct cpu *c, struct hv_timer *t)
{
	for (struct hv_timer **pp = &c->timers; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->next = NULL;
	t->cpu = NULL;
	t->linked = false;
}

void hv_timer_arm(struct hv_timer *t, u64 deadline)
{
	/* Without TSC-deadline mode there is no host timer (IA32_TSC_DEADLINE would
	 * #GP): time slices and the halted-vCPU timer stand-in do not exist then
	 * (sched_init says so at boot; timer=soft is refused per VM). */
	static int avail = -1;
	if (avail < 0)
		avail = hv_timer_available();
	if (!avail)
		return;
	u64 f = read_rflags();
	irq_disable();
	struct cpu *c = this_cpu();
	if (t->linked)
		unlink(t->cpu, t);
	t->deadline = deadline ? deadline : 1;
	struct hv_timer **pp = &c->timers;
	while (*pp && (*pp)->deadline <= t->deadline)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->cpu = c;
	t->linked = true;
	if (c->timers == t)
		program(c);
	if (f & RFLAGS_IF)
		irq_enable();
}

void hv_timer_cancel(struct hv_timer *t)
{
	u64 f = read_rflags();
	irq_disable();
	struct cpu *c = t->cpu;
	if (c && t->linked) {
		bool first = c->timers == t;
		unlink(c, t);
		if (first)
			program(c);
	}
	if (f & RFLAGS_IF)
		irq_enable();
}

bool hv_timer_due(u64 now)
{
	const struct hv_timer *t = this_cpu()->timers;
	return t && t->deadline <= now;
}

void hv_timer_interrupt(void)
{
	struct cpu *c = this_cpu();
	for (;;) {
		u64 now = rdtsc();
		struct hv_timer *t = c->timers;
		if (!t || t->deadline > now)
			break;
		c->timers = t->next;
		t->next = NULL;
		t->linked = false;
		/* t->cpu stays set while the callback runs: the timer still pins its
		 * owner (hv/sched/sched.c does not move a vCPU whose timer is armed). */
		t->fn(t, now);   /* may re-arm t */
		if (!t->linked)
			t->cpu = NULL;
	}
	program(c);
}
