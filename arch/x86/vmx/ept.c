/* SPDX-License-Identifier: MIT */
/*
 * EPT construction. 4-level tables; a range is mapped with 1 GiB pages where both
 * addresses and the remaining size allow it and the CPU supports them
 * (IA32_VMX_EPT_VPID_CAP bit 17), else 2 MiB (bit 16), else 4 KiB. Mapping or
 * unmapping part of an existing large page splits it into the next smaller pages with
 * the same translation and attributes first; a mapping never overwrites a table with
 * a leaf (it goes into the table). Entries are written whole, present last, so a
 * walker never sees a half-built entry. Tables emptied by ept_unmap stay allocated.
 * Pure: host-tested.
 */
#include "arch/x86/vmx/ept.h"
#include "hv/lib/lib.h"

#define LEVEL_SHIFT(l) (12 + 9 * (l))   /* level 0 = PT ... 3 = PML4 */
#define INDEX(a, l) (((a) >> LEVEL_SHIFT(l)) & 511)

bool ept_init(struct ept *e, const struct ept_alloc *a, bool use_2m, bool use_1g)
{
	memset(e, 0, sizeof(*e));
	e->a = *a;
	e->use_2m = use_2m;
	e->use_1g = use_1g;
	e->root = a->alloc_page(a->ctx, &e->root_pa);
	return e->root != NULL;
}

static bool is_present(u64 ent) { return (ent & EPT_RWX) != 0; }
static bool is_leaf(u64 ent, int level) { return level == 0 || (ent & EPT_LARGE); }

/* Replace the large leaf *entry (level 1 or 2) by a table of 512 leaves one level down
 * that translate exactly as it did: the same host frames, and every other bit of the
 * leaf (permissions, memory type, ignore-PAT) kept ("Format of EPT Paging-Structure
 * Entries": bit 7 of a PDPTE/PDE says whether it maps a page; in a PTE it is ignored).
 * The table is filled before it is published, so a walker sees the old leaf or the
 * whole new table. Returns the new table, or NULL when allocation fails (the leaf is
 * then untouched). */
static u64 *split_leaf(struct ept *e, u64 *entry, int level)
{
	u64 leaf = *entry;
	u64 pa;
	u64 *t = e->a.alloc_page(e->a.ctx, &pa);
	if (!t)
		return NULL;
	u64 child = 1ull << LEVEL_SHIFT(level - 1);
	u64 base = leaf & EPT_ADDR_MASK & ~((1ull << LEVEL_SHIFT(level)) - 1);
	u64 attrs = leaf & ~(EPT_ADDR_MASK | EPT_LARGE);
	for (u64 i = 0; i < 512; i++)
		t[i] = (base + i * child) | attrs | (level - 1 > 0 ? EPT_LARGE : 0);
	__atomic_store_n(entry, pa | EPT_RWX, __ATOMIC_RELEASE);
	e->flush_needed = true;   /* "Guidelines for Use of the INVEPT Instruction" (ept.h) */
	e->splits++;
	return t;
}

/* The next-level table under *entry at level (1..3), created when absent and split off
 * a large leaf when there is one. NULL when allocation fails. */
static u64 *next_table(struct ept *e, u64 *entry, int level)
{
	if (is_present(*entry)) {
		if (is_leaf(*entry, level))
			return split_leaf(e, entry, level);
		return e->a.to_virt(e->a.ctx, *entry & EPT_ADDR_MASK);
	}
	u64 pa;
	u64 *t = e->a.alloc_page(e->a.ctx, &pa);
	if (!t)
		return NULL;
	/* non-leaf: all permissions, so the leaf alone decides */
	__atomic_store_n(entry, pa | EPT_RWX, __ATOMIC_RELEASE);
	return t;
}

bool ept_map(struct ept *e, u64 gpa, u64 hpa, u64 size, u64 perm, u64 mt)
{
	if (!IS_ALIGNED(gpa | hpa | size, PAGE_SIZE) || !(perm & EPT_RWX))
		return false;
	while (size) {
		int level;
		if (e->use_1g && IS_ALIGNED(gpa | hpa, GiB(1)) && size >= GiB(1))
			level = 2;
		else if (e->use_2m && IS_ALIGNED(gpa | hpa, MiB(2)) && size >= MiB(2))
			level = 1;
		else
			level = 0;
		/* Walk down to the leaf's level. A table found where a large leaf would go
		 * (an earlier, smaller mapping) is kept: the leaf goes one level down, in it. */
		u64 *table = e->root;
		int l = 3;
		for (;;) {
			u64 *ent = &table[INDEX(gpa, l)];
			if (l == level) {
				if (l == 0 || !is_present(*ent) || is_leaf(*ent, l))
					break;
				level--;
			}
			table = next_table(e, ent, l);
			if (!table)
				return false;
			l--;
		}
		u64 *ent = &table[INDEX(gpa, level)];
		u64 leaf = (hpa & EPT_ADDR_MASK) | (perm & EPT_RWX) | (mt << EPT_MT_SHIFT);
		if (level > 0)
			leaf |= EPT_LARGE;
		if (is_present(*ent) && *ent != leaf)
			e->flush_needed = true;   /* a live translation changes */
		__atomic_store_n(ent, leaf, __ATOMIC_RELEASE);
		u64 step = 1ull << LEVEL_SHIFT(level);
		gpa += step;
		hpa += step;
		size -= step;
	}
	return true;
}

bool ept_unmap(struct ept *e, u64 gpa, u64 size)
{
	if (!IS_ALIGNED(gpa | size, PAGE_SIZE) || gpa + size < gpa)
		return false;
	while (size) {
		u64 *table = e->root;
		u64 step = 0;
		for (int l = 3; l >= 0; l--) {
			u64 *ent = &table[INDEX(gpa, l)];
			u64 span = 1ull << LEVEL_SHIFT(l);
			u64 left = span - (gpa & (span - 1));   /* to the end of this entry's range */
			if (!is_present(*ent)) {
				step = MIN(left, size);
				break;
			}
			if (is_leaf(*ent, l) && left == span && size >= span) {
				/* the whole entry goes: a leaf of any size */
				__atomic_store_n(ent, 0, __ATOMIC_RELEASE);
				e->flush_needed = true;
				step = span;
				break;
			}
			/* a table, or a large leaf only partly unmapped: split it, descend */
			table = next_table(e, ent, l);
			if (!table)
				return false;
		}
		gpa += step;
		size -= step;
	}
	return true;
}
bool ept_translate(const struct ept *e, u64 gpa, u64 *hpa, u64 *entry, u64 *leaf_size)
{
	const u64 *table = e->root;
	for (int l = 3; l >= 0; l--) {
		u64 ent = table[INDEX(gpa, l)];
		if (!(ent & EPT_RWX))
			return false;
		if (l == 0 || (ent & EPT_LARGE)) {
			u64 sz = 1ull << LEVEL_SHIFT(l);
			if (hpa)
				*hpa = (ent & EPT_ADDR_MASK & ~(sz - 1)) | (gpa & (sz - 1));
			if (entry)
				*entry = ent;
			if (leaf_size)
				*leaf_size = sz;
			return true;
		}
		table = e->a.to_virt(e->a.ctx, ent & EPT_ADDR_MASK);
	}
	return false;
}
