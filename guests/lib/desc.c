/* SPDX-License-Identifier: MIT */
/*
 * The IDT, the exception handler, and expected exceptions (.extable).
 */
#include "lib.h"

#define SEL_CODE64 0x08          /* entry.S's GDT */
#define IDT_ENTRIES 256
#define ISR_STUB_SIZE 16         /* entry.S aligns every stub to 16 bytes */
#define GATE_INTERRUPT_P 0x8e    /* present, DPL 0, 64-bit interrupt gate */

/* Intel SDM Vol. 3A, 6.14.1 "64-Bit Mode IDT": 16-byte gate descriptors. */
struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate layout");

extern const char isr_stubs[];
extern const struct extable_entry __extable_start[], __extable_end[];

void exception_dispatch(struct ex_regs *regs);

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static irq_handler_t *volatile handlers[IDT_ENTRIES];
static volatile int caught_vector = -1;
static volatile u64 caught_rflags;
static int handler_depth;

static const char *const vector_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD exception", "#VE virtualization exception",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security exception", "reserved 31",
};

void idt_load(void)
{
	struct desc_ptr p = { .limit = sizeof(idt) - 1, .base = (u64)(uintptr_t)idt };

	lidt(&p);
}

irq_handler_t *irq_set_handler(unsigned vector, irq_handler_t *handler)
{
	irq_handler_t *old;

	if (vector >= IDT_ENTRIES)
		return NULL;
	old = handlers[vector];
	handlers[vector] = handler;
	return old;
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_ENTRIES; v++) {
		u64 a = (u64)(uintptr_t)isr_stubs + (u64)v * ISR_STUB_SIZE;

		idt[v] = (struct idt_gate){
			.offset_low = (u16)a,
			.selector = SEL_CODE64,
			.type_attr = GATE_INTERRUPT_P,
			.offset_mid = (u16)(a >> 16),
			.offset_high = (u32)(a >> 32),
		};
	}
	idt_load();
}

void exception_clear(void)
{
	caught_vector = -1;
}

int exception_vector(void)
{
	return caught_vector;
}

u64 exception_rflags(void)
{
	return caught_rflags;
}

static const struct extable_entry *extable_find(u64 rip)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++)
		if (e->insn == rip)
			return e;
	return NULL;
}

void exception_dispatch(struct ex_regs *r)
{
	/* An NMI is not caused by the instruction at its RIP: never a fixup. */
	bool fault = r->vector < 32 && r->vector != NMI_VECTOR;
	const struct extable_entry *fix = fault ? extable_find(r->rip) : NULL;
	irq_handler_t *h;

	if (fix) {
		caught_vector = (int)r->vector;
		caught_rflags = r->rflags;
		r->rip = fix->fixup;
		return;
	}
	h = handlers[r->vector & (IDT_ENTRIES - 1)];
	if (h) {
		h(r);
		return;
	}

	/* A fault while reporting a fault: end without printing more. */
	if (handler_depth++) {
		outl(1, 0xf4);
		for (;;)
			hlt();
	}

	if (r->vector < 32)
		printf("\nunexpected exception: vector %lu (%s) error_code=0x%lx rip=0x%lx\n",
		       r->vector, vector_names[r->vector], r->error_code, r->rip);
	else
		printf("\nunexpected interrupt: vector %lu rip=0x%lx\n", r->vector, r->rip);
	printf("  cs=0x%lx rflags=0x%lx rsp=0x%lx ss=0x%lx cr2=0x%lx\n", r->cs, r->rflags,
	       r->rsp, r->ss, read_cr2());
	printf("  rax=0x%lx rbx=0x%lx rcx=0x%lx rdx=0x%lx\n", r->rax, r->rbx, r->rcx, r->rdx);
	printf("  rsi=0x%lx rdi=0x%lx rbp=0x%lx r8=0x%lx\n", r->rsi, r->rdi, r->rbp, r->r8);
	report(false, "no unexpected exception");
	report_summary();
	exit(1);
}

int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;

	exception_clear();
	asm volatile("1: rdmsr\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
		     : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	if (caught_vector >= 0) {
		*val = 0;
		return caught_vector;
	}
	*val = (u64)hi << 32 | lo;
	return 0;
}

int wrmsr_safe(u32 msr, u64 val)
{
	exception_clear();
	asm volatile("1: wrmsr\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
		     : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	return caught_vector >= 0 ? caught_vector : 0;
}
