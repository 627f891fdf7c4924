/* SPDX-License-Identifier: MIT */
/*
 * The constructors of every VM's platform devices (docs/INTERFACES.md, "Guest
 * platform"). Each one initialises its device, registers its ranges on the VM's bus
 * (hv/io/bus.h) and adds it to the VM's device list; false when a range cannot be
 * registered (the VM is not created). vm_create() calls them in this order.
 */
#ifndef HV_DEV_DEV_H
#define HV_DEV_DEV_H

#include "hv/lib/types.h"
#include "hv/io/bus.h"

struct vm;

bool vuart_create(struct vm *vm);                        /* hv/dev/vuart.c: COM1 */
bool vpic_create(struct vm *vm);                         /* hv/dev/pic.c: 8259 pair + ELCR */
bool pm_create(struct vm *vm);                           /* hv/dev/pm.c: ACPI PM1 + PM timer */
bool debug_exit_create(struct vm *vm);                   /* hv/dev/debug_exit.c: port 0xf4 */
bool port92_create(struct vm *vm);                       /* hv/dev/port92.c: port 0x92 */
bool fwcfg_create(struct vm *vm);                        /* hv/dev/fwcfg.c: fw_cfg 0x510-0x511 */
bool rtc_create(struct vm *vm);                          /* hv/dev/rtc.c: CMOS RTC 0x70-0x71 */
bool ioapic_create(struct vm *vm, u32 id);               /* hv/dev/ioapic.c: the vIOAPIC MMIO */
bool xapic_create(struct vm *vm);                        /* hv/dev/xapic.c: the xAPIC MMIO page */
bool pit_create(struct vm *vm);                          /* hv/dev/pit.c: 8254 0x40-0x43 + port 0x61 */
bool i8042_create(struct vm *vm);                        /* hv/dev/i8042.c: keyboard controller 0x60/0x64 */
bool mark_create(struct vm *vm);                         /* hv/dev/mark.c: measurement mark port 0x5ec */

/* hv/dev/reset.c: a reset the guest requests (0xCF9, the keyboard controller's reset
 * line, port 0x92), handled as the VM's reboot= key says; how names the source and
 * value for the diagnosis. Returns IO_STOPPED. The caller holds no UART lock. */
enum io_result vm_reset_request(struct vcpu *v, const char *how, unsigned value);
/* The Reset Control Register at 0xCF9 (a byte inside the PCI CONFIG_ADDRESS range, so
 * hv/pci/cfgmech.c hands it byte accesses there). */
enum io_result reset_cnt_access(struct vcpu *v, struct io_req *req);

/* The xAPIC page's access (arch/x86/vmx/mmio.c dispatches it without a lookup). */
struct io_range_ops;
extern const struct io_range_ops xapic_mmio_ops;

#endif
