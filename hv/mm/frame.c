/* SPDX-License-Identifier: MIT */
/*
 * Physical frame allocator: a sorted list of free ranges built from the boot memory map
 * with the hypervisor image, the modules and low memory taken out. First fit with
 * alignment; freeing merges neighbours. Pure: unit-tested on the host.
 */
#include "hv/mm/mm.h"
#include "hv/lib/lib.h"

void frame_pool_init(struct frame_pool *p)
{
	memset(p, 0, sizeof(*p));
}

static void remove_at(struct frame_pool *p, u32 i)
{
	memmove(&p->free[i], &p->free[i + 1], (p->n - i - 1) * sizeof(p->free[0]));
	p->n--;
}

static bool insert_at(struct frame_pool *p, u32 i, u64 base, u64 end)
{
	if (p->n >= FRAME_MAX_RANGES)
		return false;
	memmove(&p->free[i + 1], &p->free[i], (p->n - i) * sizeof(p->free[0]));
	p->free[i].base = base;
	p->free[i].end = end;
	p->n++;
	return true;
}

/* Insert a free range, merging with overlapping or touching neighbours. */
static void add_range(struct frame_pool *p, u64 base, u64 end)
{
	u32 i = 0;
	while (i < p->n && p->free[i].end < base)
		i++;
	/* merge everything that overlaps or touches [base, end) */
	while (i < p->n && p->free[i].base <= end) {
		base = MIN(base, p->free[i].base);
		end = MAX(end, p->free[i].end);
		remove_at(p, i);
	}
	insert_at(p, i, base, end);
}

void frame_pool_add(struct frame_pool *p, u64 base, u64 len)
{
	u64 end = base + len;
	if (end < base)
		end = UINT64_MAX;
	base = ALIGN_UP(base, PAGE_SIZE);
	end = ALIGN_DOWN(end, PAGE_SIZE);
	if (end <= base)
		return;
	p->total += end - base;
	add_range(p, base, end);
}

void frame_pool_reserve(struct frame_pool *p, u64 base, u64 len)
{
	if (!len)
		return;
	u64 end = base + len;
	if (end < base)
		end = UINT64_MAX;
	base = ALIGN_DOWN(base, PAGE_SIZE);
	end = end > ALIGN_DOWN(UINT64_MAX, PAGE_SIZE) ? UINT64_MAX : ALIGN_UP(end, PAGE_SIZE);
	for (u32 i = 0; i < p->n;) {
		u64 fb = p->free[i].base, fe = p->free[i].end;
		if (fe <= base || fb >= end) {
			i++;
			continue;
		}
		remove_at(p, i);
		if (fb < base)
			insert_at(p, i++, fb, base);
		if (fe > end)
			insert_at(p, i++, end, fe);
	}
}

u64 frame_pool_alloc(struct frame_pool *p, u64 bytes, u64 align)
{
	if (!bytes || bytes > ALIGN_DOWN(UINT64_MAX, PAGE_SIZE) || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	for (u32 i = 0; i < p->n; i++) {
		u64 start = ALIGN_UP(p->free[i].base, align);
		if (start < p->free[i].base || start >= p->free[i].end)
			continue;
		if (p->free[i].end - start < bytes)
			continue;
		frame_pool_reserve(p, start, bytes);
		return start;
	}
	return 0;
}

void frame_pool_free(struct frame_pool *p, u64 pa, u64 bytes)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	if (bytes)
		add_range(p, pa, pa + bytes);
}

u64 frame_pool_free_bytes(const struct frame_pool *p)
{
	u64 sum = 0;
	for (u32 i = 0; i < p->n; i++)
		sum += p->free[i].end - p->free[i].base;
	return sum;
}
