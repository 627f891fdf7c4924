/* SPDX-License-Identifier: MIT */
/* hv/mm/frame.c: the physical frame allocator. */
#include "tests/unit/support.h"
#include "hv/mm/mm.h"

static struct frame_pool pool;

static int setup(void **state)
{
	(void)state;
	memset(&pool, 0xa5, sizeof(pool));   /* frame_pool_init must clear everything */
	frame_pool_init(&pool);
	return 0;
}

/* The free list is exactly the n ranges given as base, end pairs. */
static void expect_ranges(u32 n, const u64 *r)
{
	bool ok = pool.n == n;
	for (u32 i = 0; ok && i < n; i++)
		ok = pool.free[i].base == r[2 * i] && pool.free[i].end == r[2 * i + 1];
	if (ok)
		return;
	print_error("free ranges:\n");
	for (u32 i = 0; i < pool.n && i < FRAME_MAX_RANGES; i++)
		print_error("  [0x%llx, 0x%llx)\n", (unsigned long long)pool.free[i].base,
			    (unsigned long long)pool.free[i].end);
	print_error("expected:\n");
	for (u32 i = 0; i < n; i++)
		print_error("  [0x%llx, 0x%llx)\n", (unsigned long long)r[2 * i],
			    (unsigned long long)r[2 * i + 1]);
	fail();
}
#define EXPECT(...) do { \
	const u64 _r[] = { __VA_ARGS__ }; \
	expect_ranges(ARRAY_SIZE(_r) / 2, _r); \
} while (0)

/* Sorted, disjoint, not touching, page aligned, non-empty. */
static void check_invariants(void)
{
	assert_true(pool.n <= FRAME_MAX_RANGES);
	for (u32 i = 0; i < pool.n; i++) {
		assert_true(pool.free[i].base < pool.free[i].end);
		assert_int_equal(pool.free[i].base & 0xfff, 0);
		assert_int_equal(pool.free[i].end & 0xfff, 0);
		if (i)
			assert_true(pool.free[i - 1].end < pool.free[i].base);
	}
}

static void init_is_empty(void **state)
{
	(void)state;
	assert_int_equal(pool.n, 0);
	assert_int_equal(pool.total, 0);
	assert_int_equal(frame_pool_free_bytes(&pool), 0);
	assert_int_equal(frame_pool_alloc(&pool, 4096, 4096), 0);
}

static void add_shrinks_unaligned_ranges_inward(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0x1800, 0x4000);   /* [0x1800, 0x5800) */
	EXPECT(0x2000, 0x5000);
	assert_int_equal(pool.total, 0x3000);
	assert_int_equal(frame_pool_free_bytes(&pool), 0x3000);

	/* less than a whole page after shrinking: nothing */
	frame_pool_add(&pool, 0x10800, 0x1000);
	frame_pool_add(&pool, 0x20000, 0xfff);
	frame_pool_add(&pool, 0x30000, 0);
	EXPECT(0x2000, 0x5000);
	assert_int_equal(pool.total, 0x3000);

	/* a range that runs past the top of the address space is clamped */
	frame_pool_add(&pool, 0xffffffffffff0000ull, 0x20000);
	EXPECT(0x2000, 0x5000, 0xffffffffffff0000ull, 0xfffffffffffff000ull);
	assert_int_equal(pool.total, 0x3000 + 0xf000);
	check_invariants();
}

static void add_keeps_ranges_sorted(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0x100000, 0x100000);
	frame_pool_add(&pool, 0x10000, 0x1000);
	frame_pool_add(&pool, 0x800000, 0x1000);
	frame_pool_add(&pool, 0x50000, 0x2000);
	EXPECT(0x10000, 0x11000, 0x50000, 0x52000, 0x100000, 0x200000, 0x800000, 0x801000);
	check_invariants();
}

static void overlapping_and_touching_adds_merge(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0, 0x3000);
	frame_pool_add(&pool, 0x2000, 0x3000);   /* overlaps */
	EXPECT(0, 0x5000);
	frame_pool_add(&pool, 0x5000, 0x1000);   /* touches */
	EXPECT(0, 0x6000);
	frame_pool_add(&pool, 0x1000, 0x1000);   /* inside */
	EXPECT(0, 0x6000);
	frame_pool_add(&pool, 0x10000, 0x1000);
	frame_pool_add(&pool, 0x20000, 0x1000);
	frame_pool_add(&pool, 0x30000, 0x1000);
	EXPECT(0, 0x6000, 0x10000, 0x11000, 0x20000, 0x21000, 0x30000, 0x31000);
	/* one add bridging three ranges (touching the last one) */
	frame_pool_add(&pool, 0x8000, 0x28000);
	EXPECT(0, 0x6000, 0x8000, 0x31000);
	/* and one swallowing everything */
	frame_pool_add(&pool, 0, 0x40000);
	EXPECT(0, 0x40000);
	assert_int_equal(frame_pool_free_bytes(&pool), 0x40000);
	check_invariants();
}

static void reserve_grows_outward_and_splits(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0, MiB(16));
	frame_pool_reserve(&pool, 0x100800, 0x1000);   /* [0x100800, 0x101800) -> 2 pages */
	EXPECT(0, 0x100000, 0x102000, MiB(16));
	assert_int_equal(frame_pool_free_bytes(&pool), MiB(16) - 0x2000);
	assert_int_equal(pool.total, MiB(16));   /* reserving does not change what was added */

	/* a 1-byte reserve takes its whole page */
	frame_pool_reserve(&pool, 0x200fff, 1);
	EXPECT(0, 0x100000, 0x102000, 0x200000, 0x201000, MiB(16));
	/* at the start of a range, at its end, outside everything */
	frame_pool_reserve(&pool, 0, 0x1000);
	frame_pool_reserve(&pool, MiB(16) - 0x1000, 0x1000);
	frame_pool_reserve(&pool, MiB(32), MiB(1));
	EXPECT(0x1000, 0x100000, 0x102000, 0x200000, 0x201000, MiB(16) - 0x1000);
	/* across several ranges: the ones inside vanish, the outer ones are trimmed */
	frame_pool_reserve(&pool, 0x80000, 0x200000);
	EXPECT(0x1000, 0x80000, 0x280000, MiB(16) - 0x1000);
	/* everything */
	frame_pool_reserve(&pool, 0, ~0ull);
	assert_int_equal(pool.n, 0);
	assert_int_equal(frame_pool_free_bytes(&pool), 0);
	check_invariants();
}

/* An empty reserve must neither take a page nor cut a free range in two (after which
 * no allocation could span the cut). */
static void reserve_zero_length_is_a_no_op(void **state)
{
	(void)state;
	frame_pool_add(&pool, MiB(1), MiB(4));
	frame_pool_reserve(&pool, MiB(3), 0);
	EXPECT(MiB(1), MiB(5));
	frame_pool_reserve(&pool, MiB(3) + 0x800, 0);
	EXPECT(MiB(1), MiB(5));
	assert_int_equal(frame_pool_alloc(&pool, MiB(4), 4096), MiB(1));
	assert_int_equal(pool.n, 0);
}

static void reserve_at_the_top_of_the_address_space(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0xffffffffff000000ull, 0x1000000);   /* clamped to ...fffff000 */
	EXPECT(0xffffffffff000000ull, 0xfffffffffffff000ull);
	/* the last page of the pool, given by a length that runs to 2^64 */
	frame_pool_reserve(&pool, 0xffffffffffffe000ull, 0x2000);
	EXPECT(0xffffffffff000000ull, 0xffffffffffffe000ull);
	/* an unaligned end in the last page of the address space */
	frame_pool_reserve(&pool, 0xffffffffffffd000ull, 0x2800);
	EXPECT(0xffffffffff000000ull, 0xffffffffffffd000ull);
	/* a length that overflows */
	frame_pool_reserve(&pool, 0xffffffffff800000ull, ~0ull);
	EXPECT(0xffffffffff000000ull, 0xffffffffff800000ull);
	check_invariants();
}

static void alloc_with_alignment(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0x1000, 0x5ff000);   /* [0x1000, 0x600000) */
	assert_int_equal(frame_pool_alloc(&pool, 0x1000, MiB(2)), 0x200000);
	EXPECT(0x1000, 0x200000, 0x201000, 0x600000);
	/* the next 2 MiB aligned block of 2 MiB: 0x400000 */
	assert_int_equal(frame_pool_alloc(&pool, MiB(2), MiB(2)), 0x400000);
	EXPECT(0x1000, 0x200000, 0x201000, 0x400000);
	/* no 2 MiB aligned 4 KiB left anywhere */
	assert_int_equal(frame_pool_alloc(&pool, 0x1000, MiB(2)), 0);
	/* 64 KiB alignment inside the first range */
	assert_int_equal(frame_pool_alloc(&pool, 0x3000, 0x10000), 0x10000);
	EXPECT(0x1000, 0x10000, 0x13000, 0x200000, 0x201000, 0x400000);
	check_invariants();
}

static void alloc_first_fit_and_rounding(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0x10000, 0x2000);
	frame_pool_add(&pool, 0x100000, 0x100000);
	assert_int_equal(frame_pool_alloc(&pool, 1, 4096), 0x10000);       /* rounded up to a page */
	assert_int_equal(frame_pool_alloc(&pool, 0x2000, 4096), 0x100000); /* first range too small */
	assert_int_equal(frame_pool_alloc(&pool, 0x1000, 4096), 0x11000);  /* back to the first range */
	assert_int_equal(frame_pool_alloc(&pool, 0x1001, 4096), 0x102000); /* two pages */
	assert_int_equal(frame_pool_alloc(&pool, 0x1000, 4096), 0x104000);
	EXPECT(0x105000, 0x200000);
	check_invariants();
}

static void alloc_exhaustion(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0x10000, 0x4000);
	frame_pool_add(&pool, 0x20000, 0x4000);
	/* 8 pages free, but no 5 contiguous */
	assert_int_equal(frame_pool_alloc(&pool, 0x5000, 4096), 0);
	assert_int_equal(frame_pool_free_bytes(&pool), 0x8000);
	for (int i = 0; i < 8; i++)
		assert_int_not_equal(frame_pool_alloc(&pool, 4096, 4096), 0);
	assert_int_equal(frame_pool_alloc(&pool, 4096, 4096), 0);
	assert_int_equal(pool.n, 0);
	assert_int_equal(frame_pool_free_bytes(&pool), 0);
}

static void alloc_refuses_bad_arguments(void **state)
{
	(void)state;
	frame_pool_add(&pool, MiB(1), GiB(1));
	assert_int_equal(frame_pool_alloc(&pool, 0, 4096), 0);          /* nothing */
	assert_int_equal(frame_pool_alloc(&pool, 4096, 0), 0);
	assert_int_equal(frame_pool_alloc(&pool, 4096, 1), 0);          /* < 4 KiB */
	assert_int_equal(frame_pool_alloc(&pool, 4096, 2048), 0);
	assert_int_equal(frame_pool_alloc(&pool, 4096, 0x3000), 0);     /* not a power of two */
	assert_int_equal(frame_pool_alloc(&pool, 4096, 0x6000), 0);
	assert_int_equal(frame_pool_alloc(&pool, 4096, (1ull << 63) + 4096), 0);
	/* more than there is */
	assert_int_equal(frame_pool_alloc(&pool, GiB(1) + 4096, 4096), 0);
	/* a size whose page rounding overflows must not "succeed" with nothing reserved */
	assert_int_equal(frame_pool_alloc(&pool, ~0ull, 4096), 0);
	assert_int_equal(frame_pool_alloc(&pool, ~0ull - 4095, 4096), 0);
	/* an alignment beyond every address */
	assert_int_equal(frame_pool_alloc(&pool, 4096, 1ull << 63), 0);
	EXPECT(MiB(1), MiB(1) + GiB(1));
}

static void alloc_alignment_overflow_near_the_top(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0xfffffffffff00000ull, 0x80000);
	/* aligning the base up to 1 GiB wraps around: no block */
	assert_int_equal(frame_pool_alloc(&pool, 4096, GiB(1)), 0);
	assert_int_equal(frame_pool_alloc(&pool, 4096, 4096), 0xfffffffffff00000ull);
}

static void free_merges_neighbours(void **state)
{
	(void)state;
	frame_pool_add(&pool, 0x100000, 0x100000);
	u64 before = frame_pool_free_bytes(&pool);
	u64 a = frame_pool_alloc(&pool, 0x3000, 4096);
	u64 b = frame_pool_alloc(&pool, 0x1000, 4096);
	u64 c = frame_pool_alloc(&pool, 0x2000, 0x10000);   /* leaves a gap before it */
	u64 d = frame_pool_alloc(&pool, 0x1000, 4096);
	assert_int_equal(a, 0x100000);
	assert_int_equal(b, 0x103000);
	assert_int_equal(c, 0x110000);
	assert_int_equal(d, 0x104000);
	EXPECT(0x105000, 0x110000, 0x112000, 0x200000);

	frame_pool_free(&pool, b, 0x1000);   /* between a and d: a range of its own */
	EXPECT(0x103000, 0x104000, 0x105000, 0x110000, 0x112000, 0x200000);
	frame_pool_free(&pool, d, 0x1000);   /* joins b and the free range after it */
	EXPECT(0x103000, 0x110000, 0x112000, 0x200000);
	frame_pool_free(&pool, c, 0x1800);   /* rounded up to 2 pages: everything after a */
	EXPECT(0x103000, 0x200000);
	frame_pool_free(&pool, a, 0x3000);
	EXPECT(0x100000, 0x200000);
	assert_int_equal(frame_pool_free_bytes(&pool), before);
	/* freeing nothing is a no-op */
	frame_pool_free(&pool, 0x300000, 0);
	EXPECT(0x100000, 0x200000);
	check_invariants();
}

static void free_into_an_empty_pool(void **state)
{
	(void)state;
	frame_pool_free(&pool, 0x5000, 0x2000);
	EXPECT(0x5000, 0x7000);
	assert_int_equal(frame_pool_alloc(&pool, 0x2000, 4096), 0x5000);
	assert_int_equal(pool.n, 0);
}

static void range_table_full(void **state)
{
	(void)state;
	for (u64 i = 0; i < FRAME_MAX_RANGES; i++)
		frame_pool_add(&pool, i * 0x10000, 0x1000);
	assert_int_equal(pool.n, FRAME_MAX_RANGES);
	/* one more disjoint range: dropped, but nothing is overwritten */
	frame_pool_add(&pool, 0x10000000, 0x1000);
	assert_int_equal(pool.n, FRAME_MAX_RANGES);
	assert_int_equal(pool.free[FRAME_MAX_RANGES - 1].base, (FRAME_MAX_RANGES - 1) * 0x10000ull);
	/* merging still works when full */
	frame_pool_add(&pool, 0x1000, 0x1000);
	assert_int_equal(pool.free[0].end, 0x2000);
	/* splitting when full loses at most the part that does not fit, never corrupts */
	frame_pool_reserve(&pool, 0x1000, 0x0);
	frame_pool_add(&pool, 0x20000, 0x3000);
	frame_pool_reserve(&pool, 0x21000, 0x1000);
	check_invariants();
	assert_int_equal(pool.free[2].base, 0x20000);
	assert_int_equal(pool.free[2].end, 0x21000);
}

#define T(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(init_is_empty),
		T(add_shrinks_unaligned_ranges_inward),
		T(add_keeps_ranges_sorted),
		T(overlapping_and_touching_adds_merge),
		T(reserve_grows_outward_and_splits),
		T(reserve_zero_length_is_a_no_op),
		T(reserve_at_the_top_of_the_address_space),
		T(alloc_with_alignment),
		T(alloc_first_fit_and_rounding),
		T(alloc_exhaustion),
		T(alloc_refuses_bad_arguments),
		T(alloc_alignment_overflow_near_the_top),
		T(free_merges_neighbours),
		T(free_into_an_empty_pool),
		T(range_table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
