/* SPDX-License-Identifier: MIT */
/*
 * The hypercall ABI (VMCALL), shared by the hypervisor and its guests.
 * docs/INTERFACES.md describes it; keep the two in step.
 *
 * RAX = function, RBX/RCX/RDX = arguments, result in RAX (negative = error).
 */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#define HC_ABI_VERSION 1

#define HC_NOP         0
#define HC_VERSION     1
#define HC_EXIT        2
#define HC_PUTS        3
#define HC_VCPU_ID     4
#define HC_GET_COUNTER 5

#define HC_ENOSYS (-1L)
#define HC_EINVAL (-2L)

#define HC_PUTS_MAX 4096

/* Counters readable through HC_GET_COUNTER (per calling vCPU). */
#define HC_CTR_EXITS_TOTAL 0   /* every VM exit of this vCPU */
#define HC_CTR_EXITS_CPUID 1
#define HC_CTR_EXITS_VMCALL 2
#define HC_CTR_EXITS_IO 3
#define HC_CTR_EXITS_MSR 4
#define HC_CTR_MAX 5

/* CPUID leaf 0x40000000: signature in EBX, ECX, EDX ("MicroHVMicro"). */
#define HV_CPUID_BASE 0x40000000u
#define HV_CPUID_SIG_EBX 0x7263694du /* "Micr" */
#define HV_CPUID_SIG_ECX 0x4d56486fu /* "oHVM" */
#define HV_CPUID_SIG_EDX 0x6f726369u /* "icro" */

/* Final status encodings (docs/INTERFACES.md, "Exit status"). */
#define HV_STATUS_STOPPED 2
#define HV_STATUS_PANIC 4
#define HV_STATUS_NO_VMX 6
#define HV_STATUS_BAD_CONFIG 8

#endif
