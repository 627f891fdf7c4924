/* SPDX-License-Identifier: MIT */
/*
 * pagewalk: run one string I/O instruction at CPL 0 or CPL 3 and come back.
 *
 * sio_run(struct sio *s) saves the callee-saved registers and RSP, loads RDI, RSI,
 * RCX, RDX from s and jumps to s->stub (CPL 0) or enters it with IRETQ at CPL 3 with
 * IOPL 3 (user code and data selectors of pagewalk.c's GDT, s->user_rsp). Every stub
 * is one string instruction followed by UD2: the #UD (done) or the #PF (faulted)
 * handler in pagewalk.c records the registers and resumes at sio_return in CPL 0.
 */
#define USER_CS 0x23
#define USER_DS 0x2b
#define RFLAGS_USER 0x3002   /* IOPL 3, reserved bit 1, IF = 0 */

	.text
	.globl sio_run
sio_run:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, sio_kernel_rsp(%rip)
	movq %rdi, %rax
	movq 8(%rax), %rdi
	movq 16(%rax), %rsi
	movq 24(%rax), %rcx
	movq 32(%rax), %rdx
	cmpq $0, 40(%rax)
	jne 1f
	jmp *0(%rax)
1:	pushq $USER_DS
	pushq 48(%rax)
	pushq $RFLAGS_USER
	pushq $USER_CS
	pushq 0(%rax)
	iretq

	.globl sio_return
sio_return:
	movq sio_kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.macro STUB name, insn
	.globl \name
\name:
	\insn
	ud2
	.endm

	STUB stub_rep_insb, "rep insb"
	STUB stub_rep_insw, "rep insw"
	STUB stub_rep_insl, "rep insl"
	STUB stub_insl, "insl"
	STUB stub_rep_outsb, "rep outsb"
	STUB stub_rep_outsl, "rep outsl"
	STUB stub_addr32_rep_insb, "addr32 rep insb"

	.data
	.align 8
	.globl sio_kernel_rsp
sio_kernel_rsp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
