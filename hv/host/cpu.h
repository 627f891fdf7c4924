/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU state: one page-aligned struct cpu per physical CPU, its stacks inside,
 * reached through GS (the struct's first field points to itself).
 */
#ifndef HV_CPU_H
#define HV_CPU_H

#include "hv/lib/types.h"
#include "hv/host/timer.h"
#include "boot/boot.h"
#include "arch/x86/arch.h"

#define MAX_CPUS 64
#define CPU_STACK_SIZE 16384
#define CPU_IST_SIZE 4096

struct vcpu;
struct hv_timer;

/* A spinlock that also disables interrupts while held. */
struct spinlock {
	volatile u32 locked;
};

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes (SDM Vol. 3A, \"Task-State Segment\")");

struct cpu {
	struct cpu *self;          /* %gs:0 */
	struct vcpu *vcpu;         /* vCPU loaded on this CPU (its VMCS is current) */
	u64 stack_top;             /* HOST_RSP: the exit path starts on an empty stack */
	u32 id;                    /* index in cpus[] = printk's [hv:N] */
	u32 apic_id;
	volatile bool online;
	bool virt_on;              /* in VMX operation: it may run vCPUs (arch_cpu_on) */
	u64 gdt[GDT_ENTRIES];
	struct tss64 tss;
	/* The scheduler (hv/sched/sched.c). */
	struct vcpu *curr;         /* the vCPU scheduled here (running, or leaving), NULL = idle */
	struct spinlock rq_lock;
	struct vcpu *rq_head, *rq_tail;   /* runnable vCPUs waiting for this CPU */
	u32 nr_queued;             /* vCPUs on the run queue (rq_lock) */
	bool sched_started;        /* this CPU has entered cpu_run_loop */
	u64 idle_rescues;          /* the idle watchdog found vCPUs queued (cpu_run_loop) */
	u64 min_vruntime;          /* sched=fair: never decreases; queued vCPUs are placed near it */
	struct spinlock blk_lock;
	struct vcpu *blocked;      /* halted vCPUs whose wakeup notifications come here */
	volatile bool need_resched;
	volatile bool idle;
	struct hv_timer slice_timer;
	struct hv_timer *timers;   /* armed host timers, soonest first (hv/host/timer.c) */
	bool tsc_deadline;         /* host LAPIC timer in TSC-deadline mode is set up */
	struct cpu_arch arch;      /* the VMX layer's (arch/x86/arch.h); never touched from hv/ */
	u8 ist_stack[CPU_IST_SIZE] __aligned(16);
	u8 stack[CPU_STACK_SIZE] __aligned(16);
} __aligned(4096);

extern struct cpu cpus[MAX_CPUS];
extern u32 nr_cpus;

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	asm volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

void cpu_init_local(struct cpu *c);   /* GDT, TSS, IDT, GS on the calling CPU */
void smp_boot_aps(void);

/* Host interrupt vectors (the IDT's 32..255). */
#define VECTOR_TIMER 0xef      /* host LAPIC timer: hv/host/timer.c */
#define VECTOR_CONSOLE_RX 0xee /* the console UART's receive interrupt: hv/host/serial_input.c */
#define VECTOR_KICK 0xf0       /* make a CPU leave its guest and look at its vCPU */
#define VECTOR_WAKEUP 0xf1     /* posted-interrupt wakeup (blocked vCPUs, issue 4) */
#define VECTOR_POSTED 0xf2     /* posted-interrupt notification vector (POSTED_INTR_NV) */
#define VECTOR_VM_BASE 0xe0    /* block=fixed: VM n's notification vector is 0xe0 + n */
#define VECTOR_SPURIOUS 0xff
void host_irq(u8 vector);      /* an interrupt taken in the host or at a VM exit */
void lapic_eoi(void);
void lapic_send_ipi(u32 apic_id, u8 vector);
void lapic_send_ipi_ndst(u32 ndst, u8 vector);
struct lapic_mode;
/* The boot CPU's APIC in the mode x2apic= (enum x2apic_option) and the firmware give
 * (hv/host/lapic.h), software-enabled; false with a message naming x2apic=. */
bool lapic_init_boot(u8 option, struct lapic_mode *m, char *err, size_t errlen);
/* An AP's APIC in the boot CPU's mode (*switched: it had to enter x2APIC mode),
 * software-enabled; false with the reason. */
bool lapic_init_ap(bool *switched, char *err, size_t errlen);
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
u32 lapic_id(void);
bool lapic_x2apic_mode(void);

u64 spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, u64 flags);

#endif
