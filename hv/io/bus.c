/* SPDX-License-Identifier: MIT */
/*
 * The per-VM I/O bus (hv/io/bus.h): per space, a fixed array of ranges sorted by base,
 * read without a lock under the bus's sequence count: MMIO ranges are found by
 * bisection, ports through a 64 Ki-entry map (one load on the port I/O exit path, which
 * tools/bench measures); the devices' list and life cycle.
 */
#include "hv/io/bus.h"
#include "hv/vm/vm.h"
#include "hv/lib/lib.h"

/* Writers hold bus->lock; readers retry while the count is odd or has moved. */
static inline void write_begin(struct io_bus *bus)
{
	__atomic_store_n(&bus->seq, bus->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void write_end(struct io_bus *bus)
{
	__atomic_store_n(&bus->seq, bus->seq + 1, __ATOMIC_RELEASE);
}

/* The index of the last range whose base is <= addr, or -1. */
static inline int bisect(const struct io_range *r, u32 n, u64 addr)
{
	int lo = 0, hi = (int)n - 1, at = -1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (r[mid].base <= addr) {
			at = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return at;
}

/* The port map from the port ranges (a writer, between write_begin and write_end). */
static void rebuild_port_map(struct io_bus *bus)
{
	memset(bus->port_map, 0, 0x10000);
	memset(&bus->port_map[0x10000], IO_BUS_PORT_WRAP, sizeof(bus->port_map) - 0x10000);
	for (u32 i = 0; i < bus->nr[IO_SPACE_PORT]; i++) {
		const struct io_range *r = &bus->range[IO_SPACE_PORT][i];
		memset(&bus->port_map[r->base], (int)(i + 1), r->last - r->base + 1);
	}
}

/* A copy of the range covering addr, consistent with one state of the table. */
static inline bool lookup(const struct io_bus *bus, enum io_space space, u64 addr, struct io_range *out)
{
	for (;;) {
		u32 s = io_bus_seq_begin(bus);
		u32 n = MIN(READ_ONCE(bus->nr[space]), (u32)IO_BUS_MAX_RANGES);
		const struct io_range *r = bus->range[space];
		int i = bisect(r, n, addr);
		bool hit = i >= 0 && addr <= r[i].last;
		if (hit)
			*out = r[i];
		if (!io_bus_seq_retry(bus, s))
			return hit;
		cpu_relax();
	}
}

bool io_bus_register(struct vm *vm, enum io_space space, u64 base, u64 len, struct vdev *dev,
		     const struct io_range_ops *ops, u32 flags)
{
	struct io_bus *bus = &vm->bus;
	if ((unsigned)space >= NR_IO_SPACES || !len || base + (len - 1) < base || !dev || !ops || !ops->access)
		return false;
	if (space == IO_SPACE_PORT && base + (len - 1) > 0xffff)
		return false;
	u64 last = base + (len - 1);
	bool ok = false;
	u64 f = spin_lock_irqsave(&bus->lock);
	u32 n = bus->nr[space];
	struct io_range *r = bus->range[space];
	int i = bisect(r, n, base);
	/* Free when the range before ends below base and the one after starts past last. */
	if (n < IO_BUS_MAX_RANGES && (i < 0 || r[i].last < base) && ((u32)(i + 1) >= n || r[i + 1].base > last)) {
		u32 at = (u32)(i + 1);
		write_begin(bus);
		memmove(&r[at + 1], &r[at], (n - at) * sizeof(*r));
		r[at] = (struct io_range){ .base = base, .last = last, .dev = dev, .ops = ops, .flags = flags };
		__atomic_store_n(&bus->nr[space], n + 1, __ATOMIC_RELAXED);
		if (space == IO_SPACE_PORT)
			rebuild_port_map(bus);
		write_end(bus);
		ok = true;
	}
	spin_unlock_irqrestore(&bus->lock, f);
	return ok;
}

bool io_bus_unregister(struct vm *vm, enum io_space space, u64 base, struct vdev *dev)
{
	struct io_bus *bus = &vm->bus;
	if ((unsigned)space >= NR_IO_SPACES)
		return false;
	bool ok = false;
	u64 f = spin_lock_irqsave(&bus->lock);
	u32 n = bus->nr[space];
	struct io_range *r = bus->range[space];
	int i = bisect(r, n, base);
	if (i >= 0 && r[i].base == base && r[i].dev == dev) {
		write_begin(bus);
		memmove(&r[i], &r[i + 1], (n - (u32)i - 1) * sizeof(*r));
		__atomic_store_n(&bus->nr[space], n - 1, __ATOMIC_RELAXED);
		if (space == IO_SPACE_PORT)
			rebuild_port_map(bus);
		write_end(bus);
		ok = true;
	}
	spin_unlock_irqrestore(&bus->lock, f);
	return ok;
}

struct vdev *io_bus_find(struct vm *vm, enum io_space space, u64 addr)
{
	struct io_range r;
	if ((unsigned)space >= NR_IO_SPACES || !lookup(&vm->bus, space, addr, &r))
		return NULL;
	return r.dev;
}

static inline enum io_result call(const struct io_range *r, struct vcpu *v, struct io_req *req)
{
	if (r->flags & IO_RANGE_LOCKLESS)
		return r->ops->access(r->dev, v, req->addr - r->base, req);
	io_bus_dev_lock(&r->dev->lock);
	enum io_result res = r->ops->access(r->dev, v, req->addr - r->base, req);
	io_bus_dev_unlock(&r->dev->lock);
	return res;
}


/* A port access that is not wholly inside one range: byte by byte (bus.h). */
static __attribute__((noinline)) enum io_result port_bytes(struct vm *vm, struct vcpu *v, struct io_req *req,
							    bool *claimed, struct vdev **dev_out)
{
	u64 in = 0;
	bool any = false;
	for (unsigned i = 0; i < req->size; i++) {
		struct io_range r;
		struct io_req b = { .space = IO_SPACE_PORT, .addr = (req->addr + i) & 0xffff, .size = 1,
				    .write = req->write, .value = (req->value >> (8 * i)) & 0xff };
		if (!lookup(&vm->bus, IO_SPACE_PORT, b.addr, &r)) {
			in |= 0xffull << (8 * i);
			continue;
		}
		any = true;
		if (dev_out)
			*dev_out = r.dev;
		enum io_result res = call(&r, v, &b);
		if (res != IO_DONE) {
			if (!req->write)
				req->value = b.value;   /* the refused byte alone, for the diagnosis */
			req->addr = b.addr;
			req->size = 1;
			if (claimed)
				*claimed = true;
			return res;
		}
		in |= (b.value & 0xff) << (8 * i);
	}
	if (!req->write)
		req->value = in;
	if (claimed)
		*claimed = any;
	return IO_DONE;
}

/* The rest of a dispatch: MMIO, and ports not wholly inside one range. */
static __attribute__((noinline)) enum io_result dispatch_slow(struct vm *vm, struct vcpu *v, struct io_req *req,
							       bool *claimed, struct vdev **dev_out)
{
	struct io_range r = { 0 };
	if (dev_out)
		*dev_out = NULL;
	if (unlikely((unsigned)req->space >= NR_IO_SPACES || !req->size || req->size > 8)) {
		if (claimed)
			*claimed = false;
		return IO_REFUSED;
	}
	u64 last = req->addr + (req->size - 1u);
	bool hit = lookup(&vm->bus, req->space, req->addr, &r);
	if (!hit || last > r.last || last < req->addr) {
		if (req->space == IO_SPACE_PORT)
			return port_bytes(vm, v, req, claimed, dev_out);
		if (claimed)
			*claimed = hit;
		if (dev_out && hit)
			*dev_out = r.dev;
		return IO_REFUSED;   /* unclaimed MMIO, or an access past the range's end */
	}
	if (claimed)
		*claimed = true;
	if (dev_out)
		*dev_out = r.dev;
	return call(&r, v, req);
}

enum io_result io_bus_dispatch(struct vm *vm, struct vcpu *v, struct io_req *req, bool *claimed,
			       struct vdev **dev_out)
{
	enum io_result res;
	if (req->space == IO_SPACE_PORT && !claimed && !dev_out && io_bus_port_fast(&vm->bus, v, req, &res))
		return res;
	return dispatch_slow(vm, v, req, claimed, dev_out);
}

void vdev_add(struct vm *vm, struct vdev *dev, const char *name, const struct vdev_ops *ops)
{
	struct io_bus *bus = &vm->bus;
	dev->name = name;
	dev->ops = ops;
	dev->vm = vm;
	dev->next = NULL;
	u64 f = spin_lock_irqsave(&bus->lock);
	if (bus->devs_tail)
		bus->devs_tail->next = dev;
	else
		bus->devs = dev;
	bus->devs_tail = dev;
	spin_unlock_irqrestore(&bus->lock, f);
}

void vdev_reset_all(struct vm *vm)
{
	for (struct vdev *d = vm->bus.devs; d; d = d->next)
		if (d->ops && d->ops->reset)
			d->ops->reset(d);
}

/* Reverse order: a device added later may depend on an earlier one. The list is
 * short (a VM's devices); reversing it in place keeps the bus free of allocation. */
void vdev_destroy_all(struct vm *vm)
{
	struct io_bus *bus = &vm->bus;
	struct vdev *rev = NULL;
	u64 f = spin_lock_irqsave(&bus->lock);
	struct vdev *d = bus->devs;
	bus->devs = bus->devs_tail = NULL;
	spin_unlock_irqrestore(&bus->lock, f);
	while (d) {
		struct vdev *next = d->next;
		d->next = rev;
		rev = d;
		d = next;
	}
	while (rev) {
		struct vdev *next = rev->next;
		rev->next = NULL;
		if (rev->ops && rev->ops->destroy)
			rev->ops->destroy(rev);
		rev = next;
	}
}
