/* SPDX-License-Identifier: MIT */
/* Rate limits for guest-triggered console lines (hv/lib/ratelimit.h). */
#include "hv/lib/ratelimit.h"

bool ratelimit_allow(struct ratelimit *rl, u64 now, u64 interval, u32 burst, u32 *reported)
{
	*reported = 0;
	if (!rl->window_start || now - rl->window_start >= interval) {
		/* A new interval: what the last one refused is reported with this line. */
		rl->window_start = now ? now : 1;
		rl->printed = 0;
		*reported = rl->suppressed;
		rl->suppressed = 0;
	}
	if (rl->printed < burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}

u32 ratelimit_take_suppressed(struct ratelimit *rl)
{
	u32 n = rl->suppressed;
	rl->suppressed = 0;
	return n;
}
