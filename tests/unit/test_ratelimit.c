/* SPDX-License-Identifier: MIT */
/* hv/lib/ratelimit.c: the limit on console lines a guest can cause. */
#include "tests/unit/support.h"
#include "hv/lib/ratelimit.h"

/* 300 lines in one interval (the APIC-base flood of guests/isolate): the burst
 * passes, the rest is counted, and the count comes with the first line of the next
 * interval or from ratelimit_take_suppressed, exactly once. */
static void burst_then_counted(void **state)
{
	(void)state;
	struct ratelimit rl = { 0 };
	u32 rep, passed = 0;
	for (u32 i = 0; i < 300; i++) {
		if (ratelimit_allow(&rl, 1000 + i, 1000000, 10, &rep))
			passed++;
		assert_int_equal(rep, 0);
	}
	assert_int_equal(passed, 10);
	assert_int_equal(rl.suppressed, 290);
	assert_true(ratelimit_allow(&rl, 1000 + 1000000, 1000000, 10, &rep));
	assert_int_equal(rep, 290);
	assert_int_equal(ratelimit_take_suppressed(&rl), 0);
	for (u32 i = 0; i < 12; i++)
		ratelimit_allow(&rl, 1000 + 1000001 + i, 1000000, 10, &rep);
	assert_int_equal(ratelimit_take_suppressed(&rl), 3);
	assert_int_equal(ratelimit_take_suppressed(&rl), 0);
}

/* TSC 0 is a valid first time; a burst of 0 refuses everything. */
static void edges(void **state)
{
	(void)state;
	struct ratelimit rl = { 0 };
	u32 rep;
	assert_true(ratelimit_allow(&rl, 0, 100, 1, &rep));
	assert_false(ratelimit_allow(&rl, 50, 100, 1, &rep));
	assert_true(ratelimit_allow(&rl, 101, 100, 1, &rep));
	assert_int_equal(rep, 1);
	struct ratelimit none = { 0 };
	assert_false(ratelimit_allow(&none, 5, 100, 0, &rep));
	assert_int_equal(ratelimit_take_suppressed(&none), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_counted),
		cmocka_unit_test(edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
