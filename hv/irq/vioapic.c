/* SPDX-License-Identifier: MIT */
/*
 * The virtual IOAPIC (hv/irq/vioapic.h), after the Intel 82093AA I/O Advanced Programmable
 * Interrupt Controller datasheet: "Register Description" (IOREGSEL at offset 0x00,
 * IOWIN at 0x10, both 32 bits; IOAPICID, IOAPICVER, IOAPICARB and the I/O Redirection
 * Table Registers behind them) and "Functional Description" (edge and level
 * interrupts, Remote IRR, masking). The messages it sends are those of Intel SDM
 * Vol. 3A, "Message Signalled Interrupts" / "I/O APIC": destination, destination mode,
 * delivery mode, vector and trigger mode, handed to vlapic_deliver().
 *
 * Every register access and pin change runs under io->lock; the messages it decides to
 * send are collected and sent after the lock is dropped, so vlapic_deliver() may take
 * its own locks (and even come back with an EOI) without a lock-order problem.
 */
#include "hv/irq/vioapic.h"
#include "hv/irq/vlapic.h"
#include "hv/lib/lib.h"
#include "hv/trace/trace.h"

#define VIOAPIC_MAX_ENTRY (VIOAPIC_PINS - 1)

/* Bits software can write: vector, delivery mode, destination mode, polarity, trigger
 * mode, mask (16:0 without the read-only delivery status and Remote IRR) and the
 * destination field 63:56; 55:17 are reserved. */
#define RTE_WRITABLE (0xff00000000000000ull | (0x1ffffull & ~(RTE_DELIVS | RTE_REMOTE_IRR)))

struct delivery {
	u32 dest;
	bool logical;
	u8 dm, vector;
	bool level;
};

struct pending {
	struct delivery d[VIOAPIC_PINS];
	unsigned n;
};

/* Level semantics (Remote IRR) apply to fixed and lowest-priority entries only: the
 * datasheet has SMI, NMI, INIT and ExtINT treated as edge whatever the trigger bit. */
static bool rte_is_level(u64 rte)
{
	u8 dm = RTE_DM(rte);
	return (rte & RTE_LEVEL) && (dm == DM_FIXED || dm == DM_LOWEST);
}

/*
 * Send pin's interrupt if its entry allows it now; called with the lock held. A level
 * interrupt sets Remote IRR (the local APIC accepted it) until the EOI. Delivery modes
 * without a model here are dropped: SMI (no SMM), ExtINT (the virtual 8259s never
 * supply a vector, hv/irq/vpic.c) and the reserved 011b and 110b.
 */
static void try_deliver(struct vioapic *io, unsigned pin, struct pending *p)
{
	u64 rte = io->redir[pin];
	u8 dm = RTE_DM(rte);

	if (rte & RTE_MASKED)
		return;
	if (dm != DM_FIXED && dm != DM_LOWEST && dm != DM_NMI && dm != DM_INIT)
		return;
	bool level = rte_is_level(rte);
	if (level) {
		if (rte & RTE_REMOTE_IRR)
			return;
		io->redir[pin] = rte | RTE_REMOTE_IRR;
	}
	p->d[p->n++] = (struct delivery){
		.dest = (u32)(rte >> RTE_DEST_SHIFT),
		.logical = rte & RTE_LOGICAL,
		.dm = dm,
		.vector = (u8)(rte & RTE_VECTOR_MASK),
		.level = level,
	};
}

static void flush(struct vioapic *io, struct pending *p)
{
	if (p->n)
		TRACE_SOURCE(TSRC_IOAPIC);
	for (unsigned i = 0; i < p->n; i++)
		vlapic_deliver(io->vm, NULL, SH_NONE, p->d[i].dest, p->d[i].logical, p->d[i].dm,
			       p->d[i].vector, p->d[i].level);
	p->n = 0;
}

void vioapic_init(struct vioapic *io, struct vm *vm, u32 id)
{
	memset(io, 0, sizeof(*io));
	io->vm = vm;
	io->id = id & 0xf;
	/* "All redirection table entries are masked" after reset (RTE bit 16 = 1). */
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		io->redir[i] = RTE_MASKED;
}

bool vioapic_access_valid(u64 offset, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	return offset < VIOAPIC_SIZE && (offset & 3) + size <= 4;
}

static u32 reg_read(const struct vioapic *io, u32 sel)
{
	switch (sel) {
	case VIOAPIC_REG_ID:
		return io->id << 24;   /* IOAPICID: bits 27:24 */
	case VIOAPIC_REG_VER:
		/* IOAPICVER: version in 7:0, maximum redirection entry (entries - 1) in 23:16. */
		return VIOAPIC_VERSION | (VIOAPIC_MAX_ENTRY << 16);
	case VIOAPIC_REG_ARB:
		/* IOAPICARB: the arbitration ID in 27:24, loaded from the ID register. */
		return io->id << 24;
	}
	if (sel >= VIOAPIC_REG_REDIR && sel < VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS) {
		u64 rte = io->redir[(sel - VIOAPIC_REG_REDIR) / 2];
		return sel & 1 ? (u32)(rte >> 32) : (u32)rte;
	}
	return 0;
}

static void reg_write(struct vioapic *io, u32 sel, u32 val, struct pending *p)
{
	if (sel == VIOAPIC_REG_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (sel < VIOAPIC_REG_REDIR || sel >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS)
		return;   /* version, arbitration: read-only; the rest: not implemented */

	unsigned pin = (sel - VIOAPIC_REG_REDIR) / 2;
	u64 old = io->redir[pin];
	u64 wr = sel & 1 ? (old & 0xffffffffull) | ((u64)val << 32) : (old & ~0xffffffffull) | val;
	u64 rte = (old & (RTE_DELIVS | RTE_REMOTE_IRR)) | (wr & RTE_WRITABLE);

	/* Remote IRR is "undefined for edge-triggered interrupts": clear it when the entry
	 * becomes edge-triggered, so that switching an entry to edge and back (what guests
	 * without an EOI register do to recover a stuck line) leaves it idle. */
	if (!rte_is_level(rte))
		rte &= ~RTE_REMOTE_IRR;
	io->redir[pin] = rte;

	const u64 watched = RTE_VECTOR_MASK | RTE_LEVEL | RTE_MASKED | (7ull << 8);
	if ((old ^ rte) & watched)
		io->gen++;
	/* A level interrupt asserted while the entry was masked is delivered once it is
	 * unmasked (the pin is still high, no Remote IRR). Edges while masked are lost. */
	if (rte_is_level(rte) && (io->pin_level & BIT(pin)))
		try_deliver(io, pin, p);
}

u32 vioapic_mmio_read(struct vioapic *io, u64 offset, unsigned size)
{
	u32 v = 0;
	u64 f = spin_lock_irqsave(&io->lock);
	if ((offset & ~3ull) == VIOAPIC_IOREGSEL)
		v = io->ioregsel;
	else if ((offset & ~3ull) == VIOAPIC_IOWIN)
		v = reg_read(io, io->ioregsel);
	spin_unlock_irqrestore(&io->lock, f);
	v >>= (offset & 3) * 8;
	return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

void vioapic_mmio_write(struct vioapic *io, u64 offset, unsigned size, u32 val)
{
	struct pending p = { .n = 0 };
	unsigned shift = (unsigned)(offset & 3) * 8;
	u32 mask = (size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1) << shift;
	u32 bytes = (val << shift) & mask;

	u64 f = spin_lock_irqsave(&io->lock);
	u32 gen = io->gen;
	if ((offset & ~3ull) == VIOAPIC_IOREGSEL) {
		/* IOREGSEL: the register address in bits 7:0; 31:8 reserved. */
		io->ioregsel = ((io->ioregsel & ~mask) | bytes) & 0xff;
	} else if ((offset & ~3ull) == VIOAPIC_IOWIN) {
		u32 cur = mask == 0xffffffffu ? 0 : reg_read(io, io->ioregsel);
		reg_write(io, io->ioregsel, (cur & ~mask) | bytes, &p);
	}
	spin_unlock_irqrestore(&io->lock, f);
	/* The set of level-triggered vectors changed: every vCPU reloads its EOI-exit
	 * bitmap before its next entry (the kick comes before any interrupt this
	 * entry may now deliver, so the vCPU exits before it can EOI one). */
	if (gen != io->gen)
		vlapic_level_vectors_changed(io->vm);
	flush(io, &p);
}

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
	struct pending p = { .n = 0 };
	if (pin >= VIOAPIC_PINS)
		return;
	u64 f = spin_lock_irqsave(&io->lock);
	bool was = io->pin_level & BIT(pin);
	if (level)
		io->pin_level |= BIT(pin);
	else
		io->pin_level &= ~BIT(pin);
	if (level && (rte_is_level(io->redir[pin]) || !was))
		try_deliver(io, pin, &p);
	spin_unlock_irqrestore(&io->lock, f);
	flush(io, &p);
}

void vioapic_eoi(struct vioapic *io, u8 vector)
{
	struct pending p = { .n = 0 };
	u64 f = spin_lock_irqsave(&io->lock);
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		u64 rte = io->redir[pin];
		if ((rte & RTE_VECTOR_MASK) != vector || !(rte & RTE_REMOTE_IRR))
			continue;
		io->redir[pin] = rte & ~RTE_REMOTE_IRR;
		if (io->pin_level & BIT(pin))
			try_deliver(io, pin, &p);   /* still asserted: another interrupt */
	}
	spin_unlock_irqrestore(&io->lock, f);
	flush(io, &p);
}

void vioapic_level_vectors(struct vioapic *io, u64 bitmap[4])
{
	bitmap[0] = bitmap[1] = bitmap[2] = bitmap[3] = 0;
	u64 f = spin_lock_irqsave(&io->lock);
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		u64 rte = io->redir[pin];
		if (!rte_is_level(rte) || ((rte & RTE_MASKED) && !(rte & RTE_REMOTE_IRR)))
			continue;
		u8 vec = (u8)(rte & RTE_VECTOR_MASK);
		bitmap[vec / 64] |= BIT64(vec % 64);
	}
	spin_unlock_irqrestore(&io->lock, f);
}
