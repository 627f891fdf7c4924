/* SPDX-License-Identifier: MIT */
/*
 * TSC frequency and TSC-based delays (lib.h, "time").
 */
#include "lib.h"

/* 8254 PIT: input clock 1.193182 MHz; channel 2's gate and output are bits 0 and 5
 * of port 0x61 (the PC's "system control port B"). */
#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_MODE 0x43
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
#define PIT_CALIBRATE_MS 10
#define DEFAULT_TSC_HZ 1000000000ull

static u64 hz;
static const char *hz_src = "none";

/*
 * Channel 2 in mode 0 ("interrupt on terminal count"): OUT2 goes low when the count
 * is written and high when it reaches zero; the TSC ticks in between give the rate.
 * Without a PIT the port reads all ones (unassigned port), which is refused.
 */
static u64 pit_calibrate(void)
{
	const u32 count = PIT_HZ / 1000 * PIT_CALIBRATE_MS;
	u8 b = inb(PORT_B);
	u64 t0, t1;
	unsigned i;

	if (b == 0xff)
		return 0;
	outb((u8)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2), PORT_B);
	outb(0xb0, PIT_MODE);   /* channel 2, low then high byte, mode 0, binary */
	outb((u8)count, PIT_CH2);
	outb((u8)(count >> 8), PIT_CH2);
	t0 = rdtsc_ordered();
	for (i = 0; i < 100000000u; i++)
		if (inb(PORT_B) & PORT_B_OUT2)
			break;
	t1 = rdtsc_ordered();
	outb(b, PORT_B);
	if (i == 100000000u || i == 0 || t1 - t0 < 1000)
		return 0;
	return (t1 - t0) * PIT_HZ / count;
}

/* CPUID leaf 0x15: TSC = crystal * EBX / EAX, when all three are enumerated. */
static u64 cpuid_tsc_hz(void)
{
	u32 a, b, c, d;

	cpuid(0, &a, &b, &c, &d);
	if (a < 0x15)
		return 0;
	cpuid(0x15, &a, &b, &c, &d);
	if (!a || !b || !c)
		return 0;
	return (u64)c * b / a;
}

u64 tsc_hz(void)
{
	long v;

	if (hz)
		return hz;
	if ((hz = cmdline_get_u64("tsc_hz", 0))) {
		hz_src = "command line";
	} else if (hv_present() && (v = hc_get_info(HC_INFO_TSC_HZ)) > 0) {
		hz = (u64)v;
		hz_src = "HC_INFO_TSC_HZ";
	} else if ((hz = pit_calibrate())) {
		hz_src = "PIT";
	} else if ((hz = cpuid_tsc_hz())) {
		hz_src = "CPUID.15H";
	} else {
		hz = DEFAULT_TSC_HZ;
		hz_src = "assumed";
	}
	return hz;
}

const char *tsc_hz_source(void)
{
	tsc_hz();
	return hz_src;
}

/* Without 128-bit arithmetic (no libgcc): split the frequency at 10^6. */
u64 us_to_tsc(u64 us)
{
	u64 f = tsc_hz();

	return f / 1000000 * us + f % 1000000 * us / 1000000;
}

u64 tsc_to_us(u64 ticks)
{
	u64 f = tsc_hz();

	if (ticks < (~0ull) / 1000000)
		return ticks * 1000000 / f;
	return ticks / f * 1000000;
}

void udelay(u64 us)
{
	u64 end = rdtsc() + us_to_tsc(us);

	while (rdtsc() < end)
		pause();
}

void mdelay(u64 ms)
{
	udelay(ms * 1000);
}
