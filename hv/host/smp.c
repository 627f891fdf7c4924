/* SPDX-License-Identifier: MIT */
/*
 * The host local APIC and AP start-up.
 *
 * Intel SDM Vol. 3A, "MP Initialization Protocol Algorithm for MP Systems": the BSP
 * sends INIT, waits 10 ms, then a start-up IPI whose vector is the start page (here
 * TRAMPOLINE_BASE >> 12), and a second one after 200 us if the AP has not started.
 * Every CPU runs its APIC in the boot CPU's mode: xAPIC (MMIO) or x2APIC (MSRs), as
 * lapic_choose_mode decided from the firmware's state and x2apic= (hv/host/lapic.h).
 */
#include "hv/host/vectors.h"
#include "hv/host/cpu.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/host/time.h"
#include "arch/x86/x86.h"
#include "hv/host/timer.h"
#include "hv/sched/sched.h"
#include "hv/init/config.h"
#include "arch/x86/apic_regs.h"
#include "arch/x86/pi_desc.h"
#include "hv/host/lapic.h"

#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_LEVEL_ASSERT 0x00004000u
#define ICR_PENDING 0x00001000u
#define SVR_ENABLE 0x100u

struct cpu cpus[MAX_CPUS];
u32 nr_cpus = 1;
static volatile u32 *lapic_mmio;
static bool x2apic;

u32 lapic_read(u32 reg)
{
	if (x2apic)
		return (u32)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return lapic_mmio[reg / 4];
}

void lapic_write(u32 reg, u32 v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
	else
		lapic_mmio[reg / 4] = v;
}

/* An IPI to the CPU a posted-interrupt descriptor's NDST names. */
void lapic_send_ipi_ndst(u32 ndst, u8 vector)
{
	lapic_send_ipi(pi_ndst_apic_id(ndst, x2apic), vector);
}

bool lapic_x2apic_mode(void)
{
	return x2apic;
}

u32 lapic_id(void)
{
	return lapic_id_of(lapic_read(APIC_ID), x2apic);
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

static bool cpu_has_x2apic(void)
{
	u32 a, b, c, d;
	cpuid_count(1, 0, &a, &b, &c, &d);
	return c & CPUID1_ECX_X2APIC;
}

/* The APIC globally enabled (a disabled one goes to xAPIC mode first: "x2APIC State
 * Transitions", the disabled state's only way out), then EXTD set when x2apic_now. */
static void apic_base_set(bool x2apic_now)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_EN)) {
		base = (base & ~(u64)APIC_BASE_EXTD) | APIC_BASE_EN;
		wrmsr(MSR_IA32_APIC_BASE, base);
	}
	if (x2apic_now && !(base & APIC_BASE_EXTD))
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
}

static void lapic_enable_local(void)
{
	lapic_write(APIC_SVR, SVR_ENABLE | VECTOR_SPURIOUS);
}

bool lapic_init_boot(u8 option, struct lapic_mode *m, char *err, size_t errlen)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	bool fw_x2apic = (base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
	if (!lapic_choose_mode(option, fw_x2apic, cpu_has_x2apic(), m, err, errlen))
		return false;
	apic_base_set(m->x2apic);
	x2apic = m->x2apic;
	lapic_mmio = phys_to_virt(rdmsr(MSR_IA32_APIC_BASE) & 0xfffff000ull);
	lapic_enable_local();
	return true;
}

bool lapic_init_ap(bool *switched, char *err, size_t errlen)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	bool fw_x2apic = (base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD), enable;
	*switched = false;
	if (!lapic_ap_mode(x2apic, fw_x2apic, cpu_has_x2apic(), &enable, err, errlen))
		return false;
	*switched = enable;
	apic_base_set(enable || fw_x2apic);
	lapic_enable_local();
	return true;
}

static void send_icr(u32 dest, u32 lo)
{
	if (x2apic) {
		/* "MSR Access in x2APIC Mode": WRMSR to the APIC registers is not serializing;
		 * "A WRMSR to an APIC register may complete before all preceding stores are
		 * globally visible; software can prevent this by inserting a serializing
		 * instruction or the sequence MFENCE;LFENCE before the WRMSR". A target must
		 * see what was stored for it (PIR, run queues) when the IPI arrives. */
		asm volatile("mfence; lfence" ::: "memory");
		wrmsr(MSR_X2APIC_ICR, lapic_icr_x2apic(dest, lo));
		return;
	}
	lapic_write(APIC_ICR2, lapic_icr2_xapic(dest));
	lapic_write(APIC_ICR, lo);
	for (unsigned i = 0; i < 1000000 && (lapic_read(APIC_ICR) & ICR_PENDING); i++)
		cpu_relax();
}

void lapic_send_ipi(u32 apic_id, u8 vector)
{
	u64 f = read_rflags();
	irq_disable();
	send_icr(apic_id, vector);
	if (f & RFLAGS_IF)
		irq_enable();
}

extern u32 ap_apic_ids[MAX_CPUS];
u32 ap_apic_ids[MAX_CPUS];

void ap_main(struct cpu *c) __noreturn;

static bool start_ap(struct cpu *c)
{
	u8 *tramp = phys_to_virt(TRAMPOLINE_BASE);
#define SLOT(sym) ((u64 *)(tramp + ((sym) - trampoline_start)))
	*SLOT(tramp_cr3) = read_cr3();
	*SLOT(tramp_efer) = boot_efer;
	*SLOT(tramp_stack) = c->stack_top;
	*SLOT(tramp_cpu) = (u64)c;
	*SLOT(tramp_entry) = (u64)ap_main;
#undef SLOT
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	send_icr(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	pit_delay_us(10000);
	for (int i = 0; i < 2 && !c->online; i++) {
		send_icr(c->apic_id, ICR_STARTUP | (TRAMPOLINE_BASE >> 12));
		pit_delay_us(200);
	}
	for (int i = 0; i < 1000 && !c->online; i++)
		pit_delay_us(100);
	return c->online;
}

void smp_boot_aps(void)
{
	size_t len = (size_t)(trampoline_end - trampoline_start);
	memcpy(phys_to_virt(TRAMPOLINE_BASE), trampoline_start, len);
	u32 n = nr_cpus;
	nr_cpus = 1;
	for (u32 i = 1; i < n; i++) {
		struct cpu *c = &cpus[nr_cpus];
		memset(c, 0, offsetof(struct cpu, arch));
		c->id = nr_cpus;
		c->apic_id = ap_apic_ids[i];
		c->stack_top = (u64)(c->stack + CPU_STACK_SIZE);
		if (!lapic_dest_ok(c->apic_id, x2apic)) {
			printk("smp: CPU with APIC ID %u cannot be named in xAPIC mode (IDs above 254 need x2apic=on); continuing without it\n",
			       c->apic_id);
			continue;
		}
		if (start_ap(c))
			nr_cpus++;
		else
			printk("smp: CPU with APIC ID %u did not start; continuing without it\n", c->apic_id);
	}
}

void host_irq(u8 vector)
{
	if (vector == VECTOR_SPURIOUS)
		return;   /* spurious: no EOI ("Spurious Interrupt") */
	lapic_eoi();
	if (!host_vector_dispatch(vector))
		printk("unexpected host interrupt, vector %u\n", vector);
}
