// compile-command: gcc -c -O2 -DHV_HOST_TEST -I. -o /dev/null
// expect-error: VMCS field accessed with the wrong width
/* A natural-width field (GUEST_RIP) written with the 32-bit accessor. */
#include "arch/x86/vmx/vmcs.h"

void f(void);
void f(void)
{
	vmcs_write32(GUEST_RIP, 0);
}
