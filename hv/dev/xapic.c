/* SPDX-License-Identifier: MIT */
/*
 * The local APICs' xAPIC MMIO page at GUEST_LAPIC_BASE on the bus (Intel SDM Vol. 3A,
 * "Local APIC Register Address Map": 32-bit registers on 16-byte boundaries). One
 * range serves every vCPU: an access goes to the accessing vCPU's own vLAPIC. The
 * range is lockless: a vLAPIC's registers are written only by its own vCPU (other
 * CPUs post into its PIR, hv/irq/vlapic.c), so a device lock would serialise the vCPUs of
 * a VM for nothing. It is reached from EPT violations without APICv and from
 * APIC-access exits with it, both dispatched directly (arch/x86/vmx/mmio.c,
 * vmx_xapic_emulate). A globally disabled APIC (IA32_APIC_BASE.EN = 0, "Local APIC
 * Status and Location") or one in x2APIC mode does not answer at its MMIO page: the
 * page is unbacked there, reads return all ones and writes are dropped, of any size,
 * as for an unassigned port.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/mm/guest_layout.h"
#include "arch/x86/apic_regs.h"

_Static_assert(APIC_DEFAULT_BASE == GUEST_LAPIC_BASE, "the xAPIC page sits where the guest layout puts it");

static enum io_result xapic_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)dev;
	if (!vlapic_hw_enabled(&v->lapic) || vlapic_x2apic(&v->lapic)) {
		if (!req->write)
			req->value = ~0ull;
		return IO_DONE;
	}
	if (req->size != 4 || (off & 0xf))
		return IO_REFUSED;
	if (!req->write) {
		u64 val;
		req->value = vlapic_read(v, (u32)off, &val) ? val : 0;
		return IO_DONE;
	}
	/* Without APICv the page is ours to update: store, then act. */
	if (!v->vm->apicv && off != APIC_ID && off != APIC_EOI && off != APIC_ICR && off != APIC_ESR && off != APIC_TMICT &&
	    off != APIC_SVR && off != APIC_LDR && off != APIC_DFR && off != APIC_TPR &&
	    !(off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR) && off != APIC_ICR2 && off != APIC_TDCR)
		return IO_DONE;   /* read-only or reserved: ignored in xAPIC mode */
	vlapic_write(v, (u32)off, req->value);
	return IO_DONE;
}

const struct io_range_ops xapic_mmio_ops = { xapic_access };

static void xapic_destroy(struct vdev *dev)
{
	io_bus_unregister(dev->vm, IO_SPACE_MMIO, GUEST_LAPIC_BASE, dev);
}

static const struct vdev_ops xapic_vops = { NULL, xapic_destroy };

bool xapic_create(struct vm *vm)
{
	if (!io_bus_register(vm, IO_SPACE_MMIO, GUEST_LAPIC_BASE, PAGE_SIZE, &vm->xapic_dev, &xapic_mmio_ops,
			     IO_RANGE_LOCKLESS))
		return false;
	vdev_add(vm, &vm->xapic_dev, "local APIC", &xapic_vops);
	return true;
}
