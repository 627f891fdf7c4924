/* SPDX-License-Identifier: MIT */
/* hv/io/bus.c: ranges, overlap refusal, BAR moves, dispatch, unclaimed accesses, device
 * locks, the device life cycle. */
#include "tests/unit/support.h"
#include "hv/io/bus.h"
#include "hv/vm/vm.h"

static struct vm vm;

/* A test device: remembers the last access and whether its lock was held then. */
struct tdev {
	struct vdev dev;
	u64 off, value;
	u8 size;
	bool write, locked;
	int calls, locked_calls, resets, destroys;
	enum io_result result;
	u8 regs[16];
};

static struct tdev a, b, c;
static int order[8], nr_order;

static enum io_result t_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	struct tdev *t = container_of(dev, struct tdev, dev);
	t->calls++;
	t->off = off;
	t->size = req->size;
	t->write = req->write;
	t->locked = dev->lock.locked;
	t->locked_calls += t->locked;
	if (req->write) {
		t->value = req->value;
		for (unsigned i = 0; i < req->size && off + i < sizeof(t->regs); i++)
			t->regs[off + i] = (u8)(req->value >> (8 * i));
	} else {
		u64 r = 0;
		for (unsigned i = 0; i < req->size && off + i < sizeof(t->regs); i++)
			r |= (u64)t->regs[off + i] << (8 * i);
		req->value = r | 0xdead000000000000ull;   /* the bus keeps the low size bytes */
	}
	return t->result;
}

static const struct io_range_ops t_ops = { t_access };

static void t_reset(struct vdev *dev)
{
	struct tdev *t = container_of(dev, struct tdev, dev);
	t->resets++;
	order[nr_order++] = t == &a ? 'a' : t == &b ? 'b' : 'c';
}

static void t_destroy(struct vdev *dev)
{
	struct tdev *t = container_of(dev, struct tdev, dev);
	t->destroys++;
	order[nr_order++] = t == &a ? 'a' : t == &b ? 'b' : 'c';
	io_bus_unregister(dev->vm, IO_SPACE_PORT, 0x100, dev);
}

static const struct vdev_ops t_vops = { t_reset, t_destroy };

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	nr_order = 0;
	return 0;
}

static enum io_result bus_access(enum io_space space, u64 addr, u8 size, bool write, u64 *value, bool *claimed,
			     struct vdev **dev)
{
	struct io_req req = { .space = space, .addr = addr, .size = size, .write = write, .value = *value };
	enum io_result r = io_bus_dispatch(&vm, NULL, &req, claimed, dev);
	*value = req.value;
	return r;
}

static void register_and_overlap(void **state)
{
	(void)state;
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x100, 8, &a.dev, &t_ops, 0));
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x108, 4, &b.dev, &t_ops, 0));   /* adjacent */
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0xf0, 0x10, &c.dev, &t_ops, 0)); /* adjacent below */
	/* Overlaps: inside, across either end, covering, same base. */
	assert_false(io_bus_register(&vm, IO_SPACE_PORT, 0x104, 1, &c.dev, &t_ops, 0));
	assert_false(io_bus_register(&vm, IO_SPACE_PORT, 0xff, 2, &c.dev, &t_ops, 0));
	assert_false(io_bus_register(&vm, IO_SPACE_PORT, 0x10b, 4, &c.dev, &t_ops, 0));
	assert_false(io_bus_register(&vm, IO_SPACE_PORT, 0x80, 0x200, &c.dev, &t_ops, 0));
	assert_false(io_bus_register(&vm, IO_SPACE_PORT, 0x108, 1, &c.dev, &t_ops, 0));
	/* Empty, wrapping, past the port space, bad space. */
	assert_false(io_bus_register(&vm, IO_SPACE_PORT, 0x200, 0, &c.dev, &t_ops, 0));
	assert_false(io_bus_register(&vm, IO_SPACE_MMIO, ~0ull - 1, 4, &c.dev, &t_ops, 0));
	assert_false(io_bus_register(&vm, IO_SPACE_PORT, 0xfffe, 4, &c.dev, &t_ops, 0));
	assert_false(io_bus_register(&vm, NR_IO_SPACES, 0x200, 1, &c.dev, &t_ops, 0));
	/* The spaces are apart: the same numbers in MMIO are free. */
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0x100, 8, &c.dev, &t_ops, 0));
	assert_int_equal(vm.bus.nr[IO_SPACE_PORT], 3);
	assert_int_equal(vm.bus.nr[IO_SPACE_MMIO], 1);
	/* Sorted by base. */
	assert_int_equal(vm.bus.range[IO_SPACE_PORT][0].base, 0xf0);
	assert_int_equal(vm.bus.range[IO_SPACE_PORT][1].base, 0x100);
	assert_int_equal(vm.bus.range[IO_SPACE_PORT][2].base, 0x108);
	/* A range that ends at the top of the space. */
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, ~0ull - 3, 4, &c.dev, &t_ops, 0));
	assert_ptr_equal(io_bus_find(&vm, IO_SPACE_MMIO, ~0ull), &c.dev);
}

static void bus_full(void **state)
{
	(void)state;
	for (unsigned i = 0; i < IO_BUS_MAX_RANGES; i++)
		assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0x1000 * (IO_BUS_MAX_RANGES - i), 0x10, &a.dev, &t_ops, 0));
	assert_false(io_bus_register(&vm, IO_SPACE_MMIO, 0x10, 0x10, &a.dev, &t_ops, 0));
	for (unsigned i = 1; i < IO_BUS_MAX_RANGES; i++)
		assert_true(vm.bus.range[IO_SPACE_MMIO][i - 1].last < vm.bus.range[IO_SPACE_MMIO][i].base);
	assert_ptr_equal(io_bus_find(&vm, IO_SPACE_MMIO, 0x1000 * IO_BUS_MAX_RANGES + 0xf), &a.dev);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0x1000 * IO_BUS_MAX_RANGES + 0x10));
}

static void unregister_and_move(void **state)
{
	(void)state;
	u64 val = 0;
	bool claimed;
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xe0000000, 0x1000, &a.dev, &t_ops, 0));
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xe0001000, 0x1000, &b.dev, &t_ops, 0));
	/* Only the owner's range at exactly that base goes. */
	assert_false(io_bus_unregister(&vm, IO_SPACE_MMIO, 0xe0000000, &b.dev));
	assert_false(io_bus_unregister(&vm, IO_SPACE_MMIO, 0xe0000004, &a.dev));
	assert_false(io_bus_unregister(&vm, IO_SPACE_PORT, 0xe0000000, &a.dev));
	/* A BAR move: unregister at the old base, register at the new one. */
	assert_true(io_bus_unregister(&vm, IO_SPACE_MMIO, 0xe0000000, &a.dev));
	assert_false(io_bus_unregister(&vm, IO_SPACE_MMIO, 0xe0000000, &a.dev));
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xe0000010, 4, false, &val, &claimed, NULL), IO_REFUSED);
	assert_false(claimed);
	assert_false(io_bus_register(&vm, IO_SPACE_MMIO, 0xe0001800, 0x1000, &a.dev, &t_ops, 0));
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xe0002000, 0x1000, &a.dev, &t_ops, 0));
	val = 0x12345678;
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xe0002008, 4, true, &val, &claimed, NULL), IO_DONE);
	assert_true(claimed);
	assert_int_equal(a.off, 8);
	assert_int_equal(a.value, 0x12345678);
	/* The old place can be taken again. */
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xe0000000, 0x1000, &c.dev, &t_ops, 0));
	assert_int_equal(vm.bus.nr[IO_SPACE_MMIO], 3);
	assert_int_equal(vm.bus.seq % 2, 0);
}

static void dispatch_offsets(void **state)
{
	(void)state;
	u64 val;
	bool claimed;
	struct vdev *dev;
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x3f8, 8, &a.dev, &t_ops, 0));
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x600, 12, &b.dev, &t_ops, 0));
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xfec00000, 0x1000, &c.dev, &t_ops, 0));
	val = 0x41;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x3f8 + 7, 1, true, &val, &claimed, &dev), IO_DONE);
	assert_true(claimed);
	assert_ptr_equal(dev, &a.dev);
	assert_int_equal(a.off, 7);
	assert_int_equal(a.size, 1);
	assert_true(a.write);
	assert_int_equal(a.regs[7], 0x41);
	val = ~0ull;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x3ff, 1, false, &val, &claimed, &dev), IO_DONE);
	assert_int_equal(val & 0xff, 0x41);   /* only the low size bytes count */
	assert_false(a.write);
	/* The last bytes of a range. */
	val = 0xaabbccdd;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x608, 4, true, &val, &claimed, &dev), IO_DONE);
	assert_ptr_equal(dev, &b.dev);
	assert_int_equal(b.off, 8);
	assert_int_equal(b.size, 4);
	val = 0;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x60a, 2, false, &val, &claimed, NULL), IO_DONE);
	assert_int_equal(val & 0xffff, 0xaabb);
	val = 0;
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfec00010, 8, false, &val, &claimed, &dev), IO_DONE);
	assert_ptr_equal(dev, &c.dev);
	assert_int_equal(c.off, 0x10);
	assert_int_equal(c.size, 8);
	assert_int_equal(val, 0xdead000000000000ull);   /* 8 bytes: all of it */
	/* The device's own result is passed on. */
	b.result = IO_STOPPED;
	val = 1;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x604, 2, true, &val, &claimed, &dev), IO_STOPPED);
	c.result = IO_REFUSED;
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfec00000, 4, false, &val, &claimed, &dev), IO_REFUSED);
	assert_true(claimed);
	assert_ptr_equal(dev, &c.dev);
	/* Bad sizes never reach a device. */
	int calls = c.calls;
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfec00000, 0, false, &val, &claimed, &dev), IO_REFUSED);
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfec00000, 16, false, &val, &claimed, &dev), IO_REFUSED);
	assert_int_equal(c.calls, calls);
}

static void unclaimed(void **state)
{
	(void)state;
	u64 val;
	bool claimed = true;
	struct vdev *dev = &a.dev;
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x3f8, 8, &a.dev, &t_ops, 0));
	/* Unclaimed ports: all ones, at the access's size; writes dropped. */
	val = 0x1234;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x80, 1, false, &val, &claimed, &dev), IO_DONE);
	assert_int_equal(val & 0xff, 0xff);
	assert_false(claimed);
	assert_null(dev);
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x80, 2, false, &val, &claimed, &dev), IO_DONE);
	assert_int_equal(val & 0xffff, 0xffff);
	assert_int_equal(bus_access(IO_SPACE_PORT, 0xcfc, 4, false, &val, &claimed, &dev), IO_DONE);
	assert_int_equal(val & 0xffffffffu, 0xffffffffu);
	/* The fast path (no claimed, no dev_out) answers the same. */
	struct io_req fast = { IO_SPACE_PORT, 0xcfc, 4, false, 0 };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &fast, NULL, NULL), IO_DONE);
	assert_int_equal(fast.value & 0xffffffffu, 0xffffffffu);
	val = 5;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x3f0, 4, true, &val, &claimed, &dev), IO_DONE);
	assert_int_equal(a.calls, 0);
	/* Unclaimed MMIO: reported, not answered. */
	claimed = true;
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfed00000, 4, false, &val, &claimed, &dev), IO_REFUSED);
	assert_false(claimed);
	assert_null(dev);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0xfed00000));
	/* NULL out-parameters are allowed. */
	assert_int_equal(io_bus_dispatch(&vm, NULL, &(struct io_req){ IO_SPACE_PORT, 0x80, 1, false, 0 }, NULL, NULL),
			 IO_DONE);
}

static void past_the_end(void **state)
{
	(void)state;
	u64 val = 0;
	bool claimed;
	struct vdev *dev;
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xfec00000, 0x20, &a.dev, &t_ops, 0));
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xfec00020, 0x20, &b.dev, &t_ops, 0));
	/* An MMIO access that starts in a range and runs past its end is refused, even into
	 * a neighbour, and no device sees it. */
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfec0001c, 8, false, &val, &claimed, &dev), IO_REFUSED);
	assert_true(claimed);
	assert_ptr_equal(dev, &a.dev);
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfec0003f, 2, true, &val, &claimed, &dev), IO_REFUSED);
	assert_ptr_equal(dev, &b.dev);
	assert_int_equal(a.calls + b.calls, 0);
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfec00018, 8, false, &val, &claimed, &dev), IO_DONE);
	/* An access that wraps the address space is refused. */
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, ~0ull - 3, 4, &c.dev, &t_ops, 0));
	assert_int_equal(bus_access(IO_SPACE_MMIO, ~0ull - 1, 4, false, &val, &claimed, &dev), IO_REFUSED);
	assert_int_equal(c.calls, 0);
}

/* Ports: a wide access over byte-wide registers goes byte by byte (the ISA bus). */
static void port_bytes(void **state)
{
	(void)state;
	u64 val;
	bool claimed;
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x20, 2, &a.dev, &t_ops, 0));
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x22, 1, &b.dev, &t_ops, 0));
	a.regs[0] = 0x11;
	a.regs[1] = 0x22;
	b.regs[0] = 0x33;
	val = 0;
	/* 0x1f unclaimed, 0x20-0x21 a, 0x22 b. */
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x1f, 4, false, &val, &claimed, NULL), IO_DONE);
	assert_true(claimed);
	assert_int_equal(val & 0xffffffffu, 0x332211ff);
	assert_int_equal(a.calls, 2);
	assert_int_equal(a.size, 1);
	assert_int_equal(b.calls, 1);
	/* The same without claimed/dev_out (the fast path gives up on several ranges). */
	struct io_req fast = { IO_SPACE_PORT, 0x1f, 4, false, 0 };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &fast, NULL, NULL), IO_DONE);
	assert_int_equal(fast.value & 0xffffffffu, 0x332211ff);
	a.calls = 2;   /* as before the repeat */
	b.calls = 1;
	val = 0xa1a2a3a4;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x21, 4, true, &val, &claimed, NULL), IO_DONE);
	assert_int_equal(a.regs[1], 0xa4);
	assert_int_equal(b.regs[0], 0xa3);
	assert_int_equal(a.calls, 3);
	assert_int_equal(b.calls, 2);
	/* Wrapping at the top of the port space: byte 1 is port 0. */
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0, 1, &c.dev, &t_ops, 0));
	c.regs[0] = 0x5a;
	assert_int_equal(bus_access(IO_SPACE_PORT, 0xffff, 2, false, &val, &claimed, NULL), IO_DONE);
	assert_int_equal(val & 0xffff, 0x5aff);
	struct io_req wrap = { IO_SPACE_PORT, 0xffff, 2, false, 0 };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &wrap, NULL, NULL), IO_DONE);
	assert_int_equal(wrap.value & 0xffff, 0x5aff);
	/* A byte refused stops the access there and names its port. */
	b.result = IO_REFUSED;
	struct io_req req = { IO_SPACE_PORT, 0x21, 2, true, 0 };
	struct vdev *dev;
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, &claimed, &dev), IO_REFUSED);
	assert_ptr_equal(dev, &b.dev);
	assert_int_equal(req.addr, 0x22);
	assert_int_equal(req.size, 1);
}

static void device_lock(void **state)
{
	(void)state;
	u64 val = 0;
	bool claimed;
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x3f8, 8, &a.dev, &t_ops, 0));
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xfee00000, 0x1000, &b.dev, &t_ops, IO_RANGE_LOCKLESS));
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x80, 1, &c.dev, &t_ops, IO_RANGE_LOCKLESS));
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x3f8, 1, false, &val, &claimed, NULL), IO_DONE);
	assert_int_equal(a.locked_calls, 1);
	assert_false(a.dev.lock.locked);   /* released after the callback */
	/* The fast path (no claimed, no dev_out) locks too. */
	struct io_req fast = { IO_SPACE_PORT, 0x3f9, 1, true, 0 };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &fast, NULL, NULL), IO_DONE);
	assert_int_equal(a.locked_calls, 2);
	assert_false(a.dev.lock.locked);
	/* Lockless ranges, MMIO and port. */
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xfee00030, 4, false, &val, &claimed, NULL), IO_DONE);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.locked_calls, 0);
	fast = (struct io_req){ IO_SPACE_PORT, 0x80, 1, true, 0 };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &fast, NULL, NULL), IO_DONE);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.locked_calls, 0);
	/* The byte path locks each byte's device too. */
	assert_int_equal(bus_access(IO_SPACE_PORT, 0x3fe, 4, false, &val, &claimed, NULL), IO_DONE);
	assert_int_equal(a.calls, 4);
	assert_int_equal(a.locked_calls, 4);
	assert_false(a.dev.lock.locked);
}

/* A callback may (un)register ranges: nothing of the bus is held across it. */
static enum io_result moving_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	(void)off;
	assert_false(dev->vm->bus.lock.locked);
	assert_true(io_bus_unregister(dev->vm, IO_SPACE_MMIO, 0xc0000000, dev));
	assert_true(io_bus_register(dev->vm, IO_SPACE_MMIO, req->value, 0x1000, dev, &t_ops, 0));
	return IO_DONE;
}

static void callback_moves_range(void **state)
{
	(void)state;
	static const struct io_range_ops moving = { moving_access };
	vdev_add(&vm, &a.dev, "mover", &t_vops);
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xc0000000, 0x1000, &a.dev, &moving, 0));
	u64 val = 0xc0100000;
	bool claimed;
	assert_int_equal(bus_access(IO_SPACE_MMIO, 0xc0000000, 4, true, &val, &claimed, NULL), IO_DONE);
	assert_null(io_bus_find(&vm, IO_SPACE_MMIO, 0xc0000000));
	assert_ptr_equal(io_bus_find(&vm, IO_SPACE_MMIO, 0xc0100fff), &a.dev);
}

static void lifecycle(void **state)
{
	(void)state;
	assert_true(io_bus_register(&vm, IO_SPACE_PORT, 0x100, 1, &a.dev, &t_ops, 0));
	vdev_add(&vm, &a.dev, "A", &t_vops);
	vdev_add(&vm, &b.dev, "B", &t_vops);
	vdev_add(&vm, &c.dev, "C", &t_vops);
	assert_string_equal(a.dev.name, "A");
	assert_ptr_equal(b.dev.vm, &vm);
	vdev_reset_all(&vm);
	assert_int_equal(nr_order, 3);
	assert_int_equal(order[0], 'a');
	assert_int_equal(order[1], 'b');
	assert_int_equal(order[2], 'c');
	vdev_destroy_all(&vm);
	assert_int_equal(nr_order, 6);
	assert_int_equal(order[3], 'c');
	assert_int_equal(order[4], 'b');
	assert_int_equal(order[5], 'a');
	assert_int_equal(a.destroys + b.destroys + c.destroys, 3);
	assert_null(vm.bus.devs);
	assert_null(io_bus_find(&vm, IO_SPACE_PORT, 0x100));   /* a's destroy unregistered it */
	vdev_reset_all(&vm);
	assert_int_equal(nr_order, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(register_and_overlap, setup),
		cmocka_unit_test_setup(bus_full, setup),
		cmocka_unit_test_setup(unregister_and_move, setup),
		cmocka_unit_test_setup(dispatch_offsets, setup),
		cmocka_unit_test_setup(unclaimed, setup),
		cmocka_unit_test_setup(past_the_end, setup),
		cmocka_unit_test_setup(port_bytes, setup),
		cmocka_unit_test_setup(device_lock, setup),
		cmocka_unit_test_setup(callback_moves_range, setup),
		cmocka_unit_test_setup(lifecycle, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
