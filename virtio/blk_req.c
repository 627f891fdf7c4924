/* SPDX-License-Identifier: MIT */
/* virtio-blk requests on a RAM disk (virtio/blk_req.h; virtio 1.2, 5.2.6 "Device
 * Operation"). Pure. */
#include "virtio/blk_req.h"

static const char *const blk_err_names[NR_BLK_ERR] = {
	[BLK_OK] = "ok",
	[BLK_ERR_SEG] = "bad buffer",
	[BLK_ERR_HEADER] = "header shorter than 16 bytes",
	[BLK_ERR_ALIGN] = "data not a multiple of 512 bytes",
	[BLK_ERR_RANGE] = "sectors beyond the capacity",
	[BLK_ERR_RO] = "write to a read-only disk",
	[BLK_ERR_DIRECTION] = "data in the wrong direction for the request type",
	[BLK_ERR_FLUSH_DATA] = "flush with data",
	[BLK_ERR_DISCARD] = "bad discard/write-zeroes segments",
	[BLK_ERR_TYPE] = "unsupported request type",
	[BLK_ERR_NO_STATUS] = "no usable status byte",
};

const char *blk_err_name(enum blk_err e)
{
	return (unsigned)e < NR_BLK_ERR ? blk_err_names[e] : "?";
}

/* One direction of the chain: segments [first, first + n) as a byte stream of len bytes. */
struct stream {
	const struct vq_seg *seg;
	u32 n;
	u64 len;
};

/* Copy len bytes at offset off of the stream into / out of buf. The caller checked
 * off + len <= s->len and that every segment is mapped. */
static void stream_copy(const struct stream *s, u64 off, u8 *buf, u64 len, bool to_stream)
{
	for (u32 i = 0; i < s->n && len; i++) {
		u64 sl = s->seg[i].len;
		if (off >= sl) {
			off -= sl;
			continue;
		}
		u64 k = MIN(sl - off, len);
		if (to_stream)
			__builtin_memcpy(s->seg[i].hva + off, buf, k);
		else
			__builtin_memcpy(buf, s->seg[i].hva + off, k);
		buf += k;
		len -= k;
		off = 0;
	}
}

static bool range_ok(const struct blk_disk *d, u64 sector, u64 count)
{
	return sector <= d->sectors && count <= d->sectors - sector;
}

/* DISCARD / WRITE_ZEROES: the readable data is an array of 16-byte segments. */
static u8 discard_zeroes(struct blk_disk *d, const struct stream *rd, u32 type, enum blk_err *err)
{
	u64 bytes = rd->len - sizeof(struct virtio_blk_req_hdr);
	if (!bytes || bytes % sizeof(struct virtio_blk_discard_write_zeroes) ||
	    bytes / sizeof(struct virtio_blk_discard_write_zeroes) > BLK_MAX_DISCARD_SEGS) {
		*err = BLK_ERR_DISCARD;
		return VIRTIO_BLK_S_IOERR;
	}
	u32 n = (u32)(bytes / sizeof(struct virtio_blk_discard_write_zeroes));
	for (u32 i = 0; i < n; i++) {
		struct virtio_blk_discard_write_zeroes s;
		stream_copy(rd, sizeof(struct virtio_blk_req_hdr) + i * sizeof(s), (u8 *)&s, sizeof(s), false);
		/* 5.2.6.2: for a discard "the device MUST set the status byte to
		 * VIRTIO_BLK_S_UNSUPP" when the unmap flag is set; other flag bits are
		 * reserved. */
		if ((type == VIRTIO_BLK_T_DISCARD && s.flags) || (s.flags & ~1u)) {
			*err = BLK_ERR_TYPE;
			return VIRTIO_BLK_S_UNSUPP;
		}
		if (!range_ok(d, s.sector, s.num_sectors)) {
			*err = BLK_ERR_RANGE;
			return VIRTIO_BLK_S_IOERR;
		}
		/* A RAM disk: discarded sectors read back as zeroes, like written zeroes. */
		__builtin_memset(d->data + s.sector * VIRTIO_BLK_SECTOR_SIZE, 0,
				 (u64)s.num_sectors * VIRTIO_BLK_SECTOR_SIZE);
	}
	return VIRTIO_BLK_S_OK;
}

static u8 execute(struct blk_disk *d, const struct stream *rd, const struct stream *wr, struct blk_result *r)
{
	struct virtio_blk_req_hdr h;
	if (rd->len < sizeof(h)) {
		r->err = BLK_ERR_HEADER;
		return VIRTIO_BLK_S_IOERR;
	}
	stream_copy(rd, 0, (u8 *)&h, sizeof(h), false);
	r->type = h.type;
	u64 out = rd->len - sizeof(h);   /* data the driver gives */
	u64 in = wr->len - 1;            /* room for data the device returns */
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool is_write = h.type == VIRTIO_BLK_T_OUT;
		u64 len = is_write ? out : in;
		if (is_write ? in : out) {
			r->err = BLK_ERR_DIRECTION;
			return VIRTIO_BLK_S_IOERR;
		}
		if (len % VIRTIO_BLK_SECTOR_SIZE) {
			r->err = BLK_ERR_ALIGN;
			return VIRTIO_BLK_S_IOERR;
		}
		if (!range_ok(d, h.sector, len / VIRTIO_BLK_SECTOR_SIZE)) {
			r->err = BLK_ERR_RANGE;
			return VIRTIO_BLK_S_IOERR;
		}
		if (is_write && d->ro) {
			r->err = BLK_ERR_RO;
			return VIRTIO_BLK_S_IOERR;
		}
		u8 *p = d->data + h.sector * VIRTIO_BLK_SECTOR_SIZE;
		if (is_write) {
			stream_copy(rd, sizeof(h), p, len, false);
		} else {
			stream_copy(wr, 0, p, len, true);
			r->written += (u32)len;
		}
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		/* Every write is in the RAM disk when its request completes: nothing to do
		 * but refuse a flush that carries data. */
		if (out || in) {
			r->err = BLK_ERR_FLUSH_DATA;
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		if (out) {
			r->err = BLK_ERR_DIRECTION;
			return VIRTIO_BLK_S_IOERR;
		}
		u32 n = (u32)MIN(in, (u64)VIRTIO_BLK_ID_BYTES);
		stream_copy(wr, 0, (u8 *)d->id, n, true);
		r->written += n;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!(h.type == VIRTIO_BLK_T_DISCARD ? d->discard : d->write_zeroes)) {
			r->err = BLK_ERR_TYPE;
			return VIRTIO_BLK_S_UNSUPP;
		}
		if (in) {
			r->err = BLK_ERR_DIRECTION;
			return VIRTIO_BLK_S_IOERR;
		}
		if (d->ro) {
			r->err = BLK_ERR_RO;
			return VIRTIO_BLK_S_IOERR;
		}
		return discard_zeroes(d, rd, h.type, &r->err);
	default:
		/* 5.2.6.1: "The device MUST set the status byte to VIRTIO_BLK_S_UNSUPP for
		 * discard, secure erase and write zeroes commands if ... not negotiated" and
		 * unknown types are answered the same way. */
		r->err = BLK_ERR_TYPE;
		return VIRTIO_BLK_S_UNSUPP;
	}
}

void blk_handle(struct blk_disk *d, const struct vq_chain *c, struct blk_result *r)
{
	*r = (struct blk_result){ .type = ~0u, .status = VIRTIO_BLK_S_IOERR };
	/* Readable segments come first (a readable one after a writable one is a chain
	 * error, VQ_SEG_ORDER): split there. */
	u32 nr = 0;
	while (nr < c->nsegs && !c->seg[nr].write)
		nr++;
	struct stream rd = { c->seg, nr, 0 }, wr = { c->seg + nr, c->nsegs - nr, 0 };
	for (u32 i = 0; i < rd.n; i++)
		rd.len += rd.seg[i].len;
	for (u32 i = 0; i < wr.n; i++)
		wr.len += wr.seg[i].len;
	/* The status byte: the last byte of the last device-writable descriptor, which
	 * must itself be good. */
	const struct vq_seg *st = c->nsegs ? &c->seg[c->nsegs - 1] : NULL;
	if (!st || !st->write || !st->hva) {
		r->broken = true;
		r->err = BLK_ERR_NO_STATUS;
		return;
	}
	if (c->err != VQ_SEG_OK) {
		r->err = BLK_ERR_SEG;
		r->status = VIRTIO_BLK_S_IOERR;
	} else {
		r->status = execute(d, &rd, &wr, r);
	}
	st->hva[st->len - 1] = r->status;
	r->written += 1;
}
