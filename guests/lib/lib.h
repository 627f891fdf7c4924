/* SPDX-License-Identifier: MIT */
/*
 * The test-guest library: a multiboot v1 kernel that runs in 64-bit mode on an
 * identity map of the first 4 GiB, with a COM1 console, a printf, exception
 * handlers that can be told to expect a fault, report()/report_summary() in the
 * manner of kvm-unit-tests, and the hypercall ABI of hv/vm/hypercall.h.
 *
 * A test provides `int main(void)`; its return value is the exit code (exit()).
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../hv/vm/hypercall.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __printf(f, a) __attribute__((format(printf, f, a)))
#define __noreturn __attribute__((noreturn))
#define __packed __attribute__((packed))

/* ---- the test's entry point ---------------------------------------------------- */

int main(void);

/* ---- multiboot v1 (Multiboot Specification 0.6.96, 3.3 "Boot information format") */

#define MB_BOOT_MAGIC 0x2BADB002u

#define MBI_MEM     (1u << 0) /* mem_lower, mem_upper valid */
#define MBI_CMDLINE (1u << 2) /* cmdline valid */
#define MBI_MODS    (1u << 3) /* mods_count, mods_addr valid */
#define MBI_MMAP    (1u << 6) /* mmap_length, mmap_addr valid */

struct multiboot_info {
	u32 flags;
	u32 mem_lower;   /* KiB below 1 MiB */
	u32 mem_upper;   /* KiB from 1 MiB to the first hole */
	u32 boot_device;
	u32 cmdline;     /* physical address of a NUL-terminated string */
	u32 mods_count;
	u32 mods_addr;
	u32 syms[4];
	u32 mmap_length; /* bytes */
	u32 mmap_addr;
	u32 drives_length;
	u32 drives_addr;
	u32 config_table;
	u32 boot_loader_name;
	u32 apm_table;
} __packed;
_Static_assert(sizeof(struct multiboot_info) == 72, "multiboot info layout");

/* "size ... is the size of the associated structure in bytes, which can be greater
 * than the minimum of 20 bytes"; it does not count itself. */
struct mb_mmap_entry {
	u32 size;
	u64 addr;
	u64 len;
	u32 type;        /* 1 = available RAM */
} __packed;
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "multiboot mmap entry layout");

#define MB_MMAP_AVAILABLE 1

struct mb_module {
	u32 mod_start;
	u32 mod_end;
	u32 string;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct mb_module) == 16, "multiboot module layout");

extern u32 mb_magic;     /* EAX at entry (entry.S) */
extern u32 mb_info_phys; /* EBX at entry */

/* The multiboot information, or NULL if the magic was wrong. */
const struct multiboot_info *mbi(void);
/* The whole command line as the loader gave it ("" if none). */
const char *cmdline(void);
/*
 * Command-line options are words separated by blanks ("key=value" or "key"; double
 * quotes group). cmdline_get("key") returns the value of the last "key=value", "" for
 * a bare "key", NULL if the key is absent. The pointer stays valid.
 */
const char *cmdline_get(const char *key);
bool cmdline_has(const char *key);
/* The value as a number (decimal or 0x hex), or def if absent or malformed. */
u64 cmdline_get_u64(const char *key, u64 def);
/* Iterate the memory map: pass NULL first; returns NULL at the end. */
const struct mb_mmap_entry *mmap_next(const struct mb_mmap_entry *prev);
/* Bytes of available RAM contiguous from 1 MiB up, as the memory map describes it. */
u64 mmap_ram_above_1m(void);
/* Identity-map [4 GiB, 5 GiB) write-back with 2 MiB pages (entry.S maps only the first
 * 4 GiB), for RAM a VM has above its MMIO hole. Idempotent. */
void identity_map_4g(void);

/* ---- console: COM1 16550 at 0x3f8, polled ------------------------------------- */

#define COM1_BASE 0x3f8

void serial_init(void);
void putchar(int c);
void puts(const char *s);       /* appends a newline, as in C */
void serial_flush(void);        /* wait until the transmitter is empty */
/* Lines from several CPUs do not interleave: printf, puts and report hold a console
 * lock (recursive per CPU, so a handler may print while its CPU holds it). */
void console_lock(void);
void console_unlock(void);
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* ---- results -------------------------------------------------------------------- */

void report(bool pass, const char *fmt, ...) __printf(2, 3);
void report_skip(const char *fmt, ...) __printf(1, 2);
unsigned report_failures(void);
/* Prints "SUMMARY: N tests, M unexpected failures"; returns 0 if none failed, else 1. */
int report_summary(void);
/* 32-bit write of code to port 0xf4 (QEMU isa-debug-exit; the hypervisor's exit port),
 * then cli; hlt forever. The status seen outside is (code << 1) | 1. */
void exit(int code) __noreturn;

/* ---- exceptions ------------------------------------------------------------------- */

/* The frame isr_common (entry.S) builds; the field order is its push order reversed. */
struct ex_regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

#define DE_VECTOR 0
#define DB_VECTOR 1
#define BP_VECTOR 3
#define UD_VECTOR 6
#define DF_VECTOR 8
#define GP_VECTOR 13
#define PF_VECTOR 14

/*
 * Expecting an exception: an instruction at label `insn` listed in the .extable
 * section with a recovery label `fixup` does not kill the test when it faults; the
 * handler records the vector (exception_vector()) and resumes at `fixup`.
 *
 *   asm volatile("1: rdmsr\n2:\n" EXTABLE_ENTRY(1b, 2b) : ...);
 */
#define EXTABLE_ENTRY(insn, fixup) \
	".pushsection .extable, \"a\"\n\t.balign 8\n\t.quad " #insn ", " #fixup \
	"\n\t.popsection\n\t"

struct extable_entry {
	u64 insn, fixup;
};

/* Forget the last caught exception (exception_vector() returns -1 until the next). */
void exception_clear(void);
/* The vector caught at an EXTABLE_ENTRY instruction since exception_clear(), or -1. */
int exception_vector(void);
/* The RFLAGS image the caught exception pushed (RF, bit 16, is set for faults). */
u64 exception_rflags(void);
/* Returns 0 if the instruction completed, else the vector it raised (13 for #GP). */
int rdmsr_safe(u32 msr, u64 *val);
int wrmsr_safe(u32 msr, u64 val);

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

void idt_init(void);
/* Load this CPU's IDTR with the shared IDT (application processors, smp.c). */
void idt_load(void);

/*
 * Interrupt handlers by vector. A handler registered for a vector runs (with IF = 0:
 * every gate is an interrupt gate, Intel SDM Vol. 3A "Interrupt and Exception
 * Handling", "Interrupt-Gate Versus Trap-Gate Handling") instead of the "unexpected
 * interrupt" report; regs->vector is the vector. Handlers of APIC interrupts send
 * their own EOI (apic_eoi(), apic.h) so that tests control when it happens. Any vector
 * may be registered, NMI_VECTOR included; an exception listed in .extable still goes
 * to its fixup first (not for NMI). Returns the previous handler (NULL = none).
 */
#define NMI_VECTOR 2
typedef void irq_handler_t(struct ex_regs *regs);
irq_handler_t *irq_set_handler(unsigned vector, irq_handler_t *handler);

static inline void lidt(const struct desc_ptr *p)
{
	asm volatile("lidt %0" : : "m"(*p) : "memory");
}

static inline void sidt(struct desc_ptr *p)
{
	asm volatile("sidt %0" : "=m"(*p));
}

/* ---- instructions ------------------------------------------------------------------ */

static inline void barrier(void)
{
	asm volatile("" : : : "memory");
}

static inline void cpuid_count(u32 leaf, u32 subleaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	asm volatile("cpuid"
		     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
		     : "a"(leaf), "c"(subleaf));
}

static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	cpuid_count(leaf, 0, a, b, c, d);
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

/* RDTSC fenced on both sides so that it neither starts early nor lets later work
 * start before it (kvm-unit-tests' rdtsc with lfence around). */
static inline u64 rdtsc_ordered(void)
{
	u32 lo, hi;

	asm volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return (u64)hi << 32 | lo;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (u64)hi << 32 | lo;
}

static inline void wrmsr(u32 msr, u64 val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(u8 v, u16 port)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 v, u16 port)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u32 v, u16 port)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u64 read_cr0(void)
{
	u64 v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline u64 read_cr2(void)
{
	u64 v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline u64 read_cr3(void)
{
	u64 v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline u64 read_cr4(void)
{
	u64 v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

static inline void hlt(void)
{
	asm volatile("hlt" : : : "memory");
}

static inline void pause(void)
{
	asm volatile("pause" : : : "memory");
}

static inline void sti(void)
{
	asm volatile("sti" : : : "memory");
}

/* STI's interrupt shadow covers the HLT, so an interrupt pending at the STI wakes the
 * HLT instead of being taken before it (Intel SDM Vol. 2B, "STI", and Vol. 3A,
 * "Interrupt-Enable Flag"). */
static inline void safe_halt(void)
{
	asm volatile("sti; hlt" : : : "memory");
}

/* STI; NOP; CLI: a window of one instruction in which pending interrupts are taken. */
static inline void sti_nop_cli(void)
{
	asm volatile("sti; nop; cli" : : : "memory");
}

#define X86_EFLAGS_IF (1ul << 9)

static inline u64 read_rflags(void)
{
	u64 f;

	asm volatile("pushfq; popq %0" : "=r"(f) : : "memory");
	return f;
}

static inline bool irqs_enabled(void)
{
	return read_rflags() & X86_EFLAGS_IF;
}

/* Disable interrupts, returning the previous RFLAGS for irq_restore(). */
static inline u64 irq_save(void)
{
	u64 f = read_rflags();

	cli();
	return f;
}

static inline void irq_restore(u64 flags)
{
	if (flags & X86_EFLAGS_IF)
		sti();
}

static inline void mfence(void)
{
	asm volatile("mfence" : : : "memory");
}

static inline void lfence(void)
{
	asm volatile("lfence" : : : "memory");
}

/* CR8 is the TPR's priority class (Intel SDM Vol. 3A, "Task Priority in IA-32e
 * Mode": CR8[3:0] = TPR[7:4]). */
static inline u64 read_cr8(void)
{
	u64 v;

	asm volatile("mov %%cr8, %0" : "=r"(v) : : "memory");
	return v;
}

static inline void write_cr8(u64 v)
{
	asm volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

/* ---- atomics and locks (x86: locked read-modify-write instructions) ------------------ */

static inline u32 atomic_fetch_add(volatile u32 *p, u32 v)
{
	asm volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

static inline void atomic_inc(volatile u32 *p)
{
	asm volatile("lock incl %0" : "+m"(*p) : : "memory");
}

static inline u32 xchg32(volatile u32 *p, u32 v)
{
	asm volatile("xchgl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

static inline bool cmpxchg32(volatile u32 *p, u32 old, u32 new_val)
{
	u32 prev;

	asm volatile("lock cmpxchgl %2, %1"
		     : "=a"(prev), "+m"(*p)
		     : "r"(new_val), "0"(old)
		     : "memory");
	return prev == old;
}

struct spinlock {
	volatile u32 locked;
};

static inline void spin_lock(struct spinlock *l)
{
	while (xchg32(&l->locked, 1))
		while (l->locked)
			pause();
}

static inline void spin_unlock(struct spinlock *l)
{
	barrier();
	l->locked = 0;
}

/* ---- time (time.c) ------------------------------------------------------------------- */

/*
 * TSC frequency in Hz, determined once: the command line's tsc_hz=N, else the
 * hypervisor's HC_INFO_TSC_HZ, else the PIT (channel 2 gated through port 0x61),
 * else CPUID leaf 0x15, else an assumed 1 GHz. tsc_hz_source() names the source.
 */
u64 tsc_hz(void);
const char *tsc_hz_source(void);
u64 us_to_tsc(u64 us);
u64 tsc_to_us(u64 ticks);
void udelay(u64 us);
void mdelay(u64 ms);

/*
 * Spin (PAUSE) until cond is true or us microseconds of TSC time have passed; the
 * value is cond's final truth. Interrupts stay as the caller left them.
 */
#define wait_until(cond, us)                                                     \
	({                                                                       \
		u64 __wu_end = rdtsc() + us_to_tsc(us);                          \
		bool __wu_ok;                                                    \
		while (!(__wu_ok = (cond)) && rdtsc() < __wu_end)                \
			pause();                                                 \
		__wu_ok;                                                         \
	})

/* ---- hypercalls (docs/INTERFACES.md, "Hypercalls") ---------------------------------- */

/* RAX = function, RBX, RCX, RDX = arguments, result in RAX; others preserved. */
static inline long vmcall(unsigned long nr, unsigned long a, unsigned long b,
			  unsigned long c)
{
	long ret;

	asm volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static inline long hc_get_counter(unsigned long id)
{
	return vmcall(HC_GET_COUNTER, id, 0, 0);
}

/* HC_VCPU_COUNTER: counter id of vCPU index vcpu of this VM (HC_ENOSYS until the
 * hypervisor implements it). */
static inline long hc_vcpu_counter(unsigned long id, unsigned long vcpu)
{
	return vmcall(HC_VCPU_COUNTER, id, vcpu, 0);
}

/* HC_GET_INFO(item): HC_INFO_* value, negative if unknown. */
static inline long hc_get_info(unsigned long item)
{
	return vmcall(HC_GET_INFO, item, 0, 0);
}

/*
 * True when running under this project's hypervisor: CPUID.1:ECX[31] and the
 * "MicroHVMicro" signature of leaf 0x40000000, and no "nohv" on the command line.
 * Without it, VMCALL raises #UD: guests that also run bare check this first.
 */
bool hv_present(void);

/* ---- strings ------------------------------------------------------------------------ */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Parses decimal or 0x hex; *end (if not NULL) gets the first byte not used. */
u64 strtou64(const char *s, const char **end);

#endif
