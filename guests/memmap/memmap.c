/* SPDX-License-Identifier: MIT */
/*
 * memmap: a VM whose RAM lies on both sides of the MMIO hole (docs/INTERFACES.md,
 * "Guest platform": memory map). With mem=M and hole=H it checks
 *   - the multiboot memory map: RAM [0, 0x9fc00) and [1 MiB, H), reserved
 *     0x9fc00-1 MiB, no RAM anywhere in [H, 4 GiB), the ECAM, IOAPIC, LAPIC and high
 *     BIOS ranges reserved, RAM [4 GiB, 4 GiB + M - H); mem_upper = H - 1 MiB;
 *   - the RAM above 4 GiB: every 4 KiB page written and read back, distinct from the
 *     RAM below the hole, and reachable by the hypervisor (HC_PUTS of a string there);
 *   - the devices in the hole: an IOAPIC register read (version), an interrupt from an
 *     IOAPIC pin (HC_IOAPIC_LINE), and a LAPIC timer interrupt (xAPIC MMIO; with APICv
 *     the APIC-access page at 0xFEE00000).
 * Command line:
 *   mem=BYTES hole=BYTES   what the VM was given (default 64 MiB and 32 MiB)
 *   touchhole              afterwards read the first page of the hole, where RAM would
 *                          be without it: the hypervisor must stop the VM (status 2)
 */
#include "lib.h"
#include "apic.h"

#define IOAPIC_BASE 0xfec00000ul
#define LAPIC_BASE 0xfee00000ul
#define ECAM_BASE 0xe0000000ul
#define BIOS_HIGH 0xfffc0000ul
#define G4 0x100000000ull
#define VEC_TIMER 0x40
#define VEC_PIN 0x51
#define PIN 5

static u64 mem, hole;

static const struct mb_mmap_entry *entry_at(u64 addr)
{
	for (const struct mb_mmap_entry *e = mmap_next(NULL); e; e = mmap_next(e))
		if (addr >= e->addr && addr - e->addr < e->len)
			return e;
	return NULL;
}

static bool reserved_over(u64 base, u64 len)
{
	const struct mb_mmap_entry *e = entry_at(base);
	return e && e->type != MB_MMAP_AVAILABLE && e->addr + e->len >= base + len;
}

static void check_mmap(void)
{
	const struct multiboot_info *mb = mbi();
	u64 ram = 0;
	bool ram_in_hole = false;
	unsigned n = 0;
	for (const struct mb_mmap_entry *e = mmap_next(NULL); e; e = mmap_next(e), n++) {
		printf("memmap: mmap 0x%016llx-0x%016llx type %u\n", (unsigned long long)e->addr,
		       (unsigned long long)(e->addr + e->len), e->type);
		if (e->type != MB_MMAP_AVAILABLE)
			continue;
		ram += e->len;
		if (e->addr < G4 && e->addr + e->len > hole)
			ram_in_hole = true;
	}
	report(n >= 8, "memory map has the RAM, BIOS and device ranges (%u entries)", n);
	report(!ram_in_hole, "no RAM in [0x%llx, 4 GiB)", (unsigned long long)hole);
	report(ram == mem - (0x100000 - 0x9fc00), "RAM in the map = mem less the BIOS area (%llu KiB)",
	       (unsigned long long)(ram >> 10));
	const struct mb_mmap_entry *lo = entry_at(0x100000), *hi = entry_at(G4);
	report(lo && lo->type == MB_MMAP_AVAILABLE && lo->addr == 0x100000 && lo->addr + lo->len == hole,
	       "RAM from 1 MiB up to the hole");
	report(hi && hi->type == MB_MMAP_AVAILABLE && hi->addr == G4 && hi->len == mem - hole,
	       "RAM from 4 GiB: 0x%llx bytes", hi ? (unsigned long long)hi->len : 0ull);
	report(entry_at(hole) == NULL, "the PCI window at the hole's start is not in the map");
	report(reserved_over(0x9fc00, 0x100000 - 0x9fc00), "0x9fc00-1 MiB reserved (BIOS, ACPI tables)");
	report(reserved_over(ECAM_BASE, 0x100000), "ECAM reserved");
	report(reserved_over(IOAPIC_BASE, 0x1000), "IOAPIC page reserved");
	report(reserved_over(LAPIC_BASE, 0x1000), "LAPIC page reserved");
	report(reserved_over(BIOS_HIGH, G4 - BIOS_HIGH), "high BIOS range reserved");
	report(mb && mb->mem_upper == (hole - 0x100000) / 1024, "mem_upper %uK = the RAM from 1 MiB to the hole",
	       mb ? mb->mem_upper : 0);
}

static u64 pattern(u64 a) { return a * 0x9e3779b97f4a7c15ull ^ 0x5a5a5a5a5a5a5a5aull; }

static void check_high_ram(void)
{
	u64 size = mem - hole;
	identity_map_4g();
	volatile u64 *p = (volatile u64 *)(uintptr_t)G4;
	size = size > (1ull << 30) ? (1ull << 30) : size;   /* what identity_map_4g maps */
	for (u64 o = 0; o < size; o += 4096)
		p[o / 8] = pattern(G4 + o);
	p[size / 8 - 1] = pattern(0);
	bool ok = true;
	u64 bad = 0;
	for (u64 o = 0; o < size; o += 4096)
		if (p[o / 8] != pattern(G4 + o)) {
			ok = false;
			bad = G4 + o;
			break;
		}
	ok = ok && p[size / 8 - 1] == pattern(0);
	report(ok, "RAM above 4 GiB: every 4 KiB page of 0x%llx bytes written and read back (first bad 0x%llx)",
	       (unsigned long long)size, (unsigned long long)bad);

	/* not an alias of low memory: the same offset below the hole keeps its own value */
	volatile u64 *low = (volatile u64 *)(uintptr_t)(hole - 0x100000);
	*low = 0x1111;
	p[(hole - 0x100000) / 8] = 0x2222;
	report(*low == 0x1111 && p[(hole - 0x100000) / 8] == 0x2222, "high RAM is not an alias of low RAM");

	/* the hypervisor reaches it through its memory map (gpa_to_hva) */
	if (hv_present()) {
		static const char msg[] = "memmap: this line is stored above 4 GiB\n";
		char *s = (char *)(uintptr_t)(G4 + 0x1000);
		memcpy(s, msg, sizeof(msg) - 1);
		long r = vmcall(HC_PUTS, G4 + 0x1000, sizeof(msg) - 1, 0);
		report(r == (long)sizeof(msg) - 1, "HC_PUTS from GPA 0x%llx (%ld)", G4 + 0x1000, r);
		r = vmcall(HC_PUTS, G4 + (mem - hole) - 8, 16, 0);
		report(r == -2, "HC_PUTS past the end of high RAM refused (%ld)", r);
	}
}

static volatile unsigned timer_irqs, pin_irqs;

static void timer_handler(struct ex_regs *regs)
{
	(void)regs;
	timer_irqs++;
	apic_eoi();
}

static void pin_handler(struct ex_regs *regs)
{
	(void)regs;
	pin_irqs++;
	apic_eoi();
}

static volatile u32 *const ioregsel = (volatile u32 *)IOAPIC_BASE;
static volatile u32 *const iowin = (volatile u32 *)(IOAPIC_BASE + 0x10);

static void check_devices(void)
{
	*ioregsel = 1;   /* IOAPICVER */
	u32 ver = *iowin;
	report((ver & 0xff) == 0x11 && ((ver >> 16) & 0xff) == 23, "IOAPIC version register 0x%x", ver);

	apic_setup(APIC_MODE_XAPIC);
	report(apic_id() == 0, "LAPIC ID %u through MMIO at 0x%lx", apic_id(), LAPIC_BASE);
	irq_set_handler(VEC_TIMER, timer_handler);
	irq_set_handler(VEC_PIN, pin_handler);
	sti();
	apic_timer_start(VEC_TIMER, APIC_LVT_TIMER_ONESHOT, 0, 1, 100000);
	bool ok = wait_until(timer_irqs >= 1, 200000);
	report(ok, "LAPIC timer interrupt (%u)", timer_irqs);

	if (!hv_present() || vmcall(HC_IOAPIC_LINE, PIN, 0, 0) != 0) {
		report_skip("IOAPIC pin interrupt: no HC_IOAPIC_LINE");
	} else {
		u32 reg = 0x10 + 2 * PIN;
		*ioregsel = reg + 1;
		*iowin = apic_id() << 24;
		*ioregsel = reg;
		*iowin = VEC_PIN;   /* edge, fixed, physical, unmasked */
		vmcall(HC_IOAPIC_LINE, PIN, 1, 0);
		ok = wait_until(pin_irqs >= 1, 200000);
		vmcall(HC_IOAPIC_LINE, PIN, 0, 0);
		report(ok, "IOAPIC pin %u interrupt (%u)", PIN, pin_irqs);
	}
	cli();
	if (hv_present()) {
		long f = vmcall(HC_GET_INFO, HC_INFO_FEATURES, 0, 0);
		printf("memmap: apicv=%s\n", f >= 0 && (f & HC_FEAT_APICV) ? "on" : "off");
	}
}

int main(void)
{
	mem = cmdline_get_u64("mem", 64ull << 20);
	hole = cmdline_get_u64("hole", 32ull << 20);
	printf("memmap: mem=0x%llx hole=0x%llx\n", (unsigned long long)mem, (unsigned long long)hole);
	if (hole >= mem || hole < (16u << 20)) {
		printf("memmap: needs RAM on both sides of the hole (hole < mem)\n");
		return 1;
	}
	check_mmap();
	check_high_ram();
	check_devices();
	if (cmdline_has("touchhole")) {
		printf("memmap: reading GPA 0x%llx (the hole)\n", (unsigned long long)hole);
		(void)*(volatile u32 *)(uintptr_t)hole;
		report(false, "read of the hole returned");
	}
	return report_summary();
}
