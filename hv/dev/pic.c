/* SPDX-License-Identifier: MIT */
/*
 * The 8259 pair and its ELCR (hv/irq/vpic.c) on the bus: three 2-byte port ranges,
 * 0x20-0x21, 0xa0-0xa1 and 0x4d0-0x4d1. The registers are byte-wide: an access of any
 * width is taken byte by byte, byte i at port + i, as the ISA bus splits it; the bytes
 * of a wider access that fall outside the ranges never get here (the bus sends them
 * to their own port, hv/io/bus.h). Registers are touched only under the device lock.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/irq/vpic.h"
#include "hv/lib/lib.h"

static const u16 pic_ranges[] = { VPIC_MASTER_CMD, VPIC_SLAVE_CMD, VPIC_ELCR_MASTER };

static enum io_result pic_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	(void)off;
	struct vpic *p = container_of(dev, struct vpic, dev);
	u64 r = 0;
	for (unsigned i = 0; i < req->size; i++) {
		u16 port = (u16)(req->addr + i);
		if (req->write)
			vpic_write(p, port, (u8)(req->value >> (8 * i)));
		else
			r |= (u64)vpic_read(p, port) << (8 * i);
	}
	if (!req->write)
		req->value = r;
	return IO_DONE;
}

static const struct io_range_ops pic_ops = { pic_access };

static void pic_reset(struct vdev *dev)
{
	u64 f = spin_lock_irqsave(&dev->lock);
	vpic_init(container_of(dev, struct vpic, dev));
	spin_unlock_irqrestore(&dev->lock, f);
}

static void pic_destroy(struct vdev *dev)
{
	for (unsigned i = 0; i < ARRAY_SIZE(pic_ranges); i++)
		io_bus_unregister(dev->vm, IO_SPACE_PORT, pic_ranges[i], dev);
}

static const struct vdev_ops pic_vops = { pic_reset, pic_destroy };

bool vpic_create(struct vm *vm)
{
	struct vpic *p = &vm->pic;
	memset(p, 0, sizeof(*p));
	p->dev.vm = vm;
	vpic_init(p);
	for (unsigned i = 0; i < ARRAY_SIZE(pic_ranges); i++)
		if (!io_bus_register(vm, IO_SPACE_PORT, pic_ranges[i], 2, &p->dev, &pic_ops, 0))
			return false;
	vdev_add(vm, &p->dev, "8259", &pic_vops);
	return true;
}
