/* SPDX-License-Identifier: MIT */
/*
 * Guest ACPI tables (hv/vm/guest_acpi.h), laid out per the ACPI Specification 6.5:
 * "Root System Description Pointer (RSDP) Structure", "System Description Table
 * Header", "Root System Description Table (RSDT)", "Extended System Description Table
 * (XSDT)", "Fixed ACPI Description Table (FADT)" (revision 6), "Firmware ACPI Control
 * Structure (FACS)", "Multiple APIC Description Table (MADT)" with its "Processor Local
 * APIC Structure", "I/O APIC Structure", "Interrupt Source Override Structure" and
 * "Local APIC NMI Structure", "Generic Address Structure (GAS)"; the MCFG of the PCI
 * Firmware Specification ("MCFG Table Description": one "Memory Mapped Enhanced
 * Configuration Space Base Address Allocation Structure" for segment 0, bus 0); and
 * the DSDT that iasl compiles from hv/vm/dsdt.asl at build time (\_S5 and the PCI
 * host bridge), copied here with its named integers PW3B/PW3E (the 32-bit BAR window)
 * patched: in AML a Name of a DWORD integer is NameOp (08h), the 4-character name,
 * DWordPrefix (0Ch) and the 4 value bytes ("Data Objects Encoding").
 *
 * Pure: it writes into the RAM buffer it is given. All tables sit in the BIOS area,
 * 16-byte aligned (the FACS 64-byte aligned, as required), below 4 GiB, so the RSDT
 * and the 32-bit FADT pointers can name them as well as the XSDT and the X_ fields.
 */
#include "hv/vm/guest_acpi.h"
#include "hv/irq/vioapic.h"
#include "hv/lib/lib.h"
#include "hv/mm/guest_layout.h"
#include "hv/vm/dsdt.hex"   /* build/: unsigned char dsdt_aml_code[], from iasl -tc */

#define OEM_ID "MICRHV"          /* 6 bytes */
#define OEM_TABLE_ID "MICROHV "  /* 8 bytes */
#define CREATOR_ID "MHV "        /* 4 bytes */

#define SDT_HEADER 36
#define FADT_LEN 276             /* revision 6 (ACPI 6.0 and later) */
#define FADT_REVISION 6
#define FADT_MINOR 5
#define MADT_REVISION 5
#define FACS_LEN 64
#define MCFG_LEN (SDT_HEADER + 8 + 16)   /* header, reserved, one allocation */
#define NR_SDT 3                          /* FADT, MADT, MCFG in the RSDT/XSDT */

/* FADT field offsets ("FADT Format"). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_PREFERRED_PM_PROFILE 45
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208
#define FADT_HYPERVISOR_VENDOR 268

/* FADT Flags ("Fixed ACPI Description Table Fixed Feature Flags"). */
#define FADT_F_WBINVD BIT(0)
#define FADT_F_PROC_C1 BIT(2)
#define FADT_F_PWR_BUTTON BIT(4)   /* 1: no fixed-feature power button */
#define FADT_F_SLP_BUTTON BIT(5)   /* 1: no fixed-feature sleep button */
#define FADT_F_FIX_RTC BIT(6)      /* 1: RTC wake status not in the fixed registers */
#define FADT_F_TMR_VAL_EXT BIT(8)  /* the PM timer is 32 bits */
#define FADT_F_RESET_REG_SUP BIT(10) /* RESET_REG resets the system */

/* IA-PC boot architecture flags ("IA-PC Boot Architecture Flags"). "8042" (bit 1) is
 * left clear: the keyboard controller at 0x60/0x64 is there for its reset line only
 * (hv/dev/i8042.c), and the OS is told not to drive it. "CMOS RTC Not Present" (bit
 * 5) is clear: the MC146818 at 0x70/0x71 with IRQ 8 is there (hv/dev/rtc.c). */
#define IAPC_LEGACY_DEVICES BIT(0)     /* COM1 is an ISA-style device */
#define IAPC_VGA_NOT_PRESENT BIT(2)

/* MADT ("Interrupt Controller Structure Types"). */
#define MADT_PCAT_COMPAT BIT(0)
#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_ENABLED BIT(0)

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

void guest_acpi_default(struct guest_acpi_config *c, u32 vcpus, u8 ioapic_id)
{
	memset(c, 0, sizeof(*c));
	c->nr_cpus = vcpus;
	c->ioapic_addr = (u32)VIOAPIC_BASE;
	c->ioapic_id = ioapic_id;
	c->ioapic_gsi_base = 0;
	c->pm1a_evt = GUEST_PM1A_EVT;
	c->pm1a_cnt = GUEST_PM1A_CNT;
	c->pm_tmr = GUEST_PM_TMR;
	c->sci_irq = GUEST_SCI_IRQ;
	c->s5_slp_typ = GUEST_S5_SLP_TYP;
	c->ecam_base = GUEST_ECAM_BASE;
	c->pci_win32_base = (u32)GUEST_HOLE_DEFAULT;
	c->pci_win32_end = (u32)(GUEST_ECAM_BASE - 1);
}

/* Set the DWORD integer Name (name, value) of the AML in t[0..len): false when the
 * name is not there exactly once as a DWORD Name. */
static bool aml_set_name_dword(u8 *t, u32 len, const char *name, u32 value)
{
	u32 at = 0, found = 0;
	for (u32 i = SDT_HEADER; i + 10 <= len; i++) {
		if (t[i] == 0x08 && !memcmp(t + i + 1, name, 4) && t[i + 5] == 0x0c) {
			at = i + 6;
			found++;
		}
	}
	if (found != 1)
		return false;
	memcpy(t + at, &value, 4);
	return true;
}

static void put16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static u8 sum(const u8 *p, size_t n)
{
	u8 s = 0;
	while (n--)
		s = (u8)(s + *p++);
	return s;
}

struct area {
	u8 *ram;
	u32 next;   /* guest-physical */
};

static u32 area_alloc(struct area *a, u32 len, u32 align)
{
	u32 at = ALIGN_UP(a->next, align);
	a->next = at + len;
	return at;   /* the caller checked the total against GUEST_ACPI_END */
}

static void header(u8 *t, const char *sig, u32 len, u8 rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t + 24, 1);                    /* OEM revision */
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t + 32, 1);                    /* creator revision */
}

static void checksum(u8 *t, u32 len, u32 at)
{
	t[at] = 0;
	t[at] = (u8)-sum(t, len);
}

/* Generic Address Structure for an I/O port block. */
static void gas_io(u8 *p, u16 port, u8 bits, u8 access)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = bits;
	p[2] = 0;        /* bit offset */
	p[3] = access;
	put64(p + 4, port);
}

static u32 madt_len(u32 vcpus)
{
	return SDT_HEADER + 8 + vcpus * 8 + 12 + 10 + 6;
}

bool guest_acpi_build(u8 *ram, u64 ram_size, const struct guest_acpi_config *c, char *err, size_t errlen)
{
	if (ram_size < GUEST_ACPI_END) {
		hv_snprintf(err, errlen, "guest RAM (%llu KiB) does not reach the BIOS area for the ACPI tables",
			    (unsigned long long)(ram_size >> 10));
		return false;
	}
	if (c->s5_slp_typ != GUEST_S5_SLP_TYP) {
		hv_snprintf(err, errlen, "ACPI DSDT: \\_S5 is compiled with SLP_TYP %u, not %u", GUEST_S5_SLP_TYP,
			    c->s5_slp_typ);
		return false;
	}
	if (c->pci_win32_base > c->pci_win32_end) {
		hv_snprintf(err, errlen, "ACPI DSDT: empty PCI window 0x%x-0x%x", c->pci_win32_base, c->pci_win32_end);
		return false;
	}
	if (c->nr_cpus == 0 || c->nr_cpus > 255) {
		hv_snprintf(err, errlen, "ACPI MADT: %u vCPUs (1-255 with 8-bit APIC IDs)", c->nr_cpus);
		return false;
	}
	/* Everything together is a few KiB: far below the 128 KiB of the area. */
	_Static_assert(36 + 64 + 48 + 60 + FADT_LEN + 36 + 8 + 255 * 8 + 28 + 64 + 16 * 8 + MCFG_LEN +
			       sizeof(dsdt_aml_code) <
			       GUEST_ACPI_END - GUEST_ACPI_BASE,
		       "the ACPI tables fit in the BIOS area");

	memset(ram + GUEST_ACPI_BASE, 0, GUEST_ACPI_END - GUEST_ACPI_BASE);
	struct area a = { ram, GUEST_ACPI_BASE };
	const u32 rsdp = area_alloc(&a, 36, 16);
	const u32 facs = area_alloc(&a, FACS_LEN, 64);
	const u32 rsdt = area_alloc(&a, SDT_HEADER + NR_SDT * 4, 16);
	const u32 xsdt = area_alloc(&a, SDT_HEADER + NR_SDT * 8, 16);
	const u32 fadt = area_alloc(&a, FADT_LEN, 16);
	const u32 madt = area_alloc(&a, madt_len(c->nr_cpus), 16);
	const u32 mcfg = area_alloc(&a, MCFG_LEN, 16);
	const u32 dsdt_len = (u32)sizeof(dsdt_aml_code);
	const u32 dsdt = area_alloc(&a, dsdt_len, 16);

	/* DSDT: the compiled AML, the VM's PCI window patched in, checksum redone. */
	u8 *t = ram + dsdt;
	memcpy(t, dsdt_aml_code, dsdt_len);
	if (!aml_set_name_dword(t, dsdt_len, "PW3B", c->pci_win32_base) ||
	    !aml_set_name_dword(t, dsdt_len, "PW3E", c->pci_win32_end)) {
		hv_snprintf(err, errlen, "ACPI DSDT: PW3B/PW3E not found in the compiled AML");
		return false;
	}
	checksum(t, dsdt_len, 9);

	/* MCFG: 8 reserved bytes, then base address, segment 0, buses 0-0. */
	t = ram + mcfg;
	header(t, "MCFG", MCFG_LEN, 1);
	put64(t + SDT_HEADER + 8, c->ecam_base);
	put16(t + SDT_HEADER + 16, 0);          /* PCI Segment Group Number */
	t[SDT_HEADER + 18] = 0;                  /* Start Bus Number */
	t[SDT_HEADER + 19] = 0;                  /* End Bus Number */
	checksum(t, MCFG_LEN, 9);

	/* FACS: no checksum; version 2; no global lock owner, no waking vector. */
	t = ram + facs;
	memcpy(t, "FACS", 4);
	put32(t + 4, FACS_LEN);
	t[32] = 2;

	/* FADT. SMI_CMD = 0: the platform is always in ACPI mode (SCI_EN reads 1). */
	t = ram + fadt;
	header(t, "FACP", FADT_LEN, FADT_REVISION);
	put32(t + FADT_FIRMWARE_CTRL, facs);     /* then X_FIRMWARE_CTRL must be 0 */
	put32(t + FADT_DSDT, dsdt);
	t[FADT_PREFERRED_PM_PROFILE] = 0;        /* unspecified */
	put16(t + FADT_SCI_INT, c->sci_irq);
	put32(t + FADT_SMI_CMD, 0);
	put32(t + FADT_PM1A_EVT_BLK, c->pm1a_evt);
	put32(t + FADT_PM1A_CNT_BLK, c->pm1a_cnt);
	put32(t + FADT_PM_TMR_BLK, c->pm_tmr);
	t[FADT_PM1_EVT_LEN] = GUEST_PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = GUEST_PM1_CNT_LEN;
	t[FADT_PM_TMR_LEN] = GUEST_PM_TMR_LEN;
	put16(t + FADT_P_LVL2_LAT, 101);         /* > 100: no C2 */
	put16(t + FADT_P_LVL3_LAT, 1001);        /* > 1000: no C3 */
	put16(t + FADT_IAPC_BOOT_ARCH, IAPC_LEGACY_DEVICES | IAPC_VGA_NOT_PRESENT);
	put32(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
				      FADT_F_FIX_RTC | FADT_F_TMR_VAL_EXT | FADT_F_RESET_REG_SUP);
	/* The reset register: the Reset Control Register at I/O 0xCF9 (hv/dev/reset.c),
	 * one byte, written with RST_CPU | SYS_RST. */
	gas_io(t + FADT_RESET_REG, GUEST_RESET_REG, 8, GAS_ACCESS_BYTE);
	t[FADT_RESET_VALUE] = GUEST_RESET_VALUE;
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	put64(t + FADT_X_DSDT, dsdt);
	gas_io(t + FADT_X_PM1A_EVT_BLK, c->pm1a_evt, GUEST_PM1_EVT_LEN * 8, GAS_ACCESS_WORD);
	gas_io(t + FADT_X_PM1A_CNT_BLK, c->pm1a_cnt, GUEST_PM1_CNT_LEN * 8, GAS_ACCESS_WORD);
	gas_io(t + FADT_X_PM_TMR_BLK, c->pm_tmr, GUEST_PM_TMR_LEN * 8, GAS_ACCESS_DWORD);
	memcpy(t + FADT_HYPERVISOR_VENDOR, "MicroHV\0", 8);
	checksum(t, FADT_LEN, 9);

	/* MADT: the local APIC address, PCAT_COMPAT (there are 8259s, masked), then the
	 * interrupt controller structures. */
	u32 len = madt_len(c->nr_cpus);
	t = ram + madt;
	header(t, "APIC", len, MADT_REVISION);
	put32(t + 36, 0xfee00000u);
	put32(t + 40, MADT_PCAT_COMPAT);
	u8 *e = t + 44;
	for (u32 i = 0; i < c->nr_cpus; i++, e += 8) {
		e[0] = MADT_LOCAL_APIC;
		e[1] = 8;
		e[2] = (u8)i;                    /* ACPI Processor UID */
		e[3] = (u8)i;                    /* APIC ID = vCPU index */
		put32(e + 4, MADT_ENABLED);
	}
	e[0] = MADT_IO_APIC;
	e[1] = 12;
	e[2] = c->ioapic_id;
	e[3] = 0;
	put32(e + 4, c->ioapic_addr);
	put32(e + 8, c->ioapic_gsi_base);
	e += 12;
	/* ISA IRQ 0 (the PIT) arrives on GSI 2, as on PC chipsets; flags 0: conforms to
	 * the bus (ISA: edge, active high). */
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = 0;                                /* bus: ISA */
	e[3] = 0;                                /* source IRQ */
	put32(e + 4, 2);                         /* GSI */
	put16(e + 8, 0);
	e += 10;
	/* NMI on LINT1 of every processor (UID 0xFF = all). */
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = 0xff;
	put16(e + 3, 0);
	e[5] = 1;                                /* LINT1 */
	checksum(t, len, 9);

	/* RSDT and XSDT: FADT, MADT, MCFG. */
	const u32 sdts[NR_SDT] = { fadt, madt, mcfg };
	t = ram + rsdt;
	header(t, "RSDT", SDT_HEADER + NR_SDT * 4, 1);
	for (u32 i = 0; i < NR_SDT; i++)
		put32(t + SDT_HEADER + 4 * i, sdts[i]);
	checksum(t, SDT_HEADER + NR_SDT * 4, 9);
	t = ram + xsdt;
	header(t, "XSDT", SDT_HEADER + NR_SDT * 8, 1);
	for (u32 i = 0; i < NR_SDT; i++)
		put64(t + SDT_HEADER + 8 * i, sdts[i]);
	checksum(t, SDT_HEADER + NR_SDT * 8, 9);

	/* RSDP, revision 2: the checksum covers the first 20 bytes (the ACPI 1.0 part),
	 * the extended checksum all 36. */
	t = ram + rsdp;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = 2;
	put32(t + 16, rsdt);
	put32(t + 20, 36);
	put64(t + 24, xsdt);
	checksum(t, 20, 8);
	checksum(t, 36, 32);
	return true;
}
