/* SPDX-License-Identifier: MIT */
/*
 * The 8254 PIT on the bus (its counters: hv/dev/i8254.c) and port 0x61, as a PC/AT
 * wires them (IBM PC AT Technical Reference, "System Timers" and "System Control Port
 * B"; docs/INTERFACES.md, "Guest platform"):
 *   0x40-0x42 counters 0-2, 0x43 control word. Input clock 1.193182 MHz derived from
 *     the TSC (tsc_hz): reading needs no host timer. Gates of counters 0 and 1 are
 *     tied high; counter 2's gate is port 0x61 bit 0. BCD counting is refused: the
 *     counter counts in binary and the VM's console gets one note.
 *   0x61 (NMI status and control): bit 0 counter 2 gate, bit 1 speaker data, bits 2-3
 *     (parity / channel check enables) read as written; bit 4 the refresh request
 *     toggle, which flips every 18 input-clock ticks (15.1 us); bit 5 counter 2's OUT;
 *     bits 7:6 (parity error, channel check) read 0. Bits 7:4 ignore writes.
 *   IRQ 0: counter 0's OUT drives ISA IRQ 0, which the MADT routes to GSI 2 (vIOAPIC
 *     pin 2, edge): each rising edge of OUT is an edge on pin 2 (modes 0 and 4 once,
 *     modes 2 and 3 every period). A per-VM device timer (hv/dev/devtimer.h) is armed
 *     for the next edge only while counter 0 counts towards one; a periodic counter
 *     re-arms from its callback. Edges closer than PIT_IRQ_MIN_US apart merge into one
 *     interrupt (a guest cannot make the hypervisor take a host timer interrupt per
 *     input-clock tick), as do edges the host timer was late for.
 * The 8259s never deliver (hv/irq/vpic.c): IRQ 0 reaches the guest only through the
 * vIOAPIC. Both ranges are served under the device lock, and so is the timer.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/lib/lib.h"
#include "hv/host/time.h"
#include "arch/x86/x86.h"

#define PIT_PORT I8254_PORT_BASE
#define PIT_LEN 4
#define PORT61 0x61
#define PIT_IRQ_GSI 2          /* ISA IRQ 0 -> GSI 2: the MADT's interrupt source override */
#define PIT_IRQ_MIN_US 100

#define P61_GATE2 BIT(0)
#define P61_SPEAKER BIT(1)
#define P61_WRITABLE 0x0f
#define P61_REFRESH BIT(4)
#define P61_OUT2 BIT(5)
#define REFRESH_TICKS 18

/* Arm the timer for counter 0's next rising edge after now, or stop it. */
static void pit_rearm(struct pit *p, u64 now)
{
	u64 edge;
	if (i8254_next_edge(&p->chip, 0, i8254_tick(&p->chip, now), &edge))
		dev_timer_set(&p->timer, MAX(i8254_tick_tsc(&p->chip, edge), p->irq_min_tsc));
	else if (p->timer.armed)
		dev_timer_stop(&p->timer);
}

static void pit_timer_fired(struct dev_timer *dt, u64 now)
{
	struct pit *p = container_of(dt, struct pit, timer);
	struct vm *vm = p->dev.vm;
	if (vm->state != VM_RUNNING)
		return;
	/* An edge on an edge-triggered pin: assert, then deassert. */
	vioapic_set_irq(&vm->ioapic, PIT_IRQ_GSI, true);
	vioapic_set_irq(&vm->ioapic, PIT_IRQ_GSI, false);
	p->irq_min_tsc = now + tsc_hz / (1000000 / PIT_IRQ_MIN_US);
	pit_rearm(p, now);
}

static enum io_result pit_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	struct pit *p = container_of(dev, struct pit, dev);
	u64 now = rdtsc(), r = 0;
	bool touched0 = false;
	for (unsigned i = 0; i < req->size; i++) {
		unsigned o = (unsigned)off + i;
		if (!req->write) {
			r |= (u64)i8254_read(&p->chip, o, now) << (8 * i);
			continue;
		}
		u8 b = (u8)(req->value >> (8 * i));
		if (o == I8254_CTRL && I8254_CW_SC(b) != 3 && I8254_CW_RW(b) && (b & I8254_CW_BCD) && !p->bcd_noted) {
			p->bcd_noted = true;
			vm_log(v->vm, "vm %s: PIT counter %u programmed for BCD counting (control word 0x%x): not "
			       "supported, it counts in binary\n", v->vm->name, I8254_CW_SC(b), b);
		}
		i8254_write(&p->chip, o, b, now);
		touched0 |= o == 0 || (o == I8254_CTRL && I8254_CW_SC(b) == 0);
	}
	if (!req->write)
		req->value = r;
	else if (touched0)
		pit_rearm(p, now);
	return IO_DONE;
}

static enum io_result port61_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	(void)off;
	struct pit *p = container_of(dev, struct pit, dev);
	u64 now = rdtsc();
	if (req->write) {
		p->port61 = (u8)(req->value & P61_WRITABLE);
		i8254_set_gate(&p->chip, 2, p->port61 & P61_GATE2, now);
		return IO_DONE;
	}
	u64 tick = i8254_tick(&p->chip, now);
	u8 val = (u8)(p->port61 | ((tick / REFRESH_TICKS) & 1 ? P61_REFRESH : 0) |
		      (i8254_out(&p->chip, 2, now) ? P61_OUT2 : 0));
	/* A wider read: the byte at 0x61 here, the others are not this device's. */
	req->value = req->size == 1 ? val : (~0ull << 8) | val;
	return IO_DONE;
}

static const struct io_range_ops pit_ops = { pit_access };
static const struct io_range_ops port61_ops = { port61_access };

/* Power-on: counters in mode 0 without a count, counter 2's gate low (port 0x61 = 0). */
static void pit_reset(struct vdev *dev)
{
	struct pit *p = container_of(dev, struct pit, dev);
	u64 f = spin_lock_irqsave(&dev->lock);
	i8254_init(&p->chip, tsc_hz, rdtsc());
	i8254_set_gate(&p->chip, 2, false, rdtsc());
	p->port61 = 0;
	p->irq_min_tsc = 0;
	if (p->timer.armed)
		dev_timer_stop(&p->timer);
	spin_unlock_irqrestore(&dev->lock, f);
}

static void pit_destroy(struct vdev *dev)
{
	struct pit *p = container_of(dev, struct pit, dev);
	io_bus_unregister(dev->vm, IO_SPACE_PORT, PIT_PORT, dev);
	io_bus_unregister(dev->vm, IO_SPACE_PORT, PORT61, dev);
	dev_timer_shutdown(&p->timer);
}

static const struct vdev_ops pit_vops = { pit_reset, pit_destroy };

bool pit_create(struct vm *vm)
{
	struct pit *p = &vm->pit;
	memset(p, 0, sizeof(*p));
	dev_timer_init(&p->timer, &p->dev.lock, pit_timer_fired);
	if (!io_bus_register(vm, IO_SPACE_PORT, PIT_PORT, PIT_LEN, &p->dev, &pit_ops, 0) ||
	    !io_bus_register(vm, IO_SPACE_PORT, PORT61, 1, &p->dev, &port61_ops, 0))
		return false;
	vdev_add(vm, &p->dev, "PIT", &pit_vops);
	pit_reset(&p->dev);
	return true;
}
