/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtual IOAPIC (82093AA register set: IOREGSEL/IOWIN, ID, version,
 * arbitration, 24 redirection entries), enough for guests that probe it and for
 * level-triggered sources with EOI broadcast. Register logic is pure (unit-tested on
 * the host); delivery goes through vlapic_deliver() (hv/irq/vlapic.h).
 */
#ifndef HV_VIOAPIC_H
#define HV_VIOAPIC_H

#include "hv/lib/types.h"
#include "hv/host/cpu.h"
#include "hv/io/bus.h"

#define VIOAPIC_BASE 0xfec00000ull
#define VIOAPIC_SIZE 0x1000
#define VIOAPIC_PINS 24
#define VIOAPIC_VERSION 0x11

/* Memory-mapped registers (82093AA datasheet, "Register Description"). */
#define VIOAPIC_IOREGSEL 0x00
#define VIOAPIC_IOWIN 0x10
/* Indirect registers, selected through IOREGSEL. */
#define VIOAPIC_REG_ID 0x00
#define VIOAPIC_REG_VER 0x01
#define VIOAPIC_REG_ARB 0x02
#define VIOAPIC_REG_REDIR 0x10   /* entry n: 0x10 + 2n (bits 31:0), 0x11 + 2n (63:32) */

/* Redirection table entry fields ("I/O Redirection Table Registers"). */
#define RTE_VECTOR_MASK 0xffull
#define RTE_DM(x) ((u8)(((x) >> 8) & 7))
#define RTE_LOGICAL BIT64(11)
#define RTE_DELIVS BIT64(12)     /* delivery status: read-only */
#define RTE_POLARITY BIT64(13)   /* 1 = active low */
#define RTE_REMOTE_IRR BIT64(14) /* read-only */
#define RTE_LEVEL BIT64(15)      /* trigger mode: 1 = level */
#define RTE_MASKED BIT64(16)
#define RTE_DEST_SHIFT 56

struct vm;

struct vioapic {
	struct vdev dev;          /* on the bus: hv/dev/ioapic.c (dev.lock is not used) */
	struct vm *vm;
	struct spinlock lock;
	u32 id;
	u32 ioregsel;
	u64 redir[VIOAPIC_PINS];
	u32 pin_level;            /* input pin state, one bit per pin */
	/* Incremented (under the lock) whenever an entry's vector, trigger mode or mask
	 * changes: vioapic_mmio_write then asks every vCPU to reload its EOI-exit bitmap
	 * (vlapic_level_vectors_changed). */
	volatile u32 gen;
};

/* Reset state: every entry masked, IOREGSEL 0, ID = id (4 bits: the ID register's
 * bits 27:24). vm is handed to vlapic_deliver(). */
void vioapic_init(struct vioapic *io, struct vm *vm, u32 id);
/* Is a guest access at offset (from VIOAPIC_BASE) of size bytes one this device
 * takes? 1, 2 or 4 bytes inside one 32-bit register; 8-byte and register-crossing
 * accesses are refused (the VM is stopped by the MMIO layer). */
bool vioapic_access_valid(u64 offset, unsigned size);
/* Guest MMIO: offset from VIOAPIC_BASE. Smaller accesses read or replace their bytes
 * of the 32-bit register; unknown offsets read 0 and ignore writes. */
u32 vioapic_mmio_read(struct vioapic *io, u64 offset, unsigned size);
void vioapic_mmio_write(struct vioapic *io, u64 offset, unsigned size, u32 val);
/* Drive an input pin (edge: a 0->1 transition delivers; level: delivers while high
 * and Remote IRR clear). level is the asserted state: the polarity bit is kept for the
 * guest to read back but not applied (the sources are virtual and assert logically). */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);
/* EOI broadcast from a vLAPIC for a level-triggered vector: clears Remote IRR of the
 * entries with that vector and re-delivers those whose pin is still high. */
void vioapic_eoi(struct vioapic *io, u8 vector);
/* The vectors of level-triggered entries that are unmasked or have Remote IRR set:
 * the EOI-exit bitmap (Vol. 3C, "EOI-Exit Bitmaps"). bitmap is overwritten. */
void vioapic_level_vectors(struct vioapic *io, u64 bitmap[4]);

#endif
