/* SPDX-License-Identifier: MIT */
/*
 * bench: round-trip costs in the manner of kvm-unit-tests' x86/vmexit.c. Each test
 * runs its body N times between two fenced RDTSCs and prints
 *
 *   bench: NAME iters=N ticks_per_iter=X exits_per_iter=Y
 *
 * X is TSC ticks per iteration (loop and indirect call included: `empty` is that
 * baseline). Y is VM exits per iteration from HC_GET_COUNTER(HC_CTR_EXITS_TOTAL),
 * read outside the timed loop; the exits that the two counter reads themselves add
 * are measured once with nothing between them and subtracted, whichever way the
 * hypervisor counts the read's own exit.
 *
 * Command line:
 *   iters=N   iterations per test (default 2000)
 *   nohv      no hypercalls: exits_per_iter=-1 and no vmcall test (plain QEMU TCG)
 */
#include "lib.h"

#define DEFAULT_ITERS 2000
#define WARMUP_ITERS 16
#define COM1_SCR (COM1_BASE + 7)  /* 16550 Scratch Register, emulated */
#define PORT_UNASSIGNED 0x510     /* nothing there in the VM */

struct bench_test {
	const char *name;
	void (*fn)(void);
	bool needs_hv;
};

static bool nohv;

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

static const struct bench_test tests[] = {
	{ "empty", t_empty, false },
	{ "cpuid", t_cpuid, false },
	{ "vmcall", t_vmcall, true },
	{ "inb_emulated", t_inb_emulated, false },
	{ "inb_unassigned", t_inb_unassigned, false },
};

static s64 exits_total(void)
{
	return nohv ? 0 : hc_get_counter(HC_CTR_EXITS_TOTAL);
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

static void run(const struct bench_test *t, u64 iters, s64 overhead)
{
	void (*volatile fn)(void) = t->fn;  /* an indirect call the compiler keeps */
	s64 c0, c1, exits;
	u64 t0, t1;

	if (nohv && t->needs_hv) {
		printf("bench: %s skipped (nohv)\n", t->name);
		return;
	}
	for (unsigned i = 0; i < WARMUP_ITERS; i++)
		fn();

	c0 = exits_total();
	t0 = rdtsc_ordered();
	for (u64 i = 0; i < iters; i++)
		fn();
	t1 = rdtsc_ordered();
	c1 = exits_total();

	exits = c1 - c0 - overhead;
	if (exits < 0)
		exits = 0;
	printf("bench: %s iters=%llu ticks_per_iter=%llu exits_per_iter=%lld\n", t->name,
	       (unsigned long long)iters, (unsigned long long)((t1 - t0) / iters),
	       nohv ? -1LL : (long long)((exits + (s64)iters / 2) / (s64)iters));
}

int main(void)
{
	u64 iters = cmdline_get_u64("iters", DEFAULT_ITERS);
	s64 overhead;

	nohv = cmdline_has("nohv");
	if (!iters)
		iters = DEFAULT_ITERS;

	overhead = counter_overhead();
	printf("bench: start iters=%llu counter_read_exits=%lld\n", (unsigned long long)iters,
	       nohv ? -1LL : (long long)overhead);
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		run(&tests[i], iters, overhead);
	printf("bench: done\n");
	return 0;
}
