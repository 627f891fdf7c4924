/* SPDX-License-Identifier: MIT */
/* hv/lib/format.c: console lines cut at the buffer's end still end their line. */
#include "tests/unit/support.h"
#include "hv/lib/lib.h"

/* A line that fits is left alone. */
static void line_fits(void **state)
{
	(void)state;
	char buf[16];
	int n = hv_snprintf(buf, sizeof(buf), "abc %d\n", 7);
	assert_int_equal(hv_line_fit(buf, sizeof(buf), (size_t)n, "abc %d\n"), 6);
	assert_string_equal(buf, "abc 7\n");
}

/* 511 bytes of a 600-byte line: the cut line ends in "...\n" (it was glued to the next
 * one before). */
static void long_line_keeps_newline(void **state)
{
	(void)state;
	char buf[512], arg[600];
	memset(arg, 'x', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	int n = hv_snprintf(buf, sizeof(buf), "%s\n", arg);
	size_t len = hv_line_fit(buf, sizeof(buf), (size_t)n, "%s\n");
	assert_int_equal(len, 511);
	assert_int_equal(strlen(buf), 511);
	assert_memory_equal(buf + 507, "...\n", 4);
}

/* A format without a newline (a line continued by the next printk) is only cut. */
static void cut_without_newline(void **state)
{
	(void)state;
	char buf[8];
	int n = hv_snprintf(buf, sizeof(buf), "%s", "0123456789");
	assert_int_equal(hv_line_fit(buf, sizeof(buf), (size_t)n, "%s"), 7);
	assert_string_equal(buf, "0123456");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_fits),
		cmocka_unit_test(long_line_keeps_newline),
		cmocka_unit_test(cut_without_newline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
