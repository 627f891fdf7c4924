/* SPDX-License-Identifier: MIT */
/*
 * assign: drives a host PCI function given to the VM (vm=...,pci=BB:DD.F; the edu test
 * device of the patched Bochs, QEMU docs/specs/edu.rst register layout) from inside it:
 *   - finds it on bus 0 (vendor 1234h, device 11e8h): no INTx pin, one capability (MSI)
 *   - sizes and places BAR0 (1 MiB), reads the identification and liveness registers;
 *     the BAR is mapped by EPT: register accesses cost no exit
 *   - DMA RAM -> device -> RAM: the bytes arrive; DMA from a guest-physical address
 *     outside its RAM (outside=, default 0x0f000000) is blocked by the remapping unit:
 *     the device buffer keeps what it held (no byte of the faulting read arrives), and
 *     the VM keeps running (the hypervisor logs the fault naming the VM)
 *   - MSI on the guest vector: with posting (pi=on) to a running vCPU with no exit for
 *     the delivery; to a halted vCPU (woken); then n= interrupts (default 10000) to vCPU 1
 *     alternately running and halted, the destination switched between vCPU 1 and vCPU 0
 *     every 1000 (an MSI reprogramming: the IRTE is rewritten): sent = received.
 * With cpus=3, vCPU 2 spins meanwhile: the vCPUs share the two CPUs, the receivers are
 * preempted (SN set: the unit only sets PIR) and migrate; both counted (HC_CTR_*).
 * Command line: n=N, outside=GPA, pi=on|off (what the run expects), cpus=2|3.
 *
 * rmrr=BASE (an RMRR of the host DMAR names the function; only the header checks and
 * this run): the memory map reports BASE reserved; DMA device -> IOVA BASE, the buffer
 * cleared, IOVA BASE -> device -> RAM brings the bytes back: BASE is mapped 1:1 onto
 * host memory in the VM's domain (without the map both transfers fault and the bytes
 * never come back). The guest never touches GPA BASE itself (it is not its memory).
 * stop=exit|fault|reset (only the header checks, then): MSI on to vCPU 0 and one
 * interrupt received, bus mastering on; then the guest exits (exit), triple-faults
 * (fault) or resets through 0xCF9 (reset) with both still on: the hypervisor must
 * quiesce the function (and, after a restart, hand it back working).
 */
#include "apic.h"
#include "pcicfg.h"
#include "smp.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_LIVENESS 0x04
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 1u
#define EDU_DMA_TO_RAM 2u
#define EDU_BUF 0x40000u

#define BAR0_ADDR 0xc0000000u
#define VEC 0x71
#define VEC_WAKE 0x72
#define NBYTES 256

static unsigned slot;   /* devfn of the edu (function 0) */
static u8 msi_cap;
static volatile u32 hits[2];
static volatile u64 t_handler[2];   /* TSC at the handler's entry, per vCPU */
static volatile u64 t_raise;
static volatile u32 mode;   /* receiver: 0 spin, 1 halt, 2 return */
static volatile u32 halt_seq;   /* receiver: times it entered HLT */
static u8 src[NBYTES] __attribute__((aligned(4096)));
static u8 dst[NBYTES] __attribute__((aligned(4096)));

static u32 rd(u32 off) { return *(volatile u32 *)(u64)(BAR0_ADDR + off); }
static void wr(u32 off, u32 v) { *(volatile u32 *)(u64)(BAR0_ADDR + off) = v; }
static void wr64(u32 off, u64 v) { *(volatile u64 *)(u64)(BAR0_ADDR + off) = v; }

static void handler(struct ex_regs *r)
{
	(void)r;
	t_handler[smp_id() & 1] = rdtsc();
	u32 st = rd(EDU_IRQ_STATUS);
	wr(EDU_IRQ_ACK, st);
	hits[smp_id() & 1]++;
	apic_eoi();
}

static void wake_handler(struct ex_regs *r)
{
	(void)r;
	apic_eoi();
}

static bool dma(u64 src_addr, u64 dst_addr, u32 len, u32 cmd)
{
	wr64(EDU_DMA_SRC, src_addr);
	wr64(EDU_DMA_DST, dst_addr);
	wr64(EDU_DMA_CNT, len);
	wr(EDU_DMA_CMD, EDU_DMA_RUN | cmd);
	return wait_until(!(rd(EDU_DMA_CMD) & EDU_DMA_RUN), 100000);
}

static bool find(void)
{
	for (unsigned s = 0; s < 32; s++) {
		u32 id = pci_cfg_read32(s << 3, 0);
		if (id == (EDU_DEVICE << 16 | EDU_VENDOR)) {
			slot = s << 3;
			return true;
		}
	}
	return false;
}

static void header(void)
{
	u32 pin = (pci_cfg_read32(slot, 0x3c) >> 8) & 0xff;
	report(pin == 0, "no INTx pin (Interrupt Pin %u)", pin);
	u8 cap = (u8)pci_cfg_read32(slot, 0x34);
	u32 c = cap ? pci_cfg_read32(slot, cap) : 0;
	msi_cap = (c & 0xff) == 0x05 ? cap : 0;
	report(msi_cap && ((c >> 8) & 0xff) == 0, "one capability, MSI (at 0x%x, next 0x%x)", cap, (c >> 8) & 0xff);
	/* read-only IDs: a write does not change them */
	pci_cfg_write32(slot, 0, 0);
	report(pci_cfg_read32(slot, 0) == (EDU_DEVICE << 16 | EDU_VENDOR), "vendor/device IDs read-only");
	pci_cfg_write32(slot, 0x10, ~0u);
	u32 mask = pci_cfg_read32(slot, 0x10);
	report((mask & ~0xfu) == 0xfff00000u, "BAR0 sizes 1 MiB (mask 0x%x)", mask);
	pci_cfg_write32(slot, 0x10, BAR0_ADDR);
	pci_cfg_write16(slot, 0x04, 0x6);   /* memory + bus master */
	u32 id = rd(EDU_ID);
	report((id & 0xff) == 0xed, "BAR0 at 0x%x: identification 0x%x", BAR0_ADDR, id);
	long e0 = hc_get_counter(HC_CTR_EXITS_TOTAL);
	u32 bad = 0;
	for (u32 i = 0; i < 100; i++) {
		wr(EDU_LIVENESS, i * 0x01010101u);
		bad += rd(EDU_LIVENESS) != ~(i * 0x01010101u);
	}
	long ex = hc_get_counter(HC_CTR_EXITS_TOTAL) - e0 - 1;
	printf("assign: 200 register accesses, %ld exits\n", ex);
	report(!bad && ex < 10, "liveness register through the EPT-mapped BAR: %u wrong, %ld exits for 200 accesses",
	       bad, ex);
}

static void dma_tests(void)
{
	for (u32 i = 0; i < NBYTES; i++) {
		src[i] = (u8)(i * 7 + 3);
		dst[i] = 0;
	}
	dma((u64)src, EDU_BUF, NBYTES, 0);
	dma(EDU_BUF, (u64)dst, NBYTES, EDU_DMA_TO_RAM);
	u32 diff = 0;
	for (u32 i = 0; i < NBYTES; i++)
		diff += dst[i] != src[i];
	report(!diff, "DMA RAM 0x%llx -> device -> RAM 0x%llx: %u bytes, %u differ", (unsigned long long)(u64)src,
	       (unsigned long long)(u64)dst, NBYTES, diff);

	/* From outside RAM into the device buffer: blocked, the buffer keeps the pattern. */
	u64 out = cmdline_get_u64("outside", 0x0f000000);
	printf("assign: DMA from guest-physical 0x%llx (outside RAM) to the device\n", (unsigned long long)out);
	dma(out, EDU_BUF, NBYTES, 0);
	for (u32 i = 0; i < NBYTES; i++)
		dst[i] = 0;
	dma(EDU_BUF, (u64)dst, NBYTES, EDU_DMA_TO_RAM);
	diff = 0;
	for (u32 i = 0; i < NBYTES; i++)
		diff += dst[i] != src[i];
	report(!diff, "DMA read outside RAM blocked: device buffer unchanged (%u bytes differ)", diff);
	printf("assign: DMA to guest-physical 0x%llx (outside RAM)\n", (unsigned long long)out);
	dma(EDU_BUF, out, NBYTES, EDU_DMA_TO_RAM);
	report(true, "the VM runs on after the blocked DMA");
}

static void msi_to(u32 dest)
{
	pci_cfg_write32(slot, msi_cap + 4, 0xfee00000u | dest << 12);
	pci_cfg_write32(slot, msi_cap + 8, 0);
	pci_cfg_write16(slot, msi_cap + 12, VEC);
	pci_cfg_write16(slot, msi_cap + 2, 1);
}

static void rmrr_tests(u64 base)
{
	u32 type = 0;
	for (const struct mb_mmap_entry *e = mmap_next(NULL); e; e = mmap_next(e))
		if (base >= e->addr && base - e->addr < e->len)
			type = e->type;
	report(type == 2, "memory map: RMRR 0x%llx reported reserved (type %u)", (unsigned long long)base, type);
	for (u32 i = 0; i < NBYTES; i++) {
		src[i] = (u8)(i * 13 + 5);
		dst[i] = 0;
	}
	u32 done = 0;
	done += dma((u64)src, EDU_BUF, NBYTES, 0);
	done += dma(EDU_BUF, base, NBYTES, EDU_DMA_TO_RAM);   /* into the RMRR */
	done += dma((u64)dst, EDU_BUF, NBYTES, 0);            /* the device buffer cleared */
	done += dma(base, EDU_BUF, NBYTES, 0);                /* back out of the RMRR */
	done += dma(EDU_BUF, (u64)dst, NBYTES, EDU_DMA_TO_RAM);
	u32 diff = 0;
	for (u32 i = 0; i < NBYTES; i++)
		diff += dst[i] != src[i];
	report(done == 5 && !diff, "DMA device -> IOVA 0x%llx (RMRR, identity-mapped) -> device -> RAM: %u of 5 transfers "
	       "completed, %u bytes, %u differ", (unsigned long long)base, done, NBYTES, diff);
}

/* stop=: leave with the function live (bus master and MSI on, an IRTE in use). */
static void stop_live(const char *how)
{
	msi_to(0);
	sti();
	hits[0] = 0;
	wr(EDU_IRQ_RAISE, 1);
	bool got = wait_until(hits[0] == 1, 200000);
	cli();
	report(got, "MSI to vCPU 0 before stopping: %u received", hits[0]);
	u16 cmd = (u16)pci_cfg_read32(slot, 0x04);
	printf("assign: stopping (%s) with bus master %s, MSI %s\n", how, cmd & 4 ? "on" : "off",
	       pci_cfg_read32(slot, msi_cap) & (1u << 16) ? "on" : "off");
	if (!strcmp(how, "reset")) {   /* the Reset Control Register (hv/dev/reset.c) */
		outb(0x02, 0xcf9);
		outb(0x06, 0xcf9);
	}
	if (!strcmp(how, "fault")) {
		static const struct { u16 limit; u64 base; } __attribute__((packed)) no_idt = { 0, 0 };
		asm volatile("lidt %0; int3" : : "m"(no_idt));   /* no IDT: a triple fault */
	}
}

static void receiver(void *arg)
{
	(void)arg;
	sti();
	while (mode != 2) {
		if (mode == 1) {
			halt_seq++;
			safe_halt();
		} else {
			pause();
		}
	}
	cli();
}

static u64 lat_sum;
static u32 lat_n;

/* vCPU 2 (cpus=3): keeps a CPU busy, so that vCPUs share CPUs: preemptions (SN) and
 * migrations of the receiver. */
static void busy(void *arg)
{
	(void)arg;
	sti();
	while (mode != 2)
		pause();
	cli();
}

static bool raise_wait(unsigned who, u32 want)
{
	t_raise = rdtsc();
	wr(EDU_IRQ_RAISE, 1);
	bool ok = wait_until(hits[who] >= want, 200000);
	if (ok && t_handler[who] > t_raise) {
		lat_sum += t_handler[who] - t_raise;
		lat_n++;
	}
	return ok;
}

/* The mean ticks from the device register write to the guest handler since the last call. */
static u64 latency(void)
{
	u64 m = lat_n ? lat_sum / lat_n : 0;
	lat_sum = 0;
	lat_n = 0;
	return m;
}

static void msi_tests(bool pi, unsigned cpus)
{
	/* To vCPU 0 itself, running (spinning with interrupts on). */
	msi_to(0);
	sti();
	u32 n0 = 100, lost = 0;
	latency();
	long e0 = hc_get_counter(HC_CTR_EXITS_TOTAL);
	for (u32 i = 0; i < n0; i++)
		lost += !raise_wait(0, hits[0] + 1);
	long ex = hc_get_counter(HC_CTR_EXITS_TOTAL) - e0 - 1;
	printf("assign: msi->vcpu0 running n=%u received=%u exits=%ld ticks=%llu\n", n0, hits[0], ex,
	       (unsigned long long)latency());
	report(!lost && hits[0] == n0, "MSI to running vCPU 0: %u of %u", hits[0], n0);
	if (pi)
		report(ex * 10 < (long)n0, "posted: %ld exits for %u deliveries to the running vCPU", ex, n0);
	if (cpus < 2)
		return;

	/* To vCPU 1 on its own CPU. */
	msi_to(1);
	mode = 0;
	if (on_cpu_async(1, receiver, NULL)) {
		report(false, "vCPU 1 takes work");
		return;
	}
	udelay(1000);
	/* PAUSE-loop exits of the spinning receiver are the scheduler's (ple=adaptive
	 * shrinks the window when a yield helped), not the delivery's: counted apart */
	long r0 = hc_vcpu_counter(HC_CTR_EXITS_TOTAL, 1), p0 = hc_vcpu_counter(HC_CTR_PLE_EXITS, 1);
	long s0 = hc_get_counter(HC_CTR_EXITS_TOTAL);
	latency();
	lost = 0;
	for (u32 i = 0; i < n0; i++)
		lost += !raise_wait(1, hits[1] + 1);
	long ple = hc_vcpu_counter(HC_CTR_PLE_EXITS, 1) - p0;
	long rx = hc_vcpu_counter(HC_CTR_EXITS_TOTAL, 1) - r0 - ple;
	long tx = hc_get_counter(HC_CTR_EXITS_TOTAL) - s0 - 2;
	printf("assign: msi->vcpu1 running n=%u received=%u rx_exits=%ld rx_ple_exits=%ld tx_exits=%ld ticks=%llu\n", n0,
	       hits[1], rx, ple, tx, (unsigned long long)latency());
	report(!lost && hits[1] == n0, "MSI to running vCPU 1: %u of %u", hits[1], n0);
	if (pi)
		report(rx * 10 < (long)n0, "posted: vCPU 1 took %ld exits (besides %ld PAUSE-loop exits) for %u deliveries",
		       rx, ple, n0);

	/* Halted: the MSI wakes it. */
	mode = 1;
	long w0 = hc_vcpu_counter(HC_CTR_WAKEUPS, 1);
	long hr0 = hc_vcpu_counter(HC_CTR_EXITS_TOTAL, 1);
	u32 h1 = hits[1], woke = 0;
	latency();
	lost = 0;
	u32 seen = halt_seq;
	for (u32 i = 0; i < 20; i++) {
		/* the receiver entered HLT again since the last raise; then give it time to block */
		wait_until(halt_seq != seen, 100000);
		udelay(200);
		seen = halt_seq;
		lost += !raise_wait(1, h1 + i + 1);
	}
	woke = (u32)(hc_vcpu_counter(HC_CTR_WAKEUPS, 1) - w0);
	long hrx = hc_vcpu_counter(HC_CTR_EXITS_TOTAL, 1) - hr0;
	printf("assign: msi->vcpu1 halted n=20 received=%u wakeups=%u rx_exits=%ld ticks=%llu\n", hits[1] - h1, woke, hrx,
	       (unsigned long long)latency());
	report(!lost && hits[1] - h1 == 20 && woke >= 10, "MSI to halted vCPU 1: %u of 20 received, %u wake-ups",
	       hits[1] - h1, woke);

	/* n interrupts: running / halted phases, destination switched every 1000. */
	if (cpus >= 3 && on_cpu_async(2, busy, NULL))
		report(false, "vCPU 2 takes work");
	long mig0 = hc_vcpu_counter(HC_CTR_MIGRATIONS, 0) + hc_vcpu_counter(HC_CTR_MIGRATIONS, 1);
	long pre0 = hc_vcpu_counter(HC_CTR_PREEMPTIONS, 0) + hc_vcpu_counter(HC_CTR_PREEMPTIONS, 1);
	u32 n = (u32)cmdline_get_u64("n", 10000), sent = 0, got0 = hits[0], got1 = hits[1], moves = 0;
	unsigned dest = 1;
	u64 move_ticks = 0;
	long move_exits = 0;
	lost = 0;
	for (u32 i = 0; i < n; i++) {
		if (i % 1000 == 0 && i) {
			dest ^= 1;
			long me0 = hc_get_counter(HC_CTR_EXITS_TOTAL);
			u64 mt0 = rdtsc();
			msi_to(dest);   /* four configuration writes; the address write rewrites the IRTE */
			move_ticks += rdtsc() - mt0;
			move_exits += hc_get_counter(HC_CTR_EXITS_TOTAL) - me0 - 1;
			moves++;
		}
		mode = (i / 50) & 1;
		sent++;
		lost += !raise_wait(dest, hits[dest] + 1);
	}
	u32 recv = (hits[0] - got0) + (hits[1] - got1);
	long mig = hc_vcpu_counter(HC_CTR_MIGRATIONS, 0) + hc_vcpu_counter(HC_CTR_MIGRATIONS, 1) - mig0;
	long pre = hc_vcpu_counter(HC_CTR_PREEMPTIONS, 0) + hc_vcpu_counter(HC_CTR_PREEMPTIONS, 1) - pre0;
	printf("assign: stress sent=%u received=%u (vCPU0 %u, vCPU1 %u) destination changes=%u migrations=%ld "
	       "preemptions=%ld\n", sent, recv, hits[0] - got0, hits[1] - got1, moves, mig, pre);
	if (moves)
		printf("assign: msi reprogram n=%u ticks=%llu exits=%ld (per reprogramming)\n", moves,
		       (unsigned long long)(move_ticks / moves), move_exits / (long)moves);
	if (cpus >= 3)
		report(mig > 0 && pre > 0, "with vCPU 2 busy: the receivers migrated %ld times, were preempted %ld times", mig,
		       pre);
	report(!lost && recv == sent, "%u device interrupts, running/halted, destination moved %u times: sent = received (%u)",
	       sent, moves, recv);
	mode = 2;
	apic_send_ipi(1, VEC_WAKE);   /* it may be halted with the MSI pointed at vCPU 0 */
	cpu_wait_idle(1, 1000000);
	if (cpus >= 3)
		cpu_wait_idle(2, 1000000);
}

int main(void)
{
	if (!hv_present()) {
		report_skip("needs an assigned edu device (vm=...,pci=BB:DD.F)");
		return report_summary();
	}
	if (apic_setup(APIC_MODE_XAPIC)) {
		report(false, "APIC set up");
		return report_summary();
	}
	percpu[0].apic_id = apic_id();
	unsigned cpus = cmdline_get_u64("cpus", 1) > 1 ? smp_init() : 1;
	irq_set_handler(VEC, handler);
	irq_set_handler(VEC_WAKE, wake_handler);
	if (!find()) {
		report(false, "edu 1234:11e8 on bus 0");
		return report_summary();
	}
	report(true, "edu 1234:11e8 at 00:%02x.0", slot >> 3);
	header();
	if (cmdline_get("rmrr")) {
		rmrr_tests(cmdline_get_u64("rmrr", 0));
		return report_summary();
	}
	if (cmdline_get("stop")) {
		stop_live(cmdline_get("stop"));
		return report_summary();
	}
	dma_tests();
	const char *pi = cmdline_get("pi");
	msi_tests(pi && !strcmp(pi, "on"), cpus);
	cli();
	return report_summary();
}
