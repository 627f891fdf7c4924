/* SPDX-License-Identifier: MIT */
/*
 * apic: the local APIC as a guest sees it, checked against Intel SDM Vol. 3A, chapter
 * "Advanced Programmable Interrupt Controller (APIC)" (section titles are quoted in
 * the comments). Under the hypervisor it is the acceptance test of the virtual LAPIC;
 * it also runs bare under QEMU TCG or Bochs, where features the CPU does not enumerate
 * (x2APIC, TSC-deadline) are reported as SKIP.
 *
 * Every wait is bounded by the TSC, so a lost interrupt is a FAIL, not a hang. An AP
 * that a failed test leaves stuck is restarted with INIT/SIPI/SIPI.
 *
 * Command line:
 *   tests=G1,G2,...  groups to run (default all): smp regs selfipi tpr nested svr nmi
 *                    ipi broadcast logical timer tscdeadline
 *   mode=xapic|x2apic|both   APIC mode(s) the groups run in (default both: xAPIC
 *                    first, then every CPU switches to x2APIC)
 *   cpus=N           CPUs to expect (default HC_INFO_NR_VCPUS, else the MADT, else 1)
 *   timeout_ms=N     how long an interrupt may take to arrive (default 100)
 *   hold_us=N        how long "not delivered" is watched (default 2000)
 *   timer_us=N       LVT timer period (default 1000); deadline_us=N TSC-deadline
 *                    distance (default 1000)
 *   tsc_hz=N, apic_hz=N   override the TSC / APIC timer frequency
 *   nohv             no hypercalls (bare metal, QEMU TCG)
 */
#include "apic.h"
#include "smp.h"

#define VEC_LOWER   0x30   /* class 3: below VEC_A */
#define VEC_A       0x40   /* class 4: the self-IPI vector */
#define VEC_SAME    0x45   /* class 4: same class as VEC_A */
#define VEC_WAKE    0x50
#define VEC_SVR     0x58   /* sent while software-disabled */
#define VEC_IPI     0x60
#define VEC_BCAST   0x70
#define VEC_HIGH    0x80   /* class 8: above VEC_A */
#define VEC_LOGICAL 0x90
#define VEC_TIMER   0xa0
#define VEC_TSCDL   0xb0

static volatile u32 cnt[MAX_CPUS][256];
static volatile u64 last_tsc[MAX_CPUS][256];
static volatile u32 nmi_cnt[MAX_CPUS];

static u64 to_us;          /* delivery timeout */
static u64 hold_us;        /* "not delivered" window */
static unsigned ncpus;
static const char *mode_tag = "";
static const char *group = "";

/* ---- reporting ------------------------------------------------------------------- */

static void __printf(2, 3) ck(bool ok, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	report(ok, "%s%s%s: %s", mode_tag, *mode_tag ? " " : "", group, buf);
}

static void __printf(1, 2) skip(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	report_skip("%s%s%s: %s", mode_tag, *mode_tag ? " " : "", group, buf);
}

static bool group_selected(const char *name)
{
	const char *t = cmdline_get("tests");
	size_t n = strlen(name);

	if (!t || !*t)
		return true;
	while (*t) {
		const char *e = t;

		while (*e && *e != ',')
			e++;
		if ((size_t)(e - t) == n && !strncmp(t, name, n))
			return true;
		t = *e ? e + 1 : e;
	}
	return false;
}

/* ---- handlers ----------------------------------------------------------------------- */

static void count_irq(struct ex_regs *r)
{
	unsigned c = smp_id();

	last_tsc[c][r->vector] = rdtsc();
	cnt[c][r->vector]++;
	apic_eoi();
}

static void count_nmi(struct ex_regs *r)
{
	(void)r;
	nmi_cnt[smp_id()]++;
}

static u32 C(unsigned cpu, u8 v)
{
	return cnt[cpu][v];
}

/* ---- APs as receivers ------------------------------------------------------------ */

struct ap_ctl {
	u8 vec;
	volatile u32 ready, stop, sent;
	/* results of ap_held() */
	volatile u32 held, irr, delivered, woke;
};

static struct ap_ctl ctl[MAX_CPUS];

/* Listen with IF = 1, spinning, until told to stop. */
static void ap_listen(void *arg)
{
	struct ap_ctl *c = arg;

	sti();
	c->ready = 1;
	wait_until(c->stop, smp_timeout_us());
	cli();
}

/* Listen in STI;HLT until the vector arrived or told to stop. */
static void ap_listen_hlt(void *arg)
{
	struct ap_ctl *c = arg;
	unsigned me = smp_id();
	u32 c0 = C(me, c->vec);

	c->ready = 1;
	while (C(me, c->vec) == c0 && !c->stop) {
		safe_halt();   /* sti; hlt: no wake-up lost between the test and the HLT */
		cli();
	}
	c->woke = 1;
}

/* IF = 0 until the BSP has sent and hold_us more; then STI and wait for it. */
static void ap_held(void *arg)
{
	struct ap_ctl *c = arg;
	unsigned me = smp_id();
	u32 c0 = C(me, c->vec);

	cli();
	c->ready = 1;
	wait_until(c->sent, to_us);
	udelay(hold_us);
	c->held = C(me, c->vec) == c0;
	c->irr = apic_irr_test(c->vec);
	sti();
	c->delivered = wait_until(C(me, c->vec) != c0, to_us) && C(me, c->vec) == c0 + 1;
	cli();
}

/* Spin with IF = 0 until told to stop (NMIs still get through). */
static void ap_spin_cli(void *arg)
{
	struct ap_ctl *c = arg;

	cli();
	c->ready = 1;
	wait_until(c->stop, smp_timeout_us());
}

/* CLI; HLT: only an NMI (or INIT) ends it. */
static void ap_cli_hlt(void *arg)
{
	struct ap_ctl *c = arg;

	cli();
	c->ready = 1;
	hlt();
	c->woke = 1;
}

static bool ap_start(unsigned cpu, cpu_fn_t *fn, u8 vec)
{
	struct ap_ctl *c = &ctl[cpu];

	memset((void *)c, 0, sizeof(*c));
	c->vec = vec;
	if (on_cpu_async(cpu, fn, c))
		return false;
	return wait_until(c->ready, to_us * 10);
}

/* Stop an AP's receiver; wake it from HLT with an NMI, or restart it, if needed. */
static bool ap_finish(unsigned cpu)
{
	ctl[cpu].stop = 1;
	if (cpu_wait_idle(cpu, to_us * 10))
		return true;
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, percpu[cpu].apic_id);
	if (cpu_wait_idle(cpu, to_us * 10))
		return true;
	printf("apic: cpu %u is stuck; restarting it with INIT/SIPI/SIPI\n", cpu);
	if (smp_boot_cpu(cpu))
		printf("apic: cpu %u restarted\n", cpu);
	else
		printf("apic: cpu %u did not restart\n", cpu);
	return false;
}

/* ---- self-IPI methods --------------------------------------------------------------- */

enum self_how { SELF_SHORTHAND, SELF_PHYS, SELF_MSR };

struct self_method {
	enum self_how how;
	const char *name;
};

static const struct self_method xapic_methods[] = {
	{ SELF_SHORTHAND, "ICR self shorthand" },
	{ SELF_PHYS, "ICR to own APIC ID" },
};

static const struct self_method x2apic_methods[] = {
	{ SELF_MSR, "SELF IPI MSR" },
	{ SELF_SHORTHAND, "ICR MSR self shorthand" },
	{ SELF_PHYS, "ICR MSR to own x2APIC ID" },
};

static size_t self_methods(const struct self_method **m)
{
	if (apic_mode() == APIC_MODE_X2APIC) {
		*m = x2apic_methods;
		return ARRAY_SIZE(x2apic_methods);
	}
	*m = xapic_methods;
	return ARRAY_SIZE(xapic_methods);
}

static void self_send(enum self_how how, u8 v)
{
	switch (how) {
	case SELF_SHORTHAND:
		apic_self_ipi_icr(v);
		break;
	case SELF_PHYS:
		apic_send_ipi(apic_id(), v);
		break;
	case SELF_MSR:
		/* "SELF IPI Register" (x2APIC only): a fixed, edge IPI to this APIC. */
		wrmsr(MSR_X2APIC_BASE + (APIC_SELF_IPI >> 4), v);
		break;
	}
}

/* ---- smp: AP bring-up -------------------------------------------------------------- */

static void ap_whoami(void *arg)
{
	u32 *out = arg;

	out[0] = smp_id();
	out[1] = apic_id();
	out[2] = (u32)apic_mode_hw();
}

static void test_smp(void)
{
	unsigned exp = smp_expected_cpus();
	long hc;

	group = "smp";
	printf("apic: %u CPUs expected (from %s), %u running\n", exp, smp_expected_source(),
	       ncpus);
	ck(ncpus == exp, "every expected CPU started (%u of %u)", ncpus, exp);
	for (unsigned i = 1; i < exp && i < MAX_CPUS; i++) {
		ck(percpu[i].online && percpu[i].apic_id == smp_apic_id(i),
		   "AP %u (APIC ID %u) reported in from C and read its APIC ID (%u)", i,
		   smp_apic_id(i), percpu[i].apic_id);
		if (percpu[i].online)
			ck(smp_trampoline_entries(i) == 1,
			   "AP %u entered the trampoline once after INIT, SIPI, SIPI (%u)", i,
			   smp_trampoline_entries(i));
	}
	for (unsigned i = 1; i < ncpus; i++) {
		u32 who[3] = { ~0u, ~0u, ~0u };
		int r = on_cpu(i, ap_whoami, who);

		ck(r == 0 && who[0] == i && who[1] == percpu[i].apic_id &&
			   who[2] == (u32)apic_mode(),
		   "on_cpu(%u) runs there: smp_id %u, APIC ID %u, %s mode", i, who[0], who[1],
		   apic_mode_name((enum apic_mode)who[2]));
	}
	if (hv_present() && (hc = hc_get_info(HC_INFO_NR_VCPUS)) >= 0)
		ck((unsigned)hc == exp, "HC_INFO_NR_VCPUS (%ld) = CPUs expected (%u)", hc, exp);
}

/* ---- regs: identification and register access ---------------------------------- */

static void test_regs(void)
{
	u32 a, b, c, d, v, id = apic_id();
	bool ok = true;

	group = "regs";
	v = apic_version();
	/* "Local APIC Version Register": 10H-15H integrated APIC; max LVT entry >= 4 */
	ck((v & 0xff) >= 0x10 && (v & 0xff) <= 0x15 && ((v >> 16) & 0xff) >= 4,
	   "version register 0x%x: integrated APIC, max LVT entry %u", v, (v >> 16) & 0xff);
	cpuid(1, &a, &b, &c, &d);
	if (apic_mode() == APIC_MODE_XAPIC) {
		/* CPUID.1:EBX[31:24] is the initial APIC ID ("Local APIC ID"). */
		ck(id == b >> 24, "APIC ID %u = CPUID.1:EBX[31:24] (%u)", id, b >> 24);
	} else {
		cpuid(0, &a, &b, &c, &d);
		if (a >= 0xb) {
			cpuid_count(0xb, 0, &a, &b, &c, &d);
			ck(id == d, "x2APIC ID %u = CPUID.0BH:EDX (%u)", id, d);
		} else {
			skip("no CPUID leaf 0BH to compare the x2APIC ID with");
		}
		ck((id & 0xff) == percpu[0].apic_id || percpu[0].apic_id == id,
		   "x2APIC ID %u matches the ID read in xAPIC mode (%u)", id, percpu[0].apic_id);
	}

	/* TPR round trip; with nothing in service PPR = TPR ("Processor Priority
	 * Register (PPR)"). */
	for (u32 t = 0; t < 0x100; t += 0x11) {
		apic_set_tpr(t);
		if (apic_get_tpr() != t || apic_get_ppr() != t) {
			ok = false;
			printf("apic: TPR 0x%x reads 0x%x, PPR 0x%x\n", t, apic_get_tpr(),
			       apic_get_ppr());
		}
	}
	apic_set_tpr(0);
	ck(ok, "TPR writes read back, PPR = TPR with an empty ISR");
	ck(apic_vec_highest(APIC_ISR) < 0, "ISR empty at rest");

	if (apic_mode() == APIC_MODE_X2APIC) {
		u64 val;

		/* "x2APIC Register Address Space": DFR and ICR2 do not exist, LDR is
		 * read-only, SELF IPI write-only, a non-zero EOI write faults. */
		ck(rdmsr_safe(MSR_X2APIC_BASE + (APIC_DFR >> 4), &val) == GP_VECTOR,
		   "RDMSR of the DFR (0x80e) raises #GP");
		ck(rdmsr_safe(MSR_X2APIC_BASE + (APIC_ICR2 >> 4), &val) == GP_VECTOR,
		   "RDMSR of 0x831 (no ICR2 in x2APIC mode) raises #GP");
		ck(wrmsr_safe(MSR_X2APIC_BASE + (APIC_LDR >> 4), 1) == GP_VECTOR,
		   "WRMSR to the read-only LDR (0x80d) raises #GP");
		ck(rdmsr_safe(MSR_X2APIC_BASE + (APIC_SELF_IPI >> 4), &val) == GP_VECTOR,
		   "RDMSR of the write-only SELF IPI register (0x83f) raises #GP");
		ck(wrmsr_safe(MSR_X2APIC_BASE + (APIC_EOI >> 4), 1) == GP_VECTOR,
		   "WRMSR of a non-zero value to EOI (0x80b) raises #GP");
		ck(wrmsr_safe(MSR_IA32_APIC_BASE,
			      rdmsr(MSR_IA32_APIC_BASE) & ~APIC_BASE_EXTD) == GP_VECTOR &&
			   apic_mode_hw() == APIC_MODE_X2APIC,
		   "x2APIC -> xAPIC directly raises #GP (x2APIC State Transitions)");
	}
}

/* ---- selfipi: self-IPIs with IF = 1 and IF = 0 ------------------------------------ */

static void test_selfipi(void)
{
	const struct self_method *m;
	size_t n = self_methods(&m);

	group = "selfipi";
	for (size_t i = 0; i < n; i++) {
		u32 c0;
		bool got, held, irr;

		cli();
		c0 = C(0, VEC_A);
		self_send(m[i].how, VEC_A);
		sti();
		got = wait_until(C(0, VEC_A) != c0, to_us);
		udelay(hold_us);
		cli();
		ck(got && C(0, VEC_A) == c0 + 1, "%s: delivered once with IF=1 (%u)", m[i].name,
		   C(0, VEC_A) - c0);
		ck(!apic_isr_test(VEC_A) && !apic_irr_test(VEC_A),
		   "%s: IRR and ISR clear after the handler's EOI", m[i].name);

		c0 = C(0, VEC_A);
		self_send(m[i].how, VEC_A);
		udelay(hold_us);
		held = C(0, VEC_A) == c0;
		irr = apic_irr_test(VEC_A);
		ck(held && irr, "%s: held in IRR while IF=0 (delivered %u, IRR %d)", m[i].name,
		   C(0, VEC_A) - c0, irr);
		sti();
		got = wait_until(C(0, VEC_A) != c0, to_us);
		udelay(hold_us);
		cli();
		ck(got && C(0, VEC_A) == c0 + 1, "%s: delivered once after STI (%u)", m[i].name,
		   C(0, VEC_A) - c0);
	}
}

/* ---- tpr: task priority holds an interrupt off ------------------------------------ */

static void test_tpr(void)
{
	const struct self_method *m;
	size_t n = self_methods(&m);
	u32 c0, tpr;
	bool held, got;

	group = "tpr";
	/* "Task and Processor Priorities": an interrupt is delivered only if its
	 * priority class (vector[7:4]) is above PPR[7:4]. TPR = 0x40 holds vector 0x40
	 * (same class); TPR = 0x3f no longer does. */
	for (size_t i = 0; i < n; i++) {
		cli();
		apic_set_tpr(VEC_A & 0xf0);
		c0 = C(0, VEC_A);
		self_send(m[i].how, VEC_A);
		sti();
		udelay(hold_us);
		held = C(0, VEC_A) == c0 && apic_irr_test(VEC_A);
		ck(held, "%s: held in IRR with IF=1 while TPR=0x%x", m[i].name, VEC_A & 0xf0);
		apic_set_tpr((VEC_A & 0xf0) - 1);
		got = wait_until(C(0, VEC_A) != c0, to_us);
		udelay(hold_us);
		cli();
		ck(got && C(0, VEC_A) == c0 + 1, "%s: delivered once after TPR lowered to 0x%x",
		   m[i].name, (VEC_A & 0xf0) - 1);
		apic_set_tpr(0);
	}

	/* CR8 is the TPR's class ("Task Priority in IA-32e Mode"). */
	cli();
	write_cr8(VEC_A >> 4);
	tpr = apic_get_tpr();
	ck(tpr == (VEC_A & 0xf0), "MOV to CR8 %u sets TPR to 0x%x (reads 0x%x)", VEC_A >> 4,
	   VEC_A & 0xf0, tpr);
	c0 = C(0, VEC_A);
	self_send(m[0].how, VEC_A);
	sti();
	udelay(hold_us);
	held = C(0, VEC_A) == c0;
	ck(held, "%s: held with IF=1 while CR8=%u", m[0].name, VEC_A >> 4);
	write_cr8(0);
	got = wait_until(C(0, VEC_A) != c0, to_us);
	cli();
	ck(got && C(0, VEC_A) == c0 + 1, "%s: delivered once after CR8=0", m[0].name);
	apic_set_tpr(0x5a);
	ck(read_cr8() == 5, "MOV from CR8 reads TPR[7:4] (TPR 0x5a, CR8 %lu)", read_cr8());
	apic_set_tpr(0);
}

/* ---- nested: ISR, PPR and EOI with a higher vector preempting a lower one ----------- */

static struct {
	volatile u32 log[8], n;
	volatile bool low_isr, high_done, both_isr, high_eoi_ok, irr_same, irr_lower;
	volatile bool held, low_isr_after_eoi, high_ran;
	volatile u32 ppr_low, ppr_high;
} nest;

#define LOG_END_LOW 0x140   /* "the VEC_A handler ends" in the log */

static void nest_log(u32 v)
{
	if (nest.n < ARRAY_SIZE(nest.log))
		nest.log[nest.n] = v;
	nest.n++;
}

static void nest_high(struct ex_regs *r)
{
	(void)r;
	nest_log(VEC_HIGH);
	nest.both_isr = apic_isr_test(VEC_A) && apic_isr_test(VEC_HIGH);
	nest.ppr_high = apic_get_ppr();
	apic_eoi();
	nest.high_eoi_ok = !apic_isr_test(VEC_HIGH) && apic_isr_test(VEC_A);
	nest.high_done = true;
}

static void nest_low(struct ex_regs *r)
{
	u32 n;

	(void)r;
	nest_log(VEC_A);
	nest.low_isr = apic_isr_test(VEC_A);
	nest.ppr_low = apic_get_ppr();
	apic_self_ipi(VEC_HIGH);
	sti();
	nest.high_ran = wait_until(nest.high_done, to_us);
	cli();
	/* A same-class and a lower vector stay pending while VEC_A is in service. */
	n = nest.n;
	apic_self_ipi(VEC_SAME);
	apic_self_ipi(VEC_LOWER);
	sti();
	udelay(hold_us);
	cli();
	nest.held = nest.n == n;
	nest.irr_same = apic_irr_test(VEC_SAME);
	nest.irr_lower = apic_irr_test(VEC_LOWER);
	nest_log(LOG_END_LOW);
	apic_eoi();
	nest.low_isr_after_eoi = apic_isr_test(VEC_A);
	/* IRET restores IF = 1: VEC_SAME, then VEC_LOWER */
}

static void nest_plain(struct ex_regs *r)
{
	nest_log((u32)r->vector);
	apic_eoi();
}

static void test_nested(void)
{
	static const u32 want[] = { VEC_A, VEC_HIGH, LOG_END_LOW, VEC_SAME, VEC_LOWER };
	irq_handler_t *old_a, *old_high, *old_same, *old_lower;
	bool order = true;
	char got[64] = "";
	size_t len = 0;

	group = "nested";
	memset((void *)&nest, 0, sizeof(nest));
	cli();
	old_a = irq_set_handler(VEC_A, nest_low);
	old_high = irq_set_handler(VEC_HIGH, nest_high);
	old_same = irq_set_handler(VEC_SAME, nest_plain);
	old_lower = irq_set_handler(VEC_LOWER, nest_plain);
	apic_self_ipi(VEC_A);
	sti();
	wait_until(nest.n >= ARRAY_SIZE(want), to_us + 2 * hold_us);
	udelay(hold_us);
	cli();
	irq_set_handler(VEC_A, old_a);
	irq_set_handler(VEC_HIGH, old_high);
	irq_set_handler(VEC_SAME, old_same);
	irq_set_handler(VEC_LOWER, old_lower);

	for (u32 i = 0; i < nest.n && i < ARRAY_SIZE(nest.log); i++)
		len += (size_t)snprintf(got + len, len < sizeof(got) ? sizeof(got) - len : 0,
					"%s0x%x", i ? "," : "", nest.log[i]);
	if (nest.n != ARRAY_SIZE(want))
		order = false;
	for (u32 i = 0; order && i < ARRAY_SIZE(want); i++)
		order = nest.log[i] == want[i];

	ck(nest.n > 0 && nest.low_isr && nest.ppr_low == VEC_A,
	   "in the 0x%x handler: ISR[0x%x] set, PPR 0x%x", VEC_A, VEC_A, nest.ppr_low);
	ck(nest.high_ran && nest.both_isr && nest.ppr_high == VEC_HIGH,
	   "0x%x preempts the 0x%x handler: ISR has both, PPR 0x%x", VEC_HIGH, VEC_A,
	   nest.ppr_high);
	ck(nest.high_ran && nest.high_eoi_ok,
	   "EOI in the 0x%x handler clears the highest ISR bit only (0x%x stays)", VEC_HIGH,
	   VEC_A);
	ck(nest.held && nest.irr_same && nest.irr_lower,
	   "0x%x (same class) and 0x%x (lower class) held in IRR while 0x%x is in service",
	   VEC_SAME, VEC_LOWER, VEC_A);
	ck(nest.n >= 3 && !nest.low_isr_after_eoi, "EOI in the 0x%x handler clears ISR[0x%x]",
	   VEC_A, VEC_A);
	ck(order, "handler order 0x40,0x80,end of 0x40,0x45,0x30 (got %s; 0x140 = end)", got);
	ck(apic_vec_highest(APIC_ISR) < 0 && apic_vec_highest(APIC_IRR) < 0,
	   "ISR and IRR empty at the end (ISR %d, IRR %d)", apic_vec_highest(APIC_ISR),
	   apic_vec_highest(APIC_IRR));
}

/* ---- svr: software enable/disable, spurious vector ------------------------------- */

static void test_svr(void)
{
	u32 svr, lvt, c0, c1, n0;
	bool got;

	group = "svr";
	cli();
	/* "Spurious-Interrupt Vector Register": vector bits 7:0 all writable on
	 * Pentium 4 and later, bit 8 = APIC software enable. */
	apic_write(APIC_SVR, APIC_SVR_ENABLE | 0xe7);
	svr = apic_read(APIC_SVR) & 0x1ff;
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	ck(svr == (APIC_SVR_ENABLE | 0xe7), "SVR vector and enable bit read back (0x%x)", svr);

	/* "Local APIC State After It Has Been Software Disabled": every LVT mask bit is
	 * set and cannot be cleared; NMI IPIs are still accepted. */
	apic_write(APIC_TMICT, 0);
	apic_write(APIC_LVT_TIMER, VEC_TIMER);
	apic_write(APIC_SVR, APIC_SPURIOUS_VECTOR);
	lvt = apic_read(APIC_LVT_TIMER);
	ck(lvt & APIC_LVT_MASKED, "software disable masks the LVT timer (0x%x)", lvt);
	apic_write(APIC_LVT_TIMER, VEC_TIMER);
	lvt = apic_read(APIC_LVT_TIMER);
	ck(lvt & APIC_LVT_MASKED, "LVT mask stays set when cleared while disabled (0x%x)", lvt);

	/* What a software-disabled APIC does with a fixed interrupt is not spelled out
	 * beyond "responds normally to INIT, NMI, SMI, and start-up messages" and
	 * "pending interrupts in the IRR and ISR registers are held"; implementations
	 * differ (QEMU keeps it in IRR, Bochs delivers it), so it is only reported. */
	c0 = C(0, VEC_SVR);
	self_send(apic_mode() == APIC_MODE_X2APIC ? SELF_MSR : SELF_SHORTHAND, VEC_SVR);
	sti();
	udelay(hold_us);
	cli();
	c1 = C(0, VEC_SVR);

	n0 = nmi_cnt[0];
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, apic_id());
	got = wait_until(nmi_cnt[0] != n0, to_us);
	ck(got, "NMI IPI to own APIC ID accepted while software-disabled");

	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	lvt = apic_read(APIC_LVT_TIMER);
	ck(lvt & APIC_LVT_MASKED, "LVT timer still masked after software enable (0x%x)", lvt);
	sti();
	udelay(hold_us);
	cli();
	printf("apic: %s svr: a fixed self-IPI sent while software-disabled was %s\n", mode_tag,
	       c1 != c0 ? "delivered while disabled"
	       : C(0, VEC_SVR) != c0 ? "held, then delivered after re-enabling" : "dropped");
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

/* ---- nmi: NMI delivery mode through the ICR ---------------------------------------- */

static void test_nmi(void)
{
	u32 n0;
	bool got;

	group = "nmi";
	/* The "self" shorthand is valid with fixed delivery only ("Valid Combinations
	 * for the Pentium 4 and Intel Xeon Processors' Local xAPIC Interrupt Command
	 * Register"): NMIs to self name the own APIC ID. */
	cli();
	n0 = nmi_cnt[0];
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, apic_id());
	got = wait_until(nmi_cnt[0] != n0, to_us);
	udelay(hold_us);
	ck(got && nmi_cnt[0] == n0 + 1, "NMI to own APIC ID taken once with IF=0 (%u)",
	   nmi_cnt[0] - n0);

	if (ncpus < 2) {
		skip("NMI to another CPU: needs 2 CPUs");
		return;
	}
	if (!ap_start(1, ap_spin_cli, 0)) {
		ck(false, "cpu 1 ready for the NMI test");
		ap_finish(1);
		return;
	}
	n0 = nmi_cnt[1];
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, percpu[1].apic_id);
	got = wait_until(nmi_cnt[1] != n0, to_us);
	ap_finish(1);
	ck(got && nmi_cnt[1] == n0 + 1, "NMI to cpu 1 spinning with IF=0 taken once (%u)",
	   nmi_cnt[1] - n0);

	if (!ap_start(1, ap_cli_hlt, 0)) {
		ck(false, "cpu 1 ready for the NMI-in-HLT test");
		ap_finish(1);
		return;
	}
	udelay(hold_us);   /* let it reach the HLT */
	n0 = nmi_cnt[1];
	apic_icr_write(APIC_DM_NMI | APIC_ICR_ASSERT, percpu[1].apic_id);
	got = wait_until(ctl[1].woke, to_us);
	ck(got && nmi_cnt[1] == n0 + 1, "NMI wakes cpu 1 from CLI;HLT (NMIs %u)",
	   nmi_cnt[1] - n0);
	if (!got) {
		/* Restart it rather than leave it halted with interrupts off. */
		ctl[1].stop = 1;
		if (!cpu_wait_idle(1, to_us))
			smp_boot_cpu(1);
	}
}

/* ---- ipi: fixed IPIs to a running, a halted and an IF=0 vCPU ------------------- */

static void test_ipi(void)
{
	const unsigned t = 1;
	u32 c0, id;
	bool got;

	group = "ipi";
	if (ncpus < 2) {
		skip("IPIs to another CPU: needs 2 CPUs");
		return;
	}
	id = percpu[t].apic_id;

	/* running, IF = 1 */
	if (ap_start(t, ap_listen, VEC_IPI)) {
		c0 = C(t, VEC_IPI);
		apic_send_ipi(id, VEC_IPI);
		got = wait_until(C(t, VEC_IPI) != c0, to_us);
		udelay(hold_us);
		ck(got && C(t, VEC_IPI) == c0 + 1, "to running cpu %u: delivered once (%u)", t,
		   C(t, VEC_IPI) - c0);
	} else {
		ck(false, "cpu %u ready to listen", t);
	}
	ap_finish(t);

	/* halted in STI;HLT */
	if (ap_start(t, ap_listen_hlt, VEC_IPI)) {
		udelay(hold_us);   /* let it reach the HLT */
		c0 = C(t, VEC_IPI);
		apic_send_ipi(id, VEC_IPI);
		got = wait_until(ctl[t].woke, to_us);
		ck(got && C(t, VEC_IPI) == c0 + 1, "to cpu %u halted in STI;HLT: wakes it (%u)", t,
		   C(t, VEC_IPI) - c0);
	} else {
		ck(false, "cpu %u ready to halt", t);
	}
	ap_finish(t);

	/* IF = 0: held in IRR until STI */
	if (ap_start(t, ap_held, VEC_IPI)) {
		apic_send_ipi(id, VEC_IPI);
		ctl[t].sent = 1;
		if (cpu_wait_idle(t, to_us * 4 + hold_us)) {
			ck(ctl[t].held && ctl[t].irr,
			   "to cpu %u with IF=0: held in its IRR (delivered %d, IRR %u)", t,
			   !ctl[t].held, ctl[t].irr);
			ck(ctl[t].delivered, "to cpu %u with IF=0: delivered once after its STI", t);
		} else {
			ck(false, "cpu %u finished the IF=0 test", t);
		}
	} else {
		ck(false, "cpu %u ready with IF=0", t);
	}
	ap_finish(t);
}

/* ---- broadcast: destination shorthands and the broadcast ID ------------------- */

static bool listen_all(u8 vec)
{
	bool ok = true;

	for (unsigned i = 1; i < ncpus; i++)
		if (!ap_start(i, ap_listen, vec)) {
			ck(false, "cpu %u ready to listen", i);
			ok = false;
		}
	return ok;
}

static void finish_all(void)
{
	for (unsigned i = 1; i < ncpus; i++)
		ap_finish(i);
}

/* Send with the BSP listening (IF = 1) too; true if cpu i got exactly want[i] more. */
static bool send_and_count(u32 low, u32 dest, u8 vec, const u32 *want, char *desc,
			   size_t dlen)
{
	u32 c0[MAX_CPUS];
	bool ok = true;
	size_t len = 0;

	for (unsigned i = 0; i < ncpus; i++)
		c0[i] = C(i, vec);
	sti();
	apic_icr_write(low | vec, dest);
	for (unsigned i = 0; i < ncpus; i++)
		wait_until(C(i, vec) - c0[i] >= want[i], to_us);
	udelay(hold_us);
	cli();
	for (unsigned i = 0; i < ncpus; i++) {
		u32 got = C(i, vec) - c0[i];

		if (got != want[i])
			ok = false;
		len += (size_t)snprintf(desc + len, len < dlen ? dlen - len : 0, "%scpu%u=%u/%u",
					i ? " " : "", i, got, want[i]);
	}
	return ok;
}

static void test_broadcast(void)
{
	u32 want[MAX_CPUS];
	char d[160];
	bool x2 = apic_mode() == APIC_MODE_X2APIC;

	group = "broadcast";
	if (!listen_all(VEC_BCAST)) {
		finish_all();
		return;
	}
	for (unsigned i = 0; i < ncpus; i++)
		want[i] = 1;
	ck(send_and_count(APIC_DEST_ALL | APIC_ICR_ASSERT, 0, VEC_BCAST, want, d, sizeof(d)),
	   "all-including-self shorthand: every CPU once (%s)", d);
	want[0] = 0;
	ck(send_and_count(APIC_DEST_OTHERS | APIC_ICR_ASSERT, 0, VEC_BCAST, want, d, sizeof(d)),
	   "all-excluding-self shorthand: every other CPU once (%s)", d);
	want[0] = 1;
	/* "Determining IPI Destination": 0xFF (xAPIC) / 0xFFFFFFFF (x2APIC) in physical
	 * mode is a broadcast to all. */
	ck(send_and_count(APIC_ICR_ASSERT, x2 ? APIC_BROADCAST_X2APIC : APIC_BROADCAST_XAPIC,
			  VEC_BCAST, want, d, sizeof(d)),
	   "physical destination 0x%x: every CPU once (%s)",
	   x2 ? APIC_BROADCAST_X2APIC : APIC_BROADCAST_XAPIC, d);
	finish_all();
}

/* ---- logical: flat model (xAPIC), cluster model (x2APIC) ------------------------- */

static void ap_set_flat(void *arg)
{
	u32 *io = arg;

	/* "Flat Model": DFR model bits 31:28 = 1111b; LDR bits 31:24 = logical ID. */
	apic_write(APIC_DFR, 0xffffffffu);
	apic_write(APIC_LDR, io[0]);
	io[1] = apic_read(APIC_LDR);
	io[2] = apic_read(APIC_DFR);
}

static void ap_read_ldr(void *arg)
{
	u32 *io = arg;

	io[0] = apic_read(APIC_LDR);
	io[1] = apic_id();
}

static void test_logical(void)
{
	u32 want[MAX_CPUS], ldr[MAX_CPUS] = { 0 };
	unsigned n = ncpus;
	char d[160];
	bool ok = true;
	u32 all = 0, none;
	const unsigned t = ncpus > 1 ? 1 : 0;

	group = "logical";
	if (apic_mode() == APIC_MODE_XAPIC) {
		if (n > 7)
			n = 7;   /* one flat bit per CPU, bit 7 kept free */
		for (unsigned i = 0; i < n; i++) {
			u32 io[3] = { (1u << i) << 24, 0, 0 };

			if (on_cpu(i, ap_set_flat, io) || io[1] != io[0] ||
			    (io[2] & 0xf0000000u) != 0xf0000000u) {
				ok = false;
				printf("apic: cpu %u LDR 0x%x DFR 0x%x\n", i, io[1], io[2]);
			}
			ldr[i] = (1u << i);
			all |= ldr[i];
		}
		ck(ok, "DFR flat model and LDR logical IDs read back on %u CPUs", n);
		none = 0x80;
	} else {
		for (unsigned i = 0; i < n; i++) {
			u32 io[2] = { 0, 0 };
			u32 exp;

			if (on_cpu(i, ap_read_ldr, io))
				ok = false;
			/* "Logical Destination Mode in x2APIC Mode": cluster ID = x2APIC
			 * ID[19:4] in LDR[31:16], bit x2APIC ID[3:0] in LDR[15:0]. */
			exp = ((io[1] >> 4) << 16) | (1u << (io[1] & 0xf));
			if (io[0] != exp) {
				ok = false;
				printf("apic: cpu %u x2APIC ID %u LDR 0x%x, expected 0x%x\n", i,
				       io[1], io[0], exp);
			}
			ldr[i] = io[0];
			if ((io[0] >> 16) == (ldr[0] >> 16))
				all |= io[0];
		}
		ck(ok, "LDR derived from the x2APIC ID (cluster model) on %u CPUs", n);
		/* a bit of cpu 0's cluster that no CPU has */
		none = ldr[0] & 0xffff0000u;
		for (unsigned b = 15; b > 0; b--)
			if (!(all & (1u << b))) {
				none |= 1u << b;
				break;
			}
	}

	if (!listen_all(VEC_LOGICAL)) {
		finish_all();
		return;
	}
	for (unsigned i = 0; i < ncpus; i++)
		want[i] = i == t ? 1 : 0;
	ck(send_and_count(APIC_DEST_LOGICAL | APIC_ICR_ASSERT, ldr[t], VEC_LOGICAL, want, d,
			  sizeof(d)),
	   "destination 0x%x (cpu %u only) (%s)", ldr[t], t, d);
	for (unsigned i = 0; i < ncpus; i++)
		want[i] = i < n && (apic_mode() == APIC_MODE_XAPIC ||
				    (ldr[i] >> 16) == (ldr[0] >> 16));
	ck(send_and_count(APIC_DEST_LOGICAL | APIC_ICR_ASSERT, all, VEC_LOGICAL, want, d,
			  sizeof(d)),
	   "destination 0x%x (all of them) (%s)", all, d);
	for (unsigned i = 0; i < ncpus; i++)
		want[i] = 0;
	ck(send_and_count(APIC_DEST_LOGICAL | APIC_ICR_ASSERT, none, VEC_LOGICAL, want, d,
			  sizeof(d)),
	   "destination 0x%x (no such CPU): nobody (%s)", none, d);
	finish_all();

	if (apic_mode() == APIC_MODE_XAPIC)
		for (unsigned i = 0; i < n; i++) {
			u32 io[3] = { 0, 0, 0 };

			on_cpu(i, ap_set_flat, io);
		}
}

/* ---- timer: LVT timer one-shot, periodic, masked ----------------------------------- */

static volatile u64 tstamp[16];
static volatile u32 tcount;

static void timer_stamp(struct ex_regs *r)
{
	(void)r;
	if (tcount < ARRAY_SIZE(tstamp))
		tstamp[tcount] = rdtsc();
	tcount++;
	apic_eoi();
}

static void test_timer(void)
{
	u64 hz, period_us = cmdline_get_u64("timer_us", 1000), per, t0, dt, mean, minint;
	u32 count, c1, c2;
	irq_handler_t *old;
	bool got;
	long info;

	group = "timer";
	hz = apic_timer_hz();
	if (!hz) {
		ck(false, "APIC timer clock known (current count register counts)");
		return;
	}
	printf("apic: %s timer: clock %llu Hz (%s), period %llu us\n", mode_tag,
	       (unsigned long long)hz, apic_timer_hz_source(), (unsigned long long)period_us);
	if (hv_present() && (info = hc_get_info(HC_INFO_APIC_TIMER_HZ)) > 0) {
		u64 m = apic_timer_measure_hz(10000);

		ck(m >= (u64)info * 9 / 10 && m <= (u64)info * 11 / 10,
		   "current count runs at HC_INFO_APIC_TIMER_HZ (%llu Hz measured, %ld Hz)",
		   (unsigned long long)m, info);
	}
	if (hz / 1000000 * period_us + hz % 1000000 * period_us / 1000000 > 0xffffffffu)
		period_us = 0xffffffffull / (hz / 1000000 + 1);
	count = (u32)(hz / 1000000 * period_us + hz % 1000000 * period_us / 1000000);
	per = us_to_tsc(period_us);

	/* One-shot ("APIC Timer"): counts down from the initial count once, interrupts
	 * at zero, and stays at zero. */
	cli();
	tcount = 0;
	old = irq_set_handler(VEC_TIMER, timer_stamp);
	t0 = rdtsc();
	apic_timer_start(VEC_TIMER, APIC_LVT_TIMER_ONESHOT, 0, 1, count);
	c1 = apic_read(APIC_TMCCT);
	udelay(period_us / 4);
	c2 = apic_read(APIC_TMCCT);
	sti();
	got = wait_until(tcount > 0, period_us + to_us);
	cli();
	dt = got ? tstamp[0] - t0 : 0;
	ck(c1 <= count && c2 < c1, "one-shot: current count falls from %u (%u, then %u)", count,
	   c1, c2);
	ck(got && dt >= per * 9 / 10,
	   "one-shot: fired after %llu us (count %u: %llu us; not early)",
	   (unsigned long long)tsc_to_us(dt), count, (unsigned long long)period_us);
	sti();
	udelay(3 * period_us);
	cli();
	c1 = apic_read(APIC_TMCCT);
	ck(tcount == 1 && c1 == 0, "one-shot: fired once (%u), current count then 0 (%u)",
	   tcount, c1);

	/* Periodic, divide by 2: reloads from the initial count at every zero. */
	tcount = 0;
	t0 = rdtsc();
	apic_timer_start(VEC_TIMER, APIC_LVT_TIMER_PERIODIC, 0, 2, count / 2);
	sti();
	got = wait_until(tcount >= 6, 6 * period_us + to_us);
	apic_write(APIC_TMICT, 0);   /* "a write of 0 to the initial-count register
				      * effectively stops the local APIC timer" */
	cli();
	c1 = tcount;
	if (got) {
		minint = ~0ull;
		for (unsigned i = 1; i < 6; i++)
			if (tstamp[i] - tstamp[i - 1] < minint)
				minint = tstamp[i] - tstamp[i - 1];
		mean = (tstamp[5] - tstamp[0]) / 5;
		ck(tstamp[0] - t0 >= per * 9 / 10 && minint >= per / 2 && mean >= per * 9 / 10 &&
			   mean <= per * 3 / 2,
		   "periodic: 6 interrupts, first after %llu us, mean period %llu us, "
		   "shortest %llu us (period %llu us)",
		   (unsigned long long)tsc_to_us(tstamp[0] - t0),
		   (unsigned long long)tsc_to_us(mean), (unsigned long long)tsc_to_us(minint),
		   (unsigned long long)period_us);
	} else {
		ck(false, "periodic: 6 interrupts within %llu us (got %u)",
		   (unsigned long long)(6 * period_us + to_us), tcount);
	}
	sti();
	udelay(3 * period_us);
	cli();
	ck(tcount == c1 && apic_read(APIC_TMCCT) == 0,
	   "periodic: initial count 0 stops it (%u more interrupts)", tcount - c1);

	/* Masked: counts down, no interrupt ("Local Vector Table": mask bit). */
	tcount = 0;
	apic_timer_start(VEC_TIMER, APIC_LVT_TIMER_ONESHOT, APIC_LVT_MASKED, 1, count);
	sti();
	udelay(2 * period_us);
	cli();
	c1 = apic_read(APIC_TMCCT);
	ck(tcount == 0 && c1 == 0, "masked one-shot: reaches 0 (%u) without an interrupt (%u)",
	   c1, tcount);
	apic_timer_stop();
	irq_set_handler(VEC_TIMER, old);
}

/* ---- tscdeadline: the TSC-deadline mode of the LVT timer ----------------------- */

static void test_tscdeadline(void)
{
	u64 delta = us_to_tsc(cmdline_get_u64("deadline_us", 1000));
	u64 d, d1, d2, now, msr, th;
	u32 c0;
	bool got, early;

	group = "tscdeadline";
	if (!tsc_deadline_supported()) {
		skip("CPUID.1:ECX.TSC-deadline[24] clear: TSC-deadline mode not available");
		return;
	}
	cli();
	apic_write(APIC_TMICT, 0);
	apic_tsc_deadline_mode(VEC_TSCDL);

	/* In the future ("TSC-Deadline Mode"): fires once the TSC reaches the deadline,
	 * then disarms (the MSR reads 0). */
	c0 = C(0, VEC_TSCDL);
	d = rdtsc() + delta;
	apic_tsc_deadline_arm(d);
	msr = apic_tsc_deadline_read();
	sti();
	got = wait_until(C(0, VEC_TSCDL) != c0, tsc_to_us(delta) + to_us);
	udelay(hold_us);
	cli();
	th = last_tsc[0][VEC_TSCDL];
	ck(msr == d, "armed: IA32_TSC_DEADLINE reads the deadline back (0x%llx, wrote 0x%llx)",
	   (unsigned long long)msr, (unsigned long long)d);
	ck(got && C(0, VEC_TSCDL) == c0 + 1 && th >= d,
	   "future deadline: fires once (%u), not before it (%lld ticks after)",
	   C(0, VEC_TSCDL) - c0, got ? (long long)(th - d) : 0LL);
	msr = apic_tsc_deadline_read();
	ck(msr == 0, "after firing IA32_TSC_DEADLINE reads 0 (0x%llx)", (unsigned long long)msr);

	/* Deadline = now, and in the past: fire at once. */
	c0 = C(0, VEC_TSCDL);
	d = rdtsc();
	apic_tsc_deadline_arm(d);
	sti();
	got = wait_until(C(0, VEC_TSCDL) != c0, to_us);
	udelay(hold_us);
	cli();
	ck(got && C(0, VEC_TSCDL) == c0 + 1, "deadline = now: fires once at once (%u)",
	   C(0, VEC_TSCDL) - c0);
	c0 = C(0, VEC_TSCDL);
	d = rdtsc();
	d = d > 10 * delta ? d - 10 * delta : 1;
	apic_tsc_deadline_arm(d);
	sti();
	got = wait_until(C(0, VEC_TSCDL) != c0, to_us);
	udelay(hold_us);
	cli();
	ck(got && C(0, VEC_TSCDL) == c0 + 1, "deadline in the past: fires once at once (%u)",
	   C(0, VEC_TSCDL) - c0);

	/* Re-armed before expiry: only the later deadline fires. */
	c0 = C(0, VEC_TSCDL);
	now = rdtsc();
	d1 = now + 2 * delta;
	d2 = now + 6 * delta;
	/* "If software disarms the timer or postpones the deadline, race conditions may
	 * result in the delivery of a spurious timer interrupt": the writes here are a
	 * whole delta before the first deadline, far from any such race. */
	apic_tsc_deadline_arm(d1);
	apic_tsc_deadline_arm(d2);
	early = rdtsc() + delta >= d1;
	sti();
	while (rdtsc() < d1 + delta)
		pause();
	{
		u32 mid = C(0, VEC_TSCDL) - c0;

		got = wait_until(C(0, VEC_TSCDL) != c0, tsc_to_us(5 * delta) + to_us);
		udelay(hold_us);
		cli();
		th = last_tsc[0][VEC_TSCDL];
		if (early)
			skip("re-arm: the second write came too close to the first deadline");
		else
			ck(mid == 0 && got && C(0, VEC_TSCDL) == c0 + 1 && th >= d2,
			   "re-armed later before expiry: nothing at the first deadline (%u), "
			   "one interrupt (%u) not before the second (%lld ticks after)",
			   mid, C(0, VEC_TSCDL) - c0, got ? (long long)(th - d2) : 0LL);
	}

	/* Cancelled: writing 0 disarms. */
	c0 = C(0, VEC_TSCDL);
	d = rdtsc() + 2 * delta;
	apic_tsc_deadline_arm(d);
	apic_tsc_deadline_arm(0);
	early = rdtsc() + delta >= d;
	sti();
	while (rdtsc() < d + 2 * delta)
		pause();
	udelay(hold_us);
	cli();
	msr = apic_tsc_deadline_read();
	if (early)
		skip("cancel: the write of 0 came too close to the deadline");
	else
		ck(C(0, VEC_TSCDL) == c0 && msr == 0,
		   "cancelled (write 0): no interrupt (%u), MSR 0x%llx", C(0, VEC_TSCDL) - c0,
		   (unsigned long long)msr);

	/* Leaving TSC-deadline mode disarms, and outside it the MSR reads 0 and
	 * ignores writes ("TSC-Deadline Mode"). */
	c0 = C(0, VEC_TSCDL);
	d = rdtsc() + 2 * delta;
	apic_tsc_deadline_arm(d);
	apic_write(APIC_LVT_TIMER, VEC_TSCDL | APIC_LVT_TIMER_ONESHOT);
	mfence();   /* the LVT store before the WRMSR, as for entering the mode */
	apic_tsc_deadline_arm(rdtsc() + delta);
	msr = apic_tsc_deadline_read();
	apic_tsc_deadline_mode(VEC_TSCDL);
	sti();
	while (rdtsc() < d + 2 * delta)
		pause();
	udelay(hold_us);
	cli();
	ck(C(0, VEC_TSCDL) == c0 && msr == 0,
	   "mode change disarms; in one-shot mode the MSR reads 0 (0x%llx) and ignores "
	   "writes (%u interrupts)", (unsigned long long)msr, C(0, VEC_TSCDL) - c0);

	/* In TSC-deadline mode the initial-count register ignores writes and the
	 * current-count register reads 0 (last: a wrongly accepted count must not
	 * disturb the tests above). */
	c0 = C(0, VEC_TSCDL);
	apic_write(APIC_TMICT, 1000);
	msr = apic_read(APIC_TMICT);
	sti();
	udelay(hold_us);
	cli();
	ck(apic_read(APIC_TMCCT) == 0 && msr == 0 && C(0, VEC_TSCDL) == c0,
	   "initial count ignored (reads %llu), current count 0, no interrupt",
	   (unsigned long long)msr);
	apic_timer_stop();
}

/* ---- modes and main ------------------------------------------------------------------- */

static void ap_setup_mode(void *arg)
{
	int *io = arg;

	io[1] = apic_setup((enum apic_mode)io[0]);
	percpu[smp_id()].apic_id = apic_id();
}

static bool switch_mode(enum apic_mode m)
{
	bool ok = apic_setup(m) == 0 && apic_mode_hw() == m;

	percpu[0].apic_id = apic_id();
	for (unsigned i = 1; i < ncpus; i++) {
		int io[2] = { (int)m, -1 };

		if (on_cpu(i, ap_setup_mode, io) || io[1] != 0)
			ok = false;
	}
	return ok;
}

struct test_group {
	const char *name;
	void (*fn)(void);
};

static const struct test_group groups[] = {
	{ "regs", test_regs },
	{ "selfipi", test_selfipi },
	{ "tpr", test_tpr },
	{ "nested", test_nested },
	{ "svr", test_svr },
	{ "ipi", test_ipi },
	{ "broadcast", test_broadcast },
	{ "logical", test_logical },
	{ "timer", test_timer },
	{ "tscdeadline", test_tscdeadline },
	{ "nmi", test_nmi },   /* last: a failure may leave cpu 1 to be restarted */
};

static void run_mode(enum apic_mode m)
{
	u32 xapic_id0 = percpu[0].apic_id;

	mode_tag = apic_mode_name(m);
	group = "mode";
	if (m == APIC_MODE_X2APIC && !x2apic_supported()) {
		skip("CPUID.1:ECX.x2APIC[21] clear: x2APIC tests not run");
		return;
	}
	ck(switch_mode(m), "every CPU's APIC in %s mode (IA32_APIC_BASE 0x%llx)", mode_tag,
	   (unsigned long long)rdmsr(MSR_IA32_APIC_BASE));
	if (m == APIC_MODE_X2APIC)
		ck(percpu[0].apic_id == xapic_id0 || (percpu[0].apic_id & 0xff) == xapic_id0,
		   "BSP x2APIC ID %u matches its xAPIC ID %u", percpu[0].apic_id, xapic_id0);
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		if (group_selected(groups[i].name))
			groups[i].fn();
}

static const u8 counted[] = { VEC_LOWER, VEC_A, VEC_SAME, VEC_WAKE, VEC_SVR, VEC_IPI,
			      VEC_BCAST, VEC_HIGH, VEC_LOGICAL, VEC_TIMER, VEC_TSCDL };

int main(void)
{
	const char *mode = cmdline_get("mode");
	bool xapic = true, x2apic = true;

	to_us = cmdline_get_u64("timeout_ms", 100) * 1000;
	hold_us = cmdline_get_u64("hold_us", 2000);
	if (mode && !strcmp(mode, "xapic"))
		x2apic = false;
	else if (mode && !strcmp(mode, "x2apic"))
		xapic = false;

	printf("apic: cmdline: %s\n", cmdline());
	printf("apic: TSC %llu Hz (%s), hypervisor %s\n", (unsigned long long)tsc_hz(),
	       tsc_hz_source(), hv_present() ? "present" : "absent");
	group = "cpuid";
	report(apic_present(), "cpuid: CPUID.1:EDX.APIC[9] set");
	if (!apic_present())
		return report_summary();
	printf("apic: x2APIC %s, TSC-deadline %s\n", x2apic_supported() ? "yes" : "no",
	       tsc_deadline_supported() ? "yes" : "no");

	for (size_t i = 0; i < ARRAY_SIZE(counted); i++)
		irq_set_handler(counted[i], count_irq);
	irq_set_handler(NMI_VECTOR, count_nmi);

	group = "setup";
	ck(apic_setup(APIC_MODE_XAPIC) == 0 && apic_mode_hw() == APIC_MODE_XAPIC,
	   "BSP APIC enabled in xAPIC mode (IA32_APIC_BASE 0x%llx)",
	   (unsigned long long)rdmsr(MSR_IA32_APIC_BASE));
	percpu[0].apic_id = apic_id();
	ncpus = smp_init();
	if (group_selected("smp"))
		test_smp();

	if (xapic)
		run_mode(APIC_MODE_XAPIC);
	if (x2apic)
		run_mode(APIC_MODE_X2APIC);
	/* Spurious interrupts are architectural ("Spurious Interrupt"): counted, not
	 * failed. */
	printf("apic: %u spurious-vector interrupts on the BSP\n", apic_spurious_count());
	return report_summary();
}
