/* SPDX-License-Identifier: MIT */
/*
 * What sched.c shares with yield.c (directed yield on PAUSE-loop exits): the run-queue
 * policy and the queue operations. Not for use outside hv/sched/.
 */
#ifndef HV_SCHED_INTERNAL_H
#define HV_SCHED_INTERNAL_H

#include "hv/vm/vm.h"
#include "hv/host/cpu.h"

enum enq_how {
	ENQ_WOKEN,       /* new, woken from HLT, started by SIPI */
	ENQ_PREEMPTED,   /* its slice ended or it yielded */
	ENQ_MOVED,       /* the load balancer moved it from another CPU */
	ENQ_FRONT,       /* the target of a directed yield on this CPU: runs next */
};

struct sched_policy {
	const char *name;
	void (*enqueue)(struct cpu *c, struct vcpu *v, enum enq_how how);   /* rq_lock held */
	/* A directed yield from another CPU to v, queued on c: as early as fairness
	 * allows (rq_lock held; now = TSC). */
	void (*boost)(struct cpu *c, struct vcpu *v, u64 now);
	/* c's slice ended with vCPUs queued: does c->curr give way? */
	bool (*tick_preempt)(struct cpu *c, struct vcpu *curr, u64 now);
	/* v was just queued on c (woken): should it preempt c->curr now? */
	bool (*wake_preempt)(struct cpu *c, struct vcpu *v, u64 now);
};

/* The policy in force (sched_init). */
extern const struct sched_policy *sched_pol;

/* Queue v on c as the policy places it / take it off (rq_lock held; false: not queued). */
void sched_rq_add(struct cpu *c, struct vcpu *v, enum enq_how how);
bool sched_rq_del(struct cpu *c, struct vcpu *v);
/* May v run on d (affinity, sibling rule), and may it leave its CPU now (VMCS released)? */
bool sched_may_run_on(const struct vcpu *v, const struct cpu *d);
bool sched_may_move(struct vcpu *v);

static inline void count(u64 *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

#endif
