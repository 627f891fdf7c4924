/* SPDX-License-Identifier: MIT */
/*
 * bench: round-trip costs in the manner of kvm-unit-tests' x86/vmexit.c. Each test
 * runs its body N times between two fenced RDTSCs and prints
 *
 *   bench: NAME iters=N ticks_per_iter=X exits_per_iter=Y [more fields]
 *
 * X is TSC ticks per iteration (loop and indirect call included: `empty` is that
 * baseline). Y is VM exits per iteration from HC_GET_COUNTER(HC_CTR_EXITS_TOTAL),
 * read outside the timed loop; the exits that the two counter reads themselves add
 * are measured once with nothing between them and subtracted, whichever way the
 * hypervisor counts the read's own exit.
 *
 * Interrupt tests (local APIC, Intel SDM Vol. 3A chapter "Advanced Programmable
 * Interrupt Controller (APIC)"): each iteration must take exactly its interrupt; one
 * that does not arrive within 100 ms is counted and the run fails (status 3), so a
 * broken interrupt path gives no figures. They need CPUID.1:EDX.APIC (and x2APIC /
 * TSC-deadline where named) and are skipped otherwise.
 *   cr8_read, cr8_write     MOV from/to CR8 (the TPR, "Task Priority in IA-32e Mode")
 *   selfipi_xapic           CLI; self-IPI through the xAPIC ICR (shorthand self); STI;NOP
 *   selfipi_xapic_hlt       the same, waiting in STI;HLT
 *   selfipi_tpr             CLI; TPR = the vector's class; self-IPI; STI; TPR = 0 (the
 *                           interrupt arrives on the TPR write); CLI
 *   selfipi_cr8             the same with MOV to CR8
 *   selfipi_x2apic          the x2APIC SELF IPI MSR (0x83f); STI;NOP
 *   selfipi_x2apic_hlt      the same, waiting in STI;HLT
 *   selfipi_x2apic_icr      the x2APIC ICR MSR (0x830) with shorthand self; STI;NOP
 *   ipi_running             fixed IPI to vCPU 1 spinning with IF=1: ticks from the ICR
 *                           write until vCPU 1's handler has counted it (seen by vCPU 0)
 *   ipi_halted              the same with vCPU 1 waiting in STI;HLT
 *   tscdeadline_immed       IA32_TSC_DEADLINE = RDTSC, spin until the handler ran
 *   tscdeadline             IA32_TSC_DEADLINE = RDTSC + deadline_ticks, spin until the
 *                           handler ran: ticks from arming to the handler, and how late
 *                           the handler ran after the deadline (late_ticks_per_iter)
 *   tscdeadline_hlt         (not in the default set) the same, waiting in STI;HLT; a
 *                           lost timer interrupt hangs it (nothing else can wake it)
 * The ipi_* tests also print rx_exits_per_iter: vCPU 1's exits through HC_VCPU_COUNTER
 * ("n/a" where the hypervisor does not provide it). The *_hlt self-IPI tests keep a
 * slow periodic LVT timer (200 ms) running as a watchdog, so a lost self-IPI is
 * counted instead of halting forever.
 *
 * Command line:
 *   iters=N          iterations per test (default 2000)
 *   tests=A,B,...    run only these (default: all but tscdeadline_hlt)
 *   deadline_ticks=N distance of the tscdeadline tests' deadline (default 3000)
 *   cpus=N           vCPUs for the ipi_* tests (default HC_INFO_NR_VCPUS, else MADT)
 *   nohv             no hypercalls: exits_per_iter=-1 and no vmcall test (plain QEMU TCG)
 */
#include "apic.h"
#include "smp.h"

#define DEFAULT_ITERS 2000
#define WARMUP_ITERS 16
#define COM1_SCR (COM1_BASE + 7)  /* 16550 Scratch Register, emulated */
#define PORT_UNASSIGNED 0x510     /* nothing there in the VM */

#define VEC_BENCH 0x41            /* self-IPIs and the timer */
#define VEC_IPI   0x51            /* to vCPU 1 */
#define VEC_STOP  0x52            /* ends vCPU 1's halted receiver */
#define VEC_WD    0x32            /* watchdog timer: below VEC_BENCH's class */
#define IRQ_TIMEOUT_US 100000
#define WATCHDOG_US 200000

enum {
	NEEDS_HV = 1,
	NEEDS_APIC = 2,
	NEEDS_X2APIC = 4,
	NEEDS_TSCDL = 8,
	NEEDS_2CPU = 16,
	RX_EXITS = 32,      /* print vCPU 1's exits too */
	OPT_IN = 64,        /* only when named in tests= */
	WATCHDOG = 128,     /* slow periodic LVT timer while it runs */
};

struct bench_test {
	const char *name;
	void (*fn)(void);             /* one iteration, timed as a whole loop */
	u64 (*loop)(u64 iters);       /* or: runs the iterations, returns the ticks */
	unsigned flags;
	enum apic_mode mode;          /* for APIC tests */
	void (*setup)(void);
	void (*teardown)(void);
};

static bool nohv, failed;
static unsigned ncpus = 1;
static volatile u32 irqs, rx_irqs, stop_irqs, wd_ticks;
static volatile u64 irq_tsc;
static u32 expected;
static u32 lost;
static char extra[128];

/* ---- handlers ----------------------------------------------------------------------- */

static void bench_irq(struct ex_regs *r)
{
	(void)r;
	irq_tsc = rdtsc();
	irqs++;
	apic_eoi();
}

static void rx_irq(struct ex_regs *r)
{
	(void)r;
	rx_irqs++;
	apic_eoi();
}

static void stop_irq(struct ex_regs *r)
{
	(void)r;
	stop_irqs++;
	apic_eoi();
}

static void wd_irq(struct ex_regs *r)
{
	(void)r;
	wd_ticks++;
	apic_eoi();
}

static void nmi_irq(struct ex_regs *r)
{
	(void)r;
}

/* After an iteration that must have taken one interrupt: if it has not (yet), wait
 * for it with IF = 1 (bounded), else count it lost. */
static __attribute__((noinline)) void late(void)
{
	u64 f = irq_save();

	sti();
	if (!wait_until(irqs == expected, IRQ_TIMEOUT_US)) {
		lost++;
		expected = irqs;
	}
	irq_restore(f);
}

static inline void account(void)
{
	expected++;
	if (irqs != expected)
		late();
}

/* ---- exit round trips --------------------------------------------------------------- */

static __attribute__((noinline)) void t_empty(void)
{
	barrier();
}

static __attribute__((noinline)) void t_cpuid(void)
{
	u32 a, b, c, d;

	cpuid(0, &a, &b, &c, &d);
}

static __attribute__((noinline)) void t_vmcall(void)
{
	vmcall(HC_NOP, 0, 0, 0);
}

static __attribute__((noinline)) void t_inb_emulated(void)
{
	inb(COM1_SCR);
}

static __attribute__((noinline)) void t_inb_unassigned(void)
{
	inb(PORT_UNASSIGNED);
}

static __attribute__((noinline)) void t_cr8_read(void)
{
	read_cr8();
}

static __attribute__((noinline)) void t_cr8_write(void)
{
	write_cr8(0);
}

/* ---- self-IPIs ---------------------------------------------------------------------- */

static __attribute__((noinline)) void t_selfipi_xapic(void)
{
	cli();
	apic_self_ipi_icr(VEC_BENCH);
	sti_nop_cli();
	account();
}

static __attribute__((noinline)) void t_selfipi_xapic_hlt(void)
{
	cli();
	apic_self_ipi_icr(VEC_BENCH);
	safe_halt();
	cli();
	account();
}

static __attribute__((noinline)) void t_selfipi_tpr(void)
{
	cli();
	apic_set_tpr(VEC_BENCH & 0xf0);   /* same class: held */
	apic_self_ipi_icr(VEC_BENCH);
	sti();
	apic_set_tpr(0);                  /* delivered here */
	cli();
	account();
}

static __attribute__((noinline)) void t_selfipi_cr8(void)
{
	cli();
	write_cr8(VEC_BENCH >> 4);
	apic_self_ipi_icr(VEC_BENCH);
	sti();
	write_cr8(0);
	cli();
	account();
}

static __attribute__((noinline)) void t_selfipi_x2apic(void)
{
	cli();
	wrmsr(MSR_X2APIC_BASE + (APIC_SELF_IPI >> 4), VEC_BENCH);
	sti_nop_cli();
	account();
}

static __attribute__((noinline)) void t_selfipi_x2apic_hlt(void)
{
	cli();
	wrmsr(MSR_X2APIC_BASE + (APIC_SELF_IPI >> 4), VEC_BENCH);
	safe_halt();
	cli();
	account();
}

static __attribute__((noinline)) void t_selfipi_x2apic_icr(void)
{
	cli();
	apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | APIC_ICR_ASSERT | VEC_BENCH, 0);
	sti_nop_cli();
	account();
}

/* ---- IPIs to vCPU 1 ----------------------------------------------------------------- */

static volatile u32 rx_stop, rx_armed, rx_left;

/* vCPU 1: take IPIs with IF = 1, spinning, until told to stop. */
static void rx_spin(void *arg)
{
	(void)arg;
	sti();
	while (!rx_stop)
		pause();
	cli();
	rx_left = 1;
}

/* vCPU 1: take IPIs in STI;HLT; rx_armed = count + 1 says "about to halt". */
static void rx_halt(void *arg)
{
	(void)arg;
	cli();
	while (!rx_stop) {
		rx_armed = rx_irqs + 1;
		safe_halt();
		cli();
	}
	rx_armed = 0;
	rx_left = 1;
}

static bool halted_rx;

static void ipi_setup(void)
{
	rx_stop = rx_left = 0;
	rx_armed = 0;
	if (on_cpu_async(1, halted_rx ? rx_halt : rx_spin, NULL)) {
		printf("bench: vCPU 1 does not take work\n");
		failed = true;
	}
	if (halted_rx)
		wait_until(rx_armed == rx_irqs + 1, IRQ_TIMEOUT_US);
	else
		udelay(100);
}

static void ipi_teardown(void)
{
	rx_stop = 1;
	if (halted_rx) {
		apic_send_ipi(percpu[1].apic_id, VEC_STOP);
		if (!wait_until(rx_left, IRQ_TIMEOUT_US))
			apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, percpu[1].apic_id);
	}
	if (!cpu_wait_idle(1, IRQ_TIMEOUT_US * 2)) {
		printf("bench: vCPU 1 stuck after the IPI test\n");
		failed = true;
	}
}

static void ipi_running_setup(void)
{
	halted_rx = false;
	ipi_setup();
}

static void ipi_halted_setup(void)
{
	halted_rx = true;
	ipi_setup();
}

/* Per iteration: from the ICR write until vCPU 1's handler has counted it. */
static u64 loop_ipi(u64 iters)
{
	u32 dest = percpu[1].apic_id;
	u64 sum = 0;

	for (u64 i = 0; i < iters; i++) {
		u32 before = rx_irqs;
		u64 s;

		if (halted_rx && !wait_until(rx_armed == before + 1, IRQ_TIMEOUT_US)) {
			lost++;
			break;
		}
		s = rdtsc();
		apic_send_ipi(dest, VEC_IPI);
		if (!wait_until(rx_irqs != before, IRQ_TIMEOUT_US)) {
			lost++;
			break;
		}
		sum += rdtsc() - s;
	}
	return sum;
}

/* ---- TSC deadline ------------------------------------------------------------------- */

static u64 deadline_ticks;

static void tscdl_setup(void)
{
	apic_write(APIC_TMICT, 0);
	apic_tsc_deadline_mode(VEC_BENCH);
	sti();
}

static void tscdl_teardown(void)
{
	cli();
	apic_tsc_deadline_arm(0);
	apic_timer_stop();
}

static __attribute__((noinline)) void t_tscdeadline_immed(void)
{
	expected++;
	apic_tsc_deadline_arm(rdtsc());
	if (!wait_until(irqs == expected, IRQ_TIMEOUT_US)) {
		lost++;
		expected = irqs;
	}
}

static u64 loop_tscdeadline(u64 iters, bool hlt_wait)
{
	u64 sum = 0, late_sum = 0, n = 0;

	for (u64 i = 0; i < iters; i++) {
		u64 s, d;

		expected++;
		if (hlt_wait)
			cli();
		s = rdtsc();
		d = s + deadline_ticks;
		apic_tsc_deadline_arm(d);
		if (hlt_wait) {
			while (irqs != expected) {
				safe_halt();
				cli();
			}
			sti();
		}
		if (!wait_until(irqs == expected, IRQ_TIMEOUT_US)) {
			lost++;
			expected = irqs;
			continue;
		}
		sum += irq_tsc - s;
		late_sum += irq_tsc > d ? irq_tsc - d : 0;
		if (irq_tsc < d)
			printf("bench: tscdeadline: handler ran %llu ticks before the deadline\n",
			       (unsigned long long)(d - irq_tsc));
		n++;
	}
	snprintf(extra, sizeof(extra), " deadline_ticks=%llu late_ticks_per_iter=%llu",
		 (unsigned long long)deadline_ticks, (unsigned long long)(n ? late_sum / n : 0));
	return sum;
}

static u64 loop_tscdeadline_spin(u64 iters)
{
	return loop_tscdeadline(iters, false);
}

static u64 loop_tscdeadline_hlt(u64 iters)
{
	return loop_tscdeadline(iters, true);
}

/* ---- the table ---------------------------------------------------------------------- */

#define APIC_X NEEDS_APIC, APIC_MODE_XAPIC
#define APIC_2 NEEDS_APIC | NEEDS_X2APIC, APIC_MODE_X2APIC

static const struct bench_test tests[] = {
	{ "empty", t_empty, NULL, 0, 0, NULL, NULL },
	{ "cpuid", t_cpuid, NULL, 0, 0, NULL, NULL },
	{ "vmcall", t_vmcall, NULL, NEEDS_HV, 0, NULL, NULL },
	{ "inb_emulated", t_inb_emulated, NULL, 0, 0, NULL, NULL },
	{ "inb_unassigned", t_inb_unassigned, NULL, 0, 0, NULL, NULL },
	{ "cr8_read", t_cr8_read, NULL, 0, 0, NULL, NULL },
	{ "cr8_write", t_cr8_write, NULL, 0, 0, NULL, NULL },
	{ "selfipi_xapic", t_selfipi_xapic, NULL, APIC_X, NULL, NULL },
	{ "selfipi_xapic_hlt", t_selfipi_xapic_hlt, NULL, WATCHDOG | APIC_X, NULL, NULL },
	{ "selfipi_tpr", t_selfipi_tpr, NULL, APIC_X, NULL, NULL },
	{ "selfipi_cr8", t_selfipi_cr8, NULL, APIC_X, NULL, NULL },
	{ "ipi_running", NULL, loop_ipi, NEEDS_2CPU | RX_EXITS | APIC_X, ipi_running_setup,
	  ipi_teardown },
	{ "ipi_halted", NULL, loop_ipi, NEEDS_2CPU | RX_EXITS | APIC_X, ipi_halted_setup,
	  ipi_teardown },
	{ "tscdeadline_immed", t_tscdeadline_immed, NULL, NEEDS_TSCDL | APIC_X, tscdl_setup,
	  tscdl_teardown },
	{ "tscdeadline", NULL, loop_tscdeadline_spin, NEEDS_TSCDL | APIC_X, tscdl_setup,
	  tscdl_teardown },
	{ "tscdeadline_hlt", NULL, loop_tscdeadline_hlt, OPT_IN | NEEDS_TSCDL | APIC_X,
	  tscdl_setup, tscdl_teardown },
	/* Last: leaving x2APIC mode again goes through a global disable, which some
	 * implementations (Bochs) do not undo. */
	{ "selfipi_x2apic", t_selfipi_x2apic, NULL, APIC_2, NULL, NULL },
	{ "selfipi_x2apic_hlt", t_selfipi_x2apic_hlt, NULL, WATCHDOG | APIC_2, NULL, NULL },
	{ "selfipi_x2apic_icr", t_selfipi_x2apic_icr, NULL, APIC_2, NULL, NULL },
};

static bool selected(const struct bench_test *t)
{
	const char *s = cmdline_get("tests");
	size_t n = strlen(t->name);

	if (!s || !*s)
		return !(t->flags & OPT_IN);
	while (*s) {
		const char *e = s;

		while (*e && *e != ',')
			e++;
		if ((size_t)(e - s) == n && !strncmp(s, t->name, n))
			return true;
		s = *e ? e + 1 : e;
	}
	return false;
}

static s64 exits_total(void)
{
	return nohv ? 0 : hc_get_counter(HC_CTR_EXITS_TOTAL);
}

static s64 rx_exits(void)
{
	return nohv ? -1 : hc_vcpu_counter(HC_CTR_EXITS_TOTAL, percpu[1].apic_id);
}

/* Exits that a counter read, two RDTSCs and a counter read add with no work. */
static s64 counter_overhead(void)
{
	s64 c0, c1;

	c0 = exits_total();
	rdtsc_ordered();
	rdtsc_ordered();
	c1 = exits_total();
	return c1 - c0;
}

/* Why t cannot run here, or NULL. */
static const char *unmet(const struct bench_test *t)
{
	if (nohv && (t->flags & NEEDS_HV))
		return "nohv";
	if ((t->flags & NEEDS_APIC) && !apic_present())
		return "no APIC in CPUID";
	if ((t->flags & NEEDS_X2APIC) && !x2apic_supported())
		return "no x2APIC in CPUID";
	if ((t->flags & NEEDS_TSCDL) && !tsc_deadline_supported())
		return "no TSC-deadline timer in CPUID";
	if ((t->flags & NEEDS_2CPU) && ncpus < 2)
		return "needs 2 vCPUs";
	return NULL;
}

static void run(const struct bench_test *t, u64 iters, s64 overhead)
{
	void (*volatile fn)(void) = t->fn;  /* an indirect call the compiler keeps */
	const char *why = unmet(t);
	s64 c0, c1, exits, r0 = -1, r1 = -1;
	u64 t0, t1, ticks, wd_count = 0;
	char rx[48] = "";

	if (why) {
		printf("bench: %s skipped (%s)\n", t->name, why);
		return;
	}
	if (t->flags & NEEDS_APIC) {
		if (apic_setup(t->mode)) {
			printf("bench: %s: APIC set-up in %s mode failed\n", t->name,
			       apic_mode_name(t->mode));
			failed = true;
			return;
		}
	}
	if (t->flags & WATCHDOG) {
		wd_count = apic_timer_hz() / 1000000 * WATCHDOG_US;
		apic_timer_start(VEC_WD, APIC_LVT_TIMER_PERIODIC, 0, 1,
				 wd_count > 0xffffffffu ? 0xffffffffu : (u32)wd_count);
	}
	extra[0] = '\0';
	lost = 0;
	expected = irqs;
	if (t->setup)
		t->setup();
	if (t->loop)
		t->loop(WARMUP_ITERS);
	else
		for (unsigned i = 0; i < WARMUP_ITERS; i++)
			fn();

	if (t->flags & RX_EXITS)
		r0 = rx_exits();
	c0 = exits_total();
	t0 = rdtsc_ordered();
	if (t->loop) {
		ticks = t->loop(iters);
		t1 = rdtsc_ordered();
	} else {
		for (u64 i = 0; i < iters; i++)
			fn();
		t1 = rdtsc_ordered();
		ticks = t1 - t0;
	}
	c1 = exits_total();
	if (t->flags & RX_EXITS)
		r1 = rx_exits();
	if (t->teardown)
		t->teardown();
	if (t->flags & WATCHDOG)
		apic_timer_stop();

	exits = c1 - c0 - overhead;
	if (exits < 0)
		exits = 0;
	if (t->flags & RX_EXITS) {
		if (r0 >= 0 && r1 >= r0)
			snprintf(rx, sizeof(rx), " rx_exits_per_iter=%lld",
				 (long long)((r1 - r0 + (s64)iters / 2) / (s64)iters));
		else
			snprintf(rx, sizeof(rx), " rx_exits_per_iter=n/a");
	}
	if (lost) {
		printf("bench: %s error: %u of %llu interrupts did not arrive within %u ms\n",
		       t->name, lost, (unsigned long long)iters, IRQ_TIMEOUT_US / 1000);
		failed = true;
		return;
	}
	printf("bench: %s iters=%llu ticks_per_iter=%llu exits_per_iter=%lld%s%s\n", t->name,
	       (unsigned long long)iters, (unsigned long long)(ticks / iters),
	       nohv ? -1LL : (long long)((exits + (s64)iters / 2) / (s64)iters), rx, extra);
}

static bool any_selected(unsigned flags)
{
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		if ((tests[i].flags & flags) == flags && selected(&tests[i]))
			return true;
	return false;
}

int main(void)
{
	u64 iters = cmdline_get_u64("iters", DEFAULT_ITERS);
	s64 overhead;

	nohv = cmdline_has("nohv");
	if (!iters)
		iters = DEFAULT_ITERS;
	deadline_ticks = cmdline_get_u64("deadline_ticks", 3000);

	if (apic_present() && any_selected(NEEDS_APIC)) {
		irq_set_handler(VEC_BENCH, bench_irq);
		irq_set_handler(VEC_IPI, rx_irq);
		irq_set_handler(VEC_STOP, stop_irq);
		irq_set_handler(VEC_WD, wd_irq);
		irq_set_handler(NMI_VECTOR, nmi_irq);
		if (apic_setup(APIC_MODE_XAPIC) == 0 && any_selected(NEEDS_2CPU))
			ncpus = smp_init();
	}

	overhead = counter_overhead();
	printf("bench: start iters=%llu counter_read_exits=%lld\n", (unsigned long long)iters,
	       nohv ? -1LL : (long long)overhead);
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		if (selected(&tests[i]))
			run(&tests[i], iters, overhead);
	if (wd_ticks)
		printf("bench: watchdog timer ticks: %u\n", wd_ticks);
	printf("bench: done%s\n", failed ? " (with errors)" : "");
	return failed ? 1 : 0;
}
