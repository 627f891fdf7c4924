/* SPDX-License-Identifier: MIT */
/*
 * QEMU's firmware configuration device, traditional I/O interface only (facts from
 * QEMU's docs/specs/fw_cfg.rst, "Selector (Control) Register", "Data Register",
 * "Selector Register IOport", "Firmware Configuration Items"; no QEMU code):
 *   0x510  selector, 16-bit little-endian: a 16-bit write selects an item and resets
 *          the data offset to 0. Other accesses to it read all ones / are dropped.
 *   0x511  data, 8-bit: each read returns the next byte of the selected item; past the
 *          item's end (or for an item this device does not have) reads return 0.
 *          Writes are dropped (the traditional interface's writes are deprecated).
 * Items:
 *   0x0000 signature     "QEMU"
 *   0x0001 ID            32-bit LE 1: traditional interface only (no DMA)
 *   0x0003 RAM size      64-bit LE: the VM's RAM in bytes (mem=)
 *   0x0005 nb_cpus       16-bit LE: the VM's vCPU count
 *   0x0014 cmdline size  32-bit LE: length of the VM's append= including its NUL
 *   0x0015 cmdline data  the append= string with its NUL
 *   0x0019 file dir      32-bit big-endian count 0: no files
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/init/config.h"
#include "hv/lib/lib.h"

#define FWCFG_PORT 0x510
#define FWCFG_LEN 2

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_FILE_DIR 0x19

/* Byte off of the item key (0 past its end). */
static u8 fwcfg_byte(const struct vm *vm, u16 key, u32 off)
{
	u8 buf[8] = { 0 };
	u32 len = 0;
	u64 v;

	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(buf, "QEMU", 4);
		len = 4;
		break;
	case FW_CFG_ID:
		buf[0] = 1;
		len = 4;
		break;
	case FW_CFG_RAM_SIZE:
		v = vm->ram_size;
		memcpy(buf, &v, 8);
		len = 8;
		break;
	case FW_CFG_NB_CPUS:
		v = vm->cfg->vcpus;
		memcpy(buf, &v, 2);
		len = 2;
		break;
	case FW_CFG_CMDLINE_SIZE:
		v = strlen(vm->cfg->append) + 1;
		memcpy(buf, &v, 4);
		len = 4;
		break;
	case FW_CFG_CMDLINE_DATA: {
		size_t n = strlen(vm->cfg->append);
		return off < n ? (u8)vm->cfg->append[off] : 0;
	}
	case FW_CFG_FILE_DIR:
		len = 4;   /* count 0, big-endian */
		break;
	default:
		return 0;
	}
	return off < len ? buf[off] : 0;
}

/* A data read: the byte at the offset, and the offset advanced (it stops at ~0u), as
 * one step against other vCPUs' accesses (a compare-exchange of the state word: no
 * lock, so the exit of a selector access or an unclaimed size takes none). */
static __attribute__((noinline)) u64 fwcfg_data_read(struct fwcfg *f)
{
	u64 s = __atomic_load_n(&f->state, __ATOMIC_RELAXED);
	for (;;) {
		u32 off = (u32)s;
		u8 b = fwcfg_byte(f->dev.vm, (u16)(s >> 32), off);
		if (off == ~0u ||
		    __atomic_compare_exchange_n(&f->state, &s, s + 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return b;
	}
}

static enum io_result fwcfg_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	struct fwcfg *f = container_of(dev, struct fwcfg, dev);
	(void)v;
	if (req->write) {
		/* A 16-bit selector write selects the item and restarts at its first byte;
		 * every other write is dropped. */
		if (off == 0 && req->size == 2)
			__atomic_store_n(&f->state, (u64)(u16)req->value << 32, __ATOMIC_RELAXED);
		return IO_DONE;
	}
	if (off == 1 && req->size == 1)
		req->value = fwcfg_data_read(f);
	else
		req->value = ~0ull;   /* the selector and any other size read all ones */
	return IO_DONE;
}

static const struct io_range_ops fwcfg_ops = { fwcfg_access };

static void fwcfg_reset(struct vdev *dev)
{
	struct fwcfg *f = container_of(dev, struct fwcfg, dev);
	__atomic_store_n(&f->state, 0, __ATOMIC_RELAXED);
}

static void fwcfg_destroy(struct vdev *dev)
{
	io_bus_unregister(dev->vm, IO_SPACE_PORT, FWCFG_PORT, dev);
}

static const struct vdev_ops fwcfg_vops = { fwcfg_reset, fwcfg_destroy };

bool fwcfg_create(struct vm *vm)
{
	struct fwcfg *f = &vm->fwcfg;
	memset(f, 0, sizeof(*f));
	if (!io_bus_register(vm, IO_SPACE_PORT, FWCFG_PORT, FWCFG_LEN, &f->dev, &fwcfg_ops, IO_RANGE_LOCKLESS))
		return false;
	vdev_add(vm, &f->dev, "fw_cfg", &fwcfg_vops);
	return true;
}
