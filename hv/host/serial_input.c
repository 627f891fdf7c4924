/* SPDX-License-Identifier: MIT */
/*
 * Console input. The console UART (hv/lib/console.c) raises its "received data
 * available" interrupt on its ISA IRQ (COM1 4, COM2 3; PC16550D "Interrupt Enable
 * Register"), which reaches the host's I/O APIC at the GSI the MADT gives for it
 * (an Interrupt Source Override, else GSI = IRQ; ACPI "Interrupt Source Override
 * Structure", with the MPS INTI flags for polarity and trigger mode). Its redirection
 * entry (82093AA datasheet, "I/O Redirection Table Registers") sends VECTOR_CONSOLE_RX,
 * fixed delivery, physical destination, to the boot CPU. The handler drains the
 * receiver into the input VM's COM1 (hv/dev/vuart.c:vuart_input), which buffers it and
 * raises the guest's received-data interrupt. Nothing polls: without typing this
 * costs nothing.
 */
#include "hv/host/lapic.h"
#include "hv/host/vectors.h"
#include "drivers/iommu/iommu.h"
#include "hv/host/serial_input.h"
#include "hv/host/acpi.h"
#include "hv/host/cpu.h"
#include "hv/lib/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/vm/vm.h"

/* 82093AA: IOREGSEL at +0x00, IOWIN at +0x10; version register 0x01 with the maximum
 * redirection entry in bits 23:16; entry n at 0x10 + 2n (low) and 0x11 + 2n (high). */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_ID 0x00    /* IOAPICID: the ID in bits 27:24 */
#define IOAPIC_VER 0x01
#define IOAPIC_REDIR 0x10
#define HOST_RTE_ACTIVE_LOW BIT(13)
#define HOST_RTE_LEVEL BIT(15)
#define HOST_RTE_MASKED BIT(16)
#define HOST_RTE_DEST_SHIFT 24        /* in the high dword: physical APIC ID, bits 63:56 */

/* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2 (0 = as the bus: ISA is
 * active high, edge). */
#define INTI_POLARITY_LOW 3
#define INTI_TRIGGER_LEVEL 3

static struct vm *input_vm;

static u32 ioapic_read(u64 base, u32 reg)
{
	volatile u32 *r = phys_to_virt(base);
	r[IOAPIC_IOREGSEL / 4] = reg;
	return r[IOAPIC_IOWIN / 4];
}

static void ioapic_write(u64 base, u32 reg, u32 val)
{
	volatile u32 *r = phys_to_virt(base);
	r[IOAPIC_IOREGSEL / 4] = reg;
	r[IOAPIC_IOWIN / 4] = val;
}

static void rx_vector(u8 vector, void *arg)
{
	(void)vector;
	(void)arg;
	serial_input_irq();
}

void serial_input_irq(void)
{
	u8 buf[64];
	size_t n;
	do {
		n = console_rx(buf, sizeof(buf));
		if (n && input_vm)
			vuart_input(input_vm, buf, n);
	} while (n == sizeof(buf));
}

void serial_input_init(struct vm *vm, const struct acpi_info *ai, u32 bsp_apic_id)
{
	u16 port = console_port();
	int irq = port == 0x3f8 ? 4 : port == 0x2f8 ? 3 : -1;
	if (!port) {
		printk("console: no input (serial=off)\n");
		return;
	}
	if (irq < 0) {
		printk("console: no input: serial port 0x%x has no known ISA IRQ (COM1 0x3f8 and COM2 0x2f8 do)\n", port);
		return;
	}
	if (!ai->has_ioapic) {
		printk("console: no input: the MADT lists no I/O APIC\n");
		return;
	}
	if (!lapic_dest_ok(bsp_apic_id, false)) {   /* 8 bits, 0xFF a broadcast */
		printk("console: no input: the boot CPU's APIC ID %u does not fit an I/O APIC destination\n", bsp_apic_id);
		return;
	}
	u32 gsi = ai->isa_gsi[irq];
	u32 entries = ((ioapic_read(ai->ioapic_base, IOAPIC_VER) >> 16) & 0xff) + 1;
	if (gsi < ai->ioapic_gsi_base || gsi - ai->ioapic_gsi_base >= entries) {
		printk("console: no input: IRQ %d is GSI %u, not on the first I/O APIC (GSIs %u-%u)\n", irq, gsi,
		       ai->ioapic_gsi_base, ai->ioapic_gsi_base + entries - 1);
		return;
	}
	u32 pin = gsi - ai->ioapic_gsi_base;
	if (!host_vector_register(VECTOR_CONSOLE_RX, "console input", rx_vector, NULL)) {
		printk("console: no input: host vector 0x%x is taken\n", VECTOR_CONSOLE_RX);
		return;
	}
	u16 flags = ai->isa_flags[irq];
	u32 lo = VECTOR_CONSOLE_RX;
	if ((flags & 3) == INTI_POLARITY_LOW)
		lo |= HOST_RTE_ACTIVE_LOW;
	if (((flags >> 2) & 3) == INTI_TRIGGER_LEVEL)
		lo |= HOST_RTE_LEVEL;
	input_vm = vm;
	vm->uart.input = true;
	/* Behind a remapping unit with interrupt remapping on (device assignment enabled
	 * it), compatibility-format entries are blocked: the entry names an IRTE instead. */
	u8 ioapic_id = (u8)(ioapic_read(ai->ioapic_base, IOAPIC_ID) >> 24);
	int irte = iommu_ioapic_irte(ioapic_id, VECTOR_CONSOLE_RX, bsp_apic_id, lo & HOST_RTE_LEVEL);
	u32 hi = bsp_apic_id << HOST_RTE_DEST_SHIFT;
	if (irte >= 0)
		vtd_ioapic_rte_remappable((u16)irte, VECTOR_CONSOLE_RX, lo, &lo, &hi);
	ioapic_write(ai->ioapic_base, IOAPIC_REDIR + 2 * pin, HOST_RTE_MASKED);
	ioapic_write(ai->ioapic_base, IOAPIC_REDIR + 2 * pin + 1, hi);
	ioapic_write(ai->ioapic_base, IOAPIC_REDIR + 2 * pin, lo);
	console_rx_enable();
	printk("console: input goes to vm %s (serial 0x%x IRQ %d, I/O APIC pin %u, vector 0x%x%s)\n", vm->name, port,
	       irq, pin, VECTOR_CONSOLE_RX, irte >= 0 ? ", remappable format" : "");
	serial_input_irq();   /* whatever arrived before */
}
