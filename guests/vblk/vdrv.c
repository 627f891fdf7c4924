/* SPDX-License-Identifier: MIT */
/* The test guests' virtio-blk driver (vdrv.h). */
#include "vdrv.h"
#include "apic.h"

struct vdrv vdrv;

static struct virtq_desc descs[VDRV_MAX_QUEUES][VDRV_QSIZE] __attribute__((aligned(4096)));
static u8 avail_mem[VDRV_MAX_QUEUES][4096] __attribute__((aligned(4096)));
static u8 used_mem[VDRV_MAX_QUEUES][4096] __attribute__((aligned(4096)));
static struct vdrv_queue queues[VDRV_MAX_QUEUES];

/* ---- PCI configuration, mechanism #1 ---- */

static u32 cf8(unsigned slot, unsigned reg)
{
	return 0x80000000u | (u32)slot << 11 | (reg & 0xfc);
}

u32 vdrv_cfg_read32(unsigned slot, unsigned reg)
{
	outl(cf8(slot, reg), 0xcf8);
	return inl(0xcfc);
}

void vdrv_cfg_write32(unsigned slot, unsigned reg, u32 v)
{
	outl(cf8(slot, reg), 0xcf8);
	outl(v, 0xcfc);
}

void vdrv_cfg_write16(unsigned slot, unsigned reg, u16 v)
{
	outl(cf8(slot, reg), 0xcf8);
	outw(v, (u16)(0xcfc + (reg & 2)));
}

static u8 cfg_read8(unsigned slot, unsigned reg)
{
	return (u8)(vdrv_cfg_read32(slot, reg) >> (8 * (reg & 3)));
}

/* ---- registers ---- */

static u32 rd32(volatile u8 *p) { return *(volatile u32 *)p; }
static void wr32(volatile u8 *p, u32 v) { *(volatile u32 *)p = v; }

u8 vdrv_status(void)
{
	return vdrv.common[VIRTIO_PCI_COMMON_STATUS];
}

void vdrv_set_status(u8 s)
{
	vdrv.common[VIRTIO_PCI_COMMON_STATUS] = s;
}

u16 vdrv_read16(unsigned off)
{
	return *(volatile u16 *)(vdrv.common + off);
}

void vdrv_write16(unsigned off, u16 v)
{
	*(volatile u16 *)(vdrv.common + off) = v;
}

static void write64(unsigned off, u64 v)
{
	wr32(vdrv.common + off, (u32)v);
	wr32(vdrv.common + off + 4, (u32)(v >> 32));
}

volatile u32 *vdrv_msix_entry(unsigned n)
{
	u32 t = vdrv_cfg_read32(vdrv.slot_nr, vdrv.msix_cap + 4) & ~7u;
	return (volatile u32 *)(vdrv.bar + t + 16ul * n);
}

u32 vdrv_msix_pba(void)
{
	u32 p = vdrv_cfg_read32(vdrv.slot_nr, vdrv.msix_cap + 8) & ~7u;
	return *(volatile u32 *)(vdrv.bar + p);
}

/* ---- probe ---- */

bool vdrv_probe(void)
{
	int found = -1;
	for (unsigned s = 0; s < 32 && found < 0; s++)
		if (vdrv_cfg_read32(s, 0) == ((u32)VIRTIO_PCI_DEVICE_BLK << 16 | VIRTIO_PCI_VENDOR))
			found = (int)s;
	if (found < 0)
		return false;
	vdrv.slot_nr = (unsigned)found;
	unsigned s = vdrv.slot_nr;
	vdrv_cfg_write32(s, 0x10, VDRV_BAR_ADDR);
	vdrv_cfg_write32(s, 0x14, 0);
	vdrv_cfg_write16(s, 4, 0x6);   /* memory, bus master */
	vdrv.bar = (volatile u8 *)(u64)VDRV_BAR_ADDR;
	u8 p = cfg_read8(s, 0x34);
	for (int i = 0; p && i < 48; i++) {
		u8 id = cfg_read8(s, p);
		if (id == 0x11)
			vdrv.msix_cap = p;
		if (id == 0x09) {
			u8 type = cfg_read8(s, p + 3);
			u32 off = vdrv_cfg_read32(s, p + 8);
			volatile u8 *at = vdrv.bar + off;   /* every structure is in BAR0 */
			if (type == VIRTIO_PCI_CAP_COMMON_CFG)
				vdrv.common = at;
			else if (type == VIRTIO_PCI_CAP_ISR_CFG)
				vdrv.isr = at;
			else if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
				vdrv.devcfg = at;
			else if (type == VIRTIO_PCI_CAP_PCI_CFG && !vdrv.pcicfg_cap)
				vdrv.pcicfg_cap = p;
			else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
				vdrv.notify_base = at;
				vdrv.notify_mult = vdrv_cfg_read32(s, p + 16);
			}
		}
		p = cfg_read8(s, p + 1);
	}
	return vdrv.common && vdrv.isr && vdrv.devcfg && vdrv.notify_base && vdrv.msix_cap;
}

/* ---- interrupts ---- */

static void queue_irq(struct ex_regs *r)
{
	unsigned q = (unsigned)(r->vector - VDRV_VEC_QUEUE);
	if (q < vdrv.nq) {
		vdrv.q[q]->irqs++;
		vdrv_reap(q);
	}
	apic_eoi();
}

static void config_irq(struct ex_regs *r)
{
	(void)r;
	vdrv.config_irqs++;
	apic_eoi();
}

static void msix_program(unsigned n, u32 apic, u8 vec)
{
	volatile u32 *e = vdrv_msix_entry(n);
	e[0] = 0xfee00000u | apic << 12;
	e[1] = 0;
	e[2] = vec;
	e[3] = 0;
}

/* ---- initialisation (3.1 "Device Initialization") ---- */

int vdrv_init(u64 want, unsigned nq, const u32 *apic_ids)
{
	vdrv_set_status(0);
	if (vdrv_status() != 0)
		return -1;
	vdrv.nq = 0;
	vdrv.cb_disable = cmdline_get_u64("cb", 1) != 0;
	vdrv_set_status(VIRTIO_STATUS_ACKNOWLEDGE);
	vdrv_set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(vdrv.common + VIRTIO_PCI_COMMON_DFSELECT, 0);
	u64 f = rd32(vdrv.common + VIRTIO_PCI_COMMON_DF);
	wr32(vdrv.common + VIRTIO_PCI_COMMON_DFSELECT, 1);
	f |= (u64)rd32(vdrv.common + VIRTIO_PCI_COMMON_DF) << 32;
	vdrv.dev_features = f;
	vdrv.features = f & want;
	wr32(vdrv.common + VIRTIO_PCI_COMMON_GFSELECT, 0);
	wr32(vdrv.common + VIRTIO_PCI_COMMON_GF, (u32)vdrv.features);
	wr32(vdrv.common + VIRTIO_PCI_COMMON_GFSELECT, 1);
	wr32(vdrv.common + VIRTIO_PCI_COMMON_GF, (u32)(vdrv.features >> 32));
	vdrv_set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(vdrv_status() & VIRTIO_STATUS_FEATURES_OK))
		return -2;
	vdrv.event_idx = vdrv.features & (1ull << VIRTIO_F_RING_EVENT_IDX);
	vdrv.indirect = vdrv.features & (1ull << VIRTIO_F_RING_INDIRECT_DESC);
	vdrv.capacity = rd32(vdrv.devcfg) | (u64)rd32(vdrv.devcfg + 4) << 32;
	vdrv.dev_nq = vdrv_read16(VIRTIO_PCI_COMMON_NUMQ);
	if (nq > vdrv.dev_nq || nq > VDRV_MAX_QUEUES)
		return -3;

	irq_set_handler(VDRV_VEC_CONFIG, config_irq);
	msix_program(0, apic_ids[0], VDRV_VEC_CONFIG);
	for (unsigned q = 0; q < nq; q++) {
		irq_set_handler(VDRV_VEC_QUEUE + q, queue_irq);
		msix_program(1 + q, apic_ids[q], (u8)(VDRV_VEC_QUEUE + q));
	}
	vdrv_cfg_write16(vdrv.slot_nr, vdrv.msix_cap + 2, 0x8000);   /* MSI-X enable */
	vdrv_write16(VIRTIO_PCI_COMMON_MSIX, 0);
	if (vdrv_read16(VIRTIO_PCI_COMMON_MSIX) != 0)
		return -4;
	for (unsigned q = 0; q < nq; q++) {
		struct vdrv_queue *vq = &queues[q];
		memset(vq, 0, sizeof(*vq) - sizeof(vq->data));
		memset(descs[q], 0, sizeof(descs[q]));
		memset(avail_mem[q], 0, sizeof(avail_mem[q]));
		memset(used_mem[q], 0, sizeof(used_mem[q]));
		vdrv_write16(VIRTIO_PCI_COMMON_Q_SELECT, (u16)q);
		u16 max = vdrv_read16(VIRTIO_PCI_COMMON_Q_SIZE);
		if (!max)
			return -5;
		vq->size = max < VDRV_QSIZE ? max : VDRV_QSIZE;
		vq->desc = descs[q];
		vq->avail = (struct virtq_avail *)avail_mem[q];
		vq->used = (struct virtq_used *)used_mem[q];
		vq->apic_id = apic_ids[q];
		vdrv_write16(VIRTIO_PCI_COMMON_Q_SIZE, vq->size);
		write64(VIRTIO_PCI_COMMON_Q_DESCLO, (u64)vq->desc);
		write64(VIRTIO_PCI_COMMON_Q_AVAILLO, (u64)vq->avail);
		write64(VIRTIO_PCI_COMMON_Q_USEDLO, (u64)vq->used);
		vdrv_write16(VIRTIO_PCI_COMMON_Q_MSIX, (u16)(1 + q));
		if (vdrv_read16(VIRTIO_PCI_COMMON_Q_MSIX) != 1 + q)
			return -6;
		u16 off = vdrv_read16(VIRTIO_PCI_COMMON_Q_NOFF);
		vq->notify = (volatile u16 *)(vdrv.notify_base + (u64)off * vdrv.notify_mult);
		vdrv_write16(VIRTIO_PCI_COMMON_Q_ENABLE, 1);
		if (vdrv_read16(VIRTIO_PCI_COMMON_Q_ENABLE) != 1)
			return -7;
		vdrv.q[q] = vq;
	}
	vdrv.nq = (u16)nq;
	vdrv_set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
			VIRTIO_STATUS_DRIVER_OK);
	if (vdrv_status() != (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
			      VIRTIO_STATUS_DRIVER_OK))
		return -8;
	return 0;
}

/* ---- requests ---- */

static volatile u16 *used_event(struct vdrv_queue *vq)
{
	return &vq->avail->ring[vq->size];
}

static volatile u16 *avail_event(struct vdrv_queue *vq)
{
	return (volatile u16 *)((u8 *)vq->used + 4 + 8ul * vq->size);
}

void vdrv_publish(unsigned q, u16 head)
{
	struct vdrv_queue *vq = vdrv.q[q];
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	barrier();   /* x86 keeps stores in order: the entry is visible before idx */
	vq->avail_idx++;
	*(volatile u16 *)&vq->avail->idx = vq->avail_idx;
}

void vdrv_add(unsigned q, unsigned s, u32 type, u64 sector, void *buf, u32 len, bool indirect)
{
	struct vdrv_queue *vq = vdrv.q[q];
	struct vdrv_slot *sl = &vq->slot[s];
	sl->hdr = (struct virtio_blk_req_hdr){ .type = type, .sector = sector };
	sl->status = 0xff;
	sl->done = 0;
	sl->used_len = 0;
	struct virtq_desc d[3];
	unsigned n = 0;
	d[n++] = (struct virtq_desc){ (u64)&sl->hdr, sizeof(sl->hdr), VIRTQ_DESC_F_NEXT, 0 };
	if (len) {
		u16 wflag = (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID) ? VIRTQ_DESC_F_WRITE : 0;
		d[n++] = (struct virtq_desc){ (u64)buf, len, (u16)(VIRTQ_DESC_F_NEXT | wflag), 0 };
	}
	d[n++] = (struct virtq_desc){ (u64)&sl->status, 1, VIRTQ_DESC_F_WRITE, 0 };
	u16 base = (u16)(3 * s);
	if (indirect) {
		for (unsigned i = 0; i < n; i++) {
			sl->ind[i] = d[i];
			sl->ind[i].next = (u16)(i + 1);
		}
		vq->desc[base] = (struct virtq_desc){ (u64)sl->ind, 16 * n, VIRTQ_DESC_F_INDIRECT, 0 };
	} else {
		for (unsigned i = 0; i < n; i++) {
			vq->desc[base + i] = d[i];
			vq->desc[base + i].next = (u16)(base + i + 1);
		}
	}
	vdrv_publish(q, base);
}

void vdrv_kick(unsigned q)
{
	struct vdrv_queue *vq = vdrv.q[q];
	mfence();   /* the available index before avail_event / flags (2.7.13.4) */
	u16 old = vq->kicked_idx, now = vq->avail_idx;
	vq->kicked_idx = now;
	bool need = vdrv.event_idx ? virtq_need_event(*avail_event(vq), now, old)
				   : !(*(volatile u16 *)&vq->used->flags & VIRTQ_USED_F_NO_NOTIFY);
	if (!need) {
		vq->kicks_suppressed++;
		return;
	}
	vq->kicks++;
	*vq->notify = (u16)q;
}

unsigned vdrv_reap(unsigned q)
{
	struct vdrv_queue *vq = vdrv.q[q];
	unsigned n = 0;
	if (vdrv.cb_disable && !vdrv.event_idx)
		*(volatile u16 *)&vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	for (;;) {
		while (vq->last_used != *(volatile u16 *)&vq->used->idx) {
			lfence();
			volatile struct virtq_used_elem *e = &vq->used->ring[vq->last_used % vq->size];
			u32 id = e->id, len = e->len;
			if (id % 3 == 0 && id / 3 < VDRV_SLOTS) {
				struct vdrv_slot *sl = &vq->slot[id / 3];
				sl->used_len = len;
				barrier();
				sl->done = 1;
			}
			vq->last_used++;
			n++;
			if (!vdrv.cb_disable && vdrv.event_idx)
				*used_event(vq) = vq->last_used;   /* interrupt me for the next one, now */
		}
		if (!vdrv.event_idx) {
			if (!vdrv.cb_disable)
				break;
			*(volatile u16 *)&vq->avail->flags = 0;   /* callback on again, then look once more */
			mfence();
			if (vq->last_used == *(volatile u16 *)&vq->used->idx)
				break;
			*(volatile u16 *)&vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
			continue;
		}
		/* Interrupt me at the next completion, then look once more (2.7.7). */
		*used_event(vq) = vq->last_used;
		mfence();
		if (vq->last_used == *(volatile u16 *)&vq->used->idx)
			break;
	}
	vq->reaped += n;
	return n;
}

bool vdrv_wait(unsigned q, unsigned s, u64 us)
{
	volatile u32 *done = &vdrv.q[q]->slot[s].done;
	u64 f = irq_save();
	sti();
	bool ok = wait_until(*done, us);
	irq_restore(f);
	if (!(f & X86_EFLAGS_IF))
		cli();
	return ok;
}

int vdrv_rw(unsigned q, unsigned s, u32 type, u64 sector, void *buf, u32 len, bool indirect)
{
	vdrv_add(q, s, type, sector, buf, len, indirect);
	vdrv_kick(q);
	if (!vdrv_wait(q, s, 2000000))
		return -1;
	return vdrv.q[q]->slot[s].status;
}

void vdrv_window_set(u8 bar, u32 off, u32 len)
{
	u8 p = vdrv.pcicfg_cap;
	vdrv_cfg_write32(vdrv.slot_nr, p + 4, bar);   /* bar; id and padding are read-only */
	vdrv_cfg_write32(vdrv.slot_nr, p + 8, off);
	vdrv_cfg_write32(vdrv.slot_nr, p + 12, len);
}

u32 vdrv_window_data_read(void)
{
	return vdrv_cfg_read32(vdrv.slot_nr, vdrv.pcicfg_cap + 16);
}

void vdrv_window_data_write(u32 v)
{
	vdrv_cfg_write32(vdrv.slot_nr, vdrv.pcicfg_cap + 16, v);
}
