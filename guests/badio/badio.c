/* SPDX-License-Identifier: MIT */
/*
 * badio: port I/O and MSR accesses the hypervisor does not back with a device.
 *
 * - reads of unassigned ports return all ones, as on an ISA bus with nothing on it;
 * - "Shutdown" written to port 0x8900 (Bochs's shutdown port) must not reach the
 *   emulator: the guest keeps running;
 * - string I/O: rep insb/insw from an unassigned port fills with ones, rep outsb to
 *   COM1 prints;
 * - unknown MSRs raise #GP on rdmsr and wrmsr; IA32_EFER and IA32_PAT read fine.
 *
 * Command line: nohv skips what differs on plain QEMU TCG, so that the test passes
 * there too: the ports that may be devices on QEMU (0x520 next to fw_cfg's, PCI
 * configuration data at 0xcfc) and the unknown MSRs (TCG reads them as 0 without #GP).
 */
#include "lib.h"

#define BOCHS_SHUTDOWN_PORT 0x8900
#define COM1_SCR (COM1_BASE + 7)  /* 16550 Scratch Register */
#define COM2_BASE 0x2f8           /* no COM2 in the VM */
#define PORT_POST 0x80            /* POST diagnostic port */
#define PORT_NEAR_FW_CFG 0x520    /* past fw_cfg (0x510-0x511, hv/dev/fwcfg.c): nothing in the VM */
#define PORT_PCI_DATA 0xcfc       /* PCI CONFIG_DATA, no config address enabled */

#define MSR_IA32_PAT 0x277
#define MSR_IA32_EFER 0xC0000080
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

struct port_read {
	u16 port;
	u8 width;          /* bytes */
	bool qemu_device;  /* a real device on QEMU: skipped with nohv */
};

static const struct port_read port_reads[] = {
	{ PORT_POST, 1, false },
	{ COM2_BASE + 0, 1, false },
	{ COM2_BASE + 5, 1, false },   /* COM2 LSR */
	{ COM2_BASE + 0, 2, false },
	{ COM2_BASE + 4, 4, false },
	{ PORT_NEAR_FW_CFG, 1, true },
	{ PORT_NEAR_FW_CFG, 2, true },
	{ PORT_NEAR_FW_CFG, 4, true },
	{ PORT_PCI_DATA, 4, true },
};

static void check_port_reads(bool nohv)
{
	for (unsigned i = 0; i < ARRAY_SIZE(port_reads); i++) {
		const struct port_read *r = &port_reads[i];
		u32 ones = r->width == 4 ? 0xffffffffu : (1u << (8 * r->width)) - 1;
		const char *insn = r->width == 1 ? "inb" : r->width == 2 ? "inw" : "inl";
		u32 v;

		if (nohv && r->qemu_device) {
			report_skip("%s 0x%x (a device on QEMU)", insn, r->port);
			continue;
		}
		v = r->width == 1 ? inb(r->port) : r->width == 2 ? inw(r->port) : inl(r->port);
		report(v == ones, "%s from unassigned port 0x%x returns 0x%x (got 0x%x)", insn,
		       r->port, ones, v);
	}
}

static void check_shutdown_port(void)
{
	static const char cmd[] = "Shutdown";

	printf("badio: writing \"%s\" to port 0x%x\n", cmd, BOCHS_SHUTDOWN_PORT);
	serial_flush();
	for (const char *p = cmd; *p; p++)
		outb((u8)*p, BOCHS_SHUTDOWN_PORT);
	report(true, "still running after \"%s\" to port 0x%x", cmd, BOCHS_SHUTDOWN_PORT);
}

static void check_string_io(void)
{
	static const char text[] = "badio: rep outsb to COM1 prints this line\n";
	u8 buf[64];
	u8 *dst = buf;
	const char *src = text;
	unsigned long count = 32;
	bool ones = true;

	memset(buf, 0, sizeof(buf));
	asm volatile("cld\n\trep insb"
		     : "+D"(dst), "+c"(count) : "d"((u16)(COM2_BASE + 3)) : "memory");
	for (unsigned i = 0; i < 32; i++)
		ones &= buf[i] == 0xff;
	report(ones && count == 0 && dst == buf + 32 && buf[32] == 0,
	       "rep insb x32 from unassigned port 0x%x gives 0xff bytes (rcx=%lu)",
	       COM2_BASE + 3, count);

	memset(buf, 0, sizeof(buf));
	dst = buf;
	count = 8;
	asm volatile("cld\n\trep insw"
		     : "+D"(dst), "+c"(count) : "d"((u16)COM2_BASE) : "memory");
	ones = true;
	for (unsigned i = 0; i < 16; i++)
		ones &= buf[i] == 0xff;
	report(ones && count == 0 && dst == buf + 16 && buf[16] == 0,
	       "rep insw x8 from unassigned port 0x%x gives 0xffff words (rcx=%lu)",
	       COM2_BASE, count);

	serial_flush();
	count = sizeof(text) - 1;
	asm volatile("cld\n\trep outsb"
		     : "+S"(src), "+c"(count) : "d"((u16)COM1_BASE) : "memory");
	serial_flush();
	report(count == 0 && src == text + sizeof(text) - 1,
	       "rep outsb of %zu bytes to COM1 completes (rcx=%lu)", sizeof(text) - 1, count);

	outb(0xa5, COM1_SCR);
	u8 a = inb(COM1_SCR);
	outb(0x5a, COM1_SCR);
	u8 b = inb(COM1_SCR);
	report(a == 0xa5 && b == 0x5a, "COM1 scratch register 0x%x keeps a byte (0x%x 0x%x)",
	       COM1_SCR, a, b);
}

static void check_msrs(bool nohv)
{
	static const u32 unknown[] = { 0x12345678, 0x1a2, 0xc0011000 };
	u64 v;
	int vec;

	for (unsigned i = 0; i < ARRAY_SIZE(unknown); i++) {
		if (nohv) {
			/* QEMU TCG reads unknown MSRs as 0 and ignores writes. */
			report_skip("rdmsr/wrmsr 0x%x (no #GP on QEMU TCG)", unknown[i]);
			continue;
		}
		vec = rdmsr_safe(unknown[i], &v);
		report(vec == GP_VECTOR, "rdmsr 0x%x raises #GP (vector %d)", unknown[i], vec);
		vec = wrmsr_safe(unknown[i], 0);
		report(vec == GP_VECTOR, "wrmsr 0x%x raises #GP (vector %d)", unknown[i], vec);
	}

	vec = rdmsr_safe(MSR_IA32_EFER, &v);
	report(vec == 0, "rdmsr IA32_EFER does not fault (vector %d)", vec);
	report(vec == 0 && (v & EFER_LMA) && (v & EFER_LME),
	       "IA32_EFER.LME and LMA set in long mode (0x%llx)", (unsigned long long)v);

	vec = rdmsr_safe(MSR_IA32_PAT, &v);
	report(vec == 0, "rdmsr IA32_PAT does not fault (vector %d, 0x%016llx)", vec,
	       (unsigned long long)v);
	/* Valid PAT memory types: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC- (SDM Vol. 3A,
	 * 13.12.2 "IA32_PAT MSR"). */
	bool valid = vec == 0;
	for (int i = 0; i < 8; i++) {
		u8 t = (u8)(v >> (8 * i));
		valid &= t <= 7 && t != 2 && t != 3;
	}
	report(valid, "IA32_PAT holds valid memory types");
}

int main(void)
{
	bool nohv = cmdline_has("nohv");

	printf("badio: start\n");
	check_port_reads(nohv);
	check_shutdown_port();
	check_string_io();
	check_msrs(nohv);
	return report_summary();
}
