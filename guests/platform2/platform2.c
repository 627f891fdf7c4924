/* SPDX-License-Identifier: MIT */
/*
 * platform2: the PC legacy ports of the guest platform (docs/INTERFACES.md, "Guest
 * platform"):
 *   - System Control Port A (0x92): A20 reads enabled, a write without bit 0 is harmless;
 *   - QEMU's fw_cfg, traditional I/O interface (0x510 selector, 0x511 data): signature,
 *     ID, RAM size, CPU count, command line, empty file directory, unknown keys;
 *   - the CMOS RTC (0x70/0x71), see check_rtc().
 *
 * Command line:
 *   vcpus=N   the VM's vCPU count (default 1), compared with fw_cfg's
 *   mem=M     the VM's RAM in MiB, compared with fw_cfg's (not checked without it)
 *   reset     after the checks, request a reset through port 0x92 (bit 0): the
 *             hypervisor stops the VM (status 2); if the write returns, exit 3
 */
#include "lib.h"

#define FWCFG_SEL 0x510
#define FWCFG_DATA 0x511

static void fwcfg_read(u16 key, void *buf, size_t n)
{
	u8 *b = buf;
	outw(key, FWCFG_SEL);
	for (size_t i = 0; i < n; i++)
		b[i] = inb(FWCFG_DATA);
}

static void check_port92(void)
{
	u8 v = inb(0x92);
	report((v & 3) == 2, "port 0x92 reads A20 enabled, reset clear (0x%x)", v);
	outb(0x00, 0x92);   /* A20 off: ignored (always on) */
	v = inb(0x92);
	report((v & 3) == 2, "port 0x92 A20 stays enabled after writing 0 (0x%x)", v);
}

static void check_fwcfg(void)
{
	char sig[5] = { 0 };
	u32 id = 0, size = 0, dir = ~0u;
	u64 ram = 0;
	u16 cpus = 0;
	u8 past[4];

	fwcfg_read(0x0000, sig, 4);
	report(!memcmp(sig, "QEMU", 4), "fw_cfg signature \"%s\"", sig);
	fwcfg_read(0x0001, &id, 4);
	report(id == 1, "fw_cfg ID 0x%x (traditional interface only)", id);
	fwcfg_read(0x0005, &cpus, 2);
	unsigned vcpus = (unsigned)cmdline_get_u64("vcpus", 1);
	report(cpus == vcpus, "fw_cfg nb_cpus %u (expected %u)", cpus, vcpus);
	fwcfg_read(0x0003, &ram, 8);
	if (cmdline_get("mem")) {
		u64 mem = cmdline_get_u64("mem", 0) << 20;
		report(ram == mem, "fw_cfg RAM size 0x%llx (expected 0x%llx)", (unsigned long long)ram,
		       (unsigned long long)mem);
	} else {
		report(ram >= (1ull << 20), "fw_cfg RAM size 0x%llx", (unsigned long long)ram);
	}
	const char *cl = cmdline();
	size_t n = strlen(cl);
	fwcfg_read(0x0014, &size, 4);
	report(size == n + 1, "fw_cfg cmdline size %u (strlen %u + 1)", size, (unsigned)n);
	bool same = true;
	outw(0x0015, FWCFG_SEL);
	for (size_t i = 0; i <= n; i++)
		if (inb(FWCFG_DATA) != (u8)cl[i])
			same = false;
	report(same, "fw_cfg cmdline data is the multiboot command line with its NUL");
	fwcfg_read(0x0019, &dir, 4);
	report(dir == 0, "fw_cfg file directory count 0 (0x%x)", dir);
	fwcfg_read(0x0000, past, 4);
	fwcfg_read(0x0000, sig, 4);   /* reselecting restarts at offset 0 */
	report(!memcmp(sig, "QEMU", 4), "fw_cfg reselecting a key restarts at its first byte");
	outw(0x0000, FWCFG_SEL);
	for (int i = 0; i < 4; i++)
		(void)inb(FWCFG_DATA);
	fwcfg_read(0x0000, past, 0);
	past[0] = inb(FWCFG_DATA);   /* restarted: 'Q' */
	for (int i = 0; i < 3; i++)
		(void)inb(FWCFG_DATA);
	past[1] = inb(FWCFG_DATA);   /* past the end */
	report(past[0] == 'Q' && past[1] == 0, "fw_cfg data past an item's end reads 0 (0x%x)", past[1]);
	fwcfg_read(0x7ff0, past, 2);
	report(past[0] == 0 && past[1] == 0, "fw_cfg unknown key reads 0");
}

static u8 cmos_read(u8 idx)
{
	outb(idx, 0x70);
	return inb(0x71);
}

static void cmos_write(u8 idx, u8 v)
{
	outb(idx, 0x70);
	outb(v, 0x71);
}

/* Wait up to ms for register A's UIP (polled every 40 us); true if seen. */
static bool wait_uip(u64 ms)
{
	u64 end = rdtsc() + us_to_tsc(ms * 1000);
	while (rdtsc() < end) {
		if (cmos_read(0x0a) & 0x80)
			return true;
		udelay(40);   /* UIP lasts 244 us; a VM exit is expensive under Bochs */
	}
	return false;
}

/* The CMOS RTC (Motorola MC146818A "Control Registers", "Time, Calendar and Alarm
 * Locations") and its RAM as docs/INTERFACES.md describes them. */
static void check_rtc(void)
{
	u8 d = cmos_read(0x0d);
	report(d == 0x80, "RTC register D: VRT set (0x%x)", d);
	d = cmos_read(0x80 | 0x0d);   /* bit 7 of the index is the NMI mask */
	report(d == 0x80, "RTC index bit 7 (NMI mask) does not select another register (0x%x)", d);
	u8 b = cmos_read(0x0b);
	report(b == 0x02, "RTC register B at start: 24-hour BCD (0x%x)", b);
	u8 a = cmos_read(0x0a);
	report((a & 0x7f) == 0x26, "RTC register A at start: DV 010, RS 0110 (0x%x)", a);

	/* The date: the configured base 2026-01-01 (a Thursday), a few seconds later. */
	u8 cen = cmos_read(0x32), yr = cmos_read(0x09), mon = cmos_read(0x08), day = cmos_read(0x07);
	u8 wday = cmos_read(0x06), hr = cmos_read(0x04);
	report(cen == 0x20 && yr == 0x26 && mon == 0x01 && day == 0x01 && wday == 5 && hr == 0x00,
	       "RTC date %02x%02x-%02x-%02x weekday %u hour %02x (BCD)", cen, yr, mon, day, wday, hr);

	/* Updates: UIP shows before the seconds change; UF follows, and AF with an alarm
	 * whose every field is "don't care" (0xC0-0xFF). */
	cmos_write(0x01, 0xff);
	cmos_write(0x03, 0xff);
	cmos_write(0x05, 0xff);
	(void)cmos_read(0x0c);
	u8 s0 = cmos_read(0x00);
	bool uip = wait_uip(1500);
	report(uip, "RTC register A: UIP seen within 1.5 s");
	u64 end = rdtsc() + us_to_tsc(100000);
	u8 s1 = s0;
	while (rdtsc() < end && (s1 = cmos_read(0x00)) == s0)
		;
	report(s1 != s0 && !(cmos_read(0x0a) & 0x80), "RTC seconds advance after UIP (%02x -> %02x), UIP clears",
	       s0, s1);
	u8 c = cmos_read(0x0c);
	report((c & 0x30) == 0x30 && !(c & 0x80), "RTC register C: UF and AF after an update, no IRQF with UIE and "
	       "AIE clear (0x%x)", c);
	c = cmos_read(0x0c);
	report(c == 0, "RTC register C: cleared by the read (0x%x)", c);

	/* Periodic flag: 1024 Hz; IRQF with PIE. */
	cmos_write(0x0a, 0x26);
	(void)cmos_read(0x0c);
	udelay(3000);
	c = cmos_read(0x0c);
	report((c & 0x40) && !(c & 0x80), "RTC register C: PF after 3 ms at 1024 Hz (0x%x)", c);
	cmos_write(0x0b, 0x02 | 0x40);
	udelay(3000);
	c = cmos_read(0x0c);
	report((c & 0xc0) == 0xc0, "RTC register C: PF and IRQF with PIE (0x%x)", c);
	cmos_write(0x0a, 0x20);   /* RS 0: no periodic flag */
	(void)cmos_read(0x0c);
	udelay(3000);
	c = cmos_read(0x0c);
	report(!(c & 0x40), "RTC register C: no PF with RS 0 (0x%x)", c);
	cmos_write(0x0a, 0x26);

	/* SET: set 13:30:00, the time holds; 12-hour and binary modes. */
	cmos_write(0x0b, 0x82);
	cmos_write(0x04, 0x13);
	cmos_write(0x02, 0x30);
	cmos_write(0x00, 0x00);
	(void)cmos_read(0x0c);
	mdelay(1100);
	uip = cmos_read(0x0a) & 0x80;
	u8 sec = cmos_read(0x00);
	c = cmos_read(0x0c);
	report(!uip && sec == 0 && !(c & 0x10), "RTC SET holds the time: no UIP, no update (sec %02x, C 0x%x)", sec, c);
	cmos_write(0x0b, 0x02);
	hr = cmos_read(0x04);
	u8 mn = cmos_read(0x02);
	report(hr == 0x13 && mn == 0x30, "RTC time set to %02x:%02x", hr, mn);
	cmos_write(0x0b, 0x00);   /* 12-hour BCD */
	hr = cmos_read(0x04);
	report(hr == 0x81, "RTC 12-hour mode: 13h reads 0x81 (PM | 1) (0x%x)", hr);
	cmos_write(0x0b, 0x06);   /* 24-hour binary */
	hr = cmos_read(0x04);
	yr = cmos_read(0x09);
	mn = cmos_read(0x02);
	report(hr == 13 && mn == 30 && yr == 26, "RTC binary mode: %u:%u, year %u", hr, mn, yr);
	cmos_write(0x0b, 0x02);

	/* RAM. */
	cmos_write(0x40, 0x5a);
	cmos_write(0x7f, 0xa5);
	report(cmos_read(0x40) == 0x5a && cmos_read(0x7f) == 0xa5, "CMOS RAM 0x40, 0x7f keep what is written");
	if (cmdline_get("mem")) {
		u64 mem = cmdline_get_u64("mem", 0) << 20;
		unsigned ext = cmos_read(0x30) | cmos_read(0x31) << 8;
		unsigned hi = cmos_read(0x34) | cmos_read(0x35) << 8;
		unsigned exp_ext = (unsigned)(((mem - (1 << 20)) >> 10) > 0xffff ? 0xffff : (mem - (1 << 20)) >> 10);
		unsigned exp_hi = (unsigned)((mem - (16 << 20)) >> 16);
		report(ext == exp_ext && hi == exp_hi, "CMOS 0x30/0x31 = %u KiB (%u), 0x34/0x35 = %u x 64 KiB (%u)", ext,
		       exp_ext, hi, exp_hi);
	}
	unsigned cpus = cmos_read(0x5f) + 1u;
	report(cpus == cmdline_get_u64("vcpus", 1), "CMOS 0x5f: %u CPUs", cpus);
}

int main(void)
{
	printf("platform2: cmdline: %s\n", cmdline());
	check_port92();
	check_fwcfg();
	check_rtc();
	int status = report_summary();
	if (cmdline_has("reset")) {
		serial_flush();
		outb(0x01, 0x92);
		printf("platform2: FAIL: the reset request through port 0x92 returned\n");
		return 3;
	}
	return status;
}
