/* SPDX-License-Identifier: MIT */
/*
 * The virtual local APIC of a vCPU.
 *
 * Its registers live in one 4-KiB page with the xAPIC MMIO layout (Intel SDM Vol. 3A,
 * "Local APIC Register Address Map"). With APICv that page is the VMCS's virtual-APIC
 * page, so the CPU reads and writes the same registers the hypervisor does (Vol. 3C,
 * "Virtual-APIC Page"); x2APIC MSR 0x800+n maps to offset n << 4 ("Virtualizing
 * MSR-Based APIC Accesses"). Without APICv the page is simply the register store.
 *
 * Interrupts reach a vCPU only through vcpu_post_irq() (arch/x86/vmx/posted.c): the posted-
 * interrupt descriptor is the one hand-off point between CPUs. The owner CPU moves PIR
 * into IRR (fallback) or vIRR/RVI (APICv) on its entry path.
 *
 * The register logic (vlapic_reg_read/write, priority, EOI, destinations) is pure and
 * unit-tested on the host (tests/unit/test_vlapic.c).
 */
#ifndef HV_VLAPIC_H
#define HV_VLAPIC_H

#include "hv/lib/types.h"

struct vcpu;
struct vm;

#include "arch/x86/apic_regs.h"


#define APIC_SVR_ENABLE BIT(8)
#define APIC_LVT_MASKED BIT(16)
#define APIC_LVT_LEVEL BIT(15)
#define APIC_LVT_TIMER_MODE(x) (((x) >> 17) & 3)
#define APIC_TIMER_ONESHOT 0
#define APIC_TIMER_PERIODIC 1
#define APIC_TIMER_TSC_DEADLINE 2
/* The shortest period of a periodic timer (hv/irq/vlapic.c, vlapic_min_period). */
#define VLAPIC_MIN_PERIOD_US 200

/* ICR fields (Vol. 3A, "Interrupt Command Register (ICR)"). */
#define ICR_VECTOR(x) ((x) & 0xff)
#define ICR_DM(x) (((x) >> 8) & 7)
#define ICR_LOGICAL BIT(11)
#define ICR_BUSY BIT(12)
#define ICR_ASSERT BIT(14)
#define ICR_LEVEL BIT(15)
#define ICR_SHORTHAND(x) (((x) >> 18) & 3)

/* Delivery modes. */
#define DM_FIXED 0
#define DM_LOWEST 1
#define DM_SMI 2
#define DM_NMI 4
#define DM_INIT 5
#define DM_SIPI 6
#define DM_EXTINT 7

#define SH_NONE 0
#define SH_SELF 1
#define SH_ALL 2
#define SH_OTHERS 3

/* ESR bits (Vol. 3A, "Error Handling"). */
#define ESR_SEND_ILLEGAL_VECTOR BIT(5)
#define ESR_RECV_ILLEGAL_VECTOR BIT(6)
#define ESR_ILLEGAL_REGISTER BIT(7)

/* IA32_APIC_BASE (Vol. 3A, "Local APIC Status and Location"). */
#define VAPIC_BASE_BSP BIT64(8)
#define VAPIC_BASE_EXTD BIT64(10)
#define VAPIC_BASE_ENABLE BIT64(11)
#define APIC_DEFAULT_BASE 0xfee00000ull
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff

struct vlapic {
	u8 *regs;              /* the (virtual-)APIC page, 4 KiB */
	u64 regs_pa;
	u32 id;                /* APIC ID = vCPU index */
	u64 apic_base;         /* IA32_APIC_BASE */
	/* Timer: all times in TSC ticks. deadline 0 = not armed. */
	u64 timer_deadline;
	u64 timer_period;      /* periodic mode: ticks per period */
	u64 timer_start;       /* one-shot/periodic: TSC when the count was (re)loaded */
	u64 tsc_deadline;      /* IA32_TSC_DEADLINE as the guest wrote it */
	u32 esr_pending;       /* errors since the last ESR write */
	u32 lvt_timer;         /* the LVT timer as last handled: with APICv the CPU has already
				* written the new value to the page when the APIC-write exit comes */
};

static inline u32 vlapic_reg(const struct vlapic *l, u32 off)
{
	return *(volatile u32 *)(l->regs + off);
}

static inline void vlapic_set_reg(struct vlapic *l, u32 off, u32 val)
{
	*(volatile u32 *)(l->regs + off) = val;
}

static inline bool vlapic_x2apic(const struct vlapic *l)
{
	return (l->apic_base & (VAPIC_BASE_EXTD | VAPIC_BASE_ENABLE)) == (VAPIC_BASE_EXTD | VAPIC_BASE_ENABLE);
}

static inline bool vlapic_hw_enabled(const struct vlapic *l)
{
	return l->apic_base & VAPIC_BASE_ENABLE;
}

static inline bool vlapic_sw_enabled(const struct vlapic *l)
{
	return vlapic_reg(l, APIC_SVR) & APIC_SVR_ENABLE;
}

/* ---- pure register logic (tests/unit/test_vlapic.c) ---- */

/* Power-up / INIT state (Vol. 3A, "Local APIC State After Power-Up or Reset" and
 * "... After an INIT Reset"); regs must point to a page. */
void vlapic_reset(struct vlapic *l, u32 id, bool bsp);
/* Bit operations on the 256-bit IRR/ISR/TMR arrays (8 registers 16 bytes apart). */
void vlapic_vec_set(struct vlapic *l, u32 base, u8 vec);
void vlapic_vec_clear(struct vlapic *l, u32 base, u8 vec);
bool vlapic_vec_test(const struct vlapic *l, u32 base, u8 vec);
int vlapic_highest(const struct vlapic *l, u32 base);   /* -1 when empty */
/* Processor priority from TPR and the highest in-service vector ("Processor Priority
 * Register (PPR)"). */
u32 vlapic_ppr(const struct vlapic *l);
/* The highest IRR vector the vCPU may take now (priority class above PPR), or -1. */
int vlapic_deliverable(const struct vlapic *l);
/* Acknowledge: move vec from IRR to ISR (event injection path). */
void vlapic_ack(struct vlapic *l, u8 vec);
/* EOI: clear the highest ISR bit. Returns that vector, or -1; *level = its TMR bit. */
int vlapic_eoi(struct vlapic *l, bool *level);
/* Does this APIC accept a message for dest in the given mode (Vol. 3A, "Determining
 * IPI Destination")? broadcast is 0xff (xAPIC) or 0xffffffff (x2APIC). */
bool vlapic_match_dest(const struct vlapic *l, u32 dest, bool logical);
/* x2APIC logical ID derived from the x2APIC ID ("Logical Destination Mode in x2APIC
 * Mode"). */
static inline u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}
/* Is the register at xAPIC offset off readable in x2APIC mode ("x2APIC Register
 * Address Space", the MSRs 802H-83FH that exist and are not write-only)? */
static inline bool vlapic_x2apic_readable(u32 off)
{
	switch (off) {
	case APIC_ID: case APIC_VERSION: case APIC_TPR: case APIC_PPR: case APIC_LDR: case APIC_SVR:
	case APIC_ESR: case APIC_ICR: case APIC_LVT_TIMER: case APIC_LVT_THERMAL: case APIC_LVT_PMC:
	case APIC_LVT_LINT0: case APIC_LVT_LINT1: case APIC_LVT_ERROR: case APIC_TMICT: case APIC_TMCCT:
	case APIC_TDCR:
		return true;
	}
	return off >= APIC_ISR && off < APIC_ESR;   /* ISR, TMR, IRR */
}
/* Divide configuration register value -> divisor (1..128). */
u32 vlapic_timer_divisor(u32 tdcr);
/* The bits a WRMSR may set in the writable x2APIC register at xAPIC offset off
 * ("x2APIC Register Address Space": "a WRMSR ... with reserved bits set ... #GP",
 * and each register's layout); 0 where only zero may be written (EOI, ESR); ~0 for
 * registers that are not writable (the caller refuses those).
 * Per register ("Local Vector Table", "Spurious-Interrupt Vector Register", "Interrupt
 * Command Register (ICR)", "Divide Configuration Register", "SELF IPI Register"): the
 * vector, delivery mode, delivery status (read-only, written back as read), polarity,
 * remote IRR (read-only), trigger, mask and timer-mode fields; the high 32 bits are
 * reserved except in the ICR (its destination). SVR bit 9 (focus processor checking)
 * is accepted and ignored; EOI-broadcast suppression (bit 12) is not offered. Inline:
 * every x2APIC WRMSR checks it. */
static inline u64 vlapic_x2apic_write_valid(u32 off)
{
	switch (off) {
	case APIC_TPR:        return 0xff;
	case APIC_EOI:        return 0;
	case APIC_ESR:        return 0;
	case APIC_SVR:        return 0x3ff;
	case APIC_ICR:        return 0xffffffff000cdfffull;
	case APIC_LVT_TIMER:  return 0x000710ff;
	case APIC_LVT_THERMAL:
	case APIC_LVT_PMC:    return 0x000117ff;
	case APIC_LVT_LINT0:
	case APIC_LVT_LINT1:  return 0x0001f7ff;
	case APIC_LVT_ERROR:  return 0x000110ff;
	case APIC_TMICT:      return 0xffffffff;
	case APIC_TDCR:       return 0xb;
	case APIC_SELF_IPI:   return 0xff;
	}
	return ~0ull;
}

/* ---- the device: hv/irq/vlapic.c ---- */

/* Allocate and reset the vCPU's APIC. false when out of memory. */
bool vlapic_init(struct vcpu *v);
/* An interrupt message to the VM's APICs (IPIs, IOAPIC redirection entries, MSIs):
 * dest/logical as in the ICR, dm a DM_* delivery mode. src is the sending vCPU (for
 * lowest-priority round robin and shorthands) or NULL. */
void vlapic_deliver(struct vm *vm, struct vcpu *src, u32 shorthand, u32 dest, bool logical,
		    u8 dm, u8 vector, bool level);
/* The vCPU of vm whose APIC accepts a physical-mode message for dest (its APIC ID in
 * its current mode, "Determining IPI Destination"), or NULL. For msi.c's route cache. */
struct vcpu *vlapic_phys_target(struct vm *vm, u32 dest);
/* A message for one vCPU already chosen (a cached route): as vlapic_deliver() does
 * for each vCPU the destination selects. */
void vlapic_deliver_to(struct vcpu *t, u8 dm, u8 vector, bool level);
/* The vIOAPIC's level-triggered vectors changed: every vCPU reloads its EOI-exit
 * bitmap before its next entry. */
void vlapic_level_vectors_changed(struct vm *vm);
/* A write to the register at off (xAPIC offset) from the guest, after the CPU or the
 * instruction emulation has put the value in place or with val for the hypervisor to
 * store. Returns false for an illegal register (the caller raises #GP for x2APIC). */
bool vlapic_write(struct vcpu *v, u32 off, u64 val);
/* A read of the register at off: handles registers the CPU does not virtualize
 * (timer current count, PPR without virtual-interrupt delivery). */
bool vlapic_read(struct vcpu *v, u32 off, u64 *val);
/* EOI from the guest (emulated write or EOI-induced exit): vector, with its TMR bit. */
void vlapic_eoi_vector(struct vcpu *v, int vec, bool level);
/* The guest's timer fired (preemption timer or software timer): post its vector and
 * re-arm a periodic timer. now = TSC. */
void vlapic_timer_expired(struct vcpu *v, u64 now);
/* TSC of the next expiry (0 = none): the entry path programs the preemption timer. */
static inline u64 vlapic_timer_deadline(const struct vlapic *l)
{
	return l->timer_deadline;
}
/* IA32_TSC_DEADLINE (MSR 0x6e0) written with val, a guest TSC value; the guest's TSC
 * is the host's plus tsc_offset (the caller's, so that this path makes no call). */
bool vlapic_write_tsc_deadline(struct vcpu *v, u64 val, s64 tsc_offset);
u64 vlapic_read_tsc_deadline(struct vcpu *v);
/* IA32_APIC_BASE writes; false = #GP. */
bool vlapic_set_base(struct vcpu *v, u64 val);
/* The VMX-preemption timer / software timer has new work (arm or cancel). */
void vlapic_timer_changed(struct vcpu *v);

#endif
