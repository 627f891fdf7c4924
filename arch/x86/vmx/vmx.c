/* SPDX-License-Identifier: MIT */
/*
 * VMX operation: detection, VMXON, VMCS set-up for a VM and its vCPUs, entry, and the
 * one place where failed VMX instructions are reported.
 *
 * Intel SDM Vol. 3C, "Discovering Support for VMX" (CPUID.1:ECX.VMX[bit 5]) and
 * "Enabling and Entering VMX Operation": IA32_FEATURE_CONTROL must have the lock bit
 * and "enable VMX outside SMX operation" set ("if the lock bit is clear, software may
 * set it"); CR0 and CR4 must respect IA32_VMX_CR0/CR4_FIXED0/1 ("Restrictions on VMX
 * Operation"); VMXON takes a 4-KiB region that starts with the VMCS revision
 * identifier.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vintr.h"
#include "arch/x86/vmx/fpu.h"
#include "arch/x86/x86.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/vm/loader.h"
#include "hv/mm/mm.h"
#include "hv/sched/sched.h"
#include "hv/host/vectors.h"
#include "hv/init/config.h"
#include "hv/trace/trace.h"
#include "arch/x86/vmx/vmx_trace.h"

struct vmx_caps vmx_caps;
static struct vmx_msrs vmx_msrs;

/* Bits of the VM-instruction error field (Vol. 3C, "VM Instruction Error Numbers"). */
static const char *const vm_insn_errors[] = {
	[1] = "VMCALL in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "Invalid operand to INVEPT/INVVPID",
};

static const char *insn_error_name(u32 e)
{
	return e < ARRAY_SIZE(vm_insn_errors) && vm_insn_errors[e] ? vm_insn_errors[e] : "unknown";
}

static u32 read_insn_error(void)
{
	u64 e = 0;
	if (!__vmread(VM_INSTRUCTION_ERROR, &e))
		return 0;
	return (u32)e;
}

void vmx_insn_failed(const char *insn, u64 field, u64 value, const char *caller, int line)
{
	u32 e = read_insn_error();
	panic("%s of field 0x%llx (value 0x%llx) failed in %s:%d: VM-instruction error %u (%s)\n",
	      insn, (unsigned long long)field, (unsigned long long)value, caller, line, e,
	      insn_error_name(e));
}

static bool vmxon(u64 pa)
{
	bool ok;
	asm volatile("vmxon %1\n\tseta %0" : "=q"(ok) : "m"(pa) : "cc", "memory");
	return ok;
}

static bool vmclear(u64 pa)
{
	bool ok;
	asm volatile("vmclear %1\n\tseta %0" : "=q"(ok) : "m"(pa) : "cc", "memory");
	return ok;
}

static bool vmptrld(u64 pa)
{
	bool ok;
	asm volatile("vmptrld %1\n\tseta %0" : "=q"(ok) : "m"(pa) : "cc", "memory");
	return ok;
}

static void invept_all(void)
{
	struct { u64 eptp, zero; } d = { 0, 0 };
	bool ok;
	asm volatile("invept %1, %2\n\tseta %0" : "=q"(ok) : "m"(d), "r"(2ull) : "cc", "memory");
	if (!ok)
		vmx_insn_failed("invept", 2, 0, __func__, __LINE__);
}

/* Drop this CPU's cached translations of one EPTP ("INVEPT—Invalidate Translations
 * Derived from EPT": single-context), or of all when single-context is not offered. */
static void invept_single(u64 eptp)
{
	if (!vmx_caps.invept_single) {
		invept_all();
		return;
	}
	struct { u64 eptp, zero; } d = { eptp, 0 };
	bool ok;
	asm volatile("invept %1, %2\n\tseta %0" : "=q"(ok) : "m"(d), "r"(1ull) : "cc", "memory");
	if (!ok)
		vmx_insn_failed("invept", 1, eptp, __func__, __LINE__);
}

void vmx_ept_flush(struct vm *vm)
{
	invept_single(vm->arch.eptp);
	vm->arch.ept.flush_needed = false;
}

/* EPT changes while the VM runs (assigned devices' BARs): one writer at a time. */
static struct spinlock ept_rt_lock;

bool arch_vm_map_mmio(struct vm *vm, u64 gpa, u64 hpa, u64 size)
{
	u64 f = spin_lock_irqsave(&ept_rt_lock);
	bool ok = ept_map(&vm->arch.ept, gpa, hpa, size, EPT_READ | EPT_WRITE, EPT_MT_UC);
	if (vm->arch.ept.flush_needed) {   /* a split or a replaced translation */
		__atomic_fetch_add(&vm->arch.ept_gen, 1, __ATOMIC_RELEASE);
		vmx_ept_flush(vm);
	}
	spin_unlock_irqrestore(&ept_rt_lock, f);
	return ok;
}

void arch_vm_unmap_mmio(struct vm *vm, u64 gpa, u64 size)
{
	u64 f = spin_lock_irqsave(&ept_rt_lock);
	ept_unmap(&vm->arch.ept, gpa, size);
	if (vm->arch.ept.flush_needed) {
		__atomic_fetch_add(&vm->arch.ept_gen, 1, __ATOMIC_RELEASE);
		vmx_ept_flush(vm);
	}
	spin_unlock_irqrestore(&ept_rt_lock, f);
}

/* Drop the TLB entries tagged with a VPID on this CPU ("INVVPID—Invalidate Translations
 * Based on VPID"): single-context when supported, else all contexts. */
static void invvpid(u16 vpid)
{
	struct { u64 vpid, la; } d = { vpid, 0 };
	u64 type = vmx_caps.invvpid_single ? 1 : 2;
	bool ok;
	asm volatile("invvpid %1, %2\n\tseta %0" : "=q"(ok) : "m"(d), "r"(type) : "cc", "memory");
	if (!ok)
		vmx_insn_failed("invvpid", type, vpid, __func__, __LINE__);
}

bool arch_has_apicv(void)
{
	return vmx_caps.apicv;
}

bool arch_has_preemption_timer(void)
{
	return vmx_has_preemption_timer(&vmx_caps);
}

bool arch_probe(char *why, size_t len)
{
	/* A notification that finds its vCPU outside guest mode arrives in the host: its
	 * entry path syncs PIR, so the arrival itself needs no action. */
	if (!host_vector_register(VECTOR_POSTED, "posted", NULL, NULL)) {
		hv_snprintf(why, len, "host vector 0x%x is taken", VECTOR_POSTED);
		return false;
	}
	u32 a, b, c, d;

	cpuid_count(0, 0, &a, &b, &c, &d);
	char vendor[13];
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = '\0';
	cpuid_count(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID1_ECX_VMX)) {
		hv_snprintf(why, len, "CPUID.1:ECX.VMX[bit 5] = 0: this %s CPU has no VMX "
			    "(under QEMU, TCG does not emulate VMX: use Bochs, or KVM with -cpu host,+vmx)",
			    vendor);
		return false;
	}
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX)) {
		hv_snprintf(why, len, "VMX is disabled by the firmware (IA32_FEATURE_CONTROL = 0x%llx: "
			    "locked without 'enable VMX outside SMX'); enable VT-x in the BIOS setup",
			    (unsigned long long)fc);
		return false;
	}

	struct vmx_msrs *m = &vmx_msrs;
	vmx_read_msrs(m);

	struct vmx_wants w = { 0 };
	if (!vmx_negotiate(m, &w, &vmx_caps)) {
		hv_snprintf(why, len, "VMX lacks a required feature: %s", vmx_caps.missing_required);
		return false;
	}
	printk("vmx: IA32_VMX_BASIC=0x%016llx revision 0x%x, %s controls\n", (unsigned long long)m->basic,
	       vmx_caps.revision, (m->basic & BIT64(55)) ? "TRUE" : "legacy");
	printk("vmx: pin=0x%08x proc=0x%08x proc2=0x%08x exit=0x%08x entry=0x%08x\n", vmx_caps.pin,
	       vmx_caps.proc, vmx_caps.proc2, vmx_caps.exit, vmx_caps.entry);
	printk("vmx: allowed-1 pin=0x%08x proc=0x%08x proc2=0x%08x misc=0x%llx ept/vpid=0x%llx\n",
	       (u32)(m->pinbased >> 32), (u32)(m->procbased >> 32), (u32)(m->procbased2 >> 32),
	       (unsigned long long)m->misc, (unsigned long long)m->ept_vpid);
	printk("vmx: using: %s\n", vmx_caps.used);
	printk("vmx: missing: %s\n", vmx_caps.missing_optional[0] ? vmx_caps.missing_optional : "nothing");
	printk("vmx: APICv (posted interrupts, virtual-interrupt delivery, APIC-register and x2APIC "
	       "virtualization) %s; preemption timer %s (rate 2^%u TSC ticks)\n",
	       vmx_caps.apicv ? "available" : "unavailable: event injection", 
	       vmx_has_preemption_timer(&vmx_caps) ? "available" : "unavailable", vmx_caps.preemption_timer_rate);
	fpu_probe();
	return true;
}

bool arch_cpu_on(struct cpu *cpu, char *why, size_t len)
{
	u32 a, b, c, d;
	cpuid_count(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID1_ECX_VMX)) {
		hv_snprintf(why, len, "CPUID.1:ECX.VMX[bit 5] = 0 on this CPU");
		return false;
	}
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	} else if (!(fc & FEATURE_CONTROL_VMX)) {
		hv_snprintf(why, len, "IA32_FEATURE_CONTROL = 0x%llx: VMX disabled and locked",
			    (unsigned long long)fc);
		return false;
	}
	/* CR0.TS and CR0.EM clear: FXSAVE/XSAVE and their restores raise #NM or #UD
	 * otherwise (fpu_save, fpu_load). The guest's CR0 does not matter to them: VM
	 * exits load HOST_CR0, which is this value. */
	u64 cr0 = ((read_cr0() & ~(u64)(CR0_TS | CR0_EM)) | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1;
	write_cr0(cr0);
	u64 cr4 = (read_cr4() | vmx_caps.cr4_fixed0 | CR4_VMXE) & vmx_caps.cr4_fixed1;
	cr4 |= CR4_OSFXSR & vmx_caps.cr4_fixed1;   /* FXSAVE/FXRSTOR include XMM and MXCSR */
	if (c & CPUID1_ECX_XSAVE)
		cr4 |= CR4_OSXSAVE;   /* XSAVE/XRSTOR, and the guest's XCR0 set with XSETBV */
	write_cr4(cr4);

	*(u32 *)cpu->arch.vmxon_region = vmx_caps.revision;
	if (!vmxon(virt_to_phys(cpu->arch.vmxon_region))) {
		hv_snprintf(why, len, "VMXON failed (CR0=0x%llx CR4=0x%llx)", (unsigned long long)read_cr0(),
			    (unsigned long long)read_cr4());
		return false;
	}
	cpu->virt_on = true;
	invept_all();
	return true;
}

/* ---- per-VM state ---- */

static void *ept_alloc_page(void *ctx, u64 *pa)
{
	(void)ctx;
	void *p = alloc_page();
	if (p)
		*pa = virt_to_phys(p);
	return p;
}

static void *ept_to_virt(void *ctx, u64 pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

bool arch_vm_init(struct vm *vm, char *err, size_t errlen)
{
	struct ept_alloc a = { ept_alloc_page, ept_to_virt, NULL };
	if (!ept_init(&vm->arch.ept, &a, vmx_caps.ept_2m, vmx_caps.ept_1g)) {
		hv_snprintf(err, errlen, "out of memory for EPT tables");
		return false;
	}
	/* RAM as the memory map places it; the hole and its devices stay unmapped, so
	 * their accesses are EPT violations (MMIO emulation) or APIC-access exits. */
	for (u32 i = 0; i < vm->map.nr_spans; i++) {
		const struct gmap_span *s = &vm->map.span[i];
		if (!ept_map(&vm->arch.ept, s->gpa, vm->ram_hpa + s->host_off, s->size, EPT_RWX, EPT_MT_WB)) {
			hv_snprintf(err, errlen, "out of memory for EPT tables (RAM at GPA 0x%llx)",
				    (unsigned long long)s->gpa);
			return false;
		}
	}
	vm->arch.eptp = ept_pointer(&vm->arch.ept);
	vm->arch.msr_bitmap = alloc_page();
	vm->arch.msr_bitmap_x2apic = alloc_page();
	if (!vm->arch.msr_bitmap || !vm->arch.msr_bitmap_x2apic) {
		hv_snprintf(err, errlen, "out of memory for the MSR bitmaps");
		return false;
	}
	msr_bitmap_init(vm->arch.msr_bitmap);
	msr_bitmap_init_x2apic(vm->arch.msr_bitmap_x2apic, vm->arch.msr_bitmap);
	vm->arch.vintr = vm->apicv ? &vintr_apicv : &vintr_inject;
	if (!vm->arch.vintr->vm_init(vm, err, errlen))
		return false;
	return true;
}

/* ---- per-vCPU VMCS ---- */

/* CR0/CR4 bits the guest may not own: fixed to 1 (except PE/PG, which unrestricted
 * guest frees) or fixed to 0 in VMX operation. The guest reads its own value from the
 * read shadow; writes that change such a bit exit (Vol. 3C, "Guest/Host Masks and Read
 * Shadows for CR0 and CR4"). */
static u64 cr0_host_owned(void)
{
	return (vmx_caps.cr0_fixed0 & ~(u64)(CR0_PE | CR0_PG)) | (~vmx_caps.cr0_fixed1 & 0xffffffffull);
}

/* The CR0 the CPU runs the guest with for the CR0 the guest sees (its read shadow):
 * the bits fixed to 1 in VMX operation set (PE and PG excepted: unrestricted guest,
 * "VMX-Fixed Bits in CR0"), those fixed to 0 cleared. */
u64 vmx_guest_cr0(u64 shadow)
{
	return (shadow | (vmx_caps.cr0_fixed0 & ~(u64)(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1;
}

/* Host-owned: the fixed bits, and every bit the guest's CPUID does not offer, so
 * that setting one exits and faults (exit_cr.c, set_cr4). */
static u64 cr4_host_owned(struct vcpu *v)
{
	return vmx_caps.cr4_fixed0 | (~vmx_caps.cr4_fixed1 & 0xffffffffull) | (~guest_cr4_valid(v) & 0xffffffffull);
}

u64 guest_cr4(struct vcpu *v)
{
	(void)v;
	u64 mask = vmcs_readl(CR4_GUEST_HOST_MASK);
	return (vmcs_readl(GUEST_CR4) & ~mask) | (vmcs_readl(CR4_READ_SHADOW) & mask);
}

static void write_host_state(struct cpu *c)
{
	struct desc_ptr gdt, idt;
	sgdt(&gdt);
	sidt(&idt);
	vmcs_writel(HOST_CR0, read_cr0());
	vmcs_writel(HOST_CR3, read_cr3());
	vmcs_writel(HOST_CR4, read_cr4());
	vmcs_write16(HOST_CS_SELECTOR, GDT_CODE64);
	vmcs_write16(HOST_SS_SELECTOR, GDT_DATA);
	vmcs_write16(HOST_DS_SELECTOR, GDT_DATA);
	vmcs_write16(HOST_ES_SELECTOR, GDT_DATA);
	vmcs_write16(HOST_FS_SELECTOR, GDT_DATA);
	vmcs_write16(HOST_GS_SELECTOR, GDT_DATA);
	vmcs_write16(HOST_TR_SELECTOR, GDT_TSS);
	vmcs_writel(HOST_FS_BASE, 0);
	vmcs_writel(HOST_GS_BASE, (u64)c);
	vmcs_writel(HOST_TR_BASE, (u64)&c->tss);
	vmcs_writel(HOST_GDTR_BASE, gdt.base);
	vmcs_writel(HOST_IDTR_BASE, idt.base);
	vmcs_write32(HOST_IA32_SYSENTER_CS, 0);
	vmcs_writel(HOST_IA32_SYSENTER_ESP, 0);
	vmcs_writel(HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_writel(HOST_RSP, c->stack_top);
	vmcs_writel(HOST_RIP, vmx_trace_exits() ? (u64)vmx_exit_stub_traced : (u64)vmx_exit_stub);
}

static void write_segment(u32 sel_f, u32 base_f, u32 limit_f, u32 ar_f, u16 sel, u64 base, u32 limit, u32 ar)
{
	vmcs_write16(sel_f, sel);
	vmcs_writel(base_f, base);
	vmcs_write32(limit_f, limit);
	vmcs_write32(ar_f, ar);
}

/* The entry state the VM's loader asks for (struct guest_entry_state, hv/vm/loader.h):
 * multiboot (Multiboot Specification 0.6.96, "Machine state": 32-bit protected mode,
 * paging off, EAX = 0x2BADB002, EBX = the information) or Linux's 64-bit boot protocol
 * (64-bit mode, paging on, RSI = the zero page). Flat 4-GiB segments, EFLAGS.IF and VM
 * clear. 64-bit mode needs CS.L = 1 with CS.D = 0, CR0.PG, CR4.PAE, EFER.LME/LMA and
 * the "IA-32e mode guest" entry control (Vol. 3C, "Checks on Guest Control Registers,
 * Debug Registers, and MSRs" and "Checks on Guest Segment Registers"). */
static void write_guest_state(struct vcpu *v, const struct guest_entry_state *b)
{
	bool long64 = b->mode == GUEST_ENTRY_LONG64;
	const u32 code = long64 ? 0xa09b : 0xc09b, data = 0xc093;   /* G, D/B or L, P, S, type, accessed */
	write_segment(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES, b->cs, 0, 0xffffffff, code);
	write_segment(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES, b->ds, 0, 0xffffffff, data);
	write_segment(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES, b->ds, 0, 0xffffffff, data);
	write_segment(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES, b->ds, 0, 0xffffffff, data);
	write_segment(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES, b->ds, 0, 0xffffffff, data);
	write_segment(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES, b->ds, 0, 0xffffffff, data);
	/* TR must be usable for VM entry: a busy 32-bit TSS (a busy 64-bit TSS in IA-32e
	 * mode: the same type, 11); LDTR unusable. */
	write_segment(GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES, 0, 0, 0x67, 0x008b);
	write_segment(GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES, 0, 0, 0, AR_UNUSABLE);
	vmcs_writel(GUEST_GDTR_BASE, b->gdt_base);
	vmcs_write32(GUEST_GDTR_LIMIT, b->gdt_limit);
	vmcs_writel(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, 0x3ff);

	vmcs_writel(CR0_GUEST_HOST_MASK, cr0_host_owned());
	vmcs_writel(CR0_READ_SHADOW, b->cr0);
	vmcs_writel(GUEST_CR0, vmx_guest_cr0(b->cr0));
	vmcs_writel(CR4_GUEST_HOST_MASK, cr4_host_owned(v));
	vmcs_writel(CR4_READ_SHADOW, b->cr4);
	vmcs_writel(GUEST_CR4, b->cr4 | (vmx_caps.cr4_fixed0 & vmx_caps.cr4_fixed1));
	vmcs_writel(GUEST_CR3, b->cr3);
	vmcs_writel(GUEST_DR7, 0x400);
	vmcs_writel(GUEST_RSP, b->rsp);
	vmcs_writel(GUEST_RIP, b->rip);
	vmcs_writel(GUEST_RFLAGS, RFLAGS_FIXED);
	vmcs_write64(GUEST_IA32_EFER, b->efer);
	if (long64)
		vmcs_write32(VM_ENTRY_CONTROLS, vmcs_read32(VM_ENTRY_CONTROLS) | ENTRY_IA32E_MODE);
	vmcs_write64(GUEST_IA32_PAT, 0x0007040600070406ull);   /* the power-up value */
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writel(GUEST_SYSENTER_ESP, 0);
	vmcs_writel(GUEST_SYSENTER_EIP, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write64(VMCS_LINK_POINTER, ~0ull);
	/* An AP is simply not run until its BSP's start-up IPI (vcpu_request, REQ_SIPI). */
	vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[GPR_RAX] = b->rax;
	v->gpr[GPR_RBX] = b->rbx;
	v->gpr[GPR_RSI] = b->rsi;
	v->arch.xcr0 = 1;   /* x87 only: the reset value of XCR0 */
	v->arch.dr6 = DR6_INIT;
}

void arch_apic_mode_changed(struct vcpu *v)
{
	v->vm->arch.vintr->apic_mode(v);
}

/* An AP after INIT and a start-up IPI with vector V (Vol. 3A, "MP Initialization
 * Protocol"; the reset state of "Processor State After Reset"): real mode at
 * V << 12, CS = V << 8, IP = 0. With unrestricted guest the VMCS holds it as is. */
void vmx_vcpu_start_ap(struct vcpu *v, u8 vector)
{
	const u32 code = 0x9b, data = 0x93;   /* present, code read/accessed; data read/write/accessed */
	u16 sel = (u16)vector << 8;
	write_segment(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES, sel, (u64)sel << 4, 0xffff, code);
	write_segment(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES, 0, 0, 0xffff, data);
	write_segment(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES, 0, 0, 0xffff, data);
	write_segment(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES, 0, 0, 0xffff, data);
	write_segment(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES, 0, 0, 0xffff, data);
	write_segment(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES, 0, 0, 0xffff, data);
	write_segment(GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES, 0, 0, 0xffff, 0x008b);
	write_segment(GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES, 0, 0, 0xffff, 0x0082);
	vmcs_writel(GUEST_GDTR_BASE, 0);
	vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_writel(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, 0xffff);
	u64 cr0 = CR0_ET | CR0_CD | CR0_NW;
	vmcs_writel(CR0_READ_SHADOW, cr0);
	vmcs_writel(GUEST_CR0, vmx_guest_cr0(cr0 & ~(u64)(CR0_CD | CR0_NW)));
	vmcs_writel(CR4_READ_SHADOW, 0);
	vmcs_writel(GUEST_CR4, vmx_caps.cr4_fixed0 & vmx_caps.cr4_fixed1);
	vmcs_writel(GUEST_CR3, 0);
	vmcs_writel(GUEST_DR7, 0x400);
	vmcs_writel(GUEST_RSP, 0);
	vmcs_writel(GUEST_RIP, 0);
	vmcs_writel(GUEST_RFLAGS, RFLAGS_FIXED);
	vmcs_write64(GUEST_IA32_EFER, 0);
	vmcs_write32(VM_ENTRY_CONTROLS, vmcs_read32(VM_ENTRY_CONTROLS) & ~(u32)ENTRY_IA32E_MODE);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[GPR_RDX] = 0x600;   /* a family-6 signature, as after reset */
	v->arch.xcr0 = 1;
	if (vmx_fpu_xsave)
		xsetbv(0, v->arch.xcr0);   /* v is loaded on this CPU: XCR0 is its own */
	/* CR2 0, DR0-DR3 0, DR6 FFFF0FF0H after INIT (the table of states after INIT);
	 * v is loaded here, so into the registers. The MSRs INIT leaves alone. */
	write_cr2(0);
	write_dr0(0);
	write_dr1(0);
	write_dr2(0);
	write_dr3(0);
	write_dr6(DR6_INIT);
	v->vm->arch.vintr->reset(v);
}

static void write_controls(struct vcpu *v)
{
	struct vm *vm = v->vm;
	const u32 apicv2 = SEC_VIRTUALIZE_APIC_ACCESSES | SEC_VIRTUALIZE_X2APIC | SEC_APIC_REGISTER_VIRT |
			   SEC_VIRTUAL_INTR_DELIVERY;
	/* The preemption timer is switched on at entry while a guest timer is armed. */
	v->arch.pin = vmx_caps.pin & ~(u32)PIN_PREEMPTION_TIMER;
	v->arch.proc = vmx_caps.proc;
	v->arch.proc2 = vmx_caps.proc2 & ~apicv2;
	/* XSAVES/XRSTORS are not offered (cpuid.c: IA32_XSS is not emulated): with the
	 * control 0 they raise #UD, as CPUID says ("enable XSAVES/XRSTORS"). */
	v->arch.proc2 &= ~(u32)SEC_ENABLE_XSAVES;
	vm->arch.vintr->controls(v);
	/* PAUSE-loop exiting ("PLE_Gap"/"PLE_Window" in "VM-Execution Control Fields"):
	 * a spinning vCPU exits and may yield to the vCPU it waits for (the scheduler
	 * says whether this VM has any it could yield to). */
	u32 ple_gap, ple_window;
	if (!sched_pause_loop_exiting(vm, &ple_gap, &ple_window))
		v->arch.proc2 &= ~(u32)SEC_PAUSE_LOOP_EXITING;
	if (v->arch.proc2 & SEC_PAUSE_LOOP_EXITING) {
		vmcs_write32(PLE_GAP, ple_gap);
		vmcs_write32(PLE_WINDOW, ple_window);
		v->arch.ple_window = ple_window;
	}
	/* With a TPR shadow CR8 reads and writes use the virtual-APIC page's TPR. */
	if (v->arch.proc & CPU_TPR_SHADOW)
		v->arch.proc &= ~(u32)(CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING);
	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, v->arch.pin);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v->arch.proc);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, v->arch.proc2);
	if (v->arch.proc & CPU_TPR_SHADOW) {
		vmcs_write64(VIRTUAL_APIC_PAGE_ADDR, v->lapic.regs_pa);
		vmcs_write32(TPR_THRESHOLD, 0);
	}
	vm->arch.vintr->vmcs_setup(v);
	vmcs_write32(VM_EXIT_CONTROLS, vmx_caps.exit & ~(u32)EXIT_SAVE_PREEMPTION_TIMER);
	vmcs_write32(VM_ENTRY_CONTROLS, vmx_caps.entry & ~(u32)ENTRY_IA32E_MODE);
	vmcs_write32(EXCEPTION_BITMAP, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write64(MSR_BITMAP, virt_to_phys(vm->arch.msr_bitmap));
	vm->arch.vintr->apic_mode(v);
	vmcs_write64(EPT_POINTER, vm->arch.eptp);
	if (vmx_has_vpid(&vmx_caps))
		vmcs_write16(VIRTUAL_PROCESSOR_ID, v->arch.vpid);
	/* TSC offsetting ("Time-Stamp Counter Offset"): the guest writes IA32_TSC and
	 * IA32_TSC_ADJUST (msr.c); RDTSC/RDTSCP/RDMSR add the offset without exiting. */
	if ((vmx_msrs.procbased >> 32) & CPU_USE_TSC_OFFSETTING) {
		v->arch.proc |= CPU_USE_TSC_OFFSETTING;
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v->arch.proc);
	}
	v->arch.tsc_offset = 0;
	vmcs_write64(TSC_OFFSET, 0);
	v->arch.misc_enable = MISC_ENABLE_RESET;
}

bool arch_vcpu_init(struct vcpu *v, const struct guest_entry_state *entry, char *err, size_t errlen)
{
	static u16 vpids_used;
	if (vpids_used == 0xffff) {
		hv_snprintf(err, errlen, "out of VPIDs");
		return false;
	}
	v->arch.vpid = ++vpids_used;   /* 1.. ; 0 is the host's */
	v->arch.vmcs = alloc_page();
	/* The posted-interrupt descriptor needs 64-byte alignment (Vol. 3C, "Posted-
	 * Interrupt Processing"); Bochs 3.0 rejects anything not 4-KiB aligned at VM
	 * entry with VM-instruction error 7), so it gets a page of its own. */
	v->arch.pi = alloc_page();
	/* The FPU save area: XSAVE needs 64-byte alignment ("XSAVE Area"); a page holds
	 * vmx_xsave_size bytes (fpu_probe). */
	v->arch.fpu = alloc_page();
	if (!v->arch.vmcs || !v->arch.pi || !v->arch.fpu || !vlapic_init(v)) {
		hv_snprintf(err, errlen, "out of memory for a VMCS, posted-interrupt descriptor, FPU area or APIC page");
		return false;
	}
	fpu_init_area(v->arch.fpu);
	v->arch.pi->control = pi_control(false, false, v->vm->nv, 0);
	v->arch.vmcs_pa = virt_to_phys(v->arch.vmcs);
	*(u32 *)v->arch.vmcs = vmx_caps.revision;
	/* Fill it on this CPU, then VMCLEAR so that any CPU can load it. */
	if (!vmclear(v->arch.vmcs_pa) || !vmptrld(v->arch.vmcs_pa))
		vmx_insn_failed("vmclear/vmptrld", 0, v->arch.vmcs_pa, __func__, __LINE__);
	write_controls(v);
	write_guest_state(v, entry);
	if (!vmclear(v->arch.vmcs_pa))
		vmx_insn_failed("vmclear", 0, v->arch.vmcs_pa, __func__, __LINE__);
	v->arch.launched = false;
	return true;
}

/* ---- State the VMCS does not switch ----
 *
 * A VM exit saves and a VM entry loads only what "Guest-State Area" lists; every other
 * register the guest can read keeps its value across the switch between vCPUs, so it
 * is saved when a vCPU leaves its CPU (vCPU change in vcpu_run, vmx_vcpu_put) and loaded
 * when it comes back, or the next vCPU (possibly another VM's) reads it. Per register:
 * - CR2: not in the guest-state area; the guest reads it with MOV from CR2 (no exit
 *   exists for that). Switched.
 * - DR0-DR3, DR6: only DR7 is in the guest-state area (with IA32_DEBUGCTL, both under
 *   "load debug controls"/"save debug controls", which are always 1); "MOV-DR exiting"
 *   is 0, so the guest reads and writes them directly. Switched.
 * - IA32_KERNEL_GS_BASE, IA32_STAR, IA32_LSTAR, IA32_CSTAR, IA32_FMASK: passed
 *   through by the MSR bitmap (msr.c), not in the VMCS. Switched.
 * - IA32_TSC_AUX: readable with RDTSCP and RDPID without an exit when "enable RDTSCP"
 *   is 1 (CPUID then offers RDTSCP/RDPID, cpuid.c, and the MSR exists: "IA32_TSC_AUX
 *   Register and RDTSCP Support"); passed through then and switched. Without it the
 *   MSR is neither touched on the host nor offered (#GP).
 * - XCR0 and the x87/SSE/AVX registers: with the FPU state (fpu_save, fpu_load).
 * - IA32_PAT, IA32_EFER, IA32_DEBUGCTL, DR7, SYSENTER_*, FS/GS base: in the VMCS.
 * - IA32_SPEC_CTRL, IA32_PKRU (CR4.PKE), IA32_XSS, IA32_TSC_ADJUST and every other
 *   MSR: not offered (CPUID hides them; intercepted, #GP; CR4.PKE refused), so the
 *   host's values stay in place and no guest can change them.
 * The host uses none of these itself (no paging faults, no debug registers, no
 * SYSCALL), so a vCPU's values can stay loaded while its CPU is in the hypervisor. */
static void load_guest_state(struct vcpu *v)
{
	wrmsr(MSR_IA32_KERNEL_GS_BASE, v->arch.kernel_gs_base);
	wrmsr(MSR_IA32_STAR, v->arch.star);
	wrmsr(MSR_IA32_LSTAR, v->arch.lstar);
	wrmsr(MSR_IA32_CSTAR, v->arch.cstar);
	wrmsr(MSR_IA32_FMASK, v->arch.fmask);
	if (vmx_has_rdtscp(&vmx_caps))
		wrmsr(MSR_IA32_TSC_AUX, v->arch.tsc_aux);
	write_cr2(v->arch.cr2);
	write_dr0(v->arch.dr[0]);
	write_dr1(v->arch.dr[1]);
	write_dr2(v->arch.dr[2]);
	write_dr3(v->arch.dr[3]);
	write_dr6(v->arch.dr6);
}

static void save_guest_state(struct vcpu *v)
{
	v->arch.kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
	v->arch.star = rdmsr(MSR_IA32_STAR);
	v->arch.lstar = rdmsr(MSR_IA32_LSTAR);
	v->arch.cstar = rdmsr(MSR_IA32_CSTAR);
	v->arch.fmask = rdmsr(MSR_IA32_FMASK);
	if (vmx_has_rdtscp(&vmx_caps))
		v->arch.tsc_aux = rdmsr(MSR_IA32_TSC_AUX);
	v->arch.cr2 = read_cr2();
	v->arch.dr[0] = read_dr0();
	v->arch.dr[1] = read_dr1();
	v->arch.dr[2] = read_dr2();
	v->arch.dr[3] = read_dr3();
	v->arch.dr6 = read_dr6();
}

/* A VM restart (hv/vm/restart.c; arch/x86/arch.h). The state "Processor State After
 * Reset" gives, as far as the entry protocol does not set it (write_guest_state): no
 * pending or injected event, APIC at its power-up state (xAPIC, enabled, BSP), its
 * timer off, the MSRs this file switches zero, CR2/DR0-DR3 zero, DR6 at its reset
 * value, the FPU in its initial state. The guest's translations tagged with its VPID
 * are from the previous run: flushed. */
void arch_vcpu_reset(struct vcpu *v, const struct guest_entry_state *entry)
{
	struct vlapic *l = &v->lapic;
	vmcs_write32(VM_ENTRY_CONTROLS, vmcs_read32(VM_ENTRY_CONTROLS) & ~(u32)ENTRY_IA32E_MODE);
	write_guest_state(v, entry);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	v->arch.proc &= ~(u32)(CPU_INTR_WINDOW_EXITING | CPU_NMI_WINDOW_EXITING);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v->arch.proc);
	if (v->arch.proc & CPU_TPR_SHADOW) {
		v->arch.tpr_threshold = 0;
		vmcs_write32(TPR_THRESHOLD, 0);
	}
	v->arch.misc_enable = MISC_ENABLE_RESET;
	v->arch.kernel_gs_base = v->arch.star = v->arch.lstar = v->arch.cstar = v->arch.fmask = 0;
	v->arch.tsc_aux = 0;
	v->arch.cr2 = 0;
	memset(v->arch.dr, 0, sizeof(v->arch.dr));
	load_guest_state(v);   /* v is loaded on this CPU: into the registers */
	fpu_init_area(v->arch.fpu);
	fpu_load(v);
	memset(&v->arch.walk_memo, 0, sizeof(v->arch.walk_memo));
	memset(&v->arch.insn_cache, 0, sizeof(v->arch.insn_cache));
	/* The APIC: out of x2APIC mode first (vlapic_reset keeps that mode, as INIT does). */
	l->apic_base = APIC_DEFAULT_BASE | VAPIC_BASE_ENABLE | VAPIC_BASE_BSP;
	vlapic_reset(l, v->id, v->id == 0);
	l->timer_deadline = 0;
	l->timer_period = 0;
	if (hv_timer_armed(&v->sw_timer))
		hv_timer_cancel(&v->sw_timer);
	v->nmi_pending = 0;
	__atomic_store_n(&v->nmi_queued, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 8; i++)
		__atomic_store_n(&v->arch.pi->pir[i], 0, __ATOMIC_SEQ_CST);
	pi_test_and_clear_on(v->arch.pi);
	v->vm->arch.vintr->reset(v);
	v->vm->arch.vintr->apic_mode(v);
	if (vmx_has_vpid(&vmx_caps))
		invvpid(v->arch.vpid);
}

void vmx_vcpu_put(struct vcpu *v)
{
	struct cpu *c = this_cpu();
	if (v->arch.vmcs_cpu != c)
		return;
	if (c->vcpu == v) {
		save_guest_state(v);
		fpu_save(v);
		c->vcpu = NULL;
	}
	if (!vmclear(v->arch.vmcs_pa))
		vmx_insn_failed("vmclear", 0, v->arch.vmcs_pa, __func__, __LINE__);
	v->arch.launched = false;
	v->arch.vmcs_cpu = NULL;
}

void vcpu_run(struct vcpu *v)
{
	struct cpu *c = this_cpu();

	if (c->vcpu != v) {
		/* Several VMCSs may be active on one CPU ("VMCS States"): switching
		 * between them is a VMPTRLD; VMCLEAR only when one leaves the CPU
		 * (vmx_vcpu_put). */
		struct vcpu *prev = c->vcpu;
		if (prev && prev->arch.parked) {
			prev->arch.parked = false;
			vmx_vcpu_put(prev);   /* blocked here, may migrate: released now */
		} else if (prev) {
			save_guest_state(prev);
			fpu_save(prev);
		}
		if (v->arch.vmcs_cpu && v->arch.vmcs_cpu != c)
			panic("vCPU %s/%u: VMCS still active on CPU %u, run on CPU %u\n", v->vm->name, v->id,
			      v->arch.vmcs_cpu->id, c->id);
		if (!vmptrld(v->arch.vmcs_pa))
			vmx_insn_failed("vmptrld", 0, v->arch.vmcs_pa, __func__, __LINE__);
		c->vcpu = v;
		v->cpu = c;
		if (v->arch.vmcs_cpu != c) {
			v->arch.vmcs_cpu = c;
			if (v->arch.last_cpu && v->arch.last_cpu != c)
				v->ctr.migrations++;
			v->arch.last_cpu = c;
			write_host_state(c);
			/* Translations this vCPU's VPID left on this CPU are from before it
			 * ran elsewhere (its INVLPGs and CR3 loads there did not reach this
			 * CPU): "Operations that Need Not Invalidate Cached Mappings". */
			if (vmx_has_vpid(&vmx_caps))
				invvpid(v->arch.vpid);
		}
		load_guest_state(v);
		fpu_load(v);
	}
	/* Translations removed at run time (arch_vm_unmap_mmio) leave this CPU here. */
	u32 gen = __atomic_load_n(&v->vm->arch.ept_gen, __ATOMIC_ACQUIRE);
	if (unlikely(c->arch.ept_seen[v->vm->id] != gen)) {
		invept_single(v->vm->arch.eptp);
		c->arch.ept_seen[v->vm->id] = gen;
	}
	v->arch.parked = false;
	if (!vmx_prepare_entry(v))
		cpu_run_loop();
	bool launch = !v->arch.launched;
	v->arch.launched = true;
	TRACE(TEV_ENTRY, v, 1, 0);
	vmx_enter(v, launch);
}

void arch_dump_guest(struct vcpu *v)
{
	const u64 *r = v->gpr;
	printk("  RIP=%016llx RSP=%016llx RFLAGS=%016llx\n", (unsigned long long)vmcs_readl(GUEST_RIP),
	       (unsigned long long)vmcs_readl(GUEST_RSP), (unsigned long long)vmcs_readl(GUEST_RFLAGS));
	printk("  RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", (unsigned long long)r[GPR_RAX],
	       (unsigned long long)r[GPR_RBX], (unsigned long long)r[GPR_RCX], (unsigned long long)r[GPR_RDX]);
	printk("  RSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx\n", (unsigned long long)r[GPR_RSI],
	       (unsigned long long)r[GPR_RDI], (unsigned long long)r[GPR_RBP], (unsigned long long)r[GPR_R8]);
	printk("  R9 =%016llx R10=%016llx R11=%016llx R12=%016llx\n", (unsigned long long)r[GPR_R9],
	       (unsigned long long)r[GPR_R10], (unsigned long long)r[GPR_R11], (unsigned long long)r[GPR_R12]);
	printk("  R13=%016llx R14=%016llx R15=%016llx\n", (unsigned long long)r[GPR_R13],
	       (unsigned long long)r[GPR_R14], (unsigned long long)r[GPR_R15]);
	printk("  CR0=%016llx (shadow %llx) CR3=%016llx CR4=%016llx (shadow %llx)\n",
	       (unsigned long long)vmcs_readl(GUEST_CR0), (unsigned long long)vmcs_readl(CR0_READ_SHADOW),
	       (unsigned long long)vmcs_readl(GUEST_CR3), (unsigned long long)vmcs_readl(GUEST_CR4),
	       (unsigned long long)vmcs_readl(CR4_READ_SHADOW));
	printk("  EFER=%llx CS=%04x base %llx ar %x SS=%04x ar %x activity %u interruptibility %x\n",
	       (unsigned long long)vmcs_read64(GUEST_IA32_EFER), vmcs_read16(GUEST_CS_SELECTOR),
	       (unsigned long long)vmcs_readl(GUEST_CS_BASE), vmcs_read32(GUEST_CS_AR_BYTES),
	       vmcs_read16(GUEST_SS_SELECTOR), vmcs_read32(GUEST_SS_AR_BYTES),
	       vmcs_read32(GUEST_ACTIVITY_STATE), vmcs_read32(GUEST_INTERRUPTIBILITY_INFO));
	printk("  GDTR=%llx/%x IDTR=%llx/%x entry-controls=%x IDT-vectoring=%x\n",
	       (unsigned long long)vmcs_readl(GUEST_GDTR_BASE), vmcs_read32(GUEST_GDTR_LIMIT),
	       (unsigned long long)vmcs_readl(GUEST_IDTR_BASE), vmcs_read32(GUEST_IDTR_LIMIT),
	       vmcs_read32(VM_ENTRY_CONTROLS), vmcs_read32(IDT_VECTORING_INFO_FIELD));
}

/* VMLAUNCH/VMRESUME failed with VMfail: the controls or host state are invalid. The
 * guest can provoke neither (they are the hypervisor's), but the VM cannot go on: it
 * is stopped with the diagnosis, the hypervisor and other VMs continue. */
void vmx_entry_failed(struct vcpu *v)
{
	u32 e = read_insn_error();
	v->arch.launched = false;
	vm_fault(v, "VM entry failed: VM-instruction error %u (%s)", e, insn_error_name(e));
	cpu_run_loop();
}

/* Fault-class exceptions ("Exception and Interrupt Reference": #DE, #BR, #UD, #NM, #TS,
 * #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP). */
#define FAULT_VECTORS (BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | \
		       BIT(14) | BIT(16) | BIT(17) | BIT(19) | BIT(20) | BIT(21))

/* A hardware exception the hypervisor raises for an instruction it did not complete.
 * The CPU pushes the guest RFLAGS field as the event's RFLAGS image ("Event
 * Injection"), and for a fault the image must carry RF = 1 ("EFLAGS Register":
 * "the processor sets RF in the EFLAGS image on the stack" for faults other than
 * instruction breakpoints; "Interrupt 1—Debug Exception"), so that IRET after the
 * handler does not take an instruction breakpoint on the restarted instruction twice. */
void vmx_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	(void)v;
	u32 info = vector | INTR_TYPE_HW_EXCEPTION | INTR_INFO_VALID;
	if (vector < 32 && (FAULT_VECTORS & BIT(vector)))
		vmcs_writel(GUEST_RFLAGS, vmcs_readl(GUEST_RFLAGS) | RFLAGS_RF);
	if (has_error) {
		info |= INTR_INFO_DELIVER_CODE;
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
}
