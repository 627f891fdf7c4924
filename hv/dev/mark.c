/* SPDX-License-Identifier: MIT */
/*
 * The measurement mark port, I/O 0x5ec (docs/INTERFACES.md, "Guest platform"): a
 * guest's write of a byte V prints the VM's counters at that moment,
 *
 *     mark vm=NAME value=V tsc=T exits=N REASON=COUNT ...; virtio-blk requests=R kicks=K interrupts=I posted=P suppressed=S
 *
 * (from "; virtio-blk" only when the VM has a virtio-blk disk; one line, so that
 * marks written at once on two vCPUs cannot mix their parts), so that a benchmark can
 * take the counters of one stretch of guest work (tools/bench-linux-io: one fio job)
 * as the difference of two marks. T is the host TSC (the rate of the guest's); the
 * exits are summed over the VM's vCPUs as the summary line sums them (those of other
 * vCPUs read while they run: a count may lag by the exits in progress). Reads return
 * all ones. The lines are guest-caused console output, limited as vm_log limits it.
 * No state: the range is lockless.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/dev/mark.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "virtio/virtio_blk.h"
#include "arch/x86/x86.h"

static enum io_result mark_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)dev;
	(void)off;
	if (!req->write) {
		req->value = ~0ull;
		return IO_DONE;
	}
	struct vm *vm = v->vm;
	u64 tsc = rdtsc();
	u32 value = (u32)(req->value & 0xff);   /* one port: a wider write arrives byte by byte */
	if (!vm_log_allow(vm))
		return IO_DONE;
	u64 by[NR_EXIT_REASONS];
	u64 total = vm_exits_by_reason(vm, by);
	char blk[160], line[480];
	if (!virtio_blk_format_counters(vm, blk + 11, sizeof(blk) - 11))
		blk[0] = '\0';
	else
		memcpy(blk, "virtio-blk ", 11);
	mark_format(line, sizeof(line), vm->name, value, tsc, total, by, NR_EXIT_REASONS, exit_reason_name, blk);
	printk("%s\n", line);
	return IO_DONE;
}

static const struct io_range_ops mark_ops = { mark_access };

static void mark_destroy(struct vdev *dev)
{
	io_bus_unregister(dev->vm, IO_SPACE_PORT, MARK_PORT, dev);
}

static const struct vdev_ops mark_vops = { NULL, mark_destroy };

bool mark_create(struct vm *vm)
{
	if (!io_bus_register(vm, IO_SPACE_PORT, MARK_PORT, 1, &vm->mark_dev, &mark_ops, IO_RANGE_LOCKLESS))
		return false;
	vdev_add(vm, &vm->mark_dev, "mark", &mark_vops);
	return true;
}
