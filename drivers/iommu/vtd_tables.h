/* SPDX-License-Identifier: MIT */
/*
 * The pure half of the VT-d driver: second-level page tables of a domain ("Second-Level
 * Translation" in "DMA Remapping"; entry formats in "Translation Structure Formats"),
 * the address width chosen from SAGAW, the capability decode for the boot log, and the
 * invalidation queue's ring arithmetic. Memory comes from callbacks, so the host unit
 * tests (tests/unit/test_vtd.c) run it unchanged.
 */
#ifndef DRIVERS_IOMMU_VTD_TABLES_H
#define DRIVERS_IOMMU_VTD_TABLES_H

#include "drivers/iommu/vtd_hw.h"
#include "hv/mm/guest_map.h"

struct vtd_alloc {
	void *(*alloc_page)(void *ctx, u64 *pa);   /* a zeroed 4 KiB page and its address */
	void *(*to_virt)(void *ctx, u64 pa);
	/* After the unit's memory changed: with ECAP.C = 0 ("Page-walk Coherency" clear)
	 * the unit does not snoop the CPU caches, so the lines must be written back
	 * (clflush); NULL when the unit is coherent. */
	void (*flush)(void *ctx, const void *p, size_t len);
	void *ctx;
};

#define VTD_PERM_R VTD_SL_R
#define VTD_PERM_W VTD_SL_W

struct vtd_domain {
	u16 did;                 /* domain-id in every context entry of the domain */
	u32 levels;              /* 3, 4 or 5 (AGAW 39, 48, 57 bits) */
	u64 *root;
	u64 root_pa;
	bool use_2m;             /* CAP.SLLPS bit 0: 2 MiB leaves where aligned */
	u64 pages;               /* 4 KiB page-table pages allocated */
	struct vtd_alloc a;
};

/* The number of levels for addresses below 2^need_bits: the smallest the unit offers
 * in SAGAW (39, 48, 57 bits), or 0 when none is wide enough. */
u32 vtd_choose_levels(u32 sagaw, u32 need_bits);

/* An empty domain (a zeroed top-level table). */
bool vtd_domain_init(struct vtd_domain *d, u16 did, u32 levels, bool use_2m, const struct vtd_alloc *a);
/* Map [iova, iova+len) to [pa, pa+len) with perm (VTD_PERM_*), all 4 KiB aligned.
 * False when the range is beyond the domain's width or memory runs out (what was
 * mapped stays). An existing mapping is replaced. */
bool vtd_domain_map(struct vtd_domain *d, u64 iova, u64 pa, u64 len, u64 perm);
/* Remove the mappings of [iova, iova+len) (4 KiB leaves; a 2 MiB leaf only whole).
 * Returns the number of 4 KiB pages that were mapped there: nonzero means the IOTLB
 * must be invalidated. */
u64 vtd_domain_unmap(struct vtd_domain *d, u64 iova, u64 len);
/* Walk the tables as the unit does: false when iova is not mapped, else its address
 * and the permissions (the AND of every level's R/W). */
bool vtd_domain_lookup(const struct vtd_domain *d, u64 iova, u64 *pa, u64 *perm);
/* A VM's domain: every RAM span of its guest map (GPA -> host RAM at ram_pa +
 * span offset), read/write; MMIO ranges stay unmapped. */
bool vtd_domain_map_guest(struct vtd_domain *d, const struct guest_map *m, u64 ram_pa);

/* An RMRR's identity map ("Reserved Memory Region Reporting Structure": the region
 * must stay mapped 1:1 for the devices it names): [base, limit] (limit inclusive, whole
 * 4 KiB pages) at IOVA = host physical address, read/write. Refused (false, *clash the
 * first IOVA mapped already) when a page of the range is mapped to anything else (the
 * VM's RAM at that IOVA); a page mapped 1:1 already (the same RMRR for a second
 * function of the domain) is fine. *clash = ~0 for a misaligned or too wide range. */
bool vtd_domain_map_identity(struct vtd_domain *d, u64 base, u64 limit, u64 *clash);

/* "SAGAW 39,48 MGAW 48 ND 2^16 CM=0 QI IR ..." for the boot log. */
void vtd_caps_text(u64 cap, u64 ecap, char *buf, size_t len);

/* The invalidation queue ring: size descriptors (a power of two), tail the next free. */
struct vtd_queue {
	struct vtd_inv_desc *ring;
	u32 size;
	u32 tail;
};
/* Put desc at the tail unless that would make the ring full (tail + 1 == head: the
 * "Invalidation Queue Tail Register" never catches up with the head). */
bool vtd_queue_push(struct vtd_queue *q, u32 head, struct vtd_inv_desc desc);
/* Free slots given the hardware's head. */
u32 vtd_queue_space(const struct vtd_queue *q, u32 head);

#endif
