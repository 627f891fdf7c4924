/* SPDX-License-Identifier: MIT */
/* What the boot loader handed over, copied out of the multiboot information. */
#ifndef HV_BOOTINFO_H
#define HV_BOOTINFO_H

#include "hv/lib/types.h"
#include "hv/init/config.h"

#define MULTIBOOT1_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289u

#define BOOT_MAX_MMAP 128
#define BOOT_MAX_MODS 16
#define BOOT_CMDLINE_MAX HV_CMDLINE_MAX
#define BOOT_MODSTR_MAX 256

#define MMAP_AVAILABLE 1
#define MMAP_ACPI_RECLAIM 3

struct mem_range {
	u64 base, len;
	u32 type;     /* multiboot/E820 type: 1 available, 3 ACPI, 4 NVS, 5 bad */
};

struct boot_module {
	u64 start, end;                 /* physical [start, end) */
	char string[BOOT_MODSTR_MAX];   /* as given by the loader */
	char name[64];                  /* basename of its first word */
};

struct boot_info {
	int loader;                     /* 1 = multiboot v1, 2 = multiboot2 */
	char cmdline[BOOT_CMDLINE_MAX];
	char loader_name[64];
	struct mem_range mmap[BOOT_MAX_MMAP];
	u32 nr_mmap;
	struct boot_module mods[BOOT_MAX_MODS];
	u32 nr_mods;
	u8 rsdp[36];                    /* copy of the RSDP from a multiboot2 ACPI tag */
	bool has_rsdp;
	u64 mem_lower_kb, mem_upper_kb; /* basic memory info, when no map */
};

/* Parse the information at physical address info; false (with a message) when the
 * magic is unknown or the structure is malformed. Uses phys_to_virt(). */
bool bootinfo_parse(u32 magic, u64 info, struct boot_info *bi, char *err, size_t errlen);

/* The module whose name is name, or NULL. */
const struct boot_module *bootinfo_module(const struct boot_info *bi, const char *name);

#endif
