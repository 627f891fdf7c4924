/* SPDX-License-Identifier: MIT */
/*
 * Second-level tables, capability text and queue arithmetic (vtd_tables.h).
 *
 * VT-d specification, "Second-Level Translation": a 3-, 4- or 5-level walk like IA-32e
 * paging, 9 bits of the address per level above the 12-bit page offset; "the
 * second-level paging entries' Read and Write fields ... are applied cumulatively"
 * along the walk, so non-leaf entries here carry R and W and the leaf decides. A
 * leaf at level 2 (PS = 1) maps 2 MiB when CAP.SLLPS offers it. Fault reasons are the
 * "Non-Recoverable Fault Reason Encodings" appendix.
 */
#include "drivers/iommu/vtd_tables.h"
#include "hv/lib/lib.h"

const char *vtd_fault_reason_name(u8 r)
{
	switch (r) {
	case 0x01: return "root entry not present";
	case 0x02: return "context entry not present";
	case 0x03: return "invalid context entry programming";
	case 0x04: return "address beyond the address width";
	case 0x05: return "write to a page without write permission";
	case 0x06: return "read of a page without read permission";
	case 0x07: return "paging entry access error";
	case 0x08: return "root table access error";
	case 0x09: return "context table access error";
	case 0x0a: return "reserved field set in root entry";
	case 0x0b: return "reserved field set in context entry";
	case 0x0c: return "reserved field set in paging entry";
	case 0x0d: return "translation type blocked by the context entry";
	case 0x20: return "interrupt request with a reserved field set";
	case 0x21: return "interrupt index beyond the table size";
	case 0x22: return "IRTE not present";
	case 0x23: return "interrupt remapping table access error";
	case 0x24: return "reserved field set in IRTE";
	case 0x25: return "compatibility format interrupt blocked";
	case 0x26: return "interrupt source-id verification failed";
	default: return "unknown reason";
	}
}

u32 vtd_choose_levels(u32 sagaw, u32 need_bits)
{
	for (u32 levels = 3; levels <= 5; levels++)
		if ((sagaw & BIT(vtd_aw_of_levels(levels))) && vtd_width_of_levels(levels) >= need_bits)
			return levels;
	return 0;
}

static void flush(const struct vtd_domain *d, const void *p, size_t len)
{
	if (d->a.flush)
		d->a.flush(d->a.ctx, p, len);
}

bool vtd_domain_init(struct vtd_domain *d, u16 did, u32 levels, bool use_2m, const struct vtd_alloc *a)
{
	memset(d, 0, sizeof(*d));
	if (levels < 3 || levels > 5)
		return false;
	d->did = did;
	d->levels = levels;
	d->use_2m = use_2m;
	d->a = *a;
	d->root = a->alloc_page(a->ctx, &d->root_pa);
	if (!d->root)
		return false;
	d->pages = 1;
	flush(d, d->root, PAGE_SIZE);
	return true;
}

static u32 index_at(u64 iova, u32 level)
{
	return (u32)(iova >> (12 + 9 * (level - 1))) & 511;
}

/* The table at level-1 below entry *e (level >= 2), allocated when create. */
static u64 *next_table(struct vtd_domain *d, u64 *e, bool create)
{
	if (*e & (VTD_SL_R | VTD_SL_W)) {
		if (*e & VTD_SL_PS)
			return NULL;
		return d->a.to_virt(d->a.ctx, *e & VTD_ADDR_MASK);
	}
	if (!create)
		return NULL;
	u64 pa;
	u64 *t = d->a.alloc_page(d->a.ctx, &pa);
	if (!t)
		return NULL;
	d->pages++;
	flush(d, t, PAGE_SIZE);
	*e = pa | VTD_SL_R | VTD_SL_W;
	flush(d, e, sizeof(*e));
	return t;
}

bool vtd_domain_map(struct vtd_domain *d, u64 iova, u64 pa, u64 len, u64 perm)
{
	if (!IS_ALIGNED(iova | pa | len, PAGE_SIZE))
		return false;
	u32 width = vtd_width_of_levels(d->levels);
	if (width < 64 && (iova >> width || (iova + len - 1) >> width))
		return false;
	perm &= VTD_SL_R | VTD_SL_W;
	for (u64 off = 0; off < len;) {
		u64 va = iova + off, a = pa + off;
		bool big = d->use_2m && IS_ALIGNED(va | a, MiB(2)) && len - off >= MiB(2);
		u32 leaf = big ? 2 : 1;
		u64 *t = d->root;
		for (u32 l = d->levels; l > leaf; l--) {
			u64 *e = &t[index_at(va, l)];
			if ((*e & VTD_SL_PS) && l == 2) {
				/* a 2 MiB leaf where a 4 KiB one goes: not split, refused */
				return false;
			}
			t = next_table(d, e, true);
			if (!t)
				return false;
		}
		u64 *e = &t[index_at(va, leaf)];
		*e = a | perm | (big ? VTD_SL_PS : 0);
		flush(d, e, sizeof(*e));
		off += big ? MiB(2) : PAGE_SIZE;
	}
	return true;
}

u64 vtd_domain_unmap(struct vtd_domain *d, u64 iova, u64 len)
{
	u64 removed = 0;
	for (u64 off = 0; off < len;) {
		u64 va = iova + off;
		u64 *t = d->root;
		u32 l = d->levels;
		for (; l > 1 && t; l--) {
			u64 *e = &t[index_at(va, l)];
			if ((*e & VTD_SL_PS) && l == 2)
				break;
			t = next_table(d, e, false);
		}
		u64 step = PAGE_SIZE;
		if (t) {
			u64 *e = &t[index_at(va, l)];
			if (l == 2) {
				step = MiB(2);
				if (!IS_ALIGNED(va, MiB(2)) || len - off < MiB(2))
					return removed;   /* part of a 2 MiB leaf: not split */
			}
			if (*e & (VTD_SL_R | VTD_SL_W))
				removed += step / PAGE_SIZE;
			*e = 0;
			flush(d, e, sizeof(*e));
		}
		off += step;
	}
	return removed;
}

bool vtd_domain_lookup(const struct vtd_domain *d, u64 iova, u64 *pa, u64 *perm)
{
	u64 p = VTD_SL_R | VTD_SL_W;
	const u64 *t = d->root;
	u32 width = vtd_width_of_levels(d->levels);
	if (width < 64 && iova >> width)
		return false;
	for (u32 l = d->levels; l >= 1; l--) {
		u64 e = t[index_at(iova, l)];
		p &= e;
		if (!(e & (VTD_SL_R | VTD_SL_W)))
			return false;
		if (l == 1 || (e & VTD_SL_PS)) {
			u64 size = l == 1 ? PAGE_SIZE : 1ull << (12 + 9 * (l - 1));
			*pa = (e & VTD_ADDR_MASK & ~(size - 1)) | (iova & (size - 1));
			*perm = p & (VTD_SL_R | VTD_SL_W);
			return true;
		}
		t = d->a.to_virt(d->a.ctx, e & VTD_ADDR_MASK);
	}
	return false;
}

bool vtd_domain_map_guest(struct vtd_domain *d, const struct guest_map *m, u64 ram_pa)
{
	for (u32 i = 0; i < m->nr_spans; i++)
		if (!vtd_domain_map(d, m->span[i].gpa, ram_pa + m->span[i].host_off, m->span[i].size,
				    VTD_PERM_R | VTD_PERM_W))
			return false;
	return true;
}

bool vtd_domain_map_identity(struct vtd_domain *d, u64 base, u64 limit, u64 *clash)
{
	*clash = ~0ull;
	if (limit < base || !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(limit + 1, PAGE_SIZE) ||
	    (d->levels * 9 + 12 < 64 && limit >> (d->levels * 9 + 12)))
		return false;
	u64 last = limit - (PAGE_SIZE - 1);   /* the last page's address */
	for (u64 a = base;; a += PAGE_SIZE) {
		u64 pa, perm;
		if (vtd_domain_lookup(d, a, &pa, &perm) && pa != a) {
			*clash = a;
			return false;
		}
		if (a == last)
			break;
	}
	*clash = 0;
	return vtd_domain_map(d, base, base, limit + 1 - base, VTD_PERM_R | VTD_PERM_W);
}

void vtd_caps_text(u64 cap, u64 ecap, char *buf, size_t len)
{
	u32 sagaw = VTD_CAP_SAGAW(cap);
	hv_snprintf(buf, len,
		    "SAGAW%s%s%s MGAW %u ND 2^%u NFR %u FRO 0x%x IRO 0x%x SLLPS 0x%x CM=%u RWBF=%u PSI=%u C=%u QI=%u IR=%u EIM=%u PI=%u SC=%u PT=%u DT=%u",
		    sagaw & VTD_SAGAW_39 ? " 39" : "", sagaw & VTD_SAGAW_48 ? " 48" : "", sagaw & VTD_SAGAW_57 ? " 57" : "",
		    VTD_CAP_MGAW(cap), 4 + 2 * VTD_CAP_ND(cap), VTD_CAP_NFR(cap), VTD_CAP_FRO(cap) * 16,
		    VTD_ECAP_IRO(ecap) * 16, VTD_CAP_SLLPS(cap), !!(cap & VTD_CAP_CM), !!(cap & VTD_CAP_RWBF),
		    !!(cap & VTD_CAP_PSI), !!(ecap & VTD_ECAP_C), !!(ecap & VTD_ECAP_QI), !!(ecap & VTD_ECAP_IR),
		    !!(ecap & VTD_ECAP_EIM), !!(cap & VTD_CAP_PI), !!(ecap & VTD_ECAP_SC), !!(ecap & VTD_ECAP_PT),
		    !!(ecap & VTD_ECAP_DT));
}

u32 vtd_queue_space(const struct vtd_queue *q, u32 head)
{
	return (head + q->size - q->tail - 1) & (q->size - 1);
}

bool vtd_queue_push(struct vtd_queue *q, u32 head, struct vtd_inv_desc desc)
{
	if (!vtd_queue_space(q, head))
		return false;
	q->ring[q->tail] = desc;
	q->tail = (q->tail + 1) & (q->size - 1);
	return true;
}
