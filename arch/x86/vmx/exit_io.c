/* SPDX-License-Identifier: MIT */
/*
 * Port I/O exits: IN/OUT through the VM's I/O bus (hv/io), INS/OUTS through the guest's
 * page tables (gwalk.c).
 */
#include "arch/x86/vmx/exit_internal.h"

/* A port access the bus did not complete: the device stopped the VM, or refused the
 * access (the VM is stopped here, naming the device, the port, the size and the
 * instruction). */
static __attribute__((noinline)) enum exit_action io_failed(struct vcpu *v, const struct io_req *req,
							    enum io_result r, bool string)
{
	if (r == IO_REFUSED) {
		const struct vdev *dev = io_bus_find(v->vm, IO_SPACE_PORT, req->addr);
		const char *insn = req->write ? (string ? "OUTS" : "OUT") : (string ? "INS" : "IN");
		if (req->write)
			vm_fault(v, "%s refused a %u-byte write of 0x%llx to port 0x%llx (%s at RIP 0x%llx)",
				 dev ? dev->name : "port I/O", req->size, (unsigned long long)req->value,
				 (unsigned long long)req->addr, insn, (unsigned long long)vmcs_readl(GUEST_RIP));
		else
			vm_fault(v, "%s refused a %u-byte read of port 0x%llx (%s at RIP 0x%llx)",
				 dev ? dev->name : "port I/O", req->size, (unsigned long long)req->addr, insn,
				 (unsigned long long)vmcs_readl(GUEST_RIP));
	}
	return EXIT_LEAVE;
}

#define STRING_IO_BATCH 4096   /* iterations per exit; the rest re-executes */
#define CS_AR_L BIT(13)        /* "Guest Register State": CS access rights, 64-bit mode */

/*
 * INS/OUTS, with or without REP ("Exit Qualification for I/O Instructions"; the
 * guest-linear address field gives the memory operand's linear address). Each element
 * is translated through the guest's page tables with the access rights of "Access
 * Rights" (gwalk.c) before it moves: INS writes memory, OUTS reads it. An element that
 * crosses into the next page is translated on both pages (the two may map anywhere)
 * and checked on both before the port is touched. A fault delivers #PF with CR2 = the
 * linear address of the first byte on the faulting page, and leaves RCX and RSI/RDI
 * as the completed elements left them ("Repeat String Operation Prefix": the
 * registers let the handler's IRET resume the string), RIP on the instruction.
 * The offset is the index register's low 16/32/64 bits (the address size) and wraps
 * there; the linear address is the segment base (the exit's linear address minus the
 * first offset) plus the offset, 32 bits wide outside 64-bit mode.
 */
static __attribute__((noinline)) enum exit_action string_io(struct vcpu *v, u64 q, u16 port, unsigned size, bool in)
{
	bool rep = q & BIT(5);
	u32 info = vmcs_read32(VMX_INSTRUCTION_INFO);
	unsigned asz = (info >> 7) & 7;   /* 0: 16-bit, 1: 32-bit, 2: 64-bit */
	u64 amask = asz == 0 ? 0xffffull : asz == 1 ? 0xffffffffull : ~0ull;
	u64 count = rep ? v->gpr[GPR_RCX] & amask : 1;
	bool down = vmcs_readl(GUEST_RFLAGS) & RFLAGS_DF;
	unsigned idx_reg = in ? GPR_RDI : GPR_RSI;
	bool mode64 = (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && (vmcs_read32(GUEST_CS_AR_BYTES) & CS_AR_L);
	u64 lmask = mode64 ? ~0ull : 0xffffffffull;
	u64 seg_base = vmcs_readl(GUEST_LINEAR_ADDRESS) - (v->gpr[idx_reg] & amask);
	u64 n = MIN(count, (u64)STRING_IO_BATCH);

	for (u64 i = 0; i < n; i++) {
		u64 la = (seg_base + (v->gpr[idx_reg] & amask)) & lmask;
		unsigned len[2];
		u8 *mem[2] = { NULL, NULL };
		len[0] = (unsigned)MIN((u64)size, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
		len[1] = size - len[0];
		for (unsigned k = 0; k < 2 && len[k]; k++) {
			u64 at = k ? (la + len[0]) & lmask : la;
			struct pw_out o;
			enum pw_result r = vmx_guest_walk(v, at, in ? PW_WRITE : PW_READ, 0, &o);
			if (r != PW_OK)
				return vmx_guest_walk_failed(v, at, r, &o, in ? "INS" : "OUTS");
			mem[k] = gpa_to_hva(v->vm, o.gpa, len[k]);
			if (!mem[k]) {
				vm_fault(v, "string I/O on port 0x%x with a buffer outside guest RAM (GPA 0x%llx)", port,
					 (unsigned long long)o.gpa);
				return EXIT_LEAVE;
			}
		}
		struct io_req req = { .space = IO_SPACE_PORT, .addr = port, .size = (u8)size, .write = !in };
		u8 buf[8] = { 0 };
		if (!in) {
			memcpy(buf, mem[0], len[0]);
			if (len[1])
				memcpy(buf + len[0], mem[1], len[1]);
			memcpy(&req.value, buf, sizeof(req.value));
		}
		enum io_result r = io_bus_dispatch(v->vm, v, &req, NULL, NULL);
		if (r != IO_DONE)
			return io_failed(v, &req, r, true);
		if (in) {
			memcpy(buf, &req.value, sizeof(buf));
			memcpy(mem[0], buf, len[0]);
			if (len[1])
				memcpy(mem[1], buf + len[0], len[1]);
		}
		u64 step = down ? (u64)-(s64)size : size;
		v->gpr[idx_reg] = (v->gpr[idx_reg] & ~amask) | ((v->gpr[idx_reg] + step) & amask);
		if (rep)
			v->gpr[GPR_RCX] = (v->gpr[GPR_RCX] & ~amask) | ((v->gpr[GPR_RCX] - 1) & amask);
	}
	/* Not finished: leave RIP on the instruction so that it continues. */
	return rep && count > n ? EXIT_RESUME : EXIT_SKIP;
}

enum exit_action vmx_exit_io(struct vcpu *v)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	unsigned size = (q & 7) + 1;
	bool in = q & BIT(3);
	u16 port = (u16)(q >> 16);

	if (unlikely(q & BIT(4)))
		return string_io(v, q, port, size, in);
	/* OUT: the data is the low size bytes of RAX (the bus ignores the rest). */
	struct io_req req = { .space = IO_SPACE_PORT, .addr = port, .size = (u8)size, .write = !in,
			      .value = v->gpr[GPR_RAX] };
	enum io_result r;
	if (unlikely(!io_bus_port_fast(&v->vm->bus, v, &req, &r)))
		r = io_bus_dispatch(v->vm, v, &req, NULL, NULL);
	if (unlikely(r != IO_DONE))
		return io_failed(v, &req, r, false);
	/* From req (in memory anyway, the device had it): fewer registers live across the
	 * device's call on this hot path. */
	if (!req.write) {
		u64 rax = v->gpr[GPR_RAX];
		if (req.size == 4)
			rax = (u32)req.value;   /* a 32-bit destination zero-extends into RAX */
		else if (req.size == 2)
			rax = (rax & ~0xffffull) | (u16)req.value;
		else
			rax = (rax & ~0xffull) | (u8)req.value;
		v->gpr[GPR_RAX] = rax;
	}
	return EXIT_SKIP;
}
