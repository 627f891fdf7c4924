/* SPDX-License-Identifier: MIT */
/*
 * VMX capability negotiation, done once at boot.
 *
 * Intel SDM Vol. 3D, Appendix A "VMX Capability Reporting Facility": each control MSR
 * reports in bits 31:0 the allowed 0-settings ("if bit X is 1 in the MSR, the control
 * bit must be 1") and in bits 63:32 the allowed 1-settings. When IA32_VMX_BASIC bit 55
 * is set, the IA32_VMX_TRUE_* MSRs report the default1 controls that may be 0.
 */
#ifndef ARCH_X86_VMX_CAPS_H
#define ARCH_X86_VMX_CAPS_H

#include "hv/lib/types.h"

/* The raw capability MSRs (read on the CPU, or made up by a unit test). */
struct vmx_msrs {
	u64 basic;
	u64 pinbased, procbased, exit, entry;   /* TRUE_* when basic bit 55, else legacy */
	u64 procbased2;                         /* 0 when secondary controls are unsupported */
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid;                           /* 0 when neither EPT nor VPID exists */
};

/* What the hypervisor wants to switch off even when the CPU has it (command line). */
struct vmx_wants {
	bool no_vpid;
	bool no_posted_interrupts;
	bool no_apicv;
	bool no_preemption_timer;
};

/* The negotiated controls and feature predicates. */
struct vmx_caps {
	u32 pin, proc, proc2, exit, entry;
	u32 revision;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid;
	u64 misc;
	u8 preemption_timer_rate;   /* timer counts down once every 2^rate TSC ticks */
	bool ept_2m, ept_1g, ept_wb;
	bool invept_single, invept_all;
	bool invvpid_single, invvpid_all;
	bool wait_for_sipi;
	bool apicv;                 /* posted interrupts + virtual-interrupt delivery + register virtualization */
	const char *missing_required;   /* NULL when usable; else the first missing control */
	char missing_optional[256];     /* space-separated names */
	char used[512];                 /* space-separated names */
};

/* Negotiate. Returns true when every required control exists. Pure: no MSR access. */
bool vmx_negotiate(const struct vmx_msrs *m, const struct vmx_wants *w, struct vmx_caps *c);

/* Clamp one control word. Returns the required bits the CPU cannot set (0 = fine). */
u32 vmx_adjust_controls(u64 cap_msr, u32 required, u32 optional, u32 *result);

/* vmx_caps_compare: another CPU's negotiated result against the boot CPU's. */
enum {
	VMX_CAPS_SAME,           /* identical */
	VMX_CAPS_DIFFERENT,      /* differs, but runs the boot CPU's VMCS controls */
	VMX_CAPS_INCOMPATIBLE,   /* cannot run them: the CPU stays out of VMX operation */
};
/* Compare; diff gets the differences ("lacks proc2 0x00000200; ..."), "" when the same.
 * Pure. */
int vmx_caps_compare(const struct vmx_caps *bsp, const struct vmx_caps *cpu, char *diff, size_t len);

static inline bool vmx_has_ept(const struct vmx_caps *c) { return c->proc2 & (1u << 1); }
static inline bool vmx_has_vpid(const struct vmx_caps *c) { return c->proc2 & (1u << 5); }
static inline bool vmx_has_unrestricted_guest(const struct vmx_caps *c) { return c->proc2 & (1u << 7); }
static inline bool vmx_has_preemption_timer(const struct vmx_caps *c) { return c->pin & (1u << 6); }
static inline bool vmx_has_posted_interrupts(const struct vmx_caps *c) { return c->pin & (1u << 7); }
static inline bool vmx_has_tpr_shadow(const struct vmx_caps *c) { return c->proc & (1u << 21); }
static inline bool vmx_has_virtual_intr_delivery(const struct vmx_caps *c) { return c->proc2 & (1u << 9); }
static inline bool vmx_has_apic_register_virt(const struct vmx_caps *c) { return c->proc2 & (1u << 8); }
static inline bool vmx_has_rdtscp(const struct vmx_caps *c) { return c->proc2 & (1u << 3); }
static inline bool vmx_has_invpcid(const struct vmx_caps *c) { return c->proc2 & (1u << 12); }
static inline bool vmx_has_xsaves(const struct vmx_caps *c) { return c->proc2 & (1u << 20); }

#endif
