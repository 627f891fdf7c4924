/* SPDX-License-Identifier: MIT */
/*
 * Extended page tables (Intel SDM Vol. 3C, "EPT Translation Mechanism"; "Format of
 * EPT Paging-Structure Entries"; "EPT and Memory Typing").
 */
#ifndef ARCH_X86_VMX_EPT_H
#define ARCH_X86_VMX_EPT_H

#include "hv/lib/types.h"

#define EPT_READ BIT64(0)
#define EPT_WRITE BIT64(1)
#define EPT_EXEC BIT64(2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MT_SHIFT 3            /* bits 5:3 of a leaf: memory type */
#define EPT_IGNORE_PAT BIT64(6)
#define EPT_LARGE BIT64(7)        /* bit 7 of a PDPTE/PDE: maps a 1 GiB / 2 MiB page */
#define EPT_ADDR_MASK 0x000ffffffffff000ull

#define EPT_MT_UC 0ull
#define EPT_MT_WC 1ull
#define EPT_MT_WT 4ull
#define EPT_MT_WP 5ull
#define EPT_MT_WB 6ull

/* EPTP (24.6.11 "Extended-Page-Table Pointer (EPTP)"): memory type WB, walk length 4. */
#define EPTP_MT_WB 6ull
#define EPTP_WALK_4 (3ull << 3)

/* Page-table pages come from a caller-provided allocator (frames, or a test's). */
struct ept_alloc {
	void *(*alloc_page)(void *ctx, u64 *pa);   /* a zeroed 4 KiB page, its address */
	void *(*to_virt)(void *ctx, u64 pa);
	void *ctx;
};

/*
 * Changing live tables: a logical processor may cache EPT translations (guest-physical
 * and combined mappings, tagged by the EPTP) while and after it runs with them, so a
 * change that removes or alters a translation takes effect only after INVEPT ("Guidelines
 * for Use of the INVEPT Instruction": after reducing permissions, changing the physical
 * address or memory type, or making an entry not present, use single-context INVEPT
 * with an EPTP that references the changed structure, on every logical processor that
 * may have cached it). Splitting a large page keeps every translation but changes the
 * paging-structure entry, so it counts as such a change too. Adding a translation
 * where there was none needs no INVEPT: the EPT violation the stale "not present"
 * would cause invalidates it. ept_map/ept_unmap set flush_needed for changes that need
 * INVEPT; whoever changes the tables of a VM that has run calls vmx_ept_flush()
 * (arch/x86/vmx/vmx.h), which does it and clears the flag. Tables built before the
 * VM's first entry need nothing.
 */
struct ept {
	u64 *root;       /* PML4 */
	u64 root_pa;
	bool use_2m, use_1g;
	bool flush_needed;   /* a present entry was changed or removed since the last INVEPT */
	u32 splits;          /* large pages split (statistics, tests) */
	struct ept_alloc a;
};

bool ept_init(struct ept *e, const struct ept_alloc *a, bool use_2m, bool use_1g);
/* Map [gpa, gpa+size) to [hpa, ...) with permissions perm and memory type mt, using
 * the largest pages that alignment allows. All three must be 4 KiB aligned. A large
 * page that the range covers only in part is split first; what was mapped replaces
 * the old translation. false when allocation fails (what was mapped so far stays). */
bool ept_map(struct ept *e, u64 gpa, u64 hpa, u64 size, u64 perm, u64 mt);
/* Remove the translations of [gpa, gpa+size) (4 KiB aligned); unmapped parts are
 * skipped, large pages partly inside are split first. false when a split cannot
 * allocate its table or the range is misaligned (the part before stays unmapped). */
bool ept_unmap(struct ept *e, u64 gpa, u64 size);
/* Translate gpa; returns false when not mapped. *leaf_size gets the page size. */
bool ept_translate(const struct ept *e, u64 gpa, u64 *hpa, u64 *entry, u64 *leaf_size);
static inline u64 ept_pointer(const struct ept *e) { return e->root_pa | EPTP_MT_WB | EPTP_WALK_4; }

#endif
