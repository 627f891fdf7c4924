/* SPDX-License-Identifier: MIT */
/*
 * Console on COM1 (a 16550 at 0x3f8, polled) and a small printf.
 *
 * Lines end with a bare '\n': the hypervisor turns each line into "[NAME] text" and
 * test scripts match whole lines, so no '\r' is sent.
 */
#include "lib.h"
#include "smp.h"

/* 16550 registers (offsets from the base port), DLAB = 0 */
#define UART_THR 0 /* Transmit Holding Register (write) */
#define UART_IER 1 /* Interrupt Enable Register */
#define UART_LCR 3 /* Line Control Register */
#define UART_LSR 5 /* Line Status Register */

#define UART_LCR_8N1  0x03 /* 8 data bits, no parity, 1 stop bit, DLAB = 0 */
#define UART_LSR_THRE 0x20 /* Transmit Holding Register Empty */
#define UART_LSR_TEMT 0x40 /* Transmitter Empty (holding and shift registers) */

/* A UART that never reports ready must not hang the guest: give up after this many
 * polls (each one is a VM exit under the hypervisor). */
#define UART_POLL_LIMIT 100000

/*
 * Only the interrupt enable and line control registers are written, no divisor
 * latch: the baud rate is the firmware's (or irrelevant on an emulated UART).
 */
void serial_init(void)
{
	outb(0, COM1_BASE + UART_IER);
	outb(UART_LCR_8N1, COM1_BASE + UART_LCR);
}

static void serial_wait(u8 bit)
{
	for (unsigned i = 0; i < UART_POLL_LIMIT; i++)
		if (inb(COM1_BASE + UART_LSR) & bit)
			return;
}

void putchar(int c)
{
	serial_wait(UART_LSR_THRE);
	outb((u8)c, COM1_BASE + UART_THR);
}

void serial_flush(void)
{
	serial_wait(UART_LSR_TEMT);
}

/* Owner CPU index + 1, 0 when free. */
static volatile u32 console_owner;

void console_lock(void)
{
	struct percpu *p = this_cpu();
	u32 me = p->cpu + 1;

	if (console_owner == me) {
		p->console_depth++;
		return;
	}
	while (!cmpxchg32(&console_owner, 0, me))
		pause();
	p->console_depth = 1;
}

void console_unlock(void)
{
	struct percpu *p = this_cpu();

	if (--p->console_depth == 0) {
		barrier();
		console_owner = 0;
	}
}

void puts(const char *s)
{
	console_lock();
	while (*s)
		putchar(*s++);
	putchar('\n');
	console_unlock();
}

/* ---- formatting ------------------------------------------------------------------ */

struct sink {
	bool console;   /* write to COM1, else into buf */
	char *buf;
	size_t size;
	size_t len;     /* characters produced (snprintf's return value) */
};

static void sink_put(struct sink *s, char c)
{
	if (s->console)
		putchar(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void sink_pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		sink_put(s, c);
}

/* One field: prefix ("-", "0x"), then digits/text, padded to width. */
static void sink_field(struct sink *s, const char *prefix, const char *body, int len,
		       int width, bool left, bool zero)
{
	int plen = (int)strlen(prefix);
	int pad = width - plen - len;

	if (!left && !zero)
		sink_pad(s, ' ', pad);
	while (*prefix)
		sink_put(s, *prefix++);
	if (!left && zero)
		sink_pad(s, '0', pad);
	for (int i = 0; i < len; i++)
		sink_put(s, body[i]);
	if (left)
		sink_pad(s, ' ', pad);
}

static int utoa(u64 v, unsigned base, bool upper, char *out)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static void vformat(struct sink *s, const char *fmt, va_list ap)
{
	while (*fmt) {
		if (*fmt != '%') {
			sink_put(s, *fmt++);
			continue;
		}
		fmt++;

		bool left = false, zero = false, plus = false, alt = false;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else if (*fmt == '+')
				plus = true;
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}

		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');

		int prec = -1;
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}

		int lng = 0; /* 0 int, 1 long, 2 long long, -1 short, -2 char */
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = 1;
			else if (*fmt == 'h')
				lng--;
			else
				break;
		}
		if (left)
			zero = false;

		char buf[24];
		const char *prefix = "";
		u64 u;
		s64 v;
		unsigned base = 10;
		bool upper = false;

		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng >= 2)
				v = va_arg(ap, long long);
			else if (lng == 1)
				v = va_arg(ap, long);
			else
				v = va_arg(ap, int);
			if (lng == -1)
				v = (short)v;
			else if (lng <= -2)
				v = (signed char)v;
			u = v < 0 ? -(u64)v : (u64)v;
			prefix = v < 0 ? "-" : plus ? "+" : "";
			sink_field(s, prefix, buf, utoa(u, 10, false, buf), width, left, zero);
			break;
		case 'X':
			upper = true;
			/* fall through */
		case 'x':
		case 'o':
		case 'u':
			base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			if (lng == -1)
				u = (u16)u;
			else if (lng <= -2)
				u = (u8)u;
			if (alt && base == 16)
				prefix = upper ? "0X" : "0x";
			else if (alt && base == 8)
				prefix = "0";
			sink_field(s, prefix, buf, utoa(u, base, upper, buf), width, left, zero);
			break;
		case 'p':
			u = (u64)(uintptr_t)va_arg(ap, void *);
			sink_field(s, "0x", buf, utoa(u, 16, false, buf), width, left, zero);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int len = (int)strlen(str);
			if (prec >= 0 && prec < len)
				len = prec;
			sink_field(s, "", str, len, width, left, false);
			break;
		}
		case 'c':
			buf[0] = (char)va_arg(ap, int);
			sink_field(s, "", buf, 1, width, left, false);
			break;
		case '%':
			sink_put(s, '%');
			break;
		case '\0':
			return;
		default: /* unknown conversion: show it */
			sink_put(s, '%');
			sink_put(s, *fmt);
			break;
		}
		fmt++;
	}
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { .console = true };

	console_lock();
	vformat(&s, fmt, ap);
	console_unlock();
	return (int)s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };

	vformat(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
