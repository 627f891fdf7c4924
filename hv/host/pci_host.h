/* SPDX-License-Identifier: MIT */
/*
 * The machine's own PCI functions (not the guests' virtual PCI of hv/pci/):
 * configuration access through the ECAM window the ACPI MCFG table gives ("PCI
 * Firmware Specification", "MCFG Table Description"; PCI Express Base Specification,
 * "Enhanced Configuration Access Mechanism"), else configuration mechanism #1 at
 * 0xCF8/0xCFC (PCI Local Bus Specification, "Configuration Mechanism #1"), and a scan
 * of bus 0 and the buses below its bridges, done once at boot.
 */
#ifndef HV_HOST_PCI_HOST_H
#define HV_HOST_PCI_HOST_H

#include "hv/lib/types.h"

struct acpi_info;

#define HOST_PCI_MAX 64

struct host_pci_dev {
	u16 seg;
	u8 bus, dev, fn;
	u16 vendor, device;
	u32 class;              /* class code, subclass, programming interface (24 bits) */
	u8 header;              /* header type without the multi-function bit */
	u8 secondary, subordinate;   /* bridges (header type 1) */
};

extern struct host_pci_dev host_pci[HOST_PCI_MAX];
extern u32 host_pci_count;

static inline u16 host_pci_bdf(const struct host_pci_dev *d)
{
	return (u16)(d->bus << 8 | d->dev << 3 | d->fn);
}

/* Choose the access method (ECAM of segment 0 from the MCFG when there is one) and
 * scan; prints one line on the method and the count. */
void host_pci_init(const struct acpi_info *ai);
/* Configuration space of seg:bus:dev.fn, size 1, 2 or 4 bytes at off (aligned). Offsets
 * from 256 need ECAM; without it reads return all ones and writes are dropped. */
u32 host_pci_read(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, u32 size);
void host_pci_write(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, u32 size, u32 val);
static inline u32 host_pci_dev_read(const struct host_pci_dev *d, u16 off, u32 size)
{
	return host_pci_read(d->seg, d->bus, d->dev, d->fn, off, size);
}
static inline void host_pci_dev_write(const struct host_pci_dev *d, u16 off, u32 size, u32 val)
{
	host_pci_write(d->seg, d->bus, d->dev, d->fn, off, size, val);
}
/* The first function with this vendor and device ID, or NULL. */
const struct host_pci_dev *host_pci_find(u16 vendor, u16 device);
/* The config offset of capability id in d's list, or 0 ("Capabilities List"). */
u8 host_pci_find_cap(const struct host_pci_dev *d, u8 id);
/* One line per function: "pci: 00:02.0 1234:11e8 class 00ff00<suffix>". */
void host_pci_print(const char *(*suffix)(const struct host_pci_dev *d, char *buf, size_t len));

#endif
