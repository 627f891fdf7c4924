// compile-command: gcc -c -O2 -DHV_HOST_TEST -I. -o /dev/null
// expect-success
/*
 * The control for the vmcs_width_*.c files: the same command and the same accessors,
 * each with a field of the right width, must compile. If this file fails too, the
 * others fail for some other reason than the width check.
 */
#include "arch/x86/vmx/vmcs.h"

u64 f(u32 runtime_field);
u64 f(u32 runtime_field)
{
	vmcs_writel(GUEST_RIP, 0);
	vmcs_write16(GUEST_CS_SELECTOR, 8);
	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, 0);
	vmcs_write64(EPT_POINTER, 0);
	u64 v = vmcs_read16(GUEST_CS_SELECTOR);
	v += vmcs_read32(VM_EXIT_REASON);
	v += vmcs_read64(GUEST_IA32_EFER);
	v += vmcs_readl(EXIT_QUALIFICATION);
	/* a field known only at run time cannot be checked at compile time */
	v += vmcs_read32(runtime_field);
	return v;
}
