/* SPDX-License-Identifier: MIT */
/* arch/x86/vmx/caps.c: vmx_adjust_controls and vmx_negotiate. */
#include "tests/unit/support.h"
#include "arch/x86/vmx/caps.h"
#include "arch/x86/vmx/vmcs.h"

/*
 * The capability MSRs of Bochs' "tigerlake" CPU model (basic, TRUE_PINBASED,
 * PROCBASED2, MISC) and made-up but plausible values for the others.
 */
static const struct vmx_msrs tigerlake = {
	.basic = 0x00d8100000000004ull,        /* bit 55: TRUE controls; revision 4 */
	.pinbased = 0x000000ff00000016ull,
	.procbased = 0xfff9fffe0401e172ull,
	.exit = 0x01ffffff00036dfbull,
	.entry = 0x0003ffff000011fbull,
	.procbased2 = 0x02d77fff00000000ull,
	.misc = 0x00000000600401e0ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x3767ffull,
	.ept_vpid = 0x00000f0106734141ull,
};

static const struct vmx_wants want_all;   /* all false: use everything */

/* The secondary controls of APIC virtualization (SDM Vol. 3C, "Secondary Processor-Based
 * VM-Execution Controls"): virtualize APIC accesses (bit 0), virtualize x2APIC mode
 * (bit 4), APIC-register virtualization (bit 8), virtual-interrupt delivery (bit 9). */
#define APICV_PROC2 (BIT(0) | BIT(4) | BIT(8) | BIT(9))

static struct vmx_caps caps;

static bool negotiate(const struct vmx_msrs *m, const struct vmx_wants *w)
{
	/* garbage first: vmx_negotiate must initialise every field */
	memset(&caps, 0xa5, sizeof(caps));
	return vmx_negotiate(m, w, &caps);
}

/* Is name one of the space-separated words of list? */
static bool has_word(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

#define assert_word(list, name) do { \
	if (!has_word((list), (name))) \
		fail_msg("'%s' is not in \"%s\"", (name), (list)); \
} while (0)
#define assert_no_word(list, name) do { \
	if (has_word((list), (name))) \
		fail_msg("'%s' is unexpectedly in \"%s\"", (name), (list)); \
} while (0)

/* ---- vmx_adjust_controls ---- */

static void adjust_sets_must_be_one_bits(void **state)
{
	(void)state;
	u32 r = 0;
	/* allowed-0 (must be one) 0x16, allowed-1 0xff */
	assert_int_equal(vmx_adjust_controls(0x000000ff00000016ull, 0, 0, &r), 0);
	assert_int_equal(r, 0x16);
	assert_int_equal(vmx_adjust_controls(0x000000ff00000016ull, BIT(0) | BIT(3), BIT(5), &r), 0);
	assert_int_equal(r, 0x16 | 0x01 | 0x08 | 0x20);
}

static void adjust_drops_unsupported_optional(void **state)
{
	(void)state;
	u32 r = 0;
	/* bits 8 and 31 are not allowed to be 1: dropped silently when optional */
	assert_int_equal(vmx_adjust_controls(0x000000ff00000016ull, BIT(0), BIT(8) | BIT(31) | BIT(6), &r), 0);
	assert_int_equal(r, 0x16 | 0x01 | 0x40);
}

static void adjust_reports_missing_required(void **state)
{
	(void)state;
	u32 r = 0;
	u32 bad = vmx_adjust_controls(0x000000ff00000016ull, BIT(0) | BIT(8) | BIT(9), BIT(7), &r);
	assert_int_equal(bad, BIT(8) | BIT(9));
	/* the result is still the clamped word: what the CPU can do */
	assert_int_equal(r, 0x16 | 0x01 | 0x80);
	/* nothing allowed at all */
	assert_int_equal(vmx_adjust_controls(0, 0xffffffffu, 0, &r), 0xffffffffu);
	assert_int_equal(r, 0);
	/* every bit allowed, every bit forced */
	assert_int_equal(vmx_adjust_controls(0xffffffffffffffffull, 0, 0, &r), 0);
	assert_int_equal(r, 0xffffffffu);
}

/* ---- vmx_negotiate on the tigerlake values ---- */

static void negotiate_tigerlake(void **state)
{
	(void)state;
	assert_true(negotiate(&tigerlake, &want_all));
	assert_null(caps.missing_required);
	assert_string_equal(caps.missing_optional, "");

	assert_int_equal(caps.revision, 4);
	assert_int_equal(caps.cr0_fixed0, 0x80000021ull);
	assert_int_equal(caps.cr0_fixed1, 0xffffffffull);
	assert_int_equal(caps.cr4_fixed0, 0x2000ull);
	assert_int_equal(caps.cr4_fixed1, 0x3767ffull);
	assert_int_equal(caps.misc, tigerlake.misc);
	assert_int_equal(caps.ept_vpid, tigerlake.ept_vpid);
	assert_int_equal(caps.preemption_timer_rate, 0);
	assert_true(caps.wait_for_sipi);   /* MISC bit 8 */

	/* pin: required ext-int and NMI exiting, every optional one, must-be-one 0x16 */
	assert_int_equal(caps.pin, 0xff);
	/* primary: required exits | TPR shadow | the must-be-one bits (CR3 exiting among them) */
	u32 proc = CPU_HLT_EXITING | CPU_UNCOND_IO_EXITING | CPU_MWAIT_EXITING | CPU_MONITOR_EXITING |
		   CPU_RDPMC_EXITING | CPU_ACTIVATE_SECONDARY | CPU_USE_MSR_BITMAPS | CPU_TPR_SHADOW |
		   0x0401e172u;
	assert_int_equal(caps.proc, proc);
	assert_true(caps.proc & CPU_CR3_LOAD_EXITING);
	assert_false(caps.proc & CPU_CR8_LOAD_EXITING);   /* TPR shadow: CR8 need not exit */
	assert_false(caps.proc & CPU_USE_IO_BITMAPS);
	/* the required and optional secondary controls, APIC virtualization included (the
	 * CPU allows all four, bits 0, 4, 8, 9 of 0x02d77fff) */
	assert_int_equal(caps.proc2, SEC_ENABLE_EPT | SEC_UNRESTRICTED_GUEST | SEC_ENABLE_RDTSCP |
					     SEC_ENABLE_INVPCID | SEC_ENABLE_XSAVES | SEC_ENABLE_VPID |
					     APICV_PROC2 | SEC_PAUSE_LOOP_EXITING);
	assert_true(caps.apicv);
	assert_int_equal(caps.exit, 0x00036dfbu | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
					    EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT |
					    EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_PREEMPTION_TIMER);
	assert_int_equal(caps.entry, 0x11fbu | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT);
	assert_false(caps.entry & ENTRY_IA32E_MODE);

	assert_true(caps.ept_wb);
	assert_true(caps.ept_2m);
	assert_true(caps.ept_1g);
	assert_true(caps.invept_single);
	assert_true(caps.invept_all);
	assert_true(caps.invvpid_single);
	assert_true(caps.invvpid_all);

	const char *used[] = { "virtual-NMIs", "preemption-timer", "posted-interrupts", "TPR-shadow",
			       "MSR-bitmaps", "EPT", "VPID", "unrestricted-guest", "RDTSCP", "INVPCID",
			       "XSAVES", "ack-interrupt-on-exit", "save-preemption-timer", "EPT-2M",
			       "EPT-1G", "APIC-access-virtualization", "x2APIC-virtualization",
			       "APIC-register-virtualization", "virtual-interrupt-delivery",
			       "PAUSE-loop-exiting" };
	for (size_t i = 0; i < ARRAY_SIZE(used); i++)
		assert_word(caps.used, used[i]);
	/* asked for (directed yield) and present */
	assert_no_word(caps.missing_optional, "PAUSE-loop-exiting");
}

static void negotiate_predicates_agree(void **state)
{
	(void)state;
	assert_true(negotiate(&tigerlake, &want_all));
	assert_true(vmx_has_ept(&caps));
	assert_true(vmx_has_vpid(&caps));
	assert_true(vmx_has_unrestricted_guest(&caps));
	assert_true(vmx_has_preemption_timer(&caps));
	assert_true(vmx_has_posted_interrupts(&caps));
	assert_true(vmx_has_tpr_shadow(&caps));
	assert_true(vmx_has_rdtscp(&caps));
	assert_true(vmx_has_invpcid(&caps));
	assert_true(vmx_has_xsaves(&caps));
	assert_true(vmx_has_virtual_intr_delivery(&caps));   /* requested for APICv */
	assert_true(vmx_has_apic_register_virt(&caps));

	/* each predicate reads the bit the SDM gives the control */
	assert_int_equal(vmx_has_ept(&caps), !!(caps.proc2 & SEC_ENABLE_EPT));
	assert_int_equal(vmx_has_vpid(&caps), !!(caps.proc2 & SEC_ENABLE_VPID));
	assert_int_equal(vmx_has_unrestricted_guest(&caps), !!(caps.proc2 & SEC_UNRESTRICTED_GUEST));
	assert_int_equal(vmx_has_preemption_timer(&caps), !!(caps.pin & PIN_PREEMPTION_TIMER));
	assert_int_equal(vmx_has_posted_interrupts(&caps), !!(caps.pin & PIN_POSTED_INTERRUPTS));
	assert_int_equal(vmx_has_tpr_shadow(&caps), !!(caps.proc & CPU_TPR_SHADOW));
	assert_int_equal(vmx_has_rdtscp(&caps), !!(caps.proc2 & SEC_ENABLE_RDTSCP));
	assert_int_equal(vmx_has_invpcid(&caps), !!(caps.proc2 & SEC_ENABLE_INVPCID));
	assert_int_equal(vmx_has_xsaves(&caps), !!(caps.proc2 & SEC_ENABLE_XSAVES));
	assert_int_equal(vmx_has_virtual_intr_delivery(&caps), !!(caps.proc2 & BIT(9)));
	assert_int_equal(vmx_has_apic_register_virt(&caps), !!(caps.proc2 & BIT(8)));

	/* and follow the negotiated word when features are switched off */
	struct vmx_wants w = { .no_vpid = true, .no_apicv = true, .no_preemption_timer = true };
	assert_true(negotiate(&tigerlake, &w));
	assert_false(vmx_has_vpid(&caps));
	assert_false(vmx_has_tpr_shadow(&caps));
	assert_false(vmx_has_preemption_timer(&caps));
	assert_false(vmx_has_posted_interrupts(&caps));
	assert_false(vmx_has_virtual_intr_delivery(&caps));
	assert_false(vmx_has_apic_register_virt(&caps));
	assert_true(vmx_has_ept(&caps));
}

static void negotiate_misc_fields(void **state)
{
	(void)state;
	struct vmx_msrs m = tigerlake;
	m.misc = 0x25;   /* rate 5, no wait-for-SIPI */
	m.basic = 0x00da1000deadbeefull;
	assert_true(negotiate(&m, &want_all));
	assert_int_equal(caps.preemption_timer_rate, 5);
	assert_false(caps.wait_for_sipi);
	assert_int_equal(caps.revision, 0x5eadbeef);   /* bit 31 is not part of the revision */
}

/* ---- optional features the CPU lacks ---- */

static void negotiate_missing_optional(void **state)
{
	(void)state;
	struct vmx_msrs m = tigerlake;
	m.pinbased = 0x0000003f00000016ull;     /* no preemption timer, no posted interrupts */
	m.procbased2 = 0x000000ff00000000ull;   /* no INVPCID (12), no XSAVES (20) */
	m.ept_vpid &= ~(BIT64(16) | BIT64(17)); /* no large EPT pages */
	assert_true(negotiate(&m, &want_all));
	assert_null(caps.missing_required);
	assert_int_equal(caps.pin, 0x3f & (0x16 | PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS));
	assert_false(caps.proc2 & (SEC_ENABLE_INVPCID | SEC_ENABLE_XSAVES));
	assert_true(caps.proc2 & SEC_ENABLE_RDTSCP);
	assert_false(caps.exit & EXIT_SAVE_PREEMPTION_TIMER);   /* follows the pin control */
	assert_false(caps.ept_2m);
	assert_false(caps.ept_1g);

	assert_word(caps.missing_optional, "preemption-timer");
	assert_word(caps.missing_optional, "posted-interrupts");
	assert_word(caps.missing_optional, "INVPCID");
	assert_word(caps.missing_optional, "XSAVES");
	/* save-preemption-timer was never wanted once the timer itself was missing */
	assert_no_word(caps.missing_optional, "save-preemption-timer");
	assert_no_word(caps.missing_optional, "RDTSCP");
	assert_no_word(caps.missing_optional, "EPT");
	assert_no_word(caps.used, "INVPCID");
	assert_no_word(caps.used, "EPT-2M");
	assert_no_word(caps.used, "EPT-1G");
	assert_word(caps.used, "virtual-NMIs");
}

static void negotiate_no_tpr_shadow_makes_cr8_exit(void **state)
{
	(void)state;
	struct vmx_msrs m = tigerlake;
	m.procbased &= ~((u64)CPU_TPR_SHADOW << 32);
	assert_true(negotiate(&m, &want_all));
	assert_false(caps.proc & CPU_TPR_SHADOW);
	assert_true(caps.proc & CPU_CR8_LOAD_EXITING);
	assert_true(caps.proc & CPU_CR8_STORE_EXITING);
	assert_word(caps.missing_optional, "TPR-shadow");

	/* CR8 exiting is only set when the CPU allows it */
	m.procbased &= ~((u64)(CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING) << 32);
	assert_true(negotiate(&m, &want_all));
	assert_false(caps.proc & (CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING));
}

static void negotiate_vpid_dropped_without_invvpid(void **state)
{
	(void)state;
	struct vmx_msrs m = tigerlake;
	m.ept_vpid &= ~BIT64(32);   /* no INVVPID at all */
	assert_true(negotiate(&m, &want_all));
	assert_false(caps.proc2 & SEC_ENABLE_VPID);
	assert_false(vmx_has_vpid(&caps));
	assert_word(caps.missing_optional, "INVVPID");
	assert_no_word(caps.used, "VPID");

	m = tigerlake;
	m.ept_vpid &= ~(BIT64(41) | BIT64(42));   /* INVVPID, but neither single nor all-context */
	assert_true(negotiate(&m, &want_all));
	assert_false(caps.proc2 & SEC_ENABLE_VPID);
	assert_word(caps.missing_optional, "INVVPID");

	m = tigerlake;
	m.ept_vpid &= ~BIT64(42);   /* single-context alone is enough */
	assert_true(negotiate(&m, &want_all));
	assert_true(caps.proc2 & SEC_ENABLE_VPID);
	assert_true(caps.invvpid_single);
	assert_false(caps.invvpid_all);
	assert_no_word(caps.missing_optional, "INVVPID");

	/* VPID switched off on the command line: no INVVPID complaint either */
	m = tigerlake;
	m.ept_vpid &= ~BIT64(32);
	struct vmx_wants w = { .no_vpid = true };
	assert_true(negotiate(&m, &w));
	assert_false(caps.proc2 & SEC_ENABLE_VPID);
	assert_no_word(caps.missing_optional, "INVVPID");
	assert_no_word(caps.missing_optional, "VPID");
}

static void negotiate_posted_interrupts_need_ack_on_exit(void **state)
{
	(void)state;
	struct vmx_msrs m = tigerlake;
	m.exit &= ~((u64)EXIT_ACK_INTR_ON_EXIT << 32);
	assert_true(negotiate(&m, &want_all));
	assert_false(caps.exit & EXIT_ACK_INTR_ON_EXIT);
	assert_false(caps.pin & PIN_POSTED_INTERRUPTS);
	assert_false(vmx_has_posted_interrupts(&caps));
	assert_true(caps.pin & PIN_PREEMPTION_TIMER);
	assert_word(caps.missing_optional, "ack-interrupt-on-exit");
	assert_word(caps.missing_optional, "posted-interrupts");
	assert_no_word(caps.used, "posted-interrupts");
	/* and without posted interrupts no APIC virtualization at all */
	assert_false(caps.apicv);
	assert_int_equal(caps.proc2 & APICV_PROC2, 0);
}

/* ---- APICv: posted interrupts + TPR shadow + the four APIC-virtualization controls ---- */

static void expect_no_apicv(void)
{
	assert_false(caps.apicv);
	assert_false(caps.pin & PIN_POSTED_INTERRUPTS);
	assert_false(vmx_has_posted_interrupts(&caps));
	if (caps.proc2 & APICV_PROC2)
		fail_msg("proc2 0x%08x keeps APIC-virtualization bits 0x%08x without APICv", caps.proc2,
			 caps.proc2 & APICV_PROC2);
	assert_no_word(caps.used, "posted-interrupts");
	assert_no_word(caps.used, "APIC-access-virtualization");
	assert_no_word(caps.used, "x2APIC-virtualization");
	assert_no_word(caps.used, "APIC-register-virtualization");
	assert_no_word(caps.used, "virtual-interrupt-delivery");
	/* the rest of the negotiation is unaffected */
	assert_null(caps.missing_required);
	assert_true(vmx_has_ept(&caps));
	assert_true(vmx_has_unrestricted_guest(&caps));
}

static void apicv_tigerlake(void **state)
{
	(void)state;
	assert_true(negotiate(&tigerlake, &want_all));
	assert_true(caps.apicv);
	/* "Posted-Interrupt Processing" needs: the process-posted-interrupts pin control
	 * (bit 7), virtual-interrupt delivery, acknowledge interrupt on exit ("Checks on
	 * VM-Execution Control Fields"); virtual-interrupt delivery needs the TPR shadow */
	assert_true(caps.pin & PIN_POSTED_INTERRUPTS);
	assert_int_equal(PIN_POSTED_INTERRUPTS, BIT(7));
	assert_true(caps.proc & CPU_TPR_SHADOW);
	assert_true(caps.exit & EXIT_ACK_INTR_ON_EXIT);
	assert_int_equal(caps.proc2 & APICV_PROC2, APICV_PROC2);
	assert_int_equal(SEC_VIRTUALIZE_APIC_ACCESSES, BIT(0));
	assert_int_equal(SEC_VIRTUALIZE_X2APIC, BIT(4));
	assert_int_equal(SEC_APIC_REGISTER_VIRT, BIT(8));
	assert_int_equal(SEC_VIRTUAL_INTR_DELIVERY, BIT(9));
	assert_true(vmx_has_posted_interrupts(&caps));
	assert_true(vmx_has_virtual_intr_delivery(&caps));
	assert_true(vmx_has_apic_register_virt(&caps));
	/* nothing else in proc2 came with it: the same word as without APICv plus the four */
	u32 with = caps.proc2;
	struct vmx_wants w = { .no_apicv = true };
	assert_true(negotiate(&tigerlake, &w));
	assert_int_equal(with, caps.proc2 | APICV_PROC2);
	assert_int_equal(caps.proc2 & APICV_PROC2, 0);
}

/* Bochs 2.7 / haswell: TRUE_PINBASED allowed-1 0x7f, no process-posted-interrupts. */
static void apicv_needs_posted_interrupts(void **state)
{
	(void)state;
	struct vmx_msrs m = tigerlake;
	m.pinbased = 0x0000007f00000016ull;
	assert_true(negotiate(&m, &want_all));
	expect_no_apicv();
	assert_int_equal(caps.pin, 0x7f);   /* all the others still used */
	assert_true(caps.proc & CPU_TPR_SHADOW);   /* the TPR shadow is useful on its own */
	assert_word(caps.missing_optional, "posted-interrupts");
}

static void apicv_switched_off(void **state)
{
	(void)state;
	struct vmx_wants w = { .no_apicv = true };
	assert_true(negotiate(&tigerlake, &w));
	expect_no_apicv();
	assert_false(caps.proc & CPU_TPR_SHADOW);
	assert_string_equal(caps.missing_optional, "");

	/* no posted interrupts wanted: no APICv either */
	w = (struct vmx_wants){ .no_posted_interrupts = true };
	assert_true(negotiate(&tigerlake, &w));
	expect_no_apicv();
}

static void apicv_needs_tpr_shadow(void **state)
{
	(void)state;
	struct vmx_msrs m = tigerlake;
	m.procbased &= ~((u64)CPU_TPR_SHADOW << 32);
	assert_true(negotiate(&m, &want_all));
	expect_no_apicv();
	assert_false(caps.proc & CPU_TPR_SHADOW);
	assert_true(caps.proc & CPU_CR8_LOAD_EXITING);
	assert_word(caps.missing_optional, "TPR-shadow");
}

/* All or nothing: without any one of the four secondary controls, none is used and
 * posted interrupts are dropped too. */
static void apicv_needs_every_secondary_control(void **state)
{
	(void)state;
	static const struct { u32 bit; const char *name; } ctl[] = {
		{ BIT(0), "APIC-access-virtualization" }, { BIT(4), "x2APIC-virtualization" },
		{ BIT(8), "APIC-register-virtualization" }, { BIT(9), "virtual-interrupt-delivery" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ctl); i++) {
		struct vmx_msrs m = tigerlake;
		m.procbased2 &= ~((u64)ctl[i].bit << 32);
		if (!negotiate(&m, &want_all))
			fail_msg("without %s: negotiation failed (%s)", ctl[i].name, caps.missing_required);
		if (caps.apicv)
			fail_msg("without %s: apicv still true", ctl[i].name);
		expect_no_apicv();
		assert_word(caps.missing_optional, ctl[i].name);
		assert_true(caps.pin & PIN_PREEMPTION_TIMER);
		assert_true(caps.proc2 & SEC_ENABLE_VPID);
	}
}

/* A feature the command line switches off is not "missing" (the rule of
 * negotiate_wants_switch_features_off): switching posted interrupts off makes APICv
 * impossible, but the CPU has the four APIC-virtualization controls. */
static void apicv_switched_off_is_not_missing(void **state)
{
	(void)state;
	struct vmx_wants w = { .no_posted_interrupts = true };
	assert_true(negotiate(&tigerlake, &w));
	assert_false(caps.apicv);
	assert_no_word(caps.missing_optional, "posted-interrupts");
	assert_no_word(caps.missing_optional, "APIC-access-virtualization");
	assert_no_word(caps.missing_optional, "x2APIC-virtualization");
	assert_no_word(caps.missing_optional, "APIC-register-virtualization");
	assert_no_word(caps.missing_optional, "virtual-interrupt-delivery");
}

/* ---- vmx_wants ---- */

static void negotiate_wants_switch_features_off(void **state)
{
	(void)state;
	struct vmx_wants w = { .no_vpid = true };
	assert_true(negotiate(&tigerlake, &w));
	assert_false(caps.proc2 & SEC_ENABLE_VPID);
	assert_true(caps.pin & PIN_POSTED_INTERRUPTS);
	/* switched off is not "missing" */
	assert_no_word(caps.missing_optional, "VPID");
	assert_no_word(caps.used, "VPID");

	w = (struct vmx_wants){ .no_posted_interrupts = true };
	assert_true(negotiate(&tigerlake, &w));
	assert_false(caps.pin & PIN_POSTED_INTERRUPTS);
	assert_false(caps.apicv);
	assert_true(caps.proc & CPU_TPR_SHADOW);
	assert_true(caps.proc2 & SEC_ENABLE_VPID);
	assert_no_word(caps.missing_optional, "posted-interrupts");

	w = (struct vmx_wants){ .no_apicv = true };
	assert_true(negotiate(&tigerlake, &w));
	assert_false(caps.pin & PIN_POSTED_INTERRUPTS);
	assert_false(caps.proc & CPU_TPR_SHADOW);
	assert_true(caps.proc & CPU_CR8_LOAD_EXITING);
	assert_true(caps.proc & CPU_CR8_STORE_EXITING);
	assert_no_word(caps.missing_optional, "TPR-shadow");
	assert_no_word(caps.used, "TPR-shadow");

	w = (struct vmx_wants){ .no_preemption_timer = true };
	assert_true(negotiate(&tigerlake, &w));
	assert_false(caps.pin & PIN_PREEMPTION_TIMER);
	assert_false(caps.exit & EXIT_SAVE_PREEMPTION_TIMER);
	assert_true(caps.pin & PIN_POSTED_INTERRUPTS);
	assert_string_equal(caps.missing_optional, "");

	w = (struct vmx_wants){ true, true, true, true };
	assert_true(negotiate(&tigerlake, &w));
	/* must-be-one 0x16 plus the required exits and virtual NMIs, nothing else */
	assert_int_equal(caps.pin, 0x16 | PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	assert_string_equal(caps.missing_optional, "");
}

/* ---- required controls the CPU lacks ---- */

static void expect_required(const struct vmx_msrs *m, const char *what)
{
	if (negotiate(m, &want_all))
		fail_msg("negotiation succeeded, expected '%s' to be missing", what);
	assert_non_null(caps.missing_required);
	assert_contains(caps.missing_required, what);
}

static void negotiate_missing_required(void **state)
{
	(void)state;
	struct vmx_msrs m;

	m = tigerlake;
	m.procbased2 &= ~((u64)SEC_ENABLE_EPT << 32);
	expect_required(&m, "EPT");
	assert_string_equal(caps.missing_required, "EPT");

	m = tigerlake;
	m.procbased2 &= ~((u64)SEC_UNRESTRICTED_GUEST << 32);
	expect_required(&m, "unrestricted-guest");

	m = tigerlake;
	m.procbased2 = 0;   /* no secondary controls at all */
	expect_required(&m, "EPT");

	m = tigerlake;
	m.procbased &= ~((u64)CPU_ACTIVATE_SECONDARY << 32);
	expect_required(&m, "secondary-controls");

	m = tigerlake;
	m.procbased &= ~((u64)CPU_USE_MSR_BITMAPS << 32);
	expect_required(&m, "MSR-bitmaps");

	m = tigerlake;
	m.procbased &= ~((u64)CPU_HLT_EXITING << 32);
	expect_required(&m, "HLT");

	m = tigerlake;
	m.procbased &= ~((u64)CPU_UNCOND_IO_EXITING << 32);
	expect_required(&m, "IO");

	m = tigerlake;
	m.pinbased &= ~((u64)PIN_NMI_EXITING << 32);
	expect_required(&m, "NMI-exiting");

	m = tigerlake;
	m.pinbased &= ~((u64)PIN_EXTINT_EXITING << 32);
	expect_required(&m, "external-interrupt-exiting");

	m = tigerlake;
	m.ept_vpid &= ~BIT64(6);   /* no 4-level walk */
	expect_required(&m, "4-level");

	m = tigerlake;
	m.ept_vpid &= ~BIT64(14);  /* no write-back paging structures */
	expect_required(&m, "write-back");

	m = tigerlake;
	m.ept_vpid = 0;
	expect_required(&m, "EPT");

	m = tigerlake;
	m.ept_vpid &= ~BIT64(20);  /* no INVEPT */
	expect_required(&m, "INVEPT");

	m = tigerlake;
	m.ept_vpid &= ~(BIT64(25) | BIT64(26));   /* INVEPT without any type */
	expect_required(&m, "INVEPT");

	m = tigerlake;
	m.exit &= ~((u64)EXIT_LOAD_IA32_EFER << 32);
	expect_required(&m, "VM-exit controls");

	m = tigerlake;
	m.exit &= ~((u64)EXIT_HOST_ADDR_SPACE_SIZE << 32);
	expect_required(&m, "64-bit host");

	m = tigerlake;
	m.entry &= ~((u64)ENTRY_LOAD_IA32_PAT << 32);
	expect_required(&m, "VM-entry controls");

	/* the first missing one is named: pin-based controls are checked first */
	m = tigerlake;
	m.pinbased &= ~((u64)PIN_NMI_EXITING << 32);
	m.procbased2 = 0;
	expect_required(&m, "NMI-exiting");
	m = tigerlake;
	m.procbased2 &= ~((u64)(SEC_ENABLE_EPT | SEC_UNRESTRICTED_GUEST) << 32);
	expect_required(&m, "EPT");
}

/* ---- vmx_caps_compare: another CPU against the boot CPU ---- */

static void compare_cpus(void **state)
{
	(void)state;
	struct vmx_caps bsp, cpu;
	char diff[256];
	assert_true(vmx_negotiate(&tigerlake, &want_all, &bsp));
	assert_true(vmx_negotiate(&tigerlake, &want_all, &cpu));
	assert_int_equal(vmx_caps_compare(&bsp, &cpu, diff, sizeof(diff)), VMX_CAPS_SAME);
	assert_string_equal(diff, "");

	/* a CPU without virtual-interrupt delivery: APICv off there, the boot CPU uses it */
	struct vmx_msrs m = tigerlake;
	m.procbased2 &= ~((u64)SEC_VIRTUAL_INTR_DELIVERY << 32);
	assert_true(vmx_negotiate(&m, &want_all, &cpu));
	assert_int_equal(vmx_caps_compare(&bsp, &cpu, diff, sizeof(diff)), VMX_CAPS_INCOMPATIBLE);
	assert_contains(diff, "lacks pin 0x00000080");   /* posted interrupts */
	assert_contains(diff, "lacks proc2 0x");
	/* the other way round: the CPU has more than the boot CPU, unused */
	assert_int_equal(vmx_caps_compare(&cpu, &bsp, diff, sizeof(diff)), VMX_CAPS_DIFFERENT);
	assert_contains(diff, "also has pin 0x00000080 (unused)");
	assert_false(strstr(diff, "lacks") != NULL);

	/* another VMCS revision */
	m = tigerlake;
	m.basic = (m.basic & ~0x7fffffffull) | 5;
	assert_true(vmx_negotiate(&m, &want_all, &cpu));
	assert_int_equal(vmx_caps_compare(&bsp, &cpu, diff, sizeof(diff)), VMX_CAPS_INCOMPATIBLE);
	assert_contains(diff, "VMCS revision 0x5 (boot CPU 0x4)");

	/* another preemption timer rate (the boot CPU uses the timer) */
	m = tigerlake;
	m.misc = (m.misc & ~0x1full) | 7;
	assert_true(vmx_negotiate(&m, &want_all, &cpu));
	assert_int_equal(vmx_caps_compare(&bsp, &cpu, diff, sizeof(diff)), VMX_CAPS_INCOMPATIBLE);
	assert_contains(diff, "preemption timer rate 2^7");

	/* no 2 MiB EPT pages (IA32_VMX_EPT_VPID_CAP bit 16) */
	m = tigerlake;
	m.ept_vpid &= ~BIT64(16);
	assert_true(vmx_negotiate(&m, &want_all, &cpu));
	assert_int_equal(vmx_caps_compare(&bsp, &cpu, diff, sizeof(diff)), VMX_CAPS_INCOMPATIBLE);
	assert_contains(diff, "lacks EPT/VPID");

	/* other CR4 fixed-1 bits only: different, not incompatible */
	m = tigerlake;
	m.cr4_fixed1 |= BIT64(23);
	assert_true(vmx_negotiate(&m, &want_all, &cpu));
	assert_int_equal(vmx_caps_compare(&bsp, &cpu, diff, sizeof(diff)), VMX_CAPS_DIFFERENT);
	assert_contains(diff, "CR0/CR4 fixed");

	/* a short buffer is cut, never overrun */
	char small[8];
	memset(small, 'x', sizeof(small));
	m = tigerlake;
	m.procbased2 &= ~((u64)SEC_VIRTUAL_INTR_DELIVERY << 32);
	assert_true(vmx_negotiate(&m, &want_all, &cpu));
	assert_int_equal(vmx_caps_compare(&bsp, &cpu, small, sizeof(small)), VMX_CAPS_INCOMPATIBLE);
	assert_true(memchr(small, '\0', sizeof(small)) != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(adjust_sets_must_be_one_bits),
		cmocka_unit_test(adjust_drops_unsupported_optional),
		cmocka_unit_test(adjust_reports_missing_required),
		cmocka_unit_test(negotiate_tigerlake),
		cmocka_unit_test(negotiate_predicates_agree),
		cmocka_unit_test(negotiate_misc_fields),
		cmocka_unit_test(negotiate_missing_optional),
		cmocka_unit_test(negotiate_no_tpr_shadow_makes_cr8_exit),
		cmocka_unit_test(negotiate_vpid_dropped_without_invvpid),
		cmocka_unit_test(negotiate_posted_interrupts_need_ack_on_exit),
		cmocka_unit_test(apicv_tigerlake),
		cmocka_unit_test(apicv_needs_posted_interrupts),
		cmocka_unit_test(apicv_switched_off),
		cmocka_unit_test(apicv_needs_tpr_shadow),
		cmocka_unit_test(apicv_needs_every_secondary_control),
		cmocka_unit_test(apicv_switched_off_is_not_missing),
		cmocka_unit_test(negotiate_wants_switch_features_off),
		cmocka_unit_test(negotiate_missing_required),
		cmocka_unit_test(compare_cpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
