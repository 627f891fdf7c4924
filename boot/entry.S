/* SPDX-License-Identifier: MIT */
/*
 * Boot entry: multiboot v1 and multiboot2 headers, 32-bit protected mode to long mode.
 *
 * Multiboot Specification 0.6.96 "Machine state" / Multiboot2 "I386 machine state":
 * EAX holds the magic (0x2BADB002 or 0x36d76289), EBX the physical address of the
 * boot information, paging is off, interrupts are off, the stack is undefined.
 * GRUB may leave CR0.CD/NW set: they are cleared here.
 */
#include "boot/boot.h"

#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00010003   /* page-align modules, memory info, address fields */
#define MB2_MAGIC 0xE85250D6

	.section .multiboot, "a"
	.align 4
	.global mb1_header
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header          /* header_addr */
	.long _image_start        /* load_addr */
	.long _edata              /* load_end_addr */
	.long _end                /* bss_end_addr */
	.long entry32             /* entry_addr */

	.align 8
mb2_header:
	.long MB2_MAGIC
	.long 0                   /* architecture: i386 protected mode */
	.long mb2_end - mb2_header
	.long -(MB2_MAGIC + (mb2_end - mb2_header))
	/* entry address tag */
	.align 8
	.word 3, 0
	.long 12
	.long entry32
	/* No EFI boot services tag (type 7) and no EFI amd64 entry address tag (type 9):
	 * GRUB on UEFI then calls ExitBootServices() and enters entry32 like a BIOS boot,
	 * in the Multiboot2 "I386 machine state" (32-bit protected mode, paging off, flat
	 * segments, EAX = magic, EBX = the information). The firmware's page tables, GDT
	 * and IDT are not used: entry32 builds its own and assumes nothing below 1 MiB. */
	/* module alignment tag: page-aligned modules */
	.align 8
	.word 6, 0
	.long 8
	/* end tag */
	.align 8
	.word 0, 0
	.long 8
mb2_end:

	.section .text.boot, "ax"
	.code32
	.global entry32
entry32:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_info_pa
	movl $(boot_stack + BOOT_STACK_SIZE), %esp

	movl %cr0, %ecx
	andl $~0x60000000, %ecx          /* clear CD and NW */
	movl %ecx, %cr0

	/* Long mode available? CPUID.80000001H:EDX bit 29 */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	movl %edx, %esi                  /* bit 20: NX */

	/* Identity map 0-4 GiB with 2 MiB pages; 3-4 GiB (MMIO: LAPIC, IOAPIC) uncached. */
	movl $boot_pdpt, %eax
	orl $3, %eax
	movl %eax, boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $3, %eax
	movl %eax, boot_pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax                  /* present, writable, 2 MiB page */
	cmpl $1536, %ecx
	jb 3f
	orl $0x18, %eax                  /* PWT | PCD above 3 GiB */
3:	movl %eax, boot_pd(,%ecx,8)
	movl $0, boot_pd+4(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $0x20, %eax                  /* PAE */
	movl %eax, %cr4
	movl $0xC0000080, %ecx
	rdmsr
	orl $0x100, %eax                 /* LME */
	btl $20, %esi
	jnc 4f
	orl $0x800, %eax                 /* NXE */
4:	wrmsr
	movl %eax, boot_efer
	movl %cr0, %eax
	orl $0x80010021, %eax            /* PG, WP, NE, PE */
	movl %eax, %cr0
	lgdt boot_gdtr
	ljmp $GDT_CODE64, $entry64

no_long_mode:
	movl $no_lm_msg, %esi
5:	lodsb
	testb %al, %al
	jz 6f
	outb %al, $0xe9
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 5b
6:	hlt
	jmp 6b

	.code64
entry64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl boot_magic(%rip), %edi
	movl boot_info_pa(%rip), %esi
	call boot_main
7:	hlt
	jmp 7b

	.section .rodata
no_lm_msg:
	.asciz "hv: this CPU has no long mode (CPUID.80000001H:EDX.LM = 0)\n"

	.section .data
	.align 16
	.global boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff         /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff         /* 0x10: data */
	.quad 0x00cf9a000000ffff         /* 0x18: 32-bit code */
boot_gdt_end:
	.global boot_gdtr
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt
	.global boot_magic, boot_info_pa, boot_efer
boot_magic:	.long 0
boot_info_pa:	.long 0
boot_efer:	.long 0

	.section .bss
	.align 4096
	.global boot_pml4
boot_pml4:	.space 4096
	.global boot_pdpt
boot_pdpt:	.space 4096
boot_pd:	.space 4 * 4096
	.align 16
boot_stack:	.space BOOT_STACK_SIZE
