/* SPDX-License-Identifier: MIT */
/*
 * QEMU's isa-debug-exit at port 0xf4, 4 ports wide as tools/hvrun configures QEMU
 * (iobase=0xf4, iosize=4): a write of V at 0xf4, of any width, stops the VM with
 * status (V << 1) | 1 (docs/INTERFACES.md, "Exit status"). Reads and writes at
 * 0xf5-0xf7 behave as unassigned ports (all ones; dropped). No state: the range is
 * lockless, and the VM is stopped (which flushes the UART) without a lock held.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_LEN 4

static enum io_result debug_exit_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)dev;
	if (!req->write) {
		req->value = ~0ull;
		return IO_DONE;
	}
	if (off)
		return IO_DONE;
	u32 value = (u32)(req->value & (0xffffffffu >> (32 - 8 * MIN(req->size, 4))));
	vm_stop(v->vm, (int)(((value << 1) | 1) & 0xff), true, value, "debug-exit port 0xf4 written with 0x%x", value);
	return IO_STOPPED;
}

static const struct io_range_ops debug_exit_ops = { debug_exit_access };

static void debug_exit_destroy(struct vdev *dev)
{
	io_bus_unregister(dev->vm, IO_SPACE_PORT, DEBUG_EXIT_PORT, dev);
}

static const struct vdev_ops debug_exit_vops = { NULL, debug_exit_destroy };

bool debug_exit_create(struct vm *vm)
{
	if (!io_bus_register(vm, IO_SPACE_PORT, DEBUG_EXIT_PORT, DEBUG_EXIT_LEN, &vm->debug_exit_dev, &debug_exit_ops,
			     IO_RANGE_LOCKLESS))
		return false;
	vdev_add(vm, &vm->debug_exit_dev, "debug-exit", &debug_exit_vops);
	return true;
}
