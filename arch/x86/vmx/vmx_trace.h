/* SPDX-License-Identifier: MIT */
/* VM exit and entry records (arch/x86/vmx/trace.c). */
#ifndef ARCH_X86_VMX_VMX_TRACE_H
#define ARCH_X86_VMX_VMX_TRACE_H

#include "hv/lib/types.h"

struct vcpu;
/* trace= records exits or entries: HOST_RIP is vmx_exit_stub_traced. */
bool vmx_trace_exits(void);
void vmx_exit_stub_traced(void);           /* entry.S */
u64 vmx_handle_exit_traced(struct vcpu *v);

#endif
