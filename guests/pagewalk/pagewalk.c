/* SPDX-License-Identifier: MIT */
/*
 * pagewalk: string I/O (INS/OUTS), which the hypervisor emulates, must honour the
 * guest's page tables as the CPU would (Intel SDM Vol. 3A, "Access Rights" and
 * "Page-Fault Exceptions"; Vol. 2, "INS/INSB/INSW/INSD", "OUTS/OUTSB/OUTSW/OUTSD",
 * "REP/REPE/REPZ/REPNE/REPNZ—Repeat String Operation Prefix").
 *
 * The library's identity map is kept; the 2 MiB at 8 MiB become 4 KiB pages with
 * chosen rights (region[] below), the library's 0-2 MiB (this image) is made
 * user-accessible so that CPL 3 can run the stubs, and a GDT with user segments and
 * a TSS (RSP0) lets CPL 3 code fault back into CPL 0 (stubs.S).
 *
 * Checks, each against the bytes in memory, the error code, CR2, RCX and RDI/RSI:
 *   - CPL 0, CR0.WP = 1: rep insb from a writable page into a read-only page faults
 *     with P|W at the first read-only byte; the elements before it are written, RCX
 *     and RDI stand at the faulting element, the read-only page is unchanged;
 *   - CR0.WP = 0: the same supervisor write succeeds;
 *   - a not-present page: #PF with W and without P;
 *   - an element crossing into a page that maps elsewhere lands in the right bytes;
 *     a crossing element whose second page is read-only faults at that page and
 *     writes nothing;
 *   - the accessed and dirty flags of the written page are set by the emulated INS
 *     (only A by an OUTS);
 *   - 32-bit address size: EDI wraps from 0xffffffff to 0;
 *   - CPL 3 with IOPL 3: rep insb into a user page works; into a supervisor page
 *     faults with P|W|U, into a read-only user page with P|W|U; rep outsb from a
 *     supervisor page faults with P|U, from a user page works.
 *
 * Command line: `walk=apic` then points a page table at the local APIC page
 * (0xfee00000) and runs rep insb through it: the hypervisor must stop the VM with a
 * diagnosis instead of reading the device (status 2); `walk=ioapic` the same with
 * the IOAPIC page.
 */
#include "lib.h"

#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_US 0x004ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull
#define PTE_PS 0x080ull
#define PTE_ADDR 0x000ffffffffff000ull

#define CR0_WP (1ull << 16)

#define REGION ((u64)0x800000)   /* 8 MiB: PD[4] of the first GiB */
#define PAGE(n) (REGION + (u64)(n) * 4096u)
/* The region's pages. */
#define P_USER_RW 0     /* user, writable */
#define P_USER_RO 1     /* user, read-only */
#define P_SUP_RW 2      /* supervisor, writable */
#define P_SUP_RO 3      /* supervisor, read-only (follows P_SUP_RW) */
#define P_ABSENT 4      /* not present */
#define P_SPLIT_LO 5    /* identity... */
#define P_SPLIT_HI 6    /* ...but this one maps P_SPLIT_TARGET */
#define P_USER_STACK 7
#define P_CROSS_RW 8    /* supervisor writable, followed by */
#define P_CROSS_RO 9    /* a read-only page */
#define P_SPLIT_TARGET 10
#define P_ALIAS_HI 11   /* maps the frame of P_SPLIT_HI's identity (what must stay clean) */
#define P_WRAP 12       /* the frame behind linear 0xfffff000 */
#define P_DEVWALK 13    /* linear page whose PT lies in a device (walk=...) */

#define COM1_SCR 0x3ff  /* 16550 scratch register: reads back what was written */
#define PORT_ONES 0x2fc /* COM2 + 4: nothing there, reads all ones */
#define PORT_POST 0x80  /* writes are dropped */

#define SEL_TSS 0x30

/* stubs.S */
struct sio {
	u64 stub, rdi, rsi, rcx, rdx, cpl, user_rsp;
};
void sio_run(struct sio *s);
extern const char sio_return[];
extern u64 sio_kernel_rsp;
extern const char stub_rep_insb[], stub_rep_insw[], stub_rep_insl[], stub_insl[];
extern const char stub_rep_outsb[], stub_rep_outsl[], stub_addr32_rep_insb[];

static u64 pt[512] __attribute__((aligned(4096)));
static u64 pt_top[512] __attribute__((aligned(4096)));
static u8 kstack[8192] __attribute__((aligned(16)));

/* What the #PF / #UD handler saw. */
static volatile struct {
	int vector;
	u64 error, cr2, rdi, rsi, rcx, cs;
} got;

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iopb;
} __packed;
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS layout (SDM Vol. 3A, \"Task-State Segment\")");

static struct tss64 tss;
static u64 gdt[8] __attribute__((aligned(16)));

static void back_to_cpl0(struct ex_regs *r)
{
	got.vector = (int)r->vector;
	got.error = r->error_code;
	got.cr2 = r->vector == PF_VECTOR ? read_cr2() : 0;
	got.rdi = r->rdi;
	got.rsi = r->rsi;
	got.rcx = r->rcx;
	got.cs = r->cs;
	r->rip = (u64)(uintptr_t)sio_return;
	r->cs = 0x08;
	r->ss = 0x10;
	r->rsp = sio_kernel_rsp;
	r->rflags = 0x2;
}

static void setup_descriptors(void)
{
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull;   /* 64-bit code, DPL 0 (entry.S's) */
	gdt[2] = 0x00cf92000000ffffull;   /* data, DPL 0 */
	gdt[3] = 0x00cf9a000000ffffull;   /* 32-bit code */
	gdt[4] = 0x00affa000000ffffull;   /* 64-bit code, DPL 3: 0x23 */
	gdt[5] = 0x00cff2000000ffffull;   /* data, DPL 3: 0x2b */
	u64 base = (u64)(uintptr_t)&tss, limit = sizeof(tss) - 1;
	/* "TSS Descriptor in 64-bit mode": type 9 (available 64-bit TSS), present. */
	gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
		 (((base >> 24) & 0xff) << 56);
	gdt[7] = base >> 32;
	tss.rsp[0] = (u64)(uintptr_t)(kstack + sizeof(kstack));
	tss.iopb = sizeof(tss);   /* no I/O bitmap: IOPL 3 decides */
	struct desc_ptr p = { .limit = sizeof(gdt) - 1, .base = (u64)(uintptr_t)gdt };
	asm volatile("lgdt %0" : : "m"(p) : "memory");
	asm volatile("ltr %w0" : : "r"((u16)SEL_TSS));
	irq_set_handler(PF_VECTOR, back_to_cpl0);
	irq_set_handler(UD_VECTOR, back_to_cpl0);
}

static void write_cr0(u64 v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static void write_cr3(u64 v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static void invlpg(u64 la)
{
	asm volatile("invlpg (%0)" : : "r"(la) : "memory");
}

static u64 *table_of(u64 entry)
{
	return (u64 *)(uintptr_t)(entry & PTE_ADDR);
}

/* A pointer to linear address la, hidden from the compiler (la may be 0). */
static u8 *at(u64 la)
{
	u8 *p;
	asm("" : "=r"(p) : "0"(la));
	return p;
}

static void setup_paging(void)
{
	u64 *pml4 = table_of(read_cr3());
	u64 *pdpt = table_of(pml4[0]);
	u64 *pd0 = table_of(pdpt[0]);
	u64 *pd3 = table_of(pdpt[3]);

	/* The frames, cleared while the 2 MiB identity page still maps them all. */
	memset(at(REGION), 0, 16 * 4096);
	/* User access to 0-2 MiB (this image) and to the region: U/S on the way down. */
	pml4[0] |= PTE_US;
	pdpt[0] |= PTE_US;
	pd0[0] |= PTE_US;
	for (unsigned i = 0; i < 512; i++)
		pt[i] = (REGION + i * 4096ull) | PTE_P | PTE_RW;
	pt[P_USER_RW] |= PTE_US;
	pt[P_USER_RO] = PAGE(P_USER_RO) | PTE_P | PTE_US;
	pt[P_SUP_RO] = PAGE(P_SUP_RO) | PTE_P;
	pt[P_ABSENT] = 0;
	pt[P_SPLIT_HI] = PAGE(P_SPLIT_TARGET) | PTE_P | PTE_RW;
	pt[P_USER_STACK] |= PTE_US;
	pt[P_CROSS_RO] = PAGE(P_CROSS_RO) | PTE_P;
	pt[P_ALIAS_HI] = PAGE(P_SPLIT_HI) | PTE_P | PTE_RW;
	pd0[REGION >> 21] = (u64)(uintptr_t)pt | PTE_P | PTE_RW | PTE_US;
	/* Linear 0xfffff000 (the last 2 MiB of the fourth GiB) -> P_WRAP's frame. */
	pt_top[511] = PAGE(P_WRAP) | PTE_P | PTE_RW;
	pd3[511] = (u64)(uintptr_t)pt_top | PTE_P | PTE_RW;
	write_cr3(read_cr3());
}

static void run(const char *stub, u64 cpl, u64 rdi, u64 rsi, u64 rcx, u16 port)
{
	struct sio s = { (u64)(uintptr_t)stub, rdi, rsi, rcx, port, cpl, PAGE(P_USER_STACK) + 4096 };
	got.vector = -1;
	sio_run(&s);
}

static bool all(u64 la, size_t n, u8 v)
{
	for (size_t i = 0; i < n; i++)
		if (at(la)[i] != v)
			return false;
	return true;
}

#define PF_P 1u
#define PF_W 2u
#define PF_U 4u

static void expect_pf(const char *what, u32 err, u64 cr2)
{
	report(got.vector == PF_VECTOR && got.error == err && got.cr2 == cr2,
	       "%s: #PF error 0x%x CR2 0x%lx (got vector %d error 0x%lx CR2 0x%lx)", what, err, cr2, got.vector,
	       got.error, got.cr2);
}

static void test_supervisor_wp(void)
{
	u64 cr0 = read_cr0();
	outb(0x5a, COM1_SCR);

	/* 16 bytes from 8 before the end of a writable page into the read-only one. */
	write_cr0(cr0 | CR0_WP);
	u64 start = PAGE(P_SUP_RO) - 8;
	run(stub_rep_insb, 0, start, 0, 16, COM1_SCR);
	expect_pf("CPL 0, CR0.WP=1: rep insb x16 into a read-only page", PF_P | PF_W, PAGE(P_SUP_RO));
	report(got.rcx == 8 && got.rdi == PAGE(P_SUP_RO),
	       "  RCX and RDI at the faulting element (rcx=%lu rdi=0x%lx)", got.rcx, got.rdi);
	report(all(start, 8, 0x5a), "  the 8 elements before the read-only page were written");
	report(all(PAGE(P_SUP_RO), 4096, 0), "  nothing was written to the read-only page");

	/* CR0.WP = 0: supervisor writes ignore R/W ("Access Rights"). */
	write_cr0(cr0 & ~CR0_WP);
	run(stub_rep_insb, 0, PAGE(P_SUP_RO) + 0x100, 0, 4, COM1_SCR);
	report(got.vector == UD_VECTOR && got.rcx == 0 && all(PAGE(P_SUP_RO) + 0x100, 4, 0x5a) &&
		       at(PAGE(P_SUP_RO))[0x104] == 0,
	       "CPL 0, CR0.WP=0: rep insb x4 into a read-only page writes it (vector %d rcx=%lu)", got.vector,
	       got.rcx);
	write_cr0(cr0 | CR0_WP);

	/* Not present: P = 0, W = 1. */
	run(stub_rep_insb, 0, PAGE(P_ABSENT) + 0x10, 0, 4, COM1_SCR);
	expect_pf("CPL 0: rep insb into a not-present page", PF_W, PAGE(P_ABSENT) + 0x10);
	report(got.rcx == 4 && got.rdi == PAGE(P_ABSENT) + 0x10, "  RCX/RDI unchanged (rcx=%lu rdi=0x%lx)",
	       got.rcx, got.rdi);
	run(stub_rep_outsb, 0, 0, PAGE(P_ABSENT) + 0x20, 4, PORT_POST);
	expect_pf("CPL 0: rep outsb from a not-present page", 0, PAGE(P_ABSENT) + 0x20);
	report(got.rcx == 4 && got.rsi == PAGE(P_ABSENT) + 0x20, "  RCX/RSI unchanged (rcx=%lu rsi=0x%lx)",
	       got.rcx, got.rsi);
	write_cr0(cr0);
}

static void test_crossing(void)
{
	/* insl at 2 bytes before the end of P_SPLIT_LO: its upper half goes to the frame
	 * P_SPLIT_HI maps (P_SPLIT_TARGET), not to the next frame. */
	u64 la = PAGE(P_SPLIT_HI) - 2;
	run(stub_insl, 0, la, 0, 0, PORT_ONES);
	report(got.vector == UD_VECTOR && got.rdi == la + 4 && all(la, 2, 0xff) &&
		       all(PAGE(P_SPLIT_TARGET), 2, 0xff) && at(PAGE(P_SPLIT_TARGET))[2] == 0 &&
		       all(PAGE(P_ALIAS_HI), 16, 0) && at(la)[-1] == 0,
	       "insl across a page boundary lands in the two frames the pages map (vector %d rdi=0x%lx)",
	       got.vector, got.rdi);
	/* rep insw with every element in place, then rep outsl reading across. */
	run(stub_rep_insw, 0, PAGE(P_SPLIT_HI) - 4, 0, 4, PORT_ONES);
	report(got.vector == UD_VECTOR && got.rcx == 0 && all(PAGE(P_SPLIT_TARGET), 4, 0xff) &&
		       all(PAGE(P_ALIAS_HI), 16, 0),
	       "rep insw x4 across the boundary (rcx=%lu)", got.rcx);
	run(stub_rep_outsl, 0, 0, PAGE(P_SPLIT_HI) - 2, 2, PORT_POST);
	report(got.vector == UD_VECTOR && got.rcx == 0 && got.rsi == PAGE(P_SPLIT_HI) + 6,
	       "rep outsl x2 across the boundary (rcx=%lu rsi=0x%lx)", got.rcx, got.rsi);

	/* The second page of a crossing element is read-only: nothing is written. */
	u64 cr0 = read_cr0();
	write_cr0(cr0 | CR0_WP);
	la = PAGE(P_CROSS_RO) - 2;
	run(stub_rep_insl, 0, la - 4, 0, 3, PORT_ONES);
	expect_pf("rep insl x3 whose second element crosses into a read-only page", PF_P | PF_W,
		  PAGE(P_CROSS_RO));
	report(got.rcx == 2 && got.rdi == la && all(la - 4, 4, 0xff) && all(la, 2, 0) &&
		       all(PAGE(P_CROSS_RO), 4, 0),
	       "  the first element written, the crossing one not at all (rcx=%lu rdi=0x%lx)", got.rcx,
	       got.rdi);
	write_cr0(cr0);
}

static void test_accessed_dirty(void)
{
	pt[P_SUP_RW] &= ~(PTE_A | PTE_D);
	pt[P_CROSS_RW] &= ~(PTE_A | PTE_D);
	invlpg(PAGE(P_SUP_RW));
	invlpg(PAGE(P_CROSS_RW));
	run(stub_rep_outsb, 0, 0, PAGE(P_CROSS_RW) + 0x40, 2, PORT_POST);
	report(got.vector == UD_VECTOR && (pt[P_CROSS_RW] & (PTE_A | PTE_D)) == PTE_A,
	       "rep outsb sets the accessed flag of the page it reads, not the dirty flag (pte 0x%lx)",
	       pt[P_CROSS_RW]);
	run(stub_rep_insb, 0, PAGE(P_SUP_RW) + 0x40, 0, 2, COM1_SCR);
	report(got.vector == UD_VECTOR && (pt[P_SUP_RW] & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
	       "rep insb sets the accessed and dirty flags of the page it writes (pte 0x%lx)", pt[P_SUP_RW]);
}

static void test_addr32_wrap(void)
{
	/* 32-bit address size in 64-bit mode: EDI wraps at 4 GiB (the offset is EDI). */
	outb(0x77, COM1_SCR);
	u8 *low = at(0);
	low[0] = low[1] = low[2] = 0;
	run(stub_addr32_rep_insb, 0, 0xfffffffeull, 0, 4, COM1_SCR);
	report(got.vector == UD_VECTOR && got.rcx == 0 && got.rdi == 2 && all(PAGE(P_WRAP) + 0xffe, 2, 0x77) &&
		       low[0] == 0x77 && low[1] == 0x77 && low[2] == 0,
	       "addr32 rep insb x4 from EDI=0xfffffffe wraps to 0 (vector %d rcx=%lu rdi=0x%lx)", got.vector,
	       got.rcx, got.rdi);
}

static void test_user(void)
{
	u64 cr0 = read_cr0();
	write_cr0(cr0 | CR0_WP);
	outb(0x33, COM1_SCR);

	run(stub_rep_insb, 3, PAGE(P_USER_RW) + 0x10, 0, 8, COM1_SCR);
	report(got.vector == UD_VECTOR && (got.cs & 3) == 3 && got.rcx == 0 && all(PAGE(P_USER_RW) + 0x10, 8, 0x33),
	       "CPL 3: rep insb x8 into a user page (vector %d cs=0x%lx rcx=%lu)", got.vector, got.cs, got.rcx);

	run(stub_rep_insb, 3, PAGE(P_SUP_RW) + 0x200, 0, 8, COM1_SCR);
	expect_pf("CPL 3: rep insb into a supervisor page", PF_P | PF_W | PF_U, PAGE(P_SUP_RW) + 0x200);
	report(got.rcx == 8 && (got.cs & 3) == 3 && all(PAGE(P_SUP_RW) + 0x200, 8, 0),
	       "  nothing written, RCX unchanged (rcx=%lu)", got.rcx);

	run(stub_rep_insb, 3, PAGE(P_USER_RO) + 0x20, 0, 8, COM1_SCR);
	expect_pf("CPL 3: rep insb into a read-only user page", PF_P | PF_W | PF_U, PAGE(P_USER_RO) + 0x20);
	report(all(PAGE(P_USER_RO), 4096, 0), "  nothing written");

	run(stub_rep_outsb, 3, 0, PAGE(P_SUP_RW) + 0x300, 8, PORT_POST);
	expect_pf("CPL 3: rep outsb from a supervisor page", PF_P | PF_U, PAGE(P_SUP_RW) + 0x300);
	report(got.rcx == 8 && got.rsi == PAGE(P_SUP_RW) + 0x300, "  RCX/RSI unchanged (rcx=%lu rsi=0x%lx)",
	       got.rcx, got.rsi);

	run(stub_rep_outsb, 3, 0, PAGE(P_USER_RO), 8, PORT_POST);
	report(got.vector == UD_VECTOR && got.rcx == 0 && got.rsi == PAGE(P_USER_RO) + 8,
	       "CPL 3: rep outsb from a read-only user page (vector %d rcx=%lu)", got.vector, got.rcx);

	/* From a writable user page into the read-only one: the elements in the first
	 * page move, then the fault, with RCX/RDI at the first read-only byte. */
	memset(at(PAGE(P_USER_RW)), 0, 4096);
	run(stub_rep_insb, 3, PAGE(P_USER_RO) - 4, 0, 8, COM1_SCR);
	expect_pf("CPL 3: rep insb x8 from a writable into a read-only user page", PF_P | PF_W | PF_U,
		  PAGE(P_USER_RO));
	report(got.rcx == 4 && got.rdi == PAGE(P_USER_RO) && all(PAGE(P_USER_RO) - 4, 4, 0x33) &&
		       all(PAGE(P_USER_RO), 4096, 0),
	       "  4 elements written, RCX/RDI at the read-only page (rcx=%lu rdi=0x%lx)", got.rcx, got.rdi);
	write_cr0(cr0);
}

/* walk=apic / walk=ioapic: the page table for linear PAGE(P_DEVWALK) lies in a
 * device page. The CPU never walks it (the INS exits first); the hypervisor's walk
 * must stop the VM without reading the device. */
static void walk_into_device(u64 table_gpa)
{
	printf("pagewalk: page table of 0x%lx at GPA 0x%lx, then rep insb through it\n", PAGE(P_DEVWALK) + 0x200000,
	       table_gpa);
	serial_flush();
	u64 *pml4 = table_of(read_cr3());
	u64 *pd0 = table_of(table_of(pml4[0])[0]);
	pd0[(REGION >> 21) + 1] = table_gpa | PTE_P | PTE_RW;
	write_cr3(read_cr3());
	run(stub_rep_insb, 0, PAGE(P_DEVWALK) + 0x200000, 0, 4, COM1_SCR);
	report(false, "the VM still runs after rep insb through a page table in a device (vector %d)", got.vector);
}

int main(void)
{
	setup_descriptors();
	setup_paging();
	test_supervisor_wp();
	test_crossing();
	test_accessed_dirty();
	test_addr32_wrap();
	test_user();
	const char *w = cmdline_get("walk");
	if (w && !strcmp(w, "apic"))
		walk_into_device(0xfee00000ull);
	else if (w && !strcmp(w, "ioapic"))
		walk_into_device(0xfec00000ull);
	return report_summary();
}
