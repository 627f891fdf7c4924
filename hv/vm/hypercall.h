/* SPDX-License-Identifier: MIT */
/*
 * The hypercall ABI (VMCALL), shared by the hypervisor and its guests.
 * docs/INTERFACES.md describes it; keep the two in step.
 *
 * RAX = function, RBX/RCX/RDX = arguments, result in RAX (negative = error).
 */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#define HC_ABI_VERSION 1

#define HC_NOP         0
#define HC_VERSION     1
#define HC_EXIT        2
#define HC_PUTS        3
#define HC_VCPU_ID     4
#define HC_GET_COUNTER 5
#define HC_GET_INFO    6   /* RBX = HC_INFO_* */
#define HC_VCPU_COUNTER 7  /* RBX = counter id, RCX = vCPU index in the caller's VM */
#define HC_RACE_POST   8   /* RBX = target vCPU, RCX = vector, RDX = HC_RACE_WINDOW_*; test_hooks only */
#define HC_IOAPIC_LINE 9   /* RBX = vIOAPIC input pin, RCX = level (0/1): a test device line */

#define HC_ENOSYS (-1L)
#define HC_EINVAL (-2L)
#define HC_ETIMEDOUT (-3L)   /* HC_RACE_POST: the target never reached the window */

#define HC_PUTS_MAX 4096

/* Counters readable through HC_GET_COUNTER (per calling vCPU). */
#define HC_CTR_EXITS_TOTAL 0   /* every VM exit of this vCPU */
#define HC_CTR_EXITS_CPUID 1
#define HC_CTR_EXITS_VMCALL 2
#define HC_CTR_EXITS_IO 3
#define HC_CTR_EXITS_MSR 4
#define HC_CTR_POSTED 5        /* interrupts posted to this vCPU (any path) */
#define HC_CTR_NOTIFY_IPIS 6   /* notification IPIs sent to this vCPU */
#define HC_CTR_WAKEUPS 7       /* times this vCPU was woken from HLT */
#define HC_CTR_FASTPATH 8      /* exits handled in the exit fastpath */
#define HC_CTR_INJECTED 9      /* interrupts injected by event injection (no APICv) */
#define HC_CTR_IRQ_WINDOWS 10  /* interrupt-window exits */
#define HC_CTR_ELIDED 11       /* notifications elided: target was the vCPU in the fastpath */
/* Scheduler counters (hv/sched/sched.c). Times are TSC ticks. */
#define HC_CTR_CTX_SWITCHES 12 /* times this vCPU was switched in */
#define HC_CTR_BLOCKS 13       /* HLT blocks */
#define HC_CTR_WAKEUP_TICKS 14 /* sum over wakeups of the ticks from wake to running */
#define HC_CTR_RUNNABLE_TICKS 15 /* sum of the ticks runnable but not running */
#define HC_CTR_MAX_RUNNABLE_TICKS 16 /* the longest single wait runnable but not running */
#define HC_CTR_YIELDS 17       /* directed yields attempted from this vCPU (PAUSE-loop exits) */
#define HC_CTR_YIELDS_WASTED 18 /* yields to a vCPU that was not ready or not runnable, or to none */
#define HC_CTR_PREEMPTIONS 19  /* involuntary preemptions (time slice) */
#define HC_CTR_PLE_EXITS 20    /* PAUSE-loop exits */
#define HC_CTR_WAKE_VECTOR 21  /* wakeups through the wakeup/VM vector handler */
#define HC_CTR_WAKE_POLL 22   /* wakeups found by polling the blocked list (block=fixed) */
#define HC_CTR_RUN_TICKS 23   /* ticks on a CPU (switched in until switched out), current stint included */
#define HC_CTR_BALANCED 24    /* times the load balancer moved this vCPU to another CPU */
#define HC_CTR_WAKE_PREEMPTS 25 /* times this vCPU, woken, preempted the running one (sched=fair) */
#define HC_CTR_REMOTE_BOOSTS 26 /* directed yields from this vCPU that preempted the target's CPU */
#define HC_CTR_MIGRATIONS 27  /* times this vCPU ran on another CPU than the last time */
#define HC_CTR_MAX 28
/* HC_CTR_EXIT_REASON + n: exits with basic reason n (Intel SDM Vol. 3D, Appendix C). */
#define HC_CTR_EXIT_REASON 0x100

/* HC_GET_INFO items. */
#define HC_INFO_TSC_HZ 0       /* TSC frequency the hypervisor measured (Hz) */
#define HC_INFO_APIC_TIMER_HZ 1   /* the virtual LAPIC timer's input clock (Hz, before the divider) */
#define HC_INFO_NR_VCPUS 2
#define HC_INFO_FEATURES 3     /* HC_FEAT_* bits: the VM's interrupt-virtualisation switches */
#define HC_INFO_SLICE_TICKS 4  /* the scheduler's time slice in TSC ticks */
#define HC_INFO_RESTARTS 5     /* times the VM was restarted (reboot=restart, hv/vm/restart.c) */

#define HC_FEAT_APICV 1        /* posted interrupts + virtual-interrupt delivery */
#define HC_FEAT_PREEMPT_TIMER 2   /* guest timers on the VMX-preemption timer (else software) */
#define HC_FEAT_FASTPATH 4     /* timer expiry handled in the exit fastpath */
#define HC_FEAT_ELIDE 8        /* no notification IPI to the vCPU in the fastpath */

/* HC_RACE_POST windows: the target's entry path stops at the window until the caller
 * (on another CPU) has posted the vector through the ordinary posting path. */
#define HC_RACE_WINDOW_IRQS_OFF 1   /* interrupts off, not yet marked in guest */
#define HC_RACE_WINDOW_IN_GUEST 2   /* marked in guest, PIR not yet synced */
#define HC_RACE_WINDOW_SYNCED 3     /* PIR synced, VM entry next */

/* CPUID leaf 0x40000000: signature in EBX, ECX, EDX ("MicroHVMicro"). */
#define HV_CPUID_BASE 0x40000000u
#define HV_CPUID_SIG_EBX 0x7263694du /* "Micr" */
#define HV_CPUID_SIG_ECX 0x4d56486fu /* "oHVM" */
#define HV_CPUID_SIG_EDX 0x6f726369u /* "icro" */

/* Final status encodings (docs/INTERFACES.md, "Exit status"). */
#define HV_STATUS_STOPPED 2
#define HV_STATUS_PANIC 4
#define HV_STATUS_NO_VMX 6
#define HV_STATUS_BAD_CONFIG 8
#define HV_STATUS_RESET 10      /* the guest asked for a reset, reboot=stop (hv/dev/reset.c) */

#endif
