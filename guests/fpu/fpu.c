// SPDX-License-Identifier: MIT
/*
 * fpu: x87/SSE/AVX/AVX-512 register state across vCPU switches. Every vCPU first
 * checks that it starts with the power-up values (Intel SDM Vol. 3A, table "IA-32 and
 * Intel 64 Processor States Following Power-up, Reset, or INIT": FCW 0040H, FSW 0, tag
 * word 5555H, MXCSR 1F80H, XMM/YMM/ZMM 0, which INIT leaves unchanged), then loads
 * patterns of its own into the registers (XMM0-15, or YMM0-15 with AVX, or ZMM0-31 and
 * k0-k7 with AVX-512; the x87 control word, one x87 stack value; MXCSR rounding and
 * flush-to-zero bits) and spins (no PAUSE: only the scheduler's time slices take the
 * CPU away) for `duration=` TSC ticks. Every `period=` ticks it stores the registers,
 * compares them with what it loaded, and loads the next round's patterns. A mismatch
 * fails naming the vCPU, the register and the check. Each vCPU must also have been
 * switched out (HC_CTR_PREEMPTIONS) at least `min_preempt=` times, so that the checks
 * did span switches. The guest is compiled with -mgeneral-regs-only: only the inline
 * assembly below touches these registers.
 *
 * Command line:
 *   duration=TICKS   spin this long (default 40 slices)
 *   period=TICKS     between checks (default a quarter slice)
 *   start=TSC        begin no earlier than this absolute TSC value (VMs side by side)
 *   xsave=auto|off|mixed  auto (default): CR4.OSXSAVE and XCR0 = x87|SSE|AVX(|AVX-512)
 *                    as CPUID offers; off: no OSXSAVE, XCR0 stays 1, SSE and x87 only;
 *                    mixed: odd vCPUs as off, even ones as auto
 *   avx512=0         do not use AVX-512 even if offered
 *   min_preempt=N    switches out each vCPU must have seen (default 3)
 *   noinitial        skip the power-up state check
 *   name=NAME        also seeds the patterns, so that VMs sharing CPUs differ
 */
#include "lib.h"
#include "smp.h"

#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_OSXSAVE (1ul << 18)

enum level { L_SSE, L_AVX, L_AVX512 };
static const char *const level_name[] = { "sse", "avx", "avx512" };
static const char *const vec_prefix[] = { "xmm", "ymm", "zmm" };
static const unsigned vec_bytes[] = { 16, 32, 64 };
static const unsigned vec_count[] = { 16, 16, 32 };

/* What a vCPU loads (and stores back to compare). */
struct regs {
	u8 vec[32][64];   /* ZMM0-31 (YMM/XMM: the low bytes of the first 16) */
	u64 k[8];
	u64 st0;          /* the x87 stack top, as a 64-bit integer */
	u32 mxcsr;
	u16 fcw, fsw;
} __attribute__((aligned(64)));

struct result {
	volatile u32 done;
	bool failed;
	u64 checks;
	char what[160];
};

static struct regs want[MAX_CPUS], got[MAX_CPUS];
static struct result res[MAX_CPUS];
static enum level level_of[MAX_CPUS];
static u64 xcr0_of[MAX_CPUS];
static bool avx512bw;
static bool check_initial_state = true;
static u64 vm_seed;   /* from name=: VMs that share CPUs load different patterns */
static volatile u64 start_at, end_at, period;

static inline void write_cr0(u64 v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void write_cr4(u64 v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void xsetbv0(u64 v)
{
	asm volatile("xsetbv" : : "c"(0), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 xgetbv0(void)
{
	u32 lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (u64)hi << 32 | lo;
}

/* ---- loading and storing the registers (the base register is %0 = &regs.vec) ---- */

/* Written out by register number: the register is part of the mnemonic. */
#define LD_X(n) "movdqu " #n "*64(%0), %%xmm" #n "\n\t"
#define ST_X(n) "movdqu %%xmm" #n ", " #n "*64(%0)\n\t"
#define LD_Y(n) "vmovdqu " #n "*64(%0), %%ymm" #n "\n\t"
#define ST_Y(n) "vmovdqu %%ymm" #n ", " #n "*64(%0)\n\t"

static void load_sse(struct regs *r)
{
	asm volatile(LD_X(0) LD_X(1) LD_X(2) LD_X(3) LD_X(4) LD_X(5) LD_X(6) LD_X(7) LD_X(8) LD_X(9)
		     LD_X(10) LD_X(11) LD_X(12) LD_X(13) LD_X(14) LD_X(15)
		     : : "r"(r->vec) : "memory");
}

static void store_sse(struct regs *r)
{
	asm volatile(ST_X(0) ST_X(1) ST_X(2) ST_X(3) ST_X(4) ST_X(5) ST_X(6) ST_X(7) ST_X(8) ST_X(9)
		     ST_X(10) ST_X(11) ST_X(12) ST_X(13) ST_X(14) ST_X(15)
		     : : "r"(r->vec) : "memory");
}

static void load_avx(struct regs *r)
{
	asm volatile(LD_Y(0) LD_Y(1) LD_Y(2) LD_Y(3) LD_Y(4) LD_Y(5) LD_Y(6) LD_Y(7) LD_Y(8) LD_Y(9)
		     LD_Y(10) LD_Y(11) LD_Y(12) LD_Y(13) LD_Y(14) LD_Y(15)
		     : : "r"(r->vec) : "memory");
}

static void store_avx(struct regs *r)
{
	asm volatile(ST_Y(0) ST_Y(1) ST_Y(2) ST_Y(3) ST_Y(4) ST_Y(5) ST_Y(6) ST_Y(7) ST_Y(8) ST_Y(9)
		     ST_Y(10) ST_Y(11) ST_Y(12) ST_Y(13) ST_Y(14) ST_Y(15)
		     : : "r"(r->vec) : "memory");
}

#define LD_Z(n) "vmovdqu64 " #n "*64(%0), %%zmm" #n "\n\t"
#define ST_Z(n) "vmovdqu64 %%zmm" #n ", " #n "*64(%0)\n\t"

static void load_avx512(struct regs *r)
{
	asm volatile(LD_Z(0) LD_Z(1) LD_Z(2) LD_Z(3) LD_Z(4) LD_Z(5) LD_Z(6) LD_Z(7) LD_Z(8) LD_Z(9)
		     LD_Z(10) LD_Z(11) LD_Z(12) LD_Z(13) LD_Z(14) LD_Z(15) LD_Z(16) LD_Z(17) LD_Z(18)
		     LD_Z(19) LD_Z(20) LD_Z(21) LD_Z(22) LD_Z(23) LD_Z(24) LD_Z(25) LD_Z(26) LD_Z(27)
		     LD_Z(28) LD_Z(29) LD_Z(30) LD_Z(31)
		     : : "r"(r->vec) : "memory");
	if (avx512bw)
		asm volatile("kmovq 0(%0), %%k0\n\tkmovq 8(%0), %%k1\n\tkmovq 16(%0), %%k2\n\t"
			     "kmovq 24(%0), %%k3\n\tkmovq 32(%0), %%k4\n\tkmovq 40(%0), %%k5\n\t"
			     "kmovq 48(%0), %%k6\n\tkmovq 56(%0), %%k7"
			     : : "r"(r->k) : "memory");
	else
		asm volatile("kmovw 0(%0), %%k0\n\tkmovw 8(%0), %%k1\n\tkmovw 16(%0), %%k2\n\t"
			     "kmovw 24(%0), %%k3\n\tkmovw 32(%0), %%k4\n\tkmovw 40(%0), %%k5\n\t"
			     "kmovw 48(%0), %%k6\n\tkmovw 56(%0), %%k7"
			     : : "r"(r->k) : "memory");
}

static void store_avx512(struct regs *r)
{
	asm volatile(ST_Z(0) ST_Z(1) ST_Z(2) ST_Z(3) ST_Z(4) ST_Z(5) ST_Z(6) ST_Z(7) ST_Z(8) ST_Z(9)
		     ST_Z(10) ST_Z(11) ST_Z(12) ST_Z(13) ST_Z(14) ST_Z(15) ST_Z(16) ST_Z(17) ST_Z(18)
		     ST_Z(19) ST_Z(20) ST_Z(21) ST_Z(22) ST_Z(23) ST_Z(24) ST_Z(25) ST_Z(26) ST_Z(27)
		     ST_Z(28) ST_Z(29) ST_Z(30) ST_Z(31)
		     : : "r"(r->vec) : "memory");
	if (avx512bw)
		asm volatile("kmovq %%k0, 0(%0)\n\tkmovq %%k1, 8(%0)\n\tkmovq %%k2, 16(%0)\n\t"
			     "kmovq %%k3, 24(%0)\n\tkmovq %%k4, 32(%0)\n\tkmovq %%k5, 40(%0)\n\t"
			     "kmovq %%k6, 48(%0)\n\tkmovq %%k7, 56(%0)"
			     : : "r"(r->k) : "memory");
	else
		asm volatile("kmovw %%k0, 0(%0)\n\tkmovw %%k1, 8(%0)\n\tkmovw %%k2, 16(%0)\n\t"
			     "kmovw %%k3, 24(%0)\n\tkmovw %%k4, 32(%0)\n\tkmovw %%k5, 40(%0)\n\t"
			     "kmovw %%k6, 48(%0)\n\tkmovw %%k7, 56(%0)"
			     : : "r"(r->k) : "memory");
}

/* x87: a clean stack, the control word, one value pushed; MXCSR. */
static void load_scalar(struct regs *r)
{
	asm volatile("fninit\n\tfldcw %0\n\tfildq %1\n\tldmxcsr %2"
		     : : "m"(r->fcw), "m"(r->st0), "m"(r->mxcsr) : "memory");
}

/* FCW, FSW, a copy of ST(0) (pushed with FLD ST(0), popped with FISTP), MXCSR. */
static void store_scalar(struct regs *r)
{
	asm volatile("fnstcw %0\n\tfnstsw %1\n\tfld %%st(0)\n\tfistpq %2\n\tstmxcsr %3"
		     : "=m"(r->fcw), "=m"(r->fsw), "=m"(r->st0), "=m"(r->mxcsr) : : "memory");
}

static void load_all(struct regs *r, enum level l)
{
	load_scalar(r);
	if (l == L_AVX512)
		load_avx512(r);
	else if (l == L_AVX)
		load_avx(r);
	else
		load_sse(r);
}

static void store_all(struct regs *r, enum level l)
{
	store_scalar(r);
	if (l == L_AVX512)
		store_avx512(r);
	else if (l == L_AVX)
		store_avx(r);
	else
		store_sse(r);
}

/* ---- patterns ---- */

static u64 mix(u64 x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	return x ^ (x >> 33);
}

/* Round `round` of vCPU `cpu`: the bytes differ between vCPUs, rounds and VMs. */
static void fill(struct regs *r, unsigned cpu, u64 round)
{
	u64 seed = ((u64)(cpu + 1) << 48) ^ (round << 8) ^ (vm_seed << 20);
	for (unsigned i = 0; i < 32; i++)
		for (unsigned j = 0; j < 8; j++) {
			u64 v = mix(seed ^ (i << 3) ^ j);
			memcpy(&r->vec[i][j * 8], &v, 8);
		}
	for (unsigned i = 0; i < 8; i++)
		r->k[i] = mix(seed ^ (0x100 + i));
	unsigned sel = (unsigned)(cpu + round + vm_seed);
	/* All exceptions masked, rounding control (bits 11:10) and precision control
	 * (bits 9:8; 01 is reserved) from sel. */
	static const u16 pc[3] = { 0, 2, 3 };
	r->fcw = (u16)(0x007f | (pc[(sel / 4) % 3] << 8) | ((sel % 4) << 10));
	r->st0 = (u64)(cpu + 1) * 1000003ull + (vm_seed % 1000) * 100000000ull + round;
	/* Exceptions masked; rounding control (bits 14:13) and FZ (bit 15) from sel. */
	r->mxcsr = 0x1f80 | ((sel % 4) << 13) | ((sel & 4) ? 0x8000u : 0);
	r->fsw = 7 << 11;   /* TOP = 7: one value on the stack */
}

static void hex(char *buf, size_t size, const u8 *p, unsigned n)
{
	size_t o = 0;
	for (unsigned i = n; i-- > 0 && o + 3 < size;)
		o += (size_t)snprintf(buf + o, size - o, "%02x", p[i]);
}

/* Compare; on a mismatch describe the first one in res[me].what. */
static bool compare(unsigned me, enum level l, u64 check)
{
	const struct regs *w = &want[me], *g = &got[me];
	struct result *rs = &res[me];
	char a[140], b[140];
	if (g->fcw != w->fcw) {
		snprintf(rs->what, sizeof(rs->what), "x87 FCW = 0x%04x, expected 0x%04x (check %llu)", g->fcw, w->fcw,
			 (unsigned long long)check);
		return false;
	}
	if ((g->fsw & 0x3800) != w->fsw) {
		snprintf(rs->what, sizeof(rs->what), "x87 FSW = 0x%04x, TOP expected 7 (check %llu)", g->fsw,
			 (unsigned long long)check);
		return false;
	}
	if (g->st0 != w->st0) {
		snprintf(rs->what, sizeof(rs->what), "x87 ST(0) = %llu, expected %llu (check %llu)",
			 (unsigned long long)g->st0, (unsigned long long)w->st0, (unsigned long long)check);
		return false;
	}
	if (g->mxcsr != w->mxcsr) {
		snprintf(rs->what, sizeof(rs->what), "MXCSR = 0x%08x, expected 0x%08x (check %llu)", g->mxcsr, w->mxcsr,
			 (unsigned long long)check);
		return false;
	}
	for (unsigned i = 0; i < vec_count[l]; i++)
		if (memcmp(g->vec[i], w->vec[i], vec_bytes[l])) {
			/* the lowest differing 16-byte lane */
			unsigned lane = 0;
			while (!memcmp(&g->vec[i][lane * 16], &w->vec[i][lane * 16], 16))
				lane++;
			hex(a, sizeof(a), &g->vec[i][lane * 16], 16);
			hex(b, sizeof(b), &w->vec[i][lane * 16], 16);
			snprintf(rs->what, sizeof(rs->what), "%s%u bytes %u-%u = %s, expected %s (check %llu)",
				 vec_prefix[l], i, lane * 16, lane * 16 + 15, a, b, (unsigned long long)check);
			return false;
		}
	if (l == L_AVX512)
		for (unsigned i = 0; i < 8; i++) {
			u64 m = avx512bw ? ~0ull : 0xffffull;
			if ((g->k[i] & m) != (w->k[i] & m)) {
				snprintf(rs->what, sizeof(rs->what), "k%u = 0x%llx, expected 0x%llx (check %llu)", i,
					 (unsigned long long)(g->k[i] & m), (unsigned long long)(w->k[i] & m),
					 (unsigned long long)check);
				return false;
			}
		}
	return true;
}

/* ---- per vCPU ---- */

/* The power-up x87/SSE state, read before this vCPU executes any FPU instruction
 * (FNSTENV stores FCW, FSW and the full tag word, then masks the exceptions). */
static void check_initial(unsigned me, enum level l)
{
	struct {
		u32 fcw, fsw, ftw, rest[4];
	} env;
	u32 mxcsr;
	asm volatile("fnstenv %0\n\tstmxcsr %1" : "=m"(env), "=m"(mxcsr) : : "memory");
	struct regs *g = &got[me];
	memset(g, 0xa5, sizeof(*g));
	if (l == L_AVX512)
		store_avx512(g);
	else if (l == L_AVX)
		store_avx(g);
	else
		store_sse(g);
	bool zero = true;
	for (unsigned i = 0; i < vec_count[l]; i++)
		for (unsigned j = 0; j < vec_bytes[l]; j++)
			zero &= g->vec[i][j] == 0;
	if (l == L_AVX512)
		for (unsigned i = 0; i < 8; i++)
			zero &= (avx512bw ? g->k[i] : (g->k[i] & 0xffff)) == 0;
	bool ok = (env.fcw & 0xffff) == 0x0040 && (env.fsw & 0xffff) == 0 && (env.ftw & 0xffff) == 0x5555 &&
		  mxcsr == 0x1f80 && zero;
	if (!ok) {
		res[me].failed = true;
		snprintf(res[me].what, sizeof(res[me].what),
			 "initial state: FCW 0x%04x FSW 0x%04x FTW 0x%04x MXCSR 0x%08x %s0-%u %s (expected 0x0040, 0, "
			 "0x5555, 0x00001f80, zero)",
			 env.fcw & 0xffff, env.fsw & 0xffff, env.ftw & 0xffff, mxcsr, vec_prefix[l], vec_count[l] - 1,
			 zero ? "zero" : "not zero");
	}
}

/* CR0/CR4 for x87 and SSE, OSXSAVE and XCR0 for the vCPU's level. */
static void enable(unsigned me)
{
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
	u64 cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (xcr0_of[me] > 1)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
	if (xcr0_of[me] > 1)
		xsetbv0(xcr0_of[me]);
}

static void run(void *arg)
{
	(void)arg;
	unsigned me = smp_id();
	enum level l = level_of[me];
	struct result *rs = &res[me];
	enable(me);
	if (xcr0_of[me] > 1 && xgetbv0() != xcr0_of[me]) {
		rs->failed = true;
		snprintf(rs->what, sizeof(rs->what), "XCR0 = 0x%llx after XSETBV 0x%llx", (unsigned long long)xgetbv0(),
			 (unsigned long long)xcr0_of[me]);
	}
	if (check_initial_state && !rs->failed)
		check_initial(me, l);
	u64 round = 0;
	fill(&want[me], me, round);
	load_all(&want[me], l);
	while (rdtsc() < start_at)
		;
	u64 next = rdtsc() + period;
	for (;;) {
		u64 now = rdtsc();
		bool last = now >= end_at;
		if (!last && now < next)
			continue;
		if (rs->failed)
			break;
		store_all(&got[me], l);
		rs->checks++;
		if (!compare(me, l, rs->checks)) {
			rs->failed = true;
			break;
		}
		if (last)
			break;
		fill(&want[me], me, ++round);
		load_all(&want[me], l);
		next = rdtsc() + period;
	}
	__atomic_store_n(&rs->done, 1, __ATOMIC_SEQ_CST);
}

int main(void)
{
	unsigned cpus = smp_init();
	long slice = hc_get_info(HC_INFO_SLICE_TICKS);
	if (slice <= 0) {
		report(false, "fpu: needs HC_INFO_SLICE_TICKS (%ld)", slice);
		return report_summary();
	}
	u32 a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	bool sse2 = (d & (1u << 24)) && (d & (1u << 26));   /* FXSR, SSE2 */
	bool xsave = c & (1u << 26), avx = c & (1u << 28);
	u64 xcr0_ok = 0;
	if (xsave) {
		cpuid_count(0xd, 0, &a, &b, &c, &d);
		xcr0_ok = (u64)d << 32 | a;
	}
	cpuid_count(7, 0, &a, &b, &c, &d);
	bool avx512f = b & (1u << 16);
	avx512bw = b & (1u << 30);
	if (!sse2) {
		report(false, "fpu: CPUID lacks FXSR/SSE2");
		return report_summary();
	}
	enum level best = L_SSE;
	u64 best_xcr0 = 1;
	if (xsave && avx && (xcr0_ok & 7) == 7) {
		best = L_AVX;
		best_xcr0 = 7;
		if (avx512f && (xcr0_ok & 0xe0) == 0xe0 && cmdline_get_u64("avx512", 1)) {
			best = L_AVX512;
			best_xcr0 = 0xe7;
		}
	}
	const char *mode = cmdline_get("xsave");
	if (!mode)
		mode = "auto";
	for (unsigned i = 0; i < cpus; i++) {
		bool off = !strcmp(mode, "off") || (!strcmp(mode, "mixed") && (i & 1));
		level_of[i] = off ? L_SSE : best;
		xcr0_of[i] = off ? 1 : best_xcr0;
	}
	check_initial_state = !cmdline_has("noinitial");
	const char *name = cmdline_get("name");
	for (vm_seed = 0; name && *name; name++)
		vm_seed = vm_seed * 131 + (u8)*name;
	vm_seed %= 65521;
	u64 duration = cmdline_get_u64("duration", 40 * (u64)slice);
	period = cmdline_get_u64("period", (u64)slice / 4);
	u64 min_preempt = cmdline_get_u64("min_preempt", 3);
	u64 t = rdtsc() + 2 * (u64)slice;
	u64 s = cmdline_get_u64("start", 0);
	start_at = s > t ? s : t;
	end_at = start_at + duration;
	printf("fpu: %u vCPUs, CPUID XCR0 bits 0x%llx, xsave=%s, slice %ld ticks, duration %llu, period %llu\n", cpus,
	       (unsigned long long)xcr0_ok, mode, slice, (unsigned long long)duration, (unsigned long long)period);
	for (unsigned i = 1; i < cpus; i++)
		on_cpu_async(i, run, NULL);
	run(NULL);
	for (unsigned i = 0; i < cpus; i++)
		while (!__atomic_load_n(&res[i].done, __ATOMIC_SEQ_CST))
			;
	for (unsigned i = 0; i < cpus; i++) {
		long pre = hc_vcpu_counter(HC_CTR_PREEMPTIONS, i);
		struct result *rs = &res[i];
		printf("fpu: vcpu=%u level=%s xcr0=0x%llx checks=%llu preemptions=%ld\n", i, level_name[level_of[i]],
		       (unsigned long long)xcr0_of[i], (unsigned long long)rs->checks, pre);
		if (rs->failed)
			report(false, "vcpu %u: %s", i, rs->what);
		else
			report(true, "vcpu %u: %s registers, x87 and MXCSR intact over %llu checks", i,
			       level_name[level_of[i]], (unsigned long long)rs->checks);
		report(pre >= 0 && (u64)pre >= min_preempt, "vcpu %u switched out %ld times (at least %llu)", i, pre,
		       (unsigned long long)min_preempt);
	}
	return report_summary();
}
