/* SPDX-License-Identifier: MIT */
/*
 * The ACPI DMA Remapping Reporting table (DMAR): "Intel Virtualization Technology for
 * Directed I/O Architecture Specification", chapter "BIOS Considerations" ("DMA
 * Remapping Reporting Structure", "Remapping Structure Types", "DMA Remapping Hardware
 * Unit Definition Structure", "Device Scope Structure", "Reserved Memory Region
 * Reporting Structure", "Root Port ATS Capability Reporting Structure").
 *
 * Pure: the table comes in as bytes, the PCI topology (bridges' bus numbers, needed to
 * follow a device scope's path) through callbacks; unit-tested on the host
 * (tests/unit/test_dmar.c), malformed tables included.
 */
#ifndef DRIVERS_IOMMU_DMAR_H
#define DRIVERS_IOMMU_DMAR_H

#include "hv/lib/types.h"

#define DMAR_MAX_UNITS 8
#define DMAR_MAX_RMRR 16
#define DMAR_MAX_ATSR 8
#define DMAR_MAX_SCOPES 64
#define DMAR_MAX_PATH 8

/* DMA Remapping Reporting Structure flags (byte 37). */
#define DMAR_FLAG_INTR_REMAP BIT(0)
#define DMAR_FLAG_X2APIC_OPT_OUT BIT(1)
#define DMAR_FLAG_DMA_CTRL_OPT_IN BIT(2)

/* Remapping structure types. */
enum dmar_type {
	DMAR_TYPE_DRHD = 0,   /* DMA Remapping Hardware Unit Definition */
	DMAR_TYPE_RMRR = 1,   /* Reserved Memory Region Reporting */
	DMAR_TYPE_ATSR = 2,   /* Root Port ATS Capability Reporting */
	DMAR_TYPE_RHSA = 3,   /* Remapping Hardware Static Affinity */
	DMAR_TYPE_ANDD = 4,   /* ACPI Name-space Device Declaration */
	DMAR_TYPE_SATC = 5,   /* SoC Integrated Address Translation Cache */
	DMAR_TYPE_SIDP = 6,   /* SoC Integrated Device Property */
};

/* Device Scope entry types. */
enum dmar_scope_type {
	DMAR_SCOPE_ENDPOINT = 1,   /* PCI Endpoint Device */
	DMAR_SCOPE_BRIDGE = 2,     /* PCI Sub-hierarchy (a bridge and everything below) */
	DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4,       /* MSI Capable HPET */
	DMAR_SCOPE_ACPI = 5,       /* ACPI Name-space Device */
};

struct dmar_scope {
	u8 type;                   /* enum dmar_scope_type */
	u8 enum_id;                /* IOAPIC ID, HPET number, ACPI device number */
	u8 start_bus;
	u8 npath;                  /* (device, function) hops from start_bus */
	u8 path[DMAR_MAX_PATH][2];
};

struct dmar_drhd {
	u64 base;                  /* Register Base Address */
	u16 segment;
	u8 size;                   /* register set: 2^size 4 KiB pages (0 on older tables: one page) */
	bool include_all;          /* INCLUDE_PCI_ALL: every device of the segment no other unit lists */
	u32 first_scope, nr_scopes;
};

struct dmar_rmrr {
	u16 segment;
	u64 base, limit;           /* [base, limit], limit inclusive */
	u32 first_scope, nr_scopes;
};

struct dmar_atsr {
	u16 segment;
	bool all_ports;
	u32 first_scope, nr_scopes;
};

struct dmar_info {
	u32 haw;                   /* Host Address Width in bits */
	u8 flags;                  /* DMAR_FLAG_* */
	u32 nr_drhd, nr_rmrr, nr_atsr, nr_scopes;
	u32 nr_other;              /* RHSA/ANDD/SATC/SIDP structures (read past, not used) */
	struct dmar_drhd drhd[DMAR_MAX_UNITS];
	struct dmar_rmrr rmrr[DMAR_MAX_RMRR];
	struct dmar_atsr atsr[DMAR_MAX_ATSR];
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
	char warning[160];         /* a structure skipped (unknown type); "" when none */
};

/*
 * Parse the DMAR at table (len bytes available there). False with a message naming
 * the offending structure (type, offset) and what is wrong: bad signature, checksum or
 * lengths, a device scope past its structure, a bad path, misaligned addresses, two
 * units at one register base, two INCLUDE_PCI_ALL units in a segment or one that is
 * not its segment's last, a device or IOAPIC listed by two units, or more structures
 * than the limits above. A structure of a type the specification does not define yet
 * is skipped (the specification reserves them for future use) and named in warning.
 */
bool dmar_parse(const void *table, size_t len, struct dmar_info *d, char *err, size_t errlen);

/* The PCI topology a device scope's path walks: the secondary and subordinate bus
 * numbers of the bridge at seg:bus:dev.fn; false when there is none. */
struct dmar_topology {
	bool (*bridge_buses)(void *ctx, u16 seg, u8 bus, u8 dev, u8 fn, u8 *secondary, u8 *subordinate);
	void *ctx;
};

/* The index of the unit whose scope holds PCI device seg:bdf (an explicit endpoint or
 * sub-hierarchy scope first, else the segment's INCLUDE_PCI_ALL unit), or -1. */
int dmar_unit_for(const struct dmar_info *d, u16 seg, u16 bdf, const struct dmar_topology *topo);

/* The next RMRR after index after (-1: from the first) whose device scope holds PCI
 * device seg:bdf (RMRR scopes are endpoints: dmar_parse refuses others), or -1. */
int dmar_rmrr_next(const struct dmar_info *d, u16 seg, u16 bdf, const struct dmar_topology *topo, int after);

/* The unit whose scope lists IOAPIC apic_id, or -1. */
int dmar_unit_for_ioapic(const struct dmar_info *d, u8 ioapic_id);

/* The source-id a scope's path resolves to (bus << 8 | dev << 3 | fn); false when a
 * bridge on the way is missing. */
bool dmar_scope_sid(const struct dmar_scope *s, u16 seg, const struct dmar_topology *topo, u16 *sid);

const char *dmar_scope_type_name(u8 type);

#endif
