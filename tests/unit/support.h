/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the host unit tests: cmocka, a fake physical memory for
 * phys_to_virt()/virt_to_phys() (hv/mm/mm.h; the real ones live in hv/mm/mm.c, which the
 * tests do not compile), and assertion helpers.
 */
#ifndef TESTS_UNIT_SUPPORT_H
#define TESTS_UNIT_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hv/lib/types.h"

/* Fake physical memory: phys_to_virt(pa) finds the region holding pa (NULL when none). */
void fake_mem_reset(void);
void fake_mem_map(u64 pa, void *buf, size_t len);

/* Fails the test (with both strings) unless needle occurs in haystack. */
#define assert_contains(haystack, needle) \
	_assert_contains((haystack), (needle), __FILE__, __LINE__)
#define assert_not_contains(haystack, needle) \
	_assert_not_contains((haystack), (needle), __FILE__, __LINE__)
void _assert_contains(const char *haystack, const char *needle, const char *file, int line);
void _assert_not_contains(const char *haystack, const char *needle, const char *file, int line);

#endif
