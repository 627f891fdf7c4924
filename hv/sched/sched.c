/* SPDX-License-Identifier: MIT */
/*
 * The scheduler: per-CPU run queues of vCPUs, time slices on the host LAPIC timer,
 * halt blocking with posted-interrupt wakeups (directed yield on PAUSE-loop exits:
 * yield.c).
 *
 * States (hv/vm/vm.h): RUNNING (cpu->curr), RUNNABLE (on a run queue), HALTED (on a
 * blocked list), WAIT_SIPI, STOPPED. Every change of a vCPU's state that another CPU
 * may race with is a compare-exchange; run queues and blocked lists have a lock each.
 *
 * Blocking (docs/MODEL.md models it; hv/sched/sched.pml):
 *   the HLT handler only decides (v->want_block); the CPU's run loop blocks the vCPU
 *   once it has left it (put_prev): VMCS cleared if it may migrate, descriptor NV :=
 *   wakeup vector and NDST := this CPU (block=wakeup; block=fixed keeps the VM's
 *   vector), vCPU on this CPU's blocked list, then state := HALTED (a full barrier),
 *   then ON looked at again: a post that came first is taken at once.
 *   A poster that sets ON and then reads HALTED sends NV to NDST (posted.c); the
 *   handler of that vector (sched_wakeup_vector) wakes every vCPU on the CPU's blocked
 *   list with ON set. Waking: compare-exchange HALTED -> RUNNABLE (one winner), off the
 *   blocked list, NV restored, `ready` set, onto a run queue.
 *   Preemption sets SN (no notifications while not running: VT-d "Posted-Interrupt
 *   Descriptor"); being scheduled in clears it and recomputes ON from PIR.
 *   The descriptor itself is arch/x86/vmx/posted.c's: this file says what happened
 *   (arch_sched_in/preempted/block/woken, arch/x86/arch.h) and that module updates it.
 *
 * The policy that orders the run queues is a const ops struct (sched_policy).
 */
#include "hv/sched/sched.h"
#include "hv/vm/vm.h"
#include "hv/host/cpu.h"
#include "hv/host/vectors.h"
#include "hv/init/config.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/host/time.h"
#include "hv/vm/hypercall.h"
#include "arch/x86/x86.h"
#include "hv/trace/trace.h"
#include "hv/sched/sched_internal.h"

struct sched_config sched_cfg = {
	.policy = SCHED_FAIR, .yield = YIELD_READY, .block = BLOCK_WAKEUP, .ple_gap = 128, .ple_window = 4096, .slice_us = 1000,
	.ple_adaptive = true, .ple_window_min = 256, .ipi_yield = true,
};
static u64 slice_ticks;

/* ---- policies ----
 *
 * Both order the same per-CPU singly linked queue (rq_head/rq_tail, rq_lock held for
 * every queue operation); the policy decides where a vCPU goes in, and whether the
 * current vCPU gives way at the end of its slice or when another is woken. */

/* The queue itself (rq_lock held). after = NULL: at the head. */
static void q_insert_after(struct cpu *c, struct vcpu *after, struct vcpu *v)
{
	v->rq_cpu = c;
	if (!after) {
		v->rq_next = c->rq_head;
		c->rq_head = v;
	} else {
		v->rq_next = after->rq_next;
		after->rq_next = v;
	}
	if (c->rq_tail == after)
		c->rq_tail = v;
}

static bool q_remove(struct cpu *c, struct vcpu *v)
{
	struct vcpu *prev = NULL;
	for (struct vcpu *x = c->rq_head; x; prev = x, x = x->rq_next) {
		if (x != v)
			continue;
		if (prev)
			prev->rq_next = x->rq_next;
		else
			c->rq_head = x->rq_next;
		if (c->rq_tail == x)
			c->rq_tail = prev;
		x->rq_next = NULL;
		x->rq_cpu = NULL;
		return true;
	}
	return false;
}

/* Ahead of every vCPU that has waited less than a slice, behind those that waited
 * longer: a boost never passes a vCPU that has already waited a slice, so boosts from
 * other CPUs (which do not run the target at once but hand it the next slice there)
 * cannot keep pushing that CPU's queue back. Both policies. */
static void boost_bounded(struct cpu *c, struct vcpu *v, u64 now)
{
	struct vcpu *after = NULL;
	for (struct vcpu *x = c->rq_head; x && now - x->runnable_since >= sched_slice_ticks(); x = x->rq_next)
		after = x;
	q_insert_after(c, after, v);
}

/* -- rr: FIFO round robin; the slice always ends the turn; no wakeup preemption -- */

static void rr_enqueue(struct cpu *c, struct vcpu *v, enum enq_how how)
{
	q_insert_after(c, how == ENQ_FRONT ? NULL : c->rq_tail, v);
}

static bool rr_tick_preempt(struct cpu *c, struct vcpu *curr, u64 now)
{
	(void)c, (void)curr, (void)now;
	return true;
}

static bool rr_wake_preempt(struct cpu *c, struct vcpu *v, u64 now)
{
	(void)c, (void)v, (void)now;
	return false;
}

static const struct sched_policy rr_policy = {
	.name = "rr", .enqueue = rr_enqueue, .boost = boost_bounded, .tick_preempt = rr_tick_preempt,
	.wake_preempt = rr_wake_preempt,
};

/*
 * -- fair: least virtual runtime first --
 * Every vCPU accumulates the ticks it ran (vruntime; all vCPUs weigh the same). The
 * queue is sorted by vruntime; a CPU's min_vruntime follows the smallest vruntime of
 * its current and queued vCPUs and never decreases. A vCPU entering a queue is placed
 * no lower than min_vruntime - half a slice (a woken vCPU gets at most that much
 * credit for the time it slept, so halting cannot bank CPU time) and, unless it was
 * preempted here, no higher than min_vruntime (vruntimes of different CPUs are not
 * comparable: a woken or moved vCPU starts at this CPU's). A slice ends the turn only if the
 * head has run less than the current vCPU; a woken vCPU preempts the current one at
 * once when it has run a quarter slice less (wakeup preemption), so a vCPU that waits
 * for an interrupt gets the CPU soon after it arrives, and a busy vCPU cannot delay
 * a halting one by whole slices. min_vruntime of another CPU is read without its
 * lock by wakers: a stale value shifts one placement by less than a slice.
 */

static u64 curr_vruntime(const struct vcpu *v, u64 now)
{
	return v->vruntime + (now - v->run_since);
}

static void fair_update_min(struct cpu *c, u64 now)
{
	struct vcpu *curr = c->curr, *head = c->rq_head;
	u64 m = ~0ull;
	if (curr)
		m = curr_vruntime(curr, now);
	if (head && head->vruntime < m)
		m = head->vruntime;
	if (m != ~0ull && m > c->min_vruntime)
		c->min_vruntime = m;
}

static void fair_enqueue(struct cpu *c, struct vcpu *v, enum enq_how how)
{
	if (how == ENQ_FRONT) {
		q_insert_after(c, NULL, v);
		return;
	}
	fair_update_min(c, rdtsc());
	u64 credit = slice_ticks / 2;
	u64 lo = c->min_vruntime > credit ? c->min_vruntime - credit : 0;
	if (v->vruntime < lo)
		v->vruntime = lo;
	if (v->vruntime > c->min_vruntime && how != ENQ_PREEMPTED)
		v->vruntime = c->min_vruntime;
	/* never ahead of a directed-yield target (boosted): it runs next, whatever its
	 * vruntime, or the yield would hand the CPU straight back to the yielder */
	struct vcpu *after = NULL;
	for (struct vcpu *x = c->rq_head; x && (x->boosted || x->vruntime <= v->vruntime); x = x->rq_next)
		after = x;
	q_insert_after(c, after, v);
}

static bool fair_tick_preempt(struct cpu *c, struct vcpu *curr, u64 now)
{
	struct vcpu *head = c->rq_head;
	return head && (head->boosted || head->vruntime < curr_vruntime(curr, now));
}

static bool fair_wake_preempt(struct cpu *c, struct vcpu *v, u64 now)
{
	struct vcpu *curr = c->curr;
	return curr && curr != v && v->vruntime + slice_ticks / 4 < curr_vruntime(curr, now);
}

static const struct sched_policy fair_policy = {
	.name = "fair", .enqueue = fair_enqueue, .boost = boost_bounded, .tick_preempt = fair_tick_preempt,
	.wake_preempt = fair_wake_preempt,
};

const struct sched_policy *sched_pol = &fair_policy;

/* The run-queue operations, all under c->rq_lock: the policy orders the queue, these
 * keep the count the load balancer reads. */
void sched_rq_add(struct cpu *c, struct vcpu *v, enum enq_how how)
{
	sched_pol->enqueue(c, v, how);
	c->nr_queued++;
}

bool sched_rq_del(struct cpu *c, struct vcpu *v)
{
	if (!q_remove(c, v))
		return false;
	c->nr_queued--;
	return true;
}

static struct vcpu *rq_pop(struct cpu *c)
{
	struct vcpu *v = c->rq_head;
	if (v)
		sched_rq_del(c, v);
	return v;
}

/* ---- helpers ---- */

static bool cas_state(struct vcpu *v, enum vcpu_state from, enum vcpu_state to)
{
	u32 expected = from;
	return __atomic_compare_exchange_n((u32 *)&v->state, &expected, to, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_RELAXED);
}

/* Put v on c's run queue (its wait counted from now, unless the balancer moved it);
 * make c look (idle, the first waiter: arm its slice; or the policy preempts its
 * current vCPU for a woken one). */
static void enqueue(struct cpu *c, struct vcpu *v, enum enq_how how)
{
	u64 now = rdtsc();
	u64 f = spin_lock_irqsave(&c->rq_lock);
	bool first = !c->rq_head;
	if (how != ENQ_MOVED)
		v->runnable_since = now;
	sched_rq_add(c, v, how);
	bool preempt = how == ENQ_WOKEN && sched_pol->wake_preempt(c, v, now);
	spin_unlock_irqrestore(&c->rq_lock, f);
	if (preempt) {
		c->need_resched = true;
		count(&v->ctr.wake_preempts);
	}
	if (c != this_cpu() && (c->idle || first || preempt))
		lapic_send_ipi(c->apic_id, VECTOR_KICK);
}

/* spread=on or block=fixed: is another vCPU of v's VM running, queued or blocked on
 * d? Then v must not go there. block=fixed needs it (see poll_blocked: a wakeup for
 * the blocked one would be consumed as the running one's notification; ACRN's rule:
 * one vCPU of a VM per CPU); spread=on asks for it, so that a VM's vCPUs can run at
 * the same time (directed yields then boost a target on its own CPU instead of
 * pulling it next to the spinner). */
static bool sibling_on(const struct cpu *d, const struct vcpu *v)
{
	if (!sched_cfg.spread && sched_cfg.block != BLOCK_FIXED)
		return false;
	const struct vm *vm = v->vm;
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *s = vm->vcpus[i];
		if (s != v && (d->curr == s || s->rq_cpu == d || s->blk_cpu == d))
			return true;
	}
	return false;
}

/* May v run on d at all (affinity, VMX on, block=fixed placement)? */
bool sched_may_run_on(const struct vcpu *v, const struct cpu *d)
{
	return (v->affinity & BIT64(d->id)) && d->virt_on && !sibling_on(d, v);
}

/* May v leave the CPU it is queued on: state released (VMCS clear), no software timer armed there? */
bool sched_may_move(struct vcpu *v)
{
	return arch_vcpu_released(v) && !hv_timer_armed(&v->sw_timer);
}

/* Where a woken vCPU should run: its last CPU, unless that is busy and an idle CPU
 * of its affinity is free (and its software timer does not pin it, and its state is
 * no longer active there: arch_sched_block leaves it until that CPU runs another). */
static struct cpu *wake_cpu(struct vcpu *v)
{
	struct cpu *home = v->cpu;
	if (!v->migratable || hv_timer_armed(&v->sw_timer) || home->idle || !arch_vcpu_released(v))
		return home;
	for (u32 i = 0; i < nr_cpus; i++)
		if (cpus[i].idle && sched_may_run_on(v, &cpus[i]))
			return &cpus[i];
	return home;
}

static u32 cpu_load(const struct cpu *c)
{
	return __atomic_load_n(&c->nr_queued, __ATOMIC_RELAXED) + (c->curr != NULL);
}

/*
 * Load balancing between busy CPUs (c's time slice ended with vCPUs waiting): when
 * another CPU has at least two vCPUs fewer (running + queued) than c, move the last
 * vCPU of c's queue that may go there. Idle CPUs steal on their own (steal()); this
 * evens out busy ones, which directed-yield pulls and wakeups unbalance, so that
 * every runnable vCPU gets about the same share of CPU time. Loads of other CPUs are
 * read without their locks: a stale value costs one slice of imbalance, not safety.
 */
static void balance(struct cpu *c)
{
	u32 load = cpu_load(c);
	struct cpu *to = NULL;
	u32 to_load = load;
	for (u32 i = 0; i < nr_cpus; i++) {
		struct cpu *d = &cpus[i];
		u32 l = cpu_load(d);
		if (d != c && d->virt_on && l + 2 <= load && l < to_load) {
			to = d;
			to_load = l;
		}
	}
	if (!to)
		return;
	u64 f = spin_lock_irqsave(&c->rq_lock);
	struct vcpu *mv = NULL;
	for (struct vcpu *v = c->rq_head; v; v = v->rq_next)
		if (v->migratable && sched_may_move(v) && sched_may_run_on(v, to))
			mv = v;
	if (mv)
		sched_rq_del(c, mv);
	spin_unlock_irqrestore(&c->rq_lock, f);
	if (!mv)
		return;
	mv->cpu = to;
	count(&mv->ctr.balanced);
	enqueue(to, mv, ENQ_MOVED);
}

static void blocked_unlink(struct vcpu *v)
{
	struct cpu *b = v->blk_cpu;
	if (!b)
		return;
	u64 f = spin_lock_irqsave(&b->blk_lock);
	for (struct vcpu **pp = &b->blocked; *pp; pp = &(*pp)->blk_next)
		if (*pp == v) {
			*pp = v->blk_next;
			break;
		}
	v->blk_next = NULL;
	v->blk_cpu = NULL;
	spin_unlock_irqrestore(&b->blk_lock, f);
}

/* After winning HALTED -> RUNNABLE: off the blocked list, notifications back to the
 * running vector, `ready`, onto a run queue. */
static void finish_wake(struct vcpu *v)
{
	blocked_unlink(v);
	arch_sched_woken(v, sched_cfg.block == BLOCK_WAKEUP);
	v->wake_time = rdtsc();
	v->ready = true;
	count(&v->ctr.wakeups);
	struct cpu *d = wake_cpu(v);
	TRACE(TEV_WAKEUP, v, d, 0);
	enqueue(d, v, ENQ_WOKEN);
}

/* ---- the sched.h interface ---- */

void sched_vcpu_stopped(struct vcpu *v)
{
	blocked_unlink(v);
}

bool vcpu_wake(struct vcpu *v)
{
	if (!cas_state(v, VCPU_HALTED, VCPU_RUNNABLE))
		return false;
	finish_wake(v);
	return true;
}

void vcpu_request(struct vcpu *v, u32 req)
{
	__atomic_fetch_or(&v->requests, req, __ATOMIC_SEQ_CST);
	if ((req & (REQ_SIPI | REQ_RESET)) && cas_state(v, VCPU_WAIT_SIPI, VCPU_RUNNABLE)) {
		v->ready = true;
		enqueue(v->cpu, v, ENQ_WOKEN);
		return;
	}
	if (req & (REQ_NMI | REQ_INIT) && vcpu_wake(v))
		return;
	/* Running elsewhere: make it exit and see the request. */
	if (v->state == VCPU_RUNNING && v->cpu != this_cpu())
		lapic_send_ipi(v->cpu->apic_id, VECTOR_KICK);
}

/* Wake every vCPU on c's blocked list that has a posted interrupt and halted with
 * interrupts enabled (only those of the VM whose vector came, for a VM vector);
 * collected under the list lock, woken after it (finish_wake takes it again). */
static void wake_blocked(struct cpu *c, u8 vector, bool polled)
{
	struct vcpu *wake[MAX_VMS * MAX_VCPUS_PER_VM];
	u32 n = 0;
	u64 f = spin_lock_irqsave(&c->blk_lock);
	for (struct vcpu *v = c->blocked; v; v = v->blk_next)
		if ((vector == VECTOR_WAKEUP || v->vm->nv == vector) && v->halt_irq_wake && arch_irq_posted(v) &&
		    n < ARRAY_SIZE(wake))
			wake[n++] = v;
	spin_unlock_irqrestore(&c->blk_lock, f);
	for (u32 i = 0; i < n; i++)
		if (cas_state(wake[i], VCPU_HALTED, VCPU_RUNNABLE)) {
			count(polled ? &wake[i]->ctr.wake_poll : &wake[i]->ctr.wake_vector);
			finish_wake(wake[i]);
		}
}

/* The wakeup vector (block=wakeup) or a VM's notification vector (block=fixed) on
 * this CPU: wake every vCPU on its blocked list that has a posted interrupt. */
void sched_wakeup_vector(u8 vector)
{
	wake_blocked(this_cpu(), vector, false);
}

/*
 * block=fixed: a VM's notification vector is also the posted-interrupt vector of its
 * running vCPUs. When one of its vCPUs runs on the CPU where another of its vCPUs is
 * blocked, the wakeup notification for the blocked one arrives as that running
 * vCPU's posted-interrupt notification and the CPU consumes it in guest mode (it
 * processes the running vCPU's descriptor): no exit, no handler. ACRN avoids this by
 * never putting two vCPUs of one VM on one CPU; here the CPU looks at its blocked list
 * at every entry and slice, so the wakeup is late (up to a slice) but not lost.
 */
static void poll_blocked(struct cpu *c)
{
	wake_blocked(c, VECTOR_WAKEUP, true);
}

/* ---- switching ---- */

/* idle_timeout: the last time a vCPU was switched in or out on any CPU. */
static volatile u64 last_busy;
static u64 idle_timeout_ticks;

/* An idle CPU's watchdog: when every CPU is idle and no vCPU has run for 100 ms, say
 * so once per run (every vCPU of every VM is halted: the run goes on only when a guest
 * timer or an interrupt wakes one; an interactive guest idles like this at every
 * prompt, so later idle periods are not reported); after idle_timeout, stop every VM (the run would
 * otherwise wait, e.g. for a timer far away or an interrupt that never comes, and
 * never print the summary). A VM whose vCPUs cannot be woken at all is stopped at
 * once instead (halted_vm_check). */
#define IDLE_NOTE_MS 100
static void idle_timeout_check(u64 now)
{
	static bool noted;   /* the note was printed (once per run) */
	u64 busy = __atomic_load_n(&last_busy, __ATOMIC_RELAXED);
	bool note = !noted && now - busy >= tsc_hz / 1000 * IDLE_NOTE_MS;
	if (!note && (!idle_timeout_ticks || now - busy < idle_timeout_ticks))
		return;
	for (u32 i = 0; i < nr_cpus; i++)
		if (cpus[i].virt_on && (!cpus[i].idle || cpus[i].curr || cpus[i].rq_head))
			return;
	if (note) {   /* two idle CPUs at once may both print it: harmless */
		noted = true;
		printk("sched: no vCPU has run for %u ms: every vCPU of every VM is halted until a guest timer "
		       "or an interrupt wakes one%s\n", IDLE_NOTE_MS,
		       idle_timeout_ticks ? "" : " (idle_timeout=MS would end such a run)");
	}
	if (!idle_timeout_ticks || now - busy < idle_timeout_ticks)
		return;
	for (u32 i = 0; i < nr_vms; i++)
		if (vms[i].state == VM_RUNNING)
			vm_stop(&vms[i], HV_STATUS_STOPPED, false, 0,
				"idle timeout: no vCPU of any VM ran for %u ms (idle_timeout=)", sched_cfg.idle_timeout_ms);
}

static void slice_expired(struct hv_timer *t, u64 now)
{
	struct cpu *c = container_of(t, struct cpu, slice_timer);
	if (c->idle) {
		idle_timeout_check(now);
		/* the idle watchdog (cpu_run_loop): on return the loop looks again */
		if (c->rq_head && !c->idle_rescues++)
			printk("sched: CPU %u: idle with vCPUs queued, found by its watchdog timer\n", c->id);
		hv_timer_arm(t, now + slice_ticks);
		return;
	}
	if (sched_cfg.block == BLOCK_FIXED && c->blocked)
		poll_blocked(c);
	if (c->rq_head) {
		if (!c->curr || sched_pol->tick_preempt(c, c->curr, now))
			c->need_resched = true;
		else
			hv_timer_arm(t, now + slice_ticks);   /* the head has run more: go on */
		balance(c);
	}
	else if (c->curr && sched_cfg.block == BLOCK_FIXED && c->blocked)
		hv_timer_arm(t, rdtsc() + slice_ticks);   /* keep polling */
}

/*
 * A vCPU of vm has just blocked: stop vm when none of its vCPUs can ever run again. A
 * halted vCPU is woken by an interrupt it can take (IF = 1: its timer, an IPI from a
 * vCPU of its VM, a device), by NMI or INIT (from another vCPU: vlapic.c), and a vCPU
 * waiting for SIPI by a start-up IPI (from another vCPU). So when every vCPU is halted
 * or waits for SIPI, none has a request or a posted interrupt pending, none that
 * halted with IF = 1 has its timer armed, and no device of the VM may interrupt, no
 * wake source is left: "HLT—Halt" resumes only on an interrupt, NMI, SMI, INIT or
 * reset. Racing blockers each look after publishing HALTED (a full barrier), so the
 * last one sees the others; a timer expiry posts before it clears the deadline, so
 * reading the deadline before ON misses neither.
 */
static void halted_vm_check(struct vm *vm)
{
	u32 irqs_off = 0, idle = 0, sipi = 0;
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *u = vm->vcpus[i];
		u32 st = __atomic_load_n((u32 *)&u->state, __ATOMIC_SEQ_CST);
		if ((st != VCPU_HALTED && st != VCPU_WAIT_SIPI) || u->requests)
			return;
		if (st == VCPU_WAIT_SIPI)
			sipi++;
		else if (!u->halt_irq_wake)
			irqs_off++;
		else if (__atomic_load_n(&u->lapic.timer_deadline, __ATOMIC_SEQ_CST) || arch_irq_posted(u))
			return;
		else
			idle++;
	}
	/* A device interrupt wakes only a vCPU that halted with IF = 1. */
	if ((idle && vm_device_may_interrupt(vm)) || vm->state != VM_RUNNING)
		return;
	vm_stop(vm, HV_STATUS_STOPPED, false, 0,
		"every vCPU halted, no wake source left: %u with IF=0, %u with IF=1 and no timer armed, "
		"%u waiting for SIPI; no device can interrupt",
		irqs_off, idle, sipi);
}

/* The CPU has left prev (its exit path ended with "leave"): requeue, block, or drop. */
static void put_prev(struct cpu *c, struct vcpu *v)
{
	u64 now = rdtsc();
	u64 ran = now - v->run_since;
	__atomic_store_n(&last_busy, now, __ATOMIC_RELAXED);
	v->ctr.run_ticks += ran;
	v->vruntime += ran;
	if (v->want_block) {
		v->want_block = false;
		/* released so that it may wake on any CPU */
		arch_sched_block(v, c, v->migratable, sched_cfg.block == BLOCK_WAKEUP);
		if (v->vm->ptimer && v->lapic.timer_deadline)
			hv_timer_arm(&v->sw_timer, v->lapic.timer_deadline);   /* no preemption timer now */
		u64 f = spin_lock_irqsave(&c->blk_lock);
		if (v->blk_cpu)
			panic("vCPU %s/%u is already on CPU %u's blocked list\n", v->vm->name, v->id, v->blk_cpu->id);
		v->blk_next = c->blocked;
		c->blocked = v;
		v->blk_cpu = c;
		spin_unlock_irqrestore(&c->blk_lock, f);
		count(&v->ctr.blocks);
		TRACE(TEV_BLOCK, v, 0, 0);   /* IF at HLT, deadline: read by trace_emit */
		/* Publish HALTED, then look at ON again (a poster sets ON, then reads
		 * the state: one of the two sees the other). */
		if (cas_state(v, VCPU_RUNNING, VCPU_HALTED)) {
			if ((v->halt_irq_wake && arch_irq_posted(v)) || (v->requests & (REQ_NMI | REQ_INIT)))
				vcpu_wake(v);
			else
				halted_vm_check(v->vm);
		} else {
			blocked_unlink(v);   /* stopped meanwhile */
		}
		return;
	}
	if (cas_state(v, VCPU_RUNNING, VCPU_RUNNABLE)) {
		/* Involuntary (time slice, yield): `ready` and `preempted` (directed yield);
		 * no notifications until it runs again. */
		v->ready = true;
		v->preempted = true;
		count(&v->ctr.preemptions);
		arch_sched_preempted(v, c, v->migratable);
		enqueue(c, v, ENQ_PREEMPTED);
	}
}

static void switch_in(struct cpu *c, struct vcpu *v)
{
	u64 now = rdtsc();
	u64 waited = now - v->runnable_since;
	v->ctr.runnable_ticks += waited;
	if (waited > v->ctr.max_runnable_ticks)
		v->ctr.max_runnable_ticks = waited;
	TRACE(TEV_SWITCH, v, waited, now);
	if (v->wake_time) {
		v->ctr.wakeup_ticks += now - v->wake_time;
		v->wake_time = 0;
	}
	v->ready = false;
	v->preempted = false;
	v->boosted = false;
	v->cpu = c;
	v->run_since = now;
	__atomic_store_n(&last_busy, now, __ATOMIC_RELAXED);
	c->curr = v;
	count(&v->ctr.ctx_switches);
	/* Notifications to this CPU again; ON recomputed from PIR (SN was set). */
	arch_sched_in(v, c);
	if (c->rq_head && !hv_timer_armed(&c->slice_timer))
		hv_timer_arm(&c->slice_timer, now + slice_ticks);
}

/* A vCPU another CPU may take: runnable, VMCS clear, allowed here, not pinned by a
 * software timer armed on its CPU. */
static struct vcpu *steal(struct cpu *c)
{
	for (u32 i = 0; i < nr_cpus; i++) {
		struct cpu *d = &cpus[i];
		if (d == c || !d->rq_head)
			continue;
		u64 f = spin_lock_irqsave(&d->rq_lock);
		struct vcpu *got = NULL;
		for (struct vcpu *v = d->rq_head; v; v = v->rq_next)
			if (sched_may_run_on(v, c) && sched_may_move(v)) {
				sched_rq_del(d, v);
				got = v;
				break;
			}
		spin_unlock_irqrestore(&d->rq_lock, f);
		if (got)
			return got;
	}
	return NULL;
}

static struct vcpu *pick_next(struct cpu *c)
{
	for (;;) {
		u64 f = spin_lock_irqsave(&c->rq_lock);
		struct vcpu *v = rq_pop(c);
		spin_unlock_irqrestore(&c->rq_lock, f);
		if (!v)
			v = steal(c);
		if (!v)
			return NULL;
		if (v->vm->state == VM_RUNNING && cas_state(v, VCPU_RUNNABLE, VCPU_RUNNING))
			return v;
		/* stopped meanwhile: drop it */
	}
}

/* The first time a CPU schedules: the vCPUs queued on it while the hypervisor booted
 * start waiting now (boot work is not scheduling latency). */
static void sched_start(struct cpu *c)
{
	u64 f = spin_lock_irqsave(&c->rq_lock);
	u64 now = rdtsc();
	for (struct vcpu *v = c->rq_head; v; v = v->rq_next)
		v->runnable_since = now;
	c->sched_started = true;
	spin_unlock_irqrestore(&c->rq_lock, f);
}

void cpu_run_loop(void)
{
	struct cpu *c = this_cpu();
	irq_disable();
	if (!c->sched_started)
		sched_start(c);
	struct vcpu *prev = c->curr;
	c->curr = NULL;
	c->need_resched = false;
	if (prev)
		put_prev(c, prev);
	for (;;) {
		struct vcpu *v = pick_next(c);
		if (v) {
			switch_in(c, v);
			vcpu_run(v);
		}
		/* Nothing to run: wait for an interrupt (a kick, a wakeup, a timer). STI's
		 * one-instruction shadow makes "sti; hlt" atomic against the interrupt, so
		 * a handler that queues a vCPU here returns behind the HLT. Under Bochs 3.0
		 * a CPU was nevertheless found halted in this loop with three vCPUs on its
		 * queue, queued by its own wakeup-vector handlers, for 10^9 ticks (3 VMs,
		 * think workload, block=fixed: about 1 run in 50); the cause is not found.
		 * So the slice timer stays armed while the CPU idles, as a watchdog: an
		 * idle CPU looks at its queue at least once a slice (slice_expired counts
		 * the times it found work there, idle_rescues). */
		hv_timer_arm(&c->slice_timer, rdtsc() + slice_ticks);
		c->idle = true;
		asm volatile("sti; hlt; cli" ::: "memory");
		c->idle = false;
	}
}

/* The entry path: a CPU whose current vCPU was switched in alone gets a time slice
 * as soon as another vCPU waits for it. */
void sched_entry_check(struct cpu *c)
{
	if (sched_cfg.block == BLOCK_FIXED && c->blocked)
		poll_blocked(c);
	if ((c->rq_head || (sched_cfg.block == BLOCK_FIXED && c->blocked)) && !c->slice_timer.linked)
		hv_timer_arm(&c->slice_timer, rdtsc() + slice_ticks);
}

u64 sched_slice_ticks(void)
{
	return slice_ticks;
}

/* ---- set-up ---- */

static void wakeup_vector(u8 vector, void *arg)
{
	(void)arg;
	sched_wakeup_vector(vector);
}

u8 sched_notification_vector(struct vm *vm)
{
	if (sched_cfg.block != BLOCK_FIXED)
		return VECTOR_POSTED;
	/* block=fixed: the VM's own vector doubles as its wakeup vector. */
	int v = host_vector_alloc(VECTOR_VM_BASE, VECTOR_VM_BASE + MAX_VMS - 1, vm->name, wakeup_vector, NULL);
	return v < 0 ? 0 : (u8)v;
}

void sched_init(const struct sched_config *cfg)
{
	sched_cfg = *cfg;
	if (!host_vector_register(VECTOR_WAKEUP, "wakeup", wakeup_vector, NULL) ||
	    !host_vector_register(VECTOR_KICK, "kick", NULL, NULL))
		panic("sched: the wakeup or kick vector is taken\n");
	sched_pol = cfg->policy == SCHED_FAIR ? &fair_policy : &rr_policy;
	slice_ticks = tsc_hz / 1000000 * sched_cfg.slice_us;
	if (!slice_ticks)
		slice_ticks = 1000000;
	idle_timeout_ticks = tsc_hz / 1000 * sched_cfg.idle_timeout_ms;
	last_busy = rdtsc();
	if (sched_cfg.idle_timeout_ms)
		printk("sched: idle_timeout %u ms: every VM is stopped once no vCPU has run for that long\n",
		       sched_cfg.idle_timeout_ms);
	for (u32 i = 0; i < nr_cpus; i++)
		cpus[i].slice_timer.fn = slice_expired;
	if (!hv_timer_available())
		printk("sched: this CPU's LAPIC has no TSC-deadline mode: no time slices, and a halted vCPU's "
		       "guest timer fires only when something else wakes it\n");
	static const char *const y[] = { "ready", "preempted", "plain", "none" };
	printk("sched: policy %s, slice %u us (%llu TSC ticks), yield=%s ipi_yield=%s ple=%s ple_gap=%u ple_window=%u "
	       "ple_window_min=%u, block=%s, spread=%s\n",
	       sched_pol->name, sched_cfg.slice_us, (unsigned long long)slice_ticks, y[sched_cfg.yield],
	       sched_cfg.ipi_yield ? "on" : "off",
	       sched_cfg.ple_adaptive ? "adaptive" : "fixed", sched_cfg.ple_gap, sched_cfg.ple_window,
	       sched_cfg.ple_window_min, sched_cfg.block == BLOCK_WAKEUP ? "wakeup" : "fixed",
	       sched_cfg.spread || sched_cfg.block == BLOCK_FIXED ? "on" : "off");
}

bool sched_add_vcpu(struct vcpu *v, struct cpu *home, u64 affinity)
{
	v->cpu = home;
	v->affinity = affinity;
	v->ple_window = sched_cfg.ple_window;
	u32 n = 0;
	for (u32 i = 0; i < nr_cpus; i++)
		n += (affinity & BIT64(i)) && cpus[i].virt_on;
	v->migratable = n > 1;
	if (v->state == VCPU_RUNNABLE)
		enqueue(home, v, ENQ_WOKEN);
	return true;
}
