/* SPDX-License-Identifier: MIT */
/*
 * Guest entry: a multiboot v1 kernel entered as QEMU's -kernel (or GRUB's multiboot
 * loader) enters it: "EAX must contain the magic value 0x2BADB002 ... EBX must contain
 * the 32-bit physical address of the Multiboot information structure ... CS must be a
 * 32-bit read/execute code segment with an offset of 0 and a limit of 0xFFFFFFFF ...
 * CR0 bit 31 (PG) must be cleared. Bit 0 (PE) must be set." (Multiboot Specification
 * 0.6.96, section 3.2 "Machine state").
 *
 * Like kvm-unit-tests' x86/cstart64.S, the 32-bit stub sets up its own GDT,
 * identity-maps the first 4 GiB with 2 MiB pages (0xC0000000-0xFFFFFFFF uncached),
 * enables PAE and long mode and calls the 64-bit C code (guest_start in lib.c).
 */

#define MB_MAGIC        0x1BADB002
#define MB_F_PAGE_ALIGN (1 << 0)
#define MB_F_MEMINFO    (1 << 1)
#define MB_FLAGS        (MB_F_PAGE_ALIGN | MB_F_MEMINFO)

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

#define PTE_P   0x001   /* present */
#define PTE_RW  0x002   /* writable */
#define PTE_PWT 0x008   /* page-level write-through */
#define PTE_PCD 0x010   /* page-level cache disable */
#define PTE_PS  0x080   /* 2 MiB page (in a page directory entry) */
#define UC_FIRST_2M (0xC0000000 >> 21)  /* first uncached 2 MiB page: 1536 */

#define STACK_SIZE 16384

	/* The multiboot v1 header: "must be contained completely within the first 8192
	 * bytes of the OS image, and must be longword (32-bit) aligned". */
	.section .mbheader, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	/* .data survives the BSS clear below; the loader's EAX/EBX go there. */
	movl %eax, mb_magic
	movl %ebx, mb_info_phys

	/* Clear .bss ourselves: a loader need not do it. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	lgdt gdt_desc
	ljmp $SEL_CODE32, $1f
1:	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	movl $pdpt, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, pml4
	movl $pd, %eax
	orl $(PTE_P | PTE_RW), %eax
	xorl %ecx, %ecx
2:	movl %eax, pdpt(,%ecx,8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 2b

	/* 2048 PDEs of 2 MiB: identity map of 0-4 GiB, the top GiB uncached. */
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_RW | PTE_PS), %eax
	cmpl $UC_FIRST_2M, %ecx
	jb 4f
	orl $(PTE_PCD | PTE_PWT), %eax
4:	movl %eax, pd(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 3b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $(CR0_PG | CR0_PE | CR0_NE), %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $stack_top, %rsp
	xorl %ebp, %ebp
	call guest_start        /* does not return */
5:	cli
	hlt
	jmp 5b

/*
 * Interrupt and exception stubs: one per vector, all the same size, each pushes a
 * dummy error code where the CPU pushes none, then the vector, and goes to the
 * common path, which saves the general registers into a struct ex_regs (lib.h).
 */
	.altmacro
	.macro STUB v
	.align 16
	.if (\v == 8) || (\v == 10) || (\v == 11) || (\v == 12) || (\v == 13) || (\v == 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	.else
	pushq $0
	.endif
	pushq $\v
	jmp isr_common
	.endm

	.text
	.align 16
	.globl isr_stubs
isr_stubs:
	.set i, 0
	.rept 256
	STUB %i
	.set i, i + 1
	.endr
	.noaltmacro

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
	movq %rsp, %rbx
	andq $~15, %rsp         /* the ABI's call alignment */
	call exception_dispatch /* may change regs->rip to a recovery address */
	movq %rbx, %rsp
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
	addq $16, %rsp          /* vector and error code */
	iretq

	.data
	.align 8
	.globl mb_magic, mb_info_phys
mb_magic:
	.long 0
mb_info_phys:
	.long 0

	/* null, 64-bit code, flat data, 32-bit code */
	.align 16
gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0x00cf9a000000ffff
gdt_end:
	/* lgdt reads 6 bytes in 32-bit mode, 10 in 64-bit mode: the high base is 0. */
	.align 8
	.globl gdt_desc         /* smp.c: application processors load it too */
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.bss
	.align 4096
pml4:
	.fill 4096, 1, 0
pdpt:
	.fill 4096, 1, 0
pd:
	.fill 4 * 4096, 1, 0
	.align 16
stack:
	.fill STACK_SIZE, 1, 0
	.globl stack_top
stack_top:

	.section .note.GNU-stack, "", @progbits
