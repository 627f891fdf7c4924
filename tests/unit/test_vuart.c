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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registers),
		cmocka_unit_test(contention),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
