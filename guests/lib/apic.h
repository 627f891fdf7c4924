/* SPDX-License-Identifier: MIT */
/*
 * The local APIC from the guest's side, in xAPIC mode (registers in the 4-KiB page at
 * IA32_APIC_BASE, 32-bit loads and stores) or x2APIC mode (MSR 0x800 + offset / 16),
 * after Intel SDM Vol. 3A, chapter "Advanced Programmable Interrupt Controller (APIC)".
 * Registers are named by their xAPIC offset; apic_read()/apic_write() go through the
 * mode this CPU is in. The mode is per CPU (each CPU switches its own APIC).
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include "lib.h"

/* "Local APIC Register Address Map" (xAPIC offsets). */
#include "../../arch/x86/apic_regs.h"
#define APIC_LVT_THERM APIC_LVT_THERMAL

/* Spurious-interrupt vector register. */
#define APIC_SVR_ENABLE    (1u << 8)
#define APIC_SVR_VECTOR    0xffu

/* LVT entries ("Local Vector Table"). */
#define APIC_LVT_MASKED        (1u << 16)
#define APIC_LVT_TIMER_ONESHOT  (0u << 17)
#define APIC_LVT_TIMER_PERIODIC (1u << 17)
#define APIC_LVT_TIMER_TSCDEADLINE (2u << 17)
#define APIC_LVT_TIMER_MODE_MASK (3u << 17)
#define APIC_LVT_DM_NMI        (4u << 8)

/* ICR, low 32 bits ("Interrupt Command Register (ICR)"). */
#define APIC_ICR_VECTOR(v)     ((u32)(v) & 0xff)
#define APIC_DM_FIXED          (0u << 8)
#define APIC_DM_LOWEST         (1u << 8)
#define APIC_DM_SMI            (2u << 8)
#define APIC_DM_NMI            (4u << 8)
#define APIC_DM_INIT           (5u << 8)
#define APIC_DM_STARTUP        (6u << 8)
#define APIC_DEST_LOGICAL      (1u << 11)
#define APIC_ICR_BUSY          (1u << 12)   /* delivery status, xAPIC only */
#define APIC_ICR_ASSERT        (1u << 14)
#define APIC_ICR_LEVEL         (1u << 15)
#define APIC_DEST_SELF         (1u << 18)
#define APIC_DEST_ALL          (2u << 18)   /* all including self */
#define APIC_DEST_OTHERS       (3u << 18)   /* all excluding self */
#define APIC_DEST_SHORTHAND_MASK (3u << 18)

/* Broadcast destination: 0xff (xAPIC), 0xffffffff (x2APIC). */
#define APIC_BROADCAST_XAPIC   0xffu
#define APIC_BROADCAST_X2APIC  0xffffffffu

/* IA32_APIC_BASE ("Local APIC Status and Location"). */
#define MSR_IA32_APIC_BASE     0x1b
#define APIC_BASE_BSP          (1ull << 8)
#define APIC_BASE_EXTD         (1ull << 10)   /* x2APIC mode */
#define APIC_BASE_EN           (1ull << 11)   /* global enable */
#define APIC_BASE_ADDR_MASK    0x000ffffffffff000ull

#define MSR_IA32_TSC_DEADLINE  0x6e0
#define MSR_X2APIC_BASE        0x800

#define APIC_SPURIOUS_VECTOR   0xff

enum apic_mode {
	APIC_MODE_DISABLED,   /* IA32_APIC_BASE.EN = 0 */
	APIC_MODE_XAPIC,
	APIC_MODE_X2APIC,
};

/* CPUID.1: EDX[9] APIC, ECX[21] x2APIC, ECX[24] TSC-deadline. */
bool apic_present(void);
bool x2apic_supported(void);
bool tsc_deadline_supported(void);

const char *apic_mode_name(enum apic_mode m);
/* The mode this CPU's APIC is in (cached per CPU; apic_mode_hw() reads the MSR). */
enum apic_mode apic_mode(void);
enum apic_mode apic_mode_hw(void);
/*
 * Move this CPU's APIC to mode m through legal transitions only (Intel SDM Vol. 3A,
 * "x2APIC State Transitions": xAPIC -> x2APIC directly; x2APIC -> xAPIC only through
 * disabled, which resets the APIC). Returns 0, or -1 (x2APIC requested but not
 * supported, or the MSR write faulted). Does not touch the other registers: call
 * apic_setup() for a usable APIC.
 */
int apic_set_mode(enum apic_mode m);
/*
 * Put this CPU's APIC in mode m and in a known state: software-enabled with the
 * spurious vector APIC_SPURIOUS_VECTOR (a handler that counts them is installed),
 * TPR 0, timer, LINT0/LINT1, error and other LVT entries masked. On the first call it
 * also masks both 8259 PICs (their IRQs would otherwise arrive as vectors 8-15
 * through LINT0's ExtINT on real firmware). Returns 0 or -1.
 */
int apic_setup(enum apic_mode m);

u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 val);
/* This CPU's APIC ID: ID[31:24] in xAPIC mode, the 32-bit x2APIC ID in x2APIC mode. */
u32 apic_id(void);
u32 apic_version(void);
unsigned apic_max_lvt(void);

/* Write the EOI register: the highest-priority in-service vector completes. */
void apic_eoi(void);
void apic_set_tpr(u32 tpr);
u32 apic_get_tpr(void);
u32 apic_get_ppr(void);
/* The bit of vector v in the ISR, IRR or TMR (base APIC_ISR/APIC_IRR/APIC_TMR). */
bool apic_vec_test(u32 base, u8 v);
static inline bool apic_isr_test(u8 v) { return apic_vec_test(APIC_ISR, v); }
static inline bool apic_irr_test(u8 v) { return apic_vec_test(APIC_IRR, v); }
/* Highest vector set in the ISR/IRR, or -1. */
int apic_vec_highest(u32 base);
/* Write then read the ESR ("Error Handling": the write latches the errors). */
u32 apic_read_esr(void);

/*
 * Send an IPI: low = ICR bits 31:0 (vector, delivery mode, destination mode, level,
 * trigger, shorthand), dest = the destination (an 8-bit APIC ID or logical mask in
 * xAPIC mode, 32-bit in x2APIC mode; ignored with a shorthand). In xAPIC mode it
 * waits (bounded) for the delivery status to be idle before writing ICR2/ICR, as the
 * ICR must not be rewritten while an IPI is pending ("Interrupt Command Register"),
 * with interrupts off between the ICR2 and the ICR write. In x2APIC mode one WRMSR to
 * MSR 0x830 after MFENCE;LFENCE, since a WRMSR to an x2APIC register is not
 * serializing and may pass earlier stores ("MSR Access in x2APIC Mode"). Returns 0,
 * or -1 if the delivery status never became idle.
 */
int apic_icr_write(u32 low, u32 dest);
/* xAPIC: wait until the delivery status is idle (true) or timeout_us passed. x2APIC
 * has no delivery status: true. */
bool apic_icr_wait_idle(u64 timeout_us);
u64 apic_icr_read(void);

/* Fixed, edge IPI of vector to one APIC ID (physical destination). */
int apic_send_ipi(u32 dest_apic_id, u8 vector);
/* Self-IPI: the x2APIC SELF IPI register (MSR 0x83f) in x2APIC mode, else the ICR
 * with the "self" shorthand. */
void apic_self_ipi(u8 vector);
/* Self-IPI through the ICR with the "self" shorthand, in either mode. */
int apic_self_ipi_icr(u8 vector);

/* ---- the APIC timer ("APIC Timer") ------------------------------------------------ */

/* Divide configuration for divisor 1, 2, 4, ..., 128 (TDCR bits 3, 1:0). */
u32 apic_tdcr_encode(unsigned divisor);
/* Program the timer: LVT timer = vector | mode (APIC_LVT_TIMER_ONESHOT/PERIODIC)
 * | extra (e.g. APIC_LVT_MASKED), TDCR = divisor, then TMICT = count (starts it). */
void apic_timer_start(u8 vector, u32 mode, u32 extra, unsigned divisor, u32 count);
/* TMICT = 0 (stops one-shot and periodic counting), LVT timer masked. */
void apic_timer_stop(void);
/*
 * TSC-deadline mode: LVT timer = vector | TSC-deadline mode, then MFENCE, so that the
 * LVT write is done before a later WRMSR to IA32_TSC_DEADLINE ("TSC-Deadline Mode"
 * asks for this ordering in xAPIC mode, where the LVT write is a memory store).
 */
void apic_tsc_deadline_mode(u8 vector);
static inline void apic_tsc_deadline_arm(u64 deadline)
{
	wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
}
static inline u64 apic_tsc_deadline_read(void)
{
	return rdmsr(MSR_IA32_TSC_DEADLINE);
}

/* Spurious interrupts seen by the default SVR-vector handler, this CPU. */
u32 apic_spurious_count(void);

/*
 * Timer input clock in Hz (before the divider): the command line's apic_hz=N, else
 * the hypervisor's HC_INFO_APIC_TIMER_HZ, else measured against the TSC from the
 * current-count register (needs a usable APIC on this CPU). apic_timer_hz_source()
 * names the source.
 */
u64 apic_timer_hz(void);
const char *apic_timer_hz_source(void);
/* Measure the timer clock against the TSC (divide by 1, masked one-shot), Hz. */
u64 apic_timer_measure_hz(u64 window_us);

#endif
