/* SPDX-License-Identifier: MIT */
/*
 * uartin: COM1 as an interrupt-driven 16550A (PC16550D data sheet, "Registers"), its
 * IRQ 4 through the IOAPIC (GSI 4, edge, active high: ISA, no MADT override).
 *
 *   1. probe: scratch register, IER read-back, loopback (MSR mirrors MCR), FIFOs
 *      reported by IIR bits 7:6 after an FCR write: a 16550A as Linux's 8250 driver
 *      identifies one.
 *   2. tx: `lines=` (default 40) lines "tx NNN <text> NNN", sent by the THR-empty
 *      interrupt handler, 16 bytes per interrupt (tests/e2e.manifest checks they all
 *      arrive intact and in order).
 *   3. rx: reads lines typed on tools/hvrun's standard input through the received-data
 *      and character-timeout interrupts, halting (STI;HLT) between them, and echoes each
 *      as "echo: LINE" in upper case through the THR-empty interrupt; ends at a line
 *      "quit". `expect=N`: the number of lines before "quit" (checked when given);
 *      `rxirq`: input comes while the guest waits, so received-data or timeout
 *      interrupts must have been taken (input typed earlier is read before the FIFOs
 *      are enabled, by polling).
 *
 * Console input may arrive before the guest runs: the hypervisor holds it, and the
 * character in the receiver's holding register is read before the FIFOs are enabled
 * (enabling them clears them).
 */
#include "lib.h"
#include "apic.h"

#define IOAPIC_BASE 0xfec00000ul
#define COM1_GSI 4
#define VEC_COM1 0x41

#define UART_RBR 0
#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define IER_ELSI 0x04
#define IIR_NO_INT 0x01
#define IIR_ID 0x0f
#define IIR_RLS 0x06
#define IIR_RDA 0x04
#define IIR_TIMEOUT 0x0c
#define IIR_THRE 0x02
#define FCR_ENABLE 0x01
#define FCR_TRIGGER_8 0x80
#define MCR_DTR_RTS 0x03
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02

#define TX_SIZE 8192
#define RX_SIZE 1024
#define TX_BURST 16   /* the transmitter FIFO's depth */

static volatile u8 tx_buf[TX_SIZE];
static volatile u32 tx_head, tx_tail;   /* the handler consumes at head */
static volatile u8 rx_buf[RX_SIZE];
static volatile u32 rx_head, rx_tail;   /* the handler produces at tail */
static volatile u32 n_irq, n_thre, n_rda, n_timeout, n_rls, n_spurious, rx_lost;
static volatile u8 ier;
static u32 tx_bytes;

static void ioapic_write(u32 reg, u32 v)
{
	*(volatile u32 *)IOAPIC_BASE = reg;
	*(volatile u32 *)(IOAPIC_BASE + 0x10) = v;
}

static void set_ier(u8 v)
{
	ier = v;
	outb(v, COM1_BASE + UART_IER);
}

static void rx_push(u8 b)
{
	if (rx_tail - rx_head == RX_SIZE) {
		rx_lost++;
		return;
	}
	rx_buf[rx_tail % RX_SIZE] = b;
	barrier();
	rx_tail++;
}

static void com1_irq(struct ex_regs *regs)
{
	(void)regs;
	n_irq++;
	for (unsigned rounds = 0; rounds < 64; rounds++) {
		u8 iir = inb(COM1_BASE + UART_IIR);
		if (iir & IIR_NO_INT) {
			if (!rounds)
				n_spurious++;
			break;
		}
		switch (iir & IIR_ID) {
		case IIR_RLS:
			n_rls++;
			inb(COM1_BASE + UART_LSR);
			break;
		case IIR_RDA:
		case IIR_TIMEOUT:
			if ((iir & IIR_ID) == IIR_RDA)
				n_rda++;
			else
				n_timeout++;
			while (inb(COM1_BASE + UART_LSR) & LSR_DR)
				rx_push(inb(COM1_BASE + UART_RBR));
			break;
		case IIR_THRE:
			n_thre++;
			for (unsigned i = 0; i < TX_BURST && tx_head != tx_tail; i++) {
				outb(tx_buf[tx_head % TX_SIZE], COM1_BASE + UART_THR);
				tx_head++;
			}
			if (tx_head == tx_tail)
				set_ier(ier & ~IER_ETBEI);
			break;
		default:
			inb(COM1_BASE + UART_MSR);
			break;
		}
	}
	apic_eoi();
}

/* Queue text for the THR-empty handler; waits while the buffer is full. */
static void tx_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (;;) {
			cli();
			if (tx_tail - tx_head != TX_SIZE)
				break;
			safe_halt();   /* the handler makes room */
		}
		sti();
		tx_bytes++;
		tx_buf[tx_tail % TX_SIZE] = (u8)s[i];
		barrier();
		tx_tail++;
	}
	u64 f = irq_save();
	if (tx_head != tx_tail && !(ier & IER_ETBEI))
		set_ier(ier | IER_ETBEI);   /* THR is empty: the interrupt comes at once */
	irq_restore(f);
}

/* Wait until the handler has sent everything. */
static bool tx_drain(void)
{
	u64 end = rdtsc() + us_to_tsc(60 * 1000 * 1000);
	while (tx_head != tx_tail && rdtsc() < end) {
		cli();
		if (tx_head != tx_tail)
			safe_halt();
		else
			sti();
	}
	return tx_head == tx_tail;
}

static void probe(void)
{
	outb(0xa5, COM1_BASE + UART_SCR);
	u8 scr = inb(COM1_BASE + UART_SCR);
	report(scr == 0xa5, "probe: scratch register holds 0xa5 (got 0x%x)", scr);
	outb(0x0f, COM1_BASE + UART_IER);
	u8 v = inb(COM1_BASE + UART_IER);
	outb(0x00, COM1_BASE + UART_IER);
	report((v & 0x0f) == 0x0f && (inb(COM1_BASE + UART_IER) & 0x0f) == 0, "probe: IER bits 3:0 read back (0x%x)", v);
	outb(MCR_LOOP | 0x0a, COM1_BASE + UART_MCR);
	v = inb(COM1_BASE + UART_MSR) & 0xf0;
	outb(0, COM1_BASE + UART_MCR);
	report(v == 0x90, "probe: loopback MSR 7:4 = 0x90 for RTS|OUT2 (got 0x%x)", v);
	inb(COM1_BASE + UART_MSR);   /* deltas of the loopback test */
}

static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

int main(void)
{
	unsigned lines = (unsigned)cmdline_get_u64("lines", 40);
	long expect = cmdline_has("expect") ? (long)cmdline_get_u64("expect", 0) : -1;
	bool rxirq = cmdline_has("rxirq");

	apic_setup(APIC_MODE_XAPIC);
	irq_set_handler(VEC_COM1, com1_irq);
	printf("uartin: apicv=%s\n", hc_get_info(HC_INFO_FEATURES) & HC_FEAT_APICV ? "on" : "off");

	probe();
	/* Input that arrived before the FIFOs are enabled (enabling them clears them):
	 * through the holding register, which the hypervisor refills from its buffer. */
	while (inb(COM1_BASE + UART_LSR) & LSR_DR)
		rx_push(inb(COM1_BASE + UART_RBR));
	outb(FCR_ENABLE | FCR_TRIGGER_8, COM1_BASE + UART_FCR);
	u8 iir = inb(COM1_BASE + UART_IIR);
	report((iir >> 6) == 3, "probe: FIFOs enabled: IIR bits 7:6 = 3 (IIR 0x%x): a 16550A", iir);

	/* IOAPIC entry for GSI 4: fixed, physical to APIC ID 0, edge, active high. */
	ioapic_write(0x10 + 2 * COM1_GSI + 1, apic_id() << 24);
	ioapic_write(0x10 + 2 * COM1_GSI, VEC_COM1);
	outb(MCR_DTR_RTS | MCR_OUT2, COM1_BASE + UART_MCR);
	set_ier(IER_ERBFI | IER_ELSI);
	sti();

	/* 2. a long text through the THR-empty interrupt */
	static const char text[] = "the quick brown fox jumps over the lazy dog 0123456789";
	char line[128];
	console_lock();   /* the polled console must not cut in */
	for (unsigned i = 0; i < lines; i++) {
		int n = snprintf(line, sizeof(line), "tx %03u %s %03u\n", i, text, i);
		tx_write(line, (size_t)n);
	}
	bool drained = tx_drain();
	console_unlock();
	u32 thre = n_thre;
	report(drained, "tx: %u lines sent by the THR-empty interrupt", lines);
	report(thre * TX_BURST >= tx_bytes, "tx: %u bytes in %u THR-empty interrupts of at most %u bytes (%u handler calls)",
	       tx_bytes, thre, TX_BURST, n_irq);

	/* 3. lines from standard input */
	printf("uartin: ready for input\n");
	unsigned echoed = 0;
	size_t len = 0;
	bool quit = false;
	while (!quit) {
		cli();
		if (rx_head == rx_tail) {
			safe_halt();   /* a received-data interrupt wakes it */
			continue;
		}
		sti();
		u8 c = rx_buf[rx_head % RX_SIZE];
		rx_head++;
		if (c == '\r' || c == '\n') {
			if (!len)
				continue;
			line[len] = '\0';
			if (!strcmp(line, "quit")) {
				quit = true;
				break;
			}
			char out[160];
			int n = snprintf(out, sizeof(out), "echo: ");
			for (size_t i = 0; i < len; i++)
				out[n++] = (char)upper(line[i]);
			out[n++] = '\n';
			console_lock();
			tx_write(out, (size_t)n);
			tx_drain();
			console_unlock();
			echoed++;
			len = 0;
		} else if (len < 100) {
			line[len++] = (char)c;
		}
	}
	sti();
	set_ier(IER_ERBFI);
	printf("uartin: irqs=%u thre=%u rda=%u timeout=%u rls=%u spurious=%u lost=%u\n", n_irq, n_thre, n_rda,
	       n_timeout, n_rls, n_spurious, rx_lost);
	report(quit, "rx: \"quit\" read after %u lines", echoed);
	if (rxirq)
		report(n_rda + n_timeout > 0, "rx: received-data/timeout interrupts (%u, %u)", n_rda, n_timeout);
	report(!rx_lost && !n_rls, "rx: nothing lost (%u), no overrun (%u)", rx_lost, n_rls);
	if (expect >= 0)
		report((long)echoed == expect, "rx: %u lines echoed, %ld expected", echoed, expect);
	return report_summary();
}
