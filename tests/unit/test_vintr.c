/* SPDX-License-Identifier: MIT */
/*
 * arch/x86/vmx/vintr.c, event injection (vmx_inject_pending_irq): an external
 * interrupt is injected only when the guest can take it at that instruction boundary,
 * else the interrupt-window control is set and the vector stays in the IRR. The rules
 * (Intel SDM Vol. 3C, "Event Injection", "Checks on Guest Non-Register State",
 * "Interruptibility State"; Vol. 3A, "Priority Among Concurrent Events"):
 *   - RFLAGS.IF = 0: no external interrupt (kernel entry/exit paths, e.g. Linux's
 *     return to user mode on the entry trampoline stack, run with IF = 0);
 *   - blocking by STI or by MOV SS: none for one instruction;
 *   - an event already in the VM-entry interruption-information field (re-injected
 *     from the IDT-vectoring information, an NMI, an exception): nothing on top of it;
 *   - a pending single-step trap (pending debug exceptions BS): the #DB goes first.
 * The VMCS is the HV_HOST_TEST array; the vLAPIC registers are the real ones
 * (hv/irq/vlapic_regs.c).
 */
#include "tests/unit/support.h"
#include "arch/x86/vmx/exit_internal.h"
#include "hv/vm/vm.h"

u64 test_vmcs[0x8000];

void vmx_insn_failed(const char *insn, u64 field, u64 value, const char *caller, int line)
{
	fail_msg("vmx_insn_failed(%s, 0x%llx, 0x%llx) from %s:%d", insn, (unsigned long long)field,
		 (unsigned long long)value, caller, line);
}

/* vintr.c's APICv half links against these; the injection tests never call them. */
void *alloc_pages_zeroed(u64 bytes, u64 align)
{
	(void)bytes, (void)align;
	fail_msg("alloc_pages_zeroed");
	return NULL;
}
bool ept_map(struct ept *e, u64 gpa, u64 hpa, u64 len, u64 perm, u64 mt)
{
	(void)e, (void)gpa, (void)hpa, (void)len, (void)perm, (void)mt;
	fail_msg("ept_map");
	return false;
}
void vioapic_level_vectors(struct vioapic *io, u64 bm[4])
{
	(void)io;
	memset(bm, 0, 32);
}

static struct vm vm;
static struct vcpu vcpu;
static struct pi_desc pi __attribute__((aligned(64)));

static int setup(void **state)
{
	(void)state;
	memset(test_vmcs, 0, sizeof(test_vmcs));
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	memset(&pi, 0, sizeof(pi));
	vcpu.vm = &vm;
	vcpu.arch.pi = &pi;
	vcpu.lapic.regs = aligned_alloc(4096, 4096);
	assert_non_null(vcpu.lapic.regs);
	vlapic_reset(&vcpu.lapic, 0, true);
	vlapic_set_reg(&vcpu.lapic, APIC_SVR, APIC_SVR_ENABLE | 0xff);
	vcpu.arch.proc = 0;   /* no TPR shadow: the threshold logic stays out of the way */
	vmcs_writel(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(vcpu.lapic.regs);
	return 0;
}

static u32 entry_info(void)
{
	return vmcs_read32(VM_ENTRY_INTR_INFO_FIELD);
}

static bool window(void)
{
	return (vcpu.arch.proc & CPU_INTR_WINDOW_EXITING) &&
	       (vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) & CPU_INTR_WINDOW_EXITING);
}

/* Nothing injected, the vector still requested, the window asked for. */
static void held(u8 vec)
{
	assert_int_equal(entry_info() & INTR_INFO_VALID, 0);
	assert_true(vlapic_vec_test(&vcpu.lapic, APIC_IRR, vec));
	assert_false(vlapic_vec_test(&vcpu.lapic, APIC_ISR, vec));
	assert_true(window());
	assert_int_equal(vcpu.ctr.injected, 0);
}

static void injects_when_open(void **state)
{
	(void)state;
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0x31);
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0x41);
	vmx_inject_pending_irq(&vcpu);
	assert_int_equal(entry_info(), 0x41 | INTR_TYPE_EXT_INTR | INTR_INFO_VALID);
	assert_true(vlapic_vec_test(&vcpu.lapic, APIC_ISR, 0x41));
	assert_false(vlapic_vec_test(&vcpu.lapic, APIC_IRR, 0x41));
	assert_int_equal(vcpu.ctr.injected, 1);
	/* 0x31 is below the one now in service: no window for it (PPR holds it off). */
	assert_false(window());
	assert_true(vlapic_vec_test(&vcpu.lapic, APIC_IRR, 0x31));
}

static void second_one_asks_for_window(void **state)
{
	(void)state;
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0x41);
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0x51);
	vmx_inject_pending_irq(&vcpu);
	assert_int_equal(entry_info(), 0x51 | INTR_TYPE_EXT_INTR | INTR_INFO_VALID);
	assert_false(window());   /* 0x41 is below 0x51's class: held by PPR */
	/* a higher one arriving while 0x51 is being injected: the window */
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0x61);
	vmx_inject_pending_irq(&vcpu);
	assert_int_equal(entry_info(), 0x51 | INTR_TYPE_EXT_INTR | INTR_INFO_VALID);
	assert_true(window());
	assert_true(vlapic_vec_test(&vcpu.lapic, APIC_IRR, 0x61));
}

static void if_clear_holds(void **state)
{
	(void)state;
	vmcs_writel(GUEST_RFLAGS, RFLAGS_FIXED);
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0xec);
	vmx_inject_pending_irq(&vcpu);
	held(0xec);
	/* the window exit: IF = 1 now; the entry path injects */
	vmcs_writel(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF);
	vmx_inject_pending_irq(&vcpu);
	assert_int_equal(entry_info(), 0xec | INTR_TYPE_EXT_INTR | INTR_INFO_VALID);
	assert_false(window());
}

static void sti_and_mov_ss_block(void **state)
{
	(void)state;
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0xec);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, INTR_BLOCK_STI);
	vmx_inject_pending_irq(&vcpu);
	held(0xec);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, INTR_BLOCK_MOV_SS);
	vmx_inject_pending_irq(&vcpu);
	held(0xec);
	/* blocking by NMI does not hold off a maskable interrupt */
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, INTR_BLOCK_NMI);
	vmx_inject_pending_irq(&vcpu);
	assert_int_equal(entry_info(), 0xec | INTR_TYPE_EXT_INTR | INTR_INFO_VALID);
}

/* An event in the entry field (re-injected after an exit during its delivery, or an
 * NMI or exception the hypervisor injects) is not replaced or stacked on. */
static void pending_event_not_overwritten(void **state)
{
	(void)state;
	static const u32 events[] = {
		0x20 | INTR_TYPE_EXT_INTR | INTR_INFO_VALID,                            /* re-injected */
		2 | INTR_TYPE_NMI | INTR_INFO_VALID,
		14 | INTR_TYPE_HW_EXCEPTION | INTR_INFO_DELIVER_CODE | INTR_INFO_VALID,  /* #PF */
		3 | INTR_TYPE_SW_EXCEPTION | INTR_INFO_VALID,                           /* INT3 */
	};
	for (size_t i = 0; i < ARRAY_SIZE(events); i++) {
		setup(NULL);
		vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0xec);
		vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, events[i]);
		vmx_inject_pending_irq(&vcpu);
		assert_int_equal(entry_info(), events[i]);
		assert_true(vlapic_vec_test(&vcpu.lapic, APIC_IRR, 0xec));
		assert_false(vlapic_vec_test(&vcpu.lapic, APIC_ISR, 0xec));
		assert_true(window());
		teardown(NULL);
	}
	setup(NULL);
}

static void single_step_trap_first(void **state)
{
	(void)state;
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0xec);
	vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	vmx_inject_pending_irq(&vcpu);
	held(0xec);
}

static void nothing_pending_clears_window(void **state)
{
	(void)state;
	vcpu.arch.proc = CPU_INTR_WINDOW_EXITING;
	vmx_inject_pending_irq(&vcpu);
	assert_int_equal(entry_info(), 0);
	assert_false(window());
	/* a masked-off vector (TPR) is not deliverable either */
	vlapic_set_reg(&vcpu.lapic, APIC_TPR, 0xf0);
	vlapic_vec_set(&vcpu.lapic, APIC_IRR, 0x81);
	vmx_inject_pending_irq(&vcpu);
	assert_int_equal(entry_info(), 0);
	assert_false(window());
}

/* A posted vector (PIR, ON) is harvested into the IRR first. */
static void posted_vector_is_harvested(void **state)
{
	(void)state;
	pi_test_and_set_pir(&pi, 0x55);
	pi_test_and_set_on(&pi);
	vmx_inject_pending_irq(&vcpu);
	assert_int_equal(entry_info(), 0x55 | INTR_TYPE_EXT_INTR | INTR_INFO_VALID);
	assert_false(pi_test_on(&pi));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(injects_when_open, setup, teardown),
		cmocka_unit_test_setup_teardown(second_one_asks_for_window, setup, teardown),
		cmocka_unit_test_setup_teardown(if_clear_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(sti_and_mov_ss_block, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_event_not_overwritten, setup, teardown),
		cmocka_unit_test_setup_teardown(single_step_trap_first, setup, teardown),
		cmocka_unit_test_setup_teardown(nothing_pending_clears_window, setup, teardown),
		cmocka_unit_test_setup_teardown(posted_vector_is_harvested, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
