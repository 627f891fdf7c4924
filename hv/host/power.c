/* SPDX-License-Identifier: MIT */
/*
 * Power-off methods. ACPI: write SLP_TYP (from \_S5) and SLP_EN to PM1a/PM1b_CNT
 * (ACPI Specification, "Sleeping/Wake Control": SLP_TYP bits 12:10, SLP_EN bit 13).
 * Bochs: the string "Shutdown" to port 0x8900. QEMU: isa-debug-exit at 0xf4 (exit
 * status (V << 1) | 1). Reset: the PCI reset control register 0xcf9, then the 8042.
 */
#include "hv/host/power.h"
#include "hv/host/acpi.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "arch/x86/x86.h"

static enum poweroff_method method = POWEROFF_ACPI;
static const struct acpi_info *acpi;

void power_init(enum poweroff_method m, const struct acpi_info *ai)
{
	method = m;
	acpi = ai;
}

void hv_power_off(int status)
{
	irq_disable();
	char marker[40];
	int n = hv_snprintf(marker, sizeof(marker), "=== HV END status=%d ===", status);
	console_line(NULL, marker, (size_t)n);   /* alone on its line: tools/hvrun looks for it */
	console_flush();
	switch (method) {
	case POWEROFF_BOCHS:
		for (const char *s = "Shutdown"; *s; s++)
			outb(0x8900, (u8)*s);
		break;
	case POWEROFF_QEMU:
		outl(0xf4, (u32)status >> 1);
		break;
	case POWEROFF_ACPI:
		if (acpi && acpi->has_s5 && acpi->pm1a_cnt) {
			outw((u16)acpi->pm1a_cnt, (u16)((acpi->s5_typa & 7) << 10 | BIT(13)));
			if (acpi->pm1b_cnt)
				outw((u16)acpi->pm1b_cnt, (u16)((acpi->s5_typb & 7) << 10 | BIT(13)));
		}
		break;
	case POWEROFF_RESET:
		outb(0xcf9, 0x02);
		outb(0xcf9, 0x06);
		for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
			cpu_relax();
		outb(0x64, 0xfe);
		break;
	case POWEROFF_HALT:
		break;
	}
	for (;;)
		halt();
}
