/* SPDX-License-Identifier: MIT */
/* The pure rules of device assignment (hv/pci/passthru.h). */
#include "hv/pci/passthru.h"
#include "hv/pci/pci.h"
#include "hv/irq/msi.h"

/* Delivery modes ("Message Data Register Format"). */
#define PT_DM_FIXED 0
#define PT_DM_LOWEST 1

void pt_irq_choose(u64 addr, u32 data, u32 nr_vcpus, bool posted_ok, struct pt_irq_choice *c)
{
	struct msi_msg m;
	*c = (struct pt_irq_choice){ .kind = PT_IRQ_NONE, .why = "dropped" };
	if (msi_decode(addr, data, &m) != MSI_OK)
		return;
	c->vector = m.vector;
	c->kind = PT_IRQ_REMAPPED;
	if (!posted_ok)
		c->why = "posting off";
	else if (m.dm != PT_DM_FIXED && m.dm != PT_DM_LOWEST)
		c->why = "not fixed or lowest-priority delivery";
	else if (m.level)
		c->why = "level-triggered";
	else if (m.logical)
		c->why = "logical destination";
	else if (m.dest >= nr_vcpus)
		c->why = "destination names no single vCPU";
	else {
		c->kind = PT_IRQ_POSTED;
		c->vcpu = m.dest;
		c->why = NULL;
	}
}

struct vtd_irte pt_irte_build(const struct pt_irq_choice *c, u64 pd_pa, bool urgent, u8 host_vector,
			      u32 host_apic, bool x2apic, u16 sid)
{
	switch (c->kind) {
	case PT_IRQ_POSTED:
		return vtd_irte_posted(c->vector, pd_pa, urgent, VTD_SVT_SID, 0, sid);
	case PT_IRQ_REMAPPED:
		return vtd_irte_remapped(host_vector, host_apic, x2apic, VTD_SVT_SID, 0, sid);
	default:
		return (struct vtd_irte){ 0, 0 };   /* not present: the unit blocks the message */
	}
}

u16 pt_host_command(u16 host_cmd, u16 guest_cmd, bool has_mem, bool has_io)
{
	u16 keep = (u16)~(PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER | PCI_CMD_INTX_DISABLE);
	return (u16)((host_cmd & keep) | (guest_cmd & PCI_CMD_BUS_MASTER) | (has_mem ? PCI_CMD_MEMORY : 0) |
		     (has_io ? PCI_CMD_IO : 0) | PCI_CMD_INTX_DISABLE);
}
