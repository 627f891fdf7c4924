/* SPDX-License-Identifier: MIT */
/*
 * arch/x86/vmx/mmio.c: instruction fetch through the guest's page tables (also across
 * a page boundary), the code size from CS/EFER, register write-back, RIP advance,
 * refusals stopping the VM, and the vIOAPIC behind vm_mmio_dispatch(), all through the
 * VM's I/O bus (hv/io/bus.c, compiled in). The VMCS is the HV_HOST_TEST array; the page
 * walk, GPR access and vm_fault() are fakes.
 */
#include "tests/unit/support.h"
#include "arch/x86/vmx/mmio.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/x86.h"
#include "hv/irq/vioapic.h"
#include "hv/dev/dev.h"

u64 test_vmcs[0x8000];

void vmx_insn_failed(const char *insn, u64 field, u64 value, const char *caller, int line)
{
	fail_msg("vmx_insn_failed(%s, 0x%llx, 0x%llx) from %s:%d", insn, (unsigned long long)field,
		 (unsigned long long)value, caller, line);
}

#define RAM_SIZE (4u << 20)
static struct vm vm;
static struct vcpu vcpu;
static u64 guest_rsp;
static char fault_msg[512];
static unsigned faults;

/* Fake paging: linear page -> guest-physical page, identity unless remapped; pages in
 * unmapped[] fail the walk. */
static struct { u64 la, gpa; } remap[4];
static unsigned nremap;
static u64 unmapped[4];
static unsigned nunmapped;

static struct {
	unsigned calls;
	u64 la;
	enum pw_result r;
	u32 error;
} walk_failed;
static enum pw_result unmapped_result = PW_FAULT;

enum pw_result vmx_guest_walk(struct vcpu *v, u64 la, enum pw_access_type type, unsigned flags, struct pw_out *out)
{
	(void)v;
	assert_int_equal(type, PW_FETCH);
	assert_int_equal(flags, 0);
	u64 page = la & ~0xfffull;
	for (unsigned i = 0; i < nunmapped; i++)
		if (unmapped[i] == page) {
			out->error = PF_I;
			out->bad_gpa = 0xfee00000ull;
			return unmapped_result;
		}
	for (unsigned i = 0; i < nremap; i++)
		if (remap[i].la == page) {
			out->gpa = remap[i].gpa | (la & 0xfff);
			return PW_OK;
		}
	out->gpa = la;
	return PW_OK;
}

/* The real one injects the #PF or stops the VM (gwalk.c): recorded here. */
enum exit_action vmx_guest_walk_failed(struct vcpu *v, u64 la, enum pw_result r, const struct pw_out *out,
				       const char *what)
{
	(void)v;
	assert_contains(what, "fetch");
	walk_failed.calls++;
	walk_failed.la = la;
	walk_failed.r = r;
	walk_failed.error = out->error;
	return r == PW_NOT_MEMORY ? EXIT_LEAVE : EXIT_RESUME;
}

u64 vcpu_gpr_read(struct vcpu *v, unsigned n)
{
	assert_true(n < 16);
	return n == GPR_RSP ? guest_rsp : v->gpr[n];
}

void vcpu_gpr_write(struct vcpu *v, unsigned n, u64 val)
{
	assert_true(n < 16);
	if (n == GPR_RSP)
		guest_rsp = val;
	else
		v->gpr[n] = val;
}

void vm_fault(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fault_msg, sizeof(fault_msg), fmt, ap);
	va_end(ap);
	faults++;
	v->vm->state = VM_STOPPED;
}

/* The vIOAPIC's collaborators (its lock: tests/unit/fake_lock.c). */
void vlapic_level_vectors_changed(struct vm *vm)
{
	(void)vm;
}

void vlapic_deliver(struct vm *m, struct vcpu *src, u32 shorthand, u32 dest, bool logical, u8 dm, u8 vector,
		    bool level)
{
	(void)m, (void)src, (void)shorthand, (void)dest, (void)logical, (void)dm, (void)vector, (void)level;
}

/* A test device at 0xd0000000: reads return read_val, accesses are recorded. */
#define DEV_BASE 0xd0000000ull
static struct {
	unsigned calls;
	bool write;
	u64 off, val;
	unsigned size;
	bool refuse;
} dev_log;
static u64 read_val;

static struct vdev testdev;

static enum io_result dev_access(struct vdev *d, struct vcpu *v, u64 off, struct io_req *req)
{
	assert_ptr_equal(v, &vcpu);
	assert_ptr_equal(d, &testdev);
	dev_log.calls++;
	dev_log.write = req->write;
	dev_log.off = off;
	dev_log.size = req->size;
	if (req->write)
		dev_log.val = req->value;
	else
		req->value = read_val;
	return dev_log.refuse ? IO_REFUSED : IO_DONE;
}

static const struct io_range_ops dev_ops = { dev_access };
static bool claimed;

/* The xAPIC page's access (hv/dev/xapic.c is not compiled in): dispatched directly. */
static unsigned xapic_calls;
static u64 xapic_off;

static enum io_result fake_xapic(struct vdev *d, struct vcpu *v, u64 off, struct io_req *req)
{
	assert_null(d);   /* one range for every vCPU's vLAPIC */
	assert_ptr_equal(v, &vcpu);
	xapic_calls++;
	xapic_off = off;
	if (!req->write)
		req->value = 0x50;
	return off == 0x3f0 ? IO_REFUSED : IO_DONE;
}

const struct io_range_ops xapic_mmio_ops = { fake_xapic };

#define AR_CODE64 0xa09b   /* present, code, L=1 */
#define AR_CODE32 0xc09b   /* present, code, D=1, G=1 */
#define AR_CODE16 0x009b   /* present, code, 16-bit */

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	memset(test_vmcs, 0, sizeof(test_vmcs));
	memset(&dev_log, 0, sizeof(dev_log));
	vm.ram = calloc(1, RAM_SIZE);
	assert_non_null(vm.ram);
	vm.ram_size = RAM_SIZE;
	char err[160];
	if (!guest_map_build(&vm.map, RAM_SIZE, 0, err, sizeof(err)))
		fail_msg("guest_map_build: %s", err);
	vm.state = VM_RUNNING;
	assert_true(ioapic_create(&vm, 1));
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, DEV_BASE, 0x1000, &testdev, &dev_ops, 0));
	vdev_add(&vm, &testdev, "testdev", NULL);
	vcpu.vm = &vm;
	guest_rsp = 0;
	faults = 0;
	fault_msg[0] = '\0';
	nremap = nunmapped = 0;
	memset(&walk_failed, 0, sizeof(walk_failed));
	unmapped_result = PW_FAULT;
	read_val = 0;
	/* 64-bit mode unless a test says otherwise. */
	vmcs_write64(GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	vmcs_write32(GUEST_CS_AR_BYTES, AR_CODE64);
	vmcs_write32(VM_EXIT_REASON, EXIT_REASON_EPT_VIOLATION);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(vm.ram);
	return 0;
}

/* Place an instruction at guest-physical gpa and point RIP at linear rip. */
static void code_at(u64 gpa, u64 rip, const u8 *b, size_t n)
{
	memcpy(vm.ram + gpa, b, n);
	vmcs_writel(GUEST_RIP, rip);
}

#define CODE(gpa, rip, ...) code_at(gpa, rip, (const u8[]){ __VA_ARGS__ }, sizeof((u8[]){ __VA_ARGS__ }))

static void exit_qual(bool write)
{
	vmcs_writel(EXIT_QUALIFICATION, (write ? 2 : 1) | BIT(7) | BIT(8));
}

static void load_64bit(void **state)
{
	(void)state;
	CODE(0x100000, 0x100000, 0x8b, 0x47, 0x10);          /* mov 0x10(%rdi),%eax */
	vcpu.gpr[GPR_RAX] = 0xffffffffffffffffull;
	read_val = 0x12345678;
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, INTR_BLOCK_STI);
	exit_qual(false);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 0x10, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(faults, 0);
	assert_int_equal(dev_log.calls, 1);
	assert_false(dev_log.write);
	assert_int_equal(dev_log.off, 0x10);
	assert_int_equal(dev_log.size, 4);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0x12345678ull);   /* zero-extended */
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x100003);
	assert_int_equal(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO), 0);   /* STI shadow consumed */
}

static void store_forms(void **state)
{
	(void)state;
	exit_qual(true);
	CODE(0x100000, 0x100000, 0xc7, 0x00, 0x12, 0x00, 0x00, 0x00);   /* movl $0x12,(%rax) */
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_true(dev_log.write);
	assert_int_equal(dev_log.val, 0x12);
	assert_int_equal(dev_log.size, 4);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x100006);

	CODE(0x100000, 0x100000, 0x88, 0x27);                /* mov %ah,(%rdi) */
	vcpu.gpr[GPR_RAX] = 0xabcd;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 3, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.val, 0xab);
	assert_int_equal(dev_log.size, 1);
	assert_int_equal(dev_log.off, 3);

	CODE(0x100000, 0x100000, 0x4c, 0x89, 0x27);          /* mov %r12,(%rdi) */
	vcpu.gpr[GPR_R12] = 0x1122334455667788ull;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 8, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.val, 0x1122334455667788ull);
	assert_int_equal(dev_log.size, 8);

	CODE(0x100000, 0x100000, 0x89, 0x27);                /* mov %esp,(%rdi): RSP from the VMCS */
	guest_rsp = 0x7ff0;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.val, 0x7ff0);
	assert_int_equal(faults, 0);
}

static void high_byte_and_movzx_loads(void **state)
{
	(void)state;
	exit_qual(false);
	CODE(0x100000, 0x100000, 0x8a, 0x3f);                /* mov (%rdi),%bh */
	vcpu.gpr[GPR_RBX] = 0x1111111111111111ull;
	read_val = 0xee;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(vcpu.gpr[GPR_RBX], 0x111111111111ee11ull);
	assert_int_equal(dev_log.size, 1);

	CODE(0x100000, 0x100000, 0x4c, 0x0f, 0xb7, 0x3f);    /* movzwq (%rdi),%r15 */
	vcpu.gpr[GPR_R15] = ~0ull;
	read_val = 0xfffff00d;   /* the device may hand back more than size bytes */
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(vcpu.gpr[GPR_R15], 0xf00dull);
	assert_int_equal(dev_log.size, 2);

	CODE(0x100000, 0x100000, 0x8b, 0x27);                /* mov (%rdi),%esp */
	read_val = 0x8000;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(guest_rsp, 0x8000);
	assert_int_equal(faults, 0);
}

static void instruction_across_a_page(void **state)
{
	(void)state;
	/* movabs 0xd0000010,%eax (9 bytes) starting 3 bytes before the end of linear page
	 * 0x200000, whose next page maps to guest-physical 0x300000. */
	static const u8 insn[] = { 0xa1, 0x10, 0x00, 0x00, 0xd0, 0x00, 0x00, 0x00, 0x00 };
	remap[nremap].la = 0x201000;
	remap[nremap++].gpa = 0x300000;
	memcpy(vm.ram + 0x200ffd, insn, 3);
	memcpy(vm.ram + 0x300000, insn + 3, sizeof(insn) - 3);
	memset(vm.ram + 0x201000, 0x90, 16);   /* what the identity map would have read */
	vmcs_writel(GUEST_RIP, 0x200ffd);
	read_val = 0xcafe;
	exit_qual(false);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 0x10, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(faults, 0);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0xcafe);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x200ffd + 9);

	/* The second page not mapped: the decoder needs those bytes, so the fetch's
	 * fault is delivered (CR2 = the first byte of that page); RIP stays. */
	unmapped[nunmapped++] = 0x201000;
	vm.state = VM_RUNNING;
	vmcs_writel(GUEST_RIP, 0x200ffd);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 0x10, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(faults, 0);
	assert_int_equal(walk_failed.calls, 1);
	assert_int_equal(walk_failed.la, 0x201000);
	assert_int_equal(walk_failed.r, PW_FAULT);
	assert_int_equal(walk_failed.error, PF_I);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x200ffd);
	assert_int_equal(dev_log.calls, 1);   /* the device saw only the first access */
	/* An instruction that ends before the unmapped page still works. */
	memcpy(vm.ram + 0x200ffe, (const u8[]){ 0x8b, 0x07 }, 2);   /* mov (%rdi),%eax */
	vmcs_writel(GUEST_RIP, 0x200ffe);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x201000);
	assert_int_equal(walk_failed.calls, 1);
	/* An undecodable instruction before the unmapped page is still diagnosed as such. */
	memcpy(vm.ram + 0x200ffe, (const u8[]){ 0x0f, 0x0b }, 2);   /* ud2 */
	vmcs_writel(GUEST_RIP, 0x200ffe);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_LEAVE);
	assert_contains(fault_msg, "instruction not emulated");
	assert_int_equal(walk_failed.calls, 1);
	/* RIP itself not mapped: #PF at RIP. */
	vm.state = VM_RUNNING;
	vmcs_writel(GUEST_RIP, 0x201000);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(walk_failed.calls, 2);
	assert_int_equal(walk_failed.la, 0x201000);
	/* A walk that reaches a GPA outside RAM: the wrapper's verdict (a VM stop) stands. */
	unmapped_result = PW_NOT_MEMORY;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_LEAVE);
	assert_int_equal(walk_failed.r, PW_NOT_MEMORY);
	/* RIP mapped to a GPA outside RAM: cannot be read. */
	nunmapped = nremap = 0;
	remap[nremap].la = 0x201000;
	remap[nremap++].gpa = 0xd0001000;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_LEAVE);
	assert_contains(fault_msg, "cannot be read");
	assert_contains(fault_msg, "0xd0000000");
}

/* The per-vCPU decode cache (mmio.c, decode): keyed by all 15 fetched bytes and the
 * code size, so the same bytes in another mode, rewritten bytes at the same RIP and
 * more instructions than it holds all decode as without it. */
static void decode_cache(void **state)
{
	(void)state;
	exit_qual(false);
	read_val = 0xa1b2c3d4;
	CODE(0x100000, 0x100000, 0x8b, 0x07);                /* mov (%rdi),%eax */
	for (int i = 0; i < 2; i++) {
		vcpu.gpr[GPR_RAX] = ~0ull;
		assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
		assert_int_equal(dev_log.size, 4);
		assert_int_equal(vcpu.gpr[GPR_RAX], 0xa1b2c3d4ull);
		vmcs_writel(GUEST_RIP, 0x100000);
	}
	/* The same bytes in 16-bit code (compatibility mode, CS.D = 0): mov (%bx),%ax. */
	vmcs_write32(GUEST_CS_AR_BYTES, AR_CODE16);
	vcpu.gpr[GPR_RAX] = ~0ull;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.size, 2);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0xffffffffffffc3d4ull);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x2);   /* IP wraps at 16 bits */
	vmcs_write32(GUEST_CS_AR_BYTES, AR_CODE64);
	/* Rewritten at the same RIP: mov (%rdi),%al; then a byte past the instruction
	 * changes (another key, the same instruction). */
	CODE(0x100000, 0x100000, 0x8a, 0x07);
	vcpu.gpr[GPR_RAX] = ~0ull;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.size, 1);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0xffffffffffffffd4ull);
	vm.ram[0x100000 + 14] ^= 0xff;
	vmcs_writel(GUEST_RIP, 0x100000);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.size, 1);
	/* Bytes 8-14 count too: the immediate of movl $imm32,0x0(%rip) ends at byte 9. */
	exit_qual(true);
	CODE(0x100000, 0x100000, 0xc7, 0x05, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.val, 0x44332211ull);
	CODE(0x100000, 0x100000, 0xc7, 0x05, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x55);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.val, 0x55332211ull);
	exit_qual(false);
	/* Six instructions, more than the cache holds, twice round. */
	static const u8 forms[6][4] = {
		{ 0x8b, 0x07 }, { 0x8a, 0x07 }, { 0x66, 0x8b, 0x07 }, { 0x48, 0x8b, 0x07 },
		{ 0x0f, 0xb6, 0x07 }, { 0x0f, 0xb7, 0x07 },
	};
	static const u8 sizes[6] = { 4, 1, 2, 8, 1, 2 };
	static const u8 lens[6] = { 2, 2, 3, 3, 3, 3 };
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 6; i++) {
			code_at(0x100000, 0x100000, forms[i], lens[i]);
			assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
			assert_int_equal(dev_log.size, sizes[i]);
			assert_int_equal(vmcs_readl(GUEST_RIP), 0x100000 + lens[i]);
		}
	}
	/* Not an emulated instruction: refused each time, whatever was cached before. */
	CODE(0x100000, 0x100000, 0x0f, 0x0b);                /* ud2 */
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_LEAVE);
	assert_contains(fault_msg, "instruction not emulated");
	assert_int_equal(faults, 1);
}

static void code_size_from_cs(void **state)
{
	(void)state;
	exit_qual(false);
	/* 32-bit protected mode, paging off: CS.base + EIP, 16-bit moffs not used. */
	vmcs_write64(GUEST_IA32_EFER, 0);
	vmcs_write32(GUEST_CS_AR_BYTES, AR_CODE32);
	vmcs_writel(GUEST_CS_BASE, 0x10000);
	CODE(0x10100, 0x100, 0xa1, 0x10, 0x00, 0x00, 0xd0);  /* mov 0xd0000010,%eax (moffs32) */
	read_val = 0x55;
	vcpu.gpr[GPR_RAX] = 0xffffffff00000000ull;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 0x10, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(faults, 0);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0x55);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x105);

	/* Compatibility mode (LMA, CS.L = 0, D = 1): 32-bit too. */
	vmcs_write64(GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	vmcs_writel(GUEST_CS_BASE, 0);
	CODE(0x100000, 0x100000, 0x8b, 0x07);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.size, 4);

	/* A 48 prefix outside 64-bit mode is DEC, not REX: not emulated. */
	CODE(0x100000, 0x100000, 0x48, 0x8b, 0x07);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_LEAVE);
	assert_contains(fault_msg, "32-bit code");
	assert_contains(fault_msg, "48 8b 07");

	/* Real mode (16-bit CS, base = selector << 4); IP wraps at 64 KiB. */
	vm.state = VM_RUNNING;
	vmcs_write64(GUEST_IA32_EFER, 0);
	vmcs_write32(GUEST_CS_AR_BYTES, AR_CODE16);
	vmcs_writel(GUEST_CS_BASE, 0x20000);
	CODE(0x2fffe, 0xfffe, 0x89, 0x07);                   /* mov %ax,(%bx) */
	vcpu.gpr[GPR_RAX] = 0x12345678;
	exit_qual(true);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 2, NULL, &claimed), EXIT_RESUME);
	assert_int_equal(dev_log.size, 2);
	assert_int_equal(dev_log.val, 0x5678);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0);
}

static void refusals_stop_the_vm(void **state)
{
	(void)state;
	/* Undecodable. */
	exit_qual(true);
	CODE(0x100000, 0x100000, 0x01, 0x07);                /* add %eax,(%rdi) */
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 4, NULL, &claimed), EXIT_LEAVE);
	assert_int_equal(faults, 1);
	assert_int_equal(vm.state, VM_STOPPED);
	assert_contains(fault_msg, "testdev MMIO at GPA 0xd0000004");
	assert_contains(fault_msg, "01 07");
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x100000);   /* not advanced */
	assert_int_equal(dev_log.calls, 0);

	/* The device says no. */
	vm.state = VM_RUNNING;
	dev_log.refuse = true;
	CODE(0x100000, 0x100000, 0x89, 0x07);
	vcpu.gpr[GPR_RAX] = 0x42;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 8, NULL, &claimed), EXIT_LEAVE);
	assert_contains(fault_msg, "testdev refused a 4-byte write of 0x42 at GPA 0xd0000008");
	assert_contains(fault_msg, "89 07");
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x100000);
	exit_qual(false);
	vm.state = VM_RUNNING;
	CODE(0x100000, 0x100000, 0x8b, 0x07);
	vcpu.gpr[GPR_RAX] = 7;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 8, NULL, &claimed), EXIT_LEAVE);
	assert_contains(fault_msg, "refused a 4-byte read");
	assert_int_equal(vcpu.gpr[GPR_RAX], 7);              /* register untouched */
	dev_log.refuse = false;

	/* Past the end of the window. */
	vm.state = VM_RUNNING;
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 0xffe, NULL, &claimed), EXIT_LEAVE);
	assert_contains(fault_msg, "testdev MMIO: 4-byte access at GPA 0xd0000ffe runs past the device's range");

	/* The exit says write, the instruction reads. */
	vm.state = VM_RUNNING;
	exit_qual(true);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_LEAVE);
	assert_contains(fault_msg, "the exit reports a write");

	/* An APIC-access exit (type 1 = linear write) is checked the same way. */
	vm.state = VM_RUNNING;
	vmcs_write32(VM_EXIT_REASON, EXIT_REASON_APIC_ACCESS);
	vmcs_writel(EXIT_QUALIFICATION, (1u << 12) | 0x300);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_LEAVE);
	vm.state = VM_RUNNING;
	vmcs_writel(EXIT_QUALIFICATION, 0x300);              /* linear read */
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE, NULL, &claimed), EXIT_RESUME);
}

static void ioapic_through_dispatch(void **state)
{
	(void)state;
	enum exit_action act = EXIT_SKIP;
	vm_mmio_dispatch(&vcpu, VIOAPIC_BASE - 1, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_false(claimed);
	vm_mmio_dispatch(&vcpu, VIOAPIC_BASE + VIOAPIC_SIZE, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_false(claimed);
	assert_int_equal(act, EXIT_SKIP);

	/* IOREGSEL = 1 (mov %eax,(%rdx)), then IOWIN (mov 0x10(%rdx),%ecx). */
	vcpu.gpr[GPR_RAX] = VIOAPIC_REG_VER;
	CODE(0x100000, 0x100000, 0x89, 0x02);
	exit_qual(true);
	act = vm_mmio_dispatch(&vcpu, VIOAPIC_BASE, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(act, EXIT_RESUME);
	CODE(0x100002, 0x100002, 0x8b, 0x4a, 0x10);
	exit_qual(false);
	act = vm_mmio_dispatch(&vcpu, VIOAPIC_BASE + 0x10, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(act, EXIT_RESUME);
	assert_int_equal(vcpu.gpr[GPR_RCX], 0x00170011);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x100005);
	assert_int_equal(faults, 0);

	/* A redirection entry written with an immediate and read back. */
	CODE(0x100000, 0x100000, 0xc7, 0x02, 0x14, 0x00, 0x00, 0x00);   /* movl $0x14,(%rdx) */
	exit_qual(true);
	act = vm_mmio_dispatch(&vcpu, VIOAPIC_BASE, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	CODE(0x100000, 0x100000, 0xc7, 0x42, 0x10, 0x31, 0x00, 0x01, 0x00);   /* movl $0x10031,0x10(%rdx) */
	act = vm_mmio_dispatch(&vcpu, VIOAPIC_BASE + 0x10, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(vm.ioapic.redir[2], 0x10031);

	/* 8 bytes at once: not an IOAPIC access. */
	CODE(0x100000, 0x100000, 0x48, 0x8b, 0x02);
	exit_qual(false);
	act = vm_mmio_dispatch(&vcpu, VIOAPIC_BASE, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(act, EXIT_LEAVE);
	assert_contains(fault_msg, "IOAPIC refused a 8-byte read at GPA 0xfec00000 (instruction 48 8b 02)");

	/* Executing from the IOAPIC page, or page tables in it: stopped, nothing decoded. */
	vm.state = VM_RUNNING;
	vmcs_writel(EXIT_QUALIFICATION, BIT(2) | BIT(7) | BIT(8));
	act = vm_mmio_dispatch(&vcpu, VIOAPIC_BASE + 0x20, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(act, EXIT_LEAVE);
	assert_contains(fault_msg, "instruction fetch");
	vm.state = VM_RUNNING;
	vmcs_writel(EXIT_QUALIFICATION, BIT(0) | BIT(7));
	act = vm_mmio_dispatch(&vcpu, VIOAPIC_BASE + 0x20, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(act, EXIT_LEAVE);
	assert_contains(fault_msg, "page-table walk");
}

/* What the bus answers besides IO_DONE: a range gone since the exit, a stop. */
static enum io_result stopping_access(struct vdev *d, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)d, (void)off, (void)req;
	v->vm->state = VM_STOPPED;   /* as vm_stop() does */
	return IO_STOPPED;
}

static void bus_outcomes(void **state)
{
	(void)state;
	enum exit_action act;
	exit_qual(false);
	CODE(0x100000, 0x100000, 0x8b, 0x07);                /* mov (%rdi),%eax */
	/* Nothing registered at the address: not ours, the caller reports it. */
	vm_mmio_dispatch(&vcpu, 0xd0001000, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_false(claimed);
	/* The range was unregistered since the exit (a BAR move): not claimed, nothing done,
	 * the caller reports the access. */
	assert_true(io_bus_unregister(&vm, IO_SPACE_MMIO, DEV_BASE, &testdev));
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 4, NULL, &claimed), EXIT_LEAVE);
	assert_false(claimed);
	assert_int_equal(faults, 0);
	assert_int_equal(dev_log.calls, 0);
	vm_mmio_dispatch(&vcpu, DEV_BASE + 4, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_false(claimed);
	/* Undecodable at an unclaimed address: not claimed either (no device to name). */
	CODE(0x100000, 0x100000, 0x01, 0x07);
	assert_int_equal(vmx_mmio_emulate(&vcpu, DEV_BASE + 4, NULL, &claimed), EXIT_LEAVE);
	assert_false(claimed);
	assert_int_equal(faults, 0);
	CODE(0x100000, 0x100000, 0x8b, 0x07);
	/* A device that stops the VM: no diagnosis here, RIP stays. */
	static const struct io_range_ops stop_ops = { stopping_access };
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, DEV_BASE, 0x1000, &testdev, &stop_ops, 0));
	vm.state = VM_RUNNING;
	faults = 0;
	act = vm_mmio_dispatch(&vcpu, DEV_BASE, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(act, EXIT_LEAVE);
	assert_int_equal(faults, 0);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0x100000);
}

/* The xAPIC page: no bus lookup (nothing registered there in this test), its own
 * range's bounds, its refusals named. */
static void xapic_direct(void **state)
{
	(void)state;
	enum exit_action act = EXIT_SKIP;
	/* Registered only for diagnoses: the access does not look it up. */
	assert_true(io_bus_register(&vm, IO_SPACE_MMIO, 0xfee00000, 0x1000, &vm.xapic_dev, &xapic_mmio_ops,
				    IO_RANGE_LOCKLESS));
	vdev_add(&vm, &vm.xapic_dev, "local APIC", NULL);
	exit_qual(false);
	CODE(0x100000, 0x100000, 0x8b, 0x07);                /* mov (%rdi),%eax */
	act = vm_mmio_dispatch(&vcpu, 0xfee00030, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(act, EXIT_RESUME);
	assert_int_equal(xapic_calls, 1);
	assert_int_equal(xapic_off, 0x30);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0x50);
	CODE(0x100000, 0x100000, 0x8b, 0x07);
	act = vm_mmio_dispatch(&vcpu, 0xfee003f0, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(act, EXIT_LEAVE);
	assert_contains(fault_msg, "local APIC refused a 4-byte read at GPA 0xfee003f0");
	/* Past the page's end: refused before the device. */
	vm.state = VM_RUNNING;
	CODE(0x100000, 0x100000, 0x8b, 0x07);
	act = vm_mmio_dispatch(&vcpu, 0xfee00ffe, vmcs_readl(EXIT_QUALIFICATION), &claimed);
	assert_true(claimed);
	assert_int_equal(xapic_calls, 2);
	assert_contains(fault_msg, "local APIC MMIO: 4-byte access at GPA 0xfee00ffe runs past the device's range");
}

/* gpa_to_hva (hv/vm/vm.h) translates through the VM's memory map: RAM above the hole
 * continues at 4 GiB, the hole and the devices have no host memory. */
static void gpa_to_hva_follows_the_map(void **state)
{
	(void)state;
	char err[160];
	static struct vm v2;
	assert_true(guest_map_build(&v2.map, MiB(64), MiB(32), err, sizeof(err)));
	v2.ram = (u8 *)0x10000000;   /* never dereferenced */
	v2.ram_size = MiB(64);
	assert_ptr_equal(gpa_to_hva(&v2, 0x1000, 4), v2.ram + 0x1000);
	assert_ptr_equal(gpa_to_hva(&v2, 0xe0000, 36), v2.ram + 0xe0000);
	assert_ptr_equal(gpa_to_hva(&v2, MiB(32) - 4, 4), v2.ram + MiB(32) - 4);
	assert_null(gpa_to_hva(&v2, MiB(32) - 4, 8));
	assert_null(gpa_to_hva(&v2, MiB(32), 1));
	assert_null(gpa_to_hva(&v2, MiB(48), 1));   /* below the old RAM end: now the hole */
	assert_null(gpa_to_hva(&v2, 0xfec00000, 4));
	assert_null(gpa_to_hva(&v2, 0xfee00000, 4));
	assert_ptr_equal(gpa_to_hva(&v2, 0x100000000ull, 8), v2.ram + MiB(32));
	assert_ptr_equal(gpa_to_hva(&v2, 0x100000000ull + MiB(32) - 8, 8), v2.ram + MiB(64) - 8);
	assert_null(gpa_to_hva(&v2, 0x100000000ull + MiB(32) - 8, 9));
	assert_null(gpa_to_hva(&v2, 0x100000000ull - 4, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gpa_to_hva_follows_the_map),
		cmocka_unit_test_setup_teardown(load_64bit, setup, teardown),
		cmocka_unit_test_setup_teardown(store_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(high_byte_and_movzx_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(instruction_across_a_page, setup, teardown),
		cmocka_unit_test_setup_teardown(code_size_from_cs, setup, teardown),
		cmocka_unit_test_setup_teardown(decode_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals_stop_the_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(ioapic_through_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(bus_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(xapic_direct, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
