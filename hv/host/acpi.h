/* SPDX-License-Identifier: MIT */
/* The machine's ACPI tables: CPUs from the MADT, power-off from the FADT and DSDT. */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include "hv/lib/types.h"
#include "hv/init/bootinfo.h"

#define ACPI_MAX_CPUS 64

struct acpi_info {
	u64 rsdp;                    /* physical address (0 when only the loader's copy) */
	u32 nr_cpus;
	u32 apic_ids[ACPI_MAX_CPUS]; /* enabled local APICs, BSP first when known */
	u32 nr_ignored_cpus;         /* enabled ones beyond ACPI_MAX_CPUS */
	u64 lapic_base;
	u32 pm1a_cnt, pm1b_cnt;      /* I/O ports of the PM1 control blocks */
	u8 s5_typa, s5_typb;         /* SLP_TYP values from \_S5 */
	bool has_s5;
	bool has_madt, has_fadt;
	/* The first I/O APIC of the MADT, and where the ISA IRQs arrive on it: isa_gsi[i]
	 * and isa_flags[i] (MPS INTI flags) from an Interrupt Source Override, else
	 * GSI = IRQ, flags 0 (ISA: edge, active high). */
	bool has_ioapic;
	u64 ioapic_base;
	u32 ioapic_gsi_base;
	u32 isa_gsi[16];
	u16 isa_flags[16];
	/* MCFG ("PCI Firmware Specification", "MCFG Table Description"): the ECAM window
	 * of PCI segment 0 (its first allocation entry), for hv/host/pci_host.c. */
	bool has_mcfg;
	u64 mcfg_base;
	u8 mcfg_bus_start, mcfg_bus_end;
	/* DMAR (VT-d specification, "DMA Remapping Reporting Structure"): where the table
	 * is (checksum verified), parsed by drivers/iommu/dmar.c; 0 when there is none. */
	u64 dmar_pa;
	u32 dmar_len;
};

/* The SPCR table's console UART (acpi_find_spcr). */
struct acpi_spcr {
	bool found;            /* the root table lists an SPCR */
	bool usable;           /* a 16550-compatible UART in I/O space: port and baud */
	const char *why;       /* why a found table is not usable */
	u8 interface_type, space_id;
	u64 address;           /* the Base Address's address (the I/O port when usable) */
	u32 baud;              /* the configured rate; 0 = as the firmware left it */
};

/* Checksum of len bytes is zero (ACPI spec, "Root System Description Pointer"). */
bool acpi_checksum_ok(const void *p, size_t len);

/* Find the RSDP: the loader's copy, else (not under UEFI, bi->efi) the EBDA's first KiB,
 * else 0xE0000-0xFFFFF ("Finding the RSDP on IA-PC Systems"). Returns a pointer to a
 * valid RSDP or NULL. */
const void *acpi_find_rsdp(const struct boot_info *bi, u64 *pa);

/* Parse RSDT/XSDT, MADT, FADT and \_S5 from the DSDT. False (with message) when the
 * RSDP or the root table is invalid. */
bool acpi_parse(const void *rsdp, u32 bsp_apic_id, struct acpi_info *ai, char *err, size_t errlen);

/* The console UART the firmware names in its SPCR table. True when usable. */
bool acpi_find_spcr(const void *rsdp, struct acpi_spcr *sp);

/* Find the SLP_TYP values of \_S5 in an AML byte stream (a DSDT's body). */
bool acpi_find_s5(const u8 *aml, size_t len, u8 *typa, u8 *typb);

#endif
