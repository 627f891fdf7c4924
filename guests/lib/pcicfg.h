/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration mechanism #1 on bus 0 (PCI Local Bus Specification, "Configuration
 * Mechanism #1": CONFIG_ADDRESS at 0xCF8 = enable bit 31, bus, device << 11, function
 * << 8, dword register; CONFIG_DATA at 0xCFC, a narrower access at 0xCFC + the low bits
 * of the register). devfn = device << 3 | function.
 */
#ifndef GUEST_PCICFG_H
#define GUEST_PCICFG_H

#include "lib.h"

static inline u32 pci_cf8(unsigned devfn, unsigned reg)
{
	return 0x80000000u | (u32)(devfn & 0xff) << 8 | (reg & 0xfc);
}

static inline u32 pci_cfg_read32(unsigned devfn, unsigned reg)
{
	outl(pci_cf8(devfn, reg), 0xcf8);
	return inl(0xcfc);
}

static inline void pci_cfg_write32(unsigned devfn, unsigned reg, u32 v)
{
	outl(pci_cf8(devfn, reg), 0xcf8);
	outl(v, 0xcfc);
}

static inline void pci_cfg_write16(unsigned devfn, unsigned reg, u16 v)
{
	outl(pci_cf8(devfn, reg), 0xcf8);
	outw(v, (u16)(0xcfc + (reg & 2)));
}

#endif
