/* SPDX-License-Identifier: MIT */
/*
 * The host's interrupt vectors (IDT entries 32-255): who owns each one and what runs
 * when it arrives. Every vector the hypervisor programs anywhere (the LAPIC timer's
 * LVT, IPIs, a VMCS's posted-interrupt notification vector, a posted-interrupt
 * descriptor's NV, later an IOMMU's fault event) is registered here first, so that two
 * owners can never share one and an unregistered vector is reported.
 *
 * Priority follows the vector (Intel SDM Vol. 3A, "Task and Processor Priorities": the
 * class is bits 7:4), so the fixed vectors of the posting protocol sit at the top and
 * allocation takes a range from its caller.
 */
#ifndef HV_HOST_VECTORS_H
#define HV_HOST_VECTORS_H

#include "hv/lib/types.h"

#define HOST_VECTOR_FIRST 32   /* 0-31 are exceptions */

/* Runs with interrupts off, after the EOI; vector is the one that arrived. */
typedef void (*host_vector_fn)(u8 vector, void *arg);

struct host_vector {
	const char *name;          /* NULL: free */
	host_vector_fn fn;         /* NULL with a name: EOI only (the arrival is the message) */
	void *arg;
	u64 count;                 /* arrivals (all CPUs, relaxed) */
};

/* Take vector for name; false (and nothing changes) when it is out of range or taken. */
bool host_vector_register(u8 vector, const char *name, host_vector_fn fn, void *arg);
/* Take the lowest free vector in [lo, hi]; -1 when none is free. */
int host_vector_alloc(u8 lo, u8 hi, const char *name, host_vector_fn fn, void *arg);
/* Give vector back. */
void host_vector_free(u8 vector);
/* The entry of vector (read-only), for reports. */
const struct host_vector *host_vector_get(u8 vector);
/* Dispatch an arrived vector: count it and run its function; false when no one owns
 * it (the caller reports it). The EOI is the caller's. */
bool host_vector_dispatch(u8 vector);
/* One console line listing every owned vector. */
void host_vectors_print(void);

#endif
