/* SPDX-License-Identifier: MIT */
/* The VMCALL hypercall ABI (hv/vm/hypercall.h, docs/INTERFACES.md). */
#include "hv/vm/vm.h"
#include "hv/vm/hypercall.h"
#include "hv/sched/sched.h"
#include "hv/host/time.h"
#include "arch/x86/x86.h"
#include "hv/trace/trace.h"

static u64 counter(const struct vcpu *v, u64 id)
{
	if (id >= HC_CTR_EXIT_REASON && id < HC_CTR_EXIT_REASON + NR_EXIT_REASONS)
		return v->exits[id - HC_CTR_EXIT_REASON];
	switch (id) {
	case HC_CTR_EXITS_TOTAL: return v->exits_total;
	case HC_CTR_EXITS_CPUID: return v->exits[EXIT_REASON_CPUID];
	case HC_CTR_EXITS_VMCALL: return v->exits[EXIT_REASON_VMCALL];
	case HC_CTR_EXITS_IO: return v->exits[EXIT_REASON_IO_INSTRUCTION];
	case HC_CTR_EXITS_MSR: return (u64)v->exits[EXIT_REASON_MSR_READ] + v->exits[EXIT_REASON_MSR_WRITE];
	case HC_CTR_POSTED: return __atomic_load_n(&v->ctr.posted, __ATOMIC_RELAXED);
	case HC_CTR_NOTIFY_IPIS: return __atomic_load_n(&v->ctr.notify_ipis, __ATOMIC_RELAXED);
	case HC_CTR_WAKEUPS: return __atomic_load_n(&v->ctr.wakeups, __ATOMIC_RELAXED);
	case HC_CTR_FASTPATH: return v->ctr.fastpath;
	case HC_CTR_INJECTED: return v->ctr.injected;
	case HC_CTR_IRQ_WINDOWS: return v->exits[EXIT_REASON_INTERRUPT_WINDOW];
	case HC_CTR_ELIDED: return __atomic_load_n(&v->ctr.elided, __ATOMIC_RELAXED);
	case HC_CTR_CTX_SWITCHES: return v->ctr.ctx_switches;
	case HC_CTR_BLOCKS: return v->ctr.blocks;
	case HC_CTR_WAKEUP_TICKS: return v->ctr.wakeup_ticks;
	case HC_CTR_RUNNABLE_TICKS: return v->ctr.runnable_ticks;
	case HC_CTR_MAX_RUNNABLE_TICKS: return v->ctr.max_runnable_ticks;
	case HC_CTR_YIELDS: return v->ctr.yields;
	case HC_CTR_YIELDS_WASTED: return v->ctr.yields_wasted;
	case HC_CTR_PREEMPTIONS: return v->ctr.preemptions;
	case HC_CTR_PLE_EXITS: return v->ctr.ple_exits;
	case HC_CTR_WAKE_VECTOR: return v->ctr.wake_vector;
	case HC_CTR_MIGRATIONS: return v->ctr.migrations;
	case HC_CTR_WAKE_POLL: return v->ctr.wake_poll;
	case HC_CTR_RUN_TICKS: return v->ctr.run_ticks + (v->cpu && v->cpu->curr == v ? rdtsc() - v->run_since : 0);
	case HC_CTR_BALANCED: return v->ctr.balanced;
	case HC_CTR_WAKE_PREEMPTS: return v->ctr.wake_preempts;
	case HC_CTR_REMOTE_BOOSTS: return v->ctr.remote_boosts;
	}
	return (u64)HC_EINVAL;
}

/* The rarer calls are out of line so the common ones need no saved registers. */

static __attribute__((noinline)) u64 hc_info(struct vcpu *v, u64 item)
{
	struct vm *vm = v->vm;
	switch (item) {
	case HC_INFO_TSC_HZ:
	case HC_INFO_APIC_TIMER_HZ:   /* the vLAPIC timer counts TSC ticks (hv/irq/vlapic.c) */
		return tsc_hz;
	case HC_INFO_NR_VCPUS:
		return vm->nr_vcpus;
	case HC_INFO_SLICE_TICKS:
		return sched_slice_ticks();
	case HC_INFO_RESTARTS:
		return vm->restarts;
	case HC_INFO_FEATURES:
		return (vm->apicv ? HC_FEAT_APICV : 0) | (vm->ptimer ? HC_FEAT_PREEMPT_TIMER : 0) |
		       (vm->fastpath ? HC_FEAT_FASTPATH : 0) | (vm->elide ? HC_FEAT_ELIDE : 0);
	}
	return (u64)HC_EINVAL;
}

/* HC_RACE_POST: make the target's entry path stop at a window, then post to it from
 * here (another CPU) through the ordinary path, then let it go on. The target must be
 * busy exiting and re-entering (the test guest makes it loop on an exit). */
bool hc_test_hooks;   /* the hypervisor's test_hooks option (boot_main) */

static __attribute__((noinline)) u64 hc_race_post(struct vcpu *v, u64 target, u64 vector, u64 window)
{
	struct vm *vm = v->vm;
	/* Both CPUs wait with interrupts off (bounded): other VMs' vCPUs there wait too.
	 * A test hook, so only when the hypervisor was booted with test_hooks. */
	if (!hc_test_hooks)
		return (u64)HC_ENOSYS;
	if (target >= vm->nr_vcpus || vm->vcpus[target] == v || vector < 16 || vector > 255 ||
	    window < HC_RACE_WINDOW_IRQS_OFF || window > HC_RACE_WINDOW_SYNCED || vm->vcpus[target]->cpu == v->cpu)
		return (u64)HC_EINVAL;
	struct vcpu *t = vm->vcpus[target];
	t->race.reached = 0;
	t->race.posted = 0;
	__atomic_store_n(&t->race.window, (u32)window, __ATOMIC_SEQ_CST);
	u64 end = rdtsc() + 200000000ull;
	while (!__atomic_load_n(&t->race.reached, __ATOMIC_SEQ_CST)) {
		if (rdtsc() > end || vm->state != VM_RUNNING) {
			t->race.window = 0;
			return (u64)HC_ETIMEDOUT;
		}
		cpu_relax();
	}
	u64 at = t->exits_total;   /* stable: the target waits at the window */
	TRACE_SOURCE(TSRC_OTHER);
	vcpu_post_irq(t, (u8)vector, false);
	__atomic_store_n(&t->race.posted, 1, __ATOMIC_SEQ_CST);
	return at;
}
static __attribute__((noinline)) enum exit_action hc_exit(struct vcpu *v)
{
	u32 value = (u32)v->gpr[GPR_RBX];
	vm_stop(v->vm, (int)(((value << 1) | 1) & 0xff), true, value, "HC_EXIT hypercall with 0x%x", value);
	return EXIT_LEAVE;
}

_Static_assert(HC_PUTS_MAX <= VUART_PUTS_MAX, "an HC_PUTS line fits the UART's line buffer");

/* Through the UART's lock, as COM1 output (hv/dev/vuart.c). */
static __attribute__((noinline)) u64 hc_puts(struct vcpu *v)
{
	u64 len = v->gpr[GPR_RCX];
	const char *s = len <= HC_PUTS_MAX ? gpa_to_hva(v->vm, v->gpr[GPR_RBX], len) : NULL;
	if (!s)
		return (u64)HC_EINVAL;
	vuart_puts(v->vm, s, len);
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
		ret = counter(v, r[GPR_RBX]);
		break;
	case HC_GET_INFO:
		ret = hc_info(v, r[GPR_RBX]);
		break;
	case HC_VCPU_COUNTER:
		ret = r[GPR_RCX] < v->vm->nr_vcpus ? counter(v->vm->vcpus[r[GPR_RCX]], r[GPR_RBX]) : (u64)HC_EINVAL;
		break;
	case HC_IOAPIC_LINE:
		if (r[GPR_RBX] >= VIOAPIC_PINS || r[GPR_RCX] > 1) {
			ret = (u64)HC_EINVAL;
			break;
		}
		vioapic_set_irq(&v->vm->ioapic, (unsigned)r[GPR_RBX], r[GPR_RCX]);
		ret = 0;
		break;
	case HC_RACE_POST:
		ret = hc_race_post(v, r[GPR_RBX], r[GPR_RCX], r[GPR_RDX]);
		break;
	default:
		ret = (u64)HC_ENOSYS;
		break;
	}
	r[GPR_RAX] = ret;
	return EXIT_SKIP;
}
