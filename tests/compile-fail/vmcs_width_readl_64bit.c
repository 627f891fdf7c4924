// compile-command: gcc -c -O2 -DHV_HOST_TEST -I. -o /dev/null
// expect-error: VMCS field accessed with the wrong width
/* A 64-bit field (GUEST_IA32_EFER) read with the natural-width accessor: the same size
 * on x86-64, but a different encoding width, so still refused. */
#include "arch/x86/vmx/vmcs.h"

void f(void);
void f(void)
{
	(void)vmcs_readl(GUEST_IA32_EFER);
}
