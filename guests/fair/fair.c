// SPDX-License-Identifier: MIT
/*
 * fair: time slicing between vCPUs that share a CPU. Every vCPU spins (no PAUSE, so no
 * PAUSE-loop exits and no yields: only the scheduler's time slices move the CPU) for
 * `duration=` TSC ticks counting loop iterations. Afterwards each vCPU's longest wait
 * runnable-but-not-running (HC_CTR_MAX_RUNNABLE_TICKS, the hypervisor's own account)
 * must stay within the stated bound: with N vCPUs on one CPU, round robin makes a
 * vCPU wait for the N-1 others, one slice each, so the bound is (N-1) slices plus a
 * slack of one slice for the switch and interrupt latency (`slack=` slices). And
 * every vCPU must have run.
 *
 * Command line: duration=TICKS (default 40 slices' worth), slack=N (default 1).
 */
#include "lib.h"
#include "smp.h"

static volatile u64 iterations[MAX_CPUS];
static volatile u32 done[MAX_CPUS];
static volatile u64 start_at, end_at;

static void spin(void *arg)
{
	(void)arg;
	unsigned me = smp_id();
	while (rdtsc() < start_at)
		;
	u64 n = 0;
	while (rdtsc() < end_at)
		n++;
	iterations[me] = n;
	__atomic_store_n(&done[me], 1, __ATOMIC_SEQ_CST);
}

int main(void)
{
	unsigned cpus = smp_init();
	long slice = hc_get_info(HC_INFO_SLICE_TICKS);
	if (cpus < 2 || slice <= 0) {
		report(false, "fair: needs 2+ vCPUs and HC_INFO_SLICE_TICKS (cpus %u, slice %ld)", cpus, slice);
		return report_summary();
	}
	u64 duration = cmdline_get_u64("duration", 40 * (u64)slice);
	u64 slack = cmdline_get_u64("slack", 1);
	start_at = rdtsc() + 2 * (u64)slice;
	end_at = start_at + duration;
	for (unsigned i = 1; i < cpus; i++)
		on_cpu_async(i, spin, NULL);
	spin(NULL);
	for (unsigned i = 0; i < cpus; i++)
		while (!__atomic_load_n(&done[i], __ATOMIC_SEQ_CST))
			;
	u64 bound = (cpus - 1 + slack) * (u64)slice;
	printf("fair: %u vCPUs, slice %ld ticks, duration %llu ticks, bound %llu ticks\n", cpus, slice,
	       (unsigned long long)duration, (unsigned long long)bound);
	for (unsigned i = 0; i < cpus; i++) {
		long maxw = hc_vcpu_counter(HC_CTR_MAX_RUNNABLE_TICKS, i);
		long pre = hc_vcpu_counter(HC_CTR_PREEMPTIONS, i);
		printf("fair: vcpu=%u iterations=%llu max_runnable_ticks=%ld preemptions=%ld\n", i,
		       (unsigned long long)iterations[i], maxw, pre);
		report(iterations[i] > 0, "vcpu %u ran (%llu iterations)", i, (unsigned long long)iterations[i]);
		report(maxw >= 0 && (u64)maxw <= bound, "vcpu %u waited at most %ld ticks runnable (bound %llu)", i, maxw,
		       (unsigned long long)bound);
	}
	return report_summary();
}
