// compile-command: gcc -c -O2 -DHV_HOST_TEST -I. -o /dev/null
// expect-error: VMCS field accessed with the wrong width
/* The "high" access (bit 0 set) of a 64-bit field: the accessors use full 64-bit
 * access only, so EPT_POINTER | 1 is refused even with the 32-bit accessor. */
#include "arch/x86/vmx/vmcs.h"

void f(void);
void f(void)
{
	(void)vmcs_read32(EPT_POINTER | 1);
}
