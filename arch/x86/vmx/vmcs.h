/* SPDX-License-Identifier: MIT */
/*
 * VMCS field encodings and accessors.
 *
 * Intel SDM Vol. 3C, Appendix B "Field Encoding in VMCS": bit 0 is the access type
 * (1 = high 32 bits of a 64-bit field), bits 9:1 the index, bits 11:10 the type
 * (control, VM-exit information, guest state, host state) and bits 14:13 the width
 * (0 = 16-bit, 1 = 64-bit, 2 = 32-bit, 3 = natural width). The enums below follow the
 * appendix's tables; the accessors refuse a field of the wrong width at compile time.
 */
#ifndef ARCH_X86_VMX_VMCS_H
#define ARCH_X86_VMX_VMCS_H

#include "hv/lib/types.h"

/* B.1.1 16-Bit Control Fields */
enum vmcs_ctl16 {
	VIRTUAL_PROCESSOR_ID = 0x0000,
	POSTED_INTR_NV = 0x0002,
	EPTP_INDEX = 0x0004,
};
/* B.1.2 16-Bit Guest-State Fields */
enum vmcs_guest16 {
	GUEST_ES_SELECTOR = 0x0800,
	GUEST_CS_SELECTOR = 0x0802,
	GUEST_SS_SELECTOR = 0x0804,
	GUEST_DS_SELECTOR = 0x0806,
	GUEST_FS_SELECTOR = 0x0808,
	GUEST_GS_SELECTOR = 0x080a,
	GUEST_LDTR_SELECTOR = 0x080c,
	GUEST_TR_SELECTOR = 0x080e,
	GUEST_INTR_STATUS = 0x0810,
	GUEST_PML_INDEX = 0x0812,
};
/* B.1.3 16-Bit Host-State Fields */
enum vmcs_host16 {
	HOST_ES_SELECTOR = 0x0c00,
	HOST_CS_SELECTOR = 0x0c02,
	HOST_SS_SELECTOR = 0x0c04,
	HOST_DS_SELECTOR = 0x0c06,
	HOST_FS_SELECTOR = 0x0c08,
	HOST_GS_SELECTOR = 0x0c0a,
	HOST_TR_SELECTOR = 0x0c0c,
};
/* B.2.1 64-Bit Control Fields */
enum vmcs_ctl64 {
	IO_BITMAP_A = 0x2000,
	IO_BITMAP_B = 0x2002,
	MSR_BITMAP = 0x2004,
	VM_EXIT_MSR_STORE_ADDR = 0x2006,
	VM_EXIT_MSR_LOAD_ADDR = 0x2008,
	VM_ENTRY_MSR_LOAD_ADDR = 0x200a,
	EXECUTIVE_VMCS_POINTER = 0x200c,
	PML_ADDRESS = 0x200e,
	TSC_OFFSET = 0x2010,
	VIRTUAL_APIC_PAGE_ADDR = 0x2012,
	APIC_ACCESS_ADDR = 0x2014,
	POSTED_INTR_DESC_ADDR = 0x2016,
	VM_FUNCTION_CONTROL = 0x2018,
	EPT_POINTER = 0x201a,
	EOI_EXIT_BITMAP0 = 0x201c,
	EOI_EXIT_BITMAP1 = 0x201e,
	EOI_EXIT_BITMAP2 = 0x2020,
	EOI_EXIT_BITMAP3 = 0x2022,
	XSS_EXIT_BITMAP = 0x202c,
	TSC_MULTIPLIER = 0x2032,
};
/* B.2.2 64-Bit Read-Only Data Field */
enum vmcs_info64 {
	GUEST_PHYSICAL_ADDRESS = 0x2400,
};
/* B.2.3 64-Bit Guest-State Fields */
enum vmcs_guest64 {
	VMCS_LINK_POINTER = 0x2800,
	GUEST_IA32_DEBUGCTL = 0x2802,
	GUEST_IA32_PAT = 0x2804,
	GUEST_IA32_EFER = 0x2806,
	GUEST_IA32_PERF_GLOBAL_CTRL = 0x2808,
	GUEST_PDPTE0 = 0x280a,
	GUEST_PDPTE1 = 0x280c,
	GUEST_PDPTE2 = 0x280e,
	GUEST_PDPTE3 = 0x2810,
};
/* B.2.4 64-Bit Host-State Fields */
enum vmcs_host64 {
	HOST_IA32_PAT = 0x2c00,
	HOST_IA32_EFER = 0x2c02,
	HOST_IA32_PERF_GLOBAL_CTRL = 0x2c04,
};
/* B.3.1 32-Bit Control Fields */
enum vmcs_ctl32 {
	PIN_BASED_VM_EXEC_CONTROL = 0x4000,
	CPU_BASED_VM_EXEC_CONTROL = 0x4002,
	EXCEPTION_BITMAP = 0x4004,
	PAGE_FAULT_ERROR_CODE_MASK = 0x4006,
	PAGE_FAULT_ERROR_CODE_MATCH = 0x4008,
	CR3_TARGET_COUNT = 0x400a,
	VM_EXIT_CONTROLS = 0x400c,
	VM_EXIT_MSR_STORE_COUNT = 0x400e,
	VM_EXIT_MSR_LOAD_COUNT = 0x4010,
	VM_ENTRY_CONTROLS = 0x4012,
	VM_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VM_ENTRY_INTR_INFO_FIELD = 0x4016,
	VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
	VM_ENTRY_INSTRUCTION_LEN = 0x401a,
	TPR_THRESHOLD = 0x401c,
	SECONDARY_VM_EXEC_CONTROL = 0x401e,
	PLE_GAP = 0x4020,
	PLE_WINDOW = 0x4022,
};
/* B.3.2 32-Bit Read-Only Data Fields */
enum vmcs_info32 {
	VM_INSTRUCTION_ERROR = 0x4400,
	VM_EXIT_REASON = 0x4402,
	VM_EXIT_INTR_INFO = 0x4404,
	VM_EXIT_INTR_ERROR_CODE = 0x4406,
	IDT_VECTORING_INFO_FIELD = 0x4408,
	IDT_VECTORING_ERROR_CODE = 0x440a,
	VM_EXIT_INSTRUCTION_LEN = 0x440c,
	VMX_INSTRUCTION_INFO = 0x440e,
};
/* B.3.3 32-Bit Guest-State Fields */
enum vmcs_guest32 {
	GUEST_ES_LIMIT = 0x4800,
	GUEST_CS_LIMIT = 0x4802,
	GUEST_SS_LIMIT = 0x4804,
	GUEST_DS_LIMIT = 0x4806,
	GUEST_FS_LIMIT = 0x4808,
	GUEST_GS_LIMIT = 0x480a,
	GUEST_LDTR_LIMIT = 0x480c,
	GUEST_TR_LIMIT = 0x480e,
	GUEST_GDTR_LIMIT = 0x4810,
	GUEST_IDTR_LIMIT = 0x4812,
	GUEST_ES_AR_BYTES = 0x4814,
	GUEST_CS_AR_BYTES = 0x4816,
	GUEST_SS_AR_BYTES = 0x4818,
	GUEST_DS_AR_BYTES = 0x481a,
	GUEST_FS_AR_BYTES = 0x481c,
	GUEST_GS_AR_BYTES = 0x481e,
	GUEST_LDTR_AR_BYTES = 0x4820,
	GUEST_TR_AR_BYTES = 0x4822,
	GUEST_INTERRUPTIBILITY_INFO = 0x4824,
	GUEST_ACTIVITY_STATE = 0x4826,
	GUEST_SMBASE = 0x4828,
	GUEST_SYSENTER_CS = 0x482a,
	VMX_PREEMPTION_TIMER_VALUE = 0x482e,
};
/* B.3.4 32-Bit Host-State Field */
enum vmcs_host32 {
	HOST_IA32_SYSENTER_CS = 0x4c00,
};
/* B.4.1 Natural-Width Control Fields */
enum vmcs_ctlnat {
	CR0_GUEST_HOST_MASK = 0x6000,
	CR4_GUEST_HOST_MASK = 0x6002,
	CR0_READ_SHADOW = 0x6004,
	CR4_READ_SHADOW = 0x6006,
	CR3_TARGET_VALUE0 = 0x6008,
};
/* B.4.2 Natural-Width Read-Only Data Fields */
enum vmcs_infonat {
	EXIT_QUALIFICATION = 0x6400,
	IO_RCX = 0x6402,
	IO_RSI = 0x6404,
	IO_RDI = 0x6406,
	IO_RIP = 0x6408,
	GUEST_LINEAR_ADDRESS = 0x640a,
};
/* B.4.3 Natural-Width Guest-State Fields */
enum vmcs_guestnat {
	GUEST_CR0 = 0x6800,
	GUEST_CR3 = 0x6802,
	GUEST_CR4 = 0x6804,
	GUEST_ES_BASE = 0x6806,
	GUEST_CS_BASE = 0x6808,
	GUEST_SS_BASE = 0x680a,
	GUEST_DS_BASE = 0x680c,
	GUEST_FS_BASE = 0x680e,
	GUEST_GS_BASE = 0x6810,
	GUEST_LDTR_BASE = 0x6812,
	GUEST_TR_BASE = 0x6814,
	GUEST_GDTR_BASE = 0x6816,
	GUEST_IDTR_BASE = 0x6818,
	GUEST_DR7 = 0x681a,
	GUEST_RSP = 0x681c,
	GUEST_RIP = 0x681e,
	GUEST_RFLAGS = 0x6820,
	GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
	GUEST_SYSENTER_ESP = 0x6824,
	GUEST_SYSENTER_EIP = 0x6826,
};
/* B.4.4 Natural-Width Host-State Fields */
enum vmcs_hostnat {
	HOST_CR0 = 0x6c00,
	HOST_CR3 = 0x6c02,
	HOST_CR4 = 0x6c04,
	HOST_FS_BASE = 0x6c06,
	HOST_GS_BASE = 0x6c08,
	HOST_TR_BASE = 0x6c0a,
	HOST_GDTR_BASE = 0x6c0c,
	HOST_IDTR_BASE = 0x6c0e,
	HOST_IA32_SYSENTER_ESP = 0x6c10,
	HOST_IA32_SYSENTER_EIP = 0x6c12,
	HOST_RSP = 0x6c14,
	HOST_RIP = 0x6c16,
};

/* Width field, bits 14:13 of an encoding. */
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };

static inline enum vmcs_width vmcs_field_width(u32 field)
{
	return (enum vmcs_width)((field >> 13) & 3);
}

/* True when the encoding names the full 64-bit access of a field of width w (for 64-bit
 * fields the "high" access, bit 0 set, is refused: these accessors use full access). */
static inline bool vmcs_field_is(u32 field, enum vmcs_width w)
{
	return (field & 0x6001) == ((u32)w << 13);
}

/* 24.6.1 Pin-Based VM-Execution Controls */
#define PIN_EXTINT_EXITING BIT(0)
#define PIN_NMI_EXITING BIT(3)
#define PIN_VIRTUAL_NMIS BIT(5)
#define PIN_PREEMPTION_TIMER BIT(6)
#define PIN_POSTED_INTERRUPTS BIT(7)

/* 24.6.2 Processor-Based VM-Execution Controls (primary) */
#define CPU_INTR_WINDOW_EXITING BIT(2)
#define CPU_USE_TSC_OFFSETTING BIT(3)
#define CPU_HLT_EXITING BIT(7)
#define CPU_INVLPG_EXITING BIT(9)
#define CPU_MWAIT_EXITING BIT(10)
#define CPU_RDPMC_EXITING BIT(11)
#define CPU_RDTSC_EXITING BIT(12)
#define CPU_CR3_LOAD_EXITING BIT(15)
#define CPU_CR3_STORE_EXITING BIT(16)
#define CPU_CR8_LOAD_EXITING BIT(19)
#define CPU_CR8_STORE_EXITING BIT(20)
#define CPU_TPR_SHADOW BIT(21)
#define CPU_NMI_WINDOW_EXITING BIT(22)
#define CPU_MOV_DR_EXITING BIT(23)
#define CPU_UNCOND_IO_EXITING BIT(24)
#define CPU_USE_IO_BITMAPS BIT(25)
#define CPU_MONITOR_TRAP_FLAG BIT(27)
#define CPU_USE_MSR_BITMAPS BIT(28)
#define CPU_MONITOR_EXITING BIT(29)
#define CPU_PAUSE_EXITING BIT(30)
#define CPU_ACTIVATE_SECONDARY BIT(31)

/* 24.6.2 Secondary Processor-Based VM-Execution Controls */
#define SEC_VIRTUALIZE_APIC_ACCESSES BIT(0)
#define SEC_ENABLE_EPT BIT(1)
#define SEC_DESCRIPTOR_TABLE_EXITING BIT(2)
#define SEC_ENABLE_RDTSCP BIT(3)
#define SEC_VIRTUALIZE_X2APIC BIT(4)
#define SEC_ENABLE_VPID BIT(5)
#define SEC_WBINVD_EXITING BIT(6)
#define SEC_UNRESTRICTED_GUEST BIT(7)
#define SEC_APIC_REGISTER_VIRT BIT(8)
#define SEC_VIRTUAL_INTR_DELIVERY BIT(9)
#define SEC_PAUSE_LOOP_EXITING BIT(10)
#define SEC_RDRAND_EXITING BIT(11)
#define SEC_ENABLE_INVPCID BIT(12)
#define SEC_ENABLE_VMFUNC BIT(13)
#define SEC_RDSEED_EXITING BIT(16)
#define SEC_ENABLE_PML BIT(17)
#define SEC_ENABLE_XSAVES BIT(20)

/* 24.7.1 VM-Exit Controls */
#define EXIT_SAVE_DEBUG_CONTROLS BIT(2)
#define EXIT_HOST_ADDR_SPACE_SIZE BIT(9)
#define EXIT_ACK_INTR_ON_EXIT BIT(15)
#define EXIT_SAVE_IA32_PAT BIT(18)
#define EXIT_LOAD_IA32_PAT BIT(19)
#define EXIT_SAVE_IA32_EFER BIT(20)
#define EXIT_LOAD_IA32_EFER BIT(21)
#define EXIT_SAVE_PREEMPTION_TIMER BIT(22)

/* 24.8.1 VM-Entry Controls */
#define ENTRY_LOAD_DEBUG_CONTROLS BIT(2)
#define ENTRY_IA32E_MODE BIT(9)
#define ENTRY_LOAD_IA32_PAT BIT(14)
#define ENTRY_LOAD_IA32_EFER BIT(15)

/* 24.4.2 Guest Non-Register State: activity states */
#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1
#define ACTIVITY_SHUTDOWN 2
#define ACTIVITY_WAIT_SIPI 3

/* Interruptibility state */
#define INTR_BLOCK_STI BIT(0)
#define INTR_BLOCK_MOV_SS BIT(1)
#define INTR_BLOCK_NMI BIT(3)

/* Pending debug exceptions ("Guest Non-Register State"): BS, a single-step trap */
#define PENDING_DBG_BS BIT(14)

/* 24.8.3 VM-Entry Controls for Event Injection / 24.9.2 exit interruption info */
#define INTR_INFO_VECTOR_MASK 0xffu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_TYPE_EXT_INTR (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)
#define INTR_TYPE_SW_INTR (4u << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5u << 8)
#define INTR_TYPE_SW_EXCEPTION (6u << 8)
#define INTR_TYPE_MASK (7u << 8)
#define INTR_INFO_DELIVER_CODE BIT(11)
#define INTR_INFO_VALID BIT(31)

/* Segment access rights (24.4.1): unusable bit */
#define AR_L BIT(13)          /* segment access rights: 64-bit code segment (CS.L) */
#define AR_UNUSABLE BIT(16)
#define AR_DPL_MASK (3u << 5)   /* descriptor privilege level, bits 6:5 */

#ifndef HV_HOST_TEST
/* arch/x86/vmx/vmx.c: the one place every failed VMX instruction is reported. */
void vmx_insn_failed(const char *insn, u64 field, u64 value, const char *caller, int line);

static inline __attribute__((always_inline)) bool __vmread(u64 field, u64 *val)
{
	bool ok;
	asm volatile("vmread %2, %1\n\tseta %0" : "=q"(ok), "=rm"(*val) : "r"(field) : "cc");
	return ok;
}

static inline __attribute__((always_inline)) bool __vmwrite(u64 field, u64 val)
{
	bool ok;
	asm volatile("vmwrite %2, %1\n\tseta %0" : "=q"(ok) : "r"(field), "rm"(val) : "cc");
	return ok;
}
#else
/* Host unit tests: a VMCS is a plain array indexed by encoding. */
extern u64 test_vmcs[0x8000];
static inline bool __vmread(u64 field, u64 *val) { *val = test_vmcs[field & 0x7fff]; return true; }
static inline bool __vmwrite(u64 field, u64 val) { test_vmcs[field & 0x7fff] = val; return true; }
void vmx_insn_failed(const char *insn, u64 field, u64 value, const char *caller, int line);
#endif

/*
 * Width-checked accessors. A constant field of another width is a build error (the
 * error attribute fires only if the call survives constant folding).
 */
extern void vmcs_wrong_width(void) __attribute__((error("VMCS field accessed with the wrong width")));

#define VMCS_CHECK(f, w)                                                       \
	do {                                                                   \
		if (__builtin_constant_p(f) && !vmcs_field_is((u32)(f), (w)))  \
			vmcs_wrong_width();                                    \
	} while (0)

/* VMREAD/VMWRITE report failure through CF or ZF ("Conventions" in "VMX Instruction
 * Reference"): one jbe to the shared reporting path, nothing else on the fast path. */
#ifndef HV_HOST_TEST
/* Reads do not use asm goto: GCC 12 can replace an asm-goto output on the
 * fall-through path with the value of the failure path when it duplicates blocks (it
 * made vmcs_readl(GUEST_RIP) read 0 in mmio.c). A flag output ("=@cca": CF = ZF = 0)
 * gives the same single branch. */
#define VMCS_READ(f, w, type)                                                       \
	({                                                                          \
		u64 __v;                                                            \
		bool __ok;                                                          \
		VMCS_CHECK(f, w);                                                   \
		asm volatile("vmread %2, %1" : "=@cca"(__ok), "=r"(__v) : "r"((u64)(f)) : "cc"); \
		if (unlikely(!__ok)) {                                              \
			vmx_insn_failed("vmread", (f), 0, __func__, __LINE__);      \
			__v = 0;                                                    \
		}                                                                   \
		(type)__v;                                                          \
	})

#define VMCS_WRITE(f, v, w)                                                           \
	do {                                                                          \
		__label__ __fail;                                                     \
		VMCS_CHECK(f, w);                                                     \
		u64 __val = (u64)(v);                                                 \
		asm goto("vmwrite %1, %0\n\tjbe %l[__fail]" : : "r"((u64)(f)), "rm"(__val) \
			 : "cc" : __fail);                                            \
		break;                                                                \
	__fail:                                                                       \
		vmx_insn_failed("vmwrite", (f), __val, __func__, __LINE__);           \
	} while (0)
#else
#define VMCS_READ(f, w, type)                                                  \
	({                                                                     \
		u64 __v = 0;                                                   \
		VMCS_CHECK(f, w);                                              \
		if (unlikely(!__vmread((f), &__v)))                            \
			vmx_insn_failed("vmread", (f), 0, __func__, __LINE__); \
		(type)__v;                                                     \
	})

#define VMCS_WRITE(f, v, w)                                                        \
	do {                                                                       \
		VMCS_CHECK(f, w);                                                  \
		u64 __val = (u64)(v);                                              \
		if (unlikely(!__vmwrite((f), __val)))                              \
			vmx_insn_failed("vmwrite", (f), __val, __func__, __LINE__); \
	} while (0)
#endif

/*
 * The exit path's own accesses: guest-state and exit-information fields of the VMCS
 * that has just exited, which is current and active on this CPU. VMREAD and VMWRITE
 * fail only without a current VMCS, for a field the processor does not support, or
 * (VMWRITE) for a read-only field ("VMREAD—Read Field from Virtual-Machine Control
 * Structure", "VMWRITE—Write Field to Virtual-Machine Control Structure"), none of
 * which can hold here, so these have no failure branch (a tick each under Bochs on
 * every exit). Only for the fields every VMX processor has.
 */
#ifndef HV_HOST_TEST
#define VMCS_READ_CUR(f, w, type)                                                   \
	({                                                                          \
		u64 __v;                                                            \
		VMCS_CHECK(f, w);                                                   \
		asm volatile("vmread %1, %0" : "=r"(__v) : "r"((u64)(f)) : "cc");  \
		(type)__v;                                                          \
	})
#define VMCS_WRITE_CUR(f, v, w)                                                       \
	do {                                                                          \
		VMCS_CHECK(f, w);                                                     \
		asm volatile("vmwrite %1, %0" : : "r"((u64)(f)), "rm"((u64)(v)) : "cc", "memory"); \
	} while (0)
#else
#define VMCS_READ_CUR(f, w, type) VMCS_READ(f, w, type)
#define VMCS_WRITE_CUR(f, v, w) VMCS_WRITE(f, v, w)
#endif
#define vmcs_read32_cur(f) VMCS_READ_CUR(f, VMCS_W32, u32)
#define vmcs_readl_cur(f) VMCS_READ_CUR(f, VMCS_WNAT, u64)
#define vmcs_writel_cur(f, v) VMCS_WRITE_CUR(f, v, VMCS_WNAT)
/* Also GUEST_INTR_STATUS, where the VM uses virtual-interrupt delivery (the processor
 * has the field: "VM-Execution Control Fields", the guest interrupt status exists with
 * "virtual-interrupt delivery" supported). */
#define vmcs_read16_cur(f) VMCS_READ_CUR(f, VMCS_W16, u16)
#define vmcs_write16_cur(f, v) VMCS_WRITE_CUR(f, v, VMCS_W16)

#define vmcs_read16(f) VMCS_READ(f, VMCS_W16, u16)
#define vmcs_read32(f) VMCS_READ(f, VMCS_W32, u32)
#define vmcs_read64(f) VMCS_READ(f, VMCS_W64, u64)
#define vmcs_readl(f) VMCS_READ(f, VMCS_WNAT, u64)
#define vmcs_write16(f, v) VMCS_WRITE(f, v, VMCS_W16)
#define vmcs_write32(f, v) VMCS_WRITE(f, v, VMCS_W32)
#define vmcs_write64(f, v) VMCS_WRITE(f, v, VMCS_W64)
#define vmcs_writel(f, v) VMCS_WRITE(f, v, VMCS_WNAT)

#endif
