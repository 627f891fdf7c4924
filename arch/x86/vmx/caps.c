/* SPDX-License-Identifier: MIT */
/* VMX capability negotiation (see caps.h). Pure, unit-tested on the host. */
#include "arch/x86/vmx/caps.h"
#include "arch/x86/vmx/vmcs.h"
#include "hv/lib/lib.h"

/* IA32_VMX_EPT_VPID_CAP bits (Appendix A.10 "VPID and EPT Capabilities") */
#define EPT_CAP_WALK4 BIT64(6)
#define EPT_CAP_WB BIT64(14)
#define EPT_CAP_2M BIT64(16)
#define EPT_CAP_1G BIT64(17)
#define EPT_CAP_INVEPT BIT64(20)
#define EPT_CAP_INVEPT_SINGLE BIT64(25)
#define EPT_CAP_INVEPT_ALL BIT64(26)
#define VPID_CAP_INVVPID BIT64(32)
#define VPID_CAP_SINGLE BIT64(41)
#define VPID_CAP_ALL BIT64(42)

u32 vmx_adjust_controls(u64 cap_msr, u32 required, u32 optional, u32 *result)
{
	u32 must_be_one = (u32)cap_msr;          /* allowed 0-settings */
	u32 may_be_one = (u32)(cap_msr >> 32);   /* allowed 1-settings */

	*result = ((required | optional) & may_be_one) | must_be_one;
	return required & ~may_be_one;
}

struct ctl_name {
	u32 bit;
	const char *name;
};

static void append(char *buf, size_t size, const char *s)
{
	size_t l = strlen(buf);
	if (l && l + 1 < size)
		buf[l++] = ' ';
	hv_snprintf(buf + l, size - l, "%s", s);
}

/* Records, for one control word, the optional features used and missing. */
static void note(struct vmx_caps *c, u32 result, u32 optional, const struct ctl_name *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (result & names[i].bit)
			append(c->used, sizeof(c->used), names[i].name);
		else if (optional & names[i].bit)
			append(c->missing_optional, sizeof(c->missing_optional), names[i].name);
	}
}

static const struct ctl_name pin_names[] = {
	{ PIN_VIRTUAL_NMIS, "virtual-NMIs" },
	{ PIN_PREEMPTION_TIMER, "preemption-timer" },
	{ PIN_POSTED_INTERRUPTS, "posted-interrupts" },
};
static const struct ctl_name proc_names[] = {
	{ CPU_TPR_SHADOW, "TPR-shadow" },
	{ CPU_USE_MSR_BITMAPS, "MSR-bitmaps" },
};
static const struct ctl_name proc2_names[] = {
	{ SEC_ENABLE_EPT, "EPT" },
	{ SEC_ENABLE_VPID, "VPID" },
	{ SEC_UNRESTRICTED_GUEST, "unrestricted-guest" },
	{ SEC_ENABLE_RDTSCP, "RDTSCP" },
	{ SEC_ENABLE_INVPCID, "INVPCID" },
	{ SEC_ENABLE_XSAVES, "XSAVES" },
	{ SEC_VIRTUALIZE_APIC_ACCESSES, "APIC-access-virtualization" },
	{ SEC_VIRTUALIZE_X2APIC, "x2APIC-virtualization" },
	{ SEC_APIC_REGISTER_VIRT, "APIC-register-virtualization" },
	{ SEC_VIRTUAL_INTR_DELIVERY, "virtual-interrupt-delivery" },
	{ SEC_PAUSE_LOOP_EXITING, "PAUSE-loop-exiting" },
};
static const struct ctl_name exit_names[] = {
	{ EXIT_ACK_INTR_ON_EXIT, "ack-interrupt-on-exit" },
	{ EXIT_SAVE_PREEMPTION_TIMER, "save-preemption-timer" },
};

bool vmx_negotiate(const struct vmx_msrs *m, const struct vmx_wants *w, struct vmx_caps *c)
{
	u32 bad;

	memset(c, 0, sizeof(*c));
	c->revision = (u32)m->basic & 0x7fffffff;
	c->cr0_fixed0 = m->cr0_fixed0;
	c->cr0_fixed1 = m->cr0_fixed1;
	c->cr4_fixed0 = m->cr4_fixed0;
	c->cr4_fixed1 = m->cr4_fixed1;
	c->misc = m->misc;
	c->preemption_timer_rate = m->misc & 0x1f;
	c->wait_for_sipi = m->misc & BIT64(8);

	/* Pin-based: the host keeps external interrupts and NMIs. */
	u32 pin_opt = PIN_VIRTUAL_NMIS;
	if (!w->no_preemption_timer)
		pin_opt |= PIN_PREEMPTION_TIMER;
	if (!w->no_posted_interrupts && !w->no_apicv)
		pin_opt |= PIN_POSTED_INTERRUPTS;
	bad = vmx_adjust_controls(m->pinbased, PIN_EXTINT_EXITING | PIN_NMI_EXITING, pin_opt, &c->pin);
	if (bad) {
		c->missing_required = bad & PIN_EXTINT_EXITING ? "external-interrupt-exiting" : "NMI-exiting";
		return false;
	}

	/* Primary processor-based. Every port access exits; CR3 accesses do not (EPT). */
	u32 proc_req = CPU_HLT_EXITING | CPU_UNCOND_IO_EXITING | CPU_MWAIT_EXITING |
		       CPU_MONITOR_EXITING | CPU_RDPMC_EXITING | CPU_ACTIVATE_SECONDARY |
		       CPU_USE_MSR_BITMAPS;
	u32 proc_opt = w->no_apicv ? 0 : CPU_TPR_SHADOW;
	bad = vmx_adjust_controls(m->procbased, proc_req, proc_opt, &c->proc);
	if (bad) {
		c->missing_required = bad & CPU_ACTIVATE_SECONDARY ? "secondary-controls"
				      : bad & CPU_USE_MSR_BITMAPS  ? "MSR-bitmaps"
								   : "HLT/IO/MWAIT/MONITOR/RDPMC-exiting";
		return false;
	}
	/* Without a TPR shadow CR8 accesses must exit (the hypervisor keeps the guest TPR). */
	if (!(c->proc & CPU_TPR_SHADOW))
		c->proc |= (CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING) & (u32)(m->procbased >> 32);

	/* Secondary processor-based. */
	u32 proc2_req = SEC_ENABLE_EPT | SEC_UNRESTRICTED_GUEST;
	u32 proc2_opt = SEC_ENABLE_RDTSCP | SEC_ENABLE_INVPCID | SEC_ENABLE_XSAVES;
	if (!w->no_vpid)
		proc2_opt |= SEC_ENABLE_VPID;
	const u32 apicv_proc2 = SEC_VIRTUALIZE_APIC_ACCESSES | SEC_VIRTUALIZE_X2APIC | SEC_APIC_REGISTER_VIRT |
				SEC_VIRTUAL_INTR_DELIVERY;
	if (!w->no_apicv)
		proc2_opt |= apicv_proc2;
	proc2_opt |= SEC_PAUSE_LOOP_EXITING;   /* directed yield (hv/sched/sched.c) */
	bad = vmx_adjust_controls(m->procbased2, proc2_req, proc2_opt, &c->proc2);
	if (bad) {
		c->missing_required = bad & SEC_ENABLE_EPT ? "EPT" : "unrestricted-guest";
		return false;
	}

	/* EPT capabilities: 4-level walk and write-back paging structures are required. */
	c->ept_vpid = m->ept_vpid;
	if (!(m->ept_vpid & EPT_CAP_WALK4) || !(m->ept_vpid & EPT_CAP_WB)) {
		c->missing_required = "EPT 4-level page walk with write-back memory type";
		return false;
	}
	if (!(m->ept_vpid & EPT_CAP_INVEPT) ||
	    !(m->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		c->missing_required = "INVEPT";
		return false;
	}
	c->ept_wb = true;
	c->ept_2m = m->ept_vpid & EPT_CAP_2M;
	c->ept_1g = m->ept_vpid & EPT_CAP_1G;
	c->invept_single = m->ept_vpid & EPT_CAP_INVEPT_SINGLE;
	c->invept_all = m->ept_vpid & EPT_CAP_INVEPT_ALL;
	c->invvpid_single = m->ept_vpid & VPID_CAP_SINGLE;
	c->invvpid_all = m->ept_vpid & VPID_CAP_ALL;
	if ((c->proc2 & SEC_ENABLE_VPID) &&
	    (!(m->ept_vpid & VPID_CAP_INVVPID) || !(c->invvpid_single || c->invvpid_all))) {
		c->proc2 &= ~SEC_ENABLE_VPID;   /* VPID without INVVPID cannot be managed */
		append(c->missing_optional, sizeof(c->missing_optional), "INVVPID");
	}

	/* Exit controls: 64-bit host, EFER and PAT switched on every transition. */
	u32 exit_req = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |
		       EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT;
	u32 exit_opt = EXIT_ACK_INTR_ON_EXIT;
	if (c->pin & PIN_PREEMPTION_TIMER)
		exit_opt |= EXIT_SAVE_PREEMPTION_TIMER;
	bad = vmx_adjust_controls(m->exit, exit_req, exit_opt, &c->exit);
	if (bad) {
		c->missing_required = "VM-exit controls (64-bit host, save/load EFER and PAT)";
		return false;
	}
	/* Posted interrupts need acknowledge-on-exit (24.6.1, note on "process posted interrupts"). */
	if ((c->pin & PIN_POSTED_INTERRUPTS) && !(c->exit & EXIT_ACK_INTR_ON_EXIT))
		c->pin &= ~PIN_POSTED_INTERRUPTS;

	/* APICv is all or nothing: posted interrupts need virtual-interrupt delivery and
	 * acknowledge-on-exit ("Checks on VM-Execution Control Fields"), virtual-interrupt
	 * delivery needs a TPR shadow, and the hypervisor's x2APIC support needs APIC-
	 * register virtualization. Without one of them: event injection (the fallback). */
	c->apicv = (c->pin & PIN_POSTED_INTERRUPTS) && (c->proc & CPU_TPR_SHADOW) &&
		   (c->proc2 & apicv_proc2) == apicv_proc2 && (c->exit & EXIT_ACK_INTR_ON_EXIT);
	if (!c->apicv) {
		c->pin &= ~PIN_POSTED_INTERRUPTS;
		c->proc2 &= ~apicv_proc2;
	}

	bad = vmx_adjust_controls(m->entry, ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT, 0, &c->entry);
	if (bad) {
		c->missing_required = "VM-entry controls (load EFER and PAT)";
		return false;
	}

	note(c, c->pin, pin_opt, pin_names, ARRAY_SIZE(pin_names));
	note(c, c->proc, proc_opt | CPU_USE_MSR_BITMAPS, proc_names, ARRAY_SIZE(proc_names));
	/* APICv left off as a whole: only the controls the CPU lacks are "missing". */
	u32 proc2_note = c->apicv ? proc2_opt : proc2_opt & ~(apicv_proc2 & (u32)(m->procbased2 >> 32));
	note(c, c->proc2, proc2_req | proc2_note, proc2_names, ARRAY_SIZE(proc2_names));
	note(c, c->exit, exit_opt, exit_names, ARRAY_SIZE(exit_names));
	if (c->ept_2m)
		append(c->used, sizeof(c->used), "EPT-2M");
	if (c->ept_1g)
		append(c->used, sizeof(c->used), "EPT-1G");
	return true;
}

/*
 * One CPU's negotiated result against the boot CPU's. Every CPU runs vCPUs whose VMCS
 * controls come from the boot CPU's result, and vCPUs move between CPUs: a CPU that
 * cannot set a control the boot CPU uses, has another VMCS revision identifier ("Basic
 * VMX Information": a VMCS region must carry the processor's revision), another
 * VMX-preemption timer rate, or lacks an EPT/INVEPT/INVVPID feature in use, cannot run
 * them. Extra controls on the CPU only go unused.
 */
int vmx_caps_compare(const struct vmx_caps *bsp, const struct vmx_caps *cpu, char *diff, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} words[] = {
		{ "pin", offsetof(struct vmx_caps, pin) },     { "proc", offsetof(struct vmx_caps, proc) },
		{ "proc2", offsetof(struct vmx_caps, proc2) }, { "exit", offsetof(struct vmx_caps, exit) },
		{ "entry", offsetof(struct vmx_caps, entry) },
	};
	size_t n = 0;
	int result = VMX_CAPS_SAME;
#define DIFF(...) do { \
		if (n < len) \
			n += (size_t)hv_snprintf(diff + n, len - n, "%s", n ? "; " : ""); \
		if (n < len) \
			n += (size_t)hv_snprintf(diff + n, len - n, __VA_ARGS__); \
	} while (0)
	if (len)
		diff[0] = '\0';
	if (cpu->revision != bsp->revision) {
		DIFF("VMCS revision 0x%x (boot CPU 0x%x)", cpu->revision, bsp->revision);
		result = VMX_CAPS_INCOMPATIBLE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		u32 b = *(const u32 *)((const u8 *)bsp + words[i].off);
		u32 c = *(const u32 *)((const u8 *)cpu + words[i].off);
		if (b & ~c) {
			DIFF("lacks %s 0x%08x", words[i].name, b & ~c);
			result = VMX_CAPS_INCOMPATIBLE;
		}
		if (c & ~b) {
			DIFF("also has %s 0x%08x (unused)", words[i].name, c & ~b);
			if (result == VMX_CAPS_SAME)
				result = VMX_CAPS_DIFFERENT;
		}
	}
	if (vmx_has_preemption_timer(bsp) && cpu->preemption_timer_rate != bsp->preemption_timer_rate) {
		DIFF("preemption timer rate 2^%u (boot CPU 2^%u)", cpu->preemption_timer_rate, bsp->preemption_timer_rate);
		result = VMX_CAPS_INCOMPATIBLE;
	}
	if ((bsp->ept_2m && !cpu->ept_2m) || (bsp->ept_1g && !cpu->ept_1g) || (bsp->ept_wb && !cpu->ept_wb) ||
	    (bsp->invept_single && !cpu->invept_single) || (bsp->invept_all && !cpu->invept_all) ||
	    (bsp->invvpid_single && !cpu->invvpid_single) || (bsp->invvpid_all && !cpu->invvpid_all)) {
		DIFF("lacks EPT/VPID capabilities (IA32_VMX_EPT_VPID_CAP 0x%llx, boot CPU 0x%llx)",
		     (unsigned long long)cpu->ept_vpid, (unsigned long long)bsp->ept_vpid);
		result = VMX_CAPS_INCOMPATIBLE;
	}
	if (cpu->cr0_fixed0 != bsp->cr0_fixed0 || cpu->cr0_fixed1 != bsp->cr0_fixed1 ||
	    cpu->cr4_fixed0 != bsp->cr4_fixed0 || cpu->cr4_fixed1 != bsp->cr4_fixed1) {
		DIFF("other CR0/CR4 fixed bits");
		if (result == VMX_CAPS_SAME)
			result = VMX_CAPS_DIFFERENT;
	}
#undef DIFF
	return result;
}
