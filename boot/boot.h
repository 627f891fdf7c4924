/* SPDX-License-Identifier: MIT */
/* Constants shared by the boot assembly and C. */
#ifndef BOOT_BOOT_H
#define BOOT_BOOT_H

#define GDT_CODE64 0x08
#define GDT_DATA 0x10
#define GDT_CODE32 0x18
#define GDT_TSS 0x20
#define GDT_ENTRIES 6            /* null, code64, data, code32, TSS (2 slots) */

#define BOOT_STACK_SIZE 16384
#define TRAMPOLINE_BASE 0x8000   /* AP start-up code: SIPI vector 0x08 */

#ifndef __ASSEMBLER__
#include "hv/lib/types.h"

extern u64 boot_pml4[512];
extern u32 boot_efer;
extern const char trampoline_start[], trampoline_end[];
extern char tramp_cr3[], tramp_efer[], tramp_stack[], tramp_cpu[], tramp_entry[];
extern char _image_start[], _edata[], _end[];

void boot_main(u32 magic, u32 info) __noreturn;
#endif

#endif
