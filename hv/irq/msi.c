/* SPDX-License-Identifier: MIT */
/*
 * Message-signalled interrupt delivery (hv/irq/msi.h): the decode of Intel SDM Vol. 3A,
 * "Message Address Register Format" and "Message Data Register Format", and the hand-
 * off to vlapic_deliver(), the same path the vIOAPIC and IPIs take.
 *
 * Redirection hint: "When RH is 1 ... the message is directed to the processor with
 * the lowest interrupt priority among processors that can receive the interrupt";
 * with RH 0 the message goes to every processor the destination selects. A fixed
 * message with RH set is therefore delivered as lowest priority.
 */
#include "hv/irq/msi.h"
#include "hv/irq/vlapic.h"
#include "hv/vm/vm.h"
#include "hv/trace/trace.h"
#include "hv/host/work.h"

enum msi_drop msi_decode(u64 addr, u32 data, struct msi_msg *m)
{
	if ((addr >> 32) || ((u32)addr & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE)
		return MSI_DROP_ADDRESS;
	u8 dm = (u8)MSI_DATA_DM(data);
	if (dm != DM_FIXED && dm != DM_LOWEST && dm != DM_NMI && dm != DM_INIT)
		return MSI_DROP_DELIVERY;
	bool level = data & MSI_DATA_TRIGGER_LEVEL;
	if (level && !(data & MSI_DATA_LEVEL_ASSERT))
		return MSI_DROP_DEASSERT;
	u8 vector = (u8)MSI_DATA_VECTOR(data);
	if ((dm == DM_FIXED || dm == DM_LOWEST) && vector < 16)
		return MSI_DROP_VECTOR;
	bool rh = addr & MSI_ADDR_RH;
	*m = (struct msi_msg){
		.dest = ((u32)addr >> MSI_ADDR_DEST_SHIFT) & 0xff,
		.logical = addr & MSI_ADDR_DM_LOGICAL,
		.rh = rh,
		.dm = (rh && dm == DM_FIXED) ? DM_LOWEST : dm,
		.vector = vector,
		/* Level semantics exist for fixed and lowest priority only (as for the
		 * IOAPIC's entries); NMI and INIT are edge whatever the bit says. */
		.level = level && (dm == DM_FIXED || dm == DM_LOWEST),
	};
	return MSI_OK;
}

void msi_apic_changed(struct vm *vm)
{
	/* Release: the register change is visible before the new generation (route_target
	 * reads the generation with acquire, then the registers). */
	__atomic_fetch_add(&vm->apic_gen, 1, __ATOMIC_RELEASE);
}

struct msi_stats *msi_stats_of(struct vm *vm)
{
	return &vm->msi;
}

enum msi_drop msi_deliver(struct vm *vm, u64 addr, u32 data)
{
	struct msi_msg m;
	enum msi_drop r = msi_decode(addr, data, &m);
	if (r != MSI_OK) {
		__atomic_fetch_add(&vm->msi.dropped[r], 1, __ATOMIC_RELAXED);
		return r;
	}
	__atomic_fetch_add(&vm->msi.delivered, 1, __ATOMIC_RELAXED);
	TRACE_SOURCE(TSRC_MSI);
	vlapic_deliver(vm, NULL, SH_NONE, m.dest, m.logical, m.dm, m.vector, m.level);
	return MSI_OK;
}

void msi_route_set(struct msi_route *r, u64 addr, u32 data)
{
	r->addr = addr;
	r->data = data;
	r->status = msi_decode(addr, data, &r->msg);
	r->refreshes++;
	/* 0xff is the xAPIC broadcast: every APIC, not one target. */
	r->cacheable = r->status == MSI_OK && r->msg.dm == DM_FIXED && !r->msg.logical && r->msg.dest != 0xff;
	r->target_valid = false;
	r->target = NULL;
}

/* The cached target of r, looked up again when the VM's APIC generation moved. */
static struct vcpu *route_target(struct vm *vm, struct msi_route *r)
{
	u32 gen = __atomic_load_n(&vm->apic_gen, __ATOMIC_ACQUIRE);
	if (!r->target_valid || r->gen != gen) {
		r->target = vlapic_phys_target(vm, r->msg.dest);
		r->gen = gen;
		r->target_valid = true;
		r->lookups++;
		__atomic_fetch_add(&vm->msi.target_lookups, 1, __ATOMIC_RELAXED);
	}
	return r->target;
}

/* The deferred work item: the pre-seed path decodes again on the target's CPU. */
static void deferred_send(void *arg, u64 addr, u64 data)
{
	msi_deliver(arg, addr, (u32)data);
}

enum msi_drop msi_route_deliver(struct vm *vm, struct msi_route *r)
{
	if (r->status != MSI_OK) {
		__atomic_fetch_add(&vm->msi.dropped[r->status], 1, __ATOMIC_RELAXED);
		return r->status;
	}
	if (vm->msi_delivery == MSI_DELIVERY_DEFERRED) {
		/* The CPU the named vCPU runs on (APIC ID = vCPU index, hv/irq/vlapic.h); a
		 * logical or broadcast destination goes to vCPU 0's. */
		u32 t = !r->msg.logical && r->msg.dest < vm->nr_vcpus ? r->msg.dest : 0;
		__atomic_fetch_add(&vm->msi.deferred, 1, __ATOMIC_RELAXED);
		work_queue(vm->vcpus[t]->cpu, deferred_send, vm, r->addr, r->data);
		return MSI_OK;
	}
	__atomic_fetch_add(&vm->msi.delivered, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vm->msi.routed, 1, __ATOMIC_RELAXED);
	TRACE_SOURCE(TSRC_MSI);
	if (r->cacheable) {
		struct vcpu *t = route_target(vm, r);
		if (t)
			vlapic_deliver_to(t, r->msg.dm, r->msg.vector, r->msg.level);
		return MSI_OK;   /* no APIC has that ID: nobody takes it (as vlapic_deliver) */
	}
	vlapic_deliver(vm, NULL, SH_NONE, r->msg.dest, r->msg.logical, r->msg.dm, r->msg.vector, r->msg.level);
	return MSI_OK;
}
