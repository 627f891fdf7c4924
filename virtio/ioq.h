/* SPDX-License-Identifier: MIT */
/*
 * The hand-off between a virtio-blk device's queues and the I/O CPU that completes
 * their requests (iocpu=, virtio/virtio_blk.c). Pure: no hypervisor state; unit-tested
 * (tests/unit/test_ioq.c).
 *
 *  - doorbell: a notification (the driver's write to the notify region, a VM exit on
 *    the vCPU's CPU) sets its queue's bit; the I/O CPU takes all bits at once with an
 *    atomic exchange. The I/O CPU also polls every queue, so a bit only says "look
 *    first"; none can be lost, none makes the exit wait for the I/O CPU.
 *  - in-flight FIFO: a request the I/O CPU has executed but not yet returned, with the
 *    tick at which its modelled device latency (disk_latency=) ends. One latency per
 *    disk, so due ticks are in FIFO order; the FIFO holds at most a queue's worth.
 */
#ifndef VIRTIO_IOQ_H
#define VIRTIO_IOQ_H

#include "hv/lib/types.h"

#define IOQ_MAX 256   /* = VQ_MAX_SIZE: a queue cannot have more chains outstanding */

struct ioq_doorbell {
	u32 bits;         /* queue q: bit q */
};

static inline void ioq_ring(struct ioq_doorbell *d, u32 q)
{
	__atomic_fetch_or(&d->bits, 1u << (q & 31), __ATOMIC_RELEASE);
}

/* Every bit rung since the last take. */
static inline u32 ioq_take(struct ioq_doorbell *d)
{
	return __atomic_exchange_n(&d->bits, 0, __ATOMIC_ACQUIRE);
}

struct ioq_req {
	u16 head;         /* the chain's head descriptor */
	u32 len;          /* bytes written into the chain's buffers */
	u64 due;          /* tick at which it completes */
};

struct ioq_fifo {
	u32 first, count;
	struct ioq_req r[IOQ_MAX];
};

static inline void ioq_init(struct ioq_fifo *f)
{
	f->first = f->count = 0;
}

/* Append; false when the FIFO is full (the caller stops taking requests). */
bool ioq_put(struct ioq_fifo *f, u16 head, u32 len, u64 due);
/* The oldest request when it is due at now (*out), else false. */
bool ioq_peek_due(const struct ioq_fifo *f, u64 now, struct ioq_req *out);
/* Remove the oldest request (after ioq_peek_due). */
void ioq_pop(struct ioq_fifo *f);

#endif
