/* SPDX-License-Identifier: MIT */
/* hv/host/lapic.c and lapic.h: the host LAPIC's mode decision and its ICR and APIC ID
 * encodings; arch/x86/pi_desc.h: the posted-interrupt descriptor's NDST in both modes. */
#include "tests/unit/support.h"
#include "hv/host/lapic.h"
#include "hv/init/config.h"
#include "arch/x86/pi_desc.h"

static char err[256];

static struct lapic_mode choose_ok(u8 option, bool fw_x2apic, bool has_x2apic)
{
	struct lapic_mode m;
	err[0] = '\0';
	if (!lapic_choose_mode(option, fw_x2apic, has_x2apic, &m, err, sizeof(err)))
		fail_msg("option %u fw_x2apic %d has_x2apic %d refused: %s", option, fw_x2apic, has_x2apic, err);
	return m;
}

static void choose_bad(u8 option, bool fw_x2apic, bool has_x2apic, const char *msg)
{
	struct lapic_mode m;
	err[0] = '\0';
	if (lapic_choose_mode(option, fw_x2apic, has_x2apic, &m, err, sizeof(err)))
		fail_msg("option %u fw_x2apic %d has_x2apic %d accepted, expected '%s'", option, fw_x2apic, has_x2apic,
			 msg);
	assert_contains(err, msg);
}

static void mode_text(const struct lapic_mode *m, const char *want)
{
	char buf[48];
	assert_string_equal(lapic_mode_text(m, buf, sizeof(buf)), want);
}

/* The default keeps the firmware's mode; x2apic=on switches an xAPIC to x2APIC; a
 * firmware x2APIC stays whatever the option says but off, which is refused. */
static void boot_cpu_mode(void **state)
{
	(void)state;
	struct lapic_mode m = choose_ok(X2APIC_AUTO, false, true);
	assert_false(m.x2apic);
	assert_false(m.enable_x2apic);
	mode_text(&m, "xAPIC mode (firmware)");

	m = choose_ok(X2APIC_AUTO, true, true);
	assert_true(m.x2apic);
	assert_false(m.enable_x2apic);
	mode_text(&m, "x2APIC mode (firmware)");

	m = choose_ok(X2APIC_ON, false, true);
	assert_true(m.x2apic);
	assert_true(m.enable_x2apic);
	mode_text(&m, "x2APIC mode (x2apic=on)");

	m = choose_ok(X2APIC_ON, true, true);   /* already there: nothing to switch */
	assert_true(m.x2apic);
	assert_false(m.enable_x2apic);
	mode_text(&m, "x2APIC mode (firmware)");

	m = choose_ok(X2APIC_OFF, false, true);
	assert_false(m.x2apic);
	assert_false(m.enable_x2apic);
	mode_text(&m, "xAPIC mode (x2apic=off)");

	m = choose_ok(X2APIC_AUTO, false, false);
	assert_false(m.x2apic);
	m = choose_ok(X2APIC_OFF, false, false);
	assert_false(m.x2apic);

	choose_bad(X2APIC_ON, false, false, "x2apic=on: this CPU has no x2APIC (CPUID.01H:ECX.x2APIC[bit 21] is 0)");
	choose_bad(X2APIC_OFF, true, true, "x2apic=off: the firmware left the local APIC in x2APIC mode");
}

/* Every AP ends in the boot CPU's mode: it switches to x2APIC when the boot CPU runs
 * there and it does not yet (INIT in xAPIC mode keeps xAPIC mode); it cannot leave a
 * firmware x2APIC for the boot CPU's xAPIC, nor switch without an x2APIC. */
static void ap_follows_boot_cpu(void **state)
{
	(void)state;
	bool enable = true;
	assert_true(lapic_ap_mode(false, false, true, &enable, err, sizeof(err)));
	assert_false(enable);
	enable = true;
	assert_true(lapic_ap_mode(true, true, true, &enable, err, sizeof(err)));
	assert_false(enable);
	assert_true(lapic_ap_mode(true, false, true, &enable, err, sizeof(err)));
	assert_true(enable);
	assert_true(lapic_ap_mode(false, false, false, &enable, err, sizeof(err)));
	assert_false(enable);

	err[0] = '\0';
	assert_false(lapic_ap_mode(true, false, false, &enable, err, sizeof(err)));
	assert_false(enable);
	assert_contains(err, "this CPU has no x2APIC");
	err[0] = '\0';
	assert_false(lapic_ap_mode(false, true, true, &enable, err, sizeof(err)));
	assert_false(enable);
	assert_contains(err, "x2APIC mode but the boot CPU's is in xAPIC mode");
}

/* ICR: xAPIC destination in bits 31:24 of the high half (ICR bits 63:56), x2APIC the
 * 32-bit destination in bits 63:32 of the one 64-bit MSR, the low half untouched. */
static void icr_encoding(void **state)
{
	(void)state;
	assert_int_equal(lapic_icr2_xapic(0), 0);
	assert_int_equal(lapic_icr2_xapic(1), 0x01000000u);
	assert_int_equal(lapic_icr2_xapic(0xfe), 0xfe000000u);
	/* the xAPIC high half has no room above 8 bits: nothing leaks into its low bits */
	assert_int_equal(lapic_icr2_xapic(0x1ff), 0xff000000u);

	/* INIT, level assert, to x2APIC ID 1 */
	assert_int_equal(lapic_icr_x2apic(1, 0x4500), 0x0000000100004500ull);
	/* start-up IPI, vector 8 (page 0x8000), to x2APIC ID 0x12345 */
	assert_int_equal(lapic_icr_x2apic(0x12345, 0x608), 0x0001234500000608ull);
	assert_int_equal(lapic_icr_x2apic(0xfffffffe, 0xf0), 0xfffffffe000000f0ull);
	/* both modes name the same CPU with the same low half */
	for (u32 id = 0; id < 0xff; id++) {
		u64 x2 = lapic_icr_x2apic(id, 0xf1);
		assert_int_equal((u32)x2, 0xf1);
		assert_int_equal(x2 >> 32, lapic_icr2_xapic(id) >> 24);
	}
}

/* The APIC ID register and which IDs a physical destination can name alone. */
static void apic_ids(void **state)
{
	(void)state;
	assert_int_equal(lapic_id_of(0x03000000u, false), 3);
	assert_int_equal(lapic_id_of(0xff000000u, false), 0xff);
	assert_int_equal(lapic_id_of(3, true), 3);
	assert_int_equal(lapic_id_of(0x00012345u, true), 0x12345);
	assert_int_equal(lapic_id_of(0xff000000u, true), 0xff000000u);

	assert_true(lapic_dest_ok(0, false));
	assert_true(lapic_dest_ok(0xfe, false));
	assert_false(lapic_dest_ok(0xff, false));    /* the xAPIC broadcast */
	assert_false(lapic_dest_ok(0x100, false));   /* more than 8 bits */
	assert_true(lapic_dest_ok(0xff, true));
	assert_true(lapic_dest_ok(0x100, true));
	assert_true(lapic_dest_ok(0xfffffffe, true));
	assert_false(lapic_dest_ok(0xffffffffu, true));   /* the x2APIC broadcast */
}

/* NDST: xAPIC APIC ID in bits 15:8, x2APIC the 32-bit ID; what the scheduling hooks
 * write (pi_ndst_encode) names, once decoded for the IPI (pi_ndst_apic_id), the same
 * CPU in both modes, and the descriptor's control word carries it in bits 63:32. */
static void ndst_encoding(void **state)
{
	(void)state;
	assert_int_equal(pi_ndst_encode(0, false), 0);
	assert_int_equal(pi_ndst_encode(1, false), 0x100);
	assert_int_equal(pi_ndst_encode(0xfe, false), 0xfe00);
	assert_int_equal(pi_ndst_encode(1, true), 1);
	assert_int_equal(pi_ndst_encode(0x12345, true), 0x12345);
	assert_int_equal(pi_ndst_encode(0x1ff, true), 0x1ff);

	static const u32 ids[] = { 0, 1, 2, 7, 0x80, 0xfe, 0xff, 0x100, 0x1ff, 0x12345, 0xfffffffe };
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		u32 id = ids[i];
		assert_int_equal(pi_ndst_apic_id(pi_ndst_encode(id, true), true), id);
		if (lapic_dest_ok(id, false)) {
			u32 ndst = pi_ndst_encode(id, false);
			assert_int_equal(ndst & ~0xff00u, 0);   /* the other bits are reserved */
			assert_int_equal(pi_ndst_apic_id(ndst, false), id);
		}
	}

	struct pi_desc d;
	memset(&d, 0, sizeof(d));
	pi_update(&d, false, 0xf1, pi_ndst_encode(0x12345, true));
	assert_int_equal(pi_ndst(&d), 0x12345);
	assert_int_equal(d.control >> 32, 0x12345);
	assert_int_equal(pi_nv(&d), 0xf1);
	pi_update(&d, false, 0xf2, pi_ndst_encode(3, false));
	assert_int_equal(d.control >> 32, 0x300);
	assert_int_equal(pi_ndst_apic_id(pi_ndst(&d), false), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(boot_cpu_mode),
		cmocka_unit_test(ap_follows_boot_cpu),
		cmocka_unit_test(icr_encoding),
		cmocka_unit_test(apic_ids),
		cmocka_unit_test(ndst_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
