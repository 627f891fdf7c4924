/* SPDX-License-Identifier: MIT */
/* Offsets for entry.S, generated at build time (Makefile: build/asm-offsets.h). */
#include "hv/vm/vm.h"
#include "hv/host/cpu.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/exit_reason.h"

#define DEFINE(sym, val) asm volatile("\n.ascii \"->" #sym " %0\"" : : "i"(val))
#define OFFSET(sym, str, mem) DEFINE(sym, offsetof(struct str, mem))

void asm_offsets(void);
void asm_offsets(void)
{
	OFFSET(CPU_VCPU, cpu, vcpu);
	DEFINE(VMCS_EXIT_REASON, VM_EXIT_REASON);
	DEFINE(NR_EXIT_REASONS_ASM, NR_EXIT_REASONS);
	OFFSET(CPU_STACK_TOP, cpu, stack_top);
	DEFINE(VCPU_RAX, offsetof(struct vcpu, gpr[GPR_RAX]));
	DEFINE(VCPU_RCX, offsetof(struct vcpu, gpr[GPR_RCX]));
	DEFINE(VCPU_RDX, offsetof(struct vcpu, gpr[GPR_RDX]));
	DEFINE(VCPU_RBX, offsetof(struct vcpu, gpr[GPR_RBX]));
	DEFINE(VCPU_RBP, offsetof(struct vcpu, gpr[GPR_RBP]));
	DEFINE(VCPU_RSI, offsetof(struct vcpu, gpr[GPR_RSI]));
	DEFINE(VCPU_RDI, offsetof(struct vcpu, gpr[GPR_RDI]));
	DEFINE(VCPU_R8, offsetof(struct vcpu, gpr[GPR_R8]));
	DEFINE(VCPU_R9, offsetof(struct vcpu, gpr[GPR_R9]));
	DEFINE(VCPU_R10, offsetof(struct vcpu, gpr[GPR_R10]));
	DEFINE(VCPU_R11, offsetof(struct vcpu, gpr[GPR_R11]));
	DEFINE(VCPU_R12, offsetof(struct vcpu, gpr[GPR_R12]));
	DEFINE(VCPU_R13, offsetof(struct vcpu, gpr[GPR_R13]));
	DEFINE(VCPU_R14, offsetof(struct vcpu, gpr[GPR_R14]));
	DEFINE(VCPU_R15, offsetof(struct vcpu, gpr[GPR_R15]));
}
