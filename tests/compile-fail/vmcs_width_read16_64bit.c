// compile-command: gcc -c -O2 -DHV_HOST_TEST -I. -o /dev/null
// expect-error: VMCS field accessed with the wrong width
/* A 64-bit field (EPT_POINTER) read with the 16-bit accessor. */
#include "arch/x86/vmx/vmcs.h"

void f(void);
void f(void)
{
	(void)vmcs_read16(EPT_POINTER);
}
