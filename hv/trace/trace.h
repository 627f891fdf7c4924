/* SPDX-License-Identifier: MIT */
/*
 * The trace facility: per-CPU ring buffers of fixed-size records of what happened to
 * interrupts and vCPUs (docs/INTERFACES.md "Tracing", docs/ARCHITECTURE.md).
 *
 * Recording points use TRACE(ev, v, a0, a1): with the event off (the default: no
 * trace= option) a point is one NOP, patched into a call at boot when the event is
 * on (trace_point below). Records
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

/* Events being recorded (0: tracing off). Written at boot, cleared by trace_drain. */
extern u32 trace_mask;

/* Not an event: trace_emit sets this CPU's post source to a0. */
#define TRACE_OP_SOURCE 31
/* Added to TEV_NOTIFY: the wakeup of a halted vCPU (a1 |= 1 << 32). */
#define TRACE_OP_WAKE 0x200
/* Added to TEV_YIELD: TYIELD_KICK into this CPU's last record, that yield's. */
#define TRACE_OP_KICK 0x400

struct vcpu;
/*
 * Record op for v (NULL: none) on this CPU, if tracing is still on. Most events
 * record a0 and a1 as given; some are given values the point has at hand and complete
 * the record from them here (so that the point computes nothing). The operands are
 * passed as the registers hold them: a value narrower than 64 bits has undefined
 * upper bits, which are cut off here.
 *   TEV_POST: a0 = vector, a1 = level; the source and the poster are added;
 *   TEV_ELIDE: a0 (the vector) is the last post's on this CPU;
 *   TEV_TIMER_FIRE: a0 = the host TSC at expiry; the LVT timer entry and the
 *     lateness are read from v; the timer becomes the source of the next post;
 *   TEV_WAKEUP: a0 = the struct cpu taking it; TEV_BLOCK: read from v;
 *   TEV_SWITCH: a1 = now (the time since its wakeup is computed);
 *   TEV_YIELD: a0 = the target struct vcpu, a1 = moved (a moved target back
 *     on a queue was boosted there, one off every queue is pulled here);
 */
void trace_emit(u32 op, const struct vcpu *v, u64 a0, u64 a1);

/*
 * A recording point: a 5-byte NOP (0F 1F 44 00 00) in the code, listed in the section
 * .trace_sites with the events it records and a stub placed out of line
 * (.text.trace_stubs). To the compiler the point is an asm statement with register or
 * immediate inputs and no clobbers: no branch, no call, no join of paths, so the code
 * around it is compiled as without it (the values it records are ones the code has in
 * registers there anyway). trace_patch (boot, before the APs start) rewrites the NOP of
 * every site whose events are in trace= into CALL rel32 to its stub; the stub passes
 * the operands to trace_emit through trace_thunk, which saves every register and the
 * flags. Without trace= a point costs one NOP, the stub is never reached.
 */
struct trace_site {
	u64 at;              /* the NOP */
	u64 stub;            /* what it calls when on */
	u64 bits;            /* TRACE_BIT()s of the events it records */
};
#define TRACE_SITE_NOP 0x0f, 0x1f, 0x44, 0x00, 0x00
#define TRACE_SITE_LEN 5

#ifdef HV_HOST_TEST
#define trace_point(bits, op, v, a0, a1)                                                            \
	do {                                                                                        \
		if (trace_mask & (bits))                                                            \
			trace_emit((op), (v), (u64)(a0), (u64)(a1));                                \
	} while (0)
#else
#define trace_point(bits, op, v, a0, a1)                                                            \
	asm inline volatile("1:\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"                              \
			    "\t.pushsection .text.trace_stubs, \"ax\"\n"                            \
			    "2:\tpushq %%rdi\n\tpushq %%rsi\n\tpushq %%rdx\n\tpushq %%rcx\n\t"              \
			    "pushq %q0\n\tpushq %q1\n\tpushq %q2\n\tpushq %q3\n\t"                      \
			    "popq %%rcx\n\tpopq %%rdx\n\tpopq %%rsi\n\tpopq %%rdi\n\t"                  \
			    "call trace_thunk\n\t"                                                  \
			    "popq %%rcx\n\tpopq %%rdx\n\tpopq %%rsi\n\tpopq %%rdi\n\t"                  \
			    "ret\n"                                                                 \
			    "\t.popsection\n"                                                       \
			    "\t.pushsection .trace_sites, \"a\"\n\t.balign 8\n\t.quad 1b, 2b, %c4\n" \
			    "\t.popsection"                                                         \
			    :                                                                       \
			    : "re"(op), "re"(v), "re"(a0), "re"(a1), "i"(bits))
#endif

#define TRACE(ev, v, a0, a1) trace_point(TRACE_BIT(ev), (ev), (v), (a0), (a1))
/* A post (vcpu_post_irq, first): also on for `elide`, whose records take the vector
 * from it. */
#define TRACE_POST(v, vector, level)                                                                \
	trace_point(TRACE_BIT(TEV_POST) | TRACE_BIT(TEV_ELIDE), TEV_POST, (v), (vector), (level))
/* The wakeup notification of a halted vCPU: the vector sent, its NDST. */
#define TRACE_NOTIFY_WAKE(v, nv, ndst)                                                              \
	trace_point(TRACE_BIT(TEV_NOTIFY), TEV_NOTIFY | TRACE_OP_WAKE, (v), (nv), (ndst))
/* The source of the next post made on this CPU. */
#define TRACE_SOURCE(src) trace_point(TRACE_BIT(TEV_POST), TRACE_OP_SOURCE, NULL, (src), 0)
/* The vCPU's LAPIC timer expired at host TSC now: the source of its post, and a record. */
#define TRACE_TIMER_FIRE(v, now)                                                                    \
	trace_point(TRACE_BIT(TEV_TIMER_FIRE) | TRACE_BIT(TEV_POST), TEV_TIMER_FIRE, (v), (now), 0)
/* A directed yield from v to t (its run queue's lock held): moved as in
 * sched_pause_exit; TRACE_YIELD_KICK adds TYIELD_KICK to that record. */
#define TRACE_YIELD(v, t, moved) trace_point(TRACE_BIT(TEV_YIELD), TEV_YIELD, (v), (t), (moved))
#define TRACE_YIELD_KICK(v) trace_point(TRACE_BIT(TEV_YIELD), TEV_YIELD | TRACE_OP_KICK, (v), 0, 0)

/* Parse a trace= value: event names (and `timer`, `all`) separated by `,`, `+` or `|`.
 * Returns false with the bad name in err. Pure (hv/trace/ring.c). */
bool trace_parse_events(const char *s, u32 *mask, char *err, size_t errlen);
const char *trace_event_name(u32 ev);

/* Boot: allocate the rings (records per CPU, rounded up to a power of two) for
 * nr_cpus CPUs and start recording the events of mask. False: out of memory. */
bool trace_init(u32 mask, u32 records, u32 nr_cpus);
/* Boot, before the APs start: turn on the recording points of the events of mask
 * (their NOPs become jumps). Returns the number of sites patched. */
u32 trace_patch(u32 mask);
/* When every VM has stopped: stop recording and write every ring to the debug port
 * (0xE9). Nothing when tracing is off. */
void trace_drain(void);

#endif
