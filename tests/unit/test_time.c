/* SPDX-License-Identifier: MIT */
/* hv/host/time.h: the fixed-point TSC-to-clock conversion behind the guests' ACPI PM timer. */
#include "tests/unit/support.h"
#include "hv/host/time.h"
#include "hv/vm/guest_acpi.h"

/* One second of TSC gives the clock's frequency, within one tick, for TSC rates from
 * an emulator's 100 MHz to 5 GHz. */
static void one_second_is_hz(void **state)
{
	(void)state;
	static const u64 rates[] = { 100000000ull, 1000000000ull, 2419200000ull, 2999999999ull, 5000000000ull };
	for (unsigned i = 0; i < ARRAY_SIZE(rates); i++) {
		u64 f = clock_factor(ACPI_PM_TIMER_HZ, rates[i]);
		u64 ticks = tsc_to_clock(rates[i], f);
		if (ticks > ACPI_PM_TIMER_HZ || ACPI_PM_TIMER_HZ - ticks > 1)
			fail_msg("TSC %llu Hz: one second = %llu PM ticks", (unsigned long long)rates[i],
				 (unsigned long long)ticks);
		/* An hour, too: the error stays relative (below 1e-6). */
		u64 hour = tsc_to_clock(rates[i] * 3600, f);
		u64 want = (u64)ACPI_PM_TIMER_HZ * 3600;
		assert_true(hour <= want && want - hour <= want / 1000000);
	}
}

/* No overflow anywhere in the TSC's range, and the 32-bit timer is monotonic modulo
 * 2^32 as the TSC grows. */
static void no_overflow_and_monotonic(void **state)
{
	(void)state;
	u64 f = clock_factor(ACPI_PM_TIMER_HZ, 2419200000ull);
	u64 big = tsc_to_clock(~0ull, f);
	assert_true(big > 0 && big < ~0ull / 600);   /* 2^64 TSC ticks = ~2^64 / 676 PM ticks */
	u32 prev = (u32)tsc_to_clock(0xfffffffff0000000ull, f);
	for (u64 t = 0xfffffffff0000000ull; t < 0xfffffffff0000000ull + 100000000ull; t += 9973) {
		u32 now = (u32)tsc_to_clock(t, f);
		if ((u32)(now - prev) >= 0x80000000u)
			fail_msg("PM timer went backwards at TSC 0x%llx", (unsigned long long)t);
		prev = now;
	}
	assert_int_equal(clock_factor(ACPI_PM_TIMER_HZ, 0), 0);   /* no TSC rate: a stopped clock */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_second_is_hz),
		cmocka_unit_test(no_overflow_and_monotonic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
