/* SPDX-License-Identifier: MIT */
/*
 * vblk: the virtio-blk device (virtio/virtio_blk.c) driven by the test guests' driver
 * (vdrv.c). Needs vm=...,disk=... (docs/INTERFACES.md, "virtio-blk").
 *
 * test=normal (default): discovery (IDs, capabilities), feature negotiation (a driver
 * without VERSION_1 is refused FEATURES_OK), GET_ID, capacity; 4 KiB blocks each
 * carrying its LBA, a generation and a CRC32, written and read back verified:
 * sequential at depth 1, random at depth `depth` (default 32: that many requests
 * made available before one notification); flush; write-zeroes; MSI-X mask with the
 * pending bit and delivery on unmask; device reset and re-initialisation (the data
 * stays); with cpus=2 a second queue driven by vCPU 1 at the same time, its vector on
 * vCPU 1. Interrupts and notifications per request are printed and bounded.
 * test=bench: the load generator of tools/bench-io (bench() below).
 * test=pcicfg: the VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.9): common and device
 * configuration read through it equal the BAR's, device_status written through it
 * (a reset, then ACKNOWLEDGE and DRIVER) reads back through the BAR, a notification
 * through it completes a request; settings the driver must not use (length 3, a
 * misaligned offset, another BAR, beyond the BAR) access nothing.
 * test=retarget: the MSI route cache's target vCPU follows the guest's APIC ID: after
 * the vCPU renumbers its xAPIC ID, queue 0's vector (still naming the old ID) reaches
 * nobody (the request completes without an interrupt); once the table entry names the
 * new ID, and again after both are put back, interrupts arrive.
 * test=hostile: every malformed-request class (docs/INTERFACES.md, "virtio-blk"): the
 * documented status, or NEEDS_RESET with a configuration interrupt followed by a reset
 * and a good request.
 *
 * Options: cpus=N, n=BLOCKS (sequential, default 64), depth=D (2..64), batches=B
 * (default 4), event_idx=0, indirect=0, sectors=N (expected capacity), image=elf (sector
 * 0 of disk=FILE starts with an ELF header), ro=1 (disk_ro=on expected), id=STRING,
 * cb=0 (the reaper does not disable the queue's interrupt while draining, vdrv.h).
 */
#include "apic.h"
#include "smp.h"
#include "vdrv.h"

#define SECTORS_PER_BLOCK (VDRV_BLOCK / VIRTIO_BLK_SECTOR_SIZE)
#define MAX_BLOCKS 4096
#define TIMEOUT_US 3000000

static u32 crc_table[256];
static u8 gen[MAX_BLOCKS];        /* generation last written to each block (0: never) */
static u32 nblocks;
static u32 apic_ids[VDRV_MAX_QUEUES];

static void crc_init(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static u32 crc32(const u8 *p, u32 n)
{
	u32 c = ~0u;
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* A block: LBA (u64), generation (u32), pattern, CRC32 of the first 4092 bytes. */
static void fill_block(u8 *b, u32 lba, u8 g)
{
	*(u64 *)b = lba;
	*(u32 *)(b + 8) = g;
	for (u32 i = 12; i < VDRV_BLOCK - 4; i++)
		b[i] = (u8)(lba * 31 + i * 7 + g);
	*(u32 *)(b + VDRV_BLOCK - 4) = crc32(b, VDRV_BLOCK - 4);
}

static bool check_block(const u8 *b, u32 lba, u8 g)
{
	return *(const u64 *)b == lba && *(const u32 *)(b + 8) == g &&
	       *(const u32 *)(b + VDRV_BLOCK - 4) == crc32(b, VDRV_BLOCK - 4);
}

static u64 rng = 0x9e3779b97f4a7c15ull;
static u32 rnd(u32 n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (u32)(rng % n);
}

struct io_stats {
	u32 req, kicks, irqs;
};

static struct io_stats snap(unsigned q)
{
	struct vdrv_queue *vq = vdrv.q[q];
	return (struct io_stats){ vq->reaped, vq->kicks, vq->irqs };
}

static void print_rate(const char *what, unsigned q, struct io_stats a)
{
	struct io_stats b = snap(q);
	u32 req = b.req - a.req, k = b.kicks - a.kicks, i = b.irqs - a.irqs;
	if (!req)
		req = 1;
	printf("vblk: %s queue=%u requests=%u kicks=%u irqs=%u kicks_per_req=%u.%03u irqs_per_req=%u.%03u\n", what, q,
	       b.req - a.req, k, i, k / req, k * 1000 / req % 1000, i / req, i * 1000 / req % 1000);
}

/* Write then verify blocks [first, first + count) one at a time on queue q. */
static u32 seq_pass(unsigned q, u32 first, u32 count, u8 g, bool indirect)
{
	u32 bad = 0;
	u8 *buf = vdrv.q[q]->data[0];
	for (u32 b = first; b < first + count; b++) {
		fill_block(buf, b, g);
		if (vdrv_rw(q, 0, VIRTIO_BLK_T_OUT, (u64)b * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, indirect) != 0)
			bad++;
		else
			gen[b] = g;
	}
	for (u32 b = first; b < first + count; b++) {
		memset(buf, 0, VDRV_BLOCK);
		if (vdrv_rw(q, 0, VIRTIO_BLK_T_IN, (u64)b * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, indirect) != 0 ||
		    !check_block(buf, b, gen[b]))
			bad++;
	}
	return bad;
}

/* depth distinct random blocks of [first, first + span): written as one batch (one
 * notification), read back as one batch, verified. */
static u32 random_batch(unsigned q, u32 first, u32 span, unsigned depth, u8 g, bool indirect)
{
	u32 lba[VDRV_SLOTS];
	u32 bad = 0;
	struct vdrv_queue *vq = vdrv.q[q];
	for (unsigned i = 0; i < depth; i++) {
		bool dup;
		do {
			lba[i] = first + rnd(span);
			dup = false;
			for (unsigned j = 0; j < i; j++)
				dup |= lba[j] == lba[i];
		} while (dup);
	}
	for (int pass = 0; pass < 2; pass++) {
		u32 type = pass ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
		for (unsigned i = 0; i < depth; i++) {
			if (pass)
				memset(vq->data[i], 0, VDRV_BLOCK);
			else
				fill_block(vq->data[i], lba[i], g);
			vdrv_add(q, i, type, (u64)lba[i] * SECTORS_PER_BLOCK, vq->data[i], VDRV_BLOCK, indirect);
		}
		vdrv_kick(q);
		for (unsigned i = 0; i < depth; i++) {
			if (!vdrv_wait(q, i, TIMEOUT_US) || vq->slot[i].status != 0) {
				bad++;
				continue;
			}
			if (!pass)
				gen[lba[i]] = g;
			else if (!check_block(vq->data[i], lba[i], gen[lba[i]]))
				bad++;
		}
	}
	return bad;
}

static u32 verify_all(unsigned q)
{
	u32 bad = 0;
	u8 *buf = vdrv.q[q]->data[0];
	for (u32 b = 0; b < nblocks; b++) {
		if (!gen[b])
			continue;
		if (vdrv_rw(q, 0, VIRTIO_BLK_T_IN, (u64)b * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false) != 0 ||
		    !check_block(buf, b, gen[b]))
			bad++;
	}
	return bad;
}

static u64 want_features(void)
{
	u64 f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_MQ | 1ull << VIRTIO_BLK_F_WRITE_ZEROES |
		1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_SIZE_MAX;
	if (cmdline_get_u64("event_idx", 1))
		f |= 1ull << VIRTIO_F_RING_EVENT_IDX;
	if (cmdline_get_u64("indirect", 1))
		f |= 1ull << VIRTIO_F_RING_INDIRECT_DESC;
	return f;
}

static unsigned nq;

static bool reinit(void)
{
	int r = vdrv_init(want_features(), nq, apic_ids);
	if (r)
		printf("vblk: vdrv_init failed at step %d (status 0x%x)\n", r, vdrv_status());
	return r == 0;
}

/* ---- vCPU 1: queue 1 ---- */

static volatile u32 w_bad, w_done;

static void worker(void *arg)
{
	(void)arg;
	u32 half = nblocks / 2;
	u32 bad = seq_pass(1, half, 16, 5, false);
	for (int b = 0; b < 4; b++)
		bad += random_batch(1, half, half, 16, (u8)(6 + b), vdrv.indirect);
	w_bad = bad;
	w_done = 1;
}

/* ---- test=normal ---- */

static int normal(void)
{
	bool ro = cmdline_get_u64("ro", 0);
	bool want_ei = cmdline_get_u64("event_idx", 1);
	report(vdrv.features & (1ull << VIRTIO_F_VERSION_1), "features: VERSION_1 negotiated (0x%llx of 0x%llx)",
	       (unsigned long long)vdrv.features, (unsigned long long)vdrv.dev_features);
	report(vdrv.event_idx == want_ei && ((vdrv.dev_features >> VIRTIO_F_RING_INDIRECT_DESC) & 1) &&
	       ((vdrv.dev_features >> VIRTIO_BLK_F_FLUSH) & 1) && ((vdrv.dev_features >> VIRTIO_BLK_F_MQ) & 1),
	       "features: EVENT_IDX %s, INDIRECT_DESC, FLUSH, MQ offered", want_ei ? "on" : "off");
	report(vdrv.dev_nq == smp_expected_cpus() || vdrv.dev_nq == nq, "num_queues %u (one per vCPU)", vdrv.dev_nq);
	u64 want_sectors = cmdline_get_u64("sectors", 0);
	if (want_sectors)
		report(vdrv.capacity == want_sectors, "capacity %llu sectors", (unsigned long long)vdrv.capacity);
	struct vdrv_queue *q0 = vdrv.q[0];
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	int st = vdrv_rw(0, 0, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES, false);
	const char *want_id = cmdline_get("id");
	report(st == 0 && !strncmp(id, "microhv-", 8) && (!want_id || !strcmp(id, want_id)),
	       "GET_ID: '%s' (status %d, used len %u)", id, st, q0->slot[0].used_len);
	if (cmdline_has("image")) {
		u8 *buf = q0->data[0];
		st = vdrv_rw(0, 0, VIRTIO_BLK_T_IN, 0, buf, 512, false);
		report(st == 0 && buf[0] == 0x7f && buf[1] == 'E' && buf[2] == 'L' && buf[3] == 'F',
		       "disk=FILE: sector 0 holds the image (an ELF header)");
	}
	if (ro) {
		u8 *buf = q0->data[0];
		report(vdrv.dev_features & (1ull << VIRTIO_BLK_F_RO), "disk_ro=on: VIRTIO_BLK_F_RO offered");
		st = vdrv_rw(0, 0, VIRTIO_BLK_T_OUT, 8, buf, VDRV_BLOCK, false);
		report(st == VIRTIO_BLK_S_IOERR, "read-only: a write gets IOERR (%d)", st);
		st = vdrv_rw(0, 0, VIRTIO_BLK_T_IN, 8, buf, VDRV_BLOCK, false);
		report(st == 0, "read-only: a read works");
		return 0;
	}
	nblocks = (u32)(vdrv.capacity / SECTORS_PER_BLOCK);
	if (nblocks > MAX_BLOCKS)
		nblocks = MAX_BLOCKS;
	u32 n = (u32)cmdline_get_u64("n", 64);
	if (n > nblocks / 2)
		n = nblocks / 2;
	unsigned depth = (unsigned)cmdline_get_u64("depth", 32);
	if (depth < 2 || depth > 64)
		depth = 32;
	unsigned batches = (unsigned)cmdline_get_u64("batches", 4);
	u32 span = nq > 1 ? nblocks / 2 : nblocks;
	if (depth > span)   /* a small disk= image: depth distinct blocks must exist */
		depth = span;

	struct io_stats a = snap(0);
	u32 bad = seq_pass(0, 0, n, 1, false);
	report(!bad, "sequential, depth 1, direct descriptors: %u blocks written and read back verified (%u bad)", n, bad);
	print_rate("seq depth=1", 0, a);
	struct io_stats d1 = snap(0);
	u32 r1 = d1.req - a.req;
	if (want_ei)
		report(d1.irqs - a.irqs <= r1 && d1.irqs - a.irqs >= r1 / 2, "depth 1: about one interrupt per request (%u for %u)",
		       d1.irqs - a.irqs, r1);

	a = snap(0);
	bad = 0;
	for (unsigned b = 0; b < batches; b++)
		bad += random_batch(0, 0, span, depth, (u8)(2 + b % 3), vdrv.indirect);
	report(!bad, "random, depth %u, %s: %u batches written and read back verified (%u bad)", depth,
	       vdrv.indirect ? "indirect descriptors" : "direct descriptors", batches, bad);
	print_rate("random depth", 0, a);
	struct io_stats dd = snap(0);
	u32 rq = dd.req - a.req;
	report(dd.kicks - a.kicks <= 2 * batches, "depth %u: one notification per batch (%u for %u batches of 2 passes)",
	       depth, dd.kicks - a.kicks, batches);
	if (depth >= 16) {
		report((dd.kicks - a.kicks) * 10 < rq, "depth %u: fewer than 0.1 notifications per request (%u for %u)",
		       depth, dd.kicks - a.kicks, rq);
		if (want_ei)
			report((dd.irqs - a.irqs) * 10 < rq, "depth %u: fewer than 0.1 interrupts per request (%u for %u)",
			       depth, dd.irqs - a.irqs, rq);
	}

	st = vdrv_rw(0, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false);
	report(st == 0, "flush: OK (%d)", st);

	/* WRITE_ZEROES over block 1. */
	static struct virtio_blk_discard_write_zeroes wz;
	wz = (struct virtio_blk_discard_write_zeroes){ .sector = SECTORS_PER_BLOCK, .num_sectors = SECTORS_PER_BLOCK };
	st = vdrv_rw(0, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, &wz, sizeof(wz), false);
	u8 *buf = q0->data[1];
	memset(buf, 0xaa, VDRV_BLOCK);
	int st2 = vdrv_rw(0, 1, VIRTIO_BLK_T_IN, SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false);
	bool zero = true;
	for (u32 i = 0; i < VDRV_BLOCK; i++)
		zero &= buf[i] == 0;
	report(st == 0 && st2 == 0 && zero, "write-zeroes: block 1 reads back as zeroes (%d, %d)", st, st2);
	gen[1] = 0;

	/* MSI-X: queue 0's vector (table entry 1) masked: no interrupt, pending bit; the
	 * unmask delivers it. */
	volatile u32 *e = vdrv_msix_entry(1);
	e[3] = 1;
	u32 irqs = q0->irqs;
	vdrv_add(0, 0, VIRTIO_BLK_T_IN, 0, q0->data[0], VDRV_BLOCK, false);
	vdrv_kick(0);
	sti();
	bool used = wait_until(*(volatile u16 *)&q0->used->idx != q0->last_used, TIMEOUT_US);
	udelay(1000);
	cli();
	report(used && q0->irqs == irqs && (vdrv_msix_pba() & 2), "MSI-X masked: request completed, no interrupt, "
	       "pending bit set (pba 0x%x)", vdrv_msix_pba());
	e[3] = 0;
	bool got = vdrv_wait(0, 0, TIMEOUT_US);
	report(got && q0->irqs == irqs + 1 && !(vdrv_msix_pba() & 2), "MSI-X unmask: the pending interrupt is delivered");

	/* Reset and re-initialisation: the disk keeps its data. */
	vdrv_set_status(0);
	vdrv_write16(VIRTIO_PCI_COMMON_Q_SELECT, 0);
	report(vdrv_status() == 0 && vdrv_read16(VIRTIO_PCI_COMMON_Q_ENABLE) == 0 &&
	       vdrv_read16(VIRTIO_PCI_COMMON_MSIX) == VIRTIO_MSI_NO_VECTOR,
	       "reset: status 0, queue disabled, config vector NO_VECTOR");
	report(reinit(), "re-initialised after reset");
	bad = verify_all(0);
	report(!bad, "after reset: every block written reads back verified (%u bad)", bad);

	if (nq > 1) {
		w_bad = 0;
		w_done = 0;
		if (on_cpu_async(1, worker, NULL)) {
			report(false, "vCPU 1 takes work");
		} else {
			a = snap(0);
			bad = seq_pass(0, 2, 16, 8, false);
			for (int b = 0; b < 4; b++)
				bad += random_batch(0, 0, nblocks / 2, 16, (u8)(9 + b), vdrv.indirect);
			bool ok = cpu_wait_idle(1, 30000000);
			report(ok && w_done && !bad && !w_bad, "2 vCPUs, a queue each, at the same time: verified (%u, %u bad)",
			       bad, w_bad);
			report(vdrv.q[1]->irqs > 0 && vdrv.q[1]->reaped > 0, "queue 1: %u interrupts on vCPU 1 for %u requests",
			       vdrv.q[1]->irqs, vdrv.q[1]->reaped);
			print_rate("2vcpu", 0, a);
			print_rate("2vcpu", 1, (struct io_stats){ 0, 0, 0 });
		}
		bad = verify_all(0);
		report(!bad, "every block of both queues reads back verified through queue 0 (%u bad)", bad);
	}
	printf("vblk: totals requests=%u kicks=%u kicks_suppressed=%u irqs=%u\n", q0->reaped, q0->kicks,
	       q0->kicks_suppressed, q0->irqs);
	return 0;
}

/* ---- test=bench: the load generator (tools/bench-io) ---- */

/*
 * rw=randread|randwrite|seqwrite, depth=D (1..64), n=REQUESTS per queue (default 256),
 * cpus=2 (a queue per vCPU, both loaded at once), cb=0|1 (vdrv.h). Each queue keeps D
 * 4 KiB requests outstanding: the completions the interrupt handler reaps are
 * resubmitted, one notification decision per resubmitted batch, and the vCPU halts
 * (sti; hlt) while none has completed, as a driver waiting for its disk. The timed loop
 * moves the data only (buffers prepared before it); a verified pass follows at the same
 * depth (written blocks carry their LBA and a CRC and are read back checked).
 * One line per queue: vblk-bench q=Q rw=.. depth=.. requests=N ticks=T kicks=K irqs=I
 * exits=E extint_exits=X hlt_exits=H ept_exits=P (guest TSC ticks; exits of the vCPU
 * that drove the queue, from HC_GET_COUNTER, the two reads excluded).
 */
struct bench_res {
	u32 req, kicks, irqs;
	u64 ticks, exits, extint, hlts, ept;
	u32 bad;
};
static struct bench_res bres[VDRV_MAX_QUEUES];
static volatile u32 bench_done[VDRV_MAX_QUEUES];

static u32 bench_lba(unsigned kind, u32 i, u32 first, u32 span)
{
	return kind == 2 ? first + i % span : first + rnd(span);
}

static void bench_queue(unsigned q)
{
	const char *rw = cmdline_get("rw");
	unsigned kind = rw && !strcmp(rw, "randwrite") ? 1 : rw && !strcmp(rw, "seqwrite") ? 2 : 0;
	u32 type = kind ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	unsigned depth = (unsigned)cmdline_get_u64("depth", 1);
	if (depth < 1 || depth > 64)
		depth = 1;
	u32 n = (u32)cmdline_get_u64("n", 256);
	u32 span = nq > 1 ? nblocks / 2 : nblocks, first = q * span;
	if (depth > span)
		depth = span;
	struct vdrv_queue *vq = vdrv.q[q];
	for (unsigned i = 0; i < depth; i++)
		fill_block(vq->data[i], first + i, 1);
	struct bench_res *r = &bres[q];
	u32 submitted = 0, completed = 0, k0 = vq->kicks, i0 = vq->irqs;
	u64 e0 = hc_get_counter(HC_CTR_EXITS_TOTAL), x0 = hc_get_counter(HC_CTR_EXIT_REASON + 1);
	u64 h0 = hc_get_counter(HC_CTR_EXIT_REASON + 12), p0 = hc_get_counter(HC_CTR_EXIT_REASON + 48);
	u64 t0 = rdtsc_ordered();
	sti();   /* completions are taken by the handler while requests are submitted */
	for (unsigned s2 = 0; s2 < depth && submitted < n; s2++, submitted++)
		vdrv_add(q, s2, type, (u64)bench_lba(kind, submitted, first, span) * SECTORS_PER_BLOCK, vq->data[s2],
			 VDRV_BLOCK, false);
	vdrv_kick(q);
	while (completed < n) {
		bool any = false;
		for (unsigned s2 = 0; s2 < depth; s2++) {
			if (!vq->slot[s2].done)
				continue;
			vq->slot[s2].done = 0;
			any = true;
			completed++;
			if (vq->slot[s2].status != 0)
				r->bad++;
			if (submitted < n) {
				vdrv_add(q, s2, type, (u64)bench_lba(kind, submitted, first, span) * SECTORS_PER_BLOCK,
					 vq->data[s2], VDRV_BLOCK, false);
				submitted++;
			}
		}
		if (any) {
			vdrv_kick(q);
			continue;
		}
		cli();
		bool ready = false;
		for (unsigned s2 = 0; s2 < depth; s2++)
			ready |= vq->slot[s2].done != 0;
		if (ready)
			sti();
		else
			asm volatile("sti; hlt" ::: "memory");   /* the STI shadow: no interrupt lost before HLT */
	}
	u64 t1 = rdtsc_ordered();
	u64 e1 = hc_get_counter(HC_CTR_EXITS_TOTAL), x1 = hc_get_counter(HC_CTR_EXIT_REASON + 1);
	u64 h1 = hc_get_counter(HC_CTR_EXIT_REASON + 12), p1 = hc_get_counter(HC_CTR_EXIT_REASON + 48);
	r->req = completed;
	r->kicks = vq->kicks - k0;
	r->irqs = vq->irqs - i0;
	r->ticks = t1 - t0;
	r->exits = e1 - e0 - 1;   /* the VMCALL that read e1 */
	r->extint = x1 - x0;
	r->hlts = h1 - h0;
	r->ept = p1 - p0;
	/* Verified pass at the same depth (at least 2 distinct blocks). */
	unsigned vd = depth < 2 ? 2 : depth;
	r->bad += random_batch(q, first, span, vd, (u8)(20 + q), false);
}

static void bench_worker(void *arg)
{
	(void)arg;
	bench_queue(1);
	bench_done[1] = 1;
}

static int bench(void)
{
	nblocks = (u32)(vdrv.capacity / SECTORS_PER_BLOCK);
	if (nblocks > MAX_BLOCKS)
		nblocks = MAX_BLOCKS;
	if (nq > 1 && on_cpu_async(1, bench_worker, NULL)) {
		report(false, "vCPU 1 takes the load of queue 1");
		return 0;
	}
	bench_queue(0);
	bool ok = nq < 2 || cpu_wait_idle(1, 600000000);
	report(ok, "bench: every queue finished");
	const char *rw = cmdline_get("rw");
	for (unsigned q = 0; q < nq && ok; q++) {
		struct bench_res *r = &bres[q];
		printf("vblk-bench q=%u rw=%s depth=%u cb=%u event_idx=%u requests=%u ticks=%llu kicks=%u irqs=%u "
		       "exits=%llu extint_exits=%llu hlt_exits=%llu ept_exits=%llu\n", q, rw ? rw : "randread",
		       (unsigned)cmdline_get_u64("depth", 1), vdrv.cb_disable, vdrv.event_idx, r->req,
		       (unsigned long long)r->ticks, r->kicks, r->irqs, (unsigned long long)r->exits,
		       (unsigned long long)r->extint, (unsigned long long)r->hlts, (unsigned long long)r->ept);
		report(!r->bad && r->req == (u32)cmdline_get_u64("n", 256), "bench queue %u: %u requests, all OK, "
		       "verified pass (%u bad)", q, r->req, r->bad);
	}
	return 0;
}

/* ---- test=pcicfg ---- */

static u32 window_read(u8 bar, u32 off, u32 len)
{
	vdrv_window_set(bar, off, len);
	u32 v = vdrv_window_data_read();
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void window_write(u8 bar, u32 off, u32 len, u32 v)
{
	vdrv_window_set(bar, off, len);
	vdrv_window_data_write(v);
}

static void pcicfg(void)
{
	if (!vdrv.pcicfg_cap) {
		report(false, "pcicfg: VIRTIO_PCI_CAP_PCI_CFG present");
		return;
	}
	volatile u8 *c = vdrv.common;
	u32 hdr = vdrv_cfg_read32(vdrv.slot_nr, vdrv.pcicfg_cap);
	report((hdr & 0xff) == 0x09 && ((hdr >> 16) & 0xff) == 20 && (hdr >> 24) == VIRTIO_PCI_CAP_PCI_CFG,
	       "pcicfg: vendor capability at 0x%x, length 20, cfg_type 5", vdrv.pcicfg_cap);
	/* Reads: the common configuration and the device configuration, each width. */
	*(volatile u32 *)(c + VIRTIO_PCI_COMMON_DFSELECT) = 1;
	u32 df_bar = *(volatile u32 *)(c + VIRTIO_PCI_COMMON_DF);
	u32 df_win = window_read(0, VIRTIO_PCI_COMMON_DF, 4);
	u16 nq_win = (u16)window_read(0, VIRTIO_PCI_COMMON_NUMQ, 2);
	u8 st_win = (u8)window_read(0, VIRTIO_PCI_COMMON_STATUS, 1);
	u32 cap_lo = window_read(0, (u32)(vdrv.devcfg - vdrv.bar), 4);
	report(df_win == df_bar && nq_win == *(volatile u16 *)(c + VIRTIO_PCI_COMMON_NUMQ) &&
	       st_win == vdrv_status() && cap_lo == (u32)vdrv.capacity,
	       "pcicfg: reads equal the BAR's: device_feature[1] 0x%x, num_queues %u, device_status 0x%x, capacity %u",
	       df_win, nq_win, st_win, cap_lo);
	/* Writes: device_status through the window. */
	window_write(0, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	u8 after_reset = vdrv_status();
	window_write(0, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	u8 ack = vdrv_status();
	window_write(0, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	u8 drv = vdrv_status();
	report(after_reset == 0 && ack == VIRTIO_STATUS_ACKNOWLEDGE &&
	       drv == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER) &&
	       (u8)window_read(0, VIRTIO_PCI_COMMON_STATUS, 1) == drv,
	       "pcicfg: device_status written through the window reads back through the BAR (0x%x, 0x%x, 0x%x)",
	       after_reset, ack, drv);
	report(reinit(), "pcicfg: re-initialised after the reset through the window");
	/* A notification through the window (2 bytes, queue 0 at its notify offset). */
	struct vdrv_queue *q0 = vdrv.q[0];
	u8 *buf = q0->data[0];
	fill_block(buf, 3, 0x5a);
	vdrv_add(0, 0, VIRTIO_BLK_T_OUT, 3 * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false);
	window_write(0, (u32)(vdrv.notify_base - vdrv.bar), 2, 0);
	bool done = vdrv_wait(0, 0, 2000000);
	memset(buf, 0, VDRV_BLOCK);
	int st = vdrv_rw(0, 0, VIRTIO_BLK_T_IN, 3 * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false);
	report(done && q0->slot[0].status == 0 && st == 0 && check_block(buf, 3, 0x5a),
	       "pcicfg: a notification through the window completes a write (read back verified)");
	/* Settings the driver must not use: nothing is accessed; pci_cfg_data keeps what
	 * was last stored in it. */
	u8 live = vdrv_status();
	window_write(0, VIRTIO_PCI_COMMON_STATUS, 3, 0);        /* length 3 */
	u32 kept = vdrv_window_data_read();
	window_write(0, VIRTIO_PCI_COMMON_STATUS + 1, 2, 0);    /* offset not a multiple of 2 */
	window_write(1, VIRTIO_PCI_COMMON_STATUS, 1, 0);        /* BAR1: unimplemented */
	window_write(0, 0x8000, 4, 0);                          /* beyond the 32 KiB BAR */
	vdrv_window_set(0, VIRTIO_PCI_COMMON_Q_SELECT, 4);        /* 0x16: not a multiple of 4 */
	vdrv_window_data_write(0x11223344);                     /* misaligned: dropped */
	u32 stale = vdrv_window_data_read();                    /* misaligned: no read either */
	report(vdrv_status() == live && (live & VIRTIO_STATUS_DRIVER_OK) && kept == 0 && stale == 0x11223344,
	       "pcicfg: length 3, a misaligned offset, BAR1 and beyond the BAR access nothing (status 0x%x, "
	       "data 0x%x, 0x%x)", vdrv_status(), kept, stale);
	st = vdrv_rw(0, 0, VIRTIO_BLK_T_IN, 3 * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false);
	report(st == 0 && check_block(buf, 3, 0x5a), "pcicfg: the device still works");
}

/* ---- test=retarget ---- */

/* One read of block 0 on queue 0 with interrupts on: did it complete, and how many
 * interrupts came (the reaper runs here if none did). */
static bool retarget_req(u32 *irqs_seen)
{
	struct vdrv_queue *q0 = vdrv.q[0];
	u32 irqs = q0->irqs;
	vdrv_add(0, 0, VIRTIO_BLK_T_IN, 0, q0->data[0], VDRV_BLOCK, false);
	vdrv_kick(0);
	sti();
	bool used = wait_until(*(volatile u16 *)&q0->used->idx != q0->last_used || q0->slot[0].done, TIMEOUT_US);
	udelay(1000);
	cli();
	*irqs_seen = q0->irqs - irqs;
	vdrv_reap(0);
	return used && q0->slot[0].done && q0->slot[0].status == 0;
}

/* Queue 0's MSI-X entry (1) names APIC ID id: masked while rewritten (the driver's rule). */
static void retarget_entry(u32 id)
{
	volatile u32 *e = vdrv_msix_entry(1);
	e[3] = 1;
	e[0] = 0xfee00000u | id << 12;
	e[3] = 0;
}

static void retarget(void)
{
	u32 me = apic_read(APIC_ID) >> 24, n0, n1, n2, n3;
	bool ok0 = retarget_req(&n0);
	apic_write(APIC_ID, (me + 5) << 24);
	u32 now = apic_read(APIC_ID) >> 24;
	bool ok1 = retarget_req(&n1);
	report(ok0 && n0 == 1 && now == me + 5 && ok1 && n1 == 0,
	       "retarget: after the APIC ID changed %u -> %u, the vector naming %u reaches nobody (%u, %u interrupts)",
	       me, now, me, n0, n1);
	retarget_entry(me + 5);
	bool ok2 = retarget_req(&n2);
	report(ok2 && n2 == 1, "retarget: the entry rewritten to APIC ID %u: the interrupt arrives (%u)", me + 5, n2);
	apic_write(APIC_ID, me << 24);
	retarget_entry(me);
	bool ok3 = retarget_req(&n3);
	report(ok3 && n3 == 1, "retarget: APIC ID and entry back to %u: the interrupt arrives (%u)", me, n3);
}

/* ---- test=hostile ---- */

static struct virtq_desc big_table[300] __attribute__((aligned(16)));
static u8 junk[4096] __attribute__((aligned(4096)));

static struct virtio_blk_req_hdr *hdr0(u32 type, u64 sector)
{
	struct vdrv_slot *s = &vdrv.q[0]->slot[0];
	s->hdr = (struct virtio_blk_req_hdr){ .type = type, .sector = sector };
	s->status = 0xff;
	s->done = 0;
	return &s->hdr;
}

/* Descriptors 0..n-1 as given (NEXT links to i + 1 unless d.next is set), head 0. */
static void raw_chain(const struct virtq_desc *d, unsigned n)
{
	struct vdrv_queue *vq = vdrv.q[0];
	for (unsigned i = 0; i < n; i++) {
		vq->desc[i] = d[i];
		if ((d[i].flags & VIRTQ_DESC_F_NEXT) && !d[i].next)
			vq->desc[i].next = (u16)(i + 1);
	}
	vdrv_publish(0, 0);
	vdrv_kick(0);
}

#define D(a, l, f) ((struct virtq_desc){ (u64)(a), (l), (f), 0 })
#define R VIRTQ_DESC_F_NEXT
#define W (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE)
#define WL VIRTQ_DESC_F_WRITE
#define ST ((u64)&vdrv.q[0]->slot[0].status)

static void expect_status(const char *what, const struct virtq_desc *d, unsigned n, u8 want)
{
	raw_chain(d, n);
	bool done = vdrv_wait(0, 0, TIMEOUT_US);
	u8 st = vdrv.q[0]->slot[0].status;
	report(done && st == want && vdrv.q[0]->slot[0].used_len >= 1 && !(vdrv_status() & VIRTIO_STATUS_NEEDS_RESET),
	       "%s: status %s (%u, used len %u)", what, want == VIRTIO_BLK_S_IOERR ? "IOERR" : "UNSUPP", st,
	       vdrv.q[0]->slot[0].used_len);
}

/* After a broken request: NEEDS_RESET with a configuration interrupt; reset,
 * re-initialise, and a good request works. */
static void expect_broken(const char *what)
{
	u32 c0 = vdrv.config_irqs;
	sti();
	bool irq = wait_until(vdrv.config_irqs != c0, TIMEOUT_US);
	cli();
	u8 st = vdrv_status();
	report(irq && (st & VIRTIO_STATUS_NEEDS_RESET), "%s: NEEDS_RESET (status 0x%x) with a configuration interrupt",
	       what, st);
	bool ok = reinit();
	u8 *buf = vdrv.q[0]->data[0];
	fill_block(buf, 3, 7);
	int w = vdrv_rw(0, 0, VIRTIO_BLK_T_OUT, 3 * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false);
	memset(buf, 0, VDRV_BLOCK);
	int r = vdrv_rw(0, 0, VIRTIO_BLK_T_IN, 3 * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false);
	if (!ok || w || r || !check_block(buf, 3, 7))
		report(false, "%s: after the reset a good request works (%d, %d)", what, w, r);
}

static int hostile(void)
{
	u8 *data = vdrv.q[0]->data[0];
	u64 cap = vdrv.capacity;
	/* Requests that get a status. */
	struct virtq_desc c1[] = { D(hdr0(99, 0), 16, R), D(ST, 1, WL) };
	expect_status("unknown request type 99", c1, 2, VIRTIO_BLK_S_UNSUPP);
	struct virtq_desc c2[] = { D(hdr0(VIRTIO_BLK_T_FLUSH, 0), 16, R), D(data, 512, R), D(ST, 1, WL) };
	expect_status("flush with data", c2, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c3[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R), D(data, 0, W), D(ST, 1, WL) };
	expect_status("zero-length data descriptor", c3, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c4[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R), D(data, 0x1000000, W), D(ST, 1, WL) };
	expect_status("16 MiB descriptor", c4, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c5[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R), D(0x100000000ull, 4096, W), D(ST, 1, WL) };
	expect_status("buffer outside guest RAM (4 GiB)", c5, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c6[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R), D(VDRV_BAR_ADDR, 4096, W), D(ST, 1, WL) };
	expect_status("buffer over the device's own MMIO BAR", c6, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c7[] = { D(hdr0(VIRTIO_BLK_T_OUT, 0), 16, R), D(0xfee00000u, 512, R), D(ST, 1, WL) };
	expect_status("buffer over the local APIC page", c7, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c8[] = { D(hdr0(VIRTIO_BLK_T_IN, cap), 16, R), D(data, 512, W), D(ST, 1, WL) };
	expect_status("read at the capacity", c8, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c9[] = { D(hdr0(VIRTIO_BLK_T_IN, ~0ull - 1), 16, R), D(data, 4096, W), D(ST, 1, WL) };
	expect_status("sector 2^64-2 (overflow)", c9, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c10[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R), D(data, 100, W), D(ST, 1, WL) };
	expect_status("data not a multiple of 512", c10, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c11[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 8, R), D(data, 512, W), D(ST, 1, WL) };
	expect_status("8-byte header", c11, 3, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c12[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R), D(data, 512, W), D(junk, 16, R), D(ST, 1, WL) };
	expect_status("device-readable after device-writable", c12, 4, VIRTIO_BLK_S_IOERR);
	struct virtq_desc c13[] = { D(hdr0(VIRTIO_BLK_T_OUT, 0), 16, R), D(data, 512, W), D(ST, 1, WL) };
	expect_status("write whose data is device-writable", c13, 3, VIRTIO_BLK_S_IOERR);

	/* Requests that break the queue: NEEDS_RESET. */
	struct virtq_desc b1[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R), D(data, 512, W), D(data + 512, 512, W) };
	b1[2].next = 1;   /* 0 -> 1 -> 2 -> 1 */
	raw_chain(b1, 3);
	expect_broken("descriptor loop");
	struct virtq_desc b2[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R) };
	b2[0].next = 300;
	raw_chain(b2, 1);
	expect_broken("next index 300 (queue size 256)");
	struct virtq_desc b3[] = { D(big_table, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT), D(ST, 1, WL) };
	raw_chain(b3, 2);
	expect_broken("INDIRECT together with NEXT");
	big_table[0] = D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R);
	big_table[0].next = 1;
	big_table[1] = D(&big_table[2], 32, VIRTQ_DESC_F_INDIRECT);
	struct virtq_desc b4[] = { D(big_table, 32, VIRTQ_DESC_F_INDIRECT) };
	raw_chain(b4, 1);
	expect_broken("indirect table inside an indirect table");
	for (unsigned i = 0; i < 300; i++) {
		big_table[i] = D(junk, 512, W);
		big_table[i].next = (u16)(i + 1);
	}
	big_table[0] = D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R);
	big_table[0].next = 1;
	big_table[299] = D(ST, 1, WL);
	struct virtq_desc b5[] = { D(big_table, sizeof(big_table), VIRTQ_DESC_F_INDIRECT) };
	raw_chain(b5, 1);
	expect_broken("chain of 300 descriptors (longer than the queue)");
	struct virtq_desc b6[] = { D(big_table, 24, VIRTQ_DESC_F_INDIRECT) };
	raw_chain(b6, 1);
	expect_broken("indirect table of 24 bytes");
	struct virtq_desc b7[] = { D(0x100000000ull, 48, VIRTQ_DESC_F_INDIRECT) };
	raw_chain(b7, 1);
	expect_broken("indirect table outside guest RAM");
	struct virtq_desc b8[] = { D(hdr0(VIRTIO_BLK_T_IN, 0), 16, R), D(data, 512, R) };
	b8[1].flags = 0;
	raw_chain(b8, 2);
	expect_broken("no device-writable status byte");
	vdrv_publish(0, 1000);
	vdrv_kick(0);
	expect_broken("head index 1000");
	struct vdrv_queue *vq = vdrv.q[0];
	vq->avail_idx += 500;
	*(volatile u16 *)&vq->avail->idx = vq->avail_idx;
	vdrv_kick(0);
	*(volatile u16 *)vq->notify = 0;   /* whatever suppression says */
	expect_broken("available index 500 ahead");

	/* A queue whose descriptor table is the device's own BAR: refused at enable. */
	vdrv_set_status(0);
	vdrv_set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	*(volatile u32 *)(vdrv.common + VIRTIO_PCI_COMMON_GFSELECT) = 1;
	*(volatile u32 *)(vdrv.common + VIRTIO_PCI_COMMON_GF) = 1;   /* VERSION_1 */
	vdrv_set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	vdrv_write16(VIRTIO_PCI_COMMON_Q_SELECT, 0);
	*(volatile u32 *)(vdrv.common + VIRTIO_PCI_COMMON_Q_DESCLO) = VDRV_BAR_ADDR;
	*(volatile u32 *)(vdrv.common + VIRTIO_PCI_COMMON_Q_AVAILLO) = (u32)(u64)junk;
	*(volatile u32 *)(vdrv.common + VIRTIO_PCI_COMMON_Q_USEDLO) = (u32)(u64)junk + 2048;
	vdrv_write16(VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	report((vdrv_status() & VIRTIO_STATUS_NEEDS_RESET) && !vdrv_read16(VIRTIO_PCI_COMMON_Q_ENABLE),
	       "queue with its descriptor table over MMIO: not enabled, NEEDS_RESET (0x%x)", vdrv_status());
	report(reinit(), "re-initialised after the refused queue");

	/* Ignored accesses: a notification for a queue that does not exist, a 1-byte write
	 * to a 16-bit field. */
	*(volatile u16 *)(vdrv.notify_base + 7ul * vdrv.notify_mult) = 7;
	*(volatile u8 *)(vdrv.common + VIRTIO_PCI_COMMON_Q_SELECT) = 1;
	u8 *buf = vdrv.q[0]->data[0];
	fill_block(buf, 4, 9);
	int w = vdrv_rw(0, 0, VIRTIO_BLK_T_OUT, 4 * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false);
	memset(buf, 0, VDRV_BLOCK);
	int r = vdrv_rw(0, 0, VIRTIO_BLK_T_IN, 4 * SECTORS_PER_BLOCK, buf, VDRV_BLOCK, false);
	report(!w && !r && check_block(buf, 4, 9) && !(vdrv_status() & VIRTIO_STATUS_NEEDS_RESET),
	       "bad notification and bad-width write ignored: the device still works");
	return 0;
}

int main(void)
{
	crc_init();
	if (!hv_present()) {
		report_skip("needs the hypervisor's virtio-blk device (vm=...,disk=...)");
		return report_summary();
	}
	if (apic_setup(APIC_MODE_XAPIC)) {
		report(false, "APIC set up");
		return report_summary();
	}
	percpu[0].apic_id = apic_id();
	unsigned cpus = cmdline_get_u64("cpus", 1) > 1 ? smp_init() : 1;
	nq = cpus > 1 ? 2 : 1;
	for (unsigned i = 0; i < nq; i++)
		apic_ids[i] = smp_apic_id(i);
	apic_ids[0] = percpu[0].apic_id;
	if (!vdrv_probe()) {
		report(false, "virtio-blk 1af4:1042 found on bus 0 with its capabilities");
		return report_summary();
	}
	unsigned s = vdrv.slot_nr;
	u32 rev_class = vdrv_cfg_read32(s, 8);
	u32 sub = vdrv_cfg_read32(s, 0x2c);
	report((rev_class & 0xff) >= 1 && (sub >> 16) >= 0x40, "virtio-blk 1af4:1042 at 00:%02x.0, revision %u, "
	       "subsystem 0x%04x: a modern device", s, rev_class & 0xff, sub >> 16);
	/* A driver without VERSION_1 (a legacy driver) is refused FEATURES_OK. */
	int r = vdrv_init(1ull << VIRTIO_BLK_F_FLUSH, nq, apic_ids);
	report(r == -2 && !(vdrv_status() & VIRTIO_STATUS_FEATURES_OK), "FEATURES_OK refused without VERSION_1 (%d)", r);
	report(reinit(), "initialised: %u queue(s), MSI-X, DRIVER_OK", nq);
	const char *t = cmdline_get("test");
	if (t && !strcmp(t, "hostile"))
		hostile();
	else if (t && !strcmp(t, "bench"))
		bench();
	else if (t && !strcmp(t, "pcicfg"))
		pcicfg();
	else if (t && !strcmp(t, "retarget"))
		retarget();
	else
		normal();
	return report_summary();
}
