/* SPDX-License-Identifier: MIT */
/*
 * platform: checks the guest platform the hypervisor builds (docs/INTERFACES.md,
 * "Guest platform") the way an OS finds it:
 *   - the ACPI tables: RSDP in 0xE0000-0xFFFFF ("Finding the RSDP on IA-PC Systems"),
 *     checksums, RSDT/XSDT, the MADT (one enabled local APIC per vCPU with IDs 0..n-1,
 *     the IOAPIC, IRQ0 -> GSI 2, LINT1 NMI), the FADT and the DSDT's \_S5;
 *   - the ACPI PM timer (32-bit, 3.579545 MHz) and PM1 registers;
 *   - the IOAPIC through MMIO at 0xfec00000, with the instruction forms compilers use
 *     (each one an EPT violation the hypervisor decodes and emulates);
 *   - the masked 8259 pair (initialization words, mask read-back, OCW3, ELCR);
 *   - the measurement mark port 0x5ec: reads all ones; the marks 0xa5 and 0xa6 written
 *     around 4 CPUID instructions (tests/e2e.manifest checks the hypervisor's lines);
 * then powers off through PM1a_CNT with SLP_TYP from \_S5, which must stop the VM with
 * status 1 ("ACPI S5 power-off"). If that write returns, the test fails (status 3).
 *
 * Command line:
 *   vcpus=N      the VM's vCPU count (compared with HC_GET_INFO(HC_INFO_NR_VCPUS) when
 *                the hypervisor has it; default 1)
 *   noshutdown   end through the debug-exit port instead of the S5 power-off
 *   badmmio      after the checks, an instruction the MMIO emulation does not decode
 *                (ADD to IOREGSEL): the hypervisor must stop the VM (status 2)
 *   badsleep     after the checks, SLP_EN with an SLP_TYP no \_Sx defines: stopped too
 */
#include "lib.h"
#include "apic.h"

#define BIOS_AREA 0xe0000ul
#define BIOS_AREA_END 0x100000ul
#define IOAPIC_BASE 0xfec00000ul
#define LAPIC_BASE 0xfee00000u

struct rsdp {
	char sig[8];
	u8 checksum;
	char oem[6];
	u8 revision;
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 xchecksum;
	u8 reserved[3];
} __packed;

struct sdt {
	char sig[4];
	u32 length;
	u8 revision, checksum;
	char oem[6], oem_table[8];
	u32 oem_revision, creator, creator_revision;
} __packed;

/* What the tables say, for the later checks. */
static struct {
	u32 ioapic_addr;
	int ioapic_id;
	u16 pm1a_evt, pm1a_cnt, pm_tmr;
	bool tmr_ext;
	int slp_typ;   /* -1: no \_S5 */
} plat = { .ioapic_id = -1, .slp_typ = -1 };

static u8 sum(const void *p, size_t n)
{
	const u8 *b = p;
	u8 s = 0;
	while (n--)
		s = (u8)(s + *b++);
	return s;
}

static u32 rd32(const void *p)
{
	u32 v;
	memcpy(&v, p, 4);
	return v;
}

static u64 rd64(const void *p)
{
	u64 v;
	memcpy(&v, p, 8);
	return v;
}

static unsigned expected_vcpus(void)
{
	long hc = vmcall(HC_GET_INFO, HC_INFO_NR_VCPUS, 0, 0);
	const char *arg = cmdline_get("vcpus");
	unsigned n = (unsigned)cmdline_get_u64("vcpus", 1);

	if (hc > 0 && arg)
		report((unsigned long)hc == n, "HC_GET_INFO(NR_VCPUS) = %ld matches vcpus=%u", hc, n);
	if (hc > 0)
		return (unsigned)hc;
	printf("platform: HC_GET_INFO(NR_VCPUS) returned %ld; using vcpus=%u from %s\n", hc, n,
	       arg ? "the command line" : "the default");
	return n;
}

static const struct rsdp *find_rsdp(void)
{
	for (uintptr_t a = BIOS_AREA; a + sizeof(struct rsdp) <= BIOS_AREA_END; a += 16) {
		const struct rsdp *r = (const struct rsdp *)a;
		if (!memcmp(r->sig, "RSD PTR ", 8) && sum(r, 20) == 0)
			return r;
	}
	return NULL;
}

static const struct sdt *table(u64 pa, const char *sig)
{
	const struct sdt *t = (const struct sdt *)(uintptr_t)pa;
	if (!pa || pa >= 0x100000000ull || memcmp(t->sig, sig, 4))
		return NULL;
	return t;
}

static void check_madt(const struct sdt *m, unsigned vcpus)
{
	const u8 *p = (const u8 *)m;
	unsigned lapics = 0, in_order = 0, ioapics = 0, iso0 = 0, nmi = 0;

	report(rd32(p + 36) == LAPIC_BASE, "MADT local APIC address 0x%x", rd32(p + 36));
	report(rd32(p + 40) & 1, "MADT flags PCAT_COMPAT (0x%x)", rd32(p + 40));
	for (u32 off = 44; off + 2 <= m->length;) {
		u8 type = p[off], len = p[off + 1];
		if (len < 2 || off + len > m->length) {
			report(false, "MADT entry at +%u has length %u", off, len);
			return;
		}
		if (type == 0 && len >= 8 && (rd32(p + off + 4) & 1)) {
			if (p[off + 3] == lapics)
				in_order++;
			lapics++;
		} else if (type == 1 && len >= 12) {
			ioapics++;
			plat.ioapic_id = p[off + 2];
			plat.ioapic_addr = rd32(p + off + 4);
			report(rd32(p + off + 8) == 0, "IOAPIC GSI base 0 (%u)", rd32(p + off + 8));
		} else if (type == 2 && len >= 10) {
			if (p[off + 2] == 0 && p[off + 3] == 0 && rd32(p + off + 4) == 2)
				iso0++;
		} else if (type == 4 && len >= 6) {
			if (p[off + 2] == 0xff && p[off + 5] == 1)
				nmi++;
		}
		off += len;
	}
	report(lapics == vcpus, "MADT lists %u enabled local APICs (expected %u)", lapics, vcpus);
	report(in_order == lapics, "local APIC IDs are 0..%u in order", lapics ? lapics - 1 : 0);
	report(ioapics == 1 && plat.ioapic_addr == IOAPIC_BASE, "one IOAPIC at 0x%x (%u entries)",
	       plat.ioapic_addr, ioapics);
	report(plat.ioapic_id == (int)vcpus, "IOAPIC ID %d follows the APIC IDs (%u)", plat.ioapic_id, vcpus);
	report(iso0 == 1, "interrupt source override ISA IRQ0 -> GSI 2");
	report(nmi == 1, "local APIC NMI on LINT1 for all processors");
}

/* \_S5: NameOp "\_S5_" or "_S5_", PackageOp, PkgLength, NumElements, SLP_TYPa. */
static int find_s5(const u8 *aml, u32 len)
{
	for (u32 i = 1; i + 8 < len; i++) {
		if (memcmp(aml + i, "_S5_", 4))
			continue;
		if (aml[i - 1] != 0x08 && !(aml[i - 1] == '\\' && i >= 2 && aml[i - 2] == 0x08))
			continue;
		const u8 *q = aml + i + 4;
		if (*q++ != 0x12)
			continue;
		q += 1 + (*q >> 6);   /* PkgLength */
		q++;                  /* NumElements */
		if (*q == 0x0a)
			return q[1];
		if (*q == 0x00 || *q == 0x01)
			return *q;
		return -1;
	}
	return -1;
}

static void check_fadt(const struct sdt *f)
{
	const u8 *p = (const u8 *)f;

	report(f->revision >= 3 && f->length >= 244, "FADT revision %u, length %u: has the X_ fields",
	       f->revision, f->length);
	if (f->length < 244)
		return;
	plat.pm1a_evt = (u16)rd32(p + 56);
	plat.pm1a_cnt = (u16)rd32(p + 64);
	plat.pm_tmr = (u16)rd32(p + 76);
	plat.tmr_ext = rd32(p + 112) & (1u << 8);
	report(plat.pm1a_cnt && p[89] == 2, "PM1a_CNT_BLK 0x%x, length %u", plat.pm1a_cnt, p[89]);
	report(plat.pm_tmr && p[91] == 4, "PM_TMR_BLK 0x%x, length %u", plat.pm_tmr, p[91]);
	report(plat.pm1a_evt && p[88] == 4, "PM1a_EVT_BLK 0x%x, length %u", plat.pm1a_evt, p[88]);
	report(plat.tmr_ext, "FADT flags TMR_VAL_EXT: 32-bit PM timer (flags 0x%x)", rd32(p + 112));
	report(rd32(p + 46) == 9 || (rd32(p + 46) & 0xffff) == 9, "SCI_INT 9 (%u)", rd32(p + 46) & 0xffff);
	report(rd64(p + 208 + 4) == plat.pm_tmr && p[208] == 1, "X_PM_TMR_BLK is the same I/O port");

	u64 dsdt_pa = rd64(p + 140) ? rd64(p + 140) : rd32(p + 40);
	report(rd64(p + 140) == rd32(p + 40), "X_DSDT = DSDT (0x%llx)", (unsigned long long)dsdt_pa);
	const struct sdt *d = table(dsdt_pa, "DSDT");
	report(d && sum(d, d->length) == 0, "DSDT at 0x%llx, checksum", (unsigned long long)dsdt_pa);
	if (!d)
		return;
	plat.slp_typ = find_s5((const u8 *)d + sizeof(*d), d->length - (u32)sizeof(*d));
	report(plat.slp_typ >= 0 && plat.slp_typ < 8, "DSDT defines \\_S5, SLP_TYPa %d", plat.slp_typ);
	const u8 *facs = (const u8 *)(uintptr_t)rd32(p + 36);
	report(facs && !memcmp(facs, "FACS", 4) && ((uintptr_t)facs & 63) == 0,
	       "FIRMWARE_CTRL points to a 64-byte aligned FACS");
}

static void check_acpi(unsigned vcpus)
{
	const struct rsdp *r = find_rsdp();

	report(r != NULL, "RSDP found in 0xE0000-0xFFFFF (at %p)", (const void *)r);
	if (!r)
		return;
	report((uintptr_t)r == BIOS_AREA, "RSDP at 0xE0000");
	report(r->revision == 2 && r->length == 36 && sum(r, 36) == 0,
	       "RSDP revision %u, length %u, extended checksum", r->revision, r->length);

	const struct sdt *rsdt = table(r->rsdt, "RSDT");
	const struct sdt *xsdt = table(r->xsdt, "XSDT");
	report(rsdt && sum(rsdt, rsdt->length) == 0, "RSDT at 0x%x, checksum", r->rsdt);
	report(xsdt && sum(xsdt, xsdt->length) == 0, "XSDT at 0x%llx, checksum", (unsigned long long)r->xsdt);
	if (!rsdt || !xsdt)
		return;
	u32 n = (xsdt->length - 36) / 8;
	report(n == (rsdt->length - 36) / 4, "RSDT and XSDT list %u tables each", n);

	const struct sdt *madt = NULL, *fadt = NULL;
	for (u32 i = 0; i < n; i++) {
		u64 pa = rd64((const u8 *)xsdt + 36 + 8 * i);
		report(pa == rd32((const u8 *)rsdt + 36 + 4 * i), "RSDT entry %u = XSDT entry %u (0x%llx)", i, i,
		       (unsigned long long)pa);
		const struct sdt *t = (const struct sdt *)(uintptr_t)pa;
		report(sum(t, t->length) == 0, "table %.4s at 0x%llx: checksum", t->sig, (unsigned long long)pa);
		if (!memcmp(t->sig, "APIC", 4))
			madt = t;
		else if (!memcmp(t->sig, "FACP", 4))
			fadt = t;
	}
	report(madt != NULL, "MADT present");
	report(fadt != NULL, "FADT present");
	if (madt)
		check_madt(madt, vcpus);
	if (fadt)
		check_fadt(fadt);

	/* The multiboot memory map must not offer the tables as RAM. */
	bool reserved = false;
	for (const struct mb_mmap_entry *e = mmap_next(NULL); e; e = mmap_next(e))
		if (e->addr <= BIOS_AREA && e->addr + e->len >= BIOS_AREA_END)
			reserved = e->type != MB_MMAP_AVAILABLE;
	report(reserved, "memory map: 0xE0000-0xFFFFF reserved");
}

static void check_pm(void)
{
	if (!plat.pm_tmr || !plat.pm1a_cnt) {
		report_skip("PM timer and PM1 registers (no FADT)");
		return;
	}
	/* Monotonic: each read at or after the previous one (mod 2^32), and it moves. */
	u32 first = inl(plat.pm_tmr), prev = first;
	bool mono = true;
	for (int i = 0; i < 200; i++) {
		u32 t = inl(plat.pm_tmr);
		if ((u32)(t - prev) >= 0x80000000u)
			mono = false;
		prev = t;
	}
	report(mono, "PM timer never goes backwards over 200 reads");
	report(prev != first, "PM timer advances (0x%08x -> 0x%08x)", first, prev);
	/* A 16-bit read gives the low half of the counter between two 32-bit reads. */
	u32 a = inl(plat.pm_tmr);
	u16 w = inw(plat.pm_tmr);
	u32 b = inl(plat.pm_tmr);
	if ((u32)(b - a) < 0x10000u)
		report((u16)(w - (u16)a) <= (u16)(b - a), "16-bit PM timer read 0x%04x lies between 0x%08x and 0x%08x",
		       w, a, b);
	else
		report_skip("16-bit PM timer read (reads %u ticks apart)", b - a);

	/* Rate against the TSC, when the hypervisor tells its frequency. */
	long tsc_hz = vmcall(HC_GET_INFO, HC_INFO_TSC_HZ, 0, 0);
	if (tsc_hz > 0) {
		u32 p0 = inl(plat.pm_tmr);
		u64 t0 = rdtsc_ordered();
		u32 p1, reads = 0;
		do
			p1 = inl(plat.pm_tmr);
		while ((u32)(p1 - p0) < 3580 && ++reads < 10000000u);   /* about 1 ms */
		u64 t1 = rdtsc_ordered();
		report(reads < 10000000u, "PM timer advanced 3580 ticks within %u reads", reads);
		u64 expect = (u64)(p1 - p0) * (u64)tsc_hz / 3579545u;
		u64 got = t1 - t0;
		report(got > expect * 9 / 10 && got < expect * 11 / 10,
		       "PM timer at 3.579545 MHz of a %ld Hz TSC: %u ticks in %llu TSC cycles (expected ~%llu)",
		       tsc_hz, p1 - p0, (unsigned long long)got, (unsigned long long)expect);
	} else {
		report_skip("PM timer rate (HC_GET_INFO(TSC_HZ) returned %ld)", tsc_hz);
	}

	u16 cnt = inw(plat.pm1a_cnt);
	report(cnt & 1, "PM1a_CNT reads SCI_EN (0x%x)", cnt);
	report(inw(plat.pm1a_evt) == 0 && inw(plat.pm1a_evt + 2) == 0, "PM1_STS and PM1_EN read 0");
	/* ACPI "PM1 Enable Registers": the enable bits (TMR_EN 0, GBL_EN 5, PWRBTN_EN 8,
	 * SLPBTN_EN 9, RTC_EN 10, PCIEXP_WAKE_DIS 14) read back as written, reserved bits
	 * 0; byte writes land in their byte; no status bit rises. */
	outw(0xffff, plat.pm1a_evt + 2);
	u16 en = inw(plat.pm1a_evt + 2);
	outb(0x00, plat.pm1a_evt + 3);
	u16 en_lo = inw(plat.pm1a_evt + 2);
	outw(0, plat.pm1a_evt + 2);
	report(en == 0x4721 && en_lo == 0x0021 && inw(plat.pm1a_evt + 2) == 0 && inw(plat.pm1a_evt) == 0,
	       "PM1_EN keeps its enable bits (0xffff -> 0x%x, high byte 0 -> 0x%x), PM1_STS stays 0", en, en_lo);
	/* SLP_TYP without SLP_EN does nothing: the next line is printed only if the VM
	 * still runs. */
	outw((u16)(plat.slp_typ << 10), plat.pm1a_cnt);
	report(inw(plat.pm1a_cnt) & 1, "still running after SLP_TYP without SLP_EN to PM1a_CNT");
}

/* ---- IOAPIC through MMIO ---- */

static volatile u32 *const ioregsel = (volatile u32 *)IOAPIC_BASE;
static volatile u32 *const iowin = (volatile u32 *)(IOAPIC_BASE + 0x10);

static u32 ioapic_read(u32 reg)
{
	*ioregsel = reg;
	return *iowin;
}

static void ioapic_write(u32 reg, u32 val)
{
	*ioregsel = reg;
	*iowin = val;
}

static void check_ioapic(void)
{
	u32 ver = ioapic_read(1);
	report((ver & 0xff) == 0x11 && ((ver >> 16) & 0xff) == 23,
	       "IOAPIC version 0x11, 24 entries (IOAPICVER 0x%08x)", ver);
	u32 id = ioapic_read(0);
	report(plat.ioapic_id < 0 || ((id >> 24) & 0xf) == (u32)(plat.ioapic_id & 0xf),
	       "IOAPIC ID register 0x%08x matches the MADT (%d)", id, plat.ioapic_id);
	report(ioapic_read(2) == id, "IOAPICARB = IOAPICID (0x%08x)", ioapic_read(2));

	/* Entry 5 (registers 0x1a/0x1b): reset masked, write masked + level + vector 0x45
	 * to CPU 1 with the read-only bits set, read back without them. */
	u32 lo = ioapic_read(0x1a), hi = ioapic_read(0x1b);
	report(lo == 0x10000 && hi == 0, "redirection entry 5 after reset: masked (0x%08x %08x)", hi, lo);
	ioapic_write(0x1b, 0x01000000);
	ioapic_write(0x1a, 0x00010000 | 0x8000 | 0x4000 | 0x1000 | 0x45);
	lo = ioapic_read(0x1a);
	hi = ioapic_read(0x1b);
	report(lo == 0x00018045 && hi == 0x01000000,
	       "redirection entry 5 reads back 0x%08x %08x (delivery status, Remote IRR read-only)", hi, lo);
	ioapic_write(0x1a, 0x10000);
	ioapic_write(0x1b, 0);

	/* The other instruction forms. */
	u32 v32;
	u64 v64;
	u8 v8;
	u16 v16;
	asm volatile("movb $1, (%1)\n\tmovzbl 0x10(%1), %0" : "=&r"(v32) : "r"(IOAPIC_BASE) : "memory");
	report(v32 == 0x11, "movb \\$imm8 to IOREGSEL, movzbl from IOWIN: 0x%x", v32);
	asm volatile("movw 0x12(%1), %0" : "=r"(v16) : "r"(IOAPIC_BASE) : "memory");
	report(v16 == 23, "16-bit read of IOWIN+2: %u", v16);
	asm volatile("movb 0x12(%1), %0" : "=q"(v8) : "r"(IOAPIC_BASE) : "memory");
	report(v8 == 23, "8-bit read of IOWIN+2: %u", v8);
	v64 = 0xffffffff00000000ull | 1;
	asm volatile("movabs %%eax, 0xfec00000\n\tmovabs 0xfec00010, %%eax" : "+a"(v64) : : "memory");
	report(v64 == 0x170011, "movabs (moffs64) store and load, EAX zero-extended: 0x%llx",
	       (unsigned long long)v64);
	asm volatile("xor %%r9d, %%r9d\n\tmov %%r9d, (%1)\n\tmov 0x10(%1), %%r10d\n\tmov %%r10, %0"
		     : "=r"(v64)
		     : "r"(IOAPIC_BASE)
		     : "r9", "r10", "memory");
	/* r9d = 0: IOREGSEL = 0 (ID). */
	report((u32)v64 == id, "REX.R forms (r9d store, r10d load): 0x%llx", (unsigned long long)v64);
	v64 = 0x0100;   /* AH = 1: IOREGSEL = 1 */
	asm volatile("mov %%ah, (%1)\n\tmovl 0x10(%1), %%eax" : "+a"(v64) : "r"(IOAPIC_BASE) : "memory");
	report(v64 == 0x170011, "mov %%ah to IOREGSEL (high byte): 0x%llx", (unsigned long long)v64);
	asm volatile("movl $1, (%1)\n\tmov (%1,%2,4), %0" : "=r"(v32) : "r"(IOAPIC_BASE), "r"(4ul) : "memory");
	report(v32 == 0x170011, "SIB base+index*4 load: 0x%x", v32);
	asm volatile("movl $1, (%1)\n\tmov 0x10(%k1), %0" : "=r"(v32) : "r"(IOAPIC_BASE) : "memory");
	report(v32 == 0x170011, "67-prefixed (32-bit address) load: 0x%x", v32);
}

/* ---- 8259s ---- */

static void check_pic(void)
{
	outb(0xff, 0x21);
	outb(0xff, 0xa1);
	report(inb(0x21) == 0xff && inb(0xa1) == 0xff, "8259 masks read back 0xff");
	outb(0xfb, 0x21);
	report(inb(0x21) == 0xfb, "master IMR 0xfb reads back (0x%x)", inb(0x21));

	/* The initialization sequence an OS uses; ICW1 clears the mask. */
	outb(0x11, 0x20);
	outb(0x20, 0x21);
	outb(0x04, 0x21);
	outb(0x01, 0x21);
	report(inb(0x21) == 0x00, "ICW1-ICW4 leave the IMR clear (0x%x)", inb(0x21));
	outb(0x11, 0xa0);
	outb(0x28, 0xa1);
	outb(0x02, 0xa1);
	outb(0x01, 0xa1);
	outb(0xff, 0xa1);
	outb(0xff, 0x21);
	report(inb(0x21) == 0xff && inb(0xa1) == 0xff, "OCW1 after initialization masks everything again");
	outb(0x0a, 0x20);
	report(inb(0x20) == 0, "OCW3 read IRR: 0 (the 8259s never have a request)");
	outb(0x0b, 0x20);
	report(inb(0x20) == 0, "OCW3 read ISR: 0");
	outb(0xff, 0x4d0);
	outb(0x00, 0x4d1);
	report(inb(0x4d0) == 0xf8 && inb(0x4d1) == 0, "ELCR: IRQ0-2 stay edge (0x%x 0x%x)", inb(0x4d0),
	       inb(0x4d1));
	outb(0x00, 0x4d0);
}

static void power_off(void)
{
	if (plat.slp_typ < 0 || !plat.pm1a_cnt) {
		report(false, "no \\_S5 or PM1a_CNT: cannot power off through ACPI");
		return;
	}
	u16 v = (u16)((plat.slp_typ << 10) | (1u << 13));
	printf("platform: powering off: 0x%04x to PM1a_CNT 0x%x\n", v, plat.pm1a_cnt);
	serial_flush();
	outw(v, plat.pm1a_cnt);
	report(false, "the VM still runs after SLP_TYP | SLP_EN to PM1a_CNT");
}

/* ---- a level-triggered IOAPIC line and the EOI broadcast ---- */

#define LEVEL_PIN 5
#define LEVEL_VECTOR 0x70
static volatile unsigned level_irqs;
static volatile bool level_eoi_in_handler;

static void level_handler(struct ex_regs *r)
{
	(void)r;
	level_irqs++;
	if (level_eoi_in_handler)
		apic_eoi();
}

/*
 * The device line is HC_IOAPIC_LINE (a test hook). A level-triggered entry delivers
 * while the line is high and Remote IRR is clear; the EOI of its vector reaches the
 * IOAPIC (with APICv through the EOI-exit bitmap, an EOI-induced exit) and clears
 * Remote IRR, so a line still high delivers again (82093AA, "Redirection Table").
 */
static void check_level_irq(void)
{
	if (vmcall(HC_IOAPIC_LINE, LEVEL_PIN, 0, 0) != 0) {
		report_skip("level-triggered IOAPIC line: no HC_IOAPIC_LINE");
		return;
	}
	apic_setup(APIC_MODE_XAPIC);
	irq_set_handler(LEVEL_VECTOR, level_handler);
	u32 reg = 0x10 + 2 * LEVEL_PIN;
	ioapic_write(reg + 1, apic_id() << 24);
	ioapic_write(reg, (1u << 15) | LEVEL_VECTOR);   /* level, fixed, physical, unmasked */
	long eoi0 = hc_get_counter(HC_CTR_EXIT_REASON + 45);
	level_irqs = 0;
	level_eoi_in_handler = false;
	sti();
	vmcall(HC_IOAPIC_LINE, LEVEL_PIN, 1, 0);
	wait_until(level_irqs >= 1, 100000);
	udelay(2000);
	cli();
	bool rirr = ioapic_read(reg) & (1u << 14);
	report(level_irqs == 1 && rirr, "level line high: one interrupt (%u), Remote IRR set (%d) until EOI",
	       level_irqs, rirr);
	sti();
	apic_eoi();   /* the line is still high: delivered again */
	wait_until(level_irqs >= 2, 100000);
	cli();
	report(level_irqs == 2, "EOI with the line still high: delivered again (%u)", level_irqs);
	vmcall(HC_IOAPIC_LINE, LEVEL_PIN, 0, 0);
	level_eoi_in_handler = true;
	sti();
	apic_eoi();
	udelay(2000);
	cli();
	rirr = ioapic_read(reg) & (1u << 14);
	report(level_irqs == 2 && !rirr, "line low, EOI: Remote IRR clear (%d), no more interrupts (%u)", rirr,
	       level_irqs);
	long eoi = hc_get_counter(HC_CTR_EXIT_REASON + 45) - eoi0;
	if (vmcall(HC_GET_INFO, HC_INFO_FEATURES, 0, 0) & HC_FEAT_APICV)
		report(eoi == 2, "APICv: each EOI of the level vector is an EOI-induced exit (%ld)", eoi);
	ioapic_write(reg, 1u << 16);
}

/* The measurement mark port (hv/dev/mark.c): reads return all ones; each byte written
 * prints a `mark` line with the VM's exit counts, which the e2e scenario checks (4
 * CPUID exits between the two marks). */
static void check_mark(void)
{
	u8 v = inb(0x5ec);
	report(v == 0xff, "mark port 0x5ec reads 0x%x (all ones)", v);
	outb(0xa5, 0x5ec);
	for (u32 i = 0; i < 4; i++) {
		u32 a = 0, b, c = 0, d;
		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
	outb(0xa6, 0x5ec);
}

int main(void)
{
	unsigned vcpus = expected_vcpus();

	printf("platform: %u vCPU(s) expected\n", vcpus);
	check_acpi(vcpus);
	check_pm();
	check_ioapic();
	check_pic();
	check_level_irq();
	check_mark();
	int status = report_summary();
	if (status || cmdline_has("noshutdown"))
		return status;
	if (cmdline_has("badmmio")) {
		printf("platform: addl $1 to IOREGSEL (not emulated)\n");
		serial_flush();
		asm volatile("addl $1, (%0)" : : "r"(IOAPIC_BASE) : "memory");
		report(false, "the VM still runs after an ADD to the IOAPIC");
		return report_summary();
	}
	if (cmdline_has("badsleep")) {
		printf("platform: SLP_EN with SLP_TYP %d\n", (plat.slp_typ + 1) & 7);
		serial_flush();
		outw((u16)((((plat.slp_typ + 1) & 7) << 10) | (1u << 13)), plat.pm1a_cnt);
		report(false, "the VM still runs after a sleep request for an undefined state");
		return report_summary();
	}
	power_off();
	return report_summary();
}
