/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtual IOAPIC (82093AA register set: IOREGSEL/IOWIN, ID, version,
 * arbitration, 24 redirection entries), enough for guests that probe it and for
 * level-triggered sources with EOI broadcast. Register logic is pure (unit-tested on
 * the host); delivery goes through vlapic_deliver() (hv/vlapic.h).
 */
#ifndef HV_VIOAPIC_H
#define HV_VIOAPIC_H

#include "hv/types.h"
#include "hv/cpu.h"

#define VIOAPIC_BASE 0xfec00000ull
#define VIOAPIC_SIZE 0x1000
#define VIOAPIC_PINS 24

struct vm;

struct vioapic {
	struct vm *vm;
	struct spinlock lock;
	u32 id;
	u32 ioregsel;
	u64 redir[VIOAPIC_PINS];
	u32 pin_level;            /* input pin state, one bit per pin */
};

void vioapic_init(struct vioapic *io, struct vm *vm, u32 id);
u32 vioapic_mmio_read(struct vioapic *io, u64 offset, unsigned size);
void vioapic_mmio_write(struct vioapic *io, u64 offset, unsigned size, u32 val);
/* Drive an input pin (edge: a 0->1 transition delivers; level: delivers while high
 * and Remote IRR clear). */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);
/* EOI broadcast from a vLAPIC for a level-triggered vector: clears Remote IRR of the
 * entries with that vector and re-delivers those whose pin is still high. */
void vioapic_eoi(struct vioapic *io, u8 vector);
/* The vectors of level-triggered, unmasked entries: the EOI-exit bitmap (Vol. 3C,
 * "EOI-Exit Bitmaps"). */
void vioapic_level_vectors(struct vioapic *io, u64 bitmap[4]);

#endif
