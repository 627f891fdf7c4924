/* SPDX-License-Identifier: MIT */
/* DMAR parsing (drivers/iommu/dmar.c): well-formed tables, the unit each PCI device
 * falls under, and every class of malformed table, each with an error naming it. */
#include "tests/unit/support.h"
#include "drivers/iommu/dmar.h"

/* ---- a table builder ---- */
static u8 tbl[4096];
static u32 tlen;

static void put(const void *p, u32 n)
{
	memcpy(tbl + tlen, p, n);
	tlen += n;
}
static void put8(u8 v) { put(&v, 1); }
static void put16(u16 v) { put(&v, 2); }
static void put32(u32 v) { put(&v, 4); }
static void put64(u64 v) { put(&v, 8); }

static void begin(u8 haw_minus_1, u8 flags)
{
	memset(tbl, 0, sizeof(tbl));
	tlen = 0;
	put("DMAR", 4);
	put32(0);                      /* length, fixed by finish */
	put8(1);                       /* revision */
	put8(0);                       /* checksum */
	put("BOCHS BXPC    ", 14);     /* OEM ID (6) + OEM table ID (8) */
	put32(1);
	put32(0);
	put32(0);
	put8(haw_minus_1);
	put8(flags);
	for (int i = 0; i < 10; i++)
		put8(0);
}

static u32 begin_struct(u16 type)
{
	u32 at = tlen;
	put16(type);
	put16(0);
	return at;
}
static void end_struct(u32 at)
{
	u16 len = (u16)(tlen - at);
	memcpy(tbl + at + 2, &len, 2);
}

static u32 drhd(u8 flags, u16 seg, u64 base)
{
	u32 at = begin_struct(0);
	put8(flags);
	put8(0);
	put16(seg);
	put64(base);
	return at;
}

static void scope(u8 type, u8 enum_id, u8 bus, u32 npath, const u8 *path)
{
	put8(type);
	put8((u8)(6 + 2 * npath));
	put16(0);
	put8(enum_id);
	put8(bus);
	put(path, 2 * npath);
}

static void finish(void)
{
	memcpy(tbl + 4, &tlen, 4);
	tbl[9] = 0;
	u8 sum = 0;
	for (u32 i = 0; i < tlen; i++)
		sum = (u8)(sum + tbl[i]);
	tbl[9] = (u8)-sum;
}

static struct dmar_info info;
static char err[200];

static bool parse(void)
{
	err[0] = 0;
	return dmar_parse(tbl, tlen, &info, err, sizeof(err));
}

/* ---- a fake topology: bridges at known places ---- */
struct bridge { u8 bus, dev, fn, sec, sub; };
static const struct bridge bridges[] = {
	{ 0, 0x1c, 0, 3, 5 },   /* root port: buses 3-5 */
	{ 3, 0x00, 0, 4, 5 },   /* a switch below it */
	{ 0, 0x1d, 0, 8, 8 },
};
static bool bridge_buses(void *ctx, u16 seg, u8 bus, u8 dev, u8 fn, u8 *sec, u8 *sub)
{
	(void)ctx;
	for (size_t i = 0; i < ARRAY_SIZE(bridges); i++)
		if (!seg && bridges[i].bus == bus && bridges[i].dev == dev && bridges[i].fn == fn) {
			*sec = bridges[i].sec;
			*sub = bridges[i].sub;
			return true;
		}
	return false;
}
static const struct dmar_topology topo = { .bridge_buses = bridge_buses };

#define BDF(b, d, f) ((u16)((b) << 8 | (d) << 3 | (f)))

/* QEMU's q35 intel-iommu table as the boot log showed it: one INCLUDE_PCI_ALL unit
 * with the IOAPIC and the bus-0 endpoints in its scope. */
static void test_qemu_like(void **state)
{
	(void)state;
	begin(38, 1);
	u32 at = drhd(1, 0, 0xfed90000);
	scope(3, 0, 0xff, 1, (const u8[]){ 0, 0 });
	scope(1, 0, 0, 1, (const u8[]){ 3, 0 });
	end_struct(at);
	finish();
	assert_true(parse());
	assert_int_equal(info.haw, 39);
	assert_int_equal(info.flags, DMAR_FLAG_INTR_REMAP);
	assert_int_equal(info.nr_drhd, 1);
	assert_true(info.drhd[0].include_all);
	assert_int_equal(info.drhd[0].base, 0xfed90000);
	assert_int_equal(info.drhd[0].nr_scopes, 2);
	assert_int_equal(info.scopes[0].type, DMAR_SCOPE_IOAPIC);
	assert_int_equal(info.scopes[0].start_bus, 0xff);
	assert_int_equal(dmar_unit_for(&info, 0, BDF(0, 3, 0), &topo), 0);
	assert_int_equal(dmar_unit_for(&info, 0, BDF(7, 1, 0), &topo), 0);   /* INCLUDE_PCI_ALL */
	assert_int_equal(dmar_unit_for(&info, 1, BDF(0, 3, 0), &topo), -1);  /* other segment */
	assert_int_equal(dmar_unit_for_ioapic(&info, 0), 0);
	assert_int_equal(dmar_unit_for_ioapic(&info, 1), -1);
	assert_string_equal(info.warning, "");
}

/* Three units: an endpoint, a sub-hierarchy, and the catch-all; an RMRR and an ATSR. */
static void test_units_and_scopes(void **state)
{
	(void)state;
	begin(47, 0);
	u32 a = drhd(0, 0, 0xfed90000);
	scope(1, 0, 0, 1, (const u8[]){ 2, 0 });                  /* 00:02.0 */
	scope(1, 0, 0, 2, (const u8[]){ 0x1c, 0, 0, 0 });         /* 00:1c.0 -> 03:00.0 (a bridge) -> 04:00.0 */
	end_struct(a);
	u32 b = drhd(0, 0, 0xfed91000);
	scope(2, 0, 0, 1, (const u8[]){ 0x1d, 0 });               /* everything below 00:1d.0 */
	scope(3, 2, 0xf0, 1, (const u8[]){ 0x1f, 0 });
	end_struct(b);
	u32 c = drhd(1, 0, 0xfed92000);
	end_struct(c);
	u32 r = begin_struct(1);
	put16(0);
	put16(0);
	put64(0xe0000);
	put64(0xeffff);
	scope(1, 0, 0, 1, (const u8[]){ 2, 0 });
	end_struct(r);
	u32 t = begin_struct(2);
	put8(0);
	put8(0);
	put16(0);
	scope(2, 0, 0, 1, (const u8[]){ 0x1c, 0 });
	end_struct(t);
	finish();
	assert_true(parse());
	assert_int_equal(info.haw, 48);
	assert_int_equal(info.nr_drhd, 3);
	assert_int_equal(info.nr_rmrr, 1);
	assert_int_equal(info.nr_atsr, 1);
	assert_int_equal(info.rmrr[0].base, 0xe0000);
	assert_int_equal(info.rmrr[0].limit, 0xeffff);
	assert_int_equal(info.rmrr[0].nr_scopes, 1);
	assert_false(info.atsr[0].all_ports);
	assert_int_equal(info.atsr[0].nr_scopes, 1);

	u16 sid;
	assert_true(dmar_scope_sid(&info.scopes[1], 0, &topo, &sid));
	assert_int_equal(sid, BDF(3, 0, 0));
	assert_int_equal(dmar_unit_for(&info, 0, BDF(0, 2, 0), &topo), 0);   /* endpoint */
	assert_int_equal(dmar_unit_for(&info, 0, BDF(3, 0, 0), &topo), 0);   /* path through 00:1c.0 */
	assert_int_equal(dmar_unit_for(&info, 0, BDF(0, 2, 1), &topo), 2);   /* another function: catch-all */
	assert_int_equal(dmar_unit_for(&info, 0, BDF(0, 0x1d, 0), &topo), 1); /* the bridge itself */
	assert_int_equal(dmar_unit_for(&info, 0, BDF(8, 0, 0), &topo), 1);   /* below it */
	assert_int_equal(dmar_unit_for(&info, 0, BDF(9, 0, 0), &topo), 2);
	assert_int_equal(dmar_unit_for_ioapic(&info, 2), 1);
	/* without topology a multi-hop path does not resolve */
	assert_false(dmar_scope_sid(&info.scopes[1], 0, NULL, &sid));
}

static void rmrr(u16 seg, u64 base, u64 limit, u32 n, const u8 (*paths)[2][2], const u32 *npath)
{
	u32 r = begin_struct(1);
	put16(0);
	put16(seg);
	put64(base);
	put64(limit);
	for (u32 i = 0; i < n; i++)
		scope(1, 0, 0, npath[i], &paths[i][0][0]);
	end_struct(r);
}

/* The RMRRs that name a function: by endpoint, through a bridge path, per segment. */
static void test_rmrr_for_function(void **state)
{
	(void)state;
	begin(47, 1);
	u32 a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	const u8 p1[2][2][2] = { { { 2, 0 } }, { { 0x1c, 0 }, { 0, 0 } } };   /* 00:02.0, 00:1c.0 -> 03:00.0 */
	rmrr(0, 0xe000000, 0xe00ffff, 2, p1, (const u32[]){ 1, 2 });
	const u8 p2[1][2][2] = { { { 2, 0 } } };
	rmrr(0, 0x7b800000, 0x7b9fffff, 1, p2, (const u32[]){ 1 });
	const u8 p3[1][2][2] = { { { 3, 0 } } };
	rmrr(0, 0x1000, 0x1fff, 1, p3, (const u32[]){ 1 });
	rmrr(1, 0x2000, 0x2fff, 1, p2, (const u32[]){ 1 });                 /* 0001:00:02.0 */
	finish();
	assert_true(parse());
	assert_int_equal(info.nr_rmrr, 4);
	/* 00:02.0: the first two, then none */
	assert_int_equal(dmar_rmrr_next(&info, 0, BDF(0, 2, 0), &topo, -1), 0);
	assert_int_equal(dmar_rmrr_next(&info, 0, BDF(0, 2, 0), &topo, 0), 1);
	assert_int_equal(dmar_rmrr_next(&info, 0, BDF(0, 2, 0), &topo, 1), -1);
	/* 03:00.0 by its path through the root port: the first only */
	assert_int_equal(dmar_rmrr_next(&info, 0, BDF(3, 0, 0), &topo, -1), 0);
	assert_int_equal(dmar_rmrr_next(&info, 0, BDF(3, 0, 0), &topo, 0), -1);
	/* not without the topology to follow the path */
	assert_int_equal(dmar_rmrr_next(&info, 0, BDF(3, 0, 0), NULL, -1), -1);
	/* another function of the device, another device, another segment */
	assert_int_equal(dmar_rmrr_next(&info, 0, BDF(0, 2, 1), &topo, -1), -1);
	assert_int_equal(dmar_rmrr_next(&info, 0, BDF(0, 3, 0), &topo, -1), 2);
	assert_int_equal(dmar_rmrr_next(&info, 1, BDF(0, 2, 0), &topo, -1), 3);
	assert_int_equal(dmar_rmrr_next(&info, 1, BDF(0, 3, 0), &topo, -1), -1);
}

static void test_unknown_type_skipped(void **state)
{
	(void)state;
	begin(38, 0);
	u32 a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	u32 x = begin_struct(42);
	put32(0xdeadbeef);
	end_struct(x);
	finish();
	assert_true(parse());
	assert_int_equal(info.nr_drhd, 1);
	assert_contains(info.warning, "unknown type 42 at offset 64");
	/* defined but unused types (RHSA) are read past quietly */
	begin(38, 0);
	a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	x = begin_struct(3);
	put32(0);
	put64(0xfed90000);
	put32(0);
	end_struct(x);
	finish();
	assert_true(parse());
	assert_int_equal(info.nr_other, 1);
	assert_string_equal(info.warning, "");
}

/* ---- malformed tables ---- */
static void expect_error(const char *needle)
{
	assert_false(parse());
	assert_contains(err, needle);
}

static void test_bad_header(void **state)
{
	(void)state;
	begin(38, 0);
	finish();
	assert_true(parse());   /* no structures is well formed */
	memcpy(tbl, "DMAX", 4);
	finish();
	expect_error("signature");
	begin(38, 0);
	finish();
	tbl[20] ^= 1;   /* checksum broken */
	expect_error("checksum");
	begin(38, 0);
	finish();
	tlen = 40;     /* only 40 bytes available */
	expect_error("48-byte header");
	begin(38, 0);
	u32 a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	finish();
	tlen -= 4;     /* the header says more than there is */
	expect_error("larger than the memory");
	begin(10, 0);  /* host address width 11 */
	finish();
	expect_error("host address width 11");
	assert_false(dmar_parse(NULL, 100, &info, err, sizeof(err)));
}

static void test_bad_structure_lengths(void **state)
{
	(void)state;
	begin(38, 0);
	u32 a = begin_struct(0);
	put16(0);   /* length 2: shorter than type + length */
	end_struct(a);
	memset(tbl + a + 2, 0, 2);
	tbl[a + 2] = 2;
	finish();
	expect_error("shorter than its type and length");

	begin(38, 0);
	a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	tbl[a + 2] = 200;   /* past the table */
	finish();
	expect_error("DRHD (type 0) at offset 48 has length 200, past the end of the table");

	begin(38, 0);
	a = begin_struct(0);
	put64(0);
	end_struct(a);   /* 12 bytes: too short for a DRHD */
	finish();
	expect_error("DRHD at offset 48 has length 12");

	begin(38, 0);
	a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	put16(0);        /* 2 trailing bytes */
	finish();
	expect_error("2 trailing bytes at offset 64");
}

static void test_bad_scopes(void **state)
{
	(void)state;
	/* a scope whose length runs past the structure */
	begin(38, 0);
	u32 a = drhd(0, 0, 0xfed90000);
	scope(1, 0, 0, 1, (const u8[]){ 2, 0 });
	end_struct(a);
	tbl[a + 16 + 1] = 10;   /* scope length 10 in a structure with 8 bytes left */
	finish();
	expect_error("runs past the structure's end");

	/* odd scope length */
	begin(38, 0);
	a = drhd(0, 0, 0xfed90000);
	scope(1, 0, 0, 1, (const u8[]){ 2, 0 });
	end_struct(a);
	tbl[a + 16 + 1] = 7;
	finish();
	expect_error("bad length 7");

	/* unknown scope type */
	begin(38, 0);
	a = drhd(0, 0, 0xfed90000);
	scope(9, 0, 0, 1, (const u8[]){ 2, 0 });
	end_struct(a);
	finish();
	expect_error("unknown type 9");

	/* device number out of range in the path */
	begin(38, 0);
	a = drhd(0, 0, 0xfed90000);
	scope(1, 0, 0, 1, (const u8[]){ 40, 0 });
	end_struct(a);
	finish();
	expect_error("device 40 function 0");

	/* a structure cut inside a scope header */
	begin(38, 0);
	a = drhd(0, 0, 0xfed90000);
	put8(1);
	end_struct(a);
	finish();
	expect_error("cut off");
}

static void test_bad_units(void **state)
{
	(void)state;
	begin(38, 0);
	u32 a = drhd(1, 0, 0);
	end_struct(a);
	finish();
	expect_error("register base 0x0 is zero");

	begin(38, 0);
	a = drhd(1, 0, 0xfed90800);
	end_struct(a);
	finish();
	expect_error("not 4 KiB aligned");

	/* overlapping units: the same register page */
	begin(38, 0);
	a = drhd(0, 0, 0xfed90000);
	end_struct(a);
	u32 b = drhd(1, 0, 0xfed90000);
	end_struct(b);
	finish();
	expect_error("units 0 and 1 overlap");

	/* a unit with a 2-page register set overlapping the next */
	begin(38, 0);
	a = drhd(0, 0, 0xfed90000);
	end_struct(a);
	tbl[a + 5] = 1;
	b = drhd(1, 0, 0xfed91000);
	end_struct(b);
	finish();
	expect_error("overlap");

	/* two INCLUDE_PCI_ALL units in one segment */
	begin(38, 0);
	a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	b = drhd(1, 0, 0xfed91000);
	end_struct(b);
	finish();
	expect_error("INCLUDE_PCI_ALL but is not the last unit of segment 0");

	/* INCLUDE_PCI_ALL in different segments is fine */
	begin(38, 0);
	a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	b = drhd(1, 1, 0xfed91000);
	end_struct(b);
	finish();
	assert_true(parse());

	/* one endpoint in two units */
	begin(38, 0);
	a = drhd(0, 0, 0xfed90000);
	scope(1, 0, 0, 1, (const u8[]){ 2, 0 });
	end_struct(a);
	b = drhd(0, 0, 0xfed91000);
	scope(1, 0, 0, 1, (const u8[]){ 2, 0 });
	end_struct(b);
	finish();
	expect_error("both list the device at bus 0 path 2.0");

	/* one IOAPIC in two units */
	begin(38, 0);
	a = drhd(0, 0, 0xfed90000);
	scope(3, 5, 0xf0, 1, (const u8[]){ 0x1f, 0 });
	end_struct(a);
	b = drhd(1, 0, 0xfed91000);
	scope(3, 5, 0xf0, 1, (const u8[]){ 0x1f, 0 });
	end_struct(b);
	finish();
	expect_error("both list IOAPIC 5");

	/* more units than supported */
	begin(38, 0);
	for (u32 i = 0; i <= DMAR_MAX_UNITS; i++) {
		a = drhd(0, 0, 0xfed90000 + i * 0x1000);
		end_struct(a);
	}
	finish();
	expect_error("more than 8 DRHD units");
}

static void test_bad_rmrr_and_order(void **state)
{
	(void)state;
	begin(38, 0);
	u32 a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	u32 r = begin_struct(1);
	put16(0);
	put16(0);
	put64(0xf0000);
	put64(0xe0fff);   /* limit below base */
	end_struct(r);
	finish();
	expect_error("limit below base");

	begin(38, 0);
	a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	r = begin_struct(1);
	put16(0);
	put16(0);
	put64(0xe0000);
	put64(0xe0800);   /* limit + 1 not page aligned */
	end_struct(r);
	finish();
	expect_error("not whole 4 KiB pages");

	begin(38, 0);
	a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	r = begin_struct(1);
	put16(0);
	put16(0);
	put64(0xe0000);
	put64(0xe0fff);
	scope(2, 0, 0, 1, (const u8[]){ 0x1c, 0 });
	end_struct(r);
	finish();
	expect_error("RMRRs name PCI endpoints");

	/* an RMRR before the DRHD it belongs after */
	begin(38, 0);
	r = begin_struct(1);
	put16(0);
	put16(0);
	put64(0xe0000);
	put64(0xe0fff);
	end_struct(r);
	a = drhd(1, 0, 0xfed90000);
	end_struct(a);
	finish();
	expect_error("DRHD at offset 72 follows a RMRR");
}

/* Random corruptions of a well-formed table (fixed seed, checksum repaired so that the
 * structure checks run): every parse ends with a verdict, inside the table's bytes
 * (run under ASan/UBSan: `make unit BUILD=... UNIT_EXTRA_CFLAGS=-fsanitize=...`), and a
 * table it accepts answers unit queries. */
static void test_corruptions(void **state)
{
	(void)state;
	begin(47, 1);
	u32 a = drhd(0, 0, 0xfed90000);
	scope(1, 0, 0, 1, (const u8[]){ 2, 0 });
	scope(2, 0, 0, 2, (const u8[]){ 0x1c, 0, 0, 0 });
	end_struct(a);
	u32 b = drhd(1, 0, 0xfed91000);
	scope(3, 2, 0xf0, 1, (const u8[]){ 0x1f, 0 });
	end_struct(b);
	u32 r = begin_struct(1);
	put16(0);
	put16(0);
	put64(0xe0000);
	put64(0xeffff);
	scope(1, 0, 0, 1, (const u8[]){ 2, 0 });
	end_struct(r);
	finish();
	u8 good[sizeof(tbl)];
	u32 good_len = tlen;
	memcpy(good, tbl, tlen);
	u32 seed = 12345, accepted = 0, rejected = 0;
	for (u32 iter = 0; iter < 20000; iter++) {
		memcpy(tbl, good, good_len);
		tlen = good_len;
		u32 flips = 1 + iter % 4;
		for (u32 f = 0; f < flips; f++) {
			seed = seed * 1103515245u + 12345u;
			u32 at = 36 + (seed >> 8) % (good_len - 36);
			seed = seed * 1103515245u + 12345u;
			tbl[at] = (u8)(seed >> 16);
		}
		if (iter % 7 == 0)
			tlen = 48 + (seed >> 4) % (good_len - 48);   /* and sometimes a shorter table */
		memcpy(tbl + 4, &tlen, 4);
		tbl[9] = 0;
		u8 sum = 0;
		for (u32 i = 0; i < tlen; i++)
			sum = (u8)(sum + tbl[i]);
		tbl[9] = (u8)-sum;
		/* the parser may only look at tlen bytes: the copy ends there */
		u8 *exact = malloc(tlen);
		memcpy(exact, tbl, tlen);
		err[0] = 0;
		if (dmar_parse(exact, tlen, &info, err, sizeof(err))) {
			accepted++;
			for (u32 bus = 0; bus < 10; bus++)
				(void)dmar_unit_for(&info, 0, BDF(bus, 2, 0), &topo);
		} else {
			rejected++;
			assert_true(strncmp(err, "DMAR: ", 6) == 0);
		}
		free(exact);
	}
	assert_true(accepted > 0 && rejected > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_like),
		cmocka_unit_test(test_units_and_scopes),
		cmocka_unit_test(test_rmrr_for_function),
		cmocka_unit_test(test_unknown_type_skipped),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_structure_lengths),
		cmocka_unit_test(test_bad_scopes),
		cmocka_unit_test(test_bad_units),
		cmocka_unit_test(test_bad_rmrr_and_order),
		cmocka_unit_test(test_corruptions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
