/* SPDX-License-Identifier: MIT */
/*
 * Interrupt and exception entry stubs: one per vector, each pushes a dummy error code
 * where the CPU pushes none (Intel SDM Vol. 3A, "Exception and Interrupt Reference":
 * vectors 8, 10-14, 17, 21, 29, 30 push one) and the vector, then saves the GPRs in
 * the order of struct irq_frame and calls interrupt_dispatch(frame).
 */
	.text
	.code64
	.altmacro

	.macro stub vec
	.align 16
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
	.endm

	.align 16
	.global isr_stubs
isr_stubs:
	.set v, 0
	.rept 256
	stub %v
	.set v, v + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call interrupt_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq
