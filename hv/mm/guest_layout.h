/* SPDX-License-Identifier: MIT */
/*
 * The fixed parts of every VM's guest-physical layout (the per-VM memory map that
 * places RAM around them is hv/mm/guest_map.h). Below 4 GiB, from the hole's start
 * (the `hole=` option, default GUEST_HOLE_DEFAULT) up:
 *
 *   [hole start, GUEST_ECAM_BASE)          32-bit PCI BAR window (the host bridge's _CRS)
 *   GUEST_ECAM_BASE  + GUEST_ECAM_SIZE     PCI Express ECAM, bus 0 only (ACPI MCFG)
 *   GUEST_IOAPIC_BASE + 4 KiB              the vIOAPIC
 *   GUEST_LAPIC_BASE + 4 KiB               the local APICs (APIC-access page)
 *   GUEST_BIOS_HIGH .. 4 GiB               reserved (firmware ROM on a PC)
 *
 * RAM that does not fit below the hole continues at 4 GiB.
 */
#ifndef HV_MM_GUEST_LAYOUT_H
#define HV_MM_GUEST_LAYOUT_H

#define GUEST_HOLE_DEFAULT 0xc0000000ull   /* 3 GiB */
#define GUEST_HOLE_MIN     0x01000000ull   /* 16 MiB: low memory and a kernel fit below */
#define GUEST_ECAM_BASE    0xe0000000ull
#define GUEST_ECAM_SIZE    0x00100000ull   /* 1 MiB: bus 0, 32 devices x 8 functions x 4 KiB */
#define GUEST_IOAPIC_BASE  0xfec00000ull
#define GUEST_LAPIC_BASE   0xfee00000ull
#define GUEST_BIOS_HIGH    0xfffc0000ull
#define GUEST_4G           0x100000000ull

#endif
