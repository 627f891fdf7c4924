/* SPDX-License-Identifier: MIT */
/*
 * The VT-d driver (drivers/iommu/vtd.c) against a register model: a thread plays the
 * unit, answering GCMD writes in GSTS and consuming the invalidation queue (writing the
 * wait descriptors' status), and logs what it saw. The tests check the order of the
 * bring-up ("Global Command Register", the enabling order of interrupt remapping, QI
 * before IR), the invalidation sequences (a wait descriptor closing each batch), the
 * context entry and fault event programming, the bounded waits (a dead unit is an error,
 * not a hang), queue errors, and the fault recording walk.
 */
#include "tests/unit/support.h"
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include "drivers/iommu/iommu.h"
#include "hv/host/pci_host.h"
#include "hv/host/vectors.h"
#include "hv/mm/mm.h"

/* ---- what vtd.c needs from the rest of the hypervisor ---- */
/* The driver bounds its waits at 100 ms of this rate: ten times the host TSC, so that
 * a model thread starved by a loaded machine still answers in time (about 1 s). */
u64 tsc_hz = 30000000000ull;
struct host_pci_dev host_pci[HOST_PCI_MAX];
u32 host_pci_count;
void host_pci_print(const char *(*suffix)(const struct host_pci_dev *d, char *buf, size_t len))
{
	(void)suffix;
}
struct frame_pool frames;   /* iommu_init keeps RMRRs out of it (not run here) */
u32 lapic_id(void) { return 2; }
bool lapic_x2apic_mode(void) { return false; }

#define POOL_PAGES 64
#define POOL_PA 0x10000000ull
static u8 pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static u32 pool_used;
void *alloc_pages_zeroed(u64 bytes, u64 align)
{
	(void)align;
	u32 n = (u32)((bytes + 4095) / 4096);
	if (pool_used + n > POOL_PAGES)
		return NULL;
	void *p = pool[pool_used];
	memset(p, 0, n * 4096);
	pool_used += n;
	return p;
}

/* ---- the register model ---- */
static u8 regs[4096] __attribute__((aligned(4096)));
#define R32(off) (*(volatile u32 *)(regs + (off)))
#define R64(off) (*(volatile u64 *)(regs + (off)))

static pthread_t model;
static volatile bool model_stop;
static volatile bool model_dead;       /* answers nothing */
static volatile bool model_queue_error; /* flags IQE instead of processing */
static char events[1024];
static u64 seen_rtaddr, seen_iqa, seen_irta;
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;

static void event(const char *e)
{
	pthread_mutex_lock(&ev_lock);
	if (events[0])
		strcat(events, " ");
	strcat(events, e);
	pthread_mutex_unlock(&ev_lock);
}

static const char *desc_name(struct vtd_inv_desc d)
{
	static char buf[32];
	u32 g = (u32)(d.lo >> 4) & 3;
	switch (VTD_INV_TYPE(d)) {
	case VTD_INV_CC: snprintf(buf, sizeof(buf), "cc%u", g); break;
	case VTD_INV_IOTLB: snprintf(buf, sizeof(buf), "iotlb%u", g); break;
	case VTD_INV_IEC: snprintf(buf, sizeof(buf), "iec%u", (u32)(d.lo >> 4) & 1); break;
	case VTD_INV_WAIT: snprintf(buf, sizeof(buf), "wait"); break;
	default: snprintf(buf, sizeof(buf), "type%u", VTD_INV_TYPE(d)); break;
	}
	return buf;
}

static struct vtd_unit unit;

/* GCMD as it was before the thread started (the driver may write it before the thread
 * first looks). */
static u32 gcmd_at_start;

static void *model_fn(void *arg)
{
	(void)arg;
	u32 last = gcmd_at_start;
	while (!model_stop) {
		if (model_dead) {
			usleep(100);
			continue;
		}
		u32 cmd = R32(VTD_GCMD);
		if (cmd != last) {
			static const struct { u32 bit; const char *name; } bits[] = {
				{ VTD_GCMD_TE, "TE" }, { VTD_GCMD_SRTP, "SRTP" }, { VTD_GCMD_WBF, "WBF" },
				{ VTD_GCMD_QIE, "QIE" }, { VTD_GCMD_IRE, "IRE" }, { VTD_GCMD_SIRTP, "SIRTP" },
				{ VTD_GCMD_CFI, "CFI" },
			};
			for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
				char e[16];
				if ((cmd & ~last) & bits[i].bit) {
					event(bits[i].name);
				} else if ((last & ~cmd) & bits[i].bit && !(bits[i].bit & VTD_GSTS_ONESHOT)) {
					snprintf(e, sizeof(e), "-%s", bits[i].name);
					event(e);
				}
			}
			u32 sts = R32(VTD_GSTS) & (VTD_GCMD_SRTP | VTD_GCMD_SIRTP);   /* pointer status sticks */
			if (cmd & VTD_GCMD_SRTP) {
				seen_rtaddr = R64(VTD_RTADDR);
				sts |= VTD_GCMD_SRTP;
			}
			if (cmd & VTD_GCMD_SIRTP) {
				seen_irta = R64(VTD_IRTA);
				sts |= VTD_GCMD_SIRTP;
			}
			if ((cmd & VTD_GCMD_QIE) && !(last & VTD_GCMD_QIE)) {
				seen_iqa = R64(VTD_IQA);
				R64(VTD_IQH) = 0;
			}
			sts |= cmd & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI);
			R32(VTD_GSTS) = sts;
			last = cmd;
		}
		/* register-based invalidation: log the command, clear its busy bit */
		u64 cc = R64(VTD_CCMD);
		if (cc & VTD_CCMD_ICC) {
			char e[16];
			snprintf(e, sizeof(e), "ccmd%u", (u32)(cc >> 61) & 3);
			event(e);
			R64(VTD_CCMD) = cc & ~VTD_CCMD_ICC;
		}
		u32 iotlb = unit.iro + VTD_IOTLB_OFF;
		u64 it = R64(iotlb);
		if (unit.iro && (it & VTD_IOTLB_IVT)) {
			char e[40];
			snprintf(e, sizeof(e), "iotlbreg%u/%u/0x%llx", (u32)(it >> 60) & 3, (u32)(it >> 32) & 0xffff,
				 (unsigned long long)R64(unit.iro + VTD_IVA_OFF));
			event(e);
			R64(iotlb) = it & ~VTD_IOTLB_IVT;
		}
		if ((R32(VTD_GSTS) & VTD_GCMD_QIE) && R64(VTD_IQT) != R64(VTD_IQH)) {
			if (model_queue_error) {
				R32(VTD_FSTS) |= VTD_FSTS_IQE;
				continue;
			}
			struct vtd_inv_desc *ring = phys_to_virt(R64(VTD_IQA) & VTD_ADDR_MASK);
			u32 h = (u32)(R64(VTD_IQH) >> 4), t = (u32)(R64(VTD_IQT) >> 4);
			while (h != t) {
				struct vtd_inv_desc d = ring[h];
				event(desc_name(d));
				if (VTD_INV_TYPE(d) == VTD_INV_WAIT && (d.lo & BIT64(5)))
					*(volatile u32 *)phys_to_virt(d.hi) = (u32)(d.lo >> 32);
				h = (h + 1) % VTD_QUEUE_ENTRIES;
			}
			R64(VTD_IQH) = (u64)h << 4;
		}
		sched_yield();
	}
	return NULL;
}

/* QEMU 7.2's capabilities (docs/VTD.md), fault recording at 0x220, IOTLB at 0xf0. */
#define CAP_QEMU 0xd2008c22260206ull
#define ECAP_QEMU 0xf00f4aull

static int setup(void **state)
{
	(void)state;
	memset(regs, 0, sizeof(regs));
	memset(events, 0, sizeof(events));
	pool_used = 0;
	fake_mem_reset();
	fake_mem_map(POOL_PA, pool, sizeof(pool));
	memset(&unit, 0, sizeof(unit));
	unit.regs = regs;
	unit.cap = CAP_QEMU;
	unit.ecap = ECAP_QEMU;
	unit.fro = VTD_CAP_FRO(unit.cap) * 16;
	unit.nfr = VTD_CAP_NFR(unit.cap);
	unit.iro = VTD_ECAP_IRO(unit.ecap) * 16;
	unit.levels = vtd_choose_levels(VTD_CAP_SAGAW(unit.cap), 39);
	unit.fault_vector = -1;
	R64(VTD_CAP) = unit.cap;
	R64(VTD_ECAP) = unit.ecap;
	model_stop = false;
	model_dead = false;
	model_queue_error = false;
	gcmd_at_start = R32(VTD_GCMD);
	assert_int_equal(pthread_create(&model, NULL, model_fn, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_stop = true;
	pthread_join(model, NULL);
	if (unit.fault_vector >= 0)
		host_vector_free((u8)unit.fault_vector);
	return 0;
}

static void test_enable_order(void **state)
{
	(void)state;
	char err[200] = "";
	if (!vtd_unit_enable(&unit, err, sizeof(err)))
		fail_msg("%s", err);
	/* root table pointer; QI; global context-cache and IOTLB invalidation, each closed
	 * by a wait; the IRT pointer, a global interrupt entry cache invalidation, IRE; TE
	 * last. CFI is never set. */
	assert_string_equal(events, "SRTP QIE cc1 wait iotlb1 wait SIRTP iec0 wait IRE TE");
	assert_int_equal(seen_rtaddr, unit.root_pa);            /* TTM 00b: legacy */
	assert_int_equal(seen_iqa, unit.q_pa);                  /* QS 0, 128-bit descriptors */
	assert_int_equal(seen_irta, unit.irt_pa | VTD_IRT_ORDER);   /* no EIME on an xAPIC host */
	assert_int_equal(R32(VTD_GSTS), VTD_GCMD_TE | VTD_GCMD_SRTP | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_SIRTP);
	assert_true(unit.enabled && unit.qi && unit.ir && !unit.eime);
	/* the fault event: vector from the registry, to APIC 2, unmasked */
	assert_true(unit.fault_vector >= 0x40 && unit.fault_vector <= 0xbf);
	assert_string_equal(host_vector_get((u8)unit.fault_vector)->name, "vtd fault");
	assert_int_equal(R32(VTD_FEDATA), (u32)unit.fault_vector);
	assert_int_equal(R32(VTD_FEADDR), 0xfee02000u);
	assert_int_equal(R32(VTD_FECTL), 0);
	/* ECAP.C = 0: tables are flushed with CLFLUSH */
	assert_non_null(unit.alloc.flush);
	/* enabling twice does nothing more */
	if (!vtd_unit_enable(&unit, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(events, "SRTP QIE cc1 wait iotlb1 wait SIRTP iec0 wait IRE TE");
}

static void test_firmware_left_on(void **state)
{
	(void)state;
	/* the firmware left translation and QI on: they go off first, TE before QIE */
	model_stop = true;
	pthread_join(model, NULL);
	R32(VTD_GCMD) = VTD_GCMD_TE | VTD_GCMD_QIE;
	R32(VTD_GSTS) = VTD_GCMD_TE | VTD_GCMD_QIE;
	model_stop = false;
	gcmd_at_start = R32(VTD_GCMD);
	assert_int_equal(pthread_create(&model, NULL, model_fn, NULL), 0);
	char err[200] = "";
	if (!vtd_unit_enable(&unit, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(events, "-TE -QIE SRTP QIE cc1 wait iotlb1 wait SIRTP iec0 wait IRE TE");
}

static void test_attach_and_invalidate(void **state)
{
	(void)state;
	char err[200];
	if (!vtd_unit_enable(&unit, err, sizeof(err)))
		fail_msg("%s", err);
	events[0] = 0;
	struct vtd_domain d;
	assert_false(vtd_domain_create(&unit, &d, 0));            /* domain-id 0 is not handed out */
	assert_true(vtd_domain_create(&unit, &d, 5));
	assert_true(vtd_domain_map(&d, 0x100000, 0x42a000, 4096, VTD_PERM_R | VTD_PERM_W));
	assert_true(vtd_attach(&unit, &d, 0x0318));                /* 03:03.0 */
	assert_string_equal(events, "cc1 wait iotlb2 wait");
	/* root entry of bus 3 -> context table; entry 0x18 -> the domain */
	assert_true(unit.root[3].lo & VTD_P);
	struct vtd_context_entry *ct = phys_to_virt(unit.root[3].lo & VTD_ADDR_MASK);
	assert_ptr_equal(ct, unit.ctx[3]);
	assert_int_equal(ct[0x18].lo, d.root_pa | VTD_P);
	assert_int_equal(ct[0x18].hi, 1 | (5u << 8));              /* AW 39-bit, DID 5 */
	assert_int_equal(ct[0x17].lo, 0);
	assert_false(unit.root[0].lo & VTD_P);

	/* page-selective IOTLB invalidation (CAP.PSI) and IEC by index */
	events[0] = 0;
	assert_true(vtd_flush_iotlb_page(&unit, 5, 0x100000));
	int i = vtd_irte_alloc(&unit);
	assert_int_equal(i, 0);
	assert_true(vtd_irte_set(&unit, (u32)i, vtd_irte_remapped(0x41, 2, false, VTD_SVT_SID, 0, 0x0318)));
	assert_string_equal(events, "iotlb3 wait iec1 wait");
	assert_int_equal(unit.irt[0].lo, vtd_irte_remapped(0x41, 2, false, VTD_SVT_SID, 0, 0x0318).lo);
	/* a present entry replaced whole (both halves) */
	struct vtd_irte p = vtd_irte_posted(0x55, 0x123440, true, VTD_SVT_SID, 0, 0x0320);
	assert_true(vtd_irte_set(&unit, 0, p));
	assert_int_equal(unit.irt[0].lo, p.lo);
	assert_int_equal(unit.irt[0].hi, p.hi);
	/* without PSI: domain-selective */
	unit.cap &= ~VTD_CAP_PSI;
	events[0] = 0;
	assert_true(vtd_flush_iotlb_page(&unit, 5, 0x100000));
	assert_string_equal(events, "iotlb2 wait");
}

/* A unit without QI (and so without IR): invalidation through CCMD and the IOTLB
 * register at ECAP.IRO, each waited for until the unit clears its busy bit. */
static void test_register_invalidation(void **state)
{
	(void)state;
	unit.ecap &= ~(VTD_ECAP_QI | VTD_ECAP_IR | VTD_ECAP_EIM);
	char err[200];
	if (!vtd_unit_enable(&unit, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(events, "SRTP ccmd1 iotlbreg1/0/0x0 TE");
	assert_false(unit.qi || unit.ir);
	assert_null(unit.irt);
	events[0] = 0;
	struct vtd_domain d;
	assert_true(vtd_domain_create(&unit, &d, 9));
	assert_true(vtd_attach(&unit, &d, 0x0018));
	assert_true(vtd_flush_iotlb_page(&unit, 9, 0x100000));
	assert_string_equal(events, "ccmd1 iotlbreg2/9/0x0 iotlbreg3/9/0x100000");
	assert_false(vtd_flush_iec(&unit, -1));      /* no interrupt entry cache without QI */
	assert_int_equal(vtd_irte_alloc(&unit), -1);
}

static void test_dead_unit_times_out(void **state)
{
	(void)state;
	model_dead = true;
	char err[200] = "";
	assert_false(vtd_unit_enable(&unit, err, sizeof(err)));
	assert_contains(err, "set root table pointer: GSTS 0x00000000 did not set bit 0x40000000 within 100 ms");
	assert_false(unit.enabled);
}

static void test_queue_error(void **state)
{
	(void)state;
	char err[200];
	if (!vtd_unit_enable(&unit, err, sizeof(err)))
		fail_msg("%s", err);
	model_queue_error = true;
	assert_false(vtd_flush_context_all(&unit));   /* IQE reported, not waited for in vain */
}

static void test_fault_drain(void **state)
{
	(void)state;
	model_stop = true;   /* no model needed: the registers are read as they are */
	unit.nfr = 4;
	/* records 3 and 0 hold faults, FRI points at 3: read 3, wrap to 0, stop at 1 */
	u32 fro = unit.fro;
	R64(fro + 3 * 16) = 0x42a000;
	R64(fro + 3 * 16 + 8) = VTD_FRCD_HI_F | (5ull << 32) | 0x0018;   /* write, reason 5 */
	R64(fro + 0 * 16) = 0x7ull << 48;                                /* interrupt index 7 */
	R64(fro + 0 * 16 + 8) = VTD_FRCD_HI_F | VTD_FRCD_HI_T1 | (0x26ull << 32) | 0x0020;
	R32(VTD_FSTS) = VTD_FSTS_PPF | (3u << 8);
	vtd_fault_drain(&unit);
	assert_int_equal(unit.nr_faults, 2);
	assert_int_equal(unit.faults[0].sid, 0x0018);
	assert_int_equal(unit.faults[0].reason, 5);
	assert_int_equal(unit.faults[0].addr, 0x42a000);
	assert_false(unit.faults[0].read);
	assert_int_equal(unit.faults[1].sid, 0x0020);
	assert_int_equal(unit.faults[1].reason, 0x26);
	assert_int_equal(unit.faults[1].addr, 7);
	/* F cleared by writing 1 to it (RW1C): the driver wrote the top dword with bit 31 */
	assert_int_equal(R32(fro + 3 * 16 + 12), 0x80000000u);
	/* nothing pending: nothing read */
	R32(VTD_FSTS) = 0;
	vtd_fault_drain(&unit);
	assert_int_equal(unit.nr_faults, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enable_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_left_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_and_invalidate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_invalidation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_unit_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_drain, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
