/* SPDX-License-Identifier: MIT */
/*
 * Virtio 1.2 (OASIS "Virtual I/O Device (VIRTIO) Version 1.2"): the layouts and constants
 * the hypervisor's virtio-blk device and the test guests' driver share. Only <stdint.h>
 * types, so both sides include it as it is. All fields are little-endian (the spec's
 * le16/le32/le64; x86 is little-endian).
 *
 * Register maps carry the spec's names: section 2.1 "Device Status Field", 2.2 "Feature
 * Bits", 2.7 "Split Virtqueues", 4.1 "Virtio Over PCI Bus", 5.2 "Block Device".
 */
#ifndef VIRTIO_VIRTIO_H
#define VIRTIO_VIRTIO_H

#include <stdint.h>

/* ---- 2.1 "Device Status Field" ---- */
#define VIRTIO_STATUS_ACKNOWLEDGE 1     /* the guest OS has found the device */
#define VIRTIO_STATUS_DRIVER 2          /* the guest OS knows how to drive it */
#define VIRTIO_STATUS_DRIVER_OK 4       /* the driver is set up and ready to drive the device */
#define VIRTIO_STATUS_FEATURES_OK 8     /* the driver has acknowledged the features it understands */
#define VIRTIO_STATUS_NEEDS_RESET 64    /* the device hit an error it cannot recover from */
#define VIRTIO_STATUS_FAILED 128        /* the driver gave up on the device */

/* ---- 2.2 "Feature Bits" and 6 "Reserved Feature Bits" (bit numbers) ---- */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
/* 5.2.3 "Feature bits" (block device) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* ---- 2.7 "Split Virtqueues" ---- */
/* 2.7.5 "The Virtqueue Descriptor Table" */
struct virtq_desc {
	uint64_t addr;    /* guest-physical address of the buffer */
	uint32_t len;
	uint16_t flags;   /* VIRTQ_DESC_F_* */
	uint16_t next;    /* the next descriptor when flags has NEXT */
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");
#define VIRTQ_DESC_F_NEXT 1       /* the buffer continues in the next field */
#define VIRTQ_DESC_F_WRITE 2      /* device write-only (otherwise device read-only) */
#define VIRTQ_DESC_F_INDIRECT 4   /* the buffer holds a table of descriptors (2.7.5.3) */

/* 2.7.6 "The Virtqueue Available Ring": flags, idx, ring[size], used_event (EVENT_IDX) */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;     /* where the driver puts the next entry (modulo the queue size) */
	uint16_t ring[];
};
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* 2.7.8 "The Virtqueue Used Ring": flags, idx, ring[size], avail_event (EVENT_IDX) */
struct virtq_used_elem {
	uint32_t id;      /* head of the used descriptor chain */
	uint32_t len;     /* bytes written into the device-writable part of the chain */
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem is 8 bytes");
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Sizes of the three areas for a queue of n entries (2.7 "Split Virtqueues", the table
 * of alignments: descriptor table 16, available ring 2, used ring 4). */
#define VIRTQ_DESC_BYTES(n) (16ull * (n))
#define VIRTQ_AVAIL_BYTES(n) (6ull + 2ull * (n))   /* with used_event */
#define VIRTQ_USED_BYTES(n) (6ull + 8ull * (n))    /* with avail_event */

/* 2.7.7 "Used Buffer Notification Suppression" / 2.7.10 "Available Buffer Notification
 * Suppression": with EVENT_IDX, the side that moved idx from old to new_idx notifies
 * when the event index the other side published lies in [old, new_idx). */
static inline int virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* ---- 4.1 "Virtio Over PCI Bus" ---- */
#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BLK 0x1042     /* 0x1040 + device ID 2 (4.1.2 "PCI Device Discovery") */
#define VIRTIO_PCI_MODERN_REVISION 1     /* "Non-transitional devices SHOULD have a PCI Revision ID of 1 or higher" */
#define VIRTIO_PCI_SUBSYS_BLK 0x0040     /* "SHOULD have a PCI Subsystem Device ID of 0x40 or higher" */

/* 4.1.4 "Virtio Structure PCI Capabilities": a vendor-specific capability (ID 0x09). */
struct virtio_pci_cap {
	uint8_t cap_vndr;     /* 0x09 */
	uint8_t cap_next;
	uint8_t cap_len;
	uint8_t cfg_type;     /* VIRTIO_PCI_CAP_* */
	uint8_t bar;
	uint8_t id;
	uint8_t padding[2];
	uint32_t offset;      /* in the BAR */
	uint32_t length;
};
_Static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap is 16 bytes");
/* 4.1.4.4 "Notification structure layout": the capability plus the multiplier. */
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* 4.1.4.3 "Common configuration structure layout": offsets. */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00   /* le32 device_feature_select, RW */
#define VIRTIO_PCI_COMMON_DF 0x04         /* le32 device_feature, RO */
#define VIRTIO_PCI_COMMON_GFSELECT 0x08   /* le32 driver_feature_select, RW */
#define VIRTIO_PCI_COMMON_GF 0x0c         /* le32 driver_feature, RW */
#define VIRTIO_PCI_COMMON_MSIX 0x10       /* le16 config_msix_vector, RW */
#define VIRTIO_PCI_COMMON_NUMQ 0x12       /* le16 num_queues, RO */
#define VIRTIO_PCI_COMMON_STATUS 0x14     /* u8 device_status, RW */
#define VIRTIO_PCI_COMMON_CFGGEN 0x15     /* u8 config_generation, RO */
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16   /* le16 queue_select, RW */
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18     /* le16 queue_size, RW */
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a     /* le16 queue_msix_vector, RW */
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c   /* le16 queue_enable, RW */
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e     /* le16 queue_notify_off, RO */
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20   /* le64 queue_desc, RW */
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28  /* le64 queue_driver, RW */
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30   /* le64 queue_device, RW */
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_LEN 0x38
#define VIRTIO_MSI_NO_VECTOR 0xffff       /* 4.1.5.1.2 "Virtqueue Interrupts From MSI-X": no vector */
/* 4.1.4.5 "ISR status capability": bit 0 queue interrupt, bit 1 configuration change. */
#define VIRTIO_PCI_ISR_QUEUE 1
#define VIRTIO_PCI_ISR_CONFIG 2

/* ---- 5.2 "Block Device" ---- */
#define VIRTIO_BLK_SECTOR_SIZE 512        /* "sector" units of the protocol, whatever blk_size says */
/* 5.2.4 "Device configuration layout" (the fields up to write_zeroes_may_unmap). */
struct virtio_blk_config {
	uint64_t capacity;                /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	struct { uint16_t cylinders; uint8_t heads; uint8_t sectors; } geometry;
	uint32_t blk_size;
	struct { uint8_t physical_block_exp, alignment_offset; uint16_t min_io_size; uint32_t opt_io_size; } topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_blk_config) == 60, "virtio_blk_config layout (5.2.4)");

/* 5.2.6 "Device Operation": the request header (device-readable, 16 bytes), the data,
 * and a status byte (device-writable, last). */
struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};
_Static_assert(sizeof(struct virtio_blk_req_hdr) == 16, "virtio_blk request header is 16 bytes");
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
/* The data of DISCARD and WRITE_ZEROES: one or more of these segments. */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;                   /* bit 0: unmap (WRITE_ZEROES only) */
};
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "discard/write-zeroes segment");

#endif
