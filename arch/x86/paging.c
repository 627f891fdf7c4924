/* SPDX-License-Identifier: MIT */
/*
 * Guest linear-address translation (arch/x86/paging.h), after Intel SDM Vol. 3A,
 * "Paging". The rules this file implements, in the order a walk applies them:
 *
 * Mode ("Paging Modes and Control Bits"): CR0.PG = 0 no paging (the linear address is
 * the physical address, bits 31:0); CR4.PAE = 0 32-bit paging; EFER.LMA = 0 PAE
 * paging; else 4-level paging, or 5-level paging with CR4.LA57. Outside IA-32e mode
 * linear addresses have 32 bits. In 4/5-level paging a linear address whose bits 63:48
 * (63:57) are not copies of bit 47 (56) is not canonical: a #GP or #SS, never a #PF
 * ("4-Level Paging and 5-Level Paging").
 *
 * Structures: 32-bit paging reads a 4-byte PDE from CR3[31:12] and, unless CR4.PSE
 * and PDE.PS make it a 4-MByte page (address bits 39:32 in PDE bits 20:13, "32-Bit
 * Paging"), a 4-byte PTE. PAE paging takes the PDPTE from the PDPTE registers, which
 * the CPU loaded with CR3 ("PAE Paging": they are not re-read on a walk), then 8-byte
 * PDE (2-MByte page with PS) and PTE. 4-level paging reads PML4E, PDPTE (1-GByte page
 * with PS, where the CPU supports it), PDE (2 MByte) and PTE from CR3[M-1:12];
 * 5-level paging a PML5E first.
 *
 * A walk stops at the first entry whose P flag is 0 (#PF with P = 0) or that sets a
 * reserved bit (#PF with P = 1 and RSVD = 1; "reserved bits are not checked in a
 * paging-structure entry whose P flag is 0"). Reserved ("Format of ... Entries"):
 * address bits at or above MAXPHYADDR (M; 32-bit paging uses at most 40), up to bit
 * 51 (4/5-level) or 62 (PAE); bit 63 (XD) when EFER.NXE = 0; PS in a PML5E or PML4E,
 * and in a PDPTE without 1-GByte page support; bits 29:13 of a 1-GByte and 20:13 of a
 * 2-MByte page entry; bit 21 and bits 20:(M-19) of a 4-MByte PDE; bits 2:1 and 8:5 of
 * a PAE PDPTE.
 *
 * Access rights ("Access Rights"), over every entry of the translation (PAE PDPTEs
 * have no R/W, U/S, XD): a user-mode address has U/S = 1 in all of them, a writable
 * one R/W = 1 in all, an execute-disabled one (EFER.NXE = 1) XD = 1 in any. An access
 * is a user-mode access at CPL 3 unless it is an implicit supervisor-mode access.
 *   - User-mode accesses: only to user-mode addresses; writes only if writable;
 *     fetches only if not execute-disabled.
 *   - Supervisor-mode data reads: any supervisor-mode address; a user-mode address
 *     unless CR4.SMAP = 1 and (RFLAGS.AC = 0 or the access is implicit).
 *   - Supervisor-mode writes: as reads for SMAP; with CR0.WP = 1 only if writable,
 *     with CR0.WP = 0 regardless of R/W.
 *   - Supervisor-mode fetches: not from a user-mode address with CR4.SMEP = 1; not if
 *     execute-disabled.
 *   - Protection keys (4/5-level paging, CR4.PKE = 1, data accesses to user-mode
 *     addresses, key = bits 62:59 of the entry that maps the page): PKRU.AD[key]
 *     forbids every such access, PKRU.WD[key] user-mode writes and, with CR0.WP = 1,
 *     supervisor-mode writes.
 *
 * Error code ("Page-Fault Exceptions"): W/R for a write; U/S for a user-mode access;
 * I/D for a fetch when CR4.SMEP = 1 or (CR4.PAE = 1 and EFER.NXE = 1); PK when the
 * PKRU condition above holds (also when another right is violated as well).
 *
 * Accessed and dirty flags ("Accessed and Dirty Flags"): the CPU sets A in every entry
 * it uses and, for a write, D in the entry that maps the page, with locked
 * read-modify-writes; the CPU re-walks when such an update finds the entry changed.
 * Here the flags are set, top down, only once the access is known to be allowed: the
 * SDM's note under "Interrupt 14—Page-Fault Exception" says a page-level protection
 * violation leaves the accessed flags clear, and for a not-present or reserved-bit
 * fault software cannot rely on the upper levels' A flags either way. A
 * compare-exchange that finds the entry changed restarts the walk (bounded:
 * PW_RETRY after PW_MAX_ATTEMPTS).
 */
#include "arch/x86/paging.h"
#include "arch/x86/x86.h"

#define PTE_P BIT64(0)    /* Present */
#define PTE_RW BIT64(1)   /* Read/write */
#define PTE_US BIT64(2)   /* User/supervisor */
#define PTE_A BIT64(5)    /* Accessed */
#define PTE_D BIT64(6)    /* Dirty (entries that map a page) */
#define PTE_PS BIT64(7)   /* Page size (PDE, PDPTE) */
#define PTE_XD BIT64(63)  /* Execute-disable (8-byte entries, EFER.NXE = 1) */
#define PTE_PKEY_SHIFT 59 /* Protection key, bits 62:59 (4/5-level paging) */

#define PW_MAX_ATTEMPTS 16
#define PW_MAX_LEVELS 5

/* Bits hi:lo set (hi >= lo), or 0 when hi < lo. */
static u64 genmask(unsigned hi, unsigned lo)
{
	if (hi < lo)
		return 0;
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

struct pw_entry {
	u64 gpa, val;
	unsigned size;
};

static unsigned clamp_maxphyaddr(unsigned m)
{
	if (!m)
		return 36;   /* the value for processors without CPUID.80000008H */
	return m < 32 ? 32 : m > 52 ? 52 : m;
}

/* One walk. PW_RETRY when an A/D update found its entry changed. With PW_OK, ents[0..*nents)
 * are the entries used, top down, as they now are (after the A/D updates). */
static enum pw_result walk(const struct pw_state *s, const struct pw_mem *m, u64 la, enum pw_access_type type,
			   unsigned flags, struct pw_out *out, struct pw_entry *ents, int *nents)
{
	int mode = pw_mode(s);
	bool write = type == PW_WRITE, fetch = type == PW_FETCH;
	bool user = s->cpl == 3 && !(flags & PW_IMPLICIT);
	bool nxe = s->efer & EFER_NXE;
	unsigned maxpa = clamp_maxphyaddr(s->maxphyaddr);
	u64 pa_mask = genmask(maxpa - 1, 12);
	u32 err = (write ? PF_W : 0) | (user ? PF_U : 0);

	if (fetch && ((s->cr4 & CR4_SMEP) || (mode >= 3 && nxe)))
		err |= PF_I;
	if (mode == 0) {
		out->gpa = la & 0xffffffffull;
		out->page_size = PAGE_SIZE;
		return PW_OK;
	}
	if (mode <= 3) {
		la &= 0xffffffffull;
	} else {
		unsigned top = mode == 5 ? 56 : 47;   /* the highest translated bit */
		u64 high = (u64)((s64)(la << (63 - top)) >> (63 - top));
		if (high != la)
			return PW_NONCANONICAL;
	}

	/* Where the walk starts: the first table, how many levels read it, entry size. */
	u64 table;
	int levels;
	unsigned esize = 8, ibits = 9;
	if (mode == 2) {
		table = s->cr3 & 0xfffff000ull;
		levels = 2;
		esize = 4;
		ibits = 10;
	} else if (mode == 3) {
		u64 pdpte = s->pdpte[(la >> 30) & 3];
		out->level = 3;
		if (!(pdpte & PTE_P)) {
			out->error = err;
			return PW_FAULT;
		}
		if (pdpte & (genmask(63, maxpa) | genmask(8, 5) | genmask(2, 1))) {
			out->error = err | PF_P | PF_RSVD;
			return PW_FAULT;
		}
		table = pdpte & pa_mask;
		levels = 2;
	} else {
		table = s->cr3 & pa_mask;
		levels = mode;
	}

	/* Reserved bits of every 8-byte entry: address bits from M up, XD without NXE. */
	u64 rsvd_common = 0;
	if (esize == 8)
		rsvd_common = genmask(mode == 3 ? 62 : 51, maxpa) | (nxe ? 0 : PTE_XD);

	int n = 0;
	*nents = 0;
	bool user_addr = true, writable = true, xd = false;
	u64 leaf = 0, page_size = 0, frame = 0;
	for (int lvl = levels; lvl >= 1; lvl--) {
		unsigned shift = 12 + ibits * (unsigned)(lvl - 1);
		u64 gpa = table + ((la >> shift) & ((1ull << ibits) - 1)) * esize;
		u64 e;
		out->level = lvl;
		if (!m->read(m->ctx, gpa, esize, &e)) {
			out->bad_gpa = gpa;
			return PW_NOT_MEMORY;
		}
		if (esize == 4)
			e &= 0xffffffffull;
		if (!(e & PTE_P)) {
			out->error = err;
			return PW_FAULT;
		}
		bool is_leaf = lvl == 1;
		u64 rsvd = rsvd_common;
		if (mode == 2) {
			if (lvl == 2 && (e & PTE_PS) && (s->cr4 & CR4_PSE)) {
				is_leaf = true;
				rsvd |= genmask(21, MIN(maxpa, 40u) - 19);
			}
		} else if (lvl >= 4) {
			rsvd |= PTE_PS;
		} else if (lvl == 3 && (e & PTE_PS)) {
			/* A PDPTE of 4/5-level paging (PAE PDPTEs are not read here). */
			if (s->gbpages) {
				is_leaf = true;
				rsvd |= genmask(29, 13);
			} else {
				rsvd |= PTE_PS;
			}
		} else if (lvl == 2 && (e & PTE_PS)) {
			is_leaf = true;
			rsvd |= genmask(20, 13);
		}
		if (e & rsvd) {
			out->error = err | PF_P | PF_RSVD;
			return PW_FAULT;
		}
		user_addr = user_addr && (e & PTE_US);
		writable = writable && (e & PTE_RW);
		xd = xd || (nxe && esize == 8 && (e & PTE_XD));
		ents[n++] = (struct pw_entry){ gpa, e, esize };
		if (is_leaf) {
			leaf = e;
			page_size = 1ull << shift;
			if (mode == 2 && lvl == 2)   /* PSE-36: bits 39:32 in bits 20:13 */
				frame = (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32);
			else if (mode == 2)
				frame = e & 0xfffff000ull;
			else
				frame = e & pa_mask & ~(page_size - 1);
			break;
		}
		table = mode == 2 ? e & 0xfffff000ull : e & pa_mask;
	}

	bool ok = true;
	bool wp = s->cr0 & CR0_WP;
	if (user) {
		if (!user_addr || (write && !writable))
			ok = false;
	} else {
		if (write && !writable && wp)
			ok = false;
		if (!fetch && user_addr && (s->cr4 & CR4_SMAP) && ((flags & PW_IMPLICIT) || !(s->rflags & RFLAGS_AC)))
			ok = false;
		if (fetch && user_addr && (s->cr4 & CR4_SMEP))
			ok = false;
	}
	if (fetch && xd)
		ok = false;
	if (mode >= 4 && (s->cr4 & CR4_PKE) && user_addr && !fetch) {
		unsigned key = (unsigned)(leaf >> PTE_PKEY_SHIFT) & 0xf;
		bool ad = (s->pkru >> (2 * key)) & 1, wd = (s->pkru >> (2 * key + 1)) & 1;
		if (ad || (wd && write && (user || wp))) {
			ok = false;
			err |= PF_PK;
		}
	}
	if (!ok) {
		out->error = err | PF_P;
		out->level = n ? levels - n + 1 : 1;
		return PW_FAULT;
	}

	/* Allowed: A in every entry used, top down, and D in the leaf for a write. */
	for (int i = 0; i < n; i++) {
		u64 want = ents[i].val | PTE_A | (write && i == n - 1 ? PTE_D : 0);
		if (want != ents[i].val && !m->cmpxchg(m->ctx, ents[i].gpa, ents[i].size, ents[i].val, want))
			return PW_RETRY;
		ents[i].val = want;
	}
	out->gpa = frame | (la & (page_size - 1));
	out->page_size = page_size;
	*nents = n;
	return PW_OK;
}

static enum pw_result translate(const struct pw_state *s, const struct pw_mem *m, u64 la, enum pw_access_type type,
				unsigned flags, struct pw_out *out, struct pw_entry *ents, int *nents)
{
	for (int i = 0; i < PW_MAX_ATTEMPTS; i++) {
		enum pw_result r = walk(s, m, la, type, flags, out, ents, nents);
		if (r != PW_RETRY)
			return r;
	}
	return PW_RETRY;
}

enum pw_result pw_translate(const struct pw_state *s, const struct pw_mem *m, u64 la,
			    enum pw_access_type type, unsigned flags, struct pw_out *out)
{
	struct pw_entry ents[PW_MAX_LEVELS];
	int n;
	return translate(s, m, la, type, flags, out, ents, &n);
}

_Static_assert(sizeof(((struct pw_memo *)0)->ent) / sizeof(((struct pw_memo *)0)->ent[0]) == PW_MAX_LEVELS,
	       "the memo holds every entry of a walk");

/* The memo's key for (s, la, type, flags): the state with RFLAGS reduced to AC. */
static bool memo_key_matches(const struct pw_memo *memo, const struct pw_state *s, u64 la_page,
			     enum pw_access_type type, unsigned flags)
{
	const struct pw_state *k = &memo->s;
	return memo->la_page == la_page && memo->type == type && memo->flags == flags && k->cr3 == s->cr3 &&
	       k->cr0 == s->cr0 && k->cr4 == s->cr4 && k->efer == s->efer && k->cpl == s->cpl &&
	       k->rflags == (s->rflags & RFLAGS_AC) && k->pdpte[0] == s->pdpte[0] && k->pdpte[1] == s->pdpte[1] &&
	       k->pdpte[2] == s->pdpte[2] && k->pdpte[3] == s->pdpte[3] && k->maxphyaddr == s->maxphyaddr &&
	       k->gbpages == s->gbpages && k->pkru == s->pkru;
}

static u64 read_ptr(const void *p, unsigned size)
{
	return size == 8 ? __atomic_load_n((const u64 *)p, __ATOMIC_RELAXED)
			 : __atomic_load_n((const u32 *)p, __ATOMIC_RELAXED);
}

enum pw_result pw_translate_memo(struct pw_memo *memo, const struct pw_state *s, const struct pw_mem *m,
				 u64 la, enum pw_access_type type, unsigned flags, struct pw_out *out)
{
	u64 la_page = la & ~(PAGE_SIZE - 1);
	if (memo->valid && memo_key_matches(memo, s, la_page, type, flags)) {
		unsigned i;
		for (i = 0; i < memo->n; i++)
			if (read_ptr(memo->ent[i].p, memo->ent[i].size) != memo->ent[i].val)
				break;
		if (i == memo->n) {
			out->gpa = memo->gpa_page | (la & (PAGE_SIZE - 1));
			out->page_size = memo->page_size;
			return PW_OK;
		}
	}
	memo->valid = false;
	struct pw_entry ents[PW_MAX_LEVELS];
	int n;
	enum pw_result r = translate(s, m, la, type, flags, out, ents, &n);
	if (r != PW_OK || !m->ptr)
		return r;
	for (int i = 0; i < n; i++) {
		memo->ent[i].p = m->ptr(m->ctx, ents[i].gpa, ents[i].size);
		if (!memo->ent[i].p)
			return r;
		memo->ent[i].val = ents[i].val;
		memo->ent[i].size = ents[i].size;
	}
	memo->n = (unsigned)n;
	memo->s = *s;
	memo->s.rflags = s->rflags & RFLAGS_AC;
	memo->la_page = la_page;
	memo->type = type;
	memo->flags = flags;
	memo->gpa_page = out->gpa & ~(PAGE_SIZE - 1);
	memo->page_size = out->page_size;
	memo->valid = true;
	return r;
}
