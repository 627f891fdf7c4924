/* SPDX-License-Identifier: MIT */
/*
 * hv/pci: configuration mechanism #1 and ECAM, the type 0 header with BAR sizing and
 * relocation on the real I/O bus (hv/io/bus.c), MSI with per-vector masking, MSI-X
 * table/PBA with masks and access rules, INTx through the real vIOAPIC (level, EOI
 * re-raise), and the test device's DMA engine. vlapic_deliver() is a fake that records
 * every message.
 */
#include "tests/unit/support.h"
#include "hv/pci/pci.h"
#include "hv/pci/testdev.h"
#include "hv/vm/vm.h"
#include "hv/mm/guest_layout.h"
#include "hv/host/work.h"

#define RAM_SIZE (16u << 20)
static struct vm vm;

struct msg {
	u32 dest;
	bool logical;
	u8 dm, vector;
	bool level;
};
static struct msg msgs[32];
static unsigned nmsgs;

void vlapic_deliver(struct vm *v, struct vcpu *src, u32 shorthand, u32 dest, bool logical, u8 dm,
		    u8 vector, bool level)
{
	assert_ptr_equal(v, &vm);
	assert_null(src);
	assert_int_equal(shorthand, SH_NONE);
	assert_true(nmsgs < ARRAY_SIZE(msgs));
	msgs[nmsgs++] = (struct msg){ dest, logical, dm, vector, level };
}

/* The vLAPIC's physical lookup for the MSI route cache: APIC ID = index; a message to
 * the vCPU found is recorded like vlapic_deliver's. */
static struct vcpu fake_vcpu[16];
struct vcpu *vlapic_phys_target(struct vm *v, u32 dest)
{
	assert_ptr_equal(v, &vm);
	return dest < ARRAY_SIZE(fake_vcpu) ? &fake_vcpu[dest] : NULL;
}

void vlapic_deliver_to(struct vcpu *t, u8 dm, u8 vector, bool level)
{
	assert_true(nmsgs < ARRAY_SIZE(msgs));
	msgs[nmsgs++] = (struct msg){ (u32)(t - fake_vcpu), false, dm, vector, level };
}

/* hv/host/work.c (msi_delivery=deferred): run at once, counted. */
static unsigned work_items;
bool work_queue(struct cpu *c, work_fn fn, void *arg, u64 x, u64 y)
{
	(void)c;
	work_items++;
	fn(arg, x, y);
	return true;
}

void vlapic_level_vectors_changed(struct vm *v)
{
	(void)v;
}

/* hv/dev/reset.c: 0xCF9 inside the CONFIG_ADDRESS range; records what cfgmech hands it. */
static unsigned cf9_calls;
static u64 cf9_last;
enum io_result reset_cnt_access(struct vcpu *v, struct io_req *req)
{
	(void)v;
	assert_int_equal(req->size, 1);
	cf9_calls++;
	if (req->write)
		cf9_last = req->value;
	else
		req->value = 0x02;
	return IO_DONE;
}

/* ---- accesses through the bus, as the exit handlers make them ---- */

static enum io_result access(enum io_space sp, u64 addr, unsigned size, bool write, u64 *val)
{
	struct io_req req = { .space = sp, .addr = addr, .size = (u8)size, .write = write,
			      .value = write ? *val : 0 };
	bool claimed = true;
	enum io_result r = io_bus_dispatch(&vm, NULL, &req, &claimed, NULL);
	if (sp == IO_SPACE_MMIO && !claimed)
		return (enum io_result)99;
	if (!write)
		*val = req.value;
	return r;
}

static u32 in(u16 port, unsigned size)
{
	u64 v = 0;
	assert_int_equal(access(IO_SPACE_PORT, port, size, false, &v), IO_DONE);
	return (u32)v;
}

static void out(u16 port, unsigned size, u32 val)
{
	u64 v = val;
	assert_int_equal(access(IO_SPACE_PORT, port, size, true, &v), IO_DONE);
}

static u64 mrd(u64 gpa, unsigned size)
{
	u64 v = 0;
	assert_int_equal(access(IO_SPACE_MMIO, gpa, size, false, &v), IO_DONE);
	return v;
}

static void mwr(u64 gpa, unsigned size, u64 val)
{
	assert_int_equal(access(IO_SPACE_MMIO, gpa, size, true, &val), IO_DONE);
}

static u32 cfg1_read(u8 devfn, u32 reg, unsigned size)
{
	out(0xcf8, 4, 0x80000000u | (u32)devfn << 8 | (reg & 0xfc));
	return in((u16)(0xcfc + (reg & 3)), size);
}

static void cfg1_write(u8 devfn, u32 reg, unsigned size, u32 val)
{
	out(0xcf8, 4, 0x80000000u | (u32)devfn << 8 | (reg & 0xfc));
	out((u16)(0xcfc + (reg & 3)), size, val);
}

static u64 ecam(u8 devfn, u32 reg)
{
	return GUEST_ECAM_BASE + ((u64)devfn << 12) + reg;
}

#define TD PCI_TESTDEV_DEVFN

static int setup(void **state)
{
	(void)state;
	static u8 *ram;
	if (!ram)
		ram = calloc(1, RAM_SIZE);
	if (vm.pci)
		vdev_destroy_all(&vm);
	memset(&vm, 0, sizeof(vm));
	memset(ram, 0, RAM_SIZE);
	strcpy(vm.name, "t");
	vm.ram = ram;
	vm.ram_size = RAM_SIZE;
	char err[128];
	assert_true(guest_map_build(&vm.map, RAM_SIZE, 0, err, sizeof(err)));
	vioapic_init(&vm.ioapic, &vm, 1);
	assert_true(vpci_create(&vm, err, sizeof(err)));
	assert_true(pci_testdev_create(vm.pci, err, sizeof(err)));
	nmsgs = 0;
	return 0;
}

static void mechanism_one(void **state)
{
	(void)state;
	u8 devfn;
	u32 reg;
	assert_true(pci_cf8_decode(0x80001234u, &devfn, &reg));
	assert_int_equal(devfn, 0x12);
	assert_int_equal(reg, 0x34);
	assert_false(pci_cf8_decode(0x00001234u, &devfn, &reg));   /* Enable clear */
	assert_false(pci_cf8_decode(0x80011234u, &devfn, &reg));   /* bus 1 */

	/* CONFIG_ADDRESS: dword only; reserved bits 30:24 and 1:0 read 0. */
	out(0xcf8, 4, 0xffffffffu);
	assert_int_equal(in(0xcf8, 4), 0x80fffffcu);
	out(0xcf8, 1, 0);   /* a byte access is not CONFIG_ADDRESS */
	assert_int_equal(in(0xcf8, 4), 0x80fffffcu);
	assert_int_equal(in(0xcf8, 2), 0xffff);
	/* A byte at 0xCF9 is the Reset Control Register (hv/dev/reset.c), not CONFIG_ADDRESS. */
	cf9_calls = 0;
	out(0xcf9, 1, 0x0a);
	assert_int_equal(cf9_calls, 1);
	assert_int_equal(cf9_last & 0xff, 0x0a);
	assert_int_equal(in(0xcf9, 1), 0x02);
	assert_int_equal(cf9_calls, 2);
	assert_int_equal(in(0xcf8, 4), 0x80fffffcu);   /* CONFIG_ADDRESS untouched */
	out(0xcf8, 4, 0x80000000u);
	in(0xcf8, 4);
	in(0xcfa, 2);
	assert_int_equal(cf9_calls, 2);                 /* dword and word accesses are not its */
	out(0xcf8, 4, 0xffffffffu);

	/* The host bridge and the test device, by dword, word and byte lanes. */
	assert_int_equal(cfg1_read(0, PCI_VENDOR_ID, 4), PCI_DEVICE_HOSTBRIDGE << 16 | PCI_VENDOR_MICROHV);
	assert_int_equal(cfg1_read(0, PCI_REVISION_ID, 4) >> 8, 0x060000);
	assert_int_equal(cfg1_read(TD, PCI_DEVICE_ID, 2), TESTDEV_DEVICE);
	assert_int_equal(cfg1_read(TD, PCI_VENDOR_ID + 1, 1), TESTDEV_VENDOR >> 8);
	assert_int_equal(cfg1_read(TD, PCI_INTERRUPT_PIN, 1), 1);
	/* Absent functions and buses read all ones; a disabled CONFIG_ADDRESS too. */
	assert_int_equal(cfg1_read(PCI_DEVFN(5, 0), 0, 4), 0xffffffffu);
	assert_int_equal(cfg1_read(PCI_DEVFN(2, 1), 0, 2), 0xffff);
	out(0xcf8, 4, 0x80010000u);
	assert_int_equal(in(0xcfc, 4), 0xffffffffu);
	out(0xcf8, 4, (u32)TD << 8);
	assert_int_equal(in(0xcfc, 4), 0xffffffffu);
	/* A word at 0xCFF: its low byte is CONFIG_DATA byte 3, the high byte unclaimed. */
	out(0xcf8, 4, 0x80000000u | (u32)TD << 8 | PCI_VENDOR_ID);
	assert_int_equal(in(0xcff, 2), 0xff00 | (TESTDEV_DEVICE >> 8));
	/* Writes to read-only registers change nothing; writes to absent functions go. */
	cfg1_write(TD, PCI_VENDOR_ID, 4, 0);
	assert_int_equal(cfg1_read(TD, PCI_VENDOR_ID, 2), TESTDEV_VENDOR);
	cfg1_write(PCI_DEVFN(7, 0), PCI_COMMAND, 2, 0xffff);
	cfg1_write(TD, PCI_INTERRUPT_LINE, 1, 0x12);
	assert_int_equal(cfg1_read(TD, PCI_INTERRUPT_LINE, 1), 0x12);
	cfg1_write(TD, PCI_INTERRUPT_PIN, 1, 3);
	assert_int_equal(cfg1_read(TD, PCI_INTERRUPT_PIN, 1), 1);
}

static void ecam_accesses(void **state)
{
	(void)state;
	assert_int_equal(mrd(ecam(TD, 0), 4), (u32)TESTDEV_DEVICE << 16 | TESTDEV_VENDOR);
	assert_int_equal(mrd(ecam(TD, 2), 2), TESTDEV_DEVICE);
	assert_int_equal(mrd(ecam(TD, 0x3d), 1), 1);
	assert_int_equal(mrd(ecam(PCI_DEVFN(31, 7), 0), 4), 0xffffffffu);
	/* The extended space: no extended capabilities (header 0). */
	assert_int_equal(mrd(ecam(TD, 0x100), 4), 0);
	/* Status: the capabilities list bit, and the list MSI -> MSI-X. */
	assert_true(mrd(ecam(TD, PCI_STATUS), 2) & PCI_STS_CAP_LIST);
	u8 p = (u8)mrd(ecam(TD, PCI_CAP_PTR), 1);
	assert_int_equal(mrd(ecam(TD, p), 1), PCI_CAP_ID_MSI);
	p = (u8)mrd(ecam(TD, p + 1u), 1);
	assert_int_equal(mrd(ecam(TD, p), 1), PCI_CAP_ID_MSIX);
	assert_int_equal(mrd(ecam(TD, p + 1u), 1), 0);
	/* Misaligned and 8-byte accesses are refused (the VM is stopped). */
	u64 v = 0;
	assert_int_equal(access(IO_SPACE_MMIO, ecam(TD, 1), 2, false, &v), IO_REFUSED);
	assert_int_equal(access(IO_SPACE_MMIO, ecam(TD, 0), 8, false, &v), IO_REFUSED);
	/* ECAM and mechanism #1 reach the same registers. */
	mwr(ecam(TD, PCI_INTERRUPT_LINE), 1, 0x0b);
	assert_int_equal(cfg1_read(TD, PCI_INTERRUPT_LINE, 1), 0x0b);
}

static void bar_sizing(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 6; i++)
		cfg1_write(TD, PCI_BAR0 + 4 * i, 4, 0xffffffffu);
	assert_int_equal(cfg1_read(TD, PCI_BAR0, 4), 0xfffff000u);          /* 4 KiB, mem32 */
	assert_int_equal(cfg1_read(TD, PCI_BAR0 + 4, 4), 0x0000ffe1u);      /* 32 bytes, I/O */
	assert_int_equal(cfg1_read(TD, PCI_BAR0 + 8, 4), 0xfffff004u);      /* 4 KiB, mem64 */
	assert_int_equal(cfg1_read(TD, PCI_BAR0 + 12, 4), 0xffffffffu);     /* its upper half */
	assert_int_equal(cfg1_read(TD, PCI_BAR0 + 16, 4), 0);               /* unimplemented */
	assert_int_equal(cfg1_read(TD, PCI_BAR0 + 20, 4), 0);
	/* Byte writes merge into the dword and are masked the same way. */
	cfg1_write(TD, PCI_BAR0, 4, 0);
	cfg1_write(TD, PCI_BAR0 + 3, 1, 0xc1);
	cfg1_write(TD, PCI_BAR0 + 1, 1, 0x23);
	assert_int_equal(cfg1_read(TD, PCI_BAR0, 4), 0xc1002000u);
	/* The host bridge has no BARs. */
	cfg1_write(0, PCI_BAR0, 4, 0xffffffffu);
	assert_int_equal(cfg1_read(0, PCI_BAR0, 4), 0);
}

static void bar_decode_and_relocation(void **state)
{
	(void)state;
	cfg1_write(TD, PCI_BAR0, 4, 0xc0000000u);
	cfg1_write(TD, PCI_BAR0 + 4, 4, 0xc000);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0xc0000000u));
	/* Memory Space on: BAR0 decodes, the I/O BAR not yet. */
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	assert_int_equal(mrd(0xc0000000u + TESTDEV_ID, 4), TESTDEV_MAGIC);
	assert_int_equal(in(0xc000, 4), 0xffffffffu);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_IO);
	assert_int_equal(in(0xc000 + TESTDEV_ID, 4), TESTDEV_MAGIC);
	out(0xc000 + TESTDEV_SCRATCH, 4, 0x1234);
	assert_int_equal(mrd(0xc0000000u + TESTDEV_SCRATCH, 4), 0x1234);
	/* Move BAR0: the device follows, the old range is gone. */
	cfg1_write(TD, PCI_BAR0, 4, 0xc0100000u);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0xc0000000u));
	assert_int_equal(mrd(0xc0100000u + TESTDEV_SCRATCH, 4), 0x1234);
	/* 64-bit BAR above 4 GiB, programmed low dword then high dword. */
	cfg1_write(TD, PCI_BAR0 + 8, 4, 0);
	cfg1_write(TD, PCI_BAR0 + 12, 4, 0x8);
	assert_int_equal(pci_bar_addr(vm.pci->fn[TD], 2), 0x800000000ull);
	assert_non_null(io_bus_find(&vm, IO_SPACE_MMIO, 0x800000000ull));
	/* Memory Space off: nothing decodes. */
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_IO);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0xc0100000u));
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0x800000000ull));
	/* Register accesses must be 4 bytes. */
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	u64 v = 0;
	assert_int_equal(access(IO_SPACE_MMIO, 0xc0100000u, 2, false, &v), IO_REFUSED);
	assert_int_equal(access(IO_SPACE_MMIO, 0xc0100000u, 8, false, &v), IO_REFUSED);
}

static void bar_placements_refused(void **state)
{
	(void)state;
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_IO);
	/* Over RAM: not decoded, the RAM stays RAM. */
	cfg1_write(TD, PCI_BAR0, 4, 0x00100000u);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0x00100000u));
	/* Over ECAM (another range on the bus), over the IOAPIC/LAPIC area. */
	cfg1_write(TD, PCI_BAR0, 4, (u32)GUEST_ECAM_BASE);
	assert_ptr_equal(io_bus_find(&vm, IO_SPACE_MMIO, GUEST_ECAM_BASE), &vm.pci->cfg_dev);
	assert_int_equal(mrd(ecam(TD, 0), 2), TESTDEV_VENDOR);
	cfg1_write(TD, PCI_BAR0, 4, 0xfee00000u);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0xfee00000u));
	/* I/O BAR over CONFIG_ADDRESS/CONFIG_DATA: refused by the bus. */
	cfg1_write(TD, PCI_BAR0 + 4, 4, 0xce0);
	assert_int_equal(cfg1_read(TD, PCI_VENDOR_ID, 2), TESTDEV_VENDOR);
	/* Two BARs over each other: the second is not decoded. */
	cfg1_write(TD, PCI_BAR0, 4, 0xd0000000u);
	cfg1_write(TD, PCI_BAR0 + 8, 4, 0xd0000000u);
	cfg1_write(TD, PCI_BAR0 + 12, 4, 0);
	assert_int_equal(mrd(0xd0000000u + TESTDEV_ID, 4), TESTDEV_MAGIC);
	/* Moved apart, both decode. */
	cfg1_write(TD, PCI_BAR0 + 8, 4, 0xd0001000u);
	assert_int_equal(mrd(0xd0001000u, 4), 0);   /* MSI-X entry 0 Message Address */
	assert_true(vm.pci->fn[TD]->bar_refused > 0);
}

static void msi_capability(void **state)
{
	(void)state;
	struct pci_vdev *d = vm.pci->fn[TD];
	u32 cap = d->msi.cap;
	cfg1_write(TD, PCI_BAR0, 4, 0xc0000000u);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	u32 ctrl = cfg1_read(TD, cap + PCI_MSI_CTRL, 2);
	assert_true(ctrl & PCI_MSI_CTRL_64BIT);
	assert_true(ctrl & PCI_MSI_CTRL_PVM);
	assert_int_equal(PCI_MSI_CTRL_MMC(ctrl), 2);   /* 4 vectors */
	/* Disabled: a raise is refused and counted. */
	mwr(0xc0000000u + TESTDEV_RAISE_MSI, 4, 0);
	assert_int_equal(nmsgs, 0);
	assert_int_equal(mrd(0xc0000000u + TESTDEV_RAISED, 4), 1);
	cfg1_write(TD, cap + PCI_MSI_ADDR_LO, 4, 0xfee01003u);   /* bits 1:0 read 0 */
	assert_int_equal(cfg1_read(TD, cap + PCI_MSI_ADDR_LO, 4), 0xfee01000u);
	cfg1_write(TD, cap + PCI_MSI_ADDR_HI, 4, 0);
	cfg1_write(TD, cap + PCI_MSI_DATA_64, 2, 0x0050);
	cfg1_write(TD, cap + PCI_MSI_CTRL, 2, PCI_MSI_CTRL_ENABLE | (2u << 4));   /* 4 enabled */
	mwr(0xc0000000u + TESTDEV_RAISE_MSI, 4, 3);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x53);   /* low data bits carry the vector index */
	assert_int_equal(msgs[0].dest, 1);
	/* Beyond the enabled count: refused. */
	mwr(0xc0000000u + TESTDEV_RAISE_MSI, 4, 4);
	assert_int_equal(nmsgs, 1);
	/* Masked: pending; unmasked: sent, pending cleared. */
	cfg1_write(TD, cap + PCI_MSI_MASK_64, 4, 0x2);
	mwr(0xc0000000u + TESTDEV_RAISE_MSI, 4, 1);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(cfg1_read(TD, cap + PCI_MSI_PEND_64, 4), 0x2);
	cfg1_write(TD, cap + PCI_MSI_PEND_64, 4, 0);   /* read-only */
	assert_int_equal(cfg1_read(TD, cap + PCI_MSI_PEND_64, 4), 0x2);
	cfg1_write(TD, cap + PCI_MSI_MASK_64, 4, 0);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(msgs[1].vector, 0x51);
	assert_int_equal(cfg1_read(TD, cap + PCI_MSI_PEND_64, 4), 0);
	/* Only 4 mask bits exist. */
	cfg1_write(TD, cap + PCI_MSI_MASK_64, 4, 0xffffffffu);
	assert_int_equal(cfg1_read(TD, cap + PCI_MSI_MASK_64, 4), 0xf);
}

static const struct pci_vdev_ops plain_ops = { 0 };

static void msi_32bit_without_masking(void **state)
{
	(void)state;
	static struct pci_vdev d;
	pci_vdev_init(&d, &vm, PCI_DEVFN(5, 0), "plain", &plain_ops, 0x1234, 0x5678, 0xff0000);
	assert_true(pci_msi_init(&d, 1, false, false));
	assert_false(pci_msi_init(&d, 3, false, false));   /* not a power of two */
	assert_true(vpci_add(vm.pci, &d));
	assert_false(vpci_add(vm.pci, &d));                /* the slot is taken */
	u32 cap = d.msi.cap;
	u32 ctrl = cfg1_read(PCI_DEVFN(5, 0), cap + PCI_MSI_CTRL, 2);
	assert_false(ctrl & (PCI_MSI_CTRL_64BIT | PCI_MSI_CTRL_PVM));
	assert_int_equal(PCI_MSI_CTRL_MMC(ctrl), 0);
	/* 32-bit layout: data at +8; the upper address does not exist. */
	cfg1_write(PCI_DEVFN(5, 0), cap + PCI_MSI_ADDR_LO, 4, 0xfee02000u);
	cfg1_write(PCI_DEVFN(5, 0), cap + PCI_MSI_DATA_32, 2, 0x4065);   /* edge, level bit ignored */
	cfg1_write(PCI_DEVFN(5, 0), cap + PCI_MSI_CTRL, 2, PCI_MSI_CTRL_ENABLE | (3u << 4));
	/* Multiple Message Enable above Multiple Message Capable is clamped: one vector,
	 * vector 1 is refused, the data's low bits stay the guest's. */
	assert_int_equal(PCI_MSI_CTRL_MME(cfg1_read(PCI_DEVFN(5, 0), cap + PCI_MSI_CTRL, 2)), 0);
	assert_false(pci_msi_raise(&d, 1));
	assert_true(pci_msi_raise(&d, 0));
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].dest, 2);
	assert_int_equal(msgs[0].vector, 0x65);
	assert_false(msgs[0].level);
	/* Capability list: MSI is the only entry. */
	assert_int_equal(cfg1_read(PCI_DEVFN(5, 0), PCI_CAP_PTR, 1), cap);
	assert_int_equal(cfg1_read(PCI_DEVFN(5, 0), cap + 1, 1), 0);
	vm.pci->fn[PCI_DEVFN(5, 0)] = NULL;
}

static void msix_table_and_pba(void **state)
{
	(void)state;
	struct pci_vdev *d = vm.pci->fn[TD];
	u32 cap = d->msix.cap;
	const u64 r = 0xc0000000u, t = 0xc0001000u;
	assert_int_equal(PCI_MSIX_CTRL_SIZE(cfg1_read(TD, cap + PCI_MSIX_CTRL, 2)), 4);
	assert_int_equal(cfg1_read(TD, cap + PCI_MSIX_TABLE, 4), TESTDEV_MSIX_TABLE | 2);
	assert_int_equal(cfg1_read(TD, cap + PCI_MSIX_PBA, 4), TESTDEV_MSIX_PBA | 2);
	cfg1_write(TD, PCI_BAR0, 4, (u32)r);
	cfg1_write(TD, PCI_BAR0 + 8, 4, (u32)t);
	cfg1_write(TD, PCI_BAR0 + 12, 4, 0);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	/* After reset every vector is masked. */
	for (unsigned n = 0; n < 4; n++)
		assert_int_equal(mrd(t + 16 * n + 12, 4), PCI_MSIX_ENTRY_MASKED);
	/* 8-byte write of address, then 4-byte data and control. */
	mwr(t + 16 * 2, 8, 0xfee00000ull);
	mwr(t + 16 * 2 + 8, 4, 0x61);
	assert_int_equal(mrd(t + 16 * 2, 8), 0xfee00000ull);
	/* Wrong sizes and misaligned accesses are refused. */
	u64 v = 0;
	assert_int_equal(access(IO_SPACE_MMIO, t + 16 * 2, 2, false, &v), IO_REFUSED);
	assert_int_equal(access(IO_SPACE_MMIO, t + 16 * 2 + 1, 1, true, &v), IO_REFUSED);
	assert_int_equal(access(IO_SPACE_MMIO, t + 16 * 2 + 4, 8, false, &v), IO_REFUSED);
	assert_int_equal(access(IO_SPACE_MMIO, t + TESTDEV_MSIX_PBA, 2, false, &v), IO_REFUSED);
	/* Disabled: refused. */
	mwr(r + TESTDEV_RAISE_MSIX, 4, 2);
	assert_int_equal(nmsgs, 0);
	cfg1_write(TD, cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
	/* Vector masked: pending bit, no message; unmask delivers and clears it. */
	mwr(r + TESTDEV_RAISE_MSIX, 4, 2);
	assert_int_equal(nmsgs, 0);
	assert_int_equal(mrd(t + TESTDEV_MSIX_PBA, 8), 0x4);
	mwr(t + TESTDEV_MSIX_PBA, 4, 0);   /* PBA writes are ignored */
	assert_int_equal(mrd(t + TESTDEV_MSIX_PBA, 4), 0x4);
	mwr(t + 16 * 2 + 12, 4, 0);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x61);
	assert_int_equal(mrd(t + TESTDEV_MSIX_PBA, 4), 0);
	mwr(r + TESTDEV_RAISE_MSIX, 4, 2);
	assert_int_equal(nmsgs, 2);
	/* Function mask: pending until cleared. */
	cfg1_write(TD, cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_FMASK);
	mwr(r + TESTDEV_RAISE_MSIX, 4, 2);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(mrd(t + TESTDEV_MSIX_PBA, 4), 0x4);
	cfg1_write(TD, cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(nmsgs, 3);
	/* Out of range vector: refused. */
	mwr(r + TESTDEV_RAISE_MSIX, 4, 4);
	assert_int_equal(nmsgs, 3);
	assert_int_equal(mrd(r + TESTDEV_RAISED, 4), 2);
	/* A bad message address is dropped by msi_deliver and counted. */
	mwr(t + 16 * 1, 8, 0x12345000ull);
	mwr(t + 16 * 1 + 8, 4, 0x62);
	mwr(t + 16 * 1 + 12, 4, 0);
	mwr(r + TESTDEV_RAISE_MSIX, 4, 1);
	assert_int_equal(nmsgs, 3);
	assert_int_equal(vm.msi.dropped[MSI_DROP_ADDRESS], 1);
}

/* The route cache: a raise sends the route decoded at the last table write; a rewrite
 * of address or data refreshes it (also while masked: the pending message goes out
 * with the new route on unmask); Mask Bit writes are counted as mask/unmask exits. */
static void msix_route_cache(void **state)
{
	(void)state;
	struct pci_vdev *d = vm.pci->fn[TD];
	u32 cap = d->msix.cap;
	const u64 r = 0xc0000000u, t = 0xc0001000u;
	cfg1_write(TD, PCI_BAR0, 4, (u32)r);
	cfg1_write(TD, PCI_BAR0 + 8, 4, (u32)t);
	cfg1_write(TD, PCI_BAR0 + 12, 4, 0);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	cfg1_write(TD, cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
	u32 before = d->msix.route[0].refreshes;
	mwr(t, 8, 0xfee01000ull);          /* destination 1 */
	mwr(t + 8, 4, 0x51);
	assert_int_equal(d->msix.route[0].refreshes, before + 2);
	assert_int_equal(d->msix.route[0].status, MSI_OK);
	assert_int_equal(d->msix.route[0].msg.vector, 0x51);
	mwr(t + 12, 4, 0);                 /* unmask */
	assert_int_equal(d->msix.unmask_writes, 1);
	mwr(r + TESTDEV_RAISE_MSIX, 4, 0);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x51);
	assert_int_equal(msgs[0].dest, 1);
	assert_int_equal(vm.msi.routed, 1);
	/* The table entry changed behind the route's back (not through a write): the cached
	 * route is what is sent. */
	d->msix.table[0].data = 0x99;
	mwr(r + TESTDEV_RAISE_MSIX, 4, 0);
	assert_int_equal(msgs[1].vector, 0x51);
	/* A guest rewrite refreshes it. */
	mwr(t + 8, 4, 0x52);
	mwr(r + TESTDEV_RAISE_MSIX, 4, 0);
	assert_int_equal(msgs[2].vector, 0x52);
	/* Masked: pending; the data rewritten meanwhile; unmask sends the new route. */
	mwr(t + 12, 4, PCI_MSIX_ENTRY_MASKED);
	assert_int_equal(d->msix.mask_writes, 1);
	mwr(r + TESTDEV_RAISE_MSIX, 4, 0);
	assert_int_equal(nmsgs, 3);
	assert_int_equal(mrd(t + TESTDEV_MSIX_PBA, 4) & 1, 1);
	mwr(t, 8, 0xfee02000ull);
	mwr(t + 8, 4, 0x53);
	assert_int_equal(nmsgs, 3);
	mwr(t + 12, 4, 0);
	assert_int_equal(nmsgs, 4);
	assert_int_equal(msgs[3].vector, 0x53);
	assert_int_equal(msgs[3].dest, 2);
	assert_int_equal(d->msix.pending_sent, 1);
	assert_int_equal(mrd(t + TESTDEV_MSIX_PBA, 4) & 1, 0);
	/* Rewriting the mask bit with the same value is no mask/unmask. */
	mwr(t + 12, 4, 0);
	assert_int_equal(d->msix.unmask_writes, 2);
	/* A route that would be dropped is counted at each raise, never sent. */
	mwr(t + 8, 4, 0x05);   /* vector below 16 */
	assert_int_equal(d->msix.route[0].status, MSI_DROP_VECTOR);
	mwr(r + TESTDEV_RAISE_MSIX, 4, 0);
	assert_int_equal(nmsgs, 4);
	assert_int_equal(vm.msi.dropped[MSI_DROP_VECTOR], 1);
	/* Reset: every route back to the masked power-up entry. */
	pci_msix_reset(d);
	assert_int_equal(d->msix.route[0].addr, 0);
	assert_int_equal(d->msix.route[0].status, MSI_DROP_ADDRESS);
}

static void set_rte(unsigned pin, u64 rte)
{
	vioapic_mmio_write(&vm.ioapic, VIOAPIC_IOREGSEL, 4, VIOAPIC_REG_REDIR + 2 * pin);
	vioapic_mmio_write(&vm.ioapic, VIOAPIC_IOWIN, 4, (u32)rte);
	vioapic_mmio_write(&vm.ioapic, VIOAPIC_IOREGSEL, 4, VIOAPIC_REG_REDIR + 2 * pin + 1);
	vioapic_mmio_write(&vm.ioapic, VIOAPIC_IOWIN, 4, (u32)(rte >> 32));
}

static void intx_level_through_the_ioapic(void **state)
{
	(void)state;
	const u64 r = 0xc0000000u;
	unsigned gsi = pci_intx_gsi(2, 1);
	assert_int_equal(gsi, 18);
	set_rte(gsi, 0x70 | RTE_LEVEL | RTE_POLARITY);
	cfg1_write(TD, PCI_BAR0, 4, (u32)r);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	mwr(r + TESTDEV_INTX, 4, 1);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x70);
	assert_true(msgs[0].level);
	assert_true(cfg1_read(TD, PCI_STATUS, 2) & PCI_STS_INTERRUPT);
	/* EOI while still asserted: raised again (Remote IRR). */
	vioapic_eoi(&vm.ioapic, 0x70);
	assert_int_equal(nmsgs, 2);
	/* Deasserted: the EOI ends it. */
	mwr(r + TESTDEV_INTX, 4, 0);
	vioapic_eoi(&vm.ioapic, 0x70);
	assert_int_equal(nmsgs, 2);
	assert_false(cfg1_read(TD, PCI_STATUS, 2) & PCI_STS_INTERRUPT);
	/* Interrupt Disable: asserted in the status, not at the IOAPIC; clearing it
	 * delivers. */
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_INTX_DISABLE);
	mwr(r + TESTDEV_INTX, 4, 1);
	assert_int_equal(nmsgs, 2);
	assert_true(cfg1_read(TD, PCI_STATUS, 2) & PCI_STS_INTERRUPT);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	assert_int_equal(nmsgs, 3);
	/* MSI-X enabled: the function may not use INTx#; disabling it brings the line
	 * back (the entry's Remote IRR is still set from the last one: EOI first). */
	mwr(r + TESTDEV_INTX, 4, 0);
	vioapic_eoi(&vm.ioapic, 0x70);
	struct pci_vdev *d = vm.pci->fn[TD];
	cfg1_write(TD, d->msix.cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
	mwr(r + TESTDEV_INTX, 4, 1);
	assert_int_equal(nmsgs, 3);
	assert_true(cfg1_read(TD, PCI_STATUS, 2) & PCI_STS_INTERRUPT);
	cfg1_write(TD, d->msix.cap + PCI_MSIX_CTRL, 2, 0);
	assert_int_equal(nmsgs, 4);
}

static void dma_engine(void **state)
{
	(void)state;
	struct pci_vdev *d = vm.pci->fn[TD];
	const u64 r = 0xc0000000u, t = 0xc0001000u;
	cfg1_write(TD, PCI_BAR0, 4, (u32)r);
	cfg1_write(TD, PCI_BAR0 + 8, 4, (u32)t);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	for (unsigned i = 0; i < 64; i++)
		vm.ram[0x200000 + i] = (u8)(i * 3);
	mwr(r + TESTDEV_DMA_SRC_LO, 4, 0x200000);
	mwr(r + TESTDEV_DMA_DST_LO, 4, 0x300000);
	mwr(r + TESTDEV_DMA_LEN, 4, 64);
	mwr(r + TESTDEV_IRQ_MODE, 4, TESTDEV_IRQ_MSIX);
	mwr(r + TESTDEV_IRQ_VEC, 4, 0);
	mwr(t, 8, 0xfee00000ull);
	mwr(t + 8, 4, 0x44);
	mwr(t + 12, 4, 0);
	cfg1_write(TD, d->msix.cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
	/* Bus Master off: no copy. */
	mwr(r + TESTDEV_DMA_CMD, 4, TESTDEV_DMA_GO);
	assert_int_equal(mrd(r + TESTDEV_DMA_STATUS, 4), TESTDEV_DMA_ST_NO_MASTER);
	assert_int_equal(vm.ram[0x300001], 0);
	assert_int_equal(nmsgs, 1);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER);
	mwr(r + TESTDEV_DMA_CMD, 4, TESTDEV_DMA_GO);
	assert_int_equal(mrd(r + TESTDEV_DMA_STATUS, 4), TESTDEV_DMA_ST_DONE);
	assert_memory_equal(vm.ram + 0x300000, vm.ram + 0x200000, 64);
	assert_int_equal(mrd(r + TESTDEV_DMA_COUNT, 4), 1);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(msgs[1].vector, 0x44);
	/* Ranges not wholly in RAM: nothing copied, error status. */
	mwr(r + TESTDEV_DMA_DST_LO, 4, RAM_SIZE - 32);
	mwr(r + TESTDEV_DMA_CMD, 4, TESTDEV_DMA_GO);
	assert_int_equal(mrd(r + TESTDEV_DMA_STATUS, 4), TESTDEV_DMA_ST_BAD_ADDR);
	assert_int_equal(vm.ram[RAM_SIZE - 32], 0);
	mwr(r + TESTDEV_DMA_DST_LO, 4, 0);
	mwr(r + TESTDEV_DMA_DST_HI, 4, 0x1);
	mwr(r + TESTDEV_DMA_CMD, 4, TESTDEV_DMA_GO);
	assert_int_equal(mrd(r + TESTDEV_DMA_STATUS, 4), TESTDEV_DMA_ST_BAD_ADDR);
	mwr(r + TESTDEV_DMA_SRC_LO, 4, 0xfffffff0u);
	mwr(r + TESTDEV_DMA_SRC_HI, 4, 0xffffffffu);
	mwr(r + TESTDEV_DMA_LEN, 4, 0x20);
	mwr(r + TESTDEV_DMA_CMD, 4, TESTDEV_DMA_GO);
	assert_int_equal(mrd(r + TESTDEV_DMA_STATUS, 4), TESTDEV_DMA_ST_BAD_ADDR);
	mwr(r + TESTDEV_DMA_LEN, 4, 0);
	mwr(r + TESTDEV_DMA_CMD, 4, TESTDEV_DMA_GO);
	assert_int_equal(mrd(r + TESTDEV_DMA_STATUS, 4), TESTDEV_DMA_ST_BAD_LEN);
	assert_int_equal(mrd(r + TESTDEV_DMA_COUNT, 4), 1);
	/* INTx completion. */
	mwr(r + TESTDEV_IRQ_MODE, 4, TESTDEV_IRQ_INTX);
	mwr(r + TESTDEV_DMA_CMD, 4, TESTDEV_DMA_GO);
	assert_int_equal(mrd(r + TESTDEV_INTX, 4), 1);
}

/* Random configuration writes (every function, every register, every size) and
 * random BAR accesses: nothing crashes, the IDs survive, no range lands on RAM. */
static void config_fuzz(void **state)
{
	(void)state;
	u64 x = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned size = 1u << (x & 3 ? (x & 3) - 1 : 0);
		u8 devfn = (x >> 8) & 1 ? TD : (u8)(x >> 16);
		u32 reg = (u32)(x >> 24) & ((x >> 40) & 1 ? 0x3f : 0xfff) & ~(size - 1);
		u64 v = (x >> 32) & 1 ? ~0ull : x >> 20;
		if (devfn == TD && reg == PCI_COMMAND && !(x & 0x30))
			v |= PCI_CMD_MEMORY | PCI_CMD_IO;
		if ((x >> 45) & 1)
			mwr(ecam(devfn, reg), size, v);
		else
			cfg1_write(devfn, reg, size, (u32)v);
		if ((x >> 50) % 16 == 0) {
			/* An access to wherever BAR0/BAR2 now decode. */
			struct pci_vdev *d = vm.pci->fn[TD];
			for (unsigned b = 0; b < PCI_NR_BARS; b++) {
				if (!d->bar[b].mapped || d->bar[b].type == PCI_BAR_PIO)
					continue;
				u64 val = x;
				unsigned sz = 4u << ((x >> 55) & 1);
				u64 off = ((x >> 56) * 8) % d->bar[b].size;
				access(IO_SPACE_MMIO, d->bar[b].mapped_at + off, sz, (x >> 61) & 1, &val);
			}
		}
	}
	assert_int_equal(cfg1_read(TD, PCI_VENDOR_ID, 4), (u32)TESTDEV_DEVICE << 16 | TESTDEV_VENDOR);
	assert_int_equal(cfg1_read(0, PCI_VENDOR_ID, 4), PCI_DEVICE_HOSTBRIDGE << 16 | PCI_VENDOR_MICROHV);
	for (u64 a = 0; a < RAM_SIZE; a += 0x1000)
		assert_null(io_bus_find(&vm, IO_SPACE_MMIO, a));
	for (unsigned b = 0; b < PCI_NR_BARS; b++) {
		struct pci_bar *pb = &vm.pci->fn[TD]->bar[b];
		if (pb->mapped)
			assert_int_equal(pb->mapped_at, pci_bar_addr(vm.pci->fn[TD], b));
	}
}

static void reset_unmaps(void **state)
{
	(void)state;
	cfg1_write(TD, PCI_BAR0, 4, 0xc0000000u);
	cfg1_write(TD, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	assert_non_null(io_bus_find(&vm, IO_SPACE_MMIO, 0xc0000000u));
	out(0xcf8, 4, 0x80000000u);
	vdev_reset_all(&vm);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0xc0000000u));
	assert_int_equal(cfg1_read(TD, PCI_BAR0, 4), 0);
	assert_int_equal(cfg1_read(TD, PCI_COMMAND, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(mechanism_one, setup),
		cmocka_unit_test_setup(ecam_accesses, setup),
		cmocka_unit_test_setup(bar_sizing, setup),
		cmocka_unit_test_setup(bar_decode_and_relocation, setup),
		cmocka_unit_test_setup(bar_placements_refused, setup),
		cmocka_unit_test_setup(msi_capability, setup),
		cmocka_unit_test_setup(msi_32bit_without_masking, setup),
		cmocka_unit_test_setup(msix_table_and_pba, setup),
		cmocka_unit_test_setup(msix_route_cache, setup),
		cmocka_unit_test_setup(intx_level_through_the_ioapic, setup),
		cmocka_unit_test_setup(dma_engine, setup),
		cmocka_unit_test_setup(config_fuzz, setup),
		cmocka_unit_test_setup(reset_unmaps, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
