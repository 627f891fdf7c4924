/* SPDX-License-Identifier: MIT */
/*
 * triplefault: with an IDT of limit 0, int3 cannot be delivered (#GP), neither can
 * the #GP (#DF), nor the #DF: a triple fault, "the processor enters shutdown mode"
 * (Intel SDM Vol. 3A, 6.15 "Interrupt 8—Double Fault Exception (#DF)"). Under VMX
 * that is a VM exit ("triple fault", basic exit reason 2), and the hypervisor must
 * stop the VM (status 2). If execution ever continues, exit with 3 (status 7).
 */
#include "lib.h"

int main(void)
{
	struct desc_ptr empty = { .limit = 0, .base = 0 };

	printf("triplefault: about to triple fault\n");
	serial_flush();
	lidt(&empty);
	asm volatile("int3" : : : "memory");

	idt_init();
	printf("triplefault: still alive after int3\n");
	return 3;
}
