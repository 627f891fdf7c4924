/* SPDX-License-Identifier: MIT */
/*
 * Local APIC access in xAPIC and x2APIC mode (apic.h). Section names are from Intel
 * SDM Vol. 3A, chapter "Advanced Programmable Interrupt Controller (APIC)".
 */
#include "apic.h"
#include "smp.h"

#define CPUID1_EDX_APIC   (1u << 9)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_TSCDL  (1u << 24)

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

/* The xAPIC page; every CPU's APIC is at the same address unless relocated, which
 * nothing here does ("Relocating the Local APIC Registers"). */
static volatile u8 *xapic_base = (volatile u8 *)(uintptr_t)0xfee00000u;

bool apic_present(void)
{
	u32 a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	return d & CPUID1_EDX_APIC;
}

bool x2apic_supported(void)
{
	u32 a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	return c & CPUID1_ECX_X2APIC;
}

bool tsc_deadline_supported(void)
{
	u32 a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	return c & CPUID1_ECX_TSCDL;
}

const char *apic_mode_name(enum apic_mode m)
{
	switch (m) {
	case APIC_MODE_XAPIC:
		return "xapic";
	case APIC_MODE_X2APIC:
		return "x2apic";
	default:
		return "disabled";
	}
}

enum apic_mode apic_mode_hw(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(base & APIC_BASE_EN))
		return APIC_MODE_DISABLED;
	return (base & APIC_BASE_EXTD) ? APIC_MODE_X2APIC : APIC_MODE_XAPIC;
}

enum apic_mode apic_mode(void)
{
	return (enum apic_mode)this_cpu()->apic_mode;
}

/*
 * "x2APIC State Transitions": the legal moves are disabled <-> xAPIC, xAPIC ->
 * x2APIC and x2APIC -> disabled; x2APIC -> xAPIC directly and disabled -> x2APIC
 * directly raise #GP, and EXTD = 1 with EN = 0 is invalid. Leaving x2APIC mode
 * through disabled returns the APIC to its power-up state.
 */
int apic_set_mode(enum apic_mode m)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	u64 keep = base & ~(APIC_BASE_EN | APIC_BASE_EXTD);
	enum apic_mode cur = apic_mode_hw();

	if (m == APIC_MODE_X2APIC && !x2apic_supported())
		return -1;
	if (cur == m)
		goto done;
	if (cur == APIC_MODE_X2APIC || m == APIC_MODE_DISABLED) {
		if (wrmsr_safe(MSR_IA32_APIC_BASE, keep))
			return -1;
		cur = APIC_MODE_DISABLED;
	}
	if (m != APIC_MODE_DISABLED && cur == APIC_MODE_DISABLED) {
		if (wrmsr_safe(MSR_IA32_APIC_BASE, keep | APIC_BASE_EN))
			return -1;
		cur = APIC_MODE_XAPIC;
	}
	if (m == APIC_MODE_X2APIC &&
	    wrmsr_safe(MSR_IA32_APIC_BASE, keep | APIC_BASE_EN | APIC_BASE_EXTD))
		return -1;
done:
	if (m == APIC_MODE_XAPIC)
		xapic_base = (volatile u8 *)(uintptr_t)(base & APIC_BASE_ADDR_MASK
							 ? base & APIC_BASE_ADDR_MASK
							 : 0xfee00000u);
	this_cpu()->apic_mode = m;
	return apic_mode_hw() == m ? 0 : -1;
}

u32 apic_read(u32 reg)
{
	if (apic_mode() == APIC_MODE_X2APIC)
		return (u32)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return *(volatile u32 *)(xapic_base + reg);
}

void apic_write(u32 reg, u32 val)
{
	if (apic_mode() == APIC_MODE_X2APIC)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), val);
	else
		*(volatile u32 *)(xapic_base + reg) = val;
}

u32 apic_id(void)
{
	u32 id = apic_read(APIC_ID);

	return apic_mode() == APIC_MODE_X2APIC ? id : id >> 24;
}

u32 apic_version(void)
{
	return apic_read(APIC_VERSION);
}

unsigned apic_max_lvt(void)
{
	return (apic_version() >> 16) & 0xff;
}

/* In x2APIC mode a non-zero EOI write raises #GP ("x2APIC Register Address Space"). */
void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

void apic_set_tpr(u32 tpr)
{
	apic_write(APIC_TPR, tpr & 0xff);
}

u32 apic_get_tpr(void)
{
	return apic_read(APIC_TPR) & 0xff;
}

u32 apic_get_ppr(void)
{
	return apic_read(APIC_PPR) & 0xff;
}

bool apic_vec_test(u32 base, u8 v)
{
	return (apic_read(base + (v / 32u) * 0x10u) >> (v % 32u)) & 1;
}

int apic_vec_highest(u32 base)
{
	for (int i = 7; i >= 0; i--) {
		u32 r = apic_read(base + (u32)i * 0x10u);

		if (r)
			return i * 32 + 31 - __builtin_clz(r);
	}
	return -1;
}

u32 apic_read_esr(void)
{
	apic_write(APIC_ESR, 0);
	return apic_read(APIC_ESR);
}

bool apic_icr_wait_idle(u64 timeout_us)
{
	if (apic_mode() == APIC_MODE_X2APIC)
		return true;
	return wait_until(!(apic_read(APIC_ICR) & APIC_ICR_BUSY), timeout_us);
}

/* Delivery status stuck for this long means the APIC (or its emulation) is broken. */
#define ICR_IDLE_TIMEOUT_US 100000

int apic_icr_write(u32 low, u32 dest)
{
	u64 flags;
	int ret = 0;

	if (apic_mode() == APIC_MODE_X2APIC) {
		mfence();
		lfence();
		wrmsr(MSR_X2APIC_BASE + (APIC_ICR >> 4), (u64)dest << 32 | low);
		return 0;
	}
	flags = irq_save();
	if (!apic_icr_wait_idle(ICR_IDLE_TIMEOUT_US))
		ret = -1;
	if ((low & APIC_DEST_SHORTHAND_MASK) == 0)
		apic_write(APIC_ICR2, dest << 24);
	apic_write(APIC_ICR, low);
	irq_restore(flags);
	return ret;
}

u64 apic_icr_read(void)
{
	if (apic_mode() == APIC_MODE_X2APIC)
		return rdmsr(MSR_X2APIC_BASE + (APIC_ICR >> 4));
	return (u64)apic_read(APIC_ICR2) << 32 | apic_read(APIC_ICR);
}

int apic_send_ipi(u32 dest_apic_id, u8 vector)
{
	return apic_icr_write(APIC_DM_FIXED | APIC_ICR_ASSERT | vector, dest_apic_id);
}

int apic_self_ipi_icr(u8 vector)
{
	return apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | APIC_ICR_ASSERT | vector, 0);
}

/* "SELF IPI Register": x2APIC only, vector in bits 7:0. */
void apic_self_ipi(u8 vector)
{
	if (apic_mode() == APIC_MODE_X2APIC)
		wrmsr(MSR_X2APIC_BASE + (APIC_SELF_IPI >> 4), vector);
	else
		apic_self_ipi_icr(vector);
}

/* ---- set-up ------------------------------------------------------------------------- */

static void spurious_handler(struct ex_regs *regs)
{
	(void)regs;
	/* No EOI for the spurious vector ("Spurious Interrupt"). */
	this_cpu()->spurious++;
}

u32 apic_spurious_count(void)
{
	return this_cpu()->spurious;
}

int apic_setup(enum apic_mode m)
{
	static bool pic_masked;
	unsigned max_lvt;

	if (!apic_present())
		return -1;
	if (!pic_masked) {
		/* 8259A OCW1: mask every IRQ line of both controllers. */
		outb(0xff, PIC1_DATA);
		outb(0xff, PIC2_DATA);
		pic_masked = true;
	}
	if (apic_set_mode(m) || m == APIC_MODE_DISABLED)
		return m == APIC_MODE_DISABLED ? 0 : -1;

	irq_set_handler(APIC_SPURIOUS_VECTOR, spurious_handler);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	apic_write(APIC_TMICT, 0);
	max_lvt = apic_max_lvt();
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT1, APIC_LVT_MASKED);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	if (max_lvt >= 4)
		apic_write(APIC_LVT_PMC, APIC_LVT_MASKED);
	if (max_lvt >= 5)
		apic_write(APIC_LVT_THERM, APIC_LVT_MASKED);
	if (max_lvt >= 6)
		apic_write(APIC_LVT_CMCI, APIC_LVT_MASKED);
	apic_set_tpr(0);
	apic_read_esr();
	return 0;
}

/* ---- timer ---------------------------------------------------------------------------- */

/* "Divide Configuration Register": bits 3 and 1:0; 1011b divides by 1, 0000b by 2,
 * ..., 1010b by 128. */
u32 apic_tdcr_encode(unsigned divisor)
{
	unsigned log = 0;

	while ((1u << log) < divisor && log < 7)
		log++;
	if (log == 0)
		return 0xb;
	log -= 1;
	return (log & 3) | ((log & 4) << 1);
}

void apic_timer_start(u8 vector, u32 mode, u32 extra, unsigned divisor, u32 count)
{
	apic_write(APIC_TMICT, 0);
	apic_write(APIC_LVT_TIMER, vector | mode | extra);
	apic_write(APIC_TDCR, apic_tdcr_encode(divisor));
	apic_write(APIC_TMICT, count);
}

void apic_timer_stop(void)
{
	apic_write(APIC_TMICT, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

void apic_tsc_deadline_mode(u8 vector)
{
	apic_write(APIC_LVT_TIMER, vector | APIC_LVT_TIMER_TSCDEADLINE);
	mfence();
}

static u64 timer_hz;
static const char *timer_hz_src = "none";

u64 apic_timer_measure_hz(u64 window_us)
{
	u32 lvt = apic_read(APIC_LVT_TIMER), c0, c1;
	u64 t0, t1;

	apic_timer_start(0, APIC_LVT_TIMER_ONESHOT, APIC_LVT_MASKED, 1, 0xffffffffu);
	t0 = rdtsc_ordered();
	c0 = apic_read(APIC_TMCCT);
	udelay(window_us);
	c1 = apic_read(APIC_TMCCT);
	t1 = rdtsc_ordered();
	apic_write(APIC_TMICT, 0);
	apic_write(APIC_LVT_TIMER, lvt);
	if (c1 >= c0 || t1 <= t0)
		return 0;
	return (u64)(c0 - c1) * tsc_hz() / (t1 - t0);
}

u64 apic_timer_hz(void)
{
	long v;

	if (timer_hz)
		return timer_hz;
	if ((timer_hz = cmdline_get_u64("apic_hz", 0))) {
		timer_hz_src = "command line";
	} else if (hv_present() && (v = hc_get_info(HC_INFO_APIC_TIMER_HZ)) > 0) {
		timer_hz = (u64)v;
		timer_hz_src = "HC_INFO_APIC_TIMER_HZ";
	} else if ((timer_hz = apic_timer_measure_hz(10000))) {
		timer_hz_src = "measured against the TSC";
	}
	return timer_hz;
}

const char *apic_timer_hz_source(void)
{
	return timer_hz_src;
}
