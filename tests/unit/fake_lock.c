/* SPDX-License-Identifier: MIT */
/*
 * A single-threaded spinlock for the unit tests that link code taking device or bus
 * locks (hv/lib/console.c has the real one, which the tests do not compile). It fails
 * the test on a lock taken twice, on unlocking a free lock and on flags that are not
 * the ones the matching lock returned, so a missing or doubled unlock on an error path
 * of the code under test is caught. List it in UNIT_SRC_NAME (tests/unit/unit.mk).
 */
#include "tests/unit/support.h"
#include "hv/host/cpu.h"

#define FAKE_LOCK_FLAGS 0x5aULL

u64 spin_lock_irqsave(struct spinlock *l)
{
	if (l->locked)
		fail_msg("spinlock taken twice");
	l->locked = 1;
	return FAKE_LOCK_FLAGS;
}

void spin_unlock_irqrestore(struct spinlock *l, u64 flags)
{
	assert_int_equal(flags, FAKE_LOCK_FLAGS);
	if (!l->locked)
		fail_msg("unlocking a free spinlock");
	l->locked = 0;
}
