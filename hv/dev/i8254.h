/* SPDX-License-Identifier: MIT */
/*
 * The 8254 programmable interval timer's counters as pure logic (hv/dev/i8254.c):
 * three counters on a 1.193182 MHz input clock whose count is derived from the TSC,
 * so reading a counter needs no host timer. The bus device around it, port 0x61 and
 * the IRQ 0 timer are hv/dev/pit.c; the unit tests are tests/unit/test_pit.c.
 */
#ifndef HV_DEV_I8254_H
#define HV_DEV_I8254_H

#include "hv/lib/types.h"

#define I8254_HZ 1193182ull          /* the PC's PIT input clock (14.31818 MHz / 12) */
#define I8254_CHANNELS 3

/* Ports (offsets from 0x40). */
#define I8254_PORT_BASE 0x40
#define I8254_CTRL 3                 /* control word register, write-only */

/* Control word fields (82C54 data sheet, "Control Word Format"). */
#define I8254_CW_SC(cw) (((cw) >> 6) & 3)       /* select counter; 3 = read-back */
#define I8254_CW_RW(cw) (((cw) >> 4) & 3)       /* 0 latch, 1 LSB, 2 MSB, 3 LSB then MSB */
#define I8254_CW_MODE(cw) (((cw) >> 1) & 7)
#define I8254_CW_BCD 0x01
#define I8254_RW_LSB 1
#define I8254_RW_MSB 2
#define I8254_RW_LOHI 3
/* Read-back command: bit 5 clear = latch count, bit 4 clear = latch status, bits 3:1
 * select counters 2, 1, 0. */
#define I8254_RB_NOCOUNT 0x20
#define I8254_RB_NOSTATUS 0x10
/* Status byte ("Read-Back Command", "Status Byte"): OUTPUT, NULL COUNT, then the
 * counter's programmed RW, mode and BCD bits. */
#define I8254_ST_OUT 0x80
#define I8254_ST_NULL 0x40

struct i8254_chan {
	u8 mode;          /* 0-5 (6 and 7 are stored as 2 and 3) */
	u8 rw;            /* I8254_RW_* */
	bool bcd;         /* kept for the status byte; counting is binary */
	bool gate;
	u16 reload;       /* the count register (CR): 0 stands for 65536 */
	u8 lsb;           /* the LSB of a LOHI count being written */
	bool write_msb;   /* LOHI write flip-flop: the next byte is the MSB */
	bool read_msb;    /* LOHI read flip-flop */
	bool loaded;      /* a count has been written since the control word */
	bool running;     /* the counting element is counting */
	u64 start;        /* input-clock tick where elapsed = 0 (while running) */
	u64 frozen;       /* elapsed ticks while not running */
	u32 cur;          /* the period in use, 1-65536 */
	bool pending;     /* modes 2, 3: a new count takes effect at pending_at */
	u64 pending_at;
	bool count_latched, status_latched;
	u16 latch;        /* the output latch (OL) */
	u8 status;
};

struct i8254 {
	u64 tsc_hz;       /* the TSC frequency the input clock is derived from */
	u64 tsc_origin;   /* TSC of input-clock tick 0 */
	struct i8254_chan ch[I8254_CHANNELS];
};

/* Power-on: every counter in mode 0 with no count, LOHI access, gates high (channel 2's
 * gate follows port 0x61, which the caller sets). */
void i8254_init(struct i8254 *p, u64 tsc_hz, u64 now_tsc);
/* Input-clock ticks at TSC now, and the first TSC at or after tick t. */
u64 i8254_tick(const struct i8254 *p, u64 now_tsc);
u64 i8254_tick_tsc(const struct i8254 *p, u64 tick);

/* A byte written to port 0x40 + off (off 0-3) / read from it (0x43 reads 0xff). */
void i8254_write(struct i8254 *p, unsigned off, u8 val, u64 now_tsc);
u8 i8254_read(struct i8254 *p, unsigned off, u64 now_tsc);
/* The gate input of counter ch (rising and falling edges act as the mode says). */
void i8254_set_gate(struct i8254 *p, unsigned ch, bool gate, u64 now_tsc);
/* The OUT pin of counter ch at now. */
bool i8254_out(struct i8254 *p, unsigned ch, u64 now_tsc);
/* The current count of counter ch (what an unlatched read returns, both bytes). */
u16 i8254_count(struct i8254 *p, unsigned ch, u64 now_tsc);
/* The first rising edge of counter ch's OUT strictly after tick t, as a tick: false
 * when there is none (no count, gate low, one-shot already over). */
bool i8254_next_edge(struct i8254 *p, unsigned ch, u64 t, u64 *edge);

#endif
