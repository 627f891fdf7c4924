/* SPDX-License-Identifier: MIT */
/*
 * The device side of a split virtqueue (virtio 1.2, 2.7 "Split Virtqueues"): taking
 * descriptor chains from the available ring, returning them on the used ring, and the
 * notification suppression of both directions (2.7.7 "Used Buffer Notification
 * Suppression", 2.7.10 "Available Buffer Notification Suppression").
 *
 * Pure: no VMCS, no asm, no hypervisor state. Guest memory is reached only through the
 * struct vq_mem callback, which returns a host pointer for a guest-physical range that
 * lies wholly in guest RAM, else NULL (the hypervisor passes gpa_to_hva; the unit tests
 * and the fuzzer a bounded buffer). Unit-tested (tests/unit/test_virtq.c) and fuzzed
 * (tests/fuzz/).
 *
 * Nothing the driver writes is trusted. Every descriptor is copied once before it is
 * checked and used (the driver may rewrite it meanwhile), every index is range-checked,
 * every walk is bounded. Two tiers of driver mistakes:
 *  - the queue's structure is broken (vq_pop returns VQ_BROKEN and a vq_err): the
 *    available index more than the queue size ahead, a head or next index out of range,
 *    a loop, a chain longer than VQ_MAX_CHAIN, INDIRECT with NEXT, INDIRECT inside an
 *    indirect table, INDIRECT without the negotiated feature, an indirect table of a bad
 *    size or outside RAM. The device cannot tell which buffers belong to which request
 *    any more: it must be reset (VIRTIO_STATUS_NEEDS_RESET).
 *  - a buffer is bad but the chain is sound (vq_pop returns VQ_CHAIN with c->err set):
 *    a zero-length descriptor, one longer than VQ_MAX_SEG_BYTES, one not wholly in guest
 *    RAM (outside it, or over MMIO), a device-readable descriptor after a device-writable
 *    one (2.7.4.2: "The driver MUST place any device-writable descriptor elements after
 *    any device-readable descriptor elements"). The request fails with a status.
 */
#ifndef VIRTIO_VIRTQ_H
#define VIRTIO_VIRTQ_H

#include "hv/lib/types.h"
#include "virtio/virtio.h"

#define VQ_MAX_SIZE 256            /* the largest queue the device offers (queue_size) */
#define VQ_MAX_CHAIN 256           /* descriptors of one chain in all, direct and indirect */
#define VQ_MAX_SEG_BYTES MiB(4)    /* one descriptor's buffer (the device's size_max) */

struct vq_mem {
	/* A host pointer for guest-physical [gpa, gpa + len), or NULL when the range is not
	 * wholly in guest RAM. */
	void *(*map)(void *ctx, u64 gpa, u64 len);
	void *ctx;
};

/* Why a queue is broken (VQ_BROKEN). */
enum vq_err {
	VQ_OK,
	VQ_ERR_AVAIL_IDX,          /* available index more than the queue size ahead */
	VQ_ERR_HEAD,               /* head index >= queue size */
	VQ_ERR_NEXT,               /* next index outside the table */
	VQ_ERR_LOOP,               /* a descriptor reached twice */
	VQ_ERR_TOO_LONG,           /* more than VQ_MAX_CHAIN descriptors */
	VQ_ERR_INDIRECT_NEXT,      /* INDIRECT together with NEXT */
	VQ_ERR_INDIRECT_NESTED,    /* INDIRECT inside an indirect table */
	VQ_ERR_INDIRECT_FEATURE,   /* INDIRECT without VIRTIO_F_RING_INDIRECT_DESC */
	VQ_ERR_INDIRECT_LEN,       /* table length 0 or not a multiple of 16 */
	VQ_ERR_INDIRECT_ADDR,      /* table not wholly in guest RAM */
	NR_VQ_ERR,
};

/* What is wrong with a buffer of a sound chain (the first such, in chain order). */
enum vq_seg_err {
	VQ_SEG_OK,
	VQ_SEG_ZERO_LEN,           /* len 0 */
	VQ_SEG_HUGE,               /* len > VQ_MAX_SEG_BYTES */
	VQ_SEG_UNMAPPED,           /* not wholly in guest RAM (outside it, or over MMIO) */
	VQ_SEG_ORDER,              /* device-readable after device-writable */
	NR_VQ_SEG_ERR,
};

struct vq_seg {
	u64 gpa;
	u8 *hva;                   /* NULL when the buffer is bad */
	u32 len;
	bool write;                /* device-writable */
};

/* One descriptor chain as vq_pop found it. */
struct vq_chain {
	u16 head;
	u32 nsegs;
	enum vq_seg_err err;       /* the first bad buffer, VQ_SEG_OK if none */
	u32 err_seg;               /* its index in seg[] */
	struct vq_seg seg[VQ_MAX_CHAIN];
};

struct vq {
	u16 size;                  /* entries (a power of two, <= VQ_MAX_SIZE) */
	bool event_idx;            /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;             /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	u16 last_avail;            /* the next available-ring entry the device takes */
	u16 used_idx;              /* the device's copy of used->idx */
	u16 signalled;             /* used_idx at the last notification decision */
	bool signalled_valid;      /* no decision made yet: the first one notifies */
	u32 visited[VQ_MAX_SIZE / 32];   /* walk scratch: descriptors of this chain */
};

/* Attach a queue of size entries with its three areas at the given guest-physical
 * addresses. false (and *err) when size is not a power of two in 1..VQ_MAX_SIZE
 * (VQ_ERR_HEAD), an area is misaligned (2.7: descriptor table 16, available ring 2,
 * used ring 4) or not wholly in guest RAM (VQ_ERR_INDIRECT_ADDR is not used here: the
 * caller reports *why). */
bool vq_attach(struct vq *q, const struct vq_mem *m, u16 size, u64 desc, u64 avail, u64 used, bool event_idx,
	       bool indirect, const char **why);

enum vq_pop_result { VQ_CHAIN, VQ_EMPTY, VQ_BROKEN };
/* Take the next available chain into *c. VQ_BROKEN sets *err (and *err_desc, the
 * descriptor index concerned). At most VQ_MAX_CHAIN descriptors are read. */
enum vq_pop_result vq_pop(struct vq *q, const struct vq_mem *m, struct vq_chain *c, enum vq_err *err,
			  u32 *err_desc);
/* Return chain head with len bytes written: the used element is written before the
 * used index is released (2.7.8 "The Virtqueue Used Ring": the device sets len "prior to
 * updating the used idx"). */
void vq_push(struct vq *q, u16 head, u32 len);
/* After one or more vq_push: must the driver be notified (an interrupt)? With
 * EVENT_IDX: when used_event lies among the entries added since the last decision;
 * without: unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT. Full barrier first: the
 * used index store must be visible before the driver's used_event is read. */
bool vq_need_notify(struct vq *q);
/* The available ring is empty: with EVENT_IDX publish avail_event = last_avail (the
 * driver notifies when it adds the next buffer), full barrier, then look again: true
 * when more buffers arrived meanwhile (the caller pops again). */
bool vq_rearm(struct vq *q);
/* The device gives up processing with buffers still available (its budget for one
 * notification is spent): avail_event = the current available index, so that the
 * driver's next buffer notifies again. */
void vq_defer(struct vq *q);

/* The device polls the queue (an I/O CPU, iocpu=) and asks for no notification: with
 * EVENT_IDX avail_event is put half the index space away from last_avail, where no
 * batch of the driver's (at most the queue size) can reach it; without, the used ring's
 * VIRTQ_USED_F_NO_NOTIFY flag is set (2.7.10 "Available Buffer Notification
 * Suppression": both are only hints; a notification that still comes is harmless). */
void vq_poll_mode(struct vq *q);

/* The device stops polling (iopoll_us=): available-buffer notifications are asked for
 * again (with EVENT_IDX avail_event = last_avail, else VIRTQ_USED_F_NO_NOTIFY cleared),
 * full barrier, then the available index is read again: true when buffers arrived
 * before the driver could see the request (2.7.10: the driver reads avail_event or
 * flags only after publishing its index), so the caller keeps polling; false: the
 * driver's next buffer notifies. */
bool vq_notify_on(struct vq *q);

const char *vq_err_name(enum vq_err e);
const char *vq_seg_err_name(enum vq_seg_err e);

#endif
