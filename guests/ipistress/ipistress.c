/* SPDX-License-Identifier: MIT */
/*
 * ipistress: many fixed IPIs between vCPU 0 and vCPU 1, each counted by the receiver's
 * handler; passes only if every IPI sent was received exactly once.
 *
 * A fixed interrupt whose vector is already pending in the target's IRR is not
 * requested twice (the IRR is one bit per vector, Intel SDM Vol. 3A, "Interrupt,
 * Task, and Processor Priority" / "IRR, ISR and TMR"), so a sender that does not wait
 * could see IPIs merge and the counts differ without any being lost. Here each sender
 * waits for the receiver's count to move before the next IPI (bounded by timeout_ms),
 * so at most one IPI per vector is ever outstanding and sent == received is exact.
 *
 * target=running (default): both vCPUs send at the same time, each to the other, with
 * interrupts enabled, so each receives while it sends. target=halted: one direction
 * after the other; the receiver waits in STI;HLT and the sender sends only once the
 * receiver has announced that it is about to halt, so nearly every IPI has to wake a
 * halted vCPU. A receiver that an IPI failed to wake is woken with an NMI (and if that
 * fails too, the run ends with the failure reported by the other vCPU).
 *
 * Command line:
 *   n=N              IPIs per direction (default 100000)
 *   target=running|halted
 *   mode=xapic|x2apic  APIC mode (default xapic)
 *   timeout_ms=N     wait per IPI before it counts as lost (default 1000)
 *   settle_us=N      target=halted: wait N us after the receiver announced its halt
 *                    before sending (default 0), so that the IPI finds it blocked in
 *                    the hypervisor and has to wake it there (the wakeup vector to the
 *                    CPU its posted-interrupt descriptor names), not on its way to block
 *   cpus=N, tsc_hz=N, nohv   as for every guest using smp_init()
 *
 * Output: "ipistress: cpuA->cpuB sent=S received=R ticks=T ticks_per_ipi=X
 * max_ticks=M" per direction, then PASS/FAIL lines and the summary.
 */
#include "apic.h"
#include "smp.h"

#define VEC_TO_CPU0 0x71
#define VEC_TO_CPU1 0x72
#define VEC_STOP    0x7c   /* ends a halted receiver's loop; not counted */

static volatile u32 rx[2];         /* IPIs received, by receiving CPU */
static volatile u32 stop_rx[2];    /* VEC_STOP received */
static volatile u32 nmis[2];
static volatile u32 armed[2];      /* halted receiver: its count + 1, set before STI;HLT */
static volatile u32 stop[2];       /* halted receiver: leave the loop */
static u64 to_us, settle_us;
static bool halted;

struct dir {
	unsigned from, to;
	u8 vec;
	u32 n;
	volatile u32 sent, lost, done;
	u64 t0, t1, max;
};

static struct dir dirs[2];

static void ipi_handler(struct ex_regs *r)
{
	(void)r;
	rx[smp_id()]++;
	apic_eoi();
}

static void stop_handler(struct ex_regs *r)
{
	(void)r;
	stop_rx[smp_id()]++;
	apic_eoi();
}

static void nmi_handler(struct ex_regs *r)
{
	(void)r;
	nmis[smp_id()]++;
}

/* Send d->n IPIs, each after the previous one arrived. */
static void send_all(struct dir *d)
{
	u32 dest = percpu[d->to].apic_id;

	d->t0 = rdtsc_ordered();
	for (u32 i = 0; i < d->n; i++) {
		u32 before = rx[d->to];
		u64 s, e;

		if (halted && !wait_until(armed[d->to] == before + 1, to_us)) {
			printf("ipistress: cpu%u->cpu%u: receiver not halting before IPI %u\n",
			       d->from, d->to, i);
			d->lost = 1;
			break;
		}
		if (halted && settle_us)
			udelay(settle_us);
		s = rdtsc();
		apic_send_ipi(dest, d->vec);
		d->sent++;
		if (!wait_until(rx[d->to] != before, to_us)) {
			printf("ipistress: cpu%u->cpu%u: IPI %u not received within %llu ms\n",
			       d->from, d->to, i, (unsigned long long)(to_us / 1000));
			d->lost = 1;
			break;
		}
		e = rdtsc();
		if (e - s > d->max)
			d->max = e - s;
	}
	d->t1 = rdtsc_ordered();
	d->done = 1;
}

/* Wait for a direction to finish as long as it makes progress. */
static bool wait_dir_done(const struct dir *d)
{
	while (!d->done) {
		u32 last = d->sent;

		if (!wait_until(d->done || d->sent != last, 2 * to_us))
			return false;
	}
	return true;
}

/* running: send with IF = 1, then keep receiving until the other direction is done. */
static void sender_running(void *arg)
{
	struct dir *d = arg;
	struct dir *other = &dirs[d == &dirs[0] ? 1 : 0];

	sti();
	send_all(d);
	wait_dir_done(other);
	cli();
}

/* halted: wait in STI;HLT for IPIs until told to stop. */
static void receiver_halted(void *arg)
{
	unsigned me = smp_id();

	(void)arg;
	cli();
	while (!stop[me]) {
		armed[me] = rx[me] + 1;
		safe_halt();   /* sti; hlt: an IPI arriving from here on wakes the HLT */
		cli();
	}
	armed[me] = 0;
}

/*
 * End a halted receiver: stop flag, VEC_STOP IPI, then an NMI if it does not leave the
 * loop. Returns true if it did. done_flag says that it left (cpu_wait_idle for an AP).
 */
static bool stop_receiver(unsigned cpu, volatile u32 *left)
{
	stop[cpu] = 1;
	apic_send_ipi(percpu[cpu].apic_id, VEC_STOP);
	if (wait_until(*left, to_us))
		return true;
	printf("ipistress: cpu%u still halted after the stop IPI; sending an NMI\n", cpu);
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, percpu[cpu].apic_id);
	return wait_until(*left, to_us);
}

static volatile u32 ap_left, bsp_left;

static void ap_receiver(void *arg)
{
	receiver_halted(arg);
	ap_left = 1;
}

/* On the AP: send to the halted BSP, then stop it; if the BSP cannot be woken, the AP
 * reports and ends the run, since the BSP would otherwise halt forever. */
static void ap_sender_to_halted_bsp(void *arg)
{
	struct dir *d = arg;

	send_all(d);
	if (!stop_receiver(0, &bsp_left)) {
		report(false, "cpu0 halted in STI;HLT could not be woken (IPI %u of %u, stop IPI "
			      "and NMI sent); sent=%u received=%u", d->sent, d->n, d->sent, rx[0]);
		report_summary();
		exit(1);
	}
}

static void report_dir(const struct dir *d)
{
	u32 got = rx[d->to];
	u64 ticks = d->t1 - d->t0;

	printf("ipistress: cpu%u->cpu%u sent=%u received=%u ticks=%llu ticks_per_ipi=%llu "
	       "max_ticks=%llu\n", d->from, d->to, d->sent, got, (unsigned long long)ticks,
	       (unsigned long long)(d->sent ? ticks / d->sent : 0), (unsigned long long)d->max);
	report(!d->lost && d->sent == d->n && got == d->sent,
	       "%s: cpu%u->cpu%u: %u IPIs sent, %u received (of %u)",
	       halted ? "halted" : "running", d->from, d->to, d->sent, got, d->n);
}

int main(void)
{
	const char *target = cmdline_get("target");
	const char *mode = cmdline_get("mode");
	enum apic_mode m = mode && !strcmp(mode, "x2apic") ? APIC_MODE_X2APIC : APIC_MODE_XAPIC;
	u32 n = (u32)cmdline_get_u64("n", 100000);
	unsigned cpus;
	u64 t0, t1;

	to_us = cmdline_get_u64("timeout_ms", 1000) * 1000;
	settle_us = cmdline_get_u64("settle_us", 0);
	halted = target && !strcmp(target, "halted");
	printf("ipistress: n=%u target=%s mode=%s TSC %llu Hz (%s)\n", n,
	       halted ? "halted" : "running", apic_mode_name(m), (unsigned long long)tsc_hz(),
	       tsc_hz_source());

	if (!apic_present()) {
		report(false, "CPUID.1:EDX.APIC[9] set");
		return report_summary();
	}
	if (m == APIC_MODE_X2APIC && !x2apic_supported()) {
		report_skip("x2APIC not enumerated (CPUID.1:ECX[21]): nothing to stress");
		return report_summary();
	}
	if (apic_setup(m)) {
		report(false, "APIC set up in %s mode", apic_mode_name(m));
		return report_summary();
	}
	percpu[0].apic_id = apic_id();
	cpus = smp_init();
	if (cpus < 2) {
		report(false, "2 vCPUs running (got %u of %u expected)", cpus, smp_expected_cpus());
		return report_summary();
	}
	irq_set_handler(VEC_TO_CPU0, ipi_handler);
	irq_set_handler(VEC_TO_CPU1, ipi_handler);
	irq_set_handler(VEC_STOP, stop_handler);
	irq_set_handler(NMI_VECTOR, nmi_handler);

	dirs[0] = (struct dir){ .from = 0, .to = 1, .vec = VEC_TO_CPU1, .n = n };
	dirs[1] = (struct dir){ .from = 1, .to = 0, .vec = VEC_TO_CPU0, .n = n };

	t0 = rdtsc_ordered();
	if (!halted) {
		if (on_cpu_async(1, sender_running, &dirs[1])) {
			report(false, "cpu1 takes work");
			return report_summary();
		}
		sender_running(&dirs[0]);
		if (!wait_dir_done(&dirs[1]) || !cpu_wait_idle(1, 4 * to_us))
			printf("ipistress: cpu1 did not finish\n");
	} else {
		/* cpu0 -> halted cpu1 */
		if (on_cpu_async(1, ap_receiver, NULL)) {
			report(false, "cpu1 takes work");
			return report_summary();
		}
		send_all(&dirs[0]);
		if (!stop_receiver(1, &ap_left))
			report(false, "cpu1 halted in STI;HLT could be woken at the end (stop IPI, NMI)");
		else if (!cpu_wait_idle(1, to_us))
			printf("ipistress: cpu1 did not return to its mailbox\n");
		/* cpu1 -> halted cpu0 */
		if (on_cpu_async(1, ap_sender_to_halted_bsp, &dirs[1]) == 0) {
			receiver_halted(NULL);
			bsp_left = 1;
			if (!wait_dir_done(&dirs[1]) || !cpu_wait_idle(1, 4 * to_us))
				printf("ipistress: cpu1 did not finish\n");
		} else {
			report(false, "cpu1 takes work for the second direction");
		}
	}
	t1 = rdtsc_ordered();
	udelay(1000);   /* a duplicate delivery would show up now */

	report_dir(&dirs[0]);
	report_dir(&dirs[1]);
	printf("ipistress: total ticks=%llu (%llu us)\n", (unsigned long long)(t1 - t0),
	       (unsigned long long)tsc_to_us(t1 - t0));
	if (nmis[0] || nmis[1])
		printf("ipistress: NMIs used to wake a receiver: cpu0=%u cpu1=%u\n", nmis[0], nmis[1]);
	return report_summary();
}
