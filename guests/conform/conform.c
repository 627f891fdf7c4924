/* SPDX-License-Identifier: MIT */
/*
 * conform: the "SDM conformance" items of issue 10, one check per item, each against
 * the Intel SDM section its report line names (docs/CONFORMANCE.md lists them).
 *
 * Command line: tests=a,b,... runs only the named checks (default: all); nohv skips
 * what only the hypervisor can be held to (plain QEMU TCG differs).
 */
#include "lib.h"
#include "apic.h"
#include "smp.h"

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_EN (1ull << 11)

#define CR4_DE        (1ull << 3)
#define CR4_TSD       (1ull << 2)
#define CR4_MCE       (1ull << 6)
#define CR4_PGE       (1ull << 7)
#define CR4_PCE       (1ull << 8)
#define CR4_UMIP      (1ull << 11)
#define CR4_SMXE      (1ull << 14)
#define CR4_FSGSBASE  (1ull << 16)
#define CR4_OSXSAVE   (1ull << 18)
#define CR4_KL        (1ull << 19)
#define CR4_SMEP      (1ull << 20)
#define CR4_PKE       (1ull << 22)
#define CR4_PKS       (1ull << 24)

static bool nohv;

static bool selected(const char *name)
{
	const char *t = cmdline_get("tests");
	if (!t || !*t)
		return true;
	size_t n = strlen(name);
	for (const char *p = t; *p;) {
		const char *e = p;
		while (*e && *e != ',')
			e++;
		if ((size_t)(e - p) == n && !memcmp(p, name, n))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static void write_cr4(u64 v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* mov to CR4; 0 or the vector it raised. */
static int write_cr4_safe(u64 v)
{
	exception_clear();
	asm volatile("1: mov %0, %%cr4\n2:\n\t" EXTABLE_ENTRY(1b, 2b) : : "r"(v) : "memory");
	return exception_vector() < 0 ? 0 : exception_vector();
}

static u32 cpuid_reg(u32 leaf, u32 sub, int reg)
{
	u32 r[4];
	cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
	return r[reg];
}
enum { EAX, EBX, ECX, EDX };

/* ---- item 1: CPUID.1 bits that follow the guest's state ---- */

/* "CPUID—CPU Identification": CPUID.1:ECX.OSXSAVE[bit 27] "A value of 1 indicates
 * that the OS has set CR4.OSXSAVE[bit 18]"; CPUID.1:EDX.APIC[bit 9] follows
 * IA32_APIC_BASE.EN ("Local APIC Status and Location"). */
static void check_cpuid_dynamic(void)
{
	u64 cr4 = read_cr4();
	if (!(cpuid_reg(1, 0, ECX) & (1u << 26))) {
		report_skip("CPUID.1:ECX.OSXSAVE: no XSAVE offered");
	} else {
		write_cr4(cr4 | CR4_OSXSAVE);
		bool on = cpuid_reg(1, 0, ECX) & (1u << 27);
		write_cr4(cr4 & ~CR4_OSXSAVE);
		bool off = cpuid_reg(1, 0, ECX) & (1u << 27);
		write_cr4(cr4);
		report(on && !off, "CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE (set: %d, clear: %d)", on, off);
	}

	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	bool en = cpuid_reg(1, 0, EDX) & (1u << 9);
	wrmsr(MSR_IA32_APIC_BASE, base & ~APIC_BASE_EN);
	bool dis = cpuid_reg(1, 0, EDX) & (1u << 9);
	wrmsr(MSR_IA32_APIC_BASE, base & ~(1ull << 10));   /* back to xAPIC (legal from disabled) */
	bool again = cpuid_reg(1, 0, EDX) & (1u << 9);
	if (base & (1ull << 10))
		wrmsr(MSR_IA32_APIC_BASE, base);
	report(en && !dis && again, "CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN (1: %d, 0: %d, 1 again: %d)",
	       en, dis, again);
}

/* ---- item 2: VM-execution controls and CPUID agree ---- */

static int invpcid_safe(u64 type)
{
	struct { u64 pcid, addr; } __attribute__((aligned(16))) desc = { 0, 0 };
	exception_clear();
	asm volatile("1: invpcid %0, %1\n2:\n\t" EXTABLE_ENTRY(1b, 2b) : : "m"(desc), "r"(type) : "memory");
	return exception_vector() < 0 ? 0 : exception_vector();
}

static u8 xsave_area[4096] __attribute__((aligned(64)));

static int xsaves_safe(void)
{
	exception_clear();
	asm volatile("1: xsaves64 %0\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
		     : "+m"(xsave_area) : "a"(1u), "d"(0u) : "memory");
	return exception_vector() < 0 ? 0 : exception_vector();
}

struct cr4_feature {
	const char *name;
	u64 bit;
	u32 leaf, reg, cpuid_bit;   /* the CPUID bit that offers it (leaf 1 or 7.0) */
};

/* "Control Registers" (Vol. 3A) with the CPUID bits of "CPUID—CPU Identification". */
static const struct cr4_feature cr4_features[] = {
	{ "DE", CR4_DE, 1, EDX, 2 },
	{ "TSD", CR4_TSD, 1, EDX, 4 },
	{ "MCE", CR4_MCE, 1, EDX, 7 },
	{ "PGE", CR4_PGE, 1, EDX, 13 },
	{ "UMIP", CR4_UMIP, 7, ECX, 2 },
	{ "SMXE", CR4_SMXE, 1, ECX, 6 },
	{ "FSGSBASE", CR4_FSGSBASE, 7, EBX, 0 },
	{ "OSXSAVE", CR4_OSXSAVE, 1, ECX, 26 },
	{ "KL", CR4_KL, 7, ECX, 23 },
	{ "SMEP", CR4_SMEP, 7, EBX, 7 },
	{ "PKE", CR4_PKE, 7, ECX, 3 },
	{ "PKS", CR4_PKS, 7, ECX, 31 },
};

static void check_controls_cpuid(void)
{
	/* "enable INVPCID": "If this control is 0, any execution of INVPCID causes a #UD". */
	bool invpcid = cpuid_reg(7, 0, EBX) & (1u << 10);
	int vec = invpcid_safe(2);
	report(invpcid ? vec == 0 : vec == UD_VECTOR, "INVPCID agrees with CPUID.7:EBX.INVPCID=%d (vector %d)",
	       invpcid, vec);

	/* "enable XSAVES/XRSTORS": XSAVES with CPUID.(EAX=0DH,ECX=1):EAX.XSAVES[bit 3] = 0. */
	if (cpuid_reg(1, 0, ECX) & (1u << 26)) {
		u64 cr4 = read_cr4();
		bool xsaves = cpuid_reg(0xd, 1, EAX) & (1u << 3);
		write_cr4(cr4 | CR4_OSXSAVE);
		vec = xsaves_safe();
		write_cr4(cr4);
		report(xsaves ? vec == 0 : vec == UD_VECTOR, "XSAVES agrees with CPUID.(0xD,1):EAX.XSAVES=%d (vector %d)",
		       xsaves, vec);
	} else {
		report_skip("XSAVES: no XSAVE");
	}

	/* RDPID/RDTSCP need "enable RDTSCP"; both or neither with CPUID. */
	bool rdtscp = cpuid_reg(0x80000001, 0, EDX) & (1u << 27);
	u32 lo, hi, aux;
	exception_clear();
	asm volatile("1: rdtscp\n2:\n\t" EXTABLE_ENTRY(1b, 2b) : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	vec = exception_vector();
	report(rdtscp ? vec < 0 : vec == UD_VECTOR, "RDTSCP agrees with CPUID.80000001:EDX.RDTSCP=%d (vector %d)",
	       rdtscp, vec);

	/* Each CR4 bit: settable exactly when CPUID offers its feature. */
	u64 cr4 = read_cr4();
	for (unsigned i = 0; i < ARRAY_SIZE(cr4_features); i++) {
		const struct cr4_feature *f = &cr4_features[i];
		bool offered = cpuid_reg(f->leaf, 0, (int)f->reg) & (1u << f->cpuid_bit);
		if (cr4 & f->bit) {
			report(offered, "CR4.%s is set and CPUID offers it", f->name);
			continue;
		}
		vec = write_cr4_safe(cr4 | f->bit);
		bool set = vec == 0 && (read_cr4() & f->bit);
		write_cr4(cr4);
		report(offered ? set : vec == GP_VECTOR, "CR4.%s: CPUID offers %d, mov to CR4 %s (vector %d)", f->name,
		       offered, set ? "set it" : "refused", vec);
	}
}

/* ---- item 3: RF on injected faults, single-step over emulated instructions ---- */

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_RF (1ull << 16)
#define DR6_BS (1ull << 14)

static volatile u64 db_rip, db_dr6;
static volatile unsigned db_count;

static void db_handler(struct ex_regs *r)
{
	u64 dr6;
	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	db_rip = r->rip;
	db_dr6 = dr6;
	db_count++;
	r->rflags &= ~RFLAGS_TF;
	asm volatile("mov %0, %%dr6" : : "r"(0xffff0ff0ull));
}

/* Run INSN with RFLAGS.TF set (POPF sets it: the trap follows the next instruction,
 * "Single-Step Exception Condition"); the #DB must come with RIP at label 1, right
 * after INSN, and DR6.BS set. A missed trap shows up after the NOP instead. */
#define SINGLE_STEP(insn, expected, ...)                                            \
	asm volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t" insn "\n"              \
		     "1: nop\n\tnop\n\t"                                                  \
		     "lea 1b(%%rip), %0" : "=&r"(expected) __VA_ARGS__)

static void report_step(const char *what, u64 expected, unsigned before)
{
	report(db_count == before + 1 && db_rip == expected && (db_dr6 & DR6_BS),
	       "single-step #DB right after %s (traps %u, RIP 0x%lx expected 0x%lx, DR6 0x%lx)", what,
	       db_count - before, db_rip, expected, db_dr6);
}

static void check_rf_tf(void)
{
	u64 val;
	/* Faults the hypervisor injects: the pushed RFLAGS image has RF = 1 ("EFLAGS
	 * Register", "Interrupt 1—Debug Exception"; "Event Injection"). */
	int vec = rdmsr_safe(0x4b564d99, &val);
	report(vec == GP_VECTOR && (exception_rflags() & RFLAGS_RF),
	       "injected #GP (rdmsr of an unknown MSR) pushes RF=1 (vector %d, rflags 0x%lx)", vec,
	       exception_rflags());
	u64 cr4 = read_cr4();
	if (!(cpuid_reg(7, 0, ECX) & (1u << 2))) {
		vec = write_cr4_safe(cr4 | CR4_UMIP);
		report(vec == GP_VECTOR && (exception_rflags() & RFLAGS_RF),
		       "injected #GP (mov to CR4.UMIP) pushes RF=1 (vector %d, rflags 0x%lx)", vec, exception_rflags());
	}
	exception_clear();
	asm volatile("1: vmxoff\n2:\n\t" EXTABLE_ENTRY(1b, 2b) : : : "memory", "cc");
	vec = exception_vector();
	report(vec == UD_VECTOR && (exception_rflags() & RFLAGS_RF),
	       "injected #UD (vmxoff) pushes RF=1 (vector %d, rflags 0x%lx)", vec, exception_rflags());

	/* Single-step traps after instructions the hypervisor emulates. */
	irq_handler_t *old = irq_set_handler(DB_VECTOR, db_handler);
	u64 exp;
	unsigned n;
	u32 a, d;

	n = db_count;
	a = 0;
	SINGLE_STEP("cpuid", exp, , "+a"(a) : : "rbx", "rcx", "rdx", "memory");
	report_step("CPUID", exp, n);

	n = db_count;
	SINGLE_STEP("inb $0x80, %%al", exp, : : "rax", "memory");
	report_step("IN (port 0x80)", exp, n);

	n = db_count;
	SINGLE_STEP("outb %%al, $0x80", exp, : : "memory");
	report_step("OUT (port 0x80)", exp, n);

	n = db_count;
	SINGLE_STEP("rdmsr", exp, , "=a"(a), "=d"(d) : "c"(MSR_IA32_APIC_BASE) : "memory");
	report_step("RDMSR (IA32_APIC_BASE)", exp, n);

	n = db_count;
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	SINGLE_STEP("wrmsr", exp, : "c"(MSR_IA32_APIC_BASE), "a"((u32)base), "d"((u32)(base >> 32)) : "memory");
	report_step("WRMSR (IA32_APIC_BASE, unchanged)", exp, n);

	n = db_count;
	u64 rax = HC_NOP;
	SINGLE_STEP("vmcall", exp, , "+a"(rax) : : "memory");
	report_step("VMCALL (HC_NOP)", exp, n);

	n = db_count;
	u64 cr0 = read_cr0();
	SINGLE_STEP("mov %1, %%cr0", exp, : "r"(cr0 & ~(1ull << 5)) : "memory");   /* NE: host-owned, exits */
	asm volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	report_step("MOV to CR0 (NE cleared)", exp, n);

	/* HLT with interrupts off: the pending trap is an event that ends the halt at once. */
	n = db_count;
	u64 fl = irq_save();
	SINGLE_STEP("hlt", exp, : : "memory");
	irq_restore(fl);
	report_step("HLT (IF=0)", exp, n);

	irq_set_handler(DB_VECTOR, old);
}

/* ---- item 4: NMI latching ---- */

static volatile u32 nmi_count;
static volatile bool nmi_resend;

static void nmi_handler(struct ex_regs *r)
{
	(void)r;
	nmi_count++;
	if (nmi_resend) {
		/* NMIs are blocked here: of these two, one is latched, one is lost. */
		nmi_resend = false;
		apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, apic_id());
		apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, apic_id());
	}
}

static void send_two_nmis(void *arg)
{
	u32 dest = (u32)(uintptr_t)arg;
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, dest);
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, dest);
}

/* "NMI Handling" (Vol. 3A): "while an NMI interrupt handler is executing, the
 * processor blocks delivery of subsequent NMIs until the next execution of IRET"; one
 * more NMI is held pending meanwhile. Two NMIs that arrive together, with none in
 * service, are therefore both delivered: one at once, one latched. */
static void check_nmi(void)
{
	apic_setup(APIC_MODE_XAPIC);
	irq_handler_t *old = irq_set_handler(NMI_VECTOR, nmi_handler);

	nmi_count = 0;
	nmi_resend = true;
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, apic_id());
	wait_until(nmi_count >= 2, 100000);
	mdelay(5);
	report(nmi_count == 2, "two NMIs sent from the NMI handler: one latched, one lost (delivered %u of 3)",
	       nmi_count);

	if (smp_init() < 2) {
		report_skip("two NMIs from another vCPU: needs 2 vCPUs");
	} else {
		nmi_count = 0;
		u64 fl = irq_save();
		on_cpu_async(1, send_two_nmis, (void *)(uintptr_t)apic_id());
		wait_until(nmi_count >= 2, 200000);
		cpu_wait_idle(1, 200000);
		mdelay(5);
		irq_restore(fl);
		report(nmi_count == 2, "two NMIs sent together by vCPU 1: both delivered (%u)", nmi_count);
	}
	irq_set_handler(NMI_VECTOR, old);
}

/* ---- item 5: the virtual LAPIC ---- */

#define VEC_TIMER 0x40
#define VEC_ERROR 0x41
#define VEC_IPI   0x42

static volatile u32 timer_irqs, error_irqs, ipi_irqs;

static void count_timer(struct ex_regs *r) { (void)r; timer_irqs++; apic_eoi(); }
static void count_error(struct ex_regs *r) { (void)r; error_irqs++; apic_eoi(); }
static void count_ipi(struct ex_regs *r) { (void)r; ipi_irqs++; apic_eoi(); }

static u32 read_esr(void)
{
	apic_write(APIC_ESR, 0);   /* latch the errors seen since the last write */
	return apic_read(APIC_ESR);
}

/* "APIC Timer": one-shot <-> periodic while counting; only TSC-deadline transitions
 * disarm ("TSC-Deadline Mode"). */
static void check_timer_mode_switch(void)
{
	u32 ticks_1ms = (u32)(apic_timer_hz() / 1000);
	timer_irqs = 0;
	apic_timer_start(VEC_TIMER, APIC_LVT_TIMER_ONESHOT, 0, 1, 3 * ticks_1ms);
	apic_write(APIC_LVT_TIMER, VEC_TIMER | APIC_LVT_TIMER_PERIODIC);
	sti();
	wait_until(timer_irqs >= 3, 200000);
	cli();
	u32 n = timer_irqs;
	report(n >= 3, "LVT timer one-shot -> periodic while counting: keeps running and reloads (%u interrupts)", n);

	/* periodic -> one-shot: the running period ends, then it stops. */
	apic_write(APIC_LVT_TIMER, VEC_TIMER | APIC_LVT_TIMER_ONESHOT);
	u32 before = timer_irqs;
	sti();
	mdelay(20);
	cli();
	n = timer_irqs - before;
	report(n == 1 || (n == 0 && apic_read(APIC_TMCCT) == 0 && before > 0),
	       "LVT timer periodic -> one-shot while counting: fires once more, then stops (%u)", n);
	apic_timer_stop();
}

/* "Error Handling": an illegal vector (0-15) is not delivered; ESR records it and the
 * LVT error entry interrupts. */
static void check_illegal_vectors(void)
{
	u32 ticks_1ms = (u32)(apic_timer_hz() / 1000);
	read_esr();
	apic_write(APIC_LVT_ERROR, VEC_ERROR);
	error_irqs = 0;
	apic_timer_start(5, APIC_LVT_TIMER_ONESHOT, 0, 1, ticks_1ms);
	sti();
	wait_until(error_irqs >= 1, 50000);
	mdelay(2);
	cli();
	u32 esr = read_esr();
	bool irr5 = apic_irr_test(5);
	report(error_irqs == 1 && (esr & (1u << 6)) && !irr5,
	       "LVT timer with vector 5: Receive Illegal Vector, error interrupt, not in IRR (errors %u, ESR 0x%x, IRR5 %d)",
	       error_irqs, esr, irr5);
	apic_timer_stop();

	error_irqs = 0;
	apic_icr_write(APIC_DM_FIXED | APIC_ICR_ASSERT | 3, apic_id());
	sti();
	wait_until(error_irqs >= 1, 50000);
	cli();
	esr = read_esr();
	report(error_irqs == 1 && (esr & (1u << 5)) && !apic_irr_test(3),
	       "ICR with vector 3: Send Illegal Vector and an error interrupt (errors %u, ESR 0x%x)", error_irqs, esr);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED | VEC_ERROR);
}

/* "Local APIC ID Register": writable in xAPIC mode; reads and routing agree. */
static void check_apic_id_write(void)
{
	u32 old = apic_read(APIC_ID);
	apic_write(APIC_ID, 7u << 24);
	u32 now = apic_read(APIC_ID) >> 24;
	ipi_irqs = 0;
	apic_icr_write(APIC_DM_FIXED | APIC_ICR_ASSERT | VEC_IPI, now);
	sti();
	wait_until(ipi_irqs >= 1, 20000);
	cli();
	u32 got_new = ipi_irqs;
	ipi_irqs = 0;
	u32 other = now == 7 ? old >> 24 : 7;
	apic_icr_write(APIC_DM_FIXED | APIC_ICR_ASSERT | VEC_IPI, other);
	sti();
	mdelay(2);
	cli();
	u32 got_other = ipi_irqs;
	apic_write(APIC_ID, old);
	report(now == 7 && got_new == 1 && got_other == 0,
	       "xAPIC ID written to 7: reads %u, an IPI to it arrives (%u), one to ID %u does not (%u)", now, got_new,
	       other, got_other);
}

struct x2_case {
	const char *what;
	u32 reg;   /* xAPIC offset */
	u64 val;
};

/* "x2APIC Register Address Space" and the layouts of the registers: reserved bits. */
static const struct x2_case x2_cases[] = {
	{ "TPR bit 8", APIC_TPR, 0x100 },
	{ "TPR bit 32", APIC_TPR, 1ull << 32 },
	{ "SVR bit 12 (no EOI-broadcast suppression)", APIC_SVR, 0x11ff },
	{ "SVR bit 31", APIC_SVR, 0x800001ffull },
	{ "LVT timer bit 19", APIC_LVT_TIMER, APIC_LVT_MASKED | (1u << 19) },
	{ "LVT timer bit 8 (delivery mode)", APIC_LVT_TIMER, APIC_LVT_MASKED | (1u << 8) },
	{ "LVT thermal bit 13", APIC_LVT_THERMAL, APIC_LVT_MASKED | (1u << 13) },
	{ "LVT PMC bit 17", APIC_LVT_PMC, APIC_LVT_MASKED | (1u << 17) },
	{ "LVT LINT0 bit 17", APIC_LVT_LINT0, APIC_LVT_MASKED | (1u << 17) },
	{ "LVT LINT1 bit 20", APIC_LVT_LINT1, APIC_LVT_MASKED | (1u << 20) },
	{ "LVT error bit 8", APIC_LVT_ERROR, APIC_LVT_MASKED | (1u << 8) },
	{ "TDCR bit 2", APIC_TDCR, 0x4 },
	{ "TDCR bit 4", APIC_TDCR, 0x10 },
	{ "TMICT bit 32", APIC_TMICT, 1ull << 32 },
	{ "ICR bit 13", APIC_ICR, (1u << 13) | APIC_LVT_MASKED | VEC_IPI },
	{ "ICR bit 20", APIC_ICR, (1u << 20) | VEC_IPI },
	{ "SELF IPI bit 8", APIC_SELF_IPI, 0x100 | VEC_IPI },
};

static void check_x2apic_reserved(void)
{
	if (!x2apic_supported() || apic_set_mode(APIC_MODE_X2APIC)) {
		report_skip("x2APIC reserved bits: no x2APIC");
		return;
	}
	unsigned refused = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(x2_cases); i++) {
		const struct x2_case *c = &x2_cases[i];
		int vec = wrmsr_safe(MSR_X2APIC_BASE + (c->reg >> 4), c->val);
		if (vec == GP_VECTOR)
			refused++;
		else
			printf("conform: x2APIC %s (MSR 0x%x = 0x%lx) accepted\n", c->what, MSR_X2APIC_BASE + (c->reg >> 4),
			       c->val);
	}
	report(refused == ARRAY_SIZE(x2_cases), "x2APIC WRMSR with reserved bits raises #GP (%u of %u)", refused,
	       (unsigned)ARRAY_SIZE(x2_cases));
	/* Valid values are still taken. */
	int vec = wrmsr_safe(MSR_X2APIC_BASE + (APIC_TDCR >> 4), 0xb);
	u64 tdcr = rdmsr(MSR_X2APIC_BASE + (APIC_TDCR >> 4));
	report(vec == 0 && tdcr == 0xb, "x2APIC TDCR = 0xb accepted (vector %d, reads 0x%lx)", vec, tdcr);
	ipi_irqs = 0;
	sti();
	mdelay(1);
	cli();
	ipi_irqs = 0;
	apic_set_mode(APIC_MODE_DISABLED);
	apic_set_mode(APIC_MODE_XAPIC);
	apic_setup(APIC_MODE_XAPIC);
}

/* IA32_APIC_BASE.EN = 0: the APIC leaves the address space ("Local APIC Status and
 * Location"); its MMIO page is unbacked, a byte access there is harmless. */
static void check_disabled_apic_mmio(void)
{
	volatile u8 *page = (volatile u8 *)(uintptr_t)0xfee00000ull;
	apic_set_mode(APIC_MODE_DISABLED);
	page[0x80] = 0x12;
	u8 b = page[0x81];
	u32 w = *(volatile u32 *)(page + 0x3a0);
	apic_set_mode(APIC_MODE_XAPIC);
	apic_setup(APIC_MODE_XAPIC);
	report(true, "byte write and reads at the disabled APIC's page: the VM runs on (read 0x%x, 0x%x)", b, w);
}

static void check_vlapic(void)
{
	apic_setup(APIC_MODE_XAPIC);
	irq_set_handler(VEC_TIMER, count_timer);
	irq_set_handler(VEC_ERROR, count_error);
	irq_set_handler(VEC_IPI, count_ipi);
	cli();
	check_timer_mode_switch();
	check_illegal_vectors();
	check_apic_id_write();
	check_x2apic_reserved();
	check_disabled_apic_mmio();
}

/* ---- item 6: MOV to CR0 ---- */

/* "MOV—Move to/from Control Registers": #GP(0) on "an attempt to clear CR0.PG" in
 * 64-bit mode. Clearing NE too makes the write exit (NE is host-owned), so the
 * hypervisor's emulation is what is checked; PG alone is the CPU's. */
static void check_cr0(void)
{
	u64 cr0 = read_cr0();
	int vec;
	exception_clear();
	asm volatile("1: mov %0, %%cr0\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
		     : : "r"(cr0 & ~((1ull << 31) | (1ull << 5))) : "memory");
	vec = exception_vector();
	report(vec == GP_VECTOR && read_cr0() == cr0, "clearing CR0.PG (and NE) in 64-bit mode: #GP (vector %d)", vec);
	exception_clear();
	asm volatile("1: mov %0, %%cr0\n2:\n\t" EXTABLE_ENTRY(1b, 2b) : : "r"(cr0 & ~(1ull << 31)) : "memory");
	vec = exception_vector();
	report(vec == GP_VECTOR && read_cr0() == cr0, "clearing CR0.PG alone in 64-bit mode: #GP (vector %d)", vec);
}

/* ---- item 7: MSRs ---- */

#define MSR_IA32_TSC        0x10
#define MSR_IA32_TSC_ADJUST 0x3b
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_DEBUGCTL   0x1d9
#define MSR_IA32_TSC_AUX    0xc0000103

static void check_msrs(void)
{
	/* "Time-Stamp Counter Adjustment": WRMSR to IA32_TSC sets the TSC and moves
	 * IA32_TSC_ADJUST by the same step; WRMSR to IA32_TSC_ADJUST moves the TSC. */
	const u64 target = 1ull << 40;
	bool adjust = cpuid_reg(7, 0, EBX) & (1u << 1);
	u64 adj0 = 0, adj1 = 0, host = rdtsc();
	if (adjust)
		rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj0);
	int vec = wrmsr_safe(MSR_IA32_TSC, target);
	u64 t1 = rdtsc();
	if (adjust)
		rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj1);
	report(vec == 0 && t1 >= target && t1 - target < 100000000ull,
	       "WRMSR IA32_TSC = 2^40: RDTSC reads 0x%lx (vector %d)", t1, vec);
	if (adjust) {
		s64 step = (s64)(adj1 - adj0);
		report(step > (s64)(target - t1) && step <= (s64)(target - host),
		       "IA32_TSC_ADJUST moved with it by %ld", step);
	}

	/* The TSC-deadline timer takes the guest's TSC. */
	if (tsc_deadline_supported()) {
		apic_setup(APIC_MODE_XAPIC);
		irq_set_handler(VEC_TIMER, count_timer);
		timer_irqs = 0;
		apic_tsc_deadline_mode(VEC_TIMER);
		apic_tsc_deadline_arm(rdtsc() + us_to_tsc(1000));
		sti();
		wait_until(timer_irqs >= 1, 100000);
		cli();
		report(timer_irqs == 1, "TSC-deadline timer 1 ms ahead of the written TSC fires (%u)", timer_irqs);
		apic_timer_stop();
	}
	if (adjust) {
		vec = wrmsr_safe(MSR_IA32_TSC_ADJUST, adj0);
		u64 t2 = rdtsc();
		report(vec == 0 && t2 < target, "IA32_TSC_ADJUST back to %lu: the TSC follows (0x%lx)", adj0, t2);
	} else {
		wrmsr_safe(MSR_IA32_TSC, host);
	}

	/* IA32_TSC_AUX with RDTSCP offered; bits 63:32 reserved. */
	if (cpuid_reg(0x80000001, 0, EDX) & (1u << 27)) {
		u64 aux = 0;
		int w = wrmsr_safe(MSR_IA32_TSC_AUX, 0x1234);
		int r = rdmsr_safe(MSR_IA32_TSC_AUX, &aux);
		int bad = wrmsr_safe(MSR_IA32_TSC_AUX, 1ull << 32);
		report(w == 0 && r == 0 && aux == 0x1234 && bad == GP_VECTOR,
		       "IA32_TSC_AUX: written 0x1234 reads 0x%lx, bit 32 refused (vector %d)", aux, bad);
		u32 lo, hi, ecx;
		asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(ecx));
		printf("conform: RDTSCP ECX = 0x%x (the hardware MSR while the vCPU runs)\n", ecx);
	}

	/* IA32_MISC_ENABLE: writable bits kept, others refused. */
	u64 misc = rdmsr(MSR_IA32_MISC_ENABLE);
	int w1 = wrmsr_safe(MSR_IA32_MISC_ENABLE, misc & ~1ull);
	u64 back = rdmsr(MSR_IA32_MISC_ENABLE);
	wrmsr_safe(MSR_IA32_MISC_ENABLE, misc);
	int w2 = wrmsr_safe(MSR_IA32_MISC_ENABLE, misc | (1ull << 22));
	int w3 = wrmsr_safe(MSR_IA32_MISC_ENABLE, misc ^ (1ull << 11));
	report(w1 == 0 && back == (misc & ~1ull) && rdmsr(MSR_IA32_MISC_ENABLE) == misc && w2 == GP_VECTOR &&
	       w3 == GP_VECTOR,
	       "IA32_MISC_ENABLE 0x%lx: fast-strings write kept (0x%lx), limit-CPUID and BTS-unavailable refused (%d, %d)",
	       misc, back, w2, w3);

	/* IA32_DEBUGCTL: BTF accepted, LBR/TR/BTS refused (their CPUID bits are hidden). */
	u64 dbg = 0;
	int b1 = wrmsr_safe(MSR_IA32_DEBUGCTL, 2);
	rdmsr_safe(MSR_IA32_DEBUGCTL, &dbg);
	wrmsr_safe(MSR_IA32_DEBUGCTL, 0);
	int b2 = wrmsr_safe(MSR_IA32_DEBUGCTL, 1);
	int b3 = wrmsr_safe(MSR_IA32_DEBUGCTL, 1u << 6);
	report(b1 == 0 && dbg == 2 && b2 == GP_VECTOR && b3 == GP_VECTOR,
	       "IA32_DEBUGCTL: BTF accepted (reads 0x%lx), LBR and TR refused (%d, %d)", dbg, b2, b3);
}

/* ---- item 8: a long command line arrives whole ---- */

static void check_cmdline(void)
{
	size_t n = strlen(cmdline());
	report(cmdline_has("cmdline_end") && n > 1000,
	       "multiboot command line of %zu characters arrives whole (ends in cmdline_end)", n);
}

struct check {
	const char *name;
	void (*fn)(void);
	bool hv_only;
};

static const struct check checks[] = {
	{ "cpuid", check_cpuid_dynamic, false },
	{ "controls", check_controls_cpuid, true },
	{ "rftf", check_rf_tf, true },
	{ "nmi", check_nmi, false },
	{ "vlapic", check_vlapic, false },
	{ "cr0", check_cr0, false },
	{ "msr", check_msrs, true },
	{ "cmdline", check_cmdline, false },
};

int main(void)
{
	nohv = cmdline_has("nohv") || !hv_present();
	for (unsigned i = 0; i < ARRAY_SIZE(checks); i++) {
		if (!selected(checks[i].name))
			continue;
		if (nohv && checks[i].hv_only) {
			report_skip("%s: hypervisor only", checks[i].name);
			continue;
		}
		printf("conform: %s\n", checks[i].name);
		checks[i].fn();
	}
	return report_summary();
}
