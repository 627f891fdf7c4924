/* SPDX-License-Identifier: MIT */
/* Virtual machines and virtual CPUs. */
#ifndef HV_VM_H
#define HV_VM_H

#include "hv/lib/types.h"
#include "hv/init/config.h"
#include "hv/host/cpu.h"
#include "arch/x86/arch.h"
#include "hv/irq/vioapic.h"
#include "hv/irq/vpic.h"
#include "hv/irq/vlapic.h"
#include "hv/host/timer.h"
#include "hv/irq/msi.h"
#include "hv/io/bus.h"
#include "hv/mm/guest_map.h"
#include "hv/lib/ratelimit.h"
#include "hv/dev/i8254.h"
#include "hv/dev/devtimer.h"
#include "hv/vm/loader.h"

/* Guest GPRs, in the order of the SDM's register encoding (exit qualifications for
 * MOV CR, "Table 27-3"), so a 4-bit GPR number indexes gpr[]. RSP lives in the VMCS;
 * its slot is unused. */
enum gpr { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	   GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15, NR_GPRS };

enum vcpu_state {
	VCPU_RUNNABLE,     /* on a run queue, waiting for a CPU */
	VCPU_RUNNING,      /* current on its CPU (cpu->curr) */
	VCPU_WAIT_SIPI,    /* an AP before its BSP starts it (or after INIT) */
	VCPU_HALTED,       /* HLT with nothing pending: on a blocked list until woken (hv/sched/sched.c) */
	VCPU_STOPPED,
};

/* Where a vCPU is with respect to guest mode (the posting protocol, arch/x86/vmx/posted.c). */
enum vcpu_mode {
	VCPU_OUTSIDE_GUEST = 0,
	VCPU_IN_GUEST = 1,   /* set with interrupts off on the entry path, until the full exit path */
};

/* Requests other CPUs make of a vCPU: handled by its own CPU before VM entry. */
#define REQ_NMI BIT(0)
#define REQ_INIT BIT(1)
#define REQ_SIPI BIT(2)
#define REQ_EOI_BITMAP BIT(3)   /* reload the EOI-exit bitmap from the vIOAPIC */
#define REQ_RESET BIT(4)        /* vCPU 0 after a VM restart: the entry state again (hv/vm/restart.c) */

/* Per-vCPU event counters (docs/INTERFACES.md; HC_GET_COUNTER). Posters on other CPUs
 * update posted/notify_ipis/wakeups with atomic adds. */
struct vcpu_counters {
	u64 posted;        /* interrupts posted to this vCPU */
	u64 notify_ipis;   /* notification IPIs (posted-interrupt vector or kick) sent to it */
	u64 wakeups;       /* woken from HLT */
	u64 fastpath;      /* exits handled in the fastpath */
	u64 injected;      /* interrupts injected by event injection (no APICv) */
	u64 reinjected;    /* events re-injected after an exit during their delivery (IDT-vectoring) */
	u64 elided;        /* notifications elided: target was the vCPU in the fastpath */
	u64 halts;         /* HLT exits that blocked */
	/* hv/sched/sched.c */
	u64 ctx_switches, blocks, wakeup_ticks, runnable_ticks, max_runnable_ticks;
	u64 yields, yields_wasted, preemptions, ple_exits, wake_vector, wake_poll;
	u64 run_ticks, balanced, wake_preempts, remote_boosts;
	u64 migrations;    /* its VMCS loaded on a CPU other than the one it ran on last (arch/x86/vmx/vmx.c) */
};

/* The race probe of HC_RACE_POST: the entry path waits at a window for a post. */
struct race_probe {
	volatile u32 window;    /* HC_RACE_WINDOW_*, 0 = not armed */
	volatile u32 reached;
	volatile u32 posted;
};

/* The guest's emulated 16550A on COM1 (hv/dev/vuart.c). dev.lock guards the rest
 * but for irq_lock and pin, which order the updates of the vIOAPIC pin. */
#define VUART_LINE 200           /* COM1 output is printed at each newline or when this is full */
#define VUART_PUTS_MAX 4096      /* the longest HC_PUTS text */
#define VUART_FIFO 16            /* the receiver FIFO */
#define VUART_INPUT 4096         /* console input waiting behind the receiver FIFO */
#define VUART_GSI 4              /* ISA IRQ 4 (no MADT override): edge, active high */
struct vuart {
	struct vdev dev;
	u8 ier, lcr, mcr, scr, dll, dlm;
	u8 fcr;                      /* FIFO enable (bit 0) and receiver trigger (bits 7:6) */
	u8 lsr_oe;                   /* LSR OE until LSR is read */
	u8 msr_delta;                /* MSR bits 3:0 until MSR is read */
	bool thri;                   /* THR-empty interrupt pending */
	bool input;                  /* receives the hypervisor console's input */
	volatile bool intr;          /* the INTR output gated by OUT2, as last computed */
	volatile bool pin;           /* the level last driven on the vIOAPIC pin (irq_lock) */
	struct spinlock irq_lock;
	u8 rx[VUART_FIFO];
	u32 rx_head, rx_count;
	u8 in[VUART_INPUT];          /* console input not yet in the receiver */
	u32 in_head, in_count;
	u64 in_bytes, in_dropped, overruns;
	u32 len;
	char line[VUART_LINE];
	char text[VUART_PUTS_MAX];   /* one HC_PUTS line being printed */
};

struct vcpu {
	u64 gpr[NR_GPRS];          /* first: the exit stub saves here (asm-offsets) */
	struct vm *vm;
	struct cpu *cpu;           /* physical CPU it runs on */
	/* hv/sched/sched.c */
	u64 affinity;              /* CPUs it may run on */
	bool migratable;           /* more than one of them */
	struct vcpu *rq_next;
	struct cpu *rq_cpu;        /* the run queue it is on, or NULL */
	struct vcpu *blk_next;
	struct cpu *blk_cpu;       /* the blocked list it is on, or NULL */
	volatile bool ready;       /* directed yield: woken or involuntarily preempted, not yet run */
	volatile bool preempted;   /* involuntarily preempted, not yet run */
	bool want_block;           /* HLT decided to block: done when the CPU has left it */
	u64 runnable_since, wake_time, run_since;
	bool boosted;              /* a directed-yield target, queued to run next (cleared at switch-in) */
	u32 ple_window;            /* its PAUSE-loop window (ple=adaptive changes it per PAUSE-loop exit) */
	u64 vruntime;              /* sched=fair: ticks run, placed relative to its CPU's min_vruntime */
	u32 id;                    /* index in its VM */
	volatile enum vcpu_state state;
	volatile u8 mode;          /* enum vcpu_mode */
	volatile u32 requests;     /* REQ_* */
	u32 sipi_vector;
	struct vlapic lapic;
	struct hv_timer sw_timer;  /* the guest timer without the preemption timer */
	struct race_probe race;
	struct vcpu_counters ctr;
	/* NMIs ("NMI Handling": while one is being handled, one more is latched; with
	 * none in service one is delivered and one more latched, so at most 2 wait):
	 * senders count into nmi_queued (atomic) with REQ_NMI, the vCPU's own CPU moves
	 * them into nmi_pending, capped (vmentry.c, vmx_handle_requests). */
	u32 nmi_queued;
	u8 nmi_pending;            /* NMIs to inject, 0-2 */
	bool halt_irq_wake;        /* halted with interrupts enabled: a posted interrupt wakes it */
	u64 exits_total;
	u32 exits[NR_EXIT_REASONS];
	struct vcpu_arch arch;     /* the VMX layer's (arch/x86/arch.h); never touched from hv/ */
};

_Static_assert(sizeof(enum vcpu_state) == 4, "vcpu state is updated with 32-bit atomics");

enum vm_state { VM_RUNNING, VM_STOPPED };

/* hv/dev/fwcfg.c: QEMU's fw_cfg, traditional I/O interface. */
struct fwcfg {
	struct vdev dev;
	u64 state;                 /* selector << 32 | next data byte of the item (one word: lockless) */
};

/* hv/dev/rtc.c: the MC146818 CMOS RTC and RAM at 0x70/0x71. */
struct rtc {
	struct vdev dev;
	u8 index;                  /* 0x70 bits 6:0 */
	bool nmi_masked;           /* 0x70 bit 7 (kept, no effect) */
	u8 ram[128];               /* registers A-D at 0x0A-0x0D, RAM 0x0E-0x7F; the time
				    * registers hold their values while SET is 1 */
	u64 secs;                  /* Unix time at the last update */
	u64 sec_tsc;               /* TSC of the last update */
	u64 epoch_tsc;             /* phase origin of the periodic flag */
	u64 flags_tsc;             /* register C evaluated up to this TSC */
	bool irq_line;             /* IRQ 8 (vIOAPIC pin 8): follows IRQF */
	struct dev_timer timer;    /* armed while an enabled interrupt can set IRQF */
};

/* hv/dev/pit.c: the 8254 PIT at 0x40-0x43 and port 0x61 (NMI status and control). */
struct pit {
	struct vdev dev;
	struct i8254 chip;
	u8 port61;                 /* bits 3:0 as written (channel 2 gate, speaker, parity/IOCHK enables) */
	bool bcd_noted;            /* the BCD refusal was logged */
	u64 irq_min_tsc;           /* IRQ 0 is not raised again before this TSC */
	struct dev_timer timer;    /* channel 0's next OUT rising edge (IRQ 0) */
};

/* hv/dev/i8042.c: the keyboard controller at 0x60/0x64, no keyboard or mouse behind it. */
struct i8042 {
	struct vdev dev;
	u8 ctr;                    /* controller command byte */
	u8 out;                    /* output buffer */
	bool obf;                  /* output buffer full */
	bool last_cmd;             /* status bit 3: the last write was to 0x64 */
	u8 wait_data;              /* a command waiting for its data byte at 0x60, or 0 */
};

struct vm {
	char name[VM_NAME_MAX + 1];
	u32 id;
	const struct vm_config *cfg;
	/* RAM: one host allocation of ram_size (= map.mem) bytes at ram / ram_hpa, placed
	 * in guest-physical space by map. Reach guest memory through gpa_to_hva only. */
	u64 ram_hpa, ram_size;
	u8 *ram;
	struct guest_map map;
	/* The interrupt-virtualisation switches in force (config switches resolved
	 * against the CPU's capabilities). */
	bool apicv, ptimer, fastpath, elide;
	u32 lowest_rr;             /* lowest-priority delivery round robin */
	u32 apic_gen;              /* bumped when an APIC ID/LDR/DFR/mode changes (vlapic_routing_changed) */
	u8 nv;                     /* its notification vector: VECTOR_POSTED, or its own (sched_notification_vector) */
	u32 yield_rr;              /* directed yield: round robin from the last boosted vCPU */
	struct vcpu *vcpus[MAX_VCPUS_PER_VM];
	u32 nr_vcpus;
	volatile enum vm_state state;
	bool exited;               /* by debug-exit or HC_EXIT (else stopped by the hypervisor) */
	u32 exit_value;            /* V */
	int status;                /* docs/INTERFACES.md "Exit status" */
	char stop_reason[160];
	struct vuart uart;         /* hv/dev/vuart.c: COM1 */
	struct spinlock lock;
	struct ratelimit log_limit;   /* vm_log: console lines this VM caused */
	struct vioapic ioapic;     /* hv/irq/vioapic.c: MMIO at VIOAPIC_BASE */
	struct vpic pic;           /* hv/irq/vpic.c: the masked 8259 pair */
	struct msi_stats msi;      /* hv/irq/msi.c: messages delivered and dropped */
	u8 msi_delivery;           /* enum msi_delivery (msi_delivery=) */
	volatile bool io_polled;   /* a live virtio-blk disk served by the I/O CPU (iocpu=) */
	struct vpci *pci;          /* hv/pci: the PCI host bridge and its devices */
	u32 nr_assigned;           /* host PCI functions given to it (hv/pci/passthru.c) */
	struct io_bus bus;         /* hv/io/bus.c: its devices' port and MMIO ranges */
	/* Stateless devices (hv/dev/): nothing but their place on the bus. */
	struct vdev pm_dev, debug_exit_dev, xapic_dev, port92_dev, mark_dev;
	struct fwcfg fwcfg;
	struct rtc rtc;
	struct pit pit;
	struct i8042 kbc;
	u8 rst_cnt;                /* 0xCF9 Reset Control bits 3 and 1 (hv/dev/reset.c) */
	u8 pm1_en[2];              /* ACPI PM1_EN as written (hv/dev/pm.c) */
	/* reboot=restart (hv/vm/restart.c) */
	struct guest_entry_state entry;   /* vCPU 0's state at (re)start, from the loader */
	u32 restarts;              /* restarts done */
	volatile u32 restart;      /* RESTART_*: a restart in progress */
	struct vm_arch arch;       /* the VMX layer's (arch/x86/arch.h); never touched from hv/ */
};

extern struct vm vms[MAX_VMS];
extern u32 nr_vms;

/* Guest-physical memory: a host pointer for [gpa, gpa+len) when it lies inside one
 * RAM span of the VM's memory map (below the hole, or from 4 GiB), else NULL. */
static inline void *gpa_to_hva(const struct vm *vm, u64 gpa, u64 len)
{
	u64 off;
	if (!guest_map_offset(&vm->map, gpa, len, &off))
		return NULL;
	return vm->ram + off;
}

/* Stop a VM because of something it did (or its own exit). Idempotent. status is the
 * runner status; reason is printed in the diagnosis and the summary. */
void vm_stop(struct vm *vm, int status, bool exited, u32 exit_value, const char *fmt, ...) __printf(5, 6);
/* Stop a VM for a guest-caused fault, with a full diagnosis of the vCPU. */
void vm_fault(struct vcpu *v, const char *fmt, ...) __printf(2, 3);

/* A hypervisor console line that the guest's own actions cause (a refused register
 * value, ...): at most VM_LOG_BURST per second per VM, whatever the line (hv/vm/vm.c), so
 * a guest cannot flood the console; the count of dropped lines is printed with the
 * next line let through and when the VM stops. Every guest-triggerable printk goes
 * through here. */
#define VM_LOG_BURST 10
void vm_log(struct vm *vm, const char *fmt, ...) __printf(2, 3);
/* vm_log's limit alone, for guest-caused output printed otherwise (longer lines):
 * true when one more line may be printed now (and counted). */
bool vm_log_allow(struct vm *vm);

/* Could one of vm's devices raise an interrupt by itself (not as the effect of a
 * running vCPU's access)? hv/sched/sched.c stops a VM whose vCPUs are all halted with no
 * wake source left, and asks this first. COM1 of the VM that receives the console input
 * can (typing raises its received-data interrupt); the PIT (channel 0 counting towards
 * an IRQ 0 edge) and the RTC (an enabled interrupt pending) can while their timer is
 * armed; the 8259s never deliver; a virtio-blk disk served by the I/O CPU (iocpu=) can
 * while it is live (the I/O CPU may complete a request at any time); an assigned host
 * function (pci=BB:DD.F) always can (its MSI may be posted at any time). A device with work
 * in flight (VT-d posting) must answer true here. */
static inline bool vm_device_may_interrupt(const struct vm *vm)
{
	return vm->uart.input || vm->pit.timer.armed || vm->rtc.timer.armed || vm->io_polled || vm->nr_assigned;
}

/* VM creation from its configuration: RAM, EPT, kernel, vCPUs. false + message. */
bool vm_create(struct vm *vm, u32 id, const struct vm_config *cfg, char *err, size_t errlen);
/* The kernel (and initrd or modules) into the VM's zeroed RAM; vm->entry set. */
bool vm_load_image(struct vm *vm, struct loader_result *lr, char *err, size_t errlen);

/* reboot=restart (hv/vm/restart.c). A reset request parks every vCPU (INIT: wait for
 * SIPI); the last one parked reloads memory, resets the devices and starts vCPU 0 at
 * the entry state again (REQ_RESET). While one is in progress the guest's INIT and
 * SIPI IPIs are dropped. */
#define RESTART_NONE 0
#define RESTART_PARKING 1    /* vCPUs are being parked */
#define RESTART_RELOADING 2  /* all parked: one CPU reloads */
void vm_restart_begin(struct vcpu *v, const char *how, unsigned value);
void vm_restart_parked(struct vm *vm);
/* Console output of a VM: one line. */
void vm_console_line(struct vm *vm, const char *text, size_t len);

/* One line of event counters per vCPU (docs/INTERFACES.md). */
void vm_print_counters(struct vm *vm);
/* The VM's exits, total and by reason (by[] has NR_EXIT_REASONS entries), summed over its
 * vCPUs; those of running vCPUs read as they are (a count may lag by an exit in progress). */
u64 vm_exits_by_reason(const struct vm *vm, u64 *by);
/* Called when every VM has stopped: summary, final marker, power off. */
void hv_finish(void) __noreturn;


/*
 * The exit-handler return contract (arch/x86/vmx/exit_dispatch.c and the device models):
 *   EXIT_RESUME  re-enter the guest at the same RIP (an event was injected, or the
 *                handler already moved RIP, or the instruction must be retried)
 *   EXIT_SKIP    the instruction is emulated: advance RIP past it, then re-enter
 *   EXIT_LEAVE   do not re-enter this vCPU now (its VM stopped, or it blocks): go
 *                back to the CPU's run loop
 */
enum exit_action { EXIT_RESUME, EXIT_SKIP, EXIT_LEAVE };

/* The emulated COM1 (hv/dev/vuart.c; its constructor is in hv/dev/dev.h). */
void vuart_flush(struct vm *vm);          /* print a pending partial line */
/* HC_PUTS: len bytes of text as console lines of their own, each printed whole. */
void vuart_puts(struct vm *vm, const char *s, size_t len);
/* Console input for the VM's receiver: queued behind the FIFO (VUART_INPUT bytes; more
 * are dropped and counted), raising the received-data interrupt. Any context. */
void vuart_input(struct vm *vm, const u8 *buf, size_t len);
/* One console line of input statistics when the VM received input. */
void vuart_print_stats(struct vm *vm);
/* Hypercalls (hv/vm/hypercall.c): the VMCALL ABI of hv/vm/hypercall.h. */
enum exit_action hypercall(struct vcpu *v);

#endif
