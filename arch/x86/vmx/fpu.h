/* SPDX-License-Identifier: MIT */
#ifndef ARCH_X86_VMX_FPU_H
#define ARCH_X86_VMX_FPU_H

#include "arch/x86/vmx/vmx.h"
#include "arch/x86/x86.h"
#include "hv/vm/vm.h"

/*
 * The guests' FPU state (fpu.c, and the switches below, inlined into vmx.c's vcpu_run).
 *
 * The hypervisor is built with -mgeneral-regs-only and never uses x87/SSE/AVX
 * registers itself, so they hold the guest's values from VM exit to VM entry. When a
 * CPU changes the vCPU it runs (vcpu_run) or a vCPU leaves its CPU (vmx_vcpu_put), the
 * registers are saved to the outgoing vCPU's area and the incoming vCPU's are loaded:
 * with XSAVE/XRSTOR when the CPU has the XSAVE feature set (CR4.OSXSAVE is set by
 * arch_cpu_on), with FXSAVE/FXRSTOR otherwise.
 *
 * XSAVE and XRSTOR act only on the components in XCR0 AND the instruction mask (SDM
 * Vol. 1, "Operation of XSAVE", "Operation of XRSTOR"), so both run with XCR0 set to
 * every component a guest may enable (vmx_xcr0_allowed), not with the guest's XCR0:
 * - XCR0[1] does not decide whether SSE instructions execute, only whether XSAVE
 *   manages their state ("Enabling the XSAVE Feature Set and XSAVE-Enabled
 *   Features"): a guest with XCR0 = 1 uses XMM registers that an XSAVE under its
 *   XCR0 would not save.
 * - The processor preserves AVX and AVX-512 state unmodified when software clears
 *   their XCR0 bits (same section): an XRSTOR under a narrower XCR0 would leave the
 *   previous vCPU's values there, readable by the incoming vCPU once it sets those
 *   bits (possibly another VM's).
 * So the sequence is: XCR0 := allowed, XSAVE (outgoing), XRSTOR (incoming: every
 * offered component from its area, or in its initial configuration where its
 * XSTATE_BV bit is 0), XCR0 := the incoming guest's XCR0. One extra XSETBV per switch
 * when the outgoing guest's XCR0 is not `allowed`; XSAVEOPT is not used. */
extern bool vmx_fpu_xsave;   /* XSAVE/XRSTOR, else FXSAVE/FXRSTOR (fpu_probe) */

/* BSP, at boot: which instructions switch the FPU state, and the XCR0 bits guests get
 * (vmx_xcr0_allowed, vmx_xsave_size). */
void fpu_probe(void);
/* A new or reset vCPU's area: the power-up register values. */
void fpu_init_area(void *area);

/* v's registers are loaded on this CPU: save them. */
static inline void fpu_save(struct vcpu *v)
{
	if (!vmx_fpu_xsave) {
		fxsave(v->arch.fpu);
		return;
	}
	if (xgetbv(0) != vmx_xcr0_allowed)
		xsetbv(0, vmx_xcr0_allowed);
	xsave(v->arch.fpu, vmx_xcr0_allowed);
}

/* Load v's registers and its XCR0 on this CPU (no other vCPU's are unsaved here); out
 * of line, as it was measured (docs/benchmarks.md). */
void fpu_load(struct vcpu *v);

#endif
