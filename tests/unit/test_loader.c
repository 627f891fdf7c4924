/* SPDX-License-Identifier: MIT */
/* hv/vm/loader.c mb_load: multiboot v1 kernels (ELF32, ELF64, a.out kludge) into guest RAM;
 * linux_load: Linux bzImages (64-bit boot protocol). */
#include "tests/unit/support.h"
#include "hv/vm/loader.h"
#include "hv/vm/guest_acpi.h"
#include "arch/x86/x86.h"

#define RAM_SIZE MiB(16)
static u8 ram[RAM_SIZE] __aligned(4096);
static u8 kernel[0x8000] __aligned(8);
static struct loader_result out;
static char err[160];
static struct guest_map map16;   /* RAM_SIZE, the default hole */

#define MB_MAGIC 0x1BADB002u
#define HDR_OFF 0x200        /* where the builders put the multiboot header */
#define DATA_OFF 0x1000      /* and the first segment's bytes */

static int setup(void **state)
{
	(void)state;
	memset(ram, 0xaa, sizeof(ram));
	memset(kernel, 0, sizeof(kernel));
	memset(&out, 0x5a, sizeof(out));
	memset(err, 0, sizeof(err));
	if (!guest_map_build(&map16, RAM_SIZE, 0, err, sizeof(err)))
		fail_msg("guest_map_build: %s", err);
	return 0;
}

static void w16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void w32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void w64(u8 *p, u64 v) { memcpy(p, &v, 8); }
static u32 r32(u64 pa) { u32 v; memcpy(&v, ram + pa, 4); return v; }
static u64 r64(u64 pa) { u64 v; memcpy(&v, ram + pa, 8); return v; }

/* A multiboot header at off: magic, flags, checksum and the a.out address fields. */
static void mb_header(size_t off, u32 flags, const u32 *addr /* 5 fields or NULL */)
{
	w32(kernel + off, MB_MAGIC);
	w32(kernel + off + 4, flags);
	w32(kernel + off + 8, (u32)-(MB_MAGIC + flags));
	if (addr)
		for (int i = 0; i < 5; i++)
			w32(kernel + off + 12 + 4 * i, addr[i]);
}

/* The byte of a segment's file image at offset i. */
static u8 pattern(size_t i) { return (u8)(i * 7 + 1); }

static void fill(size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		kernel[off + i] = pattern(off + i);
}

struct seg { u32 type; u64 off, vaddr, paddr, filesz, memsz; };

/* ELF32: header, program headers at 52, multiboot header at HDR_OFF (flags 0x3). */
static size_t elf32(u32 entry, const struct seg *s, int n)
{
	memcpy(kernel, "\177ELF", 4);
	kernel[4] = 1;   /* ELFCLASS32 */
	kernel[5] = 1;   /* little endian */
	kernel[6] = 1;
	w16(kernel + 16, 2);     /* ET_EXEC */
	w16(kernel + 18, 3);     /* EM_386 */
	w32(kernel + 20, 1);
	w32(kernel + 24, entry);
	w32(kernel + 28, 52);    /* phoff */
	w16(kernel + 40, 52);    /* ehsize */
	w16(kernel + 42, 32);    /* phentsize */
	w16(kernel + 44, (u16)n);
	size_t end = DATA_OFF;
	for (int i = 0; i < n; i++) {
		u8 *ph = kernel + 52 + 32 * i;
		w32(ph, s[i].type);
		w32(ph + 4, (u32)s[i].off);
		w32(ph + 8, (u32)s[i].vaddr);
		w32(ph + 12, (u32)s[i].paddr);
		w32(ph + 16, (u32)s[i].filesz);
		w32(ph + 20, (u32)s[i].memsz);
		w32(ph + 24, 7);
		w32(ph + 28, 0x1000);
		if (s[i].off + s[i].filesz <= sizeof(kernel)) {
			fill(s[i].off, s[i].filesz);
			end = MAX(end, s[i].off + s[i].filesz);
		}
	}
	mb_header(HDR_OFF, 0x3, NULL);
	return end;
}

/* ELF64: header, program headers at 64, multiboot header at HDR_OFF. */
static size_t elf64(u64 entry, const struct seg *s, int n)
{
	memcpy(kernel, "\177ELF", 4);
	kernel[4] = 2;   /* ELFCLASS64 */
	kernel[5] = 1;
	kernel[6] = 1;
	w16(kernel + 16, 2);
	w16(kernel + 18, 62);    /* EM_X86_64 */
	w32(kernel + 20, 1);
	w64(kernel + 24, entry);
	w64(kernel + 32, 64);    /* phoff */
	w16(kernel + 52, 64);
	w16(kernel + 54, 56);    /* phentsize */
	w16(kernel + 56, (u16)n);
	size_t end = DATA_OFF;
	for (int i = 0; i < n; i++) {
		u8 *ph = kernel + 64 + 56 * i;
		w32(ph, s[i].type);
		w32(ph + 4, 7);
		w64(ph + 8, s[i].off);
		w64(ph + 16, s[i].vaddr);
		w64(ph + 24, s[i].paddr);
		w64(ph + 32, s[i].filesz);
		w64(ph + 40, s[i].memsz);
		w64(ph + 48, 0x1000);
		if (s[i].off + s[i].filesz <= sizeof(kernel)) {
			fill(s[i].off, s[i].filesz);
			end = MAX(end, s[i].off + s[i].filesz);
		}
	}
	mb_header(HDR_OFF, 0x3, NULL);
	return end;
}

static void load_ok(size_t klen, const char *cmdline, const struct loader_module *mods, u32 n)
{
	if (!mb_load(ram, &map16, kernel, klen, cmdline, mods, n, &out, err, sizeof(err)))
		fail_msg("mb_load failed: %s", err);
}

static void load_bad(size_t klen, const char *msg)
{
	if (mb_load(ram, &map16, kernel, klen, "x", NULL, 0, &out, err, sizeof(err)))
		fail_msg("mb_load succeeded, expected '%s'", msg);
	assert_contains(err, msg);
}

/* The segment's file bytes are in RAM at pa, followed by zeroed bss up to memsz. */
static void expect_segment(u64 pa, u64 off, u64 filesz, u64 memsz)
{
	for (u64 i = 0; i < filesz; i++)
		if (ram[pa + i] != pattern(off + i))
			fail_msg("RAM 0x%llx: 0x%02x, expected file byte 0x%llx",
				 (unsigned long long)(pa + i), ram[pa + i], (unsigned long long)(off + i));
	for (u64 i = filesz; i < memsz; i++)
		if (ram[pa + i] != 0)
			fail_msg("bss at 0x%llx not zeroed", (unsigned long long)(pa + i));
}

/* The multiboot information (Multiboot Specification 0.6.96, "Boot information format"). */
enum { MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_CMDLINE = 16,
       MBI_MODS_COUNT = 20, MBI_MODS_ADDR = 24, MBI_MMAP_LENGTH = 44, MBI_MMAP_ADDR = 48,
       MBI_LOADER_NAME = 64 };

static const char *str_at(u32 pa)
{
	assert_true(pa >= GUEST_MBI_ADDR && pa < GUEST_MBI_END);
	assert_non_null(memchr(ram + pa, 0, GUEST_MBI_END - pa));
	return (const char *)ram + pa;
}

static void expect_mbi(const char *cmdline, u32 nr_mods)
{
	u32 mbi = out.mbi;
	assert_int_equal(mbi, GUEST_MBI_ADDR);
	u32 flags = BIT(0) | BIT(2) | BIT(6) | BIT(9) | (nr_mods ? BIT(3) : 0);
	assert_int_equal(r32(mbi + MBI_FLAGS), flags);
	assert_int_equal(r32(mbi + MBI_MEM_LOWER), 639);
	assert_int_equal(r32(mbi + MBI_MEM_UPPER), (RAM_SIZE - MiB(1)) / 1024);
	assert_string_equal(str_at(r32(mbi + MBI_CMDLINE)), cmdline);
	assert_string_equal(str_at(r32(mbi + MBI_LOADER_NAME)), "microhv");
	assert_int_equal(r32(mbi + MBI_MODS_COUNT), nr_mods);
	/* the fields in between (boot device, symbols, drives, config table) are zero */
	assert_int_equal(r32(mbi + 12), 0);
	for (u32 o = 28; o < 44; o += 4)
		assert_int_equal(r32(mbi + o), 0);
	for (u32 o = 52; o < 64; o += 4)
		assert_int_equal(r32(mbi + o), 0);

	/* the memory map: 7 entries of size 20 (guest_map_e820 of 16 MiB, default hole) */
	assert_int_equal(r32(mbi + MBI_MMAP_LENGTH), 7 * 24);
	u32 mm = r32(mbi + MBI_MMAP_ADDR);
	assert_true(mm >= GUEST_MBI_ADDR && mm + 7 * 24 <= GUEST_MBI_END);
	static const u64 want[7][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 }, { 0x100000, RAM_SIZE - 0x100000, 1 },
		{ 0xe0000000, 0x100000, 2 }, { 0xfec00000, 0x1000, 2 }, { 0xfee00000, 0x1000, 2 },
		{ 0xfffc0000, 0x40000, 2 },
	};
	for (int i = 0; i < 7; i++) {
		u32 e = mm + 24 * i;
		assert_int_equal(r32(e), 20);
		assert_int_equal(r64(e + 4), want[i][0]);
		assert_int_equal(r64(e + 12), want[i][1]);
		assert_int_equal(r32(e + 20), want[i][2]);
	}

	/* the flat GDT at 0x6000 */
	assert_int_equal(r64(GUEST_GDT_ADDR), 0);
	assert_int_equal(r64(GUEST_GDT_ADDR + GUEST_CS), 0x00cf9b000000ffffull);
	assert_int_equal(r64(GUEST_GDT_ADDR + GUEST_DS), 0x00cf93000000ffffull);
	assert_int_equal(r64(GUEST_GDT_ADDR + 24), 0);
}

/* ---- good kernels ---- */

static void elf32_kernel(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x2345, 0x5000 };
	size_t len = elf32(0x100010, &s, 1);
	load_ok(len, "console=ttyS0 debug", NULL, 0);
	assert_int_equal(out.entry, 0x100010);
	assert_int_equal(out.kernel_start, 0x100000);
	assert_int_equal(out.kernel_end, 0x105000);
	assert_int_equal(out.mods_end, 0x105000);
	expect_segment(0x100000, DATA_OFF, 0x2345, 0x5000);
	assert_int_equal(ram[0x105000], 0xaa);   /* nothing written after the bss */
	assert_int_equal(ram[0xfffff], 0xaa);
	expect_mbi("console=ttyS0 debug", 0);
}

static void elf32_higher_half_and_two_segments(void **state)
{
	(void)state;
	/* linked at 0xC0100000, loaded at 1 MiB; a note and an empty segment ignored */
	struct seg s[] = {
		{ 4, 0x300, 0, 0, 0x20, 0x20 },                       /* PT_NOTE */
		{ 1, DATA_OFF, 0xc0100000, 0x100000, 0x1000, 0x1000 },
		{ 1, 0x3000, 0xc0102000, 0x102000, 0x800, 0x3000 },
		{ 1, 0x4000, 0xc0900000, 0x80000, 0, 0 },              /* memsz 0: skipped */
	};
	size_t len = elf32(0xc0102100, s, 4);
	load_ok(len, NULL, NULL, 0);
	assert_int_equal(out.entry, 0x102100);   /* translated to the physical address */
	assert_int_equal(out.kernel_start, 0x100000);
	assert_int_equal(out.kernel_end, 0x105000);
	expect_segment(0x100000, DATA_OFF, 0x1000, 0x1000);
	expect_segment(0x102000, 0x3000, 0x800, 0x3000);
	assert_int_equal(ram[0x101000], 0xaa);   /* the gap between the segments untouched */
	expect_mbi("", 0);
}

static void elf64_kernel(void **state)
{
	(void)state;
	struct seg s[] = {
		{ 1, DATA_OFF, 0xffffffff80200000ull, 0x200000, 0x1800, 0x4000 },
		{ 1, 0x3000, 0xffffffff80300000ull, 0x300000, 0x100, 0x100 },
	};
	size_t len = elf64(0xffffffff80200040ull, s, 2);
	load_ok(len, "elf64", NULL, 0);
	assert_int_equal(out.entry, 0x200040);
	assert_int_equal(out.kernel_start, 0x200000);
	assert_int_equal(out.kernel_end, 0x300100);
	expect_segment(0x200000, DATA_OFF, 0x1800, 0x4000);
	expect_segment(0x300000, 0x3000, 0x100, 0x100);
	expect_mbi("elf64", 0);

	/* an entry given as a physical address is accepted as is */
	setup(NULL);
	struct seg p = { 1, DATA_OFF, 0x200000, 0x200000, 0x100, 0x100 };
	len = elf64(0x200080, &p, 1);
	load_ok(len, "", NULL, 0);
	assert_int_equal(out.entry, 0x200080);
}

static void aout_kludge_kernel(void **state)
{
	(void)state;
	/* a flat binary: the header at offset 0x40 says where everything goes */
	memset(kernel, 0x90, 0x40);
	u32 load = 0x100000, hoff = 0x40, len = 0x1800;
	mb_header(hoff, 0x10003,
		  (const u32[]){ load + hoff, load, load + len, load + len + 0x2000, load + 0x80 });
	fill(0x60, len - 0x60);
	load_ok(len, "aout", NULL, 0);
	assert_int_equal(out.entry, 0x100080);
	assert_int_equal(out.kernel_start, 0x100000);
	assert_int_equal(out.kernel_end, 0x100000 + len + 0x2000);
	assert_memory_equal(ram + load, kernel, len);
	for (u32 i = 0; i < 0x2000; i++)
		assert_int_equal(ram[load + len + i], 0);
	expect_mbi("aout", 0);

	/* load_end_addr 0: the whole rest of the file; bss_end_addr 0: no bss */
	setup(NULL);
	mb_header(0, 0x10000, (const u32[]){ 0x200000, 0x200000, 0, 0, 0x200020 });
	fill(0x20, 0x1000 - 0x20);
	load_ok(0x1000, "", NULL, 0);
	assert_int_equal(out.kernel_end, 0x201000);
	assert_memory_equal(ram + 0x200000, kernel, 0x1000);
	assert_int_equal(ram[0x201000], 0xaa);

	/* the file starts before the header's image: load_addr below header_addr - offset */
	setup(NULL);
	memset(kernel, 0xcc, 0x100);
	mb_header(0x100, 0x10000, (const u32[]){ 0x100040, 0x100000, 0x100400, 0, 0x100000 });
	load_ok(0x800, "", NULL, 0);
	assert_int_equal(out.kernel_end, 0x100400);
	/* the image starts 0x40 bytes before the header, i.e. at file offset 0xc0 */
	assert_memory_equal(ram + 0x100000, kernel + 0xc0, 0x400);
}

static void header_placement(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	/* the last place a full 32-byte header fits in the first 8 KiB */
	memset(kernel + HDR_OFF, 0, 12);
	mb_header(8192 - 32, 0x3, NULL);
	load_ok(MAX(len, 8192), "", NULL, 0);
	/* 4-byte alignment is required */
	setup(NULL);
	len = elf32(0x100000, &s, 1);
	memset(kernel + HDR_OFF, 0, 12);
	mb_header(0x202, 0x3, NULL);
	load_bad(len, "no multiboot v1 header in the first 8 KiB");
	/* the first valid header wins */
	setup(NULL);
	len = elf32(0x100000, &s, 1);
	mb_header(0x100, 0x10003, (const u32[]){ 0, 0, 0, 0, 0 });   /* would be refused */
	w32(kernel + 0x108, 0);   /* ... but its checksum is bad */
	load_ok(len, "", NULL, 0);
}

static void modules(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x2345 };
	size_t len = elf32(0x100000, &s, 1);
	static u8 m0[5000], m1[3], m2[8192];
	for (size_t i = 0; i < sizeof(m0); i++)
		m0[i] = (u8)(i ^ 0x5a);
	memcpy(m1, "abc", 3);
	memset(m2, 0x11, sizeof(m2));
	const struct loader_module mods[] = {
		{ m0, sizeof(m0), "initrd.img root=/dev/ram0" },
		{ m1, sizeof(m1), NULL },
		{ m2, sizeof(m2), "third" },
		{ m1, 0, "empty" },
	};
	load_ok(len, "cmd", mods, 4);
	expect_mbi("cmd", 4);
	u32 arr = r32(out.mbi + MBI_MODS_ADDR);
	assert_true(arr >= GUEST_MBI_ADDR && arr + 4 * 16 <= GUEST_MBI_END);
	/* kernel ends at 0x102345: the first module on the next page */
	static const u32 start[] = { 0x103000, 0x105000, 0x106000, 0x108000 };
	static const char *const str[] = { "initrd.img root=/dev/ram0", "", "third", "empty" };
	for (int i = 0; i < 4; i++) {
		u32 e = arr + 16 * i;
		assert_int_equal(r32(e), start[i]);
		assert_int_equal(r32(e + 4), start[i] + mods[i].len);
		assert_string_equal(str_at(r32(e + 8)), str[i]);
		assert_int_equal(r32(e + 12), 0);
		if (mods[i].len)
			assert_memory_equal(ram + start[i], mods[i].data, mods[i].len);
	}
	assert_int_equal(out.mods_end, 0x108000);
	assert_int_equal(out.kernel_end, 0x102345);
	/* the bytes between the kernel and the first module are not touched */
	assert_int_equal(ram[0x102345], 0xaa);
	assert_int_equal(ram[0x102fff], 0xaa);
}

/* Nothing the loader writes overlaps: kernel, modules, GDT and every MBI object. */
static void mbi_objects_do_not_overlap(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	static u8 m[100];
	const struct loader_module mods[] = { { m, 100, "m0" }, { m, 100, "m1 x" } };
	load_ok(len, "the command line", mods, 2);
	struct { u32 a, n; } o[] = {
		{ out.mbi, 68 },
		{ r32(out.mbi + MBI_MODS_ADDR), 32 },
		{ r32(out.mbi + MBI_MMAP_ADDR), 72 },
		{ r32(out.mbi + MBI_CMDLINE), 17 },
		{ r32(out.mbi + MBI_LOADER_NAME), 8 },
		{ r32(r32(out.mbi + MBI_MODS_ADDR) + 8), 3 },
		{ r32(r32(out.mbi + MBI_MODS_ADDR) + 24), 5 },
		{ GUEST_GDT_ADDR, 32 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(o); i++) {
		assert_true(o[i].a + o[i].n <= GUEST_LOW_RAM_END);
		for (size_t j = 0; j < i; j++)
			if (o[i].a < o[j].a + o[j].n && o[j].a < o[i].a + o[i].n)
				fail_msg("objects %zu (0x%x) and %zu (0x%x) overlap", i, o[i].a, j, o[j].a);
	}
}

/* ---- refused kernels ---- */

static void no_header(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	memset(kernel + HDR_OFF, 0, 12);
	load_bad(len, "no multiboot v1 header in the first 8 KiB");
	/* beyond the first 8 KiB */
	mb_header(8192, 0x3, NULL);
	load_bad(8192 + 64, "no multiboot v1 header in the first 8 KiB");
	/* straddling the 8 KiB boundary */
	memset(kernel + 8192, 0, 12);
	mb_header(8192 - 8, 0x3, NULL);
	load_bad(8192 + 64, "no multiboot v1 header");
	/* a file too short to hold one */
	load_bad(0, "no multiboot v1 header");
	load_bad(20, "no multiboot v1 header");
}

static void bad_checksum(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	kernel[HDR_OFF + 8]++;
	load_bad(len, "no multiboot v1 header");
	/* a header cut by the end of the file (the address fields missing) */
	setup(NULL);
	len = elf32(0x100000, &s, 1);
	load_bad(HDR_OFF + 16, "no multiboot v1 header");
}

static void unsupported_flags(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	mb_header(HDR_OFF, 0x3 | BIT(3), NULL);
	load_bad(len, "unsupported features 0x8");
	mb_header(HDR_OFF, BIT(15) | BIT(4), NULL);
	load_bad(len, "unsupported features 0x8010");
	/* bits 16-31 are optional features: ignored except 16 */
	mb_header(HDR_OFF, 0x3 | BIT(20), NULL);
	load_ok(len, "", NULL, 0);
	/* video mode (bit 2) is a requirement this loader cannot meet ("Header magic
	 * fields"): refused */
	mb_header(HDR_OFF, 0x7, NULL);
	load_bad(len, "video mode");
}

static void segments_outside_ram(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x800, 0x800, 0x100, 0x100 };   /* page 0 */
	size_t len = elf32(0x800, &s, 1);
	load_bad(len, "outside guest RAM");
	assert_contains(err, "0x800");
	s = (struct seg){ 1, DATA_OFF, 0x9f000, 0x9f000, 0x100, 0x1000 };   /* into the BIOS area */
	len = elf32(0x9f000, &s, 1);
	load_bad(len, "outside guest RAM");
	s = (struct seg){ 1, DATA_OFF, 0xfff000, 0xfff000, 0x100, 0x2000 };   /* past 16 MiB */
	len = elf32(0xfff000, &s, 1);
	load_bad(len, "outside guest RAM");
	assert_contains(err, "16 MiB");
	/* ending exactly at the end of RAM is fine */
	s = (struct seg){ 1, DATA_OFF, 0xffe000, 0xffe000, 0x100, 0x2000 };
	len = elf32(0xffe000, &s, 1);
	load_ok(len, "", NULL, 0);
	assert_int_equal(out.kernel_end, RAM_SIZE);
	/* a 64-bit address that wraps around */
	setup(NULL);
	s = (struct seg){ 1, DATA_OFF, 0xfffffffffffff000ull, 0xfffffffffffff000ull, 0x100, 0x2000 };
	len = elf64(0x100000, &s, 1);
	load_bad(len, "outside guest RAM");
	/* an a.out kernel over the loader's GDT and boot stack */
	setup(NULL);
	mb_header(0, 0x10000, (const u32[]){ 0x7000, 0x7000, 0, 0, 0x7000 });
	load_bad(0x100, "overlaps the loader's GDT and boot stack at 0x6000-0x8000");
}

/* Kernels below 1 MiB: below the GDT, between the stack and the information, or above
 * the information's start (which then ends there); modules still go from 1 MiB. */
static void low_kernels(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x1000, 0x1000, 0x100, 0x200 };
	size_t len = elf32(0x1000, &s, 1);
	load_ok(len, "low", NULL, 0);
	expect_segment(0x1000, DATA_OFF, 0x100, 0x200);
	expect_mbi("low", 0);
	setup(NULL);
	s = (struct seg){ 1, DATA_OFF, 0x20000, 0x20000, 0x100, 0x1000 };
	len = elf32(0x20000, &s, 1);
	static const u8 mdata[16] = "module";
	struct loader_module m = { mdata, sizeof(mdata), "m" };
	load_ok(len, "at 0x20000", &m, 1);
	expect_segment(0x20000, DATA_OFF, 0x100, 0x1000);
	assert_int_equal(out.mbi_end, 0x20000);
	assert_true(out.mods_end >= GUEST_KERNEL_MIN);
	assert_int_equal(r32(r32(out.mbi + MBI_MODS_ADDR)), GUEST_KERNEL_MIN);
	/* the information must fit below such a kernel */
	setup(NULL);
	s = (struct seg){ 1, DATA_OFF, 0x9100, 0x9100, 0x100, 0x100 };
	len = elf32(0x9100, &s, 1);
	static char cmd[0x200];
	memset(cmd, 'c', sizeof(cmd) - 1);
	assert_false(mb_load(ram, &map16, kernel, len, cmd, NULL, 0, &out, err, sizeof(err)));
	assert_contains(err, "does not fit below the kernel at 0x9100");
	/* over the information's start */
	setup(NULL);
	s = (struct seg){ 1, DATA_OFF, 0x8000, 0x8000, 0x100, 0x1800 };
	len = elf32(0x8000, &s, 1);
	load_bad(len, "overlaps the multiboot information at 0x9000");
}

static void filesz_above_memsz(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x2000, 0x1000 };
	size_t len = elf32(0x100000, &s, 1);
	load_bad(len, "file size above memory size");
}

static void program_headers_outside_the_file(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	w32(kernel + 28, (u32)len + 4);   /* phoff past the end */
	load_bad(len, "program headers outside the file");
	w32(kernel + 28, (u32)len - 16);  /* starts inside, ends outside */
	load_bad(len, "program headers outside the file");
	w32(kernel + 28, 52);
	w16(kernel + 44, 0xffff);         /* phnum huge */
	load_bad(len, "program headers outside the file");
	/* phentsize too small for a program header */
	w16(kernel + 44, 1);
	w16(kernel + 42, 16);
	load_bad(len, "bad ELF program header size");
	/* ELF64: phoff that would overflow */
	setup(NULL);
	len = elf64(0x100000, &s, 1);
	w64(kernel + 32, ~0ull - 8);
	load_bad(len, "program headers outside the file");
}

static void segment_outside_the_file(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	load_ok(len, "", NULL, 0);
	load_bad(len - 1, "ELF segment 0 outside the file");
	setup(NULL);
	s.off = 0x7f00;   /* offset inside, offset + filesz beyond the file */
	len = elf32(0x100000, &s, 1);
	load_bad(0x7f80, "ELF segment 0 outside the file");
	setup(NULL);
	s = (struct seg){ 1, 0xffffff00, 0x100000, 0x100000, 0x200, 0x200 };
	len = elf32(0x100000, &s, 1);
	load_bad(len, "ELF segment 0 outside the file");
}

static void entry_outside_the_segments(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x1000 };
	size_t len = elf32(0x101000, &s, 1);   /* one past the end */
	load_bad(len, "entry point 0x101000 is not inside the loaded kernel");
	len = elf32(0xfffff, &s, 1);
	load_bad(len, "entry point 0xfffff");
	len = elf32(0x100fff, &s, 1);
	load_ok(len, "", NULL, 0);
	assert_int_equal(out.entry, 0x100fff);
	/* a.out kludge */
	setup(NULL);
	mb_header(0, 0x10000, (const u32[]){ 0x100000, 0x100000, 0, 0x102000, 0x102000 });
	load_bad(0x100, "entry point 0x102000 is not inside the loaded kernel");
}

static void other_bad_elf_files(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	kernel[4] = 3;
	load_bad(len, "unknown ELF class 3");
	kernel[4] = 1;
	kernel[0] = 0x7e;
	load_bad(len, "not an ELF file and no multiboot address fields");
	/* no PT_LOAD at all */
	setup(NULL);
	s.type = 6;   /* PT_PHDR */
	len = elf32(0x100000, &s, 1);
	load_bad(len, "no loadable segment");
	/* no program headers */
	setup(NULL);
	len = elf32(0x100000, &s, 0);
	load_bad(len, "no loadable segment");
	/* a file ending inside the ELF header: header in bytes 8-40 */
	setup(NULL);
	memcpy(kernel, "\177ELF", 4);
	kernel[4] = 1;
	mb_header(8, 0x3, NULL);
	load_bad(48, "truncated ELF header");
	kernel[4] = 2;
	load_bad(60, "truncated ELF header");
}

static void bad_aout_fields(void **state)
{
	(void)state;
	/* header_addr below load_addr */
	mb_header(0x40, 0x10000, (const u32[]){ 0x100000, 0x100040, 0, 0, 0x100040 });
	load_bad(0x1000, "header_addr below load_addr");
	/* the image would start before the file */
	mb_header(0x40, 0x10000, (const u32[]){ 0x100080, 0x100000, 0, 0, 0x100100 });
	load_bad(0x1000, "before the file start");
	/* load_end_addr beyond the file */
	mb_header(0x40, 0x10000, (const u32[]){ 0x100040, 0x100000, 0x101001, 0, 0x100100 });
	load_bad(0x1000, "load_end_addr beyond the file");
	/* load_end_addr below load_addr */
	mb_header(0x40, 0x10000, (const u32[]){ 0x100040, 0x100000, 0xfff00, 0, 0x100100 });
	load_bad(0x1000, "load_end_addr");
}

static void module_too_big(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	static u8 big[RAM_SIZE];
	/* the kernel ends at 0x101000: RAM_SIZE - 0x101000 bytes fit exactly */
	struct loader_module m[] = { { big, RAM_SIZE - 0x101000, "fits" } };
	load_ok(len, "", m, 1);
	assert_int_equal(out.mods_end, RAM_SIZE);
	m[0].len++;
	setup(NULL);
	len = elf32(0x100000, &s, 1);
	if (mb_load(ram, &map16, kernel, len, "", m, 1, &out, err, sizeof(err)))
		fail_msg("a module one byte too big was loaded");
	assert_contains(err, "module 0");
	assert_contains(err, "does not fit in guest RAM");
	char n[32];
	snprintf(n, sizeof(n), "%zu bytes", m[0].len);
	assert_contains(err, n);
	/* the second of two: the first fits, the second does not */
	struct loader_module two[] = { { big, 0x1000, "a" }, { big, RAM_SIZE, "b" } };
	assert_false(mb_load(ram, &map16, kernel, len, "", two, 2, &out, err, sizeof(err)));
	assert_contains(err, "module 1");
	/* a length that wraps around */
	struct loader_module wrap[] = { { big, ~(size_t)0 - 0x1000, "w" } };
	assert_false(mb_load(ram, &map16, kernel, len, "", wrap, 1, &out, err, sizeof(err)));
	assert_contains(err, "does not fit");
}

/* Nothing was written between the information area and the kernel. */
static void expect_untouched_above_mbi_area(void)
{
	for (u64 a = GUEST_MBI_END; a < 0x100000; a++)
		if (ram[a] != 0xaa)
			fail_msg("byte 0x%llx written", (unsigned long long)a);
}

static void mbi_area_exhausted_by_cmdline(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	static char cmd[GUEST_MBI_END - GUEST_MBI_ADDR];
	memset(cmd, 'c', sizeof(cmd) - 1);
	assert_false(mb_load(ram, &map16, kernel, len, cmd, NULL, 0, &out, err, sizeof(err)));
	assert_contains(err, "does not fit below 640 KiB");
	expect_untouched_above_mbi_area();
	/* the largest command line that fits */
	setup(NULL);
	len = elf32(0x100000, &s, 1);
	size_t max = (GUEST_MBI_END - GUEST_MBI_ADDR) - 72 /* mbi */ - 7 * 24 /* mmap */ - 8 /* name */;
	memset(cmd, 'c', max - 1);
	cmd[max - 1] = '\0';
	load_ok(len, cmd, NULL, 0);
	assert_int_equal(strlen(str_at(r32(out.mbi + MBI_CMDLINE))), max - 1);
	expect_untouched_above_mbi_area();
}

/* Module strings that do not fit must fail the load like everything else in the area
 * (not be handed to the guest as a string at address 0). */
static void mbi_area_exhausted_by_module_strings(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	/* 160 module strings of 4000 bytes: more than the ~600 KiB information area */
	static char str[4000];
	memset(str, 's', sizeof(str) - 1);
	static struct loader_module m[160];
	for (size_t i = 0; i < ARRAY_SIZE(m); i++)
		m[i] = (struct loader_module){ (const u8 *)str, 0, str };
	bool ok = mb_load(ram, &map16, kernel, len, "", m, ARRAY_SIZE(m), &out, err, sizeof(err));
	if (ok) {
		u32 arr = r32(out.mbi + MBI_MODS_ADDR);
		for (u32 i = 0; i < ARRAY_SIZE(m); i++)
			if (r32(arr + 16 * i + 8) == 0)
				fail_msg("accepted, and module %u's string is at address 0", i);
		fail_msg("multiboot information larger than the area was accepted");
	}
	assert_contains(err, "does not fit below 640 KiB");
	expect_untouched_above_mbi_area();
}

static void small_ram(void **state)
{
	(void)state;
	struct seg s = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	size_t len = elf32(0x100000, &s, 1);
	struct guest_map m2;
	assert_true(guest_map_build(&m2, MiB(2), 0, err, sizeof(err)));
	m2.span[0].size -= 4096;   /* a map guest_map_build never makes */
	assert_false(mb_load(ram, &m2, kernel, len, "", NULL, 0, &out, err, sizeof(err)));
	assert_contains(err, "below 2 MiB");
	assert_true(guest_map_build(&m2, MiB(2), 0, err, sizeof(err)));
	assert_true(mb_load(ram, &m2, kernel, len, "", NULL, 0, &out, err, sizeof(err)));
	assert_int_equal(r32(out.mbi + MBI_MEM_UPPER), 1024);
}

/* 64 MiB with the hole at 32 MiB: RAM below the hole and from 4 GiB. Segments go to
 * either RAM span, never into the hole; modules go below the hole; the memory map
 * and mem_upper show the hole. */
static void ram_around_a_hole(void **state)
{
	(void)state;
	struct guest_map m;
	assert_true(guest_map_build(&m, MiB(64), MiB(32), err, sizeof(err)));
	u8 *big = calloc(1, MiB(64));
	assert_non_null(big);
	struct seg s[] = { { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 },
			   { 1, DATA_OFF + 0x100, 0x100100000ull, 0x100100000ull, 0x100, 0x300 } };
	size_t len = elf64(0x100000, s, 2);
	if (!mb_load(big, &m, kernel, len, "", NULL, 0, &out, err, sizeof(err)))
		fail_msg("mb_load: %s", err);
	for (u32 i = 0; i < 0x100; i++) {
		assert_int_equal(big[0x100000 + i], pattern(DATA_OFF + i));
		/* GPA 4 GiB + 1 MiB is host offset hole + 1 MiB */
		assert_int_equal(big[MiB(33) + i], pattern(DATA_OFF + 0x100 + i));
	}
	u32 mbi = out.mbi, v;
	memcpy(&v, big + mbi + MBI_MEM_UPPER, 4);
	assert_int_equal(v, 31 * 1024);
	u32 mlen, mm;
	memcpy(&mlen, big + mbi + MBI_MMAP_LENGTH, 4);
	memcpy(&mm, big + mbi + MBI_MMAP_ADDR, 4);
	assert_int_equal(mlen, 8 * 24);
	static const u64 want[8][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 }, { 0x100000, MiB(31), 1 },
		{ 0xe0000000, 0x100000, 2 }, { 0xfec00000, 0x1000, 2 }, { 0xfee00000, 0x1000, 2 },
		{ 0xfffc0000, 0x40000, 2 }, { 0x100000000ull, MiB(32), 1 },
	};
	for (int i = 0; i < 8; i++) {
		u64 base, size;
		u32 sz, type;
		memcpy(&sz, big + mm + 24 * i, 4);
		memcpy(&base, big + mm + 24 * i + 4, 8);
		memcpy(&size, big + mm + 24 * i + 12, 8);
		memcpy(&type, big + mm + 24 * i + 20, 4);
		assert_int_equal(sz, 20);
		assert_int_equal(base, want[i][0]);
		assert_int_equal(size, want[i][1]);
		assert_int_equal(type, want[i][2]);
	}

	/* a segment in the hole, or running into it, is refused */
	s[1].paddr = MiB(40);
	len = elf64(0x100000, s, 2);
	assert_false(mb_load(big, &m, kernel, len, "", NULL, 0, &out, err, sizeof(err)));
	assert_contains(err, "1 MiB-32 MiB and above 4 GiB");
	s[1].paddr = MiB(32) - 0x100;
	len = elf64(0x100000, s, 2);
	assert_false(mb_load(big, &m, kernel, len, "", NULL, 0, &out, err, sizeof(err)));
	s[1].paddr = 0x100000000ull + MiB(32) - 0x100;   /* past the end of high RAM */
	len = elf64(0x100000, s, 2);
	assert_false(mb_load(big, &m, kernel, len, "", NULL, 0, &out, err, sizeof(err)));

	/* modules must fit below the hole, although RAM remains above 4 GiB */
	len = elf64(0x100000, s, 1);
	u8 *data = calloc(1, MiB(32));
	assert_non_null(data);
	struct loader_module mod[] = { { data, MiB(31) - 0x1000, "fits" } };
	if (!mb_load(big, &m, kernel, len, "", mod, 1, &out, err, sizeof(err)))
		fail_msg("mb_load: %s", err);
	assert_int_equal(out.mods_end, MiB(32));
	mod[0].len++;
	assert_false(mb_load(big, &m, kernel, len, "", mod, 1, &out, err, sizeof(err)));
	assert_contains(err, "does not fit in guest RAM below 0x2000000");
	free(data);
	free(big);
}

/* ---- Linux bzImages (Documentation/arch/x86/boot.rst) ---- */

struct bz {
	u16 version;
	u8 relocatable, loadflags;
	u32 align;
	u64 pref;
	u32 init_size;
	u16 xloadflags;
	u32 initrd_max, cmdline_size;
	u8 setup_sects;
};

/* 2.15, relocatable, 2 MiB aligned, at 4 MiB, 2 MiB init_size, 64-bit entry */
static const struct bz bz_default = { 0x20f, 1, LINUX_LOADED_HIGH, MiB(2), MiB(4), MiB(2),
				      LINUX_XLF_KERNEL_64, 0x7fffffff, 2047, 1 };
#define BZ_PAYLOAD 0x4000

/* A bzImage in kernel[]: the setup sectors with the header, then BZ_PAYLOAD bytes of
 * patterned protected-mode kernel. Returns the file length. */
static size_t bzimage(const struct bz *b)
{
	memset(kernel, 0, sizeof(kernel));
	u32 sects = b->setup_sects ? b->setup_sects : 4;
	size_t setup = (sects + 1) * 512;
	kernel[LINUX_SETUP_SECTS] = b->setup_sects;
	w32(kernel + LINUX_SYSSIZE, BZ_PAYLOAD / 16);
	w16(kernel + LINUX_BOOT_FLAG, 0xaa55);
	kernel[LINUX_JUMP] = 0xeb;
	kernel[LINUX_JUMP + 1] = 0x6a;            /* the header ends at 0x26c */
	memcpy(kernel + LINUX_HEADER, "HdrS", 4);
	w16(kernel + LINUX_VERSION, b->version);
	kernel[LINUX_LOADFLAGS] = b->loadflags;
	w32(kernel + LINUX_CODE32_START, 0x100000);
	w32(kernel + LINUX_INITRD_ADDR_MAX, b->initrd_max);
	w32(kernel + LINUX_KERNEL_ALIGNMENT, b->align);
	kernel[LINUX_RELOCATABLE] = b->relocatable;
	w16(kernel + LINUX_XLOADFLAGS, b->xloadflags);
	w32(kernel + LINUX_CMDLINE_SIZE, b->cmdline_size);
	w64(kernel + LINUX_PREF_ADDRESS, b->pref);
	w32(kernel + LINUX_INIT_SIZE, b->init_size);
	kernel[0x268] = 0x5c;                      /* in the header (copied) */
	fill(setup, BZ_PAYLOAD);
	return setup + BZ_PAYLOAD;
}

static u8 zp8(u32 off) { return ram[GUEST_LINUX_ZERO_PAGE + off]; }
static u32 zp32(u32 off) { return r32(GUEST_LINUX_ZERO_PAGE + off); }
static u64 zp64(u32 off) { return r64(GUEST_LINUX_ZERO_PAGE + off); }

/* The physical address the loader's page tables map va to (4-level, 2 MiB pages), or
 * ~0 when not mapped. */
static u64 pt_translate(const u8 *mem, u64 cr3, u64 va)
{
	u64 e;
	memcpy(&e, mem + cr3 + ((va >> 39) & 511) * 8, 8);
	if (!(e & 1))
		return ~0ull;
	memcpy(&e, mem + (e & ~0xfffull) + ((va >> 30) & 511) * 8, 8);
	if (!(e & 1))
		return ~0ull;
	memcpy(&e, mem + (e & ~0xfffull) + ((va >> 21) & 511) * 8, 8);
	if (!(e & 1) || !(e & 0x80) || !(e & 2))
		return ~0ull;
	return (e & ~0x1fffffull & ((1ull << 52) - 1)) + (va & 0x1fffff);
}

static void linux_header_recognised(void **state)
{
	(void)state;
	size_t len = bzimage(&bz_default);
	assert_true(linux_is_bzimage(kernel, len));
	assert_false(linux_is_bzimage(kernel, LINUX_HEADER + 4));   /* no version field */
	memcpy(kernel + LINUX_HEADER, "HdrT", 4);
	assert_false(linux_is_bzimage(kernel, len));
	/* a multiboot kernel is not taken for Linux, and mb_load refuses a bzImage */
	struct seg sg = { 1, DATA_OFF, 0x100000, 0x100000, 0x100, 0x100 };
	len = elf32(0x100000, &sg, 1);
	assert_false(linux_is_bzimage(kernel, len));
	len = bzimage(&bz_default);
	assert_false(mb_load(ram, &map16, kernel, len, "", NULL, 0, &out, err, sizeof(err)));
	assert_contains(err, "no multiboot v1 header");
}

/* The kernel at pref_address, the entry state of "64-bit Boot Protocol". */
static void linux_entry_state(void **state)
{
	(void)state;
	size_t len = bzimage(&bz_default);
	if (!linux_load(ram, &map16, kernel, len, "console=ttyS0 x=1", NULL, 0, GUEST_ACPI_RSDP, &out, err,
			sizeof(err)))
		fail_msg("linux_load: %s", err);
	/* the protected-mode kernel, byte for byte, at 4 MiB */
	assert_memory_equal(ram + MiB(4), kernel + 1024, BZ_PAYLOAD);
	assert_int_equal(out.kernel_start, MiB(4));
	assert_int_equal(out.kernel_end, MiB(6));    /* init_size */
	const struct guest_entry_state *c = &out.cpu;
	assert_int_equal(c->mode, GUEST_ENTRY_LONG64);
	assert_int_equal(c->rip, MiB(4) + 0x200);
	assert_int_equal(out.entry, MiB(4) + 0x200);
	assert_int_equal(c->rsi, GUEST_LINUX_ZERO_PAGE);
	assert_int_equal(c->cs, 0x10);
	assert_int_equal(c->ds, 0x18);
	assert_int_equal(c->cr0 & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);
	assert_true(c->cr4 & CR4_PAE);
	assert_int_equal(c->efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
	assert_int_equal(c->rax, 0);
	assert_int_equal(c->rbx, 0);
	/* GDT: __BOOT_CS 64-bit code (L set, D clear, execute/read), __BOOT_DS data */
	assert_int_equal(c->gdt_base, GUEST_LINUX_GDT);
	assert_true(c->gdt_limit >= 0x1f);
	u64 cs = r64(c->gdt_base + 0x10), ds = r64(c->gdt_base + 0x18);
	assert_true(cs & (1ull << 53));                   /* L */
	assert_false(cs & (1ull << 54));                  /* D */
	assert_int_equal((cs >> 40) & 0x9a, 0x9a);   /* present, code, readable */
	assert_int_equal((ds >> 40) & 0x9a, 0x92);   /* present, data, writable */
	assert_int_equal((cs & 0xffff) | ((cs >> 32) & 0xf0000), 0xfffff);   /* 4 GiB with G */
	assert_true(cs & (1ull << 55));
	/* identity map: the kernel's init_size range, the zero page, the command line,
	 * the page tables' own pages and the top of the 4 GiB */
	u64 probes[] = { MiB(4), MiB(4) + 0x200, MiB(6) - 1, GUEST_LINUX_ZERO_PAGE, GUEST_LINUX_CMDLINE,
			 c->cr3, c->gdt_base, 0xfee00000ull, 0xffffffffull };
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++)
		assert_int_equal(pt_translate(ram, c->cr3, probes[i]), probes[i]);
	assert_int_equal(pt_translate(ram, c->cr3, 0x100000000ull), ~0ull);
	/* the loader's pages lie in low RAM below the EBDA, clear of each other */
	assert_true(c->cr3 + 6 * 4096 <= GUEST_LINUX_GDT);
	assert_true(GUEST_LINUX_STACK_TOP <= GUEST_LINUX_ZERO_PAGE);
	assert_true(GUEST_LINUX_CMDLINE_END <= GUEST_LOW_RAM_END);
}

/* The zero page: the kernel's setup header, the loader's fields, the command line. */
static void linux_zero_page(void **state)
{
	(void)state;
	size_t len = bzimage(&bz_default);
	memset(ram + GUEST_LINUX_ZERO_PAGE, 0x77, 4096);
	assert_true(linux_load(ram, &map16, kernel, len, "console=ttyS0 x=1", NULL, 0, GUEST_ACPI_RSDP, &out,
			       err, sizeof(err)));
	assert_memory_equal(ram + GUEST_LINUX_ZERO_PAGE + 0x1f1, kernel + 0x1f1, LINUX_TYPE_OF_LOADER - 0x1f1);
	assert_memory_equal(ram + GUEST_LINUX_ZERO_PAGE + 0x202, "HdrS", 4);
	assert_int_equal(zp8(0x268), 0x5c);
	assert_int_equal(zp8(0x26c), 0);                 /* past the header: zero */
	assert_int_equal(zp8(0), 0);                     /* screen_info zeroed */
	assert_int_equal(zp8(LINUX_TYPE_OF_LOADER), 0xff);
	assert_int_equal(zp32(LINUX_CMD_LINE_PTR), GUEST_LINUX_CMDLINE);
	assert_string_equal((char *)ram + GUEST_LINUX_CMDLINE, "console=ttyS0 x=1");
	assert_int_equal(zp32(LINUX_RAMDISK_IMAGE), 0);
	assert_int_equal(zp32(LINUX_RAMDISK_SIZE), 0);
	/* acpi_rsdp_addr (2.14+): where the ACPI builder puts the RSDP */
	assert_int_equal(zp64(BP_ACPI_RSDP_ADDR), GUEST_ACPI_RSDP);
	assert_true(loader_build_acpi(ram, &map16, 1, 1, err, sizeof(err)));
	assert_memory_equal(ram + zp64(BP_ACPI_RSDP_ADDR), "RSD PTR ", 8);
	/* before 2.14 the field is left zero */
	struct bz b = bz_default;
	b.version = 0x20d;
	len = bzimage(&b);
	assert_true(linux_load(ram, &map16, kernel, len, NULL, NULL, 0, GUEST_ACPI_RSDP, &out, err, sizeof(err)));
	assert_int_equal(zp64(BP_ACPI_RSDP_ADDR), 0);
	assert_string_equal((char *)ram + GUEST_LINUX_CMDLINE, "");
}

/* e820 from a memory map with a hole: RAM below the hole and from 4 GiB usable, the
 * BIOS areas and the MMIO ranges reserved, the PCI window absent. */
static void linux_e820_with_a_hole(void **state)
{
	(void)state;
	struct guest_map m;
	assert_true(guest_map_build(&m, MiB(64), MiB(32), err, sizeof(err)));
	u8 *big = calloc(1, MiB(64));
	assert_non_null(big);
	size_t len = bzimage(&bz_default);
	if (!linux_load(big, &m, kernel, len, "", NULL, 0, GUEST_ACPI_RSDP, &out, err, sizeof(err)))
		fail_msg("linux_load: %s", err);
	const u64 want[][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x100000 - 0x9fc00, 2 }, { 0x100000, MiB(31), 1 },
		{ 0xe0000000ull, 0x100000, 2 }, { 0xfec00000ull, 0x1000, 2 }, { 0xfee00000ull, 0x1000, 2 },
		{ 0xfffc0000ull, 0x40000, 2 }, { 0x100000000ull, MiB(32), 1 },
	};
	const u8 *zp = big + GUEST_LINUX_ZERO_PAGE;
	assert_int_equal(zp[BP_E820_ENTRIES], ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		u64 base, size;
		u32 type;
		memcpy(&base, zp + BP_E820_TABLE + 20 * i, 8);
		memcpy(&size, zp + BP_E820_TABLE + 20 * i + 8, 8);
		memcpy(&type, zp + BP_E820_TABLE + 20 * i + 16, 4);
		assert_int_equal(base, want[i][0]);
		assert_int_equal(size, want[i][1]);
		assert_int_equal(type, want[i][2]);
	}
	/* the initrd goes below the hole, not into the RAM above 4 GiB */
	u8 rd[0x3000];
	memset(rd, 0x3c, sizeof(rd));
	assert_true(linux_load(big, &m, kernel, len, "", rd, sizeof(rd), GUEST_ACPI_RSDP, &out, err, sizeof(err)));
	u32 rd_at;
	memcpy(&rd_at, zp + LINUX_RAMDISK_IMAGE, 4);
	assert_int_equal(rd_at, MiB(32) - 0x3000);
	assert_memory_equal(big + MiB(32) - 0x3000, rd, sizeof(rd));
	free(big);
}

/* Placement: pref_address aligned up to kernel_alignment when relocatable, exactly
 * pref_address when not; a power-of-two alignment is required. */
static void linux_placement_and_alignment(void **state)
{
	(void)state;
	struct bz b = bz_default;
	b.pref = MiB(4) + 0x1000;
	size_t len = bzimage(&b);
	assert_true(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_int_equal(out.kernel_start, MiB(6));
	assert_int_equal(out.cpu.rip, MiB(6) + 0x200);
	assert_memory_equal(ram + MiB(6), kernel + 1024, BZ_PAYLOAD);

	b.relocatable = 0;
	len = bzimage(&b);
	assert_true(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_int_equal(out.kernel_start, MiB(4) + 0x1000);
	assert_int_equal(out.cpu.rip, MiB(4) + 0x1200);

	/* setup_sects 0 means 4: the kernel starts at 5 * 512 */
	b = bz_default;
	b.setup_sects = 0;
	len = bzimage(&b);
	assert_int_equal(len, 5 * 512 + BZ_PAYLOAD);
	assert_true(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_memory_equal(ram + MiB(4), kernel + 5 * 512, BZ_PAYLOAD);

	/* bytes after syssize (a signature) are not loaded */
	b = bz_default;
	len = bzimage(&b);
	memset(ram + MiB(4) + BZ_PAYLOAD, 0xee, 64);
	assert_true(linux_load(ram, &map16, kernel, len + 64, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_int_equal(ram[MiB(4) + BZ_PAYLOAD], 0xee);

	b.align = 0x3000;
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "bad kernel_alignment 0x3000");
	b.align = 0;
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "bad kernel_alignment 0x0");
}

/* The initrd: page aligned at the top of RAM below the hole, or below initrd_addr_max;
 * above the kernel's init_size range. */
static void linux_initrd_placement(void **state)
{
	(void)state;
	static u8 rd[0x2801];
	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = (u8)(i * 13 + 5);
	size_t len = bzimage(&bz_default);
	assert_true(linux_load(ram, &map16, kernel, len, "", rd, sizeof(rd), 0, &out, err, sizeof(err)));
	u64 at = RAM_SIZE - 0x3000;   /* 0x2801 bytes, page aligned down from the end */
	assert_int_equal(zp32(LINUX_RAMDISK_IMAGE), at);
	assert_int_equal(zp32(LINUX_RAMDISK_SIZE), sizeof(rd));
	assert_memory_equal(ram + at, rd, sizeof(rd));
	assert_int_equal(out.mods_end, at + sizeof(rd));

	/* initrd_addr_max below the end of RAM: the initrd ends at or below it */
	struct bz b = bz_default;
	b.initrd_max = MiB(10) - 1;
	len = bzimage(&b);
	assert_true(linux_load(ram, &map16, kernel, len, "", rd, sizeof(rd), 0, &out, err, sizeof(err)));
	assert_int_equal(zp32(LINUX_RAMDISK_IMAGE), MiB(10) - 0x3000);
	assert_true(zp32(LINUX_RAMDISK_IMAGE) + sizeof(rd) - 1 <= b.initrd_max);

	/* exactly fits between the kernel's end (6 MiB) and initrd_addr_max */
	b.initrd_max = MiB(6) + 0x3000 - 1;
	len = bzimage(&b);
	assert_true(linux_load(ram, &map16, kernel, len, "", rd, sizeof(rd), 0, &out, err, sizeof(err)));
	assert_int_equal(zp32(LINUX_RAMDISK_IMAGE), MiB(6));
	b.initrd_max -= 0x1000;
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", rd, sizeof(rd), 0, &out, err, sizeof(err)));
	assert_contains(err, "initrd of 10241 bytes does not fit between the kernel's end 0x600000 and 0x602000 "
			"(initrd_addr_max)");
}

static void linux_bad_images(void **state)
{
	(void)state;
	struct bz b = bz_default;
	size_t len = bzimage(&b);

	/* truncated: the header, the protected-mode kernel */
	assert_false(linux_load(ram, &map16, kernel, 0x240, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "truncated: 576 bytes, the setup header ends at 0x26c");
	assert_false(linux_load(ram, &map16, kernel, len - 1, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "truncated: 17407 bytes, the header says 17408 (setup 1024 + protected-mode kernel 16384)");
	assert_false(linux_load(ram, &map16, kernel, 1000, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "truncated: 1000 bytes");
	/* no "HdrS" */
	assert_false(linux_load(ram, &map16, kernel, 0x100, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "not a Linux kernel");

	/* too old, no 64-bit entry */
	b.version = 0x205;
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "Linux boot protocol 2.05 is older than 2.06");
	b.version = 0x20b;
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "Linux boot protocol 2.11 has no 64-bit entry point");
	b = bz_default;
	b.xloadflags = 0x2;   /* XLF_CAN_BE_LOADED_ABOVE_4G alone */
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "no 64-bit entry point (xloadflags XLF_KERNEL_64 clear)");
	b = bz_default;
	b.loadflags = 0;
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "not a bzImage");

	/* the kernel too big for the VM's RAM: init_size past the end of RAM */
	b = bz_default;
	b.init_size = MiB(12) + 1;
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "kernel needs guest RAM 0x400000-0x1000001 (init_size 12 MiB at the aligned "
			"pref_address 0x400000), RAM below the hole is 1 MiB-16 MiB");
	b.init_size = MiB(12);
	len = bzimage(&b);
	assert_true(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	/* a kernel below 1 MiB */
	b = bz_default;
	b.relocatable = 0;
	b.pref = 0x80000;
	len = bzimage(&b);
	assert_false(linux_load(ram, &map16, kernel, len, "", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "kernel needs guest RAM 0x80000-");

	/* the initrd too big for the VM */
	static u8 rd[MiB(11)];
	len = bzimage(&bz_default);
	assert_false(linux_load(ram, &map16, kernel, len, "", rd, sizeof(rd), 0, &out, err, sizeof(err)));
	assert_contains(err, "initrd of 11534336 bytes does not fit between the kernel's end 0x600000 and 0x1000000 "
			"(the end of RAM below the hole)");
	assert_true(linux_load(ram, &map16, kernel, len, "", rd, MiB(10), 0, &out, err, sizeof(err)));

	/* a command line longer than cmdline_size */
	b = bz_default;
	b.cmdline_size = 4;
	len = bzimage(&b);
	assert_true(linux_load(ram, &map16, kernel, len, "abcd", NULL, 0, 0, &out, err, sizeof(err)));
	assert_false(linux_load(ram, &map16, kernel, len, "abcde", NULL, 0, 0, &out, err, sizeof(err)));
	assert_contains(err, "command line of 5 characters is longer than the kernel's cmdline_size 4");
}

#define T(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(elf32_kernel),
		T(ram_around_a_hole),
		T(elf32_higher_half_and_two_segments),
		T(elf64_kernel),
		T(aout_kludge_kernel),
		T(header_placement),
		T(modules),
		T(mbi_objects_do_not_overlap),
		T(no_header),
		T(bad_checksum),
		T(unsupported_flags),
		T(segments_outside_ram),
		T(low_kernels),
		T(filesz_above_memsz),
		T(program_headers_outside_the_file),
		T(segment_outside_the_file),
		T(entry_outside_the_segments),
		T(other_bad_elf_files),
		T(bad_aout_fields),
		T(module_too_big),
		T(mbi_area_exhausted_by_cmdline),
		T(mbi_area_exhausted_by_module_strings),
		T(small_ram),
		T(linux_header_recognised),
		T(linux_entry_state),
		T(linux_zero_page),
		T(linux_e820_with_a_hole),
		T(linux_placement_and_alignment),
		T(linux_initrd_placement),
		T(linux_bad_images),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
