/* SPDX-License-Identifier: MIT */
/*
 * Control-register and XSETBV exits: MOV to/from CR0/CR4/CR8, LMSW, the PAE PDPTE
 * load of an emulated paging-mode change, XCR0.
 */
#include "arch/x86/vmx/exit_internal.h"

u64 vcpu_gpr_read(struct vcpu *v, unsigned n)
{
	return n == GPR_RSP ? vmcs_readl(GUEST_RSP) : v->gpr[n];
}

void vcpu_gpr_write(struct vcpu *v, unsigned n, u64 val)
{
	if (n == GPR_RSP)
		vmcs_writel(GUEST_RSP, val);
	else
		v->gpr[n] = val;
}

/* With EPT, PAE paging outside IA-32e mode takes its PDPTEs from the VMCS ("Loading
 * Guest PDPTEs" / "PDPTE registers"), which the CPU only fills on an unintercepted
 * MOV to CR3/CR0/CR4: when the hypervisor emulates a paging-mode change, it loads them,
 * for the new CR0/CR4/EFER, before any of them is committed. A present PDPTE with a
 * reserved bit set (bits 2:1, 8:5 and MAXPHYADDR-63: "PDPTE Registers", "PAE Paging")
 * makes the MOV fault with #GP(0) ("MOV—Move to/from Control Registers") and nothing
 * changes. Returns 0 (loaded or not needed), 1 (#GP) or -1 (CR3 outside guest RAM). */
static int load_pdptes(struct vcpu *v, u64 cr0, u64 cr4, u64 efer)
{
	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (efer & EFER_LMA))
		return 0;
	const u64 *p = gpa_to_hva(v->vm, vmcs_readl(GUEST_CR3) & 0xffffffe0ull, 32);
	if (!p)
		return -1;
	u32 r[4];
	guest_cpuid(v, 0x80000008u, 0, r);
	unsigned maxphy = r[0] & 0xff ? r[0] & 0xff : 36;
	u64 rsvd = 0x1e6ull | ~((1ull << maxphy) - 1);
	for (int i = 0; i < 4; i++)
		if ((p[i] & 1) && (p[i] & rsvd))
			return 1;
	vmcs_write64(GUEST_PDPTE0, p[0]);
	vmcs_write64(GUEST_PDPTE1, p[1]);
	vmcs_write64(GUEST_PDPTE2, p[2]);
	vmcs_write64(GUEST_PDPTE3, p[3]);
	return 0;
}

static enum exit_action pdpte_fault(struct vcpu *v, int r)
{
	if (r > 0)
		return inject_gp(v);
	vm_fault(v, "PAE paging enabled with CR3 outside guest RAM");
	return EXIT_LEAVE;
}

static enum exit_action set_cr0(struct vcpu *v, u64 val)
{
	u64 old = vmcs_readl(GUEST_CR0);
	u64 efer = vmcs_read64(GUEST_IA32_EFER);
	u32 entry = vmcs_read32(VM_ENTRY_CONTROLS);

	/* MOV to CR0 faults: reserved bits 63:32, PG without PE, NW without CD. */
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
		return inject_gp(v);
	if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
		if (!(vmcs_readl(GUEST_CR4) & CR4_PAE))
			return inject_gp(v);
		efer |= EFER_LMA;
		entry |= ENTRY_IA32E_MODE;
	} else if (!(val & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
		/* "MOV—Move to/from Control Registers": #GP(0) for "an attempt to clear
		 * CR0.PG[bit 31]" in 64-bit mode; only compatibility mode (CS.L = 0) may
		 * leave IA-32e mode this way. */
		if (vmcs_read32(GUEST_CS_AR_BYTES) & AR_L)
			return inject_gp(v);
		efer &= ~(u64)EFER_LMA;
		entry &= ~(u32)ENTRY_IA32E_MODE;
	}
	int r = load_pdptes(v, val, vmcs_readl(GUEST_CR4), efer);
	if (r)
		return pdpte_fault(v, r);
	vmcs_write64(GUEST_IA32_EFER, efer);
	vmcs_write32(VM_ENTRY_CONTROLS, entry);
	vmcs_writel(CR0_READ_SHADOW, val);
	vmcs_writel(GUEST_CR0, vmx_guest_cr0(val));
	return EXIT_SKIP;
}

static enum exit_action set_cr4(struct vcpu *v, u64 val)
{
	/* Bits the CPU cannot hold in VMX operation, and those of features the guest's
	 * CPUID does not offer (VMXE, UMIP, PKE...: cpuid.c, guest_cr4_valid). */
	u64 refused = ~guest_cr4_valid(v) | CR4_VMXE;
	if (val & refused)
		return inject_gp(v);
	if ((vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && !(val & CR4_PAE))
		return inject_gp(v);
	int r = load_pdptes(v, vmcs_readl(GUEST_CR0), val, vmcs_read64(GUEST_IA32_EFER));
	if (r)
		return pdpte_fault(v, r);
	vmcs_writel(CR4_READ_SHADOW, val);
	vmcs_writel(GUEST_CR4, val | vmx_caps.cr4_fixed0);
	return EXIT_SKIP;
}

/* Exit qualification for control-register accesses ("Exit Qualification for Control-
 * Register Accesses"): bits 3:0 the CR, 5:4 the access type, 11:8 the GPR. */
enum exit_action vmx_exit_cr_access(struct vcpu *v)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;

	if (type == 0) {   /* MOV to CR */
		u64 val = vcpu_gpr_read(v, reg);
		switch (cr) {
		case 0: return set_cr0(v, val);
		case 4: return set_cr4(v, val);
		case 8:
			if (val >> 4)
				return inject_gp(v);
			/* CR8 is TPR[7:4] ("Task Priority in IA-32e Mode"). */
			vlapic_set_reg(&v->lapic, APIC_TPR, (u32)val << 4);
			return EXIT_SKIP;
		}
	} else if (type == 1 && cr == 8) {   /* MOV from CR8 */
		vcpu_gpr_write(v, reg, vlapic_reg(&v->lapic, APIC_TPR) >> 4);
		return EXIT_SKIP;
	} else if (type == 3) {   /* LMSW: only the low four bits of CR0, and it cannot clear PE */
		u64 src = (q >> 16) & 0xf;
		u64 cr0 = vmcs_readl(CR0_READ_SHADOW);
		return set_cr0(v, (cr0 & ~0xeull) | (src & 0xe) | ((cr0 | src) & CR0_PE));
	}
	vm_fault(v, "unexpected control-register access (qualification 0x%llx)", (unsigned long long)q);
	return EXIT_LEAVE;
}

/* XSETBV always exits ("Instructions That Cause VM Exits Unconditionally"). Accept what
 * is offered to guests (vmx_xcr0_allowed: what the CPU supports and the vCPU's FPU area
 * holds) and the SDM allows ("Extended Control Registers (Including XCR0)": bit 0 set,
 * AVX needs SSE, the AVX-512 bits together and with AVX), else #GP(0). */
enum exit_action vmx_exit_xsetbv(struct vcpu *v)
{
	u64 val = (v->gpr[GPR_RDX] << 32) | (u32)v->gpr[GPR_RAX];
	u64 supported = vmx_xcr0_allowed;
	if ((u32)v->gpr[GPR_RCX] != 0 || !(val & 1) || (val & ~supported) ||
	    ((val & 4) && !(val & 2)) || ((val & 0xe0) && (val & 0xe0) != 0xe0) ||
	    ((val & 0xe0) && !(val & 4)))
		return inject_gp(v);
	xsetbv(0, val);
	v->arch.xcr0 = val;
	return EXIT_SKIP;
}
