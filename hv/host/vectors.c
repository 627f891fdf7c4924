/* SPDX-License-Identifier: MIT */
/* The host vector registry (vectors.h). Registration happens on the BSP during boot
 * and VM creation, before other CPUs take interrupts for those vectors. */
#include "hv/host/vectors.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"

static struct host_vector table[256];

bool host_vector_register(u8 vector, const char *name, host_vector_fn fn, void *arg)
{
	if (vector < HOST_VECTOR_FIRST || !name || table[vector].name)
		return false;
	table[vector] = (struct host_vector){ .name = name, .fn = fn, .arg = arg };
	return true;
}

int host_vector_alloc(u8 lo, u8 hi, const char *name, host_vector_fn fn, void *arg)
{
	for (unsigned v = lo < HOST_VECTOR_FIRST ? HOST_VECTOR_FIRST : lo; v <= hi; v++)
		if (host_vector_register((u8)v, name, fn, arg))
			return (int)v;
	return -1;
}

void host_vector_free(u8 vector)
{
	table[vector] = (struct host_vector){ 0 };
}

const struct host_vector *host_vector_get(u8 vector)
{
	return &table[vector];
}

bool host_vector_dispatch(u8 vector)
{
	struct host_vector *e = &table[vector];
	if (!e->name)
		return false;
	__atomic_fetch_add(&e->count, 1, __ATOMIC_RELAXED);
	if (e->fn)
		e->fn(vector, e->arg);
	return true;
}

void host_vectors_print(void)
{
	char line[600];
	size_t n = 0;
	line[0] = '\0';
	for (unsigned v = HOST_VECTOR_FIRST; v < 256 && n < sizeof(line); v++)
		if (table[v].name)
			n += (size_t)hv_snprintf(line + n, sizeof(line) - n, "%s0x%02x %s", n ? ", " : "", v,
						 table[v].name);
	printk("host vectors: %s\n", line);
}
