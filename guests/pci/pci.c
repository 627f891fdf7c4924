/* SPDX-License-Identifier: MIT */
/*
 * pci: the guest-visible PCI platform (docs/INTERFACES.md, "PCI") and the test device
 * (hv/pci/testdev.h), driven the way an OS driver would:
 *   - enumeration through configuration mechanism #1 (0xCF8/0xCFC) and through ECAM at
 *     the address the ACPI MCFG table gives; both must agree; absent functions read
 *     all ones; the DSDT has a PNP0A03 host bridge
 *   - BAR sizing (all ones, read back the size mask), assignment in the 32-bit window,
 *     decode enables, a move of BAR0 (the registers follow)
 *   - MSI-X: vectors delivered, per-vector mask with the PBA pending bit, delivery on
 *     unmask, function mask
 *   - MSI: 4 vectors (data low bits), per-vector mask and pending bits
 *   - INTx: level-triggered through the IOAPIC (GSI from the _PRT swizzle): re-raised
 *     after an EOI while the device still asserts it, quiet after deassert + EOI
 *   - DMA copy with a completion MSI-X; a destination outside RAM gives BAD_ADDR
 *   - with 2 vCPUs: MSI and MSI-X to vCPU 1 while it runs, counting its exits
 *     (HC_VCPU_COUNTER): with APICv a message to a running vCPU costs it no exit
 *
 * Command line: cpus=N (2: the vCPU 1 tests), n=N messages per rate test (default
 * 200), apicv=on|off (what the run expects; checked against HC_INFO_FEATURES),
 * bad=msix16 (end with a 2-byte MSI-X table read: the VM must be stopped).
 * Output lines "pci: ..." with the figures, PASS/FAIL, SUMMARY.
 */
#include "apic.h"
#include "smp.h"
#include "../../hv/pci/testdev.h"

#define IOAPIC_BASE 0xfec00000ul
#define TD_SLOT 2
#define BAR0_ADDR 0xc0000000u
#define BAR0_MOVED 0xc0100000u
#define BAR1_PORT 0xc000u
#define BAR2_ADDR 0xc0002000u

#define VEC_MSIX 0x41      /* MSI-X vector n: 0x41 + n */
#define VEC_MSI 0x50       /* MSI: 0x50 + n (4 vectors: data low 2 bits) */
#define VEC_INTX 0x60

static volatile u32 hits[256];
static volatile u32 hits_cpu1[256];
static volatile u64 regs_base = BAR0_ADDR;

/* ---- configuration access ---- */

static u32 cf8_addr(unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | (u32)slot << 11 | (u32)fn << 8 | (reg & 0xfc);
}

static u32 cfg_read32(unsigned slot, unsigned reg)
{
	outl(cf8_addr(slot, 0, reg), 0xcf8);
	return inl(0xcfc);
}

static u16 cfg_read16(unsigned slot, unsigned reg)
{
	outl(cf8_addr(slot, 0, reg), 0xcf8);
	return inw((u16)(0xcfc + (reg & 2)));
}

static u8 cfg_read8(unsigned slot, unsigned reg)
{
	outl(cf8_addr(slot, 0, reg), 0xcf8);
	return inb((u16)(0xcfc + (reg & 3)));
}

static void cfg_write32(unsigned slot, unsigned reg, u32 v)
{
	outl(cf8_addr(slot, 0, reg), 0xcf8);
	outl(v, 0xcfc);
}

static void cfg_write16(unsigned slot, unsigned reg, u16 v)
{
	outl(cf8_addr(slot, 0, reg), 0xcf8);
	outw(v, (u16)(0xcfc + (reg & 2)));
}

static volatile u8 *ecam;

static u32 ecam_read32(unsigned slot, unsigned fn, unsigned reg)
{
	return *(volatile u32 *)(ecam + ((u64)slot << 15) + ((u64)fn << 12) + reg);
}

static void ecam_write8(unsigned slot, unsigned reg, u8 v)
{
	*(volatile u8 *)(ecam + ((u64)slot << 15) + reg) = v;
}

/* ---- device registers ---- */

static u32 rd(unsigned off)
{
	return *(volatile u32 *)(regs_base + off);
}

static void wr(unsigned off, u32 v)
{
	*(volatile u32 *)(regs_base + off) = v;
}

static volatile u32 *msix_entry(unsigned n)
{
	return (volatile u32 *)(BAR2_ADDR + TESTDEV_MSIX_TABLE + 16ul * n);
}

static u32 pba(void)
{
	return *(volatile u32 *)(BAR2_ADDR + TESTDEV_MSIX_PBA);
}

static u8 cap_find(u8 id)
{
	u8 p = cfg_read8(TD_SLOT, 0x34);
	for (int i = 0; p && i < 48; i++) {
		if (cfg_read8(TD_SLOT, p) == id)
			return p;
		p = cfg_read8(TD_SLOT, p + 1);
	}
	return 0;
}

/* ---- interrupts ---- */

static void handler(struct ex_regs *r)
{
	if (smp_id() == 1)
		hits_cpu1[r->vector]++;
	else
		hits[r->vector]++;
	apic_eoi();
}

/* INTx: the first interrupt leaves the line asserted (the EOI must bring it back),
 * the second deasserts it before the EOI. */
static void intx_handler(struct ex_regs *r)
{
	hits[r->vector]++;
	if (hits[r->vector] >= 2)
		wr(TESTDEV_INTX, 0);
	apic_eoi();
}

static void ioapic_write(u32 reg, u32 v)
{
	*(volatile u32 *)IOAPIC_BASE = reg;
	*(volatile u32 *)(IOAPIC_BASE + 0x10) = v;
}

static bool wait_hits(volatile u32 *h, unsigned vec, u32 want)
{
	return wait_until(h[vec] >= want, 200000);
}

/* ---- tests ---- */

static bool enumerate(void)
{
	unsigned found = 0;
	int host = -1, td = -1;
	for (unsigned s = 0; s < 32; s++) {
		u32 id = cfg_read32(s, 0);
		if (id == 0xffffffffu)
			continue;
		found++;
		u32 class = cfg_read32(s, 8) >> 8;
		printf("pci: 00:%02x.0 %04x:%04x class %06x\n", s, id & 0xffff, id >> 16, class);
		if (id == (0x0001u << 16 | TESTDEV_VENDOR) && class == 0x060000)
			host = (int)s;
		if (id == ((u32)TESTDEV_DEVICE << 16 | TESTDEV_VENDOR))
			td = (int)s;
	}
	report(host == 0, "cf8: host bridge 4d48:0001 class 060000 at 00:00.0");
	report(td == TD_SLOT, "cf8: test device 4d48:0002 at 00:02.0");
	report(found == 2, "cf8: exactly 2 functions on bus 0 (%u)", found);
	report(cfg_read16(TD_SLOT, 2) == TESTDEV_DEVICE && cfg_read8(TD_SLOT, 1) == TESTDEV_VENDOR >> 8,
	       "cf8: word and byte accesses through 0xCFC-0xCFF");
	outl(cf8_addr(TD_SLOT, 1, 0), 0xcf8);
	report(inl(0xcfc) == 0xffffffffu, "cf8: absent function 00:02.1 reads all ones");
	outl(cf8_addr(TD_SLOT, 0, 0) & ~0x80000000u, 0xcf8);
	report(inl(0xcfc) == 0xffffffffu, "cf8: Enable bit clear reads all ones");
	outl(0x80fffffcu, 0xcf8);
	report(inl(0xcf8) == 0x80fffffcu, "cf8: CONFIG_ADDRESS reads back (reserved bits 0)");
	report(cfg_read8(TD_SLOT, 0x3d) == 1, "interrupt pin INTA#");
	u16 status = cfg_read16(TD_SLOT, 6);
	report(status & (1u << 4), "status: capabilities list");
	report(cap_find(0x05) && cap_find(0x11), "capabilities: MSI (0x%x) and MSI-X (0x%x)", cap_find(0x05),
	       cap_find(0x11));

	/* ECAM through ACPI MCFG. */
	const u8 *mcfg = acpi_find_table("MCFG");
	report(mcfg != NULL, "ACPI: MCFG present");
	if (!mcfg)
		return false;
	u64 base = *(const u64 *)(mcfg + 44);
	u8 sbus = mcfg[54], ebus = mcfg[55];
	report(base == 0xe0000000ull && sbus == 0 && ebus == 0, "MCFG: ECAM 0x%llx buses %u-%u",
	       (unsigned long long)base, sbus, ebus);
	ecam = (volatile u8 *)base;
	unsigned same = 0;
	for (unsigned s = 0; s < 32; s++)
		same += ecam_read32(s, 0, 0) == cfg_read32(s, 0) && ecam_read32(s, 0, 8) == cfg_read32(s, 8);
	report(same == 32, "ecam: IDs and class of all 32 slots agree with 0xCF8/0xCFC (%u)", same);
	report(ecam_read32(TD_SLOT, 3, 0) == 0xffffffffu, "ecam: absent function reads all ones");
	report(ecam_read32(TD_SLOT, 0, 0x100) == 0, "ecam: no extended capabilities (0x100 reads 0)");
	ecam_write8(TD_SLOT, 0x3c, 0x5a);
	report(cfg_read8(TD_SLOT, 0x3c) == 0x5a, "ecam write seen through 0xCFC (interrupt line)");

	const u8 *dsdt = NULL;
	const u8 *fadt = acpi_find_table("FACP");
	if (fadt)
		dsdt = (const u8 *)(u64)*(const u32 *)(fadt + 40);
	bool pnp = false;
	if (dsdt) {
		u32 len = *(const u32 *)(dsdt + 4);
		static const u8 hid[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };   /* EisaId("PNP0A03") */
		for (u32 i = 36; i + sizeof(hid) <= len; i++)
			pnp |= !memcmp(dsdt + i, hid, sizeof(hid));
	}
	report(pnp, "DSDT: a PNP0A03 host bridge");
	return td == TD_SLOT;
}

static void bars(void)
{
	static const u32 want[6] = { 0xfffff000u, 0x0000ffe1u, 0xfffff004u, 0xffffffffu, 0, 0 };
	unsigned ok = 0;
	for (unsigned i = 0; i < 6; i++) {
		u32 old = cfg_read32(TD_SLOT, 0x10 + 4 * i);
		cfg_write32(TD_SLOT, 0x10 + 4 * i, 0xffffffffu);
		u32 v = cfg_read32(TD_SLOT, 0x10 + 4 * i);
		cfg_write32(TD_SLOT, 0x10 + 4 * i, old);
		if (v == want[i])
			ok++;
		else
			printf("pci: BAR%u sizes as 0x%08x, expected 0x%08x\n", i, v, want[i]);
	}
	report(ok == 6, "BAR sizing: 4 KiB mem32, 32-byte I/O, 4 KiB mem64, BAR4/5 absent");

	cfg_write32(TD_SLOT, 0x10, BAR0_ADDR);
	cfg_write32(TD_SLOT, 0x14, BAR1_PORT);
	cfg_write32(TD_SLOT, 0x18, BAR2_ADDR);
	cfg_write32(TD_SLOT, 0x1c, 0);
	cfg_write16(TD_SLOT, 4, 0x7);   /* I/O, memory, bus master */
	regs_base = BAR0_ADDR;
	report(rd(TESTDEV_ID) == TESTDEV_MAGIC, "BAR0 at 0x%x: ID register", BAR0_ADDR);
	report(inl(BAR1_PORT + TESTDEV_ID) == TESTDEV_MAGIC, "BAR1 at port 0x%x: ID register", BAR1_PORT);
	wr(TESTDEV_SCRATCH, 0xcafe1234u);
	report(inl(BAR1_PORT + TESTDEV_SCRATCH) == 0xcafe1234u, "scratch through memory and I/O BARs");

	/* Move BAR0 with memory decode off, as an OS does. */
	cfg_write16(TD_SLOT, 4, 0x5);
	cfg_write32(TD_SLOT, 0x10, BAR0_MOVED);
	cfg_write16(TD_SLOT, 4, 0x7);
	regs_base = BAR0_MOVED;
	report(rd(TESTDEV_ID) == TESTDEV_MAGIC && rd(TESTDEV_SCRATCH) == 0xcafe1234u,
	       "BAR0 moved to 0x%x: the registers follow", BAR0_MOVED);
	report(cfg_read32(TD_SLOT, 0x10) == BAR0_MOVED, "BAR0 reads back 0x%x", cfg_read32(TD_SLOT, 0x10));

	/* Over RAM: not decoded, the RAM stays RAM. */
	static u8 ram[8192];
	volatile u32 *page = (volatile u32 *)(((u64)ram + 4095) & ~4095ul);
	page[0] = 0x12345678u;
	cfg_write32(TD_SLOT, 0x10, (u32)(u64)page);
	report(page[0] == 0x12345678u && cfg_read32(TD_SLOT, 0x10) == (u32)(u64)page,
	       "BAR0 over RAM at 0x%x: not decoded, RAM reads 0x%x", (u32)(u64)page, page[0]);
	/* Over BAR2: BAR0 not decoded, BAR2 still is. */
	cfg_write32(TD_SLOT, 0x10, BAR2_ADDR);
	report(*(volatile u32 *)(BAR2_ADDR + TESTDEV_MSIX_TABLE + 12) == 1, "BAR0 over BAR2: BAR2 (MSI-X table) still answers");
	cfg_write32(TD_SLOT, 0x10, BAR0_MOVED);
	report(rd(TESTDEV_ID) == TESTDEV_MAGIC, "BAR0 back at 0x%x decodes again", BAR0_MOVED);
}

static u8 msix_cap, msi_cap;

static void msix_program(unsigned n, u32 dest, u8 vec, bool masked)
{
	volatile u32 *e = msix_entry(n);
	e[0] = 0xfee00000u | dest << 12;
	e[1] = 0;
	e[2] = vec;
	e[3] = masked;
}

static void msix(void)
{
	msix_cap = cap_find(0x11);
	u16 ctrl = cfg_read16(TD_SLOT, msix_cap + 2);
	report((ctrl & 0x7ff) + 1 == TESTDEV_MSIX_VECTORS, "MSI-X: %u vectors", (ctrl & 0x7ff) + 1);
	report(cfg_read32(TD_SLOT, msix_cap + 4) == (TESTDEV_MSIX_TABLE | 2) &&
	       cfg_read32(TD_SLOT, msix_cap + 8) == (TESTDEV_MSIX_PBA | 2), "MSI-X: table and PBA in BAR2");
	report(msix_entry(3)[3] == 1, "MSI-X: vectors masked after reset");
	for (unsigned n = 0; n < TESTDEV_MSIX_VECTORS; n++)
		msix_program(n, 0, (u8)(VEC_MSIX + n), false);
	cfg_write16(TD_SLOT, msix_cap + 2, 0x8000);   /* enable */
	u64 posted0 = (u64)hc_get_counter(HC_CTR_POSTED);
	for (unsigned n = 0; n < TESTDEV_MSIX_VECTORS; n++)
		wr(TESTDEV_RAISE_MSIX, n);
	bool all = true;
	for (unsigned n = 0; n < TESTDEV_MSIX_VECTORS; n++)
		all &= wait_hits(hits, VEC_MSIX + n, 1);
	report(all, "MSI-X: vectors 0-3 delivered (0x41-0x44)");
	printf("pci: msix posted=%ld\n", hc_get_counter(HC_CTR_POSTED) - (long)posted0);

	/* Per-vector mask: pending, delivered on unmask. */
	u32 h = hits[VEC_MSIX + 1];
	msix_entry(1)[3] = 1;
	wr(TESTDEV_RAISE_MSIX, 1);
	udelay(1000);
	report(hits[VEC_MSIX + 1] == h && (pba() & 2), "MSI-X: masked vector 1: no interrupt, pending bit set");
	msix_entry(1)[3] = 0;
	report(wait_hits(hits, VEC_MSIX + 1, h + 1) && !(pba() & 2), "MSI-X: unmask delivers it, pending bit clear");
	/* Function mask. */
	h = hits[VEC_MSIX + 2];
	cfg_write16(TD_SLOT, msix_cap + 2, 0xc000);
	wr(TESTDEV_RAISE_MSIX, 2);
	udelay(1000);
	report(hits[VEC_MSIX + 2] == h && (pba() & 4), "MSI-X: function mask: no interrupt, pending bit set");
	cfg_write16(TD_SLOT, msix_cap + 2, 0x8000);
	report(wait_hits(hits, VEC_MSIX + 2, h + 1) && !pba(), "MSI-X: function unmask delivers it");
	/* A message to an address that is not 0xFEExxxxx: dropped (and counted) by the
	 * hypervisor, nothing arrives. */
	u32 h3 = hits[VEC_MSIX + 3];
	msix_entry(3)[0] = 0xfed00000u;
	wr(TESTDEV_RAISE_MSIX, 3);
	udelay(1000);
	report(hits[VEC_MSIX + 3] == h3, "MSI-X: a message to 0xfed00000 is dropped");
	msix_program(3, 0, VEC_MSIX + 3, false);
	/* Out of range: refused by the device. */
	u32 refused = rd(TESTDEV_RAISED);
	wr(TESTDEV_RAISE_MSIX, 9);
	report(rd(TESTDEV_RAISED) == refused + 1, "MSI-X: vector 9 does not exist (refused)");
}

static void dma(void)
{
	static u8 src[512], dst[512];
	for (unsigned i = 0; i < sizeof(src); i++) {
		src[i] = (u8)(i * 7 + 1);
		dst[i] = 0;
	}
	wr(TESTDEV_DMA_SRC_LO, (u32)(u64)src);
	wr(TESTDEV_DMA_SRC_HI, 0);
	wr(TESTDEV_DMA_DST_LO, (u32)(u64)dst);
	wr(TESTDEV_DMA_DST_HI, 0);
	wr(TESTDEV_DMA_LEN, sizeof(src));
	wr(TESTDEV_IRQ_MODE, TESTDEV_IRQ_MSIX);
	wr(TESTDEV_IRQ_VEC, 3);
	u32 h = hits[VEC_MSIX + 3];
	wr(TESTDEV_DMA_CMD, TESTDEV_DMA_GO);
	report(rd(TESTDEV_DMA_STATUS) == TESTDEV_DMA_ST_DONE && !memcmp(src, dst, sizeof(src)),
	       "DMA: 512 bytes copied, status DONE");
	report(wait_hits(hits, VEC_MSIX + 3, h + 1), "DMA: completion MSI-X vector 3");
	/* Outside RAM (in the hole, and past 4 GiB): error, nothing touched. */
	wr(TESTDEV_DMA_DST_LO, 0xd0000000u);
	wr(TESTDEV_DMA_CMD, TESTDEV_DMA_GO);
	u32 st = rd(TESTDEV_DMA_STATUS);
	wr(TESTDEV_DMA_DST_LO, (u32)(u64)dst);
	wr(TESTDEV_DMA_SRC_HI, 0x10);
	wr(TESTDEV_DMA_CMD, TESTDEV_DMA_GO);
	u32 st2 = rd(TESTDEV_DMA_STATUS);
	report(st == TESTDEV_DMA_ST_BAD_ADDR && st2 == TESTDEV_DMA_ST_BAD_ADDR,
	       "DMA: addresses outside RAM: BAD_ADDR (0x%x, 0x%x)", st, st2);
	report(wait_hits(hits, VEC_MSIX + 3, h + 3), "DMA: the failed copies still complete with an interrupt");
	report(rd(TESTDEV_DMA_COUNT) == 1, "DMA: one copy done");
	wr(TESTDEV_IRQ_MODE, TESTDEV_IRQ_NONE);
}

static void msi(void)
{
	cfg_write16(TD_SLOT, msix_cap + 2, 0);   /* MSI-X off */
	msi_cap = cap_find(0x05);
	u16 ctrl = cfg_read16(TD_SLOT, msi_cap + 2);
	report((ctrl & 0x180) == 0x180 && ((ctrl >> 1) & 7) == 2, "MSI: 64-bit, per-vector masking, 4 vectors (0x%x)",
	       ctrl);
	cfg_write32(TD_SLOT, msi_cap + 4, 0xfee00000u);
	cfg_write32(TD_SLOT, msi_cap + 8, 0);
	cfg_write16(TD_SLOT, msi_cap + 12, VEC_MSI);
	cfg_write16(TD_SLOT, msi_cap + 2, (u16)(1 | 2 << 4));   /* enable, 4 vectors */
	for (unsigned n = 0; n < 4; n++)
		wr(TESTDEV_RAISE_MSI, n);
	bool all = true;
	for (unsigned n = 0; n < 4; n++)
		all &= wait_hits(hits, VEC_MSI + n, 1);
	report(all, "MSI: vectors 0-3 arrive as 0x50-0x53");
	u32 h = hits[VEC_MSI + 1];
	cfg_write32(TD_SLOT, msi_cap + 0x10, 2);   /* mask vector 1 */
	wr(TESTDEV_RAISE_MSI, 1);
	udelay(1000);
	report(hits[VEC_MSI + 1] == h && cfg_read32(TD_SLOT, msi_cap + 0x14) == 2, "MSI: masked: pending bit, no interrupt");
	cfg_write32(TD_SLOT, msi_cap + 0x10, 0);
	report(wait_hits(hits, VEC_MSI + 1, h + 1) && cfg_read32(TD_SLOT, msi_cap + 0x14) == 0,
	       "MSI: unmask delivers, pending clear");
	cfg_write16(TD_SLOT, msi_cap + 2, 0);
}

static void intx(void)
{
	unsigned gsi = 16 + ((TD_SLOT + 0) & 3);
	irq_set_handler(VEC_INTX, intx_handler);
	/* Level, active low (the _PRT's GSI convention), unmasked, to APIC 0. */
	ioapic_write(0x10 + 2 * gsi + 1, 0);
	ioapic_write(0x10 + 2 * gsi, VEC_INTX | 1u << 15 | 1u << 13);
	cfg_write16(TD_SLOT, 4, 0x7);
	wr(TESTDEV_INTX, 1);
	report(cfg_read16(TD_SLOT, 6) & (1u << 3) || hits[VEC_INTX] >= 2, "INTx: status Interrupt bit while asserted");
	bool two = wait_hits(hits, VEC_INTX, 2);
	udelay(2000);
	report(two && hits[VEC_INTX] == 2, "INTx (GSI %u): re-raised after EOI while asserted, quiet once deasserted (%u)",
	       gsi, hits[VEC_INTX]);
	report(!(cfg_read16(TD_SLOT, 6) & (1u << 3)), "INTx: status Interrupt bit clear");
	/* Interrupt Disable holds the line low at the IOAPIC. */
	u32 h = hits[VEC_INTX];
	cfg_write16(TD_SLOT, 4, 0x407);
	hits[VEC_INTX] = 1;   /* the next interrupt deasserts at once */
	h = 1;
	wr(TESTDEV_INTX, 1);
	udelay(1000);
	report(hits[VEC_INTX] == h, "INTx: Interrupt Disable: nothing delivered");
	cfg_write16(TD_SLOT, 4, 0x7);
	report(wait_hits(hits, VEC_INTX, h + 1), "INTx: delivered when Interrupt Disable clears");
	ioapic_write(0x10 + 2 * gsi, 1u << 16);
}

/* ---- vCPU 1 running: messages to it ---- */

static volatile u32 spin_stop;

/* A busy loop without PAUSE: PAUSE-loop exiting would make the spinner exit on its
 * own, and the count is of exits the messages cause. */
static void spin(void *arg)
{
	(void)arg;
	sti();
	while (!spin_stop)
		barrier();
	cli();
}

static void to_vcpu1(bool apicv)
{
	u32 n = (u32)cmdline_get_u64("n", 200);
	irq_set_handler(VEC_MSIX, handler);
	/* MSI-X vector 0 to APIC ID 1. */
	msix_program(0, 1, VEC_MSIX, false);
	cfg_write16(TD_SLOT, msix_cap + 2, 0x8000);
	spin_stop = 0;
	if (on_cpu_async(1, spin, NULL)) {
		report(false, "cpu1 takes work");
		return;
	}
	udelay(2000);
	long rx0 = hc_vcpu_counter(HC_CTR_EXITS_TOTAL, 1);
	long px0 = hc_vcpu_counter(HC_CTR_POSTED, 1);
	long tx0 = hc_get_counter(HC_CTR_EXITS_TOTAL);
	u64 t0 = rdtsc_ordered();
	u32 lost = 0;
	for (u32 i = 0; i < n; i++) {
		u32 want = hits_cpu1[VEC_MSIX] + 1;
		wr(TESTDEV_RAISE_MSIX, 0);
		if (!wait_hits(hits_cpu1, VEC_MSIX, want))
			lost++;
	}
	u64 t1 = rdtsc_ordered();
	long rx = hc_vcpu_counter(HC_CTR_EXITS_TOTAL, 1) - rx0;
	long px = hc_vcpu_counter(HC_CTR_POSTED, 1) - px0;
	long tx = hc_get_counter(HC_CTR_EXITS_TOTAL) - tx0;
	printf("pci: msix->vcpu1 n=%u received=%u posted=%ld rx_exits=%ld rx_exits_per_msi=%ld.%03ld "
	       "tx_exits_per_msi=%ld.%03ld ticks_per_msi=%llu\n", n, hits_cpu1[VEC_MSIX], px, rx, rx / n,
	       (rx * 1000 / n) % 1000, tx / n, (tx * 1000 / n) % 1000, (unsigned long long)((t1 - t0) / n));
	report(!lost && hits_cpu1[VEC_MSIX] == n, "MSI-X to running vCPU 1: %u of %u delivered", hits_cpu1[VEC_MSIX], n);
	report(px >= n, "MSI-X to vCPU 1: posted to its descriptor (%ld)", px);
	if (apicv)
		report(rx * 10 < (long)n, "APICv: receiver exits %ld for %u MSI-X (< 1 per 10)", rx, n);
	else
		report(rx >= (long)n, "event injection: the receiver exits for each MSI-X (%ld for %u)", rx, n);

	/* MSI to vCPU 1. */
	cfg_write16(TD_SLOT, msix_cap + 2, 0);
	cfg_write32(TD_SLOT, msi_cap + 4, 0xfee00000u | 1u << 12);
	cfg_write16(TD_SLOT, msi_cap + 12, VEC_MSI);
	cfg_write32(TD_SLOT, msi_cap + 0x10, 0);
	cfg_write16(TD_SLOT, msi_cap + 2, 1);
	rx0 = hc_vcpu_counter(HC_CTR_EXITS_TOTAL, 1);
	lost = 0;
	for (u32 i = 0; i < n; i++) {
		u32 want = hits_cpu1[VEC_MSI] + 1;
		wr(TESTDEV_RAISE_MSI, 0);
		if (!wait_hits(hits_cpu1, VEC_MSI, want))
			lost++;
	}
	rx = hc_vcpu_counter(HC_CTR_EXITS_TOTAL, 1) - rx0;
	printf("pci: msi->vcpu1 n=%u received=%u rx_exits=%ld\n", n, hits_cpu1[VEC_MSI], rx);
	report(!lost && hits_cpu1[VEC_MSI] == n, "MSI to running vCPU 1: %u of %u delivered", hits_cpu1[VEC_MSI], n);
	if (apicv)
		report(rx * 10 < (long)n, "APICv: receiver exits %ld for %u MSI (< 1 per 10)", rx, n);
	cfg_write16(TD_SLOT, msi_cap + 2, 0);
	spin_stop = 1;
	cpu_wait_idle(1, 1000000);
}

int main(void)
{
	printf("pci: TSC %llu Hz\n", (unsigned long long)tsc_hz());
	if (!hv_present()) {
		report_skip("needs the hypervisor's PCI test device (vm=...,pci=testdev)");
		return report_summary();
	}
	bool apicv = hc_get_info(HC_INFO_FEATURES) & HC_FEAT_APICV;
	const char *want = cmdline_get("apicv");
	if (want)
		report(apicv == !strcmp(want, "on"), "APICv %s as the scenario expects", apicv ? "on" : "off");
	if (apic_setup(APIC_MODE_XAPIC)) {
		report(false, "APIC set up");
		return report_summary();
	}
	percpu[0].apic_id = apic_id();
	unsigned cpus = cmdline_get_u64("cpus", 1) > 1 ? smp_init() : 1;
	for (unsigned v = VEC_MSIX; v < VEC_MSIX + 4; v++)
		irq_set_handler(v, handler);
	for (unsigned v = VEC_MSI; v < VEC_MSI + 4; v++)
		irq_set_handler(v, handler);
	sti();

	if (!enumerate()) {
		printf("pci: no test device (vm=...,pci=testdev): nothing more to test\n");
		return report_summary();
	}
	bars();
	msix();
	dma();
	msi();
	intx();
	if (cpus >= 2)
		to_vcpu1(apicv);
	cli();
	/* bad=msix16: a 2-byte read of the MSI-X table, which the spec forbids: the
	 * hypervisor stops the VM with a diagnosis (status 2), it does not crash. */
	const char *bad = cmdline_get("bad");
	if (bad && !strcmp(bad, "msix16")) {
		report_summary();
		printf("pci: 2-byte MSI-X table read\n");
		serial_flush();
		(void)*(volatile u16 *)(BAR2_ADDR + TESTDEV_MSIX_TABLE);
		report(false, "the VM was not stopped");
	}
	return report_summary();
}
