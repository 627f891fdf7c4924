/* SPDX-License-Identifier: MIT */
/*
 * Emulated MMIO: a guest access to a guest-physical page that EPT leaves unmapped (or
 * to the APIC-access page) exits; the hypervisor decodes the instruction (hv/insn.h),
 * performs the access on the device model and moves RIP past it.
 */
#ifndef ARCH_X86_VMX_MMIO_H
#define ARCH_X86_VMX_MMIO_H

#include "hv/types.h"
#include "hv/vm.h"

/* A device's MMIO window [base, base + size). The callbacks get the offset in the
 * window and the access size (1, 2, 4 or 8 bytes); a read stores the value in *val
 * (the low size bytes count). Returning false refuses the access: the VM is stopped
 * with a diagnosis naming the device, the instruction and the address. */
struct mmio_dev {
	const char *name;
	u64 base, size;
	bool (*read)(struct vcpu *v, void *opaque, u64 off, unsigned size, u64 *val);
	bool (*write)(struct vcpu *v, void *opaque, u64 off, unsigned size, u64 val);
	void *opaque;
};

/*
 * Emulate the instruction at the guest's CS:RIP, which accessed gpa inside dev (the
 * VMCS must be current and the exit must be the one this access caused: an EPT
 * violation, or an APIC-access exit). Loads update the destination register, stores
 * take the register or immediate; RIP is advanced here (the VM-exit instruction length
 * is not defined for these exits). Returns EXIT_RESUME, or EXIT_LEAVE after stopping
 * the VM (undecodable instruction, refused access, or the device stopped it).
 */
enum exit_action vmx_mmio_emulate(struct vcpu *v, u64 gpa, const struct mmio_dev *dev);

/* An EPT violation at gpa outside RAM: if an emulated device of the VM covers gpa,
 * emulate the access, put the handler's result in *act and return true; false when
 * no device is there (the caller reports the violation). */
bool vm_mmio_dispatch(struct vcpu *v, u64 gpa, enum exit_action *act);

#endif
