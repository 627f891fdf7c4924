/* SPDX-License-Identifier: MIT */
/* The VMCALL hypercall ABI (hv/hypercall.h, docs/INTERFACES.md). */
#include "hv/vm.h"
#include "hv/hypercall.h"

static u64 counter(const struct vcpu *v, u64 id)
{
	switch (id) {
	case HC_CTR_EXITS_TOTAL: return v->exits_total;
	case HC_CTR_EXITS_CPUID: return v->exits[EXIT_REASON_CPUID];
	case HC_CTR_EXITS_VMCALL: return v->exits[EXIT_REASON_VMCALL];
	case HC_CTR_EXITS_IO: return v->exits[EXIT_REASON_IO_INSTRUCTION];
	case HC_CTR_EXITS_MSR: return (u64)v->exits[EXIT_REASON_MSR_READ] + v->exits[EXIT_REASON_MSR_WRITE];
	}
	return (u64)HC_EINVAL;
}

/* The rarer calls are out of line so the common ones need no saved registers. */
static __attribute__((noinline)) enum exit_action hc_exit(struct vcpu *v)
{
	u32 value = (u32)v->gpr[GPR_RBX];
	vm_stop(v->vm, (int)(((value << 1) | 1) & 0xff), true, value, "HC_EXIT hypercall with 0x%x", value);
	return EXIT_LEAVE;
}

static __attribute__((noinline)) u64 hc_puts(struct vcpu *v)
{
	u64 len = v->gpr[GPR_RCX];
	const char *s = len <= HC_PUTS_MAX ? gpa_to_hva(v->vm, v->gpr[GPR_RBX], len) : NULL;
	if (!s)
		return (u64)HC_EINVAL;
	for (u64 i = 0; i < len; i++)
		vuart_putc(v->vm, s[i]);
	return len;
}

enum exit_action hypercall(struct vcpu *v)
{
	u64 *r = v->gpr;
	u64 ret;

	switch (r[GPR_RAX]) {
	case HC_NOP:
		ret = 0;
		break;
	case HC_VERSION:
		ret = HC_ABI_VERSION;
		break;
	case HC_EXIT:
		return hc_exit(v);
	case HC_PUTS:
		ret = hc_puts(v);
		break;
	case HC_VCPU_ID:
		ret = v->id;
		break;
	case HC_GET_COUNTER:
		ret = r[GPR_RBX] < HC_CTR_MAX ? counter(v, r[GPR_RBX]) : (u64)HC_EINVAL;
		break;
	default:
		ret = (u64)HC_ENOSYS;
		break;
	}
	r[GPR_RAX] = ret;
	return EXIT_SKIP;
}
