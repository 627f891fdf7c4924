/* SPDX-License-Identifier: MIT */
/*
 * EPT construction. 4-level tables; a range is mapped with 1 GiB pages where both
 * addresses and the remaining size allow it and the CPU supports them
 * (IA32_VMX_EPT_VPID_CAP bit 17), else 2 MiB (bit 16), else 4 KiB. Entries are written
 * whole, present last, so a walker never sees a half-built entry. Pure: host-tested.
 */
#include "arch/x86/vmx/ept.h"
#include "hv/lib.h"

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

/* The next-level table of *entry, creating it when absent. NULL when the entry is a
 * large page (a mapping conflict) or allocation fails. */
static u64 *next_table(struct ept *e, u64 *entry)
{
	if (*entry & EPT_RWX) {
		if (*entry & EPT_LARGE)
			return NULL;
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
		u64 *table = e->root;
		for (int l = 3; l > level; l--) {
			table = next_table(e, &table[INDEX(gpa, l)]);
			if (!table)
				return false;
		}
		u64 leaf = (hpa & EPT_ADDR_MASK) | (perm & EPT_RWX) | (mt << EPT_MT_SHIFT);
		if (level > 0)
			leaf |= EPT_LARGE;
		__atomic_store_n(&table[INDEX(gpa, level)], leaf, __ATOMIC_RELEASE);
		u64 step = 1ull << LEVEL_SHIFT(level);
		gpa += step;
		hpa += step;
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
