/* SPDX-License-Identifier: MIT */
/*
 * The masked virtual 8259A pair (hv/irq/vpic.h), after the Intel 8259A Programmable
 * Interrupt Controller datasheet, "Programming the 8259A": a write to A0=0 with D4=1
 * is ICW1 and starts the initialization sequence ICW2 (A0=1), ICW3 (A0=1, unless ICW1
 * said SNGL) and ICW4 (A0=1, when ICW1 set IC4); afterwards A0=1 writes are OCW1 (the
 * mask) and A0=0 writes are OCW2 (D4=0, D3=0: EOI and rotation) or OCW3 (D4=0, D3=1:
 * read register select, poll, special mask). The ELCR (one bit per IRQ, 1 = level) is
 * that of the PIIX/ICH south bridges at 0x4d0/0x4d1, whose IRQ0-2, IRQ8 and IRQ13 bits
 * are reserved and read 0.
 */
#include "hv/irq/vpic.h"
#include "hv/lib/lib.h"

#define ICW1_IC4 BIT(0)
#define ICW1_SNGL BIT(1)
#define ICW1_INIT BIT(4)
#define OCW3_SELECT BIT(3)   /* with D4 = 0: OCW3 rather than OCW2 */
#define OCW3_RIS BIT(0)
#define OCW3_RR BIT(1)
#define OCW3_POLL BIT(2)
#define OCW3_SMM BIT(5)
#define OCW3_ESMM BIT(6)

static const u8 elcr_writable[2] = { 0xf8, 0xde };

static void chip_reset(struct i8259 *c, u8 vector_base, u8 icw3)
{
	memset(c, 0, sizeof(*c));
	c->icw1 = ICW1_INIT | ICW1_IC4;
	c->icw2 = vector_base;
	c->icw3 = icw3;
	c->icw4 = 0x01;   /* uPM: 8086/8088 mode */
	c->icw4_needed = true;
	c->imr = 0xff;
}

void vpic_init(struct vpic *p)
{
	chip_reset(&p->chip[0], 0x08, 0x04);   /* master: a slave on IR2 */
	chip_reset(&p->chip[1], 0x70, 0x02);   /* slave: its ID is 2 */
}

bool vpic_port(u16 port)
{
	return port == VPIC_MASTER_CMD || port == VPIC_MASTER_DATA || port == VPIC_SLAVE_CMD ||
	       port == VPIC_SLAVE_DATA || port == VPIC_ELCR_MASTER || port == VPIC_ELCR_SLAVE;
}

static struct i8259 *chip_of(struct vpic *p, u16 port)
{
	return &p->chip[port == VPIC_SLAVE_CMD || port == VPIC_SLAVE_DATA || port == VPIC_ELCR_SLAVE];
}

static void write_cmd(struct i8259 *c, u8 val)
{
	if (val & ICW1_INIT) {
		/* ICW1: "the interrupt mask register is cleared", "special mask mode is
		 * cleared and status read is set to IRR"; without IC4, ICW4 functions are
		 * set to zero. */
		c->icw1 = val;
		c->icw4_needed = val & ICW1_IC4;
		c->single = val & ICW1_SNGL;
		if (!c->icw4_needed)
			c->icw4 = 0;
		c->imr = 0;
		c->read_isr = false;
		c->poll = false;
		c->special_mask = false;
		c->init_step = 2;
		return;
	}
	if (val & OCW3_SELECT) {
		if (val & OCW3_RR)
			c->read_isr = val & OCW3_RIS;
		if (val & OCW3_ESMM)
			c->special_mask = val & OCW3_SMM;
		c->poll = val & OCW3_POLL;
		return;
	}
	/* OCW2 (EOI, rotation, set priority): nothing is ever in service. */
}

static void write_data(struct i8259 *c, u8 val)
{
	switch (c->init_step) {
	case 2:
		c->icw2 = val & 0xf8;   /* T7-T3: the vector base (8086 mode) */
		c->init_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
		return;
	case 3:
		c->icw3 = val;
		c->init_step = c->icw4_needed ? 4 : 0;
		return;
	case 4:
		c->icw4 = val;
		c->init_step = 0;
		return;
	default:
		c->imr = val;           /* OCW1 */
	}
}

u8 vpic_read(struct vpic *p, u16 port)
{
	if (!vpic_port(port))
		return 0xff;
	struct i8259 *c = chip_of(p, port);
	u8 v = 0;
	switch (port) {
	case VPIC_MASTER_CMD:
	case VPIC_SLAVE_CMD:
		/* IRR, ISR and the poll word (bit 7 = an interrupt is pending): all 0. A poll
		 * command applies to one read only. */
		c->poll = false;
		v = 0;
		break;
	case VPIC_MASTER_DATA:
	case VPIC_SLAVE_DATA:
		v = c->imr;
		break;
	default:
		v = c->elcr;
	}
	return v;
}

void vpic_write(struct vpic *p, u16 port, u8 val)
{
	if (!vpic_port(port))
		return;
	struct i8259 *c = chip_of(p, port);
	switch (port) {
	case VPIC_MASTER_CMD:
	case VPIC_SLAVE_CMD:
		write_cmd(c, val);
		break;
	case VPIC_MASTER_DATA:
	case VPIC_SLAVE_DATA:
		write_data(c, val);
		break;
	default:
		c->elcr = val & elcr_writable[c == &p->chip[1]];
	}
}
