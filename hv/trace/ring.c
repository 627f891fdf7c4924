/* SPDX-License-Identifier: MIT */
/*
 * The pure half of the trace facility (hv/trace/ring.h): ring snapshots, the file's
 * headers and checksum, and the event names of the trace= option.
 */
#include "hv/trace/ring.h"
#include "hv/lib/lib.h"

void trace_ring_snapshot(const struct trace_ring *r, struct trace_snap *s)
{
	u64 head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	u64 cap = r->mask + 1;
	s->written = head;
	s->count = head < cap ? head : cap;
	s->first = head - s->count;
	s->dropped = head - s->count;
}

const struct trace_rec *trace_ring_at(const struct trace_ring *r, u64 index)
{
	return &r->buf[index & r->mask];
}

u64 trace_checksum(u64 h, const void *p, u64 bytes)
{
	const u64 *w = p;
	for (u64 i = 0; i < bytes / 8; i++) {
		h ^= w[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void trace_file_header_fill(struct trace_file_header *h, u32 nr_cpus, u64 tsc_hz, u32 mask, u32 nr_vms)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, TRACE_MAGIC, 8);
	h->version = TRACE_VERSION;
	h->header_size = sizeof(*h);
	h->record_size = sizeof(struct trace_rec);
	h->nr_cpus = (u16)nr_cpus;
	h->tsc_hz = tsc_hz;
	h->event_mask = mask;
	h->nr_vms = nr_vms;
}

void trace_chunk_header_fill(struct trace_chunk_header *h, u32 cpu, u64 capacity, const struct trace_snap *s)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, TRACE_CHUNK_MAGIC, 4);
	h->cpu = (u16)cpu;
	h->nr_records = (u32)s->count;
	h->capacity = (u32)capacity;
	h->written = s->written;
	h->dropped = s->dropped;
}

static const char *const names[TEV_NR] = {
	[TEV_EXIT] = "exit", [TEV_ENTRY] = "entry", [TEV_POST] = "post", [TEV_NOTIFY] = "notify",
	[TEV_ELIDE] = "elide", [TEV_WAKEUP] = "wakeup", [TEV_BLOCK] = "block", [TEV_SWITCH] = "switch",
	[TEV_YIELD] = "yield", [TEV_TIMER_ARM] = "timer_arm", [TEV_TIMER_FIRE] = "timer_fire",
	[TEV_EOI] = "eoi", [TEV_INJECT] = "inject",
};

const char *trace_event_name(u32 ev)
{
	return ev < TEV_NR && names[ev] ? names[ev] : "unknown";
}

bool trace_parse_events(const char *s, u32 *mask, char *err, size_t errlen)
{
	u32 m = 0;
	if (!s || !*s) {
		hv_snprintf(err, errlen, "an empty event list");
		return false;
	}
	while (*s) {
		size_t n = 0;
		while (s[n] && s[n] != ',' && s[n] != '+' && s[n] != '|')
			n++;
		u32 bit = 0;
		if (n == 3 && !strncmp(s, "all", 3))
			bit = TRACE_ALL;
		else if (n == 5 && !strncmp(s, "timer", 5))
			bit = TRACE_BIT(TEV_TIMER_ARM) | TRACE_BIT(TEV_TIMER_FIRE);
		for (u32 e = 1; e < TEV_NR && !bit; e++)
			if (strlen(names[e]) == n && !strncmp(s, names[e], n))
				bit = TRACE_BIT(e);
		if (!bit) {
			hv_snprintf(err, errlen, "unknown event '%.*s'", (int)n, s);
			return false;
		}
		m |= bit;
		s += n;
		if (*s) {
			s++;
			if (!*s) {
				hv_snprintf(err, errlen, "an empty event name at the end");
				return false;
			}
		}
	}
	*mask = m;
	return true;
}
