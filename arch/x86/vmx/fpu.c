/* SPDX-License-Identifier: MIT */
/* The guests' FPU state: probing the XSAVE features and the initial area (fpu.h has the
 * rules and the switch on vCPU change). */
#include "arch/x86/vmx/fpu.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"

bool vmx_fpu_xsave;     /* XSAVE/XRSTOR, else FXSAVE/FXRSTOR */
u64 vmx_xcr0_allowed;
u32 vmx_xsave_size;

/* The FXSAVE image's first 32 bytes (Vol. 1, "FXSAVE Area"; also the legacy region of
 * an XSAVE area) and the XSAVE header that follows the 512-byte legacy region ("XSAVE
 * Header"). */
struct fx_head {
	u16 fcw, fsw;
	u8 ftw, reserved;          /* abridged tag word: bit i = 1 if Ri is not empty */
	u16 fop;
	u64 fip, fdp;
	u32 mxcsr, mxcsr_mask;
};
_Static_assert(sizeof(struct fx_head) == 32, "FXSAVE area header layout");
#define XSAVE_HEADER_OFFSET 512
#define XSAVE_LEGACY_AND_HEADER 576

/* Bytes of a standard-format XSAVE area for the components in mask: the legacy region
 * and the header, then component i >= 2 at offset CPUID.(EAX=0DH,ECX=i):EBX, size
 * CPUID.(EAX=0DH,ECX=i):EAX ("CPUID Enumeration and XCR0", "XSAVE Area"). */
static u32 xsave_area_size(u64 mask)
{
	u32 size = XSAVE_LEGACY_AND_HEADER;
	for (u32 i = 2; i < 63; i++) {
		if (!(mask & BIT64(i)))
			continue;
		u32 a, b, c, d;
		cpuid_count(0xd, i, &a, &b, &c, &d);
		size = MAX(size, b + a);
	}
	return size;
}

/* BSP, at boot: which instructions switch the FPU state, and which XCR0 bits guests
 * get: those of XCR0_GUEST_MASK that the CPU supports and whose state fits the
 * vCPU's one-page area (AVX-512, then AVX, are dropped if not). */
void fpu_probe(void)
{
	u32 a, b, c, d;
	cpuid_count(1, 0, &a, &b, &c, &d);
	vmx_fpu_xsave = c & CPUID1_ECX_XSAVE;
	if (!vmx_fpu_xsave) {
		vmx_xcr0_allowed = 0;
		vmx_xsave_size = 0;
		printk("fpu: no XSAVE: FXSAVE/FXRSTOR switch the x87/SSE state, guests have no XCR0\n");
		return;
	}
	cpuid_count(0xd, 0, &a, &b, &c, &d);
	u64 supported = ((u64)d << 32) | a;
	u64 mask = supported & XCR0_GUEST_MASK;
	u32 size = xsave_area_size(mask);
	printk("fpu: XSAVE: CPU XCR0 bits 0x%llx, CPUID.(0DH,0) EBX=%u ECX=%u bytes; guests may set 0x%llx "
	       "(%u bytes)\n", (unsigned long long)supported, b, c, (unsigned long long)mask, size);
	if (size > PAGE_SIZE && (mask & XFEATURE_AVX512)) {
		mask &= ~XFEATURE_AVX512;
		size = xsave_area_size(mask);
		printk("fpu: AVX-512 state does not fit the vCPU's %llu-byte save area: not offered to guests\n",
		       PAGE_SIZE);
	}
	if (size > PAGE_SIZE && (mask & XFEATURE_AVX)) {
		mask &= ~XFEATURE_AVX;
		size = xsave_area_size(mask);
		printk("fpu: AVX state does not fit the vCPU's %llu-byte save area: not offered to guests\n",
		       PAGE_SIZE);
	}
	vmx_xcr0_allowed = mask;
	vmx_xsave_size = size;
}

/* A new vCPU's registers: the power-up/reset values (Vol. 3A, "X87 FPU Initialization"
 * and the table "IA-32 and Intel 64 Processor States Following Power-up, Reset, or
 * INIT"): FCW 0040H, FSW 0, tag word 5555H (every register valid, holding zero; in
 * the abridged form all eight bits set), pointers and opcode 0, R0-R7 0, MXCSR 1F80H,
 * XMM 0. This is not FNINIT's state (FCW 037FH, tag word FFFFH), which is also the
 * initial configuration XRSTOR gives x87 state whose XSTATE_BV bit is 0 (Vol. 1,
 * "Processor Tracking of XSAVE-Managed State"), so x87 and SSE are marked in XSTATE_BV
 * as present in the legacy region; every other component has XSTATE_BV 0 and XRSTOR
 * puts it in its initial configuration (all zero). FXRSTOR reads the same legacy
 * region. INIT leaves the x87 and SSE state unchanged (same table; "X87 FPU
 * Initialization"), so vmx_vcpu_start_ap does not touch it. */
void fpu_init_area(void *area)
{
	struct fx_head *h = area;
	h->fcw = 0x0040;
	h->fsw = 0;
	h->ftw = 0xff;
	h->mxcsr = 0x1f80;
	if (vmx_fpu_xsave)
		*(u64 *)((u8 *)area + XSAVE_HEADER_OFFSET) = XFEATURE_X87 | XFEATURE_SSE;   /* XSTATE_BV */
}

/* Load v's registers and its XCR0 on this CPU (no other vCPU's are unsaved here). */
void fpu_load(struct vcpu *v)
{
	if (!vmx_fpu_xsave) {
		fxrstor(v->arch.fpu);
		return;
	}
	if (xgetbv(0) != vmx_xcr0_allowed)
		xsetbv(0, vmx_xcr0_allowed);
	xrstor(v->arch.fpu, vmx_xcr0_allowed);
	if (v->arch.xcr0 != vmx_xcr0_allowed)
		xsetbv(0, v->arch.xcr0);
}
