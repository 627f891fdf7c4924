/* SPDX-License-Identifier: MIT */
/*
 * Emulated MMIO: a guest access to a guest-physical page that EPT leaves unmapped (or
 * to the APIC-access page) exits; the hypervisor decodes the instruction (arch/x86/insn.h),
 * performs the access through the VM's I/O bus and moves RIP past it.
 */
#ifndef ARCH_X86_VMX_MMIO_H
#define ARCH_X86_VMX_MMIO_H

#include "hv/lib/types.h"
#include "hv/vm/vm.h"

/*
 * Emulate the instruction at the guest's CS:RIP, which accessed gpa (the VMCS must be
 * current and the exit must be the one this access caused: an EPT violation, or an
 * APIC-access exit): decode it into a struct io_req and hand that to the VM's bus
 * (hv/io/bus.h). Loads update the destination register, stores take the register or
 * immediate; RIP is advanced here (the VM-exit instruction length is not defined for
 * these exits). direct, when not NULL, is the one range the access may go to (no bus
 * lookup). Returns EXIT_RESUME, or EXIT_LEAVE after stopping the VM (undecodable
 * instruction, access refused, or the device stopped it). *claimed is false when no
 * device is at gpa: nothing was done (EXIT_LEAVE), the caller reports the access.
 */
enum exit_action vmx_mmio_emulate(struct vcpu *v, u64 gpa, const struct io_range *direct, bool *claimed);
/* The same for the xAPIC page: direct is its range, dispatched without a lookup. */
enum exit_action vmx_xapic_emulate(struct vcpu *v, u64 gpa, bool *claimed);

/* An EPT violation at gpa outside RAM, with exit qualification q: if a range on the
 * VM's bus covers gpa, emulate the access and return the handler's result; *claimed is
 * false when no device is there (nothing done: the caller reports the violation). */
enum exit_action vm_mmio_dispatch(struct vcpu *v, u64 gpa, u64 q, bool *claimed);

#endif
