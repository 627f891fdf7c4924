/* SPDX-License-Identifier: MIT */
/*
 * hv/pci/passthru_irq.c: the pure rules of device assignment. Which path a guest's MSI
 * takes (posted IRTE to a vCPU's descriptor, or remapped to a host vector whose
 * handler injects), the IRTE built for it (VT-d specification, "Interrupt Remapping
 * Table Entry (IRTE) for Remapped Interrupts" / "... for Posted Interrupts"), and the
 * host command register for a guest's command value. msi.c's delivery side is faked.
 */
#include "tests/unit/support.h"
#include "hv/pci/passthru.h"
#include "hv/pci/pci.h"
#include "hv/irq/msi.h"
#include "hv/irq/vlapic.h"
#include "hv/host/work.h"

void vlapic_deliver(struct vm *v, struct vcpu *src, u32 shorthand, u32 dest, bool logical, u8 dm, u8 vector,
		    bool level)
{
	(void)v, (void)src, (void)shorthand, (void)dest, (void)logical, (void)dm, (void)vector, (void)level;
	fail_msg("passthru_irq.c delivers nothing");
}

struct vcpu *vlapic_phys_target(struct vm *v, u32 dest)
{
	(void)v, (void)dest;
	fail_msg("passthru_irq.c resolves no destination");
	return NULL;
}

void vlapic_deliver_to(struct vcpu *t, u8 dm, u8 vector, bool level)
{
	(void)t, (void)dm, (void)vector, (void)level;
	fail_msg("passthru_irq.c delivers nothing");
}

bool work_queue(struct cpu *c, work_fn fn, void *arg, u64 x, u64 y)
{
	(void)c, (void)fn, (void)arg, (void)x, (void)y;
	fail_msg("passthru_irq.c queues nothing");
	return false;
}

static void posted_physical_fixed(void **state)
{
	(void)state;
	struct pt_irq_choice c;
	pt_irq_choose(0xfee01000, 0x0071, 2, true, &c);   /* vCPU 1, vector 0x71, fixed, edge */
	assert_int_equal(c.kind, PT_IRQ_POSTED);
	assert_int_equal(c.vcpu, 1);
	assert_int_equal(c.vector, 0x71);
	assert_null(c.why);
	/* lowest priority with one physical destination: posted as well */
	pt_irq_choose(0xfee00000, 0x0172, 2, true, &c);
	assert_int_equal(c.kind, PT_IRQ_POSTED);
	assert_int_equal(c.vcpu, 0);
	assert_int_equal(c.vector, 0x72);
}

static void remapped_cases(void **state)
{
	(void)state;
	struct pt_irq_choice c;
	/* posting off (vtd_pi=off or no CAP.PI): remapped with the guest vector kept */
	pt_irq_choose(0xfee01000, 0x0071, 2, false, &c);
	assert_int_equal(c.kind, PT_IRQ_REMAPPED);
	assert_int_equal(c.vector, 0x71);
	assert_string_equal(c.why, "posting off");
	/* logical destination */
	pt_irq_choose(0xfee01004, 0x0071, 2, true, &c);
	assert_int_equal(c.kind, PT_IRQ_REMAPPED);
	assert_string_equal(c.why, "logical destination");
	/* broadcast 0xff, and an APIC ID beyond the vCPUs */
	pt_irq_choose(0xfeeff000, 0x0071, 2, true, &c);
	assert_int_equal(c.kind, PT_IRQ_REMAPPED);
	pt_irq_choose(0xfee02000, 0x0071, 2, true, &c);
	assert_int_equal(c.kind, PT_IRQ_REMAPPED);
	assert_string_equal(c.why, "destination names no single vCPU");
	/* NMI delivery: not expressible in a descriptor */
	pt_irq_choose(0xfee00000, 0x0400, 2, true, &c);
	assert_int_equal(c.kind, PT_IRQ_REMAPPED);
	/* level-triggered assert */
	pt_irq_choose(0xfee00000, 0xc071, 2, true, &c);
	assert_int_equal(c.kind, PT_IRQ_REMAPPED);
	assert_string_equal(c.why, "level-triggered");
}

static void dropped_cases(void **state)
{
	(void)state;
	struct pt_irq_choice c;
	pt_irq_choose(0xfed00000, 0x0071, 2, true, &c);   /* not 0xFEE */
	assert_int_equal(c.kind, PT_IRQ_NONE);
	pt_irq_choose(0x1fee00000ull, 0x0071, 2, true, &c);   /* upper address bits */
	assert_int_equal(c.kind, PT_IRQ_NONE);
	pt_irq_choose(0xfee00000, 0x0005, 2, true, &c);   /* vector below 16 */
	assert_int_equal(c.kind, PT_IRQ_NONE);
	struct vtd_irte e = pt_irte_build(&c, 0x1000, false, 0x40, 0, false, 0x10);
	assert_int_equal(e.lo, 0);   /* not present: the unit blocks it */
	assert_int_equal(e.hi, 0);
}

static void irte_posted(void **state)
{
	(void)state;
	struct pt_irq_choice c = { .kind = PT_IRQ_POSTED, .vcpu = 1, .vector = 0x71 };
	u64 pd = 0x12345678c0ull;
	struct vtd_irte e = pt_irte_build(&c, pd, false, 0x40, 3, false, 0x0010);
	assert_true(e.lo & VTD_IRTE_P);
	assert_true(e.lo & VTD_IRTE_IM);
	assert_false(e.lo & VTD_IRTE_URG);
	assert_int_equal(VTD_IRTE_VECTOR(e.lo), 0x71);
	assert_int_equal(vtd_irte_posted_pda(e), pd);
	assert_int_equal(e.hi & 0xffff, 0x0010);          /* SID */
	assert_int_equal((e.hi >> 16) & 3, 0);            /* SQ: all bits compared */
	assert_int_equal((e.hi >> 18) & 3, VTD_SVT_SID);  /* SVT: verify the requester-id */
	e = pt_irte_build(&c, pd, true, 0x40, 3, false, 0x0010);
	assert_true(e.lo & VTD_IRTE_URG);
}

static void irte_remapped(void **state)
{
	(void)state;
	struct pt_irq_choice c = { .kind = PT_IRQ_REMAPPED, .vector = 0x71 };
	struct vtd_irte e = pt_irte_build(&c, 0, false, 0x45, 3, false, 0x0018);
	assert_true(e.lo & VTD_IRTE_P);
	assert_false(e.lo & VTD_IRTE_IM);
	assert_int_equal(VTD_IRTE_VECTOR(e.lo), 0x45);     /* the host vector, not the guest's */
	assert_int_equal((e.lo >> 32) & 0xffffffff, 3u << 8);   /* xAPIC: APIC ID in DST 15:8 */
	assert_int_equal(e.hi & 0xffff, 0x0018);
	e = pt_irte_build(&c, 0, false, 0x45, 0x103, true, 0x0018);
	assert_int_equal(e.lo >> 32, 0x103);                /* x2APIC: the whole 32-bit ID */
}

static void host_command(void **state)
{
	(void)state;
	/* Bus Master follows the guest; decode on where BARs exist; INTx always disabled;
	 * other host bits (SERR# bit 8, parity bit 6) kept. */
	assert_int_equal(pt_host_command(0x0000, 0x0004, true, false),
			 PCI_CMD_BUS_MASTER | PCI_CMD_MEMORY | PCI_CMD_INTX_DISABLE);
	assert_int_equal(pt_host_command(0x0000, 0x0000, true, true), PCI_CMD_MEMORY | PCI_CMD_IO | PCI_CMD_INTX_DISABLE);
	assert_int_equal(pt_host_command(0x0147, 0x0000, true, false),
			 0x0140 | PCI_CMD_MEMORY | PCI_CMD_INTX_DISABLE);
	/* the guest's decode and Interrupt Disable bits never reach the host */
	assert_int_equal(pt_host_command(0x0000, 0x0403, false, false), PCI_CMD_INTX_DISABLE);
	/* a guest turning Bus Master off stops the device's DMA */
	assert_int_equal(pt_host_command(0x0406, 0x0002, true, false) & PCI_CMD_BUS_MASTER, 0);
}

/* An I/O APIC redirection entry in remappable format ("I/OxAPIC Programming"). */
static void ioapic_rte(void **state)
{
	(void)state;
	u32 lo, hi;
	/* index 1, vector 0x31, edge, active high, unmasked */
	vtd_ioapic_rte_remappable(1, 0x31, 0, &lo, &hi);
	assert_int_equal(lo, 0x31);
	assert_int_equal(hi, (1u << 16) | (1u << 17));   /* format bit 48, index[14:0] at 63:49 */
	/* index 0x8123: bit 15 of the index in bit 11; level, active low, masked kept */
	vtd_ioapic_rte_remappable(0x8123, 0x40, (1u << 13) | (1u << 15) | (1u << 16) | 0x7ff, &lo, &hi);
	assert_int_equal(lo, 0x40 | (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16));
	assert_int_equal(hi >> 17, 0x0123);
	assert_true(hi & (1u << 16));
	/* delivery mode bits 10:8 and destination mode: always 0 */
	assert_int_equal(lo & 0x700, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(posted_physical_fixed), cmocka_unit_test(remapped_cases),
		cmocka_unit_test(dropped_cases),         cmocka_unit_test(irte_posted),
		cmocka_unit_test(irte_remapped),         cmocka_unit_test(host_command),
		cmocka_unit_test(ioapic_rte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
