/* SPDX-License-Identifier: MIT */
/*
 * Guest port I/O. Every guest port access exits ("unconditional I/O exiting"), so no
 * guest ever reaches a port of the machine. Emulated: COM1 (0x3f8-0x3ff) and QEMU's
 * isa-debug-exit (0xf4: a write of V stops the VM with status (V << 1) | 1). Every
 * other port is unassigned: reads return all ones, writes are dropped, as on a PC bus
 * with nothing decoding the address.
 */
#include "hv/vm.h"
#include "hv/hypercall.h"

#define COM1_BASE 0x3f8
#define DEBUG_EXIT_PORT 0xf4

enum exit_action vio_port(struct vcpu *v, u16 port, unsigned size, bool in, u32 *val)
{
	struct vm *vm = v->vm;
	u32 mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;

	if (port >= COM1_BASE && port < COM1_BASE + 8 && size == 1) {
		if (in)
			*val = vuart_read(vm, port - COM1_BASE);
		else
			vuart_write(vm, port - COM1_BASE, *val);
		return EXIT_SKIP;
	}
	if (port == DEBUG_EXIT_PORT && !in) {
		u32 value = *val & mask;
		vm_stop(vm, (int)(((value << 1) | 1) & 0xff), true, value,
			"debug-exit port 0xf4 written with 0x%x", value);
		return EXIT_LEAVE;
	}
	if (in)
		*val = mask;
	return EXIT_SKIP;
}
