/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk requests (virtio 1.2, 5.2.6 "Device Operation") on a RAM disk: parse one
 * descriptor chain (virtio/virtq.h) as a request, check it, execute it, write its status.
 *
 * Pure: the chain's buffers are host pointers that vq_pop already checked against guest
 * RAM; the disk is a host buffer. Unit-tested (tests/unit/test_virtq.c) and fuzzed.
 *
 * Framing follows 2.7.4 / "Message Framing": the device makes no assumption about how
 * the request is split into descriptors. The device-readable buffers form one byte
 * stream (the 16-byte header, then the data of a write), the device-writable ones
 * another (the data of a read, then the status byte, its last byte). The status byte
 * is the last byte of the last device-writable descriptor.
 *
 * Answers (documented in docs/INTERFACES.md, "virtio-blk"):
 *   VIRTIO_BLK_S_OK      done
 *   VIRTIO_BLK_S_IOERR   a bad buffer (zero length, over 4 MiB, outside RAM or over MMIO,
 *                        readable after writable), a header shorter than 16 bytes, data
 *                        not a multiple of 512 bytes, sectors beyond the capacity, a
 *                        write to a read-only disk, data with a flush or get-id in the
 *                        wrong direction, a bad discard/write-zeroes segment
 *   VIRTIO_BLK_S_UNSUPP  an unknown request type, discard/write-zeroes not negotiated,
 *                        the unmap flag on a discard
 *   no answer            no device-writable byte for the status, or the status
 *                        descriptor itself bad: the request cannot be answered, the
 *                        caller marks the device NEEDS_RESET (blk_result.broken)
 */
#ifndef VIRTIO_BLK_REQ_H
#define VIRTIO_BLK_REQ_H

#include "hv/lib/types.h"
#include "virtio/virtq.h"

#define BLK_MAX_DISCARD_SEGS 1

struct blk_disk {
	u8 *data;                  /* sectors * 512 bytes */
	u64 sectors;
	bool ro;
	bool discard, write_zeroes;   /* negotiated (else those requests are UNSUPP) */
	char id[VIRTIO_BLK_ID_BYTES]; /* the GET_ID string (not NUL-terminated when 20 long) */
};

/* Why a request failed (for the diagnostic line). */
enum blk_err {
	BLK_OK,
	BLK_ERR_SEG,               /* a bad buffer: see the chain's vq_seg_err */
	BLK_ERR_HEADER,            /* header shorter than 16 bytes */
	BLK_ERR_ALIGN,             /* data not a multiple of 512 bytes */
	BLK_ERR_RANGE,             /* sectors beyond the capacity */
	BLK_ERR_RO,                /* write to a read-only disk */
	BLK_ERR_DIRECTION,         /* data in the wrong direction for the type */
	BLK_ERR_FLUSH_DATA,        /* a flush with data */
	BLK_ERR_DISCARD,           /* a bad discard/write-zeroes segment list */
	BLK_ERR_TYPE,              /* unknown type or not negotiated: UNSUPP */
	BLK_ERR_NO_STATUS,         /* nowhere to write the status: NEEDS_RESET */
	NR_BLK_ERR,
};

struct blk_result {
	u32 type;                  /* the request type (when the header was readable) */
	u8 status;                 /* VIRTIO_BLK_S_* written to the status byte */
	bool broken;               /* no status byte: the device needs a reset */
	enum blk_err err;
	u32 written;               /* bytes written into device-writable buffers (used len) */
};

/* Execute the request in c against d. */
void blk_handle(struct blk_disk *d, const struct vq_chain *c, struct blk_result *r);
const char *blk_err_name(enum blk_err e);

#endif
