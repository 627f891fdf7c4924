/* SPDX-License-Identifier: MIT */
/*
 * How interrupts reach a guest: one interface, two implementations (vintr.c).
 *
 *   vintr_apicv   posted interrupts with virtual-interrupt delivery (Intel SDM Vol. 3C,
 *                 "APIC Virtualization", "Posted-Interrupt Processing"): what is posted
 *                 is moved from PIR into the virtual IRR and RVI, and the CPU delivers
 *                 it and virtualizes the EOI; a notification to a running vCPU is the
 *                 VM's posted-interrupt vector and causes no exit.
 *   vintr_inject  event injection ("Event Injection"): PIR is moved into the software
 *                 vLAPIC's IRR and the highest deliverable vector is injected at entry,
 *                 with interrupt-window and TPR-threshold exits; a notification is the
 *                 kick vector (a VM exit).
 *
 * A VM uses one of them from arch_vm_init (vm->apicv, resolved from the apicv= switch
 * and the CPU): vm->arch.vintr. Nothing else in the VMX layer asks which.
 */
#ifndef ARCH_X86_VMX_VINTR_H
#define ARCH_X86_VMX_VINTR_H

#include "hv/lib/types.h"

struct vm;
struct vcpu;

struct vintr_ops {
	const char *name;
	/* Per-VM state (the APIC-access page); false + message. */
	bool (*vm_init)(struct vm *vm, char *err, size_t errlen);
	/* Adjust v->arch.pin/proc/proc2 before the controls are written. */
	void (*controls)(struct vcpu *v);
	/* After the controls are written: the fields this mechanism uses (VMCS current). */
	void (*vmcs_setup)(struct vcpu *v);
	/* The vCPU's APIC mode (xAPIC/x2APIC) changed, or the VMCS is new: the APIC
	 * virtualization controls and MSR bitmap to match (VMCS current). */
	void (*apic_mode)(struct vcpu *v);
	/* INIT: the virtual interrupt state back to its reset value (VMCS current). */
	void (*reset)(struct vcpu *v);
	/* The vIOAPIC's level-triggered vectors changed (REQ_EOI_BITMAP). */
	void (*eoi_exits)(struct vcpu *v);
	/* Entry path, interrupts off, "in guest" marked: make what is posted reach the
	 * guest (sync into RVI, or inject / open a window). */
	void (*deliver)(struct vcpu *v);
	/* HLT: take what is posted into the IRR so that it can be compared with the PPR. */
	void (*take_posted)(struct vcpu *v);
};

extern const struct vintr_ops vintr_apicv, vintr_inject;

#endif
