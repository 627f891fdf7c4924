/* SPDX-License-Identifier: MIT */
/*
 * The PCI test device (register map: hv/pci/testdev.h): a function with every kind of
 * BAR and interrupt the vPCI layer emulates, and a DMA-copy engine over guest memory.
 *
 * DMA: a GO copies DMA_LEN bytes from DMA_SRC to DMA_DST (memmove semantics) before the
 * write retires, then raises the interrupt IRQ_MODE selects. Both ranges are checked
 * whole through gpa_to_hva(): a range not entirely in the VM's RAM sets BAD_ADDR and
 * copies nothing, so a guest can never make the device touch hypervisor memory. A GO
 * with Bus Master clear sets NO_MASTER ("Bus Master": "disables the device from
 * generating PCI accesses"). Completion (done or error) raises the interrupt.
 */
#include "hv/pci/pci.h"
#include "hv/pci/testdev.h"
#include "hv/vm/vm.h"
#include "hv/lib/lib.h"

struct testdev {
	struct pci_vdev pci;
	u32 scratch, irq_mode, irq_vec, refused;
	u64 src, dst;
	u32 len, status, count;
};

static struct testdev testdevs[MAX_VMS];

static void count_refused(struct testdev *t, bool ok)
{
	if (!ok)
		t->refused++;
}

static void complete(struct testdev *t)
{
	switch (t->irq_mode) {
	case TESTDEV_IRQ_INTX:
		pci_intx_set(&t->pci, true);
		break;
	case TESTDEV_IRQ_MSI:
		count_refused(t, pci_msi_raise(&t->pci, t->irq_vec));
		break;
	case TESTDEV_IRQ_MSIX:
		count_refused(t, pci_msix_raise(&t->pci, t->irq_vec));
		break;
	default:
		break;
	}
}

static void dma_go(struct testdev *t)
{
	t->status = 0;
	if (!(pci_cfg_get(&t->pci, PCI_COMMAND, 2) & PCI_CMD_BUS_MASTER)) {
		t->status = TESTDEV_DMA_ST_NO_MASTER;
	} else if (!t->len || t->len > TESTDEV_DMA_MAX) {
		t->status = TESTDEV_DMA_ST_BAD_LEN;
	} else {
		void *s = gpa_to_hva(t->pci.vm, t->src, t->len);
		void *d = gpa_to_hva(t->pci.vm, t->dst, t->len);
		if (!s || !d) {
			t->status = TESTDEV_DMA_ST_BAD_ADDR;
		} else {
			memmove(d, s, t->len);
			t->status = TESTDEV_DMA_ST_DONE;
			t->count++;
		}
	}
	complete(t);
}

static u32 reg_read(struct testdev *t, u64 off)
{
	switch (off) {
	case TESTDEV_ID: return TESTDEV_MAGIC;
	case TESTDEV_SCRATCH: return t->scratch;
	case TESTDEV_IRQ_MODE: return t->irq_mode;
	case TESTDEV_IRQ_VEC: return t->irq_vec;
	case TESTDEV_INTX: return t->pci.intx_asserted;
	case TESTDEV_RAISED: return t->refused;
	case TESTDEV_DMA_SRC_LO: return (u32)t->src;
	case TESTDEV_DMA_SRC_HI: return (u32)(t->src >> 32);
	case TESTDEV_DMA_DST_LO: return (u32)t->dst;
	case TESTDEV_DMA_DST_HI: return (u32)(t->dst >> 32);
	case TESTDEV_DMA_LEN: return t->len;
	case TESTDEV_DMA_STATUS: return t->status;
	case TESTDEV_DMA_COUNT: return t->count;
	default: return 0;
	}
}

static void reg_write(struct testdev *t, u64 off, u32 val)
{
	switch (off) {
	case TESTDEV_SCRATCH: t->scratch = val; break;
	case TESTDEV_IRQ_MODE: t->irq_mode = val; break;
	case TESTDEV_IRQ_VEC: t->irq_vec = val; break;
	case TESTDEV_RAISE_MSIX: count_refused(t, pci_msix_raise(&t->pci, val)); break;
	case TESTDEV_RAISE_MSI: count_refused(t, pci_msi_raise(&t->pci, val)); break;
	case TESTDEV_INTX: pci_intx_set(&t->pci, val & 1); break;
	case TESTDEV_DMA_SRC_LO: t->src = (t->src & ~0xffffffffull) | val; break;
	case TESTDEV_DMA_SRC_HI: t->src = (t->src & 0xffffffffull) | (u64)val << 32; break;
	case TESTDEV_DMA_DST_LO: t->dst = (t->dst & ~0xffffffffull) | val; break;
	case TESTDEV_DMA_DST_HI: t->dst = (t->dst & 0xffffffffull) | (u64)val << 32; break;
	case TESTDEV_DMA_LEN: t->len = val; break;
	case TESTDEV_DMA_CMD:
		if (val & TESTDEV_DMA_GO)
			dma_go(t);
		break;
	default: break;   /* read-only and unassigned registers: dropped */
	}
}

static enum io_result testdev_bar_access(struct pci_vdev *d, struct vcpu *v, unsigned bar, u64 off,
					 struct io_req *req)
{
	(void)v;
	(void)bar;   /* BAR0 and BAR1 (its first 32 bytes); BAR2 is all MSI-X table/PBA */
	struct testdev *t = container_of(d, struct testdev, pci);
	if (req->size != 4 || (off & 3))
		return IO_REFUSED;
	if (bar == 2) {   /* outside the table and the PBA */
		if (!req->write)
			req->value = 0;
		return IO_DONE;
	}
	if (req->write)
		reg_write(t, off, (u32)req->value);
	else
		req->value = reg_read(t, off);
	return IO_DONE;
}

static void testdev_reset(struct pci_vdev *d)
{
	struct testdev *t = container_of(d, struct testdev, pci);
	t->scratch = t->irq_mode = t->irq_vec = t->refused = 0;
	t->src = t->dst = 0;
	t->len = t->status = t->count = 0;
}

static const struct pci_vdev_ops testdev_ops = {
	.bar_access = testdev_bar_access,
	.reset = testdev_reset,
};

bool pci_testdev_create(struct vpci *p, char *err, size_t errlen)
{
	struct testdev *t = &testdevs[p->vm->id];
	memset(t, 0, sizeof(*t));
	struct pci_vdev *d = &t->pci;
	/* Class FFh: "Device does not fit in any defined classes". */
	pci_vdev_init(d, p->vm, PCI_TESTDEV_DEVFN, "testdev", &testdev_ops, TESTDEV_VENDOR, TESTDEV_DEVICE,
		      0xff0000);
	pci_vdev_set_bar(d, 0, PCI_BAR_MEM32, TESTDEV_BAR0_SIZE);
	pci_vdev_set_bar(d, 1, PCI_BAR_PIO, TESTDEV_BAR1_SIZE);
	pci_vdev_set_bar(d, 2, PCI_BAR_MEM64, TESTDEV_BAR2_SIZE);
	d->cfg[PCI_INTERRUPT_PIN] = 1;   /* INTA# */
	if (!pci_msi_init(d, TESTDEV_MSI_VECTORS, true, true) ||
	    !pci_msix_init(d, TESTDEV_MSIX_VECTORS, 2, TESTDEV_MSIX_TABLE, TESTDEV_MSIX_PBA) || !vpci_add(p, d)) {
		hv_snprintf(err, errlen, "PCI testdev: capabilities or slot %u", PCI_SLOT(PCI_TESTDEV_DEVFN));
		return false;
	}
	return true;
}
