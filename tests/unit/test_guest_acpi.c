/* SPDX-License-Identifier: MIT */
/*
 * hv/vm/guest_acpi.c: the guest's ACPI tables, read back by the hypervisor's own parser
 * (hv/host/acpi.c: RSDP search, XSDT, MADT CPU list, FADT PM1a_CNT, \_S5) and field by field
 * against the ACPI specification's layouts.
 */
#include "tests/unit/support.h"
#include "hv/host/acpi.h"
#include "hv/vm/guest_acpi.h"
#include "hv/mm/guest_layout.h"
#include "hv/irq/vioapic.h"
#include "hv/vm/loader.h"

#define RAM_SIZE (2u << 20)
static u8 *ram;
static char err[160];

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	fake_mem_reset();
	fake_mem_map(0, ram, RAM_SIZE);
	memset(err, 0, sizeof(err));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static u32 get32(u64 pa)
{
	u32 v;
	memcpy(&v, ram + pa, 4);
	return v;
}

static u16 get16(u64 pa)
{
	u16 v;
	memcpy(&v, ram + pa, 2);
	return v;
}

static u64 get64(u64 pa)
{
	u64 v;
	memcpy(&v, ram + pa, 8);
	return v;
}

static void build(u32 nr_cpus, u8 ioapic_id)
{
	struct guest_acpi_config c;
	guest_acpi_default(&c, nr_cpus, ioapic_id);
	assert_true(guest_acpi_build(ram, RAM_SIZE, &c, err, sizeof(err)));
}

/* The table with signature sig listed in the XSDT (and the same in the RSDT). */
static u64 find_table(const char *sig)
{
	u64 rsdp = GUEST_ACPI_BASE;
	u64 rsdt = get32(rsdp + 16), xsdt = get64(rsdp + 24);
	u32 xn = (get32(xsdt + 4) - 36) / 8, rn = (get32(rsdt + 4) - 36) / 4;
	assert_int_equal(xn, rn);
	for (u32 i = 0; i < xn; i++) {
		u64 t = get64(xsdt + 36 + i * 8);
		assert_int_equal(t, get32(rsdt + 36 + i * 4));
		if (!memcmp(ram + t, sig, 4))
			return t;
	}
	fail_msg("no %s table", sig);
	return 0;
}

static void parsed_by_the_hypervisor_parser(void **state)
{
	(void)state;
	static const u32 counts[] = { 1, 2, 4, 16 };
	for (unsigned k = 0; k < ARRAY_SIZE(counts); k++) {
		u32 n = counts[k];
		memset(ram, 0, RAM_SIZE);
		build(n, (u8)n);
		u64 pa = 0;
		const void *rsdp = acpi_find_rsdp(NULL, &pa);
		assert_non_null(rsdp);
		assert_int_equal(pa, GUEST_ACPI_BASE);
		struct acpi_info ai;
		memset(&ai, 0xa5, sizeof(ai));
		ai.rsdp = pa;
		assert_true(acpi_parse(rsdp, 0, &ai, err, sizeof(err)));
		assert_true(ai.has_madt);
		assert_true(ai.has_fadt);
		assert_int_equal(ai.nr_cpus, n);
		assert_int_equal(ai.nr_ignored_cpus, 0);
		for (u32 i = 0; i < n; i++)
			assert_int_equal(ai.apic_ids[i], i);
		assert_int_equal(ai.lapic_base, 0xfee00000u);
		assert_int_equal(ai.pm1a_cnt, GUEST_PM1A_CNT);
		assert_int_equal(ai.pm1b_cnt, 0);
		assert_true(ai.has_s5);
		assert_int_equal(ai.s5_typa, GUEST_S5_SLP_TYP);
		assert_int_equal(ai.s5_typb, GUEST_S5_SLP_TYP);
	}
}

static void checksums(void **state)
{
	(void)state;
	build(3, 3);
	const u8 *r = ram + GUEST_ACPI_BASE;
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(r[15], 2);                       /* ACPI 2.0+ RSDP */
	assert_int_equal(get32(GUEST_ACPI_BASE + 20), 36);
	assert_true(acpi_checksum_ok(r, 20));
	assert_true(acpi_checksum_ok(r, 36));
	static const char *const sigs[] = { "FACP", "APIC", "MCFG" };
	for (unsigned i = 0; i < ARRAY_SIZE(sigs); i++) {
		u64 t = find_table(sigs[i]);
		assert_true(acpi_checksum_ok(ram + t, get32(t + 4)));
		assert_int_equal(t % 16, 0);
		assert_true(t >= GUEST_ACPI_BASE && t + get32(t + 4) <= GUEST_ACPI_END);
	}
	u64 rsdt = get32(GUEST_ACPI_BASE + 16), xsdt = get64(GUEST_ACPI_BASE + 24);
	assert_memory_equal(ram + rsdt, "RSDT", 4);
	assert_memory_equal(ram + xsdt, "XSDT", 4);
	assert_true(acpi_checksum_ok(ram + rsdt, get32(rsdt + 4)));
	assert_true(acpi_checksum_ok(ram + xsdt, get32(xsdt + 4)));
	u64 dsdt = get32(find_table("FACP") + 40);
	assert_memory_equal(ram + dsdt, "DSDT", 4);
	assert_true(acpi_checksum_ok(ram + dsdt, get32(dsdt + 4)));
	/* A flipped byte anywhere in a table breaks its checksum: the parser then drops
	 * the table (here the MADT: no CPUs). */
	u64 madt = find_table("APIC");
	ram[madt + 50] ^= 1;
	struct acpi_info ai = { 0 };
	assert_true(acpi_parse(ram + GUEST_ACPI_BASE, 0, &ai, err, sizeof(err)));
	assert_false(ai.has_madt);
}

static void madt_entries(void **state)
{
	(void)state;
	build(2, 2);
	u64 m = find_table("APIC");
	u32 len = get32(m + 4);
	assert_int_equal(ram[m + 8], 5);                  /* MADT revision */
	assert_int_equal(get32(m + 36), 0xfee00000u);     /* local APIC address */
	assert_int_equal(get32(m + 40), 1);               /* PCAT_COMPAT */
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	for (u64 off = m + 44; off < m + len;) {
		u8 type = ram[off], l = ram[off + 1];
		assert_true(l >= 2 && off + l <= m + len);
		switch (type) {
		case 0:
			assert_int_equal(l, 8);
			assert_int_equal(ram[off + 2], lapics);      /* UID */
			assert_int_equal(ram[off + 3], lapics);      /* APIC ID */
			assert_int_equal(get32(off + 4), 1);         /* enabled */
			lapics++;
			break;
		case 1:
			assert_int_equal(l, 12);
			assert_int_equal(ram[off + 2], 2);           /* IOAPIC ID */
			assert_int_equal(get32(off + 4), VIOAPIC_BASE);
			assert_int_equal(get32(off + 8), 0);         /* GSI base */
			ioapics++;
			break;
		case 2:
			assert_int_equal(l, 10);
			assert_int_equal(ram[off + 2], 0);           /* ISA */
			assert_int_equal(ram[off + 3], 0);           /* IRQ0 */
			assert_int_equal(get32(off + 4), 2);         /* -> GSI 2 */
			assert_int_equal(get16(off + 8), 0);
			isos++;
			break;
		case 4:
			assert_int_equal(l, 6);
			assert_int_equal(ram[off + 2], 0xff);        /* all processors */
			assert_int_equal(ram[off + 5], 1);           /* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", type);
		}
		off += l;
	}
	assert_int_equal(lapics, 2);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
}

static void fadt_fields(void **state)
{
	(void)state;
	build(1, 1);
	u64 f = find_table("FACP");
	assert_int_equal(get32(f + 4), 276);
	assert_int_equal(ram[f + 8], 6);                  /* revision with the X_ fields */
	u64 facs = get32(f + 36);
	assert_int_equal(facs % 64, 0);
	assert_memory_equal(ram + facs, "FACS", 4);
	assert_int_equal(get32(facs + 4), 64);
	assert_int_equal(get64(f + 132), 0);              /* X_FIRMWARE_CTRL 0: FIRMWARE_CTRL set */
	assert_int_equal(get64(f + 140), get32(f + 40));  /* X_DSDT = DSDT */
	assert_int_equal(get16(f + 46), 9);               /* SCI_INT */
	assert_int_equal(get32(f + 48), 0);               /* SMI_CMD: always ACPI mode */
	assert_int_equal(get32(f + 56), 0x600);           /* PM1a_EVT_BLK */
	assert_int_equal(get32(f + 64), 0x604);           /* PM1a_CNT_BLK */
	assert_int_equal(get32(f + 76), 0x608);           /* PM_TMR_BLK */
	assert_int_equal(ram[f + 88], 4);                 /* PM1_EVT_LEN */
	assert_int_equal(ram[f + 89], 2);                 /* PM1_CNT_LEN */
	assert_int_equal(ram[f + 91], 4);                 /* PM_TMR_LEN */
	u32 flags = get32(f + 112);
	assert_true(flags & BIT(8));                      /* TMR_VAL_EXT: 32-bit timer */
	assert_true(flags & BIT(0));                      /* WBINVD */
	assert_false(flags & BIT(20));                    /* not HW-reduced */
	assert_true(flags & BIT(10));                     /* RESET_REG_SUP */
	/* RESET_REG: system I/O 0xCF9, 8 bits, byte access; RESET_VALUE 0x06. */
	assert_int_equal(ram[f + 116], 1);
	assert_int_equal(ram[f + 117], 8);
	assert_int_equal(ram[f + 119], 1);
	assert_int_equal(get64(f + 120), 0xcf9);
	assert_int_equal(ram[f + 128], 0x06);
	/* IAPC_BOOT_ARCH: no 8042 (hv/dev/i8042.c is there for its reset line only); the
	 * CMOS RTC is present (hv/dev/rtc.c). */
	assert_false(get16(f + 109) & BIT(1));
	assert_false(get16(f + 109) & BIT(5));
	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK, X_PM_TMR_BLK: system I/O GAS. */
	static const struct { u32 off; u64 port; u8 bits; } gas[] = {
		{ 148, 0x600, 32 }, { 172, 0x604, 16 }, { 208, 0x608, 32 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(gas); i++) {
		assert_int_equal(ram[f + gas[i].off], 1);
		assert_int_equal(ram[f + gas[i].off + 1], gas[i].bits);
		assert_int_equal(get64(f + gas[i].off + 4), gas[i].port);
	}
}

/* Offset of the first occurrence of pat in ram[t, t + len), or 0. */
static u64 find_bytes(u64 t, u32 len, const u8 *pat, size_t n)
{
	for (u64 i = t; i + n <= t + len; i++)
		if (!memcmp(ram + i, pat, n))
			return i;
	return 0;
}

static void dsdt_from_asl(void **state)
{
	(void)state;
	build(2, 2);
	u64 d = get32(find_table("FACP") + 40);
	u32 len = get32(d + 4);
	assert_memory_equal(ram + d, "DSDT", 4);
	assert_true(acpi_checksum_ok(ram + d, len));
	assert_memory_equal(ram + d + 10, "MICRHV", 6);
	/* \_S5 as the hypervisor's own parser finds it (5, 5). */
	u8 a = 0, b = 0;
	assert_true(acpi_find_s5(ram + d + 36, len - 36, &a, &b));
	assert_int_equal(a, GUEST_S5_SLP_TYP);
	assert_int_equal(b, GUEST_S5_SLP_TYP);
	/* The host bridge: _HID EisaId("PNP0A03") = DWordPrefix 41 D0 0A 03. */
	static const u8 hid[] = { '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	assert_true(find_bytes(d, len, hid, sizeof(hid)));
	static const u8 prt[] = { '_', 'P', 'R', 'T' };
	assert_true(find_bytes(d, len, prt, sizeof(prt)));
	/* The window names hold the default window. */
	static const u8 pw3b[] = { 0x08, 'P', 'W', '3', 'B', 0x0c };
	u64 at = find_bytes(d, len, pw3b, sizeof(pw3b));
	assert_true(at);
	assert_int_equal(get32(at + 6), 0xc0000000u);
	static const u8 pw3e[] = { 0x08, 'P', 'W', '3', 'E', 0x0c };
	at = find_bytes(d, len, pw3e, sizeof(pw3e));
	assert_true(at);
	assert_int_equal(get32(at + 6), 0xdfffffffu);

	/* Another window: patched, checksum still right. */
	struct guest_acpi_config c;
	guest_acpi_default(&c, 1, 1);
	c.pci_win32_base = 0x80000000u;
	assert_true(guest_acpi_build(ram, RAM_SIZE, &c, err, sizeof(err)));
	d = get32(find_table("FACP") + 40);
	at = find_bytes(d, len, pw3b, sizeof(pw3b));
	assert_int_equal(get32(at + 6), 0x80000000u);
	assert_true(acpi_checksum_ok(ram + d, len));
	/* An empty window, an \_S5 other than the compiled one: refused. */
	c.pci_win32_base = 0xe0000000u;
	c.pci_win32_end = 0xc0000000u;
	assert_false(guest_acpi_build(ram, RAM_SIZE, &c, err, sizeof(err)));
	guest_acpi_default(&c, 1, 1);
	c.s5_slp_typ = 7;
	assert_false(guest_acpi_build(ram, RAM_SIZE, &c, err, sizeof(err)));
	assert_contains(err, "_S5");
}

static void mcfg(void **state)
{
	(void)state;
	build(1, 1);
	u64 m = find_table("MCFG");
	assert_int_equal(get32(m + 4), 36 + 8 + 16);
	assert_true(acpi_checksum_ok(ram + m, 60));
	assert_int_equal(m % 16, 0);
	assert_int_equal(get64(m + 44), GUEST_ECAM_BASE);
	assert_int_equal(ram[m + 52] | ram[m + 53] << 8, 0);   /* segment 0 */
	assert_int_equal(ram[m + 54], 0);                      /* start bus */
	assert_int_equal(ram[m + 55], 0);                      /* end bus */
}

static void everything_in_the_bios_area(void **state)
{
	(void)state;
	memset(ram, 0x5a, RAM_SIZE);
	build(16, 16);
	/* Below 0xE0000 and from 1 MiB up: untouched. */
	for (u32 i = 0; i < GUEST_ACPI_BASE; i++)
		if (ram[i] != 0x5a)
			fail_msg("byte 0x%x below the BIOS area written", i);
	for (u32 i = GUEST_ACPI_END; i < RAM_SIZE; i++)
		if (ram[i] != 0x5a)
			fail_msg("byte 0x%x above the BIOS area written", i);
	/* The rest of the area was cleared (no stale RSDP-like bytes). */
	assert_int_equal(ram[GUEST_ACPI_END - 1], 0);
}

static void refusals(void **state)
{
	(void)state;
	struct guest_acpi_config c;
	guest_acpi_default(&c, 0, 0);
	assert_false(guest_acpi_build(ram, RAM_SIZE, &c, err, sizeof(err)));
	assert_contains(err, "0 vCPUs");
	guest_acpi_default(&c, 256, 0);
	assert_false(guest_acpi_build(ram, RAM_SIZE, &c, err, sizeof(err)));
	assert_contains(err, "256 vCPUs");
	guest_acpi_default(&c, 255, 0);
	assert_true(guest_acpi_build(ram, RAM_SIZE, &c, err, sizeof(err)));
	struct acpi_info ai = { 0 };
	assert_true(acpi_parse(ram + GUEST_ACPI_BASE, 0, &ai, err, sizeof(err)));
	assert_int_equal(ai.nr_cpus + ai.nr_ignored_cpus, 255);
	guest_acpi_default(&c, 1, 0);
	assert_false(guest_acpi_build(ram, GUEST_ACPI_END - 1, &c, err, sizeof(err)));
	assert_contains(err, "BIOS area");
}

/* The loader's entry point: tables built next to a loaded kernel, and the memory map
 * the guest gets marks 0xE0000-0xFFFFF reserved (never RAM the guest may reuse). */
static void loader_builds_tables_in_reserved_memory(void **state)
{
	(void)state;
	/* A multiboot kernel with the address fields (flag 16), 64 bytes at 1 MiB. */
	u32 k[16] = { 0x1BADB002u, BIT(16), 0, 0x100000, 0x100000, 0, 0, 0x100020 };
	k[2] = (u32)-(k[0] + k[1]);
	struct loader_result lr;
	struct guest_map map;
	assert_true(guest_map_build(&map, RAM_SIZE, 0, err, sizeof(err)));
	assert_true(mb_load(ram, &map, (const u8 *)k, sizeof(k), "x", NULL, 0, &lr, err, sizeof(err)));
	assert_true(loader_build_acpi(ram, &map, 2, 2, err, sizeof(err)));

	u64 pa;
	struct acpi_info ai = { 0 };
	assert_true(acpi_parse(acpi_find_rsdp(NULL, &pa), 0, &ai, err, sizeof(err)));
	assert_int_equal(ai.nr_cpus, 2);
	assert_true(ai.has_s5);

	/* The multiboot memory map (struct mbi: mmap_length at 44, mmap_addr at 48). */
	u32 len = get32(lr.mbi + 44), at = get32(lr.mbi + 48);
	bool covered = false;
	for (u32 off = 0; off < len; off += get32(at + off) + 4) {
		u64 base = get64(at + off + 4), size = get64(at + off + 12);
		u32 type = get32(at + off + 20);
		if (base < GUEST_ACPI_END && base + size > GUEST_ACPI_BASE) {
			assert_int_not_equal(type, 1);   /* no RAM overlaps the tables */
			if (base <= GUEST_ACPI_BASE && base + size >= GUEST_ACPI_END)
				covered = true;
		}
	}
	assert_true(covered);
	/* Too many vCPUs for 8-bit APIC IDs: refused with the reason. */
	assert_false(loader_build_acpi(ram, &map, 300, 0, err, sizeof(err)));
	assert_contains(err, "300 vCPUs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(parsed_by_the_hypervisor_parser, setup, teardown),
		cmocka_unit_test_setup_teardown(checksums, setup, teardown),
		cmocka_unit_test_setup_teardown(madt_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(dsdt_from_asl, setup, teardown),
		cmocka_unit_test_setup_teardown(mcfg, setup, teardown),
		cmocka_unit_test_setup_teardown(fadt_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(everything_in_the_bios_area, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(loader_builds_tables_in_reserved_memory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
