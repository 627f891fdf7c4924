/* SPDX-License-Identifier: MIT */
/* String and formatting helpers. On the host the C library provides the mem/str ones. */
#ifndef HV_LIB_H
#define HV_LIB_H

#include "hv/lib/types.h"

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* hv/lib/format.c: a small vsnprintf (%s %c %d %i %u %x %X %p, l/ll/z, width, 0 and -). */
int hv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int hv_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
/* The length of a console line formatted into buf[size] (len: what the formatter
 * wanted). A line cut at the end of the buffer whose format ends in a newline ends in
 * "...\n" there, so the next line does not run on after it (hv/lib/format.c). */
size_t hv_line_fit(char *buf, size_t size, size_t len, const char *fmt);

/* Parse an unsigned number, decimal or 0x hex, with an optional K/M/G suffix when
 * allow_suffix. Returns false on any malformed or overflowing input. */
bool parse_u64(const char *s, size_t len, bool allow_suffix, u64 *out);

#endif
