/* SPDX-License-Identifier: MIT */
/*
 * The VT-d remapping unit driver (iommu.h). Rules from the "Intel Virtualization
 * Technology for Directed I/O Architecture Specification":
 *
 * - "Global Command Register": a write performs one command; software reads GSTS,
 *   keeps the enable bits, drops the one-shot bits (vtd_gcmd_value), sets or clears the
 *   one bit and waits for the matching status bit. Every wait here is bounded (100 ms):
 *   a unit that does not answer is an error, not a hang.
 * - "Root Table Address Register": RTADDR is latched by SRTP, completion shown by RTPS;
 *   after that the context cache and the IOTLB are invalidated globally, before TE.
 * - "Invalidation Queue Interface": IQT = 0 and IQA are written before QIE; once QIES
 *   is set, register-based invalidation must not be used. Completion is observed
 *   through an Invalidation Wait Descriptor whose status write (SW) lands in memory.
 *   A unit that reports IR also reports QI ("Hardware implementations reporting
 *   interrupt remapping capability must also report queued invalidation").
 * - "Interrupt Remapping Table Address Register" / "Interrupt Remapping" enabling: IRTA,
 *   then SIRTP (IRTPS), then a global interrupt entry cache invalidation, then IRE.
 *   EIME (x2APIC destinations) only where ECAP.EIM is set and the host APIC is in x2APIC
 *   mode. CFI stays clear: "If ... the Compatibility format interrupts are disabled
 *   (CFIS field in the Global Status Register is Clear), the Compatibility format
 *   interrupts are blocked."
 * - "Write Buffer Flushing": with CAP.RWBF, table updates are followed by WBF.
 * - "Caching Mode" (CAP.CM = 1, e.g. an emulated unit): not-present to present changes
 *   need invalidation too; this driver always invalidates after changing an entry.
 * - "Page-walk Coherency" (ECAP.C = 0): the unit does not snoop, so every table write
 *   is written back with CLFLUSH.
 * - "Fault Recording Registers": a recorded fault has F set; software reads the record,
 *   clears F (write 1) and goes on from FSTS.FRI round the CAP.NFR registers; PFO is
 *   cleared by writing it. The fault event interrupt is an MSI described by FEDATA /
 *   FEADDR / FEUADDR, unmasked by clearing FECTL.IM.
 */
#include "drivers/iommu/iommu.h"
#include "hv/host/acpi.h"
#include "hv/host/cpu.h"
#include "hv/host/pci_host.h"
#include "hv/host/time.h"
#include "hv/host/vectors.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "arch/x86/x86.h"

struct dmar_info iommu_dmar;
bool iommu_have_dmar;
struct vtd_unit iommu_units[DMAR_MAX_UNITS];
u32 iommu_nr_units;
void (*iommu_fault_hook)(struct vtd_unit *u, const struct vtd_fault *f);

#define WAIT_US 100000u

/* ---- register access ---- */
static u32 rd32(const struct vtd_unit *u, u32 off) { return *(volatile u32 *)(u->regs + off); }
static u64 rd64(const struct vtd_unit *u, u32 off) { return *(volatile u64 *)(u->regs + off); }
static void wr32(struct vtd_unit *u, u32 off, u32 v) { *(volatile u32 *)(u->regs + off) = v; }
static void wr64(struct vtd_unit *u, u32 off, u64 v) { *(volatile u64 *)(u->regs + off) = v; }

static u64 deadline(u32 us)
{
	return rdtsc() + (tsc_hz ? tsc_hz / 1000000u : 3000u) * us;
}

static bool passed(u64 dl)
{
	return (s64)(rdtsc() - dl) >= 0;
}

/* ---- memory the unit reads ---- */
static void *alloc_cb(void *ctx, u64 *pa)
{
	(void)ctx;
	void *p = alloc_page();
	if (p)
		*pa = virt_to_phys(p);
	return p;
}

static void *to_virt_cb(void *ctx, u64 pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

static void clflush_cb(void *ctx, const void *p, size_t len)
{
	(void)ctx;
	for (uintptr_t a = (uintptr_t)p & ~63ul; a < (uintptr_t)p + len; a += 64)
		asm volatile("clflush %0" : "+m"(*(volatile char *)a));
	asm volatile("mfence" ::: "memory");
}

static void flush(struct vtd_unit *u, const void *p, size_t len)
{
	if (u->alloc.flush)
		u->alloc.flush(u->alloc.ctx, p, len);
	else
		asm volatile("" ::: "memory");
}

/* ---- global command ---- */
static bool gcmd(struct vtd_unit *u, u32 cmd, bool on, const char *what, char *err, size_t errlen)
{
	wr32(u, VTD_GCMD, vtd_gcmd_value(rd32(u, VTD_GSTS), cmd, on));
	/* one-shot commands report completion by setting their status bit (WBF: by
	 * clearing WBFS); enables report the new state */
	bool want = cmd == VTD_GCMD_WBF ? false : (cmd & VTD_GSTS_ONESHOT) ? true : on;
	u64 dl = deadline(WAIT_US);
	while (!!(rd32(u, VTD_GSTS) & cmd) != want) {
		if (passed(dl)) {
			hv_snprintf(err, errlen, "vtd%u: %s: GSTS 0x%08x did not %s bit 0x%08x within %u ms", u->index, what,
				    rd32(u, VTD_GSTS), want ? "set" : "clear", cmd, WAIT_US / 1000);
			return false;
		}
		cpu_relax();
	}
	return true;
}

static void write_buffer_flush(struct vtd_unit *u)
{
	char err[120];
	if ((u->cap & VTD_CAP_RWBF) && !gcmd(u, VTD_GCMD_WBF, true, "write buffer flush", err, sizeof(err)))
		printk("%s\n", err);
}

/* ---- invalidation ---- */
static bool qi_submit(struct vtd_unit *u, const struct vtd_inv_desc *d, u32 n)
{
	u32 head = (u32)(rd64(u, VTD_IQH) >> VTD_IQ_SHIFT) & (u->q.size - 1);
	if (vtd_queue_space(&u->q, head) < n + 1) {
		printk("vtd%u: invalidation queue full (head %u tail %u)\n", u->index, head, u->q.tail);
		return false;
	}
	u32 seq = ++u->wait_seq;
	for (u32 i = 0; i < n; i++)
		vtd_queue_push(&u->q, head, d[i]);
	vtd_queue_push(&u->q, head, vtd_inv_wait(u->wait_pa, seq));
	flush(u, u->q.ring, (size_t)u->q.size * sizeof(*u->q.ring));
	asm volatile("sfence" ::: "memory");
	wr64(u, VTD_IQT, (u64)u->q.tail << VTD_IQ_SHIFT);
	u64 dl = deadline(WAIT_US);
	for (;;) {
		if (READ_ONCE(*u->wait_status) == seq)
			return true;
		u32 fsts = rd32(u, VTD_FSTS);
		if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)) {
			printk("vtd%u: invalidation queue error: FSTS 0x%x IQH 0x%llx IQERCD 0x%llx\n", u->index, fsts,
			       (unsigned long long)rd64(u, VTD_IQH), (unsigned long long)rd64(u, VTD_IQERCD));
			wr32(u, VTD_FSTS, fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE));
			return false;
		}
		if (passed(dl)) {
			printk("vtd%u: invalidation wait %u not done within %u ms (IQH 0x%llx IQT 0x%llx)\n", u->index, seq,
			       WAIT_US / 1000, (unsigned long long)rd64(u, VTD_IQH), (unsigned long long)rd64(u, VTD_IQT));
			return false;
		}
		cpu_relax();
	}
}

/* Register-based invalidation (no QI): write the command with its "go" bit and wait for
 * the unit to clear it. */
static bool reg_invalidate(struct vtd_unit *u, u32 off, u64 cmd, u64 busy, const char *what)
{
	wr64(u, off, cmd);
	u64 dl = deadline(WAIT_US);
	while (rd64(u, off) & busy) {
		if (passed(dl)) {
			printk("vtd%u: %s invalidation not done within %u ms\n", u->index, what, WAIT_US / 1000);
			return false;
		}
		cpu_relax();
	}
	return true;
}

bool vtd_flush_context_all(struct vtd_unit *u)
{
	if (u->qi) {
		struct vtd_inv_desc d = vtd_inv_cc(VTD_INV_GLOBAL, 0, 0, 0);
		return qi_submit(u, &d, 1);
	}
	return reg_invalidate(u, VTD_CCMD, VTD_CCMD_ICC | VTD_CCMD_CIRG_GLOBAL, VTD_CCMD_ICC, "context-cache");
}

static bool flush_iotlb(struct vtd_unit *u, enum vtd_inv_gran g, u16 did, u64 iova)
{
	if (g == VTD_INV_DEVICE_OR_PAGE && !(u->cap & VTD_CAP_PSI))
		g = VTD_INV_DOMAIN;   /* no page-selective invalidation: the whole domain */
	if (u->qi) {
		struct vtd_inv_desc d = vtd_inv_iotlb(g, did, iova, 0);
		return qi_submit(u, &d, 1);
	}
	u32 off = u->iro + VTD_IOTLB_OFF;
	if (g == VTD_INV_DEVICE_OR_PAGE)
		wr64(u, u->iro + VTD_IVA_OFF, iova & ~0xfffull);
	u64 cmd = VTD_IOTLB_IVT | VTD_IOTLB_DR | VTD_IOTLB_DW | VTD_IOTLB_DID(did) |
		  (g == VTD_INV_GLOBAL ? VTD_IOTLB_IIRG_GLOBAL : g == VTD_INV_DOMAIN ? VTD_IOTLB_IIRG_DOMAIN
										  : VTD_IOTLB_IIRG_PAGE);
	return reg_invalidate(u, off, cmd, VTD_IOTLB_IVT, "IOTLB");
}

bool vtd_flush_iotlb_domain(struct vtd_unit *u, u16 did) { return flush_iotlb(u, VTD_INV_DOMAIN, did, 0); }
bool vtd_flush_iotlb_page(struct vtd_unit *u, u16 did, u64 iova)
{
	return flush_iotlb(u, VTD_INV_DEVICE_OR_PAGE, did, iova);
}

bool vtd_flush_iec(struct vtd_unit *u, int index)
{
	if (!u->qi)
		return false;   /* only through the queue; IR needs QI */
	struct vtd_inv_desc d = index < 0 ? vtd_inv_iec(false, 0, 0) : vtd_inv_iec(true, (u16)index, 0);
	return qi_submit(u, &d, 1);
}

/* ---- faults ---- */
static void record_fault(struct vtd_unit *u, const struct vtd_fault *f)
{
	u->faults[u->nr_faults % VTD_FAULT_LOG] = *f;
	__atomic_store_n(&u->nr_faults, u->nr_faults + 1, __ATOMIC_RELEASE);
	bool ir = f->reason >= 0x20;
	printk("vtd%u: fault: source %02x:%02x.%u %s 0x%llx reason 0x%02x (%s)%s\n", u->index, f->sid >> 8,
	       (f->sid >> 3) & 31, f->sid & 7, ir ? "interrupt index" : "address", (unsigned long long)f->addr,
	       f->reason, vtd_fault_reason_name(f->reason), ir ? "" : f->read ? ", read" : ", write");
	if (iommu_fault_hook)
		iommu_fault_hook(u, f);
}

void vtd_fault_drain(struct vtd_unit *u)
{
	u32 fsts = rd32(u, VTD_FSTS);
	if (fsts & VTD_FSTS_PPF) {
		u32 i = VTD_FSTS_FRI(fsts) % u->nfr;
		for (u32 n = 0; n < u->nfr; n++, i = (i + 1) % u->nfr) {
			u32 off = u->fro + i * VTD_FRCD_SIZE;
			u64 hi = rd64(u, off + 8);
			if (!(hi & VTD_FRCD_HI_F))
				break;
			u64 lo = rd64(u, off);
			struct vtd_fault f = {
				.sid = VTD_FRCD_HI_SID(hi),
				.reason = VTD_FRCD_HI_FR(hi),
				.read = !!(hi & VTD_FRCD_HI_T1),
				.addr = VTD_FRCD_HI_FR(hi) >= 0x20 ? lo >> 48 : lo & ~0xfffull,
			};
			/* F is RW1C in the record's top dword */
			wr32(u, off + 12, (u32)(VTD_FRCD_HI_F >> 32));
			record_fault(u, &f);
		}
	}
	if (fsts & VTD_FSTS_PFO) {
		u->fault_overflows++;
		printk("vtd%u: fault recording overflowed (PFO): faults were lost\n", u->index);
	}
	if (fsts & (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE))
		wr32(u, VTD_FSTS, fsts & (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE));
}

static void fault_vector_fn(u8 vector, void *arg)
{
	(void)vector;
	vtd_fault_drain(arg);
}

/* ---- tables ---- */
static struct vtd_context_entry *context_table(struct vtd_unit *u, u8 bus)
{
	if (!u->ctx[bus]) {
		u64 pa;
		struct vtd_context_entry *t = alloc_cb(NULL, &pa);
		if (!t)
			return NULL;
		flush(u, t, PAGE_SIZE);
		u->ctx[bus] = t;
		u->root[bus] = vtd_root_entry(pa);
		flush(u, &u->root[bus], sizeof(u->root[bus]));
	}
	return u->ctx[bus];
}

bool vtd_domain_create(struct vtd_unit *u, struct vtd_domain *d, u16 did)
{
	u32 nd = 1u << (4 + 2 * VTD_CAP_ND(u->cap));
	if (!did || did >= nd)   /* with CM = 1 domain-id 0 is the unit's own */
		return false;
	return vtd_domain_init(d, did, u->levels, VTD_CAP_SLLPS(u->cap) & 1, &u->alloc);
}

bool vtd_attach(struct vtd_unit *u, const struct vtd_domain *d, u16 bdf)
{
	if (d->levels != u->levels)
		return false;
	struct vtd_context_entry *t = context_table(u, (u8)(bdf >> 8));
	if (!t)
		return false;
	struct vtd_context_entry *e = &t[bdf & 0xff];
	e->hi = 0;
	e->lo = 0;
	flush(u, e, sizeof(*e));
	struct vtd_context_entry ne = vtd_context_entry(d->root_pa, d->levels, d->did);
	e->hi = ne.hi;
	asm volatile("" ::: "memory");
	e->lo = ne.lo;   /* P last */
	flush(u, e, sizeof(*e));
	write_buffer_flush(u);
	return vtd_flush_context_all(u) && vtd_flush_iotlb_domain(u, d->did);
}

int vtd_irte_alloc(struct vtd_unit *u)
{
	if (!u->irt || u->irt_used >= VTD_IRT_ENTRIES)
		return -1;
	return (int)u->irt_used++;
}

/* The unit may read an IRTE at any moment, so a present entry must never be seen half
 * written: it is replaced with one 128-bit atomic store (LOCK CMPXCHG16B, CPUID.01H:
 * ECX.CX16[bit 13]). Without CX16 the entry goes not-present for the change (an
 * interrupt arriving then faults with reason 0x22 instead of using a torn entry). */
static bool has_cx16(void)
{
	u32 a, b, c, d;
	cpuid_count(1, 0, &a, &b, &c, &d);
	return c & BIT(13);
}

static void irte_store(struct vtd_irte *slot, struct vtd_irte e)
{
	if (has_cx16()) {
		u64 lo = slot->lo, hi = slot->hi;
		bool done;
		do {
			asm volatile("lock cmpxchg16b %[m]"
				     : [m] "+m"(*slot), "+a"(lo), "+d"(hi), "=@ccz"(done)
				     : "b"(e.lo), "c"(e.hi)
				     : "memory");
		} while (!done);
		return;
	}
	WRITE_ONCE(slot->lo, slot->lo & ~VTD_IRTE_P);
	asm volatile("" ::: "memory");
	WRITE_ONCE(slot->hi, e.hi);
	asm volatile("" ::: "memory");
	WRITE_ONCE(slot->lo, e.lo);
}

bool vtd_irte_set(struct vtd_unit *u, u32 index, struct vtd_irte e)
{
	if (!u->irt || index >= VTD_IRT_ENTRIES)
		return false;
	struct vtd_irte *slot = &u->irt[index];
	irte_store(slot, e);
	flush(u, slot, sizeof(*slot));
	return vtd_flush_iec(u, (int)index);
}

/* ---- bring-up ---- */
bool vtd_unit_enable(struct vtd_unit *u, char *err, size_t errlen)
{
	if (u->enabled)
		return true;
	if (!u->levels) {
		hv_snprintf(err, errlen, "vtd%u: no usable address width in SAGAW 0x%x", u->index, VTD_CAP_SAGAW(u->cap));
		return false;
	}
	if (u->ecap & VTD_ECAP_SMTS)
		printk("vtd%u: scalable mode offered; legacy-mode tables used\n", u->index);
	u->alloc = (struct vtd_alloc){ .alloc_page = alloc_cb, .to_virt = to_virt_cb,
				       .flush = (u->ecap & VTD_ECAP_C) ? NULL : clflush_cb };

	/* Whatever the firmware left on goes off first (in the reverse order). */
	u32 gsts = rd32(u, VTD_GSTS);
	if ((gsts & VTD_GCMD_TE) && !gcmd(u, VTD_GCMD_TE, false, "translation disable", err, errlen))
		return false;
	if ((gsts & VTD_GCMD_IRE) && !gcmd(u, VTD_GCMD_IRE, false, "interrupt remapping disable", err, errlen))
		return false;
	if ((gsts & VTD_GCMD_QIE) && !gcmd(u, VTD_GCMD_QIE, false, "queued invalidation disable", err, errlen))
		return false;
	if (gsts & (VTD_GCMD_TE | VTD_GCMD_IRE | VTD_GCMD_QIE))
		printk("vtd%u: the firmware left GSTS 0x%08x: turned off\n", u->index, gsts);

	/* root table */
	u->root = alloc_cb(NULL, &u->root_pa);
	if (!u->root) {
		hv_snprintf(err, errlen, "vtd%u: no memory for the root table", u->index);
		return false;
	}
	flush(u, u->root, PAGE_SIZE);
	wr64(u, VTD_RTADDR, u->root_pa | VTD_RTADDR_TTM_LEGACY);
	if (!gcmd(u, VTD_GCMD_SRTP, true, "set root table pointer", err, errlen))
		return false;

	/* queued invalidation */
	if (u->ecap & VTD_ECAP_QI) {
		u->q.ring = alloc_cb(NULL, &u->q_pa);
		u64 wpa;
		u32 *w = alloc_cb(NULL, &wpa);
		if (!u->q.ring || !w) {
			hv_snprintf(err, errlen, "vtd%u: no memory for the invalidation queue", u->index);
			return false;
		}
		u->q.size = VTD_QUEUE_ENTRIES;
		u->q.tail = 0;
		u->wait_status = w;
		u->wait_pa = wpa;
		wr64(u, VTD_IQT, 0);
		wr64(u, VTD_IQA, u->q_pa | 0 /* QS: one page */);
		if (!gcmd(u, VTD_GCMD_QIE, true, "queued invalidation enable", err, errlen))
			return false;
		u->qi = true;
	}
	if (!vtd_flush_context_all(u) || !flush_iotlb(u, VTD_INV_GLOBAL, 0, 0)) {
		hv_snprintf(err, errlen, "vtd%u: global context-cache / IOTLB invalidation failed", u->index);
		return false;
	}

	/* fault event interrupt, to the boot CPU */
	if (u->fault_vector < 0) {
		u->fault_vector = host_vector_alloc(0x40, 0xbf, "vtd fault", fault_vector_fn, u);
		if (u->fault_vector < 0) {
			hv_snprintf(err, errlen, "vtd%u: no free host vector for the fault event", u->index);
			return false;
		}
	}
	u32 apic = lapic_id();
	vtd_fault_drain(u);   /* what was recorded before */
	wr32(u, VTD_FEDATA, (u32)u->fault_vector);
	wr32(u, VTD_FEADDR, VTD_MSI_ADDR_BASE | (apic & 0xff) << 12);
	wr32(u, VTD_FEUADDR, (u->ecap & VTD_ECAP_EIM) ? apic & 0xffffff00u : 0);
	wr32(u, VTD_FECTL, 0);   /* IM clear */

	/* interrupt remapping */
	if (u->ecap & VTD_ECAP_IR) {
		if (!u->qi) {
			hv_snprintf(err, errlen, "vtd%u: reports interrupt remapping without queued invalidation", u->index);
			return false;
		}
		u->irt = alloc_cb(NULL, &u->irt_pa);
		if (!u->irt) {
			hv_snprintf(err, errlen, "vtd%u: no memory for the interrupt remapping table", u->index);
			return false;
		}
		flush(u, u->irt, PAGE_SIZE);
		u->eime = (u->ecap & VTD_ECAP_EIM) && lapic_x2apic_mode();
		wr64(u, VTD_IRTA, u->irt_pa | (u->eime ? VTD_IRTA_EIME : 0) | VTD_IRTA_S(VTD_IRT_ORDER));
		if (!gcmd(u, VTD_GCMD_SIRTP, true, "set interrupt remap table pointer", err, errlen))
			return false;
		if (!vtd_flush_iec(u, -1)) {
			hv_snprintf(err, errlen, "vtd%u: global interrupt entry cache invalidation failed", u->index);
			return false;
		}
		if (!gcmd(u, VTD_GCMD_IRE, true, "interrupt remapping enable", err, errlen))
			return false;
		u->ir = true;
		if (rd32(u, VTD_GSTS) & VTD_GCMD_CFI)
			printk("vtd%u: GSTS.CFIS is set: compatibility-format interrupts pass\n", u->index);
	}

	/* translation */
	write_buffer_flush(u);
	if (!gcmd(u, VTD_GCMD_TE, true, "translation enable", err, errlen))
		return false;
	u->enabled = true;
	printk("vtd%u: enabled: root table 0x%llx, %u-level tables, %s%s, fault event vector 0x%02x, GSTS 0x%08x\n",
	       u->index, (unsigned long long)u->root_pa, u->levels,
	       u->qi ? "queued invalidation" : "register invalidation",
	       u->ir ? (u->eime ? ", interrupt remapping (x2APIC)" : ", interrupt remapping (xAPIC)") : "",
	       u->fault_vector, rd32(u, VTD_GSTS));
	return true;
}

/* ---- discovery ---- */
static bool topo_bridge(void *ctx, u16 seg, u8 bus, u8 dev, u8 fn, u8 *sec, u8 *sub)
{
	(void)ctx;
	for (u32 i = 0; i < host_pci_count; i++) {
		const struct host_pci_dev *d = &host_pci[i];
		if (d->seg == seg && d->bus == bus && d->dev == dev && d->fn == fn && d->header == 1) {
			*sec = d->secondary;
			*sub = d->subordinate;
			return true;
		}
	}
	return false;
}
static const struct dmar_topology host_topo = { .bridge_buses = topo_bridge };

int iommu_ioapic_irte(u8 ioapic_id, u8 vector, u32 apic_id, bool level)
{
	if (!iommu_have_dmar)
		return -1;
	int i = dmar_unit_for_ioapic(&iommu_dmar, ioapic_id);
	if (i < 0 || (u32)i >= iommu_nr_units || !iommu_units[i].ir)
		return -1;
	struct vtd_unit *u = &iommu_units[i];
	const struct dmar_drhd *h = &iommu_dmar.drhd[i];
	u16 sid = 0;
	bool found = false;
	for (u32 j = 0; j < h->nr_scopes && !found; j++) {
		const struct dmar_scope *s = &iommu_dmar.scopes[h->first_scope + j];
		found = s->type == DMAR_SCOPE_IOAPIC && s->enum_id == ioapic_id && dmar_scope_sid(s, h->segment, &host_topo, &sid);
	}
	int idx = found ? vtd_irte_alloc(u) : -1;
	if (idx < 0)
		return -1;
	struct vtd_irte e = vtd_irte_remapped(vector, apic_id, u->eime, VTD_SVT_SID, 0, sid);
	if (level)
		e.lo |= VTD_IRTE_TM;
	if (!vtd_irte_set(u, (u32)idx, e))
		return -1;
	printk("vtd%u: I/O APIC %u (source %02x:%02x.%u): IRTE %d -> vector 0x%02x on APIC %u\n", u->index, ioapic_id,
	       sid >> 8, (sid >> 3) & 31, sid & 7, idx, vector, apic_id);
	return idx;
}

const struct dmar_rmrr *iommu_rmrr_next(u16 seg, u16 bdf, int *it)
{
	if (!iommu_have_dmar)
		return NULL;
	*it = dmar_rmrr_next(&iommu_dmar, seg, bdf, &host_topo, *it);
	return *it < 0 ? NULL : &iommu_dmar.rmrr[*it];
}

struct vtd_unit *iommu_unit_for(u16 seg, u16 bdf)
{
	if (!iommu_have_dmar)
		return NULL;
	int i = dmar_unit_for(&iommu_dmar, seg, bdf, &host_topo);
	return i < 0 || (u32)i >= iommu_nr_units ? NULL : &iommu_units[i];
}

static const char *unit_suffix(const struct host_pci_dev *d, char *buf, size_t len)
{
	struct vtd_unit *u = iommu_unit_for(d->seg, host_pci_bdf(d));
	if (!iommu_have_dmar)
		return "";
	if (!u)
		hv_snprintf(buf, len, ", no remapping unit");
	else
		hv_snprintf(buf, len, ", behind vtd%u (DRHD at 0x%llx%s)", u->index, (unsigned long long)u->base,
			    iommu_dmar.drhd[u->index].include_all ? ", INCLUDE_PCI_ALL" : "");
	return buf;
}

void iommu_init(const struct acpi_info *ai)
{
	static char err[200];
	iommu_have_dmar = false;
	iommu_nr_units = 0;
	if (!ai->dmar_pa) {
		printk("iommu: no ACPI DMAR table: no VT-d remapping unit\n");
		host_pci_print(NULL);
		return;
	}
	if (!dmar_parse(phys_to_virt(ai->dmar_pa), ai->dmar_len, &iommu_dmar, err, sizeof(err))) {
		printk("iommu: %s; the table is ignored, no remapping unit is used\n", err);
		host_pci_print(NULL);
		return;
	}
	iommu_have_dmar = true;
	const struct dmar_info *d = &iommu_dmar;
	printk("iommu: DMAR at 0x%llx: host address width %u, flags 0x%x (%s%s%s), %u unit(s), %u RMRR, %u ATSR\n",
	       (unsigned long long)ai->dmar_pa, d->haw, d->flags, d->flags & DMAR_FLAG_INTR_REMAP ? "INTR_REMAP" : "no INTR_REMAP",
	       d->flags & DMAR_FLAG_X2APIC_OPT_OUT ? " X2APIC_OPT_OUT" : "",
	       d->flags & DMAR_FLAG_DMA_CTRL_OPT_IN ? " DMA_CTRL_PLATFORM_OPT_IN" : "", d->nr_drhd, d->nr_rmrr, d->nr_atsr);
	if (d->warning[0])
		printk("iommu: %s\n", d->warning);
	for (u32 i = 0; i < d->nr_drhd; i++) {
		const struct dmar_drhd *h = &d->drhd[i];
		struct vtd_unit *u = &iommu_units[i];
		memset(u, 0, sizeof(*u));
		u->index = i;
		u->base = h->base;
		u->segment = h->segment;
		u->fault_vector = -1;
		u->regs = phys_to_virt(h->base);
		u->ver = rd32(u, VTD_VER);
		u->cap = rd64(u, VTD_CAP);
		u->ecap = rd64(u, VTD_ECAP);
		u->fro = VTD_CAP_FRO(u->cap) * 16;
		u->nfr = VTD_CAP_NFR(u->cap);
		u->iro = VTD_ECAP_IRO(u->ecap) * 16;
		/* every address below the host address width must be reachable */
		u->levels = vtd_choose_levels(VTD_CAP_SAGAW(u->cap), MIN(d->haw, VTD_CAP_MGAW(u->cap)));
		iommu_nr_units++;
		char caps[300];
		vtd_caps_text(u->cap, u->ecap, caps, sizeof(caps));
		printk("vtd%u: DRHD at 0x%llx segment %u%s, %u scope(s); version %u.%u, CAP 0x%llx ECAP 0x%llx\n", i,
		       (unsigned long long)h->base, h->segment, h->include_all ? " INCLUDE_PCI_ALL" : "", h->nr_scopes,
		       VTD_VER_MAJOR(u->ver), VTD_VER_MINOR(u->ver), (unsigned long long)u->cap,
		       (unsigned long long)u->ecap);
		printk("vtd%u: %s; %u-level second-level tables\n", i, caps, u->levels);
		if (u->cap == 0 || u->cap == ~0ull)
			printk("vtd%u: CAP reads 0x%llx: no remapping unit answers at 0x%llx\n", i,
			       (unsigned long long)u->cap, (unsigned long long)u->base);
		for (u32 j = 0; j < h->nr_scopes; j++) {
			const struct dmar_scope *s = &d->scopes[h->first_scope + j];
			u16 sid = 0;
			bool ok = dmar_scope_sid(s, h->segment, &host_topo, &sid);
			printk("vtd%u: scope %s id %u: bus %u path %02x.%u -> %s%02x:%02x.%u\n", i, dmar_scope_type_name(s->type),
			       s->enum_id, s->start_bus, s->path[0][0], s->path[0][1], ok ? "" : "(unresolved) ", sid >> 8,
			       (sid >> 3) & 31, sid & 7);
		}
	}
	/* "BIOS must report the RMRR reported memory addresses as reserved" in the system
	 * memory map; a table added by the boot loader (tools/mkdmar) may name free RAM, so
	 * the ranges are taken out of the frame pool here too: the devices may use them. */
	for (u32 i = 0; i < d->nr_rmrr; i++) {
		const struct dmar_rmrr *r = &d->rmrr[i];
		frame_pool_reserve(&frames, r->base, r->limit + 1 - r->base);
		printk("iommu: RMRR 0x%llx-0x%llx segment %u, %u device(s); not used for the hypervisor's memory\n",
		       (unsigned long long)r->base, (unsigned long long)r->limit, r->segment, r->nr_scopes);
	}
	host_pci_print(unit_suffix);
}
