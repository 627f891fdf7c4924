/* SPDX-License-Identifier: MIT */
/*
 * A small x86 instruction decoder for emulated MMIO: the moves a guest uses to reach a
 * device register, nothing else. Pure (no VMCS, no guest memory): given the bytes at
 * the guest's RIP and the code-segment mode, it says how long the instruction is, how
 * wide its memory access is, in which direction, and which register or immediate is
 * the other operand. Unit-tested on the host (tests/unit/test_insn.c).
 *
 * Decoded (Intel SDM Vol. 2, "Instruction Format" and the MOV / MOVZX pages):
 *   88 /r  MOV r/m8, r8           8A /r  MOV r8, r/m8
 *   89 /r  MOV r/m16/32/64, r     8B /r  MOV r, r/m16/32/64
 *   C6 /0  MOV r/m8, imm8         C7 /0  MOV r/m16/32/64, imm16/32 (sign-extended)
 *   0F B6  MOVZX r, r/m8          0F B7  MOVZX r, r/m16
 *   A0-A3  MOV AL/eAX <-> moffs
 * with the prefixes 66 (operand size), 67 (address size), the six segment overrides
 * and, in 64-bit mode, REX (W, R, X, B). Anything else (LOCK/REP prefixes, register
 * operands, other opcodes) is refused.
 */
#ifndef HV_INSN_H
#define HV_INSN_H

#include "hv/lib/types.h"

#define INSN_MAX_LEN 15   /* "Instruction Format": the limit for any instruction */

enum insn_mode {          /* the code segment's default size (CS.D, CS.L, EFER.LMA) */
	INSN_MODE_16,
	INSN_MODE_32,
	INSN_MODE_64,
};

/* Segment registers in the SDM's encoding (sreg field, "Segment Registers"). */
enum insn_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

struct insn {
	u8 len;               /* bytes, prefixes included */
	u8 opcode;            /* the primary opcode (B6/B7 for MOVZX) */
	bool twobyte;         /* 0F escape */
	bool write;           /* true: the instruction stores to memory */
	u8 size;              /* bytes accessed in memory: 1, 2, 4 or 8 */
	u8 dst_size;          /* a load: width of the destination register (MOVZX: 2/4/8) */
	bool zero_extend;     /* MOVZX */
	bool has_imm;         /* a store of imm (C6/C7) rather than of a register */
	u64 imm;              /* the immediate, sign-extended to size bytes */
	u8 reg;               /* the register operand: GPR number 0 = RAX .. 15 = R15 */
	bool high_byte;       /* AH/CH/DH/BH: bits 15:8 of GPR reg (0..3), no REX */
	/* The memory operand (for diagnostics and tests; the device address comes from
	 * the exit, not from here). */
	u8 addr_size;         /* 2, 4 or 8 */
	u8 seg;               /* enum insn_seg: the override, else DS (SS for BP/SP bases) */
	bool seg_override;
	s8 base, index;       /* GPR numbers, -1 = none */
	u8 scale;             /* 1, 2, 4, 8 */
	bool rip_relative;
	s64 disp;             /* sign-extended displacement, or the moffs (zero-extended) */
	u8 rex;               /* the REX prefix in effect, 0 = none */
};

/*
 * Decode the instruction in bytes[0..avail). false when it is not one of the moves
 * above, is malformed, or needs more than avail bytes (or more than INSN_MAX_LEN).
 */
bool insn_decode(const u8 *bytes, size_t avail, enum insn_mode mode, struct insn *out);

/*
 * A load: the new value of GPR in->reg after reading val (in->size bytes) from memory,
 * given its value before. x86 semantics ("General-Purpose Registers in 64-Bit Mode"):
 * a 32-bit destination zero-extends to 64 bits, 8- and 16-bit destinations leave the
 * other bits alone (AH..BH write bits 15:8), MOVZX zero-extends to dst_size first.
 */
u64 insn_load_result(const struct insn *in, u64 old_reg, u64 val);

/* A store: the value written (in->size bytes, zero-extended), from the immediate or
 * from the source register's full value. */
u64 insn_store_value(const struct insn *in, u64 reg_val);

#endif
