#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed inputs for tests/fuzz/fuzz_virtq.c: one per request class (good and malformed).
Usage: mkseeds.py DIR"""
import os
import struct
import sys

BASE = 0x1000
DESC, AVAIL, USED, HDR, STATUS, DATA, IND = 0x0000, 0x1000, 0x2000, 0x3000, 0x3100, 0x4000, 0x3200
NEXT, WRITE, INDIRECT = 1, 2, 4
CFG = 4 | 0x10 | 0x20 | 0x80          # queue size 16, EVENT_IDX, INDIRECT, discard


def image(descs, heads, hdr=(0, 0), avail_idx=None, ind=None, cfg=CFG, extra=None):
    mem = bytearray(0x5000)
    for i, (a, ln, fl, nx) in enumerate(descs):
        struct.pack_into('<QIHH', mem, DESC + 16 * i, BASE + a if a < 0x8000 else a, ln, fl, nx)
    for i, (a, ln, fl, nx) in enumerate(ind or []):
        struct.pack_into('<QIHH', mem, IND + 16 * i, BASE + a if a < 0x8000 else a, ln, fl, nx)
    struct.pack_into('<HH', mem, AVAIL, 0, len(heads) if avail_idx is None else avail_idx)
    for i, h in enumerate(heads):
        struct.pack_into('<H', mem, AVAIL + 4 + 2 * i, h)
    struct.pack_into('<IIQ', mem, HDR, hdr[0], 0, hdr[1])
    for off, b in (extra or []):
        mem[off:off + len(b)] = b
    return bytes([cfg]) + bytes(mem)


def std(t, sector, ln, wdata):
    return [(HDR, 16, NEXT, 1), (DATA, ln, NEXT | (WRITE if wdata else 0), 2), (STATUS, 1, WRITE, 0)]


SEEDS = {
    'read': image(std(0, 2, 1024, True), [0], (0, 2)),
    'write': image(std(1, 2, 1024, False), [0], (1, 2)),
    'flush': image([(HDR, 16, NEXT, 1), (STATUS, 1, WRITE, 0)], [0], (4, 0)),
    'getid': image(std(8, 0, 20, True), [0], (8, 0)),
    'discard': image(std(11, 0, 16, False), [0], (11, 0), extra=[(DATA, struct.pack('<QII', 1, 2, 0))]),
    'indirect': image([(IND, 48, INDIRECT, 0)], [0], (0, 0), ind=std(0, 0, 512, True)),
    'unknown-type': image(std(99, 0, 512, True), [0], (99, 0)),
    'flush-data': image(std(4, 0, 512, False), [0], (4, 0)),
    'zero-len': image(std(0, 0, 0, True), [0]),
    'huge': image(std(0, 0, 0x1000000, True), [0]),
    'unmapped': image([(HDR, 16, NEXT, 1), (0xfee00000, 512, NEXT | WRITE, 2), (STATUS, 1, WRITE, 0)], [0]),
    'range': image(std(0, 16, 512, True), [0], (0, 16)),
    'order': image([(HDR, 16, NEXT, 1), (DATA, 512, NEXT | WRITE, 2), (DATA, 16, NEXT, 3), (STATUS, 1, WRITE, 0)], [0]),
    'no-status': image([(HDR, 16, NEXT, 1), (DATA, 512, 0, 0)], [0], (1, 0)),
    'loop': image([(HDR, 16, NEXT, 1), (DATA, 512, NEXT | WRITE, 0)], [0]),
    'next-range': image([(HDR, 16, NEXT, 40)], [0]),
    'head-range': image(std(0, 0, 512, True), [99]),
    'avail-ahead': image(std(0, 0, 512, True), [0], avail_idx=200),
    'indirect-next': image([(IND, 48, INDIRECT | NEXT, 1), (STATUS, 1, WRITE, 0)], [0], ind=std(0, 0, 512, True)),
    'indirect-nested': image([(IND, 32, INDIRECT, 0)], [0], ind=[(HDR, 16, NEXT, 1), (IND, 32, INDIRECT, 0)]),
    'indirect-len': image([(IND, 40, INDIRECT, 0)], [0], ind=std(0, 0, 512, True)),
    'indirect-loop': image([(IND, 32, INDIRECT, 0)], [0], ind=[(HDR, 16, NEXT, 1), (DATA, 512, NEXT | WRITE, 0)]),
    'batch': image(std(0, 0, 512, True), [0, 0, 0, 0]),
}

os.makedirs(sys.argv[1], exist_ok=True)
for name, blob in SEEDS.items():
    with open(os.path.join(sys.argv[1], name), 'wb') as f:
        f.write(blob)
print('%d seeds' % len(SEEDS))
