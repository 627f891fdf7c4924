/* SPDX-License-Identifier: MIT */
/*
 * Just enough ACPI to count processors: find the RSDP, walk the RSDT/XSDT, read the
 * MADT (ACPI Specification 6.x, "Root System Description Pointer (RSDP)", "Multiple
 * APIC Description Table (MADT)"). Tables are reached through the identity map, so
 * they must lie below 4 GiB.
 */
#include "smp.h"

struct rsdp {
	char sig[8];          /* "RSD PTR " */
	u8 checksum;          /* first 20 bytes sum to 0 */
	char oem[6];
	u8 revision;          /* 0: ACPI 1.0 (RSDT only); 2: XSDT fields valid */
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 xchecksum;         /* whole structure sums to 0 */
	u8 reserved[3];
} __packed;

struct sdt_header {
	char sig[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem[6];
	char oem_table[8];
	u32 oem_revision;
	u32 creator;
	u32 creator_revision;
} __packed;
_Static_assert(sizeof(struct sdt_header) == 36, "ACPI table header");

struct madt {
	struct sdt_header h;
	u32 lapic_addr;
	u32 flags;
	u8 entries[];
} __packed;

#define MADT_LAPIC 0          /* Processor Local APIC */
#define MADT_X2APIC 9         /* Processor Local x2APIC */
#define MADT_ENABLED 1u       /* flags bit 0 */

static u8 sum(const void *p, size_t n)
{
	const u8 *b = p;
	u8 s = 0;

	while (n--)
		s += *b++;
	return s;
}

static const struct rsdp *rsdp_scan(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a + 20 <= end; a += 16) {
		const struct rsdp *r = (const struct rsdp *)a;

		if (!memcmp(r->sig, "RSD PTR ", 8) && sum(r, 20) == 0)
			return r;
	}
	return NULL;
}

/* The RSDP is in the first KiB of the EBDA (segment at 0x40e) or in 0xE0000-0xFFFFF,
 * on a 16-byte boundary ("Finding the RSDP on IA-PC Systems"). */
static const struct rsdp *rsdp_find(void)
{
	uintptr_t bda_ebda = 0x40e, ebda;
	const struct rsdp *r = NULL;

	/* Hide the constant from the compiler, which takes low addresses for NULL + n. */
	asm("" : "+r"(bda_ebda));
	ebda = (uintptr_t)(*(volatile u16 *)bda_ebda) << 4;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = rsdp_scan(ebda, ebda + 1024);
	return r ? r : rsdp_scan(0xe0000, 0x100000);
}

static bool table_ok(const struct sdt_header *h)
{
	return h && h->length >= sizeof(*h) && h->length < (1u << 24) &&
	       sum(h, h->length) == 0;
}

const void *acpi_find_table(const char *sig)
{
	const struct rsdp *r = rsdp_find();
	const struct sdt_header *root;
	bool x;
	size_t n, esz;

	if (!r)
		return NULL;
	x = r->revision >= 2 && r->xsdt && r->xsdt < (1ull << 32) && sum(r, r->length) == 0;
	root = (const struct sdt_header *)(uintptr_t)(x ? r->xsdt : r->rsdt);
	if (!table_ok(root))
		return NULL;
	esz = x ? 8 : 4;
	n = (root->length - sizeof(*root)) / esz;
	for (size_t i = 0; i < n; i++) {
		const u8 *e = (const u8 *)(root + 1) + i * esz;
		u64 a = 0;

		memcpy(&a, e, esz);
		if (!a || a >= (1ull << 32))
			continue;
		const struct sdt_header *t = (const struct sdt_header *)(uintptr_t)a;

		if (!memcmp(t->sig, sig, 4) && table_ok(t))
			return t;
	}
	return NULL;
}

int acpi_madt_apic_ids(u32 *ids, int max)
{
	const struct madt *m = acpi_find_table("APIC");
	const u8 *p, *end;
	int n = 0;

	if (!m)
		return -1;
	p = m->entries;
	end = (const u8 *)m + m->h.length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		u32 id = 0, flags = 0;
		bool cpu = false;

		if (p[0] == MADT_LAPIC && p[1] >= 8) {
			id = p[3];
			memcpy(&flags, p + 4, 4);
			cpu = true;
		} else if (p[0] == MADT_X2APIC && p[1] >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			cpu = true;
		}
		if (cpu && (flags & MADT_ENABLED) && n < max)
			ids[n++] = id;
		p += p[1];
	}
	return n;
}
