/* SPDX-License-Identifier: MIT */
/*
 * Directed yield (hv/sched/sched.h): what a PAUSE-loop exit does under yield=ready,
 * preempted or plain, the adaptive PAUSE-loop window (ple=adaptive), and ipi_yield=on.
 * The run queues and their policy are sched.c's (sched_internal.h).
 */
#include "hv/sched/sched.h"
#include "hv/sched/sched_internal.h"
#include "hv/host/vectors.h"
#include "hv/init/config.h"
#include "hv/host/time.h"
#include "arch/x86/x86.h"
#include "hv/trace/trace.h"

bool sched_pause_loop_exiting(const struct vm *vm, u32 *gap, u32 *window)
{
	*gap = sched_cfg.ple_gap;
	*window = sched_cfg.ple_window;
	/* Directed yield (ready, preempted) looks for a target among the spinner's own
	 * VM's vCPUs: a VM of one vCPU has none, so each of its PAUSE-loop exits would be
	 * a wasted yield (about 13,000 in a Linux boot). yield=plain gives the CPU to
	 * whichever vCPU waits here, of any VM: kept. */
	if (vm->cfg->vcpus == 1 && sched_cfg.yield != YIELD_PLAIN)
		return false;
	return sched_cfg.yield != YIELD_NONE;
}

/* Round robin from the last boosted vCPU over the others of the same VM. */
static struct vcpu *yield_candidate(struct vcpu *me, bool *wasted)
{
	struct vm *vm = me->vm;
	u32 n = vm->nr_vcpus;
	u32 start = vm->yield_rr;
	for (u32 k = 1; k <= n; k++) {
		u32 i = (start + k) % n;
		struct vcpu *t = vm->vcpus[i];
		if (t == me)
			continue;
		bool eligible = sched_cfg.yield == YIELD_READY ? t->ready : t->preempted;
		if (!eligible)
			continue;
		vm->yield_rr = i;
		*wasted = t->state != VCPU_RUNNABLE;   /* ran or blocked since it was marked */
		return t;
	}
	*wasted = true;
	return NULL;
}

/* What the yield of a PAUSE-loop exit did. */
enum yield_result {
	PY_WASTED,    /* nothing to yield to */
	PY_REMOTE,    /* boosted a target on another CPU; this vCPU keeps its CPU */
	PY_GAVE_CPU,  /* this CPU goes to another vCPU */
};

static enum yield_result pause_yield(struct vcpu *v, struct cpu *c)
{
	if (sched_cfg.yield == YIELD_PLAIN) {
		if (!c->rq_head)
			return PY_WASTED;
		c->need_resched = true;
		return PY_GAVE_CPU;
	}
	bool wasted;
	struct vcpu *t = yield_candidate(v, &wasted);
	if (!t || wasted)
		return PY_WASTED;
	/* The spinning vCPU gives its CPU to the target: the target goes to the front
	 * of this CPU's run queue (pulled from another CPU's queue when it may run
	 * here: VMCS clear, allowed here, no sibling rule against it), and this vCPU is
	 * re-queued behind it. A target that cannot move is boosted in its own queue
	 * (sched_pol->boost: ahead of all that waited less than a slice) and, when that
	 * puts it at the head, preempts the vCPU running there unless that one was
	 * switched in less than 1/32 slice ago; the spinner keeps its CPU (the target
	 * may run in parallel). Neither can starve a vCPU: a boost never passes one
	 * that waited a slice, and a preempted one keeps its place by the sched_pol. */
	struct cpu *d = t->rq_cpu;
	if (!d)
		return PY_WASTED;
	bool pull = d != c && sched_may_run_on(t, c) && sched_may_move(t);
	u64 f = spin_lock_irqsave(&d->rq_lock);
	bool moved = t->rq_cpu == d && sched_rq_del(d, t);
	bool kick = false;
	if (moved && !(d == c || pull)) {
		u64 now = rdtsc();
		t->boosted = true;
		sched_pol->boost(d, t, now);
		d->nr_queued++;   /* sched_rq_del took it off */
		/* At the head now: preempt d's current vCPU unless it was switched in less
		 * than 1/32 slice ago (so a stream of boosts cannot keep it off the CPU). */
		struct vcpu *cur = d->curr;
		kick = d->rq_head == t && cur && now - cur->run_since >= sched_slice_ticks() / 32;
	}
	spin_unlock_irqrestore(&d->rq_lock, f);
	if (!moved) {
		TRACE_YIELD(v, t, false);
		return PY_WASTED;
	}
	TRACE_YIELD(v, t, true);
	if (kick) {
		TRACE_YIELD_KICK(v);
		d->need_resched = true;
		count(&v->ctr.remote_boosts);
		lapic_send_ipi(d->apic_id, VECTOR_KICK);
	}
	if (d == c || pull) {
		if (d != c)
			t->cpu = c;
		t->boosted = true;
		f = spin_lock_irqsave(&c->rq_lock);
		sched_rq_add(c, t, ENQ_FRONT);
		spin_unlock_irqrestore(&c->rq_lock, f);
		c->need_resched = true;
		return PY_GAVE_CPU;
	}
	return PY_REMOTE;
}

/*
 * ple=adaptive: each vCPU's PAUSE-loop window moves between ple_window_min and
 * ple_window by halves and doublings. A yield that gave this CPU to another vCPU halves
 * it: the vCPU spins on a CPU shared with the one it waits for, and every tick it
 * spins before exiting delays that one. A wasted yield doubles it: the vCPU waits for
 * one that runs elsewhere (or for nobody), and the exit only cost time. A boost of a
 * target on another CPU leaves it: the spinner keeps its CPU either way. The VMX layer
 * writes the VMCS's PLE_Window when it changed (Intel SDM Vol. 3C, "VM-Execution
 * Control Fields", PLE_Gap/PLE_Window: a PAUSE more than PLE_Gap ticks after the
 * previous one starts a new loop; a loop longer than PLE_Window exits).
 */
static void ple_adapt(struct vcpu *v, enum yield_result r)
{
	u32 w = v->ple_window;
	if (r == PY_GAVE_CPU)
		w = w / 2 < sched_cfg.ple_window_min ? sched_cfg.ple_window_min : w / 2;
	else if (r == PY_WASTED)
		w = w > sched_cfg.ple_window / 2 ? sched_cfg.ple_window : w * 2;
	v->ple_window = w;
}

enum exit_action sched_pause_exit(struct vcpu *v)
{
	count(&v->ctr.ple_exits);
	count(&v->ctr.yields);
	enum yield_result r = pause_yield(v, this_cpu());
	if (r == PY_WASTED)
		count(&v->ctr.yields_wasted);
	if (sched_cfg.ple_adaptive)
		ple_adapt(v, r);
	return EXIT_RESUME;
}

/*
 * ipi_yield=on: a vCPU that sends a fixed or lowest-priority IPI to a vCPU of its VM
 * waiting on this CPU's run queue gives the CPU to it at once, as its PAUSE-loop exit would after the
 * window: the sender usually waits for the target's answer (smp_call_function's
 * wait), and the target cannot answer before it runs. The target is placed as a
 * directed-yield boost (sched_pol->boost: ahead of every vCPU that waited less than a
 * slice, behind those that waited longer, so the pair cannot starve a third vCPU) and
 * takes the CPU when that puts it at the head. A target queued on another CPU is
 * left alone: that CPU runs it. Counted as a directed yield (never wasted).
 */
void sched_ipi_sent(struct vcpu *src, struct vcpu *t)
{
	struct cpu *c = this_cpu();
	if (!sched_cfg.ipi_yield || sched_cfg.yield == YIELD_NONE || t->rq_cpu != c || t == src)
		return;
	u64 f = spin_lock_irqsave(&c->rq_lock);
	bool moved = t->rq_cpu == c && t->state == VCPU_RUNNABLE && sched_rq_del(c, t);
	if (moved) {
		t->boosted = true;
		sched_pol->boost(c, t, rdtsc());
		c->nr_queued++;   /* sched_rq_del took it off */
		if (c->rq_head == t)
			c->need_resched = true;
	}
	spin_unlock_irqrestore(&c->rq_lock, f);
	if (moved)
		count(&src->ctr.yields);
}
