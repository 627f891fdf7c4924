// SPDX-License-Identifier: MIT
/*
 * The races of the posting protocol and of notification elision, provoked on purpose.
 *
 * vCPU 0 loops on VMCALL (an exit and an entry per iteration) with interrupts enabled.
 * vCPU 1 asks the hypervisor (HC_RACE_POST) to stop vCPU 0's entry path at a window
 * and to post a vector to it from vCPU 1's CPU while it waits there:
 *   window 1: interrupts off, vCPU not yet marked "in guest"
 *   window 2: marked "in guest", PIR not yet moved into RVI/IRR
 *   window 3: PIR moved, VM entry next
 * The hypercall returns vCPU 0's exit count at the window. The interrupt must arrive
 * at that very entry: the handler reads vCPU 0's exit count (with one VMCALL, which is
 * itself an exit), so it must see window + 1. Without APICv the notification seen in
 * windows 2 and 3 is a kick, pending while interrupts are off: the interrupt is
 * injected at that entry and the kick then costs one external-interrupt exit, so
 * window + 2 at most. A post left in PIR until a later entry fails this.
 *
 * Also: timer expiry in the exit fastpath posts to the running vCPU with no
 * notification IPI (notification elision) and still arrives.
 *
 * Command line: rounds=N (per window, default 20).
 */
#include "lib.h"
#include "apic.h"
#include "smp.h"

#define RACE_VECTOR 0x61
#define TIMER_VECTOR 0x62

static volatile u64 handler_exits;
static volatile u32 got;
static volatile u32 stop_loop;
static volatile s64 race_ret;

static void race_handler(struct ex_regs *r)
{
	(void)r;
	handler_exits = (u64)hc_get_counter(HC_CTR_EXITS_TOTAL);
	got++;
	apic_eoi();
}

static volatile u32 timer_got;
static void timer_handler(struct ex_regs *r)
{
	(void)r;
	timer_got++;
	apic_eoi();
}

struct race_req {
	u64 window;
};

static void poster(void *arg)
{
	struct race_req *q = arg;
	race_ret = vmcall(HC_RACE_POST, 0, RACE_VECTOR, q->window);
	stop_loop = 1;
}

static bool one_round(u64 window, bool apicv, u64 *late)
{
	static struct race_req q;
	q.window = window;
	got = 0;
	stop_loop = 0;
	race_ret = -100;
	on_cpu_async(1, poster, &q);
	/* Exit and re-enter until the poster is done; then no more exits. */
	u64 end = rdtsc() + us_to_tsc(2000000);
	while (!stop_loop && rdtsc() < end)
		vmcall(HC_NOP, 0, 0, 0);
	if (race_ret < 0) {
		printf("races: HC_RACE_POST window %llu returned %lld\n", (unsigned long long)window, (long long)race_ret);
		return false;
	}
	/* The interrupt must already be here, or arrive without another exit. */
	wait_until(got, 100000);
	if (!got) {
		printf("races: window %llu: the posted vector never arrived (IRR bit %d, ISR bit %d, TPR 0x%x, PPR 0x%x, "
		       "RFLAGS 0x%llx, highest ISR %d IRR %d)\n", (unsigned long long)window, apic_irr_test(RACE_VECTOR), apic_isr_test(RACE_VECTOR),
		       apic_get_tpr(), apic_get_ppr(), (unsigned long long)read_rflags(), apic_vec_highest(APIC_ISR), apic_vec_highest(APIC_IRR));
		return false;
	}
	u64 at = (u64)race_ret;
	u64 allowed = apicv || window == HC_RACE_WINDOW_IRQS_OFF ? at + 1 : at + 2;
	*late = handler_exits - (at + 1);
	if (handler_exits > allowed) {
		printf("races: window %llu: delivered %llu exits after the window entry (allowed %llu)\n",
		       (unsigned long long)window, (unsigned long long)(handler_exits - at),
		       (unsigned long long)(allowed - at));
		return false;
	}
	return true;
}

static void fastpath_timer(bool fastpath, bool elide)
{
	irq_set_handler(TIMER_VECTOR, timer_handler);
	apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_TSCDEADLINE | TIMER_VECTOR);
	u64 ipis0 = (u64)hc_get_counter(HC_CTR_NOTIFY_IPIS);
	u64 fast0 = (u64)hc_get_counter(HC_CTR_FASTPATH);
	u64 elided0 = (u64)hc_get_counter(HC_CTR_ELIDED);
	unsigned n = 50, ok = 0;
	for (unsigned i = 0; i < n; i++) {
		timer_got = 0;
		wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 20000);
		wait_until(timer_got, 1000000);   /* spin in the guest: the expiry exits */
		ok += timer_got == 1;
	}
	u64 ipis = (u64)hc_get_counter(HC_CTR_NOTIFY_IPIS) - ipis0;
	u64 fast = (u64)hc_get_counter(HC_CTR_FASTPATH) - fast0;
	u64 elided = (u64)hc_get_counter(HC_CTR_ELIDED) - elided0;
	report(ok == n, "timer expiry posted to the running vCPU arrives (%u/%u)", ok, n);
	if (fastpath) {
		report(fast >= n, "expiries handled in the fastpath (%llu)", (unsigned long long)fast);
		if (elide)
			report(ipis == 0 && elided >= n,
			       "no notification IPI to the vCPU in the fastpath (IPIs %llu, elided %llu)",
			       (unsigned long long)ipis, (unsigned long long)elided);
		else
			report(ipis >= n, "elision off: a notification IPI per fastpath expiry (%llu)",
			       (unsigned long long)ipis);
	} else {
		report(fast == 0 && ipis == 0, "fastpath off: no fastpath exits (%llu), no IPIs (%llu)",
		       (unsigned long long)fast, (unsigned long long)ipis);
	}
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

int main(void)
{
	u64 feat = (u64)vmcall(HC_GET_INFO, HC_INFO_FEATURES, 0, 0);
	bool apicv = feat & HC_FEAT_APICV;
	printf("races: apicv=%d preempt-timer=%d fastpath=%d elide=%d\n", !!apicv, !!(feat & HC_FEAT_PREEMPT_TIMER),
	       !!(feat & HC_FEAT_FASTPATH), !!(feat & HC_FEAT_ELIDE));
	apic_setup(APIC_MODE_XAPIC);
	irq_set_handler(RACE_VECTOR, race_handler);
	sti();
	fastpath_timer(feat & HC_FEAT_FASTPATH, feat & HC_FEAT_ELIDE);

	unsigned cpus = smp_init();
	if (cpus < 2) {
		report_skip("the entry-path races need 2 vCPUs (got %u)", cpus);
		return report_summary();
	}
	unsigned rounds = (unsigned)cmdline_get_u64("rounds", 20);
	for (u64 w = HC_RACE_WINDOW_IRQS_OFF; w <= HC_RACE_WINDOW_SYNCED; w++) {
		unsigned ok = 0;
		u64 late_max = 0;
		for (unsigned i = 0; i < rounds; i++) {
			u64 late = 0;
			ok += one_round(w, apicv, &late);
			if (late > late_max)
				late_max = late;
		}
		report(ok == rounds, "post in entry window %llu (%s) arrives at that entry: %u/%u (extra exits max %llu)",
		       (unsigned long long)w,
		       w == 1 ? "irqs off, not in guest" : w == 2 ? "in guest, before PIR sync" : "after PIR sync",
		       ok, rounds, (unsigned long long)late_max);
	}
	return report_summary();
}
