/* SPDX-License-Identifier: MIT */
/*
 * TSC calibration and the PIT busy wait.
 *
 * Intel SDM Vol. 3B, "Time-Stamp Counter": on processors with an invariant TSC the
 * counter runs at a constant rate; CPUID leaf 15H ("Time Stamp Counter and Nominal
 * Core Crystal Clock Information Leaf", Vol. 2A under CPUID) gives it as
 * ECX (crystal Hz) * EBX / EAX when all three are non-zero. Otherwise the TSC is timed
 * against PIT channel 2 (8254: 1.193182 MHz input, gate and output through port 0x61,
 * "mode 0: interrupt on terminal count": OUT goes high when the count reaches 0).
 */
#include "hv/host/time.h"
#include "hv/lib/console.h"
#include "hv/vm/guest_acpi.h"
#include "arch/x86/x86.h"

#define PIT_HZ 1193182u
#define PORT_PIT_CH2 0x42
#define PORT_PIT_CMD 0x43
#define PORT_SYS_CTRL_B 0x61   /* bit 0: channel-2 gate, bit 1: speaker, bit 5: OUT2 */
#define PIT_CH2_MODE0 0xb0     /* channel 2, lobyte/hibyte, mode 0, binary */
#define PIT_POLL_LIMIT 100000000u

u64 tsc_hz;
u64 pm_timer_factor;

/* Program channel 2 for ticks and start it (gate on, speaker off); *gate gets the
 * previous port 0x61 value to restore. */
static void pit_start(u32 ticks, u8 *gate)
{
	*gate = inb(PORT_SYS_CTRL_B);
	outb(PORT_SYS_CTRL_B, (*gate & ~0x02) | 0x01);
	outb(PORT_PIT_CMD, PIT_CH2_MODE0);
	outb(PORT_PIT_CH2, ticks & 0xff);
	outb(PORT_PIT_CH2, (ticks >> 8) & 0xff);   /* counting starts here */
}

/* Wait for OUT2; false if it never came (no PIT). */
static bool pit_wait(u8 gate)
{
	bool done = false;
	for (u32 i = 0; i < PIT_POLL_LIMIT && !(done = inb(PORT_SYS_CTRL_B) & 0x20); i++)
		cpu_relax();
	outb(PORT_SYS_CTRL_B, gate);
	return done;
}

void pit_delay_us(u32 us)
{
	while (us) {
		u32 chunk = MIN(us, 50000u);
		u8 gate;
		pit_start(chunk * 1193u / 1000u + 1, &gate);
		pit_wait(gate);
		us -= chunk;
	}
}

/* TSC ticks over 10 ms of PIT time, the shortest of three runs (an interrupt or an SMI
 * can only lengthen one); 0 when the PIT does not answer. */
static u64 tsc_per_10ms(void)
{
	const u32 ticks = PIT_HZ / 100;
	u64 best = ~0ull;
	for (int run = 0; run < 3; run++) {
		u8 gate;
		pit_start(ticks, &gate);
		u64 t0 = rdtsc();
		bool ok = pit_wait(gate);
		u64 t1 = rdtsc();
		if (!ok)
			return 0;
		best = MIN(best, t1 - t0);
	}
	return best * PIT_HZ / ticks;
}

void tsc_calibrate(void)
{
	u32 a, b, c, d;
	u64 hz = 0;
	const char *how = "PIT channel 2";

	cpuid_count(0, 0, &a, &b, &c, &d);
	if (a >= 0x15) {
		cpuid_count(0x15, 0, &a, &b, &c, &d);
		if (a && b && c) {
			hz = (u64)c * b / a;
			how = "CPUID leaf 0x15";
		}
	}
	if (!hz)
		hz = tsc_per_10ms();
	if (!hz) {
		hz = 1000000000ull;
		how = "assumed: PIT channel 2 does not count";
	}
	tsc_hz = hz;
	pm_timer_factor = clock_factor(ACPI_PM_TIMER_HZ, hz);
	printk("time: TSC %llu.%06llu MHz (%s)\n", (unsigned long long)(hz / 1000000),
	       (unsigned long long)(hz % 1000000), how);
}

u32 pm_timer_read(void)
{
	return (u32)tsc_to_clock(rdtsc(), pm_timer_factor);
}
