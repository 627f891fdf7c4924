/* SPDX-License-Identifier: MIT */
/*
 * The per-VM guest-physical memory map: where a VM's RAM lies around the fixed layout
 * of hv/mm/guest_layout.h. Built once from `mem=` and `hole=` (guest_map_build), then
 * read by everything that places or describes guest memory: EPT (arch/x86/vmx/vmx.c),
 * gpa_to_hva (hv/vm/vm.h), the multiboot loader's memory map (hv/vm/loader.c), the ACPI
 * tables, and an e820 table for Linux (guest_map_e820).
 *
 * With M = mem and H = the hole's start:
 *
 *   [0, 0x9fc00)                 RAM
 *   [0x9fc00, 0xe0000)           reserved, backed by RAM: EBDA, VGA, option ROMs
 *   [0xe0000, 1 MiB)             reserved, backed by RAM: BIOS area, the ACPI tables
 *   [1 MiB, min(M, H))           RAM
 *   [H, GUEST_ECAM_BASE)         PCI window (MMIO, not in e820: the OS places BARs here)
 *   ECAM, IOAPIC, LAPIC          reserved MMIO (hv/mm/guest_layout.h)
 *   [GUEST_BIOS_HIGH, 4 GiB)     reserved (firmware ROM on a PC; nothing mapped)
 *   [4 GiB, 4 GiB + M - H)       RAM, when M > H
 *
 * Rules: entries are sorted by address and never overlap; no RAM lies in [H, 4 GiB);
 * RAM is one host allocation of M bytes, of which [0, min(M, H)) backs GPA 0 up and the
 * rest backs GPA 4 GiB up (the two spans). Pure: host-tested (tests/unit/test_guest_map.c).
 */
#ifndef HV_MM_GUEST_MAP_H
#define HV_MM_GUEST_MAP_H

#include "hv/lib/types.h"
#include "hv/mm/guest_layout.h"

#define GUEST_LOW_RAM_END  0x9fc00ull   /* 639 KiB: the EBDA starts here */
#define GUEST_ROM_BASE     0xe0000ull   /* BIOS area: the guest's ACPI tables */
#define GUEST_HIGH_RAM     0x100000ull  /* 1 MiB */
#define GUEST_HOLE_ALIGN   0x200000ull  /* the hole starts on a 2 MiB boundary (EPT large pages) */
#define GUEST_MEM_MIN      0x200000ull  /* mem= bounds (hv/init/cmdline.c) */
#define GUEST_MEM_MAX      0x1000000000ull   /* 64 GiB */

/* What an entry is; each kind has one e820 type (guest_map_kind_e820). */
enum gmap_kind {
	GMAP_RAM,          /* usable RAM */
	GMAP_LOW_BIOS,     /* EBDA, VGA window, option ROMs: reserved, backed by RAM */
	GMAP_BIOS,         /* 0xE0000-0xFFFFF: reserved, backed by RAM, holds the ACPI tables */
	GMAP_PCI_WINDOW,   /* 32-bit BAR window [hole, ECAM): MMIO, no e820 entry */
	GMAP_ECAM,         /* PCI Express ECAM: reserved MMIO */
	GMAP_IOAPIC,       /* reserved MMIO */
	GMAP_LAPIC,        /* reserved MMIO */
	GMAP_BIOS_HIGH,    /* [GUEST_BIOS_HIGH, 4 GiB): reserved, nothing mapped */
	GMAP_RMRR,         /* an assigned function's RMRR, identity-mapped for its DMA: reserved */
	GMAP_NR_KINDS
};

/* e820 / multiboot memory-map types (ACPI "System Address Map Interfaces"; the
 * multiboot v1 mmap uses the same numbers). E820_NONE: not reported (a gap). */
enum e820_type { E820_NONE = 0, E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3 };

struct gmap_entry {
	u64 base, size;
	enum gmap_kind kind;
	bool backed;       /* inside a RAM span: gpa_to_hva reaches it, EPT maps it */
};

/* A range of GPA backed by the RAM allocation at host offset host_off. */
struct gmap_span {
	u64 gpa, size, host_off;
};

#define GMAP_MAX_ENTRIES 24
#define GMAP_MAX_SPANS 2

struct guest_map {
	u64 mem;           /* RAM bytes: the size of the host allocation */
	u64 hole;          /* the hole's start: no RAM in [hole, 4 GiB) */
	u32 nr;
	struct gmap_entry e[GMAP_MAX_ENTRIES];   /* sorted, non-overlapping */
	u32 nr_spans;
	struct gmap_span span[GMAP_MAX_SPANS];   /* span[0] at GPA 0; span[1] at 4 GiB if any */
};

/* One merged e820 range (adjacent entries of one type are merged). */
struct e820_range {
	u64 base, size;
	enum e820_type type;
};

/* Build the map of a VM with mem bytes of RAM and the hole at hole (0: the default).
 * false + a message naming the bad value when mem or hole is out of range (mem: 2 MiB
 * to 64 GiB, whole MiB; hole: 2 MiB aligned, >= GUEST_HOLE_MIN, < GUEST_ECAM_BASE). */
bool guest_map_build(struct guest_map *m, u64 mem, u64 hole, char *err, size_t errlen);

/* Reserve [base, base+size) (4 KiB aligned) as an entry of kind (unbacked, e.g.
 * GMAP_RMRR) where the map has a gap or the PCI window (which is split around it);
 * reserving the very range again is a no-op. Refused (false, *conflict the entry in the
 * way) when the range overlaps any other entry: RAM or the BIOS areas (backed), ECAM,
 * IOAPIC, LAPIC, the high BIOS, or a different reservation; or when the map is full
 * (*conflict NULL). Also refused when size is 0, the range wraps or is misaligned. */
bool guest_map_reserve(struct guest_map *m, u64 base, u64 size, enum gmap_kind kind,
		       const struct gmap_entry **conflict);

/* The entry containing gpa, or NULL (the gaps: between ECAM and the IOAPIC, above RAM). */
const struct gmap_entry *guest_map_find(const struct guest_map *m, u64 gpa);

/* The host offset of [gpa, gpa+len) when it lies inside one RAM span (len 0: gpa
 * itself must). This is what gpa_to_hva translates through, on every exit that
 * touches guest memory: span[0] (GPA 0 at host offset 0) is tested inline, the other
 * spans out of line (guest_map_offset_spans). */
bool guest_map_offset_spans(const struct guest_map *m, u64 gpa, u64 len, u64 *off);
static inline bool guest_map_offset(const struct guest_map *m, u64 gpa, u64 len, u64 *off)
{
	u64 low = m->span[0].size;
	if (likely(gpa < low && len <= low - gpa)) {
		*off = gpa;
		return true;
	}
	return guest_map_offset_spans(m, gpa, len, off);
}

/* [gpa, gpa+len) lies inside one entry of kind GMAP_RAM (where a loader may place). */
bool guest_map_is_ram(const struct guest_map *m, u64 gpa, u64 len);

/* The end of RAM that starts at GPA 0 (min(mem, hole)): multiboot's mem_upper counts to it. */
static inline u64 guest_map_low_end(const struct guest_map *m) { return m->span[0].size; }

enum e820_type guest_map_kind_e820(enum gmap_kind k);
const char *guest_map_kind_name(enum gmap_kind k);

/* The e820 view: the entries with an e820 type, adjacent ones of one type merged,
 * sorted. Writes at most max ranges; returns how many there are (> max: truncated). */
u32 guest_map_e820(const struct guest_map *m, struct e820_range *out, u32 max);

#endif
