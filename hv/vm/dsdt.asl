/* SPDX-License-Identifier: MIT */
/*
 * The DSDT of every VM (hv/vm/guest_acpi.c copies the AML that `iasl -tc` makes of this
 * file, build/hv/vm/dsdt.hex, and patches the named integers PW3B/PW3E with the VM's
 * 32-bit BAR window). ACPI Specification 6.5: "\_Sx (System States)", "PCI Host
 * Bridge Device" (PNP0A03, "_SEG (Segment)", "_BBN (Base Bus Number)"), "_CRS (Current
 * Resource Settings)" with the Word/DWord Address Space Descriptors, "_PRT (PCI Routing
 * Table)". Hand-maintained with hv/pci/pci.h (pci_intx_gsi) and hv/mm/guest_layout.h.
 */
DefinitionBlock ("", "DSDT", 2, "MICRHV", "MICROHV ", 1)
{
    /* Sleep state S5 (soft off): SLP_TYPa, SLP_TYPb (GUEST_S5_SLP_TYP), reserved. */
    Name (\_S5, Package (4) { 5, 5, Zero, Zero })

    Scope (\_SB)
    {
        /* The PCI host bridge: segment 0, bus 0 only; configuration through 0xCF8/0xCFC
         * or ECAM (the MCFG table). */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_SEG, Zero)
            Name (_BBN, Zero)

            /* The 32-bit BAR window [PW3B, PW3E]: patched per VM by the loader. */
            Name (PW3B, 0xC0000000)
            Name (PW3E, 0xDFFFFFFF)

            Name (CRS0, ResourceTemplate ()
            {
                /* Bus numbers: 0 only. */
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x0000, 0x0000, 0x0001)
                /* CONFIG_ADDRESS/CONFIG_DATA, consumed by the bridge itself. */
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                /* The port space the bridge forwards: everything but 0xCF8-0xCFF. */
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                /* The 32-bit memory window for BARs (values set by _CRS). */
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xDFFFFFFF, 0x00000000, 0x20000000, , , MW32)
            })

            Method (_CRS, 0, NotSerialized)
            {
                CreateDWordField (CRS0, \_SB.PCI0.MW32._MIN, WMIN)
                CreateDWordField (CRS0, \_SB.PCI0.MW32._MAX, WMAX)
                CreateDWordField (CRS0, \_SB.PCI0.MW32._LEN, WLEN)
                WMIN = PW3B
                WMAX = PW3E
                WLEN = (PW3E - PW3B) + One
                Return (CRS0)
            }

            /* INTx routing, bus 0: INTA#..INTD# (pin 0-3) of slot S -> GSI 16 + ((S + pin)
             * & 3) on the IOAPIC (source Zero: a global system interrupt, level-
             * triggered, active-low, shareable). */
            Name (_PRT, Package ()
            {
                Package () { 0x0000FFFF, 0, Zero, 16 },
                Package () { 0x0000FFFF, 1, Zero, 17 },
                Package () { 0x0000FFFF, 2, Zero, 18 },
                Package () { 0x0000FFFF, 3, Zero, 19 },
                Package () { 0x0001FFFF, 0, Zero, 17 },
                Package () { 0x0001FFFF, 1, Zero, 18 },
                Package () { 0x0001FFFF, 2, Zero, 19 },
                Package () { 0x0001FFFF, 3, Zero, 16 },
                Package () { 0x0002FFFF, 0, Zero, 18 },
                Package () { 0x0002FFFF, 1, Zero, 19 },
                Package () { 0x0002FFFF, 2, Zero, 16 },
                Package () { 0x0002FFFF, 3, Zero, 17 },
                Package () { 0x0003FFFF, 0, Zero, 19 },
                Package () { 0x0003FFFF, 1, Zero, 16 },
                Package () { 0x0003FFFF, 2, Zero, 17 },
                Package () { 0x0003FFFF, 3, Zero, 18 },
                Package () { 0x0004FFFF, 0, Zero, 16 },
                Package () { 0x0004FFFF, 1, Zero, 17 },
                Package () { 0x0004FFFF, 2, Zero, 18 },
                Package () { 0x0004FFFF, 3, Zero, 19 },
                Package () { 0x0005FFFF, 0, Zero, 17 },
                Package () { 0x0005FFFF, 1, Zero, 18 },
                Package () { 0x0005FFFF, 2, Zero, 19 },
                Package () { 0x0005FFFF, 3, Zero, 16 },
                Package () { 0x0006FFFF, 0, Zero, 18 },
                Package () { 0x0006FFFF, 1, Zero, 19 },
                Package () { 0x0006FFFF, 2, Zero, 16 },
                Package () { 0x0006FFFF, 3, Zero, 17 },
                Package () { 0x0007FFFF, 0, Zero, 19 },
                Package () { 0x0007FFFF, 1, Zero, 16 },
                Package () { 0x0007FFFF, 2, Zero, 17 },
                Package () { 0x0007FFFF, 3, Zero, 18 },
                Package () { 0x0008FFFF, 0, Zero, 16 },
                Package () { 0x0008FFFF, 1, Zero, 17 },
                Package () { 0x0008FFFF, 2, Zero, 18 },
                Package () { 0x0008FFFF, 3, Zero, 19 },
                Package () { 0x0009FFFF, 0, Zero, 17 },
                Package () { 0x0009FFFF, 1, Zero, 18 },
                Package () { 0x0009FFFF, 2, Zero, 19 },
                Package () { 0x0009FFFF, 3, Zero, 16 },
                Package () { 0x000AFFFF, 0, Zero, 18 },
                Package () { 0x000AFFFF, 1, Zero, 19 },
                Package () { 0x000AFFFF, 2, Zero, 16 },
                Package () { 0x000AFFFF, 3, Zero, 17 },
                Package () { 0x000BFFFF, 0, Zero, 19 },
                Package () { 0x000BFFFF, 1, Zero, 16 },
                Package () { 0x000BFFFF, 2, Zero, 17 },
                Package () { 0x000BFFFF, 3, Zero, 18 },
                Package () { 0x000CFFFF, 0, Zero, 16 },
                Package () { 0x000CFFFF, 1, Zero, 17 },
                Package () { 0x000CFFFF, 2, Zero, 18 },
                Package () { 0x000CFFFF, 3, Zero, 19 },
                Package () { 0x000DFFFF, 0, Zero, 17 },
                Package () { 0x000DFFFF, 1, Zero, 18 },
                Package () { 0x000DFFFF, 2, Zero, 19 },
                Package () { 0x000DFFFF, 3, Zero, 16 },
                Package () { 0x000EFFFF, 0, Zero, 18 },
                Package () { 0x000EFFFF, 1, Zero, 19 },
                Package () { 0x000EFFFF, 2, Zero, 16 },
                Package () { 0x000EFFFF, 3, Zero, 17 },
                Package () { 0x000FFFFF, 0, Zero, 19 },
                Package () { 0x000FFFFF, 1, Zero, 16 },
                Package () { 0x000FFFFF, 2, Zero, 17 },
                Package () { 0x000FFFFF, 3, Zero, 18 },
                Package () { 0x0010FFFF, 0, Zero, 16 },
                Package () { 0x0010FFFF, 1, Zero, 17 },
                Package () { 0x0010FFFF, 2, Zero, 18 },
                Package () { 0x0010FFFF, 3, Zero, 19 },
                Package () { 0x0011FFFF, 0, Zero, 17 },
                Package () { 0x0011FFFF, 1, Zero, 18 },
                Package () { 0x0011FFFF, 2, Zero, 19 },
                Package () { 0x0011FFFF, 3, Zero, 16 },
                Package () { 0x0012FFFF, 0, Zero, 18 },
                Package () { 0x0012FFFF, 1, Zero, 19 },
                Package () { 0x0012FFFF, 2, Zero, 16 },
                Package () { 0x0012FFFF, 3, Zero, 17 },
                Package () { 0x0013FFFF, 0, Zero, 19 },
                Package () { 0x0013FFFF, 1, Zero, 16 },
                Package () { 0x0013FFFF, 2, Zero, 17 },
                Package () { 0x0013FFFF, 3, Zero, 18 },
                Package () { 0x0014FFFF, 0, Zero, 16 },
                Package () { 0x0014FFFF, 1, Zero, 17 },
                Package () { 0x0014FFFF, 2, Zero, 18 },
                Package () { 0x0014FFFF, 3, Zero, 19 },
                Package () { 0x0015FFFF, 0, Zero, 17 },
                Package () { 0x0015FFFF, 1, Zero, 18 },
                Package () { 0x0015FFFF, 2, Zero, 19 },
                Package () { 0x0015FFFF, 3, Zero, 16 },
                Package () { 0x0016FFFF, 0, Zero, 18 },
                Package () { 0x0016FFFF, 1, Zero, 19 },
                Package () { 0x0016FFFF, 2, Zero, 16 },
                Package () { 0x0016FFFF, 3, Zero, 17 },
                Package () { 0x0017FFFF, 0, Zero, 19 },
                Package () { 0x0017FFFF, 1, Zero, 16 },
                Package () { 0x0017FFFF, 2, Zero, 17 },
                Package () { 0x0017FFFF, 3, Zero, 18 },
                Package () { 0x0018FFFF, 0, Zero, 16 },
                Package () { 0x0018FFFF, 1, Zero, 17 },
                Package () { 0x0018FFFF, 2, Zero, 18 },
                Package () { 0x0018FFFF, 3, Zero, 19 },
                Package () { 0x0019FFFF, 0, Zero, 17 },
                Package () { 0x0019FFFF, 1, Zero, 18 },
                Package () { 0x0019FFFF, 2, Zero, 19 },
                Package () { 0x0019FFFF, 3, Zero, 16 },
                Package () { 0x001AFFFF, 0, Zero, 18 },
                Package () { 0x001AFFFF, 1, Zero, 19 },
                Package () { 0x001AFFFF, 2, Zero, 16 },
                Package () { 0x001AFFFF, 3, Zero, 17 },
                Package () { 0x001BFFFF, 0, Zero, 19 },
                Package () { 0x001BFFFF, 1, Zero, 16 },
                Package () { 0x001BFFFF, 2, Zero, 17 },
                Package () { 0x001BFFFF, 3, Zero, 18 },
                Package () { 0x001CFFFF, 0, Zero, 16 },
                Package () { 0x001CFFFF, 1, Zero, 17 },
                Package () { 0x001CFFFF, 2, Zero, 18 },
                Package () { 0x001CFFFF, 3, Zero, 19 },
                Package () { 0x001DFFFF, 0, Zero, 17 },
                Package () { 0x001DFFFF, 1, Zero, 18 },
                Package () { 0x001DFFFF, 2, Zero, 19 },
                Package () { 0x001DFFFF, 3, Zero, 16 },
                Package () { 0x001EFFFF, 0, Zero, 18 },
                Package () { 0x001EFFFF, 1, Zero, 19 },
                Package () { 0x001EFFFF, 2, Zero, 16 },
                Package () { 0x001EFFFF, 3, Zero, 17 },
                Package () { 0x001FFFFF, 0, Zero, 19 },
                Package () { 0x001FFFFF, 1, Zero, 16 },
                Package () { 0x001FFFFF, 2, Zero, 17 },
                Package () { 0x001FFFFF, 3, Zero, 18 }
            })
        }
    }
}
