/* SPDX-License-Identifier: MIT */
/*
 * badmem: touches guest-physical memory outside the VM's RAM (both addresses are
 * identity-mapped by the guest's page tables). The hypervisor has no EPT mapping
 * there and must stop the VM at the first access (status 2), with a diagnosis.
 * If the guest continues, it prints "badmem: still alive" and exits with 3 (status 7).
 *
 * Command line:
 *   addr=A     touch only guest-physical address A (below 4 GiB)
 *   write      write first instead of reading first
 */
#include "lib.h"

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)
#define PATTERN 0x5a5aa5a5u

static void touch(u64 addr, bool write_first)
{
	volatile u32 *p = (volatile u32 *)(uintptr_t)addr;
	u32 v;

	for (int step = 0; step < 2; step++) {
		if (step == (write_first ? 0 : 1)) {
			printf("badmem: writing 0x%08x to guest-physical 0x%llx\n", PATTERN,
			       (unsigned long long)addr);
			serial_flush();
			*p = PATTERN;
		} else {
			printf("badmem: reading guest-physical 0x%llx\n", (unsigned long long)addr);
			serial_flush();
			v = *p;
			printf("badmem: read 0x%08x\n", v);
		}
	}
}

int main(void)
{
	const struct multiboot_info *mb = mbi();
	bool write_first = cmdline_has("write");
	u64 ram_end, beyond;

	if (cmdline_has("addr")) {
		u64 a = cmdline_get_u64("addr", 0xC0000000ull);

		if (a > 4 * GiB - sizeof(u32)) {
			printf("badmem: addr=0x%llx is not below 4 GiB\n", (unsigned long long)a);
			return 1;
		}
		touch(a, write_first);
	} else {
		/* The first address past RAM, plus 64 MiB; mem_upper counts from 1 MiB. */
		ram_end = mb && (mb->flags & MBI_MEM) ? mb->mem_upper * 1024ull + MiB : 16 * MiB;
		beyond = ram_end + 64 * MiB;
		if (beyond >= 3 * GiB)
			beyond = 3 * GiB - 2 * MiB;
		printf("badmem: RAM ends at 0x%llx\n", (unsigned long long)ram_end);
		touch(0xC0000000ull, write_first);
		touch(beyond, write_first);
	}
	printf("badmem: still alive\n");
	return 3;
}
