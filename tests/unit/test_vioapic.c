/* SPDX-License-Identifier: MIT */
/*
 * hv/irq/vioapic.c: the 82093AA register set through IOREGSEL/IOWIN, edge and level
 * delivery, Remote IRR and EOI, the EOI-exit vectors. vlapic_deliver() is a fake that
 * records the messages (and checks that none is sent with the IOAPIC lock held).
 */
#include "tests/unit/support.h"
#include "hv/irq/vioapic.h"
#include "hv/irq/vlapic.h"

static struct vioapic io;
static struct vm *const fake_vm = (struct vm *)0x1234;

/* ---- fakes ---- */

struct msg {
	struct vm *vm;
	struct vcpu *src;
	u32 sh, dest;
	bool logical;
	u8 dm, vector;
	bool level;
};
static struct msg msgs[64];
static unsigned nmsgs;

static unsigned level_changes;
void vlapic_level_vectors_changed(struct vm *vm)
{
	(void)vm;
	level_changes++;
}

void vlapic_deliver(struct vm *vm, struct vcpu *src, u32 shorthand, u32 dest, bool logical, u8 dm,
		    u8 vector, bool level)
{
	if (io.lock.locked)
		fail_msg("vlapic_deliver called with the IOAPIC lock held");
	assert_true(nmsgs < ARRAY_SIZE(msgs));
	msgs[nmsgs++] = (struct msg){ vm, src, shorthand, dest, logical, dm, vector, level };
}

/* ---- helpers ---- */

static int setup(void **state)
{
	(void)state;
	vioapic_init(&io, fake_vm, 2);
	nmsgs = 0;
	return 0;
}

static u32 rd(u32 reg)
{
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, reg);
	return vioapic_mmio_read(&io, VIOAPIC_IOWIN, 4);
}

static void wr(u32 reg, u32 val)
{
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, reg);
	vioapic_mmio_write(&io, VIOAPIC_IOWIN, 4, val);
}

static void set_rte(unsigned pin, u64 rte)
{
	wr(VIOAPIC_REG_REDIR + 2 * pin + 1, (u32)(rte >> 32));
	wr(VIOAPIC_REG_REDIR + 2 * pin, (u32)rte);
}

static u64 get_rte(unsigned pin)
{
	return ((u64)rd(VIOAPIC_REG_REDIR + 2 * pin + 1) << 32) | rd(VIOAPIC_REG_REDIR + 2 * pin);
}

static u64 rte(u8 vector, u8 dm, bool logical, bool level, u8 dest)
{
	return vector | ((u64)dm << 8) | (logical ? RTE_LOGICAL : 0) | (level ? RTE_LEVEL : 0) |
	       ((u64)dest << RTE_DEST_SHIFT);
}

/* ---- tests ---- */

static void reset_state(void **state)
{
	(void)state;
	assert_int_equal(rd(VIOAPIC_REG_VER), 0x00170011);   /* version 0x11, 24 entries */
	assert_int_equal(rd(VIOAPIC_REG_ID), 2u << 24);
	assert_int_equal(rd(VIOAPIC_REG_ARB), 2u << 24);
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		assert_int_equal(get_rte(pin), RTE_MASKED);
	assert_int_equal(rd(0x3f), 0);                      /* past the last entry */
	assert_int_equal(rd(0x40), 0);
	assert_int_equal(rd(0xff), 0);
	/* IOREGSEL keeps 8 bits. */
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, 0x12345611);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL, 4), 0x11);
	/* The ID register holds 4 bits (27:24); vioapic_init keeps them too. */
	vioapic_init(&io, fake_vm, 0x13);
	assert_int_equal(rd(VIOAPIC_REG_ID), 3u << 24);
	assert_int_equal(nmsgs, 0);
}

static void id_and_read_only_registers(void **state)
{
	(void)state;
	wr(VIOAPIC_REG_ID, 0xffffffff);
	assert_int_equal(rd(VIOAPIC_REG_ID), 0x0f000000);
	assert_int_equal(rd(VIOAPIC_REG_ARB), 0x0f000000);   /* arbitration ID follows */
	wr(VIOAPIC_REG_VER, 0);
	assert_int_equal(rd(VIOAPIC_REG_VER), 0x00170011);
	wr(VIOAPIC_REG_ARB, 0);
	assert_int_equal(rd(VIOAPIC_REG_ARB), 0x0f000000);
	wr(0x50, 0xffffffff);   /* no register there: ignored */
	assert_int_equal(rd(0x50), 0);
}

static void redirection_entry_bits(void **state)
{
	(void)state;
	/* All ones: reserved 55:17 and the read-only delivery status / Remote IRR stay 0. */
	set_rte(5, ~0ull);
	assert_int_equal(get_rte(5), 0xff0000000001afffull);
	/* Each half is written on its own. */
	wr(VIOAPIC_REG_REDIR + 2 * 7, 0x00018931);
	wr(VIOAPIC_REG_REDIR + 2 * 7 + 1, 0x0a000000);
	assert_int_equal(get_rte(7), 0x0a00000000018931ull);
	/* Other entries untouched. */
	assert_int_equal(get_rte(6), RTE_MASKED);
	assert_int_equal(get_rte(8), RTE_MASKED);
	/* The last entry (23) is addressable: 0x3e/0x3f. */
	set_rte(23, rte(0x99, DM_FIXED, false, false, 1));
	assert_int_equal(rd(0x3e), 0x99);
	assert_int_equal(rd(0x3f), 0x01000000);
	assert_int_equal(nmsgs, 0);   /* nothing was asserted */
}

static void sub_dword_accesses(void **state)
{
	(void)state;
	assert_true(vioapic_access_valid(0x00, 4));
	assert_true(vioapic_access_valid(0x10, 4));
	assert_true(vioapic_access_valid(0x10, 1));
	assert_true(vioapic_access_valid(0x12, 2));
	assert_true(vioapic_access_valid(0x13, 1));
	assert_false(vioapic_access_valid(0x10, 8));
	assert_false(vioapic_access_valid(0x00, 8));
	assert_false(vioapic_access_valid(0x12, 4));     /* crosses into the next register */
	assert_false(vioapic_access_valid(0x13, 2));
	assert_false(vioapic_access_valid(0x10, 3));
	assert_false(vioapic_access_valid(0x10, 0));
	assert_false(vioapic_access_valid(VIOAPIC_SIZE, 1));
	assert_true(vioapic_access_valid(0xffc, 4));

	/* A byte write selects a register; a byte read of IOWIN gets its bytes. */
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 1, VIOAPIC_REG_VER);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 1), 0x11);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOWIN + 2, 1), 0x17);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOWIN + 2, 2), 0x0017);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 2), 0x0011);
	/* A 16-bit write to the upper half of a low RTE word replaces just those bytes:
	 * here it clears the mask bit (16) and keeps the vector written before. */
	wr(VIOAPIC_REG_REDIR, 0x00010042);
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 1, VIOAPIC_REG_REDIR);
	vioapic_mmio_write(&io, VIOAPIC_IOWIN + 2, 2, 0x0000);
	assert_int_equal(rd(VIOAPIC_REG_REDIR), 0x42);
	/* Writes to the reserved bytes of IOREGSEL do nothing. */
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 1, 0x20);
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL + 1, 1, 0xff);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL, 4), 0x20);
	/* Offsets that are neither register read 0. */
	assert_int_equal(vioapic_mmio_read(&io, 0x20, 4), 0);
	assert_int_equal(vioapic_mmio_read(&io, 0x40, 4), 0);
	vioapic_mmio_write(&io, 0x40, 4, 0x42);   /* no EOI register on version 0x11 */
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL, 4), 0x20);
}

static void edge_delivery(void **state)
{
	(void)state;
	set_rte(4, rte(0x31, DM_FIXED, false, false, 1));
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(nmsgs, 1);
	assert_ptr_equal(msgs[0].vm, fake_vm);
	assert_null(msgs[0].src);
	assert_int_equal(msgs[0].sh, SH_NONE);
	assert_int_equal(msgs[0].dest, 1);
	assert_false(msgs[0].logical);
	assert_int_equal(msgs[0].dm, DM_FIXED);
	assert_int_equal(msgs[0].vector, 0x31);
	assert_false(msgs[0].level);
	/* Still high: no new edge. */
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(nmsgs, 1);
	/* Low then high: a second edge. */
	vioapic_set_irq(&io, 4, false);
	assert_int_equal(nmsgs, 1);
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(nmsgs, 2);
	/* No Remote IRR for edge entries, and an EOI for the vector does nothing. */
	assert_false(get_rte(4) & RTE_REMOTE_IRR);
	vioapic_eoi(&io, 0x31);
	assert_int_equal(nmsgs, 2);
	/* Lowest priority, logical destination. */
	set_rte(1, rte(0x51, DM_LOWEST, true, false, 0x0f));
	vioapic_set_irq(&io, 1, true);
	assert_int_equal(nmsgs, 3);
	assert_true(msgs[2].logical);
	assert_int_equal(msgs[2].dm, DM_LOWEST);
	assert_int_equal(msgs[2].dest, 0x0f);
}

static void masked_edges_are_lost(void **state)
{
	(void)state;
	set_rte(3, rte(0x33, DM_FIXED, false, false, 0) | RTE_MASKED);
	vioapic_set_irq(&io, 3, true);
	vioapic_set_irq(&io, 3, false);
	set_rte(3, rte(0x33, DM_FIXED, false, false, 0));
	assert_int_equal(nmsgs, 0);
	/* Pin high while masked, then unmasked: still no edge to deliver. */
	set_rte(3, rte(0x33, DM_FIXED, false, false, 0) | RTE_MASKED);
	vioapic_set_irq(&io, 3, true);
	set_rte(3, rte(0x33, DM_FIXED, false, false, 0));
	assert_int_equal(nmsgs, 0);
	/* Out-of-range pins are ignored. */
	vioapic_set_irq(&io, VIOAPIC_PINS, true);
	vioapic_set_irq(&io, 1000, true);
	assert_int_equal(nmsgs, 0);
}

static void level_remote_irr_and_eoi(void **state)
{
	(void)state;
	set_rte(10, rte(0x40, DM_FIXED, true, true, 0x03));
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(nmsgs, 1);
	assert_true(msgs[0].level);
	assert_true(msgs[0].logical);
	assert_int_equal(msgs[0].dest, 3);
	assert_int_equal(msgs[0].vector, 0x40);
	assert_true(get_rte(10) & RTE_REMOTE_IRR);
	/* Asserted again before the EOI: held back by Remote IRR. */
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(nmsgs, 1);
	/* The guest cannot clear Remote IRR by writing the entry. */
	wr(VIOAPIC_REG_REDIR + 20, (u32)rte(0x40, DM_FIXED, true, true, 0x03));
	assert_true(get_rte(10) & RTE_REMOTE_IRR);
	assert_int_equal(nmsgs, 1);
	/* EOI of another vector: nothing. */
	vioapic_eoi(&io, 0x41);
	assert_true(get_rte(10) & RTE_REMOTE_IRR);
	assert_int_equal(nmsgs, 1);
	/* EOI while the pin is still high: Remote IRR clears and the interrupt comes again. */
	vioapic_eoi(&io, 0x40);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(msgs[1].vector, 0x40);
	assert_true(get_rte(10) & RTE_REMOTE_IRR);
	/* Line drops, EOI: idle. */
	vioapic_set_irq(&io, 10, false);
	vioapic_eoi(&io, 0x40);
	assert_int_equal(nmsgs, 2);
	assert_false(get_rte(10) & RTE_REMOTE_IRR);
	/* Next assertion delivers again. */
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(nmsgs, 3);
}

static void eoi_reaches_every_entry_with_the_vector(void **state)
{
	(void)state;
	set_rte(8, rte(0x60, DM_FIXED, false, true, 0));
	set_rte(9, rte(0x60, DM_FIXED, false, true, 1));
	vioapic_set_irq(&io, 8, true);
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 2);
	vioapic_set_irq(&io, 8, false);
	vioapic_eoi(&io, 0x60);
	assert_false(get_rte(8) & RTE_REMOTE_IRR);
	assert_true(get_rte(9) & RTE_REMOTE_IRR);   /* re-delivered: pin 9 is still high */
	assert_int_equal(nmsgs, 3);
	assert_int_equal(msgs[2].dest, 1);
}

static void level_held_while_masked_delivers_on_unmask(void **state)
{
	(void)state;
	u64 e = rte(0x70, DM_FIXED, false, true, 2);
	set_rte(12, e | RTE_MASKED);
	vioapic_set_irq(&io, 12, true);
	assert_int_equal(nmsgs, 0);
	assert_false(get_rte(12) & RTE_REMOTE_IRR);
	set_rte(12, e);   /* unmask */
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x70);
	assert_true(get_rte(12) & RTE_REMOTE_IRR);
	/* Masking and unmasking with Remote IRR set does not deliver twice. */
	set_rte(12, e | RTE_MASKED);
	set_rte(12, e);
	assert_int_equal(nmsgs, 1);
}

static void edge_switch_clears_remote_irr(void **state)
{
	(void)state;
	u64 e = rte(0x44, DM_FIXED, false, true, 0);
	set_rte(2, e);
	vioapic_set_irq(&io, 2, true);
	vioapic_set_irq(&io, 2, false);
	assert_true(get_rte(2) & RTE_REMOTE_IRR);
	set_rte(2, e & ~RTE_LEVEL);
	assert_false(get_rte(2) & RTE_REMOTE_IRR);
	set_rte(2, e);
	assert_false(get_rte(2) & RTE_REMOTE_IRR);
	assert_int_equal(nmsgs, 1);
}

static void delivery_modes(void **state)
{
	(void)state;
	/* NMI and INIT programmed level-triggered act as edge: no Remote IRR. */
	set_rte(0, rte(0x00, DM_NMI, false, true, 0));
	vioapic_set_irq(&io, 0, true);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].dm, DM_NMI);
	assert_false(msgs[0].level);
	assert_false(get_rte(0) & RTE_REMOTE_IRR);
	set_rte(1, rte(0x00, DM_INIT, false, false, 1));
	vioapic_set_irq(&io, 1, true);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(msgs[1].dm, DM_INIT);
	/* SMI, ExtINT and the reserved modes 3 and 6 send nothing. */
	static const u8 dropped[] = { DM_SMI, DM_EXTINT, 3, 6 };
	for (unsigned i = 0; i < ARRAY_SIZE(dropped); i++) {
		set_rte(6 + i, rte(0x50, dropped[i], false, false, 0));
		vioapic_set_irq(&io, 6 + i, true);
	}
	assert_int_equal(nmsgs, 2);
}

static void level_vectors_and_generation(void **state)
{
	(void)state;
	u64 bm[4] = { 1, 2, 3, 4 };
	vioapic_level_vectors(&io, bm);
	assert_true(!bm[0] && !bm[1] && !bm[2] && !bm[3]);   /* overwritten */

	u32 g0 = io.gen;
	unsigned c0 = level_changes;
	set_rte(0, rte(0x30, DM_FIXED, false, false, 0));    /* edge: not listed */
	set_rte(1, rte(0x41, DM_FIXED, false, true, 0));     /* level */
	set_rte(2, rte(0xfe, DM_LOWEST, true, true, 0));     /* level */
	set_rte(3, rte(0x80, DM_FIXED, false, true, 0) | RTE_MASKED);   /* masked, idle */
	set_rte(4, rte(0x90, DM_NMI, false, true, 0));       /* NMI: edge semantics */
	assert_true(io.gen != g0);
	assert_true(level_changes > c0);   /* the vCPUs are told to reload their bitmaps */
	vioapic_level_vectors(&io, bm);
	assert_int_equal(bm[0], 0);
	assert_int_equal(bm[1], BIT64(0x41 - 64));
	assert_int_equal(bm[2], 0);
	assert_int_equal(bm[3], BIT64(0xfe - 192));

	/* A masked level entry with Remote IRR set is listed: its EOI must still exit. */
	set_rte(5, rte(0x85, DM_FIXED, false, true, 0));
	vioapic_set_irq(&io, 5, true);
	set_rte(5, rte(0x85, DM_FIXED, false, true, 0) | RTE_MASKED);
	vioapic_level_vectors(&io, bm);
	assert_int_equal(bm[2], BIT64(0x85 - 128));

	/* Rewriting an entry with the same vector/trigger/mask leaves gen alone; changing
	 * the destination does too. */
	u32 g1 = io.gen;
	unsigned c1 = level_changes;
	set_rte(1, rte(0x41, DM_FIXED, false, true, 0));
	set_rte(1, rte(0x41, DM_FIXED, false, true, 7));
	assert_int_equal(io.gen, g1);
	assert_int_equal(level_changes, c1);
	set_rte(1, rte(0x42, DM_FIXED, false, true, 7));
	assert_true(io.gen != g1);
	assert_int_equal(level_changes, c1 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(reset_state, setup),
		cmocka_unit_test_setup(id_and_read_only_registers, setup),
		cmocka_unit_test_setup(redirection_entry_bits, setup),
		cmocka_unit_test_setup(sub_dword_accesses, setup),
		cmocka_unit_test_setup(edge_delivery, setup),
		cmocka_unit_test_setup(masked_edges_are_lost, setup),
		cmocka_unit_test_setup(level_remote_irr_and_eoi, setup),
		cmocka_unit_test_setup(eoi_reaches_every_entry_with_the_vector, setup),
		cmocka_unit_test_setup(level_held_while_masked_delivers_on_unmask, setup),
		cmocka_unit_test_setup(edge_switch_clears_remote_irr, setup),
		cmocka_unit_test_setup(delivery_modes, setup),
		cmocka_unit_test_setup(level_vectors_and_generation, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
