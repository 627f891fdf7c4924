/* SPDX-License-Identifier: MIT */
/*
 * Console output. The UART is a 16550 (PC16550D data sheet: THR at +0, LSR at +5 with
 * bit 5 "THR empty" and bit 6 "transmitter empty"). Lines are written whole under a
 * lock so that CPUs and VMs never interleave inside a line.
 * Console input (console_rx_*): the receiver with its "received data available"
 * interrupt (IER bit 0), drained from RBR while LSR bit 0 "data ready" is set; the
 * output path never touches IER, IIR or RBR, so input needs no lock.
 */
#include "hv/lib/console.h"
#include "hv/host/cpu.h"
#include "hv/lib/lib.h"
#include "hv/host/power.h"
#include "arch/x86/x86.h"

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0
#define UART_DLM 1
#define UART_RBR 0
#define UART_IIR 2
#define IER_ERBFI BIT(0)
#define MCR_DTR_RTS 0x03
#define MCR_OUT2 BIT(3)        /* on a PC, gates INTR to the interrupt controller */
#define IIR_NO_INT BIT(0)
#define LSR_DR BIT(0)
#define LSR_THRE BIT(5)
#define LSR_TEMT BIT(6)

static u16 uart_port;
static bool use_e9;
static struct spinlock console_lock;
bool percpu_ready;

void console_init(u16 port, u32 baud, bool e9)
{
	uart_port = port;
	use_e9 = e9;
	if (!port)
		return;
	outb(port + UART_IER, 0);
	if (baud) {                             /* 0: the rate the firmware set (SPCR "as is") */
		u32 div = 115200 / baud;
		if (!div)
			div = 1;
		outb(port + UART_LCR, 0x80);    /* DLAB */
		outb(port + UART_DLL, div & 0xff);
		outb(port + UART_DLM, (div >> 8) & 0xff);
	}
	outb(port + UART_LCR, 0x03);            /* 8N1 */
	outb(port + UART_FCR, 0x07);            /* FIFO on, cleared */
	outb(port + UART_MCR, 0x03);            /* DTR, RTS */
}

u16 console_port(void)
{
	return uart_port;
}

void console_rx_enable(void)
{
	if (!uart_port)
		return;
	outb(uart_port + UART_IER, IER_ERBFI);
	outb(uart_port + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
}

size_t console_rx(u8 *buf, size_t max)
{
	size_t n = 0;
	if (!uart_port)
		return 0;
	/* Until IIR says nothing is pending, so the interrupt line drops and the next
	 * character raises a new edge. */
	for (unsigned rounds = 0; rounds < 16 && n < max; rounds++) {
		while (n < max && (inb(uart_port + UART_LSR) & LSR_DR))
			buf[n++] = inb(uart_port + UART_RBR);
		if (n < max && (inb(uart_port + UART_IIR) & IIR_NO_INT))
			break;
	}
	return n;
}

static void raw_putc(char c)
{
	if (uart_port) {
		for (unsigned spins = 0; !(inb(uart_port + UART_LSR) & LSR_THRE) && spins < 1000000; spins++)
			cpu_relax();
		outb(uart_port + UART_THR, (u8)c);
	}
	if (use_e9)
		outb(0xe9, (u8)c);
}

static void raw_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && uart_port)
			raw_putc('\r');
		raw_putc(s[i]);
	}
}

void console_flush(void)
{
	if (!uart_port)
		return;
	for (unsigned spins = 0; !(inb(uart_port + UART_LSR) & LSR_TEMT) && spins < 1000000; spins++)
		cpu_relax();
}

void console_line(const char *prefix, const char *text, size_t len)
{
	u64 f = spin_lock_irqsave(&console_lock);
	if (prefix) {
		raw_write(prefix, strlen(prefix));
		raw_write(" ", 1);
	}
	raw_write(text, len);
	raw_write("\n", 1);
	spin_unlock_irqrestore(&console_lock, f);
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = hv_snprintf(buf, sizeof(buf), "[hv:%u] ", percpu_ready ? this_cpu()->id : 0);
	int m = hv_vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	size_t len = hv_line_fit(buf, sizeof(buf), (size_t)n + (size_t)m, fmt);
	u64 f = spin_lock_irqsave(&console_lock);
	raw_write(buf, len);
	spin_unlock_irqrestore(&console_lock, f);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

u64 spin_lock_irqsave(struct spinlock *l)
{
	u64 flags = read_rflags();
	irq_disable();
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (READ_ONCE(l->locked))
			cpu_relax();
	return flags;
}

void spin_unlock_irqrestore(struct spinlock *l, u64 flags)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	if (flags & BIT(9))
		irq_enable();
}

void panic(const char *fmt, ...)
{
	static volatile u32 panicking;
	va_list ap;
	u64 rflags = read_rflags();   /* before interrupts go off */

	irq_disable();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL)) {
		for (;;)
			halt();
	}
	console_lock.locked = 0;   /* the lock holder may be the one panicking */
	console_line(NULL, "=== HV PANIC ===", 16);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("panic called from %p, stack %p\n", __builtin_return_address(0),
	       __builtin_frame_address(0));
	arch_panic_dump(__builtin_return_address(0), rflags);
	hv_power_off(HV_STATUS_PANIC);
}
