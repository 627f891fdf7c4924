# SPDX-License-Identifier: MIT
#
# legacy32: a 32-bit multiboot v1 kernel (plain assembly, no guest library) for what
# only 32-bit protected mode can do (issue 10, docs/CONFORMANCE.md):
#
#  1. PAE paging enabled by a MOV to CR0 that the hypervisor emulates (NE is flipped
#     with PG, NE being host-owned), with a reserved bit (bit 5) set in a present
#     PDPTE: #GP(0) and no paging ("MOV—Move to/from Control Registers", "PDPTE
#     Registers"); then the same with a valid PDPTE: paging turns on.
#  2. A JMP to a 32-bit TSS (a task switch, which always exits): the guest gets a
#     #GP with the TSS selector as error code, the VM runs on.
#
# Prints "legacy32: PASS: ..." / "FAIL: ..." on COM1 and exits through port 0xf4 with
# 0x2a (status 85) when all passed, else 1 + the number of failures.

	.set MB_HEADER_MAGIC, 0x1BADB002
	.set MB_HEADER_FLAGS, 0x00000003
	.set COM1,            0x3f8
	.set COM1_LSR,        0x3fd
	.set EXIT_PORT,       0xf4
	.set CR0_PE,          0x1
	.set CR0_NE,          0x20
	.set CR0_PG,          0x80000000
	.set CR4_PAE,         0x20
	.set SEL_CODE,        0x08
	.set SEL_DATA,        0x10
	.set SEL_TSS,         0x18

	.text
	.globl _start
	.align 4
multiboot_header:
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

_start:
	cli
	cld
	movl $stack_top, %esp
	lgdt gdt_ptr
	ljmp $SEL_CODE, $1f
1:	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	# IDT: every vector to `unexpected`, #GP (13) to gp_handler
	movl $idt, %edi
	xorl %ecx, %ecx
2:	movl $unexpected, %eax
	cmpl $13, %ecx
	jne 3f
	movl $gp_handler, %eax
3:	movw %ax, (%edi)
	movw $SEL_CODE, 2(%edi)
	movw $0x8e00, 4(%edi)           # present, 32-bit interrupt gate
	shrl $16, %eax
	movw %ax, 6(%edi)
	addl $8, %edi
	incl %ecx
	cmpl $32, %ecx
	jb 2b
	lidt idt_ptr

	# the TSS descriptor: base = tss, limit 0x67, available 32-bit TSS (type 9)
	movl $tss, %eax
	movw %ax, gdt + SEL_TSS + 2
	shrl $16, %eax
	movb %al, gdt + SEL_TSS + 4
	movb %ah, gdt + SEL_TSS + 7

	movl $msg_start, %eax
	call print

	# ---- 1. PDPTE with a reserved bit ----
	# PD: 2 MiB identity pages for the first 1 GiB (PS | RW | P)
	movl $pd, %edi
	xorl %ecx, %ecx
4:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, (%edi,%ecx,8)
	movl $0, 4(%edi,%ecx,8)
	incl %ecx
	cmpl $512, %ecx
	jb 4b
	movl $pd, %eax
	orl $0x21, %eax                 # P | bit 5 (reserved in a PAE PDPTE)
	movl %eax, pdpt
	movl $pdpt, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $0, gp_count
	movl %cr0, %eax
	movl %eax, saved_cr0
	orl $CR0_PG, %eax
	xorl $CR0_NE, %eax              # NE is host-owned: the write exits
	movl $5f, gp_resume
pdpte_bad_mov:
	movl %eax, %cr0
5:	movl %cr0, %eax
	testl $CR0_PG, %eax
	jnz fail_pdpte_bad
	cmpl $1, gp_count
	jne fail_pdpte_bad
	movl $msg_pass_pdpte_bad, %eax
	call print
	jmp 6f
fail_pdpte_bad:
	incl failures
	movl $msg_fail_pdpte_bad, %eax
	call print
	movl saved_cr0, %eax
	movl %eax, %cr0
6:
	# the same with a valid PDPTE: paging on, then off again
	movl $pd, %eax
	orl $0x1, %eax
	movl %eax, pdpt
	movl $pdpt, %eax
	movl %eax, %cr3                 # reload (the PDPTEs are read at the MOV)
	movl $0, gp_count
	movl saved_cr0, %eax
	orl $CR0_PG, %eax
	xorl $CR0_NE, %eax
	movl $7f, gp_resume
	movl %eax, %cr0
7:	movl %cr0, %ebx
	movl saved_cr0, %eax
	movl %eax, %cr0                 # paging off again
	testl $CR0_PG, %ebx
	jz 8f
	cmpl $0, gp_count
	jne 8f
	movl $msg_pass_pdpte_ok, %eax
	call print
	jmp 9f
8:	incl failures
	movl $msg_fail_pdpte_ok, %eax
	call print
9:
	# ---- 2. task switch by JMP to a TSS ----
	movl $0, gp_count
	movl $0xffffffff, gp_error
	movl $10f, gp_resume
	ljmp $SEL_TSS, $0
10:	cmpl $1, gp_count
	jne 11f
	cmpl $SEL_TSS, gp_error
	jne 11f
	movl $msg_pass_task, %eax
	call print
	jmp 12f
11:	incl failures
	movl $msg_fail_task, %eax
	call print
12:
	movl failures, %eax
	testl %eax, %eax
	jnz 13f
	movl $0x2a, %eax
	jmp finish
13:	incl %eax
	jmp finish

# #GP: count it, record the error code, resume at gp_resume.
gp_handler:
	incl gp_count
	popl gp_error
	pushl %eax
	movl gp_resume, %eax
	movl %eax, 4(%esp)              # the saved EIP (after our push: eax, eip, cs, eflags)
	popl %eax
	iret

unexpected:
	movl $msg_unexpected, %eax
	call print
	movl $0x7f, %eax

finish:
	movl %eax, %ebx
	movw $COM1_LSR, %dx
	movl $100000, %ecx
1:	inb %dx, %al
	testb $0x40, %al
	jnz 2f
	loop 1b
2:	movl %ebx, %eax
	movw $EXIT_PORT, %dx
	outl %eax, %dx
3:	cli
	hlt
	jmp 3b

# print the NUL-terminated string at %eax on COM1. Clobbers eax, ecx, edx.
print:
	pushl %ebx
	movl %eax, %ebx
1:	movb (%ebx), %al
	testb %al, %al
	jz 4f
	movb %al, %ah
	movw $COM1_LSR, %dx
	movl $100000, %ecx
2:	inb %dx, %al
	testb $0x20, %al
	jnz 3f
	loop 2b
3:	movb %ah, %al
	movw $COM1, %dx
	outb %al, %dx
	incl %ebx
	jmp 1b
4:	popl %ebx
	ret

	.data
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff        # 0x08 code
	.quad 0x00cf93000000ffff        # 0x10 data
	.quad 0x0000890000000067        # 0x18 TSS (base filled in)
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
idt_ptr:
	.word 32 * 8 - 1
	.long idt
failures:  .long 0
gp_count:  .long 0
gp_error:  .long 0
gp_resume: .long 0
saved_cr0: .long 0

	.section .rodata
msg_start:          .asciz "legacy32: start\n"
msg_pass_pdpte_bad: .asciz "legacy32: PASS: PAE paging with a reserved PDPTE bit: #GP, paging stays off\n"
msg_fail_pdpte_bad: .asciz "legacy32: FAIL: PAE paging with a reserved PDPTE bit: no #GP\n"
msg_pass_pdpte_ok:  .asciz "legacy32: PASS: PAE paging with valid PDPTEs turns on\n"
msg_fail_pdpte_ok:  .asciz "legacy32: FAIL: PAE paging with valid PDPTEs\n"
msg_pass_task:      .asciz "legacy32: PASS: JMP to a 32-bit TSS: #GP with the TSS selector, the VM runs on\n"
msg_fail_task:      .asciz "legacy32: FAIL: JMP to a 32-bit TSS\n"
msg_unexpected:     .asciz "legacy32: FAIL: unexpected exception\n"

	.bss
	.align 4096
pd:	.skip 4096
pdpt:	.skip 32
	.align 16
idt:	.skip 32 * 8
tss:	.skip 0x68
	.align 16
	.skip 4096
stack_top:

	.section .note.GNU-stack, "", @progbits
