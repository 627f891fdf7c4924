/* SPDX-License-Identifier: MIT */
/*
 * A minimal 8042 keyboard controller at I/O 0x60 (data) and 0x64 (status / command),
 * after the IBM PC AT Technical Reference, "Keyboard Controller" (status register,
 * commands, input and output ports). There is no keyboard and no mouse behind it, and
 * it never raises IRQ 1 or IRQ 12.
 *
 * The guest's story (docs/INTERFACES.md, "Guest platform"): the FADT's IAPC_BOOT_ARCH
 * leaves "8042" clear and the DSDT declares no PS/2 device, so an ACPI OS is told there
 * is no keyboard controller and does not drive one (Linux's i8042 driver then reports
 * no PS/2 controller and stays away). The controller still answers, because the reset
 * line is a reboot path OSes use whatever the tables say (Linux tries it after the
 * ACPI reset register), and firmware-style probes get sane replies:
 *   status (0x64 read): OBF (bit 0) while a reply waits; IBF (bit 1) is always 0, a
 *     command takes effect at once; SYS (bit 2) as the command byte's bit 2 (1 after
 *     power-on: self-test passed); A2 (bit 3) 1 when the last write went to 0x64;
 *     INH (bit 4) 1 (not inhibited); bits 7:5 0 (no mouse data, no time-out, no parity
 *     error);
 *   0x60 read: the output buffer (OBF clears; with nothing waiting, the last byte again);
 *   commands: 0x20 read the command byte; 0x60 write it (next byte at 0x60); 0xA7/0xA8
 *     disable/enable the mouse port and 0xAD/0xAE the keyboard port (command-byte bits
 *     5 and 4); 0xA9 and 0xAB interface tests reply 0x00 (no error); 0xAA self-test
 *     replies 0x55; 0xC0 read input port replies 0x00; 0xD0 read output port replies
 *     0x03 (reset line inactive, A20 on); 0xD1 write output port: bit 0 written 0
 *     asserts the reset line; 0xD2 / 0xD3 put the next byte into the output buffer as if
 *     from the keyboard / mouse (the loopback a probe uses); 0xD4 (to the mouse) takes
 *     and drops the next byte; 0xF0-0xFF pulse the output port lines whose bit is 0 in
 *     the command's low nibble: line 0 is the reset (0xFE). Other commands are ignored.
 *   0x60 write without a pending command: a byte for the keyboard, which is not there:
 *     dropped, no reply.
 * A reset goes to vm_reset_request() (hv/dev/reset.c).
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/lib/lib.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64

#define ST_OBF BIT(0)
#define ST_SYS BIT(2)
#define ST_A2 BIT(3)
#define ST_INH BIT(4)

#define CTR_KBD_INT BIT(0)
#define CTR_SYS BIT(2)
#define CTR_KBD_DISABLE BIT(4)
#define CTR_AUX_DISABLE BIT(5)
#define CTR_XLATE BIT(6)

#define OUTPORT_RESET_N BIT(0)   /* system reset, active low */
#define OUTPORT_A20 BIT(1)

static void reply(struct i8042 *k, u8 b)
{
	k->out = b;
	k->obf = true;
}

static enum io_result command(struct i8042 *k, struct vcpu *v, u8 cmd)
{
	k->wait_data = 0;
	switch (cmd) {
	case 0x20:
		reply(k, k->ctr);
		break;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->wait_data = cmd;
		break;
	case 0xa7:
		k->ctr |= CTR_AUX_DISABLE;
		break;
	case 0xa8:
		k->ctr &= (u8)~CTR_AUX_DISABLE;
		break;
	case 0xa9:
	case 0xab:
		reply(k, 0x00);
		break;
	case 0xaa:
		k->ctr |= CTR_SYS;
		reply(k, 0x55);
		break;
	case 0xad:
		k->ctr |= CTR_KBD_DISABLE;
		break;
	case 0xae:
		k->ctr &= (u8)~CTR_KBD_DISABLE;
		break;
	case 0xc0:
		reply(k, 0x00);
		break;
	case 0xd0:
		reply(k, OUTPORT_RESET_N | OUTPORT_A20);
		break;
	default:
		if (cmd >= 0xf0 && !(cmd & OUTPORT_RESET_N))
			return vm_reset_request(v, "the keyboard controller's reset line (command to 0x64)", cmd);
		break;
	}
	return IO_DONE;
}

static enum io_result data_write(struct i8042 *k, struct vcpu *v, u8 val)
{
	u8 cmd = k->wait_data;
	k->wait_data = 0;
	switch (cmd) {
	case 0x60:
		k->ctr = val;
		break;
	case 0xd1:
		if (!(val & OUTPORT_RESET_N))
			return vm_reset_request(v, "the keyboard controller's reset line (output port)", val);
		break;   /* A20 (bit 1) is always on in a VM */
	case 0xd2:
	case 0xd3:
		reply(k, val);
		break;
	default:   /* 0xd4 (to the mouse) or a byte for the keyboard: nobody there */
		break;
	}
	return IO_DONE;
}

static enum io_result i8042_access(struct vdev *dev, struct vcpu *v, struct io_req *req, bool is_cmd)
{
	struct i8042 *k = container_of(dev, struct i8042, dev);
	if (req->size != 1) {   /* byte registers: the ISA bus splits wider accesses, never here */
		if (!req->write)
			req->value = ~0ull;
		return IO_DONE;
	}
	if (!req->write) {
		if (is_cmd) {
			req->value = (k->obf ? ST_OBF : 0) | (k->ctr & CTR_SYS ? ST_SYS : 0) |
				     (k->last_cmd ? ST_A2 : 0) | ST_INH;
		} else {
			req->value = k->out;
			k->obf = false;
		}
		return IO_DONE;
	}
	k->last_cmd = is_cmd;
	return is_cmd ? command(k, v, (u8)req->value) : data_write(k, v, (u8)req->value);
}

static enum io_result data_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)off;
	return i8042_access(dev, v, req, false);
}

static enum io_result cmd_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)off;
	return i8042_access(dev, v, req, true);
}

static const struct io_range_ops data_ops = { data_access };
static const struct io_range_ops cmd_ops = { cmd_access };

/* Power-on: self-test passed (SYS), keyboard interrupt and translation on, as firmware
 * leaves the command byte. */
static void i8042_reset(struct vdev *dev)
{
	struct i8042 *k = container_of(dev, struct i8042, dev);
	u64 f = spin_lock_irqsave(&dev->lock);
	k->ctr = CTR_KBD_INT | CTR_SYS | CTR_XLATE;
	k->out = 0;
	k->obf = k->last_cmd = false;
	k->wait_data = 0;
	spin_unlock_irqrestore(&dev->lock, f);
}

static void i8042_destroy(struct vdev *dev)
{
	io_bus_unregister(dev->vm, IO_SPACE_PORT, I8042_DATA, dev);
	io_bus_unregister(dev->vm, IO_SPACE_PORT, I8042_CMD, dev);
}

static const struct vdev_ops i8042_vops = { i8042_reset, i8042_destroy };

bool i8042_create(struct vm *vm)
{
	struct i8042 *k = &vm->kbc;
	memset(k, 0, sizeof(*k));
	/* Two one-byte ranges: 0x61 between them is the PIT's (hv/dev/pit.c). */
	if (!io_bus_register(vm, IO_SPACE_PORT, I8042_DATA, 1, &k->dev, &data_ops, 0) ||
	    !io_bus_register(vm, IO_SPACE_PORT, I8042_CMD, 1, &k->dev, &cmd_ops, 0))
		return false;
	vdev_add(vm, &k->dev, "i8042", &i8042_vops);
	i8042_reset(&k->dev);
	return true;
}
