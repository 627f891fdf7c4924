/* SPDX-License-Identifier: MIT */
/*
 * virtio/ioq.c: the hand-off between virtio-blk notifications and the I/O CPU: the
 * doorbell (rung from several threads while one takes, no bit lost) and the in-flight
 * FIFO (order, due ticks, capacity).
 */
#include "tests/unit/support.h"
#include "virtio/ioq.h"
#include <pthread.h>

static struct ioq_fifo fifo;

static void fifo_order_and_due(void **state)
{
	(void)state;
	ioq_init(&fifo);
	struct ioq_req r;
	assert_false(ioq_peek_due(&fifo, 0, &r));
	for (u16 i = 0; i < 5; i++)
		assert_true(ioq_put(&fifo, (u16)(3 * i), 4096u + i, 1000u + 100u * i));
	assert_false(ioq_peek_due(&fifo, 999, &r));   /* the oldest is not due yet */
	assert_true(ioq_peek_due(&fifo, 1000, &r));
	assert_int_equal(r.head, 0);
	assert_int_equal(r.len, 4096);
	ioq_pop(&fifo);
	/* At 1250 the next two are due, the one after is not. */
	unsigned n = 0;
	while (ioq_peek_due(&fifo, 1250, &r)) {
		assert_int_equal(r.head, 3 * (n + 1));
		ioq_pop(&fifo);
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(fifo.count, 2);
	/* Due ticks compared across the counter's wrap. */
	ioq_init(&fifo);
	assert_true(ioq_put(&fifo, 7, 1, 5));   /* due just after the wrap */
	assert_false(ioq_peek_due(&fifo, ~0ull - 10, &r));
	assert_true(ioq_peek_due(&fifo, 5, &r));
}

static void fifo_capacity(void **state)
{
	(void)state;
	ioq_init(&fifo);
	for (u32 i = 0; i < IOQ_MAX; i++)
		assert_true(ioq_put(&fifo, (u16)i, 0, i));
	assert_false(ioq_put(&fifo, 1, 0, 0));   /* full: refused, nothing overwritten */
	struct ioq_req r;
	assert_true(ioq_peek_due(&fifo, IOQ_MAX, &r));
	assert_int_equal(r.head, 0);
	ioq_pop(&fifo);
	assert_true(ioq_put(&fifo, 999, 0, 0));   /* wraps into the freed slot */
	for (u32 i = 1; i < IOQ_MAX; i++) {
		assert_true(ioq_peek_due(&fifo, ~0ull >> 1, &r));
		assert_int_equal(r.head, i);
		ioq_pop(&fifo);
	}
	assert_true(ioq_peek_due(&fifo, ~0ull >> 1, &r));
	assert_int_equal(r.head, 999);
	ioq_pop(&fifo);
	ioq_pop(&fifo);   /* popping an empty FIFO does nothing */
	assert_int_equal(fifo.count, 0);
}

#define RINGERS 4
#define RINGS 200000
static struct ioq_doorbell bell;
static u64 rung[RINGERS], seen[32];
static volatile int stop;

static void *ringer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	for (u32 i = 0; i < RINGS; i++) {
		u32 q = (id * 8 + (i & 7)) & 31;
		ioq_ring(&bell, q);
		rung[id]++;
	}
	return NULL;
}

static void *taker(void *arg)
{
	(void)arg;
	for (;;) {
		int last = stop;
		u32 b = ioq_take(&bell);
		for (unsigned q = 0; q < 32; q++)
			if (b & (1u << q))
				seen[q]++;
		if (last)
			return NULL;
	}
}

/* Every queue rung is seen by the taker at least once after its last ring: a ring is
 * never lost, whatever the interleaving. */
static void doorbell_threads(void **state)
{
	(void)state;
	pthread_t t, r[RINGERS];
	assert_int_equal(pthread_create(&t, NULL, taker, NULL), 0);
	for (uintptr_t i = 0; i < RINGERS; i++)
		assert_int_equal(pthread_create(&r[i], NULL, ringer, (void *)i), 0);
	for (unsigned i = 0; i < RINGERS; i++)
		pthread_join(r[i], NULL);
	stop = 1;
	pthread_join(t, NULL);
	assert_int_equal(__atomic_load_n(&bell.bits, __ATOMIC_SEQ_CST), 0);
	for (unsigned q = 0; q < 32; q++) {
		bool used = false;
		for (unsigned id = 0; id < RINGERS; id++)
			used |= ((id * 8) & 31) <= q && q < ((id * 8) & 31) + 8;
		if (used)
			assert_true(seen[q] >= 1);
		else
			assert_int_equal(seen[q], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fifo_order_and_due),
		cmocka_unit_test(fifo_capacity),
		cmocka_unit_test(doorbell_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
