/* SPDX-License-Identifier: MIT */
/*
 * Emulated MMIO (arch/x86/vmx/mmio.h).
 *
 * A guest-physical page that EPT does not map makes every access to it an EPT
 * violation (Intel SDM Vol. 3C, "EPT Violations"); its exit qualification says read
 * or write, and GUEST_PHYSICAL_ADDRESS the address, but neither the register nor the
 * size: those come from decoding the instruction, fetched from CS:RIP through the
 * guest's own page tables. For EPT violations the VM-exit instruction-length field is
 * undefined ("VM-Exit Instruction Length": it is valid only for the exits listed
 * there), so RIP moves by the decoded length.
 *
 * The code size comes from the guest's CS access rights and IA32_EFER.LMA ("IA-32e
 * Mode": 64-bit mode when LMA and CS.L, else CS.D selects 32- or 16-bit; virtual-8086
 * mode is 16-bit) as the VMCS holds them ("Guest Register State": the access-rights
 * format, L in bit 13, D/B in bit 14).
 */
#include "arch/x86/vmx/mmio.h"
#include "hv/io/bus.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/x86.h"
#include "arch/x86/insn.h"
#include "hv/lib/lib.h"
#include "hv/dev/dev.h"
#include "hv/mm/guest_layout.h"

#define CS_AR_L BIT(13)
#define CS_AR_DB BIT(14)

/* EPT-violation exit qualification ("Exit Qualification for EPT Violations"). */
#define EPTV_READ BIT(0)
#define EPTV_WRITE BIT(1)
#define EPTV_FETCH BIT(2)
#define EPTV_LINEAR_VALID BIT(7)
#define EPTV_TRANSLATED BIT(8)   /* with bit 7: the access itself, not a page walk */

/* APIC-access exit qualification ("Exit Qualification for APIC-Access VM Exits"):
 * bits 15:12 the access type, 0 = linear read, 1 = linear write. */
#define APIC_ACCESS_TYPE(q) (((q) >> 12) & 0xf)

/*
 * The guest state the emulation needs, read once, out of line. (It was written when
 * vmcs.h's VMREAD used asm goto with outputs, which GCC 12.2 miscompiled here: "rip"
 * read 0 in 64-bit mode. vmcs.h no longer uses asm goto for reads.)
 */
struct mmio_state {
	u64 rip, cs_base, efer, rflags, qual;
	u32 cs_ar, reason;
};

static __attribute__((noinline)) void read_state(struct mmio_state *s)
{
	s->rip = vmcs_readl(GUEST_RIP);
	s->cs_base = vmcs_readl(GUEST_CS_BASE);
	s->efer = vmcs_read64(GUEST_IA32_EFER);
	s->rflags = vmcs_readl(GUEST_RFLAGS);
	s->qual = vmcs_readl(EXIT_QUALIFICATION);
	s->cs_ar = vmcs_read32(GUEST_CS_AR_BYTES);
	s->reason = vmcs_read32(VM_EXIT_REASON);
}

static enum insn_mode guest_code_mode(const struct mmio_state *s)
{
	if ((s->efer & EFER_LMA) && (s->cs_ar & CS_AR_L))
		return INSN_MODE_64;
	if (s->rflags & RFLAGS_VM)
		return INSN_MODE_16;
	return (s->cs_ar & CS_AR_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

static unsigned mode_bits(enum insn_mode m)
{
	return m == INSN_MODE_64 ? 64 : m == INSN_MODE_32 ? 32 : 16;
}

/* Why fetch() stopped before INSN_MAX_LEN bytes: the walk's result for the first
 * page it could not translate (PW_OK when the page translated to a GPA outside RAM). */
struct fetch_stop {
	enum pw_result r;
	u64 la;
	struct pw_out out;
};

/* The instruction bytes at linear address la, page by page (an instruction may cross
 * into a page that maps elsewhere, or into one the guest did not map: then fewer bytes
 * come back and the decoder says whether it needed them). The pages are translated as
 * instruction fetches at the guest's CPL (gwalk.c). */
static size_t fetch(struct vcpu *v, u64 la, enum insn_mode mode, u8 *buf, struct fetch_stop *stop)
{
	size_t n = 0;
	stop->r = PW_OK;
	while (n < INSN_MAX_LEN) {
		u64 at = la + n;
		if (mode != INSN_MODE_64)
			at &= 0xffffffffull;   /* the linear address space wraps at 4 GiB */
		stop->la = at;
		stop->r = vmx_guest_walk(v, at, PW_FETCH, 0, &stop->out);
		if (stop->r != PW_OK)
			break;
		size_t chunk = MIN((size_t)INSN_MAX_LEN - n, (size_t)(PAGE_SIZE - (at & (PAGE_SIZE - 1))));
		const u8 *p = gpa_to_hva(v->vm, stop->out.gpa, chunk);
		if (!p)
			break;
		if (chunk == INSN_MAX_LEN && INSN_MAX_LEN == 15) {
			/* The whole instruction from one page: two overlapping 8-byte loads, not
			 * memcpy (a string move costs a tick per byte under Bochs). */
			u64 lo, hi;
			__builtin_memcpy(&lo, p, 8);
			__builtin_memcpy(&hi, p + 7, 8);
			__builtin_memcpy(buf, &lo, 8);
			__builtin_memcpy(buf + 7, &hi, 8);
		} else {
			memcpy(buf + n, p, chunk);
		}
		n += chunk;
	}
	return n;
}

/* insn_decode, answered from the vCPU's cache of its last decodes when the 15 bytes
 * and the mode are the same (insn_decode is a function of them alone). Only complete
 * fetches (n = 15) are cached, and only instructions that decode. */
static bool decode(struct vcpu *v, const u8 *bytes, size_t n, enum insn_mode mode, struct insn *out)
{
	if (n != INSN_MAX_LEN)
		return insn_decode(bytes, n, mode, out);
	struct mmio_insn_cache *c = &v->arch.insn_cache;
	u64 w0, w1;
	__builtin_memcpy(&w0, bytes, 8);
	__builtin_memcpy(&w1, bytes + 7, 8);
	u8 m = (u8)(mode + 1);
	for (unsigned i = 0; i < ARRAY_SIZE(c->e); i++) {
		if (c->e[i].w0 == w0 && c->e[i].w1 == w1 && c->e[i].mode == m) {
			*out = c->e[i].in;
			return true;
		}
	}
	if (!insn_decode(bytes, n, mode, out))
		return false;
	unsigned slot = c->next++ % ARRAY_SIZE(c->e);
	c->e[slot].w0 = w0;
	c->e[slot].w1 = w1;
	c->e[slot].mode = m;
	c->e[slot].in = *out;
	return true;
}

/* Did the instruction in bytes[0..n) go on past byte n? It decodes once the missing
 * bytes are there (whatever they hold), which a complete instruction of another kind
 * never needs: it either decoded from the n bytes or is refused on its own bytes. */
static bool needs_more_bytes(const u8 *bytes, size_t n, enum insn_mode mode)
{
	u8 padded[INSN_MAX_LEN] = { 0 };
	struct insn in;
	if (!n)
		return true;
	memcpy(padded, bytes, n);
	return insn_decode(padded, INSN_MAX_LEN, mode, &in) && in.len > n;
}

static void hex_bytes(char *out, size_t outlen, const u8 *b, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && at + 4 <= outlen; i++)
		at += (size_t)hv_snprintf(out + at, outlen - at, "%s%02x", i ? " " : "", b[i]);
	if (!n)
		hv_snprintf(out, outlen, "(none readable)");
}

/* The direction the exit reports, when it reports one: 1 write, 0 read, -1 unknown. */
static int exit_direction(const struct mmio_state *s)
{
	u32 basic = s->reason & 0xffff;
	u64 q = s->qual;
	if (basic == EXIT_REASON_EPT_VIOLATION)
		return (q & EPTV_WRITE) ? 1 : (q & EPTV_READ) ? 0 : -1;
	if (basic == EXIT_REASON_APIC_ACCESS && APIC_ACCESS_TYPE(q) <= 1)
		return (int)APIC_ACCESS_TYPE(q);
	return -1;
}

/* The device at gpa, for a diagnosis (looked up only then: the exit path does not
 * need it). NULL: no device, *claimed is false, the caller reports the access. */
static __attribute__((noinline)) const char *device_name(struct vcpu *v, u64 gpa, bool *claimed)
{
	const struct vdev *d = io_bus_find(v->vm, IO_SPACE_MMIO, gpa);
	*claimed = d != NULL;
	return d ? d->name : NULL;
}

/* The bus refused the access: say by whom and why, with the instruction. */
static __attribute__((noinline)) void mmio_refused(struct vcpu *v, const struct io_req *req, const struct vdev *by,
						    const u8 *bytes, size_t len)
{
	char hex[3 * INSN_MAX_LEN + 16];
	unsigned long long gpa = req->addr;
	hex_bytes(hex, sizeof(hex), bytes, len);
	if (io_bus_find(v->vm, IO_SPACE_MMIO, req->addr + req->size - 1) != by)
		vm_fault(v, "%s MMIO: %u-byte access at GPA 0x%llx runs past the device's range (%s)", by->name,
			 req->size, gpa, hex);
	else if (req->write)
		vm_fault(v, "%s refused a %u-byte write of 0x%llx at GPA 0x%llx (instruction %s)", by->name, req->size,
			 (unsigned long long)req->value, gpa, hex);
	else
		vm_fault(v, "%s refused a %u-byte read at GPA 0x%llx (instruction %s)", by->name, req->size, gpa, hex);
}

enum exit_action vmx_mmio_emulate(struct vcpu *v, u64 gpa, const struct io_range *direct, bool *claimed)
{
	const char *name;
	*claimed = true;
	struct mmio_state st;
	read_state(&st);
	enum insn_mode mode = guest_code_mode(&st);
	u64 rip = st.rip;
	u64 la = mode == INSN_MODE_64 ? rip : st.cs_base + rip;
	u8 bytes[INSN_MAX_LEN];
	char hex[3 * INSN_MAX_LEN + 16];
	struct insn in;

	/* The access itself goes through the VM's bus (hv/io/bus.h); dev, found by the
	 * caller, names the device in diagnostics made before it. The hex dump of the instruction is made only for a diagnosis: formatting it
	 * costs thousands of instructions, more than the whole emulation. */
	struct fetch_stop stop;
	size_t n = fetch(v, la, mode, bytes, &stop);
	bool decoded = decode(v, bytes, n, mode, &in);
	if (!decoded && stop.r != PW_OK && needs_more_bytes(bytes, n, mode)) {
		/* The instruction's own bytes do not translate (the guest changed its page
		 * tables since the CPU fetched them, e.g. from another vCPU): the fault the
		 * fetch gets now, as the CPU would deliver it ("Page-Fault Exceptions",
		 * I/D set per the SDM's rule), with CR2 = the first byte not translated. */
		return vmx_guest_walk_failed(v, stop.la, stop.r, &stop.out, "the MMIO instruction fetch");
	}
	if (!n) {
		if (!(name = device_name(v, gpa, claimed)))
			return EXIT_LEAVE;
		vm_fault(v, "%s MMIO at GPA 0x%llx: the instruction at RIP 0x%llx (linear 0x%llx) cannot be read",
			 name, (unsigned long long)gpa, (unsigned long long)rip, (unsigned long long)la);
		return EXIT_LEAVE;
	}
	if (!decoded) {
		if (!(name = device_name(v, gpa, claimed)))
			return EXIT_LEAVE;
		hex_bytes(hex, sizeof(hex), bytes, n);
		vm_fault(v, "%s MMIO at GPA 0x%llx: instruction not emulated (%u-bit code at RIP 0x%llx: %s)",
			 name, (unsigned long long)gpa, mode_bits(mode), (unsigned long long)rip, hex);
		return EXIT_LEAVE;
	}
	int dir = exit_direction(&st);
	if (dir >= 0 && dir != (int)in.write) {
		if (!(name = device_name(v, gpa, claimed)))
			return EXIT_LEAVE;
		hex_bytes(hex, sizeof(hex), bytes, in.len);
		/* The bytes changed since the access (another vCPU rewrote them), or the exit
		 * is not what this instruction does: do not guess. */
		vm_fault(v, "%s MMIO at GPA 0x%llx: the exit reports a %s, the instruction (%s) does a %s",
			 name, (unsigned long long)gpa, dir ? "write" : "read", hex, in.write ? "write" : "read");
		return EXIT_LEAVE;
	}
	struct io_req req = { .space = IO_SPACE_MMIO, .addr = gpa, .size = in.size, .write = in.write };
	if (in.write)
		req.value = insn_store_value(&in, in.has_imm ? 0 : vcpu_gpr_read(v, in.reg));
	enum io_result res;
	if (direct)
		res = gpa + in.size - 1 <= direct->last ? direct->ops->access(direct->dev, v, gpa - direct->base, &req)
							  : IO_REFUSED;
	else
		res = io_bus_dispatch(v->vm, v, &req, NULL, NULL);
	if (res == IO_DONE) {
		if (!in.write)
			vcpu_gpr_write(v, in.reg, insn_load_result(&in, vcpu_gpr_read(v, in.reg), req.value));
	} else if (res == IO_REFUSED) {
		/* Refused, or no device (a range moved since the exit): the caller reports that. */
		const struct vdev *by = direct && direct->dev ? direct->dev : io_bus_find(v->vm, IO_SPACE_MMIO, gpa);
		*claimed = by != NULL;
		if (by)
			mmio_refused(v, &req, by, bytes, in.len);
		return EXIT_LEAVE;
	} else {
		return EXIT_LEAVE;   /* IO_STOPPED: the device stopped the VM */
	}
	/* Past the instruction; IP/EIP wrap at the code size. The emulated instruction
	 * ends a one-instruction STI / MOV SS interrupt shadow ("Guest Non-Register
	 * State"). A pending single-step trap (RFLAGS.TF) is not synthesised. */
	rip += in.len;
	if (mode == INSN_MODE_32)
		rip &= 0xffffffffull;
	else if (mode == INSN_MODE_16)
		rip &= 0xffffull;
	vmcs_writel(GUEST_RIP, rip);
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	if (intr & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~(u32)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
	return v->vm->state == VM_RUNNING ? EXIT_RESUME : EXIT_LEAVE;
}

/*
 * The xAPIC page is dispatched directly, without a lookup on the bus: it sits at the
 * same GPA in every VM, one range serves every vCPU (each reaches its own vLAPIC, so
 * the range has no device: dev NULL, lockless), and these exits are the interrupt path
 * without APICv (tools/bench selfipi_xapic, tscdeadline). Its range is still
 * registered on the bus, so that nothing else takes the page (a BAR) and
 * io_bus_find() names it in diagnoses.
 */
static const struct io_range xapic_range = { .base = GUEST_LAPIC_BASE, .last = GUEST_LAPIC_BASE + PAGE_SIZE - 1,
					     .ops = &xapic_mmio_ops, .flags = IO_RANGE_LOCKLESS };

enum exit_action vmx_xapic_emulate(struct vcpu *v, u64 gpa, bool *claimed)
{
	return vmx_mmio_emulate(v, gpa, &xapic_range, claimed);
}

enum exit_action vm_mmio_dispatch(struct vcpu *v, u64 gpa, u64 q, bool *claimed)
{
	if (likely((q & (EPTV_FETCH | EPTV_LINEAR_VALID | EPTV_TRANSLATED)) == (EPTV_LINEAR_VALID | EPTV_TRANSLATED)))
		return vmx_mmio_emulate(v, gpa, gpa - GUEST_LAPIC_BASE < PAGE_SIZE ? &xapic_range : NULL, claimed);
	const char *name = device_name(v, gpa, claimed);
	if (!name)
		return EXIT_LEAVE;
	if (q & EPTV_FETCH)
		vm_fault(v, "%s MMIO at GPA 0x%llx: instruction fetch from device memory", name, (unsigned long long)gpa);
	else
		/* A page walk (or a PDPTE load) touched the device: the guest put paging
		 * structures there. No instruction to emulate. */
		vm_fault(v, "%s MMIO at GPA 0x%llx: reached by a guest page-table walk, not by an instruction's "
			 "access (qualification 0x%llx)", name, (unsigned long long)gpa, (unsigned long long)q);
	return EXIT_LEAVE;
}
