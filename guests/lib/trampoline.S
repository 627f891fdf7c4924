/* SPDX-License-Identifier: MIT */
/*
 * The application-processor trampoline, copied by smp.c to SMP_TRAMPOLINE_ADDR
 * (0x8000) below 1 MiB. A start-up IPI with vector 0x08 starts the AP here in real
 * mode with CS = 0x0800, IP = 0 (Intel SDM Vol. 3A, "MP Initialization Protocol
 * Requirements and Restrictions"). The code goes to protected mode, enables PAE and
 * IA32_EFER.LME, loads the BSP's CR3 and turns paging on, which activates IA-32e mode
 * ("Initializing IA-32e Mode"), then calls ap_main(cpu) on the AP's own stack.
 *
 * Everything is addressed relative to the copy: real-mode data through DS = CS, later
 * code and data through TRAMP + (label - tramp_start), which the assembler computes.
 * smp.c fills the parameter block at the end before each start.
 */

#define TRAMP 0x8000

#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_CODE32 0x18

#define CR0_PE (1 << 0)
#define CR0_NE (1 << 5)
#define CR0_NW (1 << 29)
#define CR0_CD (1 << 30)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)

#define ABS(label) (TRAMP + (label) - smp_trampoline_start)
#define REL(label) ((label) - smp_trampoline_start)

	.section .rodata.trampoline, "a"
	.globl smp_trampoline_start, smp_trampoline_end, smp_trampoline_params
	.code16
smp_trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	/* Count entries: the second SIPI must not start a CPU that already runs. */
	lock incl REL(tp_entries)
	lgdtl REL(tr_gdt_desc)
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $ABS(tr_pm32)

	.code32
tr_pm32:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl ABS(tp_cr3), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_NE | CR0_PE), %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE64, $ABS(tr_lm64)

	.code64
tr_lm64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq ABS(tp_stack), %rsp
	movl ABS(tp_cpu), %edi
	movq ABS(tp_entry), %rax
	xorl %ebp, %ebp
	call *%rax              /* ap_main(cpu): does not return */
1:	cli
	hlt
	jmp 1b

	/* null, 64-bit code, flat data, 32-bit code: the selectors of entry.S's GDT */
	.balign 16
tr_gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0x00cf9a000000ffff
tr_gdt_end:
tr_gdt_desc:
	.word tr_gdt_end - tr_gdt - 1
	.long ABS(tr_gdt)

	/* struct trampoline_params (smp.c) */
	.balign 8
smp_trampoline_params:
tp_cr3:
	.quad 0
tp_stack:
	.quad 0
tp_entry:
	.quad 0
tp_cpu:
	.long 0
tp_entries:
	.long 0
smp_trampoline_end:

	.section .note.GNU-stack, "", @progbits
