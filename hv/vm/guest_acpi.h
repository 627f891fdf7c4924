/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables every guest finds in its BIOS area (docs/INTERFACES.md, "Guest
 * platform"): RSDP, RSDT, XSDT, FADT (+ FACS), MADT, MCFG and the DSDT compiled from
 * hv/vm/dsdt.asl (\_S5, the PCI host bridge).
 * The builder is pure (it writes into the guest RAM buffer it is given) and is
 * unit-tested by parsing its output with the hypervisor's own ACPI parser
 * (tests/unit/test_guest_acpi.c).
 */
#ifndef HV_GUEST_ACPI_H
#define HV_GUEST_ACPI_H

#include "hv/lib/types.h"

/* Where the tables go: the RSDP at the start of the BIOS read-only area, searched by
 * OSPM on 16-byte boundaries of 0xE0000-0xFFFFF (ACPI spec, "Finding the RSDP on
 * IA-PC Systems"); the multiboot memory map marks the range reserved. */
#define GUEST_ACPI_BASE 0xe0000u
#define GUEST_ACPI_END 0x100000u
#define GUEST_ACPI_RSDP GUEST_ACPI_BASE   /* the first table placed (a Linux zero page's acpi_rsdp_addr) */

/* The guest's fixed ACPI hardware (emulated by hv/vio.c). */
#define GUEST_PM1A_EVT 0x600      /* PM1a_EVT_BLK: PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define GUEST_PM1A_CNT 0x604      /* PM1a_CNT_BLK: PM1_CNT (2 bytes) */
#define GUEST_PM_TMR 0x608        /* PM_TMR_BLK: 32-bit timer (TMR_VAL_EXT) */
#define GUEST_PM1_EVT_LEN 4
#define GUEST_PM1_CNT_LEN 2
#define GUEST_PM_TMR_LEN 4
#define GUEST_SCI_IRQ 9
#define GUEST_RESET_REG 0xcf9     /* FADT RESET_REG: Reset Control Register (hv/dev/reset.c) */
#define GUEST_RESET_VALUE 0x06    /* FADT RESET_VALUE: RST_CPU | SYS_RST */
#define GUEST_S5_SLP_TYP 5        /* the \_S5 package's SLP_TYPa (and SLP_TYPb) */

#define ACPI_PM_TIMER_HZ 3579545u /* "Power Management Timer": 3.579545 MHz */

/* PM1 control register bits ("PM1 Control Registers"). */
#define PM1_CNT_SCI_EN BIT(0)
#define PM1_CNT_SLP_TYP(x) (((x) >> 10) & 7)
#define PM1_CNT_SLP_EN BIT(13)

struct guest_acpi_config {
	u32 nr_cpus;              /* one enabled Processor Local APIC each, APIC ID = index */
	u32 ioapic_addr;
	u8 ioapic_id;
	u32 ioapic_gsi_base;
	u16 pm1a_evt, pm1a_cnt, pm_tmr;
	u16 sci_irq;
	u8 s5_slp_typ;            /* must be GUEST_S5_SLP_TYP: the DSDT's \_S5 holds it */
	u64 ecam_base;            /* MCFG: ECAM of segment 0, bus 0 */
	u32 pci_win32_base;       /* the DSDT's 32-bit BAR window [base, end] (PW3B, PW3E) */
	u32 pci_win32_end;
};

/* The configuration of every VM: vcpus vCPUs, the vIOAPIC with ioapic_id, the GUEST_*
 * constants above and the PCI layout of hv/mm/guest_layout.h (window from the default
 * hole start). */
void guest_acpi_default(struct guest_acpi_config *c, u32 vcpus, u8 ioapic_id);

/* Write the tables into ram[GUEST_ACPI_BASE..GUEST_ACPI_END). false with a message when
 * RAM does not reach that far or nr_cpus is 0 or above 255 (xAPIC IDs are 8 bits). */
bool guest_acpi_build(u8 *ram, u64 ram_size, const struct guest_acpi_config *c, char *err, size_t errlen);

#endif
