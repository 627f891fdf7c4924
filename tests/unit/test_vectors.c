/* SPDX-License-Identifier: MIT */
/* hv/host/vectors.c: the host vector registry. */
#include "tests/unit/support.h"
#include "hv/host/vectors.h"

static unsigned calls;
static u8 last_vector;
static void *last_arg;

static void handler(u8 vector, void *arg)
{
	calls++;
	last_vector = vector;
	last_arg = arg;
}

static void reset(void)
{
	for (unsigned v = 0; v < 256; v++)
		host_vector_free((u8)v);
	calls = 0;
	last_vector = 0;
	last_arg = NULL;
}

/* A vector has one owner: a second registration fails and leaves the first intact;
 * exceptions (0-31) cannot be taken. */
static void one_owner(void **state)
{
	(void)state;
	reset();
	int token;
	assert_true(host_vector_register(0xef, "timer", handler, &token));
	assert_false(host_vector_register(0xef, "other", NULL, NULL));
	assert_string_equal(host_vector_get(0xef)->name, "timer");
	assert_false(host_vector_register(14, "pf", handler, NULL));
	assert_false(host_vector_register(0x40, NULL, handler, NULL));
	assert_true(host_vector_dispatch(0xef));
	assert_int_equal(calls, 1);
	assert_int_equal(last_vector, 0xef);
	assert_ptr_equal(last_arg, &token);
	assert_int_equal(host_vector_get(0xef)->count, 1);
}

/* Unowned vectors are not dispatched (the caller reports them); an owner without a
 * function is counted only. */
static void unowned_and_eoi_only(void **state)
{
	(void)state;
	reset();
	assert_false(host_vector_dispatch(0x80));
	assert_true(host_vector_register(0xf0, "kick", NULL, NULL));
	assert_true(host_vector_dispatch(0xf0));
	assert_true(host_vector_dispatch(0xf0));
	assert_int_equal(calls, 0);
	assert_int_equal(host_vector_get(0xf0)->count, 2);
	host_vector_free(0xf0);
	assert_false(host_vector_dispatch(0xf0));
}

/* Allocation takes the lowest free vector of the range, skips taken ones, fails when
 * the range is full, and reuses a freed vector. */
static void alloc_range(void **state)
{
	(void)state;
	reset();
	assert_true(host_vector_register(0xe1, "fixed", NULL, NULL));
	assert_int_equal(host_vector_alloc(0xe0, 0xe3, "a", handler, NULL), 0xe0);
	assert_int_equal(host_vector_alloc(0xe0, 0xe3, "b", handler, NULL), 0xe2);
	assert_int_equal(host_vector_alloc(0xe0, 0xe3, "c", handler, NULL), 0xe3);
	assert_int_equal(host_vector_alloc(0xe0, 0xe3, "d", handler, NULL), -1);
	host_vector_free(0xe2);
	assert_int_equal(host_vector_alloc(0xe0, 0xe3, "e", handler, NULL), 0xe2);
	assert_string_equal(host_vector_get(0xe2)->name, "e");
	/* a range reaching into the exceptions starts at 32 */
	assert_int_equal(host_vector_alloc(0, 40, "low", NULL, NULL), 32);
	/* the top vector can be allocated without the loop wrapping */
	assert_int_equal(host_vector_alloc(0xff, 0xff, "top", NULL, NULL), 0xff);
	assert_int_equal(host_vector_alloc(0xff, 0xff, "top2", NULL, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_owner),
		cmocka_unit_test(unowned_and_eoi_only),
		cmocka_unit_test(alloc_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
