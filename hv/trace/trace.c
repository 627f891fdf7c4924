/* SPDX-License-Identifier: MIT */
/*
 * The trace facility's hypervisor half (hv/trace/trace.h): per-CPU rings, the
 * recording functions the TRACE() points call when their event is on, and the drain
 * through the debug port when every VM has stopped.
 *
 * Channel: port 0xE9, Bochs's "port_e9_hack" (every byte to the emulator's standard
 * output, 8-bit clean) and QEMU's -debugcon; tools/hvrun --trace FILE cuts the trace
 * out of that stream. One REP OUTSB per piece: a byte per emulated instruction.
 */
#include "hv/trace/ring.h"
#include "hv/host/cpu.h"
#include "hv/host/time.h"
#include "hv/vm/vm.h"
#include "hv/mm/mm.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "arch/x86/x86.h"

#define TRACE_PORT 0xe9

u32 trace_mask __attribute__((aligned(64)));

static struct trace_cpu {
	struct trace_ring ring;
	u32 src;             /* enum trace_source of the next post on this CPU */
} __attribute__((aligned(64))) tcpu[MAX_CPUS];
static u32 trace_cpus;
static u64 trace_capacity;

void trace_emit(u32 ev, const struct vcpu *v, u64 a0, u64 a1)
{
	struct cpu *c = this_cpu();
	struct trace_cpu *t = &tcpu[c->id];
	switch (ev) {
	case TRACE_OP_SOURCE:
		t->src = (u32)a0;
		return;
	case TEV_TIMER_FIRE:
		t->src = TSRC_TIMER;
		if (!(trace_mask & TRACE_BIT(TEV_TIMER_FIRE)))
			return;
		a0 &= 0x100ff;
		break;
	case TEV_POST: {
		const struct vcpu *from = c->vcpu;
		a0 = (a0 & 0x1ff) | (u64)t->src << 16;
		a1 = from ? (u64)(from->vm->id << 8 | from->id) : 0xffff;
		break;
	}
	}
	trace_ring_put(&t->ring, rdtsc(), (u16)c->id, v ? (u8)v->vm->id : 0xff, v ? (u8)v->id : 0xff, (u8)ev,
		       a0, a1);
}

/* trace_call's target: trace_emit with every caller-saved register preserved and the
 * stack aligned as the ABI wants it at a call. */
asm(".text\n"
    ".globl trace_thunk\n"
    "trace_thunk:\n"
    "	pushq %rbp\n"
    "	movq %rsp, %rbp\n"
    "	andq $-16, %rsp\n"
    "	pushq %rax\n	pushq %rcx\n	pushq %rdx\n	pushq %rsi\n	pushq %rdi\n"
    "	pushq %r8\n	pushq %r9\n	pushq %r10\n	pushq %r11\n	pushq %r11\n"
    "	call trace_emit\n"
    "	popq %r11\n	popq %r11\n	popq %r10\n	popq %r9\n	popq %r8\n"
    "	popq %rdi\n	popq %rsi\n	popq %rdx\n	popq %rcx\n	popq %rax\n"
    "	movq %rbp, %rsp\n"
    "	popq %rbp\n"
    "	ret\n");

bool trace_init(u32 mask, u32 records, u32 nr)
{
	u64 cap = 1;
	while (cap < records)
		cap <<= 1;
	for (u32 i = 0; i < nr; i++) {
		void *buf = alloc_pages_zeroed(cap * sizeof(struct trace_rec), 4096);
		if (!buf)
			return false;
		trace_ring_init(&tcpu[i].ring, buf, cap);
	}
	trace_cpus = nr;
	trace_capacity = cap;
	__atomic_store_n(&trace_mask, mask, __ATOMIC_RELEASE);
	return true;
}

static u64 csum;
static u64 sent;

static void out_bytes(const void *p, u64 n)
{
	csum = trace_checksum(csum, p, n);
	sent += n;
	asm volatile("rep outsb" : "+S"(p), "+c"(n) : "d"((u16)TRACE_PORT) : "memory");
}

void trace_drain(void)
{
	if (!trace_mask)
		return;
	u32 mask = trace_mask;
	__atomic_store_n(&trace_mask, 0, __ATOMIC_SEQ_CST);
	/* A point that tested the mask before the store finishes its one record in a few
	 * hundred instructions; wait for that much and more. */
	u64 t0 = rdtsc();
	while (rdtsc() - t0 < 100000)
		cpu_relax();
	u64 total = 0, dropped = 0;
	struct trace_file_header h;
	trace_file_header_fill(&h, trace_cpus, tsc_hz, mask, nr_vms);
	csum = TRACE_CHECKSUM_INIT;
	sent = 0;
	out_bytes(&h, sizeof(h));
	for (u32 i = 0; i < nr_vms; i++) {
		char name[TRACE_VM_NAME];
		memset(name, 0, sizeof(name));
		memcpy(name, vms[i].name, MIN(strlen(vms[i].name), sizeof(name) - 1));
		out_bytes(name, sizeof(name));
	}
	for (u32 i = 0; i < trace_cpus; i++) {
		const struct trace_ring *r = &tcpu[i].ring;
		struct trace_snap s;
		trace_ring_snapshot(r, &s);
		struct trace_chunk_header ch;
		trace_chunk_header_fill(&ch, i, trace_capacity, &s);
		out_bytes(&ch, sizeof(ch));
		/* Oldest first: the ring's tail, then its head part when it wrapped. */
		u64 at = s.first & r->mask, n1 = MIN(s.count, trace_capacity - at);
		out_bytes(trace_ring_at(r, s.first), n1 * sizeof(struct trace_rec));
		if (s.count > n1)
			out_bytes(trace_ring_at(r, 0), (s.count - n1) * sizeof(struct trace_rec));
		total += s.count;
		dropped += s.dropped;
	}
	struct trace_trailer tr;
	memcpy(tr.magic, TRACE_END_MAGIC, 4);
	tr.bytes = (u32)sent;
	tr.checksum = csum;
	out_bytes(&tr, sizeof(tr));
	printk("trace: %llu records from %u CPU(s) written to port 0x%x (%llu bytes, %llu dropped) in %llu TSC ticks\n",
	       (unsigned long long)total, trace_cpus, TRACE_PORT, (unsigned long long)sent,
	       (unsigned long long)dropped, (unsigned long long)(rdtsc() - t0));
}
