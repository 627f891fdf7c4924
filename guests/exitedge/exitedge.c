/* SPDX-License-Identifier: MIT */
/*
 * exitedge: a VM exit taken at the instruction boundary right after an exception was
 * delivered. The guest raises #UD (UD2, a fault) over and over at CPL 0 while its
 * TSC-deadline timer fires every `period=` ticks on average (default 4000); under the hypervisor
 * the timer runs on the VMX-preemption timer (or, with timer=soft, on host timer
 * interrupts), so fault-like VM exits (preemption timer, external interrupt) land at
 * arbitrary boundaries, many of them the first boundary inside the #UD handler.
 *
 * Such an exit must save the handler's RIP beside the handler's CS, RSP and RFLAGS: the
 * saved RIP is that of the instruction that would have executed next had the exit not
 * occurred (Intel SDM Vol. 3C, "Saving RIP, RSP, RFLAGS, and SSP"). Bochs 3.0 in SMP
 * mode saved the faulting UD2's RIP instead (tools/bochs-patches/0007): the guest then
 * ran UD2 again with the first #UD's frame already on the stack, so the recovered RSP
 * is one frame low. The same stale RIP made Debian's kernel resume a user instruction
 * at CPL 0 with the user CR3 ("ENTRY_TRAMPOLINE stack guard page was hit").
 *
 * Each round saves RSP, runs UD2 (an .extable entry resumes after it), then compares
 * RSP and the vector caught; `n=` rounds (default 40000). The check is meaningful only
 * if timer interrupts arrived during the rounds: at least `min_ticks=` (default 20).
 */
#include "lib.h"
#include "apic.h"

#define VEC_TIMER 0x40

static volatile u64 timer_count;
static u64 period;
static u64 lcg = 1;

static void timer_irq(struct ex_regs *regs)
{
	(void)regs;
	/* a varying delay (period/2 .. 3*period/2), so that expiries do not lock onto
	 * one phase of the loop and some fall on the boundary after a #UD delivery */
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	timer_count++;
	apic_tsc_deadline_arm(rdtsc() + period / 2 + (lcg >> 33) % (period + 1));
	apic_eoi();
}

int main(void)
{
	u64 n = cmdline_get_u64("n", 40000);
	u64 min_ticks = cmdline_get_u64("min_ticks", 20);
	period = cmdline_get_u64("period", 4000);

	if (!tsc_deadline_supported()) {
		/* QEMU's default CPU model under qemu-check.sh; the hypervisor offers it */
		report_skip("no TSC-deadline timer (CPUID.1:ECX[24])");
		return report_summary();
	}
	if (apic_setup(APIC_MODE_XAPIC)) {
		report(false, "TSC-deadline timer in xAPIC mode");
		return report_summary();
	}
	irq_set_handler(VEC_TIMER, timer_irq);
	apic_tsc_deadline_mode(VEC_TIMER);
	printf("exitedge: %lu rounds of UD2 with the TSC-deadline timer every %lu ticks\n",
	       n, period);
	apic_tsc_deadline_arm(rdtsc() + period);
	sti();

	u64 bad_rsp = 0, bad_vec = 0, first_bad = 0;
	long first_delta = 0;
	for (u64 i = 0; i < n; i++) {
		u64 before, after;
		exception_clear();
		/* RSP restored from R12 whatever happened, so the C frame survives a failure */
		asm volatile("mov %%rsp, %%r12\n\t"
			     "mov %%rsp, %0\n"
			     "1:\tud2\n"
			     "2:\tmov %%rsp, %1\n\t"
			     "mov %%r12, %%rsp\n\t"
			     EXTABLE_ENTRY(1b, 2b)
			     : "=&r"(before), "=&r"(after) : : "r12", "memory");
		if (after != before && !bad_rsp++) {
			first_bad = i;
			first_delta = (long)(before - after);
		}
		if (exception_vector() != UD_VECTOR)
			bad_vec++;
	}
	cli();
	apic_tsc_deadline_arm(0);
	u64 ticks = timer_count;

	report(ticks >= min_ticks, "timer interrupts during the rounds: %lu (at least %lu)",
	       ticks, min_ticks);
	report(bad_vec == 0, "every round caught #UD (%lu did not)", bad_vec);
	if (bad_rsp)
		report(false, "RSP after the #UD differs in %lu of %lu rounds (first: round %lu, "
		       "%ld bytes below: a second delivery on top of the first)",
		       bad_rsp, n, first_bad, first_delta);
	else
		report(true, "RSP after the #UD is the RSP before it in all %lu rounds", n);
	return report_summary();
}
