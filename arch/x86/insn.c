/* SPDX-License-Identifier: MIT */
/*
 * The MMIO instruction decoder (arch/x86/insn.h). References are to the Intel SDM Vol. 2:
 * "Instruction Format" (prefixes, ModR/M, SIB, displacement, immediate), "REX
 * Prefixes", "RIP-Relative Addressing", "Operand-Size and Address-Size Attributes",
 * the ModR/M tables "16-Bit Addressing Forms with the ModR/M Byte" and "32-Bit
 * Addressing Forms with the ModR/M Byte" / "... with the SIB Byte", and the MOV and
 * MOVZX instruction pages. Pure: unit-tested on the host.
 */
#include "arch/x86/insn.h"
#include "hv/lib/lib.h"

#define REX_W 0x8
#define REX_R 0x4
#define REX_X 0x2
#define REX_B 0x1

static u64 size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Little-endian immediate or displacement of n bytes, sign-extended. */
static s64 read_signed(const u8 *p, unsigned n)
{
	u64 v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	if (n < 8 && (v & (1ull << (8 * n - 1))))
		v |= ~size_mask(n);
	return (s64)v;
}

static u64 read_unsigned(const u8 *p, unsigned n)
{
	u64 v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/*
 * The ModR/M byte, the SIB byte and the displacement at b[*pi]. Only memory operands:
 * mod = 11b names a register, which cannot have caused an MMIO exit. *regfield gets
 * the reg field extended by REX.R.
 */
static bool decode_modrm(const u8 *b, size_t limit, size_t *pi, enum insn_mode mode, u8 rex,
			 struct insn *out, unsigned *regfield)
{
	size_t i = *pi;
	if (i >= limit)
		return false;
	u8 m = b[i++];
	unsigned mod = m >> 6, reg = (m >> 3) & 7, rm = m & 7;
	unsigned disp_len = 0;
	bool ss_default = false;

	if (mod == 3)
		return false;
	*regfield = reg | ((rex & REX_R) ? 8 : 0);

	if (out->addr_size == 2) {
		/* "16-Bit Addressing Forms with the ModR/M Byte". */
		static const s8 base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };    /* BX BX BP BP SI DI BP BX */
		static const s8 index16[8] = { 6, 7, 6, 7, -1, -1, -1, -1 }; /* SI DI SI DI */
		if (mod == 0 && rm == 6) {
			disp_len = 2;   /* disp16 alone */
		} else {
			out->base = base16[rm];
			out->index = index16[rm];
			ss_default = out->base == 5;   /* BP-based forms use SS */
			disp_len = mod == 1 ? 1 : mod == 2 ? 2 : 0;
		}
	} else {
		/* "32-Bit Addressing Forms with the ModR/M Byte"; 64-bit mode extends it with
		 * REX.B/REX.X ("REX Prefixes": the special cases rm = 100b and mod = 00b,
		 * rm = 101b are decided on the three ModR/M bits, before REX.B). */
		if (rm == 4) {
			if (i >= limit)
				return false;
			u8 sib = b[i++];
			unsigned idx = ((sib >> 3) & 7) | ((rex & REX_X) ? 8 : 0);
			unsigned base = (sib & 7) | ((rex & REX_B) ? 8 : 0);
			out->scale = (u8)(1u << (sib >> 6));
			out->index = idx == 4 ? -1 : (s8)idx;   /* index 100b without REX.X: none */
			if ((sib & 7) == 5 && mod == 0) {
				disp_len = 4;                  /* [scaled index] + disp32, no base */
			} else {
				out->base = (s8)base;
			}
		} else if (rm == 5 && mod == 0) {
			disp_len = 4;
			/* "RIP-Relative Addressing": in 64-bit mode this form is RIP + disp32;
			 * elsewhere it is disp32 alone. */
			out->rip_relative = mode == INSN_MODE_64;
		} else {
			out->base = (s8)(rm | ((rex & REX_B) ? 8 : 0));
		}
		if (mod == 1)
			disp_len = 1;
		else if (mod == 2)
			disp_len = 4;
		ss_default = out->base == 4 || out->base == 5;   /* RSP/RBP bases use SS */
	}
	if (i + disp_len > limit)
		return false;
	out->disp = disp_len ? read_signed(b + i, disp_len) : 0;
	i += disp_len;
	if (!out->seg_override && ss_default)
		out->seg = SEG_SS;
	*pi = i;
	return true;
}

bool insn_decode(const u8 *b, size_t avail, enum insn_mode mode, struct insn *out)
{
	size_t limit = MIN(avail, (size_t)INSN_MAX_LEN);
	size_t i = 0;
	bool opsize = false, addrsize = false;
	u8 rex = 0;

	memset(out, 0, sizeof(*out));
	out->seg = SEG_DS;
	out->base = -1;
	out->index = -1;
	out->scale = 1;

	/* Legacy prefixes in any order, then (64-bit mode) REX, which counts only right
	 * before the opcode: a legacy prefix after it makes it ignored ("REX Prefixes"). */
	for (;; i++) {
		if (i >= limit)
			return false;
		u8 c = b[i];
		if (c == 0x66) {
			opsize = true;
		} else if (c == 0x67) {
			addrsize = true;
		} else if (c == 0x26 || c == 0x2e || c == 0x36 || c == 0x3e || c == 0x64 || c == 0x65) {
			out->seg = c == 0x26 ? SEG_ES : c == 0x2e ? SEG_CS : c == 0x36 ? SEG_SS :
				   c == 0x3e ? SEG_DS : c == 0x64 ? SEG_FS : SEG_GS;
			out->seg_override = true;
		} else if (mode == INSN_MODE_64 && (c & 0xf0) == 0x40) {
			rex = c;
			continue;
		} else {
			break;   /* LOCK, REP/REPNE and everything else: the opcode check refuses */
		}
		rex = 0;
	}
	out->rex = rex;

	unsigned osz, asz;
	if (mode == INSN_MODE_64) {
		osz = (rex & REX_W) ? 8 : opsize ? 2 : 4;   /* REX.W wins over 66 */
		asz = addrsize ? 4 : 8;
	} else if (mode == INSN_MODE_32) {
		osz = opsize ? 2 : 4;
		asz = addrsize ? 2 : 4;
	} else {
		osz = opsize ? 4 : 2;
		asz = addrsize ? 4 : 2;
	}
	out->addr_size = (u8)asz;

	u8 op = b[i++];
	if (op == 0x0f) {
		if (i >= limit)
			return false;
		op = b[i++];
		if (op != 0xb6 && op != 0xb7)
			return false;
		out->twobyte = true;
	}
	out->opcode = op;

	/* MOV AL/eAX, moffs and back: the offset has the address size, no ModR/M. */
	if (!out->twobyte && op >= 0xa0 && op <= 0xa3) {
		if (i + asz > limit)
			return false;
		out->disp = (s64)read_unsigned(b + i, asz);
		i += asz;
		out->size = (op & 1) ? (u8)osz : 1;
		out->dst_size = out->size;
		out->write = op >= 0xa2;
		out->reg = 0;   /* AL / AX / EAX / RAX */
		out->len = (u8)i;
		return true;
	}

	bool known = out->twobyte || op == 0x88 || op == 0x89 || op == 0x8a || op == 0x8b ||
		     op == 0xc6 || op == 0xc7;
	if (!known)
		return false;

	unsigned r;
	if (!decode_modrm(b, limit, &i, mode, rex, out, &r))
		return false;

	if (out->twobyte) {
		/* MOVZX: r/m8 or r/m16 into a 16/32/64-bit register. */
		out->size = op == 0xb6 ? 1 : 2;
		out->dst_size = (u8)osz;
		out->zero_extend = true;
		out->reg = (u8)r;
	} else if (op == 0xc6 || op == 0xc7) {
		if (r & 7)
			return false;   /* C6/C7 with reg != 0 are not MOV (XABORT/XBEGIN...) */
		out->write = true;
		out->has_imm = true;
		out->size = op == 0xc6 ? 1 : (u8)osz;
		unsigned ilen = op == 0xc6 ? 1 : osz == 2 ? 2 : 4;   /* imm32 for 64-bit too */
		if (i + ilen > limit)
			return false;
		out->imm = (u64)read_signed(b + i, ilen) & size_mask(out->size);
		i += ilen;
	} else {
		bool byte = !(op & 1);
		out->write = op == 0x88 || op == 0x89;
		out->size = byte ? 1 : (u8)osz;
		out->dst_size = out->size;
		/* Byte registers: without any REX, 4-7 are AH, CH, DH, BH; with one, SPL, BPL,
		 * SIL, DIL ("Byte Registers" under "REX Prefixes"). */
		if (byte && !rex && r >= 4 && r <= 7) {
			out->high_byte = true;
			out->reg = (u8)(r - 4);
		} else {
			out->reg = (u8)r;
		}
	}
	out->len = (u8)i;
	return true;
}

u64 insn_load_result(const struct insn *in, u64 old_reg, u64 val)
{
	val &= size_mask(in->size);
	if (in->high_byte)
		return (old_reg & ~0xff00ull) | (val << 8);
	switch (in->dst_size) {
	case 8:
		return val;
	case 4:
		return val;   /* "32-bit operands generate a 32-bit result, zero-extended" */
	default:
		return (old_reg & ~size_mask(in->dst_size)) | val;
	}
}

u64 insn_store_value(const struct insn *in, u64 reg_val)
{
	u64 v = in->has_imm ? in->imm : in->high_byte ? reg_val >> 8 : reg_val;
	return v & size_mask(in->size);
}
