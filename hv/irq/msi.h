/* SPDX-License-Identifier: MIT */
/*
 * The one entry point for message-signalled interrupts: a device model (PCI MSI,
 * MSI-X, virtio, a remapping unit) that has an address/data pair calls msi_deliver()
 * and nothing else. The decode follows Intel SDM Vol. 3A, "Message Signalled
 * Interrupts": "Message Address Register Format" and "Message Data Register Format".
 *
 *   address 31:20  0xFEE (anything else is not an interrupt message)
 *           19:12  Destination ID (8 bits, the xAPIC ID or logical destination)
 *            3     RH, redirection hint: 1 = deliver to the lowest-priority processor
 *                  of the destination set
 *            2     DM, destination mode: 0 physical, 1 logical
 *   data     7:0   vector
 *           10:8   delivery mode: 000 fixed, 001 lowest priority, 010 SMI, 100 NMI,
 *                  101 INIT, 111 ExtINT; 011 and 110 reserved
 *           14     level: 1 assert, 0 deassert (used with level trigger only)
 *           15     trigger mode: 0 edge, 1 level
 *
 * Messages that cannot be delivered are dropped and counted (per VM), never fatal:
 * an address outside 0xFEExxxxx, a reserved delivery mode, SMI (no SMM), ExtINT (the
 * virtual 8259s never supply a vector), a fixed/lowest vector below 16 (the SDM calls
 * vectors 0-15 illegal for these modes), and a level-triggered deassert message (a
 * local APIC ignores it).
 */
#ifndef HV_IRQ_MSI_H
#define HV_IRQ_MSI_H

#include "hv/lib/types.h"

struct vm;
struct vcpu;

/* Address fields ("Message Address Register Format"). */
#define MSI_ADDR_BASE_MASK 0xfff00000u   /* bits 31:20 */
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_DEST_SHIFT 12           /* Destination ID, bits 19:12 */
#define MSI_ADDR_RH BIT(3)               /* Redirection Hint */
#define MSI_ADDR_DM_LOGICAL BIT(2)       /* Destination Mode */
/* Data fields ("Message Data Register Format"). */
#define MSI_DATA_VECTOR(d) ((d) & 0xff)
#define MSI_DATA_DM(d) (((d) >> 8) & 7)  /* Delivery Mode */
#define MSI_DATA_LEVEL_ASSERT BIT(14)    /* Level */
#define MSI_DATA_TRIGGER_LEVEL BIT(15)   /* Trigger Mode */

/* Why a message was dropped. */
enum msi_drop {
	MSI_OK,
	MSI_DROP_ADDRESS,      /* bits 31:20 not 0xFEE, or bits 63:32 set */
	MSI_DROP_DELIVERY,     /* reserved, SMI or ExtINT delivery mode */
	MSI_DROP_VECTOR,       /* fixed or lowest priority with a vector below 16 */
	MSI_DROP_DEASSERT,     /* level trigger with the level bit clear */
	NR_MSI_DROP,
};

/* A decoded message, as vlapic_deliver() takes it. */
struct msi_msg {
	u32 dest;
	bool logical;
	bool rh;
	u8 dm;       /* DM_FIXED, DM_LOWEST (also when RH is set), DM_NMI, DM_INIT */
	u8 vector;
	bool level;  /* trigger mode */
};

/* Per-VM counters (in struct vm; updated with atomic adds, any CPU). */
struct msi_stats {
	u64 delivered;
	u64 dropped[NR_MSI_DROP];   /* index MSI_OK unused */
	u64 routed;                 /* sent through a cached route (msi_route_deliver) */
	u64 deferred;               /* handed to a work item on the target's CPU (MSI_DELIVERY_DEFERRED) */
	u64 target_lookups;         /* a route's target vCPU resolved (first use, or its generation was stale) */
};

/* How a device's message reaches vlapic_deliver() (msi_delivery=, docs/INTERFACES.md). */
enum msi_delivery {
	MSI_DELIVERY_DIRECT,     /* from the signalling context, through the cached route */
	MSI_DELIVERY_DEFERRED,   /* a work item on the target vCPU's CPU, which decodes and posts */
};

/*
 * A route cached per message source (an MSI-X table entry): the decode of its
 * address/data pair, redone only when the guest rewrites the pair (msi_route_set), so
 * that a device's completion path sends without decoding (seed 002: the routing entry
 * is looked up once, not at every interrupt).
 *
 * For a fixed message in physical destination mode (not a broadcast) the route also
 * caches the vCPU whose APIC ID equals the destination (or that none does). That
 * depends on the pair (msi_route_set forgets the target) and on every vCPU's APIC ID
 * and APIC mode (xAPIC/x2APIC, enabled), which the vLAPIC may change: each such change
 * bumps the VM's APIC generation (struct vm apic_gen, msi_apic_changed()), and a
 * send whose cached generation differs resolves the target again. The generation is
 * read before the lookup, so a change during the lookup leaves the route stale, never
 * wrong for longer than the one message in flight. Lowest priority, logical
 * destinations and broadcasts are still resolved per message (vlapic_deliver()).
 * Callers serialise sends of one route (the MSI-X lock, hv/pci/msix.c).
 */
struct msi_route {
	u64 addr;
	u32 data;
	enum msi_drop status;       /* MSI_OK, or why a message with this pair is dropped */
	struct msi_msg msg;         /* valid with MSI_OK */
	u32 refreshes;              /* times the pair was (re)decoded */
	bool cacheable;             /* fixed, physical, not a broadcast: the target is cached */
	bool target_valid;          /* target and gen hold a lookup */
	u32 gen;                    /* the VM's apic_gen when target was looked up */
	struct vcpu *target;        /* the vCPU with that APIC ID, NULL: none */
	u32 lookups;                /* times the target was looked up */
};

/* Pure decode: MSI_OK and *m, or the reason the message is dropped. */
enum msi_drop msi_decode(u64 addr, u32 data, struct msi_msg *m);
/* Decode and deliver through vlapic_deliver() (hence vcpu_post_irq()); a dropped
 * message is counted in vm's msi_stats. Returns the decode result. Any CPU, any
 * context that may call vlapic_deliver(). */
enum msi_drop msi_deliver(struct vm *vm, u64 addr, u32 data);
/* Pure: decode (addr, data) into r (also a pair that would be dropped: r->status). */
void msi_route_set(struct msi_route *r, u64 addr, u32 data);
/* Send a cached route: with MSI_DELIVERY_DIRECT vlapic_deliver() from this context
 * without a decode; with MSI_DELIVERY_DEFERRED a work item on the CPU of the vCPU the
 * destination names (vCPU 0 for a logical or broadcast destination), which then runs
 * msi_deliver(). A dropped route is counted. Returns r->status. */
enum msi_drop msi_route_deliver(struct vm *vm, struct msi_route *r);
/* An APIC ID, LDR, DFR or IA32_APIC_BASE (mode, enable) of a vCPU of vm changed (the
 * vLAPIC calls this after the change): bump vm->apic_gen, which invalidates the targets
 * cached in routes. */
void msi_apic_changed(struct vm *vm);
/* The counters of vm (a pointer into struct vm; read with relaxed loads). */
struct msi_stats *msi_stats_of(struct vm *vm);

#endif
