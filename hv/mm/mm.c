/* SPDX-License-Identifier: MIT */
/* The identity map and the hypervisor's frame pool. */
#include "hv/mm/mm.h"
#include "hv/lib/lib.h"
#include "hv/init/bootinfo.h"
#include "hv/lib/console.h"
#include "boot/boot.h"
#include "arch/x86/x86.h"

struct frame_pool frames;
extern u64 boot_pdpt[512];

void *phys_to_virt(u64 pa)
{
	return (void *)(uintptr_t)pa;
}

u64 virt_to_phys(const void *va)
{
	return (u64)(uintptr_t)va;
}

void *alloc_pages_zeroed(u64 bytes, u64 align)
{
	u64 pa = frame_pool_alloc(&frames, bytes, align);
	if (!pa)
		return NULL;
	void *p = phys_to_virt(pa);
	memset(p, 0, ALIGN_UP(bytes, PAGE_SIZE));
	return p;
}

/* Extend the boot identity map (0-4 GiB) over RAM above 4 GiB, up to 512 GiB. */
static void map_high_ram(u64 top)
{
	u32 a, b, c, d;
	cpuid_count(0x80000001, 0, &a, &b, &c, &d);
	bool gb_pages = d & BIT(26);
	top = MIN(top, GiB(512));
	for (u64 gb = 4; gb < (top + GiB(1) - 1) >> 30; gb++) {
		if (gb_pages) {
			boot_pdpt[gb] = (gb << 30) | 0x83;
			continue;
		}
		u64 pa = frame_pool_alloc(&frames, PAGE_SIZE, PAGE_SIZE);
		if (!pa)
			break;
		u64 *pd = phys_to_virt(pa);
		for (u64 i = 0; i < 512; i++)
			pd[i] = ((gb << 30) + (i << 21)) | 0x83;
		boot_pdpt[gb] = pa | 3;
	}
	write_cr3(read_cr3());
}

void mm_init(const struct boot_info *bi);
void mm_init(const struct boot_info *bi)
{
	u64 top = 0;
	frame_pool_init(&frames);
	for (u32 i = 0; i < bi->nr_mmap; i++) {
		const struct mem_range *r = &bi->mmap[i];
		if (r->type != MMAP_AVAILABLE)
			continue;
		u64 end = MIN(r->base + r->len, GiB(512));
		if (end <= r->base)
			continue;
		frame_pool_add(&frames, r->base, end - r->base);
		top = MAX(top, end);
	}
	/* Low memory (real-mode data, the AP trampoline), the image, the modules. */
	frame_pool_reserve(&frames, 0, MiB(1));
	frame_pool_reserve(&frames, (u64)(uintptr_t)_image_start, (u64)(_end - _image_start));
	for (u32 i = 0; i < bi->nr_mods; i++)
		frame_pool_reserve(&frames, bi->mods[i].start, bi->mods[i].end - bi->mods[i].start);
	if (top > GiB(4))
		map_high_ram(top);
	printk("mm: %llu MiB RAM, %llu MiB free for VMs and tables\n",
	       (unsigned long long)(frames.total >> 20),
	       (unsigned long long)(frame_pool_free_bytes(&frames) >> 20));
}
