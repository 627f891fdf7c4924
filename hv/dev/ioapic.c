/* SPDX-License-Identifier: MIT */
/*
 * The vIOAPIC (hv/irq/vioapic.c) on the bus: its 4 KiB MMIO page at GUEST_IOAPIC_BASE.
 * The range is lockless: the vIOAPIC has its own lock, which HC_IOAPIC_LINE and EOI
 * broadcasts take too and which it drops before it hands messages to the vLAPICs
 * (vlapic_deliver may post to, and kick, any vCPU); the device lock would add nothing.
 * Accesses the 82093AA does not take (8-byte, crossing a register) are refused.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/mm/guest_layout.h"
#include "hv/irq/vioapic.h"

_Static_assert(VIOAPIC_BASE == GUEST_IOAPIC_BASE, "the vIOAPIC sits where the guest layout puts it");

static enum io_result ioapic_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	struct vioapic *io = container_of(dev, struct vioapic, dev);
	if (!vioapic_access_valid(off, req->size))
		return IO_REFUSED;
	if (req->write)
		vioapic_mmio_write(io, off, req->size, (u32)req->value);
	else
		req->value = vioapic_mmio_read(io, off, req->size);
	return IO_DONE;
}

static const struct io_range_ops ioapic_ops = { ioapic_access };

/* With the VM's vCPUs stopped: back to the reset state, the same ID. */
static void ioapic_reset(struct vdev *dev)
{
	struct vioapic *io = container_of(dev, struct vioapic, dev);
	struct vdev keep = io->dev;
	vioapic_init(io, io->vm, io->id);
	io->dev = keep;
}

static void ioapic_destroy(struct vdev *dev)
{
	io_bus_unregister(dev->vm, IO_SPACE_MMIO, VIOAPIC_BASE, dev);
}

static const struct vdev_ops ioapic_vops = { ioapic_reset, ioapic_destroy };

bool ioapic_create(struct vm *vm, u32 id)
{
	struct vioapic *io = &vm->ioapic;
	vioapic_init(io, vm, id);
	io->dev.vm = vm;
	if (!io_bus_register(vm, IO_SPACE_MMIO, VIOAPIC_BASE, VIOAPIC_SIZE, &io->dev, &ioapic_ops, IO_RANGE_LOCKLESS))
		return false;
	vdev_add(vm, &io->dev, "IOAPIC", &ioapic_vops);
	return true;
}
