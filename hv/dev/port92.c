/* SPDX-License-Identifier: MIT */
/*
 * System Control Port A at I/O 0x92 (the PS/2 "fast A20 and reset" port):
 *   bit 1 (A20 gate): A20 is always enabled in a VM (guest-physical addresses are never
 *         wrapped at 1 MiB), so the bit reads 1 and writing 0 is ignored;
 *   bit 0 (fast reset): a write with bit 0 set is a 0 -> 1 transition (the bit always
 *         reads 0) and requests a reset of the machine: vm_reset_request()
 *         (hv/dev/reset.c; docs/INTERFACES.md, "Guest platform").
 * Other bits read 0. No state: the range is lockless, and the VM is stopped without a
 * lock held.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"

#define PORT92 0x92
#define PORT92_A20 BIT(1)
#define PORT92_RESET BIT(0)

static enum io_result port92_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)dev;
	(void)off;
	if (!req->write) {
		req->value = PORT92_A20;
		return IO_DONE;
	}
	if (req->value & PORT92_RESET)
		return vm_reset_request(v, "port 0x92", (unsigned)(req->value & 0xff));
	return IO_DONE;
}

static const struct io_range_ops port92_ops = { port92_access };

static void port92_destroy(struct vdev *dev)
{
	io_bus_unregister(dev->vm, IO_SPACE_PORT, PORT92, dev);
}

static const struct vdev_ops port92_vops = { NULL, port92_destroy };

bool port92_create(struct vm *vm)
{
	if (!io_bus_register(vm, IO_SPACE_PORT, PORT92, 1, &vm->port92_dev, &port92_ops, IO_RANGE_LOCKLESS))
		return false;
	vdev_add(vm, &vm->port92_dev, "port 0x92", &port92_vops);
	return true;
}
