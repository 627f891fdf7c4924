/* SPDX-License-Identifier: MIT */
/*
 * The MSI-X capability, table and Pending Bit Array (PCI Local Bus Specification 3.0,
 * "MSI-X Capability Structure", "Message Control for MSI-X", "MSI-X Table Structure",
 * "Pending Bit Array"):
 *
 *   capability +0x02 Message Control: Table Size (10:0, N - 1), Function Mask (14),
 *                    MSI-X Enable (15)
 *              +0x04 Table Offset (31:3) / Table BIR (2:0)
 *              +0x08 PBA Offset (31:3) / PBA BIR (2:0)
 *   table      16 bytes per vector (struct msix_entry): Message Address, Message Upper
 *              Address, Message Data, Vector Control (bit 0 Mask Bit; "after reset,
 *              the state of the Mask bit is set")
 *   PBA        one bit per vector, read-only ("software should never write")
 *
 * A function may not send a message for a vector while the vector's Mask Bit or the
 * Function Mask is set: "the function is prohibited from sending the associated
 * message, and the function must set the associated Pending bit"; once both are clear
 * with the Pending bit set, "the function must schedule sending the associated message,
 * and clear the Pending bit". Table and PBA accesses: "software must use aligned full
 * DWORD or aligned full QWORD transactions"; anything else is refused here (the VM is
 * stopped with a diagnosis naming the device).
 *
 * Route cache: each entry's address/data pair is decoded (msi_route_set) when the guest
 * writes the entry's Message Address, Upper Address or Data, and at reset; a raise sends
 * the cached route (msi_route_deliver) without decoding again. A pair the guest is
 * still writing (address written, data not yet) is decoded at each write; the Mask Bit
 * is what keeps a half-written entry from being used ("software must not modify the
 * Message Address or Message Data while the entry is unmasked" is the driver's rule,
 * not the device's, so an unmasked rewrite takes effect at once). The route also caches
 * the target vCPU of a fixed physical message (hv/irq/msi.h).
 *
 * Locking: everything here runs under the function's lock, and table, PBA and routes
 * are also guarded by the MSI-X lock (struct pci_msix), which a raise takes alone: a
 * device may raise from a path that holds only its own finer lock (virtio-blk's
 * per-queue lock).
 */
#include "hv/pci/pci.h"
#include "hv/irq/msi.h"

bool pci_msix_init(struct pci_vdev *d, unsigned nvec, unsigned bar, u32 table_off, u32 pba_off)
{
	if (!nvec || nvec > PCI_MSIX_MAX_VECTORS || bar >= PCI_NR_BARS || (table_off & 7) || (pba_off & 7))
		return false;
	u64 bsize = d->bar[bar].size;
	if (table_off + 16ull * nvec > bsize || pba_off + 8ull * ((nvec + 63) / 64) > bsize)
		return false;
	u8 cap = pci_vdev_add_cap(d, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_LEN);
	if (!cap)
		return false;
	d->msix.cap = cap;
	d->msix.bar = (u8)bar;
	d->msix.nvec = (u16)nvec;
	d->msix.table_off = table_off;
	d->msix.pba_off = pba_off;
	pci_cfg_set(d, cap + PCI_MSIX_CTRL, 2, nvec - 1);
	pci_cfg_set(d, cap + PCI_MSIX_TABLE, 4, table_off | bar);
	pci_cfg_set(d, cap + PCI_MSIX_PBA, 4, pba_off | bar);
	pci_wmask_set(d, cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_FMASK | PCI_MSIX_CTRL_ENABLE);
	pci_msix_reset(d);
	return true;
}

bool pci_msix_enabled(const struct pci_vdev *d)
{
	return d->msix.cap && (pci_cfg_get(d, d->msix.cap + PCI_MSIX_CTRL, 2) & PCI_MSIX_CTRL_ENABLE);
}

static bool function_masked(const struct pci_vdev *d)
{
	return pci_cfg_get(d, d->msix.cap + PCI_MSIX_CTRL, 2) & PCI_MSIX_CTRL_FMASK;
}

static void send(struct pci_vdev *d, unsigned n)
{
	msi_route_deliver(d->vm, &d->msix.route[n]);
}

static void route_refresh(struct pci_vdev *d, unsigned n)
{
	const struct msix_entry *e = &d->msix.table[n];
	msi_route_set(&d->msix.route[n], ((u64)e->addr_hi << 32) | e->addr_lo, e->data);
}

/* Send every pending vector that is no longer masked. */
static void flush_pending(struct pci_vdev *d)
{
	if (!pci_msix_enabled(d) || function_masked(d))
		return;
	for (unsigned n = 0; n < d->msix.nvec; n++) {
		if ((d->msix.pba & BIT(n)) && !(d->msix.table[n].ctrl & PCI_MSIX_ENTRY_MASKED)) {
			d->msix.pba &= ~BIT(n);
			d->msix.pending_sent++;
			send(d, n);
		}
	}
}

bool pci_msix_raise_ex(struct pci_vdev *d, unsigned n, bool *pending)
{
	*pending = false;
	if (!pci_msix_enabled(d) || n >= d->msix.nvec)
		return false;
	u64 f = spin_lock_irqsave(&d->msix.lock);
	/* The enable and Function Mask bits are read under the MSI-X lock: a config write
	 * that clears a mask stores the bytes first and then flushes under this lock
	 * (pci_msix_cfg_written), so a pending bit set here is seen by that flush. */
	if (function_masked(d) || (d->msix.table[n].ctrl & PCI_MSIX_ENTRY_MASKED)) {
		d->msix.pba |= BIT(n);
		*pending = true;
	} else {
		send(d, n);
	}
	spin_unlock_irqrestore(&d->msix.lock, f);
	return true;
}

bool pci_msix_raise(struct pci_vdev *d, unsigned n)
{
	bool pending;
	return pci_msix_raise_ex(d, n, &pending);
}

void pci_msix_cfg_written(struct pci_vdev *d, u32 reg, unsigned size)
{
	(void)reg;
	(void)size;
	u64 f = spin_lock_irqsave(&d->msix.lock);
	flush_pending(d);
	spin_unlock_irqrestore(&d->msix.lock, f);
}

static u32 table_dword(const struct pci_vdev *d, u64 off)
{
	const u32 *w = (const u32 *)&d->msix.table[off / 16];
	return w[(off % 16) / 4];
}

/* Write one dword of the table; true when it was the entry's address or data. */
static bool table_dword_write(struct pci_vdev *d, u64 off, u32 val)
{
	struct msix_entry *e = &d->msix.table[off / 16];
	switch (off % 16) {
	case 0:
		e->addr_lo = val & ~3u;   /* Message Address: DWORD aligned */
		break;
	case 4:
		e->addr_hi = val;
		break;
	case 8:
		e->data = val;
		break;
	default:
		/* Vector Control: only the Mask Bit is defined; 31:1 reserved, read 0. */
		if ((val ^ e->ctrl) & PCI_MSIX_ENTRY_MASKED) {
			if (val & PCI_MSIX_ENTRY_MASKED)
				d->msix.mask_writes++;
			else
				d->msix.unmask_writes++;
		}
		e->ctrl = val & PCI_MSIX_ENTRY_MASKED;
		return false;
	}
	return true;
}

bool pci_msix_bar_access(struct pci_vdev *d, unsigned bar, u64 off, struct io_req *req, enum io_result *res)
{
	if (!d->msix.cap || bar != d->msix.bar)
		return false;
	u64 tbl_end = d->msix.table_off + 16ull * d->msix.nvec;
	u64 pba_end = d->msix.pba_off + 8ull * ((d->msix.nvec + 63u) / 64u);
	bool in_table = off >= d->msix.table_off && off < tbl_end;
	bool in_pba = off >= d->msix.pba_off && off < pba_end;
	if (!in_table && !in_pba)
		return false;
	if ((req->size != 4 && req->size != 8) || (off & (req->size - 1u))) {
		*res = IO_REFUSED;
		return true;
	}
	*res = IO_DONE;
	if (in_pba) {
		u64 o = off - d->msix.pba_off;
		if (!req->write)
			req->value = o < 4 ? (req->size == 8 ? (u64)d->msix.pba : d->msix.pba) : 0;
		return true;   /* writes: ignored */
	}
	u64 o = off - d->msix.table_off;
	if (!req->write) {
		req->value = table_dword(d, o);
		if (req->size == 8)
			req->value |= (u64)table_dword(d, o + 4) << 32;
		return true;
	}
	u64 f = spin_lock_irqsave(&d->msix.lock);
	bool msg = table_dword_write(d, o, (u32)req->value);
	if (req->size == 8)
		msg |= table_dword_write(d, o + 4, (u32)(req->value >> 32));
	if (msg)
		route_refresh(d, (unsigned)(o / 16));   /* one decode per guest write */
	flush_pending(d);
	spin_unlock_irqrestore(&d->msix.lock, f);
	return true;
}

void pci_msix_reset(struct pci_vdev *d)
{
	if (!d->msix.cap)
		return;
	u32 ctrl = pci_cfg_get(d, d->msix.cap + PCI_MSIX_CTRL, 2) & ~(PCI_MSIX_CTRL_FMASK | PCI_MSIX_CTRL_ENABLE);
	pci_cfg_set(d, d->msix.cap + PCI_MSIX_CTRL, 2, ctrl);
	u64 f = spin_lock_irqsave(&d->msix.lock);
	for (unsigned n = 0; n < PCI_MSIX_MAX_VECTORS; n++) {
		d->msix.table[n] = (struct msix_entry){ .ctrl = PCI_MSIX_ENTRY_MASKED };
		route_refresh(d, n);
	}
	d->msix.pba = 0;
	spin_unlock_irqrestore(&d->msix.lock, f);
}
