/* SPDX-License-Identifier: MIT */
/*
 * VM exit and entry records (hv/trace/trace.h). When trace= has `exit` or `entry`, the
 * VMCS's HOST_RIP is vmx_exit_stub_traced (entry.S, vmx.c:write_host_state), which
 * comes here instead of going to vmx_exit_entry directly: the exit is recorded, the
 * exit is dispatched exactly as the plain stub does, and a resume is recorded as an
 * entry. Without trace= the plain stub runs and nothing here costs anything. Entries
 * from the run loop are recorded by vcpu_run.
 */
#include "arch/x86/vmx/exit_internal.h"
#include "arch/x86/vmx/vmx_trace.h"
#include "hv/trace/trace.h"

bool vmx_trace_exits(void)
{
	return trace_mask & (TRACE_BIT(TEV_EXIT) | TRACE_BIT(TEV_ENTRY));
}

u64 vmx_handle_exit_traced(struct vcpu *v)
{
	u32 reason = vmcs_read32(VM_EXIT_REASON);
	if (trace_mask & TRACE_BIT(TEV_EXIT)) {
		/* External interrupt: the interruption information (the host vector);
		 * VMCALL: the hypercall number (RAX). Neither exit has a qualification
		 * ("Basic VM-Exit Information"). */
		u32 basic = reason & 0xffff;
		u64 q = basic == EXIT_REASON_EXTERNAL_INTERRUPT ? vmcs_read32(VM_EXIT_INTR_INFO)
			: basic == EXIT_REASON_VMCALL		? v->gpr[GPR_RAX]
								: vmcs_readl(EXIT_QUALIFICATION);
		trace_emit(TEV_EXIT, v, reason, q);
	}
	u64 r = reason < NR_EXIT_REASONS ? vmx_exit_entry[reason](v, reason) : vmx_handle_exit(v);
	if (!r)
		trace_emit(TEV_ENTRY, v, 0, 0);
	return r;
}
