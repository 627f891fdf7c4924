/* SPDX-License-Identifier: MIT */
/*
 * The host local APIC and AP start-up.
 *
 * Intel SDM Vol. 3A, "MP Initialization Protocol Algorithm for MP Systems": the BSP
 * sends INIT, waits 10 ms, then a start-up IPI whose vector is the start page (here
 * TRAMPOLINE_BASE >> 12), and a second one after 200 us if the AP has not started.
 * The APIC is used in xAPIC (MMIO) mode unless the firmware left it in x2APIC mode.
 */
#include "hv/host/cpu.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/host/time.h"
#include "arch/x86/x86.h"
#include "hv/host/timer.h"
#include "hv/host/serial_input.h"
#include "hv/sched/sched.h"
#include "hv/init/config.h"
#include "arch/x86/apic_regs.h"

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
	lapic_send_ipi(x2apic ? ndst : (ndst >> 8) & 0xff, vector);
}

bool lapic_x2apic_mode(void)
{
	return x2apic;
}

u32 lapic_id(void)
{
	return x2apic ? lapic_read(APIC_ID) : lapic_read(APIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

void lapic_init(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_EN)) {
		base |= APIC_BASE_EN;
		wrmsr(MSR_IA32_APIC_BASE, base);
	}
	x2apic = base & APIC_BASE_EXTD;
	lapic_mmio = phys_to_virt(base & 0xfffff000ull);
	lapic_write(APIC_SVR, SVR_ENABLE | VECTOR_SPURIOUS);
}

static void send_icr(u32 dest, u32 lo)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_ICR, ((u64)dest << 32) | lo);
		return;
	}
	lapic_write(APIC_ICR2, dest << 24);
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
		memset(c, 0, offsetof(struct cpu, vmxon_region));
		c->id = nr_cpus;
		c->apic_id = ap_apic_ids[i];
		c->stack_top = (u64)(c->stack + CPU_STACK_SIZE);
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
	switch (vector) {
	case VECTOR_KICK:
	case VECTOR_POSTED:   /* the target left the guest first: its entry path syncs PIR */
		break;
	case VECTOR_WAKEUP:
	case VECTOR_VM_BASE ... VECTOR_VM_BASE + MAX_VMS - 1:
		lapic_eoi();
		sched_wakeup_vector(vector);
		return;
	case VECTOR_TIMER:
		lapic_eoi();
		hv_timer_interrupt();
		return;
	case VECTOR_CONSOLE_RX:
		serial_input_irq();
		break;
	default:
		printk("unexpected host interrupt, vector %u\n", vector);
	}
	lapic_eoi();
}
