/* SPDX-License-Identifier: MIT */
/* Shared helpers of the host unit tests (see support.h). */
#include "tests/unit/support.h"
#include "hv/mm/mm.h"
#include "hv/lib/console.h"
#include "hv/trace/trace.h"

#define MAX_REGIONS 16

static struct {
	u64 pa;
	u8 *buf;
	size_t len;
} regions[MAX_REGIONS];
static unsigned nr_regions;

void fake_mem_reset(void)
{
	nr_regions = 0;
}

void fake_mem_map(u64 pa, void *buf, size_t len)
{
	assert_true(nr_regions < MAX_REGIONS);
	regions[nr_regions].pa = pa;
	regions[nr_regions].buf = buf;
	regions[nr_regions].len = len;
	nr_regions++;
}

void *phys_to_virt(u64 pa)
{
	for (unsigned i = 0; i < nr_regions; i++)
		if (pa >= regions[i].pa && pa - regions[i].pa < regions[i].len)
			return regions[i].buf + (pa - regions[i].pa);
	return NULL;
}

u64 virt_to_phys(const void *va)
{
	const u8 *p = va;
	for (unsigned i = 0; i < nr_regions; i++)
		if (p >= regions[i].buf && p < regions[i].buf + regions[i].len)
			return regions[i].pa + (u64)(p - regions[i].buf);
	fail_msg("virt_to_phys(%p): not in the fake physical memory", va);
	return 0;
}

/* The sources under test call none of these today; if one does, the test says so. */
void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fail_msg("panic: %s", buf);
	abort();
}

void _assert_contains(const char *haystack, const char *needle, const char *file, int line)
{
	if (haystack && needle && strstr(haystack, needle))
		return;
	print_error("%s:%d: \"%s\" does not contain \"%s\"\n", file, line,
		    haystack ? haystack : "(null)", needle ? needle : "(null)");
	_fail(file, line);
}

void _assert_not_contains(const char *haystack, const char *needle, const char *file, int line)
{
	if (haystack && needle && !strstr(haystack, needle))
		return;
	print_error("%s:%d: \"%s\" contains \"%s\"\n", file, line,
		    haystack ? haystack : "(null)", needle ? needle : "(null)");
	_fail(file, line);
}

/* The trace facility's recording functions (hv/trace/trace.c): trace_mask stays 0 in
 * unit tests, so the TRACE() points in the sources under test never call them. */
u32 trace_mask;
void trace_emit(u32 op, const struct vcpu *v, u64 a0, u64 a1)
{
	(void)op, (void)v, (void)a0, (void)a1;
}
