/* SPDX-License-Identifier: MIT */
/*
 * x86 architectural constants (Intel SDM Vol. 3A, "System Architecture Overview",
 * "Control Registers"; Vol. 4, "Model-Specific Registers") and instruction wrappers.
 */
#ifndef ARCH_X86_H
#define ARCH_X86_H

#include "hv/lib/types.h"

/* CR0 ("Control Registers") */
#define CR0_PE BIT(0)   /* Protection Enable */
#define CR0_MP BIT(1)   /* Monitor Coprocessor */
#define CR0_EM BIT(2)   /* Emulation */
#define CR0_TS BIT(3)   /* Task Switched */
#define CR0_ET BIT(4)   /* Extension Type */
#define CR0_NE BIT(5)   /* Numeric Error */
#define CR0_WP BIT(16)  /* Write Protect */
#define CR0_AM BIT(18)  /* Alignment Mask */
#define CR0_NW BIT(29)  /* Not Write-through */
#define CR0_CD BIT(30)  /* Cache Disable */
#define CR0_PG BIT(31)  /* Paging */

/* CR4 */
#define CR4_VME BIT(0)
#define CR4_PVI BIT(1)
#define CR4_TSD BIT(2)
#define CR4_DE BIT(3)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_MCE BIT(6)
#define CR4_PGE BIT(7)
#define CR4_PCE BIT(8)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_UMIP BIT(11)
#define CR4_LA57 BIT(12)
#define CR4_VMXE BIT(13)
#define CR4_SMXE BIT(14)
#define CR4_FSGSBASE BIT(16)
#define CR4_PCIDE BIT(17)
#define CR4_OSXSAVE BIT(18)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PKE BIT(22)

/* RFLAGS */
#define RFLAGS_CF BIT(0)
#define RFLAGS_FIXED BIT(1)
#define RFLAGS_ZF BIT(6)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_DF BIT(10)
#define RFLAGS_RF BIT(16)   /* Resume Flag */
#define RFLAGS_VM BIT(17)
#define RFLAGS_AC BIT(18)   /* Alignment Check / Access Control (SMAP) */

/* EFER (MSR 0xC0000080) */
#define EFER_SCE BIT(0)   /* SYSCALL Enable */
#define EFER_LME BIT(8)   /* IA-32e Mode Enable */
#define EFER_LMA BIT(10)  /* IA-32e Mode Active */
#define EFER_NXE BIT(11)  /* Execute Disable Bit Enable */

/* MSRs (Intel SDM Vol. 4, "Architectural MSRs") */
#define MSR_IA32_TSC 0x010
#define MSR_IA32_PLATFORM_ID 0x017
#define MSR_IA32_APIC_BASE 0x01b
#define MSR_IA32_FEATURE_CONTROL 0x03a
#define MSR_IA32_TSC_ADJUST 0x03b
#define MSR_IA32_BIOS_SIGN_ID 0x08b
#define MSR_IA32_MTRRCAP 0x0fe
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17a
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_DEBUGCTL 0x1d9
#define DEBUGCTL_BTF BIT(1)   /* single-step on branches */
#define MSR_IA32_PAT 0x277
#define MSR_IA32_MTRR_DEF_TYPE 0x2ff
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_VMCS_ENUM 0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_BASE 0x800
#define MSR_X2APIC_ICR 0x830
#define MSR_IA32_EFER 0xc0000080
#define MSR_IA32_STAR 0xc0000081
#define MSR_IA32_LSTAR 0xc0000082
#define MSR_IA32_CSTAR 0xc0000083
#define MSR_IA32_FMASK 0xc0000084
#define MSR_IA32_FS_BASE 0xc0000100
#define MSR_IA32_GS_BASE 0xc0000101
#define MSR_IA32_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC_AUX 0xc0000103

/* IA32_FEATURE_CONTROL */
#define FEATURE_CONTROL_LOCK BIT(0)
#define FEATURE_CONTROL_VMX_SMX BIT(1)
#define FEATURE_CONTROL_VMX BIT(2)   /* Enable VMX outside SMX operation */

/* IA32_APIC_BASE */
#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_EXTD BIT(10)   /* x2APIC mode */
#define APIC_BASE_EN BIT(11)

/* CPUID.1 feature bits */
#define CPUID1_ECX_VMX BIT(5)
#define CPUID1_ECX_X2APIC BIT(21)
#define CPUID1_ECX_XSAVE BIT(26)
#define CPUID1_ECX_OSXSAVE BIT(27)
#define CPUID1_ECX_HYPERVISOR BIT(31)

/* XCR0 / XSAVE state-component bits (SDM Vol. 1, "XSAVE-Supported Features and
 * State-Component Bitmaps") */
#define XFEATURE_X87 BIT64(0)
#define XFEATURE_SSE BIT64(1)
#define XFEATURE_AVX BIT64(2)
#define XFEATURE_AVX512 (BIT64(5) | BIT64(6) | BIT64(7))   /* opmask, ZMM_Hi256, Hi16_ZMM */

/* XCR0 components a guest may enable: x87, SSE, AVX, AVX-512 opmask/ZMM_Hi256/Hi16_ZMM
 * (not MPX, PT or PKRU, which need MSRs this hypervisor does not virtualise). */
#define XCR0_GUEST_MASK 0xe7ull

/* Exception vectors */
#define X86_DE 0
#define X86_DB 1
#define X86_NMI 2
#define X86_BP 3
#define X86_UD 6
#define X86_DF 8
#define X86_GP 13
#define X86_PF 14
#define X86_MC 18

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline void cpuid_count(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define DEFINE_CR(n)                                                                   \
	static inline u64 read_cr##n(void)                                             \
	{                                                                              \
		u64 v;                                                                 \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));                          \
		return v;                                                              \
	}                                                                              \
	static inline void write_cr##n(u64 v) { asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

/* Debug registers DR0-DR3 and DR6 (DR7 is in the VMCS: "load/save debug controls"). */
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
#define DR6_INIT 0xffff0ff0ull   /* DR6 after power-up, reset and INIT */

static inline u64 read_rflags(void)
{
	u64 f;
	asm volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void cpu_relax(void) { asm volatile("pause" ::: "memory"); }
static inline void irq_disable(void) { asm volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { asm volatile("sti" ::: "memory"); }
static inline void halt(void) { asm volatile("hlt" ::: "memory"); }

static inline void xsetbv(u32 idx, u64 v)
{
	asm volatile("xsetbv" : : "c"(idx), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 xgetbv(u32 idx)
{
	u32 lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((u64)hi << 32) | lo;
}

/*
 * Saving and loading the x87/SSE/AVX registers (SDM Vol. 1, "Managing State Using the
 * XSAVE Feature Set"; Vol. 2, "FXSAVE"/"FXRSTOR"). The 64-bit forms (REX.W) keep the
 * 64-bit x87 instruction and data pointers. XSAVE/XRSTOR act on the state components
 * in XCR0 AND mask, need a 64-byte aligned area (#GP otherwise), CR4.OSXSAVE = 1 (#UD)
 * and CR0.TS = 0 (#NM); FXSAVE/FXRSTOR a 16-byte aligned 512-byte area, CR0.TS = 0 and
 * CR0.EM = 0, and with CR4.OSFXSR = 0 they may leave out the XMM registers and MXCSR
 * (implementation dependent).
 * The "memory" clobbers order them against the C accesses to the area.
 */
static inline void xsave(void *area, u64 mask)
{
	asm volatile("xsave64 (%0)" : : "r"(area), "a"((u32)mask), "d"((u32)(mask >> 32)) : "memory");
}

static inline void xrstor(const void *area, u64 mask)
{
	asm volatile("xrstor64 (%0)" : : "r"(area), "a"((u32)mask), "d"((u32)(mask >> 32)) : "memory");
}

static inline void fxsave(void *area)
{
	asm volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static inline void fxrstor(const void *area)
{
	asm volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

static inline void sgdt(struct desc_ptr *p) { asm volatile("sgdt %0" : "=m"(*p)); }
static inline void sidt(struct desc_ptr *p) { asm volatile("sidt %0" : "=m"(*p)); }

#endif
