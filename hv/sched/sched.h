/* SPDX-License-Identifier: MIT */
/*
 * Getting work to a vCPU from any CPU: posting interrupts, requests, waking a halted
 * vCPU, kicking a vCPU out of guest mode. docs/ARCHITECTURE.md ("The data path of an
 * interrupt") describes the protocol; the rules that matter are in posted.c.
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include "hv/lib/types.h"

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

struct cpu;
struct sched_config;
enum exit_action;
extern struct sched_config sched_cfg;
/* Boot: the configuration (hv/init/config.h), slice timers. */
void sched_init(const struct sched_config *cfg);
/* A new vCPU: its first CPU and the CPUs it may use; a RUNNABLE one is queued. */
bool sched_add_vcpu(struct vcpu *v, struct cpu *home, u64 affinity);
/* The wakeup vector or a VM's notification vector arrived on this CPU. */
void sched_wakeup_vector(u8 vector);
/* A PAUSE-loop exit: directed yield per the yield policy. */
enum exit_action sched_pause_exit(struct vcpu *v);
/* Entry path: arm the time slice when vCPUs wait for this CPU. */
void sched_entry_check(struct cpu *c);
/* A vCPU of a stopped VM: off any blocked list. */
void sched_vcpu_stopped(struct vcpu *v);
/* The time slice in TSC ticks. */
u64 sched_slice_ticks(void);
/* The NDST value that names CPU c. */
u32 sched_ndst(const struct cpu *c);

#endif
