/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU VMX capability check at start-up: every CPU reads its own capability MSRs
 * (Intel SDM Vol. 3D, Appendix A "VMX Capability Reporting Facility"), negotiates them
 * as the boot CPU did (arch/x86/vmx/caps.c), logs the result and compares it with the
 * boot CPU's (vmx_caps_compare). A CPU that cannot run the boot CPU's VMCS controls
 * stays out of VMX operation, and so gets no vCPU (hv/init/main.c place_vcpus).
 * Only boot code: nothing here runs on a VM exit.
 */
#include "arch/x86/arch.h"
#include "arch/x86/vmx/caps.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/x86.h"
#include "hv/host/cpu.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"

/* The capability MSRs of the calling CPU (arch_probe on the boot CPU, arch_cpu_check on
 * every CPU). The secondary controls MSR exists only when the primary controls allow 1
 * in bit 31 ("Secondary Processor-Based VM-Execution Controls"), the EPT/VPID MSR only
 * when the secondary controls allow EPT or VPID. */
void vmx_read_msrs(struct vmx_msrs *m)
{
	m->basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_ctls = m->basic & BIT64(55);
	m->pinbased = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	m->procbased = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	m->exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	m->entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	m->misc = rdmsr(MSR_IA32_VMX_MISC);
	m->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	m->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	m->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	m->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	m->procbased2 = (m->procbased >> 32) & CPU_ACTIVATE_SECONDARY ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0;
	m->ept_vpid = (m->procbased2 >> 32) & (SEC_ENABLE_EPT | SEC_ENABLE_VPID) ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
}

bool arch_cpu_check(struct cpu *c, char *why, size_t len)
{
	static struct vmx_caps caps[MAX_CPUS];   /* too large for the stack; one per CPU */
	struct vmx_caps *mine = &caps[c->id];
	u32 a, b, cx, d;
	cpuid_count(1, 0, &a, &b, &cx, &d);
	if (!(cx & CPUID1_ECX_VMX)) {
		hv_snprintf(why, len, "CPUID.1:ECX.VMX[bit 5] = 0 on this CPU");
		return false;
	}
	struct vmx_msrs m;
	vmx_read_msrs(&m);
	struct vmx_wants w = { 0 };   /* as arch_probe */
	if (!vmx_negotiate(&m, &w, mine)) {
		hv_snprintf(why, len, "VMX lacks a required feature: %s", mine->missing_required);
		return false;
	}
	char diff[200];
	int cmp = vmx_caps_compare(&vmx_caps, mine, diff, sizeof(diff));
	printk("vmx: CPU %u negotiated pin=0x%08x proc=0x%08x proc2=0x%08x exit=0x%08x entry=0x%08x "
	       "revision 0x%x timer 2^%u: %s%s\n", c->id, mine->pin, mine->proc, mine->proc2, mine->exit,
	       mine->entry, mine->revision, mine->preemption_timer_rate,
	       c->id == 0 ? "the boot CPU" : cmp == VMX_CAPS_SAME ? "same as the boot CPU"
	       : cmp == VMX_CAPS_DIFFERENT ? "DIFFERS from the boot CPU: " : "INCOMPATIBLE with the boot CPU: ",
	       c->id == 0 || cmp == VMX_CAPS_SAME ? "" : diff);
	if (cmp == VMX_CAPS_INCOMPATIBLE) {
		hv_snprintf(why, len, "its VMX capabilities differ from the boot CPU's: %s", diff);
		return false;
	}
	return true;
}
