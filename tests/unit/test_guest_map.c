/* SPDX-License-Identifier: MIT */
/* hv/mm/guest_map.c: the per-VM guest-physical memory map around the MMIO hole. */
#include "tests/unit/support.h"
#include "hv/mm/guest_map.h"

static struct guest_map m;
static char err[160];

static void build(u64 mem, u64 hole)
{
	if (!guest_map_build(&m, mem, hole, err, sizeof(err)))
		fail_msg("guest_map_build(0x%llx, 0x%llx): %s", (unsigned long long)mem,
			 (unsigned long long)hole, err);
}

static u64 ram_bytes(void)
{
	u64 n = 0;
	for (u32 i = 0; i < m.nr; i++)
		if (m.e[i].backed)
			n += m.e[i].size;
	return n;
}

/* The rules of hv/mm/guest_map.h, checked on whatever map was built. */
static void check_invariants(u64 mem, u64 hole)
{
	assert_true(m.nr > 0 && m.nr <= GMAP_MAX_ENTRIES);
	for (u32 i = 0; i < m.nr; i++) {
		const struct gmap_entry *e = &m.e[i];
		assert_true(e->size > 0);
		assert_true(IS_ALIGNED(e->base, 1024) && IS_ALIGNED(e->size, 1024));
		if (i)
			assert_true(m.e[i - 1].base + m.e[i - 1].size <= e->base);   /* sorted, disjoint */
		/* no RAM between the hole's start and 4 GiB, none over a device */
		if (e->kind == GMAP_RAM)
			assert_true(e->base + e->size <= hole || e->base >= GUEST_4G);
		assert_int_equal(e->backed, e->kind == GMAP_RAM || e->kind == GMAP_LOW_BIOS || e->kind == GMAP_BIOS);
	}
	/* every byte of the allocation is backed exactly once, and the spans agree */
	assert_int_equal(ram_bytes(), mem);
	u64 spans = 0;
	for (u32 i = 0; i < m.nr_spans; i++)
		spans += m.span[i].size;
	assert_int_equal(spans, mem);
	assert_int_equal(guest_map_low_end(&m), MIN(mem, hole));
	/* the devices are where guest_layout.h puts them */
	const struct { u64 gpa; enum gmap_kind k; } dev[] = {
		{ GUEST_ECAM_BASE, GMAP_ECAM }, { GUEST_ECAM_BASE + GUEST_ECAM_SIZE - 1, GMAP_ECAM },
		{ GUEST_IOAPIC_BASE, GMAP_IOAPIC }, { GUEST_IOAPIC_BASE + 0xfff, GMAP_IOAPIC },
		{ GUEST_LAPIC_BASE, GMAP_LAPIC }, { GUEST_LAPIC_BASE + 0xfff, GMAP_LAPIC },
		{ GUEST_BIOS_HIGH, GMAP_BIOS_HIGH }, { GUEST_4G - 1, GMAP_BIOS_HIGH },
		{ hole, GMAP_PCI_WINDOW }, { GUEST_ECAM_BASE - 1, GMAP_PCI_WINDOW },
		{ 0xe0000, GMAP_BIOS }, { 0x9fc00, GMAP_LOW_BIOS }, { 0, GMAP_RAM },
	};
	for (size_t i = 0; i < ARRAY_SIZE(dev); i++) {
		const struct gmap_entry *e = guest_map_find(&m, dev[i].gpa);
		assert_non_null(e);
		assert_int_equal(e->kind, dev[i].k);
		u64 off;
		assert_int_equal(guest_map_offset(&m, dev[i].gpa, 1, &off), e->backed);
	}
	/* the e820 view: sorted, disjoint, merged, no PCI window */
	struct e820_range r[GMAP_MAX_ENTRIES];
	u32 n = guest_map_e820(&m, r, ARRAY_SIZE(r));
	assert_true(n <= ARRAY_SIZE(r));
	u64 e820_ram = 0;
	for (u32 i = 0; i < n; i++) {
		assert_true(r[i].type == E820_RAM || r[i].type == E820_RESERVED);
		if (i) {
			assert_true(r[i - 1].base + r[i - 1].size <= r[i].base);
			assert_false(r[i - 1].base + r[i - 1].size == r[i].base && r[i - 1].type == r[i].type);
		}
		if (guest_map_find(&m, r[i].base)->kind != GMAP_RMRR)   /* only reservations in the window */
			assert_false(r[i].base < GUEST_ECAM_BASE && r[i].base + r[i].size > hole);
		if (r[i].type == E820_RAM)
			e820_ram += r[i].size;
	}
	assert_int_equal(e820_ram, mem - (GUEST_HIGH_RAM - GUEST_LOW_RAM_END));
}

static void sizes_16m_to_64g_default_hole(void **state)
{
	(void)state;
	for (u64 mem = MiB(16); mem <= GiB(64); mem *= 2) {
		build(mem, 0);
		assert_int_equal(m.hole, GUEST_HOLE_DEFAULT);
		check_invariants(mem, GUEST_HOLE_DEFAULT);
		assert_int_equal(m.nr_spans, mem > GUEST_HOLE_DEFAULT ? 2 : 1);
	}
	/* the sizes around the hole and the old 4076 MiB limit */
	static const u64 odd[] = { MiB(2), MiB(3), GiB(3) - MiB(1), GiB(3), GiB(3) + MiB(1), MiB(4076),
				   MiB(4097), GiB(64) - MiB(1) };
	for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
		build(odd[i], 0);
		check_invariants(odd[i], GUEST_HOLE_DEFAULT);
	}
}

static void hole_options(void **state)
{
	(void)state;
	static const u64 holes[] = { GUEST_HOLE_MIN, MiB(32), MiB(34), GiB(1), GiB(2), GUEST_HOLE_DEFAULT,
				     GUEST_ECAM_BASE - GUEST_HOLE_ALIGN };
	static const u64 mems[] = { MiB(16), MiB(64), GiB(2), MiB(4096), GiB(64) };
	for (size_t h = 0; h < ARRAY_SIZE(holes); h++)
		for (size_t i = 0; i < ARRAY_SIZE(mems); i++) {
			build(mems[i], holes[h]);
			assert_int_equal(m.hole, holes[h]);
			check_invariants(mems[i], holes[h]);
		}
}

static void ram_on_both_sides_of_a_32m_hole(void **state)
{
	(void)state;
	build(MiB(64), MiB(32));
	static const struct gmap_entry want[] = {
		{ 0, 0x9fc00, GMAP_RAM, true },
		{ 0x9fc00, 0xe0000 - 0x9fc00, GMAP_LOW_BIOS, true },
		{ 0xe0000, 0x20000, GMAP_BIOS, true },
		{ MiB(1), MiB(31), GMAP_RAM, true },
		{ MiB(32), GUEST_ECAM_BASE - MiB(32), GMAP_PCI_WINDOW, false },
		{ GUEST_ECAM_BASE, MiB(1), GMAP_ECAM, false },
		{ GUEST_IOAPIC_BASE, 4096, GMAP_IOAPIC, false },
		{ GUEST_LAPIC_BASE, 4096, GMAP_LAPIC, false },
		{ GUEST_BIOS_HIGH, GUEST_4G - GUEST_BIOS_HIGH, GMAP_BIOS_HIGH, false },
		{ GUEST_4G, MiB(32), GMAP_RAM, true },
	};
	assert_int_equal(m.nr, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(m.e[i].base, want[i].base);
		assert_int_equal(m.e[i].size, want[i].size);
		assert_int_equal(m.e[i].kind, want[i].kind);
		assert_int_equal(m.e[i].backed, want[i].backed);
	}
	/* translation: below the hole 1:1, above 4 GiB from offset hole */
	u64 off;
	assert_true(guest_map_offset(&m, 0x1000, 8, &off));
	assert_int_equal(off, 0x1000);
	assert_true(guest_map_offset(&m, MiB(32) - 8, 8, &off));
	assert_int_equal(off, MiB(32) - 8);
	assert_false(guest_map_offset(&m, MiB(32) - 8, 9, &off));   /* runs into the hole */
	assert_false(guest_map_offset(&m, MiB(32), 1, &off));
	assert_false(guest_map_offset(&m, GUEST_4G - 1, 2, &off));  /* from the hole into high RAM */
	assert_true(guest_map_offset(&m, GUEST_4G, 4096, &off));
	assert_int_equal(off, MiB(32));
	assert_true(guest_map_offset(&m, GUEST_4G + MiB(32) - 1, 1, &off));
	assert_int_equal(off, MiB(64) - 1);
	assert_false(guest_map_offset(&m, GUEST_4G + MiB(32), 1, &off));
	assert_true(guest_map_offset(&m, GUEST_4G, 0, &off));
	assert_false(guest_map_offset(&m, GUEST_4G + MiB(32), 0, &off));
	assert_false(guest_map_offset(&m, ~0ull, 2, &off));
	assert_false(guest_map_offset(&m, 0x1000, ~0ull, &off));
	assert_null(guest_map_find(&m, GUEST_ECAM_BASE + GUEST_ECAM_SIZE));   /* a gap */
	assert_null(guest_map_find(&m, GUEST_4G + MiB(32)));
	/* loaders place only in RAM entries */
	assert_true(guest_map_is_ram(&m, MiB(1), MiB(31)));
	assert_false(guest_map_is_ram(&m, MiB(1), MiB(31) + 1));
	assert_false(guest_map_is_ram(&m, 0xe0000, 16));
	assert_true(guest_map_is_ram(&m, GUEST_4G + 4096, 4096));
	assert_false(guest_map_is_ram(&m, GUEST_IOAPIC_BASE, 4));

	/* e820: the low BIOS ranges merge; no PCI window */
	struct e820_range r[GMAP_MAX_ENTRIES];
	assert_int_equal(guest_map_e820(&m, r, ARRAY_SIZE(r)), 8);
	static const struct e820_range er[] = {
		{ 0, 0x9fc00, E820_RAM }, { 0x9fc00, 0x60400, E820_RESERVED }, { MiB(1), MiB(31), E820_RAM },
		{ GUEST_ECAM_BASE, MiB(1), E820_RESERVED }, { GUEST_IOAPIC_BASE, 4096, E820_RESERVED },
		{ GUEST_LAPIC_BASE, 4096, E820_RESERVED }, { GUEST_BIOS_HIGH, GUEST_4G - GUEST_BIOS_HIGH, E820_RESERVED },
		{ GUEST_4G, MiB(32), E820_RAM },
	};
	for (size_t i = 0; i < ARRAY_SIZE(er); i++) {
		assert_int_equal(r[i].base, er[i].base);
		assert_int_equal(r[i].size, er[i].size);
		assert_int_equal(r[i].type, er[i].type);
	}
	/* a short array: the count is still the full count, nothing written past max */
	struct e820_range two[3] = { [2] = { 0x1234, 0x5678, E820_ACPI } };
	assert_int_equal(guest_map_e820(&m, two, 2), 8);
	assert_int_equal(two[2].base, 0x1234);
}

static void ram_below_the_hole_only(void **state)
{
	(void)state;
	build(MiB(16), 0);
	assert_int_equal(m.nr_spans, 1);
	assert_int_equal(m.e[m.nr - 1].kind, GMAP_BIOS_HIGH);
	assert_int_equal(guest_map_low_end(&m), MiB(16));
	/* the old limit: 4076 MiB of RAM covered the IOAPIC; now 1 GiB of it is above 4 GiB */
	build(MiB(4076), 0);
	assert_int_equal(guest_map_find(&m, GUEST_IOAPIC_BASE)->kind, GMAP_IOAPIC);
	assert_int_equal(m.span[1].gpa, GUEST_4G);
	assert_int_equal(m.span[1].size, MiB(4076) - GUEST_HOLE_DEFAULT);
	/* RAM exactly up to the hole: no high span */
	build(MiB(32), MiB(32));
	assert_int_equal(m.nr_spans, 1);
	build(MiB(34), MiB(32));
	assert_int_equal(m.nr_spans, 2);
	assert_int_equal(m.span[1].size, MiB(2));
}

static void bad_values_are_named(void **state)
{
	(void)state;
	static const struct { u64 mem, hole; const char *msg; } bad[] = {
		{ MiB(1), 0, "bad mem 0x100000" },
		{ GiB(64) + MiB(1), 0, "bad mem" },
		{ MiB(16) + 1, 0, "bad mem" },
		{ MiB(16), MiB(8), "bad hole 0x800000" },
		{ MiB(16), MiB(33), "bad hole 0x2100000" },
		{ MiB(16), GUEST_ECAM_BASE, "bad hole 0xe0000000" },
		{ MiB(16), GUEST_4G + GiB(1), "bad hole" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_false(guest_map_build(&m, bad[i].mem, bad[i].hole, err, sizeof(err)));
		if (!strstr(err, bad[i].msg))
			fail_msg("message '%s' lacks '%s'", err, bad[i].msg);
	}
}

/* RMRR reservations (hv/pci/passthru.c): allowed in a gap or the PCI window, refused
 * over RAM, the BIOS areas and the fixed MMIO ranges, seen by the guest as reserved. */
static void reserve_rmrr(void **state)
{
	(void)state;
	const struct gmap_entry *c;
	/* 64 MiB, hole at 3 GiB: above the RAM, a gap */
	build(MiB(64), 0);
	u32 n0 = m.nr;
	assert_true(guest_map_reserve(&m, 0xe000000, 0x10000, GMAP_RMRR, &c));
	assert_int_equal(m.nr, n0 + 1);
	check_invariants(MiB(64), GUEST_HOLE_DEFAULT);
	const struct gmap_entry *e = guest_map_find(&m, 0xe00ffff);
	assert_non_null(e);
	assert_int_equal(e->kind, GMAP_RMRR);
	assert_false(e->backed);
	assert_null(guest_map_find(&m, 0xe010000));
	assert_false(guest_map_is_ram(&m, 0xe000000, 1));
	u64 off;
	assert_false(guest_map_offset(&m, 0xe000000, 0, &off));
	struct e820_range r[GMAP_MAX_ENTRIES];
	u32 nr = guest_map_e820(&m, r, ARRAY_SIZE(r));
	bool seen = false;
	for (u32 i = 0; i < nr; i++)
		if (r[i].base == 0xe000000) {
			assert_int_equal(r[i].size, 0x10000);
			assert_int_equal(r[i].type, E820_RESERVED);
			seen = true;
		}
	assert_true(seen);
	/* the same range again: no new entry; an overlapping different one: refused */
	assert_true(guest_map_reserve(&m, 0xe000000, 0x10000, GMAP_RMRR, &c));
	assert_int_equal(m.nr, n0 + 1);
	assert_false(guest_map_reserve(&m, 0xe008000, 0x10000, GMAP_RMRR, &c));
	assert_non_null(c);
	assert_int_equal(c->kind, GMAP_RMRR);

	/* over the RAM, its last page, the BIOS areas: refused, naming the entry */
	const struct { u64 base, size; enum gmap_kind k; } bad[] = {
		{ MiB(2), 0x10000, GMAP_RAM }, { MiB(64) - 0x1000, 0x2000, GMAP_RAM }, { 0, 0x1000, GMAP_RAM },
		{ 0xe8000, 0x1000, GMAP_BIOS }, { 0xa0000, 0x1000, GMAP_LOW_BIOS },
		{ GUEST_ECAM_BASE - 0x1000, 0x2000, GMAP_ECAM }, { GUEST_IOAPIC_BASE, 0x1000, GMAP_IOAPIC },
		{ GUEST_LAPIC_BASE, 0x1000, GMAP_LAPIC }, { GUEST_BIOS_HIGH, 0x1000, GMAP_BIOS_HIGH },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		u32 n = m.nr;
		assert_false(guest_map_reserve(&m, bad[i].base, bad[i].size, GMAP_RMRR, &c));
		assert_non_null(c);
		assert_int_equal(c->kind, bad[i].k);
		assert_int_equal(m.nr, n);
	}
	/* bad ranges: empty, misaligned, wrapping */
	assert_false(guest_map_reserve(&m, 0x10000000, 0, GMAP_RMRR, &c));
	assert_null(c);
	assert_false(guest_map_reserve(&m, 0x10000800, 0x1000, GMAP_RMRR, &c));
	assert_false(guest_map_reserve(&m, ~0xfffull, 0x2000, GMAP_RMRR, &c));

	/* inside the PCI window: the window is split around it */
	build(MiB(64), 0);
	assert_true(guest_map_reserve(&m, 0xd0000000, 0x100000, GMAP_RMRR, &c));
	check_invariants(MiB(64), GUEST_HOLE_DEFAULT);
	assert_int_equal(guest_map_find(&m, 0xcfffffff)->kind, GMAP_PCI_WINDOW);
	assert_int_equal(guest_map_find(&m, 0xd0000000)->kind, GMAP_RMRR);
	assert_int_equal(guest_map_find(&m, 0xd0100000)->kind, GMAP_PCI_WINDOW);
	assert_int_equal(guest_map_find(&m, GUEST_HOLE_DEFAULT)->base, GUEST_HOLE_DEFAULT);
	/* at the window's start and end: no empty window entries */
	build(MiB(64), 0);
	u32 n1 = m.nr;
	assert_true(guest_map_reserve(&m, GUEST_HOLE_DEFAULT, 0x1000, GMAP_RMRR, &c));
	assert_true(guest_map_reserve(&m, GUEST_ECAM_BASE - 0x1000, 0x1000, GMAP_RMRR, &c));
	assert_int_equal(m.nr, n1 + 2);
	assert_int_equal(guest_map_find(&m, GUEST_HOLE_DEFAULT)->kind, GMAP_RMRR);
	assert_int_equal(guest_map_find(&m, GUEST_HOLE_DEFAULT + 0x1000)->base, GUEST_HOLE_DEFAULT + 0x1000);
	assert_int_equal(guest_map_find(&m, GUEST_ECAM_BASE - 0x1000)->kind, GMAP_RMRR);
	assert_int_equal(guest_map_find(&m, GUEST_ECAM_BASE - 0x1001)->kind, GMAP_PCI_WINDOW);
	for (u32 i = 1; i < m.nr; i++)
		assert_true(m.e[i - 1].base + m.e[i - 1].size <= m.e[i].base && m.e[i].size);
	/* above the RAM at 4 GiB: refused over it, fine past it */
	build(MiB(256), MiB(128));
	assert_false(guest_map_reserve(&m, GUEST_4G + MiB(64), 0x1000, GMAP_RMRR, &c));
	assert_int_equal(c->kind, GMAP_RAM);
	assert_true(guest_map_reserve(&m, GUEST_4G + MiB(128), 0x1000, GMAP_RMRR, &c));
	assert_int_equal(m.e[m.nr - 1].kind, GMAP_RMRR);
	check_invariants(MiB(256), MiB(128));
	/* the map fills up: refused without a conflict */
	build(MiB(64), 0);
	u32 k = 0;
	while (guest_map_reserve(&m, 0x8000000 + k * 0x2000, 0x1000, GMAP_RMRR, &c))
		k++;
	assert_null(c);
	assert_int_equal(m.nr, GMAP_MAX_ENTRIES);
	check_invariants(MiB(64), GUEST_HOLE_DEFAULT);
}

static void kinds_have_names_and_types(void **state)
{
	(void)state;
	for (int k = 0; k < GMAP_NR_KINDS; k++)
		assert_string_not_equal(guest_map_kind_name((enum gmap_kind)k), "?");
	assert_int_equal(guest_map_kind_e820(GMAP_RAM), E820_RAM);
	assert_int_equal(guest_map_kind_e820(GMAP_PCI_WINDOW), E820_NONE);
	assert_int_equal(guest_map_kind_e820(GMAP_ECAM), E820_RESERVED);
	assert_int_equal(guest_map_kind_e820(GMAP_NR_KINDS), E820_NONE);
	assert_string_equal(guest_map_kind_name(GMAP_NR_KINDS), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_16m_to_64g_default_hole),
		cmocka_unit_test(hole_options),
		cmocka_unit_test(ram_on_both_sides_of_a_32m_hole),
		cmocka_unit_test(ram_below_the_hole_only),
		cmocka_unit_test(bad_values_are_named),
		cmocka_unit_test(reserve_rmrr),
		cmocka_unit_test(kinds_have_names_and_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
