/* SPDX-License-Identifier: MIT */
/*
 * Start-up, multiboot information, command line, results and exit.
 */
#include "lib.h"
#include "smp.h"

/* Port of QEMU's isa-debug-exit device (iobase=0xf4), which the hypervisor also
 * implements: a 32-bit write of V ends the VM with status (V << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4

void guest_start(void) __noreturn;

/* ---- multiboot ---------------------------------------------------------------------- */

#define CMDLINE_MAX 4096
#define CMDLINE_WORDS 128

static char cmdline_copy[CMDLINE_MAX];  /* the command line as given */
static char cmdline_split[CMDLINE_MAX]; /* the same, words NUL-separated */
static const char *words[CMDLINE_WORDS];
static unsigned nwords;

const struct multiboot_info *mbi(void)
{
	if (mb_magic != MB_BOOT_MAGIC)
		return NULL;
	return (const struct multiboot_info *)(uintptr_t)mb_info_phys;
}

const char *cmdline(void)
{
	return cmdline_copy;
}

/* Words separated by blanks; double quotes group and are removed. */
static void cmdline_parse(void)
{
	const struct multiboot_info *mb = mbi();
	const char *src;
	char *out = cmdline_split;
	char *end = cmdline_split + sizeof(cmdline_split) - 1;

	if (!mb || !(mb->flags & MBI_CMDLINE) || !mb->cmdline)
		return;
	src = (const char *)(uintptr_t)mb->cmdline;
	for (size_t i = 0; i < sizeof(cmdline_copy) - 1 && src[i]; i++)
		cmdline_copy[i] = src[i];

	src = cmdline_copy;
	while (*src && nwords < CMDLINE_WORDS && out < end) {
		bool quoted = false;

		while (*src == ' ' || *src == '\t' || *src == '\n')
			src++;
		if (!*src)
			break;
		words[nwords++] = out;
		for (; *src && out < end; src++) {
			if (*src == '"')
				quoted = !quoted;
			else if (!quoted && (*src == ' ' || *src == '\t' || *src == '\n'))
				break;
			else
				*out++ = *src;
		}
		*out++ = '\0';
	}
}

const char *cmdline_get(const char *key)
{
	size_t klen = strlen(key);
	const char *found = NULL;

	for (unsigned i = 0; i < nwords; i++) {
		if (strncmp(words[i], key, klen))
			continue;
		if (words[i][klen] == '\0')
			found = words[i] + klen;
		else if (words[i][klen] == '=')
			found = words[i] + klen + 1;
	}
	return found;
}

bool cmdline_has(const char *key)
{
	return cmdline_get(key) != NULL;
}

u64 cmdline_get_u64(const char *key, u64 def)
{
	const char *v = cmdline_get(key);
	const char *end;
	u64 n;

	if (!v || !*v)
		return def;
	n = strtou64(v, &end);
	return *end || end == v ? def : n;
}

const struct mb_mmap_entry *mmap_next(const struct mb_mmap_entry *prev)
{
	const struct multiboot_info *mb = mbi();
	uintptr_t start, end, next;

	if (!mb || !(mb->flags & MBI_MMAP))
		return NULL;
	start = mb->mmap_addr;
	end = start + mb->mmap_length;
	next = prev ? (uintptr_t)prev + prev->size + sizeof(prev->size) : start;
	if (next + sizeof(struct mb_mmap_entry) > end)
		return NULL;
	return (const struct mb_mmap_entry *)next;
}

u64 mmap_ram_above_1m(void)
{
	const u64 base = 0x100000;
	u64 cur = base;
	bool grew = true;

	/* Follow available ranges that touch or overlap, in any order. */
	while (grew) {
		grew = false;
		for (const struct mb_mmap_entry *e = mmap_next(NULL); e; e = mmap_next(e)) {
			if (e->type != MB_MMAP_AVAILABLE)
				continue;
			if (e->addr <= cur && e->addr + e->len > cur) {
				cur = e->addr + e->len;
				grew = true;
			}
		}
	}
	return cur - base;
}

/* One page directory for the fifth GiB: PML4[0] -> the PDPT of entry.S, whose entries
 * 0-3 map 0-4 GiB; entry 4 gets this directory. The tables lie below 4 GiB, where
 * virtual and physical addresses are the same. */
static u64 pd_4g[512] __attribute__((aligned(4096)));

void identity_map_4g(void)
{
	u64 *pml4 = (u64 *)(uintptr_t)(read_cr3() & ~0xfffull);
	u64 *pdpt = (u64 *)(uintptr_t)(pml4[0] & 0x000ffffffffff000ull);
	if (pdpt[4] & 1)
		return;
	for (u64 i = 0; i < 512; i++)
		pd_4g[i] = (0x100000000ull + (i << 21)) | 0x83;   /* P, RW, PS */
	pdpt[4] = (u64)(uintptr_t)pd_4g | 0x3;
	asm volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");
}

/* ---- the hypervisor ------------------------------------------------------------------ */

bool hv_present(void)
{
	static int present = -1;
	u32 a, b, c, d;

	if (present < 0) {
		cpuid(1, &a, &b, &c, &d);
		present = 0;
		if (!cmdline_has("nohv") && (c & (1u << 31))) {
			cpuid(HV_CPUID_BASE, &a, &b, &c, &d);
			present = b == HV_CPUID_SIG_EBX && c == HV_CPUID_SIG_ECX &&
				  d == HV_CPUID_SIG_EDX;
		}
	}
	return present;
}

/* ---- results ------------------------------------------------------------------------ */

static unsigned tests, failures, skipped;

void report(bool pass, const char *fmt, ...)
{
	va_list ap;

	console_lock();
	tests++;
	if (!pass)
		failures++;
	printf("%s: ", pass ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	console_unlock();
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	console_lock();
	skipped++;
	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	console_unlock();
}

unsigned report_failures(void)
{
	return failures;
}

int report_summary(void)
{
	printf("SUMMARY: %u tests, %u unexpected failures", tests, failures);
	if (skipped)
		printf(", %u skipped", skipped);
	putchar('\n');
	return failures ? 1 : 0;
}

void exit(int code)
{
	serial_flush();
	outl((u32)code, DEBUG_EXIT_PORT);
	for (;;) {
		cli();
		hlt();
	}
}

/* ---- start --------------------------------------------------------------------------- */

void guest_start(void)
{
	smp_early_init();
	serial_init();
	idt_init();
	if (mb_magic != MB_BOOT_MAGIC)
		printf("guest: bad multiboot magic 0x%x, no boot information\n", mb_magic);
	cmdline_parse();
	exit(main());
}
