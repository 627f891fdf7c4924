/* SPDX-License-Identifier: MIT */
/* VT-d encodings (drivers/iommu/vtd_hw.h) and the pure table code
 * (drivers/iommu/vtd_tables.c): IRTEs (remapped and posted), root and context entries,
 * remappable MSI addresses, invalidation descriptors and the queue ring, GCMD values,
 * the address width choice, second-level page tables, and the capability decode. */
#include "tests/unit/support.h"
#include "drivers/iommu/vtd_tables.h"

/* ---- IRTEs ---- */
static void test_irte_remapped(void **state)
{
	(void)state;
	struct vtd_irte e = vtd_irte_remapped(0x41, 3, false, VTD_SVT_SID, 0, 0x0018);
	assert_true(e.lo & VTD_IRTE_P);
	assert_false(e.lo & VTD_IRTE_IM);
	assert_int_equal(VTD_IRTE_VECTOR(e.lo), 0x41);
	assert_int_equal((e.lo >> 16) & 0xff, 0x41);           /* V: bits 23:16 */
	assert_int_equal((e.lo >> 40) & 0xff, 3);              /* xAPIC: APIC ID in bits 47:40 */
	assert_int_equal(e.lo >> 48, 0);
	assert_int_equal(e.lo & (VTD_IRTE_DM | VTD_IRTE_TM | (7ull << 5)), 0);   /* physical, edge, fixed */
	assert_int_equal(e.hi & 0xffff, 0x0018);               /* SID 79:64 */
	assert_int_equal((e.hi >> 16) & 3, 0);                 /* SQ 81:80 */
	assert_int_equal((e.hi >> 18) & 3, 1);                 /* SVT 83:82 */
	assert_int_equal(e.hi >> 20, 0);

	/* x2APIC mode: the whole 32-bit destination */
	e = vtd_irte_remapped(0xec, 0x12345, true, VTD_SVT_BUS, 2, 0x0305);
	assert_int_equal(e.lo >> 32, 0x12345);
	assert_int_equal((e.hi >> 16) & 3, 2);
	assert_int_equal((e.hi >> 18) & 3, 2);
	assert_int_equal(e.hi & 0xffff, 0x0305);
	/* xAPIC mode drops the bits above the 8-bit APIC ID */
	e = vtd_irte_remapped(0x30, 0x1ff, false, VTD_SVT_NONE, 0, 0);
	assert_int_equal(e.lo >> 32, 0xff00);
}

static void test_irte_posted(void **state)
{
	(void)state;
	u64 pd = 0x0000001234567840ull;   /* 64-byte aligned */
	struct vtd_irte e = vtd_irte_posted(0x51, pd, true, VTD_SVT_SID, 0, 0x0018);
	assert_true(e.lo & VTD_IRTE_P);
	assert_true(e.lo & VTD_IRTE_IM);                       /* IM bit 15: posted */
	assert_true(e.lo & BIT64(14));                         /* URG */
	assert_int_equal((e.lo >> 16) & 0xff, 0x51);           /* VV: the guest vector */
	assert_int_equal((e.lo >> 38) << 6, pd & 0xffffffffull);   /* PDAL 63:38 = address bits 31:6 */
	assert_int_equal(e.hi >> 32, pd >> 32);                /* PDAH 127:96 */
	assert_int_equal(e.hi & 0xfffff, 0x0018 | (1u << 18));
	assert_int_equal(vtd_irte_posted_pda(e), pd);
	assert_int_equal(e.lo & (0x3full << 32), 0);           /* bits 37:32 reserved */
	e = vtd_irte_posted(0x20, 0xfffc0, false, VTD_SVT_NONE, 0, 0);
	assert_false(e.lo & BIT64(14));
	assert_int_equal(vtd_irte_posted_pda(e), 0xfffc0);
	assert_int_equal(e.hi, 0);
}

/* ---- root and context entries ---- */
static void test_root_and_context(void **state)
{
	(void)state;
	struct vtd_root_entry r = vtd_root_entry(0x123456000ull);
	assert_int_equal(r.lo, 0x123456001ull);
	assert_int_equal(r.hi, 0);
	struct vtd_context_entry c = vtd_context_entry(0xabc000, 3, 7);
	assert_int_equal(c.lo, 0xabc001ull);                   /* P, TT = 00 (second level), FPD 0 */
	assert_int_equal(c.hi & 7, 1);                         /* AW 1: 39-bit, 3-level */
	assert_int_equal((c.hi >> 8) & 0xffff, 7);             /* DID 87:72 */
	c = vtd_context_entry(0xabc000, 4, 0xffff);
	assert_int_equal(c.hi & 7, 2);
	assert_int_equal(c.hi >> 8, 0xffff);
	c = vtd_context_entry(0xabc000, 5, 1);
	assert_int_equal(c.hi & 7, 3);
}

/* ---- remappable MSI ---- */
static void test_msi_address(void **state)
{
	(void)state;
	assert_int_equal(vtd_msi_remappable_addr(0), 0xfee00010u);
	assert_int_equal(vtd_msi_remappable_addr(1), 0xfee00030u);
	assert_int_equal(vtd_msi_remappable_addr(0x7fff), 0xfeeffff0u);
	assert_int_equal(vtd_msi_remappable_addr(0x8000), 0xfee00014u);   /* handle[15] in bit 2 */
	for (u32 h = 0; h < 0x10000; h += 0x1111)
		assert_int_equal(vtd_msi_handle(vtd_msi_remappable_addr((u16)h)), h);
	assert_false(vtd_msi_remappable_addr(5) & VTD_MSI_ADDR_SHV);
}

/* ---- invalidation descriptors ---- */
static void test_inv_descriptors(void **state)
{
	(void)state;
	struct vtd_inv_desc d = vtd_inv_cc(VTD_INV_GLOBAL, 0, 0, 0);
	assert_int_equal(d.lo, 0x11);
	assert_int_equal(d.hi, 0);
	d = vtd_inv_cc(VTD_INV_DEVICE_OR_PAGE, 5, 0x0018, 3);
	assert_int_equal(VTD_INV_TYPE(d), VTD_INV_CC);
	assert_int_equal((d.lo >> 4) & 3, 3);
	assert_int_equal((d.lo >> 16) & 0xffff, 5);
	assert_int_equal((d.lo >> 32) & 0xffff, 0x0018);
	assert_int_equal((d.lo >> 48) & 3, 3);

	d = vtd_inv_iotlb(VTD_INV_DEVICE_OR_PAGE, 9, 0x100000, 2);
	assert_int_equal(VTD_INV_TYPE(d), VTD_INV_IOTLB);
	assert_int_equal((d.lo >> 4) & 3, 3);
	assert_true(d.lo & BIT64(6));                          /* DW */
	assert_true(d.lo & BIT64(7));                          /* DR */
	assert_int_equal((d.lo >> 16) & 0xffff, 9);
	assert_int_equal(d.hi, 0x100000 | 2);                  /* ADDR 127:76, AM 69:64 */
	d = vtd_inv_iotlb(VTD_INV_DOMAIN, 9, 0x100000, 2);
	assert_int_equal(d.hi, 0);                             /* no address outside page-selective */

	d = vtd_inv_iec(false, 0, 0);
	assert_int_equal(d.lo, 0x4);
	d = vtd_inv_iec(true, 0x1234, 3);
	assert_int_equal(d.lo, 0x4 | BIT64(4) | (3ull << 27) | (0x1234ull << 32));

	d = vtd_inv_wait(0x5000 | 3, 0xcafe);
	assert_int_equal(VTD_INV_TYPE(d), VTD_INV_WAIT);
	assert_true(d.lo & BIT64(5));                          /* SW */
	assert_true(d.lo & BIT64(6));                          /* FN */
	assert_false(d.lo & BIT64(4));                         /* no interrupt */
	assert_int_equal(d.lo >> 32, 0xcafe);
	assert_int_equal(d.hi, 0x5000);                        /* dword aligned */
}

/* The sequence the driver queues: descriptors then one wait, wrapping the ring, never
 * letting the tail catch the head. */
static void test_queue(void **state)
{
	(void)state;
	struct vtd_inv_desc ring[4];
	struct vtd_queue q = { .ring = ring, .size = 4, .tail = 0 };
	assert_int_equal(vtd_queue_space(&q, 0), 3);
	assert_true(vtd_queue_push(&q, 0, vtd_inv_cc(VTD_INV_GLOBAL, 0, 0, 0)));
	assert_true(vtd_queue_push(&q, 0, vtd_inv_iotlb(VTD_INV_GLOBAL, 0, 0, 0)));
	assert_true(vtd_queue_push(&q, 0, vtd_inv_wait(0x1000, 1)));
	assert_false(vtd_queue_push(&q, 0, vtd_inv_iec(false, 0, 0)));   /* full: tail + 1 == head */
	assert_int_equal(q.tail, 3);
	assert_int_equal(VTD_INV_TYPE(ring[0]), VTD_INV_CC);
	assert_int_equal(VTD_INV_TYPE(ring[1]), VTD_INV_IOTLB);
	assert_int_equal(VTD_INV_TYPE(ring[2]), VTD_INV_WAIT);
	/* the unit consumed three: the next push wraps to slot 3 then 0 */
	assert_int_equal(vtd_queue_space(&q, 3), 3);
	assert_true(vtd_queue_push(&q, 3, vtd_inv_iec(false, 0, 0)));
	assert_true(vtd_queue_push(&q, 3, vtd_inv_wait(0x1000, 2)));
	assert_int_equal(q.tail, 1);
	assert_int_equal(VTD_INV_TYPE(ring[3]), VTD_INV_IEC);
	assert_int_equal(VTD_INV_TYPE(ring[0]), VTD_INV_WAIT);
	assert_int_equal(vtd_queue_space(&q, 3), 1);
}

/* ---- global command ---- */
static void test_gcmd_value(void **state)
{
	(void)state;
	/* QEMU's GSTS after QIE, IRE and both pointers: 0x47000000 (QIES, IRES, IRTPS) | RTPS */
	u32 gsts = VTD_GCMD_SRTP | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_SIRTP;
	u32 v = vtd_gcmd_value(gsts, VTD_GCMD_TE, true);
	assert_int_equal(v, VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE);   /* one-shots dropped */
	v = vtd_gcmd_value(gsts | VTD_GCMD_TE, VTD_GCMD_IRE, false);
	assert_int_equal(v, VTD_GCMD_TE | VTD_GCMD_QIE);
	v = vtd_gcmd_value(VTD_GCMD_TE | VTD_GCMD_CFI, VTD_GCMD_SRTP, true);
	assert_int_equal(v, VTD_GCMD_TE | VTD_GCMD_CFI | VTD_GCMD_SRTP);
	v = vtd_gcmd_value(VTD_GCMD_WBF, VTD_GCMD_QIE, true);
	assert_int_equal(v, VTD_GCMD_QIE);
}

/* ---- address width ---- */
static void test_choose_levels(void **state)
{
	(void)state;
	assert_int_equal(vtd_choose_levels(VTD_SAGAW_39, 39), 3);
	assert_int_equal(vtd_choose_levels(VTD_SAGAW_39, 32), 3);
	assert_int_equal(vtd_choose_levels(VTD_SAGAW_39, 40), 0);
	assert_int_equal(vtd_choose_levels(VTD_SAGAW_39 | VTD_SAGAW_48, 40), 4);
	assert_int_equal(vtd_choose_levels(VTD_SAGAW_48, 32), 4);
	assert_int_equal(vtd_choose_levels(VTD_SAGAW_48 | VTD_SAGAW_57, 52), 5);
	assert_int_equal(vtd_choose_levels(BIT(0) | BIT(4), 30), 0);   /* only reserved encodings */
}

/* ---- page tables ---- */
#define POOL 64
static u8 pool[POOL][4096] __attribute__((aligned(4096)));
static u32 pool_used;
static u32 flushes;
static u64 flushed_bytes;
#define POOL_PA 0x40000000ull

static void *t_alloc(void *ctx, u64 *pa)
{
	(void)ctx;
	if (pool_used >= POOL)
		return NULL;
	memset(pool[pool_used], 0, 4096);
	*pa = POOL_PA + (u64)pool_used * 4096;
	return pool[pool_used++];
}
static void *t_virt(void *ctx, u64 pa)
{
	(void)ctx;
	assert_true(pa >= POOL_PA && pa < POOL_PA + (u64)pool_used * 4096);
	return pool[(pa - POOL_PA) / 4096];
}
static void t_flush(void *ctx, const void *p, size_t len)
{
	(void)ctx;
	assert_true((const u8 *)p >= pool[0] && (const u8 *)p + len <= pool[pool_used]);
	flushes++;
	flushed_bytes += len;
}
static const struct vtd_alloc alloc = { t_alloc, t_virt, t_flush, NULL };

static void reset_pool(void)
{
	pool_used = 0;
	flushes = 0;
	flushed_bytes = 0;
}

static void test_domain_map(void **state)
{
	(void)state;
	reset_pool();
	struct vtd_domain d;
	assert_true(vtd_domain_init(&d, 1, 3, false, &alloc));
	assert_int_equal(d.root_pa, POOL_PA);
	assert_true(vtd_domain_map(&d, 0x100000, 0x429000, 4096, VTD_PERM_R | VTD_PERM_W));
	assert_int_equal(d.pages, 3);                          /* root, PD, PT */
	u64 pa, perm;
	assert_true(vtd_domain_lookup(&d, 0x100123, &pa, &perm));
	assert_int_equal(pa, 0x429123);
	assert_int_equal(perm, VTD_PERM_R | VTD_PERM_W);
	assert_false(vtd_domain_lookup(&d, 0x101000, &pa, &perm));
	assert_false(vtd_domain_lookup(&d, 0x42a000, &pa, &perm));
	/* the walk as the unit makes it: index bits 38:30, 29:21, 20:12 */
	u64 l3 = d.root[0];
	assert_int_equal(l3 & (VTD_SL_R | VTD_SL_W), VTD_SL_R | VTD_SL_W);
	u64 *pd = t_virt(NULL, l3 & VTD_ADDR_MASK);
	u64 *pt = t_virt(NULL, pd[0] & VTD_ADDR_MASK);
	assert_int_equal(pt[0x100], 0x429000 | VTD_SL_R | VTD_SL_W);
	assert_true(flushes >= 5);                             /* 3 new pages + the entries written */

	/* read-only page */
	assert_true(vtd_domain_map(&d, 0x200000, 0x500000, 8192, VTD_PERM_R));
	assert_true(vtd_domain_lookup(&d, 0x201000, &pa, &perm));
	assert_int_equal(pa, 0x501000);
	assert_int_equal(perm, VTD_PERM_R);

	/* beyond 39 bits, misaligned */
	assert_false(vtd_domain_map(&d, 1ull << 39, 0x1000, 4096, VTD_PERM_R));
	assert_false(vtd_domain_map(&d, (1ull << 39) - 4096, 0x1000, 8192, VTD_PERM_R));
	assert_false(vtd_domain_map(&d, 0x1800, 0x1000, 4096, VTD_PERM_R));
	assert_false(vtd_domain_lookup(&d, 1ull << 40, &pa, &perm));

	/* unmap reports what was there */
	assert_int_equal(vtd_domain_unmap(&d, 0x100000, 4096), 1);
	assert_false(vtd_domain_lookup(&d, 0x100000, &pa, &perm));
	assert_int_equal(vtd_domain_unmap(&d, 0x100000, 4096), 0);
	assert_int_equal(vtd_domain_unmap(&d, 0x200000, 3 * 4096), 2);
	assert_int_equal(vtd_domain_unmap(&d, 0x7000000000ull, 4096), 0);   /* nothing ever there */
}

static void test_domain_levels_and_2m(void **state)
{
	(void)state;
	reset_pool();
	struct vtd_domain d;
	assert_false(vtd_domain_init(&d, 1, 2, false, &alloc));
	assert_true(vtd_domain_init(&d, 2, 4, true, &alloc));
	/* 2 MiB aligned and long enough: PS leaves at level 2 */
	assert_true(vtd_domain_map(&d, 0x40000000, 0x80000000, MiB(4) + 4096, VTD_PERM_R | VTD_PERM_W));
	assert_int_equal(d.pages, 4);                          /* PML4, PDPT, PD, and a PT for the 4 KiB tail */
	u64 pa, perm;
	assert_true(vtd_domain_lookup(&d, 0x40123456, &pa, &perm));
	assert_int_equal(pa, 0x80123456);
	assert_true(vtd_domain_lookup(&d, 0x40400000, &pa, &perm));
	assert_int_equal(pa, 0x80400000);
	assert_false(vtd_domain_lookup(&d, 0x40401000, &pa, &perm));
	u64 *pdpt = t_virt(NULL, d.root[0] & VTD_ADDR_MASK);
	u64 *pd = t_virt(NULL, pdpt[1] & VTD_ADDR_MASK);
	assert_true(pd[0] & VTD_SL_PS);
	assert_true(pd[1] & VTD_SL_PS);
	assert_false(pd[2] & VTD_SL_PS);
	/* a 4 KiB mapping inside a 2 MiB leaf is refused, not silently split */
	assert_false(vtd_domain_map(&d, 0x40001000, 0x1000, 4096, VTD_PERM_R));
	/* partial unmap of a 2 MiB leaf is refused; a whole one counts 512 pages */
	assert_int_equal(vtd_domain_unmap(&d, 0x40000000, 4096), 0);
	assert_int_equal(vtd_domain_unmap(&d, 0x40000000, MiB(2)), 512);
	assert_false(vtd_domain_lookup(&d, 0x40000000, &pa, &perm));
	/* 48 bits reachable with 4 levels */
	assert_true(vtd_domain_map(&d, (1ull << 47), 0x1000, 4096, VTD_PERM_R));
	assert_false(vtd_domain_map(&d, (1ull << 48), 0x1000, 4096, VTD_PERM_R));
}

/* A domain (domain-id did) holding a 64 MiB VM's RAM at host 0x10000000. */
static void domain_64m(struct vtd_domain *d, u16 did)
{
	reset_pool();
	struct guest_map m;
	char e[120];
	assert_true(guest_map_build(&m, MiB(64), 0, e, sizeof(e)));
	assert_true(vtd_domain_init(d, did, 3, true, &alloc));
	assert_true(vtd_domain_map_guest(d, &m, 0x10000000));
}

/* A VM's domain from its guest map: RAM spans mapped, the hole not. */
static void test_domain_guest_map(void **state)
{
	(void)state;
	struct vtd_domain d;
	domain_64m(&d, 3);
	u64 pa, perm;
	assert_true(vtd_domain_lookup(&d, 0x1000, &pa, &perm));
	assert_int_equal(pa, 0x10001000);
	assert_true(vtd_domain_lookup(&d, MiB(64) - 1, &pa, &perm));
	assert_int_equal(pa, 0x10000000 + MiB(64) - 1);
	assert_false(vtd_domain_lookup(&d, MiB(64), &pa, &perm));
	assert_false(vtd_domain_lookup(&d, 0xfec00000, &pa, &perm));   /* IOAPIC: MMIO, unmapped */

	/* RAM on both sides of the hole */
	reset_pool();
	struct guest_map m;
	char e[120];
	assert_true(guest_map_build(&m, MiB(256), MiB(128), e, sizeof(e)));
	assert_true(vtd_domain_init(&d, 3, 3, true, &alloc));
	assert_true(vtd_domain_map_guest(&d, &m, 0x20000000));
	assert_true(vtd_domain_lookup(&d, MiB(128) - 4096, &pa, &perm));
	assert_int_equal(pa, 0x20000000 + MiB(128) - 4096);
	assert_false(vtd_domain_lookup(&d, MiB(128), &pa, &perm));
	assert_true(vtd_domain_lookup(&d, GiB(4) + 0x2000, &pa, &perm));
	assert_int_equal(pa, 0x20000000 + MiB(128) + 0x2000);
	assert_false(vtd_domain_lookup(&d, GiB(4) + MiB(128), &pa, &perm));
}

/* An RMRR's identity map beside the VM's RAM in its domain. */
static void test_domain_rmrr_identity(void **state)
{
	(void)state;
	struct vtd_domain d;
	domain_64m(&d, 1);
	u64 clash, pa, perm;
	/* above the RAM: mapped 1:1, read/write, every page, nothing past the limit */
	assert_true(vtd_domain_map_identity(&d, 0xe000000, 0xe00ffff, &clash));
	assert_int_equal(clash, 0);
	for (u64 a = 0xe000000; a < 0xe010000; a += 0x1000) {
		assert_true(vtd_domain_lookup(&d, a + 0x123, &pa, &perm));
		assert_int_equal(pa, a + 0x123);
		assert_int_equal(perm, VTD_PERM_R | VTD_PERM_W);
	}
	assert_false(vtd_domain_lookup(&d, 0xe010000, &pa, &perm));
	assert_false(vtd_domain_lookup(&d, 0xdfff000, &pa, &perm));
	/* the same range again (a second function the RMRR names): fine */
	assert_true(vtd_domain_map_identity(&d, 0xe000000, 0xe00ffff, &clash));
	/* over the RAM (GPA 0x3f00000 -> host 0x13f00000): refused at the first clash, the RAM kept */
	assert_false(vtd_domain_map_identity(&d, 0x3ffe000, 0x4001fff, &clash));
	assert_int_equal(clash, 0x3ffe000);
	assert_true(vtd_domain_lookup(&d, 0x3ffe000, &pa, &perm));
	assert_int_equal(pa, 0x13ffe000);
	assert_false(vtd_domain_lookup(&d, 0x4000000, &pa, &perm));
	/* partly past the RAM: the clash is the last RAM page */
	assert_false(vtd_domain_map_identity(&d, 0x3fff000, 0x4000fff, &clash));
	assert_int_equal(clash, 0x3fff000);
	/* misaligned or beyond the 39-bit domain */
	assert_false(vtd_domain_map_identity(&d, 0xe000800, 0xe000fff, &clash));
	assert_int_equal(clash, ~0ull);
	assert_false(vtd_domain_map_identity(&d, 0xe000000, 0xe0007ff, &clash));
	assert_false(vtd_domain_map_identity(&d, 1ull << 39, (1ull << 39) + 0xfff, &clash));
	assert_int_equal(clash, ~0ull);
	assert_false(vtd_domain_map_identity(&d, 0x2000, 0xfff, &clash));
}

static void test_pool_exhausted(void **state)
{
	(void)state;
	reset_pool();
	struct vtd_domain d;
	assert_true(vtd_domain_init(&d, 1, 3, false, &alloc));
	pool_used = POOL;   /* nothing left */
	assert_false(vtd_domain_map(&d, 0x100000, 0x1000, 4096, VTD_PERM_R));
}

/* ---- capability decode, with the values QEMU 7.2's intel-iommu reported ---- */
static void test_caps_text(void **state)
{
	(void)state;
	u64 cap = 0xd2008c22260206ull, ecap = 0xf00f4aull;
	assert_int_equal(VTD_CAP_SAGAW(cap), VTD_SAGAW_39);
	assert_int_equal(VTD_CAP_MGAW(cap), 39);
	assert_int_equal(VTD_CAP_FRO(cap) * 16, 0x220);
	assert_int_equal(VTD_CAP_NFR(cap), 1);
	assert_int_equal(VTD_ECAP_IRO(ecap) * 16, 0xf0);
	assert_int_equal(VTD_CAP_ND(cap), 6);
	char buf[300];
	vtd_caps_text(cap, ecap, buf, sizeof(buf));
	assert_contains(buf, "SAGAW 39 MGAW 39 ND 2^16 NFR 1 FRO 0x220 IRO 0xf0");
	assert_contains(buf, "CM=0");
	assert_contains(buf, "C=0 QI=1 IR=1 EIM=0 PI=0");
	vtd_caps_text(cap | VTD_CAP_PI | VTD_CAP_CM | (VTD_SAGAW_48 << 8), ecap | VTD_ECAP_EIM | VTD_ECAP_C, buf,
		      sizeof(buf));
	assert_contains(buf, "SAGAW 39 48 ");
	assert_contains(buf, "CM=1");
	assert_contains(buf, "C=1 QI=1 IR=1 EIM=1 PI=1");
	assert_string_equal(vtd_fault_reason_name(5), "write to a page without write permission");
	assert_string_equal(vtd_fault_reason_name(0x25), "compatibility format interrupt blocked");
	assert_string_equal(vtd_fault_reason_name(0x99), "unknown reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_irte_remapped),
		cmocka_unit_test(test_irte_posted),
		cmocka_unit_test(test_root_and_context),
		cmocka_unit_test(test_msi_address),
		cmocka_unit_test(test_inv_descriptors),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_gcmd_value),
		cmocka_unit_test(test_choose_levels),
		cmocka_unit_test(test_domain_map),
		cmocka_unit_test(test_domain_levels_and_2m),
		cmocka_unit_test(test_domain_guest_map),
		cmocka_unit_test(test_domain_rmrr_identity),
		cmocka_unit_test(test_pool_exhausted),
		cmocka_unit_test(test_caps_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
