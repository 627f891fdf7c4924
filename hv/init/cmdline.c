/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing (syntax in docs/INTERFACES.md). Pure: unit-tested on the host.
 * GRUB re-quotes an argument holding spaces with double quotes and escapes quotes and
 * backslashes with a backslash; the tokenizer undoes both.
 */
#include "hv/init/config.h"
#include "hv/irq/msi.h"
#include "hv/lib/lib.h"
#include "hv/mm/guest_map.h"
#include "hv/trace/trace.h"

#define TOKEN_MAX (APPEND_MAX + 129)   /* vm=NAME,kernel=FILE,append= and the longest append */

static bool set_err(char *err, size_t errlen, const char *fmt, ...) __printf(3, 4);
static bool set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hv_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* Next token into tok; returns false at the end. *p advances. */
static bool next_token(const char **p, char *tok, size_t max, bool *too_long)
{
	const char *s = *p;
	size_t n = 0;
	bool quoted = false;

	*too_long = false;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (!*s) {
		*p = s;
		return false;
	}
	while (*s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n'))) {
		char c = *s++;
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (c == '\\' && *s)
			c = *s++;
		if (n + 1 < max)
			tok[n++] = c;
		else
			*too_long = true;
	}
	tok[n] = '\0';
	*p = s;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "BB:DD.F" (hex bus, device below 0x20, function below 8) -> bus << 8 | dev << 3 | fn. */
static bool parse_bdf(const char *s, size_t len, u16 *bdf)
{
	if (len != 7 || s[2] != ':' || s[5] != '.')
		return false;
	int b1 = hexval(s[0]), b0 = hexval(s[1]), d1 = hexval(s[3]), d0 = hexval(s[4]), f = hexval(s[6]);
	if (b1 < 0 || b0 < 0 || d1 < 0 || d0 < 0 || f < 0 || f > 7 || d1 * 16 + d0 > 31)
		return false;
	*bdf = (u16)((b1 * 16 + b0) << 8 | (d1 * 16 + d0) << 3 | f);
	return true;
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool copy_str(char *dst, size_t size, const char *src, size_t len)
{
	if (len == 0 || len >= size)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

/* "0", "0-3", "0+2-3": a set of CPU indexes below 64. */
static bool parse_cpu_list(const char *s, size_t len, u64 *mask)
{
	u64 m = 0;
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '+')
			j++;
		const char *dash = NULL;
		for (size_t k = i; k < j; k++)
			if (s[k] == '-')
				dash = s + k;
		u64 lo, hi;
		if (dash) {
			if (!parse_u64(s + i, (size_t)(dash - (s + i)), false, &lo) ||
			    !parse_u64(dash + 1, (size_t)(s + j - dash - 1), false, &hi))
				return false;
		} else {
			if (!parse_u64(s + i, j - i, false, &lo))
				return false;
			hi = lo;
		}
		if (lo > hi || hi >= 64)
			return false;
		for (u64 c = lo; c <= hi; c++)
			m |= BIT64(c);
		i = j + 1;
		if (j + 1 == len && s[j] == '+')
			return false;
	}
	if (!m)
		return false;
	*mask = m;
	return true;
}

/* The interrupt-virtualisation switches, shared by the global options and vm= keys.
 * Returns 1 when key is a switch and val is good, 0 when key is not a switch, -1 when
 * val is bad (*expect names the accepted values). */
static int parse_switch(const char *key, size_t klen, const char *val, size_t vlen,
			struct irq_switches *sw, const char **expect)
{
	static const struct {
		const char *key;
		const char *on, *off;
		size_t field;
	} keys[] = {
		{ "apicv", "on", "off", offsetof(struct irq_switches, apicv) },
		{ "timer", "preempt", "soft", offsetof(struct irq_switches, ptimer) },
		{ "fastpath", "on", "off", offsetof(struct irq_switches, fastpath) },
		{ "elide", "on", "off", offsetof(struct irq_switches, elide) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strlen(keys[i].key) != klen || strncmp(key, keys[i].key, klen))
			continue;
		u8 *f = (u8 *)sw + keys[i].field;
		if (val && vlen == strlen(keys[i].on) && !strncmp(val, keys[i].on, vlen))
			*f = SW_ON;
		else if (val && vlen == strlen(keys[i].off) && !strncmp(val, keys[i].off, vlen))
			*f = SW_OFF;
		else if (val && vlen == 4 && !strncmp(val, "auto", 4))
			*f = SW_AUTO;   /* given: a VM's auto is not replaced by the global value */
		else {
			*expect = keys[i].key[0] == 't' ? "preempt, soft or auto" : "on, off or auto";
			return -1;
		}
		return 1;
	}
	return 0;
}

static bool parse_vm(const char *v, struct hv_config *cfg, char *err, size_t errlen)
{
	if (cfg->nr_vms >= MAX_VMS)
		return set_err(err, errlen, "too many VMs: 'vm=%s' (at most %d)", v, MAX_VMS);
	struct vm_config *vm = &cfg->vms[cfg->nr_vms];
	memset(vm, 0, sizeof(*vm));
	vm->mem = MiB(16);
	vm->vcpus = 1;
	vm->reboot_limit = REBOOT_LIMIT_DEFAULT;

	const char *p = v;
	const char *end = v + strlen(v);
	const char *comma = strchr(p, ',');
	const char *name_end = comma ? comma : end;
	if (!valid_name(p, (size_t)(name_end - p)))
		return set_err(err, errlen,
			       "bad VM name '%.*s' in 'vm=%s' (1-%d characters A-Z a-z 0-9 _ -)",
			       (int)(name_end - p), p, v, VM_NAME_MAX);
	copy_str(vm->name, sizeof(vm->name), p, (size_t)(name_end - p));
	for (u32 i = 0; i < cfg->nr_vms; i++)
		if (!strcmp(cfg->vms[i].name, vm->name))
			return set_err(err, errlen, "duplicate VM name '%s'", vm->name);

	p = name_end;
	while (p < end) {
		p++;   /* the comma */
		const char *eq = strchr(p, '=');
		const char *kend = strchr(p, ',');
		if (!kend)
			kend = end;
		if (!eq || eq > kend)
			return set_err(err, errlen, "vm '%s': item '%.*s' is not KEY=VALUE", vm->name,
				       (int)(kend - p), p);
		size_t klen = (size_t)(eq - p);
		const char *val = eq + 1;
		if (klen == 6 && !strncmp(p, "append", 6)) {
			/* takes the rest, commas included */
			if (!copy_str(vm->append, sizeof(vm->append), val, (size_t)(end - val)) && end != val)
				return set_err(err, errlen, "vm '%s': append longer than %d characters",
					       vm->name, APPEND_MAX);
			p = end;
			break;
		}
		size_t vlen = (size_t)(kend - val);
		if (klen == 6 && !strncmp(p, "kernel", 6)) {
			if (!copy_str(vm->kernel, sizeof(vm->kernel), val, vlen))
				return set_err(err, errlen, "vm '%s': bad kernel '%.*s'", vm->name, (int)vlen, val);
		} else if (klen == 3 && !strncmp(p, "mod", 3)) {
			if (vm->nr_mods >= MAX_VM_MODS)
				return set_err(err, errlen, "vm '%s': too many modules (at most %d)", vm->name,
					       MAX_VM_MODS);
			if (!copy_str(vm->mods[vm->nr_mods], sizeof(vm->mods[0]), val, vlen))
				return set_err(err, errlen, "vm '%s': bad mod '%.*s'", vm->name, (int)vlen, val);
			vm->nr_mods++;
		} else if (klen == 6 && !strncmp(p, "initrd", 6)) {
			if (!copy_str(vm->initrd, sizeof(vm->initrd), val, vlen))
				return set_err(err, errlen, "vm '%s': bad initrd '%.*s'", vm->name, (int)vlen, val);
		} else if (klen == 4 && !strncmp(p, "disk", 4)) {
			/* disk=FILE (a boot module's image) or disk=size:N (zeroed; 512-byte multiple) */
			u64 n;
			vm->disk[0] = '\0';
			vm->disk_size = 0;
			if (vlen > 5 && !strncmp(val, "size:", 5)) {
				if (!parse_u64(val + 5, vlen - 5, true, &n) || !n || n % 512 || n > GiB(1))
					return set_err(err, errlen,
						       "vm '%s': bad disk '%.*s' (size:N, a multiple of 512 up to 1G)",
						       vm->name, (int)vlen, val);
				vm->disk_size = n;
			} else if (!vlen || !copy_str(vm->disk, sizeof(vm->disk), val, vlen)) {
				return set_err(err, errlen, "vm '%s': bad disk '%.*s' (FILE or size:N)", vm->name,
					       (int)vlen, val);
			}
		} else if (klen == 7 && !strncmp(p, "disk_ro", 7)) {
			if (vlen == 2 && !strncmp(val, "on", 2))
				vm->disk_ro = true;
			else if (vlen == 3 && !strncmp(val, "off", 3))
				vm->disk_ro = false;
			else
				return set_err(err, errlen, "vm '%s': bad disk_ro '%.*s' (on or off)", vm->name,
					       (int)vlen, val);
		} else if (klen == 12 && !strncmp(p, "disk_latency", 12)) {
			u64 n;
			if (!parse_u64(val, vlen, false, &n) || n > 1000000000ull)
				return set_err(err, errlen, "vm '%s': bad disk_latency '%.*s' (TSC ticks, 0 to 1000000000)",
					       vm->name, (int)vlen, val);
			vm->disk_latency = n;
		} else if (klen == 3 && !strncmp(p, "mem", 3)) {
			u64 m;
			if (!parse_u64(val, vlen, true, &m) || m < MiB(2) || m > GiB(64) || !IS_ALIGNED(m, MiB(1)))
				return set_err(err, errlen,
					       "vm '%s': bad mem '%.*s' (2M to 64G, a whole number of MiB)",
					       vm->name, (int)vlen, val);
			vm->mem = m;
		} else if (klen == 4 && !strncmp(p, "hole", 4)) {
			u64 h;
			if (!parse_u64(val, vlen, true, &h) || h < GUEST_HOLE_MIN || h >= GUEST_ECAM_BASE ||
			    !IS_ALIGNED(h, GUEST_HOLE_ALIGN))
				return set_err(err, errlen,
					       "vm '%s': bad hole '%.*s' (2 MiB aligned, 16M to below 0x%llx)",
					       vm->name, (int)vlen, val, (unsigned long long)GUEST_ECAM_BASE);
			vm->hole = h;
		} else if (klen == 5 && !strncmp(p, "vcpus", 5)) {
			u64 n;
			if (!parse_u64(val, vlen, false, &n) || n < 1 || n > MAX_VCPUS_PER_VM)
				return set_err(err, errlen, "vm '%s': bad vcpus '%.*s' (1 to %d)", vm->name,
					       (int)vlen, val, MAX_VCPUS_PER_VM);
			vm->vcpus = (u32)n;
		} else if (klen == 3 && !strncmp(p, "pci", 3)) {
			/* pci=ITEM[+ITEM...]: testdev, none, or BB:DD.F (a host function given to
			 * the VM, hv/pci/passthru.c). */
			vm->pci_devs = 0;
			vm->nr_assign = 0;
			size_t at = 0;
			while (at <= vlen) {
				size_t e = at;
				while (e < vlen && val[e] != '+')
					e++;
				const char *it = val + at;
				size_t il = e - at;
				u16 bdf;
				if (il == 7 && !strncmp(it, "testdev", 7))
					vm->pci_devs |= VM_PCI_TESTDEV;
				else if (il == 4 && !strncmp(it, "none", 4))
					;
				else if (parse_bdf(it, il, &bdf)) {
					for (u32 k = 0; k < vm->nr_assign; k++)
						if (vm->assign_bdf[k] == bdf)
							return set_err(err, errlen, "vm '%s': pci %.*s given twice", vm->name,
								       (int)il, it);
					if (vm->nr_assign >= VM_MAX_ASSIGNED)
						return set_err(err, errlen, "vm '%s': more than %d host PCI functions", vm->name,
							       VM_MAX_ASSIGNED);
					vm->assign_bdf[vm->nr_assign++] = bdf;
				} else
					return set_err(err, errlen,
						       "vm '%s': bad pci '%.*s' (testdev, none or a host function BB:DD.F, joined with '+')",
						       vm->name, (int)il, it);
				at = e + 1;
			}
		} else if (klen == 7 && !strncmp(p, "user_hc", 7)) {
			/* hypercalls from CPL > 0 (hv/vm/hypercall.c); default off: #UD */
			if (vlen == 2 && !strncmp(val, "on", 2))
				vm->user_hc = true;
			else if (vlen == 3 && !strncmp(val, "off", 3))
				vm->user_hc = false;
			else
				return set_err(err, errlen, "vm '%s': bad user_hc '%.*s' (on or off)", vm->name,
					       (int)vlen, val);
		} else if (klen == 6 && !strncmp(p, "reboot", 6)) {
			/* hv/dev/reset.c, hv/vm/restart.c */
			if (vlen == 4 && !strncmp(val, "stop", 4))
				vm->reboot = REBOOT_STOP;
			else if (vlen == 7 && !strncmp(val, "restart", 7))
				vm->reboot = REBOOT_RESTART;
			else
				return set_err(err, errlen, "vm '%s': bad reboot '%.*s' (stop or restart)", vm->name,
					       (int)vlen, val);
		} else if (klen == 12 && !strncmp(p, "reboot_limit", 12)) {
			u64 n;
			if (!parse_u64(val, vlen, false, &n) || n > REBOOT_LIMIT_MAX)
				return set_err(err, errlen, "vm '%s': bad reboot_limit '%.*s' (0-%u)", vm->name,
					       (int)vlen, val, REBOOT_LIMIT_MAX);
			vm->reboot_limit = (u32)n;
		} else if (klen == 4 && !strncmp(p, "cpus", 4)) {
			if (!parse_cpu_list(val, vlen, &vm->cpu_mask))
				return set_err(err, errlen, "vm '%s': bad cpus '%.*s' (e.g. 0, 0-1, 0+2)",
					       vm->name, (int)vlen, val);
		} else {
			const char *expect;
			int r = parse_switch(p, klen, val, vlen, &vm->sw, &expect);
			if (r < 0)
				return set_err(err, errlen, "vm '%s': bad %.*s '%.*s' (%s)", vm->name, (int)klen, p,
					       (int)vlen, val, expect);
			if (!r)
				return set_err(err, errlen, "vm '%s': unknown key '%.*s'", vm->name, (int)klen, p);
		}
		p = kend;
	}
	if (!vm->kernel[0])
		return set_err(err, errlen, "vm '%s': no kernel= given", vm->name);
	cfg->nr_vms++;
	return true;
}

static bool parse_onoff(const char *v, bool *out)
{
	if (!v || !strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no")) {
		*out = false;
		return true;
	}
	return false;
}

bool cmdline_parse(const char *cmdline, struct hv_config *cfg, char *err, size_t errlen)
{
	static char tok[TOKEN_MAX];   /* parsed once, at boot: not on the stack */
	char input[VM_NAME_MAX + 1] = "";
	bool too_long;

	memset(cfg, 0, sizeof(*cfg));
	cfg->serial_port = 0x3f8;
	cfg->baud = 115200;
	cfg->poweroff = POWEROFF_ACPI;
	cfg->sched.policy = SCHED_FAIR;
	cfg->sched.yield = YIELD_READY;
	cfg->sched.block = BLOCK_WAKEUP;
	cfg->sched.ple_gap = 128;
	cfg->sched.ple_window = 4096;
	cfg->sched.slice_us = 1000;
	cfg->trace_records = 65536;
	cfg->iocpu = -1;
	cfg->iopoll_us = 50;
	cfg->sched.spread = false;
	if (err && errlen)
		err[0] = '\0';

	const char *p = cmdline ? cmdline : "";
	while (next_token(&p, tok, sizeof(tok), &too_long)) {
		if (too_long)
			return set_err(err, errlen, "option too long: '%.40s...'", tok);
		char *eq = strchr(tok, '=');
		const char *val = NULL;
		if (eq) {
			*eq = '\0';
			val = eq + 1;
		}
		if (!strcmp(tok, "serial") || !strcmp(tok, "console")) {
			/* console=ttySN[,BAUD]: the PC's COM1-COM4 at their usual ports */
			static const u16 com_ports[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
			if (!val)
				return set_err(err, errlen, "option '%s' needs a value (PORT[,BAUD], ttyS0-ttyS3 or off)", tok);
			cfg->serial_given = true;
			if (!strcmp(val, "off")) {
				cfg->serial_port = 0;
				continue;
			}
			const char *c = strchr(val, ',');
			size_t plen = c ? (size_t)(c - val) : strlen(val);
			u64 port, baud = 115200;
			bool port_ok;
			if (plen == 5 && !strncmp(val, "ttyS", 4)) {
				port_ok = val[4] >= '0' && val[4] <= '3';
				port = port_ok ? com_ports[val[4] - '0'] : 0;
			} else {
				port_ok = parse_u64(val, plen, false, &port) && port && port <= 0xfff8;
			}
			if (!port_ok || (c && (!parse_u64(c + 1, strlen(c + 1), false, &baud) || !baud ||
					       baud > 115200 || 115200 % baud)))
				return set_err(err, errlen, "malformed value '%s' for option '%s' (PORT[,BAUD], ttyS0-ttyS3 or off)",
					       val, tok);
			cfg->serial_port = (u16)port;
			cfg->baud = (u32)baud;
		} else if (!strcmp(tok, "on_error")) {
			if (val && !strcmp(val, "poweroff"))
				cfg->on_error = ON_ERROR_POWEROFF;
			else if (val && !strcmp(val, "halt"))
				cfg->on_error = ON_ERROR_HALT;
			else
				return set_err(err, errlen, "malformed value '%s' for option 'on_error' (poweroff or halt)",
					       val ? val : "");
		} else if (!strcmp(tok, "test_hooks")) {
			if (!parse_onoff(val, &cfg->test_hooks))
				return set_err(err, errlen, "malformed value '%s' for option 'test_hooks' (on or off)", val);
		} else if (!strcmp(tok, "iommu_selftest")) {
			if (!parse_onoff(val, &cfg->iommu_selftest))
				return set_err(err, errlen, "malformed value '%s' for option 'iommu_selftest' (on or off)", val);
		} else if (!strcmp(tok, "spread")) {
			if (!parse_onoff(val, &cfg->sched.spread))
				return set_err(err, errlen, "malformed value '%s' for option 'spread' (on or off)", val);
		} else if (!strcmp(tok, "e9")) {
			if (!parse_onoff(val, &cfg->e9))
				return set_err(err, errlen, "malformed value '%s' for option 'e9' (on or off)", val);
		} else if (!strcmp(tok, "x2apic")) {
			if (val && !strcmp(val, "auto"))
				cfg->x2apic = X2APIC_AUTO;
			else if (val && !strcmp(val, "on"))
				cfg->x2apic = X2APIC_ON;
			else if (val && !strcmp(val, "off"))
				cfg->x2apic = X2APIC_OFF;
			else
				return set_err(err, errlen, "malformed value '%s' for option 'x2apic' (on, off or auto)",
					       val ? val : "");
		} else if (!strcmp(tok, "poweroff")) {
			static const char *const names[] = { "acpi", "bochs", "qemu", "reset", "halt" };
			size_t i;
			for (i = 0; i < ARRAY_SIZE(names); i++)
				if (val && !strcmp(val, names[i]))
					break;
			if (i == ARRAY_SIZE(names))
				return set_err(err, errlen,
					       "malformed value '%s' for option 'poweroff' (acpi, bochs, qemu, reset, halt)",
					       val ? val : "");
			cfg->poweroff = (enum poweroff_method)i;
		} else if (!strcmp(tok, "yield") || !strcmp(tok, "block") || !strcmp(tok, "sched")) {
			static const char *const ynames[] = { "ready", "preempted", "plain", "none" };
			static const char *const bnames[] = { "wakeup", "fixed" };
			static const char *const pnames[] = { "rr", "fair" };
			const char *const *names = tok[0] == 'y' ? ynames : tok[0] == 'b' ? bnames : pnames;
			size_t n = tok[0] == 'y' ? ARRAY_SIZE(ynames) : tok[0] == 'b' ? ARRAY_SIZE(bnames) : ARRAY_SIZE(pnames), i;
			for (i = 0; i < n; i++)
				if (val && !strcmp(val, names[i]))
					break;
			if (i == n)
				return set_err(err, errlen, "malformed value '%s' for option '%s' (%s)", val ? val : "", tok,
					       tok[0] == 'y' ? "ready, preempted, plain or none"
					       : tok[0] == 'b' ? "wakeup or fixed" : "rr or fair");
			if (tok[0] == 'y')
				cfg->sched.yield = (enum yield_policy)i;
			else if (tok[0] == 'b')
				cfg->sched.block = (enum block_scheme)i;
			else
				cfg->sched.policy = (enum sched_policy_id)i;
		} else if (!strcmp(tok, "ple_gap") || !strcmp(tok, "ple_window") || !strcmp(tok, "slice_us")) {
			u64 n;
			if (!val || !parse_u64(val, strlen(val), false, &n) || !n || n > 0xffffffffu ||
			    (tok[0] == 's' && n > 1000000))
				return set_err(err, errlen, "malformed value '%s' for option '%s' (a number%s)", val ? val : "",
					       tok, tok[0] == 's' ? " of microseconds, 1 to 1000000" : " from 1 to 2^32-1");
			if (!strcmp(tok, "ple_gap"))
				cfg->sched.ple_gap = (u32)n;
			else if (!strcmp(tok, "ple_window"))
				cfg->sched.ple_window = (u32)n;
			else
				cfg->sched.slice_us = (u32)n;
		} else if (!strcmp(tok, "idle_timeout")) {
			u64 n;
			if (!val || !parse_u64(val, strlen(val), false, &n) || n > 3600000)
				return set_err(err, errlen, "malformed value '%s' for option 'idle_timeout' "
					       "(milliseconds, 0 to 3600000)", val ? val : "");
			cfg->sched.idle_timeout_ms = (u32)n;
		} else if (!strcmp(tok, "trace")) {
			char why[64];
			if (!val || !trace_parse_events(val, &cfg->trace_mask, why, sizeof(why)))
				return set_err(err, errlen, "malformed value '%s' for option 'trace' (%s; events: exit, entry, "
					       "post, notify, elide, wakeup, block, switch, yield, timer_arm, timer_fire, eoi, "
					       "inject, timer, all, joined by commas)", val ? val : "", val ? why : "no value");
		} else if (!strcmp(tok, "trace_buf")) {
			u64 n;
			if (!val || !parse_u64(val, strlen(val), false, &n) || n < 16 || n > (1u << 24))
				return set_err(err, errlen, "malformed value '%s' for option 'trace_buf' "
					       "(records per CPU, 16 to 16777216)", val ? val : "");
			cfg->trace_records = (u32)n;
		} else if (!strcmp(tok, "iocpu")) {
			u64 n;
			if (val && !strcmp(val, "off"))
				cfg->iocpu = -1;
			else if (val && parse_u64(val, strlen(val), false, &n) && n < 64)
				cfg->iocpu = (s32)n;
			else
				return set_err(err, errlen, "malformed value '%s' for option 'iocpu' (a CPU index 0-63, or off)",
					       val ? val : "");
		} else if (!strcmp(tok, "iopoll_us")) {
			u64 n;
			if (!val || !parse_u64(val, strlen(val), false, &n) || n > 1000000)
				return set_err(err, errlen, "malformed value '%s' for option 'iopoll_us' "
					       "(microseconds, 0 to 1000000; 0 = poll for ever)", val ? val : "");
			cfg->iopoll_us = (u32)n;
		} else if (!strcmp(tok, "vtd_pi")) {
			/* assigned devices' MSIs: VT-d posted IRTEs (on), remapped + injected (off) */
			if (val && !strcmp(val, "on"))
				cfg->vtd_pi = SW_ON;
			else if (val && !strcmp(val, "off"))
				cfg->vtd_pi = SW_OFF;
			else if (val && !strcmp(val, "auto"))
				cfg->vtd_pi = SW_AUTO;
			else
				return set_err(err, errlen, "malformed value '%s' for option 'vtd_pi' (on, off or auto)",
					       val ? val : "");
		} else if (!strcmp(tok, "vtd_urgent")) {
			if (!parse_onoff(val, &cfg->vtd_urgent))
				return set_err(err, errlen, "malformed value '%s' for option 'vtd_urgent' (on or off)",
					       val ? val : "");
		} else if (!strcmp(tok, "msi_delivery")) {
			if (val && !strcmp(val, "direct"))
				cfg->msi_delivery = MSI_DELIVERY_DIRECT;
			else if (val && !strcmp(val, "deferred"))
				cfg->msi_delivery = MSI_DELIVERY_DEFERRED;
			else
				return set_err(err, errlen, "malformed value '%s' for option 'msi_delivery' (direct or deferred)",
					       val ? val : "");
		} else if (!strcmp(tok, "input")) {
			if (!val || !*val || strlen(val) > VM_NAME_MAX)
				return set_err(err, errlen, "malformed value '%s' for option 'input' (a VM name or off)",
					       val ? val : "");
			memcpy(input, val, strlen(val) + 1);
		} else if (!strcmp(tok, "vm")) {
			if (!val || !*val)
				return set_err(err, errlen, "option 'vm' needs a value (NAME,kernel=FILE,...)");
			if (!parse_vm(val, cfg, err, errlen))
				return false;
		} else {
			const char *expect;
			int r = parse_switch(tok, strlen(tok), val, val ? strlen(val) : 0, &cfg->sw, &expect);
			if (r < 0)
				return set_err(err, errlen, "malformed value '%s' for option '%s' (%s)", val ? val : "",
					       tok, expect);
			if (!r)
				return set_err(err, errlen, "unknown option '%s'", tok);
		}
	}
	/* input=NAME may name a VM defined after it. */
	if (!strcmp(input, "off")) {
		cfg->input_vm = -1;
	} else if (input[0]) {
		u32 i;
		for (i = 0; i < cfg->nr_vms && strcmp(cfg->vms[i].name, input); i++)
			;
		if (i == cfg->nr_vms)
			return set_err(err, errlen, "option 'input': no VM named '%s'", input);
		cfg->input_vm = (s32)i;
	}
	/* A VM's switch left at its default takes the global one, wherever it was given. */
	for (u32 i = 0; i < cfg->nr_vms; i++) {
		struct irq_switches *s = &cfg->vms[i].sw;
		s->apicv = s->apicv ? s->apicv : cfg->sw.apicv;
		s->ptimer = s->ptimer ? s->ptimer : cfg->sw.ptimer;
		s->fastpath = s->fastpath ? s->fastpath : cfg->sw.fastpath;
		s->elide = s->elide ? s->elide : cfg->sw.elide;
	}
	return true;
}
