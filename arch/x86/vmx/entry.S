/* SPDX-License-Identifier: MIT */
/*
 * VM entry and exit. HOST_RSP is the top of this CPU's stack and HOST_RIP is
 * vmx_exit_stub, so every exit starts on an empty stack; GS points at struct cpu.
 * The guest's GPRs live in struct vcpu (offsets from asm-offsets.c). After a handled
 * exit the stub resumes the guest directly; only a "leave" goes back to C's run loop.
 */
#include "asm-offsets.h"

	.macro for_gprs op
	\op rcx, VCPU_RCX
	\op rdx, VCPU_RDX
	\op rbx, VCPU_RBX
	\op rbp, VCPU_RBP
	\op rsi, VCPU_RSI
	\op rdi, VCPU_RDI
	\op r8, VCPU_R8
	\op r9, VCPU_R9
	\op r10, VCPU_R10
	\op r11, VCPU_R11
	\op r12, VCPU_R12
	\op r13, VCPU_R13
	\op r14, VCPU_R14
	\op r15, VCPU_R15
	.endm
	.macro save reg, off
	movq %\reg, \off(%rax)
	.endm
	.macro load reg, off
	movq \off(%rax), %\reg
	.endm

	.text
/* void vmx_enter(struct vcpu *v, bool launch): VMLAUNCH or VMRESUME, no return. */
	.global vmx_enter
vmx_enter:
	movq %rdi, %rax
	testb %sil, %sil                 /* MOVs below keep the flags */
	for_gprs load
	movq VCPU_RAX(%rax), %rax
	jnz 1f
	vmresume
	jmp vmx_fail
1:	vmlaunch
vmx_fail:                                /* VMfailInvalid / VMfailValid */
	movq %gs:CPU_STACK_TOP, %rsp
	movq %gs:CPU_VCPU, %rdi
	call vmx_entry_failed
	ud2

	.global vmx_exit_stub
vmx_exit_stub:
	pushq %rax
	movq %gs:CPU_VCPU, %rax
	for_gprs save
	popq VCPU_RAX(%rax)
	movq %rax, %rdi
	/* The handler by exit reason (exit_dispatch.c, vmx_exit_entry); a reason that
	 * cannot be read, or with bits above the basic reason, goes to vmx_handle_exit. */
	movl $VMCS_EXIT_REASON, %esi
	vmread %rsi, %rsi
	jbe 3f
	cmpq $NR_EXIT_REASONS_ASM, %rsi
	jae 3f
	call *vmx_exit_entry(,%rsi,8)
	jmp 4f
3:	call vmx_handle_exit
4:	testq %rax, %rax
	jnz 2f
	movq %gs:CPU_VCPU, %rax
	for_gprs load
	movq VCPU_RAX(%rax), %rax
	vmresume
	jmp vmx_fail
2:	call cpu_run_loop                /* from the stack top; never returns */

/* The same, recording the exit and the entry (arch/x86/vmx/trace.c): HOST_RIP when
 * trace= has exit or entry. */
	.global vmx_exit_stub_traced
vmx_exit_stub_traced:
	pushq %rax
	movq %gs:CPU_VCPU, %rax
	for_gprs save
	popq VCPU_RAX(%rax)
	movq %rax, %rdi
	call vmx_handle_exit_traced
	jmp 4b
