// SPDX-License-Identifier: MIT
/*
 * isolate: what one VM can do to another, or to the hypervisor (docs/INTERFACES.md).
 * One test per run, `test=`:
 *
 *   state    (run as two VMs sharing one CPU) write CR2, DR0-DR3, DR6, IA32_TSC_AUX and
 *            the SYSCALL MSRs with values derived from `name=`, then re-read them for
 *            `duration=` slices (default 200) while the scheduler switches between the
 *            VMs: every read must give this VM's own value (Intel SDM Vol. 3C, "Guest-
 *            State Area": none of them is in the VMCS, so the hypervisor switches them).
 *            Also: CR4.PKE cannot be set (PKU is not offered; PKRU would not be
 *            switched). Needs at least `min_switches=` (default 20) switches in.
 *   usermode a VMCALL from CPL 3: #UD, and HC_EXIT from CPL 3 does not stop the VM
 *            (`expect=ud`, the default); with the VM's user_hc=on, `expect=ok`: the
 *            hypercall returns its result.
 *   hostile  periodic LAPIC timer with initial count 1, divide by 1, interrupts on, spin
 *            for `hold=` slices (default 80), then exit 0.
 *   victim   (run beside `hostile` on one CPU) its own run time over a window of
 *            `window=` slices (default 40) that starts 4 slices in: prints
 *            `isolate: share vm=N run_ticks=R` and `isolate: share vm=others
 *            run_ticks=E-R` (E = the window) for the scenario's ratio check, and
 *            checks it got at least `min_share=` percent (default 35) itself.
 *   deadhalt every vCPU (`vcpus=` of the VM) halts for good: `mode=cli` (CLI; HLT) or
 *            `mode=sti` (STI; HLT, nothing armed): the hypervisor must stop the VM
 *            (status 2). Reaching the end is a failure.
 *   idle     STI; HLT with a one-shot timer armed `far_ms=` ahead (default 60000): not
 *            provably dead, so only the hypervisor's idle_timeout= ends the run.
 *   flood    300 refused APIC-base relocations (each #GP): the hypervisor's console
 *            must not print 300 lines.
 */
#include "lib.h"
#include "apic.h"
#include "smp.h"

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_FMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define CR4_PKE (1ul << 22)

static u64 name_hash(void)
{
	const char *n = cmdline_get("name");
	u64 h = 1469598103934665603ull;   /* FNV-1a */
	for (; n && *n && *n != ' '; n++)
		h = (h ^ (u8)*n) * 1099511628211ull;
	return h;
}

/* ---- state ---- */

#define DEFINE_DR(n)                                                                   \
	static inline u64 read_dr##n(void)                                             \
	{                                                                              \
		u64 v;                                                                 \
		asm volatile("mov %%db" #n ", %0" : "=r"(v));                          \
		return v;                                                              \
	}                                                                              \
	static inline void write_dr##n(u64 v) { asm volatile("mov %0, %%db" #n : : "r"(v) : "memory"); }
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
#undef DEFINE_DR

static inline void write_cr2(u64 v)
{
	asm volatile("mov %0, %%cr2" : : "r"(v) : "memory");
}

enum { R_CR2, R_DR0, R_DR1, R_DR2, R_DR3, R_DR6, R_KGS, R_STAR, R_LSTAR, R_CSTAR, R_FMASK, R_TSC_AUX,
       R_RDTSCP, NR_REGS };
static const char *const reg_names[NR_REGS] = {
	"CR2", "DR0", "DR1", "DR2", "DR3", "DR6", "KERNEL_GS_BASE", "STAR", "LSTAR", "CSTAR", "FMASK",
	"TSC_AUX", "RDTSCP.ECX",
};

static u64 read_reg(int r)
{
	u32 lo, hi, aux;
	switch (r) {
	case R_CR2: return read_cr2();
	case R_DR0: return read_dr0();
	case R_DR1: return read_dr1();
	case R_DR2: return read_dr2();
	case R_DR3: return read_dr3();
	case R_DR6: return read_dr6();
	case R_KGS: return rdmsr(MSR_KERNEL_GS_BASE);
	case R_STAR: return rdmsr(MSR_STAR);
	case R_LSTAR: return rdmsr(MSR_LSTAR);
	case R_CSTAR: return rdmsr(MSR_CSTAR);
	case R_FMASK: return rdmsr(MSR_FMASK);
	case R_TSC_AUX: return rdmsr(MSR_TSC_AUX);
	case R_RDTSCP:
		asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
		return aux;
	}
	return 0;
}

static int test_state(void)
{
	u64 h = name_hash();
	u64 slice = (u64)hc_get_info(HC_INFO_SLICE_TICKS);
	u64 duration = cmdline_get_u64("duration", 200) * slice;
	u64 min_switches = cmdline_get_u64("min_switches", 20);
	u32 a, b, c, d;
	cpuid_count(0x80000001, 0, &a, &b, &c, &d);
	bool rdtscp = d & (1u << 27);
	u64 want[NR_REGS];
	bool have[NR_REGS];

	/* Canonical addresses below 2^47, distinct per VM (the hash) and per register. */
	u64 base = (h & 0x00007ffffff00000ull) | 0x1000;
	write_cr2(base + 0x2);
	write_dr0(base + 0x10);
	write_dr1(base + 0x20);
	write_dr2(base + 0x30);
	write_dr3(base + 0x40);
	/* DR6 B0-B3 (bits 3:0) are writable: the VM's own pattern, never 0 */
	write_dr6(0xffff0ff0ull | ((h >> 8) % 15 + 1));
	wrmsr(MSR_KERNEL_GS_BASE, base + 0x50);
	wrmsr(MSR_STAR, h & 0xffffffffffff0000ull);
	wrmsr(MSR_LSTAR, base + 0x60);
	wrmsr(MSR_CSTAR, base + 0x70);
	wrmsr(MSR_FMASK, (h >> 16) & 0x3f7fd5);
	int tsc_aux_fault = wrmsr_safe(MSR_TSC_AUX, (h >> 24) & 0xffffffffull);
	for (int r = 0; r < NR_REGS; r++) {
		have[r] = true;
		if (r == R_TSC_AUX || r == R_RDTSCP)
			have[r] = rdtscp && !tsc_aux_fault;
		want[r] = have[r] ? read_reg(r) : 0;
	}
	report(!rdtscp || !tsc_aux_fault, "IA32_TSC_AUX writable when CPUID offers RDTSCP (rdtscp=%d, wrmsr vector %d)",
	       rdtscp, tsc_aux_fault);
	report((want[R_DR6] & 0xf) == (h >> 8) % 15 + 1, "DR6 B0-B3 hold this VM's pattern (DR6=0x%llx)",
	       (unsigned long long)want[R_DR6]);
	printf("isolate: state vm=%s CR2=0x%llx DR0=0x%llx DR6=0x%llx STAR=0x%llx TSC_AUX=0x%llx\n",
	       cmdline_get("name") ? cmdline_get("name") : "?", (unsigned long long)want[R_CR2],
	       (unsigned long long)want[R_DR0], (unsigned long long)want[R_DR6], (unsigned long long)want[R_STAR],
	       (unsigned long long)want[R_TSC_AUX]);

	u64 sw0 = (u64)hc_get_counter(HC_CTR_CTX_SWITCHES);
	u64 end = rdtsc() + duration;
	u64 rounds = 0, bad[NR_REGS] = { 0 };
	while (rdtsc() < end) {
		for (int r = 0; r < NR_REGS; r++) {
			if (!have[r])
				continue;
			u64 got = read_reg(r);
			if (got != want[r] && !bad[r]++)
				printf("isolate: %s reads 0x%llx, this VM wrote 0x%llx (round %llu)\n", reg_names[r],
				       (unsigned long long)got, (unsigned long long)want[r], (unsigned long long)rounds);
		}
		rounds++;
	}
	u64 switches = (u64)hc_get_counter(HC_CTR_CTX_SWITCHES) - sw0;
	printf("isolate: %llu rounds, %llu switches in\n", (unsigned long long)rounds, (unsigned long long)switches);
	report(switches >= min_switches, "the vCPU was switched out and in at least %llu times (%llu)",
	       (unsigned long long)min_switches, (unsigned long long)switches);
	for (int r = 0; r < NR_REGS; r++)
		if (have[r])
			report(!bad[r], "%s kept this VM's value across the switches (%llu bad reads)", reg_names[r],
			       (unsigned long long)bad[r]);

	/* CR4.PKE: not offered (CPUID.(7,0):ECX.PKU = 0), so MOV to CR4 faults. */
	cpuid_count(7, 0, &a, &b, &c, &d);
	u64 cr4 = read_cr4();
	exception_clear();
	asm volatile("1: mov %0, %%cr4\n2:\n\t" EXTABLE_ENTRY(1b, 2b) : : "r"(cr4 | CR4_PKE) : "memory");
	int v = exception_vector();
	report(!(c & (1u << 3)) && v == GP_VECTOR && !(read_cr4() & CR4_PKE),
	       "CR4.PKE refused with #GP (PKU in CPUID %u, vector %d)", (c >> 3) & 1, v);
	return report_summary();
}

/* ---- usermode ---- */

struct tss64 {
	u32 reserved0;
	u64 rsp0, rsp1, rsp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS layout");

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA (0x20 | 3)
#define SEL_UCODE (0x28 | 3)
#define SEL_TSS 0x30

static u64 gdt[8] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static u8 kstack[16384] __attribute__((aligned(16)));
static u8 ustack[16384] __attribute__((aligned(16)));
u64 isolate_saved_rsp;
static volatile int user_stage;
static volatile long user_ret;
static volatile int user_uds;
static volatile u64 user_ud_rip;

void isolate_run_user(void (*fn)(void), void *stack_top);
void isolate_user_return(void);
/* run_user(fn, stack): IRETQ to fn at CPL 3 on stack; the #UD handler comes back to
 * isolate_user_return at CPL 0, which returns to the caller. */
asm(".text\n"
    ".globl isolate_run_user\n"
    "isolate_run_user:\n"
    "	pushq %rbx\n	pushq %rbp\n	pushq %r12\n	pushq %r13\n	pushq %r14\n	pushq %r15\n"
    "	movq %rsp, isolate_saved_rsp(%rip)\n"
    "	pushq $0x23\n"          /* SS = SEL_UDATA */
    "	pushq %rsi\n"
    "	pushfq\n"
    "	pushq $0x2b\n"          /* CS = SEL_UCODE */
    "	pushq %rdi\n"
    "	iretq\n"
    ".globl isolate_user_return\n"
    "isolate_user_return:\n"
    "	movq isolate_saved_rsp(%rip), %rsp\n"
    "	popq %r15\n	popq %r14\n	popq %r13\n	popq %r12\n	popq %rbp\n	popq %rbx\n"
    "	ret\n");

static void ud_handler(struct ex_regs *r)
{
	if ((r->cs & 3) != 3) {
		printf("isolate: #UD at CPL 0, rip 0x%llx\n", (unsigned long long)r->rip);
		report(false, "no #UD in kernel mode");
		exit(report_summary());
	}
	user_uds++;
	user_ud_rip = r->rip;
	r->rip = (u64)isolate_user_return;
	r->cs = SEL_KCODE;
	r->ss = SEL_KDATA;
	r->rsp = isolate_saved_rsp;
}

/* Runs at CPL 3: stage 1, the hypercall, stage 2, then UD2 back to CPL 0. */
static void user_vcpu_id(void)
{
	long r;
	user_stage = 1;
	asm volatile("vmcall" : "=a"(r) : "a"((long)HC_VCPU_ID) : "memory");
	user_ret = r;
	user_stage = 2;
	asm volatile("ud2");
}

static void user_exit(void)
{
	user_stage = 1;
	asm volatile("vmcall" : : "a"((long)HC_EXIT), "b"(99l) : "memory");
	user_stage = 2;
	asm volatile("ud2");
}

/* Every level of the identity map user-accessible (U/S, bit 2), so CPL 3 can run the
 * kernel's own code and data ("Access Rights" in "Paging"). */
static void map_user(void)
{
	u64 *pml4 = (u64 *)(read_cr3() & ~0xfffull);
	u64 *pdpt = (u64 *)(pml4[0] & 0x000ffffffffff000ull);
	pml4[0] |= 4;
	for (int i = 0; i < 4; i++) {
		if (!(pdpt[i] & 1))
			continue;
		pdpt[i] |= 4;
		u64 *pd = (u64 *)(pdpt[i] & 0x000ffffffffff000ull);
		for (int j = 0; j < 512; j++)
			if (pd[j] & 1)
				pd[j] |= 4;
	}
	asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

static void setup_user(void)
{
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull;   /* 64-bit code, DPL 0 */
	gdt[2] = 0x00cf92000000ffffull;   /* data, DPL 0 */
	gdt[3] = 0x00cf9a000000ffffull;   /* 32-bit code, DPL 0 (entry.S) */
	gdt[4] = 0x00cff2000000ffffull;   /* data, DPL 3 */
	gdt[5] = 0x00affa000000ffffull;   /* 64-bit code, DPL 3 */
	u64 t = (u64)&tss;
	/* 64-bit available TSS (type 9), present, limit 103 ("TSS Descriptor in 64-bit mode") */
	gdt[6] = (sizeof(tss) - 1) | ((t & 0xffffff) << 16) | (0x89ull << 40) | (((t >> 24) & 0xff) << 56);
	gdt[7] = t >> 32;
	tss.rsp0 = (u64)(kstack + sizeof(kstack));
	tss.iomap_base = sizeof(tss);
	struct desc_ptr p = { .limit = sizeof(gdt) - 1, .base = (u64)gdt };
	asm volatile("lgdt %0" : : "m"(p) : "memory");
	asm volatile("ltr %w0" : : "r"((u16)SEL_TSS) : "memory");
	map_user();
	irq_set_handler(UD_VECTOR, ud_handler);
}

static int test_usermode(void)
{
	const char *e = cmdline_get("expect");
	bool allowed = e && !strcmp(e, "ok");
	setup_user();
	report(hc_get_info(HC_INFO_NR_VCPUS) == 1, "a hypercall from CPL 0 works");

	user_stage = 0;
	user_ret = -100;
	user_uds = 0;
	isolate_run_user(user_vcpu_id, ustack + sizeof(ustack));
	printf("isolate: HC_VCPU_ID from CPL 3: stage %d, result %ld, #UD %d\n", user_stage, user_ret, user_uds);
	if (allowed) {
		report(user_stage == 2 && user_ret == 0, "user_hc=on: HC_VCPU_ID from CPL 3 returns 0 (%ld)",
		       user_ret);
	} else {
		report(user_stage == 1 && user_uds == 1 && user_ret == -100,
		       "HC_VCPU_ID from CPL 3 raises #UD (stage %d, rip 0x%llx)", user_stage,
		       (unsigned long long)user_ud_rip);
		user_stage = 0;
		user_uds = 0;
		isolate_run_user(user_exit, ustack + sizeof(ustack));
		report(user_stage == 1 && user_uds == 1, "HC_EXIT from CPL 3 raises #UD and the VM runs on");
	}
	/* back at CPL 0: hypercalls work as before */
	report(hc_get_info(HC_INFO_NR_VCPUS) == 1, "a hypercall from CPL 0 still works");
	return report_summary();
}

/* ---- hostile and victim ---- */

static volatile u64 ticks_seen;

static void timer_irq(struct ex_regs *r)
{
	(void)r;
	ticks_seen++;
	apic_eoi();
}

static int test_hostile(void)
{
	u64 slice = (u64)hc_get_info(HC_INFO_SLICE_TICKS);
	u64 end = rdtsc() + cmdline_get_u64("hold", 80) * slice;
	apic_setup(APIC_MODE_XAPIC);
	irq_set_handler(0x40, timer_irq);
	apic_timer_start(0x40, APIC_LVT_TIMER_PERIODIC, 0, 1, 1);
	sti();
	u64 n = 0;
	while (rdtsc() < end)
		n++;
	cli();
	apic_timer_stop();
	printf("isolate: hostile: %llu timer interrupts, %llu loop iterations, run_ticks=%llu\n",
	       (unsigned long long)ticks_seen, (unsigned long long)n,
	       (unsigned long long)hc_get_counter(HC_CTR_RUN_TICKS));
	return 0;
}

static int test_victim(void)
{
	u64 slice = (u64)hc_get_info(HC_INFO_SLICE_TICKS);
	u64 window = cmdline_get_u64("window", 40) * slice;
	u64 min_share = cmdline_get_u64("min_share", 35);
	u64 t0 = rdtsc() + 4 * slice;
	while (rdtsc() < t0)
		;
	t0 = rdtsc();
	u64 r0 = (u64)hc_get_counter(HC_CTR_RUN_TICKS);
	u64 n = 0;
	while (rdtsc() < t0 + window)
		n++;
	u64 t1 = rdtsc();
	u64 run = (u64)hc_get_counter(HC_CTR_RUN_TICKS) - r0;
	u64 el = t1 - t0;
	u64 others = el > run ? el - run : 0;
	const char *name = cmdline_get("name");
	printf("isolate: share vm=%s run_ticks=%llu\n", name ? name : "victim", (unsigned long long)run);
	printf("isolate: share vm=others run_ticks=%llu\n", (unsigned long long)others);
	printf("isolate: victim: %llu iterations in %llu ticks, %llu%% of the CPU\n", (unsigned long long)n,
	       (unsigned long long)el, (unsigned long long)(run * 100 / (el ? el : 1)));
	report(run * 100 >= min_share * el, "the victim got at least %llu%% of the CPU (%llu of %llu ticks)",
	       (unsigned long long)min_share, (unsigned long long)run, (unsigned long long)el);
	return report_summary();
}

/* ---- deadhalt, idle ---- */

static void halt_cli(void *arg)
{
	(void)arg;
	for (;;)
		asm volatile("cli; hlt" ::: "memory");
}

static void halt_sti(void *arg)
{
	(void)arg;
	for (;;)
		safe_halt();
}

static int test_deadhalt(void)
{
	const char *m = cmdline_get("mode");
	bool sti_mode = m && !strcmp(m, "sti");
	unsigned cpus = smp_init();
	printf("isolate: deadhalt: %u vCPUs halt for good with interrupts %s\n", cpus, sti_mode ? "on" : "off");
	for (unsigned i = 1; i < cpus; i++)
		on_cpu_async(i, sti_mode ? halt_sti : halt_cli, NULL);
	udelay(1000);
	(sti_mode ? halt_sti : halt_cli)(NULL);
	return 1;
}

static int test_idle(void)
{
	u64 far = cmdline_get_u64("far_ms", 60000);
	apic_setup(APIC_MODE_XAPIC);
	irq_set_handler(0x41, timer_irq);
	apic_tsc_deadline_mode(0x41);
	apic_tsc_deadline_arm(rdtsc() + us_to_tsc(far * 1000));
	printf("isolate: idle: STI; HLT with a timer %llu ms ahead\n", (unsigned long long)far);
	for (;;)
		safe_halt();
	return 1;
}

/* ---- flood ---- */

static int test_flood(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	int gp = 0;
	for (int i = 0; i < 300; i++)
		gp += wrmsr_safe(MSR_IA32_APIC_BASE, (base & 0xfff) | (0xfed00000ull + ((u64)(i % 16) << 12))) ==
		      GP_VECTOR;
	report(gp == 300, "300 APIC-base relocations refused with #GP (%d)", gp);
	report(rdmsr(MSR_IA32_APIC_BASE) == base, "APIC base unchanged");
	return report_summary();
}

int main(void)
{
	const char *t = cmdline_get("test");
	if (!t) {
		report(false, "isolate: give test=state|usermode|hostile|victim|deadhalt|idle|flood");
		return report_summary();
	}
	if (!strcmp(t, "state"))
		return test_state();
	if (!strcmp(t, "usermode"))
		return test_usermode();
	if (!strcmp(t, "hostile"))
		return test_hostile();
	if (!strcmp(t, "victim"))
		return test_victim();
	if (!strcmp(t, "deadhalt"))
		return test_deadhalt();
	if (!strcmp(t, "idle"))
		return test_idle();
	if (!strcmp(t, "flood"))
		return test_flood();
	report(false, "isolate: unknown test '%s'", t);
	return report_summary();
}
