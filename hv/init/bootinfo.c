/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 (Multiboot Specification 0.6.96, "Boot information format") and
 * multiboot2 (Multiboot2 Specification, "Boot information format": 8-byte aligned tags
 * after a total_size/reserved header) information, copied into struct boot_info.
 * Pure apart from phys_to_virt(): unit-tested on the host.
 *
 * Under UEFI, GRUB gives both a memory map tag (type 6, its own conversion) and the
 * firmware's map in the EFI memory map tag (type 17: "descriptor size", "descriptor
 * version", then EFI_MEMORY_DESCRIPTORs as GetMemoryMap() returns them). The EFI map is
 * used when it is there and well formed: it is the firmware's record, with boot-services
 * and runtime-services memory told apart; the type-6 map otherwise. The Multiboot2
 * Specification ("Memory map", "EFI memory map") lets a loader omit either while EFI
 * boot services are still running (tag 18); this image never asks for that (no EFI boot
 * services tag in its header, boot/entry.S), so GRUB exits them before the jump.
 */
#include "hv/init/bootinfo.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"

struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
} __packed;

struct mb1_module {
	u32 mod_start, mod_end, string, reserved;
} __packed;

struct mb1_mmap {
	u32 size;     /* of the rest of the entry */
	u64 base, len;
	u32 type;
} __packed;

#define MB1_INFO_MEM BIT(0)
#define MB1_INFO_CMDLINE BIT(2)
#define MB1_INFO_MODS BIT(3)
#define MB1_INFO_MMAP BIT(6)
#define MB1_INFO_LOADER_NAME BIT(9)

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_EFI32_ST 11      /* EFI 32-bit system table pointer */
#define MB2_TAG_EFI64_ST 12      /* EFI 64-bit system table pointer */
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18        /* EFI boot services not terminated */

/* UEFI Specification, "EFI_BOOT_SERVICES.GetMemoryMap()": EFI_MEMORY_DESCRIPTOR is
 * Type (u32), padding, PhysicalStart, VirtualStart, NumberOfPages (4 KiB), Attribute;
 * the map's stride is the descriptor size the firmware reports, at least this. */
struct efi_mem_desc {
	u32 type, pad;
	u64 phys_start, virt_start, nr_pages, attribute;
} __packed;
_Static_assert(sizeof(struct efi_mem_desc) == 40, "EFI_MEMORY_DESCRIPTOR is 40 bytes");

/* UEFI Specification, "Memory Type Usage after ExitBootServices()" (EFI_MEMORY_TYPE
 * values), mapped to the ACPI address range types as the ACPI Specification's "UEFI
 * Memory Types and mapping to ACPI address range types" table does. */
enum {
	EFI_RESERVED = 0,          /* not usable */
	EFI_LOADER_CODE = 1,       /* "the OS loader and/or OS may use this memory as they see fit" */
	EFI_LOADER_DATA = 2,
	EFI_BS_CODE = 3,           /* "memory available for general use" after ExitBootServices() */
	EFI_BS_DATA = 4,
	EFI_RT_CODE = 5,           /* "to be preserved by the UEFI OS loader and OS" */
	EFI_RT_DATA = 6,
	EFI_CONVENTIONAL = 7,      /* "memory available for general use" */
	EFI_UNUSABLE = 8,          /* "contains errors and is not to be used" */
	EFI_ACPI_RECLAIM = 9,      /* ACPI tables: preserved until ACPI is enabled */
	EFI_ACPI_NVS = 10,         /* preserved in the working and S1-S3 states */
	EFI_MMIO = 11,
	EFI_MMIO_PORT = 12,
	EFI_PAL_CODE = 13,
	EFI_PERSISTENT = 14,       /* byte-addressable non-volatile memory */
	EFI_UNACCEPTED = 15,       /* must be accepted before use */
};
#define MMAP_PERSISTENT 7          /* ACPI AddressRangePersistentMemory */

u32 bootinfo_efi_mem_type(u32 efi_type, bool boot_services_exited)
{
	switch (efi_type) {
	case EFI_CONVENTIONAL:
		return MMAP_AVAILABLE;
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BS_CODE:
	case EFI_BS_DATA:
		/* Loader memory holds this image, the modules and the information, which the
		 * frame pool keeps out (hv/mm/mm.c) or which is copied before use. */
		return boot_services_exited ? MMAP_AVAILABLE : MMAP_RESERVED;
	case EFI_ACPI_RECLAIM:
		return MMAP_ACPI_RECLAIM;
	case EFI_ACPI_NVS:
		return MMAP_ACPI_NVS;
	case EFI_UNUSABLE:
		return MMAP_BAD;
	case EFI_PERSISTENT:
		return MMAP_PERSISTENT;
	default:   /* reserved, runtime services, MMIO, PAL code, unaccepted, unknown */
		return MMAP_RESERVED;
	}
}

const char *bootinfo_mmap_source_name(u8 source)
{
	switch (source) {
	case BOOT_MMAP_MB1:
		return "multiboot v1 mmap";
	case BOOT_MMAP_MB2:
		return "multiboot2 memory map tag";
	case BOOT_MMAP_EFI:
		return "EFI memory map tag";
	case BOOT_MMAP_MEMINFO:
		return "basic memory information";
	default:
		return "none";
	}
}

static bool err_out(char *err, size_t errlen, const char *msg)
{
	hv_snprintf(err, errlen, "%s", msg);
	return false;
}

/* Copy a NUL-terminated string from physical memory, bounded. */
static void copy_phys_str(char *dst, size_t size, u64 pa)
{
	const char *s = phys_to_virt(pa);
	size_t i = 0;
	for (; s && i + 1 < size && s[i]; i++)
		dst[i] = s[i];
	dst[i] = '\0';
}

static void copy_bounded(char *dst, size_t size, const char *src, size_t max)
{
	size_t i = 0;
	for (; i + 1 < size && i < max && src[i]; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

static void set_module_name(struct boot_module *m)
{
	const char *s = m->string, *start = s, *end;
	while (*s == ' ')
		s++;
	start = s;
	end = s;
	while (*end && *end != ' ')
		end++;
	for (const char *q = start; q < end; q++)
		if (*q == '/')
			start = q + 1;
	size_t n = MIN((size_t)(end - start), sizeof(m->name) - 1);
	memcpy(m->name, start, n);
	m->name[n] = '\0';
}

static void add_mmap(struct boot_info *bi, u64 base, u64 len, u32 type)
{
	if (bi->nr_mmap >= BOOT_MAX_MMAP) {
		bi->nr_mmap_dropped++;
		return;
	}
	{
		bi->mmap[bi->nr_mmap].base = base;
		bi->mmap[bi->nr_mmap].len = len;
		bi->mmap[bi->nr_mmap].type = type;
		bi->nr_mmap++;
	}
}

static bool add_module(struct boot_info *bi, u64 start, u64 end, const char *str, size_t max,
		       char *err, size_t errlen)
{
	if (bi->nr_mods >= BOOT_MAX_MODS)
		return err_out(err, errlen, "too many boot modules");
	if (end < start)
		return err_out(err, errlen, "boot module ends before it starts");
	struct boot_module *m = &bi->mods[bi->nr_mods++];
	m->start = start;
	m->end = end;
	if (str)
		copy_bounded(m->string, sizeof(m->string), str, max);
	set_module_name(m);
	return true;
}

static bool parse_mb1(u64 info, struct boot_info *bi, char *err, size_t errlen)
{
	const struct mb1_info *mi = phys_to_virt(info);
	if (!mi)
		return err_out(err, errlen, "multiboot information not addressable");
	bi->loader = 1;
	if (mi->flags & MB1_INFO_MEM) {
		bi->mem_lower_kb = mi->mem_lower;
		bi->mem_upper_kb = mi->mem_upper;
	}
	if (mi->flags & MB1_INFO_CMDLINE) {
		/* Multiboot v1 loaders (GRUB, iPXE, QEMU) put the image's name first. */
		static char tmp[BOOT_CMDLINE_MAX];   /* not on the boot stack; boot is serial */
		copy_phys_str(tmp, sizeof(tmp), mi->cmdline);
		const char *s = tmp;
		while (*s == ' ')
			s++;
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
		copy_bounded(bi->cmdline, sizeof(bi->cmdline), s, sizeof(tmp));
	}
	if (mi->flags & MB1_INFO_LOADER_NAME)
		copy_phys_str(bi->loader_name, sizeof(bi->loader_name), mi->boot_loader_name);
	if (mi->flags & MB1_INFO_MODS) {
		const struct mb1_module *mods = phys_to_virt(mi->mods_addr);
		for (u32 i = 0; mods && i < mi->mods_count; i++) {
			const char *s = mods[i].string ? phys_to_virt(mods[i].string) : NULL;
			if (!add_module(bi, mods[i].mod_start, mods[i].mod_end, s, BOOT_MODSTR_MAX, err, errlen))
				return false;
		}
	}
	if (mi->flags & MB1_INFO_MMAP) {
		u64 p = mi->mmap_addr, end = (u64)mi->mmap_addr + mi->mmap_length;
		while (p + sizeof(struct mb1_mmap) <= end) {
			const struct mb1_mmap *e = phys_to_virt(p);
			if (!e || e->size < 20)
				return err_out(err, errlen, "malformed multiboot memory map entry");
			add_mmap(bi, e->base, e->len, e->type);
			p += (u64)e->size + 4;
		}
		bi->mmap_source = BOOT_MMAP_MB1;
	} else if (mi->flags & MB1_INFO_MEM) {
		add_mmap(bi, 0, (u64)mi->mem_lower * 1024, MMAP_AVAILABLE);
		add_mmap(bi, MiB(1), (u64)mi->mem_upper * 1024, MMAP_AVAILABLE);
		bi->mmap_source = BOOT_MMAP_MEMINFO;
	}
	return true;
}

struct mb2_tag {
	u32 type, size;
} __packed;

/* The EFI memory map tag's body (blen bytes): replaces the map when well formed. UEFI
 * maps are long (one descriptor per allocation); adjacent ranges of one converted type
 * are merged so that they fit BOOT_MAX_MMAP. */
static bool parse_efi_mmap(const u8 *body, u32 blen, struct boot_info *bi)
{
	if (blen < 8)
		return false;
	u32 dsize;
	memcpy(&dsize, body, 4);
	if (dsize < sizeof(struct efi_mem_desc) || dsize > 4096 || blen - 8 < dsize)
		return false;
	bi->nr_mmap = 0;
	bi->nr_mmap_dropped = 0;
	for (u32 off = 8; off + dsize <= blen; off += dsize) {
		struct efi_mem_desc d;
		memcpy(&d, body + off, sizeof(d));
		if (!d.nr_pages || d.nr_pages > (~0ull >> 12) || d.phys_start + (d.nr_pages << 12) < d.phys_start)
			continue;
		u32 type = bootinfo_efi_mem_type(d.type, !bi->efi_bs_active);
		u64 len = d.nr_pages << 12;
		struct mem_range *last = bi->nr_mmap ? &bi->mmap[bi->nr_mmap - 1] : NULL;
		if (last && last->type == type && last->base + last->len == d.phys_start)
			last->len += len;
		else
			add_mmap(bi, d.phys_start, len, type);
	}
	bi->mmap_source = BOOT_MMAP_EFI;
	return true;
}

static bool parse_mb2(u64 info, struct boot_info *bi, char *err, size_t errlen)
{
	const u32 *hdr = phys_to_virt(info);
	if (!hdr)
		return err_out(err, errlen, "multiboot2 information not addressable");
	u32 total = hdr[0];
	if (total < 16 || total > MiB(1))
		return err_out(err, errlen, "multiboot2 information has a bad total_size");
	bi->loader = 2;
	u64 p = info + 8, end = info + total;
	bool seen_end = false;
	const u8 *efi_mmap = NULL;
	u32 efi_mmap_len = 0;
	while (p + 8 <= end) {
		const struct mb2_tag *t = phys_to_virt(p);
		if (t->size < 8 || p + t->size > end)
			return err_out(err, errlen, "malformed multiboot2 tag");
		const u8 *body = (const u8 *)t + 8;
		u32 blen = t->size - 8;
		switch (t->type) {
		case MB2_TAG_END:
			seen_end = true;
			break;
		case MB2_TAG_CMDLINE:
			copy_bounded(bi->cmdline, sizeof(bi->cmdline), (const char *)body, blen);
			break;
		case MB2_TAG_LOADER_NAME:
			copy_bounded(bi->loader_name, sizeof(bi->loader_name), (const char *)body, blen);
			break;
		case MB2_TAG_MODULE: {
			if (blen < 8)
				return err_out(err, errlen, "malformed multiboot2 module tag");
			const u32 *m = (const u32 *)body;
			if (!add_module(bi, m[0], m[1], (const char *)(m + 2), blen - 8, err, errlen))
				return false;
			break;
		}
		case MB2_TAG_BASIC_MEMINFO:
			if (blen >= 8) {
				bi->mem_lower_kb = ((const u32 *)body)[0];
				bi->mem_upper_kb = ((const u32 *)body)[1];
			}
			break;
		case MB2_TAG_MMAP: {
			if (blen < 8)
				return err_out(err, errlen, "malformed multiboot2 memory map tag");
			u32 esize = ((const u32 *)body)[0];
			if (esize < 20)
				return err_out(err, errlen, "malformed multiboot2 memory map entry size");
			for (u32 off = 8; off + esize <= blen; off += esize) {
				const u8 *e = body + off;
				u64 base, len;
				u32 type;
				memcpy(&base, e, 8);
				memcpy(&len, e + 8, 8);
				memcpy(&type, e + 16, 4);
				add_mmap(bi, base, len, type);
			}
			bi->mmap_source = BOOT_MMAP_MB2;
			break;
		}
		case MB2_TAG_EFI_MMAP:
			efi_mmap = body;
			efi_mmap_len = blen;
			bi->efi = true;
			break;
		case MB2_TAG_EFI32_ST:
		case MB2_TAG_EFI64_ST:
			bi->efi = true;
			break;
		case MB2_TAG_EFI_BS:
			bi->efi_bs_active = true;
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			/* prefer the ACPI 2.0+ copy when both are given */
			if (!bi->has_rsdp || t->type == MB2_TAG_ACPI_NEW) {
				memset(bi->rsdp, 0, sizeof(bi->rsdp));
				memcpy(bi->rsdp, body, MIN(blen, (u32)sizeof(bi->rsdp)));
				bi->has_rsdp = true;
			}
			break;
		default:
			break;
		}
		if (seen_end)
			break;
		p += ALIGN_UP((u64)t->size, 8);
	}
	if (!seen_end)
		return err_out(err, errlen, "multiboot2 information has no end tag");
	/* after the loop: tag 18 may follow tag 17 */
	if (efi_mmap)
		parse_efi_mmap(efi_mmap, efi_mmap_len, bi);
	if (!bi->nr_mmap && bi->mem_upper_kb) {
		add_mmap(bi, 0, bi->mem_lower_kb * 1024, MMAP_AVAILABLE);
		add_mmap(bi, MiB(1), bi->mem_upper_kb * 1024, MMAP_AVAILABLE);
		bi->mmap_source = BOOT_MMAP_MEMINFO;
	}
	return true;
}

bool bootinfo_parse(u32 magic, u64 info, struct boot_info *bi, char *err, size_t errlen)
{
	memset(bi, 0, sizeof(*bi));
	if (magic == MULTIBOOT1_BOOTLOADER_MAGIC)
		return parse_mb1(info, bi, err, errlen);
	if (magic == MULTIBOOT2_BOOTLOADER_MAGIC)
		return parse_mb2(info, bi, err, errlen);
	hv_snprintf(err, errlen, "unknown boot loader magic 0x%x (not multiboot)", magic);
	return false;
}

bool bootinfo_free_ram(const struct boot_info *bi, u64 base, u64 len)
{
	bool in_ram = false;
	for (u32 i = 0; i < bi->nr_mmap && !in_ram; i++) {
		const struct mem_range *r = &bi->mmap[i];
		in_ram = r->type == MMAP_AVAILABLE && base >= r->base && base + len <= r->base + r->len;
	}
	for (u32 i = 0; i < bi->nr_mods && in_ram; i++)
		if (base < bi->mods[i].end && bi->mods[i].start < base + len)
			return false;
	return in_ram;
}

const struct boot_module *bootinfo_module(const struct boot_info *bi, const char *name)
{
	for (u32 i = 0; i < bi->nr_mods; i++)
		if (!strcmp(bi->mods[i].name, name))
			return &bi->mods[i];
	return NULL;
}
