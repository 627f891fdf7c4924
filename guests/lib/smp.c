/* SPDX-License-Identifier: MIT */
/*
 * Application-processor start-up and the per-CPU mailbox (smp.h).
 */
#include "apic.h"
#include "smp.h"

#define MSR_IA32_GS_BASE 0xc0000101

/* The parameter block at the end of trampoline.S. */
struct trampoline_params {
	u64 cr3;
	u64 stack;
	u64 entry;
	u32 cpu;
	volatile u32 entries;
} __packed;

extern const char smp_trampoline_start[], smp_trampoline_end[], smp_trampoline_params[];
extern const struct desc_ptr gdt_desc;   /* entry.S */

struct percpu percpu[MAX_CPUS];
static u8 ap_stacks[MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(4096)));
static u32 target_apic_id[MAX_CPUS];
static u32 tramp_entries[MAX_CPUS];
static unsigned nr_cpus = 1, expected = 1;
static const char *expected_src = "default";
static bool smp_done;
static enum apic_mode bsp_mode;

void ap_main(u32 cpu) __noreturn;

static void percpu_init(unsigned cpu)
{
	struct percpu *p = &percpu[cpu];

	p->self = p;
	p->cpu = cpu;
	wrmsr(MSR_IA32_GS_BASE, (u64)(uintptr_t)p);
}

void smp_early_init(void)
{
	percpu_init(0);
	percpu[0].online = 1;
}

unsigned smp_num_cpus(void)
{
	return nr_cpus;
}

unsigned smp_expected_cpus(void)
{
	return expected;
}

const char *smp_expected_source(void)
{
	return expected_src;
}

u32 smp_apic_id(unsigned cpu)
{
	return cpu < MAX_CPUS ? target_apic_id[cpu] : ~0u;
}

u32 smp_trampoline_entries(unsigned cpu)
{
	return cpu < MAX_CPUS ? tramp_entries[cpu] : 0;
}

int smp_cpu_of_apic_id(u32 id)
{
	for (unsigned i = 0; i < nr_cpus; i++)
		if (target_apic_id[i] == id)
			return (int)i;
	return -1;
}

u64 smp_timeout_us(void)
{
	return cmdline_get_u64("cpu_timeout_ms", 5000) * 1000;
}

/* ---- the AP side ---------------------------------------------------------------- */

void ap_main(u32 cpu)
{
	struct percpu *p = &percpu[cpu];

	asm volatile("lgdt %0" : : "m"(gdt_desc));
	percpu_init(cpu);
	idt_load();
	apic_setup(bsp_mode);
	p->apic_id = apic_id();
	p->done = p->req;
	barrier();
	p->online = 1;
	for (;;) {
		u32 req;

		while ((req = p->req) == p->done)
			pause();
		barrier();
		p->fn(p->arg);
		cli();
		barrier();
		p->done = req;
	}
}

/* ---- starting APs ------------------------------------------------------------------ */

static int send_startup(u32 apic_id, u32 low)
{
	int r = apic_icr_write(low, apic_id);

	if (!r && !apic_icr_wait_idle(100000))
		r = -1;
	return r;
}

bool smp_boot_cpu(unsigned cpu)
{
	struct trampoline_params *tp =
		(struct trampoline_params *)(uintptr_t)(SMP_TRAMPOLINE_ADDR +
							 (smp_trampoline_params - smp_trampoline_start));
	struct percpu *p = &percpu[cpu];
	u32 id = target_apic_id[cpu];
	u64 timeout = cmdline_get_u64("ap_timeout_ms", 2000) * 1000;

	if (cpu == 0 || cpu >= MAX_CPUS)
		return false;
	bsp_mode = apic_mode();   /* the AP sets its APIC up in the BSP's mode */
	p->online = 0;
	p->cpu = cpu;
	p->req = p->done = 0;
	tp->cr3 = read_cr3();
	tp->stack = (u64)(uintptr_t)(ap_stacks[cpu] + AP_STACK_SIZE);
	tp->entry = (u64)(uintptr_t)ap_main;
	tp->cpu = cpu;
	tp->entries = 0;
	mfence();

	/*
	 * "Typical AP Initialization Sequence" / "MP Initialization Protocol Algorithm":
	 * INIT IPI, 10 ms, start-up IPI, 200 us, a second start-up IPI, 200 us. The
	 * second SIPI is ignored by a CPU that already left the wait-for-SIPI state;
	 * tp->entries checks exactly that.
	 */
	send_startup(id, APIC_DM_INIT | APIC_ICR_ASSERT);
	mdelay(10);
	send_startup(id, APIC_DM_STARTUP | APIC_ICR_ASSERT | SMP_SIPI_VECTOR);
	udelay(200);
	send_startup(id, APIC_DM_STARTUP | APIC_ICR_ASSERT | SMP_SIPI_VECTOR);
	udelay(200);

	bool ok = wait_until(p->online, timeout);
	/* Give a wrongly accepted second SIPI time to show up as a second entry. */
	if (ok)
		mdelay(1);
	tramp_entries[cpu] = tp->entries;
	return ok;
}

unsigned smp_init(void)
{
	u32 ids[MAX_CPUS];
	int madt;
	long hc;
	u32 self;
	unsigned n, next;

	if (smp_done)
		return nr_cpus;
	smp_done = true;

	bsp_mode = apic_mode();
	if (bsp_mode == APIC_MODE_DISABLED) {
		if (apic_setup(APIC_MODE_XAPIC))
			return nr_cpus;
		bsp_mode = APIC_MODE_XAPIC;
	}
	self = apic_id();
	percpu[0].apic_id = self;
	target_apic_id[0] = self;

	madt = acpi_madt_apic_ids(ids, MAX_CPUS);
	if (cmdline_has("cpus")) {
		expected = (unsigned)cmdline_get_u64("cpus", 1);
		expected_src = "command line";
	} else if (hv_present() && (hc = hc_get_info(HC_INFO_NR_VCPUS)) > 0) {
		expected = (unsigned)hc;
		expected_src = "HC_INFO_NR_VCPUS";
	} else if (madt > 0) {
		expected = (unsigned)madt;
		expected_src = "MADT";
	}
	if (expected < 1)
		expected = 1;
	if (expected > MAX_CPUS)
		expected = MAX_CPUS;

	/* APIC IDs: the MADT's if it lists enough processors, else 0..n-1. */
	next = 1;
	if (madt >= (int)expected) {
		for (int i = 0; i < madt && next < expected; i++)
			if (ids[i] != self)
				target_apic_id[next++] = ids[i];
	}
	for (u32 id = 0; next < expected; id++)
		if (id != self)
			target_apic_id[next++] = id;

	/* The trampoline page: below 1 MiB and under the multiboot information. */
	memcpy((void *)(uintptr_t)SMP_TRAMPOLINE_ADDR, smp_trampoline_start,
	       (size_t)(smp_trampoline_end - smp_trampoline_start));

	n = 1;
	for (unsigned cpu = 1; cpu < expected; cpu++) {
		if (!smp_boot_cpu(cpu)) {
			printf("smp: cpu %u (APIC ID %u) did not report in\n", cpu,
			       target_apic_id[cpu]);
			break;
		}
		n++;
	}
	nr_cpus = n;
	return n;
}

/* ---- the mailbox ------------------------------------------------------------------- */

bool cpu_wait_idle(unsigned cpu, u64 timeout_us)
{
	struct percpu *p;

	if (cpu >= MAX_CPUS)
		return false;
	p = &percpu[cpu];
	return wait_until(p->done == p->req, timeout_us);
}

int on_cpu_async(unsigned cpu, cpu_fn_t *fn, void *arg)
{
	struct percpu *p;

	if (cpu >= nr_cpus || cpu == smp_id())
		return -1;
	p = &percpu[cpu];
	if (!p->online || !cpu_wait_idle(cpu, smp_timeout_us()))
		return -1;
	p->fn = fn;
	p->arg = arg;
	barrier();
	p->req = p->req + 1;
	return 0;
}

int on_cpu(unsigned cpu, cpu_fn_t *fn, void *arg)
{
	if (cpu == smp_id()) {
		fn(arg);
		return 0;
	}
	if (on_cpu_async(cpu, fn, arg))
		return -1;
	return cpu_wait_idle(cpu, smp_timeout_us()) ? 0 : -1;
}
