/* SPDX-License-Identifier: MIT */
/*
 * The MSI capability (PCI Local Bus Specification 3.0, "MSI Capability Structure",
 * "Message Control for MSI", "Mask Bits for MSI", "Pending Bits for MSI"):
 *
 *   +0x00 ID 05h, next pointer      +0x02 Message Control
 *   +0x04 Message Address           +0x08 Message Upper Address (64-bit capable)
 *   +0x08/0x0C Message Data         +0x0C/0x10 Mask Bits, +0x10/0x14 Pending Bits (PVM)
 *
 * "When the function ... requests service, it ... sends a DWORD memory write of Message
 * Data to Message Address"; with several vectors enabled (Multiple Message Enable) the
 * function "is permitted to modify the low order bits of the message data" to select
 * the vector. A masked vector's request sets its pending bit and the message goes out
 * when software clears the mask ("the function must ... send the message" once
 * unmasked while the pending bit is set).
 */
#include "hv/pci/pci.h"
#include "hv/irq/msi.h"

static u32 msi_mask_reg(const struct pci_vdev *d)
{
	return d->msi.cap + (d->msi.is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

static u32 msi_pend_reg(const struct pci_vdev *d)
{
	return d->msi.cap + (d->msi.is64 ? PCI_MSI_PEND_64 : PCI_MSI_PEND_32);
}

bool pci_msi_init(struct pci_vdev *d, unsigned nvec, bool is64, bool pvm)
{
	if (!nvec || nvec > 32 || (nvec & (nvec - 1)))
		return false;
	u8 len = (u8)(0x0c + (is64 ? 4 : 0) + (pvm ? 8 : 0));
	u8 cap = pci_vdev_add_cap(d, PCI_CAP_ID_MSI, len);
	if (!cap)
		return false;
	d->msi = (struct pci_msi){ .cap = cap, .nvec = (u8)nvec, .is64 = is64, .pvm = pvm };
	u32 ctrl = (u32)__builtin_ctz(nvec) << 1 | (is64 ? PCI_MSI_CTRL_64BIT : 0) | (pvm ? PCI_MSI_CTRL_PVM : 0);
	pci_cfg_set(d, cap + PCI_MSI_CTRL, 2, ctrl);
	pci_wmask_set(d, cap + PCI_MSI_CTRL, 2, PCI_MSI_CTRL_ENABLE | (7u << 4));
	/* Message Address: DWORD aligned, bits 1:0 read 0. */
	pci_wmask_set(d, cap + PCI_MSI_ADDR_LO, 4, ~3u);
	if (is64)
		pci_wmask_set(d, cap + PCI_MSI_ADDR_HI, 4, ~0u);
	pci_wmask_set(d, cap + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, 0xffff);
	if (pvm)
		pci_wmask_set(d, msi_mask_reg(d), 4, nvec == 32 ? ~0u : (1u << nvec) - 1);
	return true;
}

bool pci_msi_enabled(const struct pci_vdev *d)
{
	return d->msi.cap && (pci_cfg_get(d, d->msi.cap + PCI_MSI_CTRL, 2) & PCI_MSI_CTRL_ENABLE);
}

/* The number of vectors the guest enabled (Multiple Message Enable, capped by what the
 * function requested). */
static unsigned msi_enabled_vectors(const struct pci_vdev *d)
{
	unsigned mme = PCI_MSI_CTRL_MME(pci_cfg_get(d, d->msi.cap + PCI_MSI_CTRL, 2));
	return MIN(1u << mme, (unsigned)d->msi.nvec);
}

static void msi_send(struct pci_vdev *d, unsigned n)
{
	u32 cap = d->msi.cap;
	u64 addr = pci_cfg_get(d, cap + PCI_MSI_ADDR_LO, 4);
	if (d->msi.is64)
		addr |= (u64)pci_cfg_get(d, cap + PCI_MSI_ADDR_HI, 4) << 32;
	u32 data = pci_cfg_get(d, cap + (d->msi.is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2);
	u32 low = msi_enabled_vectors(d) - 1;
	msi_deliver(d->vm, addr, (data & ~low) | (n & low));
}

bool pci_msi_raise(struct pci_vdev *d, unsigned n)
{
	if (!pci_msi_enabled(d) || n >= msi_enabled_vectors(d))
		return false;
	if (d->msi.pvm && (pci_cfg_get(d, msi_mask_reg(d), 4) & BIT(n))) {
		pci_cfg_set(d, msi_pend_reg(d), 4, pci_cfg_get(d, msi_pend_reg(d), 4) | BIT(n));
		return true;
	}
	msi_send(d, n);
	return true;
}

void pci_msi_cfg_written(struct pci_vdev *d, u32 reg, unsigned size)
{
	(void)reg;
	(void)size;
	/* "Software must not write a value greater than" Multiple Message Capable to
	 * Multiple Message Enable: a larger value is clamped (it reads back clamped). */
	u32 ctrl = pci_cfg_get(d, d->msi.cap + PCI_MSI_CTRL, 2);
	if (PCI_MSI_CTRL_MME(ctrl) > PCI_MSI_CTRL_MMC(ctrl))
		pci_cfg_set(d, d->msi.cap + PCI_MSI_CTRL, 2, (ctrl & ~(7u << 4)) | PCI_MSI_CTRL_MMC(ctrl) << 4);
	if (!d->msi.pvm || !pci_msi_enabled(d))
		return;
	u32 pend = pci_cfg_get(d, msi_pend_reg(d), 4);
	u32 ready = pend & ~pci_cfg_get(d, msi_mask_reg(d), 4);
	unsigned nv = msi_enabled_vectors(d);
	for (unsigned n = 0; n < nv; n++) {
		if (!(ready & BIT(n)))
			continue;
		pend &= ~BIT(n);
		pci_cfg_set(d, msi_pend_reg(d), 4, pend);
		msi_send(d, n);
	}
}

void pci_msi_reset(struct pci_vdev *d)
{
	if (!d->msi.cap)
		return;
	u32 cap = d->msi.cap;
	u32 ctrl = pci_cfg_get(d, cap + PCI_MSI_CTRL, 2) & ~(PCI_MSI_CTRL_ENABLE | (7u << 4));
	pci_cfg_set(d, cap + PCI_MSI_CTRL, 2, ctrl);
	u32 len = 0x0c + (d->msi.is64 ? 4u : 0u) + (d->msi.pvm ? 8u : 0u);
	for (u32 r = cap + 4; r < cap + len; r++)
		d->cfg[r] = 0;
}
