/* SPDX-License-Identifier: MIT */
/*
 * virtio/virtq.c (split-virtqueue walker) and virtio/blk_req.c (virtio-blk requests):
 * good requests with any framing, and every malformed class (docs/INTERFACES.md,
 * "virtio-blk"): the documented status, or VQ_BROKEN / blk_result.broken (the device
 * then needs a reset). Guest memory is one buffer at GPA MEM_BASE.
 */
#include "support.h"
#include "virtio/virtq.h"
#include "virtio/blk_req.h"

#define MEM_BASE 0x100000ull
#define MEM_SIZE 0x40000ull
#define QSIZE 16
#define DESC_GPA (MEM_BASE + 0x0000)
#define AVAIL_GPA (MEM_BASE + 0x1000)
#define USED_GPA (MEM_BASE + 0x2000)
#define IND_GPA (MEM_BASE + 0x4000)    /* indirect tables (up to 0x2000 bytes) */
#define HDR_GPA (MEM_BASE + 0x8000)
#define STATUS_GPA (MEM_BASE + 0x8100)
#define DATA_GPA (MEM_BASE + 0x10000)
#define SECTORS 64

static u8 mem[MEM_SIZE] __attribute__((aligned(4096)));
static u8 disk_data[SECTORS * 512];
static struct blk_disk disk;
static struct vq q;
static struct vq_chain chain;
static u16 avail_idx;

static void *map(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	if (gpa < MEM_BASE || len > MEM_SIZE || gpa - MEM_BASE > MEM_SIZE - len)
		return NULL;
	return mem + (gpa - MEM_BASE);
}

static const struct vq_mem vm_mem = { .map = map };

static void *at(u64 gpa)
{
	return mem + (gpa - MEM_BASE);
}

static struct virtq_desc *desc(void)
{
	return at(DESC_GPA);
}

static struct virtq_avail *avail(void)
{
	return at(AVAIL_GPA);
}

static struct virtq_used *used(void)
{
	return at(USED_GPA);
}

static int setup(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	memset(disk_data, 0, sizeof(disk_data));
	disk = (struct blk_disk){ .data = disk_data, .sectors = SECTORS, .id = "unit-disk" };
	const char *why;
	assert_true(vq_attach(&q, &vm_mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, true, true, &why));
	avail_idx = 0;
	return 0;
}

static void setd(u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	desc()[i] = (struct virtq_desc){ addr, len, flags, next };
}

static void publish(u16 head)
{
	avail()->ring[avail_idx % QSIZE] = head;
	avail()->idx = ++avail_idx;
}

static void hdr(u32 type, u64 sector)
{
	*(struct virtio_blk_req_hdr *)at(HDR_GPA) = (struct virtio_blk_req_hdr){ .type = type, .sector = sector };
	*(u8 *)at(STATUS_GPA) = 0xee;
}

/* A three-descriptor request: header, data (len bytes, device-writable if wdata), status. */
static void req3(u32 type, u64 sector, u64 data, u32 len, bool wdata)
{
	hdr(type, sector);
	setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	setd(1, data, len, VIRTQ_DESC_F_NEXT | (wdata ? VIRTQ_DESC_F_WRITE : 0), 2);
	setd(2, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(0);
}

/* Pop one chain and execute it; returns its status (or -1 when the pop was not a chain). */
static int run(struct blk_result *r)
{
	enum vq_err e;
	u32 d;
	enum vq_pop_result p = vq_pop(&q, &vm_mem, &chain, &e, &d);
	if (p != VQ_CHAIN)
		return -1;
	blk_handle(&disk, &chain, r);
	if (!r->broken)
		vq_push(&q, chain.head, r->written);
	return r->broken ? -2 : r->status;
}

static enum vq_err pop_err(void)
{
	enum vq_err e;
	u32 d;
	assert_int_equal(vq_pop(&q, &vm_mem, &chain, &e, &d), VQ_BROKEN);
	return e;
}

/* ---- good requests ---- */

static void write_read_flush_getid(void **state)
{
	(void)state;
	struct blk_result r;
	u8 *data = at(DATA_GPA);
	for (int i = 0; i < 1024; i++)
		data[i] = (u8)(i * 13 + 5);
	req3(VIRTIO_BLK_T_OUT, 2, DATA_GPA, 1024, false);
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);
	assert_int_equal(r.written, 1);
	assert_int_equal(*(u8 *)at(STATUS_GPA), VIRTIO_BLK_S_OK);
	assert_memory_equal(disk_data + 1024, data, 1024);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(used()->ring[0].id, 0);
	assert_int_equal(used()->ring[0].len, 1);

	memset(at(DATA_GPA + 0x1000), 0, 1024);
	req3(VIRTIO_BLK_T_IN, 2, DATA_GPA + 0x1000, 1024, true);
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);
	assert_int_equal(r.written, 1025);
	assert_memory_equal(at(DATA_GPA + 0x1000), data, 1024);

	hdr(VIRTIO_BLK_T_FLUSH, 0);
	setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	setd(1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(0);
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);

	req3(VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 20, true);
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);
	assert_int_equal(r.written, 21);
	assert_string_equal((char *)at(DATA_GPA), "unit-disk");
	assert_int_equal(used()->idx, 4);
}

/* The device assumes nothing about framing: a header split in two, data and status in
 * one device-writable descriptor, all through an indirect table. */
static void any_framing_indirect(void **state)
{
	(void)state;
	struct blk_result r;
	memset(disk_data, 0x5a, 512);
	hdr(VIRTIO_BLK_T_IN, 0);
	struct virtq_desc *t = at(IND_GPA);
	t[0] = (struct virtq_desc){ HDR_GPA, 8, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ HDR_GPA + 8, 8, VIRTQ_DESC_F_NEXT, 2 };
	t[2] = (struct virtq_desc){ DATA_GPA, 513, VIRTQ_DESC_F_WRITE, 0 };
	setd(5, IND_GPA, 48, VIRTQ_DESC_F_INDIRECT, 0);
	publish(5);
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);
	assert_int_equal(chain.head, 5);
	assert_int_equal(chain.nsegs, 3);
	assert_int_equal(r.written, 513);
	u8 *d = at(DATA_GPA);
	assert_int_equal(d[0], 0x5a);
	assert_int_equal(d[511], 0x5a);
	assert_int_equal(d[512], VIRTIO_BLK_S_OK);
}

static void write_zeroes_discard(void **state)
{
	(void)state;
	struct blk_result r;
	memset(disk_data, 0x77, sizeof(disk_data));
	struct virtio_blk_discard_write_zeroes *s = at(DATA_GPA);
	*s = (struct virtio_blk_discard_write_zeroes){ .sector = 4, .num_sectors = 2 };
	req3(VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, 16, false);
	assert_int_equal(run(&r), VIRTIO_BLK_S_UNSUPP);   /* not negotiated */
	disk.write_zeroes = disk.discard = true;
	req3(VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, 16, false);
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);
	assert_int_equal(disk_data[4 * 512], 0);
	assert_int_equal(disk_data[6 * 512 - 1], 0);
	assert_int_equal(disk_data[6 * 512], 0x77);
	s->flags = 1;   /* unmap on a discard: UNSUPP */
	req3(VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, 16, false);
	assert_int_equal(run(&r), VIRTIO_BLK_S_UNSUPP);
	*s = (struct virtio_blk_discard_write_zeroes){ .sector = SECTORS - 1, .num_sectors = 2 };
	req3(VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, 16, false);
	assert_int_equal(run(&r), VIRTIO_BLK_S_IOERR);
	assert_int_equal(r.err, BLK_ERR_RANGE);
	req3(VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, 32, false);   /* two segments: max_discard_seg is 1 */
	assert_int_equal(run(&r), VIRTIO_BLK_S_IOERR);
}

/* ---- malformed requests that get a status ---- */

static void check_status(u32 type, u64 sector, u64 data, u32 len, bool wdata, int status, enum blk_err err)
{
	struct blk_result r;
	req3(type, sector, data, len, wdata);
	assert_int_equal(run(&r), status);
	assert_int_equal(r.err, err);
	assert_int_equal(*(u8 *)at(STATUS_GPA), status);
	assert_int_equal(r.written, status == VIRTIO_BLK_S_OK && wdata ? len + 1 : 1);
}

static void bad_buffers_ioerr(void **state)
{
	(void)state;
	check_status(VIRTIO_BLK_T_IN, 0, DATA_GPA, 0, true, VIRTIO_BLK_S_IOERR, BLK_ERR_SEG);
	assert_int_equal(chain.err, VQ_SEG_ZERO_LEN);
	check_status(VIRTIO_BLK_T_IN, 0, DATA_GPA, 0x1000000, true, VIRTIO_BLK_S_IOERR, BLK_ERR_SEG);
	assert_int_equal(chain.err, VQ_SEG_HUGE);
	check_status(VIRTIO_BLK_T_IN, 0, MEM_BASE + MEM_SIZE - 256, 512, true, VIRTIO_BLK_S_IOERR, BLK_ERR_SEG);
	assert_int_equal(chain.err, VQ_SEG_UNMAPPED);
	check_status(VIRTIO_BLK_T_OUT, 0, 0xfee00000, 512, false, VIRTIO_BLK_S_IOERR, BLK_ERR_SEG);
	assert_int_equal(chain.err, VQ_SEG_UNMAPPED);
	check_status(VIRTIO_BLK_T_IN, 0, ~0ull - 100, 512, true, VIRTIO_BLK_S_IOERR, BLK_ERR_SEG);   /* wraps */
	assert_int_equal(chain.err, VQ_SEG_UNMAPPED);
	/* readable after writable */
	struct blk_result r;
	hdr(VIRTIO_BLK_T_IN, 0);
	setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	setd(1, DATA_GPA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	setd(2, DATA_GPA + 512, 16, VIRTQ_DESC_F_NEXT, 3);
	setd(3, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(0);
	assert_int_equal(run(&r), VIRTIO_BLK_S_IOERR);
	assert_int_equal(chain.err, VQ_SEG_ORDER);
	assert_int_equal(chain.err_seg, 2);
}

static void bad_requests(void **state)
{
	(void)state;
	check_status(99, 0, DATA_GPA, 512, true, VIRTIO_BLK_S_UNSUPP, BLK_ERR_TYPE);
	check_status(VIRTIO_BLK_T_FLUSH, 0, DATA_GPA, 512, false, VIRTIO_BLK_S_IOERR, BLK_ERR_FLUSH_DATA);
	check_status(VIRTIO_BLK_T_FLUSH, 0, DATA_GPA, 512, true, VIRTIO_BLK_S_IOERR, BLK_ERR_FLUSH_DATA);
	check_status(VIRTIO_BLK_T_IN, SECTORS, DATA_GPA, 512, true, VIRTIO_BLK_S_IOERR, BLK_ERR_RANGE);
	check_status(VIRTIO_BLK_T_IN, SECTORS - 1, DATA_GPA, 1024, true, VIRTIO_BLK_S_IOERR, BLK_ERR_RANGE);
	check_status(VIRTIO_BLK_T_OUT, ~0ull - 1, DATA_GPA, 1024, false, VIRTIO_BLK_S_IOERR, BLK_ERR_RANGE);
	check_status(VIRTIO_BLK_T_IN, 0, DATA_GPA, 100, true, VIRTIO_BLK_S_IOERR, BLK_ERR_ALIGN);
	check_status(VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, true, VIRTIO_BLK_S_IOERR, BLK_ERR_DIRECTION);
	check_status(VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, false, VIRTIO_BLK_S_IOERR, BLK_ERR_DIRECTION);
	check_status(VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 20, false, VIRTIO_BLK_S_IOERR, BLK_ERR_DIRECTION);
	disk.ro = true;
	check_status(VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, false, VIRTIO_BLK_S_IOERR, BLK_ERR_RO);
	check_status(VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, true, VIRTIO_BLK_S_OK, BLK_OK);
	/* a header of 8 bytes */
	struct blk_result r;
	hdr(VIRTIO_BLK_T_IN, 0);
	setd(0, HDR_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	setd(1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(0);
	assert_int_equal(run(&r), VIRTIO_BLK_S_IOERR);
	assert_int_equal(r.err, BLK_ERR_HEADER);
}

static void no_status_byte(void **state)
{
	(void)state;
	struct blk_result r;
	hdr(VIRTIO_BLK_T_OUT, 0);
	setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	setd(1, DATA_GPA, 512, 0, 0);
	publish(0);
	assert_int_equal(run(&r), -2);
	assert_int_equal(r.err, BLK_ERR_NO_STATUS);
	/* the status descriptor itself outside RAM */
	setd(1, 0xfee00000, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(0);
	assert_int_equal(run(&r), -2);
	assert_int_equal(used()->idx, 0);   /* nothing returned */
}

/* ---- malformed chains: the queue is broken ---- */

static void broken_chains(void **state)
{
	(void)state;
	hdr(VIRTIO_BLK_T_IN, 0);
	/* loop 0 -> 1 -> 0 */
	setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	setd(1, DATA_GPA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_LOOP);
	/* a self-loop of a zero-length descriptor (QEMU CVE-2016-7422's shape) */
	setd(3, DATA_GPA, 0, VIRTQ_DESC_F_NEXT, 3);
	publish(3);
	assert_int_equal(pop_err(), VQ_ERR_LOOP);
	/* next out of range */
	setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_NEXT);
	/* head out of range */
	publish(QSIZE + 3);
	assert_int_equal(pop_err(), VQ_ERR_HEAD);
	/* INDIRECT with NEXT */
	setd(0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_INDIRECT_NEXT);
	/* nested indirect */
	struct virtq_desc *t = at(IND_GPA);
	t[0] = (struct virtq_desc){ HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ IND_GPA + 0x100, 32, VIRTQ_DESC_F_INDIRECT, 0 };
	setd(0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_INDIRECT_NESTED);
	/* a loop inside an indirect table, and next beyond the table */
	t[1] = (struct virtq_desc){ DATA_GPA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0 };
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_LOOP);
	t[1].next = 2;
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_NEXT);
	/* table length: 0, not a multiple of 16; outside RAM */
	setd(0, IND_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_INDIRECT_LEN);
	setd(0, IND_GPA, 40, VIRTQ_DESC_F_INDIRECT, 0);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_INDIRECT_LEN);
	setd(0, MEM_BASE + MEM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_INDIRECT_ADDR);
	/* longer than VQ_MAX_CHAIN descriptors */
	for (u16 i = 0; i < 300; i++)
		t[i] = (struct virtq_desc){ DATA_GPA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (u16)(i + 1) };
	setd(0, IND_GPA, 300 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_TOO_LONG);
	/* INDIRECT without the feature */
	q.indirect = false;
	setd(0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	publish(0);
	assert_int_equal(pop_err(), VQ_ERR_INDIRECT_FEATURE);
}

static void avail_index_ahead(void **state)
{
	(void)state;
	avail()->idx = QSIZE + 1;
	assert_int_equal(pop_err(), VQ_ERR_AVAIL_IDX);
	/* exactly a full queue is fine */
	avail()->idx = QSIZE;
	enum vq_err e;
	u32 d;
	for (u16 i = 0; i < QSIZE; i++) {
		avail()->ring[i] = 0;
		setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
		setd(1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	for (u16 i = 0; i < QSIZE; i++)
		assert_int_equal(vq_pop(&q, &vm_mem, &chain, &e, &d), VQ_CHAIN);
	assert_int_equal(vq_pop(&q, &vm_mem, &chain, &e, &d), VQ_EMPTY);
}

static void attach_checks(void **state)
{
	(void)state;
	struct vq t;
	const char *why;
	assert_false(vq_attach(&t, &vm_mem, 12, DESC_GPA, AVAIL_GPA, USED_GPA, true, true, &why));
	assert_false(vq_attach(&t, &vm_mem, 512, DESC_GPA, AVAIL_GPA, USED_GPA, true, true, &why));
	assert_false(vq_attach(&t, &vm_mem, 0, DESC_GPA, AVAIL_GPA, USED_GPA, true, true, &why));
	assert_false(vq_attach(&t, &vm_mem, 16, DESC_GPA + 8, AVAIL_GPA, USED_GPA, true, true, &why));
	assert_false(vq_attach(&t, &vm_mem, 16, DESC_GPA, AVAIL_GPA + 1, USED_GPA, true, true, &why));
	assert_false(vq_attach(&t, &vm_mem, 16, DESC_GPA, AVAIL_GPA, USED_GPA + 2, true, true, &why));
	assert_false(vq_attach(&t, &vm_mem, 16, 0xc0000000, AVAIL_GPA, USED_GPA, true, true, &why));
	assert_contains(why, "outside guest RAM");
	assert_false(vq_attach(&t, &vm_mem, 256, MEM_BASE + MEM_SIZE - 0x800, AVAIL_GPA, USED_GPA, true, true, &why));
}

/* ---- notification suppression ---- */

static void event_index(void **state)
{
	(void)state;
	u16 *used_event = &avail()->ring[QSIZE];
	u16 *avail_event = (u16 *)((u8 *)used() + 4 + 8 * QSIZE);
	vq_push(&q, 0, 1);
	assert_true(vq_need_notify(&q));   /* the first decision notifies */
	*used_event = 5;                    /* interrupt me when entry 5 is used */
	vq_push(&q, 0, 1);                  /* used idx 1 -> 2 */
	assert_false(vq_need_notify(&q));
	for (int i = 0; i < 3; i++)
		vq_push(&q, 0, 1);          /* 2 -> 5 */
	assert_false(vq_need_notify(&q));
	vq_push(&q, 0, 1);                  /* 5 -> 6: entry 5 used */
	assert_true(vq_need_notify(&q));
	*used_event = 3;                    /* already passed: no notification */
	vq_push(&q, 0, 1);
	assert_false(vq_need_notify(&q));
	/* avail_event follows the device */
	assert_false(vq_rearm(&q));
	assert_int_equal(*avail_event, 0);
	hdr(VIRTIO_BLK_T_FLUSH, 0);
	setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	setd(1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(0);
	publish(0);
	assert_true(vq_rearm(&q));          /* more arrived */
	struct blk_result r;
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);
	vq_defer(&q);                       /* one left: the next buffer must notify */
	assert_int_equal(*avail_event, 2);
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);
	assert_false(vq_rearm(&q));
	assert_int_equal(*avail_event, 2);
	/* without EVENT_IDX: the NO_INTERRUPT flag */
	q.event_idx = false;
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	vq_push(&q, 0, 1);
	assert_false(vq_need_notify(&q));
	avail()->flags = 0;
	vq_push(&q, 0, 1);
	assert_true(vq_need_notify(&q));
}

/* Polling stops (iopoll_us=): notifications are asked for again, and a buffer that
 * arrived meanwhile is found by the re-check. */
static void poll_stop(void **state)
{
	(void)state;
	u16 *avail_event = (u16 *)((u8 *)used() + 4 + 8 * QSIZE);
	vq_poll_mode(&q);
	assert_int_equal(*avail_event, 0x8000);   /* out of reach of any batch */
	assert_false(vq_notify_on(&q));           /* nothing available: notifications on */
	assert_int_equal(*avail_event, 0);
	vq_poll_mode(&q);
	hdr(VIRTIO_BLK_T_FLUSH, 0);
	setd(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	setd(1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	publish(0);                               /* the driver saw avail_event far away: no kick */
	assert_true(vq_notify_on(&q));            /* the re-check finds it */
	struct blk_result r;
	assert_int_equal(run(&r), VIRTIO_BLK_S_OK);
	assert_false(vq_notify_on(&q));
	assert_int_equal(*avail_event, 1);        /* the driver's next buffer (index 1) notifies */
	/* without EVENT_IDX: the used ring's NO_NOTIFY flag */
	q.event_idx = false;
	vq_poll_mode(&q);
	assert_int_equal(used()->flags, VIRTQ_USED_F_NO_NOTIFY);
	assert_false(vq_notify_on(&q));
	assert_int_equal(used()->flags, 0);
	publish(0);
	assert_true(vq_notify_on(&q));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(write_read_flush_getid, setup),
		cmocka_unit_test_setup(any_framing_indirect, setup),
		cmocka_unit_test_setup(write_zeroes_discard, setup),
		cmocka_unit_test_setup(bad_buffers_ioerr, setup),
		cmocka_unit_test_setup(bad_requests, setup),
		cmocka_unit_test_setup(no_status_byte, setup),
		cmocka_unit_test_setup(broken_chains, setup),
		cmocka_unit_test_setup(avail_index_ahead, setup),
		cmocka_unit_test_setup(attach_checks, setup),
		cmocka_unit_test_setup(event_index, setup),
		cmocka_unit_test_setup(poll_stop, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
