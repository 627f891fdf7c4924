/* SPDX-License-Identifier: MIT */
/*
 * overcommit: the workload of directed yield to "ready" vCPUs) in miniature.
 * The seed measured ebizzy -M in VMs whose vCPUs outnumber the CPUs; its profile was
 * dominated by smp_call_function_many(), a sender that IPIs the other vCPUs and spins
 * until each has run the call, so a sender whose target is not running wastes its slice
 * unless the hypervisor yields to that target.
 *
 * Every vCPU of the VM (smp_init(), as many as HC_INFO_NR_VCPUS says) loops on rounds:
 *   (a) "call": bump its call sequence, send the fixed IPI VEC_CALL to every other vCPU
 *       (ICR shorthand all-excluding-self, or one IPI per target with ipi=each) and wait,
 *       PAUSE-spinning with interrupts enabled, until every target's handler has acked
 *       that sequence in shared memory;
 *   (b) "lock": take a test-and-set spinlock (xchg, PAUSE-spinning on a plain read while
 *       it is held), run a critical section of a few hundred instructions on shared data
 *       (cs= iterations of a multiply-add over 32 words), release it.
 * A round is counted once both are done. Interrupts stay enabled throughout (as in
 * Linux, where smp_call_function_many() must not run with IRQs off: two senders would
 * wait for each other), so a vCPU acks the others' calls while it waits, holds the lock
 * or has finished.
 *
 * The handler acks every sender whose sequence it has not acked yet, then sends EOI: an
 * IPI that arrives while the handler runs sets the IRR bit again (the IRR holds one bit
 * per vector, Intel SDM Vol. 3A, "Interrupt, Task, and Processor Priority"), so merged
 * IPIs are never lost, and a sender's store of its sequence precedes its ICR write.
 *
 * halt: a wait spins for spin= ticks, then halts in STI;HLT (with `sleeping` set and the
 * condition re-checked after an MFENCE, interrupts off), and whoever changes what a vCPU
 * waits for checks `sleeping` after its own MFENCE and wakes it with the fixed IPI
 * VEC_WAKE: an acking handler wakes the sender, an unlock wakes the lock's waiters, the
 * last vCPU to finish wakes the others. The call IPIs themselves wake halted receivers.
 * This is the halt-blocking and wakeup path of the hypervisor, with the Linux patch's second
 * case (a woken vCPU is a good yield candidate) in it.
 *
 * think=TICKS: the Linux patch's own situation (ebizzy under Linux). Every wait PAUSE-spins as
 * in the default mode (the sender's wait for acks never halts, like csd_lock_wait()),
 * and after each round the vCPU goes idle for TICKS: STI;HLT in a loop, with this CPU's
 * LAPIC timer (TSC-deadline where offered, else one-shot, as for the watchdog) armed
 * once at the end of the period. A call IPI that arrives while it is idle is acked by
 * the handler as always (counted as calls_idle), and the vCPU halts again until its
 * deadline. So a sender's targets are often halted, woken by the call IPI itself (the
 * hypervisor marks them `ready`, not `preempted`), while the sender spins into
 * PAUSE-loop exits. Each period is drawn uniformly from TICKS * (1 +- jitter/100)
 * (a per-vCPU xorshift sequence seeded from the VM name, the vCPU number and seed=): with
 * equal periods the vCPUs of a VM lock into one phase for the whole run, either
 * thinking together (calls find their targets running) or alternating (calls find
 * them halted), and the result measures which phase the start happened to pick.
 * Think periods end at the run's deadline at the latest; nothing else waits for them,
 * so they need no other bound.
 *
 * Every wait is bounded in TSC ticks (timeout=): a lost IPI or a vCPU that never runs
 * again fails the run instead of hanging it. A halted wait also arms this CPU's LAPIC
 * timer (TSC-deadline mode where CPUID.1:ECX[24] offers it, else one-shot) at its
 * deadline, so the HLT ends by then even if no IPI comes; a halted wait that only the
 * watchdog ended fails even if its condition was met by then (the wakeup was lost). A
 * failed wait stops every vCPU (abort flag).
 *
 * The run: all vCPUs check in, then the BSP sets the deadline (now + duration) and lets
 * them go; each vCPU starts rounds until the deadline, then waits (still acking) until
 * every vCPU has finished. The BSP then prints
 *
 *   overcommit: vm=NAME vcpus=N ticks=T rounds=R rounds_per_1e9=X start=S run_ticks=C
 *   overcommit: vcpu=i rounds=r max_round_ticks=m ack_wait_ticks=.. lock_wait_ticks=..
 *   overcommit: vcpu=i irqs calls_rx=.. wakes_tx=.. wakes_rx=.. halts=.. watchdogs=..
 *               calls_idle=.. think_timers=..
 *   overcommit: vcpu=i sched ctx_switches=.. blocks=.. wakeups=.. wakeup_ticks=..
 *               runnable_ticks=.. max_runnable_ticks=..
 *   overcommit: vcpu=i sched yields=.. yields_wasted=.. preemptions=.. ple_exits=..
 *               wake_vector=..
 *   overcommit: vcpu=i sched run_ticks=.. balanced=..
 *
 * S is the TSC at the start; T runs from there to the end of the last round of any
 * vCPU; R sums the vCPUs' rounds; X = R * 10^9 / T; C sums the vCPUs' run_ticks (the
 * VM's CPU time over the measured interval; "n/a" if any vCPU's is). ack_wait/lock_wait
 * are the ticks spent in (a) and in taking the lock, summed over rounds. The irqs line
 * counts VEC_CALL handled, VEC_WAKE sent and handled, halts (in halted waits, or in
 * think periods), watchdog expiries, VEC_CALL handled while idle in a think period, and
 * expiries of the think timer, of that vCPU. The sched lines (three: the
 * hypervisor's console breaks a VM's lines at 200 characters) are HC_VCPU_COUNTER
 * (hv/vm/hypercall.h) per vCPU: the difference between a read just before the start and
 * one after the end, except max_runnable_ticks (the value at the end); "n/a" where the
 * hypervisor returns a negative value (counter not implemented) or without the
 * hypervisor.
 *
 * Results (report()): all expected vCPUs started; per vCPU, at least one round (a hang
 * or starvation fails; min_rounds= raises the bar); no wait timed out; the lock
 * excluded (a count under the lock equals the rounds, no overlap seen); with fair=F,
 * max rounds <= F * min rounds.
 *
 * Command line:
 *   duration=TICKS  run length in TSC ticks (default 200000000)
 *   start=TSC       begin no earlier than this absolute TSC value (default 0: at once).
 *                   The hypervisor does not offset the TSC, so VMs given the same
 *                   start= measure the same interval (tools/bench-overcommit)
 *   timeout=TICKS   bound of every wait (default 2000000000); the final wait for the
 *                   other vCPUs to finish gets 3x, the start 2x
 *   halt            waits spin then halt (see above); spin=TICKS (default 1000)
 *   think[=TICKS]   idle (STI;HLT) for TICKS (default 20000) after each round, waits
 *                   spin (see above); off without it; not together with halt
 *   jitter=PCT      think periods vary uniformly by +-PCT% of TICKS (default 50; 0-100)
 *   seed=N          another sample of the same workload (default 0): mixed into the
 *                   jitter sequences, and with N != 0 each vCPU PAUSE-spins a pseudo-
 *                   random 0-19999 ticks before its first round, so the vCPUs start in
 *                   other phases (Bochs is deterministic: without it, one setting gives
 *                   one interleaving; tools/bench-overcommit --repeat uses it)
 *   ipi=others|each shorthand all-excluding-self (default) or one IPI per target
 *   cs=N            critical-section iterations (default 40: about 300 instructions)
 *   fair=F          fail unless max rounds <= F * min rounds (decimal, e.g. 1.5;
 *                   default 0: not checked)
 *   min_rounds=N    fail a vCPU that completed fewer rounds (default 1)
 *   mode=xapic|x2apic  APIC mode (default xapic)
 *   watchdog=oneshot   bound halted waits with the LAPIC one-shot timer even where
 *                   TSC-deadline mode exists
 *   name=NAME       the VM name to print (default overcommit)
 *   cpus=N, tsc_hz=N, nohv   as for every guest using smp_init()
 */
#include "apic.h"
#include "smp.h"

#define VEC_CALL     0x61   /* "call function": ack the senders' rounds */
#define VEC_WAKE     0x62   /* wakes a vCPU halted in a wait; nothing else */
#define VEC_WATCHDOG 0x63   /* LAPIC timer bounding a halted wait */

/*
 * `think` without a value. With 2 VMs of 2 vCPUs on 2 CPUs under Bochs (50M-tick runs,
 * yield=ready, jitter 50%) think=2000/5000/10000/20000/50000 found the target idle
 * in 44/51/53/69/87% of the calls, PAUSE-loop exits in 14/73/79/66/62% of the rounds,
 * and each VM on 0.91/0.78/0.65/0.49/0.27 CPUs (run_ticks): 20000 is the lowest of
 * these at which calls usually find their target halted, with PAUSE-loop exits in most
 * rounds and the CPUs still half busy.
 */
#define THINK_DEFAULT 20000

#define CS_WORDS 32
#define NO_OWNER 0xffffffffu

/* Per vCPU; each in its own cache lines. */
struct vstate {
	volatile u32 req;              /* this vCPU's call sequence (written by itself) */
	volatile u32 sleeping;         /* halted in a wait: wake it after a change */
	volatile u32 ack[MAX_CPUS];    /* ack[s]: the last sequence of sender s acked here */
	volatile u32 arrived, finished;
	volatile u32 thinking;         /* idle in a think period (its own handlers read it) */
	u32 rounds, halts, calls_rx, wakes_tx, wakes_rx, watchdogs;
	u32 calls_idle;                /* VEC_CALL handled while thinking */
	volatile u32 think_timers;     /* think periods' timer expiries */
	u64 max_round, ack_wait, lock_wait;
	u64 last_end;
	u64 rng;                       /* xorshift64 state: think jitter, seed= phase */
	/* the first failed wait */
	const char *fail;              /* NULL: none; else what it waited for */
	const char *fail_how;
	u32 fail_round, fail_missing;  /* round; bit mask of vCPUs that had not acked */
	u64 fail_ticks;
} __attribute__((aligned(64)));

static struct vstate vs[MAX_CPUS];

static struct {
	volatile u32 locked;           /* the test-and-set lock */
	u32 pad[15];
	volatile u32 owner;            /* under the lock: who is in the critical section */
	volatile u32 overlaps;         /* times the critical section saw another owner */
	volatile u64 count;            /* rounds' critical sections */
	volatile u64 data[CS_WORDS];
} __attribute__((aligned(64))) shared = { .owner = NO_OWNER };

static unsigned ncpus;
static bool halt_mode, ipi_each, use_tscdl, nohv;
static u64 duration, timeout, spin_ticks, cs_iters, start_at, think_ticks, jitter_pct,
	   seed, tsc_per_apic_tick = 1;
static volatile u32 go, abort_run;
static volatile u64 start_tsc, deadline_tsc;

static const struct {
	u32 id;
	const char *name;
} sched_ctrs[] = {
	{ HC_CTR_CTX_SWITCHES, "ctx_switches" },
	{ HC_CTR_BLOCKS, "blocks" },
	{ HC_CTR_WAKEUPS, "wakeups" },
	{ HC_CTR_WAKEUP_TICKS, "wakeup_ticks" },
	{ HC_CTR_RUNNABLE_TICKS, "runnable_ticks" },
	{ HC_CTR_MAX_RUNNABLE_TICKS, "max_runnable_ticks" },
	{ HC_CTR_YIELDS, "yields" },
	{ HC_CTR_YIELDS_WASTED, "yields_wasted" },
	{ HC_CTR_PREEMPTIONS, "preemptions" },
	{ HC_CTR_PLE_EXITS, "ple_exits" },
	{ HC_CTR_WAKE_VECTOR, "wake_vector" },
	{ HC_CTR_RUN_TICKS, "run_ticks" },
	{ HC_CTR_BALANCED, "balanced" },
};
/* The sched lines end after these (the console breaks lines at 200 characters). */
#define SCHED_LINE_ENDS(id) \
	((id) == HC_CTR_MAX_RUNNABLE_TICKS || (id) == HC_CTR_WAKE_VECTOR)
#define NR_SCHED_CTRS ARRAY_SIZE(sched_ctrs)
static long ctr_start[MAX_CPUS][NR_SCHED_CTRS];

/* ---- waking and waiting --------------------------------------------------------------- */

static void wake(unsigned t)
{
	apic_send_ipi(percpu[t].apic_id, VEC_WAKE);
	vs[smp_id()].wakes_tx++;
}

/* After a change others may wait for (and its MFENCE): wake those halted. */
static void wake_sleepers(void)
{
	unsigned me = smp_id();

	if (!halt_mode)
		return;
	for (unsigned t = 0; t < ncpus; t++)
		if (t != me && vs[t].sleeping)
			wake(t);
}

static void call_handler(struct ex_regs *r)
{
	unsigned me = smp_id();
	struct vstate *m = &vs[me];

	(void)r;
	m->calls_rx++;
	if (m->thinking)
		m->calls_idle++;
	for (unsigned s = 0; s < ncpus; s++) {
		u32 q = vs[s].req;

		if (s == me || m->ack[s] == q)
			continue;
		m->ack[s] = q;
		if (halt_mode) {
			mfence();
			if (vs[s].sleeping)
				wake(s);
		}
	}
	apic_eoi();
}

static void wake_handler(struct ex_regs *r)
{
	(void)r;
	vs[smp_id()].wakes_rx++;
	apic_eoi();
}

/* In think mode waits never arm the timer: once the run has begun, every expiry is a
 * think period's (it may come just after the period ended on the TSC check). */
static void watchdog_handler(struct ex_regs *r)
{
	struct vstate *m = &vs[smp_id()];

	(void)r;
	if (think_ticks && go)
		m->think_timers++;
	else
		m->watchdogs++;
	apic_eoi();
}

/* This CPU's LAPIC timer fires at TSC value `at` (one-shot mode: at most 2^32 - 1
 * timer ticks ahead; an earlier expiry only makes the wait halt again and re-arm). */
static void watchdog_arm(u64 at)
{
	u64 now = rdtsc(), count;

	if (use_tscdl) {
		apic_tsc_deadline_arm(at);
		return;
	}
	count = at > now ? (at - now) / tsc_per_apic_tick : 0;
	if (count < 1)
		count = 1;
	if (count > 0xffffffffu)
		count = 0xffffffffu;   /* fires early: the wait halts again */
	apic_timer_start(VEC_WATCHDOG, APIC_LVT_TIMER_ONESHOT, 0, 1, (u32)count);
}

static void watchdog_disarm(void)
{
	if (use_tscdl)
		apic_tsc_deadline_arm(0);
	else
		apic_timer_stop();
}

enum wait_result {
	WAIT_OK,
	WAIT_TIMEOUT,   /* the deadline passed, condition not met */
	WAIT_LATE,      /* halted until the deadline although the condition was met: the
			 * wakeup (VEC_WAKE or VEC_CALL) never came */
	WAIT_ABORTED,   /* another vCPU failed */
};

static const char *wait_result_text(enum wait_result r)
{
	return r == WAIT_LATE ? "met, but the halted vCPU was not woken before its deadline"
			      : "not met by its deadline";
}

typedef bool cond_fn(u32 arg);

/*
 * Wait with IF = 1 until cond(arg), the TSC passes deadline, or (stop_on_abort) another
 * vCPU failed. Spins with PAUSE; in halt mode after spin_ticks it halts instead. A
 * halted wait that only the watchdog ends at the deadline fails even if the condition
 * is met by then (WAIT_LATE): the wakeup was lost, and the timeout bounds it.
 */
static enum wait_result wait_for(cond_fn *cond, u32 arg, u64 deadline, bool stop_on_abort)
{
	struct vstate *m = &vs[smp_id()];
	u64 spin_end = rdtsc() + spin_ticks;
	enum wait_result res = WAIT_OK;
	bool armed = false;

	while (!cond(arg)) {
		u64 now;

		if (stop_on_abort && abort_run) {
			res = WAIT_ABORTED;
			break;
		}
		now = rdtsc();
		if (now >= deadline) {
			res = cond(arg) ? WAIT_OK : WAIT_TIMEOUT;
			break;
		}
		if (!halt_mode || now < spin_end) {
			pause();
			continue;
		}
		cli();
		m->sleeping = 1;
		mfence();
		if (cond(arg) || (stop_on_abort && abort_run)) {
			m->sleeping = 0;
			sti();
			continue;
		}
		watchdog_arm(deadline);
		armed = true;
		safe_halt();   /* STI;HLT: an interrupt pending since the CLI wakes it */
		m->sleeping = 0;
		m->halts++;
		if (rdtsc() >= deadline) {
			res = cond(arg) ? WAIT_LATE : WAIT_TIMEOUT;
			break;
		}
	}
	if (armed)
		watchdog_disarm();
	return res;
}

static bool acks_done(u32 seq)
{
	unsigned me = smp_id();

	for (unsigned t = 0; t < ncpus; t++)
		if (t != me && vs[t].ack[me] != seq)
			return false;
	return true;
}

static bool lock_free(u32 unused)
{
	(void)unused;
	return !shared.locked;
}

static bool go_set(u32 unused)
{
	(void)unused;
	return go;
}

static bool all_finished(u32 unused)
{
	(void)unused;
	for (unsigned t = 0; t < ncpus; t++)
		if (!vs[t].finished)
			return false;
	return true;
}

static bool all_arrived(u32 unused)
{
	(void)unused;
	for (unsigned t = 0; t < ncpus; t++)
		if (!vs[t].arrived)
			return false;
	return true;
}

static void fail(struct vstate *m, const char *what, enum wait_result r, u32 round,
		 u32 missing, u64 ticks)
{
	if (!m->fail) {
		m->fail = what;
		m->fail_how = wait_result_text(r);
		m->fail_round = round;
		m->fail_missing = missing;
		m->fail_ticks = ticks;
	}
	abort_run = 1;
	mfence();
	wake_sleepers();
}

/* ---- one round ------------------------------------------------------------------------ */

static bool send_calls(void)
{
	unsigned me = smp_id();

	if (ncpus < 2)
		return true;
	if (!ipi_each)
		return apic_icr_write(APIC_DEST_OTHERS | APIC_DM_FIXED | APIC_ICR_ASSERT | VEC_CALL,
				      0) == 0;
	for (unsigned t = 0; t < ncpus; t++)
		if (t != me && apic_send_ipi(percpu[t].apic_id, VEC_CALL))
			return false;
	return true;
}

static void critical_section(unsigned me)
{
	if (shared.owner != NO_OWNER)
		shared.overlaps++;
	shared.owner = me;
	for (u64 k = 0; k < cs_iters; k++) {
		unsigned w = k % CS_WORDS;

		shared.data[w] = shared.data[w] * 6364136223846793005ull + (k ^ me);
	}
	shared.count++;
	if (shared.owner != me)
		shared.overlaps++;
	shared.owner = NO_OWNER;
}

static bool do_round(unsigned me, struct vstate *m)
{
	u64 t0, t1, t2, t3;
	u32 seq = m->req + 1;
	enum wait_result r;

	t0 = rdtsc();
	m->req = seq;
	if (!send_calls()) {
		fail(m, "ICR idle to send the call IPI", WAIT_TIMEOUT, seq, 0, 0);
		return false;
	}
	r = wait_for(acks_done, seq, t0 + timeout, true);
	t1 = rdtsc();
	if (r != WAIT_OK) {
		u32 missing = 0;

		for (unsigned t = 0; t < ncpus; t++)
			if (t != me && vs[t].ack[me] != seq)
				missing |= 1u << t;
		if (r != WAIT_ABORTED)
			fail(m, "acks of its call", r, seq, missing, t1 - t0);
		return false;
	}
	while (xchg32(&shared.locked, 1)) {
		r = wait_for(lock_free, 0, t1 + timeout, true);
		if (r != WAIT_OK) {
			if (r != WAIT_ABORTED)
				fail(m, "the spinlock free", r, seq, 0, rdtsc() - t1);
			return false;
		}
	}
	t2 = rdtsc();
	critical_section(me);
	barrier();
	shared.locked = 0;
	if (halt_mode) {
		mfence();
		wake_sleepers();
	}
	t3 = rdtsc();
	m->rounds++;
	m->ack_wait += t1 - t0;
	m->lock_wait += t2 - t1;
	if (t3 - t0 > m->max_round)
		m->max_round = t3 - t0;
	m->last_end = t3;
	return true;
}

/*
 * think=: idle until `until` in STI;HLT, the LAPIC timer armed once at `until` (again
 * only if it fired early: one-shot mode, more than 2^32 - 1 timer ticks ahead). A call
 * IPI wakes the HLT, its handler acks, and the vCPU halts again. Interrupts are off
 * between the checks and the HLT, so an expiry in between wakes the HLT at once.
 */
static void think(struct vstate *m, u64 until)
{
	u32 fired = m->think_timers;

	m->thinking = 1;
	watchdog_arm(until);
	for (;;) {
		cli();
		if (rdtsc() >= until || abort_run)
			break;
		if (m->think_timers != fired) {
			fired = m->think_timers;
			watchdog_arm(until);
		}
		safe_halt();
		m->halts++;
	}
	m->thinking = 0;
	sti();
}

static u64 rng_next(struct vstate *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

/* The next think period: think_ticks +- jitter_pct%, uniform. */
static u64 think_period(struct vstate *m)
{
	u64 span = think_ticks * jitter_pct / 50;   /* the whole range: 2 * jitter */
	u64 r = rng_next(m);

	return span ? think_ticks - span / 2 + r % (span + 1) : think_ticks;
}

static void worker(void *arg)
{
	unsigned me = smp_id();
	struct vstate *m = &vs[me];
	enum wait_result r;

	(void)arg;
	if (use_tscdl)
		apic_tsc_deadline_mode(VEC_WATCHDOG);
	m->arrived = 1;
	sti();
	r = wait_for(go_set, 0, (start_at > rdtsc() ? start_at : rdtsc()) + 2 * timeout, true);
	if (r == WAIT_TIMEOUT || r == WAIT_LATE)
		fail(m, "the start", r, 0, 0, 2 * timeout);
	if (seed) {
		u64 until = rdtsc() + rng_next(m) % 20000;

		while (rdtsc() < until)
			pause();
	}
	while (!abort_run && rdtsc() < deadline_tsc) {
		if (!do_round(me, m))
			break;
		if (think_ticks) {
			u64 until = m->last_end + think_period(m);

			think(m, until < deadline_tsc ? until : deadline_tsc);
		}
	}
	m->finished = 1;
	mfence();
	wake_sleepers();
	r = wait_for(all_finished, 0, rdtsc() + 3 * timeout, false);
	if (r != WAIT_OK) {
		u32 missing = 0;

		for (unsigned t = 0; t < ncpus; t++)
			if (!vs[t].finished)
				missing |= 1u << t;
		fail(m, "every vCPU finished", r, m->req, missing, 3 * timeout);
	}
	cli();
	if (use_tscdl)
		apic_tsc_deadline_arm(0);
}

/* ---- results ---------------------------------------------------------------------------- */

static void read_sched_ctrs(long out[][NR_SCHED_CTRS])
{
	for (unsigned i = 0; i < ncpus; i++)
		for (unsigned c = 0; c < NR_SCHED_CTRS; c++)
			out[i][c] = nohv ? -1 : hc_vcpu_counter(sched_ctrs[c].id, i);
}

/* Three lines per vCPU, each "overcommit: vcpu=i sched ...": the hypervisor's console
 * breaks lines at 200 characters. */
static void print_sched_ctrs(unsigned i, const long *end)
{
	char line[256];
	int len = 0;

	for (unsigned c = 0; c < NR_SCHED_CTRS; c++) {
		long s = ctr_start[i][c], e = end[c];
		bool is_max = sched_ctrs[c].id == HC_CTR_MAX_RUNNABLE_TICKS;
		bool line_end = SCHED_LINE_ENDS(sched_ctrs[c].id) || c == NR_SCHED_CTRS - 1;

		if (!len)
			len = snprintf(line, sizeof(line), "overcommit: vcpu=%u sched", i);
		if (e < 0 || (!is_max && s < 0))
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=n/a",
					sched_ctrs[c].name);
		else
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=%llu",
					sched_ctrs[c].name,
					(unsigned long long)(is_max ? e : e - s));
		if (line_end) {
			printf("%s\n", line);
			len = 0;
		}
	}
}

/* The VM's CPU time over the measured interval: the sum of its vCPUs' HC_CTR_RUN_TICKS
 * differences; -1 if any is unavailable. */
static long long vm_run_ticks(long end[][NR_SCHED_CTRS])
{
	long long sum = 0;
	unsigned c;

	for (c = 0; c < NR_SCHED_CTRS && sched_ctrs[c].id != HC_CTR_RUN_TICKS; c++)
		;
	for (unsigned i = 0; i < ncpus; i++) {
		if (ctr_start[i][c] < 0 || end[i][c] < 0)
			return -1;
		sum += end[i][c] - ctr_start[i][c];
	}
	return sum;
}

/* "1.5" -> 1500; malformed -> 0 */
static u64 parse_milli(const char *s)
{
	u64 v = 0, frac = 0, scale = 1000;

	if (!s)
		return 0;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (u64)(*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (scale > 1) {
				scale /= 10;
				frac += (u64)(*s - '0') * scale;
			}
	return *s ? 0 : v * 1000 + frac;
}

static void mask_str(char *buf, size_t size, u32 mask)
{
	int len = 0;

	buf[0] = 0;
	for (unsigned t = 0; t < MAX_CPUS; t++)
		if (mask & (1u << t))
			len += snprintf(buf + len, size - (size_t)len, "%s%u", len ? "," : "", t);
}

int main(void)
{
	const char *mode = cmdline_get("mode");
	const char *ipi = cmdline_get("ipi");
	const char *name = cmdline_get("name");
	const char *wd;
	enum apic_mode am = mode && !strcmp(mode, "x2apic") ? APIC_MODE_X2APIC : APIC_MODE_XAPIC;
	u64 fair = parse_milli(cmdline_get("fair"));
	u64 min_rounds = cmdline_get_u64("min_rounds", 1);
	long hc_vcpus = -1, ctr_end[MAX_CPUS][NR_SCHED_CTRS];
	u64 ticks, total = 0, rmin = ~0ull, rmax = 0, end = 0;
	long long run_ticks;
	char run_str[24];
	bool timed_out = false;

	duration = cmdline_get_u64("duration", 200000000);
	start_at = cmdline_get_u64("start", 0);
	timeout = cmdline_get_u64("timeout", 2000000000);
	halt_mode = cmdline_has("halt");
	spin_ticks = halt_mode ? cmdline_get_u64("spin", 1000) : 0;
	think_ticks = cmdline_has("think") ? cmdline_get_u64("think", THINK_DEFAULT) : 0;
	jitter_pct = cmdline_get_u64("jitter", 50);
	seed = cmdline_get_u64("seed", 0);
	if (jitter_pct > 100)
		jitter_pct = 100;
	cs_iters = cmdline_get_u64("cs", 40);
	ipi_each = ipi && !strcmp(ipi, "each");
	nohv = !hv_present();
	if (!name || !*name)
		name = "overcommit";

	if (halt_mode && think_ticks) {
		report(false, "options: halt and think= exclude each other");
		return report_summary();
	}
	if (!apic_present()) {
		report(false, "CPUID.1:EDX.APIC[9] set");
		return report_summary();
	}
	if (am == APIC_MODE_X2APIC && !x2apic_supported()) {
		report_skip("x2APIC not enumerated (CPUID.1:ECX[21])");
		return report_summary();
	}
	if (apic_setup(am)) {
		report(false, "APIC set up in %s mode", apic_mode_name(am));
		return report_summary();
	}
	percpu[0].apic_id = apic_id();
	wd = cmdline_get("watchdog");
	use_tscdl = tsc_deadline_supported() && !(wd && !strcmp(wd, "oneshot"));
	if ((halt_mode || think_ticks) && !use_tscdl) {
		u64 ahz = apic_timer_hz();

		tsc_per_apic_tick = ahz && tsc_hz() > ahz ? tsc_hz() / ahz : 1;
	}
	ncpus = smp_init();
	if (!nohv)
		hc_vcpus = hc_get_info(HC_INFO_NR_VCPUS);
	printf("overcommit: vm=%s vcpus=%u (expected %u from %s) TSC %llu Hz (%s)\n", name,
	       ncpus, smp_expected_cpus(), smp_expected_source(), (unsigned long long)tsc_hz(),
	       tsc_hz_source());
	printf("overcommit: duration=%llu timeout=%llu halt=%s spin=%llu ipi=%s cs=%llu mode=%s "
	       "watchdog=%s think=%llu jitter=%llu seed=%llu\n", (unsigned long long)duration,
	       (unsigned long long)timeout, halt_mode ? "on" : "off",
	       (unsigned long long)spin_ticks, ipi_each ? "each" : "others",
	       (unsigned long long)cs_iters, apic_mode_name(am),
	       use_tscdl ? "tsc-deadline" : "one-shot", (unsigned long long)think_ticks,
	       (unsigned long long)jitter_pct, (unsigned long long)seed);
	report(ncpus == smp_expected_cpus() && (nohv || hc_vcpus == (long)ncpus),
	       "smp: %u vCPUs running (expected %u from %s, HC_INFO_NR_VCPUS %ld)", ncpus,
	       smp_expected_cpus(), smp_expected_source(), hc_vcpus);

	for (unsigned i = 0; i < ncpus; i++) {
		/* FNV-1a of the name, per vCPU and seed */
		u64 h = 0x9e3779b97f4a7c15ull * (i + 1) ^ seed * 0xbf58476d1ce4e5b9ull;

		for (const char *c = name; *c; c++)
			h = (h ^ (u8)*c) * 0x100000001b3ull;
		vs[i].rng = h ? h : 1;
	}
	irq_set_handler(VEC_CALL, call_handler);
	irq_set_handler(VEC_WAKE, wake_handler);
	irq_set_handler(VEC_WATCHDOG, watchdog_handler);

	/* check in, counters, then go */
	for (unsigned i = 1; i < ncpus; i++)
		if (on_cpu_async(i, worker, NULL)) {
			report(false, "vcpu %u takes the work", i);
			return report_summary();
		}
	vs[0].arrived = 1;
	if (!wait_until(all_arrived(0), tsc_to_us(2 * timeout)))
		printf("overcommit: not every vCPU checked in; starting anyway\n");
	if (use_tscdl)
		apic_tsc_deadline_mode(VEC_WATCHDOG);   /* before the first watchdog_arm() */
	while (rdtsc() < start_at) {
		/* start=: the same interval in every VM (the TSC is not offset per VM) */
		if (halt_mode || think_ticks) {
			cli();
			watchdog_arm(start_at);
			safe_halt();
			cli();
		} else {
			pause();
		}
	}
	if ((halt_mode || think_ticks) && start_at) {
		watchdog_disarm();
		vs[0].watchdogs = 0;   /* the start's timer, not a wait's */
	}
	read_sched_ctrs(ctr_start);
	start_tsc = rdtsc();
	deadline_tsc = start_tsc + duration;
	mfence();
	go = 1;
	mfence();
	wake_sleepers();
	worker(NULL);
	for (unsigned i = 1; i < ncpus; i++)
		if (!cpu_wait_idle(i, tsc_to_us(3 * timeout)))
			printf("overcommit: vcpu %u did not return from its work\n", i);
	read_sched_ctrs(ctr_end);

	for (unsigned i = 0; i < ncpus; i++) {
		total += vs[i].rounds;
		if (vs[i].rounds < rmin)
			rmin = vs[i].rounds;
		if (vs[i].rounds > rmax)
			rmax = vs[i].rounds;
		if (vs[i].last_end > end)
			end = vs[i].last_end;
	}
	ticks = end > start_tsc ? end - start_tsc : 0;
	run_ticks = vm_run_ticks(ctr_end);
	if (run_ticks < 0)
		snprintf(run_str, sizeof(run_str), "n/a");
	else
		snprintf(run_str, sizeof(run_str), "%llu", (unsigned long long)run_ticks);
	printf("overcommit: vm=%s vcpus=%u ticks=%llu rounds=%llu rounds_per_1e9=%llu start=%llu "
	       "run_ticks=%s\n", name, ncpus, (unsigned long long)ticks, (unsigned long long)total,
	       (unsigned long long)(ticks ? total * 1000000000ull / ticks : 0),
	       (unsigned long long)start_tsc, run_str);
	if (start_at && start_tsc > start_at + duration / 20)
		printf("overcommit: started %llu ticks after start=%llu (booted late)\n",
		       (unsigned long long)(start_tsc - start_at), (unsigned long long)start_at);
	for (unsigned i = 0; i < ncpus; i++) {
		const struct vstate *m = &vs[i];

		printf("overcommit: vcpu=%u rounds=%u max_round_ticks=%llu ack_wait_ticks=%llu "
		       "lock_wait_ticks=%llu\n", i, m->rounds, (unsigned long long)m->max_round,
		       (unsigned long long)m->ack_wait, (unsigned long long)m->lock_wait);
		printf("overcommit: vcpu=%u irqs calls_rx=%u wakes_tx=%u wakes_rx=%u halts=%u "
		       "watchdogs=%u calls_idle=%u think_timers=%u\n", i, m->calls_rx, m->wakes_tx,
		       m->wakes_rx, m->halts, m->watchdogs, m->calls_idle, m->think_timers);
	}
	for (unsigned i = 0; i < ncpus; i++)
		print_sched_ctrs(i, ctr_end[i]);

	for (unsigned i = 0; i < ncpus; i++)
		report(vs[i].rounds >= min_rounds, "vcpu %u completed %u rounds (at least %llu)", i,
		       vs[i].rounds, (unsigned long long)min_rounds);
	for (unsigned i = 0; i < ncpus; i++) {
		const struct vstate *m = &vs[i];
		char who[64];

		if (!m->fail)
			continue;
		timed_out = true;
		mask_str(who, sizeof(who), m->fail_missing);
		printf("overcommit: vcpu %u waited for %s: %s (%llu ticks, round %u%s%s)\n", i,
		       m->fail, m->fail_how, (unsigned long long)m->fail_ticks, m->fail_round,
		       m->fail_missing ? ", still missing: vcpu " : "", who);
	}
	report(!timed_out, "no wait timed out or missed its wakeup (timeout=%llu ticks)",
	       (unsigned long long)timeout);
	report(shared.count == total && !shared.overlaps,
	       "spinlock: %llu critical sections for %llu rounds, %u overlaps",
	       (unsigned long long)shared.count, (unsigned long long)total, shared.overlaps);
	if (fair)
		report(rmin && rmax * 1000 <= fair * rmin,
		       "fairness: rounds per vCPU from %llu to %llu, within a factor %llu.%03llu",
		       (unsigned long long)rmin, (unsigned long long)rmax,
		       (unsigned long long)(fair / 1000), (unsigned long long)(fair % 1000));
	return report_summary();
}
