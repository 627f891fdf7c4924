/* SPDX-License-Identifier: MIT */
/*
 * The pure register logic of the virtual LAPIC (hv/irq/vlapic.h): no VMCS, no other CPU,
 * no time. Unit-tested on the host (tests/unit/test_vlapic.c).
 */
#include "hv/irq/vlapic.h"
#include "hv/lib/lib.h"

/* Version register: version 0x14 (an integrated APIC), Max LVT Entry 5 = six LVT
 * entries (timer, thermal, performance counters, LINT0, LINT1, error); no CMCI
 * (Vol. 3A, "Local APIC Version Register"). */
#define VLAPIC_VERSION (0x14u | (5u << 16))

void vlapic_reset(struct vlapic *l, u32 id, bool bsp)
{
	memset(l->regs, 0, 4096);
	l->id = id;
	if (!vlapic_x2apic(l)) {
		/* "Local APIC State After Power-Up or Reset" */
		l->apic_base = APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE | (bsp ? VAPIC_BASE_BSP : 0);
		vlapic_set_reg(l, APIC_ID, id << 24);
		vlapic_set_reg(l, APIC_DFR, 0xffffffff);
	} else {
		/* INIT in x2APIC mode keeps the mode; the IDs are the x2APIC ones. */
		vlapic_set_reg(l, APIC_ID, id);
		vlapic_set_reg(l, APIC_LDR, x2apic_ldr(id));
	}
	vlapic_set_reg(l, APIC_VERSION, VLAPIC_VERSION);
	vlapic_set_reg(l, APIC_SVR, 0xff);
	for (u32 off = APIC_LVT_TIMER; off <= APIC_LVT_ERROR; off += 0x10)
		vlapic_set_reg(l, off, APIC_LVT_MASKED);
	l->lvt_timer = APIC_LVT_MASKED;
	l->timer_deadline = 0;
	l->timer_period = 0;
	l->timer_start = 0;
	l->tsc_deadline = 0;
	l->esr_pending = 0;
}

void vlapic_vec_set(struct vlapic *l, u32 base, u8 vec)
{
	u32 *w = (u32 *)(l->regs + base + (vec >> 5) * 16);
	__atomic_fetch_or(w, 1u << (vec & 31), __ATOMIC_SEQ_CST);
}

void vlapic_vec_clear(struct vlapic *l, u32 base, u8 vec)
{
	u32 *w = (u32 *)(l->regs + base + (vec >> 5) * 16);
	__atomic_fetch_and(w, ~(1u << (vec & 31)), __ATOMIC_SEQ_CST);
}

int vlapic_highest(const struct vlapic *l, u32 base)
{
	for (int i = 7; i >= 0; i--) {
		u32 w = vlapic_reg(l, base + (u32)i * 16);
		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* "Processor Priority Register (PPR)": PPR[7:4] is the larger of TPR[7:4] and
 * ISRV[7:4]; PPR[3:0] is TPR[3:0] when TPR wins, else 0. */
u32 vlapic_ppr(const struct vlapic *l)
{
	u32 tpr = vlapic_reg(l, APIC_TPR) & 0xff;
	int isrv = vlapic_highest(l, APIC_ISR);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;
	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

/* "Interrupt Acceptance for Fixed Interrupts": the highest IRR vector is dispatched
 * when its priority class is above PPR's. */
int vlapic_deliverable(const struct vlapic *l)
{
	int irrv = vlapic_highest(l, APIC_IRR);
	if (irrv < 0)
		return -1;
	return ((u32)irrv & 0xf0) > (vlapic_ppr(l) & 0xf0) ? irrv : -1;
}

void vlapic_ack(struct vlapic *l, u8 vec)
{
	vlapic_vec_clear(l, APIC_IRR, vec);
	vlapic_vec_set(l, APIC_ISR, vec);
}

int vlapic_eoi(struct vlapic *l, bool *level)
{
	int vec = vlapic_highest(l, APIC_ISR);
	*level = false;
	if (vec < 0)
		return -1;
	vlapic_vec_clear(l, APIC_ISR, (u8)vec);
	*level = vlapic_vec_test(l, APIC_TMR, (u8)vec);
	return vec;
}

/* "Determining IPI Destination" and "Logical Destination Mode in x2APIC Mode". */
bool vlapic_match_dest(const struct vlapic *l, u32 dest, bool logical)
{
	if (vlapic_x2apic(l)) {
		if (dest == 0xffffffff)
			return true;
		if (!logical)
			return dest == l->id;
		u32 ldr = x2apic_ldr(l->id);
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == (vlapic_reg(l, APIC_ID) >> 24);
	u32 ldr = vlapic_reg(l, APIC_LDR) >> 24;
	if ((vlapic_reg(l, APIC_DFR) >> 28) == 0xf)   /* flat model: a bit mask of 8 APICs */
		return dest & ldr;
	/* cluster model: bits 7:4 the cluster, 3:0 a mask within it */
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

/* "Divide Configuration Register": bits 0, 1 and 3; 111b means divide by 1. */
u32 vlapic_timer_divisor(u32 tdcr)
{
	u32 v = (tdcr & 3) | ((tdcr >> 1) & 4);
	return v == 7 ? 1 : 2u << v;
}

