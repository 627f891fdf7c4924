/* SPDX-License-Identifier: MIT */
/*
 * The VT-d remapping unit as software sees it: register offsets, register fields and
 * the in-memory structures, with the names of the "Intel Virtualization Technology for
 * Directed I/O Architecture Specification" (chapter "Register Descriptions" for the
 * registers; "Translation Structure Formats" for root and context entries and the
 * second-level paging entries; "Interrupt Remapping Table Entry (IRTE) for Remapped
 * Interrupts" and "... for Posted Interrupts"; "Invalidation Descriptors" for the queue).
 * Everything here is pure: encoders are inline functions, unit-tested on the host
 * (tests/unit/test_vtd.c). Only legacy-mode (TTM = 00b) tables and 128-bit invalidation
 * descriptors are used; scalable mode is not.
 */
#ifndef DRIVERS_IOMMU_VTD_HW_H
#define DRIVERS_IOMMU_VTD_HW_H

#include "hv/lib/types.h"

/* ---- Register offsets ("Register Descriptions", "Register Location") ---- */
enum vtd_reg {
	VTD_VER     = 0x000,   /* Version Register (32) */
	VTD_CAP     = 0x008,   /* Capability Register (64) */
	VTD_ECAP    = 0x010,   /* Extended Capability Register (64) */
	VTD_GCMD    = 0x018,   /* Global Command Register (32) */
	VTD_GSTS    = 0x01c,   /* Global Status Register (32) */
	VTD_RTADDR  = 0x020,   /* Root Table Address Register (64) */
	VTD_CCMD    = 0x028,   /* Context Command Register (64) */
	VTD_FSTS    = 0x034,   /* Fault Status Register (32) */
	VTD_FECTL   = 0x038,   /* Fault Event Control Register (32) */
	VTD_FEDATA  = 0x03c,   /* Fault Event Data Register (32) */
	VTD_FEADDR  = 0x040,   /* Fault Event Address Register (32) */
	VTD_FEUADDR = 0x044,   /* Fault Event Upper Address Register (32) */
	VTD_AFLOG   = 0x058,   /* Advanced Fault Log Register (64) */
	VTD_PMEN    = 0x064,   /* Protected Memory Enable Register (32) */
	VTD_IQH     = 0x080,   /* Invalidation Queue Head Register (64) */
	VTD_IQT     = 0x088,   /* Invalidation Queue Tail Register (64) */
	VTD_IQA     = 0x090,   /* Invalidation Queue Address Register (64) */
	VTD_ICS     = 0x09c,   /* Invalidation Completion Status Register (32) */
	VTD_IECTL   = 0x0a0,   /* Invalidation Event Control Register (32) */
	VTD_IQERCD  = 0x0b0,   /* Invalidation Queue Error Record Register (64) */
	VTD_IRTA    = 0x0b8,   /* Interrupt Remapping Table Address Register (64) */
};
/* At ECAP.IRO * 16: the IOTLB registers, Invalidate Address Register (IVA) then IOTLB
 * Invalidate Register 8 bytes above it. At CAP.FRO * 16: CAP.NFR + 1 Fault Recording
 * Registers of 16 bytes each. */
#define VTD_IVA_OFF 0
#define VTD_IOTLB_OFF 8
#define VTD_FRCD_SIZE 16

/* ---- Version Register ---- */
#define VTD_VER_MAJOR(v) (((v) >> 4) & 0xf)
#define VTD_VER_MINOR(v) ((v) & 0xf)

/* ---- Capability Register (CAP_REG) ---- */
#define VTD_CAP_ND(c)     ((u32)((c) & 7))                /* Number of Domains: 2^(4 + 2*ND) */
#define VTD_CAP_AFL       BIT64(3)                        /* Advanced Fault Logging */
#define VTD_CAP_RWBF      BIT64(4)                        /* Required Write-Buffer Flushing */
#define VTD_CAP_PLMR      BIT64(5)                        /* Protected Low-Memory Region */
#define VTD_CAP_PHMR      BIT64(6)                        /* Protected High-Memory Region */
#define VTD_CAP_CM        BIT64(7)                        /* Caching Mode */
#define VTD_CAP_SAGAW(c)  ((u32)(((c) >> 8) & 0x1f))      /* Supported Adjusted Guest Address Widths */
#define VTD_CAP_MGAW(c)   ((u32)(((c) >> 16) & 0x3f) + 1) /* Maximum Guest Address Width */
#define VTD_CAP_ZLR       BIT64(22)                       /* Zero Length Read */
#define VTD_CAP_FRO(c)    ((u32)(((c) >> 24) & 0x3ff))    /* Fault-recording Register offset / 16 */
#define VTD_CAP_SLLPS(c)  ((u32)(((c) >> 34) & 0xf))      /* Second Level Large Page Support: bit 0 2 MiB, bit 1 1 GiB */
#define VTD_CAP_PSI       BIT64(39)                       /* Page Selective Invalidation */
#define VTD_CAP_NFR(c)    ((u32)(((c) >> 40) & 0xff) + 1) /* Number of Fault-recording Registers */
#define VTD_CAP_MAMV(c)   ((u32)(((c) >> 48) & 0x3f))     /* Maximum Address Mask Value */
#define VTD_CAP_DWD       BIT64(54)                       /* Write Draining */
#define VTD_CAP_DRD       BIT64(55)                       /* Read Draining */
#define VTD_CAP_PI        BIT64(59)                       /* Posted Interrupts Support */

/* SAGAW bits: bit 1 39-bit (3-level), bit 2 48-bit (4-level), bit 3 57-bit (5-level). */
#define VTD_SAGAW_39 BIT(1)
#define VTD_SAGAW_48 BIT(2)
#define VTD_SAGAW_57 BIT(3)

/* ---- Extended Capability Register (ECAP_REG) ---- */
#define VTD_ECAP_C        BIT64(0)                        /* Page-walk Coherency */
#define VTD_ECAP_QI       BIT64(1)                        /* Queued Invalidation support */
#define VTD_ECAP_DT       BIT64(2)                        /* Device-TLB support */
#define VTD_ECAP_IR       BIT64(3)                        /* Interrupt Remapping support */
#define VTD_ECAP_EIM      BIT64(4)                        /* Extended Interrupt Mode */
#define VTD_ECAP_PT       BIT64(6)                        /* Pass Through */
#define VTD_ECAP_SC       BIT64(7)                        /* Snoop Control */
#define VTD_ECAP_IRO(e)   ((u32)(((e) >> 8) & 0x3ff))     /* IOTLB Register Offset / 16 */
#define VTD_ECAP_MHMV(e)  ((u32)(((e) >> 20) & 0xf))      /* Maximum Handle Mask Value */
#define VTD_ECAP_SMTS     BIT64(43)                       /* Scalable Mode Translation Support */

/* ---- Global Command / Global Status Registers (same bit positions) ---- */
#define VTD_GCMD_TE    BIT(31)   /* Translation Enable        / TES   */
#define VTD_GCMD_SRTP  BIT(30)   /* Set Root Table Pointer     / RTPS  */
#define VTD_GCMD_SFL   BIT(29)   /* Set Fault Log              / FLS   */
#define VTD_GCMD_EAFL  BIT(28)   /* Enable Advanced Fault Log  / AFLS  */
#define VTD_GCMD_WBF   BIT(27)   /* Write Buffer Flush         / WBFS  */
#define VTD_GCMD_QIE   BIT(26)   /* Queued Invalidation Enable / QIES  */
#define VTD_GCMD_IRE   BIT(25)   /* Interrupt Remapping Enable / IRES  */
#define VTD_GCMD_SIRTP BIT(24)   /* Set Interrupt Remap Table Pointer / IRTPS */
#define VTD_GCMD_CFI   BIT(23)   /* Compatibility Format Interrupt / CFIS */
/* "Global Command Register": each write changes one command; software reads GSTS,
 * keeps the enable bits it does not change and drops the one-shot bits (SRTP, SFL,
 * WBF, SIRTP), so that writing the status back does not repeat an earlier command. */
#define VTD_GSTS_ONESHOT (VTD_GCMD_SRTP | VTD_GCMD_SFL | VTD_GCMD_WBF | VTD_GCMD_SIRTP)

/* The GCMD value that performs cmd (one bit) on = set/clear, from the current GSTS. */
static inline u32 vtd_gcmd_value(u32 gsts, u32 cmd, bool on)
{
	u32 keep = gsts & ~VTD_GSTS_ONESHOT & ~cmd;
	return on ? keep | cmd : keep;
}

/* ---- Root Table Address Register: RTA 63:12, TTM 11:10 (00b legacy) ---- */
#define VTD_RTADDR_TTM_LEGACY (0ull << 10)

/* ---- Context Command Register (register-based invalidation) ---- */
#define VTD_CCMD_ICC        BIT64(63)
#define VTD_CCMD_CIRG_GLOBAL (1ull << 61)
#define VTD_CCMD_CIRG_DOMAIN (2ull << 61)
#define VTD_CCMD_CIRG_DEVICE (3ull << 61)
#define VTD_CCMD_CAIG(v)    (((v) >> 59) & 3)

/* ---- IOTLB Invalidate Register ---- */
#define VTD_IOTLB_IVT         BIT64(63)
#define VTD_IOTLB_IIRG_GLOBAL (1ull << 60)
#define VTD_IOTLB_IIRG_DOMAIN (2ull << 60)
#define VTD_IOTLB_IIRG_PAGE   (3ull << 60)
#define VTD_IOTLB_IAIG(v)     (((v) >> 57) & 3)
#define VTD_IOTLB_DR          BIT64(49)
#define VTD_IOTLB_DW          BIT64(48)
#define VTD_IOTLB_DID(d)      ((u64)(d) << 32)

/* ---- Fault Status Register ---- */
#define VTD_FSTS_PFO  BIT(0)     /* Primary Fault Overflow (RW1C) */
#define VTD_FSTS_PPF  BIT(1)     /* Primary Pending Fault (RO) */
#define VTD_FSTS_AFO  BIT(2)
#define VTD_FSTS_APF  BIT(3)
#define VTD_FSTS_IQE  BIT(4)     /* Invalidation Queue Error (RW1C) */
#define VTD_FSTS_ICE  BIT(5)     /* Invalidation Completion Error */
#define VTD_FSTS_ITE  BIT(6)     /* Invalidation Time-out Error */
#define VTD_FSTS_FRI(s) (((s) >> 8) & 0xff)   /* Fault Record Index */
#define VTD_FSTS_RW1C (VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)

/* ---- Fault Event Control Register ---- */
#define VTD_FECTL_IM BIT(31)     /* Interrupt Mask */
#define VTD_FECTL_IP BIT(30)     /* Interrupt Pending */

/* ---- Fault Recording Register (128 bits): FI 63:12 in the low half; in the high
 * half SID 79:64, FR 103:96, T1 (type: 1 read, 0 write) 126, F (Fault, RW1C) 127. */
#define VTD_FRCD_HI_SID(h) ((u16)((h) & 0xffff))
#define VTD_FRCD_HI_FR(h)  ((u8)(((h) >> 32) & 0xff))
#define VTD_FRCD_HI_T1     BIT64(62)
#define VTD_FRCD_HI_F      BIT64(63)

/* ---- Invalidation queue registers ---- */
#define VTD_IQA_QS_MASK 7ull      /* queue size: 2^QS pages of 256 128-bit descriptors */
#define VTD_IQA_DW      BIT64(11) /* 256-bit descriptors (not used) */
#define VTD_IQ_SHIFT    4         /* IQH/IQT hold the 128-bit descriptor index at bits 18:4 */
#define VTD_ICS_IWC     BIT(0)    /* Invalidation Wait Descriptor Complete */

/* ---- Interrupt Remapping Table Address Register ---- */
#define VTD_IRTA_EIME BIT64(11)   /* Extended Interrupt Mode Enable (x2APIC) */
#define VTD_IRTA_S(s) ((u64)(s) & 0xf)   /* 2^(S+1) entries */

/* ---- Root entry (128 bits, legacy mode): P bit 0, CTP 63:12 ---- */
struct vtd_root_entry {
	u64 lo, hi;
};
_Static_assert(sizeof(struct vtd_root_entry) == 16, "root entry is 128 bits");
#define VTD_P BIT64(0)
#define VTD_ADDR_MASK 0x000ffffffffff000ull

static inline struct vtd_root_entry vtd_root_entry(u64 ctx_table_pa)
{
	return (struct vtd_root_entry){ .lo = (ctx_table_pa & VTD_ADDR_MASK) | VTD_P, .hi = 0 };
}

/* ---- Context entry (128 bits, legacy mode): P 0, FPD 1, TT 3:2, SLPTPTR 63:12;
 * AW 66:64, DID 87:72 ---- */
struct vtd_context_entry {
	u64 lo, hi;
};
_Static_assert(sizeof(struct vtd_context_entry) == 16, "context entry is 128 bits");
#define VTD_CTX_FPD           BIT64(1)      /* Fault Processing Disable */
#define VTD_CTX_TT_UNTRANSLATED (0ull << 2) /* untranslated requests through second-level tables */
#define VTD_CTX_TT_PASSTHROUGH (2ull << 2)
#define VTD_CTX_AW(aw)        ((u64)(aw) & 7)
#define VTD_CTX_DID(d)        ((u64)(d) << 8)

/* AW encodings: 1 = 39-bit (3-level), 2 = 48-bit (4-level), 3 = 57-bit (5-level): the
 * number of levels minus 2, the same as the SAGAW bit index. */
static inline u32 vtd_aw_of_levels(u32 levels) { return levels - 2; }
static inline u32 vtd_width_of_levels(u32 levels) { return 12 + 9 * levels; }

static inline struct vtd_context_entry vtd_context_entry(u64 slpt_pa, u32 levels, u16 did)
{
	return (struct vtd_context_entry){
		.lo = (slpt_pa & VTD_ADDR_MASK) | VTD_CTX_TT_UNTRANSLATED | VTD_P,
		.hi = VTD_CTX_AW(vtd_aw_of_levels(levels)) | VTD_CTX_DID(did),
	};
}

/* ---- Second-level paging entries: R 0, W 1, PS 7 (large page at levels 2 and 3),
 * SNP 11, ADDR 51:12 ---- */
#define VTD_SL_R   BIT64(0)
#define VTD_SL_W   BIT64(1)
#define VTD_SL_PS  BIT64(7)
#define VTD_SL_SNP BIT64(11)

/* ---- Interrupt Remapping Table Entry (128 bits) ----
 * Remapped (IM = 0): P 0, FPD 1, DM 2, RH 3, TM 4, DLM 7:5, AVAIL 11:8, IM 15,
 * V 23:16, DST 63:32 (xAPIC mode: APIC ID in 47:40; x2APIC mode: all 32 bits);
 * SID 79:64, SQ 81:80, SVT 83:82.
 * Posted (IM = 1): P, FPD, AVAIL, URG 14, IM 15, VV 23:16 (the guest's vector),
 * PDAL 63:38 (descriptor address bits 31:6), SID/SQ/SVT as above, PDAH 127:96
 * (descriptor address bits 63:32). */
struct vtd_irte {
	u64 lo, hi;
};
_Static_assert(sizeof(struct vtd_irte) == 16, "IRTE is 128 bits");
#define VTD_IRTE_P      BIT64(0)
#define VTD_IRTE_FPD    BIT64(1)
#define VTD_IRTE_DM     BIT64(2)   /* logical destination */
#define VTD_IRTE_TM     BIT64(4)   /* level-triggered */
#define VTD_IRTE_URG    BIT64(14)
#define VTD_IRTE_IM     BIT64(15)  /* IRTE Mode: posted */
#define VTD_IRTE_V(v)   ((u64)(u8)(v) << 16)
#define VTD_IRTE_VECTOR(lo) ((u8)((lo) >> 16))

/* Source-id validation (SVT) and qualifier (SQ, ignored low bits of the function). */
enum vtd_svt {
	VTD_SVT_NONE = 0,      /* no verification */
	VTD_SVT_SID = 1,       /* requester-id must match SID under SQ's mask */
	VTD_SVT_BUS = 2,       /* bus within [SID 15:8, SID 7:0] */
};
static inline u64 vtd_irte_hi(enum vtd_svt svt, u8 sq, u16 sid)
{
	return (u64)sid | ((u64)(sq & 3) << 16) | ((u64)(svt & 3) << 18);
}

/* A remapped IRTE: fixed delivery, edge, physical destination apic_id. In xAPIC mode
 * (x2apic false) the 8-bit APIC ID goes to DST bits 15:8. */
static inline struct vtd_irte vtd_irte_remapped(u8 vector, u32 apic_id, bool x2apic, enum vtd_svt svt, u8 sq,
						u16 sid)
{
	u32 dst = x2apic ? apic_id : (apic_id & 0xff) << 8;
	return (struct vtd_irte){
		.lo = VTD_IRTE_P | VTD_IRTE_V(vector) | ((u64)dst << 32),
		.hi = vtd_irte_hi(svt, sq, sid),
	};
}

/* A posted IRTE: the guest vector lands in the posted-interrupt descriptor at pd_pa
 * (64-byte aligned), urgent sets URG. */
static inline struct vtd_irte vtd_irte_posted(u8 guest_vector, u64 pd_pa, bool urgent, enum vtd_svt svt, u8 sq,
					      u16 sid)
{
	return (struct vtd_irte){
		.lo = VTD_IRTE_P | VTD_IRTE_IM | (urgent ? VTD_IRTE_URG : 0) | VTD_IRTE_V(guest_vector) |
		      ((pd_pa & 0xffffffc0ull) << 32),
		.hi = vtd_irte_hi(svt, sq, sid) | (pd_pa & 0xffffffff00000000ull),
	};
}
static inline u64 vtd_irte_posted_pda(struct vtd_irte e)
{
	return ((e.lo >> 32) & 0xffffffc0ull) | (e.hi & 0xffffffff00000000ull);
}

/* ---- Remappable MSI (Interrupt Remapping, "Interrupt Requests in Remappable
 * Format"): address 31:20 = 0xFEE, handle[14:0] in 19:5, Interrupt Format 4 = 1,
 * SHV 3, handle[15] in bit 2; data 0 when SHV = 0. Compatibility format: bit 4 = 0. */
#define VTD_MSI_ADDR_BASE 0xfee00000u
#define VTD_MSI_ADDR_IF   BIT(4)
#define VTD_MSI_ADDR_SHV  BIT(3)
static inline u32 vtd_msi_remappable_addr(u16 handle)
{
	return VTD_MSI_ADDR_BASE | ((u32)(handle & 0x7fff) << 5) | VTD_MSI_ADDR_IF | ((u32)(handle >> 15) << 2);
}
static inline u32 vtd_msi_handle(u32 addr)
{
	return ((addr >> 5) & 0x7fff) | (((addr >> 2) & 1) << 15);
}

/* ---- I/O APIC redirection entries in remappable format (Interrupt Remapping,
 * "I/OxAPIC Programming"): Interrupt Format bit 48 = 1, Interrupt_Index[14:0] in bits
 * 63:49, Interrupt_Index[15] in bit 11, bits 10:8 = 000b; the vector field "must be
 * programmed ... with the same value as the vector in the IRTE" (the I/O APIC matches
 * EOIs of level-triggered interrupts by vector); polarity (13), trigger mode (15) and
 * mask (16) keep their meaning. lo/hi are the entry's low and high dwords. ---- */
#define VTD_RTE_IF_HI     BIT(16)   /* bit 48 */
#define VTD_RTE_IDX15     BIT(11)
static inline void vtd_ioapic_rte_remappable(u16 index, u8 vector, u32 flags_lo, u32 *lo, u32 *hi)
{
	*lo = (u32)vector | (flags_lo & (BIT(13) | BIT(15) | BIT(16))) | ((index >> 15) & 1 ? VTD_RTE_IDX15 : 0);
	*hi = VTD_RTE_IF_HI | (u32)(index & 0x7fff) << 17;
}

/* ---- Invalidation descriptors (128 bits; type in bits 3:0) ---- */
struct vtd_inv_desc {
	u64 lo, hi;
};
_Static_assert(sizeof(struct vtd_inv_desc) == 16, "invalidation descriptor is 128 bits");
enum vtd_inv_type {
	VTD_INV_CC = 1,      /* Context-cache Invalidate Descriptor */
	VTD_INV_IOTLB = 2,   /* IOTLB Invalidate Descriptor */
	VTD_INV_DEVTLB = 3,  /* Device-TLB Invalidate Descriptor */
	VTD_INV_IEC = 4,     /* Interrupt Entry Cache Invalidate Descriptor */
	VTD_INV_WAIT = 5,    /* Invalidation Wait Descriptor */
};
#define VTD_INV_TYPE(d) ((u32)((d).lo & 0xf))
/* Granularity G (bits 5:4) of context-cache and IOTLB descriptors. */
enum vtd_inv_gran { VTD_INV_GLOBAL = 1, VTD_INV_DOMAIN = 2, VTD_INV_DEVICE_OR_PAGE = 3 };

static inline struct vtd_inv_desc vtd_inv_cc(enum vtd_inv_gran g, u16 did, u16 sid, u8 fm)
{
	return (struct vtd_inv_desc){
		.lo = VTD_INV_CC | ((u64)g << 4) | ((u64)did << 16) | ((u64)sid << 32) | ((u64)(fm & 3) << 48),
	};
}
/* IOTLB: g, drain reads/writes, domain; for page-selective addr (4 KiB aligned) and
 * address mask am (2^am pages). */
static inline struct vtd_inv_desc vtd_inv_iotlb(enum vtd_inv_gran g, u16 did, u64 addr, u8 am)
{
	return (struct vtd_inv_desc){
		.lo = VTD_INV_IOTLB | ((u64)g << 4) | BIT64(6) | BIT64(7) | ((u64)did << 16),
		.hi = g == VTD_INV_DEVICE_OR_PAGE ? (addr & ~0xfffull) | (am & 0x3f) : 0,
	};
}
/* Interrupt entry cache: global, or index-selective for 2^im entries from iidx. */
static inline struct vtd_inv_desc vtd_inv_iec(bool index, u16 iidx, u8 im)
{
	return (struct vtd_inv_desc){
		.lo = VTD_INV_IEC | (index ? BIT64(4) : 0) | ((u64)(im & 0x1f) << 27) | ((u64)iidx << 32),
	};
}
/* Wait: write status to the dword at status_pa (SW) once every earlier descriptor is done;
 * FN (fence) keeps later descriptors from starting before. */
static inline struct vtd_inv_desc vtd_inv_wait(u64 status_pa, u32 status)
{
	return (struct vtd_inv_desc){
		.lo = VTD_INV_WAIT | BIT64(5) | BIT64(6) | ((u64)status << 32),
		.hi = status_pa & ~3ull,
	};
}

/* ---- Fault reasons ("Fault Reasons" appendix: non-recoverable faults) ---- */
const char *vtd_fault_reason_name(u8 reason);

#endif
