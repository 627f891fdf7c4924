/* SPDX-License-Identifier: MIT */
/*
 * The host local APIC's mode decision (hv/host/lapic.h): pure, unit-tested on the host.
 */
#include "hv/host/lapic.h"
#include "hv/init/config.h"
#include "hv/lib/lib.h"

bool lapic_choose_mode(u8 option, bool fw_x2apic, bool has_x2apic, struct lapic_mode *m, char *err,
		       size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->source = "firmware";
	if (fw_x2apic) {
		if (option == X2APIC_OFF) {
			hv_snprintf(err, errlen,
				    "x2apic=off: the firmware left the local APIC in x2APIC mode, which the hypervisor "
				    "does not leave (the way out disables the APIC, and the firmware may rely on x2APIC "
				    "for APIC IDs above 254); remove x2apic=off");
			return false;
		}
		m->x2apic = true;
		return true;
	}
	if (option == X2APIC_ON) {
		if (!has_x2apic) {
			hv_snprintf(err, errlen, "x2apic=on: this CPU has no x2APIC (CPUID.01H:ECX.x2APIC[bit 21] is 0)");
			return false;
		}
		m->x2apic = true;
		m->enable_x2apic = true;
		m->source = "x2apic=on";
		return true;
	}
	if (option == X2APIC_OFF)
		m->source = "x2apic=off";
	return true;
}

bool lapic_ap_mode(bool bsp_x2apic, bool fw_x2apic, bool has_x2apic, bool *enable, char *err, size_t errlen)
{
	*enable = false;
	if (bsp_x2apic == fw_x2apic)
		return true;
	if (fw_x2apic) {
		hv_snprintf(err, errlen, "its local APIC is in x2APIC mode but the boot CPU's is in xAPIC mode");
		return false;
	}
	if (!has_x2apic) {
		hv_snprintf(err, errlen, "the boot CPU runs its local APIC in x2APIC mode but this CPU has no x2APIC "
					 "(CPUID.01H:ECX.x2APIC[bit 21] is 0)");
		return false;
	}
	*enable = true;
	return true;
}

const char *lapic_mode_text(const struct lapic_mode *m, char *buf, size_t len)
{
	hv_snprintf(buf, len, "%s mode (%s)", m->x2apic ? "x2APIC" : "xAPIC", m->source);
	return buf;
}
