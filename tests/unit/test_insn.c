/* SPDX-License-Identifier: MIT */
/*
 * arch/x86/insn.c: the MMIO instruction decoder. The byte strings come from GNU as / gcc -O2
 * output (the comments give the assembly), the expectations from the SDM's MOV/MOVZX
 * pages and the ModR/M tables.
 */
#include "tests/unit/support.h"
#include "arch/x86/insn.h"

#define M16 INSN_MODE_16
#define M32 INSN_MODE_32
#define M64 INSN_MODE_64
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define RDI 7
#define R8 8
#define R9 9
#define R10 10
#define R11 11
#define R12 12
#define R13 13
#define R15 15

struct enc {
	const char *text;
	enum insn_mode mode;
	u8 bytes[16];
	u8 nbytes;
	/* expected */
	u8 len, size, dst_size;
	bool write, has_imm, zx, high;
	u8 reg;
	u64 imm;
	s8 base, index;
	u8 scale;
	s64 disp;
	bool rip;
	u8 seg;
};

#define B(...) { __VA_ARGS__ }, sizeof((u8[]){ __VA_ARGS__ })

static const struct enc encs[] = {
	/* --- what gcc -O2 emits for volatile accesses (64-bit) --- */
	{ "mov %eax,(%rdx)  [*(volatile u32 *)p = x]", M64, B(0x89, 0x02),
	  .len = 2, .size = 4, .dst_size = 4, .write = true, .reg = RAX, .base = RDX, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "movl $0x12,(%rax)  [*(volatile u32 *)0xfec00000 = 0x12]", M64,
	  B(0xc7, 0x00, 0x12, 0x00, 0x00, 0x00),
	  .len = 6, .size = 4, .write = true, .has_imm = true, .imm = 0x12, .base = RAX, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "movabs 0xfec00010,%eax  [return *(volatile u32 *)0xfec00010]", M64,
	  B(0xa1, 0x10, 0x00, 0xc0, 0xfe, 0x00, 0x00, 0x00, 0x00),
	  .len = 9, .size = 4, .dst_size = 4, .reg = RAX, .base = -1, .index = -1, .scale = 1,
	  .disp = 0xfec00010, .seg = SEG_DS },
	{ "mov 0x10(%rdi),%eax  [return p[4]]", M64, B(0x8b, 0x47, 0x10),
	  .len = 3, .size = 4, .dst_size = 4, .reg = RAX, .base = RDI, .index = -1, .scale = 1,
	  .disp = 0x10, .seg = SEG_DS },
	{ "movzbl (%rdi),%eax  [u8 read]", M64, B(0x0f, 0xb6, 0x07),
	  .len = 3, .size = 1, .dst_size = 4, .zx = true, .reg = RAX, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "movzwl (%rdi),%eax  [u16 read]", M64, B(0x0f, 0xb7, 0x07),
	  .len = 3, .size = 2, .dst_size = 4, .zx = true, .reg = RAX, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "mov %sil,(%rdi)  [u8 write]", M64, B(0x40, 0x88, 0x37),
	  .len = 3, .size = 1, .dst_size = 1, .write = true, .reg = RSI, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "mov %ax,(%rdi)  [u16 write]", M64, B(0x66, 0x89, 0x07),
	  .len = 3, .size = 2, .dst_size = 2, .write = true, .reg = RAX, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "mov (%rdi),%rax  [u64 read]", M64, B(0x48, 0x8b, 0x07),
	  .len = 3, .size = 8, .dst_size = 8, .reg = RAX, .base = RDI, .index = -1, .scale = 1,
	  .seg = SEG_DS },

	/* --- more 64-bit forms --- */
	{ "mov (%rdx),%eax", M64, B(0x8b, 0x02),
	  .len = 2, .size = 4, .dst_size = 4, .reg = RAX, .base = RDX, .index = -1, .scale = 1,
	  .seg = SEG_DS },
	{ "mov 0x10(%rdi),%r9d  (REX.R)", M64, B(0x44, 0x8b, 0x4f, 0x10),
	  .len = 4, .size = 4, .dst_size = 4, .reg = R9, .base = RDI, .index = -1, .scale = 1,
	  .disp = 0x10, .seg = SEG_DS },
	{ "movzwl 0x10(%rdi),%esi", M64, B(0x0f, 0xb7, 0x77, 0x10),
	  .len = 4, .size = 2, .dst_size = 4, .zx = true, .reg = RSI, .base = RDI, .index = -1,
	  .scale = 1, .disp = 0x10, .seg = SEG_DS },
	{ "movb $0xab,(%rdi)", M64, B(0xc6, 0x07, 0xab),
	  .len = 3, .size = 1, .write = true, .has_imm = true, .imm = 0xab, .base = RDI,
	  .index = -1, .scale = 1, .seg = SEG_DS },
	{ "mov %ah,(%rdi)  (high byte, no REX)", M64, B(0x88, 0x27),
	  .len = 2, .size = 1, .dst_size = 1, .write = true, .high = true, .reg = RAX, .base = RDI,
	  .index = -1, .scale = 1, .seg = SEG_DS },
	{ "mov (%rdi),%bh  (high byte, no REX)", M64, B(0x8a, 0x3f),
	  .len = 2, .size = 1, .dst_size = 1, .high = true, .reg = RBX, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "mov %r10b,0x4(%rdi)", M64, B(0x44, 0x88, 0x57, 0x04),
	  .len = 4, .size = 1, .dst_size = 1, .write = true, .reg = R10, .base = RDI, .index = -1,
	  .scale = 1, .disp = 4, .seg = SEG_DS },
	{ "movw $0xbeef,(%rdi)", M64, B(0x66, 0xc7, 0x07, 0xef, 0xbe),
	  .len = 5, .size = 2, .write = true, .has_imm = true, .imm = 0xbeef, .base = RDI,
	  .index = -1, .scale = 1, .seg = SEG_DS },
	{ "mov %cx,0x2(%rdi)", M64, B(0x66, 0x89, 0x4f, 0x02),
	  .len = 4, .size = 2, .dst_size = 2, .write = true, .reg = RCX, .base = RDI, .index = -1,
	  .scale = 1, .disp = 2, .seg = SEG_DS },
	{ "mov %rax,(%rdi)", M64, B(0x48, 0x89, 0x07),
	  .len = 3, .size = 8, .dst_size = 8, .write = true, .reg = RAX, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "movq $-1,0x8(%rdi)  (imm32 sign-extended)", M64,
	  B(0x48, 0xc7, 0x47, 0x08, 0xff, 0xff, 0xff, 0xff),
	  .len = 8, .size = 8, .write = true, .has_imm = true, .imm = ~0ull, .base = RDI,
	  .index = -1, .scale = 1, .disp = 8, .seg = SEG_DS },
	{ "movq $0x80000000 as imm32 -> 0xffffffff80000000", M64,
	  B(0x48, 0xc7, 0x07, 0x00, 0x00, 0x00, 0x80),
	  .len = 7, .size = 8, .write = true, .has_imm = true, .imm = 0xffffffff80000000ull,
	  .base = RDI, .index = -1, .scale = 1, .seg = SEG_DS },
	{ "mov 0x12345678(%rip),%eax", M64, B(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12),
	  .len = 6, .size = 4, .dst_size = 4, .reg = RAX, .base = -1, .index = -1, .scale = 1,
	  .disp = 0x12345678, .rip = true, .seg = SEG_DS },
	{ "mov -0x10(%rip),%r8  (negative RIP-relative)", M64,
	  B(0x4c, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff),
	  .len = 7, .size = 8, .dst_size = 8, .reg = R8, .base = -1, .index = -1, .scale = 1,
	  .disp = -0x10, .rip = true, .seg = SEG_DS },
	{ "movl $7,0x100(%rip)  (RIP-relative + imm)", M64,
	  B(0xc7, 0x05, 0x00, 0x01, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00),
	  .len = 10, .size = 4, .write = true, .has_imm = true, .imm = 7, .base = -1, .index = -1,
	  .scale = 1, .disp = 0x100, .rip = true, .seg = SEG_DS },
	{ "mov 0x10(%rsp),%eax  (SIB, SS default)", M64, B(0x8b, 0x44, 0x24, 0x10),
	  .len = 4, .size = 4, .dst_size = 4, .reg = RAX, .base = RSP, .index = -1, .scale = 1,
	  .disp = 0x10, .seg = SEG_SS },
	{ "mov (%r12),%eax  (REX.B, SIB)", M64, B(0x41, 0x8b, 0x04, 0x24),
	  .len = 4, .size = 4, .dst_size = 4, .reg = RAX, .base = R12, .index = -1, .scale = 1,
	  .seg = SEG_DS },
	{ "mov 0x0(%r13),%eax  (REX.B, mod 01 disp8)", M64, B(0x41, 0x8b, 0x45, 0x00),
	  .len = 4, .size = 4, .dst_size = 4, .reg = RAX, .base = R13, .index = -1, .scale = 1,
	  .seg = SEG_DS },
	{ "mov (%rax,%rbx,4),%ecx", M64, B(0x8b, 0x0c, 0x98),
	  .len = 3, .size = 4, .dst_size = 4, .reg = RCX, .base = RAX, .index = RBX, .scale = 4,
	  .seg = SEG_DS },
	{ "mov 0x20(%r8,%r9,8),%r11  (REX.WRXB)", M64, B(0x4f, 0x8b, 0x5c, 0xc8, 0x20),
	  .len = 5, .size = 8, .dst_size = 8, .reg = R11, .base = R8, .index = R9, .scale = 8,
	  .disp = 0x20, .seg = SEG_DS },
	{ "mov 0x0(,%rcx,4),%edx  (SIB, no base)", M64, B(0x8b, 0x14, 0x8d, 0, 0, 0, 0),
	  .len = 7, .size = 4, .dst_size = 4, .reg = RDX, .base = -1, .index = RCX, .scale = 4,
	  .seg = SEG_DS },
	{ "mov 0xfffffffffec00010,%eax  (SIB, absolute disp32 sign-extended)", M64,
	  B(0x8b, 0x04, 0x25, 0x10, 0x00, 0xc0, 0xfe),
	  .len = 7, .size = 4, .dst_size = 4, .reg = RAX, .base = -1, .index = -1, .scale = 1,
	  .disp = (s32)0xfec00010, .seg = SEG_DS },
	{ "movabs %eax,0xfec00010", M64, B(0xa3, 0x10, 0x00, 0xc0, 0xfe, 0, 0, 0, 0),
	  .len = 9, .size = 4, .dst_size = 4, .write = true, .reg = RAX, .base = -1, .index = -1,
	  .scale = 1, .disp = 0xfec00010, .seg = SEG_DS },
	{ "movabs 0xfec00010,%al", M64, B(0xa0, 0x10, 0x00, 0xc0, 0xfe, 0, 0, 0, 0),
	  .len = 9, .size = 1, .dst_size = 1, .reg = RAX, .base = -1, .index = -1, .scale = 1,
	  .disp = 0xfec00010, .seg = SEG_DS },
	{ "movabs %rax,0xfec00000  (REX.W A3)", M64,
	  B(0x48, 0xa3, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0),
	  .len = 10, .size = 8, .dst_size = 8, .write = true, .reg = RAX, .base = -1, .index = -1,
	  .scale = 1, .disp = 0xfec00000, .seg = SEG_DS },
	{ "addr32 mov 0xfec00010,%eax  (67 A1: moffs32)", M64,
	  B(0x67, 0xa1, 0x10, 0x00, 0xc0, 0xfe),
	  .len = 6, .size = 4, .dst_size = 4, .reg = RAX, .base = -1, .index = -1, .scale = 1,
	  .disp = 0xfec00010, .seg = SEG_DS },
	{ "mov %fs:0x10(%rdi),%eax", M64, B(0x64, 0x8b, 0x47, 0x10),
	  .len = 4, .size = 4, .dst_size = 4, .reg = RAX, .base = RDI, .index = -1, .scale = 1,
	  .disp = 0x10, .seg = SEG_FS },
	{ "mov %gs:0x10(%rbp),%eax  (override beats SS default)", M64, B(0x65, 0x8b, 0x45, 0x10),
	  .len = 4, .size = 4, .dst_size = 4, .reg = RAX, .base = RBP, .index = -1, .scale = 1,
	  .disp = 0x10, .seg = SEG_GS },
	{ "movzbq (%rdi),%rax", M64, B(0x48, 0x0f, 0xb6, 0x07),
	  .len = 4, .size = 1, .dst_size = 8, .zx = true, .reg = RAX, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "movzwq (%rdi),%r15", M64, B(0x4c, 0x0f, 0xb7, 0x3f),
	  .len = 4, .size = 2, .dst_size = 8, .zx = true, .reg = R15, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "movzbw (%rdi),%ax", M64, B(0x66, 0x0f, 0xb6, 0x07),
	  .len = 4, .size = 1, .dst_size = 2, .zx = true, .reg = RAX, .base = RDI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "mov %eax,(%esi)  (67: 32-bit address)", M64, B(0x67, 0x89, 0x06),
	  .len = 3, .size = 4, .dst_size = 4, .write = true, .reg = RAX, .base = RSI, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "mov 0x100(%rdi),%dl  (disp32)", M64, B(0x8a, 0x97, 0x00, 0x01, 0x00, 0x00),
	  .len = 6, .size = 1, .dst_size = 1, .reg = RDX, .base = RDI, .index = -1, .scale = 1,
	  .disp = 0x100, .seg = SEG_DS },
	{ "mov -0x80(%rdi),%eax  (negative disp8)", M64, B(0x8b, 0x47, 0x80),
	  .len = 3, .size = 4, .dst_size = 4, .reg = RAX, .base = RDI, .index = -1, .scale = 1,
	  .disp = -0x80, .seg = SEG_DS },
	{ "rex.W + 66: REX.W wins, 8 bytes", M64, B(0x66, 0x48, 0x8b, 0x07),
	  .len = 4, .size = 8, .dst_size = 8, .reg = RAX, .base = RDI, .index = -1, .scale = 1,
	  .seg = SEG_DS },
	{ "REX then 66: the REX is ignored", M64, B(0x48, 0x66, 0x8b, 0x07),
	  .len = 4, .size = 2, .dst_size = 2, .reg = RAX, .base = RDI, .index = -1, .scale = 1,
	  .seg = SEG_DS },
	{ "bare REX 40 with reg 4: SPL, not AH", M64, B(0x40, 0x8a, 0x27),
	  .len = 3, .size = 1, .dst_size = 1, .reg = RSP, .base = RDI, .index = -1, .scale = 1,
	  .seg = SEG_DS },

	/* --- 32-bit protected mode --- */
	{ "mov %eax,(%edx)", M32, B(0x89, 0x02),
	  .len = 2, .size = 4, .dst_size = 4, .write = true, .reg = RAX, .base = RDX, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "movl $5,0x10(%ebx)", M32, B(0xc7, 0x43, 0x10, 0x05, 0x00, 0x00, 0x00),
	  .len = 7, .size = 4, .write = true, .has_imm = true, .imm = 5, .base = RBX, .index = -1,
	  .scale = 1, .disp = 0x10, .seg = SEG_DS },
	{ "mov 0xfec00010,%eax  (A1 moffs32)", M32, B(0xa1, 0x10, 0x00, 0xc0, 0xfe),
	  .len = 5, .size = 4, .dst_size = 4, .reg = RAX, .base = -1, .index = -1, .scale = 1,
	  .disp = 0xfec00010, .seg = SEG_DS },
	{ "mov 0xfec00010,%ecx  (mod 00 rm 101: disp32, not RIP-relative)", M32,
	  B(0x8b, 0x0d, 0x10, 0x00, 0xc0, 0xfe),
	  .len = 6, .size = 4, .dst_size = 4, .reg = RCX, .base = -1, .index = -1, .scale = 1,
	  .disp = (s32)0xfec00010, .seg = SEG_DS },
	{ "movw $1,(%ebx)", M32, B(0x66, 0xc7, 0x03, 0x01, 0x00),
	  .len = 5, .size = 2, .write = true, .has_imm = true, .imm = 1, .base = RBX, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "mov (%bp,%si),%ax  (67 66: 16-bit address)", M32, B(0x67, 0x66, 0x8b, 0x02),
	  .len = 4, .size = 2, .dst_size = 2, .reg = RAX, .base = RBP, .index = RSI, .scale = 1,
	  .seg = SEG_SS },
	{ "0x48 is DEC outside 64-bit mode: refused", M32, B(0x48, 0x8b, 0x07), .len = 0 },
	{ "%es:mov (%edi),%al", M32, B(0x26, 0x8a, 0x07),
	  .len = 3, .size = 1, .dst_size = 1, .reg = RAX, .base = RDI, .index = -1, .scale = 1,
	  .seg = SEG_ES },

	/* --- 16-bit (real mode or a 16-bit code segment) --- */
	{ "mov %ax,(%bx)", M16, B(0x89, 0x07),
	  .len = 2, .size = 2, .dst_size = 2, .write = true, .reg = RAX, .base = RBX, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "mov 0x0(%bp),%al", M16, B(0x8a, 0x46, 0x00),
	  .len = 3, .size = 1, .dst_size = 1, .reg = RAX, .base = RBP, .index = -1, .scale = 1,
	  .seg = SEG_SS },
	{ "mov 0x1234,%ax  (A1 moffs16)", M16, B(0xa1, 0x34, 0x12),
	  .len = 3, .size = 2, .dst_size = 2, .reg = RAX, .base = -1, .index = -1, .scale = 1,
	  .disp = 0x1234, .seg = SEG_DS },
	{ "mov 0x1234,%dx  (mod 00 rm 110: disp16)", M16, B(0x8b, 0x16, 0x34, 0x12),
	  .len = 4, .size = 2, .dst_size = 2, .reg = RDX, .base = -1, .index = -1, .scale = 1,
	  .disp = 0x1234, .seg = SEG_DS },
	{ "mov %eax,(%ebx)  (67 66)", M16, B(0x67, 0x66, 0x89, 0x03),
	  .len = 4, .size = 4, .dst_size = 4, .write = true, .reg = RAX, .base = RBX, .index = -1,
	  .scale = 1, .seg = SEG_DS },
	{ "movl $0x11223344,0x4(%si)", M16, B(0x66, 0xc7, 0x44, 0x04, 0x44, 0x33, 0x22, 0x11),
	  .len = 8, .size = 4, .write = true, .has_imm = true, .imm = 0x11223344, .base = RSI,
	  .index = -1, .scale = 1, .disp = 4, .seg = SEG_DS },
	{ "movzbl (%bx,%di),%ecx", M16, B(0x66, 0x0f, 0xb6, 0x09),
	  .len = 4, .size = 1, .dst_size = 4, .zx = true, .reg = RCX, .base = RBX, .index = RDI,
	  .scale = 1, .seg = SEG_DS },
	{ "mov -0x2(%bp,%di),%ax  (disp8 negative)", M16, B(0x8b, 0x43, 0xfe),
	  .len = 3, .size = 2, .dst_size = 2, .reg = RAX, .base = RBP, .index = RDI, .scale = 1,
	  .disp = -2, .seg = SEG_SS },
	{ "mov %ch,0x1000(%bx)  (disp16, high byte)", M16, B(0x88, 0xaf, 0x00, 0x10),
	  .len = 4, .size = 1, .dst_size = 1, .write = true, .high = true, .reg = RCX, .base = RBX,
	  .index = -1, .scale = 1, .disp = 0x1000, .seg = SEG_DS },
};

static void decodes_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(encs); k++) {
		const struct enc *e = &encs[k];
		struct insn in;
		bool ok = insn_decode(e->bytes, e->nbytes, e->mode, &in);
		if (!e->len) {
			if (ok)
				fail_msg("%s: decoded, should be refused", e->text);
			continue;
		}
		if (!ok)
			fail_msg("%s: not decoded", e->text);
#define CHECK(field, want)                                                                     \
	if ((u64)(in.field) != (u64)(want))                                                    \
	fail_msg("%s: " #field " = 0x%llx, want 0x%llx", e->text, (unsigned long long)(u64)(in.field), \
		 (unsigned long long)(u64)(want))
		CHECK(len, e->len);
		CHECK(size, e->size);
		CHECK(write, e->write);
		CHECK(has_imm, e->has_imm);
		CHECK(zero_extend, e->zx);
		CHECK(high_byte, e->high);
		CHECK(base, e->base);
		CHECK(index, e->index);
		CHECK(scale, e->scale);
		CHECK(disp, e->disp);
		CHECK(rip_relative, e->rip);
		CHECK(seg, e->seg);
		if (e->has_imm) {
			CHECK(imm, e->imm);
		} else {
			CHECK(reg, e->reg);
			CHECK(dst_size, e->dst_size);
		}
#undef CHECK
		/* The length is exact: decoding with exactly len bytes works, with one less
		 * does not. */
		assert_true(insn_decode(e->bytes, e->len, e->mode, &in));
		if (insn_decode(e->bytes, e->len - 1u, e->mode, &in))
			fail_msg("%s: decoded from %u bytes", e->text, e->len - 1u);
	}
}

static void refuses_other_instructions(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		u8 b[8];
		u8 n;
	} bad[] = {
		{ "lock incl (%rdi)", B(0xf0, 0xff, 0x07) },
		{ "lock mov (refused prefix)", B(0xf0, 0x89, 0x07) },
		{ "rep mov", B(0xf3, 0x89, 0x07) },
		{ "repne mov", B(0xf2, 0x8b, 0x07) },
		{ "mov %eax,%ebx (register operand)", B(0x89, 0xc3) },
		{ "movzbl %al,%eax (register operand)", B(0x0f, 0xb6, 0xc0) },
		{ "movsb", B(0xa4) },
		{ "stos", B(0xab) },
		{ "add %eax,(%rdi)", B(0x01, 0x07) },
		{ "xchg %eax,(%rdi)", B(0x87, 0x07) },
		{ "movsbl (%rdi),%eax (sign extension)", B(0x0f, 0xbe, 0x07) },
		{ "0f 0b (ud2)", B(0x0f, 0x0b) },
		{ "C7 /1 is not MOV", B(0xc7, 0x0f, 0, 0, 0, 0) },
		{ "C6 F8 (xabort)", B(0xc6, 0xf8, 0x00) },
		{ "mov to segment register", B(0x8e, 0x07) },
		{ "vmovdqa (VEX)", B(0xc5, 0xf9, 0x6f, 0x07) },
		{ "cmp (%rdi),%eax", B(0x3b, 0x07) },
	};
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
		struct insn in;
		if (insn_decode(bad[k].b, bad[k].n, M64, &in))
			fail_msg("%s: decoded", bad[k].text);
	}
}

static void limits_length_and_input(void **state)
{
	(void)state;
	struct insn in;
	u8 b[32];

	/* 14 redundant prefixes + a 2-byte MOV = 16 bytes: over the 15-byte limit. */
	memset(b, 0x3e, 14);
	b[14] = 0x89;
	b[15] = 0x07;
	assert_false(insn_decode(b, sizeof(b), M64, &in));
	/* 13 prefixes + 2 bytes = 15: fine. */
	memset(b, 0x3e, 13);
	b[13] = 0x89;
	b[14] = 0x07;
	assert_true(insn_decode(b, sizeof(b), M64, &in));
	assert_int_equal(in.len, 15);
	/* Prefixes only, opcode missing. */
	assert_false(insn_decode(b, 13, M64, &in));
	assert_false(insn_decode(b, 0, M64, &in));
	/* moffs truncated. */
	static const u8 moffs[] = { 0xa1, 0x10, 0x00, 0xc0, 0xfe };
	assert_false(insn_decode(moffs, sizeof(moffs), M64, &in));
	assert_true(insn_decode(moffs, sizeof(moffs), M32, &in));
	/* SIB byte missing; immediate truncated. */
	static const u8 nosib[] = { 0x8b, 0x04 };
	assert_false(insn_decode(nosib, sizeof(nosib), M64, &in));
	static const u8 shortimm[] = { 0xc7, 0x07, 0x01, 0x02, 0x03 };
	assert_false(insn_decode(shortimm, sizeof(shortimm), M64, &in));
}

static struct insn dec(enum insn_mode m, const u8 *b, size_t n)
{
	struct insn in;
	assert_true(insn_decode(b, n, m, &in));
	return in;
}

#define DEC(m, ...) dec(m, (const u8[]){ __VA_ARGS__ }, sizeof((u8[]){ __VA_ARGS__ }))

static void load_results_follow_x86(void **state)
{
	(void)state;
	const u64 old = 0x1122334455667788ull;
	struct insn in;

	in = DEC(M64, 0x8b, 0x07);                  /* mov (%rdi),%eax: zero-extends */
	assert_int_equal(insn_load_result(&in, old, 0xdeadbeef), 0xdeadbeefull);
	in = DEC(M64, 0x48, 0x8b, 0x07);            /* 64-bit */
	assert_int_equal(insn_load_result(&in, old, 0xfedcba9876543210ull), 0xfedcba9876543210ull);
	in = DEC(M64, 0x66, 0x8b, 0x07);            /* 16-bit: keeps 63:16 */
	assert_int_equal(insn_load_result(&in, old, 0xabcd), 0x112233445566abcdull);
	in = DEC(M64, 0x8a, 0x07);                  /* mov (%rdi),%al: keeps 63:8 */
	assert_int_equal(insn_load_result(&in, old, 0xee), 0x11223344556677eeull);
	in = DEC(M64, 0x8a, 0x27);                  /* mov (%rdi),%ah: bits 15:8 only */
	assert_true(in.high_byte);
	assert_int_equal(in.reg, RAX);
	assert_int_equal(insn_load_result(&in, old, 0xee), 0x112233445566ee88ull);
	in = DEC(M64, 0x0f, 0xb6, 0x07);            /* movzbl: zero-extends the byte to 64 */
	assert_int_equal(insn_load_result(&in, old, 0xfffffff0), 0xf0ull);
	in = DEC(M64, 0x66, 0x0f, 0xb6, 0x07);      /* movzbw: 16-bit destination keeps 63:16 */
	assert_int_equal(insn_load_result(&in, old, 0x1f0), 0x11223344556600f0ull);
	in = DEC(M64, 0x0f, 0xb7, 0x07);            /* movzwl */
	assert_int_equal(insn_load_result(&in, old, 0x12345), 0x2345ull);
	in = DEC(M64, 0x48, 0x0f, 0xb7, 0x07);      /* movzwq */
	assert_int_equal(insn_load_result(&in, old, 0x8000), 0x8000ull);
	in = DEC(M64, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0); /* mov moffs,%al */
	assert_int_equal(insn_load_result(&in, old, 0x1ff), 0x11223344556677ffull);
	in = DEC(M32, 0x8b, 0x07);                  /* 32-bit mode: the same zero extension */
	assert_int_equal(insn_load_result(&in, old, 0x80000000u), 0x80000000ull);
	in = DEC(M16, 0x8b, 0x07);                  /* 16-bit mode default: 16 bits */
	assert_int_equal(insn_load_result(&in, old, 0x12345678), 0x1122334455665678ull);
}

static void store_values(void **state)
{
	(void)state;
	const u64 reg = 0x1122334455667788ull;
	struct insn in;

	in = DEC(M64, 0x89, 0x07);
	assert_int_equal(insn_store_value(&in, reg), 0x55667788ull);
	in = DEC(M64, 0x48, 0x89, 0x07);
	assert_int_equal(insn_store_value(&in, reg), reg);
	in = DEC(M64, 0x66, 0x89, 0x07);
	assert_int_equal(insn_store_value(&in, reg), 0x7788ull);
	in = DEC(M64, 0x88, 0x07);                  /* %al */
	assert_int_equal(insn_store_value(&in, reg), 0x88ull);
	in = DEC(M64, 0x88, 0x27);                  /* %ah */
	assert_int_equal(insn_store_value(&in, reg), 0x77ull);
	in = DEC(M64, 0x88, 0x3f);                  /* %bh */
	assert_true(in.high_byte);
	assert_int_equal(in.reg, RBX);
	assert_int_equal(insn_store_value(&in, 0xabcd), 0xabull);
	in = DEC(M64, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff);        /* movl $-1: 32 bits */
	assert_int_equal(insn_store_value(&in, reg), 0xffffffffull);
	in = DEC(M64, 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff);  /* movq $-1: 64 bits */
	assert_int_equal(insn_store_value(&in, reg), ~0ull);
	in = DEC(M64, 0xc6, 0x07, 0x80);
	assert_int_equal(insn_store_value(&in, reg), 0x80ull);
	in = DEC(M64, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(insn_store_value(&in, reg), 0x55667788ull);
}

/* The bytes come from the guest: any input must decode within avail (and 15) bytes or
 * be refused, in every mode. Each input sits at the end of its own allocation, so a
 * sanitizer build (tests/unit/unit.mk) catches a read past avail. */
static void random_bytes_stay_in_bounds(void **state)
{
	(void)state;
	u64 x = 0x9e3779b97f4a7c15ull;
	unsigned decoded = 0;
	for (unsigned iter = 0; iter < 200000; iter++) {
		size_t n = 1 + iter % 16;
		u8 *buf = malloc(n);
		assert_non_null(buf);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;   /* xorshift64 */
			/* Bias towards the opcodes and prefixes the decoder knows. */
			static const u8 known[] = { 0x66, 0x67, 0x2e, 0x64, 0x48, 0x4f, 0x41, 0x0f, 0x88,
						    0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0, 0xa3, 0xb6, 0xb7 };
			buf[i] = (x >> 40) & 1 ? known[(x >> 8) % sizeof(known)] : (u8)x;
		}
		for (int m = M16; m <= M64; m++) {
			struct insn in;
			if (!insn_decode(buf, n, (enum insn_mode)m, &in))
				continue;
			decoded++;
			if (in.len == 0 || in.len > n || in.len > INSN_MAX_LEN)
				fail_msg("length %u from %zu bytes", in.len, n);
			assert_true(in.size == 1 || in.size == 2 || in.size == 4 || in.size == 8);
			assert_true(in.reg < 16);
			assert_true(!in.high_byte || in.reg < 4);
		}
		free(buf);
	}
	assert_true(decoded > 1000);   /* the generator does reach the decoder's paths */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decodes_table),
		cmocka_unit_test(refuses_other_instructions),
		cmocka_unit_test(limits_length_and_input),
		cmocka_unit_test(load_results_follow_x86),
		cmocka_unit_test(store_values),
		cmocka_unit_test(random_bytes_stay_in_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
