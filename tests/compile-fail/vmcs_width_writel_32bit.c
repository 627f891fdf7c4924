// compile-command: gcc -c -O2 -DHV_HOST_TEST -I. -o /dev/null
// expect-error: VMCS field accessed with the wrong width
/* A 32-bit control (PIN_BASED_VM_EXEC_CONTROL) written with the natural-width accessor. */
#include "arch/x86/vmx/vmcs.h"

void f(void);
void f(void)
{
	vmcs_writel(PIN_BASED_VM_EXEC_CONTROL, 0);
}
