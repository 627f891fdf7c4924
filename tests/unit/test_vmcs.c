/* SPDX-License-Identifier: MIT */
/* arch/x86/vmx/vmcs.h: field encodings, width checks and the HV_HOST_TEST accessors. */
#include "tests/unit/support.h"
#include "arch/x86/vmx/vmcs.h"

/* The host-test VMCS: accessors index it by encoding. */
u64 test_vmcs[0x8000];

void vmx_insn_failed(const char *insn, u64 field, u64 value, const char *caller, int line)
{
	fail_msg("vmx_insn_failed(%s, 0x%llx, 0x%llx) from %s:%d", insn, (unsigned long long)field,
		 (unsigned long long)value, caller, line);
}

static void field_width_of_each_group(void **state)
{
	(void)state;
	assert_int_equal(vmcs_field_width(GUEST_RIP), VMCS_WNAT);
	assert_int_equal(vmcs_field_width(HOST_RSP), VMCS_WNAT);
	assert_int_equal(vmcs_field_width(EXIT_QUALIFICATION), VMCS_WNAT);
	assert_int_equal(vmcs_field_width(CR0_GUEST_HOST_MASK), VMCS_WNAT);
	assert_int_equal(vmcs_field_width(GUEST_CS_SELECTOR), VMCS_W16);
	assert_int_equal(vmcs_field_width(VIRTUAL_PROCESSOR_ID), VMCS_W16);
	assert_int_equal(vmcs_field_width(HOST_TR_SELECTOR), VMCS_W16);
	assert_int_equal(vmcs_field_width(VM_EXIT_REASON), VMCS_W32);
	assert_int_equal(vmcs_field_width(PIN_BASED_VM_EXEC_CONTROL), VMCS_W32);
	assert_int_equal(vmcs_field_width(GUEST_CS_AR_BYTES), VMCS_W32);
	assert_int_equal(vmcs_field_width(HOST_IA32_SYSENTER_CS), VMCS_W32);
	assert_int_equal(vmcs_field_width(EPT_POINTER), VMCS_W64);
	assert_int_equal(vmcs_field_width(GUEST_PHYSICAL_ADDRESS), VMCS_W64);
	assert_int_equal(vmcs_field_width(VMCS_LINK_POINTER), VMCS_W64);
	assert_int_equal(vmcs_field_width(HOST_IA32_EFER), VMCS_W64);
	/* the "high" access of a 64-bit field has the 64-bit width bits too */
	assert_int_equal(vmcs_field_width(EPT_POINTER | 1), VMCS_W64);
}

static void field_is_matches_only_its_width(void **state)
{
	(void)state;
	static const struct { u32 f; enum vmcs_width w; } fields[] = {
		{ GUEST_RIP, VMCS_WNAT }, { GUEST_CS_SELECTOR, VMCS_W16 },
		{ VM_EXIT_REASON, VMCS_W32 }, { EPT_POINTER, VMCS_W64 },
		{ GUEST_IA32_EFER, VMCS_W64 }, { TSC_OFFSET, VMCS_W64 },
		{ GUEST_CR0, VMCS_WNAT }, { GUEST_ACTIVITY_STATE, VMCS_W32 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		for (int w = VMCS_W16; w <= VMCS_WNAT; w++)
			if (vmcs_field_is(fields[i].f, (enum vmcs_width)w) != (w == (int)fields[i].w))
				fail_msg("vmcs_field_is(0x%x, %d) wrong", fields[i].f, w);
}

static void field_is_refuses_high_access(void **state)
{
	(void)state;
	for (int w = VMCS_W16; w <= VMCS_WNAT; w++) {
		assert_false(vmcs_field_is(EPT_POINTER | 1, (enum vmcs_width)w));
		assert_false(vmcs_field_is(TSC_OFFSET | 1, (enum vmcs_width)w));
		assert_false(vmcs_field_is(GUEST_IA32_PAT | 1, (enum vmcs_width)w));
		/* bit 0 set on a field of another width is not a valid encoding either */
		assert_false(vmcs_field_is(GUEST_RIP | 1, (enum vmcs_width)w));
		assert_false(vmcs_field_is(VM_EXIT_REASON | 1, (enum vmcs_width)w));
	}
	/* the type and index bits do not matter, only width and access type */
	assert_true(vmcs_field_is(0x2ffe, VMCS_W64));
	assert_true(vmcs_field_is(0x0000, VMCS_W16));
	assert_true(vmcs_field_is(0x7ffe, VMCS_WNAT));
}

/*
 * Every encoding of the header, grouped as in Intel SDM Vol. 3D Appendix B: the width
 * (bits 14:13) and the type (bits 11:10: 0 control, 1 read-only data, 2 guest state,
 * 3 host state) of each must agree with its table, bit 0 (access type) and bit 12
 * (reserved) must be clear, and no two fields may share an encoding.
 */
#define GROUP(w, t, ...) { w, t, (const u32[]){ __VA_ARGS__ }, \
	sizeof((const u32[]){ __VA_ARGS__ }) / sizeof(u32) }
static const struct {
	enum vmcs_width width;
	unsigned type;
	const u32 *f;
	size_t n;
} groups[] = {
	GROUP(VMCS_W16, 0, VIRTUAL_PROCESSOR_ID, POSTED_INTR_NV, EPTP_INDEX),
	GROUP(VMCS_W16, 2, GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR, GUEST_DS_SELECTOR,
	      GUEST_FS_SELECTOR, GUEST_GS_SELECTOR, GUEST_LDTR_SELECTOR, GUEST_TR_SELECTOR,
	      GUEST_INTR_STATUS, GUEST_PML_INDEX),
	GROUP(VMCS_W16, 3, HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR,
	      HOST_FS_SELECTOR, HOST_GS_SELECTOR, HOST_TR_SELECTOR),
	GROUP(VMCS_W64, 0, IO_BITMAP_A, IO_BITMAP_B, MSR_BITMAP, VM_EXIT_MSR_STORE_ADDR,
	      VM_EXIT_MSR_LOAD_ADDR, VM_ENTRY_MSR_LOAD_ADDR, EXECUTIVE_VMCS_POINTER, PML_ADDRESS,
	      TSC_OFFSET, VIRTUAL_APIC_PAGE_ADDR, APIC_ACCESS_ADDR, POSTED_INTR_DESC_ADDR,
	      VM_FUNCTION_CONTROL, EPT_POINTER, EOI_EXIT_BITMAP0, EOI_EXIT_BITMAP1, EOI_EXIT_BITMAP2,
	      EOI_EXIT_BITMAP3, XSS_EXIT_BITMAP, TSC_MULTIPLIER),
	GROUP(VMCS_W64, 1, GUEST_PHYSICAL_ADDRESS),
	GROUP(VMCS_W64, 2, VMCS_LINK_POINTER, GUEST_IA32_DEBUGCTL, GUEST_IA32_PAT, GUEST_IA32_EFER,
	      GUEST_IA32_PERF_GLOBAL_CTRL, GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2, GUEST_PDPTE3),
	GROUP(VMCS_W64, 3, HOST_IA32_PAT, HOST_IA32_EFER, HOST_IA32_PERF_GLOBAL_CTRL),
	GROUP(VMCS_W32, 0, PIN_BASED_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL, EXCEPTION_BITMAP,
	      PAGE_FAULT_ERROR_CODE_MASK, PAGE_FAULT_ERROR_CODE_MATCH, CR3_TARGET_COUNT,
	      VM_EXIT_CONTROLS, VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_LOAD_COUNT, VM_ENTRY_CONTROLS,
	      VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_INTR_INFO_FIELD, VM_ENTRY_EXCEPTION_ERROR_CODE,
	      VM_ENTRY_INSTRUCTION_LEN, TPR_THRESHOLD, SECONDARY_VM_EXEC_CONTROL, PLE_GAP, PLE_WINDOW),
	GROUP(VMCS_W32, 1, VM_INSTRUCTION_ERROR, VM_EXIT_REASON, VM_EXIT_INTR_INFO,
	      VM_EXIT_INTR_ERROR_CODE, IDT_VECTORING_INFO_FIELD, IDT_VECTORING_ERROR_CODE,
	      VM_EXIT_INSTRUCTION_LEN, VMX_INSTRUCTION_INFO),
	GROUP(VMCS_W32, 2, GUEST_ES_LIMIT, GUEST_CS_LIMIT, GUEST_SS_LIMIT, GUEST_DS_LIMIT,
	      GUEST_FS_LIMIT, GUEST_GS_LIMIT, GUEST_LDTR_LIMIT, GUEST_TR_LIMIT, GUEST_GDTR_LIMIT,
	      GUEST_IDTR_LIMIT, GUEST_ES_AR_BYTES, GUEST_CS_AR_BYTES, GUEST_SS_AR_BYTES,
	      GUEST_DS_AR_BYTES, GUEST_FS_AR_BYTES, GUEST_GS_AR_BYTES, GUEST_LDTR_AR_BYTES,
	      GUEST_TR_AR_BYTES, GUEST_INTERRUPTIBILITY_INFO, GUEST_ACTIVITY_STATE, GUEST_SMBASE,
	      GUEST_SYSENTER_CS, VMX_PREEMPTION_TIMER_VALUE),
	GROUP(VMCS_W32, 3, HOST_IA32_SYSENTER_CS),
	GROUP(VMCS_WNAT, 0, CR0_GUEST_HOST_MASK, CR4_GUEST_HOST_MASK, CR0_READ_SHADOW,
	      CR4_READ_SHADOW, CR3_TARGET_VALUE0),
	GROUP(VMCS_WNAT, 1, EXIT_QUALIFICATION, IO_RCX, IO_RSI, IO_RDI, IO_RIP, GUEST_LINEAR_ADDRESS),
	GROUP(VMCS_WNAT, 2, GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_ES_BASE, GUEST_CS_BASE,
	      GUEST_SS_BASE, GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE, GUEST_LDTR_BASE,
	      GUEST_TR_BASE, GUEST_GDTR_BASE, GUEST_IDTR_BASE, GUEST_DR7, GUEST_RSP, GUEST_RIP,
	      GUEST_RFLAGS, GUEST_PENDING_DBG_EXCEPTIONS, GUEST_SYSENTER_ESP, GUEST_SYSENTER_EIP),
	GROUP(VMCS_WNAT, 3, HOST_CR0, HOST_CR3, HOST_CR4, HOST_FS_BASE, HOST_GS_BASE, HOST_TR_BASE,
	      HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_IA32_SYSENTER_ESP, HOST_IA32_SYSENTER_EIP,
	      HOST_RSP, HOST_RIP),
};

static void encodings_agree_with_their_tables(void **state)
{
	(void)state;
	static u8 seen[0x8000];
	memset(seen, 0, sizeof(seen));
	size_t total = 0;
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		for (size_t i = 0; i < groups[g].n; i++) {
			u32 f = groups[g].f[i];
			if (f >= 0x8000 || (f & 1) || (f & BIT(12)))
				fail_msg("field 0x%x: bad encoding bits", f);
			if (vmcs_field_width(f) != groups[g].width)
				fail_msg("field 0x%x: width %d, its table says %d", f, vmcs_field_width(f),
					 groups[g].width);
			if (((f >> 10) & 3) != groups[g].type)
				fail_msg("field 0x%x: type %u, its table says %u", f, (f >> 10) & 3,
					 groups[g].type);
			if (!vmcs_field_is(f, groups[g].width))
				fail_msg("field 0x%x refused for its own width", f);
			if (seen[f]++)
				fail_msg("field 0x%x defined twice", f);
			total++;
		}
	}
	assert_int_equal(total, 146);   // every enumerator of vmcs.h
}

/* A few encodings checked against the numbers printed in the SDM. */
static void encodings_match_the_sdm(void **state)
{
	(void)state;
	assert_int_equal(GUEST_RIP, 0x681e);
	assert_int_equal(GUEST_RSP, 0x681c);
	assert_int_equal(GUEST_RFLAGS, 0x6820);
	assert_int_equal(EPT_POINTER, 0x201a);
	assert_int_equal(VM_EXIT_REASON, 0x4402);
	assert_int_equal(EXIT_QUALIFICATION, 0x6400);
	assert_int_equal(GUEST_CS_SELECTOR, 0x0802);
	assert_int_equal(SECONDARY_VM_EXEC_CONTROL, 0x401e);
	assert_int_equal(VMX_PREEMPTION_TIMER_VALUE, 0x482e);
	assert_int_equal(GUEST_INTERRUPTIBILITY_INFO, 0x4824);
	assert_int_equal(VMCS_LINK_POINTER, 0x2800);
	assert_int_equal(HOST_RIP, 0x6c16);
	assert_int_equal(TSC_MULTIPLIER, 0x2032);
	assert_int_equal(XSS_EXIT_BITMAP, 0x202c);
	assert_int_equal(HOST_IA32_SYSENTER_CS, 0x4c00);
}

static void accessors_round_trip(void **state)
{
	(void)state;
	memset(test_vmcs, 0, sizeof(test_vmcs));

	vmcs_writel(GUEST_RIP, 0xffffffff81000000ull);
	assert_int_equal(test_vmcs[GUEST_RIP], 0xffffffff81000000ull);
	assert_int_equal(vmcs_readl(GUEST_RIP), 0xffffffff81000000ull);

	vmcs_write64(EPT_POINTER, 0x123456789abcd01eull);
	assert_int_equal(test_vmcs[EPT_POINTER], 0x123456789abcd01eull);
	assert_int_equal(vmcs_read64(EPT_POINTER), 0x123456789abcd01eull);

	vmcs_write32(VM_ENTRY_CONTROLS, 0x8badf00du);
	assert_int_equal(test_vmcs[VM_ENTRY_CONTROLS], 0x8badf00dull);
	assert_int_equal(vmcs_read32(VM_ENTRY_CONTROLS), 0x8badf00du);

	vmcs_write16(GUEST_CS_SELECTOR, 0x0008);
	assert_int_equal(test_vmcs[GUEST_CS_SELECTOR], 0x0008);
	assert_int_equal(vmcs_read16(GUEST_CS_SELECTOR), 0x0008);

	/* writes do not spill into neighbouring encodings */
	assert_int_equal(test_vmcs[GUEST_RIP - 2], 0);
	assert_int_equal(test_vmcs[GUEST_RIP + 2], 0);
	assert_int_equal(test_vmcs[EPT_POINTER + 1], 0);
}

static void accessors_truncate_to_the_field_width(void **state)
{
	(void)state;
	memset(test_vmcs, 0, sizeof(test_vmcs));
	test_vmcs[VM_EXIT_REASON] = 0xdeadbeef00000030ull;
	u32 reason = vmcs_read32(VM_EXIT_REASON);
	assert_int_equal(reason, 0x30);
	test_vmcs[GUEST_TR_SELECTOR] = 0x12345678ull;
	u16 tr = vmcs_read16(GUEST_TR_SELECTOR);
	assert_int_equal(tr, 0x5678);
	/* the readers return exactly the accessor's type */
	_Static_assert(sizeof(vmcs_read16(GUEST_CS_SELECTOR)) == 2, "read16 is u16");
	_Static_assert(sizeof(vmcs_read32(VM_EXIT_REASON)) == 4, "read32 is u32");
	_Static_assert(sizeof(vmcs_read64(EPT_POINTER)) == 8, "read64 is u64");
	_Static_assert(sizeof(vmcs_readl(GUEST_RIP)) == 8, "readl is u64");
}

/* A field known only at run time is not checked at compile time (and works). */
static void accessors_with_runtime_fields(void **state)
{
	(void)state;
	memset(test_vmcs, 0, sizeof(test_vmcs));
	static const u32 fields[] = { GUEST_RIP, EPT_POINTER, VM_EXIT_REASON, GUEST_CS_SELECTOR };
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		volatile u32 f = fields[i];
		vmcs_writel(f, 0x1000 + i);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		volatile u32 f = fields[i];
		assert_int_equal(vmcs_readl(f), 0x1000 + i);
		assert_int_equal(test_vmcs[fields[i]], 0x1000 + i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_width_of_each_group),
		cmocka_unit_test(field_is_matches_only_its_width),
		cmocka_unit_test(field_is_refuses_high_access),
		cmocka_unit_test(encodings_agree_with_their_tables),
		cmocka_unit_test(encodings_match_the_sdm),
		cmocka_unit_test(accessors_round_trip),
		cmocka_unit_test(accessors_truncate_to_the_field_width),
		cmocka_unit_test(accessors_with_runtime_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
