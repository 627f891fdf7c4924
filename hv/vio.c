/* SPDX-License-Identifier: MIT */
/*
 * Guest port I/O. Every guest port access exits ("unconditional I/O exiting"), so no
 * guest ever reaches a port of the machine. Emulated: COM1 (0x3f8-0x3ff), QEMU's
 * isa-debug-exit (0xf4: a write of V stops the VM with status (V << 1) | 1), the
 * masked 8259 pair and its ELCR (hv/vpic.c) and the ACPI PM1 registers and PM timer
 * at 0x600-0x60b (below; docs/INTERFACES.md, "Guest platform"). Every
 * other port is unassigned: reads return all ones, writes are dropped, as on a PC bus
 * with nothing decoding the address.
 */
#include "hv/vm.h"
#include "hv/hypercall.h"
#include "hv/guest_acpi.h"
#include "hv/lib.h"
#include "hv/time.h"
#include "hv/vpic.h"

#define COM1_BASE 0x3f8
#define DEBUG_EXIT_PORT 0xf4

/* Byte-wide devices (the 8259s, the ELCR) behind a port access of any width: byte i of
 * the access goes to port + i, as on the ISA bus. false when no byte is theirs. */
static bool vpic_io(struct vm *vm, u16 port, unsigned size, bool in, u32 *val)
{
	bool ours = false;
	for (unsigned i = 0; i < size; i++)
		ours |= vpic_port((u16)(port + i));
	if (!ours)
		return false;
	u32 r = 0;
	for (unsigned i = 0; i < size; i++) {
		u16 p = (u16)(port + i);
		if (in)
			r |= (u32)(vpic_port(p) ? vpic_read(&vm->pic, p) : 0xff) << (8 * i);
		else if (vpic_port(p))
			vpic_write(&vm->pic, p, (u8)(*val >> (8 * i)));
	}
	if (in)
		*val = r;
	return true;
}

/*
 * The ACPI fixed hardware the guest's FADT describes (hv/guest_acpi.h; ACPI spec
 * "ACPI Hardware Specification": "PM1 Event Grouping", "PM1 Control Grouping", "Power
 * Management Timer"), as a 12-byte register file at GUEST_PM1A_EVT:
 *   +0 PM1_STS, +2 PM1_EN: read 0. No fixed event is ever raised (no SCI; the FADT
 *      declares no fixed power/sleep button and no RTC status), so there is nothing
 *      to report or to enable; writes are dropped.
 *   +4 PM1_CNT: SCI_EN reads 1 (SMI_CMD is 0: always in ACPI mode). A write with
 *      SLP_EN and the SLP_TYP of \_S5 powers the VM off: it stops with exit value 0
 *      (status 1). SLP_EN with any other SLP_TYP asks for a sleep state the DSDT does
 *      not define: the VM is stopped with that diagnosis.
 *   +6 nothing (PM1_CNT_LEN is 2): reads all ones.
 *   +8 PM_TMR: 32-bit counter at 3.579545 MHz from the TSC (TMR_VAL_EXT); read-only.
 * Accesses of any width are taken byte by byte over that file.
 */
static enum exit_action acpi_pm_io(struct vcpu *v, u16 port, unsigned size, bool in, u32 *val)
{
	unsigned base = port - GUEST_PM1A_EVT;
	if (in) {
		u8 file[12] = { 0 };
		u32 tmr = pm_timer_read();
		file[4] = PM1_CNT_SCI_EN;
		file[6] = file[7] = 0xff;
		memcpy(&file[8], &tmr, 4);
		u32 r = 0;
		for (unsigned i = 0; i < size; i++)
			r |= (u32)(base + i < sizeof(file) ? file[base + i] : 0xff) << (8 * i);
		*val = r;
		return EXIT_SKIP;
	}
	/* PM1_CNT bits 15:8 (SLP_TYP 12:10, SLP_EN 13) are in the byte at +5. */
	if (base > 5 || base + size <= 5)
		return EXIT_SKIP;
	u32 hi = (*val >> (8 * (5 - base))) & 0xff;
	u32 cnt = hi << 8;
	if (!(cnt & PM1_CNT_SLP_EN))
		return EXIT_SKIP;
	if (PM1_CNT_SLP_TYP(cnt) == GUEST_S5_SLP_TYP) {
		vm_stop(v->vm, 1, true, 0, "ACPI S5 power-off (SLP_TYP %u | SLP_EN to PM1a_CNT 0x%x)",
			PM1_CNT_SLP_TYP(cnt), GUEST_PM1A_CNT);
		return EXIT_LEAVE;
	}
	vm_fault(v, "ACPI sleep request with SLP_TYP %u (PM1a_CNT 0x%x written with 0x%x): only \\_S5 (SLP_TYP %u) "
		 "is defined", PM1_CNT_SLP_TYP(cnt), GUEST_PM1A_CNT, *val, GUEST_S5_SLP_TYP);
	return EXIT_LEAVE;
}

enum exit_action vio_port(struct vcpu *v, u16 port, unsigned size, bool in, u32 *val)
{
	struct vm *vm = v->vm;
	u32 mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;

	if (port >= COM1_BASE && port < COM1_BASE + 8 && size == 1) {
		if (in)
			*val = vuart_read(vm, port - COM1_BASE);
		else
			vuart_write(vm, port - COM1_BASE, *val);
		return EXIT_SKIP;
	}
	if (port >= GUEST_PM1A_EVT && port < GUEST_PM_TMR + GUEST_PM_TMR_LEN)
		return acpi_pm_io(v, port, size, in, val);
	if (vpic_io(vm, port, size, in, val))
		return EXIT_SKIP;
	if (port == DEBUG_EXIT_PORT && !in) {
		u32 value = *val & mask;
		vm_stop(vm, (int)(((value << 1) | 1) & 0xff), true, value,
			"debug-exit port 0xf4 written with 0x%x", value);
		return EXIT_LEAVE;
	}
	/* Everything else goes to the VM's I/O bus (the PCI configuration ports and I/O
	 * BARs today); unclaimed ports read all ones there. */
	struct io_req req = { .space = IO_SPACE_PORT, .addr = port, .size = (u8)size, .write = !in,
			      .value = in ? 0 : (*val & mask) };
	bool claimed = false;
	struct vdev *dev = NULL;
	enum io_result r = io_bus_dispatch(vm, v, &req, &claimed, &dev);
	if (r == IO_REFUSED) {
		vm_fault(v, "%s refused a %u-byte %s at port 0x%x", dev ? dev->name : "the I/O bus", size,
			 in ? "read" : "write", port);
		return EXIT_LEAVE;
	}
	if (r == IO_STOPPED)
		return EXIT_LEAVE;
	if (in)
		*val = (u32)req.value & mask;
	return EXIT_SKIP;
}
