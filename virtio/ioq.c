/* SPDX-License-Identifier: MIT */
/* The I/O CPU's in-flight FIFO (virtio/ioq.h). */
#include "virtio/ioq.h"

bool ioq_put(struct ioq_fifo *f, u16 head, u32 len, u64 due)
{
	if (f->count >= IOQ_MAX)
		return false;
	f->r[(f->first + f->count) % IOQ_MAX] = (struct ioq_req){ .head = head, .len = len, .due = due };
	f->count++;
	return true;
}

bool ioq_peek_due(const struct ioq_fifo *f, u64 now, struct ioq_req *out)
{
	if (!f->count)
		return false;
	const struct ioq_req *r = &f->r[f->first];
	if ((s64)(now - r->due) < 0)
		return false;
	*out = *r;
	return true;
}

void ioq_pop(struct ioq_fifo *f)
{
	if (!f->count)
		return;
	f->first = (f->first + 1) % IOQ_MAX;
	f->count--;
}
