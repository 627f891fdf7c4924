/* SPDX-License-Identifier: MIT */
/*
 * The 8254 counters (hv/dev/i8254.h), after the Intel 82C54 CHMOS Programmable
 * Interval Timer data sheet: "Control Word Format", "Counter Latch Command",
 * "Read-Back Command", "Mode Definitions" and "Gate Pin Operations Summary". Facts
 * only; no code of another emulator.
 *
 * Time: a counter does not tick; its state is a start tick (input clock, derived from
 * the TSC) and the count, output and next rising edge are computed from the elapsed
 * ticks. The count is taken to be loaded into the counting element at the tick of the
 * write that completes it (the data sheet loads it on the next CLK pulse: one tick,
 * 0.84 us, earlier here).
 *
 * Modes (N = the count, 0 meaning 65536):
 *   0 interrupt on terminal count: OUT low from the control word; high N ticks after
 *     the count is written, and it stays high while the count wraps on. Writing the
 *     LSB of a LOHI count stops counting. GATE low suspends counting.
 *   1 hardware-retriggerable one-shot: a GATE rising edge (re)starts N ticks of OUT low.
 *   2 rate generator: period N, OUT low for the last tick of each period (count 1).
 *   3 square wave: period N, OUT high for the first ceil(N/2) ticks, low for the rest;
 *     the count goes down by 2 (from N rounded down to even).
 *     In modes 2 and 3, GATE low stops counting and forces OUT high; the rising edge
 *     restarts the period. A count written while counting takes effect at the end of
 *     the current period. A count of 1 is illegal in both: it counts as 2.
 *   4 software-triggered strobe: OUT low for one tick N ticks after the count is
 *     written. GATE low suspends counting.
 *   5 hardware-triggered strobe: as 4, started by a GATE rising edge.
 * BCD counting is not modelled: the bit is kept for the status byte and the counter
 * counts in binary (hv/dev/pit.c logs it).
 */
#include "hv/dev/i8254.h"
#include "hv/lib/lib.h"

void i8254_init(struct i8254 *p, u64 tsc_hz, u64 now_tsc)
{
	memset(p, 0, sizeof(*p));
	p->tsc_hz = tsc_hz ? tsc_hz : 1;
	p->tsc_origin = now_tsc;
	for (unsigned i = 0; i < I8254_CHANNELS; i++) {
		p->ch[i].rw = I8254_RW_LOHI;
		p->ch[i].gate = true;
		p->ch[i].cur = 65536;
	}
}

/* Exact conversions in 64-bit arithmetic (no 128-bit division in the hypervisor):
 * whole seconds apart, then the remainder, whose product stays below 2^64 for TSC
 * frequencies below 2^43 Hz. */
u64 i8254_tick(const struct i8254 *p, u64 now_tsc)
{
	if (now_tsc <= p->tsc_origin)
		return 0;
	u64 d = now_tsc - p->tsc_origin;
	return d / p->tsc_hz * I8254_HZ + d % p->tsc_hz * I8254_HZ / p->tsc_hz;
}

u64 i8254_tick_tsc(const struct i8254 *p, u64 tick)
{
	u64 r = tick % I8254_HZ;
	return p->tsc_origin + tick / I8254_HZ * p->tsc_hz + (r * p->tsc_hz + I8254_HZ - 1) / I8254_HZ;
}

static u32 period_of(const struct i8254_chan *c, u16 reload)
{
	u32 n = reload ? reload : 65536;
	if ((c->mode == 2 || c->mode == 3) && n == 1)
		n = 2;
	return n;
}

static u64 elapsed(const struct i8254_chan *c, u64 t)
{
	if (!c->running)
		return c->frozen;
	return t > c->start ? t - c->start : 0;
}

/* Apply a count that waited for the end of a period (modes 2, 3). */
static void settle(struct i8254_chan *c, u64 t)
{
	if (c->pending && c->running && t >= c->pending_at) {
		c->start = c->pending_at;
		c->cur = period_of(c, c->reload);
		c->pending = false;
	}
}

static bool chan_out(struct i8254_chan *c, u64 t)
{
	settle(c, t);
	if (!c->loaded)
		return c->mode != 0;
	u64 e = elapsed(c, t), n = c->cur;
	switch (c->mode) {
	case 0:
		return e >= n;
	case 1:
		return !c->running || e >= n;
	case 2:
		return !c->gate || e % n != n - 1;
	case 3:
		return !c->gate || e % n < (n + 1) / 2;
	case 4:
		return e != n;
	default:   /* 5 */
		return !c->running || e != n;
	}
}

static u16 chan_count(struct i8254_chan *c, u64 t)
{
	settle(c, t);
	if (!c->loaded || ((c->mode == 1 || c->mode == 5) && !c->running && !c->frozen))
		return c->reload;
	u64 e = elapsed(c, t), n = c->cur;
	switch (c->mode) {
	case 2:
		return (u16)(n - e % n);
	case 3: {
		u64 pos = e % n, hi = (n + 1) / 2;
		u64 within = pos < hi ? pos : pos - hi;
		return (u16)((n & ~1ull) - 2 * within);
	}
	default:   /* 0, 1, 4, 5: down from N, wrapping through 0xffff */
		return (u16)(n - e);
	}
}

static u8 chan_status(struct i8254_chan *c, u64 t)
{
	return (u8)((chan_out(c, t) ? I8254_ST_OUT : 0) | (c->loaded ? 0 : I8254_ST_NULL) | (c->rw << 4) |
		    (c->mode << 1) | (c->bcd ? I8254_CW_BCD : 0));
}

static void latch_count(struct i8254_chan *c, u64 t)
{
	if (c->count_latched)
		return;   /* "the first one is the one read": later latch commands are ignored */
	c->latch = chan_count(c, t);
	c->count_latched = true;
	c->read_msb = false;
}

/* A new count in the count register: where counting starts depends on the mode. */
static void load_count(struct i8254_chan *c, u16 reload, u64 t)
{
	settle(c, t);
	c->reload = reload;
	switch (c->mode) {
	case 2:
	case 3:
		if (c->loaded && c->running) {
			u64 e = elapsed(c, t);
			c->pending = true;
			c->pending_at = c->start + (e / c->cur + 1) * c->cur;
			return;
		}
		c->loaded = true;
		c->cur = period_of(c, reload);
		c->start = t;
		c->frozen = 0;
		c->running = c->gate;
		return;
	case 1:
	case 5:
		/* Waits for a trigger (GATE rising edge); a running one-shot goes on. */
		if (!c->loaded) {
			c->cur = period_of(c, reload);
			c->frozen = 0;
		}
		c->loaded = true;
		return;
	default:   /* 0, 4 */
		c->loaded = true;
		c->cur = period_of(c, reload);
		c->start = t;
		c->frozen = 0;
		c->running = c->gate;
		return;
	}
}

static void control_word(struct i8254 *p, u8 cw, u64 t)
{
	unsigned sc = I8254_CW_SC(cw);
	if (sc == 3) {   /* read-back */
		for (unsigned i = 0; i < I8254_CHANNELS; i++) {
			struct i8254_chan *c = &p->ch[i];
			if (!(cw & (2u << i)))
				continue;
			/* Status first: both latched, the status byte is read before the count. */
			if (!(cw & I8254_RB_NOSTATUS) && !c->status_latched) {
				c->status = chan_status(c, t);
				c->status_latched = true;
			}
			if (!(cw & I8254_RB_NOCOUNT))
				latch_count(c, t);
		}
		return;
	}
	struct i8254_chan *c = &p->ch[sc];
	if (I8254_CW_RW(cw) == 0) {
		latch_count(c, t);
		return;
	}
	/* "When a Control Word is written to a Counter, all Control Logic is immediately
	 * reset and OUT goes to a known initial state." */
	unsigned mode = I8254_CW_MODE(cw);
	c->mode = (u8)(mode >= 6 ? mode - 4 : mode);
	c->rw = (u8)I8254_CW_RW(cw);
	c->bcd = cw & I8254_CW_BCD;
	c->loaded = c->running = c->pending = false;
	c->frozen = 0;
	c->write_msb = c->read_msb = false;
	c->count_latched = c->status_latched = false;
}

void i8254_write(struct i8254 *p, unsigned off, u8 val, u64 now_tsc)
{
	u64 t = i8254_tick(p, now_tsc);
	if (off == I8254_CTRL) {
		control_word(p, val, t);
		return;
	}
	if (off >= I8254_CHANNELS)
		return;
	struct i8254_chan *c = &p->ch[off];
	switch (c->rw) {
	case I8254_RW_LSB:
		load_count(c, val, t);
		break;
	case I8254_RW_MSB:
		load_count(c, (u16)(val << 8), t);
		break;
	default:
		if (!c->write_msb) {
			c->lsb = val;
			c->write_msb = true;
			if (c->mode == 0) {   /* "writing the first byte disables counting" */
				settle(c, t);
				c->loaded = c->running = false;
			}
		} else {
			c->write_msb = false;
			load_count(c, (u16)(c->lsb | (u16)val << 8), t);
		}
		break;
	}
}

u8 i8254_read(struct i8254 *p, unsigned off, u64 now_tsc)
{
	if (off >= I8254_CHANNELS)
		return 0xff;   /* the control word register cannot be read */
	u64 t = i8254_tick(p, now_tsc);
	struct i8254_chan *c = &p->ch[off];
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	u16 v = c->count_latched ? c->latch : chan_count(c, t);
	u8 b;
	switch (c->rw) {
	case I8254_RW_LSB:
		b = (u8)v;
		c->count_latched = false;
		break;
	case I8254_RW_MSB:
		b = (u8)(v >> 8);
		c->count_latched = false;
		break;
	default:
		b = c->read_msb ? (u8)(v >> 8) : (u8)v;
		if (c->read_msb)
			c->count_latched = false;
		c->read_msb = !c->read_msb;
		break;
	}
	return b;
}

void i8254_set_gate(struct i8254 *p, unsigned ch, bool gate, u64 now_tsc)
{
	if (ch >= I8254_CHANNELS)
		return;
	struct i8254_chan *c = &p->ch[ch];
	u64 t = i8254_tick(p, now_tsc);
	settle(c, t);
	if (gate == c->gate)
		return;
	c->gate = gate;
	if (!c->loaded)
		return;
	switch (c->mode) {
	case 1:
	case 5:
		if (gate) {   /* trigger: (re)load the count */
			if (c->pending)
				c->pending = false;
			c->cur = period_of(c, c->reload);
			c->start = t;
			c->running = true;
		}
		return;
	case 2:
	case 3:
		if (gate) {   /* the rising edge reloads the counter */
			c->cur = period_of(c, c->reload);
			c->pending = false;
			c->start = t;
			c->frozen = 0;
			c->running = true;
		} else {
			c->frozen = elapsed(c, t);
			c->running = false;
		}
		return;
	default:   /* 0, 4: GATE disables counting, the count holds */
		if (gate) {
			c->start = t - MIN(c->frozen, t);
			c->running = true;
		} else {
			c->frozen = elapsed(c, t);
			c->running = false;
		}
		return;
	}
}

bool i8254_out(struct i8254 *p, unsigned ch, u64 now_tsc)
{
	return ch < I8254_CHANNELS && chan_out(&p->ch[ch], i8254_tick(p, now_tsc));
}

u16 i8254_count(struct i8254 *p, unsigned ch, u64 now_tsc)
{
	return ch < I8254_CHANNELS ? chan_count(&p->ch[ch], i8254_tick(p, now_tsc)) : 0;
}

bool i8254_next_edge(struct i8254 *p, unsigned ch, u64 t, u64 *edge)
{
	if (ch >= I8254_CHANNELS)
		return false;
	struct i8254_chan *c = &p->ch[ch];
	settle(c, t);
	if (!c->loaded || !c->running)
		return false;
	u64 e;
	switch (c->mode) {
	case 0:
	case 1:
		e = c->start + c->cur;      /* OUT rises at the terminal count */
		break;
	case 4:
	case 5:
		e = c->start + c->cur + 1;  /* after the one-tick strobe */
		break;
	default:   /* 2, 3: at every period's start (a pending count's period follows) */
		e = c->start + ((t - MIN(t, c->start)) / c->cur + 1) * c->cur;
		if (t < c->start)
			e = c->start + c->cur;
		break;
	}
	if (e <= t)
		return false;
	*edge = e;
	return true;
}
