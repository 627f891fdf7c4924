/* SPDX-License-Identifier: MIT */
/* The hypervisor console: a 16550 UART, optionally mirrored to port 0xE9. */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include "hv/lib/types.h"

/* The console 16550 at port (0: none) at baud (0: keep the divisor the firmware set),
 * mirrored to port 0xE9 when e9. */
void console_init(u16 port, u32 baud, bool e9);
/* One whole line, under the console lock: "PREFIX TEXT\n" (or "TEXT\n" with no prefix). */
void console_line(const char *prefix, const char *text, size_t len);
/* Wait until the UART has sent everything (LSR: transmitter empty). */
void console_flush(void);
/* The console UART's base port (0: none). */
u16 console_port(void);
/* Console input: enable the received-data interrupt (IER, MCR OUT2); console_rx reads
 * up to max received bytes (fewer: nothing more is waiting). */
void console_rx_enable(void);
size_t console_rx(u8 *buf, size_t max);

void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);

/* A broken hypervisor invariant: message, register dump of the caller, status 4. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;
/* The register dump panic prints after its message (arch/x86/panic_dump.c): the
 * caller's RIP, RSP, RFLAGS, control registers, and the current VMCS's guest state. */
void arch_panic_dump(const void *caller, u64 rflags);

#endif
