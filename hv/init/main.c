/* SPDX-License-Identifier: MIT */
/*
 * Boot sequence: boot information and command line, console, per-CPU state, memory,
 * ACPI (the CPU list), APs, VMX on every CPU, VMs, then every CPU enters its run loop.
 */
#include "hv/host/serial_input.h"
#include "hv/host/acpi.h"
#include "hv/host/lapic.h"
#include "hv/init/bootinfo.h"
#include "hv/init/config.h"
#include "hv/lib/console.h"
#include "hv/host/cpu.h"
#include "hv/host/vectors.h"
#include "hv/host/work.h"
#include "virtio/virtio_blk.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/host/power.h"
#include "hv/host/pci_host.h"
#include "drivers/iommu/iommu.h"
#include "hv/pci/passthru.h"
#include "hv/sched/sched.h"
#include "hv/host/time.h"
#include "hv/vm/vm.h"
#include "arch/x86/arch.h"
#include "arch/x86/x86.h"
#include "boot/boot.h"
#include "hv/trace/trace.h"

struct boot_info boot_info;
static struct hv_config cfg;
static struct acpi_info acpi;
extern bool percpu_ready;
extern u32 ap_apic_ids[MAX_CPUS];
void mm_init(const struct boot_info *bi);
extern bool hc_test_hooks;

static volatile u32 stage;          /* 1: APs may VMXON; 2: APs may run */
static volatile u32 aps_vmx_done;

/* A fatal boot error: the final marker, then power-off, or a halt with on_error=halt. */
static void boot_fail(int status) __noreturn;
static void boot_fail(int status)
{
	if (cfg.on_error == ON_ERROR_HALT) {
		printk("on_error=halt: halting instead of powering off\n");
		power_init(POWEROFF_HALT, &acpi);
	}
	hv_power_off(status);
}

static void config_error(const char *msg) __noreturn;
static void config_error(const char *msg)
{
	printk("error: %s\n", msg);
	boot_fail(HV_STATUS_BAD_CONFIG);
}

/* The console UART: serial=/console= when given, else the one the firmware's ACPI SPCR
 * table names when it is a 16550 in I/O space, else COM1 (the default of cfg). */
static const char *console_choose(struct acpi_spcr *spcr)
{
	u64 pa;
	if (cfg.serial_given)
		return "serial=/console=";
	if (acpi_find_spcr(acpi_find_rsdp(&boot_info, &pa), spcr)) {
		cfg.serial_port = (u16)spcr->address;
		cfg.baud = spcr->baud;
		return "ACPI SPCR";
	}
	return "default";
}

/* What the loader handed over, as the hypervisor read it. */
static void print_boot_info(void)
{
	const struct boot_info *bi = &boot_info;
	if (bi->efi)
		printk("boot: UEFI firmware; EFI boot services %s\n",
		       bi->efi_bs_active ? "left running by the loader (their memory stays reserved)"
					 : "exited by the loader");
	for (u32 i = 0; i < bi->nr_mods; i++)
		printk("boot: module %u at 0x%llx-0x%llx (%llu bytes) '%s'\n", i, (unsigned long long)bi->mods[i].start,
		       (unsigned long long)bi->mods[i].end, (unsigned long long)(bi->mods[i].end - bi->mods[i].start),
		       bi->mods[i].string);
	printk("boot: memory map from the %s, %u entries%s\n", bootinfo_mmap_source_name(bi->mmap_source), bi->nr_mmap,
	       bi->nr_mmap_dropped ? " (more dropped: the table is full)" : "");
	for (u32 i = 0; i < bi->nr_mmap; i++)
		printk("boot: mmap 0x%016llx-0x%016llx type %u\n", (unsigned long long)bi->mmap[i].base,
		       (unsigned long long)(bi->mmap[i].base + bi->mmap[i].len - 1), bi->mmap[i].type);
}

void ap_main(struct cpu *c) __noreturn;
void ap_main(struct cpu *c)
{
	cpu_init_local(c);
	char err[160];
	bool switched;
	if (!lapic_init_ap(&switched, err, sizeof(err))) {
		/* It stays out: start_ap never sees it online. */
		printk("smp: CPU %u (APIC ID %u) left out: %s\n", c->id, c->apic_id, err);
		for (;;) {
			irq_disable();
			halt();
		}
	}
	/* Its lines first, then online: the boot CPU waits for online, so they come before
	 * its "CPU(s) online" (and before a power-off that may follow at once). */
	printk("smp: CPU %u up (APIC ID %u, %s%s)\n", c->id, c->apic_id, lapic_x2apic_mode() ? "x2APIC mode" : "xAPIC mode",
	       switched ? ", switched from xAPIC" : "");
	if (lapic_id() != c->apic_id)
		printk("smp: CPU %u reads APIC ID %u from its local APIC, the MADT says %u\n", c->id, lapic_id(), c->apic_id);
	c->online = true;
	while (stage < 1)
		cpu_relax();
	char why[200];
	if (arch_cpu_check(c, why, sizeof(why)) && arch_cpu_on(c, why, sizeof(why)))
		printk("vmx: VMXON on CPU %u\n", c->id);
	else
		printk("vmx: CPU %u cannot enter VMX operation: %s\n", c->id, why);
	__atomic_add_fetch(&aps_vmx_done, 1, __ATOMIC_SEQ_CST);
	while (stage < 2)
		cpu_relax();
	if ((s32)c->id == cfg.iocpu)
		virtio_blk_iocpu_loop();
	cpu_run_loop();
}

/* Place the vCPUs of a VM on the CPUs it may use, round-robin. */
static bool place_vcpus(struct vm *vm, char *err, size_t errlen)
{
	u64 mask = vm->cfg->cpu_mask;
	u32 allowed[MAX_CPUS], n = 0;
	if (cfg.iocpu >= 0 && (mask & BIT64(cfg.iocpu))) {
		hv_snprintf(err, errlen, "vm '%s': cpus names CPU %d, the I/O CPU (iocpu=), which runs no vCPU", vm->name,
			    cfg.iocpu);
		return false;
	}
	for (u32 i = 0; i < nr_cpus; i++)
		if ((!mask || (mask & BIT64(i))) && cpus[i].virt_on)
			allowed[n++] = i;
	for (u32 b = 0; b < 64; b++)
		if ((mask & BIT64(b)) && (b >= nr_cpus || !cpus[b].virt_on)) {
			hv_snprintf(err, errlen, "vm '%s': cpus names CPU %u, which is not up in VMX operation (%u CPUs up)",
				    vm->name, b, nr_cpus);
			return false;
		}
	if (!n) {
		hv_snprintf(err, errlen, "vm '%s': no CPU in VMX operation to run on", vm->name);
		return false;
	}
	u64 affinity = 0;
	for (u32 i = 0; i < n; i++)
		affinity |= BIT64(allowed[i]);
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		struct cpu *c = &cpus[allowed[i % n]];
		sched_add_vcpu(v, c, affinity);
		printk("vm %s: vCPU %u on CPU %u (may use 0x%llx)\n", vm->name, i, c->id, (unsigned long long)affinity);
	}
	return true;
}

void boot_main(u32 magic, u32 info)
{
	static char err[256];
	bool boot_ok = bootinfo_parse(magic, info, &boot_info, err, sizeof(err));
	static char cfg_err[256];
	bool cfg_ok = boot_ok && cmdline_parse(boot_info.cmdline, &cfg, cfg_err, sizeof(cfg_err));
	/* On a bad command line cfg holds the options before the bad one (or defaults). */
	if (!boot_ok)
		cmdline_parse("", &cfg, NULL, 0);
	struct acpi_spcr spcr;
	memset(&spcr, 0, sizeof(spcr));
	const char *console_from = boot_ok ? console_choose(&spcr) : "default";
	console_init(cfg.serial_port, cfg.baud, cfg.e9);
	cpu_init_local(&cpus[0]);
	cpus[0].online = true;
	percpu_ready = true;
	power_init(cfg.poweroff, &acpi);

	printk("microhv: booted by %s%s%s\n", boot_info.loader == 2 ? "multiboot2" : "multiboot v1",
	       boot_info.loader_name[0] ? ", " : "", boot_info.loader_name);
	if (!boot_ok)
		panic("boot information: %s\n", err);
	printk("cmdline: %s\n", boot_info.cmdline);
	if (cfg.serial_port && cfg.baud)
		printk("console: 16550 at 0x%x, %u baud (%s)\n", cfg.serial_port, cfg.baud, console_from);
	else if (cfg.serial_port)
		printk("console: 16550 at 0x%x, baud rate as the firmware set it (%s)\n", cfg.serial_port, console_from);
	if (spcr.found && !spcr.usable)
		printk("console: ACPI SPCR not used: %s (interface type 0x%x, address space %u, address 0x%llx)\n",
		       spcr.why, spcr.interface_type, spcr.space_id, (unsigned long long)spcr.address);
	print_boot_info();
	if (!cfg_ok) {
		u64 pa;
		acpi_parse(acpi_find_rsdp(&boot_info, &pa), 0, &acpi, err, sizeof(err));   /* for poweroff=acpi */
		config_error(cfg_err);
	}

	/* Mask both 8259s: the firmware's timer would otherwise arrive as vector 8. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	mm_init(&boot_info);

	u64 rsdp_pa;
	const void *rsdp = acpi_find_rsdp(&boot_info, &rsdp_pa);
	struct lapic_mode lm;
	if (!lapic_init_boot(cfg.x2apic, &lm, err, sizeof(err)))
		config_error(err);
	char mode[48];
	printk("lapic: %s, boot CPU APIC ID %u\n", lapic_mode_text(&lm, mode, sizeof(mode)), lapic_id());
	tsc_calibrate();
	cpus[0].apic_id = lapic_id();
	acpi.rsdp = rsdp_pa;
	if (acpi_parse(rsdp, cpus[0].apic_id, &acpi, err, sizeof(err)) && acpi.nr_cpus) {
		nr_cpus = MIN(acpi.nr_cpus, (u32)MAX_CPUS);
		for (u32 i = 0; i < nr_cpus; i++)
			ap_apic_ids[i] = acpi.apic_ids[i];
		char where[48];
		if (rsdp_pa)
			hv_snprintf(where, sizeof(where), "at 0x%llx", (unsigned long long)rsdp_pa);
		else
			hv_snprintf(where, sizeof(where), "from the multiboot2 ACPI %s tag",
				    ((const u8 *)rsdp)[15] >= 2 ? "new (2.0+)" : "old (1.0)");
		printk("acpi: RSDP %s, %u CPU(s) in the MADT%s, PM1a_CNT 0x%x%s\n", where, acpi.nr_cpus, acpi.nr_ignored_cpus ? " (more ignored)" : "",
		       acpi.pm1a_cnt, acpi.has_s5 ? ", \\_S5 found" : "");
	} else {
		printk("acpi: %s; running on the boot CPU only\n", acpi.has_madt ? "MADT lists no CPU" : err);
		nr_cpus = 1;
	}
	hv_timer_init();
	/* The AP start-up page must be free RAM: under UEFI nothing below 1 MiB need be. */
	if (nr_cpus > 1 && !bootinfo_free_ram(&boot_info, TRAMPOLINE_BASE, PAGE_SIZE)) {
		printk("smp: the AP start-up page 0x%x is not free RAM in the memory map; running on the boot CPU only\n",
		       TRAMPOLINE_BASE);
		nr_cpus = 1;
	}
	if (cfg.trace_mask)
		printk("trace: %u recording points on\n", trace_patch(cfg.trace_mask));
	smp_boot_aps();
	printk("smp: %u CPU(s) online\n", nr_cpus);

	host_pci_init(&acpi);
	iommu_init(&acpi);
	if (cfg.iommu_selftest)
		hv_power_off(iommu_selftest() ? 1 : 3);   /* exit value 0 or 1 (docs/INTERFACES.md) */

	char why[256];
	if (!arch_probe(why, sizeof(why)) || !arch_cpu_check(&cpus[0], why, sizeof(why)) ||
	    !arch_cpu_on(&cpus[0], why, sizeof(why))) {
		printk("VMX unavailable: %s\n", why);
		boot_fail(HV_STATUS_NO_VMX);
	}
	printk("vmx: VMXON on CPU 0\n");
	stage = 1;
	while (aps_vmx_done < nr_cpus - 1)
		cpu_relax();

	if (!cfg.nr_vms)
		config_error("no VM configured: add vm=NAME,kernel=FILE (docs/INTERFACES.md)");
	sched_init(&cfg.sched);
	if (cfg.trace_mask) {
		if (!trace_init(cfg.trace_mask, cfg.trace_records, nr_cpus))
			config_error("option 'trace_buf': out of memory for the trace buffers");
		printk("trace: events 0x%x, %u records per CPU, written to port 0xe9 when every VM has stopped\n",
		       cfg.trace_mask, cfg.trace_records);
	}
	if (!work_init())
		panic("host vector 0x%x for deferred work is taken\n", VECTOR_WORK);
	if (cfg.iocpu >= 0) {
		if ((u32)cfg.iocpu >= nr_cpus || !cpus[cfg.iocpu].online) {
			hv_snprintf(err, sizeof(err), "iocpu=%d: no such CPU online (%u CPU(s))", cfg.iocpu, nr_cpus);
			config_error(err);
		}
		if (nr_cpus < 2) {
			hv_snprintf(err, sizeof(err), "iocpu=%d: the only CPU cannot be set aside for I/O", cfg.iocpu);
			config_error(err);
		}
		/* It stays in VMX operation but takes no vCPU: placement, balancing, wakeups
		 * and the idle check skip it. */
		cpus[cfg.iocpu].virt_on = false;
		virtio_blk_set_iocpu(&cpus[cfg.iocpu], cfg.iopoll_us);
		printk("iocpu: CPU %d completes virtio-blk requests by polling their queues (runs no vCPU), iopoll_us=%u\n",
		       cfg.iocpu, cfg.iopoll_us);
	}
	for (u32 i = 0; i < cfg.nr_vms; i++)
		if (cfg.vms[i].disk_latency && cfg.iocpu < 0) {
			hv_snprintf(err, sizeof(err), "vm '%s': disk_latency=%llu needs iocpu= (inline completion has no delay)",
				    cfg.vms[i].name, (unsigned long long)cfg.vms[i].disk_latency);
			config_error(err);
		}
	if (cfg.msi_delivery)
		printk("msi_delivery=deferred: device messages are posted by a work item on the target vCPU's CPU\n");
	hc_test_hooks = cfg.test_hooks;
	if (cfg.test_hooks)
		printk("test_hooks: on (HC_RACE_POST may stall vCPU entry paths)\n");
	pci_passthru_configure(cfg.vtd_pi, cfg.vtd_urgent);
	for (u32 i = 0; i < cfg.nr_vms; i++) {
		if (!vm_create(&vms[i], i, &cfg.vms[i], err, sizeof(err)) || !place_vcpus(&vms[i], err, sizeof(err)))
			config_error(err);
		vms[i].msi_delivery = cfg.msi_delivery;   /* before any vCPU runs */
		nr_vms++;
	}
	if (cfg.input_vm >= 0)
		serial_input_init(&vms[cfg.input_vm], &acpi, cpus[0].apic_id);
	else
		printk("console: no input (input=off)\n");
	host_vectors_print();
	stage = 2;
	if (cfg.iocpu == 0)
		virtio_blk_iocpu_loop();
	cpu_run_loop();
}
