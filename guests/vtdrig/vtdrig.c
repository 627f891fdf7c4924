/* SPDX-License-Identifier: MIT */
/*
 * vtdrig: a bare-metal test of the emulator rig's VT-d additions (no hypervisor):
 * Bochs 3.0 with tools/bochs-patches 0004-0006, booted by `tools/hvrun --bare --iommu`.
 * It tests the rig, not the hypervisor:
 *
 *   - ACPI: the DMAR table GRUB's `acpi` command added (one DRHD, INCLUDE_PCI_ALL);
 *   - the edu test device (QEMU docs/specs/edu.rst layout): identification, liveness,
 *     factorial, DMA RAM -> buffer -> RAM with the unit's translation off, MSI on the
 *     programmed vector and APIC (Intel SDM "Message Signalled Interrupts"), INTx
 *     disabled while MSI is on;
 *   - the VT-d unit (VT-d specification): capabilities, root/context tables and 4-level
 *     second-level tables: a mapped page receives the DMA, an unmapped one and a
 *     read-only one fault (fault recording register read back: reason, source-id,
 *     address, type; no byte written; fault event interrupt), queued invalidation with
 *     status write and completion interrupt, interrupt remapping (remapped IRTE with
 *     source-id check, compatibility format blocked, wrong source-id blocked), posted
 *     IRTEs (PIR and ON set in the descriptor, NV sent to NDST; SN suppresses it,
 *     urgent overrides SN, ON already set sends nothing), and in x2APIC mode with
 *     IRTA.EIME the 32-bit IRTE destination and NDST.
 *
 * Command line: `bare` (print the runner's end marker and power Bochs off at the end),
 * `nohv`. Exit status (code << 1) | 1: 1 = all passed.
 */
#include "lib.h"
#include "pcicfg.h"
#include "apic.h"
#include "smp.h"

/* ---- multiboot2 (mb2.S): GRUB's information structure ------------------------------ */

#define MB2_BOOT_MAGIC 0x36d76289u
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

/* The first tag of this type (Multiboot2 Specification, "Boot information format"),
 * or NULL; its payload starts 8 bytes in. */
static const u8 *mb2_tag(u32 type)
{
	if (mb_magic != MB2_BOOT_MAGIC)
		return NULL;
	const u8 *info = (const u8 *)(uintptr_t)mb_info_phys;
	u32 total = *(const u32 *)info;
	for (const u8 *p = info + 8; p + 8 <= info + total;) {
		u32 t = *(const u32 *)p, size = *(const u32 *)(p + 4);
		if (t == 0 || size < 8)
			break;
		if (t == type)
			return p;
		p += (size + 7) & ~7u;
	}
	return NULL;
}

/* `word` on the command line, whichever loader started us */
static bool has_word(const char *word)
{
	const u8 *t = mb2_tag(MB2_TAG_CMDLINE);
	size_t n = strlen(word);

	if (!t)
		return cmdline_has(word);
	for (const char *c = (const char *)t + 8; *c; c++) {
		if ((c == (const char *)t + 8 || c[-1] == ' ') && !strncmp(c, word, n) &&
		    (c[n] == 0 || c[n] == ' '))
			return true;
	}
	return false;
}

/* ---- the end of a bare run --------------------------------------------------------- */

static __noreturn void finish(int code)
{
	if (has_word("bare")) {
		/* the runner's end marker (docs/INTERFACES.md), then Bochs's shutdown port */
		printf("=== HV END status=%d ===\n", (code << 1) | 1);
		serial_flush();
		for (const char *s = "Shutdown"; *s; s++)
			outb((u8)*s, 0x8900);
	}
	exit(code);
}

/* ---- PCI configuration mechanism #1 ------------------------------------------------ */

/* ---- MMIO ----------------------------------------------------------------------------- */

static inline u32 rd32(u64 a) { return *(volatile u32 *)(uintptr_t)a; }
static inline u64 rd64(u64 a) { return *(volatile u64 *)(uintptr_t)a; }
static inline void wr32(u64 a, u32 v) { *(volatile u32 *)(uintptr_t)a = v; }
static inline void wr64(u64 a, u64 v) { *(volatile u64 *)(uintptr_t)a = v; }

/* ---- edu ------------------------------------------------------------------------------ */

#define EDU_ID         0x00
#define EDU_LIVENESS   0x04
#define EDU_FACTORIAL  0x08
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE  0x60
#define EDU_IRQ_ACK    0x64
#define EDU_DMA_SRC    0x80
#define EDU_DMA_DST    0x88
#define EDU_DMA_COUNT  0x90
#define EDU_DMA_CMD    0x98
#define EDU_DMA_START  0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_BUF        0x40000

static unsigned edu_devfn = ~0u;
static u64 edu;         /* BAR0 */
static unsigned msi_cap;

static bool edu_find(void)
{
	for (unsigned devfn = 0; devfn < 256; devfn += 8) {
		if (pci_cfg_read32(devfn, 0) == 0x11e81234u) {
			edu_devfn = devfn;
			return true;
		}
	}
	return false;
}

/* RAM <-> device buffer; returns the command register after the transfer */
static u64 edu_dma(u64 ram, unsigned off, unsigned len, bool to_ram)
{
	wr64(edu + EDU_DMA_SRC, to_ram ? EDU_BUF + off : ram);
	wr64(edu + EDU_DMA_DST, to_ram ? ram : EDU_BUF + off);
	wr64(edu + EDU_DMA_COUNT, len);
	wr64(edu + EDU_DMA_CMD, EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
	return rd64(edu + EDU_DMA_CMD);
}

static void edu_msi(u64 addr, u16 data)
{
	pci_cfg_write32(edu_devfn, msi_cap + 4, (u32)addr);
	pci_cfg_write32(edu_devfn, msi_cap + 8, (u32)(addr >> 32));
	pci_cfg_write16(edu_devfn, msi_cap + 12, data);
	pci_cfg_write16(edu_devfn, msi_cap + 2, 1);       /* MSI enable */
}

/* ---- interrupts ----------------------------------------------------------------------- */

#define V_MSI     0x50
#define V_MSI2    0x58
#define V_FAULT   0x51
#define V_NOTIFY  0x52
#define V_INVWAIT 0x53
#define V_REMAP   0x60
#define V_POSTED  0x70   /* the posted "virtual" vector: must NOT arrive at the CPU */

static volatile u32 hits[256];

static void on_irq(struct ex_regs *r)
{
	hits[r->vector & 0xff]++;
	apic_eoi();
}

/* raise an edu interrupt and give the CPU the chance to take what arrived */
static void edu_raise(u32 bits)
{
	wr32(edu + EDU_IRQ_RAISE, bits);
	sti();
	for (int i = 0; i < 1000; i++)
		pause();
	cli();
	wr32(edu + EDU_IRQ_ACK, bits);
}

/* let the CPU take whatever is pending in its APIC */
static void drain(void)
{
	sti();
	for (int i = 0; i < 1000; i++)
		pause();
	cli();
}

static u32 snap[256];
/* drain, then remember the counts: hits_new() counts only what arrives after this */
static void hits_snap(void)
{
	drain();
	for (int i = 0; i < 256; i++)
		snap[i] = hits[i];
}
static u32 hits_new(unsigned v)
{
	return hits[v] - snap[v];
}
static u32 hits_new_total(void)
{
	u32 n = 0;
	for (int i = 0x20; i < 256; i++)
		n += hits[i] - snap[i];
	return n;
}

/* ---- memory ----------------------------------------------------------------------------- */

static u8 page_a[4096] __attribute__((aligned(4096)));   /* DMA source */
static u8 page_b[4096] __attribute__((aligned(4096)));   /* DMA target, unit off */
static u8 page_m[4096] __attribute__((aligned(4096)));   /* mapped at IOVA_RW */
static u8 page_r[4096] __attribute__((aligned(4096)));   /* mapped read-only at IOVA_RO */
static u8 page_u[4096] __attribute__((aligned(4096)));   /* never mapped */
static u64 root_tbl[512] __attribute__((aligned(4096)));
static u64 ctx_tbl[512] __attribute__((aligned(4096)));
static u64 sl_pml4[512] __attribute__((aligned(4096)));
static u64 sl_pdpt[512] __attribute__((aligned(4096)));
static u64 sl_pd[512] __attribute__((aligned(4096)));
static u64 sl_pt[512] __attribute__((aligned(4096)));
static u64 invq[512] __attribute__((aligned(4096)));      /* 256 descriptors */
static u64 irt[512] __attribute__((aligned(4096)));       /* 256 IRTEs */
/* posted-interrupt descriptor: page-aligned like the hypervisor's (Bochs 3.0 rejects
 * unaligned ones on the CPU side; the VT-d format needs 64 bytes) */
static volatile u64 pid[512] __attribute__((aligned(4096)));
static volatile u32 inv_status;

#define PHYS(p) ((u64)(uintptr_t)(p))
#define IOVA_RW 0x40000000ull
#define IOVA_RO 0x40001000ull

static void fill(u8 *p, u8 seed)
{
	for (int i = 0; i < 4096; i++)
		p[i] = (u8)(seed + i * 7);
}

static bool same(const u8 *p, const u8 *q, unsigned n)
{
	return memcmp(p, q, n) == 0;
}

static bool all(const u8 *p, u8 v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ---- the VT-d unit -------------------------------------------------------------------- */

#define VTD_CAP    0x08
#define VTD_ECAP   0x10
#define VTD_GCMD   0x18
#define VTD_GSTS   0x1c
#define VTD_RTADDR 0x20
#define VTD_FSTS   0x34
#define VTD_FECTL  0x38
#define VTD_FEDATA 0x3c
#define VTD_FEADDR 0x40
#define VTD_IQH    0x80
#define VTD_IQT    0x88
#define VTD_IQA    0x90
#define VTD_ICS    0x9c
#define VTD_IECTL  0xa0
#define VTD_IEDATA 0xa4
#define VTD_IEADDR 0xa8
#define VTD_IRTA   0xb8
#define GS_TE    (1u << 31)
#define GS_RTPS  (1u << 30)
#define GS_QIE   (1u << 26)
#define GS_IRE   (1u << 25)
#define GS_IRTPS (1u << 24)
#define GS_CFI   (1u << 23)

static u64 vtd;
static u64 frcd_base;
static unsigned nfr;

/* Global Command: write the current persistent status with one change, wait for it */
static bool vtd_gcmd(u32 set, u32 clear, u32 wait_bit, bool wait_set)
{
	u32 st = rd32(vtd + VTD_GSTS) & (GS_TE | GS_QIE | GS_IRE | GS_CFI);
	wr32(vtd + VTD_GCMD, (st | set) & ~clear);
	for (int i = 0; i < 1000; i++) {
		bool b = rd32(vtd + VTD_GSTS) & wait_bit;
		if (b == wait_set)
			return true;
		pause();
	}
	return false;
}

static unsigned iq_tail;

static void iq_put(u64 lo, u64 hi)
{
	invq[iq_tail * 2] = lo;
	invq[iq_tail * 2 + 1] = hi;
	iq_tail = (iq_tail + 1) % 256;
}

/* queue: the descriptors given, then a wait descriptor with status write; wait for it */
static bool iq_sync(bool irq_flag)
{
	static u32 seq = 0x100;
	u32 want = ++seq;
	iq_put(0x5 | (1u << 5) | (irq_flag ? 1u << 4 : 0) | ((u64)want << 32), PHYS(&inv_status));
	wr64(vtd + VTD_IQT, (u64)iq_tail << 4);
	for (int i = 0; i < 1000 && inv_status != want; i++)
		pause();
	return inv_status == want && rd64(vtd + VTD_IQH) == rd64(vtd + VTD_IQT);
}

struct fault {
	bool f;
	u8 reason;
	u16 sid;
	bool read;
	u64 info;
};

static int fault_index(void)
{
	return (rd32(vtd + VTD_FSTS) >> 8) & 0xff;
}

static struct fault fault_read(int n)
{
	struct fault f;
	u64 lo = rd64(frcd_base + 16 * n), hi = rd64(frcd_base + 16 * n + 8);
	f.f = hi >> 63;
	f.read = (hi >> 62) & 1;
	f.reason = (u8)(hi >> 32);
	f.sid = (u16)hi;
	f.info = lo & ~0xfffull;
	return f;
}

static void fault_clear(int n)
{
	wr32(frcd_base + 16 * n + 12, 0x80000000u);
	wr32(vtd + VTD_FSTS, 0x71);     /* PFO, IQE, ICE, ITE */
}

/* ---- the tests ----------------------------------------------------------------------- */

static u32 my_apic;

/* the DMAR through the RSDP of the multiboot2 ACPI tag: RSDT (or XSDT) entries */
static const u8 *mb2_dmar(const char **which)
{
	const u8 *t = mb2_tag(MB2_TAG_ACPI_NEW);

	*which = "new";
	if (!t) {
		t = mb2_tag(MB2_TAG_ACPI_OLD);
		*which = "old";
	}
	if (!t)
		return NULL;
	const u8 *rsdp = t + 8;
	bool x = rsdp[15] >= 2 && *(const u64 *)(rsdp + 24);
	const u8 *root = (const u8 *)(uintptr_t)(x ? *(const u64 *)(rsdp + 24) : *(const u32 *)(rsdp + 16));
	u32 len = *(const u32 *)(root + 4), esize = x ? 8 : 4;
	for (u32 off = 36; off + esize <= len; off += esize) {
		u64 pa = x ? *(const u64 *)(root + off) : *(const u32 *)(root + off);
		const u8 *h = (const u8 *)(uintptr_t)pa;
		if (!memcmp(h, "DMAR", 4))
			return h;
	}
	return NULL;
}

static void test_acpi(void)
{
	const u8 *d = acpi_find_table("DMAR");

	report(d != NULL, "ACPI: DMAR table present (RSDP found by the EBDA/BIOS-area scan)");
	if (mb_magic == MB2_BOOT_MAGIC) {
		const char *which;
		const u8 *m = mb2_dmar(&which);
		report(m != NULL && m == d, "ACPI: the multiboot2 ACPI %s tag's RSDP leads to the same "
		       "DMAR (%p)", which, m);
	} else {
		report_skip("not started by multiboot2: its ACPI tag not checked");
	}
	if (!d)
		return;
	u32 len = *(const u32 *)(d + 4);
	report(d[36] == 47 && (d[37] & 1), "DMAR: host address width 48, INTR_REMAP (haw=%u flags=%#x)",
	       d[36] + 1, d[37]);
	for (u32 off = 48; off + 4 <= len;) {
		u16 type = *(const u16 *)(d + off), l = *(const u16 *)(d + off + 2);
		if (l < 4)
			break;
		if (type == 0) {
			vtd = *(const u64 *)(d + off + 8);
			report(d[off + 4] & 1, "DMAR: DRHD at %#llx with INCLUDE_PCI_ALL",
			       (unsigned long long)vtd);
		}
		off += l;
	}
	report(vtd != 0, "DMAR: one DRHD");
}

static void test_edu_plain(void)
{
	if (!edu_find()) {
		report(false, "edu: 1234:11e8 not found on bus 0");
		return;
	}
	report(true, "edu: found 1234:11e8 at 00:%02x.%u", edu_devfn >> 3, edu_devfn & 7);
	u32 bar = pci_cfg_read32(edu_devfn, 0x10);
	if ((bar & ~0xfu) == 0) {
		pci_cfg_write32(edu_devfn, 0x10, 0xd0000000);   /* the BIOS left it unassigned */
		bar = pci_cfg_read32(edu_devfn, 0x10);
	}
	edu = bar & ~0xfull;
	pci_cfg_write32(edu_devfn, 0x04, 0x0006);           /* memory space, bus master */
	u8 cap = (u8)pci_cfg_read32(edu_devfn, 0x34);
	while (cap) {
		u32 h = pci_cfg_read32(edu_devfn, cap);
		if ((h & 0xff) == 0x05) {
			msi_cap = cap;
			break;
		}
		cap = (u8)(h >> 8);
	}
	report(edu != 0 && msi_cap && (pci_cfg_read32(edu_devfn, msi_cap) >> 16 & 0x80),
	       "edu: BAR0 %#llx, MSI capability at %#x, 64-bit", (unsigned long long)edu, msi_cap);

	report(rd32(edu + EDU_ID) == 0x010000ed, "edu: identification %#x", rd32(edu + EDU_ID));
	wr32(edu + EDU_LIVENESS, 0x12345678);
	report(rd32(edu + EDU_LIVENESS) == ~0x12345678u, "edu: liveness returns the inverse");
	wr32(edu + EDU_FACTORIAL, 10);
	report(rd32(edu + EDU_FACTORIAL) == 3628800, "edu: 10! = %u", rd32(edu + EDU_FACTORIAL));

	/* DMA without translation: RAM -> buffer -> other RAM */
	fill(page_a, 0x11);
	memset(page_b, 0, sizeof(page_b));
	u64 c1 = edu_dma(PHYS(page_a), 0, 4096, false);
	u64 c2 = edu_dma(PHYS(page_b), 0, 4096, true);
	report(!(c1 & 1) && !(c2 & 1) && same(page_a, page_b, 4096),
	       "edu DMA (unit off): 4096 bytes RAM -> buffer -> RAM, start bit cleared");
	memset(page_b, 0, sizeof(page_b));
	edu_dma(PHYS(page_b) + 100, 8, 50, true);
	report(same(page_b + 100, page_a + 8, 50) && all(page_b, 0, 100) && all(page_b + 150, 0, 100),
	       "edu DMA (unit off): 50 bytes at offset 8 -> RAM + 100, neighbours untouched");

	/* MSI on the programmed vector and APIC */
	hits_snap();
	edu_msi(0xfee00000ull | (my_apic << 12), V_MSI);
	edu_raise(0x1);
	report(hits_new(V_MSI) == 1 && hits_new_total() == 1,
	       "edu MSI (unit off): one interrupt on vector %#x at APIC %u (got %u, total %u)",
	       V_MSI, my_apic, hits_new(V_MSI), hits_new_total());
	hits_snap();
	edu_msi(0xfee00000ull | ((my_apic + 1) << 12), V_MSI);    /* nobody there */
	edu_raise(0x1);
	report(hits_new_total() == 0, "edu MSI to an absent APIC ID: nothing arrives");
	hits_snap();
	edu_msi(0xfee00000ull | (my_apic << 12), V_MSI2);
	wr32(edu + EDU_IRQ_RAISE, 0x100);
	report(rd32(edu + EDU_IRQ_STATUS) == 0x100, "edu: interrupt status holds the raised value");
	sti();
	for (int i = 0; i < 1000; i++)
		pause();
	cli();
	wr32(edu + EDU_IRQ_ACK, 0x100);
	report(hits_new(V_MSI2) == 1 && rd32(edu + EDU_IRQ_STATUS) == 0,
	       "edu MSI: reprogrammed vector %#x, status acknowledged", V_MSI2);
}

static void setup_tables(void)
{
	unsigned bus = 0, devfn = edu_devfn;

	memset(root_tbl, 0, sizeof(root_tbl));
	memset(ctx_tbl, 0, sizeof(ctx_tbl));
	root_tbl[bus * 2] = PHYS(ctx_tbl) | 1;
	ctx_tbl[devfn * 2] = PHYS(sl_pml4) | 1;                 /* P, TT = 0 */
	ctx_tbl[devfn * 2 + 1] = 2 | (1u << 8);                  /* AW = 4-level, DID 1 */
	sl_pml4[0] = PHYS(sl_pdpt) | 3;
	sl_pdpt[IOVA_RW >> 30] = PHYS(sl_pd) | 3;
	sl_pd[0] = PHYS(sl_pt) | 3;
	sl_pt[0] = PHYS(page_m) | 3;                             /* R, W */
	sl_pt[1] = PHYS(page_r) | 1;                             /* R only */
}

static void test_vtd_dma(void)
{
	u64 cap = rd64(vtd + VTD_CAP), ecap = rd64(vtd + VTD_ECAP);

	report(((cap >> 8) & 0x1f) == 0x4 && ((cap >> 16) & 0x3f) == 47 && !((cap >> 7) & 1) &&
	       ((cap >> 59) & 1),
	       "VT-d CAP %#llx: SAGAW 4-level, MGAW 48, CM 0, PI", (unsigned long long)cap);
	report((ecap & 0x1b) == 0x1b, "VT-d ECAP %#llx: C, QI, IR, EIM", (unsigned long long)ecap);
	frcd_base = vtd + ((cap >> 24) & 0x3ff) * 16;
	nfr = (unsigned)((cap >> 40) & 0xff) + 1;

	/* fault event interrupt to this CPU, unmasked */
	wr32(vtd + VTD_FEDATA, V_FAULT);
	wr32(vtd + VTD_FEADDR, 0xfee00000u | (my_apic << 12));
	wr32(vtd + VTD_FECTL, 0);
	wr32(vtd + VTD_IEDATA, V_INVWAIT);
	wr32(vtd + VTD_IEADDR, 0xfee00000u | (my_apic << 12));
	wr32(vtd + VTD_IECTL, 0);

	setup_tables();
	wr64(vtd + VTD_RTADDR, PHYS(root_tbl));
	report(vtd_gcmd(GS_RTPS, 0, GS_RTPS, true), "VT-d: root table pointer set (RTPS)");

	/* queued invalidation */
	wr64(vtd + VTD_IQT, 0);
	wr64(vtd + VTD_IQA, PHYS(invq));                          /* QS = 0: 256 entries */
	report(vtd_gcmd(GS_QIE, 0, GS_QIE, true), "VT-d: queued invalidation enabled (QIES)");
	iq_put(0x1 | (1u << 4), 0);                               /* context cache, global */
	iq_put(0x2 | (1u << 4), 0);                               /* IOTLB, global */
	hits_snap();
	bool ok = iq_sync(true);
	sti();
	for (int i = 0; i < 100; i++)
		pause();
	cli();
	report(ok && hits_new(V_INVWAIT) == 1 && (rd32(vtd + VTD_ICS) & 1),
	       "VT-d QI: context + IOTLB invalidation, wait descriptor status written, IWC and "
	       "completion interrupt (%u)", hits_new(V_INVWAIT));
	wr32(vtd + VTD_ICS, 1);
	report(!(rd32(vtd + VTD_ICS) & 1), "VT-d: ICS.IWC cleared by writing 1");

	report(vtd_gcmd(GS_TE, 0, GS_TE, true), "VT-d: translation enabled (TES)");

	/* a DMA read from a page the domain does not map faults */
	int fri;
	hits_snap();
	edu_dma(PHYS(page_a), 0, 4096, false);
	sti();
	for (int i = 0; i < 100; i++)
		pause();
	cli();
	fri = fault_index();   /* FRI: the first pending record, valid with PPF set */
	struct fault f0 = fault_read(fri);
	report(f0.f && f0.reason == 0x6 && f0.read && f0.info == PHYS(page_a),
	       "VT-d: DMA read from an unmapped page faults: reason %#x (6: no read), read, "
	       "address %#llx", f0.reason, (unsigned long long)f0.info);
	report(hits_new(V_FAULT) == 1, "VT-d: fault event interrupt on vector %#x (%u)", V_FAULT,
	       hits_new(V_FAULT));
	fault_clear(fri);

	/* mapped pages receive the DMA */
	memset(page_m, 0, 4096);
	fill(page_r, 0x33);
	u64 c = edu_dma(IOVA_RO, 0, 4096, false);             /* read-only mapping: read ok */
	u64 c2 = edu_dma(IOVA_RW, 0, 4096, true);             /* into the mapped page */
	report(!(c & 1) && !(c2 & 1) && same(page_m, page_r, 4096) &&
	       !(rd32(vtd + VTD_FSTS) & 2),
	       "VT-d: DMA read through IOVA %#llx (R) and write through IOVA %#llx (R/W) land in "
	       "the mapped pages", IOVA_RO, IOVA_RW);

	/* an unmapped page: fault recorded, no byte written */
	memset(page_u, 0xee, 4096);
	hits_snap();
	edu_dma(PHYS(page_u), 0, 64, true);
	sti();
	for (int i = 0; i < 100; i++)
		pause();
	cli();
	fri = fault_index();   /* FRI: the first pending record, valid with PPF set */
	struct fault f = fault_read(fri);
	report(all(page_u, 0xee, 4096), "VT-d: DMA write to an unmapped page: no byte written");
	report(f.f && f.reason == 0x5 && !f.read && f.sid == edu_devfn &&
	       f.info == PHYS(page_u) && (rd32(vtd + VTD_FSTS) & 2),
	       "VT-d: fault record %d: F, reason %#x (5: no write), write, source %02x:%02x.%u, "
	       "address %#llx, FSTS.PPF", fri, f.reason, f.sid >> 8, (f.sid >> 3) & 31, f.sid & 7,
	       (unsigned long long)f.info);
	report(hits_new(V_FAULT) == 1, "VT-d: fault event interrupt (%u)", hits_new(V_FAULT));
	fault_clear(fri);
	report(!(rd32(vtd + VTD_FSTS) & 2) && !fault_read(fri).f,
	       "VT-d: F cleared by writing 1, PPF follows");

	/* a read-only page refuses writes */
	memcpy(page_b, page_r, 4096);
	edu_dma(IOVA_RO, 0, 16, true);
	fri = fault_index();   /* FRI: the first pending record, valid with PPF set */
	f = fault_read(fri);
	report(f.f && f.reason == 0x5 && f.info == IOVA_RO && same(page_r, page_b, 4096),
	       "VT-d: DMA write through a read-only mapping faults (reason %#x), page intact",
	       f.reason);
	fault_clear(fri);

	/* a page that crosses into an unmapped one: nothing is transferred */
	memset(page_m, 0, 4096);
	edu_dma(IOVA_RW + 4096 - 32, 0, 64, true);          /* second half hits IOVA_RO: R only */
	fri = fault_index();   /* FRI: the first pending record, valid with PPF set */
	f = fault_read(fri);
	report(f.f && all(page_m, 0, 4096), "VT-d: a DMA write spanning a writable and a "
	       "read-only page faults and writes nothing");
	fault_clear(fri);
}

/* remapped IRTE, low half: P, fixed, physical, edge, vector, DST[15:8] = APIC ID (xAPIC) */
static u64 irte_remapped(u8 vector, u32 apic)
{
	return 1 | ((u64)vector << 16) | ((u64)(apic & 0xff) << 40);
}

static void irte_set(unsigned idx, u64 lo, u64 hi)
{
	irt[idx * 2] = lo;
	irt[idx * 2 + 1] = hi;
}

static u64 msi_remappable(unsigned handle)
{
	return 0xfee00000ull | ((u64)(handle & 0x7fff) << 5) | (1u << 4) |
	       ((u64)((handle >> 15) & 1) << 2);
}

static void test_vtd_ir(void)
{
	u16 rid = (u16)edu_devfn;

	memset(irt, 0, sizeof(irt));
	irte_set(5, irte_remapped(V_REMAP, my_apic), (u64)rid | (1u << 18)); /* SVT 1, SQ 0 */
	irte_set(6, irte_remapped(V_REMAP + 1, my_apic), (u64)(rid ^ 0x100) | (1u << 18));
	/* posted IRTEs: P, IM = 1, VV, PDA[31:6] in bits 63:38, PDA[63:32] in bits 127:96;
	 * entry 8 also has URG (bit 14) */
	u64 pda_lo = ((PHYS(pid) >> 6) & 0x3ffffff) << 38, pda_hi = (PHYS(pid) >> 32) << 32;
	irte_set(7, 1 | (1u << 15) | ((u64)V_POSTED << 16) | pda_lo, (u64)rid | (1u << 18) | pda_hi);
	irte_set(8, 1 | (1u << 14) | (1u << 15) | ((u64)(V_POSTED + 1) << 16) | pda_lo,
		 (u64)rid | (1u << 18) | pda_hi);
	irte_set(9, 0, 0);                                       /* not present */

	wr64(vtd + VTD_IRTA, PHYS(irt) | 7);                     /* 256 entries, xAPIC */
	report(vtd_gcmd(GS_IRTPS, 0, GS_IRTPS, true), "VT-d: interrupt remapping table set (IRTPS)");
	iq_put(0x4, 0);                                          /* interrupt entry cache, global */
	report(iq_sync(false), "VT-d QI: interrupt entry cache invalidation completes");
	report(vtd_gcmd(GS_IRE, 0, GS_IRE, true), "VT-d: interrupt remapping enabled (IRES)");

	/* remapped IRTE: the IRTE's vector, not the MSI data's */
	hits_snap();
	edu_msi(msi_remappable(5), 0);
	edu_raise(1);
	report(hits_new(V_REMAP) == 1 && hits_new_total() == 1,
	       "VT-d IR: remappable MSI (handle 5) arrives on the IRTE's vector %#x (%u, total %u)",
	       V_REMAP, hits_new(V_REMAP), hits_new_total());

	/* the wrong source-id: blocked, fault 0x26 */
	int fri;
	hits_snap();
	edu_msi(msi_remappable(6), 0);
	edu_raise(1);
	fri = fault_index();   /* FRI: the first pending record, valid with PPF set */
	struct fault f = fault_read(fri);
	report(hits_new(V_REMAP + 1) == 0 && f.f && f.reason == 0x26 && f.info >> 48 == 6,
	       "VT-d IR: source-id mismatch blocked, fault reason %#x, index %llu", f.reason,
	       (unsigned long long)(f.info >> 48));
	fault_clear(fri);

	/* not present: 0x22 */
	edu_msi(msi_remappable(9), 0);
	edu_raise(1);
	fri = fault_index();   /* FRI: the first pending record, valid with PPF set */
	f = fault_read(fri);
	report(f.f && f.reason == 0x22, "VT-d IR: IRTE not present, fault reason %#x", f.reason);
	fault_clear(fri);

	/* compatibility format: blocked unless CFIS */
	hits_snap();
	edu_msi(0xfee00000ull | (my_apic << 12), V_MSI);
	edu_raise(1);
	fri = fault_index();   /* FRI: the first pending record, valid with PPF set */
	f = fault_read(fri);
	report(hits_new_total() == 1 && hits_new(V_FAULT) == 1 && f.f && f.reason == 0x25,
	       "VT-d IR: compatibility-format MSI blocked (reason %#x), only the fault event arrives",
	       f.reason);
	fault_clear(fri);
	report(vtd_gcmd(GS_CFI, 0, GS_CFI, true), "VT-d: CFI set (CFIS)");
	hits_snap();
	edu_raise(1);
	report(hits_new(V_MSI) == 1, "VT-d IR: with CFIS the compatibility-format MSI passes");
	vtd_gcmd(0, GS_CFI, GS_CFI, false);

	/* posted IRTE */
	for (int i = 0; i < 8; i++)
		pid[i] = 0;
	pid[4] = ((u64)V_NOTIFY << 16) | ((u64)(my_apic << 8) << 32);   /* NV, NDST (xAPIC) */
	hits_snap();
	edu_msi(msi_remappable(7), 0);
	edu_raise(1);
	report((pid[V_POSTED / 64] >> (V_POSTED % 64) & 1) && (pid[4] & 1),
	       "VT-d PI: posted IRTE sets PIR bit %#x and ON in the descriptor", V_POSTED);
	report(hits_new(V_NOTIFY) == 1 && hits_new(V_POSTED) == 0 && hits_new_total() == 1,
	       "VT-d PI: notification vector %#x sent to NDST (APIC %u), the posted vector not "
	       "delivered (%u, total %u)", V_NOTIFY, my_apic, hits_new(V_NOTIFY), hits_new_total());

	/* ON already set: PIR updated, no second notification */
	pid[V_POSTED / 64] = 0;
	hits_snap();
	edu_raise(1);
	report((pid[V_POSTED / 64] >> (V_POSTED % 64) & 1) && hits_new_total() == 0,
	       "VT-d PI: with ON already set: PIR set, no notification");

	/* SN set: no notification, ON stays clear */
	pid[V_POSTED / 64] = 0;
	pid[4] = (pid[4] & ~1ull) | 2;
	hits_snap();
	edu_raise(1);
	report((pid[V_POSTED / 64] >> (V_POSTED % 64) & 1) && !(pid[4] & 1) &&
	       hits_new_total() == 0, "VT-d PI: SN suppresses the notification (PIR set, ON clear)");

	/* urgent overrides SN */
	hits_snap();
	edu_msi(msi_remappable(8), 0);
	edu_raise(1);
	u32 v1 = V_POSTED + 1;
	report((pid[v1 / 64] >> (v1 % 64) & 1) && (pid[4] & 1) && hits_new(V_NOTIFY) == 1,
	       "VT-d PI: an urgent IRTE notifies despite SN");
}

/* extended interrupt mode (IRTA.EIME): 32-bit x2APIC destinations in IRTEs and NDST */
static void test_vtd_eime(void)
{
	u16 rid = (u16)edu_devfn;

	if (apic_setup(APIC_MODE_X2APIC)) {
		report_skip("x2APIC not available: extended interrupt mode not tested");
		return;
	}
	u32 id = apic_id();
	irte_set(10, 1 | ((u64)V_REMAP << 16) | ((u64)id << 32), (u64)rid | (1u << 18));
	u64 pda_lo = ((PHYS(pid) >> 6) & 0x3ffffff) << 38, pda_hi = (PHYS(pid) >> 32) << 32;
	irte_set(11, 1 | (1u << 15) | ((u64)V_POSTED << 16) | pda_lo, (u64)rid | (1u << 18) | pda_hi);
	wr64(vtd + VTD_IRTA, PHYS(irt) | (1u << 11) | 7);
	report(vtd_gcmd(GS_IRTPS, 0, GS_IRTPS, true), "VT-d: IRTA with EIME latched (IRTPS)");
	iq_put(0x4, 0);
	iq_sync(false);

	hits_snap();
	edu_msi(msi_remappable(10), 0);
	edu_raise(1);
	report(hits_new(V_REMAP) == 1 && hits_new_total() == 1,
	       "VT-d IR (EIME, x2APIC %u): remapped IRTE with a 32-bit destination delivers %#x",
	       id, V_REMAP);

	for (int i = 0; i < 8; i++)
		pid[i] = 0;
	pid[4] = ((u64)V_NOTIFY << 16) | ((u64)id << 32);          /* NDST: x2APIC ID */
	hits_snap();
	edu_msi(msi_remappable(11), 0);
	edu_raise(1);
	report((pid[V_POSTED / 64] >> (V_POSTED % 64) & 1) && (pid[4] & 1) &&
	       hits_new(V_NOTIFY) == 1 && hits_new_total() == 1,
	       "VT-d PI (EIME): PIR and ON set, NV %#x sent to the 32-bit NDST %u", V_NOTIFY, id);

	/* 32 bits are used: x2APIC ID 0x10000 is nobody here (its bits 15:8, the xAPIC
	 * field, would name this CPU) */
	irte_set(12, 1 | ((u64)V_REMAP << 16) | ((u64)(id + 0x10000) << 32), (u64)rid | (1u << 18));
	iq_put(0x4, 0);
	iq_sync(false);
	hits_snap();
	edu_msi(msi_remappable(12), 0);
	edu_raise(1);
	report(hits_new_total() == 0 && !(rd32(vtd + VTD_FSTS) & 2),
	       "VT-d IR (EIME): destination %#x reaches no CPU, no fault", id + 0x10000);
	pid[4] = ((u64)V_NOTIFY << 16) | ((u64)(id + 0x10000) << 32);
	hits_snap();
	edu_msi(msi_remappable(11), 0);
	edu_raise(1);
	report((pid[4] & 1) && hits_new_total() == 0,
	       "VT-d PI (EIME): NDST %#x: ON set, the notification reaches no CPU", id + 0x10000);
}

int main(void)
{
	irq_set_handler(V_MSI, on_irq);
	irq_set_handler(V_MSI2, on_irq);
	irq_set_handler(V_FAULT, on_irq);
	irq_set_handler(V_NOTIFY, on_irq);
	irq_set_handler(V_INVWAIT, on_irq);
	irq_set_handler(V_REMAP, on_irq);
	irq_set_handler(V_REMAP + 1, on_irq);
	irq_set_handler(V_POSTED, on_irq);
	irq_set_handler(V_POSTED + 1, on_irq);
	if (apic_setup(APIC_MODE_XAPIC)) {
		report(false, "xAPIC set-up");
		finish(report_summary());
	}
	my_apic = apic_id();
	printf("vtdrig: APIC %u\n", my_apic);

	test_acpi();
	test_edu_plain();
	if (edu_devfn != ~0u && vtd) {
		test_vtd_dma();
		test_vtd_ir();
		test_vtd_eime();
	} else {
		report_skip("VT-d tests: no unit or no edu device");
	}
	finish(report_summary());
}
