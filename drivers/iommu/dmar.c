/* SPDX-License-Identifier: MIT */
/*
 * DMAR parsing (dmar.h). Layout, from the VT-d specification's "BIOS Considerations":
 *
 *   DMA Remapping Reporting Structure: the 36-byte ACPI header ("DMAR"), Host Address
 *   Width at 36 (the width minus one), Flags at 37, 10 reserved bytes, then the
 *   remapping structures from offset 48, each starting with Type (2 bytes) and Length
 *   (2 bytes).
 *   DRHD (type 0): Flags at 4 (bit 0 INCLUDE_PCI_ALL), Size at 5, Segment at 6, Register
 *   Base Address at 8, device scopes from 16.
 *   RMRR (type 1): Segment at 6, Base at 8, Limit at 16, device scopes from 24; "BIOS
 *   must report the RMRR reported memory addresses as reserved"; base 4 KiB aligned,
 *   limit + 1 4 KiB aligned.
 *   ATSR (type 2): Flags at 4 (bit 0 ALL_PORTS), Segment at 6, device scopes from 8.
 *   Device Scope: Type (1), Length (1) = 6 + 2 * path entries, 2 reserved, Enumeration
 *   ID (1), Start Bus Number (1), then (Device, Function) pairs.
 *
 * Rules checked beyond the lengths: a DRHD with INCLUDE_PCI_ALL "must be the last DRHD"
 * of its segment, so there is at most one; units do not share a register set; a PCI
 * device or an IOAPIC belongs to one unit.
 */
#include "drivers/iommu/dmar.h"
#include "hv/lib/lib.h"

#define DMAR_HDR_LEN 48
#define DRHD_SCOPES 16
#define RMRR_SCOPES 24
#define ATSR_SCOPES 8
#define SCOPE_HDR 6

static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static bool fail(char *err, size_t errlen, const char *fmt, ...) __printf(3, 4);
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		hv_vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

static const char *type_name(u16 t)
{
	static const char *names[] = { "DRHD", "RMRR", "ATSR", "RHSA", "ANDD", "SATC", "SIDP" };
	return t < ARRAY_SIZE(names) ? names[t] : "unknown";
}

const char *dmar_scope_type_name(u8 type)
{
	switch (type) {
	case DMAR_SCOPE_ENDPOINT: return "endpoint";
	case DMAR_SCOPE_BRIDGE: return "bridge";
	case DMAR_SCOPE_IOAPIC: return "IOAPIC";
	case DMAR_SCOPE_HPET: return "HPET";
	case DMAR_SCOPE_ACPI: return "ACPI device";
	default: return "unknown";
	}
}

/* The device scopes of one structure [p + from, p + len): appended to d->scopes. */
static bool parse_scopes(const u8 *p, u32 from, u32 len, u16 type, u32 off, struct dmar_info *d, u32 *first,
			 u32 *count, char *err, size_t errlen)
{
	*first = d->nr_scopes;
	*count = 0;
	for (u32 s = from; s < len;) {
		if (len - s < 2)
			return fail(err, errlen, "DMAR: %s at offset %u: device scope at +%u is cut off by the structure's end",
				    type_name(type), off, s);
		u8 st = p[s], sl = p[s + 1];
		if (sl < SCOPE_HDR + 2 || (sl - SCOPE_HDR) % 2)
			return fail(err, errlen, "DMAR: %s at offset %u: device scope at +%u has bad length %u (6 + 2 per path entry, at least one)",
				    type_name(type), off, s, sl);
		if (sl > len - s)
			return fail(err, errlen, "DMAR: %s at offset %u: device scope at +%u (length %u) runs past the structure's end (length %u)",
				    type_name(type), off, s, sl, len);
		if (st < DMAR_SCOPE_ENDPOINT || st > DMAR_SCOPE_ACPI)
			return fail(err, errlen, "DMAR: %s at offset %u: device scope at +%u has unknown type %u",
				    type_name(type), off, s, st);
		u32 npath = (u32)(sl - SCOPE_HDR) / 2;
		if (npath > DMAR_MAX_PATH)
			return fail(err, errlen, "DMAR: %s at offset %u: device scope at +%u has %u path entries (at most %u supported)",
				    type_name(type), off, s, npath, DMAR_MAX_PATH);
		if (d->nr_scopes >= DMAR_MAX_SCOPES)
			return fail(err, errlen, "DMAR: more than %u device scopes in all", DMAR_MAX_SCOPES);
		struct dmar_scope *sc = &d->scopes[d->nr_scopes++];
		memset(sc, 0, sizeof(*sc));
		sc->type = st;
		sc->enum_id = p[s + 4];
		sc->start_bus = p[s + 5];
		sc->npath = (u8)npath;
		for (u32 i = 0; i < npath; i++) {
			sc->path[i][0] = p[s + SCOPE_HDR + 2 * i];
			sc->path[i][1] = p[s + SCOPE_HDR + 2 * i + 1];
			if (sc->path[i][0] > 31 || sc->path[i][1] > 7)
				return fail(err, errlen, "DMAR: %s at offset %u: device scope at +%u: path entry %u names device %u function %u (device 0-31, function 0-7)",
					    type_name(type), off, s, i, sc->path[i][0], sc->path[i][1]);
		}
		(*count)++;
		s += sl;
	}
	return true;
}

static bool same_pci_scope(const struct dmar_scope *a, const struct dmar_scope *b)
{
	if (a->start_bus != b->start_bus || a->npath != b->npath)
		return false;
	for (u32 i = 0; i < a->npath; i++)
		if (a->path[i][0] != b->path[i][0] || a->path[i][1] != b->path[i][1])
			return false;
	return true;
}

/* Units apart: distinct register sets, one INCLUDE_PCI_ALL per segment and last, each
 * device and IOAPIC in one unit. */
static bool check_units(const struct dmar_info *d, char *err, size_t errlen)
{
	for (u32 i = 0; i < d->nr_drhd; i++) {
		const struct dmar_drhd *a = &d->drhd[i];
		u64 a_end = a->base + (PAGE_SIZE << a->size);
		for (u32 j = i + 1; j < d->nr_drhd; j++) {
			const struct dmar_drhd *b = &d->drhd[j];
			u64 b_end = b->base + (PAGE_SIZE << b->size);
			if (a->base < b_end && b->base < a_end)
				return fail(err, errlen, "DMAR: units %u and %u overlap: register sets at 0x%llx and 0x%llx", i, j,
					    (unsigned long long)a->base, (unsigned long long)b->base);
			if (a->segment != b->segment)
				continue;
			if (a->include_all)
				return fail(err, errlen, "DMAR: unit %u (0x%llx) has INCLUDE_PCI_ALL but is not the last unit of segment %u (unit %u follows)",
					    i, (unsigned long long)a->base, a->segment, j);
			for (u32 x = 0; x < a->nr_scopes; x++)
				for (u32 y = 0; y < b->nr_scopes; y++) {
					const struct dmar_scope *sa = &d->scopes[a->first_scope + x];
					const struct dmar_scope *sb = &d->scopes[b->first_scope + y];
					bool pci = sa->type <= DMAR_SCOPE_BRIDGE && sb->type <= DMAR_SCOPE_BRIDGE;
					if (pci && same_pci_scope(sa, sb))
						return fail(err, errlen, "DMAR: units %u and %u both list the device at bus %u path %u.%u",
							    i, j, sa->start_bus, sa->path[0][0], sa->path[0][1]);
					if (sa->type == DMAR_SCOPE_IOAPIC && sb->type == DMAR_SCOPE_IOAPIC &&
					    sa->enum_id == sb->enum_id)
						return fail(err, errlen, "DMAR: units %u and %u both list IOAPIC %u", i, j, sa->enum_id);
				}
		}
	}
	return true;
}

bool dmar_parse(const void *table, size_t len, struct dmar_info *d, char *err, size_t errlen)
{
	const u8 *p = table;
	memset(d, 0, sizeof(*d));
	if (!p || len < DMAR_HDR_LEN)
		return fail(err, errlen, "DMAR: table shorter than its 48-byte header");
	if (memcmp(p, "DMAR", 4))
		return fail(err, errlen, "DMAR: signature is not 'DMAR'");
	u32 tlen;
	memcpy(&tlen, p + 4, 4);
	if (tlen < DMAR_HDR_LEN || tlen > len)
		return fail(err, errlen, "DMAR: table length %u is %s", tlen,
			    tlen < DMAR_HDR_LEN ? "shorter than the 48-byte header" : "larger than the memory it is in");
	u8 sum = 0;
	for (u32 i = 0; i < tlen; i++)
		sum = (u8)(sum + p[i]);
	if (sum)
		return fail(err, errlen, "DMAR: checksum does not add up to 0");
	d->haw = (u32)p[36] + 1;
	d->flags = p[37];
	if (d->haw < 32 || d->haw > 64)
		return fail(err, errlen, "DMAR: host address width %u is out of range", d->haw);

	u16 last_type = 0;
	for (u32 off = DMAR_HDR_LEN; off < tlen;) {
		if (tlen - off < 4)
			return fail(err, errlen, "DMAR: %u trailing bytes at offset %u are no remapping structure", tlen - off, off);
		u16 type = rd16(p + off), slen = rd16(p + off + 2);
		if (slen < 4 || slen > tlen - off)
			return fail(err, errlen, "DMAR: %s (type %u) at offset %u has length %u, %s", type_name(type), type, off,
				    slen, slen < 4 ? "shorter than its type and length fields" : "past the end of the table");
		const u8 *s = p + off;
		if (type < last_type && type <= DMAR_TYPE_SIDP)
			return fail(err, errlen, "DMAR: %s at offset %u follows a %s (structures come in type order)",
				    type_name(type), off, type_name(last_type));
		last_type = type > last_type ? type : last_type;
		switch (type) {
		case DMAR_TYPE_DRHD: {
			if (slen < DRHD_SCOPES)
				return fail(err, errlen, "DMAR: DRHD at offset %u has length %u (at least 16)", off, slen);
			if (d->nr_drhd >= DMAR_MAX_UNITS)
				return fail(err, errlen, "DMAR: more than %u DRHD units", DMAR_MAX_UNITS);
			struct dmar_drhd *u = &d->drhd[d->nr_drhd];
			u->include_all = s[4] & 1;
			u->size = s[5] & 0xf;
			u->segment = rd16(s + 6);
			u->base = rd64(s + 8);
			if (!u->base || !IS_ALIGNED(u->base, PAGE_SIZE))
				return fail(err, errlen, "DMAR: DRHD at offset %u: register base 0x%llx is %s", off,
					    (unsigned long long)u->base, u->base ? "not 4 KiB aligned" : "zero");
			if (!parse_scopes(s, DRHD_SCOPES, slen, type, off, d, &u->first_scope, &u->nr_scopes, err, errlen))
				return false;
			d->nr_drhd++;
			break;
		}
		case DMAR_TYPE_RMRR: {
			if (slen < RMRR_SCOPES)
				return fail(err, errlen, "DMAR: RMRR at offset %u has length %u (at least 24)", off, slen);
			if (d->nr_rmrr >= DMAR_MAX_RMRR)
				return fail(err, errlen, "DMAR: more than %u RMRR structures", DMAR_MAX_RMRR);
			struct dmar_rmrr *r = &d->rmrr[d->nr_rmrr];
			r->segment = rd16(s + 6);
			r->base = rd64(s + 8);
			r->limit = rd64(s + 16);
			if (r->limit < r->base || !IS_ALIGNED(r->base, PAGE_SIZE) || !IS_ALIGNED(r->limit + 1, PAGE_SIZE))
				return fail(err, errlen, "DMAR: RMRR at offset %u: region 0x%llx-0x%llx is %s", off,
					    (unsigned long long)r->base, (unsigned long long)r->limit,
					    r->limit < r->base ? "empty (limit below base)" : "not whole 4 KiB pages");
			if (!parse_scopes(s, RMRR_SCOPES, slen, type, off, d, &r->first_scope, &r->nr_scopes, err, errlen))
				return false;
			for (u32 i = 0; i < r->nr_scopes; i++)
				if (d->scopes[r->first_scope + i].type != DMAR_SCOPE_ENDPOINT)
					return fail(err, errlen, "DMAR: RMRR at offset %u: scope %u is a %s (RMRRs name PCI endpoints)",
						    off, i, dmar_scope_type_name(d->scopes[r->first_scope + i].type));
			d->nr_rmrr++;
			break;
		}
		case DMAR_TYPE_ATSR: {
			if (slen < ATSR_SCOPES)
				return fail(err, errlen, "DMAR: ATSR at offset %u has length %u (at least 8)", off, slen);
			if (d->nr_atsr >= DMAR_MAX_ATSR)
				return fail(err, errlen, "DMAR: more than %u ATSR structures", DMAR_MAX_ATSR);
			struct dmar_atsr *a = &d->atsr[d->nr_atsr];
			a->all_ports = s[4] & 1;
			a->segment = rd16(s + 6);
			if (!parse_scopes(s, ATSR_SCOPES, slen, type, off, d, &a->first_scope, &a->nr_scopes, err, errlen))
				return false;
			d->nr_atsr++;
			break;
		}
		case DMAR_TYPE_RHSA:
		case DMAR_TYPE_ANDD:
		case DMAR_TYPE_SATC:
		case DMAR_TYPE_SIDP:
			d->nr_other++;
			break;
		default:
			/* "Remapping structure types ... reserved for future use": skipped so that a
			 * newer table still describes its units. */
			if (!d->warning[0])
				hv_snprintf(d->warning, sizeof(d->warning),
					    "DMAR: structure of unknown type %u at offset %u (length %u) skipped", type, off, slen);
			break;
		}
		off += slen;
	}
	return check_units(d, err, errlen);
}

bool dmar_scope_sid(const struct dmar_scope *s, u16 seg, const struct dmar_topology *topo, u16 *sid)
{
	u8 bus = s->start_bus;
	if (!s->npath)
		return false;
	for (u32 i = 0; i + 1 < s->npath; i++) {
		u8 sec, sub;
		if (!topo || !topo->bridge_buses(topo->ctx, seg, bus, s->path[i][0], s->path[i][1], &sec, &sub))
			return false;
		bus = sec;
	}
	u8 dev = s->path[s->npath - 1][0], fn = s->path[s->npath - 1][1];
	*sid = (u16)(bus << 8 | dev << 3 | fn);
	return true;
}

static bool scope_holds(const struct dmar_scope *s, u16 seg, u16 bdf, const struct dmar_topology *topo)
{
	u16 sid;
	if ((s->type != DMAR_SCOPE_ENDPOINT && s->type != DMAR_SCOPE_BRIDGE) || !dmar_scope_sid(s, seg, topo, &sid))
		return false;
	if (sid == bdf)
		return true;
	if (s->type != DMAR_SCOPE_BRIDGE || !topo)
		return false;
	u8 sec, sub, bus = (u8)(bdf >> 8);
	if (!topo->bridge_buses(topo->ctx, seg, (u8)(sid >> 8), (u8)((sid >> 3) & 31), (u8)(sid & 7), &sec, &sub))
		return false;
	return bus >= sec && bus <= sub;
}

int dmar_unit_for(const struct dmar_info *d, u16 seg, u16 bdf, const struct dmar_topology *topo)
{
	int all = -1;
	for (u32 i = 0; i < d->nr_drhd; i++) {
		const struct dmar_drhd *u = &d->drhd[i];
		if (u->segment != seg)
			continue;
		if (u->include_all) {
			all = (int)i;
			continue;
		}
		for (u32 j = 0; j < u->nr_scopes; j++)
			if (scope_holds(&d->scopes[u->first_scope + j], seg, bdf, topo))
				return (int)i;
	}
	return all;
}

int dmar_rmrr_next(const struct dmar_info *d, u16 seg, u16 bdf, const struct dmar_topology *topo, int after)
{
	for (u32 i = (u32)(after + 1); i < d->nr_rmrr; i++) {
		const struct dmar_rmrr *r = &d->rmrr[i];
		if (r->segment != seg)
			continue;
		for (u32 j = 0; j < r->nr_scopes; j++)
			if (scope_holds(&d->scopes[r->first_scope + j], seg, bdf, topo))
				return (int)i;
	}
	return -1;
}

int dmar_unit_for_ioapic(const struct dmar_info *d, u8 ioapic_id)
{
	for (u32 i = 0; i < d->nr_drhd; i++)
		for (u32 j = 0; j < d->drhd[i].nr_scopes; j++) {
			const struct dmar_scope *s = &d->scopes[d->drhd[i].first_scope + j];
			if (s->type == DMAR_SCOPE_IOAPIC && s->enum_id == ioapic_id)
				return (int)i;
		}
	return -1;
}
