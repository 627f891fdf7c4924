// compile-command: gcc -c -O2 -DHV_HOST_TEST -I. -o /dev/null
// expect-error: VMCS field accessed with the wrong width
/* A 16-bit field (GUEST_CS_SELECTOR) written with the 64-bit accessor. */
#include "arch/x86/vmx/vmcs.h"

void f(void);
void f(void)
{
	vmcs_write64(GUEST_CS_SELECTOR, 8);
}
