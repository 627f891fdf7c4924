/* SPDX-License-Identifier: MIT */
/*
 * arch/x86/paging.c against Intel SDM Vol. 3A "Paging": every paging mode and page
 * size, reserved bits, the access rights of "Access Rights" (U/S, R/W with CR0.WP,
 * XD with EFER.NXE, SMEP, SMAP with RFLAGS.AC and implicit accesses, protection keys),
 * the error code of "Page-Fault Exceptions", the accessed and dirty flags and their
 * compare-exchange, and walks that reach a GPA outside memory. Guest memory is a
 * 16 MiB buffer; anything above it is "not memory" (a device).
 */
#include "tests/unit/support.h"
#include "arch/x86/paging.h"
#include "arch/x86/x86.h"

#define MEM_SIZE (16u << 20)
static u8 *mem;
static unsigned reads, cmpxchgs;
static u64 last_read;

#define P BIT64(0)
#define RW BIT64(1)
#define US BIT64(2)
#define A BIT64(5)
#define D BIT64(6)
#define PS BIT64(7)
#define XD BIT64(63)
#define ADDR 0x000ffffffffff000ull

/* The compare-exchange can be made to find its entry changed: the hook runs first. */
static void (*interfere)(void);
static unsigned interfere_left;

static bool t_read(void *ctx, u64 gpa, unsigned size, u64 *val)
{
	assert_null(ctx);
	assert_true(size == 4 || size == 8);
	assert_int_equal(gpa % size, 0);
	reads++;
	last_read = gpa;
	if (gpa >= MEM_SIZE || size > MEM_SIZE - gpa)
		return false;
	*val = 0;
	memcpy(val, mem + gpa, size);
	return true;
}

static bool t_cmpxchg(void *ctx, u64 gpa, unsigned size, u64 old, u64 new_val)
{
	assert_null(ctx);
	assert_true(gpa + size <= MEM_SIZE);
	cmpxchgs++;
	if (interfere && interfere_left) {
		interfere_left--;
		interfere();
	}
	u64 cur = 0;
	memcpy(&cur, mem + gpa, size);
	if (cur != old)
		return false;
	memcpy(mem + gpa, &new_val, size);
	return true;
}

static unsigned ptr_calls;
static bool ptr_refuse;

static const void *t_ptr(void *ctx, u64 gpa, unsigned size)
{
	assert_null(ctx);
	ptr_calls++;
	if (ptr_refuse || gpa >= MEM_SIZE || size > MEM_SIZE - gpa)
		return NULL;
	return mem + gpa;
}

static const struct pw_mem tmem = { t_read, t_cmpxchg, NULL, NULL };
static const struct pw_mem tmem_ptr = { t_read, t_cmpxchg, NULL, t_ptr };
static struct pw_state st;
static u64 next_table;

static u64 get64(u64 gpa)
{
	u64 v;
	memcpy(&v, mem + gpa, 8);
	return v;
}

static u32 get32(u64 gpa)
{
	u32 v;
	memcpy(&v, mem + gpa, 4);
	return v;
}

static void put32(u64 gpa, u32 v)
{
	memcpy(mem + gpa, &v, 4);
}

static void put64(u64 gpa, u64 v)
{
	memcpy(mem + gpa, &v, 8);
}

static u64 alloc_table(void)
{
	u64 t = next_table;
	next_table += 0x1000;
	assert_true(next_table <= 0x400000);
	memset(mem + t, 0, 0x1000);
	return t;
}

static int setup(void **state)
{
	(void)state;
	if (!mem)
		mem = calloc(1, MEM_SIZE);
	assert_non_null(mem);
	memset(mem, 0, 0x400000);
	next_table = 0x1000;
	reads = cmpxchgs = ptr_calls = 0;
	ptr_refuse = false;
	interfere = NULL;
	interfere_left = 0;
	memset(&st, 0, sizeof(st));
	st.maxphyaddr = 36;
	st.gbpages = true;
	return 0;
}

/* ---- builders ---- */

/* The address of the level-lvl entry for la in an 8-byte-entry hierarchy rooted at
 * root with `levels` levels (4/5-level paging; PAE uses levels = 2 below a PDPTE). */
static u64 ent_gpa(u64 root, int levels, u64 la, int lvl)
{
	u64 table = root;
	for (int l = levels; l > lvl; l--)
		table = get64(table + ((la >> (12 + 9 * (l - 1))) & 511) * 8) & ADDR;
	return table + ((la >> (12 + 9 * (lvl - 1))) & 511) * 8;
}

/* Map la to pa with the leaf at leaf_lvl (1: 4 KiB, 2: 2 MiB, 3: 1 GiB); the entries
 * above get the flags `upper`, the leaf `leaf` (PS added for large pages). */
static void map64(u64 root, int levels, u64 la, int leaf_lvl, u64 pa, u64 upper, u64 leaf)
{
	u64 table = root;
	for (int l = levels; l > leaf_lvl; l--) {
		u64 at = table + ((la >> (12 + 9 * (l - 1))) & 511) * 8;
		u64 e = get64(at);
		u64 next = e & ADDR ? e & ADDR : alloc_table();
		put64(at, next | upper);
		table = next;
	}
	put64(table + ((la >> (12 + 9 * (leaf_lvl - 1))) & 511) * 8, pa | leaf | (leaf_lvl > 1 ? PS : 0));
}

/* 4-level paging with CR3 at a fresh table. */
static u64 mode4(void)
{
	u64 root = alloc_table();
	st.cr0 = CR0_PG | CR0_PE | CR0_WP;
	st.cr4 = CR4_PAE;
	st.efer = EFER_LME | EFER_LMA | EFER_NXE;
	st.cr3 = root;
	return root;
}

static enum pw_result xlate(u64 la, enum pw_access_type t, unsigned flags, struct pw_out *o)
{
	memset(o, 0xa5, sizeof(*o));
	return pw_translate(&st, &tmem, la, t, flags, o);
}

/* Translate and expect a #PF with error code err. */
static void expect_pf(u64 la, enum pw_access_type t, unsigned flags, u32 err)
{
	struct pw_out o;
	enum pw_result r = xlate(la, t, flags, &o);
	assert_int_equal(r, PW_FAULT);
	assert_int_equal(o.error, err);
}

static void expect_gpa(u64 la, enum pw_access_type t, unsigned flags, u64 gpa)
{
	struct pw_out o;
	enum pw_result r = xlate(la, t, flags, &o);
	assert_int_equal(r, PW_OK);
	assert_int_equal(o.gpa, gpa);
}

/* ---- no paging ---- */

static void test_no_paging(void **state)
{
	(void)state;
	struct pw_out o;
	st.cr0 = CR0_PE;
	assert_int_equal(pw_mode(&st), 0);
	assert_int_equal(xlate(0x123456789abcull, PW_WRITE, 0, &o), PW_OK);
	assert_int_equal(o.gpa, 0x56789abcull);   /* 32-bit linear addresses */
	assert_int_equal(reads, 0);
}

/* ---- 32-bit paging ---- */

static void test_32bit_4k(void **state)
{
	(void)state;
	u64 pd = alloc_table(), pt = alloc_table();
	st.cr0 = CR0_PG | CR0_PE | CR0_WP;
	st.cr3 = pd | 0x18;   /* PWT/PCD ignored for the address */
	u64 la = 0x80403123ull;
	put32(pd + (la >> 22) * 4, (u32)(pt | P | RW | US));
	put32(pt + ((la >> 12) & 1023) * 4, 0x00777000u | P | RW | US);
	assert_int_equal(pw_mode(&st), 2);

	struct pw_out o;
	assert_int_equal(xlate(la | 0xffffffff00000000ull, PW_READ, 0, &o), PW_OK);   /* bits 63:32 ignored */
	assert_int_equal(o.gpa, 0x777123);
	assert_int_equal(o.page_size, 0x1000);
	assert_int_equal(get32(pd + (la >> 22) * 4) & (A | D), A);
	assert_int_equal(get32(pt + ((la >> 12) & 1023) * 4) & (A | D), A);
	expect_gpa(la, PW_WRITE, 0, 0x777123);
	assert_int_equal(get32(pd + (la >> 22) * 4) & (A | D), A);   /* D only in the entry that maps */
	assert_int_equal(get32(pt + ((la >> 12) & 1023) * 4) & (A | D), A | D);

	/* Not present at either level: P = 0. 32-bit paging has no XD: no I/D without SMEP. */
	expect_pf(0x00400000, PW_READ, 0, 0);
	put32(pt + ((la >> 12) & 1023) * 4, 0x00777000u | RW | US);
	expect_pf(la, PW_FETCH, 0, 0);
	st.efer = EFER_NXE;   /* NXE means nothing to 32-bit paging: I/D needs CR4.PAE */
	expect_pf(la, PW_FETCH, 0, 0);
	st.cr4 = CR4_SMEP;
	expect_pf(la, PW_FETCH, 0, PF_I);
}

static void test_32bit_pse(void **state)
{
	(void)state;
	u64 pd = alloc_table(), pt = alloc_table();
	st.cr0 = CR0_PG | CR0_PE;
	st.cr3 = pd;
	st.cr4 = CR4_PSE;
	st.maxphyaddr = 40;
	u64 la = 0xc0123456ull;
	/* A 4-MByte page at 0x12_4fc00000: bits 39:32 (0x12) in PDE bits 20:13. */
	u32 pde = 0x4fc00000u | (0x12u << 13) | (u32)(P | RW | PS);
	put32(pd + (la >> 22) * 4, pde);
	struct pw_out o;
	assert_int_equal(xlate(la, PW_WRITE, 0, &o), PW_OK);
	assert_int_equal(o.gpa, 0x124fd23456ull);
	assert_int_equal(o.page_size, 4u << 20);
	assert_int_equal(get32(pd + (la >> 22) * 4), pde | A | D);

	/* MAXPHYADDR 36: PDE bits 20:17 are reserved, and bit 21 always. */
	st.maxphyaddr = 36;
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
	put32(pd + (la >> 22) * 4, 0x4fc00000u | (0x5u << 13) | (u32)(P | RW | PS));
	expect_gpa(la, PW_READ, 0, 0x54fd23456ull);
	put32(pd + (la >> 22) * 4, 0x4fc00000u | BIT(21) | (u32)(P | RW | PS));
	expect_pf(la, PW_WRITE, 0, PF_P | PF_RSVD | PF_W);

	/* Without CR4.PSE, PS is ignored: the PDE points to a page table. */
	st.cr4 = 0;
	put32(pd + (la >> 22) * 4, (u32)(pt | P | RW | PS));
	put32(pt + ((la >> 12) & 1023) * 4, 0x00333000u | P);
	expect_gpa(la, PW_READ, 0, 0x333456);
}

/* ---- PAE paging ---- */

static void test_pae(void **state)
{
	(void)state;
	u64 pd = alloc_table();
	st.cr0 = CR0_PG | CR0_PE | CR0_WP;
	st.cr4 = CR4_PAE;
	st.efer = EFER_NXE;
	st.cr3 = 0xdead000;   /* not read: the PDPTEs come from the state */
	st.pdpte[2] = pd | P;
	assert_int_equal(pw_mode(&st), 3);
	u64 la = 0x80203456ull;   /* PDPTE 2, PDE 1, PTE 3 */
	map64(pd, 2, la, 1, 0x9000000ull, P | RW | US, P | RW | US);
	map64(pd, 2, 0x80400000ull, 2, 0xa00000ull, 0, P | RW | US | XD);
	expect_gpa(la, PW_WRITE, 0, 0x9000456ull);
	assert_int_equal(get64(ent_gpa(pd, 2, la, 2)) & (A | D), A);
	assert_int_equal(get64(ent_gpa(pd, 2, la, 1)) & (A | D), A | D);
	expect_gpa(0x80512345ull, PW_READ, 0, 0xb12345ull);   /* 2-MByte page */
	/* XD with NXE: a fetch fault with I/D; without NXE, bit 63 is reserved. */
	expect_pf(0x80512345ull, PW_FETCH, 0, PF_P | PF_I);
	st.efer = 0;
	expect_pf(0x80512345ull, PW_READ, 0, PF_P | PF_RSVD);
	expect_pf(0x80512345ull, PW_FETCH, 0, PF_P | PF_RSVD);   /* no I/D without NXE or SMEP */
	st.efer = EFER_NXE;
	/* Not-present PDPTE register; reserved bits in one (2:1, 8:5, 63:M). */
	expect_pf(0x00001000ull, PW_WRITE, 0, PF_W);
	expect_pf(0x40001000ull, PW_FETCH, 0, PF_I);
	st.pdpte[2] = pd | P | RW;
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
	st.pdpte[2] = pd | P | BIT64(36);
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
	st.pdpte[2] = pd | P;
	/* PAE entries reserve bits 62:M (4-level paging ignores 62:52). */
	put64(ent_gpa(pd, 2, la, 1), 0x9000000ull | P | RW | US | BIT64(52));
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
	put64(ent_gpa(pd, 2, la, 1), 0x9000000ull | P | RW | US | BIT64(36));
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
	st.maxphyaddr = 40;
	expect_gpa(la, PW_READ, 0, 0x1009000456ull);
	/* 2-MByte PDE: bits 20:13 reserved. */
	put64(ent_gpa(pd, 2, 0x80400000ull, 2), 0xa00000ull | P | PS | BIT64(13));
	expect_pf(0x80400000ull, PW_READ, 0, PF_P | PF_RSVD);
	/* Linear addresses are 32 bits. */
	expect_gpa(0xffffffff80203456ull, PW_READ, 0, 0x1009000456ull);
}

/* ---- 4-level and 5-level paging ---- */

static void test_4level_sizes(void **state)
{
	(void)state;
	u64 root = mode4();
	assert_int_equal(pw_mode(&st), 4);
	map64(root, 4, 0x7f1234567000ull, 1, 0x345000ull, P | RW | US, P | RW | US);
	map64(root, 4, 0x40000000ull, 2, 0x600000ull, P | RW, P | RW);
	map64(root, 4, 0xffffffff80000000ull, 3, 0x40000000ull, P | RW, P | RW);
	struct pw_out o;
	assert_int_equal(xlate(0x7f1234567abcull, PW_READ, 0, &o), PW_OK);
	assert_int_equal(o.gpa, 0x345abcull);
	assert_int_equal(o.page_size, 0x1000);
	assert_int_equal(xlate(0x40123456ull, PW_WRITE, 0, &o), PW_OK);
	assert_int_equal(o.gpa, 0x723456ull);
	assert_int_equal(o.page_size, 2u << 20);
	assert_int_equal(get64(ent_gpa(root, 4, 0x40000000ull, 2)) & (A | D), A | D);
	assert_int_equal(get64(ent_gpa(root, 4, 0x40000000ull, 3)) & (A | D), A);
	assert_int_equal(get64(ent_gpa(root, 4, 0x40000000ull, 4)) & (A | D), A);
	assert_int_equal(xlate(0xffffffff81234567ull, PW_READ, 0, &o), PW_OK);
	assert_int_equal(o.gpa, 0x41234567ull);
	assert_int_equal(o.page_size, 1u << 30);
	/* CR3 bits 11:0 (PCID, PWT/PCD) are not part of the address. */
	st.cr3 |= 0x5a5;
	expect_gpa(0x7f1234567abcull, PW_READ, 0, 0x345abcull);
}

static void test_4level_reserved(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 la = 0x7f1234567000ull;
	map64(root, 4, la, 1, 0x345000ull, P | RW | US, P | RW | US);
	map64(root, 4, 0x80000000ull, 3, 0x80000000ull, P | RW, P | RW);

	/* Address bits from MAXPHYADDR up to 51; 62:52 are ignored. */
	u64 pte = ent_gpa(root, 4, la, 1);
	put64(pte, 0x345000ull | P | BIT64(36));
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
	put64(pte, 0x345000ull | P | BIT64(58) | BIT64(52));
	expect_gpa(la, PW_READ, 0, 0x345000ull);
	/* XD without NXE is reserved, with NXE only a fetch fault. */
	put64(pte, 0x345000ull | P | XD);
	expect_gpa(la, PW_READ, 0, 0x345000ull);
	expect_pf(la, PW_FETCH, 0, PF_P | PF_I);
	st.efer &= ~(u64)EFER_NXE;
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
	st.efer |= EFER_NXE;
	put64(pte, 0x345000ull | P | RW | US);
	/* PS in a PML4E is reserved. */
	u64 pml4e = ent_gpa(root, 4, la, 4);
	put64(pml4e, get64(pml4e) | PS);
	expect_pf(la, PW_WRITE, 0, PF_P | PF_RSVD | PF_W);
	put64(pml4e, get64(pml4e) & ~PS);
	/* A reserved bit above beats a not-present entry below. */
	u64 pdpte = ent_gpa(root, 4, la, 3);
	put64(pte, 0);
	expect_pf(la, PW_READ, 0, 0);
	put64(pdpte, get64(pdpte) | BIT64(40));
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
	/* 1-GByte pages: bits 29:13 reserved; without the CPU's support PS is reserved. */
	expect_gpa(0x80001234ull, PW_READ, 0, 0x80001234ull);
	put64(ent_gpa(root, 4, 0x80000000ull, 3), 0x80000000ull | P | PS | BIT64(13));
	expect_pf(0x80001234ull, PW_READ, 0, PF_P | PF_RSVD);
	put64(ent_gpa(root, 4, 0x80000000ull, 3), 0x80000000ull | P | PS);
	st.gbpages = false;
	expect_pf(0x80001234ull, PW_READ, 0, PF_P | PF_RSVD);
	/* Not present reports the level. */
	struct pw_out o;
	put64(ent_gpa(root, 4, 0x80000000ull, 3), 0);
	assert_int_equal(xlate(0x80001234ull, PW_READ, 0, &o), PW_FAULT);
	assert_int_equal(o.level, 3);
}

static void test_canonical_and_5level(void **state)
{
	(void)state;
	u64 root = mode4();
	struct pw_out o;
	assert_int_equal(xlate(0x0000800000000000ull, PW_READ, 0, &o), PW_NONCANONICAL);
	assert_int_equal(xlate(0xffff7fffffffffffull, PW_READ, 0, &o), PW_NONCANONICAL);
	assert_int_equal(reads, 0);

	/* 5-level: a PML5E above, canonical at bit 56. */
	st.cr4 |= CR4_LA57;
	assert_int_equal(pw_mode(&st), 5);
	u64 la = 0x00ab123456789000ull;
	map64(root, 5, la, 1, 0x456000ull, P | RW | US, P | RW | US);
	expect_gpa(la | 0x123, PW_WRITE, 0, 0x456123ull);
	assert_int_equal(get64(ent_gpa(root, 5, la, 5)) & A, A);
	assert_int_equal(xlate(0x0100000000000000ull, PW_READ, 0, &o), PW_NONCANONICAL);
	map64(root, 5, 0xff00000000000000ull, 2, 0x200000ull, P | RW, P | RW);
	expect_gpa(0xff00000000000042ull, PW_READ, 0, 0x200042ull);
	/* PS in a PML5E is reserved. */
	u64 pml5e = ent_gpa(root, 5, la, 5);
	put64(pml5e, get64(pml5e) | PS);
	expect_pf(la, PW_READ, 0, PF_P | PF_RSVD);
}

/* ---- access rights ---- */

static void test_user_supervisor(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 sup = 0x100000ull, ro = 0x200000ull, usr = 0x300000ull, mixed = 0x400000ull;
	map64(root, 4, sup, 1, 0x500000ull, P | RW | US, P | RW);
	map64(root, 4, ro, 1, 0x600000ull, P | RW | US, P | US);
	map64(root, 4, usr, 1, 0x700000ull, P | RW | US, P | RW | US);
	/* U/S and R/W clear in an upper level only (a PDE of its own). */
	map64(root, 4, mixed, 1, 0x800000ull, P | RW | US, P | RW | US);
	u64 pde = ent_gpa(root, 4, mixed, 2);
	put64(pde, get64(pde) & ~(US | RW));

	st.cpl = 3;
	expect_gpa(usr, PW_WRITE, 0, 0x700000ull);
	expect_pf(sup, PW_READ, 0, PF_P | PF_U);
	expect_pf(sup, PW_WRITE, 0, PF_P | PF_W | PF_U);
	expect_pf(sup, PW_FETCH, 0, PF_P | PF_U | PF_I);
	expect_gpa(ro, PW_READ, 0, 0x600000ull);
	expect_pf(ro, PW_WRITE, 0, PF_P | PF_W | PF_U);
	expect_pf(mixed, PW_READ, 0, PF_P | PF_U);   /* a supervisor-mode address */
	/* Implicit supervisor-mode accesses at CPL 3: supervisor rights, no U/S bit. */
	expect_gpa(sup, PW_WRITE, PW_IMPLICIT, 0x500000ull);
	expect_pf(mixed, PW_WRITE, PW_IMPLICIT, PF_P | PF_W);

	/* Supervisor: writes to read-only pages only with CR0.WP = 0. */
	st.cpl = 0;
	expect_gpa(sup, PW_WRITE, 0, 0x500000ull);
	expect_gpa(usr, PW_WRITE, 0, 0x700000ull);
	u64 pte = ent_gpa(root, 4, ro, 1);
	put64(pte, get64(pte) & ~A);   /* set by the read above */
	expect_pf(ro, PW_WRITE, 0, PF_P | PF_W);
	expect_pf(mixed, PW_WRITE, 0, PF_P | PF_W);
	assert_int_equal(get64(pte) & (A | D), 0);   /* a protection fault leaves A clear */
	st.cr0 &= ~(u64)CR0_WP;
	expect_gpa(ro, PW_WRITE, 0, 0x600000ull);
	assert_int_equal(get64(pte) & (A | D), A | D);
	expect_gpa(mixed, PW_WRITE, 0, 0x800000ull);
	st.cpl = 3;   /* CR0.WP does not matter to user-mode writes */
	expect_pf(ro, PW_WRITE, 0, PF_P | PF_W | PF_U);
	/* CPL 1 and 2 are supervisor mode. */
	st.cpl = 2;
	st.cr0 |= CR0_WP;
	expect_pf(ro, PW_WRITE, 0, PF_P | PF_W);
	expect_gpa(sup, PW_READ, 0, 0x500000ull);
}

static void test_nx(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 la = 0x100000ull, la2 = 0x40000000ull;
	map64(root, 4, la, 1, 0x500000ull, P | RW | US, P | RW | US | XD);
	map64(root, 4, la2, 1, 0x600000ull, P | RW | US, P | RW | US);
	expect_pf(la, PW_FETCH, 0, PF_P | PF_I);
	expect_gpa(la, PW_READ, 0, 0x500000ull);
	expect_gpa(la2, PW_FETCH, 0, 0x600000ull);
	/* XD in any level disables execution. */
	u64 pdpte = ent_gpa(root, 4, la2, 3);
	put64(pdpte, get64(pdpte) | XD);
	expect_pf(la2, PW_FETCH, 0, PF_P | PF_I);
	st.cpl = 3;
	expect_pf(la2, PW_FETCH, 0, PF_P | PF_U | PF_I);
	/* Not-present fetches carry I/D too (PAE/4-level with NXE). */
	expect_pf(0x7000000ull, PW_FETCH, 0, PF_U | PF_I);
}

static void test_smep(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 usr = 0x100000ull, sup = 0x200000ull;
	map64(root, 4, usr, 1, 0x500000ull, P | RW | US, P | RW | US);
	map64(root, 4, sup, 1, 0x600000ull, P | RW | US, P | RW);
	expect_gpa(usr, PW_FETCH, 0, 0x500000ull);
	st.cr4 |= CR4_SMEP;
	expect_pf(usr, PW_FETCH, 0, PF_P | PF_I);
	expect_gpa(usr, PW_READ, 0, 0x500000ull);   /* SMEP is about fetches */
	expect_gpa(sup, PW_FETCH, 0, 0x600000ull);
	st.cpl = 3;
	expect_gpa(usr, PW_FETCH, 0, 0x500000ull);   /* and supervisor mode */
	/* SMEP sets I/D even without NXE. */
	st.cpl = 0;
	st.efer &= ~(u64)EFER_NXE;
	expect_pf(usr, PW_FETCH, 0, PF_P | PF_I);
}

static void test_smap(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 usr = 0x100000ull, sup = 0x200000ull, uro = 0x300000ull;
	map64(root, 4, usr, 1, 0x500000ull, P | RW | US, P | RW | US);
	map64(root, 4, sup, 1, 0x600000ull, P | RW | US, P | RW);
	map64(root, 4, uro, 1, 0x700000ull, P | RW | US, P | US);
	st.cr4 |= CR4_SMAP;
	/* Explicit supervisor data accesses to user-mode addresses need RFLAGS.AC. */
	expect_pf(usr, PW_READ, 0, PF_P);
	expect_pf(usr, PW_WRITE, 0, PF_P | PF_W);
	expect_gpa(sup, PW_WRITE, 0, 0x600000ull);
	expect_gpa(usr, PW_FETCH, 0, 0x500000ull);   /* SMAP is about data */
	st.rflags = RFLAGS_AC;
	expect_gpa(usr, PW_READ, 0, 0x500000ull);
	expect_gpa(usr, PW_WRITE, 0, 0x500000ull);
	expect_pf(uro, PW_WRITE, 0, PF_P | PF_W);   /* AC does not lift CR0.WP */
	st.cr0 &= ~(u64)CR0_WP;
	expect_gpa(uro, PW_WRITE, 0, 0x700000ull);
	/* Implicit accesses ignore AC, at any CPL. */
	expect_pf(usr, PW_READ, PW_IMPLICIT, PF_P);
	st.cpl = 3;
	expect_pf(usr, PW_WRITE, PW_IMPLICIT, PF_P | PF_W);
	expect_gpa(sup, PW_READ, PW_IMPLICIT, 0x600000ull);
	/* User-mode accesses are not affected. */
	st.rflags = 0;
	expect_gpa(usr, PW_WRITE, 0, 0x500000ull);
}

static void test_protection_keys(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 usr = 0x100000ull, sup = 0x200000ull;
	map64(root, 4, usr, 1, 0x500000ull, P | RW | US, P | RW | US | (5ull << 59));
	map64(root, 4, sup, 1, 0x600000ull, P | RW | US, P | RW | (5ull << 59));
	st.pkru = 1u << 10;   /* AD for key 5 */
	expect_gpa(usr, PW_READ, 0, 0x500000ull);   /* CR4.PKE = 0 */
	st.cr4 |= CR4_PKE;
	st.cpl = 3;
	expect_pf(usr, PW_READ, 0, PF_P | PF_U | PF_PK);
	expect_pf(usr, PW_WRITE, 0, PF_P | PF_W | PF_U | PF_PK);
	expect_gpa(usr, PW_FETCH, 0, 0x500000ull);   /* fetches are not checked */
	st.cpl = 0;
	expect_pf(usr, PW_READ, 0, PF_P | PF_PK);
	expect_gpa(sup, PW_READ, 0, 0x600000ull);   /* supervisor-mode addresses: no PKRU */
	/* WD: user writes; supervisor writes only with CR0.WP = 1. */
	st.pkru = 2u << 10;
	st.cpl = 3;
	expect_gpa(usr, PW_READ, 0, 0x500000ull);
	expect_pf(usr, PW_WRITE, 0, PF_P | PF_W | PF_U | PF_PK);
	st.cpl = 0;
	expect_pf(usr, PW_WRITE, 0, PF_P | PF_W | PF_PK);
	st.cr0 &= ~(u64)CR0_WP;
	expect_gpa(usr, PW_WRITE, 0, 0x500000ull);
	/* Another key's bits do not matter. */
	st.cr0 |= CR0_WP;
	st.pkru = ~(3u << 10);
	expect_gpa(usr, PW_WRITE, 0, 0x500000ull);
	/* Both a user/supervisor and a PKRU violation: PK is still reported. */
	st.pkru = 1u << 10;
	st.cpl = 3;
	u64 pte = ent_gpa(root, 4, usr, 1);
	put64(pte, get64(pte) & ~RW);
	expect_pf(usr, PW_WRITE, 0, PF_P | PF_W | PF_U | PF_PK);
}

/* ---- accessed/dirty flags and their compare-exchange ---- */

static void test_accessed_dirty(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 la = 0x100000ull;
	map64(root, 4, la, 1, 0x500000ull, P | RW, P | RW);
	expect_gpa(la, PW_READ, 0, 0x500000ull);
	unsigned first = cmpxchgs;
	assert_int_equal(first, 4);   /* A in PML4E, PDPTE, PDE, PTE */
	for (int l = 4; l >= 1; l--)
		assert_int_equal(get64(ent_gpa(root, 4, la, l)) & (A | D), A);
	expect_gpa(la, PW_READ, 0, 0x500000ull);
	assert_int_equal(cmpxchgs, first);   /* nothing to update: no locked write */
	expect_gpa(la, PW_WRITE, 0, 0x500000ull);
	assert_int_equal(cmpxchgs, first + 1);
	assert_int_equal(get64(ent_gpa(root, 4, la, 1)) & (A | D), A | D);
	assert_int_equal(get64(ent_gpa(root, 4, la, 2)) & (A | D), A);
	/* Not-present and reserved-bit faults write nothing. */
	map64(root, 4, 0x40000000ull, 1, 0x600000ull, P | RW, RW);
	unsigned before = cmpxchgs;
	expect_pf(0x40000000ull, PW_READ, 0, 0);
	put64(ent_gpa(root, 4, 0x40000000ull, 1), 0x600000ull | P | BIT64(40));
	expect_pf(0x40000000ull, PW_READ, 0, PF_P | PF_RSVD);
	assert_int_equal(cmpxchgs, before);
	assert_int_equal(get64(ent_gpa(root, 4, 0x40000000ull, 2)) & A, 0);
}

/* An entry that changes while the flags are set: the walk starts again and sees it. */
static u64 interfere_at, interfere_val;
static void clobber(void)
{
	put64(interfere_at, interfere_val);
}

static void test_cmpxchg_rewalk(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 la = 0x100000ull;
	map64(root, 4, la, 1, 0x500000ull, P | RW, P | RW);
	/* The PTE is remapped under the update of the PML4E's A flag. */
	interfere = clobber;
	interfere_left = 1;
	interfere_at = ent_gpa(root, 4, la, 1);
	interfere_val = 0x777000ull | P | RW;
	expect_gpa(la | 0x12, PW_WRITE, 0, 0x777012ull);
	assert_int_equal(get64(interfere_at), 0x777000ull | P | RW | A | D);
	/* Now made not present under the update: the second walk faults. */
	put64(interfere_at, 0x777000ull | P | RW);
	interfere_left = 1;
	interfere_val = 0x777000ull | RW;
	expect_pf(la, PW_WRITE, 0, PF_W);
}

/* An entry that changes on every attempt: the walk gives up, bounded. */
static void toggle(void)
{
	put64(interfere_at, get64(interfere_at) ^ BIT64(9));
}

static void test_cmpxchg_gives_up(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 la = 0x100000ull;
	map64(root, 4, la, 1, 0x500000ull, P | RW, P | RW);
	interfere = toggle;
	interfere_left = 1000;
	interfere_at = ent_gpa(root, 4, la, 4);
	struct pw_out o;
	assert_int_equal(xlate(la, PW_READ, 0, &o), PW_RETRY);
	assert_true(cmpxchgs <= 32);
	assert_true(interfere_left < 1000);
}

/* ---- structures outside memory ---- */

static void test_not_memory(void **state)
{
	(void)state;
	u64 root = mode4();
	u64 la = 0x100000ull;
	map64(root, 4, la, 1, 0x500000ull, P | RW, P | RW);
	/* The PDE points at the APIC page: the walk stops there with its address. */
	u64 pde = ent_gpa(root, 4, la, 2);
	put64(pde, 0xfee00000ull | P | RW);
	struct pw_out o;
	assert_int_equal(xlate(la, PW_READ, 0, &o), PW_NOT_MEMORY);
	assert_int_equal(o.bad_gpa, 0xfee00000ull + ((la >> 12) & 511) * 8);
	assert_int_equal(o.level, 1);
	assert_int_equal(last_read, o.bad_gpa);
	assert_int_equal(get64(pde) & A, 0);
	/* CR3 outside memory. */
	st.cr3 = 0xfec00000ull;
	assert_int_equal(xlate(la, PW_WRITE, 0, &o), PW_NOT_MEMORY);
	assert_int_equal(o.bad_gpa, 0xfec00000ull);
	assert_int_equal(o.level, 4);
	/* 32-bit paging: a 4-byte read of the last entry below the end of memory works. */
	st.cr0 = CR0_PG | CR0_PE;
	st.cr4 = 0;
	st.efer = 0;
	st.cr3 = MEM_SIZE - 0x1000;
	put32(MEM_SIZE - 4, 0);
	assert_int_equal(xlate(0xffc00000ull, PW_READ, 0, &o), PW_FAULT);
	assert_int_equal(o.error, 0);
}

/* ---- the memo (pw_translate_memo) ---- */

static struct pw_memo memo;

static enum pw_result mxlate(u64 la, enum pw_access_type t, unsigned flags, struct pw_out *o)
{
	memset(o, 0xa5, sizeof(*o));
	return pw_translate_memo(&memo, &st, &tmem_ptr, la, t, flags, o);
}

/* Translate through the memo, expect gpa, and whether the entries were walked
 * (m->read called) or only re-checked. */
static void expect_memo(u64 la, enum pw_access_type t, unsigned flags, u64 gpa, bool walked)
{
	struct pw_out o, ref;
	unsigned r0 = reads;
	assert_int_equal(mxlate(la, t, flags, &o), PW_OK);
	assert_int_equal(o.gpa, gpa);
	assert_int_equal(reads != r0, walked);
	/* And what a plain walk gives now (it writes no flag: the memo left none to set). */
	unsigned c0 = cmpxchgs;
	assert_int_equal(xlate(la, t, flags, &ref), PW_OK);
	assert_int_equal(ref.gpa, o.gpa);
	assert_int_equal(ref.page_size, o.page_size);
	assert_int_equal(cmpxchgs, c0);
}

static void test_memo_4level(void **state)
{
	(void)state;
	memset(&memo, 0, sizeof(memo));
	u64 root = mode4();
	u64 la = 0x7f1234567000ull;
	map64(root, 4, la, 1, 0x345000ull, P | RW | US, P | RW | US);
	map64(root, 4, 0x40000000ull, 2, 0x600000ull, P | RW, P | RW);
	expect_memo(la + 0x10, PW_FETCH, 0, 0x345010ull, true);
	assert_true(memo.valid);
	assert_int_equal(memo.n, 4);
	/* Same page, same state: no walk, no flag written. */
	unsigned c0 = cmpxchgs;
	expect_memo(la + 0xff8, PW_FETCH, 0, 0x345ff8ull, false);
	assert_int_equal(cmpxchgs, c0);
	/* The PTE now maps another frame: walked again. */
	put64(ent_gpa(root, 4, la, 1), 0x789000ull | P | RW | US | A);
	expect_memo(la + 0x20, PW_FETCH, 0, 0x789020ull, true);
	expect_memo(la + 0x20, PW_FETCH, 0, 0x789020ull, false);
	/* The guest cleared A in the PDE: walked again, A set again. */
	u64 pde = ent_gpa(root, 4, la, 2);
	put64(pde, get64(pde) & ~A);
	c0 = cmpxchgs;
	assert_int_equal(mxlate(la, PW_FETCH, 0, &(struct pw_out){ 0 }), PW_OK);
	assert_int_equal(cmpxchgs, c0 + 1);
	assert_true(get64(pde) & A);
	expect_memo(la, PW_FETCH, 0, 0x789000ull, false);
	/* A write after the fetch: another key; it sets D, then hits. */
	expect_memo(la, PW_WRITE, 0, 0x789000ull, true);
	assert_true(get64(ent_gpa(root, 4, la, 1)) & D);
	expect_memo(la + 8, PW_WRITE, 0, 0x789008ull, false);
	/* The guest cleared D: a write walks again (and sets it), a read would not need to,
	 * but its key is another one. */
	u64 pte = ent_gpa(root, 4, la, 1);
	put64(pte, get64(pte) & ~D);
	expect_memo(la, PW_WRITE, 0, 0x789000ull, true);
	assert_true(get64(pte) & D);
	/* Another page, another key. */
	expect_memo(0x40001000ull, PW_READ, 0, 0x601000ull, true);
	expect_memo(0x40001234ull, PW_READ, 0, 0x601234ull, false);
	/* Every part of the state is in the key. */
	st.cr3 |= 0x8;   /* PWT: not part of the address, but another CR3 */
	expect_memo(0x40001000ull, PW_READ, 0, 0x601000ull, true);
	st.cr0 &= ~(u64)CR0_WP;
	expect_memo(0x40001000ull, PW_READ, 0, 0x601000ull, true);
	st.rflags |= RFLAGS_AC;
	expect_memo(0x40001000ull, PW_READ, 0, 0x601000ull, true);
	st.rflags |= RFLAGS_TF;   /* not AC: the same key */
	expect_memo(0x40001000ull, PW_READ, 0, 0x601000ull, false);
	expect_memo(0x40001000ull, PW_READ, PW_IMPLICIT, 0x601000ull, true);
	/* The CPL: user mode may not reach this supervisor page, whatever the memo holds. */
	st.cpl = 3;
	struct pw_out o;
	assert_int_equal(mxlate(0x40001000ull, PW_READ, PW_IMPLICIT, &o), PW_OK);
	assert_int_equal(mxlate(0x40001000ull, PW_READ, 0, &o), PW_FAULT);
	assert_int_equal(o.error, PF_P | PF_U);
	assert_false(memo.valid);
	st.cpl = 0;
	/* Not present now: the fault, not the memo's old result. */
	expect_memo(la, PW_READ, 0, 0x789000ull, true);
	put64(ent_gpa(root, 4, la, 3), 0);
	assert_int_equal(mxlate(la, PW_READ, 0, &o), PW_FAULT);
	assert_int_equal(o.error, 0);
	assert_false(memo.valid);
}

static void test_memo_32bit_and_pae(void **state)
{
	(void)state;
	memset(&memo, 0, sizeof(memo));
	/* 32-bit paging, 4-byte entries; a 4 MiB page. */
	u64 pd = alloc_table(), pt = alloc_table();
	st.cr0 = CR0_PG | CR0_PE | CR0_WP;
	st.cr4 = CR4_PSE;
	st.cr3 = pd;
	put32(pd + (0x00401000u >> 22) * 4, (u32)(pt | P | RW));
	put32(pt + ((0x00401000u >> 12) & 1023) * 4, 0x00234000u | (u32)(P | RW));
	put32(pd + (0x00c00000u >> 22) * 4, 0x01000000u | (u32)(P | RW | PS));
	expect_memo(0x00401abcull, PW_READ, 0, 0x234abcull, true);
	assert_int_equal(memo.n, 2);
	expect_memo(0x00401000ull, PW_READ, 0, 0x234000ull, false);
	/* The upper half of an 8-byte neighbour is not part of a 4-byte entry... */
	put32(pt + ((0x00401000u >> 12) & 1023) * 4 + 4, 0xdeadbeefu);
	expect_memo(0x00401000ull, PW_READ, 0, 0x234000ull, false);
	/* ...the entry itself is. */
	put32(pd + (0x00401000u >> 22) * 4, (u32)(pt | P | RW | US | A));
	expect_memo(0x00401000ull, PW_READ, 0, 0x234000ull, true);
	expect_memo(0x00d23456ull, PW_WRITE, 0, 0x1123456ull, true);
	assert_int_equal(memo.n, 1);
	assert_int_equal(memo.page_size, 4u << 20);
	expect_memo(0x00d23000ull, PW_WRITE, 0, 0x1123000ull, false);
	/* PAE: the PDPTE registers are part of the state. */
	u64 pdt = alloc_table();
	st.cr4 = CR4_PAE;
	st.pdpte[0] = pdt | P;
	put64(pdt + 2 * 8, 0x800000ull | P | RW | PS);
	expect_memo(0x00412345ull, PW_READ, 0, 0x812345ull, true);
	expect_memo(0x00412345ull, PW_READ, 0, 0x812345ull, false);
	u64 pdt2 = alloc_table();
	put64(pdt2 + 2 * 8, 0xa00000ull | P | RW | PS);
	st.pdpte[0] = pdt2 | P;
	expect_memo(0x00412345ull, PW_READ, 0, 0xa12345ull, true);
}

static void test_memo_needs_ptr(void **state)
{
	(void)state;
	memset(&memo, 0, sizeof(memo));
	u64 root = mode4();
	map64(root, 4, 0x1000ull, 1, 0x2000ull, P | RW, P | RW);
	/* Without pw_mem.ptr (or when it refuses an entry) nothing is kept: every call walks. */
	ptr_refuse = true;
	expect_memo(0x1000ull, PW_READ, 0, 0x2000ull, true);
	assert_false(memo.valid);
	expect_memo(0x1000ull, PW_READ, 0, 0x2000ull, true);
	struct pw_out o;
	unsigned r0 = reads;
	assert_int_equal(pw_translate_memo(&memo, &st, &tmem, 0x1000ull, PW_READ, 0, &o), PW_OK);
	assert_int_equal(pw_translate_memo(&memo, &st, &tmem, 0x1000ull, PW_READ, 0, &o), PW_OK);
	assert_int_equal(reads, r0 + 8);
	assert_false(memo.valid);
	ptr_refuse = false;
	expect_memo(0x1000ull, PW_READ, 0, 0x2000ull, true);
	assert_true(memo.valid);
	/* Dropped by the owner: walks again. */
	memo.valid = false;
	expect_memo(0x1000ull, PW_READ, 0, 0x2000ull, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_paging, setup),
		cmocka_unit_test_setup(test_32bit_4k, setup),
		cmocka_unit_test_setup(test_32bit_pse, setup),
		cmocka_unit_test_setup(test_pae, setup),
		cmocka_unit_test_setup(test_4level_sizes, setup),
		cmocka_unit_test_setup(test_4level_reserved, setup),
		cmocka_unit_test_setup(test_canonical_and_5level, setup),
		cmocka_unit_test_setup(test_user_supervisor, setup),
		cmocka_unit_test_setup(test_nx, setup),
		cmocka_unit_test_setup(test_smep, setup),
		cmocka_unit_test_setup(test_smap, setup),
		cmocka_unit_test_setup(test_protection_keys, setup),
		cmocka_unit_test_setup(test_accessed_dirty, setup),
		cmocka_unit_test_setup(test_cmpxchg_rewalk, setup),
		cmocka_unit_test_setup(test_cmpxchg_gives_up, setup),
		cmocka_unit_test_setup(test_not_memory, setup),
		cmocka_unit_test_setup(test_memo_4level, setup),
		cmocka_unit_test_setup(test_memo_32bit_and_pae, setup),
		cmocka_unit_test_setup(test_memo_needs_ptr, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
