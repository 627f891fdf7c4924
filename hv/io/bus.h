/* SPDX-License-Identifier: MIT */
/*
 * The per-VM I/O bus: how a device is plugged into a VM.
 *
 * A device model embeds a struct vdev and registers address ranges on its VM's bus,
 * in the port space (16-bit I/O addresses) or the MMIO space (guest-physical
 * addresses outside RAM). The VMX layer only decodes a guest access into one struct
 * io_req and hands it to io_bus_dispatch(); the bus finds the range and calls the
 * device's access callback with the offset in the range, under the device's lock.
 *
 * Rules:
 *  - Ranges of one space never overlap; registering an overlapping range fails.
 *  - Ranges may be registered and unregistered while the VM runs (a guest moves a
 *    PCI BAR): writers serialise on the bus lock and bump the bus's sequence count
 *    around each change; a lookup takes no lock, it reads the count, searches, and
 *    searches again if the count was odd or changed (a seqcount: port I/O exits are a
 *    hot path). Nothing of the bus is held across a device callback, so a callback may
 *    itself (un)register ranges. A device stays valid until vdev_destroy_all(), after
 *    the VM's vCPUs have stopped, so a range unregistered during a lookup may still
 *    see one last access.
 *  - A device callback runs with its device's lock held (unless the range was
 *    registered IO_RANGE_LOCKLESS: the device synchronises itself, e.g. the vLAPIC,
 *    which only its own vCPU touches). A callback must not take another device's lock.
 *    io_bus_dispatch() runs in VM-exit handlers, where interrupts are off (a VM exit
 *    clears RFLAGS.IF), and takes the device lock without saving RFLAGS; code outside
 *    the bus that takes a device lock uses spin_lock_irqsave().
 *  - Unclaimed ports read all ones and drop writes (a PC bus with nothing decoding the
 *    address); unclaimed MMIO is the caller's to diagnose (the VM is stopped).
 *  - A port access not wholly inside one range is taken byte by byte, byte i at port
 *    + i, each dispatched alone (the ISA bus splits a wide cycle for 8-bit devices),
 *    so byte-wide devices see every byte that is theirs. An MMIO access that starts
 *    in a range and runs past its end is refused.
 *  - Lock order: a device lock, then the console's. The UART's lock is a leaf (the
 *    console flush of vm_stop() takes it), so a callback that stops the VM must not
 *    hold the UART's lock.
 */
#ifndef HV_IO_BUS_H
#define HV_IO_BUS_H

#include "hv/lib/types.h"
#include "hv/host/cpu.h"
#include "arch/x86/x86.h"

struct vm;
struct vcpu;
struct vdev;

enum io_space { IO_SPACE_PORT, IO_SPACE_MMIO, NR_IO_SPACES };

/* One decoded guest access. The data is the low size bytes of value, in both
 * directions: for a write, what is written (a device ignores the bytes above); a read
 * stores its result there (the caller ignores the bytes above). */
struct io_req {
	enum io_space space;
	u64 addr;        /* port number, or guest-physical address */
	u8 size;         /* 1, 2, 4 or 8 bytes */
	bool write;
	u64 value;
};

/* What a device callback reports. */
enum io_result {
	IO_DONE,         /* completed: the instruction retires */
	IO_REFUSED,      /* not an access this device accepts (bad size or alignment): the
			  * caller stops the VM with a diagnosis naming device and access */
	IO_STOPPED,      /* the device stopped the VM (debug exit, S5, vm_fault()) */
};

/* One registered range: [base, base + len) in a space, served by dev through access().
 * off = req->addr - base. A device with several ranges tells them apart by giving each
 * its own ops (or by the offset's range, when it registers one range per BAR). */
struct io_range_ops {
	enum io_result (*access)(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req);
};

#define IO_RANGE_LOCKLESS BIT(0)   /* do not take the device lock around access() */

/* The device lifecycle: a device is created by its own constructor (which registers
 * ranges and calls vdev_add()), reset with the VM, destroyed when the VM goes. */
struct vdev_ops {
	void (*reset)(struct vdev *dev);
	void (*destroy)(struct vdev *dev);   /* unregister ranges, free memory */
};

#define IO_BUS_MAX_RANGES 64   /* per space and VM */

struct io_range {
	u64 base, last;            /* [base, last]: last = base + len - 1 */
	struct vdev *dev;
	const struct io_range_ops *ops;
	u32 flags;
};

/* A VM's bus (embedded in struct vm). Ports are found through port_map in one load;
 * MMIO ranges by bisection. */
struct io_bus {
	struct spinlock lock;      /* writers: the range tables and the device list */
	volatile u32 seq;          /* odd while a writer changes a table */
	u32 nr[NR_IO_SPACES];
	struct io_range range[NR_IO_SPACES][IO_BUS_MAX_RANGES];   /* sorted by base */
	struct vdev *devs, *devs_tail;
	/* port -> 1 + its range's index in range[IO_SPACE_PORT]; 0: none. The 3 entries
	 * past 0xffff hold IO_BUS_PORT_WRAP: an access that wraps never matches a range. */
	u8 port_map[0x10000 + 3];
};
#define IO_BUS_PORT_WRAP 0xff
_Static_assert(IO_BUS_MAX_RANGES < IO_BUS_PORT_WRAP && !(IO_BUS_MAX_RANGES & (IO_BUS_MAX_RANGES - 1)),
	       "a port_map entry holds a range index + 1; the count is a power of two");

struct vdev {
	const char *name;          /* in diagnostics: "COM1", "IOAPIC", "00:02.0 testdev" */
	const struct vdev_ops *ops;
	struct vm *vm;
	struct spinlock lock;      /* held around access() unless IO_RANGE_LOCKLESS */
	struct vdev *next;         /* the VM's device list */
};

/* Put dev on vm's device list (after it has registered its ranges); sets its name,
 * ops and vm. The constructor initialises dev->lock (zero is unlocked) before it
 * registers a range. */
void vdev_add(struct vm *vm, struct vdev *dev, const char *name, const struct vdev_ops *ops);
/* Reset / destroy every device of vm, in the order they were added / the reverse. */
void vdev_reset_all(struct vm *vm);
void vdev_destroy_all(struct vm *vm);

/* Register [base, base + len) of space for dev. false (and nothing registered) when the
 * range overlaps another, len is 0, the range wraps, or the bus is full. */
bool io_bus_register(struct vm *vm, enum io_space space, u64 base, u64 len, struct vdev *dev,
		     const struct io_range_ops *ops, u32 flags);
/* Unregister the range of dev that starts at base. false when there is none. */
bool io_bus_unregister(struct vm *vm, enum io_space space, u64 base, struct vdev *dev);

/* Dispatch a decoded access. Ports: unclaimed reads return all ones, writes are
 * dropped (IO_DONE). MMIO: *claimed is false when no range covers the access (the
 * caller diagnoses); an access that starts in a range and runs past its end is
 * IO_REFUSED. dev_out (may be NULL) receives the device that handled it, for
 * diagnostics. */
enum io_result io_bus_dispatch(struct vm *vm, struct vcpu *v, struct io_req *req, bool *claimed,
			       struct vdev **dev_out);
/* The device whose range in space covers addr, or NULL (for a diagnosis before an
 * access is decoded). */
struct vdev *io_bus_find(struct vm *vm, enum io_space space, u64 addr);

/* ---- the port fast path, inline for the exit handler ---- */

/* Readers: a lookup is valid when the count was even and has not moved. */
static inline u32 io_bus_seq_begin(const struct io_bus *bus)
{
	return __atomic_load_n(&bus->seq, __ATOMIC_ACQUIRE);
}

static inline bool io_bus_seq_retry(const struct io_bus *bus, u32 s)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return (s & 1) || __atomic_load_n(&bus->seq, __ATOMIC_RELAXED) != s;
}

/* The device lock on the dispatch path: interrupts are off already (above). */
static inline void io_bus_dev_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline void io_bus_dev_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* What io_bus_dispatch(vm, v, req, NULL, NULL) does for a port access wholly inside
 * one range or with no byte claimed (the map gives the same range for its first and
 * last byte: a range is contiguous in the map), inline: port I/O exits are the hot
 * path tools/bench measures. req->space must be IO_SPACE_PORT. false: nothing done,
 * call io_bus_dispatch(). */
static inline bool io_bus_port_fast(struct io_bus *bus, struct vcpu *v, struct io_req *req, enum io_result *res)
{
	unsigned size = req->size;
	u64 port = req->addr;
	if (unlikely(size - 1u >= 4u || port > 0xffff))
		return false;
	const u8 *map = &bus->port_map[port];
	u32 s = io_bus_seq_begin(bus);
	u32 i = map[0];
	if (unlikely(i != map[size - 1]))
		return false;   /* several ranges, or past 0xffff (IO_BUS_PORT_WRAP) */
	if (!i) {
		if (unlikely((size == 4 && (map[1] | map[2])) || io_bus_seq_retry(bus, s)))
			return false;
		if (!req->write)
			req->value = ~0ull;   /* no byte claimed: all ones, writes dropped */
		*res = IO_DONE;
		return true;
	}
	/* Below 0x10000 the map holds only 0 and range indices + 1, torn or not. */
	struct io_range r = bus->range[IO_SPACE_PORT][i - 1];
	if (unlikely(io_bus_seq_retry(bus, s)))
		return false;   /* a writer changed the tables meanwhile: the slow path retries */
	if (r.flags & IO_RANGE_LOCKLESS) {
		*res = r.ops->access(r.dev, v, port - r.base, req);
		return true;
	}
	io_bus_dev_lock(&r.dev->lock);
	*res = r.ops->access(r.dev, v, port - r.base, req);
	io_bus_dev_unlock(&r.dev->lock);
	return true;
}

#endif
