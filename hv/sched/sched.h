/* SPDX-License-Identifier: MIT */
/*
 * Getting work to a vCPU from any CPU: posting interrupts, requests, waking a halted
 * vCPU, kicking a vCPU out of guest mode. docs/ARCHITECTURE.md ("The data path of an
 * interrupt") describes the protocol; the rules that matter are in posted.c.
 * vcpu_post_irq() is the architecture layer's (arch/x86/arch.h).
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include "hv/lib/types.h"
#include "arch/x86/arch.h"

struct vcpu;

/* Set a REQ_* bit for v's own CPU to act on before it next enters v, and make sure it
 * looks soon (kick or wake). */
void vcpu_request(struct vcpu *v, u32 req);
/* HALTED -> RUNNABLE; true if this call woke it. */
bool vcpu_wake(struct vcpu *v);

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
/* A new VM's notification vector (its VMCS's posted-interrupt vector and its
 * descriptors' NV while running): the shared VECTOR_POSTED, or with block=fixed one of
 * its own from the host vector registry that also wakes its blocked vCPUs. 0 when none
 * is free. */
struct vm;
u8 sched_notification_vector(struct vm *vm);
/* A PAUSE-loop exit: directed yield per the yield policy. */
enum exit_action sched_pause_exit(struct vcpu *v);
/* src sent a fixed IPI to t (a vCPU of its VM, RUNNABLE when looked at): ipi_yield=on gives the CPU to t when
 * t waits on this CPU's run queue. */
void sched_ipi_sent(struct vcpu *src, struct vcpu *t);
/* Entry path: arm the time slice when vCPUs wait for this CPU. */
void sched_entry_check(struct cpu *c);
/* A vCPU of a stopped VM: off any blocked list. */
void sched_vcpu_stopped(struct vcpu *v);
/* Does the yield policy want PAUSE-loop exits for vm's vCPUs, and with which gap and
 * window (TSC ticks, the VMCS's PLE_Gap/PLE_Window)? */
bool sched_pause_loop_exiting(const struct vm *vm, u32 *gap, u32 *window);
/* The time slice in TSC ticks. */
u64 sched_slice_ticks(void);
/* The run loop of a physical CPU; entered on an empty stack. */
void cpu_run_loop(void) __noreturn;

#endif
