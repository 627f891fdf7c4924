/* SPDX-License-Identifier: MIT */
/*
 * Multiprocessor guests: per-CPU data, bringing up the application processors the way
 * an operating system does (INIT, SIPI, SIPI through the local APIC, Intel SDM Vol. 3A,
 * "MP Initialization Protocol Algorithm for MP Systems" and "Typical AP Initialization
 * Sequence"), and a mailbox to run a function on an AP.
 *
 * CPU indexes: 0 is the boot processor (BSP), 1..n-1 the APs in the order they were
 * started. Each CPU's GS base points to its struct percpu, so smp_id() is one load.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include "lib.h"

#define MAX_CPUS 16
#define AP_STACK_SIZE 16384

/* The real-mode trampoline: one page below 1 MiB that the guest layout leaves free
 * (hv/vm/loader.h: initial stack below 0x7ff0, multiboot information from 0x9000; QEMU's
 * -kernel uses the same addresses). A start-up IPI with vector V starts an AP at
 * V:0000 in real mode, physical V * 4 KiB ("MP Initialization Protocol Requirements
 * and Restrictions"), so 0x8000 is vector 0x08. */
#define SMP_TRAMPOLINE_ADDR 0x8000u
#define SMP_SIPI_VECTOR (SMP_TRAMPOLINE_ADDR >> 12)

typedef void cpu_fn_t(void *arg);

struct percpu {
	struct percpu *self;          /* %gs:0 */
	u32 cpu;                      /* this CPU's index */
	u32 apic_id;                  /* as the CPU read it from its own APIC */
	volatile u32 online;          /* set by the CPU itself once in C */
	u32 apic_mode;                /* enum apic_mode, cached by apic.c */
	u32 spurious;                 /* spurious-vector interrupts (apic.c) */
	/* the mailbox: the BSP writes fn/arg, then bumps req; the AP runs fn(arg) and
	 * sets done = req */
	cpu_fn_t *volatile fn;
	void *volatile arg;
	volatile u32 req, done;
	volatile u32 console_depth;   /* console lock recursion (console.c) */
	void *user;                   /* free for the test */
};

extern struct percpu percpu[MAX_CPUS];

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	asm volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

static inline unsigned smp_id(void)
{
	u32 v;

	asm volatile("movl %%gs:%c1, %0" : "=r"(v) : "i"(__builtin_offsetof(struct percpu, cpu)));
	return v;
}

/* The BSP's per-CPU data and GS base (guest_start, before anything else). */
void smp_early_init(void);

/*
 * Start the APs and return how many CPUs run (BSP included); later calls return the
 * same number. The expected count comes from the command line's cpus=N, else the
 * hypervisor's HC_INFO_NR_VCPUS, else the ACPI MADT, else 1 (smp_expected_source()
 * says which). APIC IDs come from the MADT when it lists enough enabled processors,
 * else they are assumed to be 0..n-1. The BSP's APIC must be usable (apic_setup());
 * each AP sets up its own in the BSP's mode.
 *
 * Per AP: INIT (level assert), 10 ms, SIPI, 200 us, SIPI, 200 us, then up to
 * ap_timeout_ms (command line, default 2000) for the AP to report in from C.
 */
unsigned smp_init(void);
unsigned smp_num_cpus(void);
unsigned smp_expected_cpus(void);
const char *smp_expected_source(void);
/* The APIC ID the BSP targeted for cpu. */
u32 smp_apic_id(unsigned cpu);
/* Times the trampoline was entered for cpu's last start (1 if the second SIPI was
 * ignored, as it must be for a CPU no longer waiting for SIPI). */
u32 smp_trampoline_entries(unsigned cpu);
/* CPU index of an APIC ID, or -1. */
int smp_cpu_of_apic_id(u32 apic_id);
/* (Re)start cpu with INIT, SIPI, SIPI: used by smp_init(), and to recover an AP that
 * a failed test left stuck. True if it reported in. */
bool smp_boot_cpu(unsigned cpu);

/*
 * Run fn(arg) on cpu. on_cpu_async() posts it and returns 0 at once (-1 if the CPU is
 * not online or still busy after the timeout); cpu_wait_idle() waits for the CPU to
 * finish (true) or timeout_us (false). on_cpu() does both with smp_timeout_us() and
 * returns 0 or -1; on the calling CPU itself it just calls fn. The AP runs fn with
 * interrupts disabled (and disables them again afterwards).
 */
int on_cpu_async(unsigned cpu, cpu_fn_t *fn, void *arg);
bool cpu_wait_idle(unsigned cpu, u64 timeout_us);
int on_cpu(unsigned cpu, cpu_fn_t *fn, void *arg);
/* The default wait for a CPU (command line cpu_timeout_ms, default 5000). */
u64 smp_timeout_us(void);

/* ACPI (acpi.c): the enabled processors' APIC IDs from the MADT (types 0 and 9);
 * returns how many (at most max), or -1 without a MADT. */
int acpi_madt_apic_ids(u32 *ids, int max);
/* An ACPI table by signature through the RSDP (EBDA, then 0xE0000-0xFFFFF), or NULL. */
const void *acpi_find_table(const char *sig);

#endif
