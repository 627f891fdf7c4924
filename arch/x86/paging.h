/* SPDX-License-Identifier: MIT */
/*
 * The guest's linear-address translation as the CPU performs it (Intel SDM Vol. 3A,
 * "Paging"), for the accesses the hypervisor makes on the guest's behalf: string I/O
 * elements and the instruction fetch of MMIO emulation. Pure: the paging state comes
 * in a struct, guest memory through callbacks, so it is unit-tested on the host
 * (tests/unit/test_paging.c). The VMX wrapper that fills the state from the VMCS and
 * injects the #PF is arch/x86/vmx/gwalk.c.
 *
 * Covered: no paging, 32-bit paging (4 MiB pages with CR4.PSE, PSE-36 addresses),
 * PAE paging (PDPTEs from the caller, as the CPU holds them in its PDPTE registers),
 * 4-level and 5-level paging (2 MiB and 1 GiB pages), reserved bits (MAXPHYADDR, PS
 * where no page may be mapped, XD without EFER.NXE), the access rights of "Access
 * Rights" (U/S, R/W with CR0.WP, XD with EFER.NXE, SMEP, SMAP with RFLAGS.AC and
 * implicit supervisor-mode accesses, protection keys with CR4.PKE and PKRU), the
 * error code of "Page-Fault Exceptions" and the accessed and dirty flags of "Accessed
 * and Dirty Flags". Not covered: supervisor protection keys (CR4.PKS), shadow-stack
 * accesses, HLAT, SGX, PCID/TLB effects (there is no TLB here: every call walks, or,
 * with pw_translate_memo, re-reads every entry of its previous walk).
 */
#ifndef ARCH_X86_PAGING_H
#define ARCH_X86_PAGING_H

#include "hv/lib/types.h"
#include "arch/x86/x86.h"

/* The page-fault error code ("Page-Fault Exceptions", Figure "Page-Fault Error Code"). */
#define PF_P BIT(0)      /* 0: not present; 1: protection violation (or reserved bit) */
#define PF_W BIT(1)      /* the access was a write */
#define PF_U BIT(2)      /* the access was a user-mode access */
#define PF_RSVD BIT(3)   /* a reserved bit was set in a paging-structure entry */
#define PF_I BIT(4)      /* instruction fetch (with SMEP, or PAE/4-level/5-level with NXE) */
#define PF_PK BIT(5)     /* protection-key violation */

/* The access to translate. */
enum pw_access_type { PW_READ, PW_WRITE, PW_FETCH };
#define PW_IMPLICIT BIT(0)   /* an implicit supervisor-mode access ("Access Rights"): a
			      * supervisor access whatever the CPL, never allowed to a
			      * user-mode address under SMAP */

/* The paging state of the vCPU, as the CPU uses it for the access. */
struct pw_state {
	u64 cr0, cr3, cr4, efer;
	u64 rflags;          /* AC matters (SMAP) */
	unsigned cpl;        /* 0-3 */
	u64 pdpte[4];        /* PAE paging: the PDPTE registers ("PDPTE Registers") */
	unsigned maxphyaddr; /* CPUID.80000008H:EAX[7:0], 32-52 */
	bool gbpages;        /* CPUID.80000001H:EDX[26]: 1-GByte pages in 4/5-level paging */
	u32 pkru;            /* CR4.PKE: the PKRU register ("Protection Keys") */
};

/* Guest-physical memory. read stores the size-byte (4 or 8) little-endian entry at gpa
 * in *val and returns true, or returns false when gpa is not ordinary memory (a
 * device or nothing: the walk reads no device register). cmpxchg atomically replaces
 * the entry at gpa with new if it still holds old, as the CPU's locked update of the
 * accessed and dirty flags does, and returns whether it did. */
struct pw_mem {
	bool (*read)(void *ctx, u64 gpa, unsigned size, u64 *val);
	bool (*cmpxchg)(void *ctx, u64 gpa, unsigned size, u64 old, u64 new_val);
	void *ctx;
	/* Optional (pw_translate_memo): a pointer through which the size-byte entry at
	 * gpa can be read later, valid as long as the memory stays, or NULL (not memory,
	 * or not to be memoized). */
	const void *(*ptr)(void *ctx, u64 gpa, unsigned size);
};

enum pw_result {
	PW_OK,             /* out->gpa is the translation; A (and D for a write) are set */
	PW_FAULT,          /* #PF: out->error is the error code; no flag was written */
	PW_NOT_MEMORY,     /* a paging-structure entry lies outside memory (out->bad_gpa) */
	PW_NONCANONICAL,   /* 4/5-level paging: la is not canonical (#GP or #SS, not #PF) */
	PW_RETRY,          /* the entries kept changing under the flag updates: retry later */
};

struct pw_out {
	u64 gpa;           /* PW_OK */
	u64 page_size;     /* PW_OK: 4 KiB, 2 MiB, 4 MiB or 1 GiB (no paging: 4 KiB) */
	u32 error;         /* PW_FAULT */
	u64 bad_gpa;       /* PW_NOT_MEMORY */
	int level;         /* PW_FAULT / PW_NOT_MEMORY: the level of the entry (1 = PTE) */
};

/* Translate the linear address la for an access of type `type` with flags PW_*
 * (PW_IMPLICIT) under state s. Outside IA-32e mode only bits 31:0 of la count. */
enum pw_result pw_translate(const struct pw_state *s, const struct pw_mem *m, u64 la,
			    enum pw_access_type type, unsigned flags, struct pw_out *out);

/*
 * The last successful translation, kept to skip repeated walks (one per caller, e.g.
 * per vCPU). A walk is a function of the paging state (CR0, CR3, CR4, EFER, RFLAGS.AC,
 * CPL, the PDPTE registers, MAXPHYADDR, 1-GByte page support, PKRU), the linear
 * address, the access type and flags, and the paging-structure entries it reads. The
 * memo keeps all of them: the state, the 4-KByte linear page, type and flags, and for
 * each entry the walk used a pointer to it (pw_mem.ptr) and its value after the walk's
 * own A/D updates. A later call with the same key re-reads those entries: when each
 * still holds its value, a walk would read the same entries, reach the same result and
 * write no flag (A, and D for a write, are already set), so the memo's result is
 * returned; else it walks and refills the memo. Only PW_OK results are kept.
 */
struct pw_memo {
	bool valid;
	struct pw_state s;   /* rflags: AC only */
	u64 la_page;
	enum pw_access_type type;
	unsigned flags;
	u64 gpa_page, page_size;   /* the GPA of la_page and the size of the page mapping it */
	unsigned n;
	struct {
		const void *p;
		u64 val;
		unsigned size;
	} ent[5];
};

/* pw_translate, answered from *memo when it still holds (above), else walked (and
 * *memo refilled when m->ptr reaches every entry used). memo->valid = false drops it. */
enum pw_result pw_translate_memo(struct pw_memo *memo, const struct pw_state *s, const struct pw_mem *m,
				 u64 la, enum pw_access_type type, unsigned flags, struct pw_out *out);

/* The paging mode state s selects ("Paging Modes and Control Bits"): 0 none, 2 32-bit,
 * 3 PAE, 4 4-level, 5 5-level (the number of levels a walk reads, PAE counting its
 * PDPTE register). */
static inline int pw_mode(const struct pw_state *s)
{
	if (!(s->cr0 & CR0_PG))
		return 0;
	if (!(s->cr4 & CR4_PAE))
		return 2;
	if (!(s->efer & EFER_LMA))
		return 3;
	return (s->cr4 & CR4_LA57) ? 5 : 4;
}

#endif
