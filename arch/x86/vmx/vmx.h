/* SPDX-License-Identifier: MIT */
/* The VMX layer's internal interface (arch/x86/vmx/); what the core may call is in
 * arch/x86/arch.h. */
#ifndef ARCH_X86_VMX_VMX_H
#define ARCH_X86_VMX_VMX_H

#include "hv/lib/types.h"
#include "arch/x86/vmx/caps.h"
#include "arch/x86/paging.h"
#include "hv/vm/vm.h"
#include "arch/x86/arch.h"

struct vcpu;
struct vm;
struct cpu;

extern struct vmx_caps vmx_caps;
/* Read the calling CPU's VMX capability MSRs (cpucheck.c). */
struct vmx_msrs;
void vmx_read_msrs(struct vmx_msrs *m);
/* The XCR0 bits a guest may set (XCR0_GUEST_MASK, what the CPU supports, and what fits
 * a vCPU's FPU save area) and the standard-format XSAVE area size they need; both 0
 * without XSAVE. Set by arch_probe. */
extern u64 vmx_xcr0_allowed;
extern u32 vmx_xsave_size;

/* After ept_map/ept_unmap changed live tables of vm (vm->arch.ept.flush_needed): INVEPT
 * single-context of its EPTP on this CPU (arch/x86/vmx/ept.h, "Changing live tables").
 * Other CPUs that ran its vCPUs are not flushed: a change to a VM whose vCPUs run on
 * several CPUs must first stop them there (no remote flush exists yet). */
void vmx_ept_flush(struct vm *vm);

/* Make v's VMCS inactive on this CPU (VMCLEAR) so another CPU may load it. */
void vmx_vcpu_put(struct vcpu *v);
/* Real-mode start of an AP at vector << 12 (v's own CPU, VMCS current). */
void vmx_vcpu_start_ap(struct vcpu *v, u8 vector);
/* The CR0 the CPU runs the guest with for the guest-visible (read-shadow) CR0. */
u64 vmx_guest_cr0(u64 shadow);
/* The entry path (vmentry.c): interrupts off, mark in guest, sync PIR, timers. false:
 * do not enter (the vCPU stopped, blocked or must wait). */
bool vmx_prepare_entry(struct vcpu *v);
/* Handle REQ_* bits on v's own CPU (VMCS current). */
void vmx_handle_requests(struct vcpu *v);

/* The entry/exit stub (entry.S). */
void vmx_enter(struct vcpu *v, bool launch) __noreturn;
void vmx_exit_stub(void);
/* Called by the stub: 0 = resume the guest, else leave to the run loop. */
u64 vmx_handle_exit(struct vcpu *v);
/* The exit handlers by basic exit reason, for entry.S (exit_dispatch.c). */
typedef u64 (*exit_entry_t)(struct vcpu *v, u32 reason);
extern const exit_entry_t vmx_exit_entry[];
void vmx_entry_failed(struct vcpu *v) __noreturn;

/* Guest CPUID and MSRs (cpuid.c, msr.c). */
void guest_cpuid(struct vcpu *v, u32 leaf, u32 sub, u32 out[4]);
/* Basic leaves 0..CPUID_CACHE_BASIC are slots 0..CPUID_CACHE_BASIC of the VM's CPUID
 * cache (cpuid.c, cache_slot), valid once computed and never for leaves it does not
 * cache: the CPUID exit reads a hit inline. */
#define CPUID_CACHE_BASIC 0xdu
/* The CR4 bits the guest's CPUID allows it to set (cpuid.c, table there). */
u64 guest_cr4_valid(struct vcpu *v);
/* The guest's view of CR4: its own bits from GUEST_CR4, host-owned ones from the read
 * shadow ("Guest/Host Masks and Read Shadows for CR0 and CR4"); VMCS current. */
u64 guest_cr4(struct vcpu *v);
/* IA32_MISC_ENABLE after reset: fast strings; BTS and PEBS unavailable (msr.c). */
#define MISC_ENABLE_RESET (BIT64(0) | BIT64(11) | BIT64(12))
enum exit_action handle_rdmsr(struct vcpu *v);
enum exit_action handle_wrmsr(struct vcpu *v);
void msr_bitmap_init(u8 *bitmap);
void msr_bitmap_init_x2apic(u8 *bitmap, const u8 *base);
/* Guest registers by SDM register number (RSP from the VMCS); the VMCS must be current. */
u64 vcpu_gpr_read(struct vcpu *v, unsigned n);
void vcpu_gpr_write(struct vcpu *v, unsigned n, u64 val);
/* Translate the guest-linear address la for an access the hypervisor makes for the
 * guest (gwalk.c: arch/x86/paging.c with the current VMCS's paging state, guest RAM
 * only; sets the accessed/dirty flags when it succeeds). */
enum pw_result vmx_guest_walk(struct vcpu *v, u64 la, enum pw_access_type type, unsigned flags,
			      struct pw_out *out);
/* A failed vmx_guest_walk: inject the #PF (error code, CR2 = la) or #GP(0) for a
 * non-canonical address, resume for PW_RETRY, or stop the VM naming `what` when the
 * walk reached a GPA outside RAM. Returns what the exit handler returns. */
enum exit_action vmx_guest_walk_failed(struct vcpu *v, u64 la, enum pw_result r, const struct pw_out *out,
				       const char *what);
void vmx_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);

#endif
