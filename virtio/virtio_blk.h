/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk PCI function (virtio/virtio_blk.c): a virtio 1.2 modern device (4.1
 * "Virtio Over PCI Bus", no legacy interface) on the VM's PCI bus at 00:03.0, backed by
 * a RAM disk (docs/INTERFACES.md, "virtio-blk").
 */
#ifndef VIRTIO_VIRTIO_BLK_H
#define VIRTIO_VIRTIO_BLK_H

#include "hv/lib/types.h"

struct vm;
struct vm_config;

#define VIRTIO_BLK_DEVFN_SLOT 3
#define VIRTIO_BLK_MAX_DISK GiB(1)

/* Create vm's disk from cfg (disk=, disk_ro=): image/image_len is the module's content
 * (NULL for disk=size:N). false with a message naming the problem. */
bool virtio_blk_create(struct vm *vm, const struct vm_config *cfg, const void *image, u64 image_len, char *err,
		       size_t errlen);
/* Two console lines of the device's counters, when vm has the device. */
void virtio_blk_print_stats(struct vm *vm);
/* The counters a measurement mark (hv/dev/mark.c) records, summed over the queues:
 * "requests=R kicks=K interrupts=I posted=P suppressed=S" in buf; 0 (buf untouched)
 * when vm has no disk, else the length written. */
size_t virtio_blk_format_counters(struct vm *vm, char *buf, size_t len);
/* iocpu=: requests of every disk are completed by CPU c (before the VMs are created);
 * iopoll_us=: a queue idle that long is no longer polled until its next kick (0: always
 * polled). */
struct cpu;
void virtio_blk_set_iocpu(struct cpu *c, u32 iopoll_us);
/* The I/O CPU's loop: poll the disks' queues, for ever (docs/INTERFACES.md). */
void virtio_blk_iocpu_loop(void) __noreturn;

#endif
