/* SPDX-License-Identifier: MIT */
/*
 * VT-d remapping units: the hypervisor's interface (drivers/iommu/). The boot sequence
 * calls iommu_init once the ACPI tables and the host PCI scan are there; it parses the
 * DMAR, reads every unit's capabilities and logs them with the unit that covers each
 * host PCI function. Nothing is enabled until a user asks: the self-test (iommu_selftest,
 * boot option iommu_selftest) or device assignment (hv/pci/passthru.c, docs/VTD.md).
 *
 * A unit is brought up as the specification orders it (vtd_unit_enable): root table
 * pointer, queued invalidation, the fault event interrupt on a vector from the host
 * vector registry, the interrupt remapping table (SIRTP, interrupt entry cache
 * invalidation, then IRE; compatibility-format interrupts stay blocked), then
 * translation (TE). Faults are read from the fault recording registers in the fault
 * event handler and logged with source-id, address and reason.
 */
#ifndef DRIVERS_IOMMU_IOMMU_H
#define DRIVERS_IOMMU_IOMMU_H

#include "drivers/iommu/dmar.h"
#include "drivers/iommu/vtd_tables.h"

struct acpi_info;

#define VTD_IRT_ORDER 7                  /* IRTA.S: 2^(7+1) = 256 entries, one page */
#define VTD_IRT_ENTRIES (2u << VTD_IRT_ORDER)
#define VTD_QUEUE_ENTRIES 256            /* one page of 128-bit descriptors (IQA.QS = 0) */
#define VTD_FAULT_LOG 16

struct vtd_fault {
	u16 sid;
	u8 reason;
	bool read;              /* T1: 1 read, 0 write (DMA faults) */
	u64 addr;               /* FI: the faulting page (DMA) or the interrupt index (IR) */
};

struct vtd_unit {
	u32 index;              /* DRHD number in the DMAR */
	u64 base;
	volatile u8 *regs;
	u16 segment;
	u32 ver;
	u64 cap, ecap;
	u32 fro, nfr, iro;      /* fault recording registers (byte offset, count), IOTLB registers */
	u32 levels;             /* second-level walk chosen from SAGAW */
	bool enabled;           /* vtd_unit_enable succeeded */
	bool qi, ir, eime;      /* queued invalidation, interrupt remapping, x2APIC IRTEs: on */
	/* root table and one context table per bus */
	struct vtd_root_entry *root;
	u64 root_pa;
	struct vtd_context_entry *ctx[256];
	/* invalidation queue and the dword its wait descriptors write */
	struct vtd_queue q;
	u64 q_pa;
	volatile u32 *wait_status;
	u64 wait_pa;
	u32 wait_seq;
	/* interrupt remapping table */
	struct vtd_irte *irt;
	u64 irt_pa;
	u32 irt_used;           /* entries handed out (vtd_irte_alloc) */
	/* faults */
	int fault_vector;
	u32 nr_faults;          /* recorded (all time) */
	struct vtd_fault faults[VTD_FAULT_LOG];   /* the last ones, ring */
	u32 fault_overflows;    /* FSTS.PFO seen */
	struct vtd_alloc alloc;
};

extern struct dmar_info iommu_dmar;
extern bool iommu_have_dmar;
extern struct vtd_unit iommu_units[DMAR_MAX_UNITS];
extern u32 iommu_nr_units;

/* Parse the DMAR (if any), probe each unit's registers, log capabilities and the unit of
 * every host PCI function. A malformed DMAR is reported and ignored (no unit used). */
void iommu_init(const struct acpi_info *ai);
/* The unit covering host PCI function seg:bdf, or NULL. */
struct vtd_unit *iommu_unit_for(u16 seg, u16 bdf);

/* The RMRRs whose scope names host function seg:bdf: *it starts at -1; NULL after the
 * last (or without a usable DMAR). */
const struct dmar_rmrr *iommu_rmrr_next(u16 seg, u16 bdf, int *it);

/* Bring a unit up (see above). False with a message naming the step that failed. */
bool vtd_unit_enable(struct vtd_unit *u, char *err, size_t errlen);
/* An empty domain with the unit's address width. */
bool vtd_domain_create(struct vtd_unit *u, struct vtd_domain *d, u16 did);
/* Point function bdf's context entry at domain d, then invalidate. */
bool vtd_attach(struct vtd_unit *u, const struct vtd_domain *d, u16 bdf);
/* Invalidations (queued when QI is on, else through the registers, waited for). */
bool vtd_flush_context_all(struct vtd_unit *u);
bool vtd_flush_iotlb_domain(struct vtd_unit *u, u16 did);
bool vtd_flush_iotlb_page(struct vtd_unit *u, u16 did, u64 iova);
bool vtd_flush_iec(struct vtd_unit *u, int index);   /* -1: all */
/* Interrupt remapping table entries. */
int vtd_irte_alloc(struct vtd_unit *u);
bool vtd_irte_set(struct vtd_unit *u, u32 index, struct vtd_irte e);
/* Called for every fault recorded (interrupt context, after it was logged): device
 * assignment names the VM that owns the source. NULL: none. */
extern void (*iommu_fault_hook)(struct vtd_unit *u, const struct vtd_fault *f);
/* An IRTE for interrupts of the I/O APIC with this ID, when the unit whose scope lists
 * it has interrupt remapping on: remapped to vector on apic_id (level: TM set), source-id
 * verified against the I/O APIC's; returns the index (-1: no such unit enabled, or no
 * free entry). Boot CPU, before any VM runs (the queue has one producer). */
int iommu_ioapic_irte(u8 ioapic_id, u8 vector, u32 apic_id, bool level);
/* Read and log the recorded faults now (the fault event handler does the same). */
void vtd_fault_drain(struct vtd_unit *u);

/* The boot option iommu_selftest: with QEMU's edu device behind a unit, DMA through a
 * mapped page, DMA into an unmapped page (a fault), and MSIs through remapped IRTEs.
 * Prints PASS/FAIL lines; true when every check passed. */
bool iommu_selftest(void);

#endif
