# SPDX-License-Identifier: MIT
#
# A "foreign" multiboot v1 kernel: written the way a third party would, in plain
# 32-bit GNU assembly, without the project's guest library or headers. It checks the
# boot magic in EAX, prints "foreign: hello" and the command line from the multiboot
# information on COM1, and exits through the debug-exit port 0xf4:
#   0x2a (status 85) if EAX was 0x2BADB002, 0x01 (status 3) otherwise.
#
# Build: as --32 foreign.s -o foreign.o && ld -m elf_i386 -Ttext 0x100000 foreign.o
# Run:   qemu-system-x86_64 -kernel foreign.elf -append "..." -serial stdio
#        -device isa-debug-exit,iobase=0xf4,iosize=0x04

	.set MB_HEADER_MAGIC, 0x1BADB002
	.set MB_HEADER_FLAGS, 0x00000003        # page-align modules, memory info
	.set MB_BOOT_MAGIC,   0x2BADB002
	.set MBI_FLAG_CMDLINE, 0x4              # multiboot info flags bit 2
	.set MBI_CMDLINE,     16                # offset of cmdline in the info
	.set COM1,            0x3f8
	.set COM1_LSR,        0x3fd
	.set LSR_THRE,        0x20              # transmit holding register empty
	.set LSR_TEMT,        0x40              # transmitter empty
	.set EXIT_PORT,       0xf4
	.set EXIT_OK,         0x2a
	.set EXIT_BAD_MAGIC,  0x01

	.text
	.globl _start

	# The header must be in the first 8 KiB of the file, 4-byte aligned.
	.align 4
multiboot_header:
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

_start:
	cli
	cld
	movl $stack_top, %esp
	movl %eax, %esi                 # boot magic
	movl %ebx, %edi                 # multiboot information

	movl $msg_hello, %eax
	call print

	cmpl $MB_BOOT_MAGIC, %esi
	jne bad_magic

	testl $MBI_FLAG_CMDLINE, (%edi)
	jz no_cmdline
	movl $msg_cmdline, %eax
	call print
	movl MBI_CMDLINE(%edi), %eax
	call print
	movl $msg_newline, %eax
	call print
	movl $EXIT_OK, %eax
	jmp finish

no_cmdline:
	movl $msg_no_cmdline, %eax
	call print
	movl $EXIT_OK, %eax
	jmp finish

bad_magic:
	movl $msg_bad_magic, %eax
	call print
	movl $EXIT_BAD_MAGIC, %eax

finish:
	movl %eax, %ebx
	movw $COM1_LSR, %dx             # let the last byte leave the UART
	movl $100000, %ecx
1:	inb %dx, %al
	testb $LSR_TEMT, %al
	jnz 2f
	loop 1b
2:	movl %ebx, %eax
	movw $EXIT_PORT, %dx
	outl %eax, %dx
halt:
	cli
	hlt
	jmp halt

# print: write the NUL-terminated string at %eax to COM1. Clobbers eax, ecx, edx.
print:
	pushl %ebx
	movl %eax, %ebx
3:	movb (%ebx), %al
	testb %al, %al
	jz 6f
	movb %al, %ah
	movw $COM1_LSR, %dx
	movl $100000, %ecx
4:	inb %dx, %al
	testb $LSR_THRE, %al
	jnz 5f
	loop 4b
5:	movb %ah, %al
	movw $COM1, %dx
	outb %al, %dx
	incl %ebx
	jmp 3b
6:	popl %ebx
	ret

	.section .rodata
msg_hello:
	.asciz "foreign: hello\n"
msg_cmdline:
	.asciz "foreign: cmdline: "
msg_newline:
	.asciz "\n"
msg_no_cmdline:
	.asciz "foreign: no command line\n"
msg_bad_magic:
	.asciz "foreign: bad multiboot magic\n"

	.bss
	.align 16
stack:
	.skip 4096
stack_top:

	.section .note.GNU-stack, "", @progbits
