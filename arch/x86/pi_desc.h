/* SPDX-License-Identifier: MIT */
/*
 * Posted-interrupt descriptors (Intel SDM Vol. 3C, "Posted-Interrupt Processing";
 * VT-d specification, "Posted-Interrupt Descriptor"), one per vCPU.
 *
 * Bits 255:0 are the posted-interrupt requests (PIR), one per vector; bit 256 is
 * Outstanding Notification (ON). The CPU uses only these two; the VT-d format adds
 * Suppress Notification (SN, bit 257), the notification vector (NV, bits 279:272) and
 * the notification destination (NDST, bits 319:288), used by the IOMMU and kept here
 * so that the same descriptor serves both posters.
 *
 * The operations below are the descriptor's whole vocabulary. They are pure (atomic
 * instructions on memory) and unit-tested on the host (tests/unit/test_posted.c).
 * Every bit a poster sets is set with a locked instruction: the CPU (when it processes
 * a notification) and the IOMMU update the same cache line concurrently.
 */
#ifndef ARCH_X86_PI_DESC_H
#define ARCH_X86_PI_DESC_H

#include "hv/lib/types.h"

#define PI_ON_BIT 0    /* bit 256 of the descriptor = bit 0 of control */
#define PI_SN_BIT 1
#define PI_CTL_ON BIT64(PI_ON_BIT)
#define PI_CTL_SN BIT64(PI_SN_BIT)

struct pi_desc {
	u32 pir[8];
	/* ON (bit 0), SN (bit 1), NV (bits 23:16), NDST (bits 63:32). */
	u64 control;
	u32 reserved[6];
} __packed __aligned(64);
_Static_assert(sizeof(struct pi_desc) == 64, "posted-interrupt descriptor is 64 bytes (SDM Vol. 3C, "
	       "\"Posted-Interrupt Descriptor\")");

static inline u8 pi_nv(const struct pi_desc *d)
{
	return (u8)(__atomic_load_n(&d->control, __ATOMIC_RELAXED) >> 16);
}

static inline u32 pi_ndst(const struct pi_desc *d)
{
	return (u32)(__atomic_load_n(&d->control, __ATOMIC_RELAXED) >> 32);
}

/*
 * NDST, the notification destination (VT-d specification, "Posted-Interrupt
 * Descriptor"): in xAPIC mode the 8-bit APIC ID in bits 15:8 (the other bits 0); in
 * x2APIC mode the whole 32-bit x2APIC ID. The IOMMU reads it in the mode its interrupt
 * remapping runs in (extended interrupt mode = x2APIC), the hypervisor's own posters
 * (lapic_send_ipi_ndst) in the host LAPIC's mode: both directions must agree.
 */
static inline u32 pi_ndst_encode(u32 apic_id, bool x2apic)
{
	return x2apic ? apic_id : (apic_id & 0xff) << 8;
}

static inline u32 pi_ndst_apic_id(u32 ndst, bool x2apic)
{
	return x2apic ? ndst : (ndst >> 8) & 0xff;
}

/* Build a control word from its fields. */
static inline u64 pi_control(bool on, bool sn, u8 nv, u32 ndst)
{
	return (on ? PI_CTL_ON : 0) | (sn ? PI_CTL_SN : 0) | ((u64)nv << 16) | ((u64)ndst << 32);
}

/* Set the PIR bit of vector; returns its previous value. */
static inline bool pi_test_and_set_pir(struct pi_desc *d, u8 vector)
{
	u32 bit = 1u << (vector & 31);
	return __atomic_fetch_or(&d->pir[vector >> 5], bit, __ATOMIC_SEQ_CST) & bit;
}

static inline bool pi_test_pir(const struct pi_desc *d, u8 vector)
{
	return __atomic_load_n(&d->pir[vector >> 5], __ATOMIC_RELAXED) & (1u << (vector & 31));
}

/* Set ON; returns its previous value. A full barrier: a poster that then reads the
 * target's mode sees a store the target made before it read ON. */
static inline bool pi_test_and_set_on(struct pi_desc *d)
{
	return __atomic_fetch_or(&d->control, PI_CTL_ON, __ATOMIC_SEQ_CST) & PI_CTL_ON;
}

static inline bool pi_test_on(const struct pi_desc *d)
{
	return __atomic_load_n(&d->control, __ATOMIC_ACQUIRE) & PI_CTL_ON;
}

static inline bool pi_test_and_clear_on(struct pi_desc *d)
{
	return __atomic_fetch_and(&d->control, ~PI_CTL_ON, __ATOMIC_SEQ_CST) & PI_CTL_ON;
}

static inline bool pi_test_sn(const struct pi_desc *d)
{
	return __atomic_load_n(&d->control, __ATOMIC_ACQUIRE) & PI_CTL_SN;
}

static inline bool pi_pir_empty(const struct pi_desc *d)
{
	u32 any = 0;
	for (int i = 0; i < 8; i++)
		any |= __atomic_load_n(&d->pir[i], __ATOMIC_RELAXED);
	return !any;
}

/*
 * Take every pending request out of PIR and OR it into a 256-bit register array laid
 * out like the APIC's IRR (eight 32-bit words 16 bytes apart). Returns the highest
 * vector taken, or -1. Each word is exchanged atomically, so a request posted
 * concurrently is either taken now or stays in PIR (with ON set again by its poster).
 */
static inline int pi_harvest(struct pi_desc *d, u8 *irr)
{
	int highest = -1;
	for (int i = 0; i < 8; i++) {
		if (!__atomic_load_n(&d->pir[i], __ATOMIC_RELAXED))
			continue;
		u32 w = __atomic_exchange_n(&d->pir[i], 0, __ATOMIC_SEQ_CST);
		if (!w)
			continue;
		*(volatile u32 *)(irr + i * 16) |= w;
		highest = i * 32 + 31 - __builtin_clz(w);
	}
	return highest;
}

/*
 * Change NV/NDST/SN atomically against concurrent posters and the IOMMU (which set ON
 * and PIR bits with locked instructions): a compare-exchange loop that keeps ON.
 * Clearing SN recomputes ON from PIR: while SN was set a poster may have set PIR bits
 * without ON (VT-d, "Posted-Interrupt Descriptor": SN suppresses the notification), and
 * those requests would otherwise wait for an unrelated later notification. PIR is
 * looked at only after SN is clear: a poster that came before saw SN set and left its
 * request for us; one that comes after sets ON itself (hv/sched/sched.pml found the lost
 * post when PIR was read before the exchange). Returns true when ON went 0 -> 1 here
 * and the caller must notify or sync.
 */
static inline bool pi_update(struct pi_desc *d, bool sn, u8 nv, u32 ndst)
{
	u64 old = __atomic_load_n(&d->control, __ATOMIC_RELAXED), new;
	do {
		new = pi_control(old & PI_CTL_ON, sn, nv, ndst) |
		      (old & ~(PI_CTL_ON | PI_CTL_SN | 0xff0000ull | 0xffffffff00000000ull));
	} while (!__atomic_compare_exchange_n(&d->control, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	if (!sn && !pi_pir_empty(d))
		return !pi_test_and_set_on(d);
	return false;
}

#endif
