/* SPDX-License-Identifier: MIT */
/*
 * hv/sched/sched.pml: a Promela model of the posted-interrupt posting / blocking protocol
 * (arch/x86/vmx/posted.c, arch/x86/vmx/exit.c, hv/sched/sched.c), checked with SPIN by
 * tests/check-spin (part of `make test`). docs/MODEL.md explains it.
 *
 *   spin -a hv/sched/sched.pml && gcc -O2 -DNOFAIR -o pan pan.c && ./pan -a -m100000
 *   spin -DBUG_SKIP_CURRENT -DIRQPOST_MAX=1 -a hv/sched/sched.pml && gcc -O2 -o pan pan.c &&
 *       ./pan -a -f -m100000                               (a mutation: must fail)
 *   spin -DBUG_SKIP_CURRENT -DIRQPOST_MAX=1 -t -p sched.pml   (its trail, same -D flags)
 * With every bound at its largest the model is too big to check in one run (over 2e7
 * states); the defaults below are one configuration, and tests/check-spin runs
 * several (docs/MODEL.md).
 *
 * Two vCPUs (0, 1), two physical CPUs (0, 1), a remote poster per vCPU (another CPU
 * or the IOMMU: posts one device vector, optionally a second time), posts from
 * interrupt handlers on the CPUs themselves (e.g. the host timer standing in for a
 * halted vCPU's guest timer), and posts from the exit fastpath (the preemption timer).
 *
 * The model is sequentially consistent: every statement below is one atomic step,
 * and a step that the C code does with one locked instruction or a compare-exchange
 * is one d_step here. The C code gets the orders this relies on from SEQ_CST atomics
 * (the "full barrier" points named below). Weak-memory reorderings are not explored,
 * except the two named reorderings selectable as mutations.
 *
 * Properties:
 *   P1 (ltl p1, ./pan -a): a vector in a vCPU's PIR is eventually
 *      moved out of it (into the vIRR: an entry-path sync, the CPU's posted-interrupt
 *      processing in guest mode, or the HLT handler's look). A halted vCPU with a
 *      pending vector must therefore be woken and run; a running one must take it.
 *   P2 (assertion at every blocked-list add): no vCPU is on two blocked lists, nor
 *      twice on one.
 *
 * Disruptive guest/scheduler events are bounded (HLT, fastpath exits, other exits,
 * migrations, interrupt-handler posts), so that under weak fairness every run
 * eventually settles; time-slice preemption is not bounded but forced whenever
 * another vCPU waits for the CPU (the scheduler is fair).
 *
 * Mutations (each must make SPIN report an error; tests/check-spin):
 *   BUG_SKIP_CURRENT      the poster skips the notification/wakeup whenever the target
 *                         is the vCPU loaded on the poster's CPU, without the "in guest
 *                         mode" (= exit fastpath) condition (Linux fdba608f15e2)
 *   BUG_NO_ON_RECOMPUTE   clearing SN at schedule-in does not recompute ON from PIR
 *                         (Linux c112b5f50232)
 *   BUG_DOUBLE_ADD        the undo path of blocking leaves the vCPU on the blocked
 *                         list; the next block adds it again (Linux 8b306e2f3c41)
 *   BUG_MARK_BEFORE_CLI   interrupts are disabled only just before VM entry, after the
 *                         vCPU is marked IN_GUEST and PIR synced (posting protocol, first race)
 *   BUG_SYNC_BEFORE_MARK  PIR synced before the vCPU is marked IN_GUEST (posting protocol,
 *                         second race)
 *   BUG_PIR_BEFORE_SN_CLEAR  schedule-in reads PIR before the compare-exchange that
 *                         clears SN (what posted.h:pi_update did until 8486e85, found
 *                         by this model): a post in between sets PIR, sees SN and stops
 *
 * Variants of the protocol (not mutations):
 *   BLOCK_AS_SCHED_C      blocking in the order of sched.c:put_prev (descriptor and
 *                         list, then HALTED, then ON; a set ON wakes it through the
 *                         run queue): must pass
 *   BLOCK_FIXED           the block=fixed scheme (NV stays the VM's vector): fails when
 *                         two vCPUs of the VM share a CPU (docs/MODEL.md)
 *   IOMMU_POSTER          the remote posters are the VT-d unit (iommu_post: no lock, no
 *                         look at mode or state; with SECOND_POST the IRTE rewritten to
 *                         the other vCPU); IOMMU_URG: the IRTE's URG set
 *
 * Interrupts enabled/disabled on a CPU is its program counter: a CPU takes pending
 * interrupts only in its idle loop (and, with BUG_MARK_BEFORE_CLI, in the entry
 * window); everywhere else they stay pending (pend_posted, pend_wakeup).
 */

#define NVCPU 2
#define NCPU 2
#define NOCPU 2        /* "not a CPU": the remote poster; loaded[NOCPU] is always NOVCPU */
#define NOVCPU 2

/* vcpu->mode (hv/vm/vm.h) */
#define OUTSIDE 0
#define IN_GUEST 1
/* vcpu->state (hv/vm/vm.h) */
#define RUNNING 0
#define RUNNABLE 1
#define HALTED 2
/* descriptor NV */
#define NV_POSTED 0    /* VECTOR_POSTED (the VM's notification vector) */
#define NV_WAKEUP 1    /* VECTOR_WAKEUP */
/* NV of a blocked vCPU: the wakeup vector (block=wakeup), or, with BLOCK_FIXED (the
 * block=fixed scheme, hv/init/config.h), unchanged: the VM's own notification vector, whose
 * host handler is the wakeup handler (both vCPUs are in one VM here). */
#ifdef BLOCK_FIXED
#define NV_BLOCKED NV_POSTED
#else
#define NV_BLOCKED NV_WAKEUP
#endif
/* PIR bits: which source posted (the model's vectors) */
#define VEC_DEV 1      /* the remote poster's vector */
#define VEC_TMR 2      /* a local poster's vector (timer: fastpath or host-timer handler) */

/* Bounds on disruptive events (override with spin -DHALT_MAX=...). */
#ifndef HALT_MAX
#define HALT_MAX 2     /* HLTs, all vCPUs together (BUG_DOUBLE_ADD needs two) */
#endif
#ifndef FP_MAX
#define FP_MAX 1       /* fastpath exits (preemption timer), all vCPUs together */
#endif
#ifndef EXIT_MAX
#define EXIT_MAX 1     /* other exits (I/O, ...), all vCPUs together */
#endif
#ifndef MIG_MAX
#define MIG_MAX 1      /* migrations of a runnable vCPU to the other CPU */
#endif
#ifndef IRQPOST_MAX
#define IRQPOST_MAX 0  /* posts from an interrupt handler on CPU 0 or 1 */
#endif
#ifndef SECOND_POST
#define SECOND_POST 0  /* the remote poster may post its vector a second time (0/1) */
#endif

/* ---- the posted-interrupt descriptor, per vCPU (posted.h) ---- */
byte pir[NVCPU];       /* VEC_* bits */
bool on[NVCPU];        /* Outstanding Notification */
bool sn[NVCPU];        /* Suppress Notification */
bit  nv[NVCPU];        /* NV_POSTED / NV_WAKEUP */
byte ndst[NVCPU];      /* CPU */

/* ---- per vCPU ---- */
bit  mode[NVCPU];      /* OUTSIDE / IN_GUEST */
byte state[NVCPU];     /* RUNNING / RUNNABLE / HALTED */
byte where[NVCPU];     /* vcpu->cpu: the CPU it runs on, waits for, or is blocked on */

/* ---- per CPU ---- */
byte listed[NCPU * NVCPU];   /* listed[c*NVCPU+v]: times v is on c's blocked list */
bool pend_posted[NCPU];      /* a POSTED notification is pending (not yet taken) */
bool pend_wakeup[NCPU];      /* a WAKEUP interrupt is pending */
byte loaded[NCPU + 1];       /* cpu->vcpu: whose VMCS is current (kept after it blocks) */

/* ---- bounds used so far ---- */
byte halts, fastpaths, exits, migrations, irqposts;

#define LISTS(x) (listed[0 * NVCPU + (x)] + listed[1 * NVCPU + (x)])
#define RUNNABLE_ON(c, x) (state[x] == RUNNABLE && where[x] == (c))
#define OTHER(x) (1 - (x))

/*
 * The poster's elision test (posted.c): the target is the vCPU loaded on the poster's
 * CPU and in guest mode, which on that CPU can only be the exit fastpath (interrupts
 * are off from before the mark until VM entry). The mutation drops the mode test.
 */
#ifdef BUG_SKIP_CURRENT
#define ELIDE(t, me) (loaded[me] == (t))
#else
#define ELIDE(t, me) (loaded[me] == (t) && mode[t] == IN_GUEST)
#endif

/*
 * posted.c:vcpu_post_irq(t, vector): post vec to vCPU t from CPU me (NOCPU: a remote
 * poster, another CPU or the IOMMU).
 */
inline vcpu_post_irq(t, vec, me)
{
	pir[t] = pir[t] | vec;                     /* pi_test_and_set_pir (locked OR) */
	if
	:: sn[t]                                   /* pi_test_sn: suppressed, PIR only (VT-d) */
	:: else ->
		if                                     /* pi_test_and_set_on (locked): */
		:: on[t]                               /*   was set: a notification or sync is due */
		:: d_step { !on[t] -> on[t] = 1 };     /*   was clear: this poster notifies */
			if                                 /* v->mode (then me->vcpu == v && elide) */
			:: ELIDE(t, me)                    /* the fastpath: its entry tail syncs (notification elision) */
			:: d_step { !ELIDE(t, me) && mode[t] == IN_GUEST ->
				pend_posted[where[t]] = 1 }    /* lapic_send_ipi(v->cpu->apic_id, nv) */
			:: !ELIDE(t, me) && mode[t] != IN_GUEST ->
				if
				:: state[t] == HALTED ->       /* v->state == VCPU_HALTED: */
					d_step {                   /* NV and NDST read together; NV to NDST */
						if
						:: nv[t] == NV_POSTED -> pend_posted[ndst[t]] = 1
						:: else -> pend_wakeup[ndst[t]] = 1
						fi
					}
				:: else                        /* outside guest mode, or runnable: nothing */
				fi
			fi
		fi
	fi
}

/*
 * The VT-d unit posting through a posted IRTE (IOMMU_POSTER; hv/pci/passthru.c, VT-d
 * specification "Posted Interrupts"): it takes no hypervisor lock and reads neither the
 * vCPU's mode nor its state. PIR first (locked), then, unless SN is set and the IRTE's
 * URG clear (IOMMU_URG sets it), ON (locked); if ON was clear, NV and NDST are read
 * together (one 64-bit read) and NV is sent to NDST, wherever the vCPU is.
 */
inline iommu_post(t, vec)
{
	pir[t] = pir[t] | vec;
	if
#ifndef IOMMU_URG
	:: sn[t]
#endif
	:: else ->
		if
		:: on[t]
		:: d_step { !on[t] -> on[t] = 1 };
			d_step {
				if
				:: nv[t] == NV_POSTED -> pend_posted[ndst[t]] = 1
				:: else -> pend_wakeup[ndst[t]] = 1
				fi
			}
		fi
	fi
}

/*
 * sched.c:sched_wakeup_vector on CPU c (host_irq, VECTOR_WAKEUP): every vCPU on c's
 * blocked list with ON set: off the list, NV := POSTED (NDST kept), RUNNABLE. The
 * guard is the pi_test_on under blk_lock together with cas_state(HALTED, RUNNABLE);
 * RUNNABLE (= on a run queue, enqueue) comes last as in finish_wake.
 */
inline wake_one(c, x)
{
	if
	:: listed[c * NVCPU + x] > 0 && on[x] && state[x] == HALTED ->
		listed[c * NVCPU + x]--;               /* blocked_unlink */
		nv[x] = NV_POSTED;                     /* pi_update(.., nv, pi_ndst) keeps ON, NDST */
		state[x] = RUNNABLE                    /* enqueue(wake_cpu(v), v) */
	:: else 
	fi
}

/* One step: it touches only vCPUs with ON set (a poster stops at ON) that are halted
 * (no CPU touches their descriptor), and c's list (no other CPU reads it). */
inline wakeup_handler(c)
{
	d_step {
		pend_wakeup[c] -> pend_wakeup[c] = 0;
		wake_one(c, 0);
		wake_one(c, 1)
	}
}

/* The notification vector taken in the host (the target left guest mode first):
 * host_irq(VECTOR_POSTED) does nothing, the entry path syncs PIR; with BLOCK_FIXED it
 * is the VM's vector, whose handler is sched_wakeup_vector. */
inline posted_in_host(c)
{
	d_step {
		pend_posted[c] -> pend_posted[c] = 0;
#ifdef BLOCK_FIXED
		wake_one(c, 0);
		wake_one(c, 1)
#endif
	}
}

/* A post from an interrupt handler on CPU c (interrupts on: only when idle, unless
 * BUG_MARK_BEFORE_CLI) to a vCPU of this CPU: e.g. the host timer that stands in for a
 * halted vCPU's guest timer on the CPU it blocked on (sched.c:put_prev arms it,
 * hv_timer -> vlapic_timer_expired -> vcpu_post_irq). */
inline irq_post(c)
{
	atomic {
		irqposts < IRQPOST_MAX && (where[0] == c || where[1] == c) -> irqposts++;
		if
		:: where[0] == c -> t = 0
		:: where[1] == c -> t = 1
		fi
	};
	vcpu_post_irq(t, VEC_TMR, c);
	t = 0
}

/* exit.c:vmx_sync_pir (entry_tail): if ON, clear it and move PIR into the vIRR. */
inline sync_pir(x)
{
	if
	:: d_step { on[x] -> on[x] = 0 };          /* pi_test_and_clear_on */
		pir[x] = 0                             /* pi_harvest (exchange) */
	:: else 
	fi
}

/* A migration (sched.c:steal by an idle CPU c): a runnable vCPU of the other CPU's
 * queue moves here; its VMCS was cleared when it left (vmx_vcpu_put). */
inline steal(c, x)
{
	migrations++;
	if
	:: loaded[where[x]] == x -> loaded[where[x]] = NOVCPU
	:: else 
	fi;
	where[x] = c
}

proctype cpu(byte c)
{
	byte v = NOVCPU;   /* the vCPU this CPU is running (cpu->curr) */
	byte prev = NOVCPU;   /* the vCPU just preempted (FIFO: it goes behind the other) */
	byte t;
	bool slice;

pick:
	/* sched.c:cpu_run_loop -> pick_next, interrupts off. The run queue is FIFO: a
	 * vCPU just preempted (prev) goes behind the one that waited. */
	if
	:: atomic { RUNNABLE_ON(c, 0) && (prev != 0 || !RUNNABLE_ON(c, 1)) ->
		v = 0; prev = NOVCPU; state[v] = RUNNING; loaded[c] = v; goto schedin }
	:: atomic { RUNNABLE_ON(c, 1) && (prev != 1 || !RUNNABLE_ON(c, 0)) ->
		v = 1; prev = NOVCPU; state[v] = RUNNING; loaded[c] = v; goto schedin }
	:: else -> prev = NOVCPU; goto idle
	fi;

idle:
	/* cpu_run_loop: "sti; hlt; cli" with nothing to run; interrupts on here only */
end_idle:
	do
	:: wakeup_handler(c)                       /* host_irq(VECTOR_WAKEUP) */
	:: posted_in_host(c)
	:: irq_post(c)
	:: atomic { migrations < MIG_MAX && state[0] == RUNNABLE && where[0] != c -> steal(c, 0) }
	:: atomic { migrations < MIG_MAX && state[1] == RUNNABLE && where[1] != c -> steal(c, 1) }
	:: atomic { RUNNABLE_ON(c, 0) -> v = 0; state[v] = RUNNING; loaded[c] = v; goto schedin }
	:: atomic { RUNNABLE_ON(c, 1) -> v = 1; state[v] = RUNNING; loaded[c] = v; goto schedin }
	od;

schedin:
	/* sched.c:switch_in: pi_update(v->pi, sn=false, nv, ndst=this CPU) */
#ifdef BUG_PIR_BEFORE_SN_CLEAR
	/* as posted.h:pi_update did it before 8486e85: PIR read first, then the compare-exchange */
	t = (pir[v] != 0);
	d_step {                                   /* the compare-exchange: ON from that read */
		if
		:: t && !on[v] -> on[v] = 1
		:: else 
		fi;
		sn[v] = 0; nv[v] = NV_POSTED; ndst[v] = c
	};
	t = 0;
#else
	atomic { sn[v] = 0; nv[v] = NV_POSTED; ndst[v] = c };   /* compare-exchange keeping ON */
#ifndef BUG_NO_ON_RECOMPUTE
	/* full barrier; then ON recomputed from PIR: set if PIR is non-empty */
	if
	:: d_step { pir[v] != 0 && !on[v] -> on[v] = 1 }
	:: else 
	fi;
#endif
#endif

entry:
	/* exit.c:vmx_prepare_entry (interrupts are off: irq_disable() first) */
#if defined(BUG_SYNC_BEFORE_MARK)
	sync_pir(v);                               /* entry_tail's sync, too early */
	mode[v] = IN_GUEST;
	goto vmentry;
#elif defined(BUG_MARK_BEFORE_CLI)
	mode[v] = IN_GUEST;                        /* interrupts still on */
	sync_pir(v);
	/* the CPU may take pending interrupts here */
	do
	:: wakeup_handler(c)
	:: posted_in_host(c)
	:: irq_post(c)
	:: break
	od;
	/* irq_disable(), too late */
	goto vmentry;
#else
	mode[v] = IN_GUEST;                        /* __atomic_exchange_n: a full barrier */
#endif
tail:
	/* exit.c:entry_tail: if (pi_test_on) vmx_sync_pir */
	sync_pir(v);
vmentry:
	/* VM entry: a POSTED notification pending (interrupts were off) is recognised in
	 * guest mode and processed by the CPU: ON cleared, PIR -> vIRR */
	atomic {
		if
		:: pend_posted[c] -> pend_posted[c] = 0; on[v] = 0; pir[v] = 0
		:: else 
		fi
	};

	/* ---- in guest mode (with nothing left to do, it may stay there: an end state) ---- */
end_guest:
	do
	:: pend_posted[c] ->                       /* "Posted-Interrupt Processing" */
		d_step { pend_posted[c] = 0; on[v] = 0; pir[v] = 0 }
	/* (a VM exit and vmx_handle_exit's mode := OUTSIDE are one step: a poster that
	 * read IN_GUEST just before sends a notification that stays pending, which its
	 * separate read-and-send steps already cover) */
	:: d_step { !pend_posted[c] && pend_wakeup[c] -> mode[v] = OUTSIDE };
		/* external-interrupt exit; exit.c:handle_external_interrupt -> host_irq */
		wakeup_handler(c);
		goto exited
	:: d_step { !pend_posted[c] && !pend_wakeup[c] && halts < HALT_MAX -> halts++; mode[v] = OUTSIDE };
		goto hlt
	:: d_step { !pend_posted[c] && !pend_wakeup[c] && fastpaths < FP_MAX -> fastpaths++ };
		goto fastpath                          /* mode stays IN_GUEST */
	:: d_step { !pend_posted[c] && !pend_wakeup[c] && exits < EXIT_MAX -> exits++; mode[v] = OUTSIDE };
		goto exited                            /* any other exit (I/O, ...) */
	:: d_step { !pend_posted[c] && !pend_wakeup[c] && RUNNABLE_ON(c, OTHER(v)) -> slice = 1; mode[v] = OUTSIDE };
		goto exited                            /* the slice timer (host interrupt) */
	od;

fastpath:
	/* exit.c:vmx_handle_exit fastpath: still IN_GUEST, interrupts off; the timer
	 * expiry posts to this very vCPU (vlapic_timer_expired -> vcpu_post_irq) */
	vcpu_post_irq(v, VEC_TMR, c);
	goto tail;

exited:
	/* after an exit handler: re-enter, or (sched.c:slice_expired / need_resched) leave
	 * the vCPU for the other one waiting here; a slice exit must leave it */
	if
	:: d_step { RUNNABLE_ON(c, OTHER(v)) -> slice = 0 }; goto preempt
	:: d_step { !(slice && RUNNABLE_ON(c, OTHER(v))) -> slice = 0 }; goto entry
	fi;

preempt:
	/* sched.c:put_prev, involuntary: pi_update(sn=true) (compare-exchange keeping ON),
	 * then onto the run queue. One step: a poster sees SN set or the state before. */
	atomic { sn[v] = 1; state[v] = RUNNABLE; prev = v; v = NOVCPU };
	goto pick;

hlt:
	/* exit.c:handle_hlt: vcpu_halt_should_wake: if ON, vmx_sync_pir; something deliverable: resume */
	if
	:: d_step { on[v] -> on[v] = 0 };
		if
		:: d_step { pir[v] != 0 -> pir[v] = 0 }; goto entry
		:: else 
		fi
	:: else 
	fi;
#ifdef BLOCK_AS_SCHED_C
	/* The order of sched.c:put_prev in the tree today (a variant that must pass too):
	 * descriptor and list first, then HALTED (cas_state, a full barrier), then ON
	 * again; if set, vcpu_wake -> finish_wake: off the list, NV back, onto the run
	 * queue (one step: ON is set, every poster stops there). */
	d_step {
		nv[v] = NV_BLOCKED; ndst[v] = c;
		listed[c * NVCPU + v]++;
		assert(LISTS(v) <= 1)                  /* P2 */
	};
	state[v] = HALTED;
	if
	:: d_step { on[v] ->
#ifndef BUG_DOUBLE_ADD
		listed[c * NVCPU + v]--;
#endif
		nv[v] = NV_POSTED;
		state[v] = RUNNABLE;
		v = NOVCPU };
		goto pick
	:: else ->
		v = NOVCPU;
		goto pick
	fi;
#endif
	/* block (sched.c:put_prev with want_block), interrupts off */
	state[v] = HALTED;
	d_step {
		nv[v] = NV_BLOCKED; ndst[v] = c;        /* pi_update: compare-exchange keeping ON/PIR */
		/* onto c's blocked list, under c->blk_lock (no other CPU reads it: same step) */
		listed[c * NVCPU + v]++;
		assert(LISTS(v) <= 1)                  /* P2 */
	};
	/* full barrier; then look at ON again */
	if
	:: d_step { on[v] ->
		/* undo: off the list, NV back, keep running (one step: ON is set, so every
		 * poster stops before looking at NV or the state) */
#ifndef BUG_DOUBLE_ADD
		listed[c * NVCPU + v]--;
#endif
		nv[v] = NV_POSTED;
		state[v] = RUNNING };
		goto entry
	:: else ->
		v = NOVCPU;
		goto pick
	fi
}

proctype poster(byte t)
{
#ifdef IOMMU_POSTER
	/* the device's MSI through a posted IRTE naming vCPU t's descriptor; with
	 * SECOND_POST the guest reprogrammed the MSI (IRTE rewritten to the other vCPU's
	 * descriptor, interrupt entry cache invalidated) and the device signals again */
	iommu_post(t, VEC_DEV);
#if SECOND_POST
	if
	:: iommu_post(OTHER(t), VEC_DEV)
	:: skip
	fi
#endif
#else
	vcpu_post_irq(t, VEC_DEV, NOCPU);
#if SECOND_POST
	if
	:: vcpu_post_irq(t, VEC_DEV, NOCPU)
	:: skip
	fi
#endif
#endif
}

init
{
	atomic {
		loaded[0] = NOVCPU; loaded[1] = NOVCPU; loaded[NOCPU] = NOVCPU;
		/* both vCPUs runnable, each on either CPU */
		/* vCPU 0 starts on CPU 0 (symmetry), vCPU 1 on either */
		where[0] = 0;
		if :: where[1] = 0 :: where[1] = 1 fi;
		state[0] = RUNNABLE; state[1] = RUNNABLE;
		ndst[0] = where[0]; ndst[1] = where[1];
		run cpu(0); run cpu(1);
		run poster(0); run poster(1)
	}
}

/* P1: a posted vector does not stay in PIR forever. */
ltl p1 { [] ((pir[0] != 0 -> <> (pir[0] == 0)) && (pir[1] != 0 -> <> (pir[1] == 0))) }
