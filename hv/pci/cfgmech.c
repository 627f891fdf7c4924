/* SPDX-License-Identifier: MIT */
/*
 * The PCI configuration mechanisms of a VM's host bridge (hv/pci/pci.h):
 *
 * Configuration Mechanism #1 (PCI Local Bus Specification 3.0, "Configuration
 * Mechanism #1"; one host bridge, bus 0 only: other bus numbers read all ones):
 *   0xCF8 CONFIG_ADDRESS, 32 bits: 31 Enable, 30:24 reserved (read 0), 23:16 Bus
 *         Number, 15:11 Device Number, 10:8 Function Number, 7:2 Register Number,
 *         1:0 read 0. "Only DWORD accesses to CONFIG_ADDRESS are decoded as
 *         CONFIG_ADDRESS": a byte or word access at 0xCF8-0xCFB goes elsewhere on a PC
 *         (nothing here: reads all ones, writes dropped), except a byte access at
 *         0xCF9, the Reset Control Register of hv/dev/reset.c.
 *   0xCFC CONFIG_DATA, 0xCFC-0xCFF: byte, word or dword; the byte lanes select the
 *         bytes of the addressed dword. With Enable clear it reads all ones.
 * ECAM (PCI Express Base Specification, "Enhanced Configuration Access Mechanism"):
 *   GUEST_ECAM_BASE + (Bus << 20 | Device << 15 | Function << 12 | Register), bus 0
 *   only (1 MiB, the ACPI MCFG entry), 1-, 2- or 4-byte naturally aligned accesses
 *   (other accesses are refused: the VM stops with a diagnosis).
 * A function that does not exist reads all ones ("the host bridge ... must return
 * all 1's" on a Master-Abort), and writes to it are dropped.
 */
#include "hv/pci/pci.h"
#include "hv/vm/vm.h"
#include "hv/lib/lib.h"
#include "hv/mm/guest_layout.h"
#include "hv/dev/dev.h"

#define PCI_CONFIG_ADDRESS 0xcf8   /* CONFIG_ADDRESS */
#define PCI_CONFIG_DATA 0xcfc      /* CONFIG_DATA */
#define CF8_ENABLE BIT(31)
#define CF8_WRITABLE 0x80fffffcu   /* Enable, Bus, Device, Function, Register */

static struct vpci vpcis[MAX_VMS];

bool pci_cf8_decode(u32 cf8, u8 *devfn, u32 *reg)
{
	if (!(cf8 & CF8_ENABLE) || ((cf8 >> 16) & 0xff))
		return false;
	*devfn = (u8)((cf8 >> 8) & 0xff);
	*reg = cf8 & 0xfc;
	return true;
}

static u32 ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

u32 vpci_cfg_read(struct vpci *p, u8 devfn, u32 reg, unsigned size)
{
	struct pci_vdev *d = p->fn[devfn];
	if (!d)
		return ones(size);
	u64 f = spin_lock_irqsave(&d->dev.lock);
	u32 v = pci_vdev_cfg_read(d, reg, size);
	spin_unlock_irqrestore(&d->dev.lock, f);
	return v;
}

void vpci_cfg_write(struct vpci *p, u8 devfn, u32 reg, unsigned size, u32 val)
{
	struct pci_vdev *d = p->fn[devfn];
	if (!d)
		return;
	u64 f = spin_lock_irqsave(&d->dev.lock);
	pci_vdev_cfg_write(d, reg, size, val & ones(size));
	spin_unlock_irqrestore(&d->dev.lock, f);
}

static enum io_result cf8_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	struct vpci *p = container_of(dev, struct vpci, cfg_dev);
	if (off == 1 && req->size == 1)
		return reset_cnt_access(v, req);   /* 0xCF9: the Reset Control Register */
	if (off != 0 || req->size != 4) {
		if (!req->write)
			req->value = ones(req->size);
		return IO_DONE;
	}
	if (req->write)
		__atomic_store_n(&p->cf8, (u32)req->value & CF8_WRITABLE, __ATOMIC_RELAXED);
	else
		req->value = __atomic_load_n(&p->cf8, __ATOMIC_RELAXED);
	return IO_DONE;
}

static enum io_result cfc_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	struct vpci *p = container_of(dev, struct vpci, cfg_dev);
	u8 devfn;
	u32 reg;
	if (off + req->size > 4 || req->size > 4)
		return IO_REFUSED;
	if (!pci_cf8_decode(__atomic_load_n(&p->cf8, __ATOMIC_RELAXED), &devfn, &reg)) {
		if (!req->write)
			req->value = ones(req->size);
		return IO_DONE;
	}
	if (req->write)
		vpci_cfg_write(p, devfn, reg + (u32)off, req->size, (u32)req->value);
	else
		req->value = vpci_cfg_read(p, devfn, reg + (u32)off, req->size);
	return IO_DONE;
}

static enum io_result ecam_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	struct vpci *p = container_of(dev, struct vpci, cfg_dev);
	if (req->size > 4 || (off & (req->size - 1u)))
		return IO_REFUSED;
	u8 devfn = (u8)(off >> 12);
	u32 reg = (u32)(off & 0xfff);
	if (req->write)
		vpci_cfg_write(p, devfn, reg, req->size, (u32)req->value);
	else
		req->value = vpci_cfg_read(p, devfn, reg, req->size);
	return IO_DONE;
}

static const struct io_range_ops cf8_ops = { cf8_access };
static const struct io_range_ops cfc_ops = { cfc_access };
static const struct io_range_ops ecam_ops = { ecam_access };

static void vpci_reset(struct vdev *dev)
{
	struct vpci *p = container_of(dev, struct vpci, cfg_dev);
	p->cf8 = 0;
	for (unsigned i = 0; i < PCI_MAX_DEVFN; i++) {
		struct pci_vdev *d = p->fn[i];
		if (!d)
			continue;
		u64 f = spin_lock_irqsave(&d->dev.lock);
		pci_vdev_reset(d);
		spin_unlock_irqrestore(&d->dev.lock, f);
	}
}

static void vpci_destroy(struct vdev *dev)
{
	struct vpci *p = container_of(dev, struct vpci, cfg_dev);
	io_bus_unregister(p->vm, IO_SPACE_PORT, PCI_CONFIG_ADDRESS, dev);
	io_bus_unregister(p->vm, IO_SPACE_PORT, PCI_CONFIG_DATA, dev);
	io_bus_unregister(p->vm, IO_SPACE_MMIO, GUEST_ECAM_BASE, dev);
	for (unsigned i = 0; i < PCI_MAX_DEVFN; i++) {
		struct pci_vdev *d = p->fn[i];
		if (!d)
			continue;
		pci_vdev_reset(d);   /* unmaps its BARs */
		p->fn[i] = NULL;
		if (d->ops->destroy)
			d->ops->destroy(d);
	}
	p->vm->pci = NULL;
}

static const struct vdev_ops vpci_ops = { .reset = vpci_reset, .destroy = vpci_destroy };

bool vpci_create(struct vm *vm, char *err, size_t errlen)
{
	if (vm->id >= MAX_VMS) {
		hv_snprintf(err, errlen, "PCI: VM index %u", vm->id);
		return false;
	}
	struct vpci *p = &vpcis[vm->id];
	memset(p, 0, sizeof(*p));
	p->vm = vm;
	if (!io_bus_register(vm, IO_SPACE_PORT, PCI_CONFIG_ADDRESS, 4, &p->cfg_dev, &cf8_ops, IO_RANGE_LOCKLESS) ||
	    !io_bus_register(vm, IO_SPACE_PORT, PCI_CONFIG_DATA, 4, &p->cfg_dev, &cfc_ops, IO_RANGE_LOCKLESS) ||
	    !io_bus_register(vm, IO_SPACE_MMIO, GUEST_ECAM_BASE, GUEST_ECAM_SIZE, &p->cfg_dev, &ecam_ops,
			     IO_RANGE_LOCKLESS)) {
		hv_snprintf(err, errlen, "PCI: the configuration ports 0xcf8-0xcff or ECAM at 0x%llx are taken",
			    (unsigned long long)GUEST_ECAM_BASE);
		return false;
	}
	vdev_add(vm, &p->cfg_dev, "PCI config", &vpci_ops);
	vm->pci = p;
	if (!pci_hostbridge_create(p)) {
		hv_snprintf(err, errlen, "PCI: host bridge");
		return false;
	}
	return true;
}

bool vpci_add(struct vpci *p, struct pci_vdev *d)
{
	if (p->fn[d->devfn])
		return false;
	d->vpci = p;
	p->fn[d->devfn] = d;
	return true;
}
