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
	u8 post_vec;         /* the vector of the last post on this CPU */
} __attribute__((aligned(64))) tcpu[MAX_CPUS];
static u32 trace_cpus;
static u64 trace_capacity;

static void put(struct trace_cpu *t, const struct cpu *c, const struct vcpu *v, u32 ev, u64 a0, u64 a1)
{
	trace_ring_put(&t->ring, rdtsc(), (u16)c->id, v ? (u8)v->vm->id : 0xff, v ? (u8)v->id : 0xff, (u8)ev, a0, a1);
}

static void put_post(struct trace_cpu *t, const struct cpu *c, const struct vcpu *v, u64 vector, bool level)
{
	const struct vcpu *from = c->vcpu;
	put(t, c, v, TEV_POST, (vector & 0xff) | (u64)level << 8 | (u64)t->src << 16,
	    from ? (u64)(from->vm->id << 8 | from->id) : 0xffff);
}

void trace_emit(u32 op, const struct vcpu *v, u64 a0, u64 a1)
{
	u32 mask = __atomic_load_n(&trace_mask, __ATOMIC_RELAXED);
	if (!mask)
		return;   /* trace_drain has stopped recording */
	struct cpu *c = this_cpu();
	struct trace_cpu *t = &tcpu[c->id];
	u32 ev = op & 0xff;
	switch (ev) {
	case TRACE_OP_SOURCE:
		t->src = (u32)a0;
		return;
	case TEV_POST:
		/* vcpu_post_irq's way out records what became of this vector. */
		t->post_vec = (u8)a0;
		if (mask & TRACE_BIT(TEV_POST))
			put_post(t, c, v, (u8)a0, a1 & 1);
		return;
	case TEV_TIMER_FIRE:
		t->src = TSRC_TIMER;
		/* At the point, before the timer is re-armed or cleared. */
		a1 = a0 - v->lapic.timer_deadline;
		a0 = vlapic_reg(&v->lapic, APIC_LVT_TIMER) & 0x100ff;
		break;
	case TEV_NOTIFY:
		a0 = (u8)a0;
		a1 = (u32)a1 | (op & TRACE_OP_WAKE ? 1ull << 32 : 0);
		break;
	case TEV_ELIDE:
		a0 = t->post_vec;
		break;
	case TEV_EOI:
	case TEV_INJECT:
		a0 = (u64)(s64)(s32)a0;   /* an int vector; EOI: -1 none in service */
		break;
	case TEV_WAKEUP:
		a0 = ((const struct cpu *)a0)->id;
		break;
	case TEV_BLOCK:
		a0 = v->halt_irq_wake;
		a1 = v->lapic.timer_deadline;
		break;
	case TEV_SWITCH:
		a1 = v->wake_time ? a1 - v->wake_time : 0;
		break;
	case TEV_YIELD: {
		if (op & TRACE_OP_KICK) {
			/* Interrupts have stayed off since the yield's record. */
			struct trace_rec *last = t->ring.head ? &t->ring.buf[(t->ring.head - 1) & t->ring.mask] : NULL;
			if (last && last->event == TEV_YIELD)
				last->a1 |= TYIELD_KICK;
			return;
		}
		const struct vcpu *to = (const struct vcpu *)a0;
		a0 = (u64)(to->vm->id << 8 | to->id);
		a1 = (a1 & 1) ? (to->rq_cpu ? TYIELD_BOOST : TYIELD_PULL) : 0;
		break;
	}
	}
	if (mask & TRACE_BIT(ev))
		put(t, c, v, ev, a0, a1);
}

/* The stubs' target: trace_emit with every caller-saved register and the flags
 * preserved, and the stack aligned as the ABI wants it at a call. */
asm(".text\n"
    ".globl trace_thunk\n"
    "trace_thunk:\n"
    "	pushq %rbp\n"
    "	movq %rsp, %rbp\n"
    "	andq $-16, %rsp\n"
    "	pushfq\n"
    "	pushq %rax\n	pushq %rcx\n	pushq %rdx\n	pushq %rsi\n	pushq %rdi\n"
    "	pushq %r8\n	pushq %r9\n	pushq %r10\n	pushq %r11\n"
    "	call trace_emit\n"
    "	popq %r11\n	popq %r10\n	popq %r9\n	popq %r8\n"
    "	popq %rdi\n	popq %rsi\n	popq %rdx\n	popq %rcx\n	popq %rax\n"
    "	popfq\n"
    "	movq %rbp, %rsp\n"
    "	popq %rbp\n"
    "	ret\n");

/* The sites of the recording points (boot/linker.ld). */
extern const struct trace_site __trace_sites_start[], __trace_sites_end[];

u32 trace_patch(u32 mask)
{
	static const u8 nop[TRACE_SITE_LEN] = { TRACE_SITE_NOP };
	u32 n = 0;
	for (const struct trace_site *s = __trace_sites_start; s < __trace_sites_end; s++) {
		if (!(s->bits & mask))
			continue;
		u8 *at = (u8 *)s->at;
		s64 rel = (s64)s->stub - (s64)(s->at + TRACE_SITE_LEN);
		if (memcmp(at, nop, TRACE_SITE_LEN) || rel != (s32)rel)
			panic("trace: recording point at %p is not a patchable NOP", (void *)at);
		/* CALL rel32 (E8 cd): "CALL-Call Procedure" in the SDM, volume 2A. */
		u8 call[TRACE_SITE_LEN] = { 0xe8, (u8)rel, (u8)(rel >> 8), (u8)(rel >> 16), (u8)(rel >> 24) };
		memcpy(at, call, TRACE_SITE_LEN);
		n++;
	}
	/* Self-modifying code: a serializing instruction before the modified code runs
	 * (SDM volume 3A, "Handling Self- and Cross-Modifying Code"). The APs have not
	 * started yet: they fetch the patched code. */
	u32 a, b, c, d;
	cpuid_count(0, 0, &a, &b, &c, &d);
	return n;
}

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
