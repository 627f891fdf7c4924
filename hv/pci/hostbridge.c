/* SPDX-License-Identifier: MIT */
/*
 * The host bridge at 00:00.0: class 06h/00h/00h ("Base Class 06h": Bridge Device, Host
 * bridge), no BARs, no interrupt; what an OS expects to find at slot 0 of a PNP0A03
 * root bus. Its configuration registers are the common header (hv/pci/config.c).
 */
#include "hv/pci/pci.h"
#include "hv/vm/vm.h"

static struct pci_vdev bridges[MAX_VMS];

static const struct pci_vdev_ops hostbridge_ops = { 0 };

bool pci_hostbridge_create(struct vpci *p)
{
	struct pci_vdev *d = &bridges[p->vm->id];
	pci_vdev_init(d, p->vm, PCI_DEVFN(0, 0), "hostbridge", &hostbridge_ops, PCI_VENDOR_MICROHV,
		      PCI_DEVICE_HOSTBRIDGE, 0x060000);
	return vpci_add(p, d);
}
