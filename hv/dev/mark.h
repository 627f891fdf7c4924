/* SPDX-License-Identifier: MIT */
/*
 * The measurement mark port (hv/dev/mark.c, docs/INTERFACES.md "Guest platform"): a
 * guest's byte write prints the VM's counters so far, and a benchmark takes the
 * difference between two marks.
 */
#ifndef HV_DEV_MARK_H
#define HV_DEV_MARK_H

#include "hv/lib/types.h"

#define MARK_PORT 0x5ec

/* The line "mark vm=VM value=V tsc=T exits=TOTAL NAME=COUNT ...; TAIL" in buf (always
 * NUL terminated when len > 0): one NAME=COUNT per nonzero by[i] (i < n), in index
 * order, named by name(i); "; TAIL" only when tail is not NULL or empty. The list of
 * counts is cut to leave room for the tail: an item that does not fit whole is left
 * out with every one after it, and the list then ends " ..." when that fits. Returns
 * the length written. */
size_t mark_format(char *buf, size_t len, const char *vm, u32 value, u64 tsc, u64 total, const u64 *by, u32 n,
		   const char *(*name)(unsigned), const char *tail);

#endif
