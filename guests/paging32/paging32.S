/* SPDX-License-Identifier: MIT */
/*
 * paging32: string I/O under 32-bit paging and PAE paging (Intel SDM Vol. 3A,
 * "32-Bit Paging", "PAE Paging"), the modes the 64-bit guest library cannot reach. A
 * plain 32-bit multiboot v1 kernel (no guest library; built like tests/foreign) that
 * runs in protected mode at CPL 0 as the loader leaves it and, for each mode:
 *   - rep insb x8 from 4 bytes before the end of a writable page into a read-only one
 *     with CR0.WP = 1: #PF error P|W (3), CR2 = the read-only page, ECX = 4,
 *     EDI = the read-only page, the 4 bytes before it written, nothing in it;
 *   - rep insb into a not-present page: #PF error W (2), ECX/EDI unchanged;
 *   - rep insb into a large page (4 MiB with CR4.PSE, 2 MiB in PAE) whose accessed
 *     and dirty flags were cleared: written, and the large page's PDE gets A and D
 *     (the kernel itself never touches that page before the PDE is read).
 * PAE paging takes its PDPTEs from the CPU's PDPTE registers, which the hypervisor
 * reads from the VMCS. Prints PASS:/FAIL: lines on COM1, exits through port 0xf4 with
 * 0 (status 1) when all passed, else 1 (status 3).
 *
 * Build: gcc -m32 -c paging32.S && ld -m elf_i386 -Ttext 0x100000 -N (guests/guests.mk)
 */
#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003
#define COM1 0x3f8
#define COM1_LSR 0x3fd
#define COM1_SCR 0x3ff
#define EXIT_PORT 0xf4

#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PSE (1 << 4)
#define CR4_PAE (1 << 5)
#define PTE_P 0x001
#define PTE_RW 0x002
#define PTE_A 0x020
#define PTE_D 0x040
#define PTE_PS 0x080

#define RW_PAGE 0x800000   /* writable; the read-only page follows */
#define RO_PAGE 0x801000
#define NP_PAGE 0x802000   /* not present */
#define BIG_PAGE 0x400000  /* a large page nothing else touches (4 MiB; 2 MiB in PAE) */
#define BIG_AT 0x500000

/* EXPECT_EQ a, b: cmpl a, b; on a mismatch the current check fails. */
.macro EXPECT_EQ a, b
	cmpl \a, \b
	je .Lok\@
	movl $1, bad
.Lok\@:
.endm
.macro EXPECT_EQB a, b
	cmpb \a, \b
	je .Lok\@
	movl $1, bad
.Lok\@:
.endm
/* REPORT "text": prints PASS: or FAIL: text and starts a new check. */
.macro REPORT text
	.section .rodata
.Lm\@:	.asciz "\text"
	.text
	pushl $.Lm\@
	call report
	addl $4, %esp
.endm

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
	call setup_idt
	movw $COM1_SCR, %dx
	movb $0x5a, %al
	outb %al, %dx

	/* ---- 32-bit paging: PDE 0 a 4-MByte page, PDE 2 (8 MiB) a page table ---- */
	movl $(PTE_P | PTE_RW | PTE_PS), pd32
	movl $(BIG_PAGE | PTE_P | PTE_RW | PTE_PS), pd32 + 4
	movl $pt32, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, pd32 + 2 * 4
	movl $(RW_PAGE | PTE_P | PTE_RW), pt32
	movl $(RO_PAGE | PTE_P), pt32 + 4
	movl $0, pt32 + 8
	movl %cr4, %eax
	orl $CR4_PSE, %eax
	movl %eax, %cr4
	movl $pd32, %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0
	movl $msg_mode32, %eax
	call print
	call run_checks
	movl got_pde32, %eax
	andl $(PTE_A | PTE_D), %eax
	EXPECT_EQ $(PTE_A|PTE_D), %eax
	REPORT "32-bit paging: the 4-MByte page's PDE has A and D after rep insb"

	/* ---- PAE paging: PDPTE 0 -> PD; PDE 0 a 2-MByte page, PDE 4 a page table ---- */
	movl %cr0, %eax
	andl $~CR0_PG, %eax
	movl %eax, %cr0
	call clear_pages   /* paging off: the read-only page is writable here */
	movl $pd_pae, %eax
	orl $PTE_P, %eax
	movl %eax, pdpt
	movl $(PTE_P | PTE_RW | PTE_PS), pd_pae
	movl $(BIG_PAGE | PTE_P | PTE_RW | PTE_PS), pd_pae + 2 * 8
	movl $pt_pae, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, pd_pae + 4 * 8
	movl $(RW_PAGE | PTE_P | PTE_RW), pt_pae
	movl $(RO_PAGE | PTE_P), pt_pae + 8
	movl $0, pt_pae + 16
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pdpt, %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0
	movl $msg_pae, %eax
	call print
	call run_checks
	movl got_pdepae, %eax
	andl $(PTE_A | PTE_D), %eax
	EXPECT_EQ $(PTE_A|PTE_D), %eax
	REPORT "PAE paging: the 2-MByte page's PDE has A and D after rep insb"

	/* exit: 0 when every check passed */
	movl $msg_summary, %eax
	call print
	xorl %eax, %eax
	cmpl $0, failures
	je 1f
	movl $1, %eax
1:	movl %eax, %ebx
	movw $COM1_LSR, %dx
	movl $100000, %ecx
2:	inb %dx, %al
	testb $0x40, %al
	jnz 3f
	loop 2b
3:	movl %ebx, %eax
	movw $EXIT_PORT, %dx
	outl %eax, %dx
4:	hlt
	jmp 4b

/* The checks common to both modes (the tables map RW_PAGE, RO_PAGE, NP_PAGE). */
run_checks:
	/* rep insb x8 from 4 bytes before the read-only page */
	movl $fault1, recover
	movl $-1, pf_err
	movl $(RO_PAGE - 4), %edi
	movl $8, %ecx
	movw $COM1_SCR, %dx
	rep insb
fault1:
	movl %ecx, got_ecx
	movl %edi, got_edi
	EXPECT_EQ $3, pf_err
	EXPECT_EQ $RO_PAGE, pf_cr2
	EXPECT_EQ $4, got_ecx
	EXPECT_EQ $RO_PAGE, got_edi
	EXPECT_EQ $0x5a5a5a5a, (RO_PAGE-4)
	EXPECT_EQ $0, RO_PAGE
	EXPECT_EQ $0, (RO_PAGE+4)
	REPORT "rep insb x8 into a read-only page (WP=1): #PF 3; CR2; ECX=4; EDI at the page; 4 bytes written"

	/* rep insb into a not-present page */
	movl $fault2, recover
	movl $-1, pf_err
	movl $(NP_PAGE + 0x10), %edi
	movl $4, %ecx
	movw $COM1_SCR, %dx
	rep insb
fault2:
	movl %ecx, got_ecx
	movl %edi, got_edi
	EXPECT_EQ $2, pf_err
	EXPECT_EQ $(NP_PAGE+0x10), pf_cr2
	EXPECT_EQ $4, got_ecx
	EXPECT_EQ $(NP_PAGE+0x10), got_edi
	REPORT "rep insb into a not-present page: #PF 2; CR2; ECX and EDI unchanged"

	/* rep insb into the large page at 0 with its D cleared (the caller checks D) */
	movl $fault3, recover
	movl $-1, pf_err
	andl $~(PTE_A | PTE_D), pd32 + 4
	andl $~(PTE_A | PTE_D), pd_pae + 2 * 8
	movl %cr3, %eax
	movl %eax, %cr3
	movl $BIG_AT, %edi
	movl $4, %ecx
	movw $COM1_SCR, %dx
	rep insb
fault3:
	movl %ecx, got_ecx
	movl pd32 + 4, %eax   /* before anything reads the page */
	movl %eax, got_pde32
	movl pd_pae + 2 * 8, %eax
	movl %eax, got_pdepae
	EXPECT_EQ $-1, pf_err
	EXPECT_EQ $0, got_ecx
	EXPECT_EQ $0x5a5a5a5a, BIG_AT
	REPORT "rep insb x4 into a large page"
	ret

clear_pages:
	movl $RW_PAGE, %edi
	movl $(2 * 4096 / 4), %ecx
	xorl %eax, %eax
	rep stosl
	movl $0, BIG_AT
	ret

/* #PF: record the error code, CR2; resume at `recover` (once) with the registers as
 * they were. A #PF nobody expects is an unexpected exception. */
pf_handler:
	cmpl $0, recover
	je other_handler
	popl pf_err
	pushl %eax
	movl %cr2, %eax
	movl %eax, pf_cr2
	movl recover, %eax
	movl %eax, 4(%esp)
	movl $0, recover
	popl %eax
	iret

/* Anything else: fail and stop. */
other_handler:
	movl $msg_unexpected, %eax
	call print
	movl $1, %eax
	movw $EXIT_PORT, %dx
	outl %eax, %dx
1:	hlt
	jmp 1b

/* 256 32-bit interrupt gates (SDM Vol. 3A, "IDT Descriptors") on the loader's CS. */
setup_idt:
	movw %cs, %bx
	shll $16, %ebx
	xorl %ecx, %ecx
1:	movl $other_handler, %eax
	cmpl $14, %ecx
	jne 2f
	movl $pf_handler, %eax
2:	movl %eax, %edx
	andl $0xffff, %eax
	orl %ebx, %eax
	movl %eax, idt(, %ecx, 8)
	andl $0xffff0000, %edx
	orl $0x8e00, %edx
	movl %edx, idt + 4(, %ecx, 8)
	incl %ecx
	cmpl $256, %ecx
	jb 1b
	lidt idt_desc
	ret

/* report(msg): PASS:/FAIL: by `bad`, then msg; clears `bad`. */
report:
	movl $msg_pass, %eax
	cmpl $0, bad
	je 1f
	movl $msg_fail, %eax
	incl failures
1:	call print
	movl 4(%esp), %eax
	call print
	movl $msg_nl, %eax
	call print
	movl $0, bad
	ret

/* print(EAX = string) to COM1, polled. */
print:
	pushl %esi
	pushl %edx
	movl %eax, %esi
1:	movb (%esi), %ah
	testb %ah, %ah
	jz 3f
	movw $COM1_LSR, %dx
2:	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movb %ah, %al
	movw $COM1, %dx
	outb %al, %dx
	incl %esi
	jmp 1b
3:	popl %edx
	popl %esi
	ret

	.section .rodata
msg_mode32:	.asciz "paging32: 32-bit paging\n"
msg_pae:	.asciz "paging32: PAE paging\n"
msg_pass:	.asciz "PASS: "
msg_fail:	.asciz "FAIL: "
msg_nl:		.asciz "\n"
msg_summary:	.asciz "paging32: done\n"
msg_unexpected:	.asciz "FAIL: unexpected exception\n"

	.data
	.align 8
idt_desc:
	.word 256 * 8 - 1
	.long idt
recover:	.long 0
pf_err:		.long 0
pf_cr2:		.long 0
got_ecx:	.long 0
got_edi:	.long 0
got_pde32:	.long 0
got_pdepae:	.long 0
bad:		.long 0
failures:	.long 0

	.bss
	.align 4096
pd32:	.fill 1024, 4, 0
pt32:	.fill 1024, 4, 0
pd_pae:	.fill 512, 8, 0
pt_pae:	.fill 512, 8, 0
pdpt:	.fill 4, 8, 0
	.align 8
idt:	.fill 256, 8, 0
	.align 16
	.fill 8192, 1, 0
stack_top:

	.section .note.GNU-stack, "", @progbits
