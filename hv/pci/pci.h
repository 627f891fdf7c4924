/* SPDX-License-Identifier: MIT */
/*
 * Virtual PCI: one host bridge (bus 0) per VM and the emulated functions behind it.
 *
 * Layering (docs/ARCHITECTURE.md, "PCI"):
 *   cfgmech.c   the configuration mechanisms: #1 (ports 0xCF8/0xCFC) and ECAM, both
 *               ranges on the VM's I/O bus; they find the function and call vpci_cfg_*
 *   config.c    the type 0 header of every function: IDs, command, status, BARs with
 *               sizing and relocation (re-registration on the bus), interrupt line/pin,
 *               the capability list, INTx through the vIOAPIC
 *   msi.c       the MSI capability; msix.c the MSI-X capability, table and PBA
 *   hostbridge.c, testdev.c   the functions, each a struct pci_vdev with const ops
 * Every message goes out through msi_deliver() (hv/irq/msi.h).
 *
 * Locking: the configuration mechanisms' ranges are lockless (the 0xCF8 latch is one
 * atomic word); a configuration access takes the target function's device lock, the
 * same lock the bus takes around the function's BAR accesses. All state of a function
 * (config bytes, BAR mappings, MSI-X table) is guarded by it. Interrupt delivery
 * (msi_deliver, vioapic_set_irq) runs under it: neither ever calls back into a PCI
 * function.
 *
 * Register maps: PCI Local Bus Specification 3.0, "Configuration Space Organization"
 * ("Type 00h Configuration Space Header"), "Capabilities List", "Message Signaled
 * Interrupts" (MSI and MSI-X capability structures, "MSI-X Table Structure", "Pending
 * Bit Array"); PCI Express Base Specification, "Enhanced Configuration Access
 * Mechanism (ECAM)".
 */
#ifndef HV_PCI_PCI_H
#define HV_PCI_PCI_H

#include "hv/lib/types.h"
#include "hv/io/bus.h"
#include "hv/irq/msi.h"

struct vm;
struct vcpu;
struct pci_vdev;

/* ---- Type 00h configuration space header ---- */
#define PCI_CFG_SIZE 256          /* conventional configuration space */
#define PCI_ECAM_FN_SIZE 4096     /* ECAM: 4 KiB per function (extended space reads 0) */

#define PCI_VENDOR_ID 0x00        /* Vendor ID */
#define PCI_DEVICE_ID 0x02        /* Device ID */
#define PCI_COMMAND 0x04          /* Command */
#define PCI_STATUS 0x06           /* Status */
#define PCI_REVISION_ID 0x08      /* Revision ID */
#define PCI_CLASS_PROG 0x09       /* Class Code: programming interface */
#define PCI_CLASS_SUB 0x0a        /* Class Code: sub-class */
#define PCI_CLASS_BASE 0x0b       /* Class Code: base class */
#define PCI_CACHE_LINE_SIZE 0x0c  /* Cache Line Size */
#define PCI_LATENCY_TIMER 0x0d    /* Latency Timer */
#define PCI_HEADER_TYPE 0x0e      /* Header Type (bit 7: multi-function) */
#define PCI_BIST 0x0f             /* BIST */
#define PCI_BAR0 0x10             /* Base Address Registers 0-5: 0x10-0x27 */
#define PCI_CARDBUS_CIS 0x28      /* Cardbus CIS Pointer */
#define PCI_SUBSYS_VENDOR_ID 0x2c /* Subsystem Vendor ID */
#define PCI_SUBSYS_ID 0x2e        /* Subsystem ID */
#define PCI_ROM_ADDRESS 0x30      /* Expansion ROM Base Address */
#define PCI_CAP_PTR 0x34          /* Capabilities Pointer */
#define PCI_INTERRUPT_LINE 0x3c   /* Interrupt Line */
#define PCI_INTERRUPT_PIN 0x3d    /* Interrupt Pin: 1 = INTA# ... 4 = INTD#, 0 none */
#define PCI_MIN_GNT 0x3e          /* Min_Gnt */
#define PCI_MAX_LAT 0x3f          /* Max_Lat */
#define PCI_HEADER_END 0x40       /* capabilities start here */

/* Command register bits. */
#define PCI_CMD_IO BIT(0)             /* I/O Space */
#define PCI_CMD_MEMORY BIT(1)         /* Memory Space */
#define PCI_CMD_BUS_MASTER BIT(2)     /* Bus Master */
#define PCI_CMD_INTX_DISABLE BIT(10)  /* Interrupt Disable */
/* Status register bits. */
#define PCI_STS_INTERRUPT BIT(3)      /* Interrupt Status (INTx asserted) */
#define PCI_STS_CAP_LIST BIT(4)       /* Capabilities List */

/* Base Address Register bits ("Base Address Registers"). */
#define PCI_NR_BARS 6
#define PCI_BAR_IO BIT(0)             /* Memory Space Indicator: 1 = I/O */
#define PCI_BAR_MEM_TYPE_64 (2u << 1) /* Type 10b: 64-bit address */
#define PCI_BAR_PREFETCH BIT(3)       /* Prefetchable */
#define PCI_BAR_MEM_MASK (~0xfu)
#define PCI_BAR_IO_MASK (~0x3u)

/* Capability IDs ("Capability IDs" appendix). */
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VENDOR 0x09

/* MSI capability ("MSI Capability Structure"): offsets from the capability. */
#define PCI_MSI_CTRL 0x02             /* Message Control */
#define PCI_MSI_ADDR_LO 0x04          /* Message Address */
#define PCI_MSI_ADDR_HI 0x08          /* Message Upper Address (64-bit capable) */
#define PCI_MSI_DATA_32 0x08          /* Message Data, 32-bit layout */
#define PCI_MSI_DATA_64 0x0c          /* Message Data, 64-bit layout */
#define PCI_MSI_MASK_32 0x0c          /* Mask Bits, 32-bit layout with per-vector masking */
#define PCI_MSI_PEND_32 0x10          /* Pending Bits */
#define PCI_MSI_MASK_64 0x10
#define PCI_MSI_PEND_64 0x14
#define PCI_MSI_CTRL_ENABLE BIT(0)    /* MSI Enable */
#define PCI_MSI_CTRL_MMC(x) (((x) >> 1) & 7)   /* Multiple Message Capable (log2) */
#define PCI_MSI_CTRL_MME(x) (((x) >> 4) & 7)   /* Multiple Message Enable (log2) */
#define PCI_MSI_CTRL_64BIT BIT(7)     /* 64 bit address capable */
#define PCI_MSI_CTRL_PVM BIT(8)       /* Per-vector masking capable */

/* MSI-X capability ("MSI-X Capability Structure"). */
#define PCI_MSIX_CTRL 0x02            /* Message Control */
#define PCI_MSIX_TABLE 0x04           /* Table Offset/Table BIR */
#define PCI_MSIX_PBA 0x08             /* PBA Offset/PBA BIR */
#define PCI_MSIX_CAP_LEN 12
#define PCI_MSIX_CTRL_SIZE(x) (((x) & 0x7ff) + 1)   /* Table Size (N - 1 encoded) */
#define PCI_MSIX_CTRL_FMASK BIT(14)   /* Function Mask */
#define PCI_MSIX_CTRL_ENABLE BIT(15)  /* MSI-X Enable */
#define PCI_MSIX_BIR_MASK 7u          /* BAR Indicator Register */

/* One MSI-X table entry ("MSI-X Table Structure"): 16 bytes. */
struct msix_entry {
	u32 addr_lo;   /* Message Address */
	u32 addr_hi;   /* Message Upper Address */
	u32 data;      /* Message Data */
	u32 ctrl;      /* Vector Control: bit 0 Mask Bit */
};
_Static_assert(sizeof(struct msix_entry) == 16, "MSI-X table entry is 16 bytes");
#define PCI_MSIX_ENTRY_MASKED BIT(0)
#define PCI_MSIX_MAX_VECTORS 32

/* ---- functions ---- */

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_PIO };

struct pci_bar {
	enum pci_bar_type type;   /* MEM64 occupies this BAR and the next */
	u64 size;                 /* power of two; memory >= 16, I/O >= 4 (0: unimplemented) */
	bool mapped;              /* registered on the bus at mapped_at */
	u64 mapped_at;
};

/* What a function adds to the common emulation. Every callback runs under the
 * function's lock, except bar_access of a function with bar_lockless. */
struct pci_vdev_ops {
	/* An access to a BAR's range (after the MSI-X table/PBA have taken theirs). */
	enum io_result (*bar_access)(struct pci_vdev *d, struct vcpu *v, unsigned bar, u64 off,
				     struct io_req *req);
	/* Called after a config write changed bytes [reg, reg + size) (optional). */
	void (*cfg_written)(struct pci_vdev *d, u32 reg, unsigned size);
	/* Called before a config read of [reg, reg + size) returns the bytes, which it may
	 * refresh (optional). */
	void (*cfg_read)(struct pci_vdev *d, u32 reg, unsigned size);
	/* The BARs are registered IO_RANGE_LOCKLESS: bar_access is called without the
	 * function's lock and for the whole BAR, MSI-X table and PBA included; the function
	 * takes d->dev.lock itself for what it guards, and calls pci_msix_bar_access()
	 * under it (virtio/virtio_blk.c: notifications under a per-queue lock only). */
	bool bar_lockless;
	void (*reset)(struct pci_vdev *d);     /* device registers to power-up (optional) */
	void (*destroy)(struct pci_vdev *d);   /* free the function (optional) */
	/* BAR bar was put on the bus at at (mapped) or taken off from at (optional). */
	void (*bar_placed)(struct pci_vdev *d, unsigned bar, bool mapped, u64 at);
};

struct pci_msi {
	u8 cap;                   /* offset of the capability, 0 = none */
	u8 nvec;                  /* vectors requestable (power of two, <= 32) */
	bool is64, pvm;
};

struct pci_msix {
	u8 cap;                   /* offset of the capability, 0 = none */
	u8 bar;                   /* BAR holding the table and the PBA */
	u16 nvec;
	u32 table_off, pba_off;   /* in that BAR */
	struct msix_entry table[PCI_MSIX_MAX_VECTORS];
	u32 pba;                  /* Pending Bits, one per vector */
	/* Each entry's message decoded once, when the guest writes its address or data
	 * (msix.c); a raise sends the cached route. */
	struct msi_route route[PCI_MSIX_MAX_VECTORS];
	/* Guest writes to a Vector Control (each an exit) that set / cleared the Mask Bit,
	 * and pending messages sent on an unmask. */
	u64 mask_writes, unmask_writes, pending_sent;
	/* Guards table, pba and route against a raise that does not hold the function's
	 * lock (a device's per-queue path). Taken inside the function's lock or alone;
	 * delivery (msi_route_deliver) runs under it. */
	struct spinlock lock;
};

struct pci_vdev {
	struct vdev dev;          /* on the VM's I/O bus: name, lock */
	char name[24];            /* "00:02.0 testdev" */
	struct vpci *vpci;
	struct vm *vm;
	const struct pci_vdev_ops *ops;
	u8 devfn;                 /* device << 3 | function */
	u8 cfg[PCI_CFG_SIZE];     /* the configuration bytes as the guest reads them */
	u8 wmask[PCI_CFG_SIZE];   /* bits a configuration write may change */
	u8 cap_end;               /* next free byte for a capability */
	struct pci_bar bar[PCI_NR_BARS];
	struct pci_msi msi;
	struct pci_msix msix;
	bool intx_asserted;       /* the device's INTx# level (before Interrupt Disable) */
	bool intx_line;           /* the level driven at the IOAPIC input */
	u32 bar_refused;          /* BAR placements refused (RAM, another range): logged once */
};

/* The host bridge and its bus. */
#define PCI_MAX_DEVFN 256
struct vpci {
	struct vm *vm;
	volatile u32 cf8;         /* CONFIG_ADDRESS (mechanism #1) */
	struct vdev cfg_dev;      /* owner of the 0xCF8-0xCFF and ECAM ranges */
	struct pci_vdev *fn[PCI_MAX_DEVFN];
};

#define PCI_DEVFN(dev, fn) ((u8)(((dev) << 3) | (fn)))
#define PCI_SLOT(devfn) ((devfn) >> 3)
#define PCI_FUNC(devfn) ((devfn) & 7)

/* The 32-bit BAR window: [pci_window32_start(vm), GUEST_ECAM_BASE). */
u64 pci_window32_start(const struct vm *vm);
/* INTx routing on bus 0 (the DSDT's _PRT): INTA#..INTD# of slot s -> GSI 16 + ((s + pin - 1) & 3). */
#define PCI_INTX_GSI_BASE 16
static inline u32 pci_intx_gsi(u8 slot, u8 pin)
{
	return PCI_INTX_GSI_BASE + ((slot + pin - 1u) & 3u);
}

/* ---- the bus (cfgmech.c) ---- */
/* Create vm's PCI bus: the configuration mechanisms and the host bridge at 00:00.0.
 * false with a message when the ranges cannot be registered. */
bool vpci_create(struct vm *vm, char *err, size_t errlen);
/* Plug a function in at devfn (after pci_vdev_init and its capabilities). */
bool vpci_add(struct vpci *p, struct pci_vdev *d);
/* A configuration access to bus 0 (reg < 4096). Absent functions read all ones. */
u32 vpci_cfg_read(struct vpci *p, u8 devfn, u32 reg, unsigned size);
void vpci_cfg_write(struct vpci *p, u8 devfn, u32 reg, unsigned size, u32 val);
/* Decode of CONFIG_ADDRESS (mechanism #1): false when the enable bit is clear or the
 * bus is not 0. */
bool pci_cf8_decode(u32 cf8, u8 *devfn, u32 *reg);

/* ---- a function (config.c) ---- */
void pci_vdev_init(struct pci_vdev *d, struct vm *vm, u8 devfn, const char *model,
		   const struct pci_vdev_ops *ops, u16 vendor, u16 device, u32 class_code);
/* Declare BAR i (size a power of two). MEM64 also claims BAR i + 1. */
void pci_vdev_set_bar(struct pci_vdev *d, unsigned i, enum pci_bar_type type, u64 size);
/* Append a capability of len bytes with the given ID; returns its offset (0: no room).
 * The caller sets its wmask bytes. */
u8 pci_vdev_add_cap(struct pci_vdev *d, u8 id, u8 len);
/* Config space of a function, under its lock. */
u32 pci_vdev_cfg_read(struct pci_vdev *d, u32 reg, unsigned size);
void pci_vdev_cfg_write(struct pci_vdev *d, u32 reg, unsigned size, u32 val);
/* The address the guest programmed into BAR i. */
u64 pci_bar_addr(const struct pci_vdev *d, unsigned i);
/* Reset: BARs 0 and unmapped, command 0, MSI/MSI-X disabled, INTx deasserted. */
void pci_vdev_reset(struct pci_vdev *d);
/* INTx: the device drives its pin (level); routed through the vIOAPIC unless the
 * command register's Interrupt Disable, MSI Enable or MSI-X Enable is set. Status
 * bit 3 follows the device's level. */
void pci_intx_set(struct pci_vdev *d, bool level);

static inline u32 pci_cfg_get(const struct pci_vdev *d, u32 reg, unsigned size)
{
	u32 v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (u32)d->cfg[reg + i] << (8 * i);
	return v;
}

static inline void pci_cfg_set(struct pci_vdev *d, u32 reg, unsigned size, u32 v)
{
	for (unsigned i = 0; i < size; i++)
		d->cfg[reg + i] = (u8)(v >> (8 * i));
}

static inline void pci_wmask_set(struct pci_vdev *d, u32 reg, unsigned size, u32 v)
{
	for (unsigned i = 0; i < size; i++)
		d->wmask[reg + i] = (u8)(v >> (8 * i));
}

/* ---- MSI (msi.c) ---- */
/* Add an MSI capability for nvec vectors (1, 2, 4, 8, 16 or 32). */
bool pci_msi_init(struct pci_vdev *d, unsigned nvec, bool is64, bool pvm);
/* After a config write inside the capability: deliver unmasked pending vectors. */
void pci_msi_cfg_written(struct pci_vdev *d, u32 reg, unsigned size);
bool pci_msi_enabled(const struct pci_vdev *d);
/* Raise vector n: delivered, or pending while masked. false when MSI is disabled or n
 * is beyond the enabled count. */
bool pci_msi_raise(struct pci_vdev *d, unsigned n);
void pci_msi_reset(struct pci_vdev *d);

/* ---- MSI-X (msix.c) ---- */
/* Add an MSI-X capability for nvec vectors with the table at table_off and the PBA at
 * pba_off of BAR bar (which the device declared large enough). */
bool pci_msix_init(struct pci_vdev *d, unsigned nvec, unsigned bar, u32 table_off, u32 pba_off);
void pci_msix_cfg_written(struct pci_vdev *d, u32 reg, unsigned size);
bool pci_msix_enabled(const struct pci_vdev *d);
/* Raise vector n: delivered, or its pending bit set while it or the function is
 * masked. false when MSI-X is disabled or n is out of range. */
bool pci_msix_raise(struct pci_vdev *d, unsigned n);
/* The same, with *pending: the message was left pending (masked). The function's lock
 * need not be held (the MSI-X lock is taken). */
bool pci_msix_raise_ex(struct pci_vdev *d, unsigned n, bool *pending);
/* A BAR access that falls in the table or PBA: true (and *res) when it did. Table
 * accesses must be 4 or 8 bytes, naturally aligned ("MSI-X Table Structure": "software
 * must use aligned full DWORD or aligned full QWORD transactions"), else IO_REFUSED. */
bool pci_msix_bar_access(struct pci_vdev *d, unsigned bar, u64 off, struct io_req *req,
			 enum io_result *res);
void pci_msix_reset(struct pci_vdev *d);

/* ---- functions ---- */
bool pci_hostbridge_create(struct vpci *p);
/* hv/pci/testdev.c: the test device at 00:02.0 (docs/INTERFACES.md). */
#define PCI_TESTDEV_DEVFN PCI_DEVFN(2, 0)
bool pci_testdev_create(struct vpci *p, char *err, size_t errlen);

/* IDs of this platform (docs/INTERFACES.md, "PCI"): vendor 0x4D48 ("MH") is a private
 * ID of this virtual platform, not a PCI-SIG assignment. */
#define PCI_VENDOR_MICROHV 0x4d48
#define PCI_DEVICE_HOSTBRIDGE 0x0001
#define PCI_DEVICE_TESTDEV 0x0002

#endif
