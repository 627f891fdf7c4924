/* SPDX-License-Identifier: MIT */
/*
 * A virtio-blk driver for the test guests (virtio 1.2, 4.1 "Virtio Over PCI Bus", 2.7
 * "Split Virtqueues", 5.2 "Block Device"): PCI scan through configuration mechanism #1,
 * the vendor capabilities, feature negotiation, MSI-X (one vector per queue plus one for
 * configuration changes), split queues with event-index suppression both ways and
 * optional indirect descriptors.
 *
 * Requests live in slots: slot s of a queue owns descriptors 3s..3s+2 (header, data,
 * status) and its own indirect table. Completions are taken by the queue's interrupt
 * handler (vdrv_reap), on the CPU the queue's vector targets; a test waits on the slot's
 * done flag.
 */
#ifndef GUEST_VDRV_H
#define GUEST_VDRV_H

#include "lib.h"
#include "../../virtio/virtio.h"

#define VDRV_MAX_QUEUES 2
#define VDRV_QSIZE 256
#define VDRV_SLOTS 80            /* 3 descriptors each: 240 <= VDRV_QSIZE */
#define VDRV_BLOCK 4096
#define VDRV_BAR_ADDR 0xc0000000u
#define VDRV_VEC_CONFIG 0x70
#define VDRV_VEC_QUEUE 0x71      /* queue q: 0x71 + q */

struct vdrv_slot {
	struct virtio_blk_req_hdr hdr;
	volatile u8 status;
	volatile u32 done;       /* set by the reaper */
	volatile u32 used_len;
	struct virtq_desc ind[4] __attribute__((aligned(16)));
};

struct vdrv_queue {
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	u16 size;
	u16 avail_idx;           /* the driver's next available index */
	u16 kicked_idx;          /* available index at the last notification decision */
	u16 last_used;
	volatile u16 *notify;
	u32 apic_id;             /* where its MSI-X vector goes */
	volatile u32 kicks, kicks_suppressed, irqs, reaped;
	struct vdrv_slot slot[VDRV_SLOTS];
	u8 data[VDRV_SLOTS][VDRV_BLOCK] __attribute__((aligned(4096)));
};

struct vdrv {
	unsigned slot_nr;        /* PCI slot */
	volatile u8 *bar;
	volatile u8 *common, *isr, *devcfg, *notify_base;
	u32 notify_mult;
	u8 msix_cap;
	u8 pcicfg_cap;           /* VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9), 0 = not found */
	u64 dev_features, features;
	u16 nq;                  /* queues in use */
	u16 dev_nq;              /* num_queues the device offers */
	u64 capacity;
	bool event_idx, indirect;
	/* Seed 000: the reaper leaves the queue's interrupt off while it drains (used_event
	 * untouched, or VIRTQ_AVAIL_F_NO_INTERRUPT without EVENT_IDX), then turns it on and
	 * looks again (true, the default); false: used_event follows each element taken,
	 * as a driver that does not disable its callback. */
	bool cb_disable;
	volatile u32 config_irqs;
	struct vdrv_queue *q[VDRV_MAX_QUEUES];
};

extern struct vdrv vdrv;

/* Configuration space (mechanism #1). */
u32 vdrv_cfg_read32(unsigned slot, unsigned reg);
void vdrv_cfg_write32(unsigned slot, unsigned reg, u32 v);
void vdrv_cfg_write16(unsigned slot, unsigned reg, u16 v);
/* Find the device, place BAR0, read the capabilities. false when absent. */
bool vdrv_probe(void);
/* Common configuration access. */
u8 vdrv_status(void);
void vdrv_set_status(u8 s);
u16 vdrv_read16(unsigned off);
void vdrv_write16(unsigned off, u16 v);
/* Reset, negotiate (want: the feature bits to ask for), set up nq queues with MSI-X
 * vectors to the given APIC IDs, DRIVER_OK. Returns 0 or a negative step number. */
int vdrv_init(u64 want, unsigned nq, const u32 *apic_ids);
/* Build slot s's request on queue q: type, sector, len bytes of data at buf (direct
 * chain, or an indirect table when indirect), and add it to the available ring (no
 * notification). */
void vdrv_add(unsigned q, unsigned s, u32 type, u64 sector, void *buf, u32 len, bool indirect);
/* Put head on the available ring (for hand-made chains). */
void vdrv_publish(unsigned q, u16 head);
/* Notify the device unless event-index suppression says it does not want it. */
void vdrv_kick(unsigned q);
/* Take completed chains (interrupt handler; or with interrupts off). */
unsigned vdrv_reap(unsigned q);
/* Submit one request and wait for it (interrupts on while waiting): its status, or -1
 * on a timeout. */
int vdrv_rw(unsigned q, unsigned s, u32 type, u64 sector, void *buf, u32 len, bool indirect);
/* Wait until slot s of queue q completes (interrupts enabled while waiting). */
bool vdrv_wait(unsigned q, unsigned s, u64 us);
/* The PCI_CFG window (4.1.4.9): set cap.bar/offset/length, then read or write
 * pci_cfg_data with a 32-bit configuration access (its first len bytes count). */
void vdrv_window_set(u8 bar, u32 off, u32 len);
u32 vdrv_window_data_read(void);
void vdrv_window_data_write(u32 v);
/* MSI-X table entry n (BAR0 + the table offset). */
volatile u32 *vdrv_msix_entry(unsigned n);
u32 vdrv_msix_pba(void);

#endif
