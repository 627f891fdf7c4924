/* SPDX-License-Identifier: MIT */
/* Ending a run: the final marker, then the configured power-off method. */
#ifndef HV_POWER_H
#define HV_POWER_H

#include "hv/lib/types.h"
#include "hv/vm/hypercall.h"
#include "hv/init/config.h"

struct acpi_info;
void power_init(enum poweroff_method m, const struct acpi_info *ai);
/* Print "=== HV END status=S ===", flush the console, power off. */
void hv_power_off(int status) __noreturn;

#endif
