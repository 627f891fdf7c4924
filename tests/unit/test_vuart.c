/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/vuart.c under contention: threads stand for vCPUs on several CPUs. Two write
 * COM1 byte by byte through the bus (each line under a lock of their own, as a guest's
 * console lock serialises its COM1 output), two send whole lines through HC_PUTS
 * (vuart_puts) with no lock at all, at the same time. Lines are long (up to 3 times the
 * UART's 200-byte line buffer) and carry the writer, a sequence number and a checksum.
 * Every line must reach the console intact, exactly once, COM1 lines in 200-byte
 * pieces; the line buffer must never hold more than its size. Without the device lock
 * the buffer's length races past its end (hypervisor memory corrupted) and lines mix.
 *
 * Then the 16550A model (PC16550D data sheet): receiver FIFO and the input buffer
 * behind it, IIR priorities, trigger levels and the character timeout, loopback, the
 * THR-empty interrupt, overruns, the interrupt line (OUT2, edges on the vIOAPIC pin)
 * and the probe sequence of Linux's 8250 driver.
 */
#include "tests/unit/support.h"
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include <pthread.h>   /* after hv/init/config.h: <sched.h> defines SCHED_RR */

#define WRITERS_COM1 2
#define WRITERS_PUTS 2
#define LINES 400            /* per writer */
#define MAX_LINE 600

static struct vm vm;

/* A real lock: the threads run in parallel. */
u64 spin_lock_irqsave(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			;
	return 0;
}

void spin_unlock_irqrestore(struct spinlock *l, u64 flags)
{
	(void)flags;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* The vIOAPIC pin COM1 drives: its level and rising edges. */
static bool pin_level;
static unsigned pin_edges, pin_calls;

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
	assert_ptr_equal(io, &vm.ioapic);
	assert_int_equal(pin, VUART_GSI);
	pin_calls++;
	if (level && !pin_level)
		pin_edges++;
	pin_level = level;
}

/* The console: every line kept, in order. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char **log_lines;
static size_t nr_log, cap_log;
static volatile int overruns;

void vm_console_line(struct vm *m, const char *text, size_t len)
{
	assert_ptr_equal(m, &vm);
	if (m->uart.len > sizeof(m->uart.line))
		overruns++;
	pthread_mutex_lock(&log_lock);
	if (nr_log == cap_log) {
		cap_log = cap_log ? 2 * cap_log : 1024;
		log_lines = realloc(log_lines, cap_log * sizeof(*log_lines));
	}
	char *copy = malloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	log_lines[nr_log++] = copy;
	pthread_mutex_unlock(&log_lock);
}

static unsigned checksum(const char *s, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (sum * 31 + (u8)s[i]) & 0xffff;
	return sum;
}

/* "K wW sS <payload> sum=XXXX": K is C (COM1) or P (HC_PUTS). */
static size_t make_line(char *buf, char kind, unsigned w, unsigned seq)
{
	size_t len = 40 + (seq * 37 + w * 101) % (MAX_LINE - 60);
	int n = snprintf(buf, MAX_LINE, "%c w%u s%u ", kind, w, seq);
	for (size_t i = (size_t)n; i < len; i++)
		buf[i] = (char)('a' + (i * 7 + seq + w) % 26);
	n = snprintf(buf + len, 16, " sum=%04x", checksum(buf, len));
	return len + (size_t)n;
}

static pthread_mutex_t guest_console = PTHREAD_MUTEX_INITIALIZER;

static void *com1_writer(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;
	char buf[MAX_LINE + 16];
	for (unsigned seq = 0; seq < LINES; seq++) {
		size_t n = make_line(buf, 'C', w, seq);
		buf[n++] = '\n';
		pthread_mutex_lock(&guest_console);
		for (size_t i = 0; i < n; i++) {
			struct io_req req = { IO_SPACE_PORT, 0x3f8, 1, true, (u8)buf[i] };
			assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
		}
		pthread_mutex_unlock(&guest_console);
	}
	return NULL;
}

static void *puts_writer(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;
	char buf[MAX_LINE + 16];
	for (unsigned seq = 0; seq < LINES; seq++) {
		size_t n = make_line(buf, 'P', w, seq);
		buf[n++] = '\n';
		vuart_puts(&vm, buf, n);
	}
	return NULL;
}

/* A whole line: its checksum holds; mark (writer, seq) seen. */
static void check_line(const char *s, size_t n, char kind, unsigned char seen[][LINES])
{
	unsigned w, seq, sum;
	char k;
	assert_true(n > 9);
	assert_int_equal(sscanf(s, "%c w%u s%u ", &k, &w, &seq), 3);
	assert_int_equal(k, kind);
	assert_int_equal(sscanf(s + n - 9, " sum=%04x", &sum), 1);
	if (checksum(s, n - 9) != sum)
		fail_msg("line corrupted: \"%s\"", s);
	assert_true(w < WRITERS_COM1 + WRITERS_PUTS && seq < LINES);
	if (seen[w][seq]++)
		fail_msg("line w%u s%u printed twice", w, seq);
}

static void contention(void **state)
{
	(void)state;
	static unsigned char seen[WRITERS_COM1 + WRITERS_PUTS][LINES];
	pthread_t t[WRITERS_COM1 + WRITERS_PUTS];
	memset(&vm, 0, sizeof(vm));
	assert_true(vuart_create(&vm));
	for (unsigned i = 0; i < WRITERS_COM1 + WRITERS_PUTS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, i < WRITERS_COM1 ? com1_writer : puts_writer,
						(void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < WRITERS_COM1 + WRITERS_PUTS; i++)
		pthread_join(t[i], NULL);
	vuart_flush(&vm);
	assert_int_equal(overruns, 0);

	/* COM1 lines come in VUART_LINE-byte pieces; at most one is in progress at a time
	 * (the writers' own lock), and HC_PUTS lines may come between its pieces. */
	char com1[4 * MAX_LINE];
	size_t com1_len = 0;
	bool com1_open = false;
	for (size_t i = 0; i < nr_log; i++) {
		const char *s = log_lines[i];
		size_t n = strlen(s);
		if (!n && !com1_open)
			continue;   /* the newline after a line of exactly k full pieces */
		if (s[0] == 'P' && s[1] == ' ') {
			check_line(s, n, 'P', seen);
			continue;
		}
		if (s[0] == 'C' && s[1] == ' ') {
			assert_false(com1_open);
			com1_len = 0;
		} else {
			assert_true(com1_open);   /* a continuation piece */
		}
		assert_true(n <= VUART_LINE && com1_len + n < sizeof(com1));
		memcpy(com1 + com1_len, s, n);
		com1_len += n;
		com1_open = n == VUART_LINE;   /* a full piece: the line goes on (or ends exactly here) */
		if (!com1_open || (com1_len > 9 && !memcmp(com1 + com1_len - 9, " sum=", 5) &&
				   checksum(com1, com1_len - 9) == strtoul(com1 + com1_len - 4, NULL, 16))) {
			com1[com1_len] = '\0';
			check_line(com1, com1_len, 'C', seen);
			com1_open = false;
		}
	}
	assert_false(com1_open);
	for (unsigned w = 0; w < WRITERS_COM1 + WRITERS_PUTS; w++)
		for (unsigned seq = 0; seq < LINES; seq++)
			if (!seen[w][seq])
				fail_msg("line w%u s%u missing", w, seq);
	for (size_t i = 0; i < nr_log; i++)
		free(log_lines[i]);
	nr_log = 0;
}

/* The UART's registers and reset through the bus, HC_PUTS control characters. */
static void registers(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	assert_true(vuart_create(&vm));
	assert_string_equal(vm.uart.dev.name, "COM1");
	struct io_req req = { IO_SPACE_PORT, 0x3ff, 1, true, 0x5a };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
	req = (struct io_req){ IO_SPACE_PORT, 0x3ff, 1, false, 0 };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
	assert_int_equal(req.value & 0xff, 0x5a);
	req = (struct io_req){ IO_SPACE_PORT, 0x3fd, 1, false, 0 };   /* LSR: THRE | TEMT */
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
	assert_int_equal(req.value & 0xff, 0x60);
	req = (struct io_req){ IO_SPACE_PORT, 0x3f8, 2, false, 0 };   /* not a byte access */
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
	assert_int_equal(req.value & 0xffff, 0xffff);
	/* A partial COM1 line stays while HC_PUTS prints its own lines whole. */
	req = (struct io_req){ IO_SPACE_PORT, 0x3f8, 1, true, 'x' };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
	vuart_puts(&vm, "a\r\x01" "b\nc", 6);
	assert_int_equal(nr_log, 2);
	assert_string_equal(log_lines[0], "a.b");
	assert_string_equal(log_lines[1], "c");
	assert_int_equal(vm.uart.len, 1);
	vm.uart.dev.ops->reset(&vm.uart.dev);   /* flushes the partial line, clears SCR */
	assert_int_equal(nr_log, 3);
	assert_string_equal(log_lines[2], "x");
	req = (struct io_req){ IO_SPACE_PORT, 0x3ff, 1, false, 0 };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
	assert_int_equal(req.value & 0xff, 0);
	vdev_destroy_all(&vm);
	assert_null(io_bus_find(&vm, IO_SPACE_PORT, 0x3f8));
	for (size_t i = 0; i < nr_log; i++)
		free(log_lines[i]);
	nr_log = 0;
}


/* ---- the 16550A model ---- */

static u8 rd(unsigned reg)
{
	struct io_req req = { IO_SPACE_PORT, 0x3f8 + reg, 1, false, 0 };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
	return (u8)req.value;
}

static void wr(unsigned reg, u8 v)
{
	struct io_req req = { IO_SPACE_PORT, 0x3f8 + reg, 1, true, v };
	assert_int_equal(io_bus_dispatch(&vm, NULL, &req, NULL, NULL), IO_DONE);
}

enum { RBR = 0, THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static void fresh(void)
{
	memset(&vm, 0, sizeof(vm));
	assert_true(vuart_create(&vm));
	pin_level = false;
	pin_edges = pin_calls = 0;
	for (size_t i = 0; i < nr_log; i++)
		free(log_lines[i]);
	nr_log = 0;
}

static void input_str(const char *s)
{
	vuart_input(&vm, (const u8 *)s, strlen(s));
}

/* 20 bytes: 16 in the FIFO, 4 behind it; all read back in order; the input buffer
 * is bounded and counts what it drops. */
static void fifo(void **state)
{
	(void)state;
	fresh();
	assert_int_equal(rd(IIR), 0x01);             /* FIFOs off: bits 7:6 clear */
	wr(FCR, 0x07);                                /* enable, clear both, trigger 1 */
	assert_int_equal(rd(IIR), 0xc1);
	assert_int_equal(rd(LSR), 0x60);              /* THRE | TEMT, no data */
	input_str("abcdefghijklmnopqrst");
	assert_int_equal(vm.uart.rx_count, 16);
	assert_int_equal(vm.uart.in_count, 4);
	assert_int_equal(rd(LSR), 0x61);
	char got[21] = { 0 };
	for (int i = 0; i < 20; i++) {
		assert_true(rd(LSR) & 0x01);
		got[i] = (char)rd(RBR);
	}
	assert_string_equal(got, "abcdefghijklmnopqrst");
	assert_int_equal(rd(LSR) & 0x01, 0);
	assert_int_equal(rd(RBR), 't');               /* empty: the last character again */
	/* FIFOs off: one holding register, the rest waits. */
	wr(FCR, 0x00);
	assert_int_equal(rd(IIR), 0x01);
	input_str("xy");
	assert_int_equal(vm.uart.rx_count, 1);
	assert_int_equal(rd(RBR), 'x');
	assert_int_equal(rd(RBR), 'y');
	assert_int_equal(rd(LSR) & 0x03, 0);          /* no data, no overrun */
	/* Clearing the receiver FIFO drops what is in it, not what waits behind it. */
	wr(FCR, 0x01);
	static u8 big[VUART_INPUT + 100];
	memset(big, 'z', sizeof(big));
	vuart_input(&vm, big, sizeof(big));
	assert_int_equal(vm.uart.in_dropped, 100 - VUART_FIFO);   /* the FIFO took 16 */
	assert_int_equal(vm.uart.rx_count, VUART_FIFO);
	wr(FCR, 0x03);
	assert_int_equal(vm.uart.rx_count, VUART_FIFO);           /* refilled from behind */
	assert_int_equal(vm.uart.in_count, VUART_INPUT - VUART_FIFO);
	vuart_print_stats(&vm);
	vdev_destroy_all(&vm);
}

/* Line status > received data > THR empty > modem status; each cleared by its own
 * action. */
static void iir_priority(void **state)
{
	(void)state;
	fresh();
	wr(MCR, 0x10);                 /* loopback */
	wr(IER, 0x0f);
	wr(THR, 'a');
	wr(THR, 'b');                  /* FIFOs off: overruns the holding register */
	wr(MCR, 0x13);                 /* DTR, RTS: DSR and CTS change */
	assert_int_equal(rd(IIR), 0x06);
	assert_int_equal(rd(IIR), 0x06);              /* reading IIR does not clear it */
	assert_int_equal(rd(LSR), 0x63);              /* DR | OE | THRE | TEMT */
	assert_int_equal(rd(IIR), 0x04);
	assert_int_equal(rd(RBR), 'b');               /* the new character replaced the old */
	assert_int_equal(rd(IIR), 0x02);
	assert_int_equal(rd(IIR), 0x00);              /* THR empty cleared by the IIR read */
	assert_int_equal(rd(MSR), 0x3b);              /* CTS, DSR; DCTS, DDSR, DDCD (DCD fell entering loopback) */
	assert_int_equal(rd(IIR), 0x01);
	assert_int_equal(vm.uart.overruns, 1);
	/* A masked source is not reported. */
	wr(IER, 0x00);
	wr(THR, 'c');
	assert_int_equal(rd(IIR), 0x01);
	assert_int_equal(rd(LSR) & 0x01, 1);
	vdev_destroy_all(&vm);
}

/* The receiver trigger level: below it the character timeout, at it received data. */
static void trigger_level(void **state)
{
	(void)state;
	static const u8 levels[4] = { 1, 4, 8, 14 };
	for (unsigned t = 0; t < 4; t++) {
		fresh();
		wr(FCR, (u8)(0x01 | t << 6));
		wr(IER, 0x01);
		for (unsigned n = 1; n <= 16; n++) {
			input_str("q");
			assert_int_equal(rd(IIR), n >= levels[t] ? 0xc4 : 0xcc);
		}
		for (unsigned n = 16; n > 0; n--) {
			assert_int_equal(rd(IIR), n >= levels[t] ? 0xc4 : 0xcc);
			rd(RBR);
		}
		assert_int_equal(rd(IIR), 0xc1);
		vdev_destroy_all(&vm);
	}
}

/* Loopback: the transmitter feeds the receiver, nothing reaches the console, MSR
 * mirrors MCR, console input waits until loopback ends, the line stays quiet. */
static void loopback(void **state)
{
	(void)state;
	fresh();
	wr(FCR, 0x01);
	wr(IER, 0x01);
	wr(MCR, 0x1a);                                 /* LOOP | OUT2 | RTS */
	assert_int_equal(rd(MSR) & 0xf0, 0x90);        /* DCD | CTS */
	wr(MCR, 0x15);                                 /* LOOP | OUT1 | DTR */
	assert_int_equal(rd(MSR), 0x60 | 0x0b);        /* RI, DSR; DCTS, DDSR, DDCD */
	wr(MCR, 0x10);
	assert_int_equal(rd(MSR), 0x06);               /* TERI: RI went away; DDSR */
	input_str("in");
	for (const char *p = "hello\n"; *p; p++)
		wr(THR, (u8)*p);
	assert_int_equal(nr_log, 0);
	assert_false(pin_level);                       /* OUT2 is not the pin in loopback */
	char got[7] = { 0 };
	for (int i = 0; i < 6; i++)
		got[i] = (char)rd(RBR);
	assert_string_equal(got, "hello\n");
	assert_int_equal(rd(LSR) & 0x01, 0);           /* the input still waits */
	wr(MCR, 0x08);                                  /* loopback off, OUT2 */
	assert_int_equal(rd(MSR) & 0xf0, 0xb0);
	assert_true(pin_level);
	assert_int_equal(rd(RBR), 'i');
	assert_int_equal(rd(RBR), 'n');
	assert_false(pin_level);
	/* 17 characters into a 16-byte FIFO: the 17th is lost, OE set. */
	wr(MCR, 0x10);
	for (int i = 0; i < 17; i++)
		wr(THR, (u8)('A' + i));
	assert_int_equal(rd(LSR), 0x63);
	assert_int_equal(rd(LSR), 0x61);                /* OE cleared by the read */
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(RBR), 'A' + i);
	assert_int_equal(vm.uart.overruns, 1);
	vdev_destroy_all(&vm);
}

/* The THR-empty interrupt: raised by enabling ETBEI, cleared by reading IIR, raised
 * again by each THR write (the character leaves at once); the pin follows with OUT2. */
static void thre(void **state)
{
	(void)state;
	fresh();
	wr(FCR, 0x01);
	wr(MCR, 0x08);
	assert_false(pin_level);
	wr(IER, 0x02);
	assert_true(pin_level);
	assert_int_equal(pin_edges, 1);
	assert_int_equal(rd(IIR), 0xc2);
	assert_false(pin_level);                         /* cleared by the read, the line dropped */
	assert_int_equal(rd(IIR), 0xc1);
	wr(THR, 'x');
	assert_true(pin_level);
	assert_int_equal(pin_edges, 2);
	assert_int_equal(rd(IIR), 0xc2);
	wr(THR, '\n');
	assert_int_equal(pin_edges, 3);
	assert_int_equal(nr_log, 1);
	assert_string_equal(log_lines[0], "x");
	/* Disabling and enabling ETBEI raises it again. */
	wr(IER, 0x00);
	assert_false(pin_level);
	assert_int_equal(rd(IIR), 0xc1);
	wr(IER, 0x02);
	assert_true(pin_level);
	assert_int_equal(pin_edges, 4);
	/* OUT2 gates the line; received data outranks THR empty. */
	wr(MCR, 0x00);
	assert_false(pin_level);
	wr(IER, 0x03);
	input_str("k");
	assert_int_equal(rd(IIR), 0xc4);
	wr(MCR, 0x08);
	assert_true(pin_level);
	rd(RBR);
	assert_true(pin_level);                          /* THR empty still pending */
	assert_int_equal(rd(IIR), 0xc2);
	assert_false(pin_level);
	vdev_destroy_all(&vm);
}

/* What Linux's 8250 autoconfig does: IER read-back, loopback test, FIFO detection by
 * IIR bits 7:6, no 64-byte FIFO (FCR bit 5), no UUE bit in IER: a 16550A. Then its
 * interrupt check: OUT2 and IER_ALL, then a THR write raise IRQ 4. */
static void linux_probe(void **state)
{
	(void)state;
	fresh();
	wr(IER, 0x00);
	assert_int_equal(rd(IER) & 0x0f, 0);
	wr(IER, 0x0f);
	assert_int_equal(rd(IER) & 0x0f, 0x0f);
	wr(IER, 0x00);
	wr(SCR, 0xa5);
	assert_int_equal(rd(SCR), 0xa5);
	wr(MCR, 0x1a);
	assert_int_equal(rd(MSR) & 0xf0, 0x90);
	wr(MCR, 0x00);
	wr(FCR, 0x01);
	assert_int_equal(rd(IIR) >> 6, 3);
	wr(LCR, 0x80);                                  /* DLAB: divisor latch */
	wr(RBR, 0x01);
	wr(IER, 0x00);
	assert_int_equal(rd(RBR), 0x01);
	assert_int_equal(rd(IER), 0x00);
	wr(FCR, 0x21);                                  /* 64-byte FIFO enable: not a 16750 */
	wr(LCR, 0x03);
	assert_int_equal(rd(IIR) & 0x20, 0);
	wr(IER, 0x40);                                  /* UART_IER_UUE: not XScale */
	assert_int_equal(rd(IER), 0);
	wr(FCR, 0x87);                                  /* trigger 8, cleared */
	assert_int_equal(rd(LSR), 0x60);
	/* IRQ autoconfig */
	wr(MCR, 0x0b);
	wr(IER, 0x0f);
	rd(LSR);
	rd(RBR);
	rd(IIR);
	rd(MSR);
	unsigned edges = pin_edges;
	wr(THR, 0xff);
	assert_true(pin_level);
	assert_true(pin_edges > edges || edges > 0);
	vdev_destroy_all(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registers),
		cmocka_unit_test(contention),
		cmocka_unit_test(fifo),
		cmocka_unit_test(iir_priority),
		cmocka_unit_test(trigger_level),
		cmocka_unit_test(loopback),
		cmocka_unit_test(thre),
		cmocka_unit_test(linux_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
