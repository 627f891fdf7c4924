/* SPDX-License-Identifier: MIT */
/*
 * ACPI table parsing (ACPI Specification 6.x: "Root System Description Pointer (RSDP)",
 * "Multiple APIC Description Table (MADT)", "Fixed ACPI Description Table (FADT)").
 * Pure apart from phys_to_virt(): unit-tested on the host.
 */
#include "hv/host/acpi.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"

struct acpi_rsdp {
	char signature[8];   /* "RSD PTR " */
	u8 checksum;         /* of the first 20 bytes */
	char oem_id[6];
	u8 revision;         /* 0 = ACPI 1.0, 2 = 2.0+ */
	u32 rsdt;
	u32 length;          /* 2.0+ */
	u64 xsdt;
	u8 ext_checksum;     /* of all 36 bytes */
	u8 reserved[3];
} __packed;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP is 36 bytes");

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision, checksum;
	char oem_id[6], oem_table_id[8];
	u32 oem_revision, creator_id, creator_revision;
} __packed;
_Static_assert(sizeof(struct acpi_header) == 36, "SDT header is 36 bytes");

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2            /* Interrupt Source Override */
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_ENABLED BIT(0)

#define FADT_DSDT 40
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_X_DSDT 140

bool acpi_checksum_ok(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (u8)(sum + b[i]);
	return sum == 0;
}

static bool rsdp_valid(const struct acpi_rsdp *r)
{
	if (memcmp(r->signature, "RSD PTR ", 8) || !acpi_checksum_ok(r, 20))
		return false;
	if (r->revision >= 2 && (r->length < 36 || !acpi_checksum_ok(r, 36)))
		return false;
	return true;
}

static const void *scan(u64 start, u64 len, u64 *pa)
{
	for (u64 a = start; a + 36 <= start + len; a += 16) {
		const struct acpi_rsdp *r = phys_to_virt(a);
		if (r && rsdp_valid(r)) {
			*pa = a;
			return r;
		}
	}
	return NULL;
}

const void *acpi_find_rsdp(const struct boot_info *bi, u64 *pa)
{
	const void *r;
	*pa = 0;
	if (bi && bi->has_rsdp && rsdp_valid((const struct acpi_rsdp *)bi->rsdp))
		return bi->rsdp;
	/* UEFI: "the RSDP is found in the EFI System Table" (ACPI Specification, "Finding
	 * the RSDP on UEFI Enabled Systems"); the loader's tag is the only way here. The
	 * BIOS areas need not exist. */
	if (bi && bi->efi)
		return NULL;
	const u16 *ebda_seg = phys_to_virt(0x40e);
	if (ebda_seg && *ebda_seg) {
		r = scan((u64)*ebda_seg << 4, 1024, pa);
		if (r)
			return r;
	}
	return scan(0xe0000, 0x20000, pa);
}

static const struct acpi_header *map_table(u64 pa)
{
	const struct acpi_header *h = phys_to_virt(pa);
	if (!h || h->length < sizeof(*h) || h->length > MiB(16) || !acpi_checksum_ok(h, h->length))
		return NULL;
	return h;
}

static void add_cpu(struct acpi_info *ai, u32 apic_id, u32 bsp)
{
	for (u32 i = 0; i < ai->nr_cpus; i++)
		if (ai->apic_ids[i] == apic_id)
			return;
	if (ai->nr_cpus >= ACPI_MAX_CPUS) {
		ai->nr_ignored_cpus++;
		return;
	}
	if (apic_id == bsp && ai->nr_cpus) {
		/* keep the BSP first */
		ai->apic_ids[ai->nr_cpus++] = ai->apic_ids[0];
		ai->apic_ids[0] = apic_id;
	} else {
		ai->apic_ids[ai->nr_cpus++] = apic_id;
	}
}

static void parse_madt(const struct acpi_header *h, u32 bsp, struct acpi_info *ai)
{
	const u8 *p = (const u8 *)h;
	if (h->length < 44)
		return;
	ai->has_madt = true;
	ai->lapic_base = *(const u32 *)(p + 36);
	for (u32 off = 44; off + 2 <= h->length;) {
		u8 type = p[off], len = p[off + 1];
		if (len < 2 || off + len > h->length)
			break;
		if (type == MADT_LAPIC && len >= 8) {
			u32 flags;
			memcpy(&flags, p + off + 4, 4);
			if (flags & MADT_ENABLED)
				add_cpu(ai, p[off + 3], bsp);
		} else if (type == MADT_X2APIC && len >= 16) {
			u32 id, flags;
			memcpy(&id, p + off + 4, 4);
			memcpy(&flags, p + off + 8, 4);
			if (flags & MADT_ENABLED)
				add_cpu(ai, id, bsp);
		} else if (type == MADT_IOAPIC && len >= 12 && !ai->has_ioapic) {
			u32 addr;
			memcpy(&addr, p + off + 4, 4);
			memcpy(&ai->ioapic_gsi_base, p + off + 8, 4);
			ai->ioapic_base = addr;
			ai->has_ioapic = true;
		} else if (type == MADT_ISO && len >= 10 && p[off + 2] == 0 && p[off + 3] < 16) {
			/* Bus 0 (ISA), Source (IRQ), Global System Interrupt, Flags */
			memcpy(&ai->isa_gsi[p[off + 3]], p + off + 4, 4);
			memcpy(&ai->isa_flags[p[off + 3]], p + off + 8, 2);
		} else if (type == MADT_LAPIC_OVERRIDE && len >= 12) {
			memcpy(&ai->lapic_base, p + off + 4, 8);
		}
		off += len;
	}
}

/* AML: NameOp(0x08) "_S5_" PackageOp(0x12) PkgLength NumElements then the values,
 * each a BytePrefix(0x0A) byte or ZeroOp(0x00)/OneOp(0x01) ("ACPI Source Language
 * (ASL) Reference"/"ACPI Machine Language (AML) Specification"). */
static bool aml_int(const u8 *p, const u8 *end, u8 *val, const u8 **next)
{
	if (p >= end)
		return false;
	if (*p == 0x0a) {
		if (p + 1 >= end)
			return false;
		*val = p[1];
		*next = p + 2;
		return true;
	}
	if (*p == 0x00 || *p == 0x01) {
		*val = *p;
		*next = p + 1;
		return true;
	}
	return false;
}

bool acpi_find_s5(const u8 *aml, size_t len, u8 *typa, u8 *typb)
{
	for (size_t i = 0; i + 8 < len; i++) {
		if (memcmp(aml + i, "_S5_", 4))
			continue;
		if (!(i >= 1 && (aml[i - 1] == 0x08 || (i >= 2 && aml[i - 1] == '\\' && aml[i - 2] == 0x08))))
			continue;
		const u8 *p = aml + i + 4, *end = aml + len;
		if (*p++ != 0x12)
			continue;
		u8 lead = *p;
		p += 1 + (lead >> 6);   /* PkgLength: bits 7:6 count the following bytes */
		if (p >= end)
			return false;
		p++;                    /* NumElements */
		if (!aml_int(p, end, typa, &p))
			return false;
		if (!aml_int(p, end, typb, &p))
			*typb = 0;
		return true;
	}
	return false;
}

static void parse_fadt(const struct acpi_header *h, struct acpi_info *ai)
{
	const u8 *p = (const u8 *)h;
	if (h->length < 72)
		return;
	ai->has_fadt = true;
	memcpy(&ai->pm1a_cnt, p + FADT_PM1A_CNT, 4);
	memcpy(&ai->pm1b_cnt, p + FADT_PM1B_CNT, 4);
	u64 dsdt = *(const u32 *)(p + FADT_DSDT);
	if (h->length >= FADT_X_DSDT + 8) {
		u64 x;
		memcpy(&x, p + FADT_X_DSDT, 8);
		if (x)
			dsdt = x;
	}
	const struct acpi_header *d = dsdt ? map_table(dsdt) : NULL;
	if (d && !memcmp(d->signature, "DSDT", 4))
		ai->has_s5 = acpi_find_s5((const u8 *)d + sizeof(*d), d->length - sizeof(*d),
					  &ai->s5_typa, &ai->s5_typb);
}

/* MCFG: the 36-byte header, 8 reserved bytes, then 16-byte allocations: Base Address
 * (8), PCI Segment Group Number (2), Start Bus Number (1), End Bus Number (1), 4
 * reserved. The first allocation of segment 0 is kept. */
static void parse_mcfg(const struct acpi_header *h, struct acpi_info *ai)
{
	const u8 *p = (const u8 *)h;
	for (u32 off = 44; off + 16 <= h->length && !ai->has_mcfg; off += 16) {
		u16 seg;
		memcpy(&seg, p + off + 8, 2);
		if (seg)
			continue;
		memcpy(&ai->mcfg_base, p + off, 8);
		ai->mcfg_bus_start = p[off + 10];
		ai->mcfg_bus_end = p[off + 11];
		ai->has_mcfg = ai->mcfg_base != 0;
	}
}

/* The root table (XSDT for revision 2+ with an XSDT address, else RSDT) and its entry
 * size, or NULL. */
static const struct acpi_header *root_table(const struct acpi_rsdp *r, size_t *esize)
{
	bool xsdt = r->revision >= 2 && r->xsdt;
	const struct acpi_header *root = map_table(xsdt ? r->xsdt : r->rsdt);
	if (!root || memcmp(root->signature, xsdt ? "XSDT" : "RSDT", 4))
		return NULL;
	*esize = xsdt ? 8 : 4;
	return root;
}

/*
 * Serial Port Console Redirection Table (Microsoft, "Serial Port Console Redirection
 * Table (SPCR)"): Interface Type at 36 (revision 1: 0 "full 16550 interface", 1 "full
 * 16450 interface"; later revisions take the DBG2 serial port subtypes, of which 0x0000
 * "fully 16550-compatible", 0x0001 "16550 subset compatible with DBGP revision 1" and
 * 0x0012 "16550-compatible with parameters defined in Generic Address Structure" drive
 * the UART the way hv/lib/console.c does), Base Address (a Generic Address Structure:
 * address space ID, bit width, bit offset, access size, 64-bit address) at 40, and
 * Configured Baud Rate at 58 (3 = 9600, 4 = 19200, 6 = 57600, 7 = 115200; 0 = as is).
 */
#define SPCR_INTERFACE 36
#define SPCR_BASE 40
#define SPCR_BAUD 58
#define GAS_SPACE_IO 1        /* ACPI "Generic Address Structure": System I/O */

bool acpi_find_spcr(const void *rsdp_ptr, struct acpi_spcr *sp)
{
	const struct acpi_rsdp *r = rsdp_ptr;
	memset(sp, 0, sizeof(*sp));
	/* Looked up before the console and the frame pool exist, when only 0-4 GiB is
	 * mapped (boot/entry.S): tables above are not looked at. */
	if (!r || !rsdp_valid(r) || (r->revision >= 2 && r->xsdt ? r->xsdt : r->rsdt) >= GiB(4))
		return false;
	size_t esize;
	const struct acpi_header *root = root_table(r, &esize);
	if (!root)
		return false;
	size_t n = (root->length - sizeof(*root)) / esize;
	const u8 *entries = (const u8 *)root + sizeof(*root);
	const u8 *t = NULL;
	for (size_t i = 0; i < n && !t; i++) {
		u64 pa = 0;
		memcpy(&pa, entries + i * esize, esize);
		const struct acpi_header *h = pa && pa < GiB(4) - PAGE_SIZE ? map_table(pa) : NULL;
		if (h && !memcmp(h->signature, "SPCR", 4))
			t = (const u8 *)h;
	}
	if (!t)
		return false;
	sp->found = true;
	const struct acpi_header *h = (const struct acpi_header *)t;
	if (h->length < SPCR_BAUD + 1) {
		sp->why = "table too short";
		return false;
	}
	sp->interface_type = t[SPCR_INTERFACE];
	sp->space_id = t[SPCR_BASE];
	memcpy(&sp->address, t + SPCR_BASE + 4, 8);
	static const u32 rates[8] = { 0, 0, 0, 9600, 19200, 0, 57600, 115200 };
	u8 code = t[SPCR_BAUD];
	sp->baud = code < 8 ? rates[code] : 0;
	bool is_16550 = sp->interface_type == 0x00 || sp->interface_type == 0x01 ||
			(h->revision >= 2 && sp->interface_type == 0x12);
	if (!is_16550)
		sp->why = "interface type is not 16550-compatible";
	else if (sp->space_id != GAS_SPACE_IO)
		sp->why = "UART is not in I/O space (MMIO UARTs are not supported)";
	else if (!sp->address || sp->address > 0xfff8)
		sp->why = "bad I/O port";
	else
		sp->usable = true;
	return sp->usable;
}

bool acpi_parse(const void *rsdp_ptr, u32 bsp_apic_id, struct acpi_info *ai, char *err, size_t errlen)
{
	const struct acpi_rsdp *r = rsdp_ptr;
	u64 rsdp_pa = ai->rsdp;

	memset(ai, 0, sizeof(*ai));
	ai->rsdp = rsdp_pa;
	ai->lapic_base = 0xfee00000;
	for (u32 i = 0; i < 16; i++)
		ai->isa_gsi[i] = i;
	if (!r || !rsdp_valid(r)) {
		hv_snprintf(err, errlen, "no valid ACPI RSDP");
		return false;
	}
	bool xsdt = r->revision >= 2 && r->xsdt;
	size_t esize;
	const struct acpi_header *root = root_table(r, &esize);
	if (!root) {
		hv_snprintf(err, errlen, "ACPI %s at 0x%llx is invalid (signature or checksum)",
			    xsdt ? "XSDT" : "RSDT", (unsigned long long)(xsdt ? r->xsdt : r->rsdt));
		return false;
	}
	size_t n = (root->length - sizeof(*root)) / esize;
	const u8 *entries = (const u8 *)root + sizeof(*root);
	for (size_t i = 0; i < n; i++) {
		u64 pa = 0;
		memcpy(&pa, entries + i * esize, esize);
		const struct acpi_header *h = map_table(pa);
		if (!h)
			continue;
		if (!memcmp(h->signature, "APIC", 4))
			parse_madt(h, bsp_apic_id, ai);
		else if (!memcmp(h->signature, "FACP", 4))
			parse_fadt(h, ai);
		else if (!memcmp(h->signature, "MCFG", 4))
			parse_mcfg(h, ai);
		else if (!memcmp(h->signature, "DMAR", 4) && !ai->dmar_pa) {
			ai->dmar_pa = pa;
			ai->dmar_len = h->length;
		}
	}
	return true;
}
