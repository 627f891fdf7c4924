/* SPDX-License-Identifier: MIT */
/*
 * hello: the first guest. Prints a greeting and its command line, then checks what
 * the hypervisor promises (docs/INTERFACES.md): CPUID, the hypercalls, the multiboot
 * information.
 *
 * Command line:
 *   name=NAME  greet as NAME (default "hello")
 *   exit=N     if every check passed, exit with N instead of 0 (so that two VMs can
 *              end with different statuses); a failure still exits with 1
 *   nohv       skip the hypervisor-specific checks (runs on plain QEMU TCG too)
 *   linger=MS  after the checks, stay MS ms (TSC time) halted until a TSC-deadline
 *              timer interrupt, then report it (a VM that outlives one beside it)
 */
#include "lib.h"
#include "apic.h"

#define CPUID_1_ECX_VMX        (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define HC_UNKNOWN             0x1234

static void check_cpuid(void)
{
	u32 a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	report(c & CPUID_1_ECX_HYPERVISOR, "CPUID.1:ECX.hypervisor[31] set (ecx=0x%x)", c);

	cpuid(HV_CPUID_BASE, &a, &b, &c, &d);
	char sig[13];
	memcpy(sig + 0, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (sig[i] < 0x20 || sig[i] > 0x7e)
			sig[i] = '?';
	report(b == HV_CPUID_SIG_EBX && c == HV_CPUID_SIG_ECX && d == HV_CPUID_SIG_EDX,
	       "CPUID.0x40000000 signature \"MicroHVMicro\" (got \"%s\")", sig);
	report(a >= HV_CPUID_BASE + 1, "CPUID.0x40000000 max leaf >= 0x40000001 (eax=0x%x)", a);

	cpuid(HV_CPUID_BASE + 1, &a, &b, &c, &d);
	report(a == HC_ABI_VERSION, "CPUID.0x40000001 EAX = ABI version %d (eax=%u)",
	       HC_ABI_VERSION, a);
}

static void check_hypercalls(void)
{
	static const char msg[] = "hello: HC_PUTS works\n";
	long r, r2;

	r = vmcall(HC_VERSION, 0, 0, 0);
	report(r == HC_ABI_VERSION, "HC_VERSION returns %d (got %ld)", HC_ABI_VERSION, r);
	r = vmcall(HC_NOP, 0, 0, 0);
	report(r == 0, "HC_NOP returns 0 (got %ld)", r);
	r = vmcall(HC_VCPU_ID, 0, 0, 0);
	report(r == 0, "HC_VCPU_ID returns 0 on the boot vCPU (got %ld)", r);

	r = vmcall(HC_PUTS, (unsigned long)(uintptr_t)msg, sizeof(msg) - 1, 0);
	report(r == (long)(sizeof(msg) - 1), "HC_PUTS returns the length %zu (got %ld)",
	       sizeof(msg) - 1, r);
	r = vmcall(HC_PUTS, (unsigned long)(uintptr_t)msg, HC_PUTS_MAX + 1, 0);
	report(r == HC_EINVAL, "HC_PUTS longer than %d returns -2 (got %ld)", HC_PUTS_MAX, r);

	r = vmcall(HC_UNKNOWN, 0, 0, 0);
	report(r == HC_ENOSYS, "unknown hypercall 0x%x returns -1 (got %ld)", HC_UNKNOWN, r);

	r = hc_get_counter(HC_CTR_EXITS_TOTAL);
	r2 = hc_get_counter(HC_CTR_EXITS_TOTAL);
	report(r > 0 && r2 > r, "HC_GET_COUNTER(EXITS_TOTAL) counts (%ld then %ld)", r, r2);
	r = hc_get_counter(HC_CTR_MAX);
	report(r == HC_EINVAL, "HC_GET_COUNTER of an unknown counter returns -2 (got %ld)", r);
}

static void check_multiboot(void)
{
	const struct multiboot_info *mb = mbi();

	report(mb_magic == MB_BOOT_MAGIC, "multiboot magic 0x%x (got 0x%x)", MB_BOOT_MAGIC,
	       mb_magic);
	if (!mb)
		return;
	report((mb->flags & (MBI_MEM | MBI_CMDLINE | MBI_MMAP)) ==
		       (MBI_MEM | MBI_CMDLINE | MBI_MMAP),
	       "multiboot flags have mem, cmdline and mmap (flags=0x%x)", mb->flags);
	if (!(mb->flags & MBI_MEM) || !(mb->flags & MBI_MMAP))
		return;

	printf("hello: mem_lower=%uK mem_upper=%uK\n", mb->mem_lower, mb->mem_upper);
	for (const struct mb_mmap_entry *e = mmap_next(NULL); e; e = mmap_next(e))
		printf("hello: mmap 0x%016llx-0x%016llx type %u\n", (unsigned long long)e->addr,
		       (unsigned long long)(e->addr + e->len - 1), e->type);

	u64 kb = mmap_ram_above_1m() / 1024;
	report(kb == mb->mem_upper, "mmap RAM above 1 MiB (%lluK) = mem_upper (%uK)",
	       (unsigned long long)kb, mb->mem_upper);
}

#define LINGER_VECTOR 0x40

static volatile bool linger_fired;

static void linger_timer(struct ex_regs *regs)
{
	(void)regs;
	linger_fired = true;
	apic_eoi();
}

/* linger=MS: stay alive MS milliseconds of TSC time, halted (STI;HLT) until a
 * TSC-deadline timer interrupt, so that a VM beside it on another CPU can end first
 * while this one still runs (and costs its CPU nothing meanwhile). */
static void linger(u64 ms)
{
	if (!tsc_deadline_supported() || apic_setup(APIC_MODE_XAPIC) != 0) {
		report_skip("linger: no TSC-deadline timer");
		return;
	}
	irq_set_handler(LINGER_VECTOR, linger_timer);
	apic_tsc_deadline_mode(LINGER_VECTOR);
	u64 start = rdtsc(), deadline = start + ms * (tsc_hz() / 1000);
	u64 halts = 0;
	apic_tsc_deadline_arm(deadline);
	while (!linger_fired) {
		safe_halt();
		cli();
		halts++;
	}
	u64 end = rdtsc();
	report(end >= deadline, "lingered %llu ms halted (%llu halts) until the TSC deadline",
	       (unsigned long long)((end - start) / (tsc_hz() / 1000)), (unsigned long long)halts);
}

int main(void)
{
	const char *name = cmdline_get("name");
	bool nohv = cmdline_has("nohv");
	u32 a, b, c, d;
	int status;

	printf("hello from %s\n", name && *name ? name : "hello");
	printf("hello: cmdline: %s\n", cmdline());

	if (nohv) {
		report_skip("hypervisor checks (nohv)");
	} else {
		check_cpuid();
		check_hypercalls();
	}
	cpuid(1, &a, &b, &c, &d);
	report(!(c & CPUID_1_ECX_VMX), "CPUID.1:ECX.VMX[5] clear (ecx=0x%x)", c);
	check_multiboot();
	if (cmdline_get("linger"))
		linger(cmdline_get_u64("linger", 0));

	status = report_summary();
	if (status == 0 && cmdline_has("exit"))
		status = (int)cmdline_get_u64("exit", 0);
	return status;
}
