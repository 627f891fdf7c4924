/* SPDX-License-Identifier: MIT */
/* hv/dev/mark_fmt.c: the measurement mark's line (hv/dev/mark.h). */
#include "tests/unit/support.h"
#include "hv/dev/mark.h"
#include "hv/lib/lib.h"

static const char *const names[] = { "ext_int", "hlt", "io", "msr_write", "ept_violation" };

static const char *name_of(unsigned i)
{
	return i < ARRAY_SIZE(names) ? names[i] : "unknown";
}

/* Every nonzero count, named, in index order; zero counts are left out. */
static void counts_in_order(void **state)
{
	(void)state;
	u64 by[5] = { 12, 0, 345, 0, 6 };
	char buf[200];
	size_t n = mark_format(buf, sizeof(buf), "vmlinuz", 3, 123456789012ull, 363, by, 5, name_of, NULL);
	assert_string_equal(buf, "mark vm=vmlinuz value=3 tsc=123456789012 exits=363 ext_int=12 io=345 ept_violation=6");
	assert_int_equal(n, strlen(buf));
}

/* No exit yet: the line ends after the total. */
static void no_exits(void **state)
{
	(void)state;
	u64 by[5] = { 0 };
	char buf[100];
	mark_format(buf, sizeof(buf), "a", 255, 0, 0, by, 5, name_of, NULL);
	assert_string_equal(buf, "mark vm=a value=255 tsc=0 exits=0");
}

/* A list longer than the buffer is cut before the first item that does not fit whole,
 * and says so. */
static void cut_at_whole_item(void **state)
{
	(void)state;
	u64 by[5] = { 1, 2, 3, 4, 5 };
	const char *head = "mark vm=v value=1 tsc=7 exits=15 ext_int=1 hlt=2";
	char buf[64];
	/* room for head, " io=3" would need 5 more + NUL: give it 4 more, which " ..." takes */
	size_t len = strlen(head) + 4 + 1;
	assert_true(len <= sizeof(buf));
	size_t n = mark_format(buf, len, "v", 1, 7, 15, by, 5, name_of, NULL);
	assert_string_equal(buf, "mark vm=v value=1 tsc=7 exits=15 ext_int=1 hlt=2 ...");
	assert_int_equal(n, len - 1);
	/* one byte more: io=3 fits, msr_write=4 does not, and neither does " ..." after it */
	n = mark_format(buf, len + 1, "v", 1, 7, 15, by, 5, name_of, NULL);
	assert_string_equal(buf, "mark vm=v value=1 tsc=7 exits=15 ext_int=1 hlt=2 io=3");
	assert_int_equal(n, strlen(buf));
}

/* A buffer shorter than the head: cut, NUL terminated, nothing written past len. */
static void tiny_buffer(void **state)
{
	(void)state;
	u64 by[5] = { 9, 9, 9, 9, 9 };
	char buf[16];
	memset(buf, 'Z', sizeof(buf));
	size_t n = mark_format(buf, 10, "vm", 1, 1, 45, by, 5, name_of, NULL);
	assert_int_equal(n, 9);
	assert_string_equal(buf, "mark vm=v");
	assert_int_equal(buf[10], 'Z');
	assert_int_equal(mark_format(buf, 0, "vm", 1, 1, 45, by, 5, name_of, NULL), 0);
	assert_int_equal(buf[0], 'm');
}

/* The tail follows the counts after "; ", and the counts are cut to keep it whole; an
 * empty tail adds nothing. */
static void tail_kept(void **state)
{
	(void)state;
	u64 by[5] = { 1, 2, 3, 4, 5 };
	const char *tail = "virtio-blk requests=10 kicks=9";
	char buf[200];
	mark_format(buf, sizeof(buf), "v", 2, 7, 15, by, 5, name_of, tail);
	assert_string_equal(buf, "mark vm=v value=2 tsc=7 exits=15 ext_int=1 hlt=2 io=3 msr_write=4 ept_violation=5; "
				 "virtio-blk requests=10 kicks=9");
	mark_format(buf, sizeof(buf), "v", 2, 7, 15, by, 5, name_of, "");
	assert_string_equal(buf, "mark vm=v value=2 tsc=7 exits=15 ext_int=1 hlt=2 io=3 msr_write=4 ept_violation=5");
	/* room for the head, " ext_int=1 hlt=2 ..." and the tail, not for " io=3" */
	const char *want = "mark vm=v value=2 tsc=7 exits=15 ext_int=1 hlt=2 ...; virtio-blk requests=10 kicks=9";
	size_t n = mark_format(buf, strlen(want) + 1, "v", 2, 7, 15, by, 5, name_of, tail);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	/* a tail that cannot fit is left out whole */
	n = mark_format(buf, 40, "v", 2, 7, 15, by, 5, name_of, tail);
	assert_null(strstr(buf, "virtio-blk"));
	assert_int_equal(n, strlen(buf));
	assert_true(n < 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_in_order),
		cmocka_unit_test(no_exits),
		cmocka_unit_test(cut_at_whole_item),
		cmocka_unit_test(tiny_buffer),
		cmocka_unit_test(tail_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
