/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk PCI function: virtio 1.2, 4.1 "Virtio Over PCI Bus" (modern only) with
 * 5.2 "Block Device" on a RAM disk. Register map (BAR0, 64-bit memory, 32 KiB):
 *
 *   0x0000  common configuration (4.1.4.3), VIRTIO_PCI_CAP_COMMON_CFG
 *   0x1000  ISR status (4.1.4.5), VIRTIO_PCI_CAP_ISR_CFG: read-to-clear
 *   0x2000  device configuration: struct virtio_blk_config, VIRTIO_PCI_CAP_DEVICE_CFG
 *   0x3000  notifications (4.1.4.4), VIRTIO_PCI_CAP_NOTIFY_CFG: queue q at q * 4
 *           (queue_notify_off = q, notify_off_multiplier = 4)
 *   0x4000  MSI-X table (hv/pci/msix.c), one vector per queue plus one for configuration
 *   0x5000  MSI-X PBA
 *
 * Queues: one per vCPU (VIRTIO_BLK_F_MQ), each up to VQ_MAX_SIZE entries.
 *
 * PCI configuration access (4.1.4.9 "PCI configuration access capability": "The device
 * MUST present at least one VIRTIO_PCI_CAP_PCI_CFG capability"): a capability whose
 * cap.bar, cap.offset and cap.length the driver writes and whose pci_cfg_data (4 bytes
 * at +16) is a window on BAR0 through configuration space: "Upon detecting driver write
 * access to pci_cfg_data, the device MUST execute a write access at offset cap.offset
 * at BAR selected by cap.bar using the first cap.length bytes from pci_cfg_data", and a
 * read access likewise "store[s] the first cap.length bytes in pci_cfg_data". The access
 * is the one a memory access to the BAR would be (common configuration, ISR with its
 * read-to-clear, notifications, the MSI-X table), whether or not the BAR is decoded.
 * The driver "MUST NOT" use the window unless cap.length is 1, 2 or 4, cap.offset is a
 * multiple of cap.length and the access lies within a BAR; the device does nothing for
 * any other setting (BAR 1-5 are unimplemented here): a write is dropped, a read leaves
 * pci_cfg_data as it was; each such access is counted (bad_access) and logged.
 *
 * Device status (2.1 "Device Status Field", 3.1 "Device Initialization"): writing 0
 * resets the device (4.1.4.3.2: "The device MUST reset when 0 is written to
 * device_status, and present a 0 in device_status once that is done"). FEATURES_OK is
 * kept only when the driver's features are a subset of the device's and include
 * VERSION_1 (2.2.2: otherwise the device "MUST fail to set the FEATURES_OK device status
 * bit"); DRIVER_OK only after FEATURES_OK. Buffers are consumed only while DRIVER_OK is
 * set and NEEDS_RESET is not (2.1.2: "The device MUST NOT consume buffers or send any
 * used buffer notifications to the driver before DRIVER_OK"). When the driver breaks a
 * queue's structure (virtio/virtq.h) or a request has nowhere to put its status, the
 * device sets NEEDS_RESET and, with DRIVER_OK set, sends a configuration change
 * notification (2.1.2: "If DRIVER_OK is set, after it sets DEVICE_NEEDS_RESET, the device
 * MUST send a device configuration change notification to the driver"); it then
 * ignores notifications until the reset.
 *
 * Data path of a request: the driver's write to the notify region is an MMIO exit that
 * reaches vblk_bar_access() through the I/O bus (the BAR is IO_RANGE_LOCKLESS, struct
 * pci_vdev_ops bar_lockless) and takes only that queue's lock; the queue is drained
 * there (inline completion): each chain is walked (vq_pop), executed on the RAM disk
 * (blk_handle) and returned (vq_push, used index released after the element). After the
 * drain, one decision per queue (vq_need_notify: event index or NO_INTERRUPT, after a
 * full barrier) either raises the queue's MSI-X vector (pci_msix_raise: pending bit while
 * masked, else msi_deliver -> vlapic_deliver -> vcpu_post_irq into the target's
 * posted-interrupt descriptor) or counts a suppressed interrupt. Without MSI-X the ISR
 * bit and INTA# are used.
 *
 * Completion context (docs/INTERFACES.md, "virtio-blk"): inline, as above; or, with
 * iocpu=N, on a physical CPU set aside that runs no vCPU (virtio_blk_iocpu_loop): a
 * notification then only rings the queue's doorbell (virtio/ioq.h) and returns; the
 * I/O CPU polls every queue of every disk in a loop whose passes are bounded (the same
 * budget per queue and pass as a notification, at most a queue's worth in flight), and
 * asks the drivers for no notifications at all while it polls (vq_poll_mode, as vhost's
 * busy polling does). A request is executed when taken; with disk_latency=TICKS its
 * used element is written only TICKS later (the in-flight FIFO), so the completion and
 * its interrupt come from another CPU, later, like a real device's. A broken queue
 * marks the device NEEDS_RESET there as inline, and the I/O CPU goes on with the other
 * queues.
 *
 * Locks. The device lock (pci.dev.lock) guards the common configuration, the device
 * status, feature negotiation, ISR, the device configuration and the MSI-X table (the
 * bus does not take it for this BAR: every access outside the notify region takes it
 * here; configuration space accesses arrive with it held). Each queue's lock guards
 * its request path: notify -> walk (vq_pop) -> backend (blk_handle) -> used ring ->
 * interrupt decision -> pci_msix_raise_ex (which takes the MSI-X lock). Order: device
 * lock, then queue locks in index order, then the MSI-X lock. Two queues therefore run
 * their requests on two CPUs at once. The queue path never takes the device lock while
 * it holds a queue lock: without MSI-X it sets the ISR bit atomically and asserts INTx
 * after dropping the queue lock (raise_intx, under the device lock, only if the bit is
 * still set). A reset (status 0, or the function's reset) and every other status write
 * take the device lock and then every queue lock, so a notification on another CPU
 * either finished before (its used entries are discarded with the queue) or starts
 * after and finds the device not live; NEEDS_RESET, which the queue path may set, is an
 * atomic OR, so a status write, which holds every queue lock, never loses it.
 *
 * I/O CPU polling (iopoll_us=, docs/INTERFACES.md): a queue is polled from its first
 * kick; once it has had nothing to do for iopoll_us, the I/O CPU asks for notifications
 * again (vq_notify_on: avail_event = last_avail with EVENT_IDX, else the NO_NOTIFY flag
 * cleared; 2.7.10 "Available Buffer Notification Suppression"), re-reads the available
 * index after a full barrier (2.7.13.4 "Notifying The Device": the driver updates idx,
 * then, after a memory barrier, reads avail_event or the flags; so either the driver
 * sees the request and notifies or the re-read sees its buffer) and stops polling the queue until its next kick rings the doorbell. In-flight
 * requests (disk_latency=) keep a queue polled. iopoll_us=0 polls every queue of a live
 * device for ever, kicked or not.
 *
 * Every guest mistake is answered (a status, NEEDS_RESET, or an ignored access) with at
 * most one vm_log() line (rate-limited per VM), never a fault of the hypervisor.
 */
#include "virtio/virtio_blk.h"
#include "virtio/virtq.h"
#include "virtio/blk_req.h"
#include "hv/pci/pci.h"
#include "hv/vm/vm.h"
#include "hv/mm/mm.h"
#include "hv/lib/lib.h"
#include "hv/lib/console.h"
#include "hv/host/cpu.h"
#include "arch/x86/x86.h"
#include "virtio/ioq.h"
#include "hv/host/time.h"

#define VBLK_BAR 0
#define VBLK_BAR_SIZE 0x8000
#define VBLK_COMMON 0x0000
#define VBLK_ISR 0x1000
#define VBLK_DEVCFG 0x2000
#define VBLK_NOTIFY 0x3000
#define VBLK_NOTIFY_MULT 4
#define VBLK_MSIX_TABLE 0x4000
#define VBLK_MSIX_PBA 0x5000
#define VBLK_PCICFG_LEN 20                /* struct virtio_pci_cfg_cap: the capability + pci_cfg_data[4] */
#define VBLK_PCICFG_DATA 16               /* pci_cfg_data in the capability */
#define VBLK_SEG_MAX (VQ_MAX_CHAIN - 2)   /* header and status take one descriptor each */
#define VBLK_BUDGET(size) (4u * (size))   /* chains taken per notification at most */

struct vblk_queue {
	struct spinlock lock;      /* the request path (header comment); a reset takes it too */
	struct vq vq;
	struct vq_chain *chain;    /* walk scratch, under lock */
	u16 size;                  /* queue_size as the driver set it */
	u16 msix;                  /* queue_msix_vector (device lock; read under lock) */
	bool enabled;
	u64 desc, driver, device;  /* queue_desc, queue_driver, queue_device */
	u64 requests, irqs, suppressed;
	u64 kicks;                 /* atomic: a notification need not take the lock (iocpu) */
	struct ioq_fifo inflight;  /* iocpu: executed, not yet returned (disk_latency) */
	/* iocpu polling (iopoll_us=): the I/O CPU's, under lock */
	bool polling;              /* notifications suppressed, the queue looked at every pass */
	u64 idle_since;            /* tick of the last pass that found work */
	u64 poll_stops, poll_wakes;
};

struct vblk {
	struct pci_vdev pci;
	struct blk_disk disk;
	u32 nq;
	u64 dev_features, drv_features;
	u32 dfselect, gfselect;
	u16 config_msix;
	u8 status;
	u8 generation;
	u16 qsel;
	u8 isr;
	struct virtio_blk_config cfg;
	struct vblk_queue q[MAX_VCPUS_PER_VM];
	u8 pcicfg;                 /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	/* counters (docs/INTERFACES.md, "virtio-blk"); atomic adds (any queue's path) */
	u64 ioerr, unsupp, needs_reset, resets, config_irqs, bad_access, deferred;
	u64 posted, left_pending;  /* queue messages sent to the MSI path / left pending (masked) */
	u64 latency;               /* disk_latency: ticks from taking a request to returning it */
	u64 inflight_max;          /* the most requests of one queue in flight at once */
	u64 pcicfg_reads, pcicfg_writes;   /* BAR accesses through the PCI_CFG window */
	struct ioq_doorbell bell;  /* iocpu: queues notified since the I/O CPU last looked */
};

static struct cpu *io_cpu;     /* iocpu=: the CPU that completes requests; NULL: inline */
static u64 iopoll_ticks;       /* iopoll_us= in TSC ticks; 0: poll for ever */
static u32 iopoll_us;

#define CNT_ADD(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define CNT(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static struct vblk vblks[MAX_VMS];
static bool present[MAX_VMS];

static void *map_guest(void *ctx, u64 gpa, u64 len)
{
	return gpa_to_hva(ctx, gpa, len);
}

static struct vq_mem guest_mem(struct vblk *b)
{
	return (struct vq_mem){ .map = map_guest, .ctx = b->pci.vm };
}

static bool has(const struct vblk *b, unsigned bit)
{
	return b->drv_features & BIT64(bit);
}

/* ---- interrupts ---- */

/* Raise MSI-X vector vec; without MSI-X set the ISR bit and return true: INTA# is
 * owed, which the caller asserts with raise_intx() once it holds no queue lock. */
static bool notify_driver(struct vblk *b, u16 vec, u8 isr_bit)
{
	if (pci_msix_enabled(&b->pci)) {
		bool pending;
		if (vec != VIRTIO_MSI_NO_VECTOR && pci_msix_raise_ex(&b->pci, vec, &pending)) {
			if (pending)
				CNT_ADD(b->left_pending, 1);
			else
				CNT_ADD(b->posted, 1);
		}
		return false;
	}
	__atomic_fetch_or(&b->isr, isr_bit, __ATOMIC_SEQ_CST);
	return true;
}

/* Assert INTA# for ISR bits set by a queue path (notify_driver returned true), under
 * the device lock (dev_locked: the caller holds it). Nothing when an ISR read or a
 * reset cleared the bits meanwhile. */
static void raise_intx(struct vblk *b, bool dev_locked)
{
	u64 f = dev_locked ? 0 : spin_lock_irqsave(&b->pci.dev.lock);
	if (__atomic_load_n(&b->isr, __ATOMIC_SEQ_CST))
		pci_intx_set(&b->pci, true);
	if (!dev_locked)
		spin_unlock_irqrestore(&b->pci.dev.lock, f);
}

static void update_polled(struct vblk *b);
/* Set NEEDS_RESET (atomic: a queue path holds only its queue's lock). True when INTA#
 * is owed (notify_driver). */
static bool needs_reset(struct vblk *b, const char *fmt, ...) __printf(2, 3);
static bool needs_reset(struct vblk *b, const char *fmt, ...)
{
	char why[120];
	va_list ap;
	va_start(ap, fmt);
	hv_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vm_log(b->pci.vm, "vm %s: virtio-blk: %s: device needs reset\n", b->pci.vm->name, why);
	u8 old = __atomic_fetch_or(&b->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_SEQ_CST);
	if (old & VIRTIO_STATUS_NEEDS_RESET)
		return false;
	CNT_ADD(b->needs_reset, 1);
	update_polled(b);
	if (old & VIRTIO_STATUS_DRIVER_OK) {
		CNT_ADD(b->config_irqs, 1);
		return notify_driver(b, b->config_msix, VIRTIO_PCI_ISR_CONFIG);
	}
	return false;
}

/* ---- the queues ---- */

static bool live(const struct vblk *b)
{
	u8 st = __atomic_load_n(&b->status, __ATOMIC_ACQUIRE);
	return (st & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) == VIRTIO_STATUS_DRIVER_OK;
}

/* A live disk on the I/O CPU may complete a request any time: the VM is not idle
 * (vm_device_may_interrupt). Called after every status change. */
static void update_polled(struct vblk *b)
{
	b->pci.vm->io_polled = io_cpu && live(b);
}

/* Drain queue qi (its lock held): every available chain is executed and returned
 * (inline), or, on the I/O CPU, the requests due are returned and the available ones
 * taken (returned at once without disk_latency); then one interrupt decision. *work:
 * chains taken or returned. True when INTA# is owed (notify_driver). */
static bool process_queue(struct vblk *b, u32 qi, u32 *work)
{
	struct vblk_queue *q = &b->q[qi];
	struct vq_chain *c = q->chain;
	bool intx = false;
	*work = 0;
	if (!live(b) || !q->enabled)
		return false;
	bool polled = io_cpu != NULL;
	u64 now = polled && b->latency ? rdtsc() : 0;
	u32 done = 0, taken = 0, budget = VBLK_BUDGET(q->vq.size);
	struct ioq_req due;
	while (ioq_peek_due(&q->inflight, now, &due)) {
		ioq_pop(&q->inflight);
		vq_push(&q->vq, due.head, due.len);
		done++;
	}
	struct vq_mem m = guest_mem(b);
	for (;;) {
		if (taken >= budget) {
			if (!polled)
				vq_defer(&q->vq);
			CNT_ADD(b->deferred, 1);
			break;
		}
		if (q->inflight.count >= IOQ_MAX)
			break;   /* the rest waits for the next pass */
		enum vq_err err;
		u32 at;
		enum vq_pop_result r = vq_pop(&q->vq, &m, c, &err, &at);
		if (r == VQ_EMPTY) {
			if (polled || !vq_rearm(&q->vq))
				break;
			continue;
		}
		if (r == VQ_BROKEN) {
			intx |= needs_reset(b, "queue %u: %s (descriptor %u)", qi, vq_err_name(err), at);
			break;
		}
		struct blk_result res;
		blk_handle(&b->disk, c, &res);
		if (res.broken) {
			intx |= needs_reset(b, "queue %u head %u: %s", qi, c->head, blk_err_name(res.err));
			break;
		}
		q->requests++;
		if (res.status != VIRTIO_BLK_S_OK) {
			if (res.status == VIRTIO_BLK_S_UNSUPP)
				CNT_ADD(b->unsupp, 1);
			else
				CNT_ADD(b->ioerr, 1);
			if (res.err == BLK_ERR_SEG)
				vm_log(b->pci.vm, "vm %s: virtio-blk: queue %u head %u: %s (descriptor %u of the chain, "
				       "address 0x%llx length %u): IOERR\n", b->pci.vm->name, qi, c->head,
				       vq_seg_err_name(c->err), c->err_seg,
				       (unsigned long long)c->seg[c->err_seg].gpa,
				       c->seg[c->err_seg].len);
			else
				vm_log(b->pci.vm, "vm %s: virtio-blk: queue %u head %u type %u: %s: %s\n", b->pci.vm->name,
				       qi, c->head, res.type, blk_err_name(res.err),
				       res.status == VIRTIO_BLK_S_UNSUPP ? "UNSUPP" : "IOERR");
		}
		taken++;
		if (polled && b->latency) {
			ioq_put(&q->inflight, c->head, res.written, now + b->latency);   /* room checked above */
			if (q->inflight.count > CNT(b->inflight_max))
				__atomic_store_n(&b->inflight_max, q->inflight.count, __ATOMIC_RELAXED);   /* a statistic */
		} else {
			vq_push(&q->vq, c->head, res.written);
			done++;
		}
	}
	if (polled && q->polling && live(b))
		vq_poll_mode(&q->vq);
	*work = taken + done;
	if (!done)
		return intx;
	/*
	 * Ordering of the used ring before the interrupt (virtio 1.2, 2.7.8 "The Virtqueue
	 * Used Ring": the device sets len "prior to updating the used idx"; 2.7.7 "Used
	 * Buffer Notification Suppression"; 2.7.14 "Receiving Used Buffers From The
	 * Device"): vq_push wrote each element, then released the used index; vq_need_notify
	 * issues a full barrier before it reads used_event, so the index is globally visible
	 * before the decision and before the message is posted (vcpu_post_irq's locked
	 * PIR/ON update follows). The driver's handler, on whatever CPU, therefore finds
	 * every element it is interrupted for. This holds in both contexts: the notifying
	 * vCPU's exit (inline) and the I/O CPU.
	 */
	if (vq_need_notify(&q->vq)) {
		q->irqs++;
		intx |= notify_driver(b, __atomic_load_n(&q->msix, __ATOMIC_RELAXED), VIRTIO_PCI_ISR_QUEUE);
	} else {
		q->suppressed++;
	}
	return intx;
}

/* A notification's drain of queue qi under its lock (inline completion); dev_locked:
 * the caller holds the device lock (a notification through the PCI_CFG window). */
static void run_queue(struct vblk *b, u32 qi, bool dev_locked)
{
	struct vblk_queue *q = &b->q[qi];
	u32 work;
	u64 f = spin_lock_irqsave(&q->lock);
	bool intx = process_queue(b, qi, &work);
	spin_unlock_irqrestore(&q->lock, f);
	if (intx)
		raise_intx(b, dev_locked);
}

/* Every queue lock, in index order, after the device lock (status writes, reset). */
static void lock_queues(struct vblk *b, u64 *flags)
{
	for (u32 i = 0; i < b->nq; i++)
		flags[i] = spin_lock_irqsave(&b->q[i].lock);
}

static void unlock_queues(struct vblk *b, const u64 *flags)
{
	for (u32 i = b->nq; i-- > 0;)
		spin_unlock_irqrestore(&b->q[i].lock, flags[i]);
}

/* Under the queue's lock: everything but the lock, the scratch and the counters. */
static void queue_reset(struct vblk_queue *q)
{
	memset(&q->vq, 0, sizeof(q->vq));
	q->size = VQ_MAX_SIZE;
	q->msix = VIRTIO_MSI_NO_VECTOR;
	q->enabled = false;
	q->desc = q->driver = q->device = 0;
	ioq_init(&q->inflight);   /* a reset drops the requests in flight */
	q->polling = false;
	q->idle_since = 0;
}

/* Under the device lock. */
static void queue_enable(struct vblk *b, struct vblk_queue *q, u32 qi)
{
	struct vq_mem m = guest_mem(b);
	const char *why;
	if (q->enabled)
		return;
	u64 f = spin_lock_irqsave(&q->lock);
	bool ok = vq_attach(&q->vq, &m, q->size, q->desc, q->driver, q->device, has(b, VIRTIO_F_RING_EVENT_IDX),
			    has(b, VIRTIO_F_RING_INDIRECT_DESC), &why);
	q->enabled = ok;
	spin_unlock_irqrestore(&q->lock, f);
	if (!ok && needs_reset(b, "queue %u: size %u desc 0x%llx driver 0x%llx device 0x%llx: %s", qi, q->size,
			       (unsigned long long)q->desc, (unsigned long long)q->driver,
			       (unsigned long long)q->device, why))
		raise_intx(b, true);
}

/* ---- device status and reset ---- */

/* Under the device lock and every queue lock (lock_queues). */
static void device_reset_locked(struct vblk *b)
{
	b->status = 0;
	b->drv_features = 0;
	b->dfselect = b->gfselect = 0;
	b->config_msix = VIRTIO_MSI_NO_VECTOR;
	b->qsel = 0;
	b->isr = 0;
	for (u32 i = 0; i < b->nq; i++)
		queue_reset(&b->q[i]);
	pci_intx_set(&b->pci, false);
	update_polled(b);
}

/* Under the device lock: a notification on another CPU waits for the queue locks, and
 * then finds the device not live (header comment). */
static void device_reset(struct vblk *b)
{
	u64 f[MAX_VCPUS_PER_VM];
	lock_queues(b, f);
	device_reset_locked(b);
	unlock_queues(b, f);
}

/* Under the device lock; takes every queue lock (NEEDS_RESET may be set by a queue). */
static void status_write(struct vblk *b, u8 v)
{
	u64 f[MAX_VCPUS_PER_VM];
	lock_queues(b, f);
	if (!v) {
		device_reset_locked(b);
		b->resets++;
		unlock_queues(b, f);
		return;
	}
	u8 old = b->status;
	u8 want = v & ~VIRTIO_STATUS_NEEDS_RESET;   /* the device's bit, not the driver's */
	if (old & ~want & ~VIRTIO_STATUS_NEEDS_RESET)
		vm_log(b->pci.vm, "vm %s: virtio-blk: driver cleared status bits (0x%x -> 0x%x) without a reset: kept\n",
		       b->pci.vm->name, old, v);
	want |= old & ~VIRTIO_STATUS_NEEDS_RESET;   /* "The driver MUST NOT clear a device status bit" */
	if ((want & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		u64 extra = b->drv_features & ~b->dev_features;
		if (extra || !has(b, VIRTIO_F_VERSION_1)) {
			vm_log(b->pci.vm, "vm %s: virtio-blk: FEATURES_OK refused: driver features 0x%llx (%s)\n",
			       b->pci.vm->name, (unsigned long long)b->drv_features,
			       extra ? "not offered by the device" : "without VERSION_1");
			want &= ~VIRTIO_STATUS_FEATURES_OK;
		}
		b->disk.discard = has(b, VIRTIO_BLK_F_DISCARD);
		b->disk.write_zeroes = has(b, VIRTIO_BLK_F_WRITE_ZEROES);
	}
	if ((want & VIRTIO_STATUS_DRIVER_OK) && !(want & VIRTIO_STATUS_FEATURES_OK)) {
		vm_log(b->pci.vm, "vm %s: virtio-blk: DRIVER_OK without FEATURES_OK refused\n", b->pci.vm->name);
		want &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	__atomic_store_n(&b->status, want | (old & VIRTIO_STATUS_NEEDS_RESET), __ATOMIC_RELEASE);
	update_polled(b);
	bool intx = false;
	if ((b->status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		for (u32 i = 0; i < b->nq; i++) {   /* buffers made available before DRIVER_OK */
			u32 work;
			intx |= process_queue(b, i, &work);
		}
	unlock_queues(b, f);
	if (intx)
		raise_intx(b, true);
}

/* ---- common configuration (4.1.4.3) ---- */

static struct vblk_queue *selected(struct vblk *b)
{
	return b->qsel < b->nq ? &b->q[b->qsel] : NULL;
}

static u64 common_field(struct vblk *b, u32 off)
{
	struct vblk_queue *q = selected(b);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return b->dfselect;
	case VIRTIO_PCI_COMMON_DF: return b->dfselect < 2 ? (u32)(b->dev_features >> (32 * b->dfselect)) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT: return b->gfselect;
	case VIRTIO_PCI_COMMON_GF: return b->gfselect < 2 ? (u32)(b->drv_features >> (32 * b->gfselect)) : 0;
	case VIRTIO_PCI_COMMON_MSIX: return b->config_msix;
	case VIRTIO_PCI_COMMON_NUMQ: return b->nq;
	case VIRTIO_PCI_COMMON_STATUS: return b->status;
	case VIRTIO_PCI_COMMON_CFGGEN: return b->generation;
	case VIRTIO_PCI_COMMON_Q_SELECT: return b->qsel;
	/* "The device MUST present a 0 in queue_size if the virtqueue corresponding to the
	 * current queue_select is unavailable." */
	case VIRTIO_PCI_COMMON_Q_SIZE: return q ? q->size : 0;
	case VIRTIO_PCI_COMMON_Q_MSIX: return q ? q->msix : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return q ? q->enabled : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF: return b->qsel < b->nq ? b->qsel : 0;
	case VIRTIO_PCI_COMMON_Q_DESCLO: return q ? q->desc : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: return q ? q->driver : 0;
	case VIRTIO_PCI_COMMON_Q_USEDLO: return q ? q->device : 0;
	default: return 0;
	}
}

/* Field widths: 4.1.3.1 "The driver MUST access each field using the 'natural' access
 * method"; 64-bit fields may be accessed as two 32-bit halves. */
static unsigned field_width(u32 off)
{
	if (off < VIRTIO_PCI_COMMON_MSIX)
		return 4;
	if (off == VIRTIO_PCI_COMMON_STATUS || off == VIRTIO_PCI_COMMON_CFGGEN)
		return 1;
	if (off < VIRTIO_PCI_COMMON_Q_DESCLO)
		return 2;
	return 8;
}

static u64 common_read(struct vblk *b, u32 off, unsigned size)
{
	if (off >= VIRTIO_PCI_COMMON_LEN)
		return 0;
	unsigned w = field_width(off);
	u32 base = off & ~(w - 1);
	u64 v = common_field(b, base) >> (8 * (off - base));
	return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static bool msix_vector_ok(const struct vblk *b, u16 v)
{
	return v == VIRTIO_MSI_NO_VECTOR || v < b->pci.msix.nvec;
}

static void set_half(u64 *field, u32 off, unsigned size, u64 v)
{
	if (size == 8)
		*field = v;
	else if (off & 4)
		*field = (*field & 0xffffffffull) | (v << 32);
	else
		*field = (*field & ~0xffffffffull) | (u32)v;
}

static void common_write(struct vblk *b, u32 off, unsigned size, u64 v)
{
	unsigned w = off < VIRTIO_PCI_COMMON_LEN ? field_width(off) : 0;
	bool ok = w && (size == w || (w == 8 && size == 4)) && !(off & (size - 1));
	if (!ok) {
		CNT_ADD(b->bad_access, 1);
		vm_log(b->pci.vm, "vm %s: virtio-blk: common configuration write of %u bytes at 0x%x ignored\n",
		       b->pci.vm->name, size, off);
		return;
	}
	struct vblk_queue *q = selected(b);
	u32 base = off & ~7u;
	switch (w == 8 ? base : off) {
	case VIRTIO_PCI_COMMON_DFSELECT: b->dfselect = (u32)v; return;
	case VIRTIO_PCI_COMMON_GFSELECT: b->gfselect = (u32)v; return;
	case VIRTIO_PCI_COMMON_GF:
		/* 2.2.1: the device MUST NOT accept new features after FEATURES_OK. */
		if (b->status & VIRTIO_STATUS_FEATURES_OK) {
			vm_log(b->pci.vm, "vm %s: virtio-blk: driver features written after FEATURES_OK: ignored\n",
			       b->pci.vm->name);
		} else if (b->gfselect < 2) {
			u32 sh = 32 * b->gfselect;
			b->drv_features = (b->drv_features & ~(0xffffffffull << sh)) | ((u64)(u32)v << sh);
		}
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		/* 4.1.5.1.2: a vector the device cannot map reads back as NO_VECTOR. */
		b->config_msix = msix_vector_ok(b, (u16)v) ? (u16)v : VIRTIO_MSI_NO_VECTOR;
		return;
	case VIRTIO_PCI_COMMON_STATUS: status_write(b, (u8)v); return;
	case VIRTIO_PCI_COMMON_Q_SELECT: b->qsel = (u16)v; return;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (q)
			q->msix = msix_vector_ok(b, (u16)v) ? (u16)v : VIRTIO_MSI_NO_VECTOR;
		return;
	default:
		break;
	}
	if (!q) {
		CNT_ADD(b->bad_access, 1);
		vm_log(b->pci.vm, "vm %s: virtio-blk: queue field 0x%x of queue %u, which does not exist: ignored\n",
		       b->pci.vm->name, off, b->qsel);
		return;
	}
	if (q->enabled) {   /* the driver may not change a live queue */
		CNT_ADD(b->bad_access, 1);
		vm_log(b->pci.vm, "vm %s: virtio-blk: queue %u field 0x%x written while enabled: ignored\n",
		       b->pci.vm->name, b->qsel, off);
		return;
	}
	switch (w == 8 ? base : off) {
	case VIRTIO_PCI_COMMON_Q_SIZE: q->size = (u16)v; return;   /* checked when enabled */
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (v == 1)
			queue_enable(b, q, b->qsel);
		return;
	case VIRTIO_PCI_COMMON_Q_DESCLO: set_half(&q->desc, off, size, v); return;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: set_half(&q->driver, off, size, v); return;
	case VIRTIO_PCI_COMMON_Q_USEDLO: set_half(&q->device, off, size, v); return;
	default: return;   /* read-only fields */
	}
}

/* ---- the BAR ---- */

/* A write to the notify region (no device lock needed: dev_locked says whether the
 * caller holds it, for raise_intx). */
static void notify_access(struct vblk *b, u64 off, struct io_req *req, bool dev_locked)
{
	u64 qi = (off - VBLK_NOTIFY) / VBLK_NOTIFY_MULT;
	if (!req->write) {
		req->value = 0;
	} else if (qi >= b->nq || (off & (VBLK_NOTIFY_MULT - 1))) {
		CNT_ADD(b->bad_access, 1);
		vm_log(b->pci.vm, "vm %s: virtio-blk: notification at 0x%llx names no queue: ignored\n",
		       b->pci.vm->name, (unsigned long long)off);
	} else {
		CNT_ADD(b->q[qi].kicks, 1);
		if (io_cpu)
			ioq_ring(&b->bell, (u32)qi);   /* the I/O CPU completes it */
		else
			run_queue(b, (u32)qi, dev_locked);
	}
}

/* Every BAR0 access but a notification's (those take no device lock), and every
 * access through the PCI_CFG window: under the device lock. */
static enum io_result regs_access(struct vblk *b, u64 off, struct io_req *req)
{
	enum io_result r;
	if (pci_msix_bar_access(&b->pci, VBLK_BAR, off, req, &r))
		return r;
	if (off < VBLK_ISR) {   /* VBLK_COMMON is 0 */
		if (req->write)
			common_write(b, (u32)off, req->size, req->value);
		else
			req->value = common_read(b, (u32)off, req->size);
	} else if (off >= VBLK_ISR && off < VBLK_DEVCFG) {
		/* 4.1.4.5.1: reading the ISR status resets it to 0 (and deasserts INTx). */
		if (!req->write) {
			req->value = off == VBLK_ISR ? __atomic_exchange_n(&b->isr, 0, __ATOMIC_SEQ_CST) : 0;
			if (off == VBLK_ISR)
				pci_intx_set(&b->pci, false);
		}
	} else if (off >= VBLK_DEVCFG && off < VBLK_NOTIFY) {
		u64 o = off - VBLK_DEVCFG;
		if (!req->write) {
			u64 val = 0;
			for (unsigned i = 0; i < req->size && o + i < sizeof(b->cfg); i++)
				val |= (u64)((const u8 *)&b->cfg)[o + i] << (8 * i);
			req->value = val;
		}   /* writes: no writable field is offered (no CONFIG_WCE) */
	} else if (off >= VBLK_NOTIFY && off < VBLK_MSIX_TABLE) {
		notify_access(b, off, req, true);
	} else if (!req->write) {
		req->value = 0;
	}
	return IO_DONE;
}

/* The bus calls this without the device lock (bar_lockless). */
static enum io_result vblk_bar_access(struct pci_vdev *d, struct vcpu *v, unsigned bar, u64 off, struct io_req *req)
{
	(void)v;
	(void)bar;   /* BAR0 is the only one */
	struct vblk *b = container_of(d, struct vblk, pci);
	if (off >= VBLK_NOTIFY && off < VBLK_MSIX_TABLE) {
		notify_access(b, off, req, false);
		return IO_DONE;
	}
	u64 f = spin_lock_irqsave(&d->dev.lock);
	enum io_result r = regs_access(b, off, req);
	spin_unlock_irqrestore(&d->dev.lock, f);
	return r;
}

/* ---- the PCI configuration access window (4.1.4.9) ---- */

/* The access the capability describes, or false when the driver's setting breaks the
 * rules (header comment): cap.bar names BAR0, cap.length is 1, 2 or 4, cap.offset is a
 * multiple of it and the access lies within the BAR. Pure. */
static bool pcicfg_window(u8 bar, u32 offset, u32 length)
{
	return bar == VBLK_BAR && (length == 1 || length == 2 || length == 4) && !(offset & (length - 1)) &&
	       offset <= VBLK_BAR_SIZE - length;
}

static bool overlaps_data(const struct vblk *b, u32 reg, unsigned size)
{
	u32 data = b->pcicfg + VBLK_PCICFG_DATA;
	return b->pcicfg && reg < data + 4 && reg + size > data;
}

/* A driver access to pci_cfg_data (the device lock is held: configuration space). */
static void pcicfg_access(struct vblk *b, bool write)
{
	struct pci_vdev *d = &b->pci;
	u8 at = b->pcicfg;
	u8 bar = (u8)pci_cfg_get(d, at + 4, 1);
	u32 off = pci_cfg_get(d, at + 8, 4), len = pci_cfg_get(d, at + 12, 4);
	if (!pcicfg_window(bar, off, len)) {
		CNT_ADD(b->bad_access, 1);
		vm_log(d->vm, "vm %s: virtio-blk: PCI_CFG window %s with bar %u offset 0x%x length %u: no access\n",
		       d->vm->name, write ? "write" : "read", bar, off, len);
		return;
	}
	struct io_req req = { .space = IO_SPACE_MMIO, .addr = pci_bar_addr(d, VBLK_BAR) + off, .size = (u8)len,
			      .write = write, .value = write ? pci_cfg_get(d, at + VBLK_PCICFG_DATA, len) : 0 };
	if (regs_access(b, off, &req) != IO_DONE) {   /* the MSI-X table takes 4 or 8 bytes only */
		CNT_ADD(b->bad_access, 1);
		vm_log(d->vm, "vm %s: virtio-blk: PCI_CFG window %s of %u bytes at 0x%x refused by the MSI-X table\n",
		       d->vm->name, write ? "write" : "read", len, off);
		return;
	}
	if (write) {
		b->pcicfg_writes++;
	} else {
		b->pcicfg_reads++;
		pci_cfg_set(d, at + VBLK_PCICFG_DATA, len, (u32)req.value);
	}
}

static void vblk_cfg_written(struct pci_vdev *d, u32 reg, unsigned size)
{
	struct vblk *b = container_of(d, struct vblk, pci);
	if (overlaps_data(b, reg, size))
		pcicfg_access(b, true);
}

static void vblk_cfg_read(struct pci_vdev *d, u32 reg, unsigned size)
{
	struct vblk *b = container_of(d, struct vblk, pci);
	if (overlaps_data(b, reg, size))
		pcicfg_access(b, false);
}

static void vblk_reset(struct pci_vdev *d)
{
	device_reset(container_of(d, struct vblk, pci));
}

static const struct pci_vdev_ops vblk_ops = {
	.bar_access = vblk_bar_access,
	.cfg_written = vblk_cfg_written,
	.cfg_read = vblk_cfg_read,
	.reset = vblk_reset,
	.bar_lockless = true,
};

/* A vendor-specific capability describing one region of BAR0 (4.1.4). */
static u8 add_vcap(struct pci_vdev *d, u8 type, u32 offset, u32 length, u32 mult)
{
	u8 len = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? VIRTIO_PCI_NOTIFY_CAP_LEN
		 : type == VIRTIO_PCI_CAP_PCI_CFG ? VBLK_PCICFG_LEN : sizeof(struct virtio_pci_cap);
	u8 at = pci_vdev_add_cap(d, PCI_CAP_ID_VENDOR, len);
	if (!at)
		return 0;
	pci_cfg_set(d, at + 2, 1, len);
	pci_cfg_set(d, at + 3, 1, type);
	pci_cfg_set(d, at + 4, 1, VBLK_BAR);
	pci_cfg_set(d, at + 8, 4, offset);
	pci_cfg_set(d, at + 12, 4, length);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		pci_cfg_set(d, at + 16, 4, mult);
	if (type == VIRTIO_PCI_CAP_PCI_CFG) {
		/* 4.1.4.9.1: "The device MUST allow the driver to write to the cap.bar,
		 * cap.offset and cap.length fields"; pci_cfg_data is the window. */
		pci_wmask_set(d, at + 4, 1, 0xff);
		pci_wmask_set(d, at + 8, 4, 0xffffffff);
		pci_wmask_set(d, at + 12, 4, 0xffffffff);
		pci_wmask_set(d, at + VBLK_PCICFG_DATA, 4, 0xffffffff);
	}
	return at;
}

bool virtio_blk_create(struct vm *vm, const struct vm_config *cfg, const void *image, u64 image_len, char *err,
		       size_t errlen)
{
	struct vblk *b = &vblks[vm->id];
	u64 bytes = image ? ALIGN_UP(image_len, (u64)VIRTIO_BLK_SECTOR_SIZE) : cfg->disk_size;
	if (image && !image_len) {
		hv_snprintf(err, errlen, "disk '%s' is empty", cfg->disk);
		return false;
	}
	if (!bytes || bytes > VIRTIO_BLK_MAX_DISK) {
		hv_snprintf(err, errlen, "disk of %llu bytes: at most %llu MiB", (unsigned long long)bytes,
			    (unsigned long long)(VIRTIO_BLK_MAX_DISK >> 20));
		return false;
	}
	memset(b, 0, sizeof(*b));
	b->disk.data = alloc_pages_zeroed(ALIGN_UP(bytes, PAGE_SIZE), PAGE_SIZE);
	if (!b->disk.data) {
		hv_snprintf(err, errlen, "cannot allocate %llu KiB for its disk (%llu MiB free)",
			    (unsigned long long)(bytes >> 10), (unsigned long long)(frame_pool_free_bytes(&frames) >> 20));
		return false;
	}
	if (image)
		memcpy(b->disk.data, image, image_len);
	b->disk.sectors = bytes / VIRTIO_BLK_SECTOR_SIZE;
	b->disk.ro = cfg->disk_ro;
	b->latency = cfg->disk_latency;
	char id[VIRTIO_BLK_ID_BYTES + 1];
	hv_snprintf(id, sizeof(id), "microhv-%s", vm->name);
	memcpy(b->disk.id, id, sizeof(b->disk.id));
	b->nq = cfg->vcpus;
	for (u32 i = 0; i < b->nq; i++) {
		b->q[i].chain = alloc_pages_zeroed(ALIGN_UP(sizeof(struct vq_chain), PAGE_SIZE), PAGE_SIZE);
		if (!b->q[i].chain) {
			hv_snprintf(err, errlen, "cannot allocate the walk scratch of queue %u", i);
			return false;
		}
	}

	b->dev_features = BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_RING_EVENT_IDX) |
			  BIT64(VIRTIO_F_RING_INDIRECT_DESC) | BIT64(VIRTIO_BLK_F_SIZE_MAX) | BIT64(VIRTIO_BLK_F_SEG_MAX) |
			  BIT64(VIRTIO_BLK_F_BLK_SIZE) | BIT64(VIRTIO_BLK_F_FLUSH) | BIT64(VIRTIO_BLK_F_MQ) |
			  BIT64(VIRTIO_BLK_F_DISCARD) | BIT64(VIRTIO_BLK_F_WRITE_ZEROES);
	if (b->disk.ro)
		b->dev_features |= BIT64(VIRTIO_BLK_F_RO);
	b->cfg = (struct virtio_blk_config){
		.capacity = b->disk.sectors,
		.size_max = (u32)VQ_MAX_SEG_BYTES,
		.seg_max = VBLK_SEG_MAX,
		.blk_size = VIRTIO_BLK_SECTOR_SIZE,
		.num_queues = (u16)b->nq,
		.max_discard_sectors = (u32)MIN(b->disk.sectors, 0xffffffffull),
		.max_discard_seg = BLK_MAX_DISCARD_SEGS,
		.discard_sector_alignment = 1,
		.max_write_zeroes_sectors = (u32)MIN(b->disk.sectors, 0xffffffffull),
		.max_write_zeroes_seg = BLK_MAX_DISCARD_SEGS,
	};

	struct pci_vdev *d = &b->pci;
	/* Class 01h/80h: mass storage controller, other. */
	pci_vdev_init(d, vm, PCI_DEVFN(VIRTIO_BLK_DEVFN_SLOT, 0), "virtio-blk", &vblk_ops, VIRTIO_PCI_VENDOR,
		      VIRTIO_PCI_DEVICE_BLK, 0x018000);
	pci_cfg_set(d, PCI_REVISION_ID, 1, VIRTIO_PCI_MODERN_REVISION);
	pci_cfg_set(d, PCI_SUBSYS_ID, 2, VIRTIO_PCI_SUBSYS_BLK);
	pci_vdev_set_bar(d, VBLK_BAR, PCI_BAR_MEM64, VBLK_BAR_SIZE);
	d->cfg[PCI_INTERRUPT_PIN] = 1;   /* INTA#, used without MSI-X */
	if (!add_vcap(d, VIRTIO_PCI_CAP_COMMON_CFG, VBLK_COMMON, VIRTIO_PCI_COMMON_LEN, 0) ||
	    !add_vcap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, VBLK_NOTIFY, VBLK_NOTIFY_MULT * b->nq, VBLK_NOTIFY_MULT) ||
	    !add_vcap(d, VIRTIO_PCI_CAP_ISR_CFG, VBLK_ISR, 1, 0) ||
	    !add_vcap(d, VIRTIO_PCI_CAP_DEVICE_CFG, VBLK_DEVCFG, sizeof(b->cfg), 0) ||
	    !(b->pcicfg = add_vcap(d, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0)) ||
	    !pci_msix_init(d, b->nq + 1, VBLK_BAR, VBLK_MSIX_TABLE, VBLK_MSIX_PBA) || !vpci_add(vm->pci, d)) {
		hv_snprintf(err, errlen, "PCI virtio-blk: capabilities or slot %u", VIRTIO_BLK_DEVFN_SLOT);
		return false;
	}
	device_reset(b);
	present[vm->id] = true;
	printk("vm %s: virtio-blk at 00:%02x.0: %llu sectors (%s%s), %u queue(s)\n", vm->name, VIRTIO_BLK_DEVFN_SLOT,
	       (unsigned long long)b->disk.sectors, image ? cfg->disk : "RAM", b->disk.ro ? ", read-only" : "", b->nq);
	return true;
}

void virtio_blk_print_stats(struct vm *vm)
{
	if (!present[vm->id])
		return;
	struct vblk *b = &vblks[vm->id];
	u64 req = 0, kicks = 0, irqs = 0, supp = 0, stops = 0, wakes = 0;
	for (u32 i = 0; i < b->nq; i++) {
		req += b->q[i].requests;
		kicks += CNT(b->q[i].kicks);
		irqs += b->q[i].irqs;
		supp += b->q[i].suppressed;
		stops += b->q[i].poll_stops;
		wakes += b->q[i].poll_wakes;
	}
	u64 cpi = irqs ? req * 100 / irqs : 0;
	printk("virtio-blk vm=%s queues=%u requests=%llu kicks=%llu interrupts=%llu suppressed=%llu "
	       "completions_per_irq=%llu.%02llu ioerr=%llu unsupp=%llu needs_reset=%llu resets=%llu config_irqs=%llu "
	       "bad_access=%llu deferred=%llu\n", vm->name, b->nq, (unsigned long long)req, (unsigned long long)kicks,
	       (unsigned long long)irqs, (unsigned long long)supp, (unsigned long long)(cpi / 100),
	       (unsigned long long)(cpi % 100), (unsigned long long)b->ioerr, (unsigned long long)b->unsupp,
	       (unsigned long long)b->needs_reset, (unsigned long long)b->resets, (unsigned long long)b->config_irqs,
	       (unsigned long long)b->bad_access, (unsigned long long)b->deferred);
	const struct pci_msix *x = &b->pci.msix;
	u32 refreshes = 0;
	for (u32 n = 0; n < x->nvec; n++)
		refreshes += x->route[n].refreshes;
	printk("virtio-blk vm=%s completion=%s latency=%llu msi_delivery=%s posted=%llu left_pending=%llu "
	       "pending_sent=%llu msix_mask_exits=%llu msix_unmask_exits=%llu route_refreshes=%u inflight_max=%llu "
	       "msi_deferred=%llu target_lookups=%llu iopoll_us=%llu poll_stops=%llu poll_wakes=%llu pcicfg_reads=%llu "
	       "pcicfg_writes=%llu\n",
	       vm->name, io_cpu ? "iocpu" : "inline", (unsigned long long)b->latency,
	       vm->msi_delivery == MSI_DELIVERY_DEFERRED ? "deferred" : "direct", (unsigned long long)b->posted,
	       (unsigned long long)b->left_pending, (unsigned long long)x->pending_sent,
	       (unsigned long long)x->mask_writes, (unsigned long long)x->unmask_writes, refreshes,
	       (unsigned long long)b->inflight_max, (unsigned long long)__atomic_load_n(&vm->msi.deferred, __ATOMIC_RELAXED),
	       (unsigned long long)CNT(vm->msi.target_lookups), (unsigned long long)(io_cpu ? iopoll_us : 0),
	       (unsigned long long)stops, (unsigned long long)wakes, (unsigned long long)b->pcicfg_reads,
	       (unsigned long long)b->pcicfg_writes);
}

size_t virtio_blk_format_counters(struct vm *vm, char *buf, size_t len)
{
	if (!present[vm->id] || !len)
		return 0;
	struct vblk *b = &vblks[vm->id];
	u64 req = 0, kicks = 0, irqs = 0, supp = 0;
	for (u32 i = 0; i < b->nq; i++) {   /* read while the queues run: each count is a snapshot */
		req += READ_ONCE(b->q[i].requests);
		kicks += CNT(b->q[i].kicks);
		irqs += READ_ONCE(b->q[i].irqs);
		supp += READ_ONCE(b->q[i].suppressed);
	}
	int n = hv_snprintf(buf, len, "requests=%llu kicks=%llu interrupts=%llu posted=%llu suppressed=%llu",
			    (unsigned long long)req, (unsigned long long)kicks, (unsigned long long)irqs,
			    (unsigned long long)READ_ONCE(b->posted), (unsigned long long)supp);
	return n < 0 ? 0 : MIN((size_t)n, len - 1);
}

void virtio_blk_set_iocpu(struct cpu *c, u32 poll_us)
{
	io_cpu = c;
	iopoll_us = poll_us;
	iopoll_ticks = tsc_hz * poll_us / 1000000;
	if (poll_us && !iopoll_ticks)
		iopoll_ticks = 1;
}

/* One I/O CPU pass over queue qi (its lock held): wake it on a kick, drain it, and stop
 * polling it once idle for iopoll_ticks (header comment). True when INTA# is owed. */
static bool poll_queue(struct vblk *b, u32 qi, bool kicked)
{
	struct vblk_queue *q = &b->q[qi];
	if (!live(b) || !q->enabled)
		return false;
	u64 now = rdtsc();
	if (!q->polling && (kicked || !iopoll_ticks)) {
		q->polling = true;
		q->poll_wakes++;
		q->idle_since = now;
	}
	if (!q->polling)
		return false;
	u32 work;
	bool intx = process_queue(b, qi, &work);
	if (work || q->inflight.count) {
		q->idle_since = now;
	} else if (iopoll_ticks && now - q->idle_since >= iopoll_ticks && live(b)) {
		if (vq_notify_on(&q->vq)) {
			q->idle_since = now;   /* a buffer came before the driver saw the request */
		} else {
			q->polling = false;
			q->poll_stops++;
		}
	}
	return intx;
}

void virtio_blk_iocpu_loop(void)
{
	irq_disable();
	for (;;) {
		for (u32 i = 0; i < MAX_VMS; i++) {
			if (!present[i])
				continue;
			struct vblk *b = &vblks[i];
			u32 bell = ioq_take(&b->bell);
			if (b->pci.vm->state != VM_RUNNING)
				continue;
			/* Each pass is bounded: per queue at most its budget of chains and a queue's
			 * worth in flight; a broken queue ends in NEEDS_RESET, not in a loop. A queue
			 * that stopped polling is looked at only when kicked. */
			for (u32 qi = 0; qi < b->nq; qi++) {
				struct vblk_queue *q = &b->q[qi];
				bool kicked = bell & BIT(qi);
				if (!kicked && iopoll_ticks && !__atomic_load_n(&q->polling, __ATOMIC_RELAXED))
					continue;
				u64 f = spin_lock_irqsave(&q->lock);
				bool intx = poll_queue(b, qi, kicked);
				spin_unlock_irqrestore(&q->lock, f);
				if (intx)
					raise_intx(b, false);
			}
		}
		cpu_relax();
	}
}
