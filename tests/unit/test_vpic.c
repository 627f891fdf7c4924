/* SPDX-License-Identifier: MIT */
/* hv/irq/vpic.c: the masked 8259A pair: initialization sequence, masks, OCW3, ELCR; and
 * hv/dev/pic.c: the pair on the VM's bus, byte by byte under its lock. */
#include "tests/unit/support.h"
#include "hv/irq/vpic.h"
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"

static struct vpic pic;

static int setup(void **state)
{
	(void)state;
	vpic_init(&pic);
	return 0;
}

static void bios_state(void **state)
{
	(void)state;
	assert_int_equal(vpic_read(&pic, 0x21), 0xff);
	assert_int_equal(vpic_read(&pic, 0xa1), 0xff);
	assert_int_equal(vpic_read(&pic, 0x20), 0);
	assert_int_equal(vpic_read(&pic, 0xa0), 0);
	assert_int_equal(vpic_read(&pic, 0x4d0), 0);
	assert_int_equal(vpic_read(&pic, 0x4d1), 0);
	assert_int_equal(pic.chip[0].icw2, 0x08);
	assert_int_equal(pic.chip[1].icw2, 0x70);
	assert_int_equal(pic.chip[0].init_step, 0);
	assert_false(pic.dev.lock.locked);
}

static void ports(void **state)
{
	(void)state;
	static const u16 ours[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
	static const u16 others[] = { 0x22, 0x1f, 0xa2, 0x9f, 0x4cf, 0x4d2, 0x60, 0x3f8 };
	for (unsigned i = 0; i < ARRAY_SIZE(ours); i++)
		assert_true(vpic_port(ours[i]));
	for (unsigned i = 0; i < ARRAY_SIZE(others); i++) {
		assert_false(vpic_port(others[i]));
		assert_int_equal(vpic_read(&pic, others[i]), 0xff);
		vpic_write(&pic, others[i], 0);
	}
	assert_int_equal(vpic_read(&pic, 0x21), 0xff);
}

static void ocw1_mask_reads_back(void **state)
{
	(void)state;
	vpic_write(&pic, 0x21, 0xfb);
	vpic_write(&pic, 0xa1, 0x5a);
	assert_int_equal(vpic_read(&pic, 0x21), 0xfb);
	assert_int_equal(vpic_read(&pic, 0xa1), 0x5a);
	vpic_write(&pic, 0x21, 0x00);
	assert_int_equal(vpic_read(&pic, 0x21), 0x00);
	assert_int_equal(vpic_read(&pic, 0xa1), 0x5a);
}

/* Linux's init_8259A(): ICW1 0x11, ICW2 vector base, ICW3 cascade, ICW4 0x01, then
 * the masks. */
static void linux_init_sequence(void **state)
{
	(void)state;
	vpic_write(&pic, 0x21, 0xff);
	vpic_write(&pic, 0xa1, 0xff);
	vpic_write(&pic, 0x20, 0x11);
	assert_int_equal(vpic_read(&pic, 0x21), 0x00);   /* ICW1 clears the IMR */
	vpic_write(&pic, 0x21, 0x30);
	vpic_write(&pic, 0x21, 0x04);
	vpic_write(&pic, 0x21, 0x01);
	assert_int_equal(pic.chip[0].icw2, 0x30);
	assert_int_equal(pic.chip[0].icw3, 0x04);
	assert_int_equal(pic.chip[0].icw4, 0x01);
	assert_int_equal(pic.chip[0].init_step, 0);
	vpic_write(&pic, 0xa0, 0x11);
	vpic_write(&pic, 0xa1, 0x38);
	vpic_write(&pic, 0xa1, 0x02);
	vpic_write(&pic, 0xa1, 0x01);
	assert_int_equal(pic.chip[1].icw2, 0x38);
	assert_int_equal(pic.chip[1].icw3, 0x02);
	/* After the sequence, A0=1 writes are masks again. */
	vpic_write(&pic, 0x21, 0xfb);
	vpic_write(&pic, 0xa1, 0xff);
	assert_int_equal(vpic_read(&pic, 0x21), 0xfb);
	assert_int_equal(vpic_read(&pic, 0xa1), 0xff);
	assert_int_equal(pic.chip[0].icw2, 0x30);   /* not overwritten by OCW1 */
	/* ICW2 keeps only T7-T3. */
	vpic_write(&pic, 0x20, 0x11);
	vpic_write(&pic, 0x21, 0x27);
	assert_int_equal(pic.chip[0].icw2, 0x20);
}

static void single_and_no_icw4(void **state)
{
	(void)state;
	/* SNGL, no IC4: ICW2 only, then the next A0=1 write is the mask. */
	vpic_write(&pic, 0x20, 0x12);
	vpic_write(&pic, 0x21, 0x40);
	assert_int_equal(pic.chip[0].init_step, 0);
	vpic_write(&pic, 0x21, 0x77);
	assert_int_equal(vpic_read(&pic, 0x21), 0x77);
	assert_int_equal(pic.chip[0].icw4, 0);   /* "all functions selected in ICW4 are zero" */
	/* SNGL with IC4: ICW2, ICW4. */
	vpic_write(&pic, 0x20, 0x13);
	vpic_write(&pic, 0x21, 0x48);
	assert_int_equal(pic.chip[0].init_step, 4);
	vpic_write(&pic, 0x21, 0x03);
	assert_int_equal(pic.chip[0].icw4, 0x03);
	vpic_write(&pic, 0x21, 0x12);
	assert_int_equal(vpic_read(&pic, 0x21), 0x12);
	/* Cascade without IC4: ICW2, ICW3. */
	vpic_write(&pic, 0xa0, 0x10);
	vpic_write(&pic, 0xa1, 0x70);
	assert_int_equal(pic.chip[1].init_step, 3);
	vpic_write(&pic, 0xa1, 0x02);
	assert_int_equal(pic.chip[1].init_step, 0);
	vpic_write(&pic, 0xa1, 0xee);
	assert_int_equal(vpic_read(&pic, 0xa1), 0xee);
	/* A new ICW1 in the middle of a sequence restarts it. */
	vpic_write(&pic, 0x20, 0x11);
	vpic_write(&pic, 0x21, 0x08);
	vpic_write(&pic, 0x20, 0x11);
	assert_int_equal(pic.chip[0].init_step, 2);
}

static void ocw2_ocw3_and_poll(void **state)
{
	(void)state;
	vpic_write(&pic, 0x20, 0x0b);   /* OCW3: read ISR */
	assert_true(pic.chip[0].read_isr);
	assert_int_equal(vpic_read(&pic, 0x20), 0);
	vpic_write(&pic, 0x20, 0x0a);   /* OCW3: read IRR */
	assert_false(pic.chip[0].read_isr);
	assert_int_equal(vpic_read(&pic, 0x20), 0);
	vpic_write(&pic, 0x20, 0x08);   /* OCW3 without RR: selection unchanged */
	assert_false(pic.chip[0].read_isr);
	vpic_write(&pic, 0x20, 0x0b);
	vpic_write(&pic, 0x20, 0x08);
	assert_true(pic.chip[0].read_isr);
	vpic_write(&pic, 0x20, 0x68);   /* ESMM|SMM: special mask mode on */
	assert_true(pic.chip[0].special_mask);
	vpic_write(&pic, 0x20, 0x48);   /* ESMM without SMM: off */
	assert_false(pic.chip[0].special_mask);
	vpic_write(&pic, 0x20, 0x0c);   /* poll: the next read is the poll word */
	assert_true(pic.chip[0].poll);
	assert_int_equal(vpic_read(&pic, 0x20), 0);   /* bit 7 clear: nothing pending */
	assert_false(pic.chip[0].poll);
	/* OCW2 (non-specific EOI, specific EOI, rotate): no effect on anything readable. */
	vpic_write(&pic, 0x21, 0xa5);
	vpic_write(&pic, 0x20, 0x20);
	vpic_write(&pic, 0x20, 0x62);
	vpic_write(&pic, 0x20, 0xc7);
	assert_int_equal(vpic_read(&pic, 0x21), 0xa5);
	assert_int_equal(pic.chip[0].init_step, 0);
	/* ICW1 resets the read select to IRR. */
	vpic_write(&pic, 0x20, 0x0b);
	vpic_write(&pic, 0x20, 0x11);
	assert_false(pic.chip[0].read_isr);
	/* The slave is independent. */
	assert_int_equal(pic.chip[1].init_step, 0);
	assert_int_equal(vpic_read(&pic, 0xa1), 0xff);
}

static void elcr(void **state)
{
	(void)state;
	vpic_write(&pic, 0x4d0, 0xff);
	vpic_write(&pic, 0x4d1, 0xff);
	assert_int_equal(vpic_read(&pic, 0x4d0), 0xf8);   /* IRQ0-2 are always edge */
	assert_int_equal(vpic_read(&pic, 0x4d1), 0xde);   /* IRQ8, IRQ13 too */
	vpic_write(&pic, 0x4d0, 0x20);                    /* IRQ5 level (as a BIOS sets a PCI IRQ) */
	assert_int_equal(vpic_read(&pic, 0x4d0), 0x20);
	assert_int_equal(vpic_read(&pic, 0x4d1), 0xde);
	/* ICW1 does not touch the ELCR (it is not part of the 8259). */
	vpic_write(&pic, 0x20, 0x11);
	assert_int_equal(vpic_read(&pic, 0x4d0), 0x20);
}

static struct vm vm;
/* Through the bus, which takes the device lock (the fake above refuses a second
 * acquisition and a release of a free lock). */
static u64 port_io(u16 port, u8 size, bool write, u64 value)
{
	struct io_req req = { IO_SPACE_PORT, port, size, write, value };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
	return req.value & (0xffffffffull >> (32 - 8 * size));   /* the low size bytes count */
}

static void through_the_bus(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	assert_true(vpic_create(&vm));
	assert_string_equal(vm.pic.dev.name, "8259");
	/* IMR of both chips: 0xff after create. A 16-bit read at 0x20: IRR (0), IMR. */
	assert_int_equal(port_io(0x20, 2, false, 0), 0xff00);
	/* A 16-bit write at 0x21 sets the master's IMR; its second byte goes to 0x22,
	 * which is not the 8259's (dropped). */
	port_io(0x21, 2, true, 0x5a3c);
	assert_int_equal(vm.pic.chip[0].imr, 0x3c);
	/* A 32-bit read from 0x1f: 0x1f unassigned, 0x20 IRR, 0x21 IMR, 0x22 unassigned. */
	assert_int_equal(port_io(0x1f, 4, false, 0), 0xff3c00ff);
	/* The ELCR pair in one 16-bit write, reserved bits kept 0. */
	port_io(0x4d0, 2, true, 0xffff);
	assert_int_equal(port_io(0x4d0, 2, false, 0), 0xdef8);
	/* The slave's IMR through a 32-bit write at 0x9e: bytes 0x9e, 0x9f unassigned,
	 * 0xa0 = 0x00 is OCW2 (nothing), 0xa1 = 0x77 the IMR. */
	port_io(0x9e, 4, true, 0x77001122);
	assert_int_equal(vm.pic.chip[1].imr, 0x77);
	assert_false(vm.pic.dev.lock.locked);
	/* Reset: the BIOS state again. */
	vm.pic.dev.ops->reset(&vm.pic.dev);
	assert_int_equal(port_io(0x21, 1, false, 0), 0xff);
	assert_int_equal(port_io(0x4d0, 1, false, 0), 0);
	assert_string_equal(vm.pic.dev.name, "8259");
	vdev_destroy_all(&vm);
	assert_int_equal(port_io(0x21, 1, false, 0), 0xff);   /* unassigned now */
	assert_null(io_bus_find(&vm, IO_SPACE_PORT, 0x4d1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(through_the_bus),
		cmocka_unit_test_setup(bios_state, setup),
		cmocka_unit_test_setup(ports, setup),
		cmocka_unit_test_setup(ocw1_mask_reads_back, setup),
		cmocka_unit_test_setup(linux_init_sequence, setup),
		cmocka_unit_test_setup(single_and_no_icw4, setup),
		cmocka_unit_test_setup(ocw2_ocw3_and_poll, setup),
		cmocka_unit_test_setup(elcr, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
