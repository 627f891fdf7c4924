/* SPDX-License-Identifier: MIT */
/*
 * Guest page walks for accesses the hypervisor makes on the guest's behalf (string
 * I/O elements, the MMIO instruction fetch): arch/x86/paging.c with the paging state
 * of the current VMCS, guest RAM behind the callbacks, and what a failed walk does to
 * the guest.
 *
 * State ("Guest Register State"): GUEST_CR0/CR3/CR4 are the values the CPU runs the
 * guest with (not the read shadows), GUEST_IA32_EFER holds LMA and NXE, and the CPL is
 * SS.DPL ("the value of the DPL field for SS is always equal to the logical
 * processor's current privilege level", "Checks on Guest Segment Registers"). In PAE
 * paging the CPU saves its PDPTE registers in GUEST_PDPTE0-3 on every exit with EPT
 * ("Saving Guest State"), and exit_cr.c:load_pdptes loads them when the hypervisor
 * emulates the paging change. MAXPHYADDR and 1-GByte page support are the host's,
 * which CPUID shows the guest unchanged (cpuid.c). PKRU is not read: CPUID hides PKU
 * from guests (cpuid.c, ECX7_KEPT) and the host runs without CR4.PKE, where RDPKRU
 * faults, so the state has pkru = 0 (all keys allow every access) even if a guest
 * sets CR4.PKE.
 *
 * Memory: paging-structure entries are read from guest RAM only. An entry outside RAM,
 * or in one of the emulated device pages (the vIOAPIC and the local APIC page, which
 * EPT may cover with RAM when mem= reaches them), is never read from a device: the walk
 * stops and so does the VM (vm_fault), as an EPT violation or APIC-access exit of the
 * CPU's own walk into those pages does (mmio.c:vm_mmio_dispatch, exit_io.c). The
 * accessed and dirty flags are set with a locked compare-exchange on the entry in RAM,
 * as the CPU's own update is atomic against other vCPUs. A walk whose inputs and
 * entries are those of the vCPU's previous walk is answered from its memo
 * (pw_translate_memo), which gives the same result with no entry to update.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/x86.h"
#include "hv/irq/vioapic.h"
#include "hv/irq/vlapic.h"

#define SS_AR_DPL(ar) (((ar) >> 5) & 3)

static bool is_device_page(u64 gpa)
{
	u64 page = gpa & ~(PAGE_SIZE - 1);
	return page == VIOAPIC_BASE || page == APIC_DEFAULT_BASE;
}

static void *entry_hva(struct vm *vm, u64 gpa, unsigned size)
{
	return is_device_page(gpa) ? NULL : gpa_to_hva(vm, gpa, size);
}

static bool ram_read(void *ctx, u64 gpa, unsigned size, u64 *val)
{
	const void *p = entry_hva(ctx, gpa, size);
	if (!p)
		return false;
	*val = size == 8 ? __atomic_load_n((const u64 *)p, __ATOMIC_RELAXED)
			 : __atomic_load_n((const u32 *)p, __ATOMIC_RELAXED);
	return true;
}

static const void *ram_ptr(void *ctx, u64 gpa, unsigned size)
{
	return entry_hva(ctx, gpa, size);
}

static bool ram_cmpxchg(void *ctx, u64 gpa, unsigned size, u64 old, u64 new_val)
{
	void *p = entry_hva(ctx, gpa, size);
	if (!p)
		return false;
	if (size == 8)
		return __atomic_compare_exchange_n((u64 *)p, &old, new_val, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	u32 o32 = (u32)old;
	return __atomic_compare_exchange_n((u32 *)p, &o32, (u32)new_val, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

/* CPUID.80000008H:EAX[7:0] and CPUID.80000001H:EDX[26], read once (every CPU gives the
 * same answer: a racing first use writes the same values). */
static unsigned host_maxphyaddr;
static bool host_gbpages;

static void read_host_paging_caps(void)
{
	u32 a, b, c, d;
	unsigned m = 36;
	bool gb = false;
	cpuid_count(0x80000000u, 0, &a, &b, &c, &d);
	if (a >= 0x80000001u) {
		cpuid_count(0x80000001u, 0, &a, &b, &c, &d);
		gb = d & BIT(26);
		cpuid_count(0x80000000u, 0, &a, &b, &c, &d);
	}
	if (a >= 0x80000008u) {
		cpuid_count(0x80000008u, 0, &a, &b, &c, &d);
		m = a & 0xff;
	}
	WRITE_ONCE(host_gbpages, gb);   /* volatile stores stay in this order */
	WRITE_ONCE(host_maxphyaddr, m);
}

enum pw_result vmx_guest_walk(struct vcpu *v, u64 la, enum pw_access_type type, unsigned flags, struct pw_out *out)
{
	if (!READ_ONCE(host_maxphyaddr))
		read_host_paging_caps();
	/* Field by field, not an initializer: zeroing the whole struct first is a string
	 * store, which costs a tick per element under Bochs on this hot path. */
	struct pw_state s;
	s.cr0 = vmcs_readl(GUEST_CR0);
	s.cr3 = vmcs_readl(GUEST_CR3);
	s.cr4 = vmcs_readl(GUEST_CR4);
	s.efer = vmcs_read64(GUEST_IA32_EFER);
	s.rflags = vmcs_readl(GUEST_RFLAGS);
	s.cpl = SS_AR_DPL(vmcs_read32(GUEST_SS_AR_BYTES));
	s.maxphyaddr = host_maxphyaddr;
	s.gbpages = READ_ONCE(host_gbpages);
	s.pkru = 0;
	if (pw_mode(&s) == 3) {
		s.pdpte[0] = vmcs_read64(GUEST_PDPTE0);
		s.pdpte[1] = vmcs_read64(GUEST_PDPTE1);
		s.pdpte[2] = vmcs_read64(GUEST_PDPTE2);
		s.pdpte[3] = vmcs_read64(GUEST_PDPTE3);
	} else {
		s.pdpte[0] = s.pdpte[1] = s.pdpte[2] = s.pdpte[3] = 0;
	}
	const struct pw_mem m = { ram_read, ram_cmpxchg, v->vm, ram_ptr };
	/* The same instruction's MMIO exits walk the same page again and again: the memo
	 * (arch/x86/paging.h) answers while the state and every entry used are unchanged.
	 * The RAM allocation behind ram_ptr's pointers lives as long as the VM. */
	return pw_translate_memo(&v->arch.walk_memo, &s, &m, la, type, flags, out);
}

enum exit_action vmx_guest_walk_failed(struct vcpu *v, u64 la, enum pw_result r, const struct pw_out *out,
				       const char *what)
{
	switch (r) {
	case PW_FAULT:
		/* "Interrupt 14—Page-Fault Exception": CR2 holds the linear address. The
		 * hardware CR2 is the guest's while its vCPU is loaded (the host takes no
		 * page faults), so it is written here, before the entry delivers the #PF. */
		asm volatile("mov %0, %%cr2" : : "r"(la) : "memory");
		vmx_inject_exception(v, X86_PF, true, out->error);
		return EXIT_RESUME;
	case PW_NONCANONICAL:
		/* A non-canonical address faults with #GP(0) (#SS(0) for SS references,
		 * which string I/O never makes: ES for INS, DS or an override for OUTS). */
		vmx_inject_exception(v, X86_GP, true, 0);
		return EXIT_RESUME;
	case PW_RETRY:
		/* Other vCPUs kept rewriting the entries: let the instruction run again. */
		return EXIT_RESUME;
	case PW_NOT_MEMORY:
		vm_fault(v, "page walk for %s at linear 0x%llx: level-%d entry at GPA 0x%llx %s", what,
			 (unsigned long long)la, out->level, (unsigned long long)out->bad_gpa,
			 is_device_page(out->bad_gpa) ? "in a device page (not read)" : "outside guest RAM");
		return EXIT_LEAVE;
	case PW_OK:
		break;
	}
	vm_fault(v, "guest page walk for %s: unexpected result %d", what, (int)r);
	return EXIT_LEAVE;
}
