/* SPDX-License-Identifier: MIT */
/*
 * The register dump of a hypervisor panic (hv/lib/console.c: panic): the CPU's own state
 * where panic was called, and, when this CPU is in VMX operation with a current VMCS,
 * the guest state that VMCS holds. An exception in the hypervisor has already printed
 * its saved frame (boot/idt.c: dump_frame) before it panics.
 *
 * Nothing here may fault or panic again: VMPTRST only in VMX operation (it is #UD
 * outside, "VMPTRST—Store Pointer to Virtual-Machine Control Structure"), and VMREAD
 * through __vmread, which reports failure instead of panicking.
 */
#include "hv/lib/console.h"
#include "hv/host/cpu.h"
#include "arch/x86/x86.h"
#include "arch/x86/vmx/vmcs.h"

static u64 vmread_or_zero(u64 field)
{
	u64 v = 0;
	return __vmread(field, &v) ? v : 0;
}

static void dump_current_vmcs(void)
{
	/* GS holds this CPU's struct cpu once cpu_init_local ran (boot/idt.c). */
	if (!rdmsr(MSR_IA32_GS_BASE) || !this_cpu()->virt_on)
		return;
	u64 ptr = ~0ull;
	asm volatile("vmptrst %0" : "=m"(ptr));
	if (ptr == ~0ull)   /* "no current VMCS" */
		return;
	printk("  current VMCS %llx: guest RIP=%016llx RSP=%016llx\n", (unsigned long long)ptr,
	       (unsigned long long)vmread_or_zero(GUEST_RIP), (unsigned long long)vmread_or_zero(GUEST_RSP));
	printk("  guest CR0=%016llx CR3=%016llx CR4=%016llx\n", (unsigned long long)vmread_or_zero(GUEST_CR0),
	       (unsigned long long)vmread_or_zero(GUEST_CR3), (unsigned long long)vmread_or_zero(GUEST_CR4));
	printk("  last exit reason 0x%llx qualification 0x%llx\n", (unsigned long long)vmread_or_zero(VM_EXIT_REASON),
	       (unsigned long long)vmread_or_zero(EXIT_QUALIFICATION));
}

void arch_panic_dump(const void *caller, u64 rflags)
{
	u64 rsp;
	asm volatile("mov %%rsp, %0" : "=r"(rsp));
	printk("  caller RIP=%016llx RSP=%016llx RFLAGS=%016llx\n", (unsigned long long)(uintptr_t)caller,
	       (unsigned long long)rsp, (unsigned long long)rflags);
	printk("  CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n", (unsigned long long)read_cr0(),
	       (unsigned long long)read_cr2(), (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	dump_current_vmcs();
}
