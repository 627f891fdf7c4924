/* SPDX-License-Identifier: MIT */
/*
 * overcommit: the workload of seed 001 (directed yield to "ready" vCPUs) in miniature.
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
 * This is the halt-blocking and wakeup path of the hypervisor, with the seed's second
 * case (a woken vCPU is a good yield candidate) in it.
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
 *   overcommit: vm=NAME vcpus=N ticks=T rounds=R rounds_per_1e9=X start=S
 *   overcommit: vcpu=i rounds=r max_round_ticks=m ack_wait_ticks=.. lock_wait_ticks=..
 *   overcommit: vcpu=i irqs calls_rx=.. wakes_tx=.. wakes_rx=.. halts=.. watchdogs=..
 *   overcommit: vcpu=i sched ctx_switches=.. blocks=.. wakeups=.. wakeup_ticks=..
 *               runnable_ticks=.. max_runnable_ticks=..
 *   overcommit: vcpu=i sched yields=.. yields_wasted=.. preemptions=.. ple_exits=..
 *               wake_vector=..
 *
 * S is the TSC at the start; T runs from there to the end of the last round of any
 * vCPU; R sums the vCPUs' rounds; X = R * 10^9 / T. ack_wait/lock_wait are the ticks
 * spent in (a) and in taking the lock, summed over rounds. The irqs line counts VEC_CALL
 * handled, VEC_WAKE sent and handled, halts and watchdog expiries of that vCPU. The two
 * sched lines (two: the hypervisor's console keeps a VM's lines under 200 characters)
 * are HC_VCPU_COUNTER (hv/hypercall.h) per vCPU: the difference between a read just
 * before the start and one after the end, except max_runnable_ticks (the value at the
 * end); "n/a" where the hypervisor returns a negative value (counter not implemented)
 * or without the hypervisor.
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

#define CS_WORDS 32
#define NO_OWNER 0xffffffffu

/* Per vCPU; each in its own cache lines. */
struct vstate {
	volatile u32 req;              /* this vCPU's call sequence (written by itself) */
	volatile u32 sleeping;         /* halted in a wait: wake it after a change */
	volatile u32 ack[MAX_CPUS];    /* ack[s]: the last sequence of sender s acked here */
	volatile u32 arrived, finished;
	u32 rounds, halts, calls_rx, wakes_tx, wakes_rx, watchdogs;
	u64 max_round, ack_wait, lock_wait;
	u64 last_end;
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
static u64 duration, timeout, spin_ticks, cs_iters, start_at, tsc_per_apic_tick = 1;
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
};
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

static void watchdog_handler(struct ex_regs *r)
{
	(void)r;
	vs[smp_id()].watchdogs++;
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
	while (!abort_run && rdtsc() < deadline_tsc)
		if (!do_round(me, m))
			break;
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

/* Two lines per vCPU, both "overcommit: vcpu=i sched ...": the hypervisor's console
 * keeps lines under 200 characters. */
static void print_sched_ctrs(unsigned i, const long *end)
{
	char line[256];
	int len = 0;

	for (unsigned c = 0; c < NR_SCHED_CTRS; c++) {
		long s = ctr_start[i][c], e = end[c];
		bool is_max = sched_ctrs[c].id == HC_CTR_MAX_RUNNABLE_TICKS;

		if (!len)
			len = snprintf(line, sizeof(line), "overcommit: vcpu=%u sched", i);
		if (e < 0 || (!is_max && s < 0))
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=n/a",
					sched_ctrs[c].name);
		else
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=%llu",
					sched_ctrs[c].name,
					(unsigned long long)(is_max ? e : e - s));
		if (is_max || c == NR_SCHED_CTRS - 1) {
			printf("%s\n", line);
			len = 0;
		}
	}
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
	bool timed_out = false;

	duration = cmdline_get_u64("duration", 200000000);
	start_at = cmdline_get_u64("start", 0);
	timeout = cmdline_get_u64("timeout", 2000000000);
	halt_mode = cmdline_has("halt");
	spin_ticks = halt_mode ? cmdline_get_u64("spin", 1000) : 0;
	cs_iters = cmdline_get_u64("cs", 40);
	ipi_each = ipi && !strcmp(ipi, "each");
	nohv = !hv_present();
	if (!name || !*name)
		name = "overcommit";

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
	if (halt_mode && !use_tscdl) {
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
	       "watchdog=%s\n", (unsigned long long)duration, (unsigned long long)timeout,
	       halt_mode ? "on" : "off", (unsigned long long)spin_ticks,
	       ipi_each ? "each" : "others", (unsigned long long)cs_iters, apic_mode_name(am),
	       use_tscdl ? "tsc-deadline" : "one-shot");
	report(ncpus == smp_expected_cpus() && (nohv || hc_vcpus == (long)ncpus),
	       "smp: %u vCPUs running (expected %u from %s, HC_INFO_NR_VCPUS %ld)", ncpus,
	       smp_expected_cpus(), smp_expected_source(), hc_vcpus);

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
		if (halt_mode) {
			cli();
			watchdog_arm(start_at);
			safe_halt();
			cli();
		} else {
			pause();
		}
	}
	if (halt_mode && start_at) {
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
	printf("overcommit: vm=%s vcpus=%u ticks=%llu rounds=%llu rounds_per_1e9=%llu start=%llu\n",
	       name, ncpus, (unsigned long long)ticks, (unsigned long long)total,
	       (unsigned long long)(ticks ? total * 1000000000ull / ticks : 0),
	       (unsigned long long)start_tsc);
	if (start_at && start_tsc > start_at + duration / 20)
		printf("overcommit: started %llu ticks after start=%llu (booted late)\n",
		       (unsigned long long)(start_tsc - start_at), (unsigned long long)start_at);
	for (unsigned i = 0; i < ncpus; i++) {
		const struct vstate *m = &vs[i];

		printf("overcommit: vcpu=%u rounds=%u max_round_ticks=%llu ack_wait_ticks=%llu "
		       "lock_wait_ticks=%llu\n", i, m->rounds, (unsigned long long)m->max_round,
		       (unsigned long long)m->ack_wait, (unsigned long long)m->lock_wait);
		printf("overcommit: vcpu=%u irqs calls_rx=%u wakes_tx=%u wakes_rx=%u halts=%u "
		       "watchdogs=%u\n", i, m->calls_rx, m->wakes_tx, m->wakes_rx, m->halts,
		       m->watchdogs);
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
