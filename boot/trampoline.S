/* SPDX-License-Identifier: MIT */
/*
 * AP start-up code, copied to TRAMPOLINE_BASE and entered by the start-up IPI in real
 * mode at CS:IP = (vector << 8):0 (Intel SDM Vol. 3A, "MP Initialization Protocol
 * Algorithm for MP Systems"). Goes to long mode with the BSP's page tables and jumps to
 * the entry the BSP left in tramp_entry with tramp_cpu in RDI.
 */
#include "boot/boot.h"

#define T(x) ((x) - trampoline_start + TRAMPOLINE_BASE)

	.section .data
	.code16
	.global trampoline_start, trampoline_end
	.global tramp_cr3, tramp_efer, tramp_stack, tramp_cpu, tramp_entry
	.align 16
trampoline_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl T(tramp_gdtr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $GDT_CODE32, $T(tramp32)

	.code32
tramp32:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $0x20, %eax                  /* PAE */
	movl %eax, %cr4
	movl T(tramp_cr3), %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	movl T(tramp_efer), %eax
	xorl %edx, %edx
	wrmsr
	movl %cr0, %eax
	andl $~0x60000000, %eax          /* clear CD and NW */
	orl $0x80010021, %eax            /* PG, WP, NE, PE */
	movl %eax, %cr0
	ljmp $GDT_CODE64, $T(tramp64)

	.code64
tramp64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq T(tramp_stack), %rsp
	movq T(tramp_cpu), %rdi
	movq T(tramp_entry), %rax
	jmp *%rax

	.align 16
tramp_gdt:
	.quad 0
	.quad 0x00af9a000000ffff         /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff         /* 0x10: data */
	.quad 0x00cf9a000000ffff         /* 0x18: 32-bit code */
tramp_gdtr:
	.word 31
	.long T(tramp_gdt)
	.align 8
tramp_cr3:	.quad 0
tramp_efer:	.quad 0
tramp_stack:	.quad 0
tramp_cpu:	.quad 0
tramp_entry:	.quad 0
trampoline_end:
