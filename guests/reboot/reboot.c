/* SPDX-License-Identifier: MIT */
/*
 * reboot: a guest that resets its machine and checks that it came back (the VM key
 * reboot=restart, hv/vm/restart.c). HC_INFO_RESTARTS says which start this is.
 *
 * First start (0 restarts): start the APs (smp_init, when the VM has more than one
 * vCPU), move the APIC to x2APIC mode when offered, change a variable in .data, then
 * request a reset through the path the command line names; if the reset request
 * returns and nothing happens within a second, FAIL.
 * Later starts: check the restart count, that .data holds the loader's value again
 * (memory was reloaded), that the APIC is back at its power-up state (xAPIC, enabled,
 * BSP, base 0xFEE00000), that the APs can be started again (with more than one vCPU),
 * then exit 0, or reset again with `loop` (a reset loop: reboot_limit stops the VM,
 * status 10).
 *
 * Command line:
 *   how=cf9|kbc|port92  the reset path: the Reset Control Register (0xCF9 written 0x02,
 *                       then 0x06), the keyboard controller (command 0xFE to 0x64),
 *                       System Control Port A bit 0 (0x92); default cf9
 *   loop                reset at every start
 *   nohv                skip everything (bare QEMU: no restart count to read)
 */
#include "lib.h"
#include "apic.h"
#include "smp.h"

#define MSR_APIC_BASE 0x1b
#define DATA_INITIAL 0x5eed1234u

static volatile u32 data_word = DATA_INITIAL;

static void request_reset(void)
{
	const char *how = cmdline_get("how");
	if (!how || !*how || !strcmp(how, "cf9")) {
		printf("reboot: reset through 0xCF9\n");
		outb(0x02, 0xcf9);
		outb(0x06, 0xcf9);
	} else if (!strcmp(how, "kbc")) {
		printf("reboot: reset through the keyboard controller\n");
		outb(0xfe, 0x64);
	} else if (!strcmp(how, "port92")) {
		printf("reboot: reset through port 0x92\n");
		outb(inb(0x92) | 1, 0x92);
	} else {
		report(false, "how=%s: not cf9, kbc or port92", how);
		exit(report_summary());
	}
	/* The reset takes effect at once (the vCPU does not run on): coming back here
	 * means it was ignored. */
	u64 end = rdtsc() + tsc_hz();
	while (rdtsc() < end)
		pause();
	report(false, "the reset request returned and the machine ran on for a second");
	exit(report_summary());
}

int main(void)
{
	if (cmdline_has("nohv")) {
		report_skip("restarts (nohv: no hypervisor to count them)");
		return report_summary();
	}
	u64 base = rdmsr(MSR_APIC_BASE);   /* as this start found it, before apic_setup */
	long restarts = hc_get_info(HC_INFO_RESTARTS);
	long nr = hc_get_info(HC_INFO_NR_VCPUS);
	printf("reboot: start after %ld restart(s), %ld vCPU(s)\n", restarts, nr);
	if (restarts < 0) {
		report(false, "HC_GET_INFO(RESTARTS) known (got %ld)", restarts);
		return report_summary();
	}
	report(apic_setup(APIC_MODE_XAPIC) == 0, "APIC set up in xAPIC mode");
	if (nr > 1) {
		unsigned n = smp_init();
		report(n == (unsigned)nr, "%u of %ld CPUs online after start %ld", n, nr, restarts + 1);
	}
	if (restarts == 0) {
		report(data_word == DATA_INITIAL, ".data word at its initial value 0x%x (got 0x%x)", DATA_INITIAL,
		       data_word);
		data_word = 0xdead0000u;
		if (x2apic_supported())
			report(apic_set_mode(APIC_MODE_X2APIC) == 0, "APIC moved to x2APIC mode before the reset");
		request_reset();
	}
	report(data_word == DATA_INITIAL, "memory reloaded: .data word 0x%x again (got 0x%x)", DATA_INITIAL,
	       data_word);
	report((base & (APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP | 0xfffff000ull)) ==
		       (0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP),
	       "APIC at its power-up state after the restart: IA32_APIC_BASE 0x%llx", (unsigned long long)base);
	if (cmdline_has("loop"))
		request_reset();
	return report_summary();
}
