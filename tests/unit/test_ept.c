/* SPDX-License-Identifier: MIT */
/* arch/x86/vmx/ept.c: EPT construction and translation with a fake page allocator. */
#include "tests/unit/support.h"
#include "arch/x86/vmx/ept.h"

/* Page-table pages come from a static pool; their fake physical addresses start here. */
#define POOL_PA 0x7f000000ull
#define POOL_PAGES 64

static u64 pool[POOL_PAGES][512] __aligned(4096);
static unsigned pool_used, pool_limit;

static void *fake_alloc(void *ctx, u64 *pa)
{
	assert_ptr_equal(ctx, &pool);
	if (pool_used >= pool_limit)
		return NULL;
	memset(pool[pool_used], 0xcc, sizeof(pool[0]));   /* poison, then zero: must be zeroed */
	memset(pool[pool_used], 0, sizeof(pool[0]));
	*pa = POOL_PA + (u64)pool_used * 4096;
	return pool[pool_used++];
}

static void *fake_to_virt(void *ctx, u64 pa)
{
	assert_ptr_equal(ctx, &pool);
	if (pa < POOL_PA || pa >= POOL_PA + (u64)pool_used * 4096 || (pa & 0xfff))
		fail_msg("to_virt(0x%llx): not a page-table page", (unsigned long long)pa);
	return pool[(pa - POOL_PA) / 4096];
}

static const struct ept_alloc alloc = { fake_alloc, fake_to_virt, &pool };

static struct ept ept;

static int setup(void **state)
{
	(void)state;
	pool_used = 0;
	pool_limit = POOL_PAGES;
	return 0;
}

static void init(bool use_2m, bool use_1g)
{
	assert_true(ept_init(&ept, &alloc, use_2m, use_1g));
	assert_int_equal(pool_used, 1);
}

/* Translate gpa and check the HPA, the leaf size, permissions and memory type. */
static void expect_map(u64 gpa, u64 hpa, u64 size, u64 perm, u64 mt)
{
	u64 h = 0, e = 0, s = 0;
	if (!ept_translate(&ept, gpa, &h, &e, &s))
		fail_msg("gpa 0x%llx not mapped", (unsigned long long)gpa);
	if (h != hpa || s != size)
		fail_msg("gpa 0x%llx -> hpa 0x%llx size 0x%llx, expected 0x%llx size 0x%llx",
			 (unsigned long long)gpa, (unsigned long long)h, (unsigned long long)s,
			 (unsigned long long)hpa, (unsigned long long)size);
	assert_int_equal(e & EPT_RWX, perm);
	assert_int_equal((e >> 3) & 7, mt);
	assert_int_equal(!!(e & EPT_LARGE), size > 4096);
}

static void expect_unmapped(u64 gpa)
{
	u64 h = 0xdead;
	if (ept_translate(&ept, gpa, &h, NULL, NULL))
		fail_msg("gpa 0x%llx unexpectedly mapped to 0x%llx", (unsigned long long)gpa,
			 (unsigned long long)h);
}

static void eptp_has_wb_and_walk_length_4(void **state)
{
	(void)state;
	init(true, false);
	assert_int_equal(ept.root_pa, POOL_PA);
	assert_ptr_equal(ept.root, pool[0]);
	u64 eptp = ept_pointer(&ept);
	assert_int_equal(eptp & 7, 6);            /* bits 2:0 memory type WB */
	assert_int_equal((eptp >> 3) & 7, 3);     /* bits 5:3 walk length - 1 */
	assert_int_equal(eptp & ~0xfffull, POOL_PA);
	assert_int_equal(eptp & 0xfc0, 0);        /* no A/D flags, reserved bits clear */
	for (int i = 0; i < 512; i++)
		assert_int_equal(ept.root[i], 0);
}

static void map_16m_with_2m_pages(void **state)
{
	(void)state;
	init(true, false);
	assert_true(ept_map(&ept, 0, 0x400000, MiB(16), EPT_RWX, EPT_MT_WB));
	assert_int_equal(pool_used, 3);   /* PML4, PDPT, PD: no page tables */
	for (u64 off = 0; off < MiB(16); off += MiB(2))
		expect_map(off, 0x400000 + off, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(0x123456, 0x523456, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(MiB(16) - 1, 0x400000 + MiB(16) - 1, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_unmapped(MiB(16));
	expect_unmapped(GiB(1));
	expect_unmapped(GiB(512));

	/* the raw entries: non-leaf entries RWX with the next table's address */
	assert_int_equal(ept.root[0], (POOL_PA + 4096) | EPT_RWX);
	assert_int_equal(pool[1][0], (POOL_PA + 8192) | EPT_RWX);
	assert_int_equal(pool[2][1], 0x600000ull | EPT_RWX | (EPT_MT_WB << 3) | EPT_LARGE);
	assert_int_equal(pool[2][8], 0);
}

static void map_16m_with_4k_pages(void **state)
{
	(void)state;
	init(false, false);
	assert_true(ept_map(&ept, 0, 0x400000, MiB(16), EPT_RWX, EPT_MT_WB));
	assert_int_equal(pool_used, 3 + 8);   /* PML4, PDPT, PD and 8 page tables */
	for (u64 off = 0; off < MiB(16); off += 0x3000)
		expect_map(off + 0x10, 0x400010 + off, 4096, EPT_RWX, EPT_MT_WB);
	expect_map(MiB(16) - 4096, 0x400000 + MiB(16) - 4096, 4096, EPT_RWX, EPT_MT_WB);
	expect_unmapped(MiB(16));
	assert_int_equal(pool[3][5], 0x405000ull | EPT_RWX | (EPT_MT_WB << 3));
}

static void map_with_1g_pages(void **state)
{
	(void)state;
	init(true, true);
	/* 2 GiB + 4 MiB + 8 KiB at 1 GiB: two 1 GiB pages, two 2 MiB pages, two 4 KiB pages */
	u64 size = GiB(2) + MiB(4) + 8192;
	assert_true(ept_map(&ept, GiB(1), GiB(4), size, EPT_RWX, EPT_MT_WB));
	assert_int_equal(pool_used, 4);   /* PML4, PDPT, one PD, one PT */
	expect_map(GiB(1), GiB(4), GiB(1), EPT_RWX, EPT_MT_WB);
	expect_map(GiB(2) + 0x12345678, GiB(5) + 0x12345678, GiB(1), EPT_RWX, EPT_MT_WB);
	expect_map(GiB(3), GiB(6), MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(GiB(3) + MiB(2) + 5, GiB(6) + MiB(2) + 5, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(GiB(3) + MiB(4), GiB(6) + MiB(4), 4096, EPT_RWX, EPT_MT_WB);
	expect_map(GiB(3) + MiB(4) + 4096, GiB(6) + MiB(4) + 4096, 4096, EPT_RWX, EPT_MT_WB);
	expect_unmapped(GiB(3) + MiB(4) + 8192);
	expect_unmapped(GiB(1) - 1);
	expect_unmapped(0);
}

static void map_1g_allowed_but_misaligned(void **state)
{
	(void)state;
	init(true, true);
	/* the HPA is only 2 MiB aligned: no 1 GiB page */
	assert_true(ept_map(&ept, GiB(1), GiB(1) + MiB(2), GiB(1), EPT_RWX, EPT_MT_WB));
	expect_map(GiB(1), GiB(1) + MiB(2), MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(GiB(2) - 1, GiB(2) + MiB(2) - 1, MiB(2), EPT_RWX, EPT_MT_WB);

	/* 1 GiB pages supported, 2 MiB not chosen: aligned 1 GiB, the rest 4 KiB */
	setup(NULL);
	init(false, true);
	assert_true(ept_map(&ept, 0, 0, GiB(1) + MiB(2), EPT_RWX, EPT_MT_WB));
	expect_map(GiB(1) - 4096, GiB(1) - 4096, GiB(1), EPT_RWX, EPT_MT_WB);
	expect_map(GiB(1) + MiB(2) - 4096, GiB(1) + MiB(2) - 4096, 4096, EPT_RWX, EPT_MT_WB);
}

static void map_mixed_alignment_splits(void **state)
{
	(void)state;
	init(true, false);
	/* 4 KiB below a 2 MiB boundary, two 2 MiB pages, 8 KiB after */
	u64 gpa = 0x1ff000, hpa = 0x5ff000, size = 0x1000 + MiB(4) + 0x2000;
	assert_true(ept_map(&ept, gpa, hpa, size, EPT_RWX, EPT_MT_WB));
	expect_map(0x1ff000, 0x5ff000, 4096, EPT_RWX, EPT_MT_WB);
	expect_map(0x200000, 0x600000, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(0x3fffff, 0x7fffff, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(0x400000, 0x800000, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(0x600000, 0xa00000, 4096, EPT_RWX, EPT_MT_WB);
	expect_map(0x601fff, 0xa01fff, 4096, EPT_RWX, EPT_MT_WB);
	expect_unmapped(0x1fe000);
	expect_unmapped(0x602000);

	/* GPA 2 MiB aligned but HPA only 4 KiB aligned: every page 4 KiB */
	setup(NULL);
	init(true, false);
	assert_true(ept_map(&ept, MiB(2), MiB(8) + 0x1000, MiB(4), EPT_RWX, EPT_MT_WB));
	expect_map(MiB(2), MiB(8) + 0x1000, 4096, EPT_RWX, EPT_MT_WB);
	expect_map(MiB(6) - 4096, MiB(12), 4096, EPT_RWX, EPT_MT_WB);
	assert_int_equal(pool_used, 3 + 2);

	/* aligned but smaller than 2 MiB: 4 KiB pages */
	setup(NULL);
	init(true, false);
	assert_true(ept_map(&ept, 0, 0, MiB(2) - 4096, EPT_RWX, EPT_MT_WB));
	expect_map(MiB(2) - 8192, MiB(2) - 8192, 4096, EPT_RWX, EPT_MT_WB);
	expect_unmapped(MiB(2) - 4096);
}

static void map_permissions_and_memory_type(void **state)
{
	(void)state;
	init(true, false);
	assert_true(ept_map(&ept, 0, 0x10000, 4096, EPT_READ, EPT_MT_UC));
	assert_true(ept_map(&ept, 0x1000, 0x20000, 4096, EPT_READ | EPT_EXEC, EPT_MT_WT));
	assert_true(ept_map(&ept, MiB(2), MiB(2), MiB(2), EPT_READ | EPT_WRITE, EPT_MT_WC));
	expect_map(0x10, 0x10010, 4096, EPT_READ, EPT_MT_UC);
	expect_map(0x1010, 0x20010, 4096, EPT_READ | EPT_EXEC, EPT_MT_WT);
	expect_map(MiB(3), MiB(3), MiB(2), EPT_READ | EPT_WRITE, EPT_MT_WC);
	/* stray bits of perm are not written into the entry */
	assert_true(ept_map(&ept, 0x2000, 0x30000, 4096, EPT_RWX | BIT64(8) | BIT64(63), EPT_MT_WB));
	u64 e = 0;
	assert_true(ept_translate(&ept, 0x2000, NULL, &e, NULL));
	assert_int_equal(e, 0x30000ull | EPT_RWX | (EPT_MT_WB << 3));
	/* no permission at all is refused (it would be a non-present entry) */
	assert_false(ept_map(&ept, 0x3000, 0x40000, 4096, 0, EPT_MT_WB));
	expect_unmapped(0x3000);
}

static void translate_null_outputs_and_unmapped(void **state)
{
	(void)state;
	init(true, true);
	expect_unmapped(0);
	assert_true(ept_map(&ept, 0x5000, 0x9000, 4096, EPT_RWX, EPT_MT_WB));
	assert_true(ept_translate(&ept, 0x5fff, NULL, NULL, NULL));
	expect_unmapped(0x4fff);
	expect_unmapped(0x6000);
	expect_unmapped(0x5000 + MiB(2));      /* other PD entry */
	expect_unmapped(0x5000 + GiB(1));      /* other PDPT entry */
	expect_unmapped(0x5000 + GiB(512));    /* other PML4 entry */
	expect_unmapped(0xfffffffffffff000ull);
}

static void map_across_a_pml4_boundary(void **state)
{
	(void)state;
	init(true, true);
	assert_true(ept_map(&ept, GiB(512) - 4096, 0x100000, 8192, EPT_RWX, EPT_MT_WB));
	expect_map(GiB(512) - 4096, 0x100000, 4096, EPT_RWX, EPT_MT_WB);
	expect_map(GiB(512), 0x101000, 4096, EPT_RWX, EPT_MT_WB);
	assert_int_equal(pool_used, 1 + 2 * 3);
	assert_true(ept.root[0] & EPT_RWX);
	assert_true(ept.root[1] & EPT_RWX);
}

static void unaligned_arguments_are_refused(void **state)
{
	(void)state;
	init(true, true);
	assert_false(ept_map(&ept, 0x1001, 0x2000, 0x1000, EPT_RWX, EPT_MT_WB));
	assert_false(ept_map(&ept, 0x1000, 0x2800, 0x1000, EPT_RWX, EPT_MT_WB));
	assert_false(ept_map(&ept, 0x1000, 0x2000, 0x1001, EPT_RWX, EPT_MT_WB));
	assert_false(ept_map(&ept, 0x1000, 0x2000, 0xfff, EPT_RWX, EPT_MT_WB));
	assert_int_equal(pool_used, 1);   /* nothing was built */
	expect_unmapped(0x1000);
	/* size 0 maps nothing and is not an error */
	assert_true(ept_map(&ept, 0x1000, 0x2000, 0, EPT_RWX, EPT_MT_WB));
	expect_unmapped(0x1000);
}

/* Every 4 KiB page of [gpa, gpa+size) translates to hpa + offset in a leaf of leaf_size
 * with perm and mt, except the page at skip (if any). */
static void expect_range(u64 gpa, u64 hpa, u64 size, u64 leaf_size, u64 perm, u64 mt, u64 skip)
{
	for (u64 o = 0; o < size; o += 4096)
		if (gpa + o != skip)
			expect_map(gpa + o + 0x10, hpa + o + 0x10, leaf_size, perm, mt);
}

static void map_4k_inside_2m_splits(void **state)
{
	(void)state;
	init(true, false);
	assert_true(ept_map(&ept, MiB(2), MiB(8), MiB(2), EPT_READ | EPT_EXEC, EPT_MT_WT));
	assert_false(ept.flush_needed);   /* built, nothing live changed */
	unsigned before = pool_used;
	/* a 4 KiB page inside the 2 MiB page: split into 512 4 KiB pages, one replaced */
	assert_true(ept_map(&ept, MiB(2) + 0x5000, 0x40000, 4096, EPT_RWX, EPT_MT_UC));
	assert_int_equal(pool_used, before + 1);   /* one page table */
	assert_int_equal(ept.splits, 1);
	assert_true(ept.flush_needed);
	expect_map(MiB(2) + 0x5008, 0x40008, 4096, EPT_RWX, EPT_MT_UC);
	/* the other 511 pages: same frames, permissions and memory type as before */
	expect_range(MiB(2), MiB(8), MiB(2), 4096, EPT_READ | EPT_EXEC, EPT_MT_WT, MiB(2) + 0x5000);
	expect_unmapped(MiB(2) - 4096);
	expect_unmapped(MiB(4));
	/* remapping a 4 KiB page replaces it, without another split */
	assert_true(ept_map(&ept, MiB(2) + 0x5000, 0x20000, 4096, EPT_READ, EPT_MT_WB));
	expect_map(MiB(2) + 0x5000, 0x20000, 4096, EPT_READ, EPT_MT_WB);
	assert_int_equal(ept.splits, 1);
	assert_int_equal(pool_used, before + 1);
}

static void map_4k_inside_1g_splits_twice(void **state)
{
	(void)state;
	init(true, true);
	assert_true(ept_map(&ept, GiB(4), GiB(1), GiB(1), EPT_RWX, EPT_MT_WB));
	expect_map(GiB(4) + 0x123456, GiB(1) + 0x123456, GiB(1), EPT_RWX, EPT_MT_WB);
	unsigned before = pool_used;
	/* the LAPIC-style page at +0x3ee00000: 1 GiB -> 512 x 2 MiB, then one 2 MiB -> 4 KiB */
	u64 g = GiB(4) + 0x3ee00000;
	assert_true(ept_map(&ept, g, 0x7000, 4096, EPT_READ | EPT_WRITE, EPT_MT_UC));
	assert_int_equal(ept.splits, 2);
	assert_int_equal(pool_used, before + 2);   /* a page directory and a page table */
	expect_map(g + 0xff0, 0x7ff0, 4096, EPT_READ | EPT_WRITE, EPT_MT_UC);
	expect_range(g, GiB(1) + 0x3ee00000, MiB(2), 4096, EPT_RWX, EPT_MT_WB, g);
	/* the rest of the 1 GiB page: 2 MiB pages, same translation */
	for (u64 o = 0; o < GiB(1); o += MiB(2))
		if (GiB(4) + o != g)
			expect_map(GiB(4) + o + 0x1234, GiB(1) + o + 0x1234, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_unmapped(GiB(5));
	expect_unmapped(GiB(4) - 4096);
}

static void split_keeps_ignore_pat_and_other_bits(void **state)
{
	(void)state;
	init(true, false);
	assert_true(ept_map(&ept, 0, MiB(4), MiB(2), EPT_READ, EPT_MT_WP));
	/* bits the mapper does not set itself (ignore-PAT; bit 63, suppress #VE) survive */
	u64 *pd = fake_to_virt(&pool, ept.root[0] & EPT_ADDR_MASK);
	pd = fake_to_virt(&pool, pd[0] & EPT_ADDR_MASK);
	pd[0] |= EPT_IGNORE_PAT | BIT64(63);
	assert_true(ept_unmap(&ept, 0x3000, 4096));
	u64 e = 0;
	assert_true(ept_translate(&ept, 0x4000, NULL, &e, NULL));
	assert_int_equal(e, (MiB(4) + 0x4000) | EPT_READ | (EPT_MT_WP << 3) | EPT_IGNORE_PAT | BIT64(63));
	assert_false(e & EPT_LARGE);
	expect_unmapped(0x3000);
}

static void map_large_over_a_table_keeps_the_table(void **state)
{
	(void)state;
	init(true, false);
	assert_true(ept_map(&ept, MiB(2) + 0x1000, 0x10000, 4096, EPT_READ, EPT_MT_UC));
	unsigned before = pool_used;
	/* a 2 MiB mapping where a page table already is: it goes into the table */
	assert_true(ept_map(&ept, MiB(2), MiB(10), MiB(2), EPT_RWX, EPT_MT_WB));
	assert_int_equal(pool_used, before);
	expect_range(MiB(2), MiB(10), MiB(2), 4096, EPT_RWX, EPT_MT_WB, 0);
	assert_true(ept.flush_needed);   /* the 4 KiB page changed */
}

static void unmap_pages_and_ranges(void **state)
{
	(void)state;
	init(true, true);
	assert_true(ept_map(&ept, 0, 0, GiB(2), EPT_RWX, EPT_MT_WB));
	/* a whole 1 GiB leaf */
	assert_true(ept_unmap(&ept, GiB(1), GiB(1)));
	assert_int_equal(ept.splits, 0);
	assert_true(ept.flush_needed);
	expect_unmapped(GiB(1));
	expect_unmapped(GiB(2) - 1);
	expect_map(GiB(1) - 1, GiB(1) - 1, GiB(1), EPT_RWX, EPT_MT_WB);
	/* the IOAPIC-style 4 KiB page inside the first 1 GiB: split 1G, then 2M */
	ept.flush_needed = false;
	assert_true(ept_unmap(&ept, 0x3ec00000, 4096));
	assert_int_equal(ept.splits, 2);
	assert_true(ept.flush_needed);
	expect_unmapped(0x3ec00000);
	expect_unmapped(0x3ec00fff);
	expect_map(0x3ebff000, 0x3ebff000, MiB(2), EPT_RWX, EPT_MT_WB);   /* the 2 MiB page before */
	expect_map(0x3ec01000, 0x3ec01000, 4096, EPT_RWX, EPT_MT_WB);
	expect_map(0x3ec01000, 0x3ec01000, 4096, EPT_RWX, EPT_MT_WB);
	expect_map(0x3ea00000, 0x3ea00000, MiB(2), EPT_RWX, EPT_MT_WB);
	expect_map(0x3ee00000, 0x3ee00000, MiB(2), EPT_RWX, EPT_MT_WB);
	/* a range across unmapped parts, partial 2 MiB pages and whole ones */
	assert_true(ept_unmap(&ept, MiB(3), GiB(2)));
	expect_map(MiB(3) - 4096, MiB(3) - 4096, 4096, EPT_RWX, EPT_MT_WB);
	expect_unmapped(MiB(3));
	expect_unmapped(MiB(500));
	expect_unmapped(GiB(1) - 4096);
	/* unmapping what is not mapped: nothing changes */
	ept.flush_needed = false;
	unsigned before = pool_used;
	assert_true(ept_unmap(&ept, GiB(100), GiB(600)));
	assert_false(ept.flush_needed);
	assert_int_equal(pool_used, before);
	/* then mapped again: translates */
	assert_true(ept_map(&ept, 0x3ec00000, 0x9000, 4096, EPT_READ, EPT_MT_UC));
	expect_map(0x3ec00000, 0x9000, 4096, EPT_READ, EPT_MT_UC);
	/* misaligned or wrapping: refused, nothing unmapped */
	assert_false(ept_unmap(&ept, 0x1800, 4096));
	assert_false(ept_unmap(&ept, 0, 0x800));
	assert_false(ept_unmap(&ept, 0xfffffffffffff000ull, 0x2000));
	expect_map(0x1800, 0x1800, MiB(2), EPT_RWX, EPT_MT_WB);
}

static void unmap_split_allocation_failure(void **state)
{
	(void)state;
	init(true, false);
	assert_true(ept_map(&ept, 0, 0, MiB(4), EPT_RWX, EPT_MT_WB));
	pool_limit = pool_used;   /* no page for the page table */
	assert_false(ept_unmap(&ept, 0x1000, 4096));
	expect_map(0x1000, 0x1000, MiB(2), EPT_RWX, EPT_MT_WB);   /* the leaf is untouched */
	assert_false(ept_map(&ept, MiB(2) + 0x1000, 0x1000, 4096, EPT_READ, EPT_MT_UC));
	expect_map(MiB(2) + 0x1000, MiB(2) + 0x1000, MiB(2), EPT_RWX, EPT_MT_WB);
	assert_int_equal(ept.splits, 0);
}

static void allocation_failure(void **state)
{
	(void)state;
	pool_limit = 0;
	assert_false(ept_init(&ept, &alloc, true, true));
	assert_null(ept.root);

	setup(NULL);
	pool_limit = 2;   /* PML4 and PDPT, no room for the PD */
	init(true, false);
	assert_false(ept_map(&ept, 0, 0, MiB(2), EPT_RWX, EPT_MT_WB));
	expect_unmapped(0);

	setup(NULL);
	pool_limit = 4;   /* enough for one page table, the second one fails */
	init(false, false);
	assert_false(ept_map(&ept, 0, 0, MiB(4), EPT_RWX, EPT_MT_WB));
	expect_map(0, 0, 4096, EPT_RWX, EPT_MT_WB);   /* what was mapped before stays */
	expect_unmapped(MiB(2));
	pool_limit = POOL_PAGES;
	assert_true(ept_map(&ept, 0, 0, MiB(4), EPT_RWX, EPT_MT_WB));
	expect_map(MiB(4) - 1, MiB(4) - 1, 4096, EPT_RWX, EPT_MT_WB);
}

#define T(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(eptp_has_wb_and_walk_length_4),
		T(map_16m_with_2m_pages),
		T(map_16m_with_4k_pages),
		T(map_with_1g_pages),
		T(map_1g_allowed_but_misaligned),
		T(map_mixed_alignment_splits),
		T(map_permissions_and_memory_type),
		T(translate_null_outputs_and_unmapped),
		T(map_across_a_pml4_boundary),
		T(unaligned_arguments_are_refused),
		T(map_4k_inside_2m_splits),
		T(map_4k_inside_1g_splits_twice),
		T(split_keeps_ignore_pat_and_other_bits),
		T(map_large_over_a_table_keeps_the_table),
		T(unmap_pages_and_ranges),
		T(unmap_split_allocation_failure),
		T(allocation_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
