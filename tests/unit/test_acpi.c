/* SPDX-License-Identifier: MIT */
/* hv/host/acpi.c: RSDP search, RSDT/XSDT, MADT, FADT and \_S5 from hand-built tables. */
#include "tests/unit/support.h"
#include "hv/host/acpi.h"

/* Fake physical memory: the first MiB (BDA, EBDA, BIOS area), tables below 4 GiB and
 * tables above 4 GiB (reachable only through the XSDT). */
static u8 low[0x100000];
#define TAB_PA 0x7ffe0000ull
static u8 tab[0x10000] __aligned(16);
#define HI_PA 0x123450000ull
static u8 hi[0x4000] __aligned(16);
static u64 tab_next, hi_next;

static struct acpi_info ai;
static char err[128];

static int setup(void **state)
{
	(void)state;
	memset(low, 0, sizeof(low));
	memset(tab, 0, sizeof(tab));
	memset(hi, 0, sizeof(hi));
	tab_next = TAB_PA;
	hi_next = HI_PA;
	fake_mem_reset();
	fake_mem_map(0, low, sizeof(low));
	fake_mem_map(TAB_PA, tab, sizeof(tab));
	fake_mem_map(HI_PA, hi, sizeof(hi));
	memset(&ai, 0xa5, sizeof(ai));
	ai.rsdp = 0;
	memset(err, 0, sizeof(err));
	return 0;
}

static u8 *virt(u64 pa)
{
	if (pa < sizeof(low))
		return low + pa;
	if (pa >= TAB_PA && pa < TAB_PA + sizeof(tab))
		return tab + (pa - TAB_PA);
	if (pa >= HI_PA && pa < HI_PA + sizeof(hi))
		return hi + (pa - HI_PA);
	fail_msg("pa 0x%llx not in the fake memory", (unsigned long long)pa);
	return NULL;
}

static u8 sum(const u8 *p, size_t n)
{
	u8 s = 0;
	while (n--)
		s = (u8)(s + *p++);
	return s;
}

/* An SDT: 36-byte header and body, checksummed. high: place it above 4 GiB. */
static u64 sdt(const char *sig, const void *body, size_t len, bool high)
{
	u64 *next = high ? &hi_next : &tab_next;
	u64 pa = *next;
	u8 *t = virt(pa);
	u32 length = (u32)(36 + len);
	memcpy(t, sig, 4);
	memcpy(t + 4, &length, 4);
	t[8] = 2;
	memcpy(t + 10, "TESTOE", 6);
	memcpy(t + 16, "TESTTABL", 8);
	if (len)
		memcpy(t + 36, body, len);
	t[9] = (u8)-sum(t, length);
	*next = (pa + length + 15) & ~15ull;
	return pa;
}

static void fix_checksum(u64 pa)
{
	u8 *t = virt(pa);
	u32 length;
	memcpy(&length, t + 4, 4);
	t[9] = 0;
	t[9] = (u8)-sum(t, length);
}

static u64 rsdt(const u32 *entries, size_t n)
{
	return sdt("RSDT", entries, n * 4, false);
}

static u64 xsdt(const u64 *entries, size_t n)
{
	return sdt("XSDT", entries, n * 8, false);
}

/* An RSDP at pa: revision 0 (20 bytes) or 2 (36 bytes). */
static u8 *put_rsdp(u64 pa, int rev, u32 rsdt_pa, u64 xsdt_pa)
{
	u8 *r = virt(pa);
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "TESTOE", 6);
	r[15] = (u8)rev;
	memcpy(r + 16, &rsdt_pa, 4);
	if (rev >= 2) {
		u32 len = 36;
		memcpy(r + 20, &len, 4);
		memcpy(r + 24, &xsdt_pa, 8);
	}
	r[8] = (u8)-sum(r, 20);
	if (rev >= 2)
		r[32] = (u8)-sum(r, 36);
	return r;
}

/* ---- MADT ---- */

struct madt_builder {
	u8 b[2048];
	size_t n;
};

static void madt_begin(struct madt_builder *m, u32 lapic)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->b, &lapic, 4);
	u32 flags = 1;   /* PC-AT compatible */
	memcpy(m->b + 4, &flags, 4);
	m->n = 8;
}

static void madt_lapic(struct madt_builder *m, u8 uid, u8 apic_id, u32 flags)
{
	assert_true(m->n + 8 <= sizeof(m->b));
	u8 *e = m->b + m->n;
	e[0] = 0;
	e[1] = 8;
	e[2] = uid;
	e[3] = apic_id;
	memcpy(e + 4, &flags, 4);
	m->n += 8;
}

static void madt_x2apic(struct madt_builder *m, u32 id, u32 flags)
{
	assert_true(m->n + 16 <= sizeof(m->b));
	u8 *e = m->b + m->n;
	e[0] = 9;
	e[1] = 16;
	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(e + 12, &id, 4);
	m->n += 16;
}

static void madt_raw(struct madt_builder *m, const u8 *e, size_t len)
{
	assert_true(m->n + len <= sizeof(m->b));
	memcpy(m->b + m->n, e, len);
	m->n += len;
}

static u64 madt_end(struct madt_builder *m, bool high)
{
	return sdt("APIC", m->b, m->n, high);
}

/* ---- FADT and DSDT ---- */

/* \_S5 as iasl emits it: Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) */
static const u8 s5_aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0a, 0x04,
			     0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };

static u64 dsdt(const u8 *aml, size_t len)
{
	/* some AML before \_S5 so that it is not at the start */
	u8 body[512];
	static const u8 prefix[] = { 0x10, 0x0b, '\\', '_', 'S', 'B', '_', 0x08, 'X', 'Y', 'Z', '_', 0x00 };
	memcpy(body, prefix, sizeof(prefix));
	memcpy(body + sizeof(prefix), aml, len);
	return sdt("DSDT", body, sizeof(prefix) + len, false);
}

/* A FADT of length 36 + body_len (244 for ACPI 2.0+); DSDT at 40, X_DSDT at 140. */
static u64 fadt(u32 dsdt32, u64 x_dsdt, u32 pm1a, u32 pm1b, size_t total_len)
{
	u8 body[244 - 36];
	memset(body, 0, sizeof(body));
	memcpy(body + 40 - 36, &dsdt32, 4);
	memcpy(body + 64 - 36, &pm1a, 4);
	memcpy(body + 68 - 36, &pm1b, 4);
	memcpy(body + 140 - 36, &x_dsdt, 8);
	return sdt("FACP", body, total_len - 36, false);
}

static void parse_ok(const void *rsdp, u32 bsp)
{
	if (!acpi_parse(rsdp, bsp, &ai, err, sizeof(err)))
		fail_msg("acpi_parse failed: %s", err);
}

static void expect_cpus(u32 n, const u32 *ids)
{
	bool ok = ai.nr_cpus == n;
	for (u32 i = 0; ok && i < n; i++)
		ok = ai.apic_ids[i] == ids[i];
	if (ok)
		return;
	print_error("APIC ids (%u):", ai.nr_cpus);
	for (u32 i = 0; i < ai.nr_cpus && i < ACPI_MAX_CPUS; i++)
		print_error(" %u", ai.apic_ids[i]);
	print_error("\nexpected (%u):", n);
	for (u32 i = 0; i < n; i++)
		print_error(" %u", ids[i]);
	print_error("\n");
	fail();
}
#define EXPECT_CPUS(...) do { \
	const u32 _ids[] = { __VA_ARGS__ }; \
	expect_cpus(ARRAY_SIZE(_ids), _ids); \
} while (0)

/* ---- tests ---- */

static void checksum(void **state)
{
	(void)state;
	u8 b[8] = { 1, 2, 3, 4, 5, 6, 7, (u8)-28 };
	assert_true(acpi_checksum_ok(b, 8));
	assert_false(acpi_checksum_ok(b, 7));
	b[0] ^= 0x80;
	assert_false(acpi_checksum_ok(b, 8));
	assert_true(acpi_checksum_ok(b, 0));
	u8 z[100] = { 0 };
	assert_true(acpi_checksum_ok(z, sizeof(z)));
}

static void rsdt_madt_fadt_dsdt(void **state)
{
	(void)state;
	struct madt_builder m;
	madt_begin(&m, 0xfee00000);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	madt_lapic(&m, 2, 2, 0);      /* disabled */
	madt_lapic(&m, 3, 4, 1);
	u64 madt = madt_end(&m, false);
	u64 d = dsdt(s5_aml, sizeof(s5_aml));
	u64 f = fadt((u32)d, 0, 0x604, 0, 116);   /* an ACPI 1.0 FADT: no X_DSDT */
	u64 r = rsdt((u32[]){ (u32)f, (u32)madt }, 2);
	const u8 *rsdp = put_rsdp(0xf0000, 0, (u32)r, 0);

	ai.rsdp = 0xf0000;
	parse_ok(rsdp, 0);
	assert_int_equal(ai.rsdp, 0xf0000);   /* kept: the caller's record of where it was */
	assert_true(ai.has_madt);
	assert_true(ai.has_fadt);
	EXPECT_CPUS(0, 1, 4);
	assert_int_equal(ai.nr_ignored_cpus, 0);
	assert_int_equal(ai.lapic_base, 0xfee00000);
	assert_int_equal(ai.pm1a_cnt, 0x604);
	assert_int_equal(ai.pm1b_cnt, 0);
	assert_true(ai.has_s5);
	assert_int_equal(ai.s5_typa, 5);
	assert_int_equal(ai.s5_typb, 5);
}

static void xsdt_is_preferred(void **state)
{
	(void)state;
	struct madt_builder m;
	/* the RSDT's MADT: one CPU */
	madt_begin(&m, 0xfee00000);
	madt_lapic(&m, 0, 7, 1);
	u64 madt_old = madt_end(&m, false);
	/* the XSDT's MADT, above 4 GiB: x2APIC entries too */
	madt_begin(&m, 0xfed00000);
	madt_lapic(&m, 0, 0, 1);
	madt_x2apic(&m, 0x100, 1);
	madt_x2apic(&m, 0x101, 0);    /* disabled */
	madt_x2apic(&m, 0x102, 3);    /* enabled, online capable */
	u64 madt_new = madt_end(&m, true);
	u64 d = dsdt(s5_aml, sizeof(s5_aml));
	u64 f = fadt(0, d, 0xb004, 0xb008, 244);   /* 32-bit DSDT 0, X_DSDT set */
	u64 r = rsdt((u32[]){ (u32)madt_old }, 1);
	u64 x = xsdt((u64[]){ madt_new, f }, 2);
	const u8 *rsdp = put_rsdp(0xe0000, 2, (u32)r, x);

	parse_ok(rsdp, 0);
	EXPECT_CPUS(0, 0x100, 0x102);
	assert_int_equal(ai.lapic_base, 0xfed00000);
	assert_int_equal(ai.pm1a_cnt, 0xb004);
	assert_int_equal(ai.pm1b_cnt, 0xb008);
	assert_true(ai.has_s5);

	/* revision 2 but no XSDT address: the RSDT */
	setup(NULL);
	madt_begin(&m, 0xfee00000);
	madt_lapic(&m, 0, 7, 1);
	madt_old = madt_end(&m, false);
	r = rsdt((u32[]){ (u32)madt_old }, 1);
	rsdp = put_rsdp(0xe0000, 2, (u32)r, 0);
	parse_ok(rsdp, 7);
	EXPECT_CPUS(7);
	assert_false(ai.has_fadt);
	assert_false(ai.has_s5);
}

static void madt_bsp_first_and_duplicates(void **state)
{
	(void)state;
	struct madt_builder m;
	madt_begin(&m, 0xfee00000);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	madt_lapic(&m, 2, 2, 1);
	madt_lapic(&m, 3, 3, 1);
	madt_x2apic(&m, 1, 1);      /* the same CPU again as x2APIC: counted once */
	madt_lapic(&m, 4, 2, 1);    /* and a duplicate LAPIC */
	u64 r = rsdt((u32[]){ (u32)madt_end(&m, false) }, 1);
	const u8 *rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);

	parse_ok(rsdp, 2);
	assert_int_equal(ai.nr_cpus, 4);
	assert_int_equal(ai.apic_ids[0], 2);   /* the BSP first */
	/* every CPU exactly once */
	u32 seen = 0;
	for (u32 i = 0; i < ai.nr_cpus; i++)
		seen |= BIT(ai.apic_ids[i]);
	assert_int_equal(seen, 0xf);

	/* the BSP already first, or not in the table at all: the MADT order */
	parse_ok(rsdp, 0);
	EXPECT_CPUS(0, 1, 2, 3);
	parse_ok(rsdp, 9);
	EXPECT_CPUS(0, 1, 2, 3);
}

/* A firmware in x2APIC mode with CPUs above APIC ID 254: Processor Local x2APIC
 * entries beside Processor Local APIC ones (Bochs and small servers list type 0 only);
 * the boot CPU, an x2APIC one, comes first with its 32-bit ID. */
static void madt_x2apic_bsp_above_255(void **state)
{
	(void)state;
	struct madt_builder m;
	madt_begin(&m, 0xfee00000);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	madt_x2apic(&m, 0x100, 1);
	madt_x2apic(&m, 0x10000, 1);
	u64 r = rsdt((u32[]){ (u32)madt_end(&m, false) }, 1);
	const u8 *rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0x100);
	EXPECT_CPUS(0x100, 1, 0, 0x10000);
	parse_ok(rsdp, 0x10000);
	EXPECT_CPUS(0x10000, 1, 0x100, 0);
}

static void madt_more_than_max_cpus(void **state)
{
	(void)state;
	struct madt_builder m;
	madt_begin(&m, 0xfee00000);
	for (u32 i = 0; i < ACPI_MAX_CPUS + 3; i++)
		madt_x2apic(&m, 1000 + i, 1);
	u64 r = rsdt((u32[]){ (u32)madt_end(&m, false) }, 1);
	const u8 *rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 1000);
	assert_int_equal(ai.nr_cpus, ACPI_MAX_CPUS);
	assert_int_equal(ai.nr_ignored_cpus, 3);
	assert_int_equal(ai.apic_ids[0], 1000);
	assert_int_equal(ai.apic_ids[ACPI_MAX_CPUS - 1], 1000 + ACPI_MAX_CPUS - 1);
}

static void madt_malformed_entries(void **state)
{
	(void)state;
	struct madt_builder m;

	/* a zero-length entry stops the walk (and must not loop forever) */
	madt_begin(&m, 0xfee00000);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, (const u8[]){ 0, 0, 0, 0, 0, 0, 0, 0 }, 8);
	madt_lapic(&m, 1, 1, 1);
	u64 r = rsdt((u32[]){ (u32)madt_end(&m, false) }, 1);
	const u8 *rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	EXPECT_CPUS(0);
	assert_true(ai.has_madt);

	/* an entry running past the end of the table is not read */
	setup(NULL);
	madt_begin(&m, 0xfee00000);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, (const u8[]){ 0, 8, 1, 1 }, 4);   /* LAPIC entry cut after 4 bytes */
	r = rsdt((u32[]){ (u32)madt_end(&m, false) }, 1);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	EXPECT_CPUS(0);

	/* entries too short for their type are skipped; unknown types are skipped */
	setup(NULL);
	madt_begin(&m, 0xfee00000);
	madt_raw(&m, (const u8[]){ 0, 6, 1, 5, 1, 0 }, 6);            /* LAPIC, 6 bytes */
	madt_raw(&m, (const u8[]){ 9, 8, 0, 0, 6, 0, 0, 0 }, 8);      /* x2APIC, 8 bytes */
	madt_raw(&m, (const u8[]){ 1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0 }, 12);   /* I/O APIC */
	madt_lapic(&m, 3, 3, 1);
	/* the 64-bit local APIC address override */
	madt_raw(&m, (const u8[]){ 5, 12, 0, 0, 0x00, 0x00, 0xe0, 0xfe, 0x01, 0, 0, 0 }, 12);
	r = rsdt((u32[]){ (u32)madt_end(&m, false) }, 1);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	EXPECT_CPUS(3);
	assert_int_equal(ai.lapic_base, 0x1fee00000ull);

	/* a MADT too short for its fixed fields is ignored */
	setup(NULL);
	u64 madt = sdt("APIC", (const u8[]){ 0, 0, 0xe0, 0xfe }, 4, false);
	r = rsdt((u32[]){ (u32)madt }, 1);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_false(ai.has_madt);
	assert_int_equal(ai.nr_cpus, 0);
	assert_int_equal(ai.lapic_base, 0xfee00000);   /* the default */
}

static void bad_checksums_are_rejected(void **state)
{
	(void)state;
	struct madt_builder m;
	madt_begin(&m, 0xfee00000);
	madt_lapic(&m, 0, 0, 1);
	u64 madt = madt_end(&m, false);
	u64 r = rsdt((u32[]){ (u32)madt }, 1);
	u8 *rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	EXPECT_CPUS(0);

	/* the RSDP's own checksum */
	rsdp[8]++;
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
	assert_contains(err, "no valid ACPI RSDP");
	rsdp[8]--;

	/* the extended checksum of a revision 2 RSDP */
	u64 x = xsdt((u64[]){ madt }, 1);
	rsdp = put_rsdp(0xe0000, 2, (u32)r, x);
	parse_ok(rsdp, 0);
	rsdp[32]++;
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
	assert_contains(err, "RSDP");
	rsdp[32]--;
	/* a revision 2 RSDP with a length below 36 */
	rsdp[20] = 20;
	rsdp[32] = 0;
	rsdp[32] = (u8)-sum(rsdp, 36);
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
	rsdp = put_rsdp(0xe0000, 2, (u32)r, x);

	/* the signature */
	memcpy(rsdp, "RSD PTR!", 8);
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
	assert_false(acpi_parse(NULL, 0, &ai, err, sizeof(err)));
	assert_contains(err, "no valid ACPI RSDP");

	/* the XSDT: refused, named with its address (no fallback to the RSDT) */
	rsdp = put_rsdp(0xe0000, 2, (u32)r, x);
	virt(x)[9]++;
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
	assert_contains(err, "XSDT");
	char addr[32];
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)x);
	assert_contains(err, addr);

	/* the RSDT */
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	virt(r)[9]++;
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
	assert_contains(err, "RSDT");
	virt(r)[9]--;

	/* a root table with the wrong signature */
	memcpy(virt(r), "XSDT", 4);
	fix_checksum(r);
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
	assert_contains(err, "RSDT");
	memcpy(virt(r), "RSDT", 4);
	fix_checksum(r);

	/* a root table pointing nowhere */
	rsdp = put_rsdp(0xe0000, 0, 0x7000000, 0);
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));

	/* a bad MADT checksum: the table is skipped, the parse succeeds */
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	virt(madt)[40]++;
	parse_ok(rsdp, 0);
	assert_false(ai.has_madt);
	assert_int_equal(ai.nr_cpus, 0);
}

static void root_table_length_limits(void **state)
{
	(void)state;
	/* a length below the header size */
	u64 r = rsdt(NULL, 0);
	u32 len = 20;
	memcpy(virt(r) + 4, &len, 4);
	fix_checksum(r);
	const u8 *rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	assert_false(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
	/* an empty RSDT is fine */
	setup(NULL);
	r = rsdt(NULL, 0);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_int_equal(ai.nr_cpus, 0);
	assert_false(ai.has_madt);
	assert_false(ai.has_fadt);
	/* entries pointing to nothing or to zero are skipped */
	setup(NULL);
	r = rsdt((u32[]){ 0, 0x7000000, 0xffffffff }, 3);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_false(ai.has_madt);
}

static void fadt_variants(void **state)
{
	(void)state;
	/* X_DSDT preferred over DSDT */
	u64 d_good = dsdt(s5_aml, sizeof(s5_aml));
	static const u8 s5_other[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x07, 0x01 };
	u64 d_other = dsdt(s5_other, sizeof(s5_other));
	u64 f = fadt((u32)d_good, d_other, 0x404, 0, 244);
	u64 r = rsdt((u32[]){ (u32)f }, 1);
	const u8 *rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_true(ai.has_s5);
	assert_int_equal(ai.s5_typa, 7);
	assert_int_equal(ai.s5_typb, 1);

	/* a FADT shorter than X_DSDT's end: the 32-bit DSDT, even with bytes there */
	setup(NULL);
	d_good = dsdt(s5_aml, sizeof(s5_aml));
	f = fadt((u32)d_good, 0x7000000, 0x404, 0, 140);
	r = rsdt((u32[]){ (u32)f }, 1);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_true(ai.has_s5);
	assert_int_equal(ai.s5_typa, 5);

	/* a FADT too short for PM1 control blocks is ignored */
	setup(NULL);
	f = fadt(0, 0, 0x404, 0, 68);
	r = rsdt((u32[]){ (u32)f }, 1);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_false(ai.has_fadt);
	assert_int_equal(ai.pm1a_cnt, 0);

	/* the DSDT's checksum is bad, or it is not a DSDT: no \_S5 */
	setup(NULL);
	d_good = dsdt(s5_aml, sizeof(s5_aml));
	virt(d_good)[40]++;
	f = fadt((u32)d_good, 0, 0x404, 0, 244);
	r = rsdt((u32[]){ (u32)f }, 1);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_true(ai.has_fadt);
	assert_int_equal(ai.pm1a_cnt, 0x404);
	assert_false(ai.has_s5);
	setup(NULL);
	d_good = sdt("SSDT", s5_aml, sizeof(s5_aml), false);
	f = fadt((u32)d_good, 0, 0x404, 0, 244);
	r = rsdt((u32[]){ (u32)f }, 1);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_false(ai.has_s5);

	/* no DSDT at all */
	setup(NULL);
	f = fadt(0, 0, 0x404, 0, 244);
	r = rsdt((u32[]){ (u32)f }, 1);
	rsdp = put_rsdp(0xe0000, 0, (u32)r, 0);
	parse_ok(rsdp, 0);
	assert_true(ai.has_fadt);
	assert_false(ai.has_s5);
}

/* ---- acpi_find_s5 on raw AML ---- */

static bool s5(const u8 *aml, size_t len, u8 *a, u8 *b)
{
	*a = *b = 0xee;
	return acpi_find_s5(aml, len, a, b);
}

static void find_s5_forms(void **state)
{
	(void)state;
	u8 a, b;
	assert_true(s5(s5_aml, sizeof(s5_aml), &a, &b));
	assert_int_equal(a, 5);
	assert_int_equal(b, 5);

	/* ZeroOp / OneOp elements */
	static const u8 zero[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };
	assert_true(s5(zero, sizeof(zero), &a, &b));
	assert_int_equal(a, 0);
	assert_int_equal(b, 0);
	static const u8 mixed[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x01, 0x0a, 0x07, 0x00, 0x00 };
	assert_true(s5(mixed, sizeof(mixed), &a, &b));
	assert_int_equal(a, 1);
	assert_int_equal(b, 7);

	/* a root-prefixed name: NameOp '\' _S5_ */
	static const u8 root[] = { 0xa0, 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				   0x0a, 0x03, 0x0a, 0x04, 0x00, 0x00 };
	assert_true(s5(root, sizeof(root), &a, &b));
	assert_int_equal(a, 3);
	assert_int_equal(b, 4);

	/* a two-byte PkgLength (bits 7:6 = 1) */
	static const u8 pkg2[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x04,
				   0x0a, 0x06, 0x0a, 0x02, 0x00, 0x00 };
	assert_true(s5(pkg2, sizeof(pkg2), &a, &b));
	assert_int_equal(a, 6);
	assert_int_equal(b, 2);

	/* a reference to _S5_ (no NameOp before it) is skipped; the definition after it found */
	static const u8 ref[] = { 0x70, '_', 'S', '5', '_', 0x60, 0x00, 0x00, 0x00,
				  0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a, 0x05, 0x0a, 0x06, 0x00 };
	assert_true(s5(ref, sizeof(ref), &a, &b));
	assert_int_equal(a, 5);
	assert_int_equal(b, 6);

	/* a package with a single element: SLP_TYPb 0 */
	static const u8 one[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x0a, 0x05 };
	assert_true(s5(one, sizeof(one), &a, &b));
	assert_int_equal(a, 5);
	assert_int_equal(b, 0);
}

static void find_s5_malformed(void **state)
{
	(void)state;
	u8 a, b;
	assert_false(s5(s5_aml, 0, &a, &b));
	assert_false(s5((const u8 *)"", 0, &a, &b));
	/* truncated: the stream ends inside the package */
	for (size_t len = 1; len <= 9; len++)
		if (s5(s5_aml, len, &a, &b))
			fail_msg("\\_S5 found in the first %zu bytes", len);
	/* _S5_ at the very start: no NameOp before it */
	assert_false(s5(s5_aml + 1, sizeof(s5_aml) - 1, &a, &b));
	/* not a package */
	static const u8 notpkg[] = { 0x08, '_', 'S', '5', '_', 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	assert_false(s5(notpkg, sizeof(notpkg), &a, &b));
	/* an element that is not a byte constant (WordPrefix) */
	static const u8 word[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x02, 0x0b, 0x05, 0x00,
				   0x0a, 0x05, 0x00 };
	assert_false(s5(word, sizeof(word), &a, &b));
	/* BytePrefix as the last byte */
	static const u8 cut[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a };
	assert_false(s5(cut, sizeof(cut), &a, &b));
	/* a PkgLength whose extra bytes run past the end */
	static const u8 longpkg[] = { 0x08, '_', 'S', '5', '_', 0x12, 0xc0, 0x00, 0x00 };
	assert_false(s5(longpkg, sizeof(longpkg), &a, &b));
	/* no _S5_ at all (but _S4_ and _S5 without the underscore) */
	static const u8 none[] = { 0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x04, 0x0a, 0x04, 0x0a,
				   0x04, 0x00, 0x00, 0x08, '_', 'S', '5', 'X', 0x12, 0x06, 0x04, 0x0a };
	assert_false(s5(none, sizeof(none), &a, &b));
}

/* ---- acpi_find_rsdp ---- */

static void find_rsdp_from_loader_copy(void **state)
{
	(void)state;
	struct boot_info bi;
	memset(&bi, 0, sizeof(bi));
	u64 pa = 0xdead;
	/* a valid copy: used as is, no physical address */
	u8 *r = put_rsdp(0xe0000, 2, 0x1000, 0x2000);
	memcpy(bi.rsdp, r, 36);
	bi.has_rsdp = true;
	memset(r, 0, 36);   /* nothing in memory */
	assert_ptr_equal(acpi_find_rsdp(&bi, &pa), bi.rsdp);
	assert_int_equal(pa, 0);

	/* an invalid copy: the memory scan */
	bi.rsdp[8]++;
	put_rsdp(0xf6a40, 0, 0x1000, 0);
	assert_ptr_equal(acpi_find_rsdp(&bi, &pa), virt(0xf6a40));
	assert_int_equal(pa, 0xf6a40);

	/* a copy not flagged as present is not looked at */
	bi.rsdp[8]--;
	bi.has_rsdp = false;
	assert_ptr_equal(acpi_find_rsdp(&bi, &pa), virt(0xf6a40));
	/* no boot information at all */
	assert_ptr_equal(acpi_find_rsdp(NULL, &pa), virt(0xf6a40));
}

static void find_rsdp_scan(void **state)
{
	(void)state;
	u64 pa = 0xdead;
	/* nothing anywhere */
	assert_null(acpi_find_rsdp(NULL, &pa));
	assert_int_equal(pa, 0);

	/* in the BIOS area, 16-byte aligned: found at both ends of the area */
	put_rsdp(0xe0000, 0, 0x1000, 0);
	assert_ptr_equal(acpi_find_rsdp(NULL, &pa), virt(0xe0000));
	assert_int_equal(pa, 0xe0000);
	setup(NULL);
	put_rsdp(0xfffd0, 2, 0x1000, 0x2000);
	assert_ptr_equal(acpi_find_rsdp(NULL, &pa), virt(0xfffd0));
	assert_int_equal(pa, 0xfffd0);

	/* not 16-byte aligned: not found */
	setup(NULL);
	put_rsdp(0xe0008, 0, 0x1000, 0);
	assert_null(acpi_find_rsdp(NULL, &pa));

	/* below 0xE0000 (and no EBDA): not found */
	setup(NULL);
	put_rsdp(0xdfff0, 0, 0x1000, 0);
	assert_null(acpi_find_rsdp(NULL, &pa));

	/* a signature with a bad checksum first: skipped for the valid one after it */
	setup(NULL);
	u8 *bad = put_rsdp(0xe1000, 0, 0x1000, 0);
	bad[8]++;
	put_rsdp(0xe1010, 0, 0x2000, 0);
	assert_ptr_equal(acpi_find_rsdp(NULL, &pa), virt(0xe1010));
	/* a revision 2 one with a bad extended checksum is skipped too */
	setup(NULL);
	bad = put_rsdp(0xe1000, 2, 0x1000, 0x2000);
	bad[32]++;
	put_rsdp(0xe2000, 2, 0x1000, 0x2000);
	assert_ptr_equal(acpi_find_rsdp(NULL, &pa), virt(0xe2000));
}

static void find_rsdp_in_the_ebda(void **state)
{
	(void)state;
	u64 pa = 0;
	/* the BDA word at 0x40E holds the EBDA segment */
	u16 seg = 0x9fc0;
	memcpy(low + 0x40e, &seg, 2);
	put_rsdp(0x9fc00 + 0x40, 0, 0x1000, 0);
	put_rsdp(0xe0000, 0, 0x2000, 0);   /* also one in the BIOS area: the EBDA comes first */
	assert_ptr_equal(acpi_find_rsdp(NULL, &pa), virt(0x9fc40));
	assert_int_equal(pa, 0x9fc40);

	/* only the first KiB of the EBDA is searched */
	setup(NULL);
	memcpy(low + 0x40e, &seg, 2);
	put_rsdp(0x9fc00 + 0x400, 0, 0x1000, 0);
	assert_null(acpi_find_rsdp(NULL, &pa));

	/* a zero segment: no EBDA search (0x0 itself holds an RSDP that must not be found) */
	setup(NULL);
	put_rsdp(0x100, 0, 0x1000, 0);
	assert_null(acpi_find_rsdp(NULL, &pa));
}

/* Under UEFI (bi.efi) only the loader's copy counts: no EBDA or BIOS-area scan. */
static void find_rsdp_uefi_no_scan(void **state)
{
	(void)state;
	struct boot_info bi;
	memset(&bi, 0, sizeof(bi));
	u64 pa = 0xdead;
	u16 seg = 0x9fc0;
	memcpy(low + 0x40e, &seg, 2);
	put_rsdp(0x9fc00, 0, 0x1000, 0);
	put_rsdp(0xe0000, 0, 0x1000, 0);
	bi.efi = true;
	assert_null(acpi_find_rsdp(&bi, &pa));
	assert_int_equal(pa, 0);
	/* the tag's copy */
	u8 *r = put_rsdp(0xf0000, 2, 0x1000, 0x2000);
	memcpy(bi.rsdp, r, 36);
	bi.has_rsdp = true;
	assert_ptr_equal(acpi_find_rsdp(&bi, &pa), bi.rsdp);
	/* an invalid copy: nothing (no fallback to the scan) */
	bi.rsdp[8]++;
	assert_null(acpi_find_rsdp(&bi, &pa));
	/* the same information without the EFI flag scans */
	bi.efi = false;
	assert_ptr_equal(acpi_find_rsdp(&bi, &pa), virt(0x9fc00));
}

/* An SPCR body (after the 36-byte header): interface type, GAS, baud code; 44 bytes. */
static u64 spcr(u8 rev, u8 iface, u8 space, u64 addr, u8 baud)
{
	u8 b[44] = { 0 };
	b[0] = iface;
	b[4] = space;
	b[5] = 8;          /* register bit width */
	b[7] = 1;          /* byte access */
	memcpy(b + 8, &addr, 8);
	b[22] = baud;      /* offset 58 */
	u64 pa = sdt("SPCR", b, sizeof(b), false);
	virt(pa)[8] = rev;
	fix_checksum(pa);
	return pa;
}

static void spcr_console(void **state)
{
	(void)state;
	struct acpi_spcr sp;
	u64 apic = sdt("APIC", (u8[8]){ 0 }, 8, false);
	u64 t = spcr(2, 0x00, 1, 0x2f8, 7);
	u32 entries[2] = { (u32)apic, (u32)t };
	u8 *r = put_rsdp(0xe0000, 0, (u32)rsdt(entries, 2), 0);
	assert_true(acpi_find_spcr(r, &sp));
	assert_true(sp.found && sp.usable);
	assert_int_equal(sp.address, 0x2f8);
	assert_int_equal(sp.baud, 115200);
	assert_null(sp.why);

	/* baud codes: 3 9600, 4 19200, 6 57600, 0 and unknown = as the firmware left it */
	static const u8 codes[] = { 3, 4, 6, 0, 5, 8 };
	static const u32 rates[] = { 9600, 19200, 57600, 0, 0, 0 };
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		virt(t)[58] = codes[i];
		fix_checksum(t);
		assert_true(acpi_find_spcr(r, &sp));
		assert_int_equal(sp.baud, rates[i]);
	}
	/* 16450 (revision 1 type 1) and the GAS-described 16550 (0x12, revision 2+) */
	virt(t)[36] = 0x01;
	fix_checksum(t);
	assert_true(acpi_find_spcr(r, &sp));
	virt(t)[36] = 0x12;
	fix_checksum(t);
	assert_true(acpi_find_spcr(r, &sp));
	virt(t)[8] = 1;
	fix_checksum(t);
	assert_false(acpi_find_spcr(r, &sp));   /* 0x12 is reserved in revision 1 */
	assert_true(sp.found);
	/* not a 16550: an Arm PL011 (0x03) */
	virt(t)[8] = 2;
	virt(t)[36] = 0x03;
	fix_checksum(t);
	assert_false(acpi_find_spcr(r, &sp));
	assert_true(sp.found);
	assert_false(sp.usable);
	assert_non_null(sp.why);
	assert_contains(sp.why, "16550");
	/* an MMIO 16550 */
	virt(t)[36] = 0x00;
	virt(t)[40] = 0;
	fix_checksum(t);
	assert_false(acpi_find_spcr(r, &sp));
	assert_contains(sp.why, "I/O space");
	/* port 0 */
	virt(t)[40] = 1;
	memset(virt(t) + 44, 0, 8);
	fix_checksum(t);
	assert_false(acpi_find_spcr(r, &sp));
	assert_contains(sp.why, "port");
	/* a bad checksum: as if there were none */
	virt(t)[9]++;
	assert_false(acpi_find_spcr(r, &sp));
	assert_false(sp.found);
	/* too short */
	setup(NULL);
	u64 shortt = sdt("SPCR", (u8[8]){ 0 }, 8, false);
	u32 e1[1] = { (u32)shortt };
	r = put_rsdp(0xe0000, 0, (u32)rsdt(e1, 1), 0);
	assert_false(acpi_find_spcr(r, &sp));
	assert_true(sp.found);
	assert_contains(sp.why, "short");
	/* none listed; no RSDP */
	u32 e0[1] = { (u32)sdt("APIC", (u8[8]){ 0 }, 8, false) };
	r = put_rsdp(0xe0000, 0, (u32)rsdt(e0, 1), 0);
	assert_false(acpi_find_spcr(r, &sp));
	assert_false(sp.found);
	assert_false(acpi_find_spcr(NULL, &sp));
	assert_false(sp.found);
}

/* Through the XSDT; a table above 4 GiB is not looked at (not mapped that early). */
static void spcr_via_xsdt(void **state)
{
	(void)state;
	struct acpi_spcr sp;
	u8 b[44] = { 0 };
	b[4] = 1;
	u64 port = 0x3e8;
	memcpy(b + 8, &port, 8);
	u64 t = sdt("SPCR", b, sizeof(b), false);
	u64 entries[1] = { t };
	u8 *r = put_rsdp(0xe0000, 2, 0, xsdt(entries, 1));
	assert_true(acpi_find_spcr(r, &sp));
	assert_int_equal(sp.address, 0x3e8);
	assert_int_equal(sp.baud, 0);

	setup(NULL);
	t = sdt("SPCR", b, sizeof(b), true);
	entries[0] = t;
	r = put_rsdp(0xe0000, 2, 0, xsdt(entries, 1));
	assert_false(acpi_find_spcr(r, &sp));
	assert_false(sp.found);
}

/* MCFG: the first allocation of segment 0 is the ECAM window; DMAR: only located. */
static void mcfg_and_dmar(void **state)
{
	(void)state;
	u8 m[8 + 3 * 16];
	memset(m, 0, sizeof(m));
	u64 base1 = 0xe0000000, base0 = 0xb0000000;
	memcpy(m + 8, &base1, 8);
	m[8 + 8] = 1;                 /* segment 1: not ours */
	memcpy(m + 24, &base0, 8);    /* segment 0, buses 0-63 */
	m[24 + 10] = 0;
	m[24 + 11] = 63;
	memcpy(m + 40, &base1, 8);    /* a second segment-0 window: the first is kept */
	u64 mc = sdt("MCFG", m, sizeof(m), false);
	u8 dm[12] = { 38, 1 };
	u64 dr = sdt("DMAR", dm, sizeof(dm), false);
	const u8 *rsdp = put_rsdp(0xe0000, 0, (u32)rsdt((u32[]){ (u32)mc, (u32)dr }, 2), 0);
	parse_ok(rsdp, 0);
	assert_true(ai.has_mcfg);
	assert_int_equal(ai.mcfg_base, 0xb0000000);
	assert_int_equal(ai.mcfg_bus_start, 0);
	assert_int_equal(ai.mcfg_bus_end, 63);
	assert_int_equal(ai.dmar_pa, dr);
	assert_int_equal(ai.dmar_len, 48);

	/* neither table */
	setup(NULL);
	rsdp = put_rsdp(0xe0000, 0, (u32)rsdt(NULL, 0), 0);
	parse_ok(rsdp, 0);
	assert_false(ai.has_mcfg);
	assert_int_equal(ai.dmar_pa, 0);
}

#define T(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(checksum),
		T(rsdt_madt_fadt_dsdt),
		T(xsdt_is_preferred),
		T(madt_bsp_first_and_duplicates),
		T(madt_x2apic_bsp_above_255),
		T(madt_more_than_max_cpus),
		T(madt_malformed_entries),
		T(bad_checksums_are_rejected),
		T(root_table_length_limits),
		T(fadt_variants),
		T(find_s5_forms),
		T(find_s5_malformed),
		T(find_rsdp_from_loader_copy),
		T(find_rsdp_scan),
		T(find_rsdp_in_the_ebda),
		T(find_rsdp_uefi_no_scan),
		T(spcr_console),
		T(spcr_via_xsdt),
		T(mcfg_and_dmar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
