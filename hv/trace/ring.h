/* SPDX-License-Identifier: MIT */
/*
 * A trace ring: a power-of-two array of records and the count of records ever written.
 * One writer (the owning CPU, interrupts off); a full ring overwrites its oldest record
 * and the overwritten ones are counted as dropped. A reader takes a snapshot of the
 * count (acquire) and reads the records it covers; it must run when the writer has
 * stopped (trace_drain clears trace_mask first), or records may change under it.
 * Pure: unit-tested unchanged (tests/unit/test_trace.c).
 *
 * The trace file (docs/INTERFACES.md "Trace file"), little-endian: a 64-byte header,
 * nr_vms 16-byte VM names, per CPU a 32-byte chunk header and its records oldest
 * first, then a 16-byte trailer with the FNV-1a checksum of everything before it.
 */
#ifndef HV_TRACE_RING_H
#define HV_TRACE_RING_H

#include "hv/trace/trace.h"

struct trace_ring {
	struct trace_rec *buf;
	u64 mask;            /* capacity - 1 (capacity a power of two) */
	u64 head;            /* records ever written; the next goes to buf[head & mask] */
};

static inline void trace_ring_init(struct trace_ring *r, struct trace_rec *buf, u64 capacity)
{
	r->buf = buf;
	r->mask = capacity - 1;
	r->head = 0;
}

static inline void trace_ring_put(struct trace_ring *r, u64 tsc, u16 cpu, u8 vm, u8 vcpu, u8 ev, u64 a0, u64 a1)
{
	u64 h = r->head;
	struct trace_rec *s = &r->buf[h & r->mask];
	s->tsc = tsc;
	s->cpu = cpu;
	s->vm = vm;
	s->vcpu = vcpu;
	s->event = ev;
	s->pad[0] = s->pad[1] = s->pad[2] = 0;
	s->a0 = a0;
	s->a1 = a1;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
}

/* What a reader sees: records first .. first + count - 1 (indexes into the ring's
 * history), the oldest at buf[first & mask]; dropped = overwritten ones. */
struct trace_snap {
	u64 first, count, written, dropped;
};
void trace_ring_snapshot(const struct trace_ring *r, struct trace_snap *s);
const struct trace_rec *trace_ring_at(const struct trace_ring *r, u64 index);

/* ---- the file ---- */
#define TRACE_MAGIC "HVTRACE"          /* 8 bytes with its NUL */
#define TRACE_CHUNK_MAGIC "HVTC"       /* 4 bytes, no NUL */
#define TRACE_END_MAGIC "HVTE"
#define TRACE_VERSION 1
#define TRACE_VM_NAME 16

struct trace_file_header {
	char magic[8];
	u16 version;
	u16 header_size;     /* 64 */
	u16 record_size;     /* 32 */
	u16 nr_cpus;         /* chunks that follow the VM names */
	u64 tsc_hz;
	u32 event_mask;
	u32 nr_vms;
	u64 reserved[4];
};
_Static_assert(sizeof(struct trace_file_header) == 64, "trace file header");

struct trace_chunk_header {
	char magic[4];
	u16 cpu;
	u16 reserved;
	u32 nr_records;      /* records in this chunk */
	u32 capacity;        /* the ring's size in records */
	u64 written;         /* records ever written on this CPU */
	u64 dropped;         /* overwritten before the drain: written - nr_records */
};
_Static_assert(sizeof(struct trace_chunk_header) == 32, "trace chunk header");

struct trace_trailer {
	char magic[4];
	u32 bytes;           /* from the file header's first byte to the trailer's */
	u64 checksum;        /* trace_checksum over those bytes */
};
_Static_assert(sizeof(struct trace_trailer) == 16, "trace trailer");

#define TRACE_CHECKSUM_INIT 0xcbf29ce484222325ull
/* FNV-1a, 64-bit, over little-endian 64-bit words (bytes a multiple of 8). */
u64 trace_checksum(u64 h, const void *p, u64 bytes);

void trace_file_header_fill(struct trace_file_header *h, u32 nr_cpus, u64 tsc_hz, u32 mask, u32 nr_vms);
void trace_chunk_header_fill(struct trace_chunk_header *h, u32 cpu, u64 capacity, const struct trace_snap *s);

#endif
