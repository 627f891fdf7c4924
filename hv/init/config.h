/* SPDX-License-Identifier: MIT */
/* The hypervisor configuration, parsed from its command line (docs/INTERFACES.md). */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

#include "hv/lib/types.h"

#define MAX_VMS 8
#define MAX_VM_MODS 4
#define MAX_VCPUS_PER_VM 16
#define VM_NAME_MAX 15
#define FILE_NAME_MAX 63
/* The hypervisor's command line as the boot loader gives it (hv/init/bootinfo.h); a VM's
 * append= is part of it, so it may be as long as the whole line: the guest's copy then
 * only has to fit the multiboot information area (hv/vm/loader.c). */
#define HV_CMDLINE_MAX 4096
#define APPEND_MAX (HV_CMDLINE_MAX - 1)

/* The interrupt-virtualisation switches (docs/INTERFACES.md): each SW_DEFAULT, SW_ON or
 * SW_OFF or SW_AUTO (given as "auto": like the default, but not overridden). On the hypervisor command line they set the default for every VM; in a vm=
 * definition they override it for that VM. */
enum { SW_DEFAULT = 0, SW_ON = 1, SW_OFF = 2, SW_AUTO = 3 };   /* SW_DEFAULT: not given */
struct irq_switches {
	u8 apicv;      /* posted interrupts + virtual-interrupt delivery (default: if the CPU has them) */
	u8 ptimer;     /* guest timers on the VMX-preemption timer (on) or a host software timer (off) */
	u8 fastpath;   /* preemption-timer expiry handled in the exit fastpath */
	u8 elide;      /* no notification IPI to the vCPU in the exit fastpath (notification elision) */
};

#define VM_MAX_ASSIGNED 2   /* host PCI functions per VM (pci=BB:DD.F) */

struct vm_config {
	char name[VM_NAME_MAX + 1];
	char kernel[FILE_NAME_MAX + 1];
	char mods[MAX_VM_MODS][FILE_NAME_MAX + 1];
	u32 nr_mods;
	u64 mem;          /* bytes */
	u64 hole;         /* start of the MMIO hole below 4 GiB (hv/mm/guest_map.h); 0 = default */
	u32 vcpus;
	u64 cpu_mask;     /* physical CPUs it may use; 0 = all */
	struct irq_switches sw;
	u32 pci_devs;     /* VM_PCI_*: emulated PCI functions behind its host bridge */
	u16 assign_bdf[VM_MAX_ASSIGNED];  /* pci=BB:DD.F: host functions given to it (hv/pci/passthru.c) */
	u32 nr_assign;
	bool user_hc;     /* hypercalls from CPL > 0 allowed (else #UD) */
	u8 reboot;        /* REBOOT_*: what a guest's reset request does (hv/dev/reset.c) */
	u32 reboot_limit; /* reboot=restart: restarts allowed before the VM is stopped */
	char initrd[FILE_NAME_MAX + 1];   /* a Linux kernel's initrd module; "" = none */
	/* virtio-blk (virtio/virtio_blk.c): disk=FILE (a module's image) or disk=size:N */
	char disk[FILE_NAME_MAX + 1];     /* the image module; "" = none */
	u64 disk_size;                    /* disk=size:N: bytes; 0 = none */
	bool disk_ro;                     /* disk_ro=on: read-only */
	u64 disk_latency;                 /* disk_latency=TICKS: modelled completion delay (needs iocpu=) */
	char append[APPEND_MAX + 1];
};

/* vm=...,reboot=: a reset the guest requests (0xCF9, keyboard controller, port 0x92). */
#define REBOOT_STOP 0      /* the VM stops with HV_STATUS_RESET (the default) */
#define REBOOT_RESTART 1   /* the VM restarts (hv/vm/restart.c), at most reboot_limit times */
#define REBOOT_LIMIT_DEFAULT 3
#define REBOOT_LIMIT_MAX 1000

/* PCI functions a VM may get (vm=...,pci=LIST; hv/pci). */
#define VM_PCI_TESTDEV BIT(0)   /* hv/pci/testdev.c at 00:02.0 */

enum poweroff_method {
	POWEROFF_ACPI,    /* ACPI S5 through the FADT's PM1 control block, else halt */
	POWEROFF_BOCHS,   /* "Shutdown" to port 0x8900 */
	POWEROFF_QEMU,    /* isa-debug-exit at port 0xf4 */
	POWEROFF_RESET,   /* reset control register 0xcf9, then the keyboard controller */
	POWEROFF_HALT,    /* stop all CPUs */
};

/* on_error=: what a fatal boot error (bad configuration, no VMX) does after its message
 * and the final marker. */
enum on_error_action {
	ON_ERROR_POWEROFF,   /* the poweroff= method (default) */
	ON_ERROR_HALT,       /* stop all CPUs, leave the machine on (the console stays readable) */
};

/* x2apic=: the host local APIC's mode (hv/host/lapic.h). */
enum x2apic_option {
	X2APIC_AUTO,   /* as the firmware left it (default) */
	X2APIC_ON,     /* x2APIC mode; switched to when the firmware left xAPIC mode */
	X2APIC_OFF,    /* xAPIC mode; an error when the firmware left x2APIC mode */
};

/* The scheduler (hv/sched/sched.c, docs/INTERFACES.md). */
enum yield_policy {
	YIELD_READY,       /* directed yield to `ready` vCPUs of the same VM */
	YIELD_PREEMPTED,   /* ... only to involuntarily preempted ones (before directed yield to ready vCPUs) */
	YIELD_PLAIN,       /* give up the CPU, no target */
	YIELD_NONE,        /* no PAUSE-loop exiting */
};
enum block_scheme {
	BLOCK_WAKEUP,      /* blocked: NV = wakeup vector, NDST = the CPU it sleeps on */
	BLOCK_FIXED,       /* a fixed notification vector per VM, no descriptor rewrite */
};
enum sched_policy_id {
	SCHED_RR,          /* FIFO round robin per CPU */
	SCHED_FAIR,        /* least virtual runtime first, sleeper credit, wakeup preemption */
};
struct sched_config {
	enum sched_policy_id policy;
	enum yield_policy yield;
	enum block_scheme block;
	u32 ple_gap, ple_window;   /* TSC-ish cycles ("PAUSE-loop exiting" controls) */
	u32 slice_us;              /* time slice */
	bool spread;               /* never place two vCPUs of a VM on one CPU (implied by BLOCK_FIXED) */
	u32 idle_timeout_ms;       /* stop every VM once no vCPU has run for this long (0: never) */
};

struct hv_config {
	u16 serial_port;  /* 0 = no serial console */
	u32 baud;
	bool serial_given;  /* serial= or console= given: the ACPI SPCR table is not consulted */
	u8 on_error;        /* enum on_error_action */
	bool e9;
	bool test_hooks;  /* HC_RACE_POST: a guest may stall its own vCPUs' entry paths */
	enum poweroff_method poweroff;
	u8 x2apic;          /* enum x2apic_option */
	struct irq_switches sw;
	struct sched_config sched;
	struct vm_config vms[MAX_VMS];
	u32 nr_vms;
	/* input=: the VM that receives the console input; -1 = none (input=off) */
	s32 input_vm;
	/* trace=, trace_buf=: events to record (hv/trace/trace.h, 0 = off), records per CPU */
	u32 trace_mask;
	u32 trace_records;
	/* iocpu=N: the physical CPU set aside to complete virtio-blk requests; -1 = off
	 * (inline completion) */
	s32 iocpu;
	u8 msi_delivery;    /* msi_delivery=: enum msi_delivery (hv/irq/msi.h) */
	bool iommu_selftest;  /* run the VT-d self-test (drivers/iommu/selftest.c) and power off */
	/* iopoll_us=N: the I/O CPU stops polling a queue idle this long (re-enables its
	 * notifications) until the next kick; 0 = poll for ever */
	u32 iopoll_us;
	u8 vtd_pi;            /* vtd_pi=: SW_DEFAULT/SW_AUTO (posted when the unit has CAP.PI), SW_ON, SW_OFF */
	bool vtd_urgent;      /* vtd_urgent=on: posted IRTEs with URG (notify even under SN) */
};

/* Parse a command line. On error returns false with a message naming the bad item. */
bool cmdline_parse(const char *cmdline, struct hv_config *cfg, char *err, size_t errlen);

#endif
