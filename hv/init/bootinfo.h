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
#define MMAP_RESERVED 2
#define MMAP_ACPI_RECLAIM 3
#define MMAP_ACPI_NVS 4
#define MMAP_BAD 5

/* Where struct boot_info's memory map came from (boot_info.mmap_source). */
enum boot_mmap_source {
	BOOT_MMAP_NONE,      /* no map, no basic memory information */
	BOOT_MMAP_MB1,       /* the multiboot v1 mmap_* fields */
	BOOT_MMAP_MB2,       /* the multiboot2 memory map tag (type 6) */
	BOOT_MMAP_EFI,       /* the multiboot2 EFI memory map tag (type 17), converted */
	BOOT_MMAP_MEMINFO,   /* mem_lower/mem_upper only */
};

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
	u8 mmap_source;                 /* enum boot_mmap_source */
	u32 nr_mmap_dropped;            /* map entries beyond BOOT_MAX_MMAP (not in mmap[]) */
	bool efi;                       /* UEFI firmware: a multiboot2 EFI system table or EFI
					 * memory map tag (no BIOS data areas to scan) */
	bool efi_bs_active;             /* the loader left EFI boot services running (tag 18) */
};

/* Parse the information at physical address info; false (with a message) when the
 * magic is unknown or the structure is malformed. Uses phys_to_virt(). */
bool bootinfo_parse(u32 magic, u64 info, struct boot_info *bi, char *err, size_t errlen);

/* The multiboot/E820 type (MMAP_*) of a UEFI memory type, per the UEFI Specification's
 * "Memory Type Usage after ExitBootServices()" table; boot-services memory counts as
 * available only once boot services have been exited. */
u32 bootinfo_efi_mem_type(u32 efi_type, bool boot_services_exited);

/* A name for the map's source ("EFI memory map tag"...), for the boot log. */
const char *bootinfo_mmap_source_name(u8 source);

/* [base, base + len) lies inside one available (type 1) range of the memory map and
 * overlaps no module: the hypervisor may write there before its frame pool exists (the
 * AP start-up page below 1 MiB, which UEFI machines need not have free). */
bool bootinfo_free_ram(const struct boot_info *bi, u64 base, u64 len);

/* The module whose name is name, or NULL. */
const struct boot_module *bootinfo_module(const struct boot_info *bi, const char *name);

#endif
