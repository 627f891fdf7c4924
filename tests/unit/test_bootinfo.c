/* SPDX-License-Identifier: MIT */
/* hv/init/bootinfo.c: multiboot v1 and multiboot2 information, built in fake physical memory. */
#include "tests/unit/support.h"
#include "hv/init/bootinfo.h"

/* Fake physical memory [MEM_PA, MEM_PA + sizeof(mem)) with a bump allocator. */
#define MEM_PA 0x10000u
static u8 mem[0x40000] __aligned(8);
static u32 mem_next;

static struct boot_info bi;
static char err[128];

static int setup(void **state)
{
	(void)state;
	memset(mem, 0xee, sizeof(mem));
	mem_next = MEM_PA;
	fake_mem_reset();
	fake_mem_map(MEM_PA, mem, sizeof(mem));
	memset(&bi, 0x5a, sizeof(bi));   /* bootinfo_parse must clear it */
	memset(err, 0, sizeof(err));
	return 0;
}

static void *at(u32 pa)
{
	assert_true(pa >= MEM_PA && pa < MEM_PA + sizeof(mem));
	return mem + (pa - MEM_PA);
}

/* Copy len bytes into fake memory, 8-byte aligned; returns the physical address. */
static u32 put(const void *data, size_t len)
{
	u32 pa = (mem_next + 7) & ~7u;
	assert_true(pa + len <= MEM_PA + sizeof(mem));
	memcpy(at(pa), data, len);
	mem_next = pa + (u32)len;
	return pa;
}
static u32 put_str(const char *s) { return put(s, strlen(s) + 1); }
static void w32(u32 pa, u32 v) { memcpy(at(pa), &v, 4); }

/* ---- multiboot v1 (Multiboot Specification 0.6.96, "Boot information format") ---- */

enum { MB1_FLAGS = 0, MB1_MEM_LOWER = 4, MB1_MEM_UPPER = 8, MB1_CMDLINE = 16,
       MB1_MODS_COUNT = 20, MB1_MODS_ADDR = 24, MB1_MMAP_LENGTH = 44, MB1_MMAP_ADDR = 48,
       MB1_LOADER_NAME = 64, MB1_INFO_SIZE = 88 };
#define F_MEM BIT(0)
#define F_CMDLINE BIT(2)
#define F_MODS BIT(3)
#define F_MMAP BIT(6)
#define F_LOADER BIT(9)

static u32 mb1_info(u32 flags)
{
	u8 zero[MB1_INFO_SIZE] = { 0 };
	u32 info = put(zero, sizeof(zero));
	w32(info + MB1_FLAGS, flags);
	return info;
}

/* A memory map entry: size (of the rest), base, length, type; extra bytes when size > 20. */
static u32 mb1_mmap_entry(u32 size, u64 base, u64 len, u32 type)
{
	u8 e[64] = { 0 };
	memcpy(e, &size, 4);
	memcpy(e + 4, &base, 8);
	memcpy(e + 12, &len, 8);
	memcpy(e + 20, &type, 4);
	u32 pa = mem_next;   /* entries are packed, not aligned */
	memcpy(at(pa), e, (size_t)MIN(size, 60u) + 4);
	mem_next = pa + MIN(size, 60u) + 4;
	return pa;
}

static void parse_ok(u32 magic, u32 info)
{
	if (!bootinfo_parse(magic, info, &bi, err, sizeof(err)))
		fail_msg("bootinfo_parse failed: %s", err);
}

static void parse_bad(u32 magic, u32 info, const char *msg)
{
	if (bootinfo_parse(magic, info, &bi, err, sizeof(err)))
		fail_msg("bootinfo_parse succeeded, expected '%s'", msg);
	assert_contains(err, msg);
}

static void mb1_full(void **state)
{
	(void)state;
	u32 cmd = put_str("/boot/hv.elf serial=off e9 \"vm=a,kernel=hello.elf\"");
	u32 lname = put_str("GRUB 2.06");
	u32 s0 = put_str("/boot/hello.elf");
	u32 s1 = put_str("/boot/guests/foreign.elf arg1 arg2");
	u32 mods = put((u32[]){ 0x200000, 0x210000, s0, 0, 0x211000, 0x211800, s1, 0 }, 32);
	u32 mmap = mem_next;
	mb1_mmap_entry(20, 0, 0x9fc00, 1);
	mb1_mmap_entry(20, 0xf0000, 0x10000, 2);
	mb1_mmap_entry(20, 0x100000, 0x7ff00000, 1);
	mb1_mmap_entry(20, 0x100000000ull, 0x80000000ull, 1);
	u32 mmap_len = mem_next - mmap;
	u32 info = mb1_info(F_MEM | F_CMDLINE | F_MODS | F_MMAP | F_LOADER);
	w32(info + MB1_MEM_LOWER, 639);
	w32(info + MB1_MEM_UPPER, 0x1ffc00);
	w32(info + MB1_CMDLINE, cmd);
	w32(info + MB1_MODS_COUNT, 2);
	w32(info + MB1_MODS_ADDR, mods);
	w32(info + MB1_MMAP_LENGTH, mmap_len);
	w32(info + MB1_MMAP_ADDR, mmap);
	w32(info + MB1_LOADER_NAME, lname);

	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_int_equal(bi.loader, 1);
	/* the image name is dropped */
	assert_string_equal(bi.cmdline, "serial=off e9 \"vm=a,kernel=hello.elf\"");
	assert_string_equal(bi.loader_name, "GRUB 2.06");
	assert_int_equal(bi.mem_lower_kb, 639);
	assert_int_equal(bi.mem_upper_kb, 0x1ffc00);
	assert_int_equal(bi.nr_mods, 2);
	assert_int_equal(bi.mods[0].start, 0x200000);
	assert_int_equal(bi.mods[0].end, 0x210000);
	assert_string_equal(bi.mods[0].string, "/boot/hello.elf");
	assert_string_equal(bi.mods[0].name, "hello.elf");
	assert_int_equal(bi.mods[1].start, 0x211000);
	assert_int_equal(bi.mods[1].end, 0x211800);
	assert_string_equal(bi.mods[1].string, "/boot/guests/foreign.elf arg1 arg2");
	assert_string_equal(bi.mods[1].name, "foreign.elf");
	assert_int_equal(bi.nr_mmap, 4);
	assert_int_equal(bi.mmap[0].base, 0);
	assert_int_equal(bi.mmap[0].len, 0x9fc00);
	assert_int_equal(bi.mmap[0].type, 1);
	assert_int_equal(bi.mmap[1].type, 2);
	assert_int_equal(bi.mmap[2].base, 0x100000);
	assert_int_equal(bi.mmap[2].len, 0x7ff00000);
	assert_int_equal(bi.mmap[3].base, 0x100000000ull);
	assert_int_equal(bi.mmap[3].len, 0x80000000ull);
	assert_false(bi.has_rsdp);

	assert_ptr_equal(bootinfo_module(&bi, "hello.elf"), &bi.mods[0]);
	assert_ptr_equal(bootinfo_module(&bi, "foreign.elf"), &bi.mods[1]);
	assert_null(bootinfo_module(&bi, "/boot/hello.elf"));
	assert_null(bootinfo_module(&bi, "hello"));
	assert_null(bootinfo_module(&bi, "arg1"));
	assert_null(bootinfo_module(&bi, ""));
}

static void mb1_cmdline_forms(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } v[] = {
		{ "/boot/hv.elf", "" },
		{ "hv.elf ", "" },
		{ "  hv.elf   a  b ", "a  b " },
		{ "", "" },
		{ "hv.elf\tx", "" },   /* only spaces separate the image name */
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		u32 cmd = put_str(v[i].in);
		u32 info = mb1_info(F_CMDLINE);
		w32(info + MB1_CMDLINE, cmd);
		parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
		assert_string_equal(bi.cmdline, v[i].out);
	}
	/* no flags: nothing at all */
	u32 info = mb1_info(0);
	w32(info + MB1_CMDLINE, put_str("x y"));
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "");
	assert_int_equal(bi.nr_mods, 0);
	assert_int_equal(bi.nr_mmap, 0);
	assert_int_equal(bi.mem_upper_kb, 0);
}

static void mb1_long_cmdline_is_bounded(void **state)
{
	(void)state;
	static char s[BOOT_CMDLINE_MAX + 100];
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	s[3] = ' ';
	u32 info = mb1_info(F_CMDLINE | F_LOADER);
	w32(info + MB1_CMDLINE, put_str(s));
	static char name[200];
	memset(name, 'n', sizeof(name) - 1);
	w32(info + MB1_LOADER_NAME, put_str(name));
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	/* the copy is bounded before the image name is dropped */
	assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1 - 4);
	assert_int_equal(strlen(bi.loader_name), sizeof(bi.loader_name) - 1);
}

static void mb1_meminfo_without_map(void **state)
{
	(void)state;
	u32 info = mb1_info(F_MEM);
	w32(info + MB1_MEM_LOWER, 640);
	w32(info + MB1_MEM_UPPER, 15 * 1024);
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_int_equal(bi.nr_mmap, 2);
	assert_int_equal(bi.mmap[0].base, 0);
	assert_int_equal(bi.mmap[0].len, 640 * 1024);
	assert_int_equal(bi.mmap[0].type, MMAP_AVAILABLE);
	assert_int_equal(bi.mmap[1].base, MiB(1));
	assert_int_equal(bi.mmap[1].len, MiB(15));
	assert_int_equal(bi.mmap[1].type, MMAP_AVAILABLE);
}

static void mb1_mmap_entry_sizes(void **state)
{
	(void)state;
	/* an entry larger than 20 bytes: the next one starts size + 4 bytes later */
	u32 mmap = mem_next;
	mb1_mmap_entry(28, 0x1000, 0x2000, 1);
	mb1_mmap_entry(20, 0x5000, 0x6000, 3);
	u32 info = mb1_info(F_MMAP | F_MEM);
	w32(info + MB1_MMAP_ADDR, mmap);
	w32(info + MB1_MMAP_LENGTH, 32 + 24);
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_int_equal(bi.nr_mmap, 2);   /* the map wins over mem_lower/upper */
	assert_int_equal(bi.mmap[1].base, 0x5000);
	assert_int_equal(bi.mmap[1].type, 3);

	/* a length that cuts the last entry: it is not read */
	setup(NULL);
	mmap = mem_next;
	mb1_mmap_entry(20, 0x1000, 0x2000, 1);
	mb1_mmap_entry(20, 0x5000, 0x6000, 1);
	info = mb1_info(F_MMAP);
	w32(info + MB1_MMAP_ADDR, mmap);
	w32(info + MB1_MMAP_LENGTH, 24 + 20);
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_int_equal(bi.nr_mmap, 1);

	/* an entry size below 20 is malformed */
	setup(NULL);
	mmap = mem_next;
	mb1_mmap_entry(16, 0x1000, 0x2000, 1);
	mb1_mmap_entry(20, 0x5000, 0x6000, 1);
	info = mb1_info(F_MMAP);
	w32(info + MB1_MMAP_ADDR, mmap);
	w32(info + MB1_MMAP_LENGTH, 48);
	parse_bad(MULTIBOOT1_BOOTLOADER_MAGIC, info, "malformed multiboot memory map entry");
}

/* A huge entry size must end the walk (size + 4 must not wrap around to 0). */
static void mb1_mmap_huge_entry_size(void **state)
{
	(void)state;
	u32 mmap = mem_next;
	mb1_mmap_entry(20, 0x1000, 0x2000, 1);
	mb1_mmap_entry(20, 0x5000, 0x6000, 1);
	w32(mmap, 0xfffffffcu);
	u32 info = mb1_info(F_MMAP);
	w32(info + MB1_MMAP_ADDR, mmap);
	w32(info + MB1_MMAP_LENGTH, 48);
	bool ok = bootinfo_parse(MULTIBOOT1_BOOTLOADER_MAGIC, info, &bi, err, sizeof(err));
	/* either refused or stopped after the first entry; above all it returned */
	if (ok)
		assert_int_equal(bi.nr_mmap, 1);
}

static void mb1_mmap_is_capped(void **state)
{
	(void)state;
	u32 mmap = mem_next;
	for (u32 i = 0; i < BOOT_MAX_MMAP + 10; i++)
		mb1_mmap_entry(20, (u64)i << 20, 0x1000, 1);
	u32 info = mb1_info(F_MMAP);
	w32(info + MB1_MMAP_ADDR, mmap);
	w32(info + MB1_MMAP_LENGTH, (BOOT_MAX_MMAP + 10) * 24);
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_int_equal(bi.nr_mmap, BOOT_MAX_MMAP);
	assert_int_equal(bi.mmap[BOOT_MAX_MMAP - 1].base, (u64)(BOOT_MAX_MMAP - 1) << 20);
	assert_int_equal(bi.nr_mmap_dropped, 10);
	assert_int_equal(bi.mmap_source, BOOT_MMAP_MB1);
}

static void mb1_bad_modules(void **state)
{
	(void)state;
	/* ends before it starts */
	u32 mods = put((u32[]){ 0x300000, 0x200000, 0, 0 }, 16);
	u32 info = mb1_info(F_MODS);
	w32(info + MB1_MODS_COUNT, 1);
	w32(info + MB1_MODS_ADDR, mods);
	parse_bad(MULTIBOOT1_BOOTLOADER_MAGIC, info, "ends before it starts");

	/* a module without a string, and an empty one */
	setup(NULL);
	u32 spaces = put_str("   ");
	mods = put((u32[]){ 0x300000, 0x300000, 0, 0, 0x301000, 0x302000, spaces, 0 }, 32);
	info = mb1_info(F_MODS);
	w32(info + MB1_MODS_COUNT, 2);
	w32(info + MB1_MODS_ADDR, mods);
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_int_equal(bi.nr_mods, 2);
	assert_string_equal(bi.mods[0].string, "");
	assert_string_equal(bi.mods[0].name, "");
	assert_string_equal(bi.mods[1].name, "");
	assert_int_equal(bi.mods[0].end - bi.mods[0].start, 0);

	/* more than BOOT_MAX_MODS */
	setup(NULL);
	u32 s = put_str("/m");
	u32 arr = mem_next = (mem_next + 7) & ~7u;
	for (u32 i = 0; i < BOOT_MAX_MODS + 1; i++)
		put((u32[]){ 0x400000 + i * 0x1000, 0x400000 + i * 0x1000 + 10, s, 0 }, 16);
	info = mb1_info(F_MODS);
	w32(info + MB1_MODS_COUNT, BOOT_MAX_MODS);
	w32(info + MB1_MODS_ADDR, arr);
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_int_equal(bi.nr_mods, BOOT_MAX_MODS);
	w32(info + MB1_MODS_COUNT, BOOT_MAX_MODS + 1);
	parse_bad(MULTIBOOT1_BOOTLOADER_MAGIC, info, "too many boot modules");

	/* a module string longer than BOOT_MODSTR_MAX is truncated; the name is bounded */
	setup(NULL);
	static char longstr[400];
	memset(longstr, 'z', sizeof(longstr) - 1);
	longstr[0] = '/';
	s = put_str(longstr);
	mods = put((u32[]){ 0x300000, 0x300010, s, 0 }, 16);
	info = mb1_info(F_MODS);
	w32(info + MB1_MODS_COUNT, 1);
	w32(info + MB1_MODS_ADDR, mods);
	parse_ok(MULTIBOOT1_BOOTLOADER_MAGIC, info);
	assert_int_equal(strlen(bi.mods[0].string), BOOT_MODSTR_MAX - 1);
	assert_int_equal(strlen(bi.mods[0].name), sizeof(bi.mods[0].name) - 1);
}

static void mb1_not_addressable(void **state)
{
	(void)state;
	parse_bad(MULTIBOOT1_BOOTLOADER_MAGIC, 0x900000, "not addressable");
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, 0x900000, "not addressable");
}

static void unknown_magic(void **state)
{
	(void)state;
	u32 info = mb1_info(0);
	parse_bad(0x12345678, info, "unknown boot loader magic 0x12345678");
	parse_bad(0, info, "unknown boot loader magic");
	parse_bad(0x1BADB002, info, "magic");   /* the header magic, not the loader's */
}

/* ---- multiboot2 ("Boot information format": 8-byte aligned tags after an 8-byte header) ---- */

static u32 mb2_start, mb2_pos;

static void mb2_begin(void)
{
	mb2_start = (mem_next + 7) & ~7u;
	mb2_pos = mb2_start + 8;
	w32(mb2_start + 4, 0);
}

/* Append a tag: type, size = 8 + len, body; then pad to 8 bytes. */
static u32 mb2_tag_sized(u32 type, u32 size, const void *body, size_t len)
{
	u32 t = mb2_pos;
	w32(t, type);
	w32(t + 4, size);
	if (len)
		memcpy(at(t + 8), body, len);
	mb2_pos = (t + 8 + (u32)len + 7) & ~7u;
	return t;
}
static u32 mb2_tag(u32 type, const void *body, size_t len)
{
	return mb2_tag_sized(type, 8 + (u32)len, body, len);
}

static u32 mb2_end(void)
{
	mb2_tag(0, NULL, 0);
	w32(mb2_start, mb2_pos - mb2_start);
	mem_next = mb2_pos;
	return mb2_start;
}

static void mb2_module(u32 start, u32 end, const char *s)
{
	u8 b[300];
	memcpy(b, &start, 4);
	memcpy(b + 4, &end, 4);
	size_t l = strlen(s) + 1;
	memcpy(b + 8, s, l);
	mb2_tag(3, b, 8 + l);
}

static void mb2_mmap(u32 n, const u64 (*e)[3])
{
	u8 b[16 * 24];
	u32 esize = 24, ver = 0;
	memcpy(b, &esize, 4);
	memcpy(b + 4, &ver, 4);
	for (u32 i = 0; i < n; i++) {
		u32 type = (u32)e[i][2], zero = 0;
		memcpy(b + 8 + i * 24, &e[i][0], 8);
		memcpy(b + 8 + i * 24 + 8, &e[i][1], 8);
		memcpy(b + 8 + i * 24 + 16, &type, 4);
		memcpy(b + 8 + i * 24 + 20, &zero, 4);
	}
	mb2_tag(6, b, 8 + n * 24);
}

/* An RSDP: v1 (20 bytes) or v2 (36 bytes); the OEM id tells copies apart. */
static void rsdp(u8 *r, int rev, const char *oem)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, oem, 6);
	r[15] = (u8)rev;
}

static void mb2_full(void **state)
{
	(void)state;
	u8 r1[36], r2[36];
	rsdp(r1, 0, "OLDOLD");
	rsdp(r2, 2, "NEWNEW");
	mb2_begin();
	mb2_tag(1, "serial=off \"vm=a,kernel=hello.elf\"", 35);
	mb2_tag(2, "GRUB 2.12", 10);
	mb2_tag(4, (u32[]){ 639, 0x3ff00 }, 8);
	mb2_module(0x200000, 0x201234, "hello.elf");
	mb2_tag(21, (u32[]){ 0x100000 }, 4);   /* image load base: ignored */
	mb2_module(0x203000, 0x204000, "/boot/foreign.elf with args");
	mb2_mmap(3, (const u64[][3]){ { 0, 0x9fc00, 1 }, { 0x100000, 0x3ff00000, 1 },
				      { 0xfec00000, 0x1000, 2 } });
	mb2_tag(14, r1, 20);
	mb2_tag(15, r2, 36);
	u32 info = mb2_end();

	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, info);
	assert_int_equal(bi.loader, 2);
	/* multiboot2 command lines hold only the arguments */
	assert_string_equal(bi.cmdline, "serial=off \"vm=a,kernel=hello.elf\"");
	assert_string_equal(bi.loader_name, "GRUB 2.12");
	assert_int_equal(bi.mem_lower_kb, 639);
	assert_int_equal(bi.mem_upper_kb, 0x3ff00);
	assert_int_equal(bi.nr_mods, 2);
	assert_int_equal(bi.mods[0].start, 0x200000);
	assert_int_equal(bi.mods[0].end, 0x201234);
	assert_string_equal(bi.mods[0].string, "hello.elf");
	assert_string_equal(bi.mods[0].name, "hello.elf");
	assert_string_equal(bi.mods[1].string, "/boot/foreign.elf with args");
	assert_string_equal(bi.mods[1].name, "foreign.elf");
	assert_int_equal(bi.nr_mmap, 3);   /* the map, not the basic meminfo */
	assert_int_equal(bi.mmap[1].base, 0x100000);
	assert_int_equal(bi.mmap[1].len, 0x3ff00000);
	assert_int_equal(bi.mmap[2].base, 0xfec00000);
	assert_int_equal(bi.mmap[2].type, 2);
	assert_true(bi.has_rsdp);
	assert_memory_equal(bi.rsdp, r2, 36);

	assert_ptr_equal(bootinfo_module(&bi, "foreign.elf"), &bi.mods[1]);
	assert_null(bootinfo_module(&bi, "with"));
}

static void mb2_rsdp_preference(void **state)
{
	(void)state;
	u8 r1[36], r2[36];
	rsdp(r1, 0, "OLDOLD");
	rsdp(r2, 2, "NEWNEW");

	/* new then old: the new one stays */
	mb2_begin();
	mb2_tag(15, r2, 36);
	mb2_tag(14, r1, 20);
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_true(bi.has_rsdp);
	assert_memory_equal(bi.rsdp, r2, 36);

	/* the old one alone: 20 bytes copied, the rest zero */
	setup(NULL);
	mb2_begin();
	memset(r1 + 20, 0xff, 16);
	mb2_tag(14, r1, 20);
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_true(bi.has_rsdp);
	assert_memory_equal(bi.rsdp, r1, 20);
	for (int i = 20; i < 36; i++)
		assert_int_equal(bi.rsdp[i], 0);

	/* a tag longer than an RSDP: only 36 bytes copied */
	setup(NULL);
	mb2_begin();
	u8 big[64];
	memset(big, 0x77, sizeof(big));
	memcpy(big, r2, 36);
	mb2_tag(15, big, sizeof(big));
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_memory_equal(bi.rsdp, r2, 36);

	/* none */
	setup(NULL);
	mb2_begin();
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_false(bi.has_rsdp);
	assert_int_equal(bi.nr_mods, 0);
	assert_string_equal(bi.cmdline, "");
}

static void mb2_meminfo_without_map(void **state)
{
	(void)state;
	mb2_begin();
	mb2_tag(4, (u32[]){ 639, 31 * 1024 }, 8);
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_int_equal(bi.nr_mmap, 2);
	assert_int_equal(bi.mmap[0].base, 0);
	assert_int_equal(bi.mmap[0].len, 639 * 1024);
	assert_int_equal(bi.mmap[1].base, MiB(1));
	assert_int_equal(bi.mmap[1].len, MiB(31));
	assert_int_equal(bi.mmap[1].type, MMAP_AVAILABLE);
}

static void mb2_tags_after_the_end_are_ignored(void **state)
{
	(void)state;
	mb2_begin();
	mb2_tag(1, "first", 6);
	mb2_tag(0, NULL, 0);
	mb2_tag(1, "second", 7);
	mb2_tag(0, NULL, 0);
	w32(mb2_start, mb2_pos - mb2_start);
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_start);
	assert_string_equal(bi.cmdline, "first");
}

static void mb2_unterminated_strings(void **state)
{
	(void)state;
	mb2_begin();
	mb2_tag(1, "abcdefgh", 8);            /* no NUL in the tag */
	mb2_tag(2, "loader-name-that-is-far-too-long-for-the-sixty-four-byte-buffer-yes", 68);
	u8 m[8 + 5];
	memcpy(m, (u32[]){ 0x100000, 0x101000 }, 8);
	memcpy(m + 8, "ab/cd", 5);            /* module string without NUL */
	mb2_tag(3, m, sizeof(m));
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_string_equal(bi.cmdline, "abcdefgh");
	assert_int_equal(strlen(bi.loader_name), 63);
	assert_string_equal(bi.mods[0].string, "ab/cd");
	assert_string_equal(bi.mods[0].name, "cd");
}

static void mb2_malformed(void **state)
{
	(void)state;
	/* a tag size below 8 */
	mb2_begin();
	mb2_tag(1, "x", 2);
	mb2_tag_sized(2, 4, NULL, 0);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end(), "malformed multiboot2 tag");

	/* a tag size of 0 (which would loop forever) */
	setup(NULL);
	mb2_begin();
	mb2_tag_sized(1, 0, NULL, 0);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end(), "malformed multiboot2 tag");

	/* a tag reaching beyond total_size */
	setup(NULL);
	mb2_begin();
	u32 t = mb2_tag(1, "abc", 4);
	u32 info = mb2_end();
	w32(t + 4, 8 + 4 + 64);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, info, "malformed multiboot2 tag");

	/* no end tag: total_size ends after the last tag */
	setup(NULL);
	mb2_begin();
	mb2_tag(1, "abc", 4);
	w32(mb2_start, mb2_pos - mb2_start);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_start, "no end tag");

	/* a total size that cuts the end tag off */
	setup(NULL);
	mb2_begin();
	mb2_tag(1, "abc", 4);
	info = mb2_end();
	w32(info, *(u32 *)at(info) - 4);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, info, "no end tag");

	/* bad total sizes */
	setup(NULL);
	mb2_begin();
	info = mb2_end();
	w32(info, 8);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, info, "bad total_size");
	w32(info, 0);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, info, "bad total_size");
	w32(info, 0x80000000u);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, info, "bad total_size");

	/* a module tag too short for its addresses */
	setup(NULL);
	mb2_begin();
	mb2_tag(3, (u32[]){ 0x100000 }, 4);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end(), "malformed multiboot2 module tag");

	/* a module ending before it starts */
	setup(NULL);
	mb2_begin();
	mb2_module(0x200000, 0x100000, "x");
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end(), "ends before it starts");

	/* memory map tags: too short, entry size below 20 */
	setup(NULL);
	mb2_begin();
	mb2_tag(6, (u32[]){ 24 }, 4);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end(), "memory map tag");
	setup(NULL);
	mb2_begin();
	mb2_tag(6, (u32[]){ 16, 0, 1, 2, 3, 4 }, 24);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end(), "memory map entry size");
	setup(NULL);
	mb2_begin();
	mb2_tag(6, (u32[]){ 0, 0 }, 8);
	parse_bad(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end(), "memory map entry size");
}

static void mb2_mmap_partial_entry_is_ignored(void **state)
{
	(void)state;
	mb2_begin();
	u8 b[8 + 24 + 10];
	memset(b, 0, sizeof(b));
	memcpy(b, (u32[]){ 24, 0 }, 8);
	memcpy(b + 8, (u64[]){ 0x1000, 0x2000 }, 16);
	memcpy(b + 24, (u32[]){ 1 }, 4);
	mb2_tag(6, b, sizeof(b));
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_int_equal(bi.nr_mmap, 1);
	assert_int_equal(bi.mmap[0].base, 0x1000);
	assert_int_equal(bi.mmap[0].len, 0x2000);
}

/* ---- UEFI: the EFI memory map tag (17), EFI system table tags (11/12), tag 18 ---- */

/* An EFI memory map tag with n descriptors {type, start, pages} of dsize bytes each. */
static void mb2_efi_mmap(u32 dsize, u32 n, const u64 (*d)[3])
{
	static u8 b[8 + 64 * 64];
	memset(b, 0xcc, sizeof(b));
	u32 ver = 1;
	memcpy(b, &dsize, 4);
	memcpy(b + 4, &ver, 4);
	for (u32 i = 0; i < n; i++) {
		u8 *e = b + 8 + i * dsize;
		u32 type = (u32)d[i][0], pad = 0;
		u64 virt = 0, attr = 0xf;
		memcpy(e, &type, 4);
		memcpy(e + 4, &pad, 4);
		memcpy(e + 8, &d[i][1], 8);
		memcpy(e + 16, &virt, 8);
		memcpy(e + 24, &d[i][2], 8);
		memcpy(e + 32, &attr, 8);
	}
	mb2_tag(17, b, 8 + n * dsize);
}

static void efi_mem_types(void **state)
{
	(void)state;
	/* UEFI "Memory Type Usage after ExitBootServices()" */
	static const u32 exited[16] = { 2, 1, 1, 1, 1, 2, 2, 1, 5, 3, 4, 2, 2, 2, 7, 2 };
	for (u32 t = 0; t < 16; t++)
		assert_int_equal(bootinfo_efi_mem_type(t, true), exited[t]);
	/* boot services still running: their memory and the loader's are in use */
	for (u32 t = 1; t <= 4; t++)
		assert_int_equal(bootinfo_efi_mem_type(t, false), MMAP_RESERVED);
	assert_int_equal(bootinfo_efi_mem_type(7, false), MMAP_AVAILABLE);
	assert_int_equal(bootinfo_efi_mem_type(0x70000000, true), MMAP_RESERVED);   /* OEM */
	assert_int_equal(bootinfo_efi_mem_type(0x80000000, true), MMAP_RESERVED);   /* OS */
}

static void mb2_efi_map_replaces_the_e820_map(void **state)
{
	(void)state;
	u8 r2[36];
	rsdp(r2, 2, "OVMFOV");
	mb2_begin();
	mb2_tag(12, (u64[]){ 0x7fe00000 }, 8);
	/* GRUB's own conversion: coarser */
	mb2_mmap(2, (const u64[][3]){ { 0, 0xa0000, 1 }, { 0x100000, 0x7f00000, 1 } });
	mb2_efi_mmap(48, 9, (const u64[][3]){
		{ 3, 0x0, 0x8 },          /* boot services code */
		{ 7, 0x8000, 0x98 },      /* conventional: merged with the one before */
		{ 0, 0xa0000, 0x60 },     /* reserved */
		{ 2, 0x100000, 0x100 },   /* loader data (the image) */
		{ 4, 0x200000, 0x100 },   /* boot services data */
		{ 6, 0x300000, 0x10 },    /* runtime services data: reserved */
		{ 9, 0x310000, 0x10 },    /* ACPI reclaim */
		{ 10, 0x320000, 0x10 },   /* ACPI NVS */
		{ 7, 0x330000, 0 },       /* no pages: skipped */
	});
	mb2_tag(15, r2, 36);
	u32 info = mb2_end();
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, info);
	assert_true(bi.efi);
	assert_false(bi.efi_bs_active);
	assert_int_equal(bi.mmap_source, BOOT_MMAP_EFI);
	assert_string_equal(bootinfo_mmap_source_name(bi.mmap_source), "EFI memory map tag");
	assert_int_equal(bi.nr_mmap, 6);
	const u64 want[6][3] = { { 0, 0xa0000, 1 }, { 0xa0000, 0x60000, 2 }, { 0x100000, 0x200000, 1 },
				 { 0x300000, 0x10000, 2 }, { 0x310000, 0x10000, 3 }, { 0x320000, 0x10000, 4 } };
	for (u32 i = 0; i < 6; i++) {
		assert_int_equal(bi.mmap[i].base, want[i][0]);
		assert_int_equal(bi.mmap[i].len, want[i][1]);
		assert_int_equal(bi.mmap[i].type, want[i][2]);
	}
	assert_true(bi.has_rsdp);
	assert_memory_equal(bi.rsdp, r2, 36);
}

static void mb2_efi_boot_services_left_running(void **state)
{
	(void)state;
	mb2_begin();
	mb2_efi_mmap(40, 3, (const u64[][3]){ { 7, 0x0, 0x10 }, { 4, 0x10000, 0x10 }, { 7, 0x20000, 0x10 } });
	mb2_tag(18, NULL, 0);   /* after the map: still applies */
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_true(bi.efi_bs_active);
	assert_int_equal(bi.nr_mmap, 3);
	assert_int_equal(bi.mmap[1].type, MMAP_RESERVED);
	assert_int_equal(bi.mmap[2].type, MMAP_AVAILABLE);
}

static void mb2_efi_map_malformed_keeps_the_e820_map(void **state)
{
	(void)state;
	/* descriptor size below 40: ignored, the type-6 map stays */
	mb2_begin();
	mb2_mmap(1, (const u64[][3]){ { 0x100000, 0x100000, 1 } });
	mb2_efi_mmap(32, 2, (const u64[][3]){ { 7, 0x0, 0x10 }, { 7, 0x20000, 0x10 } });
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_true(bi.efi);
	assert_int_equal(bi.mmap_source, BOOT_MMAP_MB2);
	assert_int_equal(bi.nr_mmap, 1);
	assert_int_equal(bi.mmap[0].base, 0x100000);
	/* a size that overflows the address space: that descriptor is skipped */
	setup(NULL);
	mb2_begin();
	mb2_efi_mmap(40, 2, (const u64[][3]){ { 7, 0xfffffffffffff000ull, 0x10 }, { 7, 0x20000, 0x10 } });
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_int_equal(bi.nr_mmap, 1);
	assert_int_equal(bi.mmap[0].base, 0x20000);
	/* a map shorter than one descriptor: ignored; the basic meminfo then */
	setup(NULL);
	mb2_begin();
	mb2_tag(4, (u32[]){ 639, 0x1000 }, 8);
	mb2_tag(17, (u32[]){ 40, 1, 7, 0 }, 16);
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_int_equal(bi.mmap_source, BOOT_MMAP_MEMINFO);
	assert_int_equal(bi.nr_mmap, 2);
}

/* More distinct ranges than BOOT_MAX_MMAP: the rest are counted, not lost silently. */
static void mb2_efi_map_overflow_is_counted(void **state)
{
	(void)state;
	static u64 d[BOOT_MAX_MMAP + 5][3];
	for (u32 i = 0; i < ARRAY_SIZE(d); i++) {
		d[i][0] = (i & 1) ? 7 : 0;   /* alternating: nothing merges */
		d[i][1] = (u64)i << 12;
		d[i][2] = 1;
	}
	mb2_begin();
	static u8 b[8 + (BOOT_MAX_MMAP + 5) * 40];
	u32 dsize = 40, ver = 1;
	memcpy(b, &dsize, 4);
	memcpy(b + 4, &ver, 4);
	for (u32 i = 0; i < ARRAY_SIZE(d); i++) {
		u8 *e = b + 8 + i * 40;
		memset(e, 0, 40);
		u32 type = (u32)d[i][0];
		memcpy(e, &type, 4);
		memcpy(e + 8, &d[i][1], 8);
		memcpy(e + 24, &d[i][2], 8);
	}
	mb2_tag(17, b, sizeof(b));
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_int_equal(bi.nr_mmap, BOOT_MAX_MMAP);
	assert_int_equal(bi.nr_mmap_dropped, 5);
}

static void map_sources(void **state)
{
	(void)state;
	mb2_begin();
	mb2_mmap(1, (const u64[][3]){ { 0x100000, 0x100000, 1 } });
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_int_equal(bi.mmap_source, BOOT_MMAP_MB2);
	assert_false(bi.efi);
	mb2_begin();
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_int_equal(bi.mmap_source, BOOT_MMAP_NONE);
	assert_string_equal(bootinfo_mmap_source_name(BOOT_MMAP_NONE), "none");
	mb2_begin();
	mb2_tag(11, (u32[]){ 0x7fe0000 }, 4);
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_true(bi.efi);
}

static void free_ram(void **state)
{
	(void)state;
	mb2_begin();
	mb2_mmap(3, (const u64[][3]){ { 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0x100000, 0x100000, 1 } });
	mb2_module(0x120000, 0x121000, "m.elf");
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_true(bootinfo_free_ram(&bi, 0x8000, 0x1000));
	assert_true(bootinfo_free_ram(&bi, 0x9e000, 0x1000));
	assert_false(bootinfo_free_ram(&bi, 0x9f000, 0x1000));    /* runs into reserved */
	assert_false(bootinfo_free_ram(&bi, 0xa0000, 0x1000));    /* not in the map */
	assert_false(bootinfo_free_ram(&bi, 0x120000, 0x1000));   /* the module */
	assert_false(bootinfo_free_ram(&bi, 0x11f000, 0x2000));   /* overlaps its start */
	assert_true(bootinfo_free_ram(&bi, 0x121000, 0x1000));    /* just after it */
	/* no map: nothing is known to be free */
	mb2_begin();
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_false(bootinfo_free_ram(&bi, 0x8000, 0x1000));
}

static void module_lookup(void **state)
{
	(void)state;
	mb2_begin();
	mb2_module(0x100000, 0x101000, "a.elf");
	mb2_module(0x102000, 0x103000, "/x/a.elf second");
	mb2_module(0x104000, 0x105000, "b.elf");
	parse_ok(MULTIBOOT2_BOOTLOADER_MAGIC, mb2_end());
	assert_int_equal(bi.nr_mods, 3);
	const struct boot_module *m = bootinfo_module(&bi, "a.elf");
	assert_ptr_equal(m, &bi.mods[0]);   /* the first of two with the same name */
	m = bootinfo_module(&bi, "b.elf");
	assert_non_null(m);
	assert_int_equal(m->start, 0x104000);
	assert_null(bootinfo_module(&bi, "c.elf"));
	assert_null(bootinfo_module(&bi, "A.ELF"));
	assert_null(bootinfo_module(&bi, "a.el"));
	assert_null(bootinfo_module(&bi, "second"));
}

#define T(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(mb1_full),
		T(mb1_cmdline_forms),
		T(mb1_long_cmdline_is_bounded),
		T(mb1_meminfo_without_map),
		T(mb1_mmap_entry_sizes),
		T(mb1_mmap_huge_entry_size),
		T(mb1_mmap_is_capped),
		T(mb1_bad_modules),
		T(mb1_not_addressable),
		T(unknown_magic),
		T(mb2_full),
		T(mb2_rsdp_preference),
		T(mb2_meminfo_without_map),
		T(mb2_tags_after_the_end_are_ignored),
		T(mb2_unterminated_strings),
		T(mb2_malformed),
		T(mb2_mmap_partial_entry_is_ignored),
		T(module_lookup),
		T(efi_mem_types),
		T(mb2_efi_map_replaces_the_e820_map),
		T(mb2_efi_boot_services_left_running),
		T(mb2_efi_map_malformed_keeps_the_e820_map),
		T(mb2_efi_map_overflow_is_counted),
		T(map_sources),
		T(free_ram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
