/* SPDX-License-Identifier: MIT */
/*
 * The trace facility: per-CPU ring buffers of fixed-size records of what happened to
 * interrupts and vCPUs (docs/INTERFACES.md "Tracing", docs/ARCHITECTURE.md).
 *
 * Recording points use TRACE(ev, v, a0, a1): with the event off in trace_mask (the
 * default: no trace= option) it costs one test of a read-mostly global and a branch
 * predicted not taken; the arguments are evaluated only when the event is on. Records
 * go to the ring of the CPU that executes the point; every point runs with interrupts
 * off (an exit handler, the run loop, a host interrupt handler), so a ring has one
 * writer and no writer is ever interrupted by another on its CPU.
 *
 * VM exit and entry records cost nothing when off: the VMCS's HOST_RIP is a second
 * exit stub that records them (arch/x86/vmx/trace.c) only when they are on.
 */
#ifndef HV_TRACE_TRACE_H
#define HV_TRACE_TRACE_H

#include "hv/lib/types.h"

/* Events (the record's `event`); arguments a0, a1 as listed. */
enum trace_event {
	TEV_EXIT = 1,        /* VM exit: full exit reason, qualification (external interrupt: interruption info; VMCALL: RAX) */
	TEV_ENTRY = 2,       /* VM entry: 0 resume after an exit / 1 from the run loop, 0 */
	TEV_POST = 3,        /* posted to the record's vCPU: vector | level << 8 | source << 16, poster vCPU (vm << 8 | vcpu, or 0xffff) */
	TEV_NOTIFY = 4,      /* notification IPI sent: vector sent, destination APIC ID | kind << 32 (0 in guest, 1 halted: wakeup) */
	TEV_ELIDE = 5,       /* no notification IPI: posted vector, reason (enum trace_elide) */
	TEV_WAKEUP = 6,      /* halted vCPU made runnable: the CPU whose run queue takes it, 0 */
	TEV_BLOCK = 7,       /* vCPU blocked in HLT: IF at HLT, its timer deadline (0: none) */
	TEV_SWITCH = 8,      /* vCPU switched in on this CPU: ticks it waited runnable, ticks since its wakeup (0: not woken) */
	TEV_YIELD = 9,       /* directed yield by the record's vCPU: target vm << 8 | vcpu, enum trace_yield */
	TEV_TIMER_ARM = 10,  /* guest timer armed: host TSC deadline (0: disarmed), period (0: one-shot / TSC deadline) */
	TEV_TIMER_FIRE = 11, /* guest timer expired: LVT timer vector (bit 16: masked), ticks after the deadline */
	TEV_EOI = 12,        /* guest EOI seen by the hypervisor: vector (-1: none in service), 0 emulated write / 1 EOI-induced exit */
	TEV_INJECT = 13,     /* delivery at entry: vector, 0 event injection / 1 APICv PIR -> vIRR, RVI */
	TEV_NR
};

/* TEV_POST sources: every caller of vcpu_post_irq and vlapic_deliver names its source
 * first (TRACE_SOURCE, per CPU, kept until the next one), so that a message to several
 * vCPUs gives each post the same source. */
enum trace_source {
	TSRC_OTHER = 0,      /* the LVT error entry, HC_RACE_POST */
	TSRC_IPI = 1,        /* a guest ICR or SELF IPI write */
	TSRC_TIMER = 2,      /* the vCPU's LAPIC timer */
	TSRC_MSI = 3,        /* msi_deliver: a PCI function's message */
	TSRC_IOAPIC = 4,     /* the vIOAPIC */
	TSRC_DEVICE = 5,     /* a device posting directly (none yet) */
};

enum trace_elide {
	TELIDE_FASTPATH = 0, /* the target is this CPU's vCPU in guest mode (elide=on) */
	TELIDE_SN = 1,       /* SN set: the target is preempted, PIR only */
	TELIDE_ON = 2,       /* ON was already set: a sync or notification is already due */
	TELIDE_OUTSIDE = 3,  /* the target is outside guest mode and not halted: its entry path syncs */
};

enum trace_yield {
	TYIELD_PULL = 1,     /* the target was pulled to the front of this CPU's queue */
	TYIELD_BOOST = 2,    /* boosted in its own CPU's queue */
	TYIELD_KICK = 4,     /* ... and that CPU's vCPU preempted */
};

/* One record: 32 bytes, little-endian, as written to the trace file. */
struct trace_rec {
	u64 tsc;
	u16 cpu;
	u8 vm;               /* VM index, 0xff: none */
	u8 vcpu;             /* vCPU index in its VM, 0xff: none */
	u8 event;            /* enum trace_event */
	u8 pad[3];
	u64 a0, a1;
};
_Static_assert(sizeof(struct trace_rec) == 32, "trace record layout");

#define TRACE_BIT(ev) (1u << (ev))
#define TRACE_ALL (((1u << TEV_NR) - 1) & ~1u)

/* Events being recorded (0: tracing off). Written once at boot. */
extern u32 trace_mask;

/* Not an event: trace_emit sets this CPU's post source to a0. */
#define TRACE_OP_SOURCE 31

struct vcpu;
/* Record event ev for v (NULL: none) on this CPU. TEV_POST: a0 = vector | level << 8,
 * the source and the poster are added; TEV_TIMER_FIRE also makes the timer the source
 * of the next post, and records only when the event is on. */
void trace_emit(u32 ev, const struct vcpu *v, u64 a0, u64 a1);

/*
 * The call from a recording point, through trace_thunk (trace.c), which saves every
 * register the C calling convention lets a callee clobber. To the compiler the point
 * is an asm statement, not a call: a function that makes no call stays a leaf, and
 * the not-taken path's register allocation moves as little as possible (measured
 * with the bench guest: docs/tracing.md "Cost"). Unit tests call trace_emit directly.
 */
static inline __attribute__((always_inline)) void trace_call(u32 op, const struct vcpu *v, u64 a0, u64 a1)
{
#ifdef HV_HOST_TEST
	trace_emit(op, v, a0, a1);
#else
	/* The operands may be in any register (fixed ones would steer the allocation of
	 * the whole function): push them, pop them into the argument registers, whose
	 * values are saved around the call. */
	asm volatile("pushq %%rdi\n\tpushq %%rsi\n\tpushq %%rdx\n\tpushq %%rcx\n\t"
		     "pushq %0\n\tpushq %1\n\tpushq %2\n\tpushq %3\n\t"
		     "popq %%rcx\n\tpopq %%rdx\n\tpopq %%rsi\n\tpopq %%rdi\n\t"
		     "call trace_thunk\n\t"
		     "popq %%rcx\n\tpopq %%rdx\n\tpopq %%rsi\n\tpopq %%rdi"
		     : : "re"((u64)op), "re"(v), "re"(a0), "re"(a1) : "cc");
#endif
}

#define TRACE_ON(ev) unlikely(trace_mask & TRACE_BIT(ev))
#define TRACE(ev, v, a0, a1)                                                   \
	do {                                                                   \
		if (TRACE_ON(ev))                                              \
			trace_call((ev), (v), (u64)(a0), (u64)(a1));           \
	} while (0)
/* The source of the next post made on this CPU. */
#define TRACE_SOURCE(src)                                                      \
	do {                                                                   \
		if (TRACE_ON(TEV_POST))                                        \
			trace_call(TRACE_OP_SOURCE, NULL, (src), 0);           \
	} while (0)
/* The vCPU's LAPIC timer expired: the source of its post, and a record. */
#define TRACE_TIMER_FIRE(v, lvt, late)                                                              \
	do {                                                                                        \
		if (unlikely(trace_mask & (TRACE_BIT(TEV_TIMER_FIRE) | TRACE_BIT(TEV_POST))))        \
			trace_call(TEV_TIMER_FIRE, (v), (lvt), (late));                             \
	} while (0)

/* Parse a trace= value: event names (and `timer`, `all`) separated by `,`, `+` or `|`.
 * Returns false with the bad name in err. Pure (hv/trace/ring.c). */
bool trace_parse_events(const char *s, u32 *mask, char *err, size_t errlen);
const char *trace_event_name(u32 ev);

/* Boot: allocate the rings (records per CPU, rounded up to a power of two) for
 * nr_cpus CPUs and start recording the events of mask. False: out of memory. */
bool trace_init(u32 mask, u32 records, u32 nr_cpus);
/* When every VM has stopped: stop recording and write every ring to the debug port
 * (0xE9). Nothing when tracing is off. */
void trace_drain(void);

#endif
