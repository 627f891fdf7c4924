/* SPDX-License-Identifier: MIT */
/*
 * The configuration space of one function (hv/pci/pci.h): PCI Local Bus Specification
 * 3.0, "Type 00h Configuration Space Header", "Base Address Registers", "Capabilities
 * List", "Interrupt Pin" / "Interrupt Line".
 *
 * The 256 bytes are stored as the guest reads them, with a write mask per byte: a
 * write changes only the bits the mask allows (read-only IDs, class, header type,
 * status, capability pointer and pin never change). Then the side effects:
 *  - BARs: the written dword is masked to the BAR's size, so writing all ones reads
 *    back the size mask with the type bits ("Address Decoding": "software ... writing a
 *    value of all 1's to the register, then reading the value back"). A 64-bit memory
 *    BAR keeps its upper dword in the next BAR register.
 *  - Memory Space / I/O Space in the command register and every BAR change re-place
 *    the ranges on the bus: a range is registered while its decode is enabled and its
 *    address is acceptable (not RAM, not the platform's fixed devices at 0xFEC00000 and
 *    up, no overlap with another range on the bus, 64-bit BARs below 2^46). A BAR the
 *    guest places elsewhere is simply not decoded (logged once per function).
 *  - Interrupt Disable, MSI Enable, MSI-X Enable: INTx# is deasserted at the IOAPIC
 *    while one is set.
 */
#include "hv/pci/pci.h"
#include "hv/vm/vm.h"
#include "hv/lib/lib.h"
#include "hv/lib/console.h"
#include "hv/mm/guest_layout.h"

#define PCI_MEM64_LIMIT (1ull << 46)

u64 pci_window32_start(const struct vm *vm)
{
	return vm->map.hole;   /* the 32-bit window is [hole, GUEST_ECAM_BASE) */
}

/* Does [base, base + len) overlap the VM's RAM (any span of its memory map)? */
static bool overlaps_ram(const struct vm *vm, u64 base, u64 len)
{
	const struct guest_map *m = &vm->map;
	if (!len)
		return false;
	for (u32 i = 0; i < m->nr_spans; i++) {
		u64 s = m->span[i].gpa, e = s + m->span[i].size;
		if (base < e && base + len > s)
			return true;
	}
	return false;
}

void pci_vdev_init(struct pci_vdev *d, struct vm *vm, u8 devfn, const char *model,
		   const struct pci_vdev_ops *ops, u16 vendor, u16 device, u32 class_code)
{
	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->devfn = devfn;
	d->ops = ops;
	hv_snprintf(d->name, sizeof(d->name), "00:%02x.%x %s", PCI_SLOT(devfn), PCI_FUNC(devfn), model);
	d->dev.name = d->name;
	d->dev.vm = vm;
	pci_cfg_set(d, PCI_VENDOR_ID, 2, vendor);
	pci_cfg_set(d, PCI_DEVICE_ID, 2, device);
	pci_cfg_set(d, PCI_REVISION_ID, 1, 1);
	pci_cfg_set(d, PCI_CLASS_PROG, 3, class_code);
	pci_cfg_set(d, PCI_SUBSYS_VENDOR_ID, 2, vendor);
	pci_cfg_set(d, PCI_SUBSYS_ID, 2, device);
	pci_wmask_set(d, PCI_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER | PCI_CMD_INTX_DISABLE);
	pci_wmask_set(d, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_wmask_set(d, PCI_LATENCY_TIMER, 1, 0xff);
	pci_wmask_set(d, PCI_INTERRUPT_LINE, 1, 0xff);
	d->cap_end = PCI_HEADER_END;
}

void pci_vdev_set_bar(struct pci_vdev *d, unsigned i, enum pci_bar_type type, u64 size)
{
	d->bar[i].type = type;
	d->bar[i].size = size;
	u32 reg = PCI_BAR0 + 4 * i;
	switch (type) {
	case PCI_BAR_PIO:
		pci_cfg_set(d, reg, 4, PCI_BAR_IO);
		break;
	case PCI_BAR_MEM64:
		pci_cfg_set(d, reg, 4, PCI_BAR_MEM_TYPE_64);
		d->bar[i + 1].type = PCI_BAR_NONE;
		d->bar[i + 1].size = 0;
		break;
	default:
		pci_cfg_set(d, reg, 4, 0);
		break;
	}
}

u8 pci_vdev_add_cap(struct pci_vdev *d, u8 id, u8 len)
{
	u32 at = ALIGN_UP((u32)d->cap_end, 4u);
	if (at + len > PCI_CFG_SIZE)
		return 0;
	/* Link it at the end of the list. */
	u32 link = PCI_CAP_PTR;
	while (d->cfg[link])
		link = d->cfg[link] + 1u;
	d->cfg[link] = (u8)at;
	d->cfg[at] = id;
	d->cfg[at + 1] = 0;
	d->cap_end = (u8)MIN(at + len, 0xffu);
	pci_cfg_set(d, PCI_STATUS, 2, pci_cfg_get(d, PCI_STATUS, 2) | PCI_STS_CAP_LIST);
	return (u8)at;
}

u64 pci_bar_addr(const struct pci_vdev *d, unsigned i)
{
	u32 lo = pci_cfg_get(d, PCI_BAR0 + 4 * i, 4);
	switch (d->bar[i].type) {
	case PCI_BAR_PIO:
		return lo & PCI_BAR_IO_MASK;
	case PCI_BAR_MEM32:
		return lo & PCI_BAR_MEM_MASK;
	case PCI_BAR_MEM64:
		return (lo & PCI_BAR_MEM_MASK) | ((u64)pci_cfg_get(d, PCI_BAR0 + 4 * (i + 1), 4) << 32);
	default:
		return 0;
	}
}

static void intx_update(struct pci_vdev *d);

/* ---- BAR ranges on the bus ---- */

static enum io_result bar_access(struct vdev *dev, struct vcpu *v, unsigned bar, u64 off, struct io_req *req)
{
	struct pci_vdev *d = container_of(dev, struct pci_vdev, dev);
	enum io_result r;
	if (d->ops->bar_lockless)   /* the function takes its lock and calls pci_msix_bar_access itself */
		return d->ops->bar_access(d, v, bar, off, req);
	if (pci_msix_bar_access(d, bar, off, req, &r))
		return r;
	if (d->ops->bar_access)
		return d->ops->bar_access(d, v, bar, off, req);
	if (!req->write)
		req->value = ~0ull;
	return IO_DONE;
}

/* The bus gives a callback no cookie: one ops struct per BAR index. */
#define BAR_OPS(n) \
	static enum io_result bar##n##_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req) \
	{ \
		return bar_access(dev, v, n, off, req); \
	}
BAR_OPS(0)
BAR_OPS(1)
BAR_OPS(2)
BAR_OPS(3)
BAR_OPS(4)
BAR_OPS(5)
static const struct io_range_ops bar_ops[PCI_NR_BARS] = {
	{ bar0_access }, { bar1_access }, { bar2_access }, { bar3_access }, { bar4_access }, { bar5_access },
};

static bool decode_enabled(const struct pci_vdev *d, const struct pci_bar *b)
{
	u16 cmd = (u16)pci_cfg_get(d, PCI_COMMAND, 2);
	return b->type == PCI_BAR_PIO ? (cmd & PCI_CMD_IO) : (cmd & PCI_CMD_MEMORY);
}

/* Why the guest's placement of a BAR cannot be decoded, or NULL. */
static const char *placement_problem(const struct pci_vdev *d, const struct pci_bar *b, u64 at)
{
	if (b->type == PCI_BAR_PIO)
		return at + b->size > 0x10000 ? "beyond the 64 KiB port space" : NULL;
	if (overlaps_ram(d->vm, at, b->size))
		return "over guest RAM";
	if (at + b->size > PCI_MEM64_LIMIT || at + b->size < at)
		return "above the guest-physical address width";
	if (at < GUEST_4G && at + b->size > GUEST_IOAPIC_BASE)
		return "over the IOAPIC/LAPIC/firmware area";
	return NULL;
}

static void bar_unmap(struct pci_vdev *d, unsigned i)
{
	struct pci_bar *b = &d->bar[i];
	if (!b->mapped)
		return;
	io_bus_unregister(d->vm, b->type == PCI_BAR_PIO ? IO_SPACE_PORT : IO_SPACE_MMIO, b->mapped_at, &d->dev);
	b->mapped = false;
	if (d->ops->bar_placed)
		d->ops->bar_placed(d, i, false, b->mapped_at);
}

static void bar_refused(struct pci_vdev *d, unsigned i, u64 at, const char *why)
{
	if (d->bar_refused++ == 0)
		printk("vm %s: PCI %s BAR%u at 0x%llx (size 0x%llx) %s: not decoded (logged once)\n",
		       d->vm->name, d->name, i, (unsigned long long)at, (unsigned long long)d->bar[i].size, why);
}

/* Make the bus agree with BAR i's address and the decode enables. */
static void bar_update(struct pci_vdev *d, unsigned i)
{
	struct pci_bar *b = &d->bar[i];
	if (b->type == PCI_BAR_NONE || !b->size)
		return;
	u64 at = pci_bar_addr(d, i);
	bool want = decode_enabled(d, b);
	if (b->mapped && (!want || b->mapped_at != at))
		bar_unmap(d, i);
	if (!want || b->mapped)
		return;
	const char *why = placement_problem(d, b, at);
	if (why) {
		bar_refused(d, i, at, why);
		return;
	}
	enum io_space sp = b->type == PCI_BAR_PIO ? IO_SPACE_PORT : IO_SPACE_MMIO;
	if (!io_bus_register(d->vm, sp, at, b->size, &d->dev, &bar_ops[i], d->ops->bar_lockless ? IO_RANGE_LOCKLESS : 0)) {
		bar_refused(d, i, at, "over another device's range");
		return;
	}
	b->mapped = true;
	b->mapped_at = at;
	if (d->ops->bar_placed)
		d->ops->bar_placed(d, i, true, at);
}

static void bars_update(struct pci_vdev *d)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		bar_update(d, i);
}

/* The value a BAR register keeps when val is written to it. */
static u32 bar_reg_value(const struct pci_vdev *d, unsigned i, u32 val)
{
	const struct pci_bar *b = &d->bar[i];
	if (i > 0 && d->bar[i - 1].type == PCI_BAR_MEM64)   /* upper dword of a 64-bit BAR */
		return val & (u32)(~(d->bar[i - 1].size - 1) >> 32);
	switch (b->type) {
	case PCI_BAR_PIO:
		/* A 16-bit I/O decoder: bits 31:16 read 0. */
		return (val & (u32)~(b->size - 1) & 0xfffcu) | PCI_BAR_IO;
	case PCI_BAR_MEM32:
		return val & (u32)~(b->size - 1) & PCI_BAR_MEM_MASK;
	case PCI_BAR_MEM64:
		return (val & (u32)~(b->size - 1) & PCI_BAR_MEM_MASK) | PCI_BAR_MEM_TYPE_64;
	default:
		return 0;   /* unimplemented: hardwired to 0 */
	}
}

u32 pci_vdev_cfg_read(struct pci_vdev *d, u32 reg, unsigned size)
{
	if (reg >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - reg)
		return 0;   /* PCIe extended space: no extended capabilities (header 0) */
	if (d->ops->cfg_read)
		d->ops->cfg_read(d, reg, size);
	return pci_cfg_get(d, reg, size);
}

void pci_vdev_cfg_write(struct pci_vdev *d, u32 reg, unsigned size, u32 val)
{
	if (reg >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - reg)
		return;
	u16 old_cmd = (u16)pci_cfg_get(d, PCI_COMMAND, 2);
	bool bars = false;
	for (unsigned k = 0; k < size; k++) {
		u32 r = reg + k;
		u8 byte = (u8)(val >> (8 * k));
		if (r >= PCI_BAR0 && r < PCI_BAR0 + 4 * PCI_NR_BARS) {
			unsigned i = (r - PCI_BAR0) / 4, sh = (r & 3) * 8;
			u32 cur = pci_cfg_get(d, PCI_BAR0 + 4 * i, 4);
			u32 merged = (cur & ~(0xffu << sh)) | ((u32)byte << sh);
			pci_cfg_set(d, PCI_BAR0 + 4 * i, 4, bar_reg_value(d, i, merged));
			bars = true;
			continue;
		}
		d->cfg[r] = (u8)((d->cfg[r] & ~d->wmask[r]) | (byte & d->wmask[r]));
	}
	u16 cmd = (u16)pci_cfg_get(d, PCI_COMMAND, 2);
	if (bars || ((old_cmd ^ cmd) & (PCI_CMD_IO | PCI_CMD_MEMORY)))
		bars_update(d);
	if (d->msi.cap && reg < d->msi.cap + 0x18u && reg + size > d->msi.cap)
		pci_msi_cfg_written(d, reg, size);
	if (d->msix.cap && reg < d->msix.cap + (u32)PCI_MSIX_CAP_LEN && reg + size > d->msix.cap)
		pci_msix_cfg_written(d, reg, size);
	intx_update(d);   /* Interrupt Disable, MSI or MSI-X Enable may have changed */
	if (d->ops->cfg_written)
		d->ops->cfg_written(d, reg, size);
}

/* Drive the IOAPIC input to what the device's INTx# and the enables say. "While
 * enabled for MSI or MSI-X operation, a function is prohibited from using its INTx#
 * pin", and Interrupt Disable holds it deasserted. */
static void intx_update(struct pci_vdev *d)
{
	u8 pin = d->cfg[PCI_INTERRUPT_PIN];
	bool disabled = (pci_cfg_get(d, PCI_COMMAND, 2) & PCI_CMD_INTX_DISABLE) || pci_msi_enabled(d) ||
			pci_msix_enabled(d);
	bool line = pin && d->intx_asserted && !disabled;
	if (line == d->intx_line)
		return;
	d->intx_line = line;
	vioapic_set_irq(&d->vm->ioapic, pci_intx_gsi(PCI_SLOT(d->devfn), pin), line);
}

void pci_intx_set(struct pci_vdev *d, bool level)
{
	d->intx_asserted = level;
	u16 sts = (u16)pci_cfg_get(d, PCI_STATUS, 2);
	pci_cfg_set(d, PCI_STATUS, 2, level ? sts | PCI_STS_INTERRUPT : sts & ~PCI_STS_INTERRUPT);
	intx_update(d);
}

void pci_vdev_reset(struct pci_vdev *d)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		bar_unmap(d, i);
		if (d->bar[i].type != PCI_BAR_NONE || (i > 0 && d->bar[i - 1].type == PCI_BAR_MEM64))
			pci_cfg_set(d, PCI_BAR0 + 4 * i, 4, bar_reg_value(d, i, 0));
	}
	pci_cfg_set(d, PCI_COMMAND, 2, 0);
	pci_cfg_set(d, PCI_INTERRUPT_LINE, 1, 0);
	pci_msi_reset(d);
	pci_msix_reset(d);
	pci_intx_set(d, false);
	if (d->ops->reset)
		d->ops->reset(d);
}
