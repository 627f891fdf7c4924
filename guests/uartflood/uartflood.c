// SPDX-License-Identifier: MIT
/*
 * Floods the VM's console from two vCPUs at once, through COM1 and through HC_PUTS.
 *
 * Each vCPU sends lines=N lines (default 40) of each kind, alternating. A COM1 line
 * goes out byte by byte under the guest's console lock (as any guest serialises its
 * UART output); an HC_PUTS line is one hypercall with no lock, so it reaches the
 * hypervisor while the other vCPU is half way through a COM1 line. Lines are 40 to 560
 * bytes, most longer than the hypervisor's 200-byte COM1 line buffer:
 *
 *   uf v<vCPU> <C|P> s<seq> len=<L> <payload> sum=<XXXX>
 *
 * L is the length of the text before " sum=", XXXX its checksum (sum = sum * 31 + byte,
 * 16 bits). The console check of tests/e2e.py (check = uartflood) finds every line
 * intact, exactly once (COM1 lines in 200-byte pieces). Ends with
 * "uartflood: done lines=N vcpus=2".
 */
#include "lib.h"
#include "smp.h"

#define MAX_TEXT 560

static unsigned lines;
static volatile u32 done1;

static unsigned checksum(const char *s, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (sum * 31 + (u8)s[i]) & 0xffff;
	return sum;
}

static size_t make_line(char *buf, unsigned id, char kind, unsigned seq)
{
	size_t len = 40 + (seq * 53 + id * 97 + (kind == 'P' ? 211 : 0)) % (MAX_TEXT - 40);
	int n = snprintf(buf, 64, "uf v%u %c s%u len=%u ", id, kind, seq, (unsigned)len);
	for (size_t i = (size_t)n; i < len; i++)
		buf[i] = (char)('a' + (i * 7 + seq * 3 + id) % 26);
	n = snprintf(buf + len, 16, " sum=%04x\n", checksum(buf, len));
	return len + (size_t)n;
}

static void flood(unsigned id)
{
	static char bufs[2][MAX_TEXT + 32];
	char *buf = bufs[id];
	for (unsigned seq = 0; seq < lines; seq++) {
		size_t n = make_line(buf, id, 'C', seq);
		console_lock();
		for (size_t i = 0; i < n; i++)
			putchar(buf[i]);
		console_unlock();
		n = make_line(buf, id, 'P', seq);
		long r = vmcall(HC_PUTS, (unsigned long)(uintptr_t)buf, n, 0);
		if (r != (long)n) {
			printf("uartflood: HC_PUTS returned %ld for %zu bytes\n", r, n);
			return;
		}
	}
}

static void vcpu1(void *arg)
{
	(void)arg;
	flood(1);
	done1 = 1;
}

int main(void)
{
	lines = (unsigned)cmdline_get_u64("lines", 40);
	if (!hv_present()) {
		report_skip("HC_PUTS needs the hypervisor");
		return report_summary();
	}
	unsigned cpus = smp_init();
	if (cpus < 2) {
		report(false, "the flood needs 2 vCPUs (got %u)", cpus);
		return report_summary();
	}
	on_cpu_async(1, vcpu1, NULL);
	flood(0);
	bool ok = wait_until(done1, 60000000);
	report(ok, "vCPU 1 finished its %u lines of each kind", lines);
	printf("uartflood: done lines=%u vcpus=2\n", lines);
	return report_summary();
}
