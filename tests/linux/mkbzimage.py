#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a truncated Linux bzImage for the loader's error path (tests/e2e.manifest,
linux-truncated): a valid setup header (Documentation/arch/x86/boot.rst, "The
Real-Mode Kernel Header": boot protocol 2.15, LOADED_HIGH, XLF_KERNEL_64, relocatable,
pref_address 16 MiB) whose syssize claims a 64 KiB protected-mode kernel, followed by
only 4 KiB of it. The hypervisor must refuse it:
"vm 'NAME': kernel 'FILE': truncated: 5120 bytes, the header says 66560 (...)"."""
import struct
import sys

img = bytearray(1024 + 4096)
img[0x1f1] = 1                                   # setup_sects: 1 + the boot sector
struct.pack_into('<I', img, 0x1f4, 0x10000 // 16)   # syssize (16-byte paragraphs)
struct.pack_into('<H', img, 0x1fe, 0xaa55)       # boot_flag
img[0x200:0x202] = b'\xeb\x6a'                   # jump: the header ends at 0x26c
img[0x202:0x206] = b'HdrS'
struct.pack_into('<H', img, 0x206, 0x020f)       # version 2.15
img[0x211] = 0x01                                # loadflags: LOADED_HIGH
struct.pack_into('<I', img, 0x214, 0x100000)     # code32_start
struct.pack_into('<I', img, 0x22c, 0x7fffffff)   # initrd_addr_max
struct.pack_into('<I', img, 0x230, 0x200000)     # kernel_alignment
img[0x234] = 1                                   # relocatable_kernel
struct.pack_into('<H', img, 0x236, 0x1)          # xloadflags: XLF_KERNEL_64
struct.pack_into('<I', img, 0x238, 2047)         # cmdline_size
struct.pack_into('<Q', img, 0x258, 0x1000000)    # pref_address
struct.pack_into('<I', img, 0x260, 0x200000)     # init_size
with open(sys.argv[1], 'wb') as f:
    f.write(img)
