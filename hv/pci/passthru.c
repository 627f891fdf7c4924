/* SPDX-License-Identifier: MIT */
/*
 * Device assignment (hv/pci/passthru.h): a host PCI function given to one VM.
 *
 * Configuration space (PCI Local Bus Specification 3.0, "Type 00h Configuration Space
 * Header"): the guest sees a virtual header built from the host's at boot: vendor,
 * device, revision, class, subsystem IDs and header type copied read-only; BARs with
 * the host's types and sizes (sized on the host by "writing a value of all 1's to the
 * register, then reading the value back", decode off meanwhile) but the guest's own
 * addresses; one capability, MSI, emulated by hv/pci/msi.c (the host's other
 * capabilities are hidden); no INTx (Interrupt Pin 0). Writes reach the host only
 * through pt_host_command (Bus Master) and the MSI translation below; the guest never
 * writes a host register of the header.
 *
 * BARs: a placed memory BAR (4 KiB multiple, host address page aligned) is mapped by
 * EPT at the guest's address onto the host BAR, uncached (arch_vm_map_mmio), so its
 * accesses cause no exit; it is also on the VM's bus (placement rules of config.c),
 * where any access that still exits (an I/O BAR, a smaller memory BAR) is forwarded to
 * the host BAR at the same offset.
 *
 * MSI: the guest's address/data never reach the device. Whenever the guest changes the
 * capability, the message it programmed becomes an IRTE of the function's unit
 * (pt_irq_choose, pt_irte_build; rewritten and invalidated index-selectively only when
 * it changed), and the host capability holds a remappable-format message naming that
 * IRTE (VT-d specification, "Interrupt Requests in Remappable Format": address 0xFEE,
 * handle, Interrupt Format 1, SHV 0; data 0).
 *
 * DMA: one domain per VM and unit (domain-id = VM index + 1): every RAM span of the
 * VM's memory map, guest-physical address = I/O virtual address (vtd_domain_map_guest);
 * anything else faults, and the fault is logged naming the VM (iommu_fault_hook).
 *
 * The unit is brought up by the first assignment behind it, with compatibility-format
 * interrupts blocked (GCMD.CFI clear: a device could otherwise send a compatibility-
 * format MSI past the remapping). The host's own I/O APIC entry (the console UART's
 * receive interrupt, hv/host/serial_input.c, programmed after the VMs are created)
 * then names an IRTE of the unit that lists that I/O APIC (iommu_ioapic_irte).
 *
 * Locking: configuration accesses run under the function's device lock; IRTE writes
 * and their invalidations under pt_lock (the invalidation queue has one producer at a
 * time); the remapped path's host handler reads the guest message as one 64-bit word.
 */
#include "hv/pci/passthru.h"
#include "hv/pci/pci.h"
#include "hv/vm/vm.h"
#include "hv/host/cpu.h"
#include "hv/host/pci_host.h"
#include "hv/host/vectors.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "drivers/iommu/iommu.h"
#include "arch/x86/arch.h"
#include "arch/x86/x86.h"

#define PT_MAX (MAX_VMS * VM_MAX_ASSIGNED)
#define PT_LOG_WRITES 2   /* IRTE writes per function that are logged */

struct pt_fn {
	struct pci_vdev vd;
	const struct host_pci_dev *h;
	u16 bdf;
	struct vtd_unit *unit;
	u8 host_msi;              /* the host's MSI capability */
	bool host_msi64;
	u64 host_bar[PCI_NR_BARS];
	bool has_mem, has_io;
	int irte;                 /* its IRTE index */
	int host_vector;          /* the remapped path's host vector */
	volatile u64 gmsg;        /* the guest's message: address bits 31:0 << 32 | data */
	bool irte_valid;
	struct vtd_irte cur;      /* the IRTE written last */
	struct pt_irq_choice choice;
	u64 irte_writes, remapped_irqs, dma_faults;
	bool quiesced;            /* its VM stopped: no guest write reaches the host function */
};

static struct pt_fn pt_fns[PT_MAX];
static u32 pt_count;
static struct vtd_domain pt_dom[MAX_VMS][DMAR_MAX_UNITS];
static bool pt_dom_ok[MAX_VMS][DMAR_MAX_UNITS];
static struct spinlock pt_lock;
static u8 pt_pi_mode;            /* SW_* of vtd_pi= */
static bool pt_urgent;

void pci_passthru_configure(u8 vtd_pi, bool urgent)
{
	pt_pi_mode = vtd_pi;
	pt_urgent = urgent;
}

static bool posted_ok(const struct pt_fn *f)
{
	return pt_pi_mode != SW_OFF && (f->unit->cap & VTD_CAP_PI);
}

/* ---- host configuration space ---- */
static u32 hrd(const struct pt_fn *f, u16 off, u32 size) { return host_pci_dev_read(f->h, off, size); }
static void hwr(const struct pt_fn *f, u16 off, u32 size, u32 v) { host_pci_dev_write(f->h, off, size, v); }

/* Size the host's BARs and declare them on the virtual function. */
static void host_bars(struct pt_fn *f)
{
	u16 cmd = (u16)hrd(f, PCI_COMMAND, 2);
	hwr(f, PCI_COMMAND, 2, cmd & (u16)~(PCI_CMD_IO | PCI_CMD_MEMORY));
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		u16 reg = (u16)(PCI_BAR0 + 4 * i);
		u32 lo = hrd(f, reg, 4);
		hwr(f, reg, 4, ~0u);
		u32 mask = hrd(f, reg, 4);
		hwr(f, reg, 4, lo);
		if (lo & PCI_BAR_IO) {
			u32 size = (~(mask & PCI_BAR_IO_MASK) + 1) & 0xffff;
			if (mask && size) {
				pci_vdev_set_bar(&f->vd, i, PCI_BAR_PIO, size);
				f->host_bar[i] = lo & PCI_BAR_IO_MASK;
				f->has_io = true;
			}
			continue;
		}
		bool is64 = (lo & (3u << 1)) == PCI_BAR_MEM_TYPE_64 && i + 1 < PCI_NR_BARS;
		u64 m = mask & PCI_BAR_MEM_MASK, addr = lo & PCI_BAR_MEM_MASK;
		if (is64) {
			u32 hi = hrd(f, (u16)(reg + 4), 4);
			hwr(f, (u16)(reg + 4), 4, ~0u);
			m |= (u64)hrd(f, (u16)(reg + 4), 4) << 32;
			hwr(f, (u16)(reg + 4), 4, hi);
			addr |= (u64)hi << 32;
		} else {
			m |= 0xffffffff00000000ull;
		}
		if (m & PCI_BAR_MEM_MASK) {
			pci_vdev_set_bar(&f->vd, i, is64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32, ~m + 1);
			f->host_bar[i] = addr;
			f->has_mem = true;
		}
		if (is64)
			i++;
	}
	hwr(f, PCI_COMMAND, 2, cmd);
}

/* ---- BARs ---- */
static enum io_result pt_bar_access(struct pci_vdev *d, struct vcpu *v, unsigned bar, u64 off, struct io_req *req)
{
	(void)v;
	struct pt_fn *f = container_of(d, struct pt_fn, vd);
	if (off + req->size > d->bar[bar].size)
		return IO_REFUSED;
	if (d->bar[bar].type == PCI_BAR_PIO) {
		u16 port = (u16)(f->host_bar[bar] + off);
		if (req->write) {
			if (req->size == 1)
				outb(port, (u8)req->value);
			else if (req->size == 2)
				outw(port, (u16)req->value);
			else
				outl(port, (u32)req->value);
		} else {
			req->value = req->size == 1 ? inb(port) : req->size == 2 ? inw(port) : inl(port);
		}
		return IO_DONE;
	}
	volatile void *p = phys_to_virt(f->host_bar[bar] + off);
	switch (req->size) {
	case 1:
		if (req->write)
			*(volatile u8 *)p = (u8)req->value;
		else
			req->value = *(volatile u8 *)p;
		break;
	case 2:
		if (req->write)
			*(volatile u16 *)p = (u16)req->value;
		else
			req->value = *(volatile u16 *)p;
		break;
	case 4:
		if (req->write)
			*(volatile u32 *)p = (u32)req->value;
		else
			req->value = *(volatile u32 *)p;
		break;
	default:
		if (req->write)
			*(volatile u64 *)p = req->value;
		else
			req->value = *(volatile u64 *)p;
		break;
	}
	return IO_DONE;
}

static bool ept_mappable(const struct pt_fn *f, unsigned bar)
{
	const struct pci_bar *b = &f->vd.bar[bar];
	return b->type != PCI_BAR_PIO && b->size >= PAGE_SIZE && IS_ALIGNED(f->host_bar[bar], PAGE_SIZE);
}

static void pt_bar_placed(struct pci_vdev *d, unsigned bar, bool mapped, u64 at)
{
	struct pt_fn *f = container_of(d, struct pt_fn, vd);
	if (!ept_mappable(f, bar))
		return;
	if (!mapped) {
		arch_vm_unmap_mmio(d->vm, at, d->bar[bar].size);
		return;
	}
	if (arch_vm_map_mmio(d->vm, at, f->host_bar[bar], d->bar[bar].size))
		vm_log(d->vm, "vm %s: PCI %s BAR%u at 0x%llx mapped onto host 0x%llx (0x%llx bytes, EPT)\n", d->vm->name,
		       d->name, bar, (unsigned long long)at, (unsigned long long)f->host_bar[bar],
		       (unsigned long long)d->bar[bar].size);
	else
		vm_log(d->vm, "vm %s: PCI %s BAR%u at 0x%llx: no memory for EPT tables; accesses trapped\n",
		       d->vm->name, d->name, bar, (unsigned long long)at);
}

/* ---- MSI ---- */
static void irte_write(struct pt_fn *f, struct vtd_irte e)
{
	u64 fl = spin_lock_irqsave(&pt_lock);
	bool ok = vtd_irte_set(f->unit, (u32)f->irte, e);
	spin_unlock_irqrestore(&pt_lock, fl);
	f->cur = e;
	f->irte_valid = e.lo & VTD_IRTE_P;
	f->irte_writes++;
	if (!ok)
		printk("vtd%u: IRTE %d of %s (vm %s): the interrupt entry cache invalidation failed\n", f->unit->index,
		       f->irte, f->vd.name, f->vd.vm->name);
}

static void host_msi_enable(struct pt_fn *f, bool on)
{
	u16 cap = f->host_msi;
	u16 ctrl = (u16)hrd(f, cap + PCI_MSI_CTRL, 2);
	if (!on) {
		hwr(f, cap + PCI_MSI_CTRL, 2, ctrl & (u16)~PCI_MSI_CTRL_ENABLE);
		return;
	}
	if (ctrl & PCI_MSI_CTRL_ENABLE)
		return;
	hwr(f, cap + PCI_MSI_ADDR_LO, 4, vtd_msi_remappable_addr((u16)f->irte));
	if (f->host_msi64)
		hwr(f, cap + PCI_MSI_ADDR_HI, 4, 0);
	hwr(f, cap + (f->host_msi64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, 0);
	if (ctrl & PCI_MSI_CTRL_PVM)   /* vector 0 unmasked (a quiesce may have masked it) */
		hwr(f, cap + (f->host_msi64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32), 4, 0);
	hwr(f, cap + PCI_MSI_CTRL, 2, (ctrl & (u16)~(7u << 4)) | PCI_MSI_CTRL_ENABLE);   /* one vector */
}

static void msi_update(struct pt_fn *f)
{
	struct pci_vdev *d = &f->vd;
	struct vm *vm = d->vm;
	u32 cap = d->msi.cap;
	if (!pci_msi_enabled(d)) {
		host_msi_enable(f, false);
		if (f->irte_valid)
			irte_write(f, (struct vtd_irte){ 0, 0 });
		return;
	}
	u64 addr = pci_cfg_get(d, cap + PCI_MSI_ADDR_LO, 4) | (u64)pci_cfg_get(d, cap + PCI_MSI_ADDR_HI, 4) << 32;
	u32 data = pci_cfg_get(d, cap + PCI_MSI_DATA_64, 2);
	struct pt_irq_choice c;
	pt_irq_choose(addr, data, vm->nr_vcpus, posted_ok(f), &c);
	u64 pd = c.kind == PT_IRQ_POSTED ? arch_vcpu_pi_desc_pa(vm->vcpus[c.vcpu]) : 0;
	__atomic_store_n(&f->gmsg, (u64)(u32)addr << 32 | data, __ATOMIC_RELEASE);
	struct vtd_irte e = pt_irte_build(&c, pd, pt_urgent, (u8)f->host_vector, cpus[0].apic_id, f->unit->eime, f->bdf);
	if (!f->irte_valid || e.lo != f->cur.lo || e.hi != f->cur.hi) {
		irte_write(f, e);
		f->choice = c;
		if (f->irte_writes > PT_LOG_WRITES)
			;   /* logged the first ones only: a line costs far more than the rewrite */
		else if (c.kind == PT_IRQ_POSTED)
			vm_log(vm, "vm %s: PCI %s MSI vector 0x%02x: posted IRTE %d -> vCPU %u's descriptor%s\n", vm->name,
			       d->name, c.vector, f->irte, c.vcpu, pt_urgent ? " (urgent)" : "");
		else if (c.kind == PT_IRQ_REMAPPED)
			vm_log(vm, "vm %s: PCI %s MSI vector 0x%02x: remapped IRTE %d -> host vector 0x%02x (%s)\n", vm->name,
			       d->name, c.vector, f->irte, f->host_vector, c.why);
		else
			vm_log(vm, "vm %s: PCI %s MSI address 0x%llx data 0x%x would be dropped: IRTE %d not present\n",
			       vm->name, d->name, (unsigned long long)addr, data, f->irte);
	}
	host_msi_enable(f, true);
}

/* The remapped path: the IRTE's host vector arrived (boot CPU, interrupts off). */
static void pt_host_irq(u8 vector, void *arg)
{
	(void)vector;
	struct pt_fn *f = arg;
	u64 m = __atomic_load_n(&f->gmsg, __ATOMIC_ACQUIRE);
	__atomic_fetch_add(&f->remapped_irqs, 1, __ATOMIC_RELAXED);
	if (f->vd.vm->state == VM_RUNNING)
		msi_deliver(f->vd.vm, m >> 32, (u32)m);
}

static void pt_cfg_written(struct pci_vdev *d, u32 reg, unsigned size)
{
	struct pt_fn *f = container_of(d, struct pt_fn, vd);
	if (f->quiesced)
		return;   /* its VM stopped (a vCPU still finishing an exit): the host stays quiet */
	if (reg < PCI_COMMAND + 2 && reg + size > PCI_COMMAND) {
		u16 h = (u16)hrd(f, PCI_COMMAND, 2);
		hwr(f, PCI_COMMAND, 2, pt_host_command(h, (u16)pci_cfg_get(d, PCI_COMMAND, 2), f->has_mem, f->has_io));
	}
	if (reg < d->msi.cap + 0x18u && reg + size > d->msi.cap)
		msi_update(f);
}

static void pt_reset(struct pci_vdev *d)
{
	struct pt_fn *f = container_of(d, struct pt_fn, vd);
	host_msi_enable(f, false);
	u16 h = (u16)hrd(f, PCI_COMMAND, 2);
	hwr(f, PCI_COMMAND, 2, pt_host_command(h, 0, f->has_mem, f->has_io));
	if (f->irte_valid)
		irte_write(f, (struct vtd_irte){ 0, 0 });
	f->quiesced = false;   /* a restart: the guest may drive it again */
}

/* Quiesce (under the function's lock): no DMA ("Bus Master": "disables the device from
 * generating PCI accesses"), no MSI (MSI Enable clear, vector 0 masked where the
 * capability has per-vector masking), the IRTE not present (index-selective interrupt
 * entry cache invalidation: a message already on its way is blocked by the unit). */
static void pt_quiesce(struct pt_fn *f, const char *why)
{
	struct pci_vdev *d = &f->vd;
	u64 fl = spin_lock_irqsave(&d->dev.lock);
	f->quiesced = true;
	host_msi_enable(f, false);
	u16 ctrl = (u16)hrd(f, f->host_msi + PCI_MSI_CTRL, 2);
	if (ctrl & PCI_MSI_CTRL_PVM)
		hwr(f, f->host_msi + (f->host_msi64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32), 4, 1);
	hwr(f, PCI_COMMAND, 2, pt_host_command((u16)hrd(f, PCI_COMMAND, 2), 0, f->has_mem, f->has_io));
	bool had_irte = f->irte_valid;
	if (f->irte_valid)
		irte_write(f, (struct vtd_irte){ 0, 0 });
	spin_unlock_irqrestore(&d->dev.lock, fl);
	/* read back what the function and the unit now hold */
	u16 cmd = (u16)hrd(f, PCI_COMMAND, 2);
	ctrl = (u16)hrd(f, f->host_msi + PCI_MSI_CTRL, 2);
	bool present = f->unit->irt[f->irte].lo & VTD_IRTE_P;
	printk("vm %s: PCI %s (host %02x:%02x.%u) quiesced (%s): command 0x%04x (bus master %s), MSI control 0x%04x "
	       "(%s), IRTE %d %s%s\n",
	       d->vm->name, d->name, f->bdf >> 8, (f->bdf >> 3) & 31, f->bdf & 7, why, cmd,
	       cmd & PCI_CMD_BUS_MASTER ? "ON" : "off", ctrl, ctrl & PCI_MSI_CTRL_ENABLE ? "ENABLED" : "disabled",
	       f->irte, present ? "PRESENT" : "not present", had_irte ? " (was present)" : "");
}

void pci_passthru_quiesce(struct vm *vm, const char *why)
{
	for (u32 i = 0; i < pt_count; i++)
		if (pt_fns[i].vd.vm == vm)
			pt_quiesce(&pt_fns[i], why);
}

static const struct pci_vdev_ops pt_ops = {
	.bar_access = pt_bar_access,
	.cfg_written = pt_cfg_written,
	.reset = pt_reset,
	.bar_placed = pt_bar_placed,
};

/* ---- DMA faults ---- */
static void pt_fault(struct vtd_unit *u, const struct vtd_fault *flt)
{
	for (u32 i = 0; i < pt_count; i++) {
		struct pt_fn *f = &pt_fns[i];
		if (f->unit != u || f->bdf != flt->sid)
			continue;
		__atomic_fetch_add(&f->dma_faults, 1, __ATOMIC_RELAXED);
		struct vm *vm = f->vd.vm;
		vm_log(vm, "vm %s: %s by its assigned function %02x:%02x.%u (guest %s): %s 0x%llx, reason 0x%02x (%s); blocked\n",
		       vm->name, flt->reason >= 0x20 ? "interrupt fault" : "DMA fault", f->bdf >> 8, (f->bdf >> 3) & 31,
		       f->bdf & 7, f->vd.name, flt->reason >= 0x20 ? "interrupt index" : flt->read ? "read of" : "write to",
		       (unsigned long long)flt->addr, flt->reason, vtd_fault_reason_name(flt->reason));
	}
}

/* ---- creation ---- */
static const struct host_pci_dev *host_fn(u16 bdf)
{
	for (u32 i = 0; i < host_pci_count; i++)
		if (host_pci[i].seg == 0 && host_pci_bdf(&host_pci[i]) == bdf)
			return &host_pci[i];
	return NULL;
}

static struct vtd_domain *vm_domain(struct vm *vm, struct vtd_unit *u, char *err, size_t errlen)
{
	struct vtd_domain *dom = &pt_dom[vm->id][u->index];
	if (pt_dom_ok[vm->id][u->index])
		return dom;
	if (!vtd_domain_create(u, dom, (u16)(vm->id + 1)) || !vtd_domain_map_guest(dom, &vm->map, vm->ram_hpa)) {
		hv_snprintf(err, errlen, "vtd%u: no domain for its memory (out of memory)", u->index);
		return NULL;
	}
	pt_dom_ok[vm->id][u->index] = true;
	return dom;
}

/* ---- RMRRs ---- */
bool pci_passthru_reserve(struct vm *vm, u16 bdf, char *err, size_t errlen)
{
	int it = -1;
	const struct dmar_rmrr *r;
	while ((r = iommu_rmrr_next(0, bdf, &it))) {
		const struct gmap_entry *c;
		if (guest_map_reserve(&vm->map, r->base, r->limit + 1 - r->base, GMAP_RMRR, &c))
			continue;
		if (c)
			hv_snprintf(err, errlen,
				    "pci %02x:%02x.%u: RMRR 0x%llx-0x%llx overlaps its %s 0x%llx-0x%llx (IOVA = GPA: no room "
				    "for the 1:1 map)",
				    bdf >> 8, (bdf >> 3) & 31, bdf & 7, (unsigned long long)r->base,
				    (unsigned long long)r->limit, guest_map_kind_name(c->kind), (unsigned long long)c->base,
				    (unsigned long long)(c->base + c->size - 1));
		else
			hv_snprintf(err, errlen, "pci %02x:%02x.%u: its RMRR 0x%llx-0x%llx cannot be reserved (memory map full)",
				    bdf >> 8, (bdf >> 3) & 31, bdf & 7, (unsigned long long)r->base,
				    (unsigned long long)r->limit);
		return false;
	}
	return true;
}

/* Map the function's RMRRs 1:1 in the VM's domain (reserved in its map already). */
static bool rmrr_map(struct vm *vm, struct vtd_unit *u, struct vtd_domain *dom, u16 bdf, const char *id, char *err,
		     size_t errlen)
{
	int it = -1;
	const struct dmar_rmrr *r;
	bool any = false;
	while ((r = iommu_rmrr_next(0, bdf, &it))) {
		u64 clash;
		if (!vtd_domain_map_identity(dom, r->base, r->limit, &clash)) {
			if (clash == ~0ull)
				hv_snprintf(err, errlen, "pci %s: RMRR 0x%llx-0x%llx: beyond the domain's address width or out "
					    "of memory", id, (unsigned long long)r->base, (unsigned long long)r->limit);
			else
				hv_snprintf(err, errlen, "pci %s: RMRR 0x%llx-0x%llx: IOVA 0x%llx is the VM's memory", id,
					    (unsigned long long)r->base, (unsigned long long)r->limit,
					    (unsigned long long)clash);
			return false;
		}
		any = true;
		printk("vm %s: pci %s: RMRR 0x%llx-0x%llx identity-mapped in domain %u (IOVA = host address, read/write), "
		       "reserved in the guest's memory map\n",
		       vm->name, id, (unsigned long long)r->base, (unsigned long long)r->limit, dom->did);
	}
	/* Not-present to present needs no invalidation unless the unit caches not-present
	 * entries (CAP.CM, "Caching Mode"); the domain may be attached already. */
	if (any && (u->cap & VTD_CAP_CM))
		vtd_flush_iotlb_domain(u, dom->did);
	return true;
}

bool pci_passthru_create(struct vpci *p, u16 bdf, u8 devfn, char *err, size_t errlen)
{
	struct vm *vm = p->vm;
	char lerr[160];
	char id[16];
	hv_snprintf(id, sizeof(id), "%02x:%02x.%u", bdf >> 8, (bdf >> 3) & 31, bdf & 7);
	const struct host_pci_dev *h = host_fn(bdf);
	if (!h) {
		hv_snprintf(err, errlen, "pci %s: no such host PCI function (the boot scan found %u)", id, host_pci_count);
		return false;
	}
	for (u32 i = 0; i < pt_count; i++)
		if (pt_fns[i].bdf == bdf) {
			hv_snprintf(err, errlen, "pci %s: given to vm '%s' already", id, pt_fns[i].vd.vm->name);
			return false;
		}
	if (h->header != 0) {
		hv_snprintf(err, errlen, "pci %s: header type %u: only type 0 functions can be assigned", id, h->header);
		return false;
	}
	struct vtd_unit *u = iommu_unit_for(0, bdf);
	if (!u) {
		hv_snprintf(err, errlen, "pci %s: no DMA remapping unit covers it (%s)", id,
			    iommu_have_dmar ? "no DRHD of the DMAR lists it" : "no usable ACPI DMAR table");
		return false;
	}
	if (!(u->ecap & VTD_ECAP_IR) || !(u->ecap & VTD_ECAP_QI)) {
		hv_snprintf(err, errlen, "pci %s: its unit vtd%u offers no interrupt remapping with queued invalidation", id,
			    u->index);
		return false;
	}
	if (pt_pi_mode == SW_ON && !(u->cap & VTD_CAP_PI)) {
		hv_snprintf(err, errlen, "pci %s: vtd_pi=on but its unit vtd%u has no posted interrupts (CAP.PI = 0)", id,
			    u->index);
		return false;
	}
	u8 msi = host_pci_find_cap(h, PCI_CAP_ID_MSI);
	if (!msi) {
		hv_snprintf(err, errlen, "pci %s: no MSI capability (only MSI is offered to the guest)", id);
		return false;
	}
	if (pt_count >= PT_MAX) {
		hv_snprintf(err, errlen, "pci %s: more than %u assigned functions", id, PT_MAX);
		return false;
	}
	if (!u->enabled) {
		if (!vtd_unit_enable(u, lerr, sizeof(lerr))) {
			hv_snprintf(err, errlen, "pci %s: %s", id, lerr);
			return false;
		}
		iommu_fault_hook = pt_fault;
	}
	struct vtd_domain *dom = vm_domain(vm, u, lerr, sizeof(lerr));
	if (!dom) {
		hv_snprintf(err, errlen, "pci %s: %s", id, lerr);
		return false;
	}
	if (!rmrr_map(vm, u, dom, bdf, id, err, errlen))
		return false;
	struct pt_fn *f = &pt_fns[pt_count];
	memset(f, 0, sizeof(*f));
	f->h = h;
	f->bdf = bdf;
	f->unit = u;
	f->host_msi = msi;
	f->host_msi64 = hrd(f, msi + PCI_MSI_CTRL, 2) & PCI_MSI_CTRL_64BIT;
	struct pci_vdev *d = &f->vd;
	pci_vdev_init(d, vm, devfn, "assigned", &pt_ops, h->vendor, h->device, h->class);
	d->cfg[PCI_REVISION_ID] = (u8)hrd(f, PCI_REVISION_ID, 1);
	pci_cfg_set(d, PCI_SUBSYS_VENDOR_ID, 4, hrd(f, PCI_SUBSYS_VENDOR_ID, 4));
	d->cfg[PCI_INTERRUPT_PIN] = 0;   /* no INTx: MSI only */
	host_bars(f);
	f->irte = vtd_irte_alloc(u);
	f->host_vector = host_vector_alloc(0x40, 0xbf, "assigned MSI", pt_host_irq, f);
	if (f->irte < 0 || f->host_vector < 0 || !pci_msi_init(d, 1, true, false)) {
		hv_snprintf(err, errlen, "pci %s: no free %s", id,
			    f->irte < 0 ? "IRTE" : f->host_vector < 0 ? "host vector" : "capability space");
		return false;
	}
	/* Quiet until the guest enables it: no DMA, no MSI, no INTx. */
	host_msi_enable(f, false);
	hwr(f, PCI_COMMAND, 2, pt_host_command((u16)hrd(f, PCI_COMMAND, 2), 0, f->has_mem, f->has_io));
	if (!vtd_attach(u, dom, bdf)) {
		hv_snprintf(err, errlen, "pci %s: vtd%u: the context entry could not be set", id, u->index);
		return false;
	}
	if (!vpci_add(p, d)) {
		hv_snprintf(err, errlen, "pci %s: guest slot %u is taken", id, PCI_SLOT(devfn));
		return false;
	}
	pt_count++;
	vm->nr_assigned++;
	printk("vm %s: host PCI %s %04x:%04x assigned as 00:%02x.%u behind vtd%u (domain %u, IRTE %d, host vector 0x%02x), "
	       "MSI %s\n",
	       vm->name, id, h->vendor, h->device, PCI_SLOT(devfn), PCI_FUNC(devfn), u->index, dom->did, f->irte,
	       f->host_vector, posted_ok(f) ? "posted" : "remapped + injected");
	return true;
}
