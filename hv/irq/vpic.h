/* SPDX-License-Identifier: MIT */
/*
 * A masked pair of virtual 8259A PICs: the registers a guest programs at boot (ICW1-4,
 * OCW1-3 on ports 0x20/0x21 and 0xa0/0xa1, the ELCR at 0x4d0/0x4d1), kept so that they
 * read back as on a PC, with no interrupt source behind them. Interrupts reach guests
 * through the virtual IOAPIC (hv/irq/vioapic.h) and LAPICs; the 8259s never deliver one,
 * so IRR, ISR and the poll word always read 0. Register logic is pure (unit-tested on
 * the host, tests/unit/test_vpic.c); the bus device around it is hv/dev/pic.c, whose
 * lock (dev.lock) every register access holds.
 */
#ifndef HV_VPIC_H
#define HV_VPIC_H

#include "hv/lib/types.h"
#include "hv/io/bus.h"

#define VPIC_MASTER_CMD 0x20
#define VPIC_MASTER_DATA 0x21
#define VPIC_SLAVE_CMD 0xa0
#define VPIC_SLAVE_DATA 0xa1
#define VPIC_ELCR_MASTER 0x4d0
#define VPIC_ELCR_SLAVE 0x4d1

struct i8259 {
	u8 imr;            /* OCW1: interrupt mask register */
	u8 init_step;      /* 0 = initialised; 2, 3, 4 = the ICW expected next */
	bool icw4_needed;  /* ICW1 IC4 */
	bool single;       /* ICW1 SNGL: no ICW3 */
	u8 icw1, icw2, icw3, icw4;
	bool read_isr;     /* OCW3 RR/RIS: port A0=0 reads ISR (else IRR) */
	bool poll;         /* OCW3 P: the next A0=0 read is the poll word */
	bool special_mask; /* OCW3 ESMM/SMM */
	u8 elcr;           /* edge/level control register */
};

struct vpic {
	struct vdev dev;
	struct i8259 chip[2];   /* 0 = master, 1 = slave */
};

/* The state a PC BIOS leaves: vectors 0x08/0x70, slave on IRQ2, 8086 mode, every
 * input masked, all edge-triggered (the registers only: p->dev is left alone). */
void vpic_init(struct vpic *p);
/* One of the six byte ports above? */
bool vpic_port(u16 port);
/* Byte access to one of those ports (anything else reads 0xff, writes are dropped).
 * The caller holds p->dev.lock. */
u8 vpic_read(struct vpic *p, u16 port);
void vpic_write(struct vpic *p, u16 port, u8 val);

#endif
