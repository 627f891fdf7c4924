/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 guest loader (Multiboot Specification 0.6.96: "OS image format" and
 * "Boot information format"). The header is searched in the first 8192 bytes; with
 * flag 16 the address fields say where to load, else the image is ELF and its PT_LOAD
 * segments go to their physical addresses. The guest is then entered "in 32-bit
 * protected mode with paging off, EAX = 0x2BADB002, EBX = the information's address"
 * (see write_guest_state() in arch/x86/vmx/vmx.c). Pure: unit-tested on the host.
 */
#include "hv/vm/loader.h"
#include "hv/vm/guest_acpi.h"
#include "hv/lib/lib.h"
#include "arch/x86/x86.h"

#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_SEARCH 8192
#define MBH_PAGE_ALIGN BIT(0)
#define MBH_MEMORY_INFO BIT(1)
#define MBH_VIDEO_MODE BIT(2)
#define MBH_AOUT_KLUDGE BIT(16)

#define MBI_MEM BIT(0)
#define MBI_CMDLINE BIT(2)
#define MBI_MODS BIT(3)
#define MBI_MMAP BIT(6)
#define MBI_LOADER_NAME BIT(9)

struct mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __packed;

struct mbi {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr, drives_length, drives_addr, config_table, boot_loader_name;
} __packed;
_Static_assert(sizeof(struct mbi) == 68, "multiboot info up to boot_loader_name");

struct mbi_mod {
	u32 mod_start, mod_end, string, reserved;
} __packed;

struct mbi_mmap {
	u32 size;
	u64 base, len;
	u32 type;
} __packed;

/* ELF (System V ABI, "ELF Header" and "Program Header") */
struct elf32_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;
struct elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __packed;
struct elf64_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;
struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
} __packed;
#define PT_LOAD 1

static bool fail(char *err, size_t errlen, const char *fmt, ...) __printf(3, 4);
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hv_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

static const struct mb1_header *find_header(const u8 *k, size_t len, size_t *off)
{
	for (size_t o = 0; o + sizeof(struct mb1_header) <= MIN(len, (size_t)MB1_SEARCH) + 0; o += 4) {
		const struct mb1_header *h = (const void *)(k + o);
		if (h->magic == MB1_HEADER_MAGIC && (u32)(h->magic + h->flags + h->checksum) == 0) {
			*off = o;
			return h;
		}
	}
	return NULL;
}

/* The guest's RAM: the host allocation and the map that places it. */
struct guest_ram {
	u8 *ram;
	const struct guest_map *map;
};

/* Place [pa, pa+memsz) with filesz bytes from data; the rest zeroed. The range must
 * lie inside one RAM entry of the map at or above GUEST_KERNEL_LOW_MIN and keep clear
 * of what the loader itself places below 1 MiB: the GDT and boot stack, and the start
 * of the multiboot information (mb_load ends the information area at a kernel above
 * it). */
static bool place(const struct guest_ram *g, u64 pa, const u8 *data, u64 filesz, u64 memsz,
		  struct loader_result *out, char *err, size_t errlen)
{
	u64 off;
	if (filesz > memsz)
		return fail(err, errlen, "segment at 0x%llx has file size above memory size",
			    (unsigned long long)pa);
	if (pa < GUEST_KERNEL_LOW_MIN || pa + memsz < pa || !guest_map_is_ram(g->map, pa, memsz) ||
	    !guest_map_offset(g->map, pa, memsz, &off))
		return fail(err, errlen,
			    "kernel segment 0x%llx-0x%llx outside guest RAM 0x%x-0x%llx, 1 MiB-%llu MiB%s",
			    (unsigned long long)pa, (unsigned long long)(pa + memsz), GUEST_KERNEL_LOW_MIN,
			    (unsigned long long)GUEST_LOW_RAM_END,
			    (unsigned long long)(guest_map_low_end(g->map) >> 20),
			    g->map->nr_spans > 1 ? " and above 4 GiB" : "");
	if (pa < GUEST_BOOT_AREA_END && pa + memsz > GUEST_GDT_ADDR)
		return fail(err, errlen, "kernel segment 0x%llx-0x%llx overlaps the loader's GDT and boot stack "
			    "at 0x%x-0x%x", (unsigned long long)pa, (unsigned long long)(pa + memsz), GUEST_GDT_ADDR,
			    GUEST_BOOT_AREA_END);
	if (pa <= GUEST_MBI_ADDR && pa + memsz > GUEST_MBI_ADDR)
		return fail(err, errlen, "kernel segment 0x%llx-0x%llx overlaps the multiboot information at 0x%x",
			    (unsigned long long)pa, (unsigned long long)(pa + memsz), GUEST_MBI_ADDR);
	if (pa > GUEST_MBI_ADDR && pa < out->mbi_end)
		out->mbi_end = (u32)pa;
	memcpy(g->ram + off, data, filesz);
	memset(g->ram + off + filesz, 0, memsz - filesz);
	if (!out->kernel_start || pa < out->kernel_start)
		out->kernel_start = pa;
	if (pa + memsz > out->kernel_end)
		out->kernel_end = pa + memsz;
	return true;
}

static bool load_elf(const struct guest_ram *g, const u8 *k, size_t len, struct loader_result *out,
		     char *err, size_t errlen)
{
	if (len < 16 || memcmp(k, "\177ELF", 4))
		return fail(err, errlen, "not an ELF file and no multiboot address fields");
	bool is64 = k[4] == 2;
	if (k[4] != 1 && k[4] != 2)
		return fail(err, errlen, "unknown ELF class %u", k[4]);
	u64 entry, phoff;
	u32 phnum, phentsize;
	if (is64) {
		if (len < sizeof(struct elf64_ehdr))
			return fail(err, errlen, "truncated ELF header");
		const struct elf64_ehdr *e = (const void *)k;
		entry = e->entry;
		phoff = e->phoff;
		phnum = e->phnum;
		phentsize = e->phentsize;
		if (phentsize < sizeof(struct elf64_phdr))
			return fail(err, errlen, "bad ELF program header size");
	} else {
		if (len < sizeof(struct elf32_ehdr))
			return fail(err, errlen, "truncated ELF header");
		const struct elf32_ehdr *e = (const void *)k;
		entry = e->entry;
		phoff = e->phoff;
		phnum = e->phnum;
		phentsize = e->phentsize;
		if (phentsize < sizeof(struct elf32_phdr))
			return fail(err, errlen, "bad ELF program header size");
	}
	if (phoff > len || (u64)phnum * phentsize > len - phoff)
		return fail(err, errlen, "ELF program headers outside the file");
	u64 entry_pa = entry;
	bool loaded = false;
	for (u32 i = 0; i < phnum; i++) {
		const u8 *ph = k + phoff + (u64)i * phentsize;
		u64 type, off, vaddr, paddr, filesz, memsz;
		if (is64) {
			const struct elf64_phdr *p = (const void *)ph;
			type = p->type, off = p->offset, vaddr = p->vaddr, paddr = p->paddr;
			filesz = p->filesz, memsz = p->memsz;
		} else {
			const struct elf32_phdr *p = (const void *)ph;
			type = p->type, off = p->offset, vaddr = p->vaddr, paddr = p->paddr;
			filesz = p->filesz, memsz = p->memsz;
		}
		if (type != PT_LOAD || !memsz)
			continue;
		if (off > len || filesz > len - off)
			return fail(err, errlen, "ELF segment %u outside the file", i);
		if (!place(g, paddr, k + off, filesz, memsz, out, err, errlen))
			return false;
		if (entry >= vaddr && entry < vaddr + memsz)
			entry_pa = entry - vaddr + paddr;
		loaded = true;
	}
	if (!loaded)
		return fail(err, errlen, "ELF file has no loadable segment");
	if (entry_pa < out->kernel_start || entry_pa >= out->kernel_end || entry_pa > 0xffffffffull)
		return fail(err, errlen, "entry point 0x%llx is not inside the loaded kernel",
			    (unsigned long long)entry_pa);
	out->entry = (u32)entry_pa;
	return true;
}

static bool load_aout(const struct guest_ram *g, const u8 *k, size_t len, const struct mb1_header *h,
		      size_t hoff, struct loader_result *out, char *err, size_t errlen)
{
	if (h->header_addr < h->load_addr || h->load_addr > h->header_addr)
		return fail(err, errlen, "multiboot header_addr below load_addr");
	u64 file_off = hoff - (h->header_addr - h->load_addr);
	if (file_off > hoff)
		return fail(err, errlen, "multiboot load_addr puts the image before the file start");
	u64 load_end = h->load_end_addr ? h->load_end_addr : h->load_addr + (len - file_off);
	if (load_end < h->load_addr || load_end - h->load_addr > len - file_off)
		return fail(err, errlen, "multiboot load_end_addr beyond the file");
	u64 filesz = load_end - h->load_addr;
	u64 memsz = h->bss_end_addr > load_end ? h->bss_end_addr - h->load_addr : filesz;
	if (!place(g, h->load_addr, k + file_off, filesz, memsz, out, err, errlen))
		return false;
	if (h->entry_addr < out->kernel_start || h->entry_addr >= out->kernel_end)
		return fail(err, errlen, "entry point 0x%x is not inside the loaded kernel", h->entry_addr);
	out->entry = h->entry_addr;
	return true;
}

/* A small bump allocator for the information area [GUEST_MBI_ADDR, end): end is
 * GUEST_MBI_END, or the start of a kernel loaded inside that range. */
struct mbi_area {
	u8 *ram;
	u32 next, end;
};

static u32 mbi_alloc(struct mbi_area *a, u32 size)
{
	u32 at = ALIGN_UP(a->next, 8u);
	if (at + size > a->end)
		return 0;
	a->next = at + size;
	memset(a->ram + at, 0, size);
	return at;
}

static u32 mbi_string(struct mbi_area *a, const char *s)
{
	u32 n = (u32)strlen(s) + 1;
	u32 at = mbi_alloc(a, n);
	if (at)
		memcpy(a->ram + at, s, n);
	return at;
}

bool mb_load(u8 *ram, const struct guest_map *map, const u8 *kernel, size_t klen, const char *cmdline,
	     const struct loader_module *mods, u32 nr_mods, struct loader_result *out,
	     char *err, size_t errlen)
{
	size_t hoff;
	const struct guest_ram g = { ram, map };
	/* span 0 starts at GPA 0, host offset 0, and holds at least 2 MiB: the
	 * information area, the GDT and the BIOS area are at ram + their GPA. */
	u64 low_end = guest_map_low_end(map);

	memset(out, 0, sizeof(*out));
	out->mbi_end = GUEST_MBI_END;
	if (map->nr_spans < 1 || map->span[0].gpa || map->span[0].host_off || low_end < MiB(2))
		return fail(err, errlen, "guest RAM below 2 MiB");
	const struct mb1_header *h = find_header(kernel, klen, &hoff);
	if (!h)
		return fail(err, errlen, "no multiboot v1 header in the first 8 KiB");
	/* "Header magic fields": bits 0-15 are requirements; a loader that cannot meet
	 * one "must notify the user and fail to load the OS image". Bit 2 asks for a
	 * video mode table and a graphics mode, which this loader does not provide. */
	if (h->flags & MBH_VIDEO_MODE)
		return fail(err, errlen, "multiboot header requires video mode information (flag 2), "
			    "which is not provided");
	u32 unsupported = h->flags & 0xffffu & ~(MBH_PAGE_ALIGN | MBH_MEMORY_INFO);
	if (unsupported)
		return fail(err, errlen, "multiboot header requests unsupported features 0x%x", unsupported);

	bool ok = (h->flags & MBH_AOUT_KLUDGE)
			  ? load_aout(&g, kernel, klen, h, hoff, out, err, errlen)
			  : load_elf(&g, kernel, klen, out, err, errlen);
	if (!ok)
		return false;

	/* Modules: page aligned after the kernel, in the RAM below the hole (their
	 * addresses are 32-bit). */
	struct mbi_area a = { ram, GUEST_MBI_ADDR, out->mbi_end };
	u32 info = mbi_alloc(&a, sizeof(struct mbi));
	if (!info)
		return fail(err, errlen, "multiboot information does not fit below 0x%x (the kernel)", a.end);
	struct mbi *mi = (struct mbi *)(ram + info);
	u64 next = ALIGN_UP(MAX(out->kernel_end, (u64)GUEST_KERNEL_MIN), PAGE_SIZE);
	u32 modarr = nr_mods ? mbi_alloc(&a, nr_mods * (u32)sizeof(struct mbi_mod)) : 0;
	for (u32 i = 0; i < nr_mods; i++) {
		if (next + mods[i].len > low_end || next + mods[i].len < next)
			return fail(err, errlen, "module %u (%zu bytes) does not fit in guest RAM below 0x%llx", i,
				    mods[i].len, (unsigned long long)low_end);
		memcpy(ram + next, mods[i].data, mods[i].len);
		struct mbi_mod *m = (struct mbi_mod *)(ram + modarr) + i;
		m->mod_start = (u32)next;
		m->mod_end = (u32)(next + mods[i].len);
		m->string = mbi_string(&a, mods[i].string ? mods[i].string : "");
		if (!m->string)
			return fail(err, errlen, "multiboot information does not fit below %s0x%x",
				    a.end == GUEST_MBI_END ? "640 KiB, " : "the kernel at ", a.end);
		next = ALIGN_UP(next + mods[i].len, PAGE_SIZE);
	}
	out->mods_end = next;

	/* Memory map: the VM's e820 view (low RAM, the BIOS ranges where the ACPI tables
	 * live, RAM up to the hole, the reserved MMIO, RAM above 4 GiB). */
	struct e820_range r[GMAP_MAX_ENTRIES];
	u32 n_mmap = guest_map_e820(map, r, ARRAY_SIZE(r));
	if (n_mmap > ARRAY_SIZE(r))
		return fail(err, errlen, "guest memory map has more than %zu ranges", ARRAY_SIZE(r));
	u32 mm = mbi_alloc(&a, n_mmap * (u32)sizeof(struct mbi_mmap));
	u32 cmd = mbi_string(&a, cmdline ? cmdline : "");
	u32 lname = mbi_string(&a, "microhv");
	if (!info || !mm || !cmd || !lname || (nr_mods && !modarr))
		return fail(err, errlen, "multiboot information does not fit below %s0x%x",
				    a.end == GUEST_MBI_END ? "640 KiB, " : "the kernel at ", a.end);
	struct mbi_mmap *e = (struct mbi_mmap *)(ram + mm);
	for (u32 i = 0; i < n_mmap; i++)
		e[i] = (struct mbi_mmap){ 20, r[i].base, r[i].size, r[i].type };

	mi->flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME | (nr_mods ? MBI_MODS : 0);
	mi->mem_lower = GUEST_LOW_RAM_END / 1024;
	mi->mem_upper = (u32)((low_end - GUEST_HIGH_RAM) / 1024);
	mi->cmdline = cmd;
	mi->mods_count = nr_mods;
	mi->mods_addr = modarr;
	mi->mmap_length = n_mmap * (u32)sizeof(struct mbi_mmap);
	mi->mmap_addr = mm;
	mi->boot_loader_name = lname;

	/* A flat GDT for kernels that reload segments without loading their own. */
	u64 *gdt = (u64 *)(ram + GUEST_GDT_ADDR);
	gdt[0] = 0;
	gdt[1] = 0x00cf9b000000ffffull;   /* 0x08: 32-bit code, base 0, 4 GiB */
	gdt[2] = 0x00cf93000000ffffull;   /* 0x10: data */
	gdt[3] = 0;
	out->mbi = info;
	out->cpu = (struct guest_entry_state){
		.mode = GUEST_ENTRY_PROT32, .rip = out->entry, .rsp = GUEST_STACK_TOP,
		.cr0 = CR0_PE | CR0_ET, .gdt_base = GUEST_GDT_ADDR, .gdt_limit = 0x17,
		.cs = GUEST_CS, .ds = GUEST_DS, .rax = 0x2BADB002, .rbx = info,
	};
	return true;
}

/* ---- Linux: Documentation/arch/x86/boot.rst ("The Linux/x86 Boot Protocol") ---- */

static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }
static void wr32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void wr64(u8 *p, u64 v) { memcpy(p, &v, 8); }

bool linux_is_bzimage(const u8 *kernel, size_t klen)
{
	return klen >= LINUX_VERSION + 2 && !memcmp(kernel + LINUX_HEADER, "HdrS", 4);
}

/* The end of struct boot_params' setup header (0x1f1 + sizeof(struct setup_header)
 * in "The Zero Page"): what a header longer than the structure adds is not copied. */
#define BP_HDR_END 0x290

bool linux_load(u8 *ram, const struct guest_map *map, const u8 *k, size_t klen, const char *cmdline,
		const u8 *initrd, size_t initrd_len, u64 rsdp, struct loader_result *out,
		char *err, size_t errlen)
{
	u64 low_end = guest_map_low_end(map);

	memset(out, 0, sizeof(*out));
	if (map->nr_spans < 1 || map->span[0].gpa || map->span[0].host_off || low_end < MiB(2))
		return fail(err, errlen, "guest RAM below 2 MiB");
	if (!linux_is_bzimage(k, klen))
		return fail(err, errlen, "not a Linux kernel (no \"HdrS\" at 0x%x)", LINUX_HEADER);
	/* "Details of Header Fields": version is (major << 8) + minor. The 64-bit entry
	 * needs the fields of 2.12 (xloadflags) and later; 2.06 is named as the oldest
	 * protocol this loader reads at all (cmdline_size). */
	u16 version = rd16(k + LINUX_VERSION);
	if (version < 0x206)
		return fail(err, errlen, "Linux boot protocol %u.%02u is older than 2.06", version >> 8, version & 0xff);
	if (version < 0x20c)
		return fail(err, errlen, "Linux boot protocol %u.%02u has no 64-bit entry point (xloadflags "
			    "XLF_KERNEL_64 needs 2.12)", version >> 8, version & 0xff);
	/* "The end of setup header can be calculated as follows: 0x0202 + byte value at
	 * offset 0x0201" (the jump instruction's displacement). */
	size_t hdr_end = LINUX_HEADER + k[LINUX_JUMP + 1];
	if (hdr_end < LINUX_HEADER_MIN_END)
		hdr_end = LINUX_HEADER_MIN_END;
	if (klen < hdr_end)
		return fail(err, errlen, "truncated: %zu bytes, the setup header ends at 0x%zx", klen, hdr_end);
	if (!(rd16(k + LINUX_XLOADFLAGS) & LINUX_XLF_KERNEL_64))
		return fail(err, errlen, "no 64-bit entry point (xloadflags XLF_KERNEL_64 clear)");
	if (!(k[LINUX_LOADFLAGS] & LINUX_LOADED_HIGH))
		return fail(err, errlen, "not a bzImage (loadflags LOADED_HIGH clear: loads below 1 MiB)");

	/* "Loading The Rest of The Kernel": the protected-mode kernel follows the
	 * (setup_sects + 1) 512-byte sectors of the real-mode code (setup_sects 0 means
	 * 4); syssize counts its 16-byte paragraphs. Bytes after it (a signature) are not
	 * part of the kernel. */
	u32 setup_sects = k[LINUX_SETUP_SECTS] ? k[LINUX_SETUP_SECTS] : 4;
	u64 setup_len = (u64)(setup_sects + 1) * 512;
	u64 payload = (u64)rd32(k + LINUX_SYSSIZE) * 16;
	if (!payload || klen < setup_len || klen - setup_len < payload)
		return fail(err, errlen, "truncated: %zu bytes, the header says %llu (setup %llu + protected-mode "
			    "kernel %llu)", klen, (unsigned long long)(setup_len + payload),
			    (unsigned long long)setup_len, (unsigned long long)payload);

	/* Where it goes ("pref_address", "relocatable_kernel", "kernel_alignment",
	 * "init_size"): the kernel needs init_size bytes from its load address to
	 * decompress in place. A relocatable kernel may go to any kernel_alignment
	 * boundary, but it runs at pref_address at the lowest, so that is where it goes. */
	u64 pref = rd64(k + LINUX_PREF_ADDRESS);
	u32 align = rd32(k + LINUX_KERNEL_ALIGNMENT);
	bool relocatable = k[LINUX_RELOCATABLE] != 0;
	u64 load = pref;
	if (relocatable) {
		if (!align || (align & (align - 1)))
			return fail(err, errlen, "bad kernel_alignment 0x%x (not a power of two)", align);
		load = ALIGN_UP(pref, (u64)align);
	}
	u64 init_size = rd32(k + LINUX_INIT_SIZE);
	u64 footprint = MAX(init_size, payload);
	if (load < GUEST_HIGH_RAM || load + footprint < load || !guest_map_is_ram(map, load, footprint))
		return fail(err, errlen, "kernel needs guest RAM 0x%llx-0x%llx (init_size %llu MiB at %s 0x%llx), "
			    "RAM below the hole is 1 MiB-%llu MiB", (unsigned long long)load,
			    (unsigned long long)(load + footprint), (unsigned long long)(init_size >> 20),
			    relocatable ? "the aligned pref_address" : "pref_address", (unsigned long long)load,
			    (unsigned long long)(low_end >> 20));
	u64 kernel_end = load + footprint;

	/* The command line: cmdline_size characters at most, NUL-terminated. */
	size_t clen = cmdline ? strlen(cmdline) : 0;
	u32 cmax = rd32(k + LINUX_CMDLINE_SIZE);
	if (clen > cmax || clen + 1 > GUEST_LINUX_CMDLINE_END - GUEST_LINUX_CMDLINE)
		return fail(err, errlen, "command line of %zu characters is longer than the kernel's cmdline_size %u",
			    clen, MIN(cmax, (u32)(GUEST_LINUX_CMDLINE_END - GUEST_LINUX_CMDLINE - 1)));

	/* The initrd ("initrd_addr_max": the highest address its contents may occupy):
	 * page aligned, as high as it fits below that and below the end of RAM under the
	 * hole, above the kernel's init_size range. */
	u64 rd_start = 0;
	if (initrd_len) {
		u64 rd_max = (u64)rd32(k + LINUX_INITRD_ADDR_MAX) + 1;
		u64 top = MIN(rd_max, low_end);
		if (initrd_len <= top)
			rd_start = ALIGN_DOWN(top - initrd_len, PAGE_SIZE);
		if (initrd_len > top || rd_start < kernel_end || rd_start + initrd_len > 0xffffffffull)
			return fail(err, errlen, "initrd of %zu bytes does not fit between the kernel's end 0x%llx and "
				    "0x%llx (%s)", initrd_len, (unsigned long long)kernel_end,
				    (unsigned long long)top,
				    top == low_end ? "the end of RAM below the hole" : "initrd_addr_max");
	}

	/* The zero page ("64-bit Boot Protocol"; its layout: "The Zero Page"): all zero,
	 * then the kernel's setup header copied in, then the loader's fields. */
	struct e820_range r[GMAP_MAX_ENTRIES];
	u32 n_e820 = guest_map_e820(map, r, ARRAY_SIZE(r));
	if (n_e820 > ARRAY_SIZE(r) || n_e820 > BP_E820_MAX)
		return fail(err, errlen, "guest memory map has more than %zu ranges", ARRAY_SIZE(r));
	u8 *zp = ram + GUEST_LINUX_ZERO_PAGE;
	memset(zp, 0, PAGE_SIZE);
	memcpy(zp + LINUX_SETUP_SECTS, k + LINUX_SETUP_SECTS, MIN(hdr_end, (size_t)BP_HDR_END) - LINUX_SETUP_SECTS);
	zp[LINUX_TYPE_OF_LOADER] = 0xff;   /* "undefined" boot loader ID */
	wr32(zp + LINUX_CMD_LINE_PTR, GUEST_LINUX_CMDLINE);
	wr32(zp + LINUX_RAMDISK_IMAGE, (u32)rd_start);
	wr32(zp + LINUX_RAMDISK_SIZE, (u32)initrd_len);
	if (version >= 0x20e)
		wr64(zp + BP_ACPI_RSDP_ADDR, rsdp);
	/* e820 entries: 64-bit address, 64-bit size, 32-bit type (20 bytes each). */
	zp[BP_E820_ENTRIES] = (u8)n_e820;
	for (u32 i = 0; i < n_e820; i++) {
		u8 *e = zp + BP_E820_TABLE + 20 * i;
		wr64(e, r[i].base);
		wr64(e + 8, r[i].size);
		wr32(e + 16, r[i].type);
	}
	memset(ram + GUEST_LINUX_CMDLINE, 0, clen + 1);
	if (clen)
		memcpy(ram + GUEST_LINUX_CMDLINE, cmdline, clen);

	memcpy(ram + load, k + setup_len, payload);
	if (initrd_len)
		memcpy(ram + rd_start, initrd, initrd_len);

	/* "64-bit Boot Protocol": 64-bit mode, paging on with an identity map of the
	 * kernel's init_size range, the zero page and the command line (here all of 0-4
	 * GiB in 2 MiB pages: "Hierarchical Paging Structures", 4-level paging); a GDT
	 * with 4 GiB flat __BOOT_CS (execute/read) and __BOOT_DS (read/write) at 0x10 and
	 * 0x18 (the code descriptor with L set, D clear: "Segment Descriptors"). */
	u64 *pml4 = (u64 *)(ram + GUEST_LINUX_PT);
	u64 *pdpt = pml4 + 512;
	u64 *pd = pdpt + 512;
	memset(pml4, 0, 6 * PAGE_SIZE);
	pml4[0] = (GUEST_LINUX_PT + PAGE_SIZE) | 0x3;   /* present, writable */
	for (u64 i = 0; i < 4; i++)
		pdpt[i] = (GUEST_LINUX_PT + (2 + i) * PAGE_SIZE) | 0x3;
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;                 /* present, writable, 2 MiB page */
	u64 *gdt = (u64 *)(ram + GUEST_LINUX_GDT);
	gdt[0] = gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffull;   /* 0x10: 64-bit code, base 0, limit 4 GiB */
	gdt[3] = 0x00cf93000000ffffull;   /* 0x18: data */

	out->kernel_start = load;
	out->kernel_end = kernel_end;
	out->mods_end = initrd_len ? rd_start + initrd_len : 0;
	out->entry = (u32)(load + LINUX_64BIT_ENTRY);
	out->mbi = GUEST_LINUX_ZERO_PAGE;
	out->cpu = (struct guest_entry_state){
		.mode = GUEST_ENTRY_LONG64, .rip = load + LINUX_64BIT_ENTRY, .rsp = GUEST_LINUX_STACK_TOP,
		.cr0 = CR0_PE | CR0_ET | CR0_PG, .cr3 = GUEST_LINUX_PT, .cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA, .gdt_base = GUEST_LINUX_GDT, .gdt_limit = 0x1f,
		.cs = LINUX_BOOT_CS, .ds = LINUX_BOOT_DS, .rsi = GUEST_LINUX_ZERO_PAGE,
	};
	return true;
}

bool loader_build_acpi(u8 *ram, const struct guest_map *map, u32 nr_vcpus, u8 ioapic_id, char *err, size_t errlen)
{
	struct guest_acpi_config c;
	_Static_assert(GUEST_ACPI_BASE >= GUEST_ROM_BASE && GUEST_ACPI_END <= GUEST_HIGH_RAM,
		       "the ACPI tables are in the range the memory map reserves (GMAP_BIOS)");
	guest_acpi_default(&c, nr_vcpus, ioapic_id);
	c.pci_win32_base = (u32)map->hole;   /* the host bridge's window starts at the hole */
	/* they live in span 0, at ram + their GPA */
	return guest_acpi_build(ram, guest_map_low_end(map), &c, err, errlen);
}
