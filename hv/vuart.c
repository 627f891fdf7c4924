/* SPDX-License-Identifier: MIT */
/*
 * The emulated 16550 UART every VM has at COM1 (0x3f8). Output only: what the guest
 * writes to THR is collected per line and printed on the hypervisor console as
 * "[NAME] text". The transmitter is always ready (LSR THRE and TEMT set), no receive
 * data, no interrupts (PC16550D data sheet, "Registers").
 */
#include "hv/vm.h"
#include "hv/console.h"
#include "hv/lib.h"

#define REG_RBR_THR 0
#define REG_IER 1
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7
#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NO_INT 0x01
#define MSR_DCD_DSR_CTS 0xb0

void vuart_flush(struct vm *vm)
{
	struct vuart *u = &vm->uart;
	if (u->len) {
		vm_console_line(vm, u->line, u->len);
		u->len = 0;
	}
}

void vuart_putc(struct vm *vm, char c)
{
	struct vuart *u = &vm->uart;
	if (c == '\r')
		return;
	if (c == '\n') {
		vm_console_line(vm, u->line, u->len);
		u->len = 0;
		return;
	}
	if ((u8)c < 0x20 && c != '\t')
		c = '.';   /* keep the console readable and line-oriented */
	u->line[u->len++] = c;
	if (u->len == sizeof(u->line))
		vuart_flush(vm);
}

u32 vuart_read(struct vm *vm, unsigned reg)
{
	struct vuart *u = &vm->uart;
	bool dlab = u->lcr & LCR_DLAB;
	switch (reg) {
	case REG_RBR_THR: return dlab ? u->dll : 0;
	case REG_IER: return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR: return IIR_NO_INT;
	case REG_LCR: return u->lcr;
	case REG_MCR: return u->mcr;
	case REG_LSR: return LSR_THRE | LSR_TEMT;
	case REG_MSR: return MSR_DCD_DSR_CTS;
	case REG_SCR: return u->scr;
	}
	return 0xff;
}

void vuart_write(struct vm *vm, unsigned reg, u32 val)
{
	struct vuart *u = &vm->uart;
	bool dlab = u->lcr & LCR_DLAB;
	u8 b = (u8)val;
	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			u->dll = b;
		else
			vuart_putc(vm, (char)b);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = b;
		else
			u->ier = b & 0x0f;
		break;
	case REG_LCR: u->lcr = b; break;
	case REG_MCR: u->mcr = b & 0x1f; break;
	case REG_SCR: u->scr = b; break;
	default: break;   /* FCR, read-only LSR/MSR */
	}
}
