/* SPDX-License-Identifier: MIT */
/*
 * VM life cycle: creation from the configuration, stopping (what a guest causes stops
 * that VM only), and the end of the run when every VM has stopped.
 */
#include "hv/vm/vm.h"
#include "hv/pci/pci.h"
#include "hv/pci/passthru.h"
#include "virtio/virtio_blk.h"
#include "hv/host/timer.h"
#include "hv/host/time.h"
#include "hv/sched/sched.h"
#include "hv/init/bootinfo.h"
#include "hv/lib/console.h"
#include "hv/vm/hypercall.h"
#include "hv/lib/lib.h"
#include "hv/vm/loader.h"
#include "hv/vm/guest_acpi.h"
#include "hv/mm/mm.h"
#include "hv/host/power.h"
#include "hv/dev/dev.h"
#include "arch/x86/x86.h"
#include "hv/trace/trace.h"

_Static_assert(VIOAPIC_BASE == GUEST_IOAPIC_BASE && APIC_DEFAULT_BASE == GUEST_LAPIC_BASE,
	       "the device models sit where the guest memory map reserves their pages");

struct vm vms[MAX_VMS];
u32 nr_vms;
static volatile u32 vms_running;
static struct vcpu vcpu_pool[MAX_VMS * MAX_VCPUS_PER_VM];
static u32 vcpus_used;
extern struct boot_info boot_info;

void vm_console_line(struct vm *vm, const char *text, size_t len)
{
	char prefix[VM_NAME_MAX + 3];
	hv_snprintf(prefix, sizeof(prefix), "[%s]", vm->name);
	console_line(prefix, text, len);
}

/* The interrupt-virtualisation switches against what the CPU offers: "auto" takes the
 * better mechanism when it exists; "on" without it is a configuration error. */
static bool resolve_switches(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen)
{
	const struct irq_switches *sw = &cfg->sw;
	if (sw->apicv == SW_ON && !arch_has_apicv()) {
		hv_snprintf(err, errlen, "vm '%s': apicv=on, but this CPU lacks posted interrupts or virtual-interrupt "
			    "delivery (see the vmx: lines above)", cfg->name);
		return false;
	}
	bool has_pt = arch_has_preemption_timer();
	if (sw->ptimer == SW_ON && !has_pt) {
		hv_snprintf(err, errlen, "vm '%s': timer=preempt, but this CPU has no VMX-preemption timer", cfg->name);
		return false;
	}
	vm->apicv = sw->apicv != SW_OFF && arch_has_apicv();
	vm->ptimer = sw->ptimer != SW_OFF && has_pt;
	if (!vm->ptimer && !hv_timer_available()) {
		hv_snprintf(err, errlen, "vm '%s': timer=soft needs the host LAPIC's TSC-deadline mode, which this CPU "
			    "lacks", cfg->name);
		return false;
	}
	vm->nv = sched_notification_vector(vm);
	if (!vm->nv) {
		hv_snprintf(err, errlen, "vm '%s': no free host vector for its notifications (block=fixed)", cfg->name);
		return false;
	}
	vm->fastpath = vm->ptimer && sw->fastpath != SW_OFF;
	vm->elide = sw->elide != SW_OFF;
	printk("vm %s: apicv=%s timer=%s fastpath=%s elide=%s\n", cfg->name, vm->apicv ? "on" : "off",
	       vm->ptimer ? "preempt" : "soft", vm->fastpath ? "on" : "off", vm->elide ? "on" : "off");
	if (cfg->user_hc)
		printk("vm %s: user_hc=on: hypercalls allowed from guest user mode (CPL > 0)\n", cfg->name);
	return true;
}

/* Load the VM's kernel (a Linux bzImage with its initrd, or a multiboot kernel with
 * its modules) from the boot modules into its RAM, which must be zero: at creation and
 * again at each restart (hv/vm/restart.c). The entry state is kept in vm->entry. */
bool vm_load_image(struct vm *vm, struct loader_result *lr, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	char lerr[160];
	const struct boot_module *k = bootinfo_module(&boot_info, cfg->kernel);
	if (!k) {
		hv_snprintf(err, errlen, "vm '%s': kernel '%s' is not among the boot modules", cfg->name, cfg->kernel);
		return false;
	}
	struct loader_module mods[MAX_VM_MODS];
	for (u32 i = 0; i < cfg->nr_mods; i++) {
		const struct boot_module *m = bootinfo_module(&boot_info, cfg->mods[i]);
		if (!m) {
			hv_snprintf(err, errlen, "vm '%s': module '%s' is not among the boot modules", cfg->name,
				    cfg->mods[i]);
			return false;
		}
		mods[i].data = phys_to_virt(m->start);
		mods[i].len = m->end - m->start;
		mods[i].string = m->string;
	}

	/* A Linux bzImage (its setup header) or a multiboot v1 kernel (hv/vm/loader.h). */
	const u8 *kdata = phys_to_virt(k->start);
	bool is_linux = linux_is_bzimage(kdata, k->end - k->start);
	const struct boot_module *rd = cfg->initrd[0] ? bootinfo_module(&boot_info, cfg->initrd) : NULL;
	if (cfg->initrd[0] && !rd) {
		hv_snprintf(err, errlen, "vm '%s': initrd '%s' is not among the boot modules", cfg->name, cfg->initrd);
		return false;
	}
	if (!is_linux && rd) {
		hv_snprintf(err, errlen, "vm '%s': initrd= needs a Linux kernel, '%s' is not one (mod= passes "
			    "modules to a multiboot kernel)", cfg->name, cfg->kernel);
		return false;
	}
	if (is_linux && cfg->nr_mods) {
		hv_snprintf(err, errlen, "vm '%s': mod= is for multiboot kernels; Linux kernel '%s' takes initrd=",
			    cfg->name, cfg->kernel);
		return false;
	}
	if (is_linux ? !linux_load(vm->ram, &vm->map, kdata, k->end - k->start, cfg->append,
				   rd ? phys_to_virt(rd->start) : NULL, rd ? rd->end - rd->start : 0,
				   GUEST_ACPI_RSDP, lr, lerr, sizeof(lerr))
		     : !mb_load(vm->ram, &vm->map, kdata, k->end - k->start, cfg->append, mods,
				cfg->nr_mods, lr, lerr, sizeof(lerr))) {
		hv_snprintf(err, errlen, "vm '%s': kernel '%s': %s", cfg->name, cfg->kernel, lerr);
		return false;
	}
	if (is_linux)
		printk("vm %s: Linux bzImage: kernel 0x%llx-0x%llx (init_size), zero page 0x%x, initrd %s 0x%llx-0x%llx\n",
		       cfg->name, (unsigned long long)lr->kernel_start, (unsigned long long)lr->kernel_end, lr->mbi,
		       rd ? cfg->initrd : "(none)", rd ? (unsigned long long)(lr->mods_end - (rd->end - rd->start)) : 0ull,
		       (unsigned long long)lr->mods_end);
	vm->entry = lr->cpu;
	return true;
}

bool vm_create(struct vm *vm, u32 id, const struct vm_config *cfg, char *err, size_t errlen)
{
	memset(vm, 0, sizeof(*vm));
	memcpy(vm->name, cfg->name, sizeof(vm->name));
	vm->id = id;
	vm->cfg = cfg;

	/* The memory map (hv/mm/guest_map.h), then RAM: one contiguous block, 2-MiB
	 * aligned so EPT can use large pages, placed below the hole and from 4 GiB. */
	char lerr[160];
	if (!guest_map_build(&vm->map, cfg->mem, cfg->hole, lerr, sizeof(lerr))) {
		hv_snprintf(err, errlen, "vm '%s': %s", cfg->name, lerr);
		return false;
	}
	for (u32 i = 0; i < cfg->nr_assign; i++)   /* their RMRRs: reserved in the map the guest gets */
		if (!pci_passthru_reserve(vm, cfg->assign_bdf[i], lerr, sizeof(lerr))) {
			hv_snprintf(err, errlen, "vm '%s': %s", cfg->name, lerr);
			return false;
		}
	vm->ram_size = vm->map.mem;
	vm->ram = alloc_pages_zeroed(vm->ram_size, MiB(2));
	if (!vm->ram) {
		hv_snprintf(err, errlen, "vm '%s': cannot allocate %llu MiB of RAM (%llu MiB free)", cfg->name,
			    (unsigned long long)(cfg->mem >> 20),
			    (unsigned long long)(frame_pool_free_bytes(&frames) >> 20));
		return false;
	}
	vm->ram_hpa = virt_to_phys(vm->ram);
	struct loader_result lr;
	if (!vm_load_image(vm, &lr, err, errlen))
		return false;
	/* Platform devices and the ACPI tables that describe them (docs/INTERFACES.md,
	 * "Guest platform"), each on the VM's bus (hv/dev/dev.h): the IOAPIC ID follows
	 * the vCPUs' APIC IDs 0..n-1. */
	if (!vuart_create(vm) || !vpic_create(vm) || !pm_create(vm) || !debug_exit_create(vm) ||
	    !port92_create(vm) || !fwcfg_create(vm) || !rtc_create(vm) ||
	    !ioapic_create(vm, cfg->vcpus) || !xapic_create(vm) || !pit_create(vm) || !i8042_create(vm) ||
	    !mark_create(vm)) {
		hv_snprintf(err, errlen, "vm '%s': a platform device's range cannot be registered on its bus", cfg->name);
		return false;
	}
	/* The PCI host bridge (always: the DSDT describes it) and the functions asked for. */
	if (!vpci_create(vm, lerr, sizeof(lerr)) ||
	    ((cfg->pci_devs & VM_PCI_TESTDEV) && !pci_testdev_create(vm->pci, lerr, sizeof(lerr)))) {
		hv_snprintf(err, errlen, "vm '%s': %s", cfg->name, lerr);
		return false;
	}
	for (u32 i = 0; i < cfg->nr_assign; i++)   /* host functions at 00:04.0, 00:05.0 */
		if (!pci_passthru_create(vm->pci, cfg->assign_bdf[i], PCI_DEVFN(4 + i, 0), lerr, sizeof(lerr))) {
			hv_snprintf(err, errlen, "vm '%s': %s", cfg->name, lerr);
			return false;
		}
	if (cfg->disk[0] || cfg->disk_size) {   /* virtio-blk (virtio/virtio_blk.c) */
		const struct boot_module *dm = cfg->disk[0] ? bootinfo_module(&boot_info, cfg->disk) : NULL;
		if (cfg->disk[0] && !dm) {
			hv_snprintf(err, errlen, "vm '%s': disk '%s' is not among the boot modules", cfg->name, cfg->disk);
			return false;
		}
		if (!virtio_blk_create(vm, cfg, dm ? phys_to_virt(dm->start) : NULL, dm ? dm->end - dm->start : 0, lerr,
				       sizeof(lerr))) {
			hv_snprintf(err, errlen, "vm '%s': %s", cfg->name, lerr);
			return false;
		}
	}
	if (!loader_build_acpi(vm->ram, &vm->map, cfg->vcpus, (u8)vm->ioapic.id, lerr, sizeof(lerr))) {
		hv_snprintf(err, errlen, "vm '%s': %s", cfg->name, lerr);
		return false;
	}
	if (!resolve_switches(vm, cfg, err, errlen))
		return false;
	if (!arch_vm_init(vm, lerr, sizeof(lerr))) {
		hv_snprintf(err, errlen, "vm '%s': %s", cfg->name, lerr);
		return false;
	}
	for (u32 i = 0; i < cfg->vcpus; i++) {
		if (vcpus_used >= ARRAY_SIZE(vcpu_pool)) {
			hv_snprintf(err, errlen, "vm '%s': too many vCPUs in all", cfg->name);
			return false;
		}
		struct vcpu *v = &vcpu_pool[vcpus_used++];
		memset(v, 0, sizeof(*v));
		v->vm = vm;
		v->id = i;
		v->state = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
		if (!arch_vcpu_init(v, &lr.cpu, lerr, sizeof(lerr))) {
			hv_snprintf(err, errlen, "vm '%s': %s", cfg->name, lerr);
			return false;
		}
		vm->vcpus[vm->nr_vcpus++] = v;
	}
	vm->state = VM_RUNNING;
	__atomic_add_fetch(&vms_running, 1, __ATOMIC_SEQ_CST);
	printk("vm %s: %llu MiB RAM at 0x%llx (GPA 0-0x%llx%s), hole at 0x%llx, kernel %s entry 0x%x (0x%llx-0x%llx), "
	       "%u vCPU(s), cmdline '%s'\n",
	       vm->name, (unsigned long long)(vm->ram_size >> 20), (unsigned long long)vm->ram_hpa,
	       (unsigned long long)guest_map_low_end(&vm->map), vm->map.nr_spans > 1 ? " and from 4 GiB" : "",
	       (unsigned long long)vm->map.hole, cfg->kernel,
	       lr.entry, (unsigned long long)lr.kernel_start, (unsigned long long)lr.kernel_end, vm->nr_vcpus,
	       cfg->append);
	return true;
}

bool vm_log_allow(struct vm *vm)
{
	u32 dropped;
	u64 f = spin_lock_irqsave(&vm->lock);
	bool ok = ratelimit_allow(&vm->log_limit, rdtsc(), tsc_hz ? tsc_hz : 1000000000ull, VM_LOG_BURST, &dropped);
	spin_unlock_irqrestore(&vm->lock, f);
	if (dropped)
		printk("vm %s: %u console lines caused by the guest were suppressed (at most %u per second)\n",
		       vm->name, dropped, VM_LOG_BURST);
	return ok;
}

void vm_log(struct vm *vm, const char *fmt, ...)
{
	char line[200];
	if (!vm_log_allow(vm))
		return;
	va_list ap;
	va_start(ap, fmt);
	hv_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printk("%s", line);
}

void vm_stop(struct vm *vm, int status, bool exited, u32 exit_value, const char *fmt, ...)
{
	va_list ap;
	u64 f = spin_lock_irqsave(&vm->lock);
	if (vm->state == VM_STOPPED) {
		spin_unlock_irqrestore(&vm->lock, f);
		return;
	}
	vm->state = VM_STOPPED;
	vm->status = status;
	vm->exited = exited;
	vm->exit_value = exit_value;
	va_start(ap, fmt);
	hv_vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
	va_end(ap);
	u32 dropped = ratelimit_take_suppressed(&vm->log_limit);
	spin_unlock_irqrestore(&vm->lock, f);

	vuart_flush(vm);
	if (dropped)
		printk("vm %s: %u console lines caused by the guest were suppressed (at most %u per second)\n",
		       vm->name, dropped, VM_LOG_BURST);
	if (exited)
		printk("vm %s: exited with code %u (status %d): %s\n", vm->name, exit_value, status, vm->stop_reason);
	else
		printk("vm %s: stopped by the hypervisor (status %d): %s\n", vm->name, status, vm->stop_reason);
	if (vm->nr_assigned)
		pci_passthru_quiesce(vm, "vm stopped");

	vm_print_counters(vm);
	/* vCPUs of this VM on other CPUs: make them exit and notice. */
	struct cpu *self = this_cpu();
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		v->state = VCPU_STOPPED;
		sched_vcpu_stopped(v);
		if (v->cpu && v->cpu != self)
			lapic_send_ipi(v->cpu->apic_id, VECTOR_KICK);
	}
	if (__atomic_sub_fetch(&vms_running, 1, __ATOMIC_SEQ_CST) == 0)
		hv_finish();
}

void vm_fault(struct vcpu *v, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	hv_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vuart_flush(v->vm);
	printk("vm %s vCPU %u: %s\n", v->vm->name, v->id, why);
	printk("vm %s vCPU %u: guest state at the exit:\n", v->vm->name, v->id);
	arch_dump_guest(v);
	vm_stop(v->vm, HV_STATUS_STOPPED, false, 0, "%s", why);
}

void vm_print_counters(struct vm *vm)
{
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		const struct vcpu_counters *c = &v->ctr;
		printk("counters vm=%s vcpu=%u exits=%llu posted=%llu notify_ipis=%llu elided=%llu wakeups=%llu "
		       "halts=%llu fastpath=%llu injected=%llu irq_windows=%u reinjected=%llu\n", vm->name, v->id,
		       (unsigned long long)v->exits_total, (unsigned long long)c->posted,
		       (unsigned long long)c->notify_ipis, (unsigned long long)c->elided, (unsigned long long)c->wakeups,
		       (unsigned long long)c->halts, (unsigned long long)c->fastpath, (unsigned long long)c->injected,
		       v->exits[EXIT_REASON_INTERRUPT_WINDOW], (unsigned long long)c->reinjected);
		printk("sched vm=%s vcpu=%u switches=%llu preemptions=%llu blocks=%llu wake_vector=%llu "
		       "wakeup_ticks=%llu runnable_ticks=%llu max_runnable_ticks=%llu ple_exits=%llu yields=%llu "
		       "yields_wasted=%llu wake_poll=%llu run_ticks=%llu balanced=%llu wake_preempts=%llu remote_boosts=%llu ple_window=%u\n", vm->name, v->id, (unsigned long long)c->ctx_switches,
		       (unsigned long long)c->preemptions, (unsigned long long)c->blocks,
		       (unsigned long long)c->wake_vector, (unsigned long long)c->wakeup_ticks,
		       (unsigned long long)c->runnable_ticks, (unsigned long long)c->max_runnable_ticks,
		       (unsigned long long)c->ple_exits, (unsigned long long)c->yields,
		       (unsigned long long)c->yields_wasted, (unsigned long long)c->wake_poll,
		       (unsigned long long)c->run_ticks, (unsigned long long)c->balanced,
		       (unsigned long long)c->wake_preempts, (unsigned long long)c->remote_boosts, v->ple_window);
	}
	const struct msi_stats *m = &vm->msi;
	if (m->delivered || m->dropped[MSI_DROP_ADDRESS] || m->dropped[MSI_DROP_DELIVERY] ||
	    m->dropped[MSI_DROP_VECTOR] || m->dropped[MSI_DROP_DEASSERT])
		printk("msi vm=%s delivered=%llu dropped_address=%llu dropped_delivery_mode=%llu dropped_vector=%llu "
		       "dropped_deassert=%llu\n", vm->name, (unsigned long long)m->delivered,
		       (unsigned long long)m->dropped[MSI_DROP_ADDRESS], (unsigned long long)m->dropped[MSI_DROP_DELIVERY],
		       (unsigned long long)m->dropped[MSI_DROP_VECTOR], (unsigned long long)m->dropped[MSI_DROP_DEASSERT]);
	virtio_blk_print_stats(vm);
	vuart_print_stats(vm);
}

u64 vm_exits_by_reason(const struct vm *vm, u64 *by)
{
	u64 total = 0;
	for (u32 r = 0; r < NR_EXIT_REASONS; r++)
		by[r] = 0;
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		total += READ_ONCE(v->exits_total);
		for (u32 r = 0; r < NR_EXIT_REASONS; r++)
			by[r] += READ_ONCE(v->exits[r]);
	}
	return total;
}

static void print_summary(struct vm *vm)
{
	u64 by[NR_EXIT_REASONS];
	u64 total = vm_exits_by_reason(vm, by);
	char list[400];
	size_t n = 0;
	list[0] = '\0';
	for (u32 r = 0; r < NR_EXIT_REASONS && n < sizeof(list); r++)
		if (by[r])
			n += (size_t)hv_snprintf(list + n, sizeof(list) - n, "%s%s=%llu", n ? " " : "",
						 exit_reason_name(r), (unsigned long long)by[r]);
	if (vm->exited)
		printk("summary vm=%s result=exited code=%u status=%d exits=%llu (%s)\n", vm->name, vm->exit_value,
		       vm->status, (unsigned long long)total, list);
	else
		printk("summary vm=%s result=stopped reason=\"%s\" status=%d exits=%llu (%s)\n", vm->name,
		       vm->stop_reason, vm->status, (unsigned long long)total, list);
}

void hv_finish(void)
{
	static volatile u32 finishing;
	if (__atomic_exchange_n(&finishing, 1, __ATOMIC_ACQ_REL)) {
		for (;;)
			halt();
	}
	for (u32 i = 0; i < nr_vms; i++)
		print_summary(&vms[i]);
	trace_drain();
	hv_power_off(nr_vms ? vms[0].status : 0);
}
