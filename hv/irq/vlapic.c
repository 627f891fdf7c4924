/* SPDX-License-Identifier: MIT */
/*
 * The virtual LAPIC as a device (hv/irq/vlapic.h): register writes with side effects,
 * interrupt messages between the VM's APICs, INIT/SIPI, and the timer.
 *
 * Every function here runs on the CPU of the vCPU whose APIC it changes (a register
 * write is that vCPU's own VM exit), except vlapic_deliver(), which only reaches other
 * vCPUs through vcpu_post_irq() and vcpu_request() (arch/x86/vmx/posted.c, hv/sched/sched.c).
 *
 * The timer counts at the TSC rate before the divider: one APIC timer tick per TSC tick
 * (HC_INFO_APIC_TIMER_HZ says so to the guest).
 */
#include "hv/irq/vlapic.h"
#include "hv/irq/msi.h"
#include "hv/vm/vm.h"
#include "hv/vm/hypercall.h"
#include "hv/sched/sched.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/irq/vioapic.h"
#include "hv/host/time.h"
#include "arch/x86/x86.h"
#include "arch/x86/arch.h"
#include "hv/trace/trace.h"

static bool accepts_fixed(const struct vlapic *l);

static void sw_timer_fired(struct hv_timer *t, u64 now)
{
	vlapic_timer_expired(container_of(t, struct vcpu, sw_timer), now);
}

/* Software timer mode: the guest timer is a host timer on the vCPU's CPU. With the
 * preemption timer the entry path programs it instead (vmentry.c, vmx_program_timer). */
void vlapic_timer_changed(struct vcpu *v)
{
	if (v->vm->ptimer)
		return;
	if (v->lapic.timer_deadline)
		hv_timer_arm(&v->sw_timer, v->lapic.timer_deadline);
	else if (hv_timer_armed(&v->sw_timer))
		hv_timer_cancel(&v->sw_timer);
}

bool vlapic_init(struct vcpu *v)
{
	v->sw_timer.fn = sw_timer_fired;
	struct vlapic *l = &v->lapic;
	l->regs = alloc_page();
	if (!l->regs)
		return false;
	l->regs_pa = virt_to_phys(l->regs);
	l->apic_base = 0;
	vlapic_reset(l, v->id, v->id == 0);
	return true;
}

static void timer_disarm(struct vcpu *v)
{
	v->lapic.timer_deadline = 0;
	v->lapic.timer_period = 0;
	vlapic_timer_changed(v);
}

/*
 * The shortest period of a periodic timer: VLAPIC_MIN_PERIOD_US, 200 us, KVM's default
 * (min_timer_period_us). A periodic timer re-arms itself with no guest action, so a
 * period of one tick (initial count 1, divide by 1) would have the vCPU take a timer
 * exit at every entry and never run an instruction, and on timer=soft keep its CPU in
 * the host timer interrupt; one-shot and TSC-deadline timers need a guest write (an
 * exit of their own) per expiry and are not bounded. At 200 us the timer costs at most
 * one exit round trip per 200 us: 5 % of the vCPU under Bochs (about 10 us per exit,
 * Bochs 3.0), well under 1 % on hardware; guests ask for 1 ms (HZ=1000) or more. The
 * current-count register counts down over the longer period, never reading above the
 * initial count (timer_current_count).
 */
static u64 vlapic_min_period(void)
{
	return tsc_hz / 1000000 * VLAPIC_MIN_PERIOD_US;
}

/* One-shot and periodic modes: (re)load the count from the initial-count register. */
static void timer_load(struct vcpu *v, u64 now)
{
	struct vlapic *l = &v->lapic;
	u32 lvt = vlapic_reg(l, APIC_LVT_TIMER);
	u32 count = vlapic_reg(l, APIC_TMICT);
	if (APIC_LVT_TIMER_MODE(lvt) == APIC_TIMER_TSC_DEADLINE || !count) {
		timer_disarm(v);
		return;
	}
	u64 ticks = (u64)count * vlapic_timer_divisor(vlapic_reg(l, APIC_TDCR));
	bool periodic = APIC_LVT_TIMER_MODE(lvt) == APIC_TIMER_PERIODIC;
	if (periodic && ticks < vlapic_min_period()) {
		vm_log(v->vm, "vm %s vCPU %u: periodic APIC timer of %llu TSC ticks raised to the minimum %llu "
		       "(%u us)\n", v->vm->name, v->id, (unsigned long long)ticks,
		       (unsigned long long)vlapic_min_period(), VLAPIC_MIN_PERIOD_US);
		ticks = vlapic_min_period();
	}
	l->timer_start = now;
	l->timer_deadline = now + ticks;
	l->timer_period = periodic ? ticks : 0;
	TRACE(TEV_TIMER_ARM, v, l->timer_deadline, l->timer_period);
	vlapic_timer_changed(v);
}

/* "Error Handling": record the error in the ESR (latched by the next ESR write) and
 * signal it through the LVT error entry, unless that is masked (or itself illegal). */
static void vlapic_error(struct vcpu *v, u32 bits)
{
	struct vlapic *l = &v->lapic;
	__atomic_fetch_or(&l->esr_pending, bits, __ATOMIC_RELAXED);
	u32 lvt = vlapic_reg(l, APIC_LVT_ERROR);
	if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xff) >= 16 && accepts_fixed(l)) {
		TRACE_SOURCE(TSRC_OTHER);
		vcpu_post_irq(v, (u8)lvt, false);
	}
}

void vlapic_timer_expired(struct vcpu *v, u64 now)
{
	struct vlapic *l = &v->lapic;
	/* Never before the deadline ("TSC-Deadline Mode"): a timer that came early is
	 * re-armed by the entry path. */
	if (!l->timer_deadline || now < l->timer_deadline)
		return;
	TRACE_TIMER_FIRE(v, now);
	u32 lvt = vlapic_reg(l, APIC_LVT_TIMER);
	if (!(lvt & APIC_LVT_MASKED)) {
		/* A vector 0-15 is not delivered: "Receive Illegal Vector" ("Error Handling"). */
		if ((lvt & 0xff) < 16)
			vlapic_error(v, ESR_RECV_ILLEGAL_VECTOR);
		else
			vcpu_post_irq(v, (u8)lvt, false);
	}
	if (l->timer_period) {
		l->timer_deadline += l->timer_period;
		if (l->timer_deadline <= now)   /* periods missed while not running: coalesce */
			l->timer_deadline = now + l->timer_period;
		l->timer_start = l->timer_deadline - l->timer_period;
	} else {
		l->timer_deadline = 0;
		if (APIC_LVT_TIMER_MODE(lvt) == APIC_TIMER_TSC_DEADLINE)
			l->tsc_deadline = 0;   /* "TSC-Deadline Mode": the MSR reads 0 after it fired */
	}
	vlapic_timer_changed(v);
}

static u32 timer_current_count(const struct vlapic *l, u64 now)
{
	if (!l->timer_deadline || APIC_LVT_TIMER_MODE(vlapic_reg(l, APIC_LVT_TIMER)) == APIC_TIMER_TSC_DEADLINE ||
	    l->timer_deadline <= now)
		return 0;
	u64 n = (l->timer_deadline - now) / vlapic_timer_divisor(vlapic_reg(l, APIC_TDCR));
	return (u32)MIN(n, (u64)vlapic_reg(l, APIC_TMICT));   /* a period raised to the minimum */
}

bool vlapic_write_tsc_deadline(struct vcpu *v, u64 val, s64 tsc_offset)
{
	struct vlapic *l = &v->lapic;
	/* Outside TSC-deadline mode writes are ignored ("TSC-Deadline Mode"). */
	if (APIC_LVT_TIMER_MODE(vlapic_reg(l, APIC_LVT_TIMER)) != APIC_TIMER_TSC_DEADLINE)
		return true;
	l->tsc_deadline = val;
	l->timer_period = 0;
	/* The guest writes its own TSC (host TSC + its offset, arch/x86/vmx/msr.c); the
	 * timer runs on the host's. */
	u64 now = rdtsc();
	u64 guest_now = now + (u64)tsc_offset;
	l->timer_deadline = !val ? 0 : val <= guest_now ? now : now + (val - guest_now);
	TRACE(TEV_TIMER_ARM, v, l->timer_deadline, 0);
	if (val && val <= guest_now)
		vlapic_timer_expired(v, now);   /* already due: deliver before the next entry */
	else
		vlapic_timer_changed(v);
	return true;
}

u64 vlapic_read_tsc_deadline(struct vcpu *v)
{
	struct vlapic *l = &v->lapic;
	if (APIC_LVT_TIMER_MODE(vlapic_reg(l, APIC_LVT_TIMER)) != APIC_TIMER_TSC_DEADLINE)
		return 0;
	return l->tsc_deadline;
}

/* ---- interrupt messages ---- */

static bool accepts_fixed(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) && vlapic_sw_enabled(l);
}

static void deliver_one(struct vcpu *t, u8 dm, u8 vector, bool level)
{
	struct vlapic *l = &t->lapic;
	if (!vlapic_hw_enabled(l))
		return;
	switch (dm) {
	case DM_FIXED:
	case DM_LOWEST:
		if (!accepts_fixed(l))
			return;   /* a software-disabled APIC takes only NMI, INIT and SIPI */
		if (vector < 16) {
			/* "Error Handling": Receive Illegal Vector */
			vlapic_error(t, ESR_RECV_ILLEGAL_VECTOR);
			return;
		}
		vcpu_post_irq(t, vector, level);
		break;
	case DM_NMI:
		__atomic_fetch_add(&t->nmi_queued, 1, __ATOMIC_SEQ_CST);   /* counted: none is lost */
		vcpu_request(t, REQ_NMI);
		break;
	case DM_INIT:
		if (__atomic_load_n(&t->vm->restart, __ATOMIC_SEQ_CST) != RESTART_NONE)
			break;   /* the VM is restarting (hv/vm/restart.c) */
		if (t->id == 0) {
			/* A reset of the boot vCPU: nothing could start it again. */
			vm_stop(t->vm, HV_STATUS_STOPPED, false, 0,
				"INIT to vCPU 0 (a reset of the boot processor) is not emulated");
			return;
		}
		vcpu_request(t, REQ_INIT);
		break;
	case DM_SIPI:
		/* Only a vCPU waiting for SIPI takes it ("MP Initialization Protocol"). */
		if (t->state == VCPU_WAIT_SIPI && __atomic_load_n(&t->vm->restart, __ATOMIC_SEQ_CST) == RESTART_NONE) {
			t->sipi_vector = vector;
			vcpu_request(t, REQ_SIPI);
		}
		break;
	default:
		break;   /* SMI, ExtINT: no such sources in this platform */
	}
}

struct vcpu *vlapic_phys_target(struct vm *vm, u32 dest)
{
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		if (vlapic_match_dest(&vm->vcpus[i]->lapic, dest, false))
			return vm->vcpus[i];
	return NULL;
}

void vlapic_deliver_to(struct vcpu *t, u8 dm, u8 vector, bool level)
{
	deliver_one(t, dm, vector, level);
}

void vlapic_deliver(struct vm *vm, struct vcpu *src, u32 shorthand, u32 dest, bool logical,
		    u8 dm, u8 vector, bool level)
{
	if (dm == DM_LOWEST && shorthand == SH_NONE) {
		/* Lowest priority: one of the matching, accepting APICs, round robin
		 * (the arbitration is model specific: "Lowest Priority Delivery Mode"). */
		u32 n = vm->nr_vcpus;
		u32 start = __atomic_fetch_add(&vm->lowest_rr, 1, __ATOMIC_RELAXED);
		for (u32 k = 0; k < n; k++) {
			struct vcpu *t = vm->vcpus[(start + k) % n];
			if (vlapic_match_dest(&t->lapic, dest, logical) && accepts_fixed(&t->lapic)) {
				deliver_one(t, DM_FIXED, vector, level);
				return;
			}
		}
		return;
	}
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpus[i];
		bool hit;
		switch (shorthand) {
		case SH_SELF:
			hit = t == src;
			break;
		case SH_ALL:
			hit = true;
			break;
		case SH_OTHERS:
			hit = t != src;
			break;
		default:
			hit = vlapic_match_dest(&t->lapic, dest, logical);
			break;
		}
		if (hit)
			deliver_one(t, dm, vector, level);
	}
}

/* A write to the ICR: send the IPI it describes ("Interrupt Command Register"). */
static void send_ipi(struct vcpu *v, u32 lo, u32 dest)
{
	struct vlapic *l = &v->lapic;
	u8 dm = (u8)ICR_DM(lo), vec = (u8)ICR_VECTOR(lo);
	u32 sh = ICR_SHORTHAND(lo);

	if ((dm == DM_FIXED || dm == DM_LOWEST) && vec < 16) {
		vlapic_error(v, ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	if (dm == DM_INIT && (lo & ICR_LEVEL) && !(lo & ICR_ASSERT))
		return;   /* INIT level de-assert: no effect on modern processors */
	if (!vlapic_x2apic(l))
		dest >>= 24;
	TRACE_SOURCE(TSRC_IPI);
	vlapic_deliver(v->vm, v, sh, dest, lo & ICR_LOGICAL, dm, vec, false);
}

void vlapic_level_vectors_changed(struct vm *vm)
{
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(vm->vcpus[i], REQ_EOI_BITMAP);
}

void vlapic_eoi_vector(struct vcpu *v, int vec, bool level)
{
	if (vec >= 0 && level)
		vioapic_eoi(&v->vm->ioapic, (u8)vec);
}

static void lvt_write(struct vcpu *v, u32 off, u32 val)
{
	struct vlapic *l = &v->lapic;
	/* Valid bits per entry (Vol. 3A, "Local Vector Table"). */
	u32 mask = 0x100ff | (1u << 12);   /* vector, delivery status (RO below), mask */
	if (off == APIC_LVT_TIMER)
		mask |= 3u << 17;
	if (off == APIC_LVT_LINT0 || off == APIC_LVT_LINT1)
		mask |= 0x700 | (1u << 13) | (1u << 14) | (1u << 15);
	if (off == APIC_LVT_THERMAL || off == APIC_LVT_PMC)
		mask |= 0x700;
	val &= mask & ~(1u << 12);
	if (!vlapic_sw_enabled(l))
		val |= APIC_LVT_MASKED;   /* "Spurious-Interrupt Vector Register": masks stay set */
	vlapic_set_reg(l, off, val);
	if (off != APIC_LVT_TIMER)
		return;
	u32 old = l->lvt_timer;
	l->lvt_timer = val;
	bool was_dl = APIC_LVT_TIMER_MODE(old) == APIC_TIMER_TSC_DEADLINE;
	bool is_dl = APIC_LVT_TIMER_MODE(val) == APIC_TIMER_TSC_DEADLINE;
	if (was_dl != is_dl) {
		/* A change to or from TSC-deadline mode disarms the timer ("TSC-Deadline
		 * Mode": "the timer is disarmed" on a transition between modes). */
		l->tsc_deadline = 0;
		timer_disarm(v);
	} else if (!is_dl && APIC_LVT_TIMER_MODE(old) != APIC_LVT_TIMER_MODE(val) && l->timer_deadline) {
		/* One-shot <-> periodic ("APIC Timer"): the count goes on; what happens at
		 * zero follows the new mode (a periodic timer reloads the initial count). */
		l->timer_period = APIC_LVT_TIMER_MODE(val) == APIC_TIMER_PERIODIC ?
			(u64)vlapic_reg(l, APIC_TMICT) * vlapic_timer_divisor(vlapic_reg(l, APIC_TDCR)) : 0;
	}
}

bool vlapic_write(struct vcpu *v, u32 off, u64 val64)
{
	struct vlapic *l = &v->lapic;
	bool x2 = vlapic_x2apic(l);
	u32 val = (u32)val64;

	/* x2APIC: a WRMSR that sets reserved bits raises #GP ("x2APIC Register Address
	 * Space"); registers that are not writable are refused below. */
	if (x2 && (val64 & ~vlapic_x2apic_write_valid(off)))
		return false;
	switch (off) {
	case APIC_ID:
		if (x2)
			return false;   /* read-only in x2APIC mode */
		/* xAPIC: the ID is writable ("Local APIC ID Register"; an OS may renumber);
		 * it lives in the register page, which routing reads (vlapic_match_dest), so
		 * what the guest reads back and where its IPIs go agree, with APICv (the CPU
		 * stored it) and without (stored here). */
		vlapic_set_reg(l, APIC_ID, val & 0xff000000);
		msi_apic_changed(v->vm);
		return true;
	case APIC_VERSION:
	case APIC_PPR:
	case APIC_APR:
	case APIC_RRD:
	case APIC_TMCCT:
		return !x2;   /* read-only: ignored in xAPIC mode, #GP in x2APIC mode */
	case APIC_TPR:
		vlapic_set_reg(l, APIC_TPR, val & 0xff);
		return true;
	case APIC_EOI: {
		if (x2 && val)
			return false;
		bool level;
		int vec = vlapic_eoi(l, &level);
		TRACE(TEV_EOI, v, vec, 0);
		vlapic_eoi_vector(v, vec, level);
		return true;
	}
	case APIC_LDR:
		if (x2)
			return false;
		vlapic_set_reg(l, APIC_LDR, val & 0xff000000);
		msi_apic_changed(v->vm);
		return true;
	case APIC_DFR:
		if (x2)
			return false;
		vlapic_set_reg(l, APIC_DFR, val | 0x0fffffff);
		msi_apic_changed(v->vm);
		return true;
	case APIC_SVR:
		vlapic_set_reg(l, APIC_SVR, val & 0x1ff);
		if (!(val & APIC_SVR_ENABLE)) {
			for (u32 o = APIC_LVT_TIMER; o <= APIC_LVT_ERROR; o += 0x10)
				vlapic_set_reg(l, o, vlapic_reg(l, o) | APIC_LVT_MASKED);
			l->lvt_timer |= APIC_LVT_MASKED;
		}
		return true;
	case APIC_ESR:
		if (x2 && val)
			return false;
		/* "Error Status Register": a write latches the errors seen since the last one. */
		vlapic_set_reg(l, APIC_ESR, __atomic_exchange_n(&l->esr_pending, 0, __ATOMIC_RELAXED));
		return true;
	case APIC_ICR: {
		u32 lo = val & ~(u32)ICR_BUSY;
		u32 dest = x2 ? (u32)(val64 >> 32) : vlapic_reg(l, APIC_ICR2);
		vlapic_set_reg(l, APIC_ICR, lo);
		if (x2)
			vlapic_set_reg(l, APIC_ICR + 4, dest);   /* the 64-bit x2APIC ICR */
		send_ipi(v, lo, dest);
		return true;
	}
	case APIC_ICR2:
		if (x2)
			return false;
		vlapic_set_reg(l, APIC_ICR2, val & 0xff000000);
		return true;
	case APIC_LVT_TIMER:
	case APIC_LVT_THERMAL:
	case APIC_LVT_PMC:
	case APIC_LVT_LINT0:
	case APIC_LVT_LINT1:
	case APIC_LVT_ERROR:
		lvt_write(v, off, val);
		return true;
	case APIC_LVT_CMCI:
		return !x2;   /* not implemented (Max LVT Entry says so) */
	case APIC_TMICT:
		/* In TSC-deadline mode the initial count ignores writes ("TSC-Deadline
		 * Mode"); with APICv the CPU already stored it: put 0 back. */
		if (APIC_LVT_TIMER_MODE(l->lvt_timer) == APIC_TIMER_TSC_DEADLINE) {
			vlapic_set_reg(l, APIC_TMICT, 0);
			return true;
		}
		vlapic_set_reg(l, APIC_TMICT, val);
		timer_load(v, rdtsc());
		return true;
	case APIC_TDCR:
		vlapic_set_reg(l, APIC_TDCR, val & 0xb);
		return true;
	case APIC_SELF_IPI:
		if (!x2)
			return true;
		if ((val & 0xff) < 16) {
			vlapic_error(v, ESR_SEND_ILLEGAL_VECTOR);
			return true;
		}
		TRACE_SOURCE(TSRC_IPI);
		vcpu_post_irq(v, (u8)val, false);
		return true;
	}
	if (off >= APIC_ISR && off < APIC_ESR)
		return !x2;   /* ISR/TMR/IRR are read-only */
	return !x2;      /* reserved: ignored in xAPIC mode, #GP in x2APIC mode */
}

bool vlapic_read(struct vcpu *v, u32 off, u64 *val)
{
	struct vlapic *l = &v->lapic;
	bool x2 = vlapic_x2apic(l);
	*val = 0;
	if (x2 && !vlapic_x2apic_readable(off))
		return false;   /* #GP: not a readable register in x2APIC mode */
	switch (off) {
	case APIC_TMCCT:
		*val = timer_current_count(l, rdtsc());
		return true;
	case APIC_PPR:
		*val = vlapic_ppr(l);
		return true;
	case APIC_ICR:
		*val = vlapic_reg(l, APIC_ICR);
		if (x2)
			*val |= (u64)vlapic_reg(l, APIC_ICR + 4) << 32;
		return true;
	case APIC_EOI:
	case APIC_SELF_IPI:
		return true;   /* write-only: reads 0 in xAPIC mode */
	}
	if (off > APIC_TDCR || (off & 0xf))
		return true;   /* reserved: reads 0 in xAPIC mode */
	*val = vlapic_reg(l, off);
	return true;
}

/* IA32_APIC_BASE writes ("x2APIC State Transitions"): disabled <-> xAPIC <-> x2APIC,
 * x2APIC -> xAPIC only through disabled; the base address is not relocatable here. */
bool vlapic_set_base(struct vcpu *v, u64 val)
{
	struct vlapic *l = &v->lapic;
	u64 old = l->apic_base;
	u64 keep = VAPIC_BASE_BSP;
	if ((val & ~(0xfffff000ull | VAPIC_BASE_EXTD | VAPIC_BASE_ENABLE | VAPIC_BASE_BSP)) ||
	    (val & keep) != (old & keep))
		return false;
	bool en = val & VAPIC_BASE_ENABLE, ext = val & VAPIC_BASE_EXTD;
	bool old_en = old & VAPIC_BASE_ENABLE, old_ext = old & VAPIC_BASE_EXTD;
	if (ext && !en)
		return false;                          /* invalid state */
	if (old_en && old_ext && en && !ext)
		return false;                          /* x2APIC -> xAPIC directly */
	if (!old_en && en && ext)
		return false;                          /* disabled -> x2APIC directly */
	if ((val & 0xfffff000ull) != APIC_DEFAULT_BASE) {
		vm_log(v->vm, "vm %s vCPU %u: APIC base relocation to 0x%llx not supported\n", v->vm->name, v->id,
		       (unsigned long long)(val & 0xfffff000ull));
		return false;
	}
	l->apic_base = val;
	if (en && ext && !old_ext) {
		/* Entering x2APIC mode: 32-bit ID, LDR derived from it, no DFR. */
		vlapic_set_reg(l, APIC_ID, l->id);
		vlapic_set_reg(l, APIC_LDR, x2apic_ldr(l->id));
		vlapic_set_reg(l, APIC_DFR, 0);
	} else if (!en && old_en) {
		/* Disabling resets the APIC ("Local APIC State After It Has Been
		 * Software Disabled" / hardware-disabled: as after power-up but off). */
		l->apic_base = 0;   /* so reset takes the xAPIC branch */
		vlapic_reset(l, l->id, false);
		l->apic_base = val;
		timer_disarm(v);
	}
	msi_apic_changed(v->vm);
	arch_apic_mode_changed(v);
	return true;
}
