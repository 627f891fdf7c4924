/* SPDX-License-Identifier: MIT */
/*
 * The emulated 16550A every VM has at COM1 (0x3f8), after the PC16550D data sheet
 * ("Registers": RBR/THR, IER, IIR, FCR, LCR, MCR, LSR, MSR, SCR, the divisor latch).
 * Only byte accesses reach the registers (the 16550 is a byte-wide device); wider ones
 * read all ones and are dropped, as on a port nothing decodes.
 *
 * Transmitter: what the guest writes to THR is collected per line and printed on the
 * hypervisor console as "[NAME] text". It sends at once: LSR THRE and TEMT always read
 * 1, and each THR write leaves a THR-empty interrupt pending, as the transmitter
 * empties.
 *
 * Receiver: a 16-byte FIFO (FCR bit 0; one holding register with FIFOs off) fed from
 * the console input (vuart_input) through a VUART_INPUT-byte buffer in front of it,
 * which stands for a line that holds back characters while the FIFO is full (bytes
 * beyond that buffer are dropped and counted). The emulation has no character times: a
 * FIFO below its trigger level reports the character timeout at once (no more input is
 * coming), and an overrun (LSR OE) happens only in loopback, when the FIFO (or the
 * holding register) is full.
 *
 * Interrupts ("Interrupt Identification Register", highest priority first): receiver
 * line status (OE, IER ELSI; cleared by reading LSR), received data available at the
 * trigger level or character timeout (ERBFI; cleared by reading RBR below it), THR
 * empty (ETBEI; set by a THR write and by setting ETBEI, cleared by reading IIR when it
 * is the one reported, or by writing THR), modem status (EDSSI; cleared by reading
 * MSR). IIR bits 7:6 read 11 with FIFOs enabled. On a PC the INTR output reaches the
 * interrupt controller only while MCR OUT2 is 1 and loopback is off ("Loop": the
 * external OUT2 is forced inactive); it drives vIOAPIC pin VUART_GSI, ISA IRQ 4, edge.
 * In loopback (MCR bit 4) THR writes go to the receiver, the console input waits, and
 * MSR reflects MCR: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2. Otherwise CTS, DSR and
 * DCD read 1 and RI 0.
 *
 * Locking: the device lock guards the registers, the FIFO, the input buffer and both
 * line buffers. vCPUs reach it from several CPUs at once: COM1 accesses take it here
 * (the range is lockless on the bus, so that the pin is driven after the lock is
 * dropped), HC_PUTS (vuart_puts), the flush of vm_stop (vuart_flush) and the console
 * input (vuart_input, from the host's receive interrupt) too. A line is printed with
 * the lock held, so it leaves whole and in order, and a buffer is never appended to
 * while it is printed or emptied. HC_PUTS text never joins the COM1 line in progress
 * (another vCPU may be half way through one): its lines are printed as they are, each
 * in one piece. The lock is a leaf: nothing here calls out under it but to the
 * console. The pin follows `intr` under irq_lock, never with the device lock held
 * (a delivery may stop the VM, whose vm_stop flushes the UART: INIT to vCPU 0).
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"

#define COM1_BASE 0x3f8
#define COM1_LEN 8

/* Register offsets (PC16550D, "Register Addressing"). */
#define REG_RBR_THR 0   /* DLAB=1: DLL */
#define REG_IER 1       /* DLAB=1: DLM */
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7

#define IER_ERBFI 0x01   /* received data available */
#define IER_ETBEI 0x02   /* THR empty */
#define IER_ELSI 0x04    /* receiver line status */
#define IER_EDSSI 0x08   /* modem status */
#define IER_MASK 0x0f

#define IIR_NO_INT 0x01
#define IIR_MSR 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_RLS 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO 0xc0    /* FIFOs enabled */

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_TRIGGER 0xc0 /* 1, 4, 8, 14 bytes */

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_LINES_IDLE (MSR_DCD | MSR_DSR | MSR_CTS)

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

/* ---- receiver ------------------------------------------------------------------- */

static bool fifo_on(const struct vuart *u)
{
	return u->fcr & FCR_ENABLE;
}

static u32 rx_capacity(const struct vuart *u)
{
	return fifo_on(u) ? VUART_FIFO : 1;
}

static u32 rx_trigger(const struct vuart *u)
{
	static const u8 levels[4] = { 1, 4, 8, 14 };
	return fifo_on(u) ? levels[u->fcr >> 6] : 1;
}

/* A character completely received: into the FIFO, or an overrun when it is full. */
static void rx_put(struct vuart *u, u8 b)
{
	if (u->rx_count == rx_capacity(u)) {
		/* "Overrun Error": with FIFOs off the new character overwrites the holding
		 * register; with FIFOs on the one in the shift register is lost. */
		if (!fifo_on(u))
			u->rx[u->rx_head] = b;
		u->lsr_oe = LSR_OE;
		u->overruns++;
		return;
	}
	u->rx[(u->rx_head + u->rx_count++) % VUART_FIFO] = b;
}

/* Move waiting console input into the receiver while it has room (not in loopback:
 * the serial input is disconnected from the receiver then). */
static void rx_refill(struct vuart *u)
{
	if (u->mcr & MCR_LOOP)
		return;
	while (u->in_count && u->rx_count < rx_capacity(u)) {
		rx_put(u, u->in[u->in_head]);
		u->in_head = (u->in_head + 1) % VUART_INPUT;
		u->in_count--;
	}
}

static void rx_clear(struct vuart *u)
{
	u->rx_head = u->rx_count = 0;
}

/* ---- interrupts --------------------------------------------------------------------- */

/* The highest-priority pending interrupt as IIR bits 3:0. */
static u8 pending_id(const struct vuart *u)
{
	if ((u->ier & IER_ELSI) && u->lsr_oe)
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count)
		return u->rx_count >= rx_trigger(u) ? IIR_RDA : IIR_TIMEOUT;
	if ((u->ier & IER_ETBEI) && u->thri)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && (u->msr_delta & 0x0f))
		return IIR_MSR;
	return IIR_NO_INT;
}

static void update_intr_locked(struct vuart *u)
{
	bool level = pending_id(u) != IIR_NO_INT && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
	WRITE_ONCE(u->intr, level);
}

/* Drive the vIOAPIC pin to the last computed INTR, without the device lock. Whoever
 * changes intr comes here afterwards; a full barrier on both sides (intr written, pin
 * read; pin written, intr read again) means the last change is never left behind. */
static void sync_pin(struct vuart *u)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (READ_ONCE(u->intr) == READ_ONCE(u->pin))
		return;
	u64 f = spin_lock_irqsave(&u->irq_lock);
	bool level;
	while ((level = READ_ONCE(u->intr)) != u->pin) {
		WRITE_ONCE(u->pin, level);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		vioapic_set_irq(&u->dev.vm->ioapic, VUART_GSI, level);
	}
	spin_unlock_irqrestore(&u->irq_lock, f);
}

/* ---- modem lines ------------------------------------------------------------------- */

/* MSR bits 7:4: the modem inputs, in loopback the MCR outputs ("Loop"). */
static u8 msr_lines(u8 mcr)
{
	if (!(mcr & MCR_LOOP))
		return MSR_LINES_IDLE;
	return (u8)(((mcr & MCR_RTS) ? MSR_CTS : 0) | ((mcr & MCR_DTR) ? MSR_DSR : 0) |
		    ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0));
}

static void set_mcr(struct vuart *u, u8 mcr)
{
	u8 old = msr_lines(u->mcr), now = msr_lines(mcr);
	u8 changed = old ^ now;
	if (changed & MSR_CTS)
		u->msr_delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		u->msr_delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		u->msr_delta |= MSR_TERI;   /* "Trailing Edge of Ring Indicator" */
	if (changed & MSR_DCD)
		u->msr_delta |= MSR_DDCD;
	WRITE_ONCE(u->mcr, mcr);   /* read without the lock: uart_access */
	rx_refill(u);   /* leaving loopback reconnects the input */
}

/* ---- registers --------------------------------------------------------------------- */

static u8 reg_read(struct vuart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	u8 v;
	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			return u->dll;
		if (!u->rx_count)   /* the last character again, as the holding register keeps it */
			return u->rx[(u->rx_head + VUART_FIFO - 1) % VUART_FIFO];
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % VUART_FIFO;
		u->rx_count--;
		rx_refill(u);
		return v;
	case REG_IER: return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		v = pending_id(u);
		if (v == IIR_THRE)
			u->thri = false;   /* reading IIR clears a reported THR-empty interrupt */
		return (u8)(v | (fifo_on(u) ? IIR_FIFO : 0));
	case REG_LCR: return u->lcr;
	case REG_MCR: return u->mcr;
	case REG_LSR:
		v = (u8)((u->rx_count ? LSR_DR : 0) | u->lsr_oe | LSR_THRE | LSR_TEMT);
		u->lsr_oe = 0;
		return v;
	case REG_MSR:
		v = (u8)(msr_lines(u->mcr) | u->msr_delta);
		u->msr_delta = 0;
		return v;
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
		else if (u->mcr & MCR_LOOP)
			rx_put(u, b);   /* loopback: the transmitter feeds the receiver */
		else
			putc_locked(u, (char)b);
		if (!dlab)
			u->thri = true;   /* sent at once: THR is empty again */
		break;
	case REG_IER:
		if (dlab) {
			u->dlm = b;
		} else {
			/* Enabling ETBEI with THR empty raises the THR-empty interrupt. */
			if ((b & IER_ETBEI) && !(u->ier & IER_ETBEI))
				u->thri = true;
			u->ier = b & IER_MASK;
		}
		break;
	case REG_IIR_FCR:
		/* "FIFO Control Register": changing bit 0 clears both FIFOs; the other bits
		 * are written only with bit 0 set. */
		if ((b ^ u->fcr) & FCR_ENABLE)
			rx_clear(u);
		if (!(b & FCR_ENABLE)) {
			u->fcr = 0;
		} else {
			if (b & FCR_CLEAR_RX)
				rx_clear(u);
			u->fcr = b & (FCR_ENABLE | FCR_TRIGGER);   /* CLEAR_TX: nothing is queued */
		}
		rx_refill(u);
		break;
	case REG_LCR: WRITE_ONCE(u->lcr, b); break;
	case REG_MCR: set_mcr(u, b & MCR_MASK); break;
	case REG_SCR: WRITE_ONCE(u->scr, b); break;
	default: break;   /* read-only LSR, MSR */
	}
}

/* A register access under the device lock, then the pin. */
static __attribute__((noinline)) enum io_result uart_access_locked(struct vuart *u, unsigned reg, struct io_req *req)
{
	/* A read of IER (DLM) changes no state, so no interrupt either: neither INTR nor
	 * the pin is looked at. */
	bool quiet = !req->write && reg == REG_IER;
	u64 f = spin_lock_irqsave(&u->dev.lock);
	if (req->write)
		reg_write(u, reg, (u8)req->value);
	else
		req->value = reg_read(u, reg);
	if (!quiet)
		update_intr_locked(u);
	spin_unlock_irqrestore(&u->dev.lock, f);
	if (!quiet)
		sync_pin(u);
	return IO_DONE;
}

/* The range is lockless on the bus: the lock is taken here and the pin driven after
 * it is dropped. LCR, MCR and SCR reads take neither: each is one byte, written with
 * WRITE_ONCE under the lock, whose read has no effect (the tools/bench port read is
 * SCR). */
static enum io_result uart_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)v;
	struct vuart *u = container_of(dev, struct vuart, dev);
	unsigned reg = (unsigned)off & 7;   /* off < COM1_LEN */
	if (req->size != 1) {
		if (!req->write)
			req->value = ~0ull;
		return IO_DONE;
	}
	if (!req->write) {
		if (reg == REG_SCR) {
			req->value = READ_ONCE(u->scr);
			return IO_DONE;
		}
		if (reg == REG_LCR) {
			req->value = READ_ONCE(u->lcr);
			return IO_DONE;
		}
		if (reg == REG_MCR) {
			req->value = READ_ONCE(u->mcr);
			return IO_DONE;
		}
	}
	return uart_access_locked(u, reg, req);
}

static const struct io_range_ops uart_ops = { uart_access };

void vuart_input(struct vm *vm, const u8 *buf, size_t len)
{
	struct vuart *u = &vm->uart;
	u64 f = spin_lock_irqsave(&u->dev.lock);
	for (size_t i = 0; i < len; i++) {
		if (u->in_count == VUART_INPUT)
			rx_refill(u);
		if (u->in_count == VUART_INPUT) {
			u->in_dropped += len - i;
			break;
		}
		u->in[(u->in_head + u->in_count++) % VUART_INPUT] = buf[i];
		u->in_bytes++;
	}
	rx_refill(u);
	update_intr_locked(u);
	spin_unlock_irqrestore(&u->dev.lock, f);
	sync_pin(u);
}

void vuart_print_stats(struct vm *vm)
{
	struct vuart *u = &vm->uart;
	u64 f = spin_lock_irqsave(&u->dev.lock);
	u64 in = u->in_bytes, dropped = u->in_dropped, overruns = u->overruns;
	u32 waiting = u->in_count + u->rx_count;
	spin_unlock_irqrestore(&u->dev.lock, f);
	if (u->input || in || dropped || overruns)
		printk("uart vm=%s input=%llu dropped=%llu unread=%u overruns=%llu\n", vm->name,
		       (unsigned long long)in, (unsigned long long)dropped, waiting, (unsigned long long)overruns);
}

static void uart_reset(struct vdev *dev)
{
	struct vuart *u = container_of(dev, struct vuart, dev);
	u64 f = spin_lock_irqsave(&dev->lock);
	flush_locked(u);
	/* "Reset" state; the console input waiting in front of the receiver stays. */
	u->ier = u->lcr = u->mcr = u->scr = u->dll = u->dlm = u->fcr = 0;
	u->lsr_oe = u->msr_delta = 0;
	u->thri = false;
	rx_clear(u);
	rx_refill(u);
	update_intr_locked(u);
	spin_unlock_irqrestore(&dev->lock, f);
	sync_pin(u);
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
	if (!io_bus_register(vm, IO_SPACE_PORT, COM1_BASE, COM1_LEN, &u->dev, &uart_ops, IO_RANGE_LOCKLESS))
		return false;
	vdev_add(vm, &u->dev, "COM1", &uart_vops);
	return true;
}
