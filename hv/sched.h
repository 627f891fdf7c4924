/* SPDX-License-Identifier: MIT */
/*
 * Getting work to a vCPU from any CPU: posting interrupts, requests, waking a halted
 * vCPU, kicking a vCPU out of guest mode. docs/ARCHITECTURE.md ("The data path of an
 * interrupt") describes the protocol; the rules that matter are in posted.c.
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include "hv/types.h"

struct vcpu;

/* Post vector to v (from any CPU, interrupts on or off): the single entry point for
 * fixed interrupts to a vCPU (arch/x86/vmx/posted.c). level: level-triggered (TMR). */
void vcpu_post_irq(struct vcpu *v, u8 vector, bool level);
/* Set a REQ_* bit for v's own CPU to act on before it next enters v, and make sure it
 * looks soon (kick or wake). */
void vcpu_request(struct vcpu *v, u32 req);
/* HALTED -> RUNNABLE; true if this call woke it. */
bool vcpu_wake(struct vcpu *v);
/* Is anything pending that ends v's HLT (v's own CPU; VMCS current)? */
bool vcpu_halt_should_wake(struct vcpu *v);

#endif
