/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/i8254.c: the 8254 counters on a fake TSC of 10 TSC ticks per input-clock tick
 * (tsc_hz = 10 x 1.193182 MHz): TSC/input-clock conversion, the control word, counter
 * latch and read-back, LSB/MSB/LOHI sequences, modes 0-5, gates (port 0x61's counter-2
 * gate is i8254_set_gate) and the rising edges IRQ 0 is raised at.
 */
#include "tests/unit/support.h"
#include "hv/dev/i8254.h"

#define K 10ull                       /* TSC ticks per input-clock tick */
#define ORIGIN 1000000ull             /* TSC of tick 0 */
#define T(tick) (ORIGIN + (tick) * K) /* TSC at an input-clock tick */

static struct i8254 pit;

static int setup(void **state)
{
	(void)state;
	i8254_init(&pit, I8254_HZ * K, ORIGIN);
	return 0;
}

static void cw(u8 v, u64 tick)
{
	i8254_write(&pit, I8254_CTRL, v, T(tick));
}

/* Control word for counter ch, access rw, mode m, binary. */
static u8 ctl(unsigned ch, unsigned rw, unsigned m)
{
	return (u8)(ch << 6 | rw << 4 | m << 1);
}

static void load16(unsigned ch, u16 n, u64 tick)
{
	i8254_write(&pit, ch, (u8)n, T(tick));
	i8254_write(&pit, ch, (u8)(n >> 8), T(tick));
}

static u16 read16(unsigned ch, u64 tick)
{
	u8 lo = i8254_read(&pit, ch, T(tick));
	u8 hi = i8254_read(&pit, ch, T(tick));
	return (u16)(lo | hi << 8);
}

static void conversion(void **state)
{
	(void)state;
	assert_int_equal(i8254_tick(&pit, ORIGIN - 5), 0);
	assert_int_equal(i8254_tick(&pit, T(7)), 7);
	assert_int_equal(i8254_tick(&pit, T(7) + K - 1), 7);
	assert_int_equal(i8254_tick_tsc(&pit, 7), T(7));
	/* Exact across whole seconds: one second of input clock is tsc_hz TSC ticks. */
	assert_int_equal(i8254_tick(&pit, ORIGIN + I8254_HZ * K * 3), I8254_HZ * 3);
	assert_int_equal(i8254_tick_tsc(&pit, I8254_HZ * 3 + 1), ORIGIN + I8254_HZ * K * 3 + K);
	/* A frequency that is not a multiple: tick_tsc rounds up, tick rounds down. */
	struct i8254 p2;
	i8254_init(&p2, 2900000000ull, 0);
	for (u64 t = 1; t < 5000000; t += 777777) {
		u64 tsc = i8254_tick_tsc(&p2, t);
		assert_int_equal(i8254_tick(&p2, tsc), t);
		assert_int_equal(i8254_tick(&p2, tsc - 1), t - 1);
	}
}

static void mode0_lohi(void **state)
{
	(void)state;
	cw(ctl(0, I8254_RW_LOHI, 0), 0);
	assert_false(i8254_out(&pit, 0, T(0)));        /* mode 0: OUT low after the control word */
	load16(0, 1000, 10);
	assert_int_equal(i8254_count(&pit, 0, T(10)), 1000);
	assert_int_equal(read16(0, 110), 900);
	assert_false(i8254_out(&pit, 0, T(1009)));
	assert_true(i8254_out(&pit, 0, T(1010)));       /* terminal count: OUT high */
	assert_int_equal(i8254_count(&pit, 0, T(1011)), 0xffff);   /* wraps, keeps counting */
	assert_true(i8254_out(&pit, 0, T(70000)));      /* and OUT stays high */
	u64 e;
	assert_true(i8254_next_edge(&pit, 0, 10, &e));
	assert_int_equal(e, 1010);
	assert_false(i8254_next_edge(&pit, 0, 1010, &e));   /* once */
	/* Writing the LSB of a new count stops counting, OUT low; the MSB restarts. */
	i8254_write(&pit, 0, 0x10, T(2000));
	assert_false(i8254_out(&pit, 0, T(2000)));
	assert_false(i8254_next_edge(&pit, 0, 2000, &e));
	i8254_write(&pit, 0, 0x00, T(2005));
	assert_true(i8254_next_edge(&pit, 0, 2005, &e));
	assert_int_equal(e, 2005 + 0x10);
	/* Count 0 is 65536. */
	load16(0, 0, 3000);
	assert_true(i8254_next_edge(&pit, 0, 3000, &e));
	assert_int_equal(e, 3000 + 65536);
	assert_int_equal(i8254_count(&pit, 0, T(3001)), 0xffff);
}

static void lsb_msb_access(void **state)
{
	(void)state;
	cw(ctl(1, I8254_RW_LSB, 0), 0);
	i8254_write(&pit, 1, 200, T(0));                 /* LSB only: the count is 200 */
	assert_int_equal(i8254_read(&pit, 1, T(50)), 150);
	assert_int_equal(i8254_read(&pit, 1, T(60)), 140);   /* every read is the LSB */
	cw(ctl(1, I8254_RW_MSB, 0), 100);
	i8254_write(&pit, 1, 0x02, T(100));              /* MSB only: 0x200 */
	assert_int_equal(i8254_read(&pit, 1, T(100)), 0x02);
	assert_int_equal(i8254_read(&pit, 1, T(100 + 0x101)), 0x00);   /* 0x200 - 0x101 = 0xff */
	assert_int_equal(i8254_count(&pit, 1, T(100 + 0x101)), 0xff);
	assert_int_equal(i8254_read(&pit, I8254_CTRL, T(0)), 0xff);   /* control word: not readable */
}

static void lohi_read_flip_flop(void **state)
{
	(void)state;
	cw(ctl(2, I8254_RW_LOHI, 2), 0);
	load16(2, 0x1234, 0);
	/* Unlatched: each byte is the count when it is read (the MSB 0x100 ticks later). */
	assert_int_equal(i8254_read(&pit, 2, T(0x34)), 0x00);
	assert_int_equal(i8254_read(&pit, 2, T(0x134)), 0x11);
	assert_int_equal(read16(2, 0x234), 0x1000);
	/* A new control word resets the flip-flop: LSB first again. */
	(void)i8254_read(&pit, 2, T(0x300));
	cw(ctl(2, I8254_RW_LOHI, 2), 0x300);
	load16(2, 0x0500, 0x300);
	assert_int_equal(i8254_read(&pit, 2, T(0x300)), 0x00);
	assert_int_equal(i8254_read(&pit, 2, T(0x300)), 0x05);
}

static void counter_latch(void **state)
{
	(void)state;
	cw(ctl(0, I8254_RW_LOHI, 2), 0);
	load16(0, 50000, 0);
	cw(ctl(0, 0, 0), 1000);                           /* latch: 49000 */
	cw(ctl(0, 0, 0), 2000);                           /* ignored: the first latch holds */
	assert_int_equal(i8254_read(&pit, 0, T(3000)), 49000 & 0xff);
	assert_int_equal(i8254_read(&pit, 0, T(4000)), 49000 >> 8);
	assert_int_equal(read16(0, 5000), 45000);         /* released after the MSB */
	/* The control word of the latch command does not reset the mode. */
	assert_int_equal(pit.ch[0].mode, 2);
	assert_true(pit.ch[0].loaded);
}

static void read_back(void **state)
{
	(void)state;
	cw(ctl(0, I8254_RW_LOHI, 3), 0);
	cw(ctl(2, I8254_RW_LSB, 0), 0);
	/* Status of counters 0 and 2 before any count: NULL COUNT set. */
	cw((u8)(0xc0 | I8254_RB_NOCOUNT | 0x02 | 0x08), 0);
	assert_int_equal(i8254_read(&pit, 0, T(0)), I8254_ST_OUT | I8254_ST_NULL | 0x30 | 0x06);
	assert_int_equal(i8254_read(&pit, 2, T(0)), I8254_ST_NULL | 0x10);
	load16(0, 1000, 0);
	i8254_write(&pit, 2, 100, T(0));
	/* Count and status of counter 0: status first, then the latched count. */
	cw((u8)(0xc0 | 0x02), 300);
	assert_int_equal(i8254_read(&pit, 0, T(400)), I8254_ST_OUT | 0x30 | 0x06);
	/* Mode 3, N = 1000: the count goes down by 2: 1000 - 2 * 300. */
	assert_int_equal(read16(0, 500), 400);
	/* Counter 2 (mode 0, 100) past its terminal count: OUT set in the status. */
	cw((u8)(0xc0 | I8254_RB_NOCOUNT | 0x08), 150);
	assert_int_equal(i8254_read(&pit, 2, T(150)), I8254_ST_OUT | 0x10);
	/* Count only, of counters 0 and 2. */
	cw((u8)(0xc0 | I8254_RB_NOSTATUS | 0x02 | 0x08), 600);
	assert_int_equal(i8254_read(&pit, 2, T(700)), (u8)(100 - 600));
	/* Mode 3, N = 1000 at tick 600: the second half period, 100 ticks in. */
	assert_int_equal(read16(0, 900), 1000 - 2 * 100);
	assert_int_equal(read16(0, 900), 1000 - 2 * 400);   /* released: tick 900 */
}

static void mode2_rate(void **state)
{
	(void)state;
	cw(ctl(0, I8254_RW_LOHI, 2), 0);
	load16(0, 100, 0);
	assert_int_equal(i8254_count(&pit, 0, T(0)), 100);
	assert_int_equal(i8254_count(&pit, 0, T(99)), 1);
	assert_int_equal(i8254_count(&pit, 0, T(100)), 100);
	assert_true(i8254_out(&pit, 0, T(98)));
	assert_false(i8254_out(&pit, 0, T(99)));          /* low for the tick at count 1 */
	assert_true(i8254_out(&pit, 0, T(100)));
	u64 e;
	assert_true(i8254_next_edge(&pit, 0, 0, &e));
	assert_int_equal(e, 100);
	assert_true(i8254_next_edge(&pit, 0, 100, &e));
	assert_int_equal(e, 200);
	assert_true(i8254_next_edge(&pit, 0, 12345, &e));
	assert_int_equal(e, 12400);
	/* A new count while counting takes effect at the end of the current period. */
	load16(0, 40, 12350);
	assert_int_equal(i8254_count(&pit, 0, T(12360)), 40);    /* still the old period */
	assert_true(i8254_next_edge(&pit, 0, 12360, &e));
	assert_int_equal(e, 12400);
	assert_true(i8254_next_edge(&pit, 0, 12400, &e));
	assert_int_equal(e, 12440);
	assert_int_equal(i8254_count(&pit, 0, T(12410)), 30);
	/* Mode 6 is mode 2. */
	cw(ctl(0, I8254_RW_LOHI, 6), 20000);
	assert_int_equal(pit.ch[0].mode, 2);
}

static void mode3_square(void **state)
{
	(void)state;
	cw(ctl(0, I8254_RW_LOHI, 3), 0);
	load16(0, 10, 0);
	for (u64 t = 0; t < 5; t++)
		assert_true(i8254_out(&pit, 0, T(t)));
	for (u64 t = 5; t < 10; t++)
		assert_false(i8254_out(&pit, 0, T(t)));
	assert_true(i8254_out(&pit, 0, T(10)));
	assert_int_equal(i8254_count(&pit, 0, T(2)), 6);
	assert_int_equal(i8254_count(&pit, 0, T(7)), 6);
	/* Odd N: high one tick longer, the count from N - 1. */
	load16(0, 11, 45);     /* takes effect at tick 50 (the end of the period) */
	assert_int_equal(i8254_count(&pit, 0, T(49)), 2);
	assert_true(i8254_out(&pit, 0, T(55)));
	assert_false(i8254_out(&pit, 0, T(56)));
	assert_true(i8254_out(&pit, 0, T(61)));
	assert_int_equal(i8254_count(&pit, 0, T(50)), 10);
	u64 e;
	assert_true(i8254_next_edge(&pit, 0, 50, &e));
	assert_int_equal(e, 61);
}

static void mode4_strobe(void **state)
{
	(void)state;
	cw(ctl(0, I8254_RW_LOHI, 4), 0);
	assert_true(i8254_out(&pit, 0, T(0)));
	load16(0, 30, 0);
	assert_true(i8254_out(&pit, 0, T(29)));
	assert_false(i8254_out(&pit, 0, T(30)));
	assert_true(i8254_out(&pit, 0, T(31)));
	u64 e;
	assert_true(i8254_next_edge(&pit, 0, 0, &e));
	assert_int_equal(e, 31);
	assert_false(i8254_next_edge(&pit, 0, 31, &e));
}

/* Counter 2 with its gate (port 0x61 bit 0), as Linux's PIT calibration uses it. */
static void gate_channel2(void **state)
{
	(void)state;
	i8254_set_gate(&pit, 2, false, T(0));
	cw(ctl(2, I8254_RW_LOHI, 0), 0);
	load16(2, 500, 0);
	assert_int_equal(i8254_count(&pit, 2, T(100)), 500);   /* gate low: not counting */
	assert_false(i8254_out(&pit, 2, T(1000)));
	i8254_set_gate(&pit, 2, true, T(1000));
	assert_int_equal(i8254_count(&pit, 2, T(1200)), 300);
	i8254_set_gate(&pit, 2, false, T(1200));                /* mode 0: suspends */
	assert_int_equal(i8254_count(&pit, 2, T(5000)), 300);
	i8254_set_gate(&pit, 2, true, T(5000));
	assert_false(i8254_out(&pit, 2, T(5299)));
	assert_true(i8254_out(&pit, 2, T(5300)));

	/* Mode 2: gate low forces OUT high and holds; the rising edge reloads. */
	cw(ctl(2, I8254_RW_LOHI, 2), 6000);
	load16(2, 100, 6000);
	i8254_set_gate(&pit, 2, false, T(6099));
	assert_true(i8254_out(&pit, 2, T(6099)));
	assert_int_equal(i8254_count(&pit, 2, T(7000)), 1);
	u64 e;
	assert_false(i8254_next_edge(&pit, 2, 7000, &e));
	i8254_set_gate(&pit, 2, true, T(7000));
	assert_int_equal(i8254_count(&pit, 2, T(7000)), 100);
	assert_true(i8254_next_edge(&pit, 2, 7000, &e));
	assert_int_equal(e, 7100);

	/* Mode 1: waits for a trigger, then OUT low for N ticks; retriggerable. */
	i8254_set_gate(&pit, 2, false, T(8000));
	cw(ctl(2, I8254_RW_LOHI, 1), 8000);
	load16(2, 50, 8000);
	assert_true(i8254_out(&pit, 2, T(8100)));
	assert_int_equal(i8254_count(&pit, 2, T(8100)), 50);
	i8254_set_gate(&pit, 2, true, T(8100));
	assert_false(i8254_out(&pit, 2, T(8140)));
	i8254_set_gate(&pit, 2, false, T(8140));
	i8254_set_gate(&pit, 2, true, T(8140));                  /* retrigger */
	assert_false(i8254_out(&pit, 2, T(8189)));
	assert_true(i8254_out(&pit, 2, T(8190)));

	/* Mode 5: the trigger starts the strobe N ticks later. */
	i8254_set_gate(&pit, 2, false, T(9000));
	cw(ctl(2, I8254_RW_LOHI, 5), 9000);
	load16(2, 20, 9000);
	assert_true(i8254_out(&pit, 2, T(9100)));
	i8254_set_gate(&pit, 2, true, T(9100));
	assert_true(i8254_out(&pit, 2, T(9119)));
	assert_false(i8254_out(&pit, 2, T(9120)));
	assert_true(i8254_out(&pit, 2, T(9121)));
}

/* Linux's "fast PIT calibration": counter 2, mode 0, count 0xffff, gate high; the MSB
 * read without a latch goes down by one every 256 ticks. */
static void msb_polling(void **state)
{
	(void)state;
	i8254_set_gate(&pit, 2, true, T(0));
	cw(0xb0, 0);                                   /* counter 2, LOHI, mode 0, binary */
	load16(2, 0xffff, 0);
	for (u64 k = 1; k < 200; k++) {
		u64 t = k * 256 + 3;
		(void)i8254_read(&pit, 2, T(t));           /* LSB */
		assert_int_equal(i8254_read(&pit, 2, T(t)), 0xff - k);
	}
}

static void bcd_kept_for_status(void **state)
{
	(void)state;
	cw((u8)(ctl(0, I8254_RW_LOHI, 2) | I8254_CW_BCD), 0);
	load16(0, 100, 0);
	cw((u8)(0xc0 | I8254_RB_NOCOUNT | 0x02), 10);
	assert_int_equal(i8254_read(&pit, 0, T(10)), I8254_ST_OUT | 0x30 | 0x04 | 0x01);
	assert_int_equal(read16(0, 10), 90);          /* counts in binary */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(conversion, setup),
		cmocka_unit_test_setup(mode0_lohi, setup),
		cmocka_unit_test_setup(lsb_msb_access, setup),
		cmocka_unit_test_setup(lohi_read_flip_flop, setup),
		cmocka_unit_test_setup(counter_latch, setup),
		cmocka_unit_test_setup(read_back, setup),
		cmocka_unit_test_setup(mode2_rate, setup),
		cmocka_unit_test_setup(mode3_square, setup),
		cmocka_unit_test_setup(mode4_strobe, setup),
		cmocka_unit_test_setup(gate_channel2, setup),
		cmocka_unit_test_setup(msb_polling, setup),
		cmocka_unit_test_setup(bcd_kept_for_status, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
