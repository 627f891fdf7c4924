/* SPDX-License-Identifier: MIT */
/* hv/init/cmdline.c cmdline_parse, and hv/lib/format.c parse_u64 and hv_snprintf. */
#include "tests/unit/support.h"
#include "hv/trace/trace.h"
#include "hv/init/config.h"
#include "hv/irq/msi.h"
#include "hv/lib/lib.h"

/* The longest option plus its NUL (hv/init/cmdline.c TOKEN_MAX). */
#define TOKEN_LIMIT (APPEND_MAX + 129)

static struct hv_config cfg;
static char err[256];

static void parse_ok(const char *cmdline)
{
	memset(err, 'x', sizeof(err));
	if (!cmdline_parse(cmdline, &cfg, err, sizeof(err)))
		fail_msg("cmdline '%s' refused: %s", cmdline, err);
	assert_string_equal(err, "");
}

/* The command line must be refused with a message containing each of the strings. */
static void parse_bad(const char *cmdline, const char *msg1, const char *msg2)
{
	memset(err, 0, sizeof(err));
	if (cmdline_parse(cmdline, &cfg, err, sizeof(err)))
		fail_msg("cmdline '%s' accepted, expected an error about %s", cmdline, msg1);
	assert_true(strlen(err) > 0);
	assert_contains(err, msg1);
	if (msg2)
		assert_contains(err, msg2);
}

static void expect_defaults(void)
{
	assert_int_equal(cfg.serial_port, 0x3f8);
	assert_int_equal(cfg.baud, 115200);
	assert_false(cfg.e9);
	assert_int_equal(cfg.poweroff, POWEROFF_ACPI);
	assert_int_equal(cfg.nr_vms, 0);
	assert_false(cfg.serial_given);   /* the SPCR table may name the console */
	assert_int_equal(cfg.on_error, ON_ERROR_POWEROFF);
	assert_int_equal(cfg.x2apic, X2APIC_AUTO);
}

/* ---- global options ---- */

static void defaults(void **state)
{
	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	parse_ok("");
	expect_defaults();
	memset(&cfg, 0xa5, sizeof(cfg));
	parse_ok(NULL);
	expect_defaults();
	parse_ok("  \t\n ");
	expect_defaults();
	/* an empty quoted token is an empty option name */
	parse_bad("\"\"", "unknown option ''", NULL);
}

static void serial(void **state)
{
	(void)state;
	parse_ok("serial=0x2f8,9600");
	assert_int_equal(cfg.serial_port, 0x2f8);
	assert_int_equal(cfg.baud, 9600);
	parse_ok("serial=760");
	assert_int_equal(cfg.serial_port, 760);
	assert_int_equal(cfg.baud, 115200);
	parse_ok("serial=0x3e8,115200");
	assert_int_equal(cfg.baud, 115200);
	parse_ok("serial=0x3f8,1");
	assert_int_equal(cfg.baud, 1);
	parse_ok("serial=off");
	assert_int_equal(cfg.serial_port, 0);
	parse_ok("serial=off serial=0x2e8");   /* the last one wins */
	assert_int_equal(cfg.serial_port, 0x2e8);

	parse_bad("serial", "serial", NULL);
	parse_bad("serial=", "serial", NULL);
	parse_bad("serial=0", "'0'", "serial");
	parse_bad("serial=0x10000", "'0x10000'", "serial");
	parse_bad("serial=com1", "'com1'", "serial");
	parse_bad("serial=0x3f8,", "'0x3f8,'", "serial");
	parse_bad("serial=0x3f8,0", "serial", NULL);
	parse_bad("serial=0x3f8,7", "serial", NULL);        /* 115200 is not a multiple */
	parse_bad("serial=0x3f8,230400", "serial", NULL);   /* above 115200 */
	parse_bad("serial=0x3f8,9600,8n1", "serial", NULL);
	parse_bad("serial=on", "serial", NULL);
}

/* console=: ttyS0-ttyS3 or a port, overriding the SPCR table like serial=. */
static void console_option(void **state)
{
	(void)state;
	static const u16 ports[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
	for (int i = 0; i < 4; i++) {
		char line[32];
		snprintf(line, sizeof(line), "console=ttyS%d", i);
		parse_ok(line);
		assert_int_equal(cfg.serial_port, ports[i]);
		assert_int_equal(cfg.baud, 115200);
		assert_true(cfg.serial_given);
	}
	parse_ok("console=ttyS1,9600");
	assert_int_equal(cfg.serial_port, 0x2f8);
	assert_int_equal(cfg.baud, 9600);
	parse_ok("console=0x2f8");
	assert_int_equal(cfg.serial_port, 0x2f8);
	parse_ok("console=off");
	assert_int_equal(cfg.serial_port, 0);
	assert_true(cfg.serial_given);
	parse_ok("serial=0x2f8");
	assert_true(cfg.serial_given);
	parse_ok("console=ttyS1 serial=0x3e8");   /* the last one wins */
	assert_int_equal(cfg.serial_port, 0x3e8);
	parse_ok("e9");
	assert_false(cfg.serial_given);

	parse_bad("console", "option 'console' needs a value", NULL);
	parse_bad("console=ttyS4", "'ttyS4'", "console");
	parse_bad("console=ttyS", "'ttyS'", "console");
	parse_bad("console=ttyS10", "'ttyS10'", "console");
	parse_bad("console=ttyS0,", "'ttyS0,'", "console");
	parse_bad("console=ttyS0,300000", "console", NULL);
	parse_bad("console=tty0", "'tty0'", "ttyS0-ttyS3");
}

static void on_error_option(void **state)
{
	(void)state;
	parse_ok("on_error=halt");
	assert_int_equal(cfg.on_error, ON_ERROR_HALT);
	parse_ok("on_error=halt on_error=poweroff");
	assert_int_equal(cfg.on_error, ON_ERROR_POWEROFF);
	parse_bad("on_error", "malformed value '' for option 'on_error' (poweroff or halt)", NULL);
	parse_bad("on_error=reset", "'reset'", "on_error");
}

static void x2apic_option(void **state)
{
	(void)state;
	parse_ok("x2apic=on");
	assert_int_equal(cfg.x2apic, X2APIC_ON);
	parse_ok("x2apic=off");
	assert_int_equal(cfg.x2apic, X2APIC_OFF);
	parse_ok("x2apic=on x2apic=auto");
	assert_int_equal(cfg.x2apic, X2APIC_AUTO);
	parse_bad("x2apic", "malformed value '' for option 'x2apic' (on, off or auto)", NULL);
	parse_bad("x2apic=1", "'1'", "x2apic");
	parse_bad("x2apic=yes", "'yes'", "x2apic");
}

static void e9(void **state)
{
	(void)state;
	parse_ok("e9");
	assert_true(cfg.e9);
	parse_ok("e9=off");
	assert_false(cfg.e9);
	parse_ok("e9=on");
	assert_true(cfg.e9);
	parse_ok("e9=1");
	assert_true(cfg.e9);
	parse_ok("e9=no");
	assert_false(cfg.e9);
	parse_ok("e9 e9=0");
	assert_false(cfg.e9);
	parse_bad("e9=maybe", "'maybe'", "e9");
	parse_bad("e9=", "e9", NULL);
	parse_bad("e9=ON", "e9", NULL);
}

static void poweroff(void **state)
{
	(void)state;
	static const struct { const char *s; enum poweroff_method m; } v[] = {
		{ "poweroff=acpi", POWEROFF_ACPI }, { "poweroff=bochs", POWEROFF_BOCHS },
		{ "poweroff=qemu", POWEROFF_QEMU }, { "poweroff=reset", POWEROFF_RESET },
		{ "poweroff=halt", POWEROFF_HALT },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		parse_ok(v[i].s);
		assert_int_equal(cfg.poweroff, v[i].m);
	}
	parse_bad("poweroff=shutdown", "'shutdown'", "poweroff");
	parse_bad("poweroff=ACPI", "'ACPI'", "poweroff");
	parse_bad("poweroff=acpi2", "'acpi2'", "poweroff");
	parse_bad("poweroff", "poweroff", NULL);
	parse_bad("poweroff=", "poweroff", NULL);
}

/* input=NAME|off: the VM receiving console input; the first by default; a name may
 * come before its vm=; an unknown name is an error naming it. */
static void input(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=a.elf vm=b,kernel=b.elf");
	assert_int_equal(cfg.input_vm, 0);
	parse_ok("input=b vm=a,kernel=a.elf vm=b,kernel=b.elf");
	assert_int_equal(cfg.input_vm, 1);
	parse_ok("vm=a,kernel=a.elf input=off");
	assert_int_equal(cfg.input_vm, -1);
	parse_bad("vm=a,kernel=a.elf input=c", "option 'input': no VM named 'c'", NULL);
	parse_bad("vm=a,kernel=a.elf input=", "malformed value '' for option 'input'", NULL);
	parse_bad("vm=a,kernel=a.elf input=abcdefghijklmnopq", "malformed value 'abcdefghijklmnopq' for option 'input'", NULL);
}

static void unknown_options(void **state)
{
	(void)state;
	parse_bad("bogus", "unknown option 'bogus'", NULL);
	parse_bad("bogus=1", "unknown option 'bogus'", NULL);
	parse_bad("e9 bogus serial=off", "unknown option 'bogus'", NULL);
	parse_bad("=5", "unknown option ''", NULL);
	parse_bad("Serial=0x3f8", "unknown option 'Serial'", NULL);
	parse_bad("e99", "unknown option 'e99'", NULL);
	parse_bad("vms=a", "unknown option 'vms'", NULL);
	/* the first bad option stops parsing: nothing after it is applied */
	parse_bad("bogus e9", "bogus", NULL);
	assert_false(cfg.e9);
}

static void error_buffer_edge_cases(void **state)
{
	(void)state;
	/* no buffer at all */
	assert_false(cmdline_parse("bogus", &cfg, NULL, 0));
	assert_true(cmdline_parse("e9", &cfg, NULL, 0));
	/* a small buffer gets a truncated, terminated message */
	char small[8];
	memset(small, 'x', sizeof(small));
	assert_false(cmdline_parse("bogus", &cfg, small, sizeof(small)));
	assert_string_equal(small, "unknown");
	/* success clears a previous message */
	strcpy(err, "old");
	assert_true(cmdline_parse("e9", &cfg, err, sizeof(err)));
	assert_string_equal(err, "");
}

/* ---- tokenizer: quoting and escapes ---- */

static void grub_quoting(void **state)
{
	(void)state;
	parse_ok("\"vm=a,kernel=k.elf,append=x y\"");
	assert_int_equal(cfg.nr_vms, 1);
	assert_string_equal(cfg.vms[0].name, "a");
	assert_string_equal(cfg.vms[0].kernel, "k.elf");
	assert_string_equal(cfg.vms[0].append, "x y");

	/* a quote in the middle of a token */
	parse_ok("vm=a,kernel=k,append=\"name=hello  exit=0\" e9");
	assert_string_equal(cfg.vms[0].append, "name=hello  exit=0");
	assert_true(cfg.e9);

	/* backslash escapes: space, quote, backslash */
	parse_ok("vm=a,kernel=k,append=x\\ y\\\"z\\\\");
	assert_string_equal(cfg.vms[0].append, "x y\"z\\");
	/* escaped quote inside quotes (GRUB's re-quoting of a quote) */
	parse_ok("\"vm=a,kernel=k,append=say \\\"hi\\\" now\"");
	assert_string_equal(cfg.vms[0].append, "say \"hi\" now");
	/* a trailing backslash stays */
	parse_ok("vm=a,kernel=k,append=x\\");
	assert_string_equal(cfg.vms[0].append, "x\\");
	/* an unterminated quote runs to the end */
	parse_ok("e9 \"vm=a,kernel=k,append=x y");
	assert_string_equal(cfg.vms[0].append, "x y");
	/* tabs and newlines separate tokens */
	parse_ok("e9\tserial=off\npoweroff=halt");
	assert_true(cfg.e9);
	assert_int_equal(cfg.serial_port, 0);
	assert_int_equal(cfg.poweroff, POWEROFF_HALT);
	/* a quoted space in an option name is part of it */
	parse_bad("\"e9 \"", "unknown option 'e9 '", NULL);
}

static void too_long_tokens(void **state)
{
	(void)state;
	static char line[TOKEN_LIMIT + 700];
	/* TOKEN_LIMIT - 1 characters is the longest token */
	memset(line, 'y', TOKEN_LIMIT - 1);
	line[TOKEN_LIMIT - 1] = '\0';
	parse_bad(line, "unknown option 'yyyy", NULL);
	memset(line, 'y', TOKEN_LIMIT);
	line[TOKEN_LIMIT] = '\0';
	parse_bad(line, "too long", NULL);
	/* the message shows the start of the token, not all of it */
	assert_true(strlen(err) < 100);
	assert_contains(err, "'yyyyyyyyyy");
	memset(line, 'z', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "e9 vm=", 6);
	parse_bad(line, "too long", NULL);
}

/* ---- vm= ---- */

static void vm_with_all_keys(void **state)
{
	(void)state;
	parse_ok("\"vm=linux-1_A,kernel=bzImage.elf,mem=1G,vcpus=4,cpus=0-3,mod=initrd.gz,"
		 "mod=fw.bin,append=console=ttyS0,115200 quiet\"");
	assert_int_equal(cfg.nr_vms, 1);
	const struct vm_config *vm = &cfg.vms[0];
	assert_string_equal(vm->name, "linux-1_A");
	assert_string_equal(vm->kernel, "bzImage.elf");
	assert_int_equal(vm->mem, GiB(1));
	assert_int_equal(vm->vcpus, 4);
	assert_int_equal(vm->cpu_mask, 0xf);
	assert_int_equal(vm->nr_mods, 2);
	assert_string_equal(vm->mods[0], "initrd.gz");
	assert_string_equal(vm->mods[1], "fw.bin");
	assert_string_equal(vm->append, "console=ttyS0,115200 quiet");
	assert_int_equal(cfg.serial_port, 0x3f8);
}

static void vm_defaults(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	const struct vm_config *vm = &cfg.vms[0];
	assert_string_equal(vm->name, "a");
	assert_string_equal(vm->kernel, "k");
	assert_int_equal(vm->mem, MiB(16));
	assert_int_equal(vm->vcpus, 1);
	assert_int_equal(vm->cpu_mask, 0);
	assert_int_equal(vm->nr_mods, 0);
	assert_string_equal(vm->append, "");
	/* keys in any order, the kernel last */
	parse_ok("vm=b,vcpus=2,mem=32M,kernel=kk");
	assert_int_equal(cfg.vms[0].vcpus, 2);
	assert_int_equal(cfg.vms[0].mem, MiB(32));
	assert_string_equal(cfg.vms[0].kernel, "kk");
	/* a key given twice: the last wins */
	parse_ok("vm=b,kernel=k1,kernel=k2");
	assert_string_equal(cfg.vms[0].kernel, "k2");
}

static void vm_append_takes_the_rest(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k,append=x,y,mem=5G,kernel=other");
	assert_string_equal(cfg.vms[0].append, "x,y,mem=5G,kernel=other");
	assert_int_equal(cfg.vms[0].mem, MiB(16));
	assert_string_equal(cfg.vms[0].kernel, "k");
	parse_ok("vm=a,kernel=k,append=");
	assert_string_equal(cfg.vms[0].append, "");
	parse_ok("vm=a,kernel=k,append==,=");
	assert_string_equal(cfg.vms[0].append, "=,=");

	static char line[APPEND_MAX + 64];
	int n = snprintf(line, sizeof(line), "vm=a,kernel=k,append=");
	memset(line + n, 'q', APPEND_MAX);
	line[n + APPEND_MAX] = '\0';
	parse_ok(line);
	assert_int_equal(strlen(cfg.vms[0].append), APPEND_MAX);
	line[n + APPEND_MAX] = 'q';
	line[n + APPEND_MAX + 1] = '\0';
	parse_bad(line, "append longer than 4095", "vm 'a'");
}

/* append takes the rest, so a kernel= after it is part of the append */
static void vm_append_missing_kernel(void **state)
{
	(void)state;
	parse_bad("vm=a,append=x,kernel=k", "vm 'a': no kernel= given", NULL);
}

static void vm_several(void **state)
{
	(void)state;
	parse_ok("vm=one,kernel=a.elf,cpus=0 e9 vm=two,kernel=b.elf,cpus=1,mem=64M");
	assert_int_equal(cfg.nr_vms, 2);
	assert_string_equal(cfg.vms[0].name, "one");
	assert_string_equal(cfg.vms[0].kernel, "a.elf");
	assert_int_equal(cfg.vms[0].cpu_mask, 1);
	assert_string_equal(cfg.vms[1].name, "two");
	assert_string_equal(cfg.vms[1].kernel, "b.elf");
	assert_int_equal(cfg.vms[1].cpu_mask, 2);
	assert_int_equal(cfg.vms[1].mem, MiB(64));
	assert_int_equal(cfg.vms[0].mem, MiB(16));
	assert_true(cfg.e9);
}

static void vm_too_many(void **state)
{
	(void)state;
	char line[400] = "";
	for (int i = 0; i < MAX_VMS; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "vm=v%d,kernel=k ", i);
	parse_ok(line);
	assert_int_equal(cfg.nr_vms, MAX_VMS);
	assert_string_equal(cfg.vms[MAX_VMS - 1].name, "v7");
	strcat(line, "vm=v8,kernel=k");
	parse_bad(line, "too many VMs", "v8");
	assert_contains(err, "8");
}

static void vm_duplicate_names(void **state)
{
	(void)state;
	parse_bad("vm=a,kernel=k vm=a,kernel=k2", "duplicate VM name 'a'", NULL);
	parse_bad("vm=x,kernel=k vm=y,kernel=k vm=x,kernel=k", "duplicate VM name 'x'", NULL);
	/* names are case sensitive */
	parse_ok("vm=a,kernel=k vm=A,kernel=k");
	assert_int_equal(cfg.nr_vms, 2);
}

static void vm_missing_or_bad_kernel(void **state)
{
	(void)state;
	parse_bad("vm=a", "vm 'a': no kernel= given", NULL);
	parse_bad("vm=a,mem=32M", "no kernel", "'a'");
	parse_bad("vm=a,kernel=", "bad kernel ''", "vm 'a'");
	char line[200];
	int n = snprintf(line, sizeof(line), "vm=a,kernel=");
	memset(line + n, 'k', FILE_NAME_MAX);
	line[n + FILE_NAME_MAX] = '\0';
	parse_ok(line);
	assert_int_equal(strlen(cfg.vms[0].kernel), FILE_NAME_MAX);
	strcpy(line + n + FILE_NAME_MAX, "k");
	parse_bad(line, "bad kernel 'kkkk", "vm 'a'");
}

static void vm_pci_devices(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	assert_int_equal(cfg.vms[0].pci_devs, 0);
	parse_ok("vm=a,kernel=k,pci=testdev vm=b,kernel=k");
	assert_int_equal(cfg.vms[0].pci_devs, VM_PCI_TESTDEV);
	assert_int_equal(cfg.vms[1].pci_devs, 0);
	parse_ok("vm=a,kernel=k,pci=testdev,pci=none");
	assert_int_equal(cfg.vms[0].pci_devs, 0);
	parse_bad("vm=a,kernel=k,pci=virtio", "vm 'a': bad pci 'virtio' (testdev, none or a host function BB:DD.F", NULL);
	parse_bad("vm=a,kernel=k,pci=", "bad pci ''", NULL);
	parse_bad("pci=testdev vm=a,kernel=k", "unknown option 'pci'", NULL);
	/* host functions given to the VM (hv/pci/passthru.c), joined with '+' */
	parse_ok("vm=a,kernel=k,pci=00:02.0");
	assert_int_equal(cfg.vms[0].nr_assign, 1);
	assert_int_equal(cfg.vms[0].assign_bdf[0], 0x0010);
	assert_int_equal(cfg.vms[0].pci_devs, 0);
	parse_ok("vm=a,kernel=k,pci=testdev+0a:1f.7+00:03.0");
	assert_int_equal(cfg.vms[0].pci_devs, VM_PCI_TESTDEV);
	assert_int_equal(cfg.vms[0].nr_assign, 2);
	assert_int_equal(cfg.vms[0].assign_bdf[0], 0x0aff);
	assert_int_equal(cfg.vms[0].assign_bdf[1], 0x0018);
	parse_bad("vm=a,kernel=k,pci=00:20.0", "bad pci '00:20.0'", NULL);      /* device 32 */
	parse_bad("vm=a,kernel=k,pci=00:02.8", "bad pci '00:02.8'", NULL);      /* function 8 */
	parse_bad("vm=a,kernel=k,pci=0:02.0", "bad pci '0:02.0'", NULL);
	parse_bad("vm=a,kernel=k,pci=00:02.0+", "bad pci ''", NULL);
	parse_bad("vm=a,kernel=k,pci=00:02.0+00:02.0", "pci 00:02.0 given twice", "vm 'a'");
	parse_bad("vm=a,kernel=k,pci=00:02.0+00:03.0+00:04.0", "more than 2 host PCI functions", NULL);
	parse_ok("vm=a,kernel=k vtd_pi=off vtd_urgent=on");
	assert_int_equal(cfg.vtd_pi, SW_OFF);
	assert_true(cfg.vtd_urgent);
	parse_ok("vm=a,kernel=k vtd_pi=on");
	assert_int_equal(cfg.vtd_pi, SW_ON);
	parse_bad("vm=a,kernel=k vtd_pi=maybe", "malformed value 'maybe' for option 'vtd_pi'", NULL);
}

static void vm_disk(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	assert_string_equal(cfg.vms[0].disk, "");
	assert_int_equal(cfg.vms[0].disk_size, 0);
	parse_ok("vm=a,kernel=k,disk=img.raw,disk_ro=on vm=b,kernel=k,disk=size:64M");
	assert_string_equal(cfg.vms[0].disk, "img.raw");
	assert_true(cfg.vms[0].disk_ro);
	assert_int_equal(cfg.vms[1].disk_size, MiB(64));
	assert_string_equal(cfg.vms[1].disk, "");
	assert_false(cfg.vms[1].disk_ro);
	parse_ok("vm=a,kernel=k,disk=img.raw,disk=size:4096");   /* the last one counts */
	assert_string_equal(cfg.vms[0].disk, "");
	assert_int_equal(cfg.vms[0].disk_size, 4096);
	parse_bad("vm=a,kernel=k,disk=size:100", "vm 'a': bad disk 'size:100' (size:N, a multiple of 512 up to 1G)", NULL);
	parse_bad("vm=a,kernel=k,disk=size:2G", "bad disk 'size:2G'", NULL);
	parse_bad("vm=a,kernel=k,disk=size:0", "bad disk 'size:0'", NULL);
	parse_bad("vm=a,kernel=k,disk=", "vm 'a': bad disk '' (FILE or size:N)", NULL);
	parse_bad("vm=a,kernel=k,disk_ro=yes", "vm 'a': bad disk_ro 'yes' (on or off)", NULL);
}

/* iocpu=, iopoll_us=, msi_delivery= and the vm= key disk_latency=. */
static void io_options(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	assert_int_equal(cfg.iocpu, -1);
	assert_int_equal(cfg.msi_delivery, MSI_DELIVERY_DIRECT);
	assert_int_equal(cfg.vms[0].disk_latency, 0);
	parse_ok("iocpu=2 msi_delivery=deferred vm=a,kernel=k,disk=size:1M,disk_latency=0x4e20");
	assert_int_equal(cfg.iocpu, 2);
	assert_int_equal(cfg.msi_delivery, MSI_DELIVERY_DEFERRED);
	assert_int_equal(cfg.vms[0].disk_latency, 20000);
	parse_ok("iocpu=3 iocpu=off msi_delivery=deferred msi_delivery=direct vm=a,kernel=k");
	assert_int_equal(cfg.iocpu, -1);
	assert_int_equal(cfg.msi_delivery, MSI_DELIVERY_DIRECT);
	parse_bad("iocpu=64 vm=a,kernel=k", "malformed value '64' for option 'iocpu' (a CPU index 0-63, or off)", NULL);
	parse_bad("iocpu vm=a,kernel=k", "malformed value '' for option 'iocpu'", NULL);
	parse_bad("msi_delivery=later vm=a,kernel=k", "malformed value 'later' for option 'msi_delivery' (direct or deferred)",
		  NULL);
	parse_bad("vm=a,kernel=k,disk_latency=1000000001", "vm 'a': bad disk_latency '1000000001' (TSC ticks, 0 to 1000000000)",
		  NULL);
	parse_bad("vm=a,kernel=k,disk_latency=5us", "vm 'a': bad disk_latency '5us'", NULL);
	/* iopoll_us=: 50 by default, 0 = poll for ever. */
	parse_ok("vm=a,kernel=k");
	assert_int_equal(cfg.iopoll_us, 50);
	parse_ok("iopoll_us=0 vm=a,kernel=k");
	assert_int_equal(cfg.iopoll_us, 0);
	parse_ok("iopoll_us=1000000 vm=a,kernel=k");
	assert_int_equal(cfg.iopoll_us, 1000000);
	parse_bad("iopoll_us=1000001 vm=a,kernel=k", "malformed value '1000001' for option 'iopoll_us' (microseconds", NULL);
	parse_bad("iopoll_us=fast vm=a,kernel=k", "malformed value 'fast' for option 'iopoll_us'", NULL);
}

static void vm_bad_names(void **state)
{
	(void)state;
	parse_ok("vm=abcdefghijklmno,kernel=k");   /* 15 characters */
	assert_string_equal(cfg.vms[0].name, "abcdefghijklmno");
	parse_bad("vm=abcdefghijklmnop,kernel=k", "bad VM name 'abcdefghijklmnop'", NULL);
	parse_bad("vm=a.b,kernel=k", "bad VM name 'a.b'", NULL);
	parse_bad("vm=a/b,kernel=k", "bad VM name 'a/b'", NULL);
	parse_bad("\"vm=a b,kernel=k\"", "bad VM name 'a b'", NULL);
	parse_bad("vm=,kernel=k", "bad VM name ''", NULL);
	parse_bad("vm=a=b,kernel=k", "bad VM name 'a=b'", NULL);
	parse_bad("vm=", "option 'vm' needs a value", NULL);
	parse_bad("vm", "option 'vm' needs a value", NULL);
	/* the message also shows the whole option */
	parse_bad("vm=a.b,kernel=k", "vm=a.b,kernel=k", NULL);
}

static void vm_bad_items(void **state)
{
	(void)state;
	parse_bad("vm=a,kernel=k,foo", "item 'foo' is not KEY=VALUE", "vm 'a'");
	parse_bad("vm=a,foo,kernel=k", "item 'foo' is not KEY=VALUE", NULL);
	parse_bad("vm=a,kernel=k,", "is not KEY=VALUE", NULL);
	parse_bad("vm=a,,kernel=k", "item '' is not KEY=VALUE", NULL);
	parse_bad("vm=a,kernel=k,color=red", "unknown key 'color'", "vm 'a'");
	parse_bad("vm=a,kernel=k,Mem=1G", "unknown key 'Mem'", NULL);
	parse_bad("vm=a,kernel=k,=1", "unknown key ''", NULL);
	parse_bad("vm=a,kernel=k,mod=", "bad mod ''", NULL);
	parse_ok("vm=a,kernel=k,mod=1,mod=2,mod=3,mod=4");
	assert_int_equal(cfg.vms[0].nr_mods, MAX_VM_MODS);
	assert_string_equal(cfg.vms[0].mods[3], "4");
	parse_bad("vm=a,kernel=k,mod=1,mod=2,mod=3,mod=4,mod=5", "too many modules", "vm 'a'");
	/* initrd= (a Linux kernel's initrd): one file name */
	parse_ok("vm=a,kernel=vmlinuz,initrd=initrd.gz,append=console=ttyS0");
	assert_string_equal(cfg.vms[0].initrd, "initrd.gz");
	assert_string_equal(cfg.vms[0].append, "console=ttyS0");
	parse_ok("vm=a,kernel=k");
	assert_string_equal(cfg.vms[0].initrd, "");
	parse_bad("vm=a,kernel=k,initrd=", "bad initrd ''", "vm 'a'");
	parse_bad("vm=a,kernel=k,initrd=0123456789012345678901234567890123456789012345678901234567890123",
		  "bad initrd", NULL);
	/* a failed VM is not counted */
	parse_bad("vm=a,kernel=k vm=b,kernel=k,bad=1", "unknown key 'bad'", NULL);
	assert_int_equal(cfg.nr_vms, 1);
}

static void vm_cpus(void **state)
{
	(void)state;
	static const struct { const char *list; u64 mask; } ok[] = {
		{ "0", 0x1 }, { "1", 0x2 }, { "0-3", 0xf }, { "0+2-3", 0xd }, { "3+0", 0x9 },
		{ "2-2", 0x4 }, { "63", 1ull << 63 }, { "0-63", ~0ull }, { "0x10", 1ull << 16 },
		{ "1+1", 0x2 }, { "0-1+1-2", 0x7 },
	};
	char line[100];
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(line, sizeof(line), "vm=a,kernel=k,cpus=%s", ok[i].list);
		parse_ok(line);
		if (cfg.vms[0].cpu_mask != ok[i].mask)
			fail_msg("cpus=%s gave 0x%llx", ok[i].list, (unsigned long long)cfg.vms[0].cpu_mask);
	}
	static const char *const bad[] = {
		"3-1", "64", "0-64", "", "+", "0+", "+0", "0++1", "-", "-1", "1-", "0-1-2", "a",
		"1a", "0 1", "99999999999999999999999",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(line, sizeof(line), "\"vm=a,kernel=k,cpus=%s\"", bad[i]);
		char want[64];
		snprintf(want, sizeof(want), "bad cpus '%s'", bad[i]);
		parse_bad(line, want, "vm 'a'");
	}
}

static void vm_mem(void **state)
{
	(void)state;
	static const struct { const char *s; u64 v; } ok[] = {
		{ "16M", MiB(16) }, { "1G", GiB(1) }, { "2M", MiB(2) }, { "64G", GiB(64) },
		{ "3072K", MiB(3) }, { "0x2000000", MiB(32) }, { "4194304", MiB(4) }, { "1g", GiB(1) },
		{ "0x10M", MiB(16) },
	};
	char line[100];
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(line, sizeof(line), "vm=a,kernel=k,mem=%s", ok[i].s);
		parse_ok(line);
		assert_int_equal(cfg.vms[0].mem, ok[i].v);
	}
	static const char *const bad[] = {
		"1X", "1M", "0", "", "65G", "2049K", "1.5G", "M", "16MB", "-16M", "0x", "2097153",
		"99999999999999999999G", "17179869184G",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(line, sizeof(line), "vm=a,kernel=k,mem=%s", bad[i]);
		char want[64];
		snprintf(want, sizeof(want), "bad mem '%s'", bad[i]);
		parse_bad(line, want, "vm 'a'");
	}
}

static void vm_hole(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	assert_int_equal(cfg.vms[0].hole, 0);   /* 0: GUEST_HOLE_DEFAULT */
	static const struct { const char *s; u64 v; } ok[] = {
		{ "16M", MiB(16) }, { "32M", MiB(32) }, { "2G", GiB(2) }, { "3G", GiB(3) },
		{ "0xdfe00000", 0xdfe00000ull }, { "18M", MiB(18) }, { "1048576K", GiB(1) },
	};
	char line[100];
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(line, sizeof(line), "vm=a,kernel=k,mem=64M,hole=%s,vcpus=2", ok[i].s);
		parse_ok(line);
		assert_int_equal(cfg.vms[0].hole, ok[i].v);
		assert_int_equal(cfg.vms[0].mem, MiB(64));
		assert_int_equal(cfg.vms[0].vcpus, 2);
	}
	/* below GUEST_HOLE_MIN, not 2 MiB aligned, at or above the ECAM, malformed */
	static const char *const bad[] = {
		"0", "14M", "15M", "17M", "33M", "0xdff00000", "0xe0000000", "3584M", "4G", "64G", "",
		"1X", "-32M", "32MB", "99999999999999999999G",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(line, sizeof(line), "vm=hv-b,kernel=k,hole=%s", bad[i]);
		char want[64];
		snprintf(want, sizeof(want), "bad hole '%s'", bad[i]);
		parse_bad(line, want, "vm 'hv-b'");
	}
	/* per VM */
	parse_ok("vm=a,kernel=k,hole=32M vm=b,kernel=k");
	assert_int_equal(cfg.vms[0].hole, MiB(32));
	assert_int_equal(cfg.vms[1].hole, 0);
	/* not a global option */
	parse_bad("hole=32M vm=a,kernel=k", "unknown option 'hole'", NULL);
}

static void vm_vcpus(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k,vcpus=16");
	assert_int_equal(cfg.vms[0].vcpus, 16);
	parse_ok("vm=a,kernel=k,vcpus=0x2");
	assert_int_equal(cfg.vms[0].vcpus, 2);
	parse_bad("vm=a,kernel=k,vcpus=0", "bad vcpus '0'", "vm 'a'");
	parse_bad("vm=a,kernel=k,vcpus=17", "bad vcpus '17'", NULL);
	parse_bad("vm=a,kernel=k,vcpus=", "bad vcpus ''", NULL);
	parse_bad("vm=a,kernel=k,vcpus=1K", "bad vcpus '1K'", NULL);   /* no suffix for counts */
	parse_bad("vm=a,kernel=k,vcpus=4294967297", "bad vcpus", NULL);
}

/* ---- interrupt-virtualisation switches (docs/INTERFACES.md) ---- */

static void expect_sw(const struct irq_switches *sw, u8 apicv, u8 ptimer, u8 fastpath, u8 elide)
{
	assert_int_equal(sw->apicv, apicv);
	assert_int_equal(sw->ptimer, ptimer);
	assert_int_equal(sw->fastpath, fastpath);
	assert_int_equal(sw->elide, elide);
}

static void switches_default(void **state)
{
	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	parse_ok("");
	expect_sw(&cfg.sw, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT);
	memset(&cfg, 0xa5, sizeof(cfg));
	parse_ok("vm=a,kernel=k");
	expect_sw(&cfg.sw, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT);
	expect_sw(&cfg.vms[0].sw, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT);
}

static void switches_global(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		u8 apicv, ptimer, fastpath, elide;
	} t[] = {
		{ "apicv=on", SW_ON, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT },
		{ "apicv=off", SW_OFF, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT },
		{ "apicv=auto", SW_AUTO, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT },
		{ "timer=preempt", SW_DEFAULT, SW_ON, SW_DEFAULT, SW_DEFAULT },
		{ "timer=soft", SW_DEFAULT, SW_OFF, SW_DEFAULT, SW_DEFAULT },
		{ "timer=auto", SW_DEFAULT, SW_AUTO, SW_DEFAULT, SW_DEFAULT },
		{ "fastpath=on", SW_DEFAULT, SW_DEFAULT, SW_ON, SW_DEFAULT },
		{ "fastpath=off", SW_DEFAULT, SW_DEFAULT, SW_OFF, SW_DEFAULT },
		{ "fastpath=auto", SW_DEFAULT, SW_DEFAULT, SW_AUTO, SW_DEFAULT },
		{ "elide=on", SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_ON },
		{ "elide=off", SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_OFF },
		{ "elide=auto", SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_AUTO },
		{ "apicv=off timer=soft fastpath=off elide=off", SW_OFF, SW_OFF, SW_OFF, SW_OFF },
		{ "elide=on fastpath=on timer=preempt apicv=on", SW_ON, SW_ON, SW_ON, SW_ON },
		/* the last one wins, auto included */
		{ "apicv=off apicv=on", SW_ON, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT },
		{ "timer=soft timer=auto", SW_DEFAULT, SW_AUTO, SW_DEFAULT, SW_DEFAULT },
		{ "fastpath=on e9 fastpath=off", SW_DEFAULT, SW_DEFAULT, SW_OFF, SW_DEFAULT },
		/* GRUB quoting applies as to any option */
		{ "\"elide=off\"", SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_OFF },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		parse_ok(t[i].line);
		if (cfg.sw.apicv != t[i].apicv || cfg.sw.ptimer != t[i].ptimer ||
		    cfg.sw.fastpath != t[i].fastpath || cfg.sw.elide != t[i].elide)
			fail_msg("'%s': apicv=%u timer=%u fastpath=%u elide=%u, expected %u %u %u %u", t[i].line,
				 cfg.sw.apicv, cfg.sw.ptimer, cfg.sw.fastpath, cfg.sw.elide, t[i].apicv,
				 t[i].ptimer, t[i].fastpath, t[i].elide);
	}
	/* the switches do not disturb the other options */
	parse_ok("apicv=off serial=0x2f8 timer=soft e9");
	assert_int_equal(cfg.serial_port, 0x2f8);
	assert_true(cfg.e9);
	assert_int_equal(cfg.nr_vms, 0);
}

static void switches_global_malformed(void **state)
{
	(void)state;
	/* the message names the option, the value and the accepted values */
	parse_bad("apicv=maybe", "malformed value 'maybe' for option 'apicv'", "on, off or auto");
	parse_bad("apicv=ON", "'ON'", "apicv");
	parse_bad("apicv=1", "'1'", "apicv");          /* not e9's on/1/yes vocabulary */
	parse_bad("apicv=preempt", "'preempt'", "on, off or auto");
	parse_bad("apicv=", "option 'apicv'", "on, off or auto");
	parse_bad("apicv", "option 'apicv'", "on, off or auto");
	parse_bad("apicv=o", "'o'", "apicv");
	parse_bad("apicv=offf", "'offf'", "apicv");
	parse_bad("apicv=auto,", "'auto,'", "apicv");
	parse_bad("timer=on", "malformed value 'on' for option 'timer'", "preempt, soft or auto");
	parse_bad("timer=off", "'off'", "preempt, soft or auto");
	parse_bad("timer=preemption", "'preemption'", "timer");
	parse_bad("timer", "option 'timer'", "preempt, soft or auto");
	parse_bad("fastpath=yes", "malformed value 'yes' for option 'fastpath'", "on, off or auto");
	parse_bad("fastpath=soft", "'soft'", "on, off or auto");
	parse_bad("elide=no", "malformed value 'no' for option 'elide'", "on, off or auto");
	parse_bad("elide", "option 'elide'", "on, off or auto");
	/* the names are exact */
	parse_bad("APICV=on", "unknown option 'APICV'", NULL);
	parse_bad("apic=on", "unknown option 'apic'", NULL);
	parse_bad("apicv2=on", "unknown option 'apicv2'", NULL);
	parse_bad("timers=soft", "unknown option 'timers'", NULL);
	parse_bad("ptimer=on", "unknown option 'ptimer'", NULL);
	parse_bad("elide_ipi=on", "unknown option 'elide_ipi'", NULL);
	/* parsing stops at the bad one */
	parse_bad("apicv=bad vm=a,kernel=k", "apicv", NULL);
	assert_int_equal(cfg.nr_vms, 0);
}

static void switches_vm_keys(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k,apicv=off");
	expect_sw(&cfg.vms[0].sw, SW_OFF, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT);
	expect_sw(&cfg.sw, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT);   /* the global stays */
	parse_ok("vm=a,kernel=k,apicv=on,timer=soft,fastpath=off,elide=on");
	expect_sw(&cfg.vms[0].sw, SW_ON, SW_OFF, SW_OFF, SW_ON);
	parse_ok("vm=a,timer=preempt,kernel=k,elide=off,mem=32M");
	expect_sw(&cfg.vms[0].sw, SW_DEFAULT, SW_ON, SW_DEFAULT, SW_OFF);
	assert_int_equal(cfg.vms[0].mem, MiB(32));
	assert_string_equal(cfg.vms[0].kernel, "k");
	parse_ok("vm=a,kernel=k,fastpath=on,fastpath=off");   /* the last wins */
	expect_sw(&cfg.vms[0].sw, SW_DEFAULT, SW_DEFAULT, SW_OFF, SW_DEFAULT);
	parse_ok("vm=a,kernel=k,apicv=auto,timer=auto,fastpath=auto,elide=auto");
	expect_sw(&cfg.vms[0].sw, SW_AUTO, SW_AUTO, SW_AUTO, SW_AUTO);
	/* after append= they are part of the guest's command line */
	parse_ok("vm=a,kernel=k,append=apicv=off,elide=off");
	expect_sw(&cfg.vms[0].sw, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT);
	assert_string_equal(cfg.vms[0].append, "apicv=off,elide=off");
	/* each VM has its own */
	parse_ok("vm=a,kernel=k,apicv=off vm=b,kernel=k,elide=off vm=c,kernel=k");
	expect_sw(&cfg.vms[0].sw, SW_OFF, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT);
	expect_sw(&cfg.vms[1].sw, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_OFF);
	expect_sw(&cfg.vms[2].sw, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT, SW_DEFAULT);
}

static void switches_vm_keys_malformed(void **state)
{
	(void)state;
	/* the message names the VM, the key, the value and the accepted values */
	parse_bad("vm=a,kernel=k,apicv=maybe", "vm 'a': bad apicv 'maybe'", "on, off or auto");
	parse_bad("vm=a,kernel=k,timer=on", "vm 'a': bad timer 'on'", "preempt, soft or auto");
	parse_bad("vm=a,kernel=k,fastpath=1", "vm 'a': bad fastpath '1'", "on, off or auto");
	parse_bad("vm=a,kernel=k,elide=", "vm 'a': bad elide ''", "on, off or auto");
	parse_bad("vm=a,apicv=of,kernel=k", "bad apicv 'of'", "vm 'a'");
	parse_bad("vm=a,kernel=k,timer=soft,mem=1M", "bad mem", NULL);   /* later keys still checked */
	parse_bad("vm=a,kernel=k,apicv", "item 'apicv' is not KEY=VALUE", "vm 'a'");
	parse_bad("vm=a,kernel=k,Apicv=on", "unknown key 'Apicv'", "vm 'a'");
	parse_bad("vm=a,kernel=k,timers=soft", "unknown key 'timers'", NULL);
	parse_bad("vm=a,kernel=k,ptimer=on", "unknown key 'ptimer'", NULL);
	/* a VM refused for a bad switch is not counted */
	parse_bad("vm=a,kernel=k vm=b,kernel=k,elide=x", "vm 'b': bad elide 'x'", NULL);
	assert_int_equal(cfg.nr_vms, 1);
}

/* "a VM key overrides the global option, wherever the global option stands on the
 * line": a VM switch not given takes the global value, before or after the vm=. */
static void switches_vm_inherits_global(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k apicv=off");
	assert_int_equal(cfg.vms[0].sw.apicv, SW_OFF);
	parse_ok("apicv=off vm=a,kernel=k");
	assert_int_equal(cfg.vms[0].sw.apicv, SW_OFF);
	/* a VM's own value is kept, in either order */
	parse_ok("vm=a,kernel=k,apicv=on apicv=off");
	assert_int_equal(cfg.vms[0].sw.apicv, SW_ON);
	assert_int_equal(cfg.sw.apicv, SW_OFF);
	parse_ok("apicv=off vm=a,kernel=k,apicv=on");
	assert_int_equal(cfg.vms[0].sw.apicv, SW_ON);
	parse_ok("apicv=on vm=a,kernel=k,apicv=off");
	assert_int_equal(cfg.vms[0].sw.apicv, SW_OFF);

	/* each switch on its own, and the global value given last counts */
	parse_ok("vm=a,kernel=k,elide=off fastpath=off vm=b,kernel=k,fastpath=on timer=soft "
		 "timer=preempt elide=on");
	expect_sw(&cfg.sw, SW_DEFAULT, SW_ON, SW_OFF, SW_ON);
	expect_sw(&cfg.vms[0].sw, SW_DEFAULT, SW_ON, SW_OFF, SW_OFF);
	expect_sw(&cfg.vms[1].sw, SW_DEFAULT, SW_ON, SW_ON, SW_ON);

	parse_ok("timer=soft vm=a,kernel=k apicv=off vm=b,kernel=k,timer=preempt,apicv=on "
		 "elide=off vm=c,kernel=k fastpath=off");
	expect_sw(&cfg.vms[0].sw, SW_OFF, SW_OFF, SW_OFF, SW_OFF);
	expect_sw(&cfg.vms[1].sw, SW_ON, SW_ON, SW_OFF, SW_OFF);
	expect_sw(&cfg.vms[2].sw, SW_OFF, SW_OFF, SW_OFF, SW_OFF);

	/* a global auto given last leaves the VMs at their own or auto */
	parse_ok("apicv=off vm=a,kernel=k vm=b,kernel=k,apicv=off apicv=auto");
	assert_int_equal(cfg.vms[0].sw.apicv, SW_AUTO);
	assert_int_equal(cfg.vms[1].sw.apicv, SW_OFF);
}

/* An explicit `auto` in a vm= definition is a VM key like `on` and `off`: it must
 * override the global option (docs/INTERFACES.md), so that one VM can keep the
 * automatic choice while the others are forced. */
static void switches_vm_auto_overrides_global(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k,apicv=auto apicv=off");
	assert_int_equal(cfg.sw.apicv, SW_OFF);
	assert_int_equal(cfg.vms[0].sw.apicv, SW_AUTO);
	parse_ok("timer=soft vm=a,kernel=k,timer=auto vm=b,kernel=k");
	assert_int_equal(cfg.vms[0].sw.ptimer, SW_AUTO);
	assert_int_equal(cfg.vms[1].sw.ptimer, SW_OFF);
}

/* test_hooks: off unless asked for; malformed values name the option. */
static void test_hooks_option(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	assert_false(cfg.test_hooks);
	parse_ok("test_hooks vm=a,kernel=k");
	assert_true(cfg.test_hooks);
	parse_ok("test_hooks=off vm=a,kernel=k");
	assert_false(cfg.test_hooks);
	parse_bad("test_hooks=maybe", "malformed value 'maybe' for option 'test_hooks'", "on or off");
}

/* iommu_selftest: off unless asked for. */
static void iommu_selftest_option(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	assert_false(cfg.iommu_selftest);
	parse_ok("iommu_selftest vm=a,kernel=k");
	assert_true(cfg.iommu_selftest);
	parse_ok("iommu_selftest=off vm=a,kernel=k");
	assert_false(cfg.iommu_selftest);
	parse_bad("iommu_selftest=2", "malformed value '2' for option 'iommu_selftest'", "on or off");
}

/* Scheduler options: defaults, every named value, and refusals naming the option. */
static void sched_options(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	assert_int_equal(cfg.sched.policy, SCHED_FAIR);
	assert_int_equal(cfg.sched.yield, YIELD_READY);
	assert_int_equal(cfg.sched.block, BLOCK_WAKEUP);
	assert_int_equal(cfg.sched.ple_gap, 128);
	assert_int_equal(cfg.sched.ple_window, 4096);
	assert_int_equal(cfg.sched.slice_us, 1000);
	assert_false(cfg.sched.spread);
	parse_ok("spread vm=a,kernel=k");
	assert_true(cfg.sched.spread);
	parse_ok("spread=off vm=a,kernel=k");
	assert_false(cfg.sched.spread);
	parse_bad("spread=2", "malformed value '2' for option 'spread'", "on or off");
	parse_ok("sched=rr yield=preempted block=fixed ple_gap=64 ple_window=8192 slice_us=250 vm=a,kernel=k");
	assert_int_equal(cfg.sched.policy, SCHED_RR);
	assert_int_equal(cfg.sched.yield, YIELD_PREEMPTED);
	assert_int_equal(cfg.sched.block, BLOCK_FIXED);
	assert_int_equal(cfg.sched.ple_gap, 64);
	assert_int_equal(cfg.sched.ple_window, 8192);
	assert_int_equal(cfg.sched.slice_us, 250);
	parse_ok("sched=fair yield=plain vm=a,kernel=k");
	assert_int_equal(cfg.sched.policy, SCHED_FAIR);
	assert_int_equal(cfg.sched.yield, YIELD_PLAIN);
	parse_ok("yield=none vm=a,kernel=k");
	assert_int_equal(cfg.sched.yield, YIELD_NONE);
	parse_bad("sched=cfs", "malformed value 'cfs' for option 'sched'", "rr or fair");
	parse_bad("sched", "malformed value '' for option 'sched'", NULL);
	parse_bad("yield=always", "malformed value 'always' for option 'yield'", "ready, preempted, plain or none");
	parse_bad("block=poll", "malformed value 'poll' for option 'block'", "wakeup or fixed");
	parse_bad("slice_us=0", "option 'slice_us'", "1 to 1000000");
	parse_bad("slice_us=1000001", "option 'slice_us'", NULL);
	parse_bad("ple_gap=0x100000000", "option 'ple_gap'", NULL);
	parse_bad("ple_window=", "option 'ple_window'", NULL);
}

/* Isolation options: the per-VM user_hc key (off unless given) and idle_timeout=MS. */
static void isolation_options(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k vm=b,kernel=k,user_hc=on");
	assert_false(cfg.vms[0].user_hc);
	assert_true(cfg.vms[1].user_hc);
	assert_int_equal(cfg.sched.idle_timeout_ms, 0);
	parse_ok("idle_timeout=250 vm=a,kernel=k,user_hc=off");
	assert_false(cfg.vms[0].user_hc);
	assert_int_equal(cfg.sched.idle_timeout_ms, 250);
	parse_bad("vm=a,kernel=k,user_hc=yes", "vm 'a': bad user_hc 'yes'", "on or off");
	parse_bad("idle_timeout=", "option 'idle_timeout'", "milliseconds");
	parse_bad("idle_timeout=3600001", "option 'idle_timeout'", NULL);
}

/* trace= (event names, hv/trace/ring.c) and trace_buf= (records per CPU). */
static void trace_options(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k");
	assert_int_equal(cfg.trace_mask, 0);
	assert_int_equal(cfg.trace_records, 65536);
	parse_ok("trace=exit,entry+post trace_buf=1024 vm=a,kernel=k");
	assert_int_equal(cfg.trace_mask, TRACE_BIT(TEV_EXIT) | TRACE_BIT(TEV_ENTRY) | TRACE_BIT(TEV_POST));
	assert_int_equal(cfg.trace_records, 1024);
	parse_ok("trace=all vm=a,kernel=k");
	assert_int_equal(cfg.trace_mask, TRACE_ALL);
	parse_bad("trace=exit,bogus", "malformed value 'exit,bogus' for option 'trace' (unknown event 'bogus'", NULL);
	parse_bad("trace=", "option 'trace'", NULL);
	parse_bad("trace_buf=8", "option 'trace_buf'", "16 to 16777216");
	parse_bad("trace_buf=16777217", "option 'trace_buf'", NULL);
}

/* vm=...,reboot=: stop (the default) or restart; reboot_limit=N (0-1000, default 3). */
static void reboot_key(void **state)
{
	(void)state;
	parse_ok("vm=a,kernel=k vm=b,kernel=k,reboot=stop");
	assert_int_equal(cfg.vms[0].reboot, REBOOT_STOP);
	assert_int_equal(cfg.vms[1].reboot, REBOOT_STOP);
	assert_int_equal(cfg.vms[0].reboot_limit, REBOOT_LIMIT_DEFAULT);
	parse_ok("vm=a,kernel=k,reboot=restart,reboot_limit=0 vm=b,kernel=k,reboot_limit=1000");
	assert_int_equal(cfg.vms[0].reboot, REBOOT_RESTART);
	assert_int_equal(cfg.vms[0].reboot_limit, 0);
	assert_int_equal(cfg.vms[1].reboot, REBOOT_STOP);
	assert_int_equal(cfg.vms[1].reboot_limit, 1000);
	parse_bad("vm=a,kernel=k,reboot_limit=1001", "vm 'a': bad reboot_limit '1001' (0-1000)", NULL);
	parse_bad("vm=a,kernel=k,reboot_limit=x", "vm 'a': bad reboot_limit 'x'", NULL);
	parse_bad("vm=a,kernel=k,reboot=halt", "vm 'a': bad reboot 'halt' (stop or restart)", NULL);
}

/* ---- hv/lib/format.c: parse_u64 ---- */

static bool pu(const char *s, bool suffix, u64 *v)
{
	*v = 0xdeadbeef;
	return parse_u64(s, strlen(s), suffix, v);
}

static void parse_u64_numbers(void **state)
{
	(void)state;
	static const struct { const char *s; bool suffix; u64 v; } ok[] = {
		{ "0", false, 0 }, { "7", false, 7 }, { "0123", false, 123 }, { "0x1f", false, 31 },
		{ "0X1F", false, 31 }, { "0xDeadBeef", false, 0xdeadbeef },
		{ "18446744073709551615", false, ~0ull }, { "0xffffffffffffffff", false, ~0ull },
		{ "0x0000000000000000000001", false, 1 },
		{ "1k", true, 1024 }, { "1K", true, 1024 }, { "16M", true, MiB(16) },
		{ "16m", true, MiB(16) }, { "1G", true, GiB(1) }, { "0x10M", true, MiB(16) },
		{ "17179869183G", true, 17179869183ull << 30 }, { "5", true, 5 }, { "0", true, 0 },
	};
	u64 v;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		if (!pu(ok[i].s, ok[i].suffix, &v))
			fail_msg("parse_u64(\"%s\") refused", ok[i].s);
		if (v != ok[i].v)
			fail_msg("parse_u64(\"%s\") = 0x%llx", ok[i].s, (unsigned long long)v);
	}
	static const struct { const char *s; bool suffix; } bad[] = {
		{ "", false }, { "0x", false }, { "0x", true }, { "x1", false }, { "1k", false },
		{ "16M", false }, { "18446744073709551616", false }, { "99999999999999999999", false },
		{ "0x10000000000000000", false }, { "17179869184G", true }, { "1T", true },
		{ "1KK", true }, { "K", true }, { " 1", false }, { "1 ", false }, { "-1", false },
		{ "+1", false }, { "1.5M", true }, { "0xg", false }, { "12a", false }, { "0b1", false },
		{ "1M ", true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (pu(bad[i].s, bad[i].suffix, &v))
			fail_msg("parse_u64(\"%s\", suffix=%d) accepted: 0x%llx", bad[i].s, bad[i].suffix,
				 (unsigned long long)v);
		assert_int_equal(v, 0xdeadbeef);   /* *out untouched on failure */
	}
}

static void parse_u64_honours_len(void **state)
{
	(void)state;
	u64 v = 0;
	assert_true(parse_u64("123abc", 3, false, &v));
	assert_int_equal(v, 123);
	assert_true(parse_u64("16M,4", 3, true, &v));
	assert_int_equal(v, MiB(16));
	assert_true(parse_u64("0x1fz", 4, false, &v));
	assert_int_equal(v, 31);
	assert_false(parse_u64("123", 0, false, &v));
	/* "0x" is a prefix only with digits after it within len */
	assert_true(parse_u64("0x5", 1, false, &v));
	assert_int_equal(v, 0);
	assert_false(parse_u64("0x5", 2, false, &v));
}

/* ---- hv/lib/format.c: hv_snprintf ---- */

/* hv_vsnprintf without the compiler's format checking, for formats gcc would refuse */
static int unchecked(char *b, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = hv_vsnprintf(b, n, fmt, ap);
	va_end(ap);
	return r;
}

#define FMT_WITH(fn, expect, ...) do { \
	char _b[128]; \
	memset(_b, 'x', sizeof(_b)); \
	int _n = fn(_b, sizeof(_b), __VA_ARGS__); \
	assert_string_equal(_b, expect); \
	assert_int_equal(_n, (int)strlen(expect)); \
} while (0)
#define FMT_UNCHECKED(expect, ...) FMT_WITH(unchecked, expect, __VA_ARGS__)
#define FMT(expect, ...) do { \
	char _b[128]; \
	memset(_b, 'x', sizeof(_b)); \
	int _n = hv_snprintf(_b, sizeof(_b), __VA_ARGS__); \
	assert_string_equal(_b, expect); \
	assert_int_equal(_n, (int)strlen(expect)); \
} while (0)

static void snprintf_integers(void **state)
{
	(void)state;
	FMT("-42", "%d", -42);
	FMT("42", "%i", 42);
	FMT("0", "%d", 0);
	FMT("-2147483648", "%d", (int)0x80000000);
	FMT("2147483647", "%d", 0x7fffffff);
	FMT("-9223372036854775808", "%lld", (long long)0x8000000000000000ull);
	FMT("-1", "%ld", -1L);
	FMT("4294967295", "%u", 0xffffffffu);
	FMT("18446744073709551615", "%llu", ~0ull);
	FMT("12345", "%zu", (size_t)12345);
	FMT("deadbeef", "%x", 0xdeadbeefu);
	FMT("DEADBEEF", "%X", 0xdeadbeefu);
	FMT("123456789abcdef0", "%llx", 0x123456789abcdef0ull);
	FMT("ffffffff", "%x", -1);   /* %x of an int takes 32 bits */
	FMT("00042", "%05d", 42);
	FMT("-0042", "%05d", -42);
	FMT("   42", "%5d", 42);
	FMT("  -42", "%5d", -42);
	FMT("42   |", "%-5d|", 42);
	FMT("-42  |", "%-5d|", -42);
	FMT_UNCHECKED("42   |", "%-05d|", 42);     /* '-' overrides '0' */
	FMT("123456", "%3d", 123456);   /* width is a minimum */
	FMT("0x00ab", "0x%04x", 0xab);
	FMT("00000000deadbeef", "%016llx", 0xdeadbeefull);
}

static void snprintf_strings_and_others(void **state)
{
	(void)state;
	FMT("   ab", "%5s", "ab");
	FMT("ab   |", "%-5s|", "ab");
	FMT("abcdef", "%3s", "abcdef");
	const char *volatile null = NULL;
	FMT("(null)", "%s", null);
	FMT("x", "%c", 'x');
	FMT("100%", "100%%");
	FMT("0x1234", "%p", (void *)0x1234);
	FMT("0x0", "%p", (void *)0);
	FMT("a=1 b=two c=3", "a=%d b=%s c=%x", 1, "two", 3);
	FMT("", "%s", "");
	/* precision: at most N characters of a string */
	FMT("abc", "%.3s", "abcdef");
	FMT("ab", "%.3s", "ab");
	FMT("", "%.0s", "abc");
	FMT("abcd|", "%.*s|", 4, "abcdefgh");
	FMT("ab", "%.*s", 2, "ab\0cd");
	FMT("   ab|", "%5.2s|", "abcdef");
	FMT("ab   |", "%-5.2s|", "abcdef");
	FMT("'x' 7", "'%.*s' %d", 1, "xyz", 7);   /* the arguments after it stay in step */
	FMT_UNCHECKED("abc", "%.*s", -1, "abc");  /* a negative precision is no precision */
	/* unknown conversions are printed as they are */
	FMT_UNCHECKED("%q", "%q");
	/* a lone % at the end is dropped */
	FMT_UNCHECKED("abc", "abc%");
}

static void snprintf_truncation(void **state)
{
	(void)state;
	char b[16];
	memset(b, 'x', sizeof(b));
	assert_int_equal(hv_snprintf(b, 5, "%s", "hello world"), 11);
	assert_string_equal(b, "hell");
	assert_int_equal(b[5], 'x');   /* nothing written past size */
	memset(b, 'x', sizeof(b));
	assert_int_equal(hv_snprintf(b, 1, "%d", 12345), 5);
	assert_int_equal(b[0], '\0');
	assert_int_equal(b[1], 'x');
	/* size 0: nothing written at all, the length still returned */
	memset(b, 'x', sizeof(b));
	assert_int_equal(hv_snprintf(b, 0, "%s%d", "abc", -1), 5);
	assert_int_equal(b[0], 'x');
	assert_int_equal(hv_snprintf(NULL, 0, "%05d", 1), 5);
	/* exactly fitting */
	memset(b, 'x', sizeof(b));
	assert_int_equal(hv_snprintf(b, 6, "%s", "hello"), 5);
	assert_string_equal(b, "hello");
	memset(b, 'x', sizeof(b));
	assert_int_equal(hv_snprintf(b, 5, "%s", "hello"), 5);
	assert_string_equal(b, "hell");
	/* padding is truncated too */
	memset(b, 'x', sizeof(b));
	assert_int_equal(hv_snprintf(b, 4, "%10d", 7), 10);
	assert_string_equal(b, "   ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(isolation_options),
		cmocka_unit_test(reboot_key),
		cmocka_unit_test(serial),
		cmocka_unit_test(console_option),
		cmocka_unit_test(on_error_option),
		cmocka_unit_test(x2apic_option),
		cmocka_unit_test(e9),
		cmocka_unit_test(poweroff),
		cmocka_unit_test(unknown_options),
		cmocka_unit_test(input),
		cmocka_unit_test(error_buffer_edge_cases),
		cmocka_unit_test(grub_quoting),
		cmocka_unit_test(too_long_tokens),
		cmocka_unit_test(vm_with_all_keys),
		cmocka_unit_test(vm_defaults),
		cmocka_unit_test(vm_hole),
		cmocka_unit_test(vm_append_takes_the_rest),
		cmocka_unit_test(vm_append_missing_kernel),
		cmocka_unit_test(vm_several),
		cmocka_unit_test(vm_too_many),
		cmocka_unit_test(vm_duplicate_names),
		cmocka_unit_test(vm_missing_or_bad_kernel),
		cmocka_unit_test(vm_pci_devices),
		cmocka_unit_test(vm_disk),
		cmocka_unit_test(io_options),
		cmocka_unit_test(vm_bad_names),
		cmocka_unit_test(vm_bad_items),
		cmocka_unit_test(vm_cpus),
		cmocka_unit_test(vm_mem),
		cmocka_unit_test(vm_vcpus),
		cmocka_unit_test(switches_default),
		cmocka_unit_test(switches_global),
		cmocka_unit_test(switches_global_malformed),
		cmocka_unit_test(switches_vm_keys),
		cmocka_unit_test(switches_vm_keys_malformed),
		cmocka_unit_test(switches_vm_inherits_global),
		cmocka_unit_test(switches_vm_auto_overrides_global),
		cmocka_unit_test(test_hooks_option),
		cmocka_unit_test(iommu_selftest_option),
		cmocka_unit_test(sched_options),
		cmocka_unit_test(parse_u64_numbers),
		cmocka_unit_test(parse_u64_honours_len),
		cmocka_unit_test(trace_options),
		cmocka_unit_test(snprintf_integers),
		cmocka_unit_test(snprintf_strings_and_others),
		cmocka_unit_test(snprintf_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
