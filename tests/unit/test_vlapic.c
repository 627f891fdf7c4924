/* SPDX-License-Identifier: MIT */
/*
 * hv/irq/vlapic_regs.c: the pure register logic of the virtual local APIC (reset state,
 * the IRR/ISR/TMR bit arrays, PPR, acceptance, acknowledge, EOI, destination matching,
 * the timer divisor). References are to Intel SDM Vol. 3A, chapter "Advanced
 * Programmable Interrupt Controller (APIC)", by section title.
 */
#include "tests/unit/support.h"
#include "hv/irq/vlapic.h"

static struct vlapic *lapic;

static int setup(void **state)
{
	(void)state;
	lapic = calloc(1, sizeof(*lapic));
	assert_non_null(lapic);
	lapic->regs = aligned_alloc(4096, 4096);
	assert_non_null(lapic->regs);
	memset(lapic->regs, 0, 4096);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(lapic->regs);
	free(lapic);
	lapic = NULL;
	return 0;
}

/* The raw 32-bit register at off, read without the code under test. */
static u32 raw(u32 off)
{
	u32 v;
	memcpy(&v, lapic->regs + off, 4);
	return v;
}

static void set_raw(u32 off, u32 v)
{
	memcpy(lapic->regs + off, &v, 4);
}

static const u32 lvts[] = { APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PMC,
			    APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_ERROR };

static bool is_lvt(u32 off)
{
	for (size_t i = 0; i < ARRAY_SIZE(lvts); i++)
		if (lvts[i] == off)
			return true;
	return false;
}

/* Garbage in the page and the software state, so that reset must write them all. */
static void dirty(u64 apic_base)
{
	memset(lapic->regs, 0xa5, 4096);
	lapic->apic_base = apic_base;
	lapic->id = 0x77;
	lapic->timer_deadline = 1;
	lapic->timer_period = 2;
	lapic->timer_start = 3;
	lapic->tsc_deadline = 4;
	lapic->esr_pending = 5;
}

static void expect_timer_state_cleared(void)
{
	assert_int_equal(lapic->timer_deadline, 0);
	assert_int_equal(lapic->timer_period, 0);
	assert_int_equal(lapic->timer_start, 0);
	assert_int_equal(lapic->tsc_deadline, 0);
	assert_int_equal(lapic->esr_pending, 0);
}

/* ---- vlapic_reset ---- */

/* "Local APIC State After Power-Up or Reset": IRR, ISR, TMR, ICR, LDR, TPR zero; DFR
 * all ones; the LVT entries masked (mask bit set, all else 0); SVR 000000FFH; the
 * APIC ID register holds the ID in bits 31:24 (xAPIC, "Local APIC ID Register"). */
static void reset_xapic_bsp(void **state)
{
	(void)state;
	dirty(0);
	vlapic_reset(lapic, 5, true);
	assert_int_equal(lapic->id, 5);
	assert_int_equal(raw(APIC_ID), 5u << 24);
	assert_int_equal(vlapic_reg(lapic, APIC_ID), 5u << 24);
	assert_int_equal(raw(APIC_DFR), 0xffffffffu);
	assert_int_equal(raw(APIC_SVR), 0xff);
	assert_false(vlapic_sw_enabled(lapic));   /* SVR bit 8 clear: software-disabled */
	for (size_t i = 0; i < ARRAY_SIZE(lvts); i++)
		assert_int_equal(raw(lvts[i]), APIC_LVT_MASKED);

	/* "Local APIC Version Register": bits 7:0 the version (1XH for an integrated
	 * APIC), bits 23:16 Max LVT Entry = number of LVT entries minus 1. Reset masks
	 * six entries (no CMCI at 0x2f0), so Max LVT Entry must be 5. */
	u32 ver = raw(APIC_VERSION);
	assert_int_equal(ver & 0xf0, 0x10);
	assert_int_equal((ver >> 16) & 0xff, ARRAY_SIZE(lvts) - 1);
	assert_int_equal(ver & 0xff00ff00u, 0);

	/* every other byte of the page is zero (TPR, PPR, LDR, ISR, TMR, IRR, ESR, ICR,
	 * the timer counts, TDCR, and the reserved space) */
	for (u32 off = 0; off < 4096; off += 4) {
		u32 base = off & ~0xfu;
		if ((off & 0xf) == 0 && (base == APIC_ID || base == APIC_VERSION || base == APIC_DFR ||
					 base == APIC_SVR || is_lvt(base)))
			continue;
		if (raw(off) != 0)
			fail_msg("offset 0x%03x is 0x%08x after reset, expected 0", off, raw(off));
	}

	/* IA32_APIC_BASE ("Local APIC Status and Location"): base FEE00000H, enabled,
	 * BSP flag on the bootstrap processor; xAPIC mode (EXTD clear) */
	assert_int_equal(lapic->apic_base, APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE | VAPIC_BASE_BSP);
	assert_true(vlapic_hw_enabled(lapic));
	assert_false(vlapic_x2apic(lapic));
	expect_timer_state_cleared();
}

static void reset_xapic_ap(void **state)
{
	(void)state;
	dirty(APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE | VAPIC_BASE_BSP);
	vlapic_reset(lapic, 0xfe, false);
	assert_int_equal(lapic->apic_base, APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE);
	assert_int_equal(raw(APIC_ID), 0xfeu << 24);
	assert_int_equal(raw(APIC_DFR), 0xffffffffu);
	assert_int_equal(raw(APIC_LDR), 0);
	assert_int_equal(raw(APIC_TPR), 0);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), -1);
	assert_int_equal(vlapic_highest(lapic, APIC_ISR), -1);
	assert_int_equal(vlapic_highest(lapic, APIC_TMR), -1);
	expect_timer_state_cleared();

	/* EXTD without ENABLE is not x2APIC mode: the xAPIC reset applies */
	dirty(APIC_DEFAULT_BASE | VAPIC_BASE_EXTD);
	vlapic_reset(lapic, 2, false);
	assert_false(vlapic_x2apic(lapic));
	assert_int_equal(raw(APIC_ID), 2u << 24);
	assert_int_equal(lapic->apic_base, APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE);
}

/* "Logical Destination Mode in x2APIC Mode": LDR[31:16] = x2APIC ID[19:4] (the
 * cluster), LDR[15:0] = 1 << x2APIC ID[3:0]. */
static void x2apic_ldr_formula(void **state)
{
	(void)state;
	assert_int_equal(x2apic_ldr(0), 0x00000001);
	assert_int_equal(x2apic_ldr(1), 0x00000002);
	assert_int_equal(x2apic_ldr(0xf), 0x00008000);
	assert_int_equal(x2apic_ldr(0x10), 0x00010001);
	assert_int_equal(x2apic_ldr(0x23), 0x00020008);
	assert_int_equal(x2apic_ldr(0x2f), 0x00028000);
	assert_int_equal(x2apic_ldr(0xffff3), 0xffff0008);
}

/* INIT in x2APIC mode ("x2APIC State Transitions"): the mode is kept, the ID register
 * holds the 32-bit x2APIC ID and LDR is derived from it. */
static void reset_x2apic(void **state)
{
	(void)state;
	u64 base = APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE | VAPIC_BASE_EXTD;
	dirty(base);
	vlapic_reset(lapic, 0x23, false);
	assert_true(vlapic_x2apic(lapic));
	assert_int_equal(lapic->apic_base, base);
	assert_int_equal(lapic->id, 0x23);
	assert_int_equal(raw(APIC_ID), 0x23);
	assert_int_equal(raw(APIC_LDR), x2apic_ldr(0x23));
	assert_int_equal(raw(APIC_LDR), 0x00020008);
	assert_int_equal(raw(APIC_SVR), 0xff);
	for (size_t i = 0; i < ARRAY_SIZE(lvts); i++)
		assert_int_equal(raw(lvts[i]), APIC_LVT_MASKED);
	assert_int_equal(raw(APIC_VERSION) & 0xf0, 0x10);
	assert_int_equal(raw(APIC_TPR), 0);
	assert_int_equal(raw(APIC_ICR), 0);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), -1);
	assert_int_equal(vlapic_highest(lapic, APIC_ISR), -1);
	expect_timer_state_cleared();

	/* the BSP flag is kept as it was */
	base |= VAPIC_BASE_BSP;
	dirty(base);
	vlapic_reset(lapic, 0, true);
	assert_int_equal(lapic->apic_base, base);
	assert_int_equal(raw(APIC_ID), 0);
	assert_int_equal(raw(APIC_LDR), 1);
}

/* ---- the 256-bit arrays ---- */

/* "Interrupt Request Register (IRR), In-Service Register (ISR), Trigger Mode Register
 * (TMR)": eight 32-bit registers 16 bytes apart; vector v is bit v % 32 of the register
 * at base + (v / 32) * 16. */
static void vec_bit_placement(void **state)
{
	(void)state;
	static const u32 bases[] = { APIC_IRR, APIC_ISR, APIC_TMR };
	for (size_t b = 0; b < ARRAY_SIZE(bases); b++) {
		for (u32 v = 0; v < 256; v++) {
			vlapic_vec_set(lapic, bases[b], (u8)v);
			/* exactly one bit in the whole page */
			for (u32 off = 0; off < 4096; off += 4) {
				u32 want = off == bases[b] + (v / 32) * 16 ? 1u << (v % 32) : 0;
				if (raw(off) != want)
					fail_msg("base 0x%x vector %u: offset 0x%03x is 0x%08x, expected 0x%08x",
						 bases[b], v, off, raw(off), want);
			}
			assert_true(vlapic_vec_test(lapic, bases[b], (u8)v));
			for (size_t o = 0; o < ARRAY_SIZE(bases); o++)
				if (o != b)
					assert_false(vlapic_vec_test(lapic, bases[o], (u8)v));
			assert_int_equal(vlapic_highest(lapic, bases[b]), v);
			vlapic_vec_clear(lapic, bases[b], (u8)v);
			assert_false(vlapic_vec_test(lapic, bases[b], (u8)v));
			assert_int_equal(raw(bases[b] + (v / 32) * 16), 0);
			assert_int_equal(vlapic_highest(lapic, bases[b]), -1);
		}
	}
}

static void vec_set_clear_keep_other_bits(void **state)
{
	(void)state;
	vlapic_vec_set(lapic, APIC_IRR, 0x40);
	vlapic_vec_set(lapic, APIC_IRR, 0x41);
	vlapic_vec_set(lapic, APIC_IRR, 0x5f);
	vlapic_vec_set(lapic, APIC_IRR, 0x60);
	assert_int_equal(raw(APIC_IRR + 0x20), 0x80000003u);
	assert_int_equal(raw(APIC_IRR + 0x30), 0x00000001u);
	vlapic_vec_set(lapic, APIC_IRR, 0x41);   /* setting twice is idempotent */
	assert_int_equal(raw(APIC_IRR + 0x20), 0x80000003u);
	vlapic_vec_clear(lapic, APIC_IRR, 0x41);
	assert_int_equal(raw(APIC_IRR + 0x20), 0x80000001u);
	vlapic_vec_clear(lapic, APIC_IRR, 0x42);   /* clearing a clear bit changes nothing */
	assert_int_equal(raw(APIC_IRR + 0x20), 0x80000001u);
	assert_true(vlapic_vec_test(lapic, APIC_IRR, 0x40));
	assert_false(vlapic_vec_test(lapic, APIC_IRR, 0x41));
	assert_true(vlapic_vec_test(lapic, APIC_IRR, 0x5f));
	assert_true(vlapic_vec_test(lapic, APIC_IRR, 0x60));
	/* the reserved bytes between the registers are never touched */
	for (u32 off = APIC_IRR; off < APIC_IRR + 0x80; off += 16)
		for (u32 r = 4; r < 16; r += 4)
			assert_int_equal(raw(off + r), 0);
	/* vec_test sees bits written directly into the page (the CPU writes vIRR) */
	set_raw(APIC_ISR + 0x70, 0x80000000u);
	assert_true(vlapic_vec_test(lapic, APIC_ISR, 255));
	assert_false(vlapic_vec_test(lapic, APIC_ISR, 254));
}

static void highest(void **state)
{
	(void)state;
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), -1);
	assert_int_equal(vlapic_highest(lapic, APIC_ISR), -1);
	vlapic_vec_set(lapic, APIC_IRR, 0x05);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), 0x05);
	vlapic_vec_set(lapic, APIC_IRR, 0x28);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), 0x28);
	vlapic_vec_set(lapic, APIC_IRR, 0xc8);
	vlapic_vec_set(lapic, APIC_IRR, 0xc3);
	vlapic_vec_set(lapic, APIC_IRR, 0x9f);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), 0xc8);
	assert_int_equal(vlapic_highest(lapic, APIC_ISR), -1);   /* another array */
	vlapic_vec_clear(lapic, APIC_IRR, 0xc8);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), 0xc3);
	vlapic_vec_clear(lapic, APIC_IRR, 0xc3);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), 0x9f);
	vlapic_vec_set(lapic, APIC_IRR, 0xff);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), 0xff);
	/* word boundaries: 31 vs 32 */
	memset(lapic->regs, 0, 4096);
	vlapic_vec_set(lapic, APIC_ISR, 31);
	assert_int_equal(vlapic_highest(lapic, APIC_ISR), 31);
	vlapic_vec_set(lapic, APIC_ISR, 32);
	assert_int_equal(vlapic_highest(lapic, APIC_ISR), 32);
	/* vector 0 is a bit like any other */
	memset(lapic->regs, 0, 4096);
	vlapic_vec_set(lapic, APIC_TMR, 0);
	assert_int_equal(vlapic_highest(lapic, APIC_TMR), 0);
	/* the reserved bytes after each register are not part of the array */
	memset(lapic->regs, 0, 4096);
	set_raw(APIC_IRR + 4, 0xffffffffu);
	set_raw(APIC_IRR + 0x74, 0xffffffffu);
	assert_int_equal(vlapic_highest(lapic, APIC_IRR), -1);
}

/* ---- priorities ---- */

static void set_tpr(u32 tpr)
{
	set_raw(APIC_TPR, tpr);
}

/* "Processor Priority Register (PPR)": if TPR[7:4] >= ISRV[7:4], PPR[7:0] = TPR[7:0];
 * otherwise PPR[7:4] = ISRV[7:4] and PPR[3:0] = 0. ISRV is the highest in-service
 * vector, 0 when none. */
static void ppr(void **state)
{
	(void)state;
	assert_int_equal(vlapic_ppr(lapic), 0);
	set_tpr(0x35);
	assert_int_equal(vlapic_ppr(lapic), 0x35);   /* nothing in service: TPR, low nibble kept */

	vlapic_vec_set(lapic, APIC_ISR, 0x41);
	assert_int_equal(vlapic_ppr(lapic), 0x40);   /* ISR class wins: low nibble 0 */
	set_tpr(0x45);
	assert_int_equal(vlapic_ppr(lapic), 0x45);   /* equal classes: TPR, low nibble kept */
	set_tpr(0x5f);
	assert_int_equal(vlapic_ppr(lapic), 0x5f);   /* TPR class above */
	set_tpr(0x40);
	assert_int_equal(vlapic_ppr(lapic), 0x40);
	set_tpr(0x3f);
	assert_int_equal(vlapic_ppr(lapic), 0x40);   /* the TPR low nibble does not leak in */
	set_tpr(0);
	assert_int_equal(vlapic_ppr(lapic), 0x40);

	/* the highest in-service vector counts, not the first or the lowest */
	vlapic_vec_set(lapic, APIC_ISR, 0x92);
	vlapic_vec_set(lapic, APIC_ISR, 0x30);
	assert_int_equal(vlapic_ppr(lapic), 0x90);
	set_tpr(0x8c);
	assert_int_equal(vlapic_ppr(lapic), 0x90);
	set_tpr(0x9c);
	assert_int_equal(vlapic_ppr(lapic), 0x9c);
	set_tpr(0xfa);
	assert_int_equal(vlapic_ppr(lapic), 0xfa);

	/* TPR bits 31:8 are reserved: PPR is 8 bits wide */
	memset(lapic->regs, 0, 4096);
	set_tpr(0xabcd0021);
	assert_int_equal(vlapic_ppr(lapic), 0x21);
	vlapic_vec_set(lapic, APIC_ISR, 0xef);
	assert_int_equal(vlapic_ppr(lapic), 0xe0);
}

/* "Interrupt Acceptance for Fixed Interrupts" / "Task Priority Register (TPR)": the
 * highest pending vector is dispatched only when its priority class (bits 7:4) is above
 * the processor-priority class. */
static void deliverable(void **state)
{
	(void)state;
	assert_int_equal(vlapic_deliverable(lapic), -1);   /* nothing pending */
	set_tpr(0xf0);
	assert_int_equal(vlapic_deliverable(lapic), -1);
	set_tpr(0);

	vlapic_vec_set(lapic, APIC_IRR, 0x51);
	assert_int_equal(vlapic_deliverable(lapic), 0x51);
	set_tpr(0x40);
	assert_int_equal(vlapic_deliverable(lapic), 0x51);
	set_tpr(0x4f);
	assert_int_equal(vlapic_deliverable(lapic), 0x51);
	set_tpr(0x50);
	assert_int_equal(vlapic_deliverable(lapic), -1);   /* equal class: held */
	set_tpr(0x5f);
	assert_int_equal(vlapic_deliverable(lapic), -1);
	set_tpr(0x60);
	assert_int_equal(vlapic_deliverable(lapic), -1);
	set_tpr(0);

	/* an in-service vector of the same class holds it; of a lower class does not */
	vlapic_vec_set(lapic, APIC_ISR, 0x55);
	assert_int_equal(vlapic_deliverable(lapic), -1);
	vlapic_vec_clear(lapic, APIC_ISR, 0x55);
	vlapic_vec_set(lapic, APIC_ISR, 0x4f);
	assert_int_equal(vlapic_deliverable(lapic), 0x51);
	/* a higher-class request preempts the in-service one */
	vlapic_vec_set(lapic, APIC_ISR, 0x58);
	assert_int_equal(vlapic_deliverable(lapic), -1);
	vlapic_vec_set(lapic, APIC_IRR, 0x61);
	assert_int_equal(vlapic_deliverable(lapic), 0x61);

	/* the highest IRR vector is the candidate, whatever lies below it */
	memset(lapic->regs, 0, 4096);
	vlapic_vec_set(lapic, APIC_IRR, 0x31);
	vlapic_vec_set(lapic, APIC_IRR, 0x71);
	set_tpr(0x60);
	assert_int_equal(vlapic_deliverable(lapic), 0x71);
	set_tpr(0x70);
	assert_int_equal(vlapic_deliverable(lapic), -1);

	/* class 0 can never be above PPR */
	memset(lapic->regs, 0, 4096);
	vlapic_vec_set(lapic, APIC_IRR, 0x0f);
	assert_int_equal(vlapic_deliverable(lapic), -1);
	vlapic_vec_set(lapic, APIC_IRR, 0x10);
	assert_int_equal(vlapic_deliverable(lapic), 0x10);
}

static void ack(void **state)
{
	(void)state;
	vlapic_vec_set(lapic, APIC_IRR, 0x30);
	vlapic_vec_set(lapic, APIC_IRR, 0x80);
	assert_int_equal(vlapic_deliverable(lapic), 0x80);
	vlapic_ack(lapic, 0x80);
	assert_false(vlapic_vec_test(lapic, APIC_IRR, 0x80));
	assert_true(vlapic_vec_test(lapic, APIC_ISR, 0x80));
	assert_true(vlapic_vec_test(lapic, APIC_IRR, 0x30));   /* the other request stays */
	assert_false(vlapic_vec_test(lapic, APIC_ISR, 0x30));
	assert_int_equal(raw(APIC_IRR + 0x20), 0);
	assert_int_equal(raw(APIC_ISR + 0x40), 1);
	assert_int_equal(vlapic_ppr(lapic), 0x80);
	assert_int_equal(vlapic_deliverable(lapic), -1);   /* 0x30 is below the 0x80 in service */
	assert_int_equal(vlapic_highest(lapic, APIC_TMR), -1);   /* TMR untouched */
}

/* "EOI Register": the EOI clears the highest-priority bit of ISR; for a level-triggered
 * interrupt (TMR bit set) the EOI goes on to the I/O APIC. */
static void eoi(void **state)
{
	(void)state;
	bool level = true;
	assert_int_equal(vlapic_eoi(lapic, &level), -1);
	assert_false(level);

	/* nested: 0x31 (level) in service, preempted by 0x80 (edge), then 0xe1 (edge) */
	vlapic_vec_set(lapic, APIC_IRR, 0x31);
	vlapic_vec_set(lapic, APIC_TMR, 0x31);
	vlapic_ack(lapic, 0x31);
	vlapic_vec_set(lapic, APIC_IRR, 0x80);
	vlapic_ack(lapic, 0x80);
	vlapic_vec_set(lapic, APIC_IRR, 0xe1);
	vlapic_ack(lapic, 0xe1);
	assert_int_equal(vlapic_ppr(lapic), 0xe0);

	level = true;
	assert_int_equal(vlapic_eoi(lapic, &level), 0xe1);
	assert_false(level);
	assert_false(vlapic_vec_test(lapic, APIC_ISR, 0xe1));
	assert_true(vlapic_vec_test(lapic, APIC_ISR, 0x80));
	assert_int_equal(vlapic_ppr(lapic), 0x80);

	level = true;
	assert_int_equal(vlapic_eoi(lapic, &level), 0x80);
	assert_false(level);
	assert_int_equal(vlapic_ppr(lapic), 0x30);

	level = false;
	assert_int_equal(vlapic_eoi(lapic, &level), 0x31);
	assert_true(level);
	assert_int_equal(vlapic_highest(lapic, APIC_ISR), -1);
	assert_int_equal(vlapic_ppr(lapic), 0);

	level = true;
	assert_int_equal(vlapic_eoi(lapic, &level), -1);
	assert_false(level);

	/* EOI touches only ISR: IRR requests stay pending */
	vlapic_vec_set(lapic, APIC_ISR, 0x40);
	vlapic_vec_set(lapic, APIC_IRR, 0x40);
	vlapic_vec_set(lapic, APIC_IRR, 0x90);
	assert_int_equal(vlapic_eoi(lapic, &level), 0x40);
	assert_false(level);
	assert_true(vlapic_vec_test(lapic, APIC_IRR, 0x40));
	assert_true(vlapic_vec_test(lapic, APIC_IRR, 0x90));
	/* several bits in one word: the highest first */
	vlapic_vec_set(lapic, APIC_ISR, 0x41);
	vlapic_vec_set(lapic, APIC_ISR, 0x5e);
	vlapic_vec_set(lapic, APIC_TMR, 0x41);
	assert_int_equal(vlapic_eoi(lapic, &level), 0x5e);
	assert_false(level);
	assert_int_equal(vlapic_eoi(lapic, &level), 0x41);
	assert_true(level);
}

/* ---- destinations ("Determining IPI Destination") ---- */

static void xapic(u32 id)
{
	lapic->apic_base = 0;
	vlapic_reset(lapic, id, id == 0);
	assert_false(vlapic_x2apic(lapic));
}

static void match_xapic_physical(void **state)
{
	(void)state;
	xapic(3);
	assert_true(vlapic_match_dest(lapic, 3, false));
	assert_false(vlapic_match_dest(lapic, 4, false));
	assert_false(vlapic_match_dest(lapic, 0, false));
	assert_false(vlapic_match_dest(lapic, 0x30, false));
	assert_true(vlapic_match_dest(lapic, 0xff, false));   /* broadcast */
	xapic(0);
	assert_true(vlapic_match_dest(lapic, 0, false));
	assert_false(vlapic_match_dest(lapic, 3, false));
	assert_true(vlapic_match_dest(lapic, 0xff, false));
	/* the physical ID is the one in the ID register */
	set_raw(APIC_ID, 9u << 24);
	assert_true(vlapic_match_dest(lapic, 9, false));
	assert_false(vlapic_match_dest(lapic, 0, false));
}

/* "Logical Destination Mode", flat model (DFR[31:28] = 1111B): LDR[31:24] is a bit
 * mask; a message is accepted when dest AND that mask is non-zero. */
static void match_xapic_logical_flat(void **state)
{
	(void)state;
	xapic(2);
	assert_int_equal(raw(APIC_DFR), 0xffffffffu);
	set_raw(APIC_LDR, 0x04u << 24);
	assert_true(vlapic_match_dest(lapic, 0x04, true));
	assert_true(vlapic_match_dest(lapic, 0x0c, true));
	assert_true(vlapic_match_dest(lapic, 0x7f, true));
	assert_false(vlapic_match_dest(lapic, 0x03, true));
	assert_false(vlapic_match_dest(lapic, 0x80, true));
	assert_false(vlapic_match_dest(lapic, 0x00, true));
	assert_true(vlapic_match_dest(lapic, 0xff, true));   /* broadcast */
	/* logical matching uses LDR, not the APIC ID */
	assert_false(vlapic_match_dest(lapic, 0x02, true));
	set_raw(APIC_LDR, 0x81u << 24);
	assert_true(vlapic_match_dest(lapic, 0x80, true));
	assert_true(vlapic_match_dest(lapic, 0x01, true));
	assert_false(vlapic_match_dest(lapic, 0x7e, true));
	/* LDR zero (after reset): only broadcast */
	set_raw(APIC_LDR, 0);
	assert_false(vlapic_match_dest(lapic, 0x7f, true));
	assert_true(vlapic_match_dest(lapic, 0xff, true));
}

/* Cluster model (DFR[31:28] = 0000B): dest[7:4] selects the cluster, which must equal
 * LDR[31:28]; dest[3:0] is a mask of the up to four APICs in it, tested against
 * LDR[27:24]. */
static void match_xapic_logical_cluster(void **state)
{
	(void)state;
	xapic(1);
	set_raw(APIC_DFR, 0x0fffffffu);
	set_raw(APIC_LDR, 0x21u << 24);   /* cluster 2, member bit 0 */
	assert_true(vlapic_match_dest(lapic, 0x21, true));
	assert_true(vlapic_match_dest(lapic, 0x23, true));
	assert_true(vlapic_match_dest(lapic, 0x2f, true));
	assert_false(vlapic_match_dest(lapic, 0x22, true));   /* right cluster, other member */
	assert_false(vlapic_match_dest(lapic, 0x20, true));
	assert_false(vlapic_match_dest(lapic, 0x31, true));   /* other cluster */
	assert_false(vlapic_match_dest(lapic, 0x11, true));
	assert_false(vlapic_match_dest(lapic, 0x01, true));
	assert_true(vlapic_match_dest(lapic, 0xff, true));    /* broadcast */
	/* the flat interpretation of the same values would differ: 0x31 & 0x21 != 0 */
	set_raw(APIC_LDR, 0x38u << 24);   /* cluster 3, member bit 3 */
	assert_true(vlapic_match_dest(lapic, 0x38, true));
	assert_true(vlapic_match_dest(lapic, 0x3c, true));
	assert_false(vlapic_match_dest(lapic, 0x37, true));
	assert_false(vlapic_match_dest(lapic, 0x28, true));
	/* physical mode ignores DFR/LDR */
	assert_true(vlapic_match_dest(lapic, 0x01, false));
	assert_false(vlapic_match_dest(lapic, 0x38, false));
}

static void x2apic(u32 id)
{
	lapic->apic_base = APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE | VAPIC_BASE_EXTD;
	vlapic_reset(lapic, id, id == 0);
	assert_true(vlapic_x2apic(lapic));
}

/* x2APIC: 32-bit destinations, broadcast FFFFFFFFH ("x2APIC Register Address Space",
 * "Logical Destination Mode in x2APIC Mode": dest[31:16] the cluster, dest[15:0] a mask
 * matched against the logical ID derived from the x2APIC ID). */
static void match_x2apic(void **state)
{
	(void)state;
	x2apic(0x23);
	assert_true(vlapic_match_dest(lapic, 0x23, false));
	assert_false(vlapic_match_dest(lapic, 0x22, false));
	assert_false(vlapic_match_dest(lapic, 0x123, false));
	assert_false(vlapic_match_dest(lapic, 0x23000000, false));   /* not the xAPIC layout */
	assert_false(vlapic_match_dest(lapic, 0xff, false));         /* 0xff is not broadcast here */
	assert_true(vlapic_match_dest(lapic, 0xffffffffu, false));

	/* logical: cluster 2, member bit 3 */
	assert_true(vlapic_match_dest(lapic, 0x00020008, true));
	assert_true(vlapic_match_dest(lapic, 0x0002000c, true));
	assert_true(vlapic_match_dest(lapic, 0x0002ffff, true));
	assert_false(vlapic_match_dest(lapic, 0x00020004, true));
	assert_false(vlapic_match_dest(lapic, 0x00020000, true));
	assert_false(vlapic_match_dest(lapic, 0x00030008, true));
	assert_false(vlapic_match_dest(lapic, 0x00000008, true));
	assert_false(vlapic_match_dest(lapic, 0x00120008, true));
	assert_false(vlapic_match_dest(lapic, 0xff, true));
	assert_true(vlapic_match_dest(lapic, 0xffffffffu, true));

	/* cluster 0 */
	x2apic(0);
	assert_true(vlapic_match_dest(lapic, 0, false));
	assert_true(vlapic_match_dest(lapic, 0x00000001, true));
	assert_true(vlapic_match_dest(lapic, 0x00000003, true));
	assert_false(vlapic_match_dest(lapic, 0x00000002, true));
	assert_false(vlapic_match_dest(lapic, 0x00010001, true));
	assert_true(vlapic_match_dest(lapic, 0xffffffffu, true));
	/* an ID above 255 */
	x2apic(0x1234f);
	assert_true(vlapic_match_dest(lapic, 0x1234f, false));
	assert_false(vlapic_match_dest(lapic, 0x4f, false));
	assert_true(vlapic_match_dest(lapic, 0x12348000, true));
	assert_false(vlapic_match_dest(lapic, 0x00348000, true));
}

/* ---- timer ---- */

/* "Divide Configuration Register": the divide value is bits 3, 1, 0 (bit 2 reserved):
 * 000B 2, 001B 4, 010B 8, 011B 16, 100B 32, 101B 64, 110B 128, 111B 1. */
static void timer_divisor(void **state)
{
	(void)state;
	static const struct { u32 tdcr, div; } t[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (vlapic_timer_divisor(t[i].tdcr) != t[i].div)
			fail_msg("TDCR 0x%x: divisor %u, expected %u", t[i].tdcr,
				 vlapic_timer_divisor(t[i].tdcr), t[i].div);
		/* bit 2 and bits 31:4 are reserved and do not change the divisor */
		u32 noisy = t[i].tdcr | 0x4 | 0xfffffff0u;
		if (vlapic_timer_divisor(noisy) != t[i].div)
			fail_msg("TDCR 0x%x: divisor %u, expected %u", noisy, vlapic_timer_divisor(noisy),
				 t[i].div);
	}
}

/* ---- x2APIC reserved bits ---- */

/* "x2APIC Register Address Space": a WRMSR that sets a reserved bit raises #GP. Each
 * register's layout gives its bits; the value with every defined bit must pass, each
 * reserved bit alone must not. */
static void x2apic_write_valid(void **state)
{
	(void)state;
	static const struct { u32 off; u64 defined; } t[] = {
		{ APIC_TPR, 0xff },
		{ APIC_EOI, 0 },
		{ APIC_ESR, 0 },
		{ APIC_SVR, 0x3ff },                         /* vector, enable, focus */
		{ APIC_ICR, 0xffffffff000cdfffull },          /* dest, shorthand, trigger, level, DS, mode, DM, vector */
		{ APIC_LVT_TIMER, 0x710ff },                  /* mode, mask, DS, vector */
		{ APIC_LVT_THERMAL, 0x117ff },                /* mask, DS, DM, vector */
		{ APIC_LVT_PMC, 0x117ff },
		{ APIC_LVT_LINT0, 0x1f7ff },                  /* + polarity, remote IRR, trigger */
		{ APIC_LVT_LINT1, 0x1f7ff },
		{ APIC_LVT_ERROR, 0x110ff },
		{ APIC_TMICT, 0xffffffff },
		{ APIC_TDCR, 0xb },
		{ APIC_SELF_IPI, 0xff },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		u64 valid = vlapic_x2apic_write_valid(t[i].off);
		if (valid != t[i].defined)
			fail_msg("offset 0x%x: valid bits 0x%llx, expected 0x%llx", t[i].off,
				 (unsigned long long)valid, (unsigned long long)t[i].defined);
		for (unsigned b = 0; b < 64; b++)
			if (!(t[i].defined & (1ull << b)) && !(valid & (1ull << b)) == 0)
				fail_msg("offset 0x%x: reserved bit %u accepted", t[i].off, b);
	}
	/* The high half is reserved everywhere but in the ICR. */
	assert_int_equal(vlapic_x2apic_write_valid(APIC_LVT_TIMER) >> 32, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reset_xapic_bsp, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_xapic_ap, setup, teardown),
		cmocka_unit_test_setup_teardown(x2apic_ldr_formula, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_x2apic, setup, teardown),
		cmocka_unit_test_setup_teardown(vec_bit_placement, setup, teardown),
		cmocka_unit_test_setup_teardown(vec_set_clear_keep_other_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(highest, setup, teardown),
		cmocka_unit_test_setup_teardown(ppr, setup, teardown),
		cmocka_unit_test_setup_teardown(deliverable, setup, teardown),
		cmocka_unit_test_setup_teardown(ack, setup, teardown),
		cmocka_unit_test_setup_teardown(eoi, setup, teardown),
		cmocka_unit_test_setup_teardown(match_xapic_physical, setup, teardown),
		cmocka_unit_test_setup_teardown(match_xapic_logical_flat, setup, teardown),
		cmocka_unit_test_setup_teardown(match_xapic_logical_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(match_x2apic, setup, teardown),
		cmocka_unit_test_setup_teardown(timer_divisor, setup, teardown),
		cmocka_unit_test_setup_teardown(x2apic_write_valid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
