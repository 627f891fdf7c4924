/* SPDX-License-Identifier: MIT */
/*
 * platform3: the PC timers and reset paths of the guest platform (docs/INTERFACES.md,
 * "Guest platform"), from inside the VM:
 *   - 8254 PIT counter 2 with port 0x61 (gate, OUT, refresh toggle) timed against the
 *     TSC, as Linux's PIT calibration uses it: gate low holds the count, mode 0 OUT
 *     rises after N input-clock ticks, the unlatched MSB goes down every 256 ticks,
 *     read-back status;
 *   - PIT counter 0 as a clock event: IRQ 0 through the IOAPIC (ISA IRQ 0 -> GSI 2, the
 *     MADT's override) in modes 2 and 3 at the programmed rate (counted over a TSC
 *     interval, the vCPU halted between interrupts), modes 0 and 4 once, none after
 *     the counter is stopped;
 *   - the CMOS RTC's IRQ 8 (GSI 8): periodic interrupts at the register A rate while C
 *     is read, a single one while it is not, the update-ended interrupt;
 *   - with cpus=2 on the command line (and only this), counter 0 programmed from both:
 *     vCPU 1 starts it, vCPU 0 reprograms it and vCPU 1 stops it, while vCPU 0 counts
 *     the interrupts; the rate is the last one programmed (a deadline armed on one
 *     physical CPU and moved from another fires once, hv/dev/devtimer.h) and a stop
 *     from either vCPU stops it;
 *   - the keyboard controller (status, self-test, command byte, loopback) and the
 *     0xCF9 reset control register's non-reset bits.
 *
 * Command line:
 *   cpus=N                 start the APs (smp_init) and run only the two-vCPU checks
 *   reset=cf9|kbd|port92   skip the checks and request a reset that way (0x06 to 0xCF9,
 *                          0xFE to 0x64, bit 0 to 0x92): the VM must be stopped with
 *                          status 10 (reboot=stop); if the write returns, exit 3
 */
#include "lib.h"
#include "apic.h"
#include "smp.h"

#define PIT_HZ 1193182ull
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_MODE 0x43
#define PORT61 0x61

#define IOAPIC_BASE 0xfec00000ul
#define PIT_GSI 2
#define RTC_GSI 8
#define PIT_VECTOR 0x40
#define RTC_VECTOR 0x41

static volatile u32 *const ioregsel = (volatile u32 *)IOAPIC_BASE;
static volatile u32 *const iowin = (volatile u32 *)(IOAPIC_BASE + 0x10);

static void ioapic_route(unsigned pin, u8 vector, bool masked)
{
	*ioregsel = 0x11 + 2 * pin;
	*iowin = 0;                                   /* destination APIC ID 0 */
	*ioregsel = 0x10 + 2 * pin;
	*iowin = vector | (masked ? 1u << 16 : 0);    /* fixed, physical, edge, active high */
}

static u64 pit_ticks_tsc(u64 ticks)
{
	return ticks * tsc_hz() / PIT_HZ;
}

/* ---- counter 2 and port 0x61 ---- */

static void pit2_load(u8 mode_cw, u16 n)
{
	outb(mode_cw, PIT_MODE);
	outb((u8)n, PIT_CH2);
	outb((u8)(n >> 8), PIT_CH2);
}

static u16 pit_read16(u16 port)
{
	u8 lo = inb(port);
	return (u16)(lo | inb(port) << 8);
}

static void check_channel2(void)
{
	/* Gate low: the count holds and mode 0's OUT stays low. */
	outb(inb(PORT61) & ~0x03, PORT61);
	pit2_load(0xb0, 1000);                        /* counter 2, LOHI, mode 0 */
	udelay(2000);                                 /* > 1000 ticks */
	outb(0xe8, PIT_MODE);                         /* read-back: count and status of counter 2 */
	u8 st = inb(PIT_CH2);
	u16 held = pit_read16(PIT_CH2);
	report(!(inb(PORT61) & 0x20) && held == 1000, "PIT counter 2 with gate low: count holds (%u), OUT low",
	       held);
	report((st & 0x3f) == 0x30 && !(st & 0x80), "PIT read-back status of counter 2: LOHI mode 0, OUT low (0x%x)",
	       st);

	/* Gate high, mode 0 with N = 23864 (20 ms): OUT rises N ticks later. */
	outb((inb(PORT61) & ~0x02) | 0x01, PORT61);
	const u16 n = 23864;
	pit2_load(0xb0, n);
	u64 t0 = rdtsc_ordered(), limit = t0 + pit_ticks_tsc(n) * 3;
	u64 t1;
	while (!(inb(PORT61) & 0x20) && (t1 = rdtsc_ordered()) < limit)
		;
	t1 = rdtsc_ordered();
	u64 want = pit_ticks_tsc(n);
	report(t1 - t0 >= want * 98 / 100 && t1 - t0 <= want * 110 / 100,
	       "PIT counter 2 mode 0: OUT (port 0x61 bit 5) rises after %llu TSC ticks (N = %u: %llu)",
	       (unsigned long long)(t1 - t0), n, (unsigned long long)want);

	/* The unlatched MSB goes down by one per 256 input-clock ticks (fast calibration). */
	pit2_load(0xb0, 0xffff);
	u64 s0 = rdtsc_ordered();
	(void)inb(PIT_CH2);
	u8 m0 = inb(PIT_CH2);
	u8 m = m0;
	bool monotonic = true;
	while (rdtsc_ordered() - s0 < pit_ticks_tsc(256 * 20)) {
		(void)inb(PIT_CH2);
		u8 x = inb(PIT_CH2);
		if (x > m)
			monotonic = false;
		m = x;
	}
	u64 el = rdtsc_ordered() - s0;
	unsigned expect = (unsigned)(el * PIT_HZ / tsc_hz() / 256);
	report(monotonic && (unsigned)(m0 - m) + 2 >= expect && (unsigned)(m0 - m) <= expect + 2,
	       "PIT counter 2 MSB polling: 0x%x -> 0x%x over %u periods of 256 ticks", m0, m, expect);

	/* Port 0x61: gate and speaker bits read back; the refresh toggle flips. */
	outb(0x03, PORT61);
	u8 v = inb(PORT61);
	report((v & 0x0f) == 0x03 && !(v & 0xc0), "port 0x61 reads gate and speaker back (0x%x)", v);
	outb(0x01, PORT61);
	unsigned seen[2] = { 0, 0 };
	u64 end = rdtsc() + us_to_tsc(500);
	while (rdtsc() < end)
		seen[(inb(PORT61) >> 4) & 1]++;
	report(seen[0] && seen[1], "port 0x61 bit 4 (refresh) toggles (%u low, %u high reads)", seen[0], seen[1]);
	outb(0x00, PORT61);
}

/* ---- counter 0: IRQ 0 through the IOAPIC ---- */

static volatile unsigned pit_irqs;
static volatile u64 pit_last_tsc;

static void pit_handler(struct ex_regs *regs)
{
	(void)regs;
	pit_irqs++;
	pit_last_tsc = rdtsc();
	apic_eoi();
}

/* Interrupts taken in [now, now + us). halt: HLT in between, so that only the PIT
 * wakes the vCPU (the last HLT ends at the first interrupt after the interval: only
 * for a counter that keeps interrupting); else a busy wait with IF = 1. */
static unsigned count_pit_irqs(u64 us, bool halt)
{
	unsigned before = pit_irqs;
	u64 end = rdtsc() + us_to_tsc(us);
	if (!halt) {
		sti();
		while (rdtsc() < end)
			pause();
		cli();
		return pit_irqs - before;
	}
	for (;;) {
		cli();
		if (rdtsc() >= end)
			break;
		safe_halt();
	}
	return pit_irqs - before;
}

static void check_channel0(void)
{
	irq_set_handler(PIT_VECTOR, pit_handler);
	ioapic_route(PIT_GSI, PIT_VECTOR, false);

	/* Mode 2, N = 11932: 100 Hz. Over 300 ms: 30. */
	outb(0x34, PIT_MODE);
	outb(11932 & 0xff, PIT_CH0);
	outb(11932 >> 8, PIT_CH0);
	unsigned n = count_pit_irqs(300000, true);
	report(n >= 24 && n <= 36, "PIT counter 0 mode 2 at 100 Hz: %u IRQ 0 in 300 ms (30 expected)", n);

	/* Mode 3, N = 5966: 200 Hz. Over 200 ms: 40. */
	outb(0x36, PIT_MODE);
	outb(5966 & 0xff, PIT_CH0);
	outb(5966 >> 8, PIT_CH0);
	n = count_pit_irqs(200000, true);
	report(n >= 32 && n <= 48, "PIT counter 0 mode 3 at 200 Hz: %u IRQ 0 in 200 ms (40 expected)", n);

	/* Stopped: a control word without a count. */
	outb(0x30, PIT_MODE);
	(void)count_pit_irqs(12000, false);   /* one in flight may still land */
	n = count_pit_irqs(40000, false);
	report(n == 0, "PIT counter 0 after a control word without a count: %u IRQ 0 in 40 ms", n);

	/* Mode 0 one-shot, 5 ms (Linux's PIT shutdown leaves this), and mode 4 (Linux's
	 * PIT one-shot clock event): exactly one each, about when due. */
	static const u8 oneshot_cw[] = { 0x30, 0x38 };
	for (unsigned i = 0; i < 2; i++) {
		outb(oneshot_cw[i], PIT_MODE);
		u64 t0 = rdtsc();
		outb(5966 & 0xff, PIT_CH0);
		outb(5966 >> 8, PIT_CH0);
		n = count_pit_irqs(40000, false);
		u64 after = pit_last_tsc - t0, want = pit_ticks_tsc(5966);
		report(n == 1 && after >= want * 98 / 100 && after <= want + us_to_tsc(2000),
		       "PIT counter 0 mode %u one-shot of 5 ms: %u IRQ 0, after %llu us", oneshot_cw[i] == 0x30 ? 0 : 4,
		       n, (unsigned long long)tsc_to_us(after));
	}
	outb(0x30, PIT_MODE);
	ioapic_route(PIT_GSI, PIT_VECTOR, true);
}

/* ---- counter 0 programmed from two vCPUs ---- */

struct pit_load { u8 cw; u16 n; };

static void pit_program(void *arg)
{
	const struct pit_load *l = arg;
	outb(l->cw, PIT_MODE);
	if (l->n) {
		outb((u8)l->n, PIT_CH0);
		outb((u8)(l->n >> 8), PIT_CH0);
	}
}

static void check_channel0_smp(void)
{
	unsigned cpus = smp_init();
	if (cpus < 2) {
		report_skip("PIT counter 0 from two vCPUs: %u CPU(s)", cpus);
		return;
	}
	irq_set_handler(PIT_VECTOR, pit_handler);
	ioapic_route(PIT_GSI, PIT_VECTOR, false);   /* to vCPU 0 (APIC ID 0) */

	/* vCPU 1 starts mode 2 at 100 Hz: 30 in 300 ms at vCPU 0. */
	struct pit_load l = { 0x34, 11932 };
	int rc = on_cpu(1, pit_program, &l);
	unsigned n = count_pit_irqs(300000, true);
	report(rc == 0 && n >= 24 && n <= 36,
	       "PIT counter 0 started by vCPU 1 at 100 Hz: %u IRQ 0 at vCPU 0 in 300 ms (30 expected)", n);

	/* vCPU 0 reprograms it to 200 Hz: 40 in 200 ms, not the sum of both rates (the
	 * deadline vCPU 1's CPU armed moved here and must not fire as well). */
	l = (struct pit_load){ 0x34, 5966 };
	pit_program(&l);
	n = count_pit_irqs(200000, true);
	report(n >= 32 && n <= 48, "PIT counter 0 reprogrammed by vCPU 0 to 200 Hz: %u IRQ 0 in 200 ms (40 expected)",
	       n);

	/* vCPU 1 stops it: a control word without a count. */
	l = (struct pit_load){ 0x30, 0 };
	rc = on_cpu(1, pit_program, &l);
	(void)count_pit_irqs(12000, false);   /* one in flight may still land */
	n = count_pit_irqs(40000, false);
	report(rc == 0 && n == 0, "PIT counter 0 stopped by vCPU 1: %u IRQ 0 at vCPU 0 in 40 ms", n);

	/* vCPU 1 arms a 5 ms mode 4 one-shot, vCPU 0 moves it: exactly one interrupt. */
	l = (struct pit_load){ 0x38, 5966 };
	rc = on_cpu(1, pit_program, &l);
	pit_program(&l);
	n = count_pit_irqs(40000, false);
	report(rc == 0 && n == 1, "PIT counter 0 one-shot armed by vCPU 1, re-armed by vCPU 0: %u IRQ 0 in 40 ms", n);
	outb(0x30, PIT_MODE);
	ioapic_route(PIT_GSI, PIT_VECTOR, true);
}

/* ---- RTC: IRQ 8 ---- */

static volatile unsigned rtc_irqs;
static volatile bool rtc_read_c = true;
static volatile u8 rtc_last_c;

static u8 cmos_read(u8 idx)
{
	outb(idx, 0x70);
	return inb(0x71);
}

static void cmos_write(u8 idx, u8 v)
{
	outb(idx, 0x70);
	outb(v, 0x71);
}

static void rtc_handler(struct ex_regs *regs)
{
	(void)regs;
	rtc_irqs++;
	if (rtc_read_c)
		rtc_last_c = cmos_read(0x0c);
	apic_eoi();
}

/* Interrupts taken during us of busy waiting with IF = 1. */
static unsigned count_rtc_irqs(u64 us)
{
	unsigned before = rtc_irqs;
	sti();
	udelay(us);
	cli();
	return rtc_irqs - before;
}

static void check_rtc_irq(void)
{
	irq_set_handler(RTC_VECTOR, rtc_handler);
	cli();
	(void)cmos_read(0x0c);
	ioapic_route(RTC_GSI, RTC_VECTOR, false);

	/* Periodic at 64 Hz (RS = 10): 32 in 500 ms while the handler reads C. */
	cmos_write(0x0a, 0x2a);
	cmos_write(0x0b, 0x02 | 0x40);   /* 24-hour, PIE */
	unsigned n = count_rtc_irqs(500000);
	report(n >= 24 && n <= 40, "RTC periodic interrupt at 64 Hz: %u IRQ 8 in 500 ms (32 expected)", n);
	report((rtc_last_c & 0xc0) == 0xc0, "RTC register C in the handler: IRQF and PF (0x%x)", rtc_last_c);

	/* Without reading C the line stays high: one interrupt, then none. */
	cmos_write(0x0b, 0x02);
	(void)cmos_read(0x0c);
	rtc_read_c = false;
	cmos_write(0x0b, 0x02 | 0x40);
	n = count_rtc_irqs(100000);
	report(n == 1, "RTC periodic interrupt, register C not read: %u IRQ 8 in 100 ms (1 expected)", n);
	u8 c = cmos_read(0x0c);
	n = count_rtc_irqs(50000);
	report((c & 0xc0) == 0xc0 && n == 1, "RTC reading C (0x%x) lets the next one through: %u in 50 ms", c, n);
	rtc_read_c = true;

	/* Update-ended interrupt: UIE alone, one per second. */
	cmos_write(0x0b, 0x02);
	(void)cmos_read(0x0c);
	rtc_last_c = 0;
	cmos_write(0x0b, 0x02 | 0x10);
	n = count_rtc_irqs(1100000);
	report(n >= 1 && n <= 2 && (rtc_last_c & 0x90) == 0x90, "RTC update-ended interrupt: %u IRQ 8 in 1.1 s, C 0x%x",
	       n, rtc_last_c);
	cmos_write(0x0b, 0x02);
	(void)cmos_read(0x0c);
	n = count_rtc_irqs(100000);
	report(n == 0, "RTC with PIE, AIE, UIE clear: %u IRQ 8 in 100 ms", n);
	ioapic_route(RTC_GSI, RTC_VECTOR, true);
}

/* ---- the keyboard controller and 0xCF9 ---- */

static void check_kbc(void)
{
	u8 st = inb(0x64);
	report(!(st & 0x03) && (st & 0x04), "i8042 status: output and input buffers empty, SYS set (0x%x)", st);
	outb(0xaa, 0x64);
	st = inb(0x64);
	u8 r = inb(0x60);
	report((st & 0x01) && r == 0x55 && !(inb(0x64) & 0x01), "i8042 self-test replies 0x55 (0x%x), OBF then clear",
	       r);
	outb(0x20, 0x64);
	u8 ctr = inb(0x60);
	outb(0x60, 0x64);
	outb((u8)(ctr & ~0x01), 0x60);
	outb(0x20, 0x64);
	r = inb(0x60);
	report(r == (u8)(ctr & ~0x01), "i8042 command byte written and read back (0x%x -> 0x%x)", ctr, r);
	outb(0xd2, 0x64);
	outb(0x5a, 0x60);
	r = inb(0x60);
	report(r == 0x5a, "i8042 0xD2 loopback: 0x%x", r);
	outb(0xd0, 0x64);
	r = inb(0x60);
	report((r & 0x03) == 0x03, "i8042 output port: reset line inactive, A20 on (0x%x)", r);

	u8 cf9 = inb(0xcf9);
	outb(0x02, 0xcf9);   /* SYS_RST without RST_CPU: no reset */
	u8 cf9b = inb(0xcf9);
	outb(0x00, 0xcf9);
	report(cf9 == 0 && cf9b == 0x02, "0xCF9 reads 0x%x, SYS_RST written alone reads back 0x%x", cf9, cf9b);
	outl(0x80000000u, 0xcf8);
	report(inl(0xcf8) == 0x80000000u && inb(0xcf9) == 0, "0xCF8 dword is still CONFIG_ADDRESS");
	outl(0, 0xcf8);
}

int main(void)
{
	printf("platform3: cmdline: %s\n", cmdline());
	const char *how = cmdline_get("reset");
	if (how) {
		serial_flush();
		if (!strcmp(how, "cf9"))
			outb(0x06, 0xcf9);
		else if (!strcmp(how, "kbd"))
			outb(0xfe, 0x64);
		else if (!strcmp(how, "port92"))
			outb(0x01, 0x92);
		printf("platform3: FAIL: the reset request through %s returned\n", how);
		return 3;
	}
	apic_setup(APIC_MODE_XAPIC);
	check_channel2();
	if (cmdline_get("cpus")) {   /* the other checks run in the 1-vCPU scenarios */
		check_channel0_smp();
		return report_summary();
	}
	check_channel0();
	check_rtc_irq();
	check_kbc();
	return report_summary();
}
