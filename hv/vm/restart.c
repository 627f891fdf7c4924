/* SPDX-License-Identifier: MIT */
/*
 * reboot=restart: a guest reset request (hv/dev/reset.c) restarts the VM as a platform
 * reset would, without the firmware: every vCPU stops, memory is reloaded from the
 * boot modules, the devices are reset and vCPU 0 starts at the entry state again.
 *
 * Each vCPU is parked by an INIT (REQ_INIT, handled on its own CPU by the entry path:
 * it waits for SIPI afterwards, "INIT Reset" in Vol. 3A), so that no CPU touches
 * another vCPU's VMCS. Whoever parks the last one (vm_restart_parked, called with
 * that vCPU's CPU outside guest mode) reloads and resets; vCPU 0 then gets REQ_RESET,
 * which its own CPU turns into the entry state (arch_vcpu_reset), and the other vCPUs
 * wait for the guest's start-up IPIs as after power-on. While a restart is in progress
 * the guest's INIT and SIPI IPIs are dropped (hv/irq/vlapic.c), so a vCPU cannot be
 * started again before the others are parked.
 *
 * After reboot_limit restarts the next reset request stops the VM (status 10) instead:
 * a guest in a reset loop does not spin forever.
 */
#include "hv/vm/vm.h"
#include "hv/vm/hypercall.h"
#include "hv/vm/guest_acpi.h"
#include "hv/sched/sched.h"
#include "hv/lib/lib.h"
#include "hv/lib/console.h"
#include "hv/mm/guest_layout.h"
#include "hv/pci/passthru.h"

void vm_restart_begin(struct vcpu *v, const char *how, unsigned value)
{
	struct vm *vm = v->vm;
	u32 expected = RESTART_NONE;
	if (!__atomic_compare_exchange_n(&vm->restart, &expected, RESTART_PARKING, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return;   /* one is in progress: this vCPU is parked by it */
	vuart_flush(vm);
	printk("vm %s: guest requested a reset through %s (written with 0x%x); reboot=restart: restart %u of at most %u\n",
	       vm->name, how, value, vm->restarts + 1, vm->cfg->reboot_limit);
	vm_print_counters(vm);   /* the counters so far (they go on counting after the restart) */
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(vm->vcpus[i], REQ_INIT);
}

/* All vCPUs wait for SIPI: reload memory, reset the devices, start vCPU 0. Runs on
 * the CPU that parked the last vCPU, interrupts off. */
static void restart_reload(struct vm *vm)
{
	char err[200];
	struct loader_result lr;
	if (vm->nr_assigned)   /* no DMA into the memory being reloaded (pt_reset re-arms them) */
		pci_passthru_quiesce(vm, "vm restarting");
	memset(vm->ram, 0, vm->ram_size);
	if (!vm_load_image(vm, &lr, err, sizeof(err)) ||
	    !loader_build_acpi(vm->ram, &vm->map, vm->nr_vcpus, (u8)vm->ioapic.id, err, sizeof(err))) {
		vm_stop(vm, HV_STATUS_STOPPED, false, 0, "restart failed: %s", err);
		return;
	}
	vdev_reset_all(vm);
	__atomic_store_n(&vm->rst_cnt, 0, __ATOMIC_RELAXED);
	vm->pm1_en[0] = vm->pm1_en[1] = 0;
	vm->restarts++;
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		__atomic_store_n(&vm->vcpus[i]->requests, 0, __ATOMIC_SEQ_CST);   /* the parking INITs' leftovers */
	printk("vm %s: restarted (%u of at most %u): memory reloaded, devices reset, vCPU 0 at the entry point\n",
	       vm->name, vm->restarts, vm->cfg->reboot_limit);
	__atomic_store_n(&vm->restart, RESTART_NONE, __ATOMIC_SEQ_CST);
	vcpu_request(vm->vcpus[0], REQ_RESET);
}

void vm_restart_parked(struct vm *vm)
{
	if (__atomic_load_n(&vm->restart, __ATOMIC_SEQ_CST) != RESTART_PARKING)
		return;
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		u32 st = __atomic_load_n((u32 *)&vm->vcpus[i]->state, __ATOMIC_SEQ_CST);
		if (st != VCPU_WAIT_SIPI)
			return;   /* not parked yet (or stopped: the VM is going) */
	}
	u32 expected = RESTART_PARKING;
	if (!__atomic_compare_exchange_n(&vm->restart, &expected, RESTART_RELOADING, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return;   /* another CPU parked the last one at the same time and reloads */
	if (vm->state == VM_RUNNING)
		restart_reload(vm);
}
