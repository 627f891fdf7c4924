/* SPDX-License-Identifier: MIT */
/*
 * Device assignment (vm=...,pci=BB:DD.F): a host PCI function given to one VM
 * (hv/pci/passthru.c), behind a VT-d unit (drivers/iommu/). What is pure lives here
 * and in passthru_irq.c (unit-tested): how a guest's MSI becomes an IRTE, and what the
 * host function's command register holds for a guest's command value.
 *
 * An assigned function's MSI reaches the guest in one of two ways (VT-d specification,
 * "Interrupt Remapping", "Posted Interrupts"):
 *  - posted: the IRTE is in posted format (IM = 1) with the guest's vector and the
 *    address of the target vCPU's posted-interrupt descriptor; the unit sets the PIR bit
 *    and, unless ON is set already or SN is set (and URG clear), ON and a notification
 *    of vector NV to NDST. posted.c keeps NV/NDST/SN as the unit reads them, so the
 *    IRTE changes only when the guest reprograms the message;
 *  - remapped: the IRTE is remapped (IM = 0) to a host vector on the boot CPU, whose
 *    handler sends the guest's (address, data) through msi_deliver (hv/irq/msi.h).
 * Posted is used for what a descriptor can express: fixed or lowest-priority delivery,
 * edge trigger, a physical destination naming one vCPU (vCPU i has APIC ID i);
 * everything else (logical or broadcast destinations, NMI, level) goes remapped.
 */
#ifndef HV_PCI_PASSTHRU_H
#define HV_PCI_PASSTHRU_H

#include "hv/lib/types.h"
#include "drivers/iommu/vtd_hw.h"

struct vpci;
struct vm;

enum pt_irq_kind {
	PT_IRQ_NONE,       /* the message would be dropped (msi_decode): the IRTE is not present */
	PT_IRQ_POSTED,     /* posted IRTE to vCPU pt_irq_choice.vcpu, vector pt_irq_choice.vector */
	PT_IRQ_REMAPPED,   /* remapped IRTE to the host vector; its handler runs msi_deliver */
};

struct pt_irq_choice {
	enum pt_irq_kind kind;
	u32 vcpu;          /* PT_IRQ_POSTED */
	u8 vector;         /* the guest vector (POSTED and REMAPPED) */
	const char *why;   /* why not posted (REMAPPED, NONE) */
};

/* Pure: the delivery path of guest message (addr, data) in a VM of nr_vcpus vCPUs;
 * posted_ok: the unit posts (CAP.PI) and vtd_pi allows it. */
void pt_irq_choose(u64 addr, u32 data, u32 nr_vcpus, bool posted_ok, struct pt_irq_choice *c);

/* Pure: the IRTE for a choice. pd_pa: the target vCPU's descriptor (POSTED); host
 * vector and APIC ID (REMAPPED, x2apic: the unit runs in extended interrupt mode); the
 * function's requester-id, verified (SVT = 01b, SQ = 00b: all 16 bits compared). */
struct vtd_irte pt_irte_build(const struct pt_irq_choice *c, u64 pd_pa, bool urgent, u8 host_vector,
			      u32 host_apic, bool x2apic, u16 sid);

/* Pure: the host function's command register for the guest's value guest_cmd. Bus
 * Master follows the guest (its DMA goes through the VM's domain); memory and I/O
 * decode stay on where the function has such BARs (the guest's decode bits decide
 * whether its BARs are mapped into the VM instead); INTx is always disabled (only
 * MSI is offered); every other bit (SERR#, parity, ...) keeps the host's value. */
u16 pt_host_command(u16 host_cmd, u16 guest_cmd, bool has_mem, bool has_io);

/* ---- passthru.c ---- */
/* The switches (vtd_pi=, vtd_urgent=; docs/INTERFACES.md), before any VM is created. */
void pci_passthru_configure(u8 vtd_pi, bool urgent);
/* Before the VM's image is loaded (its memory map goes to the guest): the RMRRs that
 * name host function bdf are reserved in vm->map (GMAP_RMRR, e820 reserved); refused
 * with a message naming the function, the range and what it overlaps when a range
 * overlaps the VM's RAM or a fixed range of its layout (GPA = IOVA in its domain, and
 * the range must stay mapped 1:1 there). pci_passthru_create then maps them. */
bool pci_passthru_reserve(struct vm *vm, u16 bdf, char *err, size_t errlen);
/* Give host function bdf (segment 0) to vm at guest devfn: refused with a message
 * naming it when it does not exist, is given already, is no type 0 function, no
 * remapping unit covers it, or its unit cannot be brought up. */
bool pci_passthru_create(struct vpci *p, u16 bdf, u8 devfn, char *err, size_t errlen);

/* The VM stops or restarts: each function given to it loses Bus Master and MSI on the
 * host and its IRTE (a stopped guest's device cannot go on writing memory or sending
 * interrupts), logged with what the function and the unit hold afterwards. Guest
 * writes to its configuration no longer reach the host until its reset (a restart). */
void pci_passthru_quiesce(struct vm *vm, const char *why);

#endif
