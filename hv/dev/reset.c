/* SPDX-License-Identifier: MIT */
/*
 * Guest reset requests, from three places (docs/INTERFACES.md, "Guest platform"):
 *   - the Reset Control Register at I/O 0xCF9 (Intel I/O Controller Hub data sheets,
 *     "RST_CNT - Reset Control Register": bit 3 FULL_RST, bit 2 RST_CPU, bit 1
 *     SYS_RST; "when this bit transitions from a 0 to a 1, it initiates a hard or soft
 *     reset"), also the ACPI reset register the FADT names (RESET_REG, value 0x06);
 *   - the keyboard controller's reset line (hv/dev/i8042.c: command 0xFE, or the output
 *     port's bit 0 written 0);
 *   - System Control Port A bit 0 (hv/dev/port92.c).
 * What follows is the VM's reboot= key: `stop` (the default) stops the VM with
 * HV_STATUS_RESET and the reason "guest requested a reset through SOURCE"; `restart`
 * restarts it (hv/vm/restart.c) up to reboot_limit times, then stops it the same way.
 *
 * 0xCF9 lies inside the PCI CONFIG_ADDRESS range 0xCF8-0xCFB (only a dword access
 * there is CONFIG_ADDRESS; hv/pci/cfgmech.c): cfgmech hands byte accesses at 0xCF9 to
 * reset_cnt_access(). That range is lockless: rst_cnt is one byte read and written
 * with atomics. RST_CPU always reads 0 (a write that sets it resets); bits 3 and 1
 * read as written, the others 0.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/vm/hypercall.h"

#define RST_CNT_FULL_RST BIT(3)
#define RST_CNT_RST_CPU BIT(2)
#define RST_CNT_SYS_RST BIT(1)

enum io_result vm_reset_request(struct vcpu *v, const char *how, unsigned value)
{
	struct vm *vm = v->vm;
	if (vm->cfg->reboot == REBOOT_RESTART) {
		if (vm->restarts < vm->cfg->reboot_limit) {
			/* hv/vm/restart.c: this vCPU is parked by the INIT it requests. */
			vm_restart_begin(v, how, value);
			return IO_DONE;
		}
		vm_stop(vm, HV_STATUS_RESET, false, 0, "guest requested a reset through %s (written with 0x%x); "
			"reboot=restart, reboot_limit=%u reached", how, value, vm->cfg->reboot_limit);
		return IO_STOPPED;
	}
	vm_stop(vm, HV_STATUS_RESET, false, 0, "guest requested a reset through %s (written with 0x%x); "
		"reboot=stop", how, value);
	return IO_STOPPED;
}

enum io_result reset_cnt_access(struct vcpu *v, struct io_req *req)
{
	struct vm *vm = v->vm;
	if (!req->write) {
		req->value = __atomic_load_n(&vm->rst_cnt, __ATOMIC_RELAXED);
		return IO_DONE;
	}
	u8 val = (u8)req->value;
	__atomic_store_n(&vm->rst_cnt, (u8)(val & (RST_CNT_FULL_RST | RST_CNT_SYS_RST)), __ATOMIC_RELAXED);
	if (val & RST_CNT_RST_CPU)
		return vm_reset_request(v, "the Reset Control Register 0xCF9", val);
	return IO_DONE;
}
