/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU descriptor tables and the interrupt/exception entry point.
 * Exceptions in the hypervisor are hypervisor bugs: they print a full register dump
 * and panic. #DF, NMI and #MC run on their own IST stack ("Interrupt Stack Table").
 */
#include "boot/boot.h"
#include "hv/host/cpu.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "arch/x86/x86.h"

struct irq_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

struct idt_entry {
	u16 off0, sel;
	u8 ist, type;
	u16 off1;
	u32 off2, reserved;
} __packed;
_Static_assert(sizeof(struct idt_entry) == 16, "64-bit IDT gate descriptors are 16 bytes");

static struct idt_entry idt[256] __aligned(16);
extern const char isr_stubs[];
void interrupt_dispatch(struct irq_frame *f);

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound",
	"#UD invalid opcode", "#NM no math coprocessor", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD exception", "#VE virtualization exception", "#CP control protection",
};

static void idt_init_once(void)
{
	static bool done;
	if (done)
		return;
	for (int v = 0; v < 256; v++) {
		u64 a = (u64)(isr_stubs + v * 16);
		idt[v].off0 = (u16)a;
		idt[v].sel = GDT_CODE64;
		idt[v].ist = (v == X86_DF || v == X86_NMI || v == X86_MC) ? 1 : 0;
		idt[v].type = 0x8e;   /* present, DPL 0, 64-bit interrupt gate */
		idt[v].off1 = (u16)(a >> 16);
		idt[v].off2 = (u32)(a >> 32);
		idt[v].reserved = 0;
	}
	done = true;
}

extern bool percpu_ready;

void cpu_init_local(struct cpu *c)
{
	c->self = c;
	c->stack_top = (u64)(c->stack + CPU_STACK_SIZE);
	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9a000000ffffull;   /* 64-bit code */
	c->gdt[2] = 0x00cf92000000ffffull;   /* data */
	c->gdt[3] = 0x00cf9a000000ffffull;   /* 32-bit code */
	u64 tss = (u64)&c->tss;
	u64 lim = sizeof(c->tss) - 1;
	c->gdt[4] = (lim & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ull << 40) |
		    (((tss >> 24) & 0xff) << 56);   /* available 64-bit TSS */
	c->gdt[5] = tss >> 32;
	memset(&c->tss, 0, sizeof(c->tss));
	c->tss.ist[0] = (u64)(c->ist_stack + CPU_IST_SIZE);
	c->tss.iomap_base = sizeof(c->tss);

	struct desc_ptr g = { sizeof(c->gdt) - 1, (u64)c->gdt };
	asm volatile("lgdt %0" : : "m"(g));
	asm volatile("movl %0, %%ds; movl %0, %%es; movl %0, %%ss; movl %0, %%fs; movl %0, %%gs"
		     : : "r"(GDT_DATA));
	asm volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:" : : "i"(GDT_CODE64) : "rax", "memory");
	asm volatile("ltr %w0" : : "r"(GDT_TSS));
	idt_init_once();
	struct desc_ptr i = { sizeof(idt) - 1, (u64)idt };
	asm volatile("lidt %0" : : "m"(i));
	wrmsr(MSR_IA32_GS_BASE, (u64)c);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, 0);
}

static void dump_frame(const struct irq_frame *f)
{
	printk("  RIP=%016llx CS=%04llx RFLAGS=%016llx RSP=%016llx SS=%04llx\n",
	       (unsigned long long)f->rip, (unsigned long long)f->cs, (unsigned long long)f->rflags,
	       (unsigned long long)f->rsp, (unsigned long long)f->ss);
	printk("  RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", (unsigned long long)f->rax,
	       (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	printk("  RSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx\n", (unsigned long long)f->rsi,
	       (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
	printk("  R9 =%016llx R10=%016llx R11=%016llx R12=%016llx\n", (unsigned long long)f->r9,
	       (unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
	printk("  R13=%016llx R14=%016llx R15=%016llx\n", (unsigned long long)f->r13,
	       (unsigned long long)f->r14, (unsigned long long)f->r15);
	printk("  CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n", (unsigned long long)read_cr0(),
	       (unsigned long long)read_cr2(), (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	const u64 *sp = (const u64 *)f->rsp;
	if (f->rsp && (f->rsp & 7) == 0)
		printk("  stack: %016llx %016llx %016llx %016llx\n", (unsigned long long)sp[0],
		       (unsigned long long)sp[1], (unsigned long long)sp[2], (unsigned long long)sp[3]);
}

void interrupt_dispatch(struct irq_frame *f)
{
	if (f->vector >= 32) {
		host_irq((u8)f->vector);
		return;
	}
	if (f->vector == X86_NMI) {
		printk("NMI in the hypervisor at RIP %llx; ignored\n", (unsigned long long)f->rip);
		return;
	}
	printk("exception %llu (%s) error code 0x%llx in the hypervisor\n", (unsigned long long)f->vector,
	       f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "reserved",
	       (unsigned long long)f->error);
	dump_frame(f);
	panic("unhandled exception %llu\n", (unsigned long long)f->vector);
}
