/* SPDX-License-Identifier: MIT */
/*
 * The CMOS real-time clock and its RAM at I/O 0x70 (index) / 0x71 (data), after the
 * Motorola MC146818A data sheet ("Address Map", "Time, Calendar and Alarm Locations",
 * "Control Registers" A-D, "Update Cycle"). Facts only; no code of another emulator.
 *
 * 0x70 (write): bits 6:0 select a location of the 128-byte file, bit 7 is the NMI mask
 * (kept, no effect: nothing raises an NMI through it). Reads of 0x70 return all ones.
 * 0x71: the selected location.
 *
 * Time: the clock starts at RTC_BASE_EPOCH (Unix seconds, UTC) when the VM is created
 * and advances with the TSC (tsc_hz), one update per second. The hypervisor never reads
 * the host's RTC. Time registers 0x00 (seconds), 0x02 (minutes), 0x04 (hours), 0x06
 * (day of week, 1 = Sunday, derived from the date: writes are ignored), 0x07 (date),
 * 0x08 (month), 0x09 (year in century) and 0x32 (century) read in BCD or binary per
 * register B DM and 12/24 hours per register B 24/12 (12-hour mode: bit 7 = PM).
 * Alarm registers 0x01, 0x03, 0x05 are kept as written (0xC0-0xFF: don't care).
 * A write to a time register sets that field of the current time (values out of range
 * are clamped when the time is recomputed; the data sheet leaves them undefined).
 *
 * A: bit 7 UIP (read-only) is 1 during the 244 us before each update (and 0 while SET
 *    is 1); DV (6:4) is kept but the time base always runs; RS (3:0) selects the
 *    periodic rate (0 none; 1, 2: 256, 128 Hz; 3-15: 32768 >> (RS - 1) Hz).
 * B: SET (7) stops the updates: the time registers hold what they read when SET was
 *    written 1 and take writes; writing SET 0 starts the time from them, the next
 *    update one second later. Writing SET 1 clears UIE. PIE, AIE, UIE, SQWE, DM,
 *    24/12, DSE are kept (SQWE and DSE have no effect).
 * C: IRQF (7), PF (6), AF (5), UF (4); read-only, cleared by a read. PF is set once a
 *    periodic period has ended since the last read of C, UF when an update happened,
 *    AF when an update reached the alarm time. IRQF = PF & PIE | AF & AIE | UF & UIE.
 *    The flags are evaluated when the guest accesses the device and when the
 *    device's timer fires.
 * IRQ 8: the interrupt line follows IRQF and drives vIOAPIC pin 8 (ISA IRQ 8, no
 *    override: GSI 8, edge, active high): a 0 -> 1 change of IRQF is an edge, the read
 *    of C that clears IRQF lowers the line. A device timer (hv/dev/devtimer.h) is armed
 *    only while IRQF is 0 and an enabled interrupt can set it: PIE with a rate (the
 *    next end of a period), UIE or AIE without SET (the next update; the alarm is
 *    compared at each update). So a guest that does not read C gets no further
 *    interrupts and costs no host timer interrupts; the 8192 Hz rate is the fastest.
 * D: VRT (7) reads 1; read-only.
 * 0x0E-0x7F: battery-backed RAM, reset to the values rtc_create() fills in (memory
 *    sizes, CPU count), then as the guest writes them.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/lib/lib.h"
#include "hv/host/time.h"
#include "arch/x86/x86.h"

#define RTC_PORT 0x70
#define RTC_LEN 2

#define RTC_BASE_EPOCH 1767225600ull   /* 2026-01-01 00:00:00 UTC */

#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define A_UIP BIT(7)
#define B_SET BIT(7)
#define B_PIE BIT(6)
#define B_AIE BIT(5)
#define B_UIE BIT(4)
#define B_DM BIT(2)     /* 1: binary */
#define B_24H BIT(1)
#define C_IRQF BIT(7)
#define C_PF BIT(6)
#define C_AF BIT(5)
#define C_UF BIT(4)
#define D_VRT BIT(7)

#define UIP_US 244

struct rtc_tm {
	u64 year;
	u32 mon, mday, hour, min, sec, wday;   /* mon 1-12, mday 1-31, wday 0 = Sunday */
};

/* Days since 1970-01-01 of a proleptic Gregorian date (year >= 1970). */
static u64 days_from_civil(u64 y, u32 m, u32 d)
{
	if (m <= 2)
		y--;
	u64 era = y / 400;
	u64 yoe = y - era * 400;
	u64 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	u64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_secs(u64 secs, struct rtc_tm *tm)
{
	u64 days = secs / 86400, rem = secs % 86400;
	tm->hour = (u32)(rem / 3600);
	tm->min = (u32)(rem / 60 % 60);
	tm->sec = (u32)(rem % 60);
	tm->wday = (u32)((days + 4) % 7);   /* 1970-01-01 was a Thursday */
	u64 z = days + 719468;
	u64 era = z / 146097;
	u64 doe = z - era * 146097;
	u64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	u64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	u64 mp = (5 * doy + 2) / 153;
	tm->mday = (u32)(doy - (153 * mp + 2) / 5 + 1);
	tm->mon = (u32)(mp < 10 ? mp + 3 : mp - 9);
	tm->year = yoe + era * 400 + (tm->mon <= 2);
}

static u8 enc(const struct rtc *r, u32 v)
{
	return (r->ram[REG_B] & B_DM) ? (u8)v : (u8)(((v / 10) << 4) | (v % 10));
}

static u32 dec(const struct rtc *r, u8 v)
{
	return (r->ram[REG_B] & B_DM) ? v : (u32)(v >> 4) * 10 + (v & 15);
}

static u8 enc_hour(const struct rtc *r, u32 h)
{
	if (r->ram[REG_B] & B_24H)
		return enc(r, h);
	u32 h12 = h % 12 ? h % 12 : 12;
	return (u8)(enc(r, h12) | (h >= 12 ? 0x80 : 0));
}

static u32 dec_hour(const struct rtc *r, u8 v)
{
	if (r->ram[REG_B] & B_24H)
		return dec(r, v);
	return dec(r, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

/* The time registers for secs, in the current modes. */
static void rtc_store_time(struct rtc *r, u64 secs)
{
	struct rtc_tm tm;
	civil_from_secs(secs, &tm);
	r->ram[REG_SEC] = enc(r, tm.sec);
	r->ram[REG_MIN] = enc(r, tm.min);
	r->ram[REG_HOUR] = enc_hour(r, tm.hour);
	r->ram[REG_WDAY] = enc(r, tm.wday + 1);
	r->ram[REG_MDAY] = enc(r, tm.mday);
	r->ram[REG_MONTH] = enc(r, tm.mon);
	r->ram[REG_YEAR] = enc(r, (u32)(tm.year % 100));
	r->ram[REG_CENTURY] = enc(r, (u32)(tm.year / 100));
}

static u32 clamp(u32 v, u32 lo, u32 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The time the time registers hold (out-of-range fields clamped; 1970-9999). */
static u64 rtc_parse_time(const struct rtc *r)
{
	u64 year = (u64)dec(r, r->ram[REG_CENTURY]) * 100 + dec(r, r->ram[REG_YEAR]);
	year = year < 1970 ? 1970 : year > 9999 ? 9999 : year;
	u32 mon = clamp(dec(r, r->ram[REG_MONTH]), 1, 12);
	u32 mday = clamp(dec(r, r->ram[REG_MDAY]), 1, 31);
	u32 hour = clamp(dec_hour(r, r->ram[REG_HOUR]), 0, 23);
	u32 min = clamp(dec(r, r->ram[REG_MIN]), 0, 59);
	u32 sec = clamp(dec(r, r->ram[REG_SEC]), 0, 59);
	return days_from_civil(year, mon, mday) * 86400 + hour * 3600 + min * 60 + sec;
}

static bool alarm_match(const struct rtc *r, u64 secs)
{
	struct rtc_tm tm;
	civil_from_secs(secs, &tm);
	u8 s = r->ram[REG_SEC_ALARM], m = r->ram[REG_MIN_ALARM], h = r->ram[REG_HOUR_ALARM];
	return ((s & 0xc0) == 0xc0 || s == enc(r, tm.sec)) && ((m & 0xc0) == 0xc0 || m == enc(r, tm.min)) &&
	       ((h & 0xc0) == 0xc0 || h == enc_hour(r, tm.hour));
}

/* The periodic period in TSC ticks (0: none). */
static u64 rtc_period(const struct rtc *r)
{
	unsigned rs = r->ram[REG_A] & 15;
	if (!rs)
		return 0;
	u64 hz = rs <= 2 ? 256u >> (rs - 1) : 32768u >> (rs - 1);
	return tsc_hz / hz ? tsc_hz / hz : 1;
}

/* Bring the clock and the flags of register C up to TSC now. */
static void rtc_advance(struct rtc *r, u64 now)
{
	u64 hz = tsc_hz ? tsc_hz : 1;
	if (!(r->ram[REG_B] & B_SET) && now >= r->sec_tsc + hz) {
		u64 n = (now - r->sec_tsc) / hz;
		/* An alarm pattern repeats within a day: look at the last day's updates. */
		for (u64 i = n > 86400 ? n - 86400 + 1 : 1; i <= n && !(r->ram[REG_C] & C_AF); i++)
			if (alarm_match(r, r->secs + i))
				r->ram[REG_C] |= C_AF;
		r->secs += n;
		r->sec_tsc += n * hz;
		r->ram[REG_C] |= C_UF;
	}
	u64 p = rtc_period(r);
	if (p && now >= r->flags_tsc && (now - r->epoch_tsc) / p != (r->flags_tsc - r->epoch_tsc) / p)
		r->ram[REG_C] |= C_PF;
	if (now > r->flags_tsc)
		r->flags_tsc = now;
	u8 b = r->ram[REG_B], c = r->ram[REG_C];
	if ((c & C_PF && b & B_PIE) || (c & C_AF && b & B_AIE) || (c & C_UF && b & B_UIE))
		r->ram[REG_C] |= C_IRQF;
}

static bool is_time_reg(unsigned idx)
{
	return idx == REG_SEC || idx == REG_MIN || idx == REG_HOUR || idx == REG_WDAY ||
	       (idx >= REG_MDAY && idx <= REG_YEAR) || idx == REG_CENTURY;
}

static u8 rtc_read(struct rtc *r, unsigned idx, u64 now)
{
	u8 v;
	rtc_advance(r, now);
	if (is_time_reg(idx) && !(r->ram[REG_B] & B_SET))
		rtc_store_time(r, r->secs);
	switch (idx) {
	case REG_A: {
		u64 hz = tsc_hz ? tsc_hz : 1;
		bool uip = !(r->ram[REG_B] & B_SET) && now + hz * UIP_US / 1000000 >= r->sec_tsc + hz;
		return (u8)((r->ram[REG_A] & 0x7f) | (uip ? A_UIP : 0));
	}
	case REG_C:
		v = r->ram[REG_C];
		r->ram[REG_C] = 0;
		return v;
	case REG_D:
		return D_VRT;
	default:
		return r->ram[idx];
	}
}

static void rtc_write(struct rtc *r, unsigned idx, u8 val, u64 now)
{
	rtc_advance(r, now);
	bool set = r->ram[REG_B] & B_SET;
	if (is_time_reg(idx)) {
		if (idx == REG_WDAY)
			return;
		if (!set)
			rtc_store_time(r, r->secs);
		r->ram[idx] = val;
		if (!set)
			r->secs = rtc_parse_time(r);
		return;
	}
	switch (idx) {
	case REG_A:
		r->ram[REG_A] = val & 0x7f;
		return;
	case REG_B:
		if ((val & B_SET) && !set) {
			rtc_store_time(r, r->secs);   /* frozen: the registers take writes */
			val &= (u8)~B_UIE;
		}
		r->ram[REG_B] = val;
		if (!(val & B_SET) && set) {
			r->secs = rtc_parse_time(r);
			r->sec_tsc = now;
		}
		return;
	case REG_C:
	case REG_D:
		return;
	default:
		r->ram[idx] = val;
	}
}

#define RTC_IRQ_GSI 8

/* Under the device lock: IRQ 8 follows IRQF, and the timer is armed for the next
 * moment an enabled interrupt could set IRQF (none while IRQF is set). */
static void rtc_irq_update(struct rtc *r, u64 now)
{
	struct vm *vm = r->dev.vm;
	bool line = r->ram[REG_C] & C_IRQF;
	if (line != r->irq_line && vm->state == VM_RUNNING) {
		r->irq_line = line;
		vioapic_set_irq(&vm->ioapic, RTC_IRQ_GSI, line);
	}
	u8 b = r->ram[REG_B];
	u64 p = rtc_period(r), deadline = ~0ull;
	if (!line && vm->state == VM_RUNNING) {
		if ((b & B_PIE) && p)
			deadline = r->epoch_tsc + ((now - MIN(now, r->epoch_tsc)) / p + 1) * p;
		if ((b & (B_UIE | B_AIE)) && !(b & B_SET))
			deadline = MIN(deadline, r->sec_tsc + (tsc_hz ? tsc_hz : 1));
	}
	if (deadline != ~0ull)
		dev_timer_set(&r->timer, deadline);
	else if (r->timer.armed)
		dev_timer_stop(&r->timer);
}

static void rtc_timer_fired(struct dev_timer *dt, u64 now)
{
	struct rtc *r = container_of(dt, struct rtc, timer);
	rtc_advance(r, now);
	rtc_irq_update(r, now);
}

static enum io_result rtc_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	struct rtc *r = container_of(dev, struct rtc, dev);
	u64 now = rdtsc(), result = 0;
	(void)v;
	for (unsigned i = 0; i < req->size; i++) {
		u8 byte = (u8)(req->value >> (8 * i)), got = 0xff;
		if (off + i == 0) {
			if (req->write) {
				r->index = byte & 0x7f;
				r->nmi_masked = byte & 0x80;
			}
		} else if (off + i == 1) {
			if (req->write)
				rtc_write(r, r->index, byte, now);
			else
				got = rtc_read(r, r->index, now);
		}
		result |= (u64)got << (8 * i);
	}
	if (!req->write)
		req->value = result | (req->size < 8 ? ~0ull << (8 * req->size) : 0);
	rtc_advance(r, now);   /* IRQF for enables just written */
	rtc_irq_update(r, now);
	return IO_DONE;
}

static const struct io_range_ops rtc_ops = { rtc_access };

/* Power-on state: the time from RTC_BASE_EPOCH, 24-hour BCD, 1024 Hz periodic rate
 * selected (not enabled), the memory-size bytes as PC firmware reports them. */
static void rtc_reset(struct vdev *dev)
{
	struct rtc *r = container_of(dev, struct rtc, dev);
	struct vm *vm = dev->vm;
	u64 f = spin_lock_irqsave(&dev->lock);   /* a VM restart resets it with its timer live */
	u64 now = rdtsc();

	memset(r->ram, 0, sizeof(r->ram));
	r->index = 0;
	r->nmi_masked = false;
	r->ram[REG_A] = 0x26;   /* DV 010 (32.768 kHz time base), RS 0110 (1024 Hz) */
	r->ram[REG_B] = B_24H;
	r->secs = RTC_BASE_EPOCH;
	r->sec_tsc = r->epoch_tsc = r->flags_tsc = now;

	/* Memory sizes (IBM PC/AT CMOS map; the 0x34/0x35 and 0x5B-0x5D bytes as SeaBIOS
	 * reads them): base memory 640 KiB; extended memory above 1 MiB in KiB (capped at
	 * 0xFFFF); RAM from 16 MiB up to the hole in 64 KiB units; RAM above 4 GiB in
	 * 64 KiB units (3 bytes); vCPU count - 1 at 0x5F. */
	u64 low = MIN(vm->map.mem, vm->map.hole), high = vm->map.mem - low;
	u64 ext_kb = MIN((low - MiB(1)) >> 10, 0xffffull);
	u64 above16 = low > MiB(16) ? MIN((low - MiB(16)) >> 16, 0xffffull) : 0;
	u64 above4g = MIN(high >> 16, 0xffffffull);
	r->ram[0x15] = 0x80;
	r->ram[0x16] = 0x02;
	r->ram[0x17] = r->ram[0x30] = (u8)ext_kb;
	r->ram[0x18] = r->ram[0x31] = (u8)(ext_kb >> 8);
	r->ram[0x34] = (u8)above16;
	r->ram[0x35] = (u8)(above16 >> 8);
	r->ram[0x5b] = (u8)above4g;
	r->ram[0x5c] = (u8)(above4g >> 8);
	r->ram[0x5d] = (u8)(above4g >> 16);
	r->ram[0x5f] = (u8)(vm->cfg->vcpus - 1);
	rtc_store_time(r, r->secs);
	if (r->irq_line)
		vioapic_set_irq(&vm->ioapic, RTC_IRQ_GSI, false);
	r->irq_line = false;
	if (r->timer.armed)
		dev_timer_stop(&r->timer);
	spin_unlock_irqrestore(&dev->lock, f);
}

static void rtc_destroy(struct vdev *dev)
{
	struct rtc *r = container_of(dev, struct rtc, dev);
	io_bus_unregister(dev->vm, IO_SPACE_PORT, RTC_PORT, dev);
	dev_timer_shutdown(&r->timer);
}

static const struct vdev_ops rtc_vops = { rtc_reset, rtc_destroy };

bool rtc_create(struct vm *vm)
{
	struct rtc *r = &vm->rtc;
	memset(r, 0, sizeof(*r));
	dev_timer_init(&r->timer, &r->dev.lock, rtc_timer_fired);
	if (!io_bus_register(vm, IO_SPACE_PORT, RTC_PORT, RTC_LEN, &r->dev, &rtc_ops, 0))
		return false;
	vdev_add(vm, &r->dev, "RTC", &rtc_vops);
	rtc_reset(&r->dev);
	return true;
}
