/* SPDX-License-Identifier: MIT */
/*
 * Guest CPUID: the host's values, filtered to what this hypervisor virtualises (Intel
 * SDM Vol. 2A, "CPUID—CPU Identification"). Hidden: VMX, SMX, MONITOR/MWAIT, thermal
 * and power management, performance monitoring, debug store, MTRRs (their MSRs are not
 * emulated), TSX, MPX, PT, SGX, PKU and the speculation-control MSRs. MCE and MCA are
 * the host's, with no error-reporting banks: IA32_MCG_CAP reads 0 (Count 0, no
 * MCG_CTL_P, msr.c) and IA32_MCG_STATUS 0 (Vol. 3B, "Machine-Check MSRs"), so an OS
 * sets up machine-check handling with nothing to poll (Linux without MCA fails its
 * MCE device init with an error).
 * Added: the hypervisor bit, APIC, x2APIC and TSC-deadline (the virtual LAPIC,
 * hv/irq/vlapic.c, whatever the host has) and the signature leaves 0x40000000-0x40000001
 * (docs/INTERFACES.md).
 *
 * Controls and CPUID agree (issue 10). An instruction that the VM-execution controls
 * let the guest execute must be offered in CPUID, and one CPUID hides must raise #UD
 * as on a CPU without it (Vol. 3C, "Secondary Processor-Based VM-Execution
 * Controls"; e.g. "If this control is 0, any execution of INVPCID causes a #UD"):
 *
 *   control (secondary)         value            guest CPUID
 *   enable RDTSCP (3)           when supported   80000001:EDX.RDTSCP, 7:ECX.RDPID: same
 *   enable INVPCID (12)         when supported   7:EBX.INVPCID = control && host
 *   enable XSAVES/XRSTORS (20)  0 (vmx.c)        0xD.1:EAX.XSAVES = 0 (IA32_XSS not emulated)
 *   enable ENCLS exiting (15)   0                7:EBX.SGX = 0; ENCLS #UDs natively (SGX
 *                                                must be off in the host's firmware)
 *   RDRAND exiting (11)         0                1:ECX.RDRAND = host (executes natively)
 *   RDSEED exiting (16)         0                7:EBX.RDSEED = host (executes natively)
 *   descriptor-table exit (2)   0                7:ECX.UMIP = 0, CR4.UMIP refused below
 *   enable PCONFIG (27)         0                7:EDX.PCONFIG = 0 (EDX is zero)
 *   enable user wait (26)       0                7:ECX.WAITPKG = 0
 *   enable ENCLV (28)           0                7:EBX.SGX = 0
 *   enable VM functions (13)    0                1:ECX.VMX = 0
 *   MONITOR/MWAIT exiting       1 (-> #UD)       1:ECX.MONITOR = 0
 *
 * A CR4 bit is valid for the guest only when the CPUID it sees offers its feature
 * (Vol. 3A, "Control Registers": setting a bit for an unsupported feature is #GP);
 * guest_cr4_valid() and the CR4 guest/host mask (vmx.c) enforce it:
 *
 *   VME, PVI 1:EDX.VME   TSD 1:EDX.TSC   DE 1:EDX.DE   PSE 1:EDX.PSE   PAE 1:EDX.PAE
 *   MCE 1:EDX.MCE   PGE 1:EDX.PGE   PCE always (RDPMC exits to #GP anyway)
 *   OSFXSR 1:EDX.FXSR   OSXMMEXCPT 1:EDX.SSE   UMIP 7:ECX.UMIP (hidden)
 *   LA57 7:ECX.LA57 (hidden)   VMXE 1:ECX.VMX (hidden)   SMXE 1:ECX.SMX (hidden)
 *   FSGSBASE 7:EBX.FSGSBASE   PCIDE 1:ECX.PCID   OSXSAVE 1:ECX.XSAVE
 *   KL 7:ECX.KL (hidden)   SMEP 7:EBX.SMEP   SMAP 7:EBX.SMAP   PKE 7:ECX.PKU (hidden)
 *   CET 7:ECX.CET_SS/7:EDX.CET_IBT (hidden)   PKS 7:ECX.PKS (hidden)   others reserved
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/x86.h"
#include "hv/vm/hypercall.h"
#include "hv/lib/lib.h"

#define MAX_BASIC_LEAF 0xdu
#define MAX_EXT_LEAF 0x80000008u

/* CPUID.1 */
#define ECX1_HIDDEN (BIT(2) /* DTES64 */ | BIT(3) /* MONITOR */ | BIT(4) /* DS-CPL */ | \
		     BIT(5) /* VMX */ | BIT(6) /* SMX */ | BIT(7) /* EIST */ | BIT(8) /* TM2 */ | \
		     BIT(11) /* SDBG */ | BIT(15) /* PDCM */ | BIT(18) /* DCA */ | \
		     BIT(27) /* OSXSAVE */)
#define EDX1_HIDDEN (BIT(12) /* MTRR */ | \
		     BIT(18) /* PSN */ | BIT(21) /* DS */ | BIT(22) /* ACPI */ | BIT(29) /* TM */ | \
		     BIT(31) /* PBE */)
/* CPUID.(7,0) */
#define EBX7_HIDDEN (BIT(1) /* TSC_ADJUST, unless emulated */ | BIT(2) /* SGX */ | BIT(4) /* HLE */ | \
		     BIT(10) /* INVPCID, unless enabled */ | BIT(11) /* RTM */ | BIT(12) /* RDT-M */ | \
		     BIT(14) /* MPX */ | BIT(15) /* RDT-A */ | BIT(25) /* PT */)
#define ECX7_KEPT (BIT(1) /* AVX512_VBMI */ | BIT(6) /* AVX512_VBMI2 */ | BIT(8) /* GFNI */ | \
		   BIT(9) /* VAES */ | BIT(10) /* VPCLMULQDQ */ | BIT(11) /* AVX512_VNNI */ | \
		   BIT(12) /* AVX512_BITALG */ | BIT(14) /* AVX512_VPOPCNTDQ */ | BIT(22) /* RDPID */)
/* CPUID.80000001 */
#define EDX81_KEPT (BIT(11) /* SYSCALL */ | BIT(20) /* NX */ | BIT(26) /* 1-GByte pages */ | \
		    BIT(27) /* RDTSCP */ | BIT(29) /* Intel 64 */)
#define ECX81_KEPT (BIT(0) /* LAHF */ | BIT(5) /* LZCNT */ | BIT(8) /* PREFETCHW */)

static void cpuid_compute(struct vcpu *v, u32 leaf, u32 sub, u32 out[4])
{
	u32 a = 0, b = 0, c = 0, d = 0;
	u32 nvcpu = v->vm->nr_vcpus;

	if (leaf >= HV_CPUID_BASE && leaf < 0x40000100u) {
		if (leaf == HV_CPUID_BASE) {
			a = HV_CPUID_BASE + 1;
			b = HV_CPUID_SIG_EBX;
			c = HV_CPUID_SIG_ECX;
			d = HV_CPUID_SIG_EDX;
		} else if (leaf == HV_CPUID_BASE + 1) {
			a = HC_ABI_VERSION;
		}
		goto out;
	}
	if (leaf >= 0x80000000u) {
		if (leaf > MAX_EXT_LEAF)
			goto out;   /* zeros; also for other ranges (0xC0000000...) */
	} else if (leaf > MAX_BASIC_LEAF) {
		leaf = MAX_BASIC_LEAF;   /* as hardware: the highest basic leaf's data */
	}
	cpuid_count(leaf, sub, &a, &b, &c, &d);

	switch (leaf) {
	case 0:
		a = MIN(a, MAX_BASIC_LEAF);
		break;
	case 1:
		b = (b & 0x0000ffffu) | (v->id << 24) | ((nvcpu & 0xff) << 16);
		c &= ~ECX1_HIDDEN;
		/* The virtual LAPIC offers x2APIC and TSC-deadline whatever the host has. */
		c |= CPUID1_ECX_HYPERVISOR | CPUID1_ECX_X2APIC | BIT(24);
		/* "APIC On-Chip" follows IA32_APIC_BASE.EN ("Local APIC Status and Location":
		 * a globally disabled APIC is reported absent by CPUID). */
		if (vlapic_hw_enabled(&v->lapic))
			d |= BIT(9);
		else
			d &= ~BIT(9);
		/* OSXSAVE reflects CR4.OSXSAVE, which the guest owns (not in the CR4 guest/
		 * host mask): read the guest's CR4, not the read shadow. */
		if (guest_cr4(v) & CR4_OSXSAVE)
			c |= CPUID1_ECX_OSXSAVE;
		d &= ~EDX1_HIDDEN;
		if (nvcpu > 1)
			d |= BIT(28);   /* HTT: more than one logical processor */
		break;
	case 4:
		/* cache parameters: one core per vCPU, no sharing */
		if (a & 0x1f)
			a = (a & 0x3ffu) | ((nvcpu - 1) << 26);
		break;
	case 5:   /* MONITOR/MWAIT */
	case 6:   /* thermal and power management */
	case 0xa: /* performance monitoring */
		a = b = c = d = 0;
		break;
	case 7:
		if (sub == 0) {
			a = 0;
			b = (b & ~EBX7_HIDDEN) | (vmx_has_invpcid(&vmx_caps) ? b & BIT(10) : 0);
			/* IA32_TSC_ADJUST is emulated (msr.c) where the TSC offset exists. */
			if (v->arch.proc & CPU_USE_TSC_OFFSETTING)
				b |= BIT(1);
			c &= ECX7_KEPT;
			if (!vmx_has_rdtscp(&vmx_caps))
				c &= ~BIT(22);
			/* EDX hidden whole. This includes FSRM (bit 4), which must stay hidden:
			 * with it Debian's Linux 6.1 hangs on Bochs 3.0's tigerlake model right
			 * after "LSM: Security Framework initializing" (seen on bare Bochs too). */
			d = 0;
		} else {
			a = b = c = d = 0;
		}
		break;
	case 0xb:
		/* x2APIC topology: one thread per core, nvcpu cores */
		if (sub == 0) {
			a = 0;
			b = 1;
			c = 0x100;
		} else if (sub == 1) {
			a = 32 - (u32)__builtin_clz(nvcpu | 1);
			b = nvcpu;
			c = 0x200 | 1;
		} else {
			a = b = 0;
			c = sub & 0xff;
		}
		d = v->id;
		break;
	case 0xd:
		/* The XCR0 bits of vmx_xcr0_allowed only (vmx.c, fpu_probe). EBX (the size
		 * for the XCR0 now set) is the hardware's: the guest's XCR0 is loaded while
		 * it runs; ECX is the size for every bit offered. */
		if (!vmx_xcr0_allowed) {
			a = b = c = d = 0;
		} else if (sub == 0) {
			a = (u32)vmx_xcr0_allowed;
			c = vmx_xsave_size;
			d = (u32)(vmx_xcr0_allowed >> 32);
		} else if (sub == 1) {
			/* EBX: the size of the area for XCR0 | IA32_XSS, the hardware's (IA32_XSS
			 * is 0: never written). Linux sizes its compacted (XSAVEC) buffer by it
			 * and warns "XSAVE consistency problem" when it is 0. */
			a &= BIT(0) | BIT(1) | BIT(2);   /* XSAVEOPT, XSAVEC, XGETBV1; no XSAVES */
			c = d = 0;
		} else if (sub >= 63 || !(vmx_xcr0_allowed & BIT64(sub))) {
			a = b = c = d = 0;
		}
		break;
	case 0x80000000:
		a = MIN(a, MAX_EXT_LEAF);
		b = c = d = 0;
		break;
	case 0x80000001:
		c &= ECX81_KEPT;
		d &= EDX81_KEPT;
		if (!vmx_has_rdtscp(&vmx_caps))
			d &= ~BIT(27);
		break;
	case 0x80000007:
		a = b = c = 0;
		d &= BIT(8);   /* invariant TSC */
		break;
	case 0x80000008:
		a &= 0xffff;   /* address sizes */
		b = c = d = 0;
		break;
	default:
		break;   /* 2, 3, 0x80000002-6: as the host */
	}
out:
	out[0] = a;
	out[1] = b;
	out[2] = c;
	out[3] = d;
}

/* The CR4 bits the guest may set: those whose feature its CPUID offers (table at the
 * top) and the CPU allows in VMX operation (IA32_VMX_CR4_FIXED1). */
u64 guest_cr4_valid(struct vcpu *v)
{
	u32 r1[4], r7[4];
	cpuid_compute(v, 1, 0, r1);
	cpuid_compute(v, 7, 0, r7);
	u32 c1 = r1[2], d1 = r1[3], b7 = r7[1], c7 = r7[2], d7 = r7[3];
	u64 ok = CR4_PCE;
	ok |= d1 & BIT(1) ? CR4_VME | CR4_PVI : 0;
	ok |= d1 & BIT(4) ? CR4_TSD : 0;
	ok |= d1 & BIT(2) ? CR4_DE : 0;
	ok |= d1 & BIT(3) ? CR4_PSE : 0;
	ok |= d1 & BIT(6) ? CR4_PAE : 0;
	ok |= d1 & BIT(7) ? CR4_MCE : 0;
	ok |= d1 & BIT(13) ? CR4_PGE : 0;
	ok |= d1 & BIT(24) ? CR4_OSFXSR : 0;
	ok |= d1 & BIT(25) ? CR4_OSXMMEXCPT : 0;
	ok |= c7 & BIT(2) ? CR4_UMIP : 0;
	ok |= c7 & BIT(16) ? CR4_LA57 : 0;
	ok |= c1 & BIT(5) ? CR4_VMXE : 0;
	ok |= c1 & BIT(6) ? CR4_SMXE : 0;
	ok |= b7 & BIT(0) ? CR4_FSGSBASE : 0;
	ok |= c1 & BIT(17) ? CR4_PCIDE : 0;
	ok |= c1 & BIT(26) ? CR4_OSXSAVE : 0;
	ok |= c7 & BIT(23) ? BIT(19) /* KL */ : 0;
	ok |= b7 & BIT(7) ? CR4_SMEP : 0;
	ok |= b7 & BIT(20) ? CR4_SMAP : 0;
	ok |= c7 & BIT(3) ? CR4_PKE : 0;
	ok |= (c7 & BIT(7)) || (d7 & BIT(20)) ? BIT(23) /* CET */ : 0;
	ok |= c7 & BIT(31) ? BIT(24) /* PKS */ : 0;
	return ok & vmx_caps.cr4_fixed1;
}

/* Leaves whose filtered value depends neither on the sub-leaf nor on the vCPU are
 * computed once per VM: the CPUID exit then costs a table copy. */
static int cache_slot(u32 leaf)
{
	if (leaf <= MAX_BASIC_LEAF)
		return leaf == 1 || leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd ? -1 : (int)leaf;
	if (leaf >= 0x80000000u && leaf <= MAX_EXT_LEAF)
		return (int)(MAX_BASIC_LEAF + 1 + (leaf - 0x80000000u));
	if (leaf == HV_CPUID_BASE || leaf == HV_CPUID_BASE + 1)
		return (int)(MAX_BASIC_LEAF + 1 + (MAX_EXT_LEAF - 0x80000000u) + 1 + (leaf - HV_CPUID_BASE));
	return -1;
}
_Static_assert(CPUID_CACHE_BASIC == MAX_BASIC_LEAF, "basic leaf L is cache slot L (exit_dispatch.c, handle_cpuid)");
_Static_assert(MAX_BASIC_LEAF + 1 + (MAX_EXT_LEAF - 0x80000000u) + 1 + 2 <= VM_CPUID_CACHE,
	       "struct vm's CPUID cache holds every cacheable leaf");

void guest_cpuid(struct vcpu *v, u32 leaf, u32 sub, u32 out[4])
{
	int slot = cache_slot(leaf);
	if (likely(slot >= 0)) {
		struct cpuid_cached *e = &v->vm->arch.cpuid_cache[slot];
		if (unlikely(!e->valid)) {
			cpuid_compute(v, leaf, sub, e->r);
			e->valid = true;
		}
		out[0] = e->r[0];   /* not memcpy: a string move costs a tick per byte in Bochs */
		out[1] = e->r[1];
		out[2] = e->r[2];
		out[3] = e->r[3];
		return;
	}
	cpuid_compute(v, leaf, sub, out);
}
