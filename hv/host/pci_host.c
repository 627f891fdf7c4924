/* SPDX-License-Identifier: MIT */
/* Host PCI configuration access and the boot scan (pci_host.h). */
#include "hv/host/pci_host.h"
#include "hv/host/acpi.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "arch/x86/x86.h"

#define PCI_VENDOR 0x00
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_CAP_PTR 0x34
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a

struct host_pci_dev host_pci[HOST_PCI_MAX];
u32 host_pci_count;
static u32 dropped;
static u64 ecam_base;       /* 0: mechanism #1 */
static u8 ecam_start, ecam_end;

static volatile void *ecam_addr(u8 bus, u8 dev, u8 fn, u16 off)
{
	return phys_to_virt(ecam_base + ((u64)(bus - ecam_start) << 20 | (u64)dev << 15 | (u64)fn << 12 | off));
}

u32 host_pci_read(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, u32 size)
{
	if (seg || dev > 31 || fn > 7 || off + size > 4096 || (off & (size - 1)))
		return 0xffffffffu;
	if (ecam_base && bus >= ecam_start && bus <= ecam_end) {
		volatile void *a = ecam_addr(bus, dev, fn, off);
		return size == 1 ? *(volatile u8 *)a : size == 2 ? *(volatile u16 *)a : *(volatile u32 *)a;
	}
	if (off >= 256)
		return 0xffffffffu;
	outl(0xcf8, 0x80000000u | (u32)bus << 16 | (u32)dev << 11 | (u32)fn << 8 | (off & 0xfc));
	u16 port = (u16)(0xcfc + (off & 3));
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

void host_pci_write(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, u32 size, u32 val)
{
	if (seg || dev > 31 || fn > 7 || off + size > 4096 || (off & (size - 1)))
		return;
	if (ecam_base && bus >= ecam_start && bus <= ecam_end) {
		volatile void *a = ecam_addr(bus, dev, fn, off);
		if (size == 1)
			*(volatile u8 *)a = (u8)val;
		else if (size == 2)
			*(volatile u16 *)a = (u16)val;
		else
			*(volatile u32 *)a = val;
		return;
	}
	if (off >= 256)
		return;
	outl(0xcf8, 0x80000000u | (u32)bus << 16 | (u32)dev << 11 | (u32)fn << 8 | (off & 0xfc));
	u16 port = (u16)(0xcfc + (off & 3));
	if (size == 1)
		outb(port, (u8)val);
	else if (size == 2)
		outw(port, (u16)val);
	else
		outl(port, val);
}

static void scan_bus(u8 bus, u32 depth);

static void scan_fn(u8 bus, u8 dev, u8 fn, u32 depth)
{
	u32 id = host_pci_read(0, bus, dev, fn, PCI_VENDOR, 4);
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return;
	if (host_pci_count >= HOST_PCI_MAX) {
		dropped++;
		return;
	}
	struct host_pci_dev *d = &host_pci[host_pci_count++];
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = (u16)id;
	d->device = (u16)(id >> 16);
	d->class = host_pci_read(0, bus, dev, fn, PCI_CLASS_REV, 4) >> 8;
	d->header = (u8)(host_pci_read(0, bus, dev, fn, PCI_HEADER_TYPE, 1) & 0x7f);
	if (d->header == 1) {
		d->secondary = (u8)host_pci_read(0, bus, dev, fn, PCI_SECONDARY_BUS, 1);
		d->subordinate = (u8)host_pci_read(0, bus, dev, fn, PCI_SUBORDINATE_BUS, 1);
		/* buses the firmware numbered below this one; depth bounds a looping topology */
		if (d->secondary > bus && depth < 8)
			scan_bus(d->secondary, depth + 1);
	}
}

static void scan_bus(u8 bus, u32 depth)
{
	for (u8 dev = 0; dev < 32; dev++) {
		if ((host_pci_read(0, bus, dev, 0, PCI_VENDOR, 2) & 0xffff) == 0xffff)
			continue;
		bool multi = host_pci_read(0, bus, dev, 0, PCI_HEADER_TYPE, 1) & 0x80;
		for (u8 fn = 0; fn < (multi ? 8 : 1); fn++)
			scan_fn(bus, dev, fn, depth);
	}
}

void host_pci_init(const struct acpi_info *ai)
{
	host_pci_count = 0;
	dropped = 0;
	ecam_base = 0;
	if (ai && ai->has_mcfg && ai->mcfg_base && ai->mcfg_bus_end >= ai->mcfg_bus_start) {
		ecam_base = ai->mcfg_base;
		ecam_start = ai->mcfg_bus_start;
		ecam_end = ai->mcfg_bus_end;
	}
	scan_bus(0, 0);
	if (ecam_base)
		printk("pci: host configuration through ECAM at 0x%llx (buses %u-%u, ACPI MCFG), %u function(s)%s\n",
		       (unsigned long long)ecam_base, ecam_start, ecam_end, host_pci_count, dropped ? ", more not kept" : "");
	else
		printk("pci: host configuration through 0xCF8/0xCFC (no ACPI MCFG), %u function(s)%s\n", host_pci_count,
		       dropped ? ", more not kept" : "");
}

const struct host_pci_dev *host_pci_find(u16 vendor, u16 device)
{
	for (u32 i = 0; i < host_pci_count; i++)
		if (host_pci[i].vendor == vendor && host_pci[i].device == device)
			return &host_pci[i];
	return NULL;
}

u8 host_pci_find_cap(const struct host_pci_dev *d, u8 id)
{
	if (!(host_pci_dev_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	u8 p = (u8)(host_pci_dev_read(d, PCI_CAP_PTR, 1) & 0xfc);
	for (u32 n = 0; p >= 0x40 && n < 48; n++) {
		if ((host_pci_dev_read(d, p, 1) & 0xff) == id)
			return p;
		p = (u8)(host_pci_dev_read(d, (u16)(p + 1), 1) & 0xfc);
	}
	return 0;
}

void host_pci_print(const char *(*suffix)(const struct host_pci_dev *d, char *buf, size_t len))
{
	for (u32 i = 0; i < host_pci_count; i++) {
		const struct host_pci_dev *d = &host_pci[i];
		char buf[96];
		char br[40] = "";
		if (d->header == 1)
			hv_snprintf(br, sizeof(br), " bridge to buses %u-%u", d->secondary, d->subordinate);
		printk("pci: %02x:%02x.%u %04x:%04x class %06x%s%s\n", d->bus, d->dev, d->fn, d->vendor, d->device,
		       d->class, br, suffix ? suffix(d, buf, sizeof(buf)) : "");
	}
}
