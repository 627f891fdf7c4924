/* SPDX-License-Identifier: MIT */
/* Loading multiboot v1 kernels into guest RAM, as QEMU's -kernel does. */
#ifndef HV_LOADER_H
#define HV_LOADER_H

#include "hv/lib/types.h"
#include "hv/mm/guest_map.h"

#define GUEST_GDT_ADDR 0x6000
#define GUEST_STACK_TOP 0x7ff0
#define GUEST_MBI_ADDR 0x9000
#define GUEST_MBI_END 0x9f000
#define GUEST_KERNEL_MIN 0x100000   /* where modules go at the lowest (above a low kernel) */
#define GUEST_KERNEL_LOW_MIN 0x1000 /* the lowest address a kernel segment may use */
#define GUEST_BOOT_AREA_END 0x8000  /* [GUEST_GDT_ADDR, this): the GDT and the boot stack */
#define GUEST_CS 0x08
#define GUEST_DS 0x10

struct loader_module {
	const u8 *data;
	size_t len;
	const char *string;   /* the module's string handed to the guest */
};

struct loader_result {
	u32 entry;            /* EIP */
	u32 mbi;              /* EBX */
	u64 kernel_start, kernel_end, mods_end;
	u32 mbi_end;          /* the information area's end: GUEST_MBI_END, or the lowest
			       * kernel segment inside the area */
};

/* Load kernel (a multiboot v1 image: ELF32, ELF64, or with the header's address fields)
 * and modules into the VM's RAM and build the multiboot information. ram is the host
 * allocation that map places in guest-physical space (hv/mm/guest_map.h): segments go
 * to RAM entries of the map at or above GUEST_KERNEL_LOW_MIN, outside the GDT and boot
 * stack [GUEST_GDT_ADDR, GUEST_BOOT_AREA_END) and not over GUEST_MBI_ADDR (a kernel
 * that starts inside the information area ends the area there: the information must
 * fit below it), modules after the kernel below the hole,
 * and the information's memory map is guest_map_e820() (mem_lower/mem_upper: the RAM
 * below 640 KiB and from 1 MiB up to the hole). */
bool mb_load(u8 *ram, const struct guest_map *map, const u8 *kernel, size_t klen, const char *cmdline,
	     const struct loader_module *mods, u32 nr_mods, struct loader_result *out,
	     char *err, size_t errlen);

/* The guest's ACPI tables in its BIOS area (hv/vm/guest_acpi.h): nr_vcpus local APICs
 * with IDs 0..nr_vcpus-1, the vIOAPIC with ioapic_id, the PM ports hv/vio.c emulates.
 * The memory map mb_load() writes marks that area reserved. */
bool loader_build_acpi(u8 *ram, const struct guest_map *map, u32 nr_vcpus, u8 ioapic_id, char *err, size_t errlen);

#endif
