/* SPDX-License-Identifier: MIT */
/* hv/trace/ring.c, ring.h: the per-CPU trace rings, the file's headers and checksum,
 * and the trace= event list. */
#include <pthread.h>
#include "tests/unit/support.h"
#include "hv/trace/ring.h"

static void put(struct trace_ring *r, u64 i)
{
	trace_ring_put(r, 1000 + i, 3, 1, 2, TEV_POST, i, ~i);
}

/* Before the ring fills, every record is kept in order and nothing is dropped. */
static void fill_without_wrap(void **state)
{
	(void)state;
	struct trace_rec buf[8];
	struct trace_ring r;
	struct trace_snap s;
	trace_ring_init(&r, buf, 8);
	trace_ring_snapshot(&r, &s);
	assert_int_equal(s.count, 0);
	assert_int_equal(s.dropped, 0);
	for (u64 i = 0; i < 5; i++)
		put(&r, i);
	trace_ring_snapshot(&r, &s);
	assert_int_equal(s.first, 0);
	assert_int_equal(s.count, 5);
	assert_int_equal(s.written, 5);
	assert_int_equal(s.dropped, 0);
	for (u64 i = 0; i < 5; i++) {
		const struct trace_rec *x = trace_ring_at(&r, s.first + i);
		assert_int_equal(x->tsc, 1000 + i);
		assert_int_equal(x->cpu, 3);
		assert_int_equal(x->vm, 1);
		assert_int_equal(x->vcpu, 2);
		assert_int_equal(x->event, TEV_POST);
		assert_int_equal(x->a0, i);
		assert_int_equal(x->a1, ~i);
	}
}

/* A full ring overwrites its oldest records: the last `capacity` remain, oldest first,
 * and the overwritten ones are counted as dropped. */
static void wrap_keeps_newest_and_counts_drops(void **state)
{
	(void)state;
	struct trace_rec buf[8];
	struct trace_ring r;
	struct trace_snap s;
	trace_ring_init(&r, buf, 8);
	for (u64 i = 0; i < 8; i++)
		put(&r, i);
	trace_ring_snapshot(&r, &s);
	assert_int_equal(s.count, 8);
	assert_int_equal(s.dropped, 0);
	for (u64 i = 8; i < 21; i++)
		put(&r, i);
	trace_ring_snapshot(&r, &s);
	assert_int_equal(s.written, 21);
	assert_int_equal(s.count, 8);
	assert_int_equal(s.dropped, 13);
	assert_int_equal(s.first, 13);
	for (u64 i = 0; i < 8; i++)
		assert_int_equal(trace_ring_at(&r, s.first + i)->a0, 13 + i);
	struct trace_chunk_header ch;
	trace_chunk_header_fill(&ch, 5, 8, &s);
	assert_memory_equal(ch.magic, "HVTC", 4);
	assert_int_equal(ch.cpu, 5);
	assert_int_equal(ch.nr_records, 8);
	assert_int_equal(ch.capacity, 8);
	assert_int_equal(ch.written, 21);
	assert_int_equal(ch.dropped, 13);
}

/* Each CPU writes only its own ring, concurrently with the others: no record of one
 * ring appears in another, none is lost or torn. */
#define WRITERS 4
#define PER_WRITER 200000
static struct trace_ring rings[WRITERS];
static struct trace_rec ring_buf[WRITERS][1024];

static void *writer(void *arg)
{
	u16 cpu = (u16)(uintptr_t)arg;
	for (u64 i = 0; i < PER_WRITER; i++)
		trace_ring_put(&rings[cpu], i, cpu, (u8)cpu, 0, TEV_EXIT, i, i * 3 + cpu);
	return NULL;
}

static void per_cpu_independence(void **state)
{
	(void)state;
	pthread_t t[WRITERS];
	for (u32 c = 0; c < WRITERS; c++)
		trace_ring_init(&rings[c], ring_buf[c], 1024);
	for (u32 c = 0; c < WRITERS; c++)
		assert_int_equal(pthread_create(&t[c], NULL, writer, (void *)(uintptr_t)c), 0);
	for (u32 c = 0; c < WRITERS; c++)
		pthread_join(t[c], NULL);
	for (u32 c = 0; c < WRITERS; c++) {
		struct trace_snap s;
		trace_ring_snapshot(&rings[c], &s);
		assert_int_equal(s.written, PER_WRITER);
		assert_int_equal(s.count, 1024);
		assert_int_equal(s.dropped, PER_WRITER - 1024);
		for (u64 i = 0; i < s.count; i++) {
			const struct trace_rec *x = trace_ring_at(&rings[c], s.first + i);
			u64 n = s.first + i;
			assert_int_equal(x->cpu, c);
			assert_int_equal(x->vm, c);
			assert_int_equal(x->tsc, n);
			assert_int_equal(x->a0, n);
			assert_int_equal(x->a1, n * 3 + c);
		}
	}
}

/* FNV-1a over 64-bit words: the empty input is the offset basis, one word is
 * (basis ^ w) * prime, and a change of one byte changes the sum. */
static void checksum(void **state)
{
	(void)state;
	u64 w[2] = { 0x0123456789abcdefull, 42 };
	assert_int_equal(trace_checksum(TRACE_CHECKSUM_INIT, w, 0), TRACE_CHECKSUM_INIT);
	assert_int_equal(trace_checksum(TRACE_CHECKSUM_INIT, w, 8),
			 (TRACE_CHECKSUM_INIT ^ w[0]) * 0x100000001b3ull);
	u64 a = trace_checksum(TRACE_CHECKSUM_INIT, w, 16);
	/* Incremental equals one pass (the drain sums piece by piece). */
	assert_int_equal(trace_checksum(trace_checksum(TRACE_CHECKSUM_INIT, w, 8), w + 1, 8), a);
	((u8 *)w)[9] ^= 1;
	assert_int_not_equal(trace_checksum(TRACE_CHECKSUM_INIT, w, 16), a);
}

static void file_header(void **state)
{
	(void)state;
	struct trace_file_header h;
	trace_file_header_fill(&h, 2, 1000000000ull, TRACE_ALL, 3);
	assert_memory_equal(h.magic, "HVTRACE\0", 8);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.header_size, 64);
	assert_int_equal(h.record_size, 32);
	assert_int_equal(h.nr_cpus, 2);
	assert_int_equal(h.tsc_hz, 1000000000ull);
	assert_int_equal(h.event_mask, TRACE_ALL);
	assert_int_equal(h.nr_vms, 3);
}

static void parse_events(void **state)
{
	(void)state;
	u32 m = 0;
	char err[64];
	assert_true(trace_parse_events("all", &m, err, sizeof(err)));
	assert_int_equal(m, TRACE_ALL);
	assert_int_equal(m & 1, 0);
	assert_true(m & TRACE_BIT(TEV_INJECT));
	assert_true(trace_parse_events("exit,entry+post|timer", &m, err, sizeof(err)));
	assert_int_equal(m, TRACE_BIT(TEV_EXIT) | TRACE_BIT(TEV_ENTRY) | TRACE_BIT(TEV_POST) |
				    TRACE_BIT(TEV_TIMER_ARM) | TRACE_BIT(TEV_TIMER_FIRE));
	assert_true(trace_parse_events("eoi", &m, err, sizeof(err)));
	assert_int_equal(m, TRACE_BIT(TEV_EOI));
	m = 7;
	assert_false(trace_parse_events("exit,bogus", &m, err, sizeof(err)));
	assert_string_equal(err, "unknown event 'bogus'");
	assert_int_equal(m, 7);   /* unchanged on error */
	assert_false(trace_parse_events("exi", &m, err, sizeof(err)));
	assert_string_equal(err, "unknown event 'exi'");
	assert_false(trace_parse_events("exit,", &m, err, sizeof(err)));
	assert_false(trace_parse_events("", &m, err, sizeof(err)));
	assert_false(trace_parse_events("exit,,post", &m, err, sizeof(err)));
	assert_string_equal(err, "unknown event ''");
	assert_string_equal(trace_event_name(TEV_TIMER_FIRE), "timer_fire");
	assert_string_equal(trace_event_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fill_without_wrap),
		cmocka_unit_test(wrap_keeps_newest_and_counts_drops),
		cmocka_unit_test(per_cpu_independence),
		cmocka_unit_test(checksum),
		cmocka_unit_test(file_header),
		cmocka_unit_test(parse_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
