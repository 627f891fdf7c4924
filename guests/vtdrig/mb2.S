/* SPDX-License-Identifier: MIT */
/*
 * A multiboot2 header beside the library's multiboot v1 one (Multiboot2 Specification,
 * "Header layout", "Header magic fields"; the kernel's ELF entry is used): GRUB's
 * multiboot2 loader then starts vtdrig and hands over the ACPI RSDP in a tag, which
 * is what vtdrig checks (tools/hvrun --bare prefers multiboot2). The machine state at
 * entry is the one the v1 path expects (32-bit protected mode, paging off; EAX holds
 * the multiboot2 magic, EBX the information structure).
 */
#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0

	.section .mbheader, "a"
	.align 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_end - mb2_header))
	/* end tag: type 0, flags 0, size 8 */
	.short 0
	.short 0
	.long 8
mb2_end:
