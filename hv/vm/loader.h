/* SPDX-License-Identifier: MIT */
/* Loading multiboot v1 kernels and Linux bzImages into guest RAM, as QEMU's -kernel does. */
#ifndef HV_LOADER_H
#define HV_LOADER_H

#include "hv/lib/types.h"
#include "hv/mm/guest_map.h"

#define GUEST_GDT_ADDR 0x6000
#define GUEST_STACK_TOP 0x7ff0
#define GUEST_MBI_ADDR 0x9000
#define GUEST_MBI_END 0x9f000
#define GUEST_KERNEL_MIN 0x100000   /* where modules go at the lowest (above a low kernel) */
#define GUEST_KERNEL_LOW_MIN 0x1000 /* the lowest address a kernel segment may use */
#define GUEST_BOOT_AREA_END 0x8000  /* [GUEST_GDT_ADDR, this): the GDT and the boot stack */
#define GUEST_CS 0x08
#define GUEST_DS 0x10

struct loader_module {
	const u8 *data;
	size_t len;
	const char *string;   /* the module's string handed to the guest */
};

/* The state vCPU 0 starts in, as the loader asks for it; write_guest_state()
 * (arch/x86/vmx/vmx.c) applies it. Segments are flat (base 0, limit 4 GiB): cs for CS
 * (64-bit code in GUEST_ENTRY_LONG64), ds for DS, ES, SS, FS and GS. The control
 * registers are the values the guest reads (CR0/CR4 read shadows). RFLAGS.IF is 0. */
enum guest_entry_mode {
	GUEST_ENTRY_PROT32,   /* 32-bit protected mode, paging off (multiboot) */
	GUEST_ENTRY_LONG64,   /* 64-bit mode, 4-level paging (Linux's 64-bit boot protocol) */
};

struct guest_entry_state {
	enum guest_entry_mode mode;
	u64 rip, rsp;
	u64 cr0, cr3, cr4, efer;
	u32 gdt_base;
	u16 gdt_limit;
	u16 cs, ds;
	u64 rax, rbx, rsi;
};

struct loader_result {
	struct guest_entry_state cpu;
	u32 entry;            /* EIP (multiboot), RIP (Linux: startup_64) */
	u32 mbi;              /* EBX (multiboot), RSI (Linux: the zero page) */
	u64 kernel_start, kernel_end, mods_end;
	u32 mbi_end;          /* the information area's end: GUEST_MBI_END, or the lowest
			       * kernel segment inside the area */
};

/* Load kernel (a multiboot v1 image: ELF32, ELF64, or with the header's address fields)
 * and modules into the VM's RAM and build the multiboot information. ram is the host
 * allocation that map places in guest-physical space (hv/mm/guest_map.h): segments go
 * to RAM entries of the map at or above GUEST_KERNEL_LOW_MIN, outside the GDT and boot
 * stack [GUEST_GDT_ADDR, GUEST_BOOT_AREA_END) and not over GUEST_MBI_ADDR (a kernel
 * that starts inside the information area ends the area there: the information must
 * fit below it), modules after the kernel below the hole,
 * and the information's memory map is guest_map_e820() (mem_lower/mem_upper: the RAM
 * below 640 KiB and from 1 MiB up to the hole). */
bool mb_load(u8 *ram, const struct guest_map *map, const u8 *kernel, size_t klen, const char *cmdline,
	     const struct loader_module *mods, u32 nr_mods, struct loader_result *out,
	     char *err, size_t errlen);

/* ---- Linux (Documentation/arch/x86/boot.rst, "The Linux/x86 Boot Protocol") ----
 *
 * The loader's area below 1 MiB, all in e820 RAM that the kernel only uses after it
 * has copied the zero page and command line and switched to its own page tables and
 * GDT (startup_64 does both before anything else):
 *
 *   [GUEST_LINUX_PT, +6 pages)       PML4, PDPT, 4 PDs: 0-4 GiB identity, 2 MiB pages
 *   GUEST_LINUX_GDT                  null, null, __BOOT_CS (0x10), __BOOT_DS (0x18)
 *   [.., GUEST_LINUX_STACK_TOP)      a boot stack (the protocol asks for none)
 *   GUEST_LINUX_ZERO_PAGE            struct boot_params
 *   [GUEST_LINUX_CMDLINE, _END)      the command line
 */
#define GUEST_LINUX_PT 0x1000
#define GUEST_LINUX_GDT 0x7000
#define GUEST_LINUX_STACK_TOP 0x9000
#define GUEST_LINUX_ZERO_PAGE 0x10000
#define GUEST_LINUX_CMDLINE 0x11000
#define GUEST_LINUX_CMDLINE_END 0x20000
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

/* Offsets in a bzImage / struct boot_params ("The Real-Mode Kernel Header", "The
 * Zero Page"). The setup header starts at 0x1f1 in both. */
#define LINUX_SETUP_SECTS 0x1f1
#define LINUX_SYSSIZE 0x1f4
#define LINUX_BOOT_FLAG 0x1fe
#define LINUX_JUMP 0x200
#define LINUX_HEADER 0x202        /* "HdrS" */
#define LINUX_VERSION 0x206
#define LINUX_TYPE_OF_LOADER 0x210
#define LINUX_LOADFLAGS 0x211
#define LINUX_CODE32_START 0x214
#define LINUX_RAMDISK_IMAGE 0x218
#define LINUX_RAMDISK_SIZE 0x21c
#define LINUX_CMD_LINE_PTR 0x228
#define LINUX_INITRD_ADDR_MAX 0x22c
#define LINUX_KERNEL_ALIGNMENT 0x230
#define LINUX_RELOCATABLE 0x234
#define LINUX_XLOADFLAGS 0x236
#define LINUX_CMDLINE_SIZE 0x238
#define LINUX_PREF_ADDRESS 0x258
#define LINUX_INIT_SIZE 0x260
#define LINUX_HEADER_MIN_END 0x264  /* a 2.12+ header reaches at least to init_size's end */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define LINUX_LOADED_HIGH BIT(0)
#define LINUX_XLF_KERNEL_64 BIT(0)
#define LINUX_64BIT_ENTRY 0x200     /* startup_64: offset into the protected-mode kernel */

/* A Linux kernel image: "HdrS" at LINUX_HEADER (boot protocol 2.00 and later). */
bool linux_is_bzimage(const u8 *kernel, size_t klen);

/* Load a bzImage as the 64-bit boot protocol describes ("64-bit Boot Protocol"): the
 * protected-mode kernel at pref_address (aligned to kernel_alignment when
 * relocatable), whose init_size bytes must lie in RAM below the hole; the initrd
 * (when initrd_len > 0) page-aligned as high as possible below initrd_addr_max and the
 * end of RAM below the hole, above the kernel's init_size; the zero page with the
 * guest_map_e820() map, the command line, acpi_rsdp_addr (protocol 2.14+) = rsdp; the
 * page tables and GDT above; out->cpu: 64-bit mode at startup_64 with RSI = the zero
 * page. false + a message naming the reason for an image that is not a bzImage, is
 * truncated, has a protocol older than 2.06 or no 64-bit entry point
 * (XLF_KERNEL_64), or a kernel, initrd or command line that does not fit. */
bool linux_load(u8 *ram, const struct guest_map *map, const u8 *kernel, size_t klen, const char *cmdline,
		const u8 *initrd, size_t initrd_len, u64 rsdp, struct loader_result *out,
		char *err, size_t errlen);

/* The guest's ACPI tables in its BIOS area (hv/vm/guest_acpi.h): nr_vcpus local APICs
 * with IDs 0..nr_vcpus-1, the vIOAPIC with ioapic_id, the PM ports hv/vio.c emulates.
 * The memory map mb_load() writes marks that area reserved. */
bool loader_build_acpi(u8 *ram, const struct guest_map *map, u32 nr_vcpus, u8 ioapic_id, char *err, size_t errlen);

#endif
