/* SPDX-License-Identifier: MIT */
/*
 * The PCI test device (hv/pci/testdev.c), vendor 0x4D48 device 0x0002, class FFh. Its
 * register map is shared with the guests that drive it (guests/pci), so this header
 * holds only constants.
 *
 * BAR0  32-bit memory, 4 KiB: the registers below (4-byte accesses only)
 * BAR1  I/O, 32 bytes: registers 0x00-0x1F again (4-byte accesses only)
 * BAR2  64-bit memory (BAR2+BAR3), 4 KiB: MSI-X table at 0x000 (4 vectors), PBA at 0x800
 * MSI   64-bit, per-vector masking, 4 vectors;  INTx: pin A
 */
#ifndef HV_PCI_TESTDEV_H
#define HV_PCI_TESTDEV_H

#define TESTDEV_VENDOR 0x4d48
#define TESTDEV_DEVICE 0x0002
#define TESTDEV_BAR0_SIZE 0x1000
#define TESTDEV_BAR1_SIZE 0x20
#define TESTDEV_BAR2_SIZE 0x1000
#define TESTDEV_MSIX_VECTORS 4
#define TESTDEV_MSIX_TABLE 0x000
#define TESTDEV_MSIX_PBA 0x800
#define TESTDEV_MSI_VECTORS 4

/* BAR0 registers. */
#define TESTDEV_ID 0x00          /* RO: TESTDEV_MAGIC */
#define TESTDEV_SCRATCH 0x04     /* RW */
#define TESTDEV_IRQ_MODE 0x08    /* RW: what a DMA completion raises (TESTDEV_IRQ_*) */
#define TESTDEV_IRQ_VEC 0x0c     /* RW: the MSI / MSI-X vector index a completion raises */
#define TESTDEV_RAISE_MSIX 0x10  /* WO: N raises MSI-X vector N */
#define TESTDEV_RAISE_MSI 0x14   /* WO: N raises MSI vector N */
#define TESTDEV_INTX 0x18        /* RW: 1 asserts INTA#, 0 deasserts; reads the level */
#define TESTDEV_RAISED 0x1c      /* RO: raise requests refused (disabled, out of range) */
#define TESTDEV_DMA_SRC_LO 0x20  /* RW: source guest-physical address */
#define TESTDEV_DMA_SRC_HI 0x24
#define TESTDEV_DMA_DST_LO 0x28  /* RW: destination guest-physical address */
#define TESTDEV_DMA_DST_HI 0x2c
#define TESTDEV_DMA_LEN 0x30     /* RW: bytes, at most TESTDEV_DMA_MAX */
#define TESTDEV_DMA_CMD 0x34     /* WO: TESTDEV_DMA_GO starts the copy (done when the write retires) */
#define TESTDEV_DMA_STATUS 0x38  /* RO: TESTDEV_DMA_ST_*; cleared by the next GO */
#define TESTDEV_DMA_COUNT 0x3c   /* RO: copies completed */

#define TESTDEV_MAGIC 0x54534554u   /* "TEST" */
#define TESTDEV_IRQ_NONE 0
#define TESTDEV_IRQ_INTX 1
#define TESTDEV_IRQ_MSI 2
#define TESTDEV_IRQ_MSIX 3
#define TESTDEV_DMA_GO 1u
#define TESTDEV_DMA_MAX 0x100000u
#define TESTDEV_DMA_ST_DONE (1u << 0)
#define TESTDEV_DMA_ST_BAD_ADDR (1u << 1)    /* source or destination not all in RAM */
#define TESTDEV_DMA_ST_NO_MASTER (1u << 2)   /* Bus Master disabled in the command register */
#define TESTDEV_DMA_ST_BAD_LEN (1u << 3)     /* 0 or above TESTDEV_DMA_MAX */

#endif
