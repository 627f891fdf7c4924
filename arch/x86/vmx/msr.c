/* SPDX-License-Identifier: MIT */
/*
 * Guest MSRs. The MSR bitmap ("MSR-Bitmap Address": four 1-KiB bitmaps, read low
 * 0x0-0x1FFF, read high 0xC0000000-0xC0001FFF, write low, write high) intercepts
 * everything except the MSRs whose guest value lives in the VMCS (FS/GS base,
 * SYSENTER) or is switched with the vCPU (KERNEL_GS_BASE, STAR, LSTAR, CSTAR, FMASK;
 * TSC_AUX when RDTSCP is offered),
 * and reads of the TSC. Intercepted MSRs are served from the allow-list below; any
 * other access raises #GP(0), as on a CPU without that MSR.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/x86.h"
#include "hv/lib/lib.h"
#include "hv/irq/vlapic.h"

static void passthrough(u8 *bm, u32 msr, bool read, bool write)
{
	u32 base = msr >= 0xc0000000u ? 1024 : 0;
	u32 idx = msr & 0x1fff;
	if (read)
		bm[base + idx / 8] &= (u8)~(1u << (idx % 8));
	if (write)
		bm[2048 + base + idx / 8] &= (u8)~(1u << (idx % 8));
}

void msr_bitmap_init(u8 *bm)
{
	memset(bm, 0xff, 4096);
	static const u32 rw[] = {
		MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR,
		MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK, MSR_IA32_SYSENTER_CS,
		MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	};
	for (size_t i = 0; i < ARRAY_SIZE(rw); i++)
		passthrough(bm, rw[i], true, true);
	passthrough(bm, MSR_IA32_TSC, true, false);
	/* With RDTSCP offered the guest's IA32_TSC_AUX is in the MSR while it runs (vmx.c
	 * switches it per vCPU): reads pass, writes exit so that reserved bits 63:32 give
	 * #GP here whatever the CPU does (Bochs accepts them). */
	if (vmx_has_rdtscp(&vmx_caps))
		passthrough(bm, MSR_IA32_TSC_AUX, true, false);
}

/* x2APIC mode with APICv ("Virtualizing MSR-Based APIC Accesses"): reads of the
 * x2APIC registers that exist come from the virtual-APIC page, except the timer's
 * current count, which the hypervisor computes; reads of the MSRs that do not exist in
 * x2APIC mode (DFR, ICR2, ...) still exit, so the guest gets its #GP ("x2APIC Register
 * Address Space"). Writes exit, except TPR, EOI and SELF IPI, which virtual-interrupt
 * delivery virtualizes. */
void msr_bitmap_init_x2apic(u8 *bm, const u8 *base)
{
	memcpy(bm, base, 4096);
	for (u32 off = 0; off < 0x400; off += 0x10)
		if (vlapic_x2apic_readable(off) && off != APIC_TMCCT)
			passthrough(bm, MSR_X2APIC_FIRST + (off >> 4), true, false);
	passthrough(bm, MSR_X2APIC_FIRST + (APIC_TPR >> 4), false, true);
	passthrough(bm, MSR_X2APIC_FIRST + (APIC_EOI >> 4), false, true);
	passthrough(bm, MSR_X2APIC_FIRST + (APIC_SELF_IPI >> 4), false, true);
}

/* ---- the TSC ("Time-Stamp Counter Adjustment") ----
 * The guest's TSC is the host's plus its TSC offset. A write to IA32_TSC moves the
 * guest TSC to the value and adds the same step to IA32_TSC_ADJUST; a write to
 * IA32_TSC_ADJUST moves the TSC by the change of the adjustment: "if an execution of
 * WRMSR to the IA32_TSC_ADJUST MSR adds (or subtracts) value X ... the TSC is adjusted
 * by X". Without TSC offsetting neither can be honoured: #GP. */
static bool tsc_step(struct vcpu *v, s64 step)
{
	if (!(v->arch.proc & CPU_USE_TSC_OFFSETTING))
		return false;
	v->arch.tsc_offset += step;
	v->arch.tsc_adjust += (u64)step;
	vmcs_write64(TSC_OFFSET, (u64)v->arch.tsc_offset);
	return true;
}

u64 vcpu_guest_tsc(struct vcpu *v, u64 host_tsc)
{
	return host_tsc + (u64)v->arch.tsc_offset;
}

/* IA32_MISC_ENABLE ("IA32_MISC_ENABLE" in the MSR tables of Vol. 4): the guest may
 * write fast strings (0), automatic thermal control (3) and xTPR message disable (23),
 * which change nothing it can observe but are kept; BTS/PEBS unavailable (11, 12) are
 * read-only. Setting anything else (EIST, MONITOR FSM, limit CPUID maxval, XD disable:
 * features whose CPUID bit is hidden or whose effect is not emulated) is #GP. */
#define MISC_ENABLE_WRITABLE (BIT64(0) | BIT64(3) | BIT64(23))

/* IA32_DEBUGCTL: BTF (1) is architectural (no CPUID bit) and loaded with the guest
 * state; LBR (0: no LBR MSRs are offered, CPUID.7:EDX.ARCH_LBR = 0), TR/BTS/BTINT/
 * BTS_OFF_* (6-10: CPUID.1:EDX.DS = 0), FREEZE_*_ON_PMI and uncore PMI (11-13: no
 * performance monitoring, leaf 0xA is zero), FREEZE_WHILE_SMM (14: PDCM = 0) and
 * RTM_DEBUG (15: RTM = 0) are refused with #GP, as on a CPU without them. */
#define DEBUGCTL_ALLOWED BIT64(1)

static bool pat_valid(u64 v)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (u8)(v >> (8 * i));
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* Returns false for #GP. */
static bool msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) {
		/* "x2APIC Register Address Space": only in x2APIC mode, else #GP. */
		if (!vlapic_x2apic(&v->lapic))
			return false;
		return vlapic_read(v, (msr - MSR_X2APIC_FIRST) << 4, val);
	}
	switch (msr) {
	case MSR_IA32_EFER:
		*val = vmcs_read64(GUEST_IA32_EFER);
		return true;
	case MSR_IA32_PAT:
		*val = vmcs_read64(GUEST_IA32_PAT);
		return true;
	case MSR_IA32_APIC_BASE:
		*val = v->lapic.apic_base;
		return true;
	case MSR_IA32_TSC_DEADLINE:
		*val = vlapic_read_tsc_deadline(v);
		return true;
	case MSR_IA32_FEATURE_CONTROL:
		*val = FEATURE_CONTROL_LOCK;   /* locked, VMX off: VMX is not exposed */
		return true;
	case MSR_IA32_MISC_ENABLE:
		*val = v->arch.misc_enable;
		return true;
	case MSR_IA32_TSC_ADJUST:
		*val = v->arch.tsc_adjust;
		return true;
	case MSR_IA32_TSC:   /* passed through for reads; here only without a bitmap */
		*val = vcpu_guest_tsc(v, rdtsc());
		return true;
	case MSR_IA32_TSC_AUX:
		if (!vmx_has_rdtscp(&vmx_caps))
			return false;   /* CPUID.80000001:EDX.RDTSCP = 0 and no RDPID */
		*val = v->arch.tsc_aux;
		return true;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_BIOS_SIGN_ID:
	case MSR_IA32_MTRRCAP:
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS:
		*val = 0;
		return true;
	case MSR_IA32_DEBUGCTL:
		*val = vmcs_read64(GUEST_IA32_DEBUGCTL);
		return true;
	}
	return false;
}

static bool msr_write(struct vcpu *v, u32 msr, u64 val)
{
	/* The one written on the timer path (tools/bench tscdeadline*), before the switch. */
	if (likely(msr == MSR_IA32_TSC_DEADLINE))
		return vlapic_write_tsc_deadline(v, val, v->arch.tsc_offset);   /* vcpu_guest_tsc */
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) {
		u32 off = (msr - MSR_X2APIC_FIRST) << 4;
		if (!vlapic_x2apic(&v->lapic))
			return false;
		/* Reserved bits: only the ICR takes 64 bits. */
		if (off != APIC_ICR && (val >> 32))
			return false;
		return vlapic_write(v, off, val);
	}
	switch (msr) {
	case MSR_IA32_EFER: {
		u64 allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
		u64 old = vmcs_read64(GUEST_IA32_EFER);
		if (val & ~allowed)
			return false;
		if (!(boot_efer & EFER_NXE) && (val & EFER_NXE))
			return false;
		/* LME cannot change while paging is on; LMA is read-only. */
		bool pg = vmcs_readl(GUEST_CR0) & CR0_PG;
		if (pg && ((val ^ old) & EFER_LME))
			return false;
		val = (val & ~(u64)EFER_LMA) | (old & EFER_LMA);
		vmcs_write64(GUEST_IA32_EFER, val);
		return true;
	}
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return false;
		vmcs_write64(GUEST_IA32_PAT, val);
		return true;
	case MSR_IA32_MISC_ENABLE:
		if ((val ^ v->arch.misc_enable) & ~MISC_ENABLE_WRITABLE)
			return false;
		v->arch.misc_enable = val;
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
		return true;   /* writes have no effect, as for a microcode update check */
	case MSR_IA32_DEBUGCTL:
		if (val & ~DEBUGCTL_ALLOWED)
			return false;
		vmcs_write64(GUEST_IA32_DEBUGCTL, val);
		return true;
	case MSR_IA32_TSC:
		return tsc_step(v, (s64)(val - vcpu_guest_tsc(v, rdtsc())));
	case MSR_IA32_TSC_ADJUST:
		return tsc_step(v, (s64)(val - v->arch.tsc_adjust));
	case MSR_IA32_TSC_AUX:
		/* Bits 63:32 are reserved ("IA32_TSC_AUX"). */
		if (!vmx_has_rdtscp(&vmx_caps) || (val >> 32))
			return false;
		v->arch.tsc_aux = val;
		wrmsr(MSR_IA32_TSC_AUX, val);   /* the vCPU is loaded on this CPU */
		return true;
	case MSR_IA32_APIC_BASE:
		return val == v->lapic.apic_base || vlapic_set_base(v, val);
	}
	return false;
}

enum exit_action handle_rdmsr(struct vcpu *v)
{
	u64 val;
	if (!msr_read(v, (u32)v->gpr[GPR_RCX], &val)) {
		vmx_inject_exception(v, X86_GP, true, 0);
		return EXIT_RESUME;
	}
	v->gpr[GPR_RAX] = (u32)val;
	v->gpr[GPR_RDX] = val >> 32;
	return EXIT_SKIP;
}

enum exit_action handle_wrmsr(struct vcpu *v)
{
	u64 val = (v->gpr[GPR_RDX] << 32) | (u32)v->gpr[GPR_RAX];
	if (!msr_write(v, (u32)v->gpr[GPR_RCX], val)) {
		vmx_inject_exception(v, X86_GP, true, 0);
		return EXIT_RESUME;
	}
	return EXIT_SKIP;
}
