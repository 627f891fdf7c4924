/* SPDX-License-Identifier: MIT */
/*
 * arch/x86/pi_desc.h: the posted-interrupt descriptor (Intel SDM Vol. 3C,
 * "Posted-Interrupt Processing"; VT-d specification, "Posted-Interrupt Descriptor"):
 * its layout, the PIR/ON operations, the harvest into an IRR-layout array, pi_update,
 * and the poster/consumer protocol under real concurrency (pthreads).
 *
 * cmocka's assertions are not used inside the threads (they longjmp): the threads
 * record what they saw and the test thread checks it.
 */
#include "tests/unit/support.h"
#include "arch/x86/pi_desc.h"

#include <pthread.h>
#include <time.h>

static struct pi_desc desc;

/* An IRR-layout array: eight 32-bit registers 16 bytes apart (SDM Vol. 3A, "Interrupt
 * Request Register (IRR), In-Service Register (ISR), Trigger Mode Register (TMR)"). */
static u8 irr[128] __aligned(16);

static int setup(void **state)
{
	(void)state;
	memset(&desc, 0, sizeof(desc));
	memset(irr, 0, sizeof(irr));
	return 0;
}

static u32 irr_word(const u8 *a, int i)
{
	u32 v;
	memcpy(&v, a + i * 16, 4);
	return v;
}

static bool irr_test(const u8 *a, u32 vec)
{
	return irr_word(a, (int)(vec / 32)) & (1u << (vec % 32));
}

static const u8 *desc_bytes(void)
{
	return (const u8 *)&desc;
}

/* ---- layout ---- */

static void layout(void **state)
{
	(void)state;
	/* "Posted-Interrupt Descriptor": 64 bytes, 64-byte aligned */
	assert_int_equal(sizeof(struct pi_desc), 64);
	assert_int_equal(_Alignof(struct pi_desc), 64);
	assert_int_equal((uintptr_t)&desc % 64, 0);
	struct pi_desc arr[2];
	assert_int_equal((uintptr_t)&arr[1] - (uintptr_t)&arr[0], 64);
	assert_int_equal((uintptr_t)&arr[0] % 64, 0);
	/* bits 255:0 PIR, then the control word from bit 256 = byte 32 */
	assert_int_equal(offsetof(struct pi_desc, pir), 0);
	assert_int_equal(sizeof(desc.pir), 32);
	assert_int_equal(offsetof(struct pi_desc, control), 32);
	assert_int_equal(offsetof(struct pi_desc, reserved), 40);
}

/* ON bit 256, SN bit 257, NV bits 279:272, NDST bits 319:288 of the descriptor: bits
 * 0, 1, 23:16, 63:32 of the control word. */
static void control_packing(void **state)
{
	(void)state;
	assert_int_equal(PI_CTL_ON, 1);
	assert_int_equal(PI_CTL_SN, 2);
	assert_int_equal(pi_control(false, false, 0, 0), 0);
	assert_int_equal(pi_control(true, false, 0, 0), 0x1);
	assert_int_equal(pi_control(false, true, 0, 0), 0x2);
	assert_int_equal(pi_control(false, false, 0xab, 0), 0x00ab0000ull);
	assert_int_equal(pi_control(false, false, 0xff, 0), 0x00ff0000ull);
	assert_int_equal(pi_control(false, false, 0, 0x12345678), 0x1234567800000000ull);
	assert_int_equal(pi_control(false, false, 0, 0xffffffffu), 0xffffffff00000000ull);
	assert_int_equal(pi_control(true, true, 0xf2, 0xdeadbeef), 0xdeadbeef00f20003ull);
	/* no field spills into the reserved bits 15:2 and 31:24 */
	assert_int_equal(pi_control(true, true, 0xff, 0xffffffffu) & 0xff00fffcull, 0);

	/* and in memory, as the CPU and the IOMMU see it (little endian) */
	desc.control = pi_control(true, false, 0xec, 0x01020304);
	const u8 *b = desc_bytes();
	assert_int_equal(b[32] & 1, 1);          /* bit 256: ON */
	assert_int_equal((b[32] >> 1) & 1, 0);   /* bit 257: SN */
	assert_int_equal(b[33], 0);
	assert_int_equal(b[34], 0xec);           /* bits 279:272: NV */
	assert_int_equal(b[35], 0);
	u32 ndst;
	memcpy(&ndst, b + 36, 4);                /* bits 319:288: NDST */
	assert_int_equal(ndst, 0x01020304);
	assert_int_equal(pi_nv(&desc), 0xec);
	assert_int_equal(pi_ndst(&desc), 0x01020304);
	assert_true(pi_test_on(&desc));
	assert_false(pi_test_sn(&desc));
	desc.control = pi_control(false, true, 0, 0);
	assert_int_equal(b[32], 2);
	assert_false(pi_test_on(&desc));
	assert_true(pi_test_sn(&desc));
	assert_int_equal(pi_nv(&desc), 0);
	assert_int_equal(pi_ndst(&desc), 0);
}

/* ---- PIR and ON ---- */

static void test_and_set_pir(void **state)
{
	(void)state;
	for (u32 v = 0; v < 256; v++) {
		memset(&desc, 0, sizeof(desc));
		desc.control = pi_control(false, false, 0xf2, 3);
		assert_false(pi_test_and_set_pir(&desc, (u8)v));
		assert_true(pi_test_pir(&desc, (u8)v));
		/* PIR bit v is bit v of the descriptor: word v / 32, bit v % 32 */
		for (u32 w = 0; w < 8; w++) {
			u32 want = w == v / 32 ? 1u << (v % 32) : 0;
			if (desc.pir[w] != want)
				fail_msg("vector %u: pir[%u] = 0x%08x, expected 0x%08x", v, w, desc.pir[w], want);
		}
		assert_true(desc_bytes()[v / 8] == 1u << (v % 8));
		/* ON is the poster's separate step */
		assert_int_equal(desc.control, pi_control(false, false, 0xf2, 3));
		assert_true(pi_test_and_set_pir(&desc, (u8)v));   /* already set: previous value 1 */
		assert_int_equal(desc.pir[v / 32], 1u << (v % 32));
		assert_false(pi_pir_empty(&desc));
	}
	/* bits of the same word accumulate */
	memset(&desc, 0, sizeof(desc));
	assert_true(pi_pir_empty(&desc));
	assert_false(pi_test_and_set_pir(&desc, 0x40));
	assert_false(pi_test_and_set_pir(&desc, 0x5f));
	assert_false(pi_test_and_set_pir(&desc, 0x41));
	assert_int_equal(desc.pir[2], 0x80000003u);
	assert_true(pi_test_and_set_pir(&desc, 0x5f));
	assert_false(pi_test_pir(&desc, 0x42));
	for (int w = 0; w < 8; w++)
		if (w != 2)
			assert_int_equal(desc.pir[w], 0);
}

static void on_set_and_clear(void **state)
{
	(void)state;
	u64 fields = pi_control(false, true, 0xd1, 0xcafe);
	desc.control = fields;
	desc.pir[3] = 0x10;
	assert_false(pi_test_on(&desc));
	assert_false(pi_test_and_set_on(&desc));      /* previous value 0 */
	assert_true(pi_test_on(&desc));
	assert_int_equal(desc.control, fields | PI_CTL_ON);
	assert_true(pi_test_and_set_on(&desc));       /* previous value 1 */
	assert_int_equal(desc.control, fields | PI_CTL_ON);
	assert_true(pi_test_and_clear_on(&desc));     /* previous value 1 */
	assert_false(pi_test_on(&desc));
	assert_int_equal(desc.control, fields);       /* SN, NV, NDST untouched */
	assert_false(pi_test_and_clear_on(&desc));    /* previous value 0 */
	assert_int_equal(desc.control, fields);
	assert_int_equal(desc.pir[3], 0x10);          /* PIR untouched */
	for (int w = 0; w < 8; w++)
		if (w != 3)
			assert_int_equal(desc.pir[w], 0);
}

/* ---- harvest ---- */

static void harvest(void **state)
{
	(void)state;
	/* the gaps between the IRR registers hold other APIC registers: never written */
	u8 gaps[128];
	for (int i = 0; i < 128; i++)
		irr[i] = (i % 16) < 4 ? 0 : (u8)(0xe0 + i);
	memcpy(gaps, irr, sizeof(gaps));
	/* bits already pending in IRR stay (OR, not overwrite) */
	u32 w1 = 1u << (0x21 % 32);
	memcpy(irr + 16, &w1, 4);
	u32 w7 = 1u << (0xf0 % 32);
	memcpy(irr + 7 * 16, &w7, 4);

	desc.control = pi_control(true, false, 0xf2, 1);
	pi_test_and_set_pir(&desc, 0x20);
	pi_test_and_set_pir(&desc, 0x45);
	pi_test_and_set_pir(&desc, 0x9f);
	pi_test_and_set_pir(&desc, 0xff);
	pi_test_and_set_pir(&desc, 0x00);

	assert_int_equal(pi_harvest(&desc, irr), 0xff);
	assert_true(pi_pir_empty(&desc));
	for (int w = 0; w < 8; w++)
		assert_int_equal(desc.pir[w], 0);
	assert_int_equal(irr_word(irr, 0), 0x00000001u);
	assert_int_equal(irr_word(irr, 1), 0x00000003u);   /* 0x20 harvested, 0x21 kept */
	assert_int_equal(irr_word(irr, 2), 0x00000020u);
	assert_int_equal(irr_word(irr, 3), 0);
	assert_int_equal(irr_word(irr, 4), 0x80000000u);
	assert_int_equal(irr_word(irr, 5), 0);
	assert_int_equal(irr_word(irr, 6), 0);
	assert_int_equal(irr_word(irr, 7), 0x80010000u);   /* 0xff harvested, 0xf0 kept */
	for (int i = 0; i < 128; i++)
		if (i % 16 >= 4 && irr[i] != gaps[i])
			fail_msg("byte %d between the IRR registers changed: 0x%02x", i, irr[i]);
	/* ON is the caller's business: harvest leaves the control word alone */
	assert_int_equal(desc.control, pi_control(true, false, 0xf2, 1));

	/* empty: -1, nothing written */
	u8 before[128];
	memcpy(before, irr, sizeof(before));
	assert_int_equal(pi_harvest(&desc, irr), -1);
	assert_memory_equal(irr, before, sizeof(before));

	/* the highest vector taken, not the highest in IRR */
	pi_test_and_set_pir(&desc, 0x30);
	pi_test_and_set_pir(&desc, 0x31);
	assert_int_equal(pi_harvest(&desc, irr), 0x31);
	assert_true(irr_test(irr, 0x30));
	assert_true(irr_test(irr, 0x31));
	assert_true(irr_test(irr, 0xff));   /* still there from before */

	/* one vector in each word, highest in word 0 only */
	memset(irr, 0, sizeof(irr));
	pi_test_and_set_pir(&desc, 0x1f);
	assert_int_equal(pi_harvest(&desc, irr), 0x1f);
	assert_int_equal(irr_word(irr, 0), 0x80000000u);
	/* all 256 */
	memset(irr, 0, sizeof(irr));
	for (u32 v = 0; v < 256; v++)
		pi_test_and_set_pir(&desc, (u8)v);
	assert_int_equal(pi_harvest(&desc, irr), 255);
	for (int w = 0; w < 8; w++)
		assert_int_equal(irr_word(irr, w), 0xffffffffu);
	assert_true(pi_pir_empty(&desc));
}

/* ---- pi_update ---- */

static void update_changes_fields_and_keeps_on(void **state)
{
	(void)state;
	desc.control = pi_control(true, false, 0xf2, 5);
	assert_false(pi_update(&desc, false, 0xec, 7));   /* ON already set: nothing to raise */
	assert_int_equal(desc.control, pi_control(true, false, 0xec, 7));
	assert_false(pi_update(&desc, true, 0xf2, 0x12345678));
	assert_int_equal(desc.control, pi_control(true, true, 0xf2, 0x12345678));
	assert_false(pi_update(&desc, false, 0xf2, 0x12345678));
	assert_int_equal(desc.control, pi_control(true, false, 0xf2, 0x12345678));

	/* ON clear, PIR empty: stays clear whatever SN becomes */
	desc.control = pi_control(false, false, 0xf2, 1);
	assert_false(pi_update(&desc, true, 0xf2, 2));
	assert_int_equal(desc.control, pi_control(false, true, 0xf2, 2));
	assert_false(pi_update(&desc, false, 0xf3, 3));
	assert_int_equal(desc.control, pi_control(false, false, 0xf3, 3));

	/* the reserved control bits, PIR and the reserved words are left as they were */
	desc.control = pi_control(false, false, 1, 1) | BIT64(5) | BIT64(24);
	desc.reserved[0] = 0x11;
	desc.reserved[5] = 0x55;
	assert_false(pi_update(&desc, true, 0x80, 0x90));
	assert_int_equal(desc.control, pi_control(false, true, 0x80, 0x90) | BIT64(5) | BIT64(24));
	assert_int_equal(desc.reserved[0], 0x11);
	assert_int_equal(desc.reserved[5], 0x55);
	assert_true(pi_pir_empty(&desc));
}

/*
 * "Posted-Interrupt Descriptor" (VT-d): while SN is set, a request is recorded in PIR
 * without setting ON (no notification). When SN is cleared the outstanding requests must
 * be notified: ON is recomputed from PIR and the caller told to notify.
 */
static void update_recomputes_on_when_sn_cleared(void **state)
{
	(void)state;
	desc.control = pi_control(false, false, 0xf2, 1);
	assert_false(pi_update(&desc, true, 0xf2, 1));   /* suppress */
	/* the IOMMU, seeing SN, sets PIR only */
	pi_test_and_set_pir(&desc, 0x61);
	assert_false(pi_test_on(&desc));
	/* keeping or setting SN does not set ON */
	assert_false(pi_update(&desc, true, 0xf2, 4));
	assert_false(pi_test_on(&desc));
	assert_int_equal(desc.control, pi_control(false, true, 0xf2, 4));
	/* clearing SN with a request pending: ON set, notify */
	assert_true(pi_update(&desc, false, 0xf2, 4));
	assert_int_equal(desc.control, pi_control(true, false, 0xf2, 4));
	assert_true(pi_test_pir(&desc, 0x61));   /* the request itself stays in PIR */
	/* ON already set now: no second notification */
	assert_false(pi_update(&desc, false, 0xf2, 4));
	assert_true(pi_test_on(&desc));

	/* SN cleared with PIR empty: nothing to notify */
	memset(&desc, 0, sizeof(desc));
	desc.control = pi_control(false, true, 0xf2, 9);
	assert_false(pi_update(&desc, false, 0xf2, 9));
	assert_false(pi_test_on(&desc));
	assert_false(pi_test_sn(&desc));

	/* a request in the last PIR word counts too */
	desc.control = pi_control(false, true, 0xf2, 9);
	pi_test_and_set_pir(&desc, 0xff);
	assert_true(pi_update(&desc, false, 0xe0, 10));
	assert_int_equal(desc.control, pi_control(true, false, 0xe0, 10));
}

/* ---- concurrency ---- */

#define NR_POSTERS 3
#define FIRST_VECTOR 16

/* Vector v belongs to poster v % NR_POSTERS: each poster posts distinct vectors. */
static bool owned(int poster, u32 v)
{
	return v >= FIRST_VECTOR && (int)(v % NR_POSTERS) == poster;
}

static struct {
	pthread_barrier_t start;
	int posters_done;          /* atomic */
	int stop;                  /* atomic: the consumer's exit flag */
	u64 harvests;              /* consumer: successful test-and-clear-ON rounds */
	u32 bogus;                 /* consumer: vectors harvested that nobody posted */
	u32 delivered[256];        /* round-trip test: deliveries per vector (atomic) */
	int timed_out;             /* a poster gave up waiting (atomic) */
	u32 iterations;
	int updater_rounds;
} shared;

static u32 expected[8];   /* the vectors posted, in IRR word order */

static void *poster(void *arg)
{
	int me = (int)(intptr_t)arg;
	u32 seed = 0x9e3779b9u * (u32)(me + 1);
	pthread_barrier_wait(&shared.start);
	/* Post at least `iterations` rounds, and on until the consumer has harvested
	 * concurrently at least once (a loaded host may not schedule it at once; at
	 * most about 20x as many rounds). */
	for (u32 it = 0; it < shared.iterations ||
			 (!__atomic_load_n(&shared.harvests, __ATOMIC_RELAXED) && it < 20 * shared.iterations); it++) {
		/* a pseudo-random start so that the posters interleave differently */
		seed = seed * 1664525u + 1013904223u;
		u32 first = seed >> 24;
		for (u32 k = 0; k < 256; k++) {
			u32 v = (first + k) & 0xff;
			if (!owned(me, v))
				continue;
			/* the poster's protocol: request first, then the outstanding notification */
			pi_test_and_set_pir(&desc, (u8)v);
			pi_test_and_set_on(&desc);
		}
	}
	__atomic_fetch_add(&shared.posters_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* The owner: clear ON, then take PIR, then look again. */
static void *consumer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&shared.start);
	while (!__atomic_load_n(&shared.stop, __ATOMIC_SEQ_CST)) {
		if (!pi_test_and_clear_on(&desc))
			continue;
		shared.harvests++;
		pi_harvest(&desc, irr);
	}
	return NULL;
}

static void run_threads(void *(*extra)(void *), int nextra)
{
	pthread_t p[NR_POSTERS], c, x[2];
	shared.posters_done = 0;
	shared.stop = 0;
	shared.harvests = 0;
	assert_int_equal(pthread_barrier_init(&shared.start, NULL, NR_POSTERS + 1 + nextra), 0);
	for (int i = 0; i < NR_POSTERS; i++)
		assert_int_equal(pthread_create(&p[i], NULL, poster, (void *)(intptr_t)i), 0);
	for (int i = 0; i < nextra; i++)
		assert_int_equal(pthread_create(&x[i], NULL, extra, (void *)(intptr_t)i), 0);
	assert_int_equal(pthread_create(&c, NULL, consumer, NULL), 0);
	for (int i = 0; i < NR_POSTERS; i++)
		assert_int_equal(pthread_join(p[i], NULL), 0);
	__atomic_store_n(&shared.stop, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(c, NULL), 0);
	for (int i = 0; i < nextra; i++)
		assert_int_equal(pthread_join(x[i], NULL), 0);
	pthread_barrier_destroy(&shared.start);
}

static void expect_all_posted_harvested(void)
{
	/* quiescent: every request still in PIR has ON set (its poster set ON after it,
	 * and the consumer clears ON only before a harvest) */
	if (!pi_pir_empty(&desc) && !pi_test_on(&desc))
		fail_msg("PIR holds requests but ON is clear: a notification was lost");
	pi_test_and_clear_on(&desc);
	pi_harvest(&desc, irr);
	assert_true(pi_pir_empty(&desc));
	for (int w = 0; w < 8; w++)
		if (irr_word(irr, w) != expected[w])
			fail_msg("IRR word %d is 0x%08x, posted 0x%08x", w, irr_word(irr, w), expected[w]);
}

static void compute_expected(void)
{
	memset(expected, 0, sizeof(expected));
	for (u32 v = 0; v < 256; v++)
		for (int p = 0; p < NR_POSTERS; p++)
			if (owned(p, v))
				expected[v / 32] |= 1u << (v % 32);
}

static void concurrent_posters_and_consumer(void **state)
{
	(void)state;
	compute_expected();
	desc.control = pi_control(false, false, 0xf2, 0);
	shared.iterations = 4000;
	run_threads(NULL, 0);
	expect_all_posted_harvested();
	/* the consumer really ran concurrently (not just the final harvest) */
	assert_true(shared.harvests > 0);
	assert_int_equal(pi_nv(&desc), 0xf2);
	assert_false(pi_test_sn(&desc));
}

/* pi_update (migration: new NDST; blocking: SN) racing with posters and the consumer:
 * its compare-exchange must never drop an ON a poster set. */
static void *updater(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&shared.start);
	int n = 0;
	while (__atomic_load_n(&shared.posters_done, __ATOMIC_SEQ_CST) < NR_POSTERS) {
		pi_update(&desc, false, (u8)(0xe0 + (n & 0xf)), (u32)n);
		n++;
	}
	pi_update(&desc, false, 0xec, 0xabcdef);
	shared.updater_rounds = n;
	return NULL;
}

static void concurrent_update_keeps_on(void **state)
{
	(void)state;
	compute_expected();
	desc.control = pi_control(false, false, 0xf2, 0);
	shared.iterations = 4000;
	run_threads(updater, 1);
	assert_true(shared.updater_rounds > 0);
	assert_int_equal(pi_nv(&desc), 0xec);
	assert_int_equal(pi_ndst(&desc), 0xabcdef);
	expect_all_posted_harvested();
}

/*
 * Round trips: each poster posts each of its vectors, then waits until the consumer has
 * delivered every one of them before posting again. A request lost anywhere (PIR bit
 * dropped, ON missing so that the consumer never looks) shows as a poster that waits
 * forever (bounded here) or a delivery count below the number of rounds; a request
 * delivered twice as a count above it.
 */
#define ROUNDS 300

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *rt_poster(void *arg)
{
	int me = (int)(intptr_t)arg;
	pthread_barrier_wait(&shared.start);
	for (u32 r = 1; r <= ROUNDS; r++) {
		for (u32 v = 0; v < 256; v++) {
			if (!owned(me, v))
				continue;
			pi_test_and_set_pir(&desc, (u8)v);
			pi_test_and_set_on(&desc);
		}
		double deadline = now_s() + 30;   /* generous: a loaded host */
		for (u32 v = 0; v < 256; v++) {
			if (!owned(me, v))
				continue;
			while (__atomic_load_n(&shared.delivered[v], __ATOMIC_ACQUIRE) < r) {
				if (now_s() > deadline) {
					__atomic_store_n(&shared.timed_out, 1, __ATOMIC_SEQ_CST);
					goto out;
				}
				sched_yield();
			}
		}
	}
out:
	__atomic_fetch_add(&shared.posters_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *rt_consumer(void *arg)
{
	(void)arg;
	static u8 mine[128];
	unsigned idle = 0;
	pthread_barrier_wait(&shared.start);
	while (__atomic_load_n(&shared.posters_done, __ATOMIC_SEQ_CST) < NR_POSTERS) {
		if (!pi_test_and_clear_on(&desc)) {
			/* spin a little (a racing poster), then let the posters run on a busy host */
			if (++idle % 256 == 0)
				sched_yield();
			continue;
		}
		memset(mine, 0, sizeof(mine));
		if (pi_harvest(&desc, mine) < 0)
			continue;
		for (u32 v = 0; v < 256; v++) {
			if (!irr_test(mine, v))
				continue;
			if (v < FIRST_VECTOR)
				shared.bogus++;
			__atomic_fetch_add(&shared.delivered[v], 1, __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

/* Changes NV/NDST with SN set (a blocked or migrating vCPU) while requests fly: with SN
 * set pi_update never raises ON itself, so an ON it overwrote would stay lost. */
static void *rt_updater(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&shared.start);
	int n = 0;
	while (__atomic_load_n(&shared.posters_done, __ATOMIC_SEQ_CST) < NR_POSTERS) {
		pi_update(&desc, true, (u8)(0xe0 + (n & 0xf)), (u32)n);
		n++;
	}
	shared.updater_rounds = n;
	return NULL;
}

static void round_trips(bool with_updater)
{
	memset(&shared.delivered, 0, sizeof(shared.delivered));
	shared.timed_out = 0;
	shared.bogus = 0;
	shared.posters_done = 0;
	shared.updater_rounds = 0;
	desc.control = pi_control(false, with_updater, 0xf2, 0);
	int nthreads = NR_POSTERS + 1 + (with_updater ? 1 : 0);
	pthread_t p[NR_POSTERS], c, u;
	assert_int_equal(pthread_barrier_init(&shared.start, NULL, (unsigned)nthreads), 0);
	for (int i = 0; i < NR_POSTERS; i++)
		assert_int_equal(pthread_create(&p[i], NULL, rt_poster, (void *)(intptr_t)i), 0);
	assert_int_equal(pthread_create(&c, NULL, rt_consumer, NULL), 0);
	if (with_updater)
		assert_int_equal(pthread_create(&u, NULL, rt_updater, NULL), 0);
	for (int i = 0; i < NR_POSTERS; i++)
		assert_int_equal(pthread_join(p[i], NULL), 0);
	assert_int_equal(pthread_join(c, NULL), 0);
	if (with_updater)
		assert_int_equal(pthread_join(u, NULL), 0);
	pthread_barrier_destroy(&shared.start);

	if (shared.timed_out)
		fail_msg("a posted request was never delivered (poster timed out)");
	assert_int_equal(shared.bogus, 0);
	for (u32 v = 0; v < 256; v++) {
		u32 want = v >= FIRST_VECTOR ? ROUNDS : 0;
		if (shared.delivered[v] != want)
			fail_msg("vector %u delivered %u times, posted %u", v, shared.delivered[v], want);
	}
	assert_true(pi_pir_empty(&desc));
	if (with_updater) {
		assert_true(shared.updater_rounds > 0);
		assert_true(pi_test_sn(&desc));
	}
}

static void round_trips_lose_nothing(void **state)
{
	(void)state;
	round_trips(false);
}

static void round_trips_with_update_lose_nothing(void **state)
{
	(void)state;
	round_trips(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(layout, setup),
		cmocka_unit_test_setup(control_packing, setup),
		cmocka_unit_test_setup(test_and_set_pir, setup),
		cmocka_unit_test_setup(on_set_and_clear, setup),
		cmocka_unit_test_setup(harvest, setup),
		cmocka_unit_test_setup(update_changes_fields_and_keeps_on, setup),
		cmocka_unit_test_setup(update_recomputes_on_when_sn_cleared, setup),
		cmocka_unit_test_setup(concurrent_posters_and_consumer, setup),
		cmocka_unit_test_setup(concurrent_update_keeps_on, setup),
		cmocka_unit_test_setup(round_trips_lose_nothing, setup),
		cmocka_unit_test_setup(round_trips_with_update_lose_nothing, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
