/* SPDX-License-Identifier: MIT */
/*
 * A rate limit for console lines a guest can cause (hv/lib/ratelimit.c): at most `burst`
 * lines per `interval` TSC ticks; the lines refused are counted, so the next line let
 * through (or the VM's stop) can say how many were dropped. No lock: the caller
 * serialises (vm_log takes the VM's lock).
 */
#ifndef HV_RATELIMIT_H
#define HV_RATELIMIT_H

#include "hv/lib/types.h"

struct ratelimit {
	u64 window_start;   /* TSC at the start of the current interval; 0 = none yet */
	u32 printed;        /* lines let through in this interval */
	u32 suppressed;     /* lines refused since the last report */
};

/* May a line be printed at TSC `now`? *reported receives the number of lines refused
 * before this one that the caller should now report (0 = none), and the count starts
 * again. */
bool ratelimit_allow(struct ratelimit *rl, u64 now, u64 interval, u32 burst, u32 *reported);
/* The lines refused and not reported yet (then 0): for a final note. */
u32 ratelimit_take_suppressed(struct ratelimit *rl);

#endif
