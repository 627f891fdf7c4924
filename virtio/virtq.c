/* SPDX-License-Identifier: MIT */
/*
 * The device side of a split virtqueue (virtio/virtq.h; virtio 1.2, 2.7 "Split
 * Virtqueues"). Pure: guest memory through struct vq_mem only.
 *
 * Ordering. The driver publishes a buffer by writing the descriptors and the ring entry,
 * then the available index (2.7.13.3 "Updating idx": "the driver performs a suitable
 * memory barrier before the idx update"); the device reads the index with acquire
 * semantics and only then the entry and the descriptors. The device writes the used
 * element, then releases the used index. Before it decides whether to notify, it needs
 * a full barrier: its used-index store and its load of used_event (or avail->flags)
 * are a store followed by a load of another location, the one pair x86 reorders, and
 * the driver does the mirror image (writes used_event, then reads the used index). The
 * same holds for avail_event against the available index (vq_rearm).
 */
#include "virtio/virtq.h"

#define ACCESS(x) (*(volatile __typeof__(x) *)&(x))

static const char *const vq_err_names[NR_VQ_ERR] = {
	[VQ_OK] = "ok",
	[VQ_ERR_AVAIL_IDX] = "available index more than the queue size ahead",
	[VQ_ERR_HEAD] = "head index out of range",
	[VQ_ERR_NEXT] = "next index out of range",
	[VQ_ERR_LOOP] = "descriptor loop",
	[VQ_ERR_TOO_LONG] = "chain longer than 256 descriptors",
	[VQ_ERR_INDIRECT_NEXT] = "INDIRECT together with NEXT",
	[VQ_ERR_INDIRECT_NESTED] = "INDIRECT inside an indirect table",
	[VQ_ERR_INDIRECT_FEATURE] = "INDIRECT without the negotiated feature",
	[VQ_ERR_INDIRECT_LEN] = "indirect table length not a non-zero multiple of 16",
	[VQ_ERR_INDIRECT_ADDR] = "indirect table outside guest RAM",
};

static const char *const vq_seg_err_names[NR_VQ_SEG_ERR] = {
	[VQ_SEG_OK] = "ok",
	[VQ_SEG_ZERO_LEN] = "zero-length descriptor",
	[VQ_SEG_HUGE] = "descriptor longer than 4 MiB",
	[VQ_SEG_UNMAPPED] = "buffer outside guest RAM",
	[VQ_SEG_ORDER] = "device-readable descriptor after a device-writable one",
};

const char *vq_err_name(enum vq_err e)
{
	return (unsigned)e < NR_VQ_ERR ? vq_err_names[e] : "?";
}

const char *vq_seg_err_name(enum vq_seg_err e)
{
	return (unsigned)e < NR_VQ_SEG_ERR ? vq_seg_err_names[e] : "?";
}

/* The avail_event / used_event words after the rings (2.7.6, 2.7.8). */
static volatile u16 *used_event(struct vq *q)
{
	return &q->avail->ring[q->size];
}

static volatile u16 *avail_event(struct vq *q)
{
	return (volatile u16 *)((volatile u8 *)q->used + 4 + 8ull * q->size);
}

bool vq_attach(struct vq *q, const struct vq_mem *m, u16 size, u64 desc, u64 avail, u64 used, bool event_idx,
	       bool indirect, const char **why)
{
	*why = NULL;
	if (!size || size > VQ_MAX_SIZE || (size & (size - 1)))
		*why = "queue size not a power of two from 1 to 256";
	else if ((desc & 15) || (avail & 1) || (used & 3))
		*why = "ring area misaligned (descriptors 16, available 2, used 4)";
	if (*why)
		return false;
	void *d = m->map(m->ctx, desc, VIRTQ_DESC_BYTES(size));
	void *a = m->map(m->ctx, avail, VIRTQ_AVAIL_BYTES(size));
	void *u = m->map(m->ctx, used, VIRTQ_USED_BYTES(size));
	if (!d || !a || !u) {
		*why = "ring area outside guest RAM";
		return false;
	}
	*q = (struct vq){
		.size = size,
		.event_idx = event_idx,
		.indirect = indirect,
		.desc = d,
		.avail = a,
		.used = u,
	};
	/* The device starts where a reset driver starts: both indexes 0 (2.7.8: the used
	 * ring's idx "starts at 0"). */
	q->used_idx = 0;
	ACCESS(q->used->idx) = 0;
	ACCESS(q->used->flags) = 0;
	ACCESS(*avail_event(q)) = 0;
	return true;
}

/* Append one buffer to the chain, noting the first per-buffer problem. */
static void add_seg(const struct vq_mem *m, struct vq_chain *c, u64 addr, u32 len, u16 flags, bool *seen_write)
{
	struct vq_seg *s = &c->seg[c->nsegs];
	enum vq_seg_err e = VQ_SEG_OK;
	s->gpa = addr;
	s->len = len;
	s->write = flags & VIRTQ_DESC_F_WRITE;
	s->hva = NULL;
	if (!len)
		e = VQ_SEG_ZERO_LEN;
	else if (len > VQ_MAX_SEG_BYTES)
		e = VQ_SEG_HUGE;
	else if (!(s->hva = m->map(m->ctx, addr, len)))
		e = VQ_SEG_UNMAPPED;
	else if (!s->write && *seen_write)
		e = VQ_SEG_ORDER;
	if (s->write)
		*seen_write = true;
	if (e != VQ_SEG_OK) {
		s->hva = NULL;
		if (c->err == VQ_SEG_OK) {
			c->err = e;
			c->err_seg = c->nsegs;
		}
	}
	c->nsegs++;
}

/* Walk the indirect table of descriptor d (2.7.5.3 "Indirect Descriptors"). */
static enum vq_err walk_indirect(struct vq *q, const struct vq_mem *m, struct vq_chain *c, u64 addr, u32 len,
				 bool *seen_write, u32 *err_desc)
{
	if (!q->indirect)
		return VQ_ERR_INDIRECT_FEATURE;
	if (!len || (len & 15))
		return VQ_ERR_INDIRECT_LEN;
	u32 n = len / 16;
	if (n > VQ_MAX_CHAIN - c->nsegs)
		return VQ_ERR_TOO_LONG;
	/* The spec sets no alignment for a table: read its entries as bytes. */
	const u8 *t = m->map(m->ctx, addr, len);
	if (!t)
		return VQ_ERR_INDIRECT_ADDR;
	/* Within a table, n <= VQ_MAX_CHAIN entries: a bitmap finds loops. */
	u32 seen[VQ_MAX_CHAIN / 32] = { 0 };
	u32 i = 0;
	for (;;) {
		*err_desc = i;
		if (seen[i / 32] & BIT(i % 32))
			return VQ_ERR_LOOP;
		seen[i / 32] |= BIT(i % 32);
		struct virtq_desc d;
		__builtin_memcpy(&d, t + 16ull * i, sizeof(d));
		__atomic_signal_fence(__ATOMIC_SEQ_CST);   /* one copy, then only the copy */
		/* "The device MUST ignore the write-only flag (flags&VIRTQ_DESC_F_WRITE) in
		 * the descriptor that refers to an indirect table"; inside the table an
		 * INDIRECT flag is forbidden. */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return VQ_ERR_INDIRECT_NESTED;
		if (c->nsegs >= VQ_MAX_CHAIN)
			return VQ_ERR_TOO_LONG;
		add_seg(m, c, d.addr, d.len, d.flags, seen_write);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VQ_OK;
		if (d.next >= n)
			return VQ_ERR_NEXT;
		i = d.next;
	}
}

enum vq_pop_result vq_pop(struct vq *q, const struct vq_mem *m, struct vq_chain *c, enum vq_err *err,
			  u32 *err_desc)
{
	u16 avail_idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	u16 pending = (u16)(avail_idx - q->last_avail);
	*err = VQ_OK;
	*err_desc = 0;
	if (!pending)
		return VQ_EMPTY;
	if (pending > q->size) {
		*err = VQ_ERR_AVAIL_IDX;
		*err_desc = avail_idx;
		return VQ_BROKEN;
	}
	u16 head = ACCESS(q->avail->ring[q->last_avail & (q->size - 1)]);
	q->last_avail++;
	c->head = head;
	c->nsegs = 0;
	c->err = VQ_SEG_OK;
	c->err_seg = 0;
	*err_desc = head;
	if (head >= q->size) {
		*err = VQ_ERR_HEAD;
		return VQ_BROKEN;
	}
	for (u32 w = 0; w < ARRAY_SIZE(q->visited); w++)
		q->visited[w] = 0;
	bool seen_write = false;
	u16 i = head;
	for (;;) {
		*err_desc = i;
		if (q->visited[i / 32] & BIT(i % 32)) {
			*err = VQ_ERR_LOOP;
			return VQ_BROKEN;
		}
		q->visited[i / 32] |= BIT(i % 32);
		struct virtq_desc d = { .addr = ACCESS(q->desc[i].addr), .len = ACCESS(q->desc[i].len),
					.flags = ACCESS(q->desc[i].flags), .next = ACCESS(q->desc[i].next) };
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: "The driver MUST NOT set both VIRTQ_DESC_F_INDIRECT and
			 * VIRTQ_DESC_F_NEXT in flags." */
			if (d.flags & VIRTQ_DESC_F_NEXT) {
				*err = VQ_ERR_INDIRECT_NEXT;
				return VQ_BROKEN;
			}
			u32 sub = 0;
			*err = walk_indirect(q, m, c, d.addr, d.len, &seen_write, &sub);
			if (*err != VQ_OK) {
				*err_desc = sub;
				return VQ_BROKEN;
			}
			return VQ_CHAIN;
		}
		if (c->nsegs >= VQ_MAX_CHAIN) {
			*err = VQ_ERR_TOO_LONG;
			return VQ_BROKEN;
		}
		add_seg(m, c, d.addr, d.len, d.flags, &seen_write);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VQ_CHAIN;
		if (d.next >= q->size) {
			*err = VQ_ERR_NEXT;
			return VQ_BROKEN;
		}
		i = d.next;
	}
}

void vq_push(struct vq *q, u16 head, u32 len)
{
	volatile struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
	e->id = head;
	e->len = len;
	q->used_idx++;
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

bool vq_need_notify(struct vq *q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	u16 old = q->signalled, now = q->used_idx;
	bool valid = q->signalled_valid;
	q->signalled = now;
	q->signalled_valid = true;
	if (!q->event_idx)
		return !(ACCESS(q->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	/* 2.7.7.2: with EVENT_IDX the device "MUST ignore the lower bit of flags" and
	 * notifies when the used index passed used_event. Before any decision there is no
	 * "old" index to compare with: notify. */
	if (!valid)
		return true;
	return virtq_need_event(ACCESS(*used_event(q)), now, old);
}

bool vq_rearm(struct vq *q)
{
	if (q->event_idx) {
		ACCESS(*avail_event(q)) = q->last_avail;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) != q->last_avail;
}

void vq_defer(struct vq *q)
{
	if (q->event_idx) {
		ACCESS(*avail_event(q)) = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
}

void vq_poll_mode(struct vq *q)
{
	if (q->event_idx)
		ACCESS(*avail_event(q)) = (u16)(q->last_avail + 0x8000u);
	else
		ACCESS(q->used->flags) = VIRTQ_USED_F_NO_NOTIFY;
}

bool vq_notify_on(struct vq *q)
{
	if (q->event_idx)
		ACCESS(*avail_event(q)) = q->last_avail;
	else
		ACCESS(q->used->flags) = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) != q->last_avail;
}
