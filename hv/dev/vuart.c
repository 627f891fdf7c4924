/* SPDX-License-Identifier: MIT */
/*
 * The emulated 16550 UART every VM has at COM1 (0x3f8). Output only: what the guest
 * writes to THR is collected per line and printed on the hypervisor console as
 * "[NAME] text". The transmitter is always ready (LSR THRE and TEMT set), no receive
 * data, no interrupts (PC16550D data sheet, "Registers"). Only byte accesses reach
 * the registers (the 16550 is a byte-wide device); wider ones read all ones and are
 * dropped, as on a port nothing decodes.
 *
 * Locking: the device lock guards the registers and both line buffers. vCPUs reach it
 * from several CPUs at once: COM1 accesses take it through the bus, HC_PUTS
 * (vuart_puts) and the flush of vm_stop (vuart_flush) take it here. A line is printed
 * with the lock held, so it leaves whole and in order, and a buffer is never appended
 * to while it is printed or emptied. HC_PUTS text never joins the COM1 line in
 * progress (another vCPU may be half way through one): its lines are printed as they
 * are, each in one piece. The lock is a leaf: nothing here calls out but to the
 * console.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"

#define COM1_BASE 0x3f8
#define COM1_LEN 8

#define REG_RBR_THR 0
#define REG_IER 1
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7
#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NO_INT 0x01
#define MSR_DCD_DSR_CTS 0xb0

/* Console bytes: '\r' is dropped, other control characters but tab become '.' (the
 * console stays readable and line-oriented). 0 when the byte is dropped. */
static inline char console_char(char c)
{
	if (c == '\r')
		return 0;
	if ((u8)c < 0x20 && c != '\t')
		return '.';
	return c;
}

static void flush_locked(struct vuart *u)
{
	if (u->len) {
		vm_console_line(u->dev.vm, u->line, u->len);
		u->len = 0;
	}
}

static void putc_locked(struct vuart *u, char c)
{
	if (c == '\n') {
		vm_console_line(u->dev.vm, u->line, u->len);
		u->len = 0;
		return;
	}
	c = console_char(c);
	if (!c)
		return;
	u->line[u->len++] = c;
	if (u->len == sizeof(u->line))
		flush_locked(u);
}

void vuart_flush(struct vm *vm)
{
	struct vuart *u = &vm->uart;
	u64 f = spin_lock_irqsave(&u->dev.lock);
	flush_locked(u);
	spin_unlock_irqrestore(&u->dev.lock, f);
}

void vuart_puts(struct vm *vm, const char *s, size_t len)
{
	struct vuart *u = &vm->uart;
	u64 f = spin_lock_irqsave(&u->dev.lock);
	size_t n = 0;
	for (size_t i = 0; i < len && i < sizeof(u->text); i++) {
		/* One read of each guest byte: another vCPU may be rewriting the text. */
		char c = READ_ONCE(s[i]);
		if (c == '\n') {
			vm_console_line(vm, u->text, n);
			n = 0;
		} else if ((c = console_char(c))) {
			u->text[n++] = c;
		}
	}
	if (n)
		vm_console_line(vm, u->text, n);
	spin_unlock_irqrestore(&u->dev.lock, f);
}

static u32 reg_read(const struct vuart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	switch (reg) {
	case REG_RBR_THR: return dlab ? u->dll : 0;
	case REG_IER: return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR: return IIR_NO_INT;
	case REG_LCR: return u->lcr;
	case REG_MCR: return u->mcr;
	case REG_LSR: return LSR_THRE | LSR_TEMT;
	case REG_MSR: return MSR_DCD_DSR_CTS;
	default: return u->scr;   /* REG_SCR */
	}
}

static void reg_write(struct vuart *u, unsigned reg, u8 b)
{
	bool dlab = u->lcr & LCR_DLAB;
	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			u->dll = b;
		else
			putc_locked(u, (char)b);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = b;
		else
			u->ier = b & 0x0f;
		break;
	case REG_LCR: u->lcr = b; break;
	case REG_MCR: u->mcr = b & 0x1f; break;
	case REG_SCR: u->scr = b; break;
	default: break;   /* FCR, read-only LSR/MSR */
	}
}

static __attribute__((noinline)) enum io_result uart_write(struct vuart *u, u64 off, const struct io_req *req)
{
	if (req->size == 1)
		reg_write(u, (unsigned)off, (u8)req->value);
	return IO_DONE;
}

/* Called with the device lock held (the bus takes it). Reads stay a leaf: port reads
 * are the hot path tools/bench measures. */
static enum io_result uart_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	struct vuart *u = container_of(dev, struct vuart, dev);
	if (req->write)
		return uart_write(u, off, req);
	req->value = req->size == 1 ? reg_read(u, (unsigned)off & 7) : ~0ull;   /* off < COM1_LEN */
	return IO_DONE;
}

static const struct io_range_ops uart_ops = { uart_access };

static void uart_reset(struct vdev *dev)
{
	struct vuart *u = container_of(dev, struct vuart, dev);
	u64 f = spin_lock_irqsave(&dev->lock);
	flush_locked(u);
	u->ier = u->lcr = u->mcr = u->scr = u->dll = u->dlm = 0;
	spin_unlock_irqrestore(&dev->lock, f);
}

static void uart_destroy(struct vdev *dev)
{
	struct vuart *u = container_of(dev, struct vuart, dev);
	vuart_flush(dev->vm);
	io_bus_unregister(dev->vm, IO_SPACE_PORT, COM1_BASE, &u->dev);
}

static const struct vdev_ops uart_vops = { uart_reset, uart_destroy };

bool vuart_create(struct vm *vm)
{
	struct vuart *u = &vm->uart;
	memset(u, 0, sizeof(*u));
	u->dev.vm = vm;
	if (!io_bus_register(vm, IO_SPACE_PORT, COM1_BASE, COM1_LEN, &u->dev, &uart_ops, 0))
		return false;
	vdev_add(vm, &u->dev, "COM1", &uart_vops);
	return true;
}
