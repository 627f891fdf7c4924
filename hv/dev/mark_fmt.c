/* SPDX-License-Identifier: MIT */
/* The mark line's text (hv/dev/mark.h); no device state, so the host unit test
 * (tests/unit/test_mark.c) compiles it as it is. */
#include "hv/dev/mark.h"
#include "hv/lib/lib.h"

size_t mark_format(char *buf, size_t len, const char *vm, u32 value, u64 tsc, u64 total, const u64 *by, u32 n,
		   const char *(*name)(unsigned), const char *tail)
{
	if (!len)
		return 0;
	int w = hv_snprintf(buf, len, "mark vm=%s value=%u tsc=%llu exits=%llu", vm, value, (unsigned long long)tsc,
			    (unsigned long long)total);
	size_t at = w < 0 ? 0 : MIN((size_t)w, len - 1);
	size_t tlen = tail && tail[0] ? strlen(tail) + 2 : 0;   /* "; " TAIL */
	/* the reasons end where the tail (when it fits at all) must still fit */
	size_t end = at + tlen < len ? len - tlen : len;
	char item[64];
	for (u32 i = 0; i < n; i++) {
		if (!by[i])
			continue;
		int m = hv_snprintf(item, sizeof(item), " %s=%llu", name(i), (unsigned long long)by[i]);
		if (m < 0 || (size_t)m >= sizeof(item) || at + (size_t)m >= end) {
			if (at + 4 < end) {
				memcpy(buf + at, " ...", 4);
				at += 4;
			}
			break;
		}
		memcpy(buf + at, item, (size_t)m);
		at += (size_t)m;
	}
	if (tlen && at + tlen < len) {
		memcpy(buf + at, "; ", 2);
		memcpy(buf + at + 2, tail, tlen - 2);
		at += tlen;
	}
	buf[at] = '\0';
	return at;
}
