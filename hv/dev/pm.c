/* SPDX-License-Identifier: MIT */
/*
 * The ACPI fixed hardware the guest's FADT describes (hv/vm/guest_acpi.h; ACPI spec
 * "ACPI Hardware Specification": "PM1 Event Grouping", "PM1 Control Grouping", "Power
 * Management Timer"), as a 12-byte register file at GUEST_PM1A_EVT:
 *   +0 PM1_STS: reads 0, writes are dropped. No fixed event is ever raised (no SCI;
 *      the FADT declares no fixed power/sleep button and no RTC status), so there is
 *      nothing to report.
 *   +2 PM1_EN ("PM1 Enable Registers"): the enable bits TMR_EN (0), GBL_EN (5),
 *      PWRBTN_EN (8), SLPBTN_EN (9), RTC_EN (10) and PCIEXP_WAKE_DIS (14) read back as
 *      written (vm->pm1_en, one byte store per byte written), the reserved bits 0.
 *      They enable nothing: no status bit is ever set. An OS checks that an enable bit
 *      sticks (ACPICA enables GBL_EN for the Global Lock and reads it back, and
 *      gives up the lock with an error when it does not).
 *   +4 PM1_CNT: SCI_EN reads 1 (SMI_CMD is 0: always in ACPI mode). A write with
 *      SLP_EN and the SLP_TYP of \_S5 powers the VM off: it stops with exit value 0
 *      (status 1). SLP_EN with any other SLP_TYP asks for a sleep state the DSDT does
 *      not define: the VM is stopped with that diagnosis.
 *   +6 nothing (PM1_CNT_LEN is 2): reads all ones.
 *   +8 PM_TMR: 32-bit counter at 3.579545 MHz from the TSC (TMR_VAL_EXT); read-only.
 * Accesses of any width are taken byte by byte over that file (bytes past its end go
 * to their own ports, hv/io/bus.h). Its only state is PM1_EN, two bytes each stored
 * whole: the range is lockless, and it may stop the VM (which flushes the UART)
 * without holding a lock.
 */
#include "hv/vm/vm.h"
#include "hv/dev/dev.h"
#include "hv/vm/guest_acpi.h"
#include "hv/lib/lib.h"
#include "hv/host/time.h"

#define PM_LEN (GUEST_PM_TMR + GUEST_PM_TMR_LEN - GUEST_PM1A_EVT)
#define PM1_EN_OFF 2
/* The PM1_EN bits that exist: low byte TMR_EN, GBL_EN; high byte PWRBTN_EN, SLPBTN_EN,
 * RTC_EN, PCIEXP_WAKE_DIS. */
static const u8 pm1_en_mask[2] = { BIT(0) | BIT(5), BIT(0) | BIT(1) | BIT(2) | BIT(6) };
_Static_assert(GUEST_PM1A_CNT == GUEST_PM1A_EVT + 4 && GUEST_PM_TMR == GUEST_PM1A_EVT + 8,
	       "the PM1 blocks and the PM timer form one 12-byte register file");

static enum io_result pm_access(struct vdev *dev, struct vcpu *v, u64 off, struct io_req *req)
{
	(void)dev;
	unsigned base = (unsigned)off, size = req->size;
	if (!req->write) {
		u8 file[PM_LEN] = { 0 };
		u32 tmr = pm_timer_read();
		file[PM1_EN_OFF] = READ_ONCE(v->vm->pm1_en[0]);
		file[PM1_EN_OFF + 1] = READ_ONCE(v->vm->pm1_en[1]);
		file[4] = PM1_CNT_SCI_EN;
		file[6] = file[7] = 0xff;
		memcpy(&file[8], &tmr, 4);
		u64 r = 0;
		for (unsigned i = 0; i < size; i++)
			r |= (u64)file[base + i] << (8 * i);
		req->value = r;
		return IO_DONE;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned at = base + i;
		if (at == PM1_EN_OFF || at == PM1_EN_OFF + 1)
			WRITE_ONCE(v->vm->pm1_en[at - PM1_EN_OFF],
				   (u8)(req->value >> (8 * i)) & pm1_en_mask[at - PM1_EN_OFF]);
	}
	/* PM1_CNT bits 15:8 (SLP_TYP 12:10, SLP_EN 13) are in the byte at +5. */
	if (base > 5 || base + size <= 5)
		return IO_DONE;
	u32 cnt = (u32)((req->value >> (8 * (5 - base))) & 0xff) << 8;
	if (!(cnt & PM1_CNT_SLP_EN))
		return IO_DONE;
	if (PM1_CNT_SLP_TYP(cnt) == GUEST_S5_SLP_TYP) {
		vm_stop(v->vm, 1, true, 0, "ACPI S5 power-off (SLP_TYP %u | SLP_EN to PM1a_CNT 0x%x)",
			PM1_CNT_SLP_TYP(cnt), GUEST_PM1A_CNT);
		return IO_STOPPED;
	}
	vm_fault(v, "ACPI sleep request with SLP_TYP %u (PM1a_CNT 0x%x written with 0x%llx): only \\_S5 (SLP_TYP %u) "
		 "is defined", PM1_CNT_SLP_TYP(cnt), GUEST_PM1A_CNT, (unsigned long long)req->value, GUEST_S5_SLP_TYP);
	return IO_STOPPED;
}

static const struct io_range_ops pm_ops = { pm_access };

static void pm_destroy(struct vdev *dev)
{
	io_bus_unregister(dev->vm, IO_SPACE_PORT, GUEST_PM1A_EVT, dev);
}

static const struct vdev_ops pm_vops = { NULL, pm_destroy };

bool pm_create(struct vm *vm)
{
	if (!io_bus_register(vm, IO_SPACE_PORT, GUEST_PM1A_EVT, PM_LEN, &vm->pm_dev, &pm_ops, IO_RANGE_LOCKLESS))
		return false;
	vdev_add(vm, &vm->pm_dev, "ACPI PM", &pm_vops);
	return true;
}
