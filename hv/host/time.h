/* SPDX-License-Identifier: MIT */
/*
 * Time: the TSC frequency, the PIT channel-2 busy wait, and clocks derived from the
 * TSC (the guests' ACPI PM timer).
 */
#ifndef HV_TIME_H
#define HV_TIME_H

#include "hv/lib/types.h"

/* TSC ticks per second, set once by tsc_calibrate() on the BSP before the APs start. */
extern u64 tsc_hz;

/* Measure the TSC: CPUID leaf 0x15 when it states the crystal frequency, else against
 * PIT channel 2. Prints the result. */
void tsc_calibrate(void);

/* Busy-wait on PIT channel 2 (8254, 1.193182 MHz). */
void pit_delay_us(u32 us);

/* Fixed-point conversion of TSC ticks to ticks of a clock of hz (< 2^32):
 * ticks = (tsc * factor) >> 32 with factor = (hz << 32) / tsc_hz. The product is
 * computed on 128 bits, so any TSC value converts without overflow. */
static inline u64 clock_factor(u64 hz, u64 tsc_freq)
{
	return tsc_freq ? (hz << 32) / tsc_freq : 0;
}

static inline u64 tsc_to_clock(u64 tsc, u64 factor)
{
	return (u64)(((unsigned __int128)tsc * factor) >> 32);
}

/* The ACPI PM timer every guest reads (3.579545 MHz, 32 bits; hv/vio.c). */
extern u64 pm_timer_factor;
u32 pm_timer_read(void);

#endif
