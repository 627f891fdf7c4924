/* SPDX-License-Identifier: MIT */
/* Console input: the hypervisor's serial port's receiver, handed to one VM's COM1. */
#ifndef HV_SERIAL_INPUT_H
#define HV_SERIAL_INPUT_H

#include "hv/lib/types.h"

struct vm;
struct acpi_info;

/* Route the console UART's receive interrupt through the host I/O APIC to vector
 * VECTOR_CONSOLE_RX on the CPU with APIC ID bsp_apic_id and send what arrives to vm's
 * COM1 (vuart_input). Says on the console where input goes, or why there is none. */
void serial_input_init(struct vm *vm, const struct acpi_info *ai, u32 bsp_apic_id);
/* VECTOR_CONSOLE_RX: drain the receiver into the VM (interrupts off). */
void serial_input_irq(void);

#endif
