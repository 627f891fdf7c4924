/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target over the virtio-blk device's guest-facing logic: the split-virtqueue
 * walker (virtio/virtq.c) and the request parser (virtio/blk_req.c), compiled unchanged
 * with clang -fsanitize=fuzzer,address,undefined (tests/check-fuzz, `make fuzz`).
 *
 * An input is a guest: byte 0 chooses the queue (bits 3:0 log2 of the size, clamped to
 * 8; bit 4 EVENT_IDX; bit 5 INDIRECT_DESC; bit 6 read-only disk; bit 7 discard and
 * write-zeroes negotiated), the rest is guest memory from GPA MEM_BASE: the descriptor
 * table at +0x0000, the available ring at +0x1000, the used ring at +0x2000, buffers and
 * indirect tables anywhere up to MEM_SIZE. Then the device does what a notification
 * makes it do: drain the queue (bounded like virtio/virtio_blk.c), decide the
 * interrupt, re-arm. Any out-of-bounds access, overflow or unbounded loop is a finding.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "virtio/virtq.h"
#include "virtio/blk_req.h"

#define MEM_BASE 0x1000ull
#define MEM_SIZE 0x8000ull
#define SECTORS 16

static uint8_t *mem;
static uint8_t disk_data[SECTORS * 512];

static void *map(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	if (gpa < MEM_BASE || len > MEM_SIZE || gpa - MEM_BASE > MEM_SIZE - len)
		return NULL;
	return mem + (gpa - MEM_BASE);
}

static struct vq_chain chain;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* A fresh allocation of exactly MEM_SIZE: ASan sees any access beyond it. */
	mem = calloc(1, MEM_SIZE);
	if (!mem)
		return 0;
	u8 cfg = data[0];
	memcpy(mem, data + 1, size - 1 < MEM_SIZE ? size - 1 : MEM_SIZE);
	unsigned lg = cfg & 15;
	u16 qsize = (u16)(1u << (lg > 8 ? 8 : lg));
	struct vq_mem m = { .map = map };
	struct vq q;
	const char *why;
	struct blk_disk d = { .data = disk_data, .sectors = SECTORS, .ro = cfg & 0x40, .discard = cfg & 0x80,
			      .write_zeroes = cfg & 0x80, .id = "fuzz" };
	/* attach resets the used index; keep the input's available ring */
	if (vq_attach(&q, &m, qsize, MEM_BASE, MEM_BASE + 0x1000, MEM_BASE + 0x2000, cfg & 0x10, cfg & 0x20, &why)) {
		u32 done = 0;
		for (unsigned round = 0; round < 4 * qsize; round++) {
			enum vq_err e;
			u32 at;
			enum vq_pop_result r = vq_pop(&q, &m, &chain, &e, &at);
			if (r == VQ_EMPTY) {
				if (!vq_rearm(&q))
					break;
				continue;
			}
			if (r == VQ_BROKEN) {
				if (e == VQ_OK || e >= NR_VQ_ERR)
					abort();
				break;
			}
			if (chain.nsegs == 0 || chain.nsegs > VQ_MAX_CHAIN || chain.head >= qsize)
				abort();
			u64 wbytes = 0;
			for (u32 i = 0; i < chain.nsegs; i++)
				if (chain.seg[i].write)
					wbytes += chain.seg[i].len;
			struct blk_result res;
			blk_handle(&d, &chain, &res);
			if (res.broken)
				break;
			if (res.written == 0 || res.written > wbytes)
				abort();
			vq_push(&q, chain.head, res.written);
			done++;
		}
		if (done)
			(void)vq_need_notify(&q);
		vq_defer(&q);
	}
	free(mem);
	return 0;
}
