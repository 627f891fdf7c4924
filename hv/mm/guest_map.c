/* SPDX-License-Identifier: MIT */
/*
 * The per-VM guest-physical memory map (hv/mm/guest_map.h). Pure: host-tested.
 */
#include "hv/mm/guest_map.h"
#include "hv/lib/lib.h"

_Static_assert(GUEST_HOLE_DEFAULT >= GUEST_HOLE_MIN && GUEST_HOLE_DEFAULT < GUEST_ECAM_BASE &&
	       GUEST_HOLE_DEFAULT % GUEST_HOLE_ALIGN == 0, "the default hole is a valid hole");
_Static_assert(GUEST_HOLE_MIN >= GUEST_MEM_MIN && GUEST_HOLE_MIN % GUEST_HOLE_ALIGN == 0,
	       "the low RAM span always holds low memory and the BIOS area");
_Static_assert(GUEST_ECAM_BASE + GUEST_ECAM_SIZE <= GUEST_IOAPIC_BASE &&
	       GUEST_IOAPIC_BASE + PAGE_SIZE <= GUEST_LAPIC_BASE &&
	       GUEST_LAPIC_BASE + PAGE_SIZE <= GUEST_BIOS_HIGH && GUEST_BIOS_HIGH < GUEST_4G,
	       "the fixed layout is sorted");

static const struct {
	const char *name;
	enum e820_type e820;
} kinds[GMAP_NR_KINDS] = {
	[GMAP_RAM] = { "RAM", E820_RAM },
	[GMAP_LOW_BIOS] = { "low BIOS", E820_RESERVED },
	[GMAP_BIOS] = { "BIOS (ACPI tables)", E820_RESERVED },
	/* A PC's firmware leaves the BAR window out of e820, so the OS may allocate there. */
	[GMAP_PCI_WINDOW] = { "PCI window", E820_NONE },
	/* PCI Firmware Specification, "MCFG Table Description": the ECAM range is
	 * reserved in the system's memory map. */
	[GMAP_ECAM] = { "ECAM", E820_RESERVED },
	[GMAP_IOAPIC] = { "IOAPIC", E820_RESERVED },
	[GMAP_LAPIC] = { "LAPIC", E820_RESERVED },
	[GMAP_BIOS_HIGH] = { "high BIOS", E820_RESERVED },
	/* VT-d specification, "Reserved Memory Region Reporting Structure": the RMRR ranges
	 * are reported as reserved in the system's memory map. */
	[GMAP_RMRR] = { "RMRR", E820_RESERVED },
};

enum e820_type guest_map_kind_e820(enum gmap_kind k)
{
	return (unsigned)k < GMAP_NR_KINDS ? kinds[k].e820 : E820_NONE;
}

const char *guest_map_kind_name(enum gmap_kind k)
{
	return (unsigned)k < GMAP_NR_KINDS ? kinds[k].name : "?";
}

static bool set_err(char *err, size_t errlen, const char *fmt, ...) __printf(3, 4);
static bool set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hv_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

static void add(struct guest_map *m, u64 base, u64 end, enum gmap_kind kind, bool backed)
{
	if (end > base)
		m->e[m->nr++] = (struct gmap_entry){ base, end - base, kind, backed };
}

bool guest_map_build(struct guest_map *m, u64 mem, u64 hole, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (!hole)
		hole = GUEST_HOLE_DEFAULT;
	if (mem < GUEST_MEM_MIN || mem > GUEST_MEM_MAX || !IS_ALIGNED(mem, MiB(1)))
		return set_err(err, errlen, "bad mem 0x%llx (2M to 64G, a whole number of MiB)",
			       (unsigned long long)mem);
	if (hole < GUEST_HOLE_MIN || hole >= GUEST_ECAM_BASE || !IS_ALIGNED(hole, GUEST_HOLE_ALIGN))
		return set_err(err, errlen, "bad hole 0x%llx (2 MiB aligned, 16M to below 0x%llx)",
			       (unsigned long long)hole, (unsigned long long)GUEST_ECAM_BASE);
	m->mem = mem;
	m->hole = hole;
	u64 low = MIN(mem, hole);

	add(m, 0, GUEST_LOW_RAM_END, GMAP_RAM, true);
	add(m, GUEST_LOW_RAM_END, GUEST_ROM_BASE, GMAP_LOW_BIOS, true);
	add(m, GUEST_ROM_BASE, GUEST_HIGH_RAM, GMAP_BIOS, true);
	add(m, GUEST_HIGH_RAM, low, GMAP_RAM, true);
	add(m, hole, GUEST_ECAM_BASE, GMAP_PCI_WINDOW, false);
	add(m, GUEST_ECAM_BASE, GUEST_ECAM_BASE + GUEST_ECAM_SIZE, GMAP_ECAM, false);
	add(m, GUEST_IOAPIC_BASE, GUEST_IOAPIC_BASE + PAGE_SIZE, GMAP_IOAPIC, false);
	add(m, GUEST_LAPIC_BASE, GUEST_LAPIC_BASE + PAGE_SIZE, GMAP_LAPIC, false);
	add(m, GUEST_BIOS_HIGH, GUEST_4G, GMAP_BIOS_HIGH, false);
	/* span[0] at GPA 0, host offset 0: guest_map_offset's inline test relies on it. */
	m->span[m->nr_spans++] = (struct gmap_span){ 0, low, 0 };
	if (mem > hole) {
		add(m, GUEST_4G, GUEST_4G + (mem - hole), GMAP_RAM, true);
		m->span[m->nr_spans++] = (struct gmap_span){ GUEST_4G, mem - hole, hole };
	}
	return true;
}

static void insert_at(struct guest_map *m, u32 i, struct gmap_entry e)
{
	memmove(&m->e[i + 1], &m->e[i], (m->nr - i) * sizeof(m->e[0]));
	m->e[i] = e;
	m->nr++;
}

bool guest_map_reserve(struct guest_map *m, u64 base, u64 size, enum gmap_kind kind,
		       const struct gmap_entry **conflict)
{
	*conflict = NULL;
	u64 end = base + size;
	if (!size || end < base || !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE))
		return false;
	u32 at = m->nr;   /* the index of the first entry at or above end */
	int window = -1;
	for (u32 i = 0; i < m->nr; i++) {
		const struct gmap_entry *e = &m->e[i];
		u64 e_end = e->base + e->size;
		if (e_end <= base)
			continue;
		if (e->base >= end) {
			at = i;
			break;
		}
		if (e->kind == kind && e->base == base && e->size == size)
			return true;   /* reserved already (an RMRR naming two functions of the VM) */
		if (e->kind == GMAP_PCI_WINDOW && e->base <= base && e_end >= end) {
			window = (int)i;
			continue;
		}
		/* name what is in the way: a fixed range rather than the window beside it */
		if (!*conflict || (*conflict)->kind == GMAP_PCI_WINDOW)
			*conflict = e;
	}
	if (*conflict)
		return false;
	struct gmap_entry r = { base, size, kind, false };
	if (window < 0) {
		if (m->nr >= GMAP_MAX_ENTRIES)
			return false;
		insert_at(m, at, r);
		return true;
	}
	/* Inside the PCI window: [w, base) window, the range, [end, w_end) window. */
	struct gmap_entry w = m->e[window];
	u32 need = (w.base < base) + (w.base + w.size > end);
	if (m->nr + need > GMAP_MAX_ENTRIES)
		return false;
	u32 i = (u32)window;
	memmove(&m->e[i], &m->e[i + 1], (m->nr - i - 1) * sizeof(m->e[0]));
	m->nr--;
	if (w.base + w.size > end)
		insert_at(m, i, (struct gmap_entry){ end, w.base + w.size - end, GMAP_PCI_WINDOW, false });
	insert_at(m, i, r);
	if (w.base < base)
		insert_at(m, i, (struct gmap_entry){ w.base, base - w.base, GMAP_PCI_WINDOW, false });
	return true;
}

const struct gmap_entry *guest_map_find(const struct guest_map *m, u64 gpa)
{
	for (u32 i = 0; i < m->nr; i++)
		if (gpa >= m->e[i].base && gpa - m->e[i].base < m->e[i].size)
			return &m->e[i];
	return NULL;
}

bool guest_map_offset_spans(const struct guest_map *m, u64 gpa, u64 len, u64 *off)
{
	for (u32 i = 0; i < m->nr_spans; i++) {
		const struct gmap_span *s = &m->span[i];
		if (gpa >= s->gpa && gpa - s->gpa < s->size && len <= s->size - (gpa - s->gpa)) {
			*off = s->host_off + (gpa - s->gpa);
			return true;
		}
	}
	return false;
}

bool guest_map_is_ram(const struct guest_map *m, u64 gpa, u64 len)
{
	const struct gmap_entry *e = guest_map_find(m, gpa);
	return e && e->kind == GMAP_RAM && len && len <= e->size - (gpa - e->base);
}

u32 guest_map_e820(const struct guest_map *m, struct e820_range *out, u32 max)
{
	u32 n = 0;
	struct e820_range cur = { 0, 0, E820_NONE };
	for (u32 i = 0; i < m->nr; i++) {
		enum e820_type t = guest_map_kind_e820(m->e[i].kind);
		if (t == E820_NONE)
			continue;
		if (cur.type == t && cur.base + cur.size == m->e[i].base) {
			cur.size += m->e[i].size;
			continue;
		}
		if (cur.type != E820_NONE) {
			if (n < max)
				out[n] = cur;
			n++;
		}
		cur = (struct e820_range){ m->e[i].base, m->e[i].size, t };
	}
	if (cur.type != E820_NONE) {
		if (n < max)
			out[n] = cur;
		n++;
	}
	return n;
}
