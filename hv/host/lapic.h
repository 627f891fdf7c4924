/* SPDX-License-Identifier: MIT */
/*
 * The host local APIC's operating mode and its encodings: pure, unit-tested on the
 * host (tests/unit/test_lapic.c); hv/host/smp.c drives the hardware with them.
 *
 * Intel SDM Vol. 3A, "x2APIC State Transitions": RESET leaves the APIC in xAPIC mode
 * (IA32_APIC_BASE EN=1, EXTD=0). From xAPIC mode, setting EXTD enters x2APIC mode
 * ("The physical x2APIC ID ... is preserved across this transition"); from the
 * disabled state (EN=0) the only way is to xAPIC mode; from x2APIC mode the only way
 * is to the disabled state, and "all the APIC register states in the x2APIC, except
 * for the x2APIC ID (32 bits), are not preserved across mode transitions". INIT keeps
 * the mode: "An INIT in this state keeps the x2APIC in the x2APIC mode", and an INIT in
 * xAPIC mode leaves xAPIC mode. So an AP that the firmware never switched arrives from
 * INIT-SIPI-SIPI in xAPIC mode, and every CPU switches itself to the boot CPU's mode.
 *
 * The hypervisor does not leave an x2APIC mode the firmware chose: the firmware does so
 * for reasons it cannot check (APIC IDs above 254, interrupt remapping set up for
 * x2APIC), and the way back goes through a disabled APIC.
 */
#ifndef HV_HOST_LAPIC_H
#define HV_HOST_LAPIC_H

#include "hv/lib/types.h"

/* The boot CPU's decision (lapic_choose_mode). */
struct lapic_mode {
	bool x2apic;           /* run in x2APIC mode */
	bool enable_x2apic;    /* the boot CPU has to switch to it (set EXTD) */
	const char *source;    /* why: "firmware", "x2apic=on" or "x2apic=off" */
};

/*
 * The boot CPU's mode from x2apic= (enum x2apic_option, hv/init/config.h), the
 * firmware's (IA32_APIC_BASE EN and EXTD set at entry) and whether the CPU has an
 * x2APIC (CPUID.01H:ECX.x2APIC[bit 21]). False, with a message naming x2apic=, when
 * the option cannot be honoured.
 */
bool lapic_choose_mode(u8 option, bool fw_x2apic, bool has_x2apic, struct lapic_mode *m, char *err,
		       size_t errlen);

/*
 * An AP's part: it runs in the boot CPU's mode (bsp_x2apic). *enable: it has to set
 * EXTD itself. False with a reason when it cannot: it has no x2APIC, or the firmware
 * left it in x2APIC mode while the boot CPU runs in xAPIC mode.
 */
bool lapic_ap_mode(bool bsp_x2apic, bool fw_x2apic, bool has_x2apic, bool *enable, char *err, size_t errlen);

/* The "lapic:" boot-log line's mode text, e.g. "x2APIC mode (x2apic=on)". */
const char *lapic_mode_text(const struct lapic_mode *m, char *buf, size_t len);

/*
 * Interrupt Command Register (SDM Vol. 3A, "Interrupt Command Register (ICR)"). xAPIC
 * mode: two 32-bit registers, the destination in ICR bits 63:56, i.e. bits 31:24 of
 * the high half at offset 0x310, written first because the write of the low half
 * sends. x2APIC mode ("x2APIC Register Address Space", "Interrupt Command Register
 * (ICR)" in x2APIC mode): one 64-bit register, MSR 0x830, written at once, the 32-bit
 * destination in bits 63:32.
 */
static inline u32 lapic_icr2_xapic(u32 dest)
{
	return (dest & 0xff) << 24;
}

static inline u64 lapic_icr_x2apic(u32 dest, u32 lo)
{
	return ((u64)dest << 32) | lo;
}

/* The APIC ID in a Local APIC ID Register value ("Local APIC ID"): bits 31:24 in xAPIC
 * mode, all 32 bits in x2APIC mode. */
static inline u32 lapic_id_of(u32 id_reg, bool x2apic)
{
	return x2apic ? id_reg : id_reg >> 24;
}

/* Whether a CPU with this APIC ID can be named alone as a physical destination: an
 * all-ones destination is a broadcast ("Determining IPI Destination": 0xFF in xAPIC
 * mode, 0xFFFFFFFF in x2APIC mode), and xAPIC destinations have 8 bits. */
static inline bool lapic_dest_ok(u32 apic_id, bool x2apic)
{
	return x2apic ? apic_id != 0xffffffffu : apic_id < 0xff;
}

#endif
