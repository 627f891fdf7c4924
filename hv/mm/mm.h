/* SPDX-License-Identifier: MIT */
/* Physical memory: the identity map and the frame allocator. */
#ifndef HV_MM_H
#define HV_MM_H

#include "hv/lib/types.h"

/* The hypervisor maps all RAM 1:1. The host unit tests provide their own version. */
void *phys_to_virt(u64 pa);
u64 virt_to_phys(const void *va);

#define FRAME_MAX_RANGES 128

struct frame_pool {
	struct { u64 base, end; } free[FRAME_MAX_RANGES];   /* sorted, disjoint, page aligned */
	u32 n;
	u64 total;      /* bytes ever added */
};

void frame_pool_init(struct frame_pool *p);
/* Add [base, base+len) as free RAM (shrunk inward to whole pages). */
void frame_pool_add(struct frame_pool *p, u64 base, u64 len);
/* Remove [base, base+len) from the free ranges (grown outward to whole pages). */
void frame_pool_reserve(struct frame_pool *p, u64 base, u64 len);
/* Contiguous pages aligned to align bytes (a power of two >= 4 KiB); 0 when none. */
u64 frame_pool_alloc(struct frame_pool *p, u64 bytes, u64 align);
void frame_pool_free(struct frame_pool *p, u64 pa, u64 bytes);
u64 frame_pool_free_bytes(const struct frame_pool *p);

/* The hypervisor's pool; allocations are zeroed. */
extern struct frame_pool frames;
void *alloc_pages_zeroed(u64 bytes, u64 align);
static inline void *alloc_page(void) { return alloc_pages_zeroed(4096, 4096); }

#endif
