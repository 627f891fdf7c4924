/* SPDX-License-Identifier: MIT */
/*
 * evdeliver: an event whose delivery writes into device memory. RSP is pointed into
 * the vIOAPIC's page (GPA 0xFEC00000, mapped uncached by the guest's identity map),
 * then an instruction faults: a 4-byte store to a non-canonical address raises #GP(0)
 * (Intel SDM Vol. 3A, "Interrupt 13—General Protection Exception"), delivered at CPL 0
 * without a stack switch, so the CPU pushes the frame below RSP, into the device page.
 * That is an EPT violation during event delivery (Vol. 3C, "Information for VM Exits
 * That Occur During Event Delivery"): the access is the delivery's, not the store's,
 * and the store never ran. The hypervisor must stop the VM naming the delivery
 * (vector 13) and must not emulate the store at RIP as an IOAPIC write (which would
 * move RIP past it and deliver the #GP again, forever).
 *
 * `how=int3` uses INT3 instead (a software exception, delivered with RIP after it).
 * Under bare QEMU (nohv) nothing is run.
 */
#include "lib.h"

#define IOAPIC_PAGE 0xfec00000ull

int main(void)
{
	if (cmdline_has("nohv")) {
		report_skip("delivery into device memory (nohv: no hypervisor to stop the VM)");
		return report_summary();
	}
	const char *how = cmdline_get("how");
	bool int3 = how && !strcmp(how, "int3");
	printf("evdeliver: %s with RSP in the IOAPIC page (0x%llx)\n", int3 ? "INT3" : "#GP",
	       IOAPIC_PAGE + 0x800);
	if (int3)
		asm volatile("mov %%rsp, %%r12\n\t"
			     "mov %0, %%rsp\n\t"
			     "int3\n\t"
			     "mov %%r12, %%rsp"
			     : : "r"(IOAPIC_PAGE + 0x800) : "r12", "memory");
	else
		asm volatile("mov %%rsp, %%r12\n\t"
			     "mov %0, %%rsp\n\t"
			     "movl %%eax, (%1)\n\t"
			     "mov %%r12, %%rsp"
			     : : "r"(IOAPIC_PAGE + 0x800), "r"(0x8000000000000000ull), "a"(0x11) : "r12", "memory");
	report(false, "came back from an event delivered with RSP in device memory");
	return report_summary();
}
