# Host unit tests (cmocka), compiled from the unmodified hypervisor sources.
#
# Every tests/unit/test_NAME.c becomes build/tests/unit/test_NAME, linked with
# tests/unit/support.c (fake physical memory, assertion helpers) and the hypervisor
# sources listed in UNIT_SRC_NAME. The sources are compiled with -DHV_HOST_TEST; the
# C library provides memcpy/strlen & co. (hv/lib/lib.c is never compiled for the host).
# A new test file is picked up by itself; list the sources it needs below.
#
# Sanitizers, in a separate build directory:
#   make unit BUILD=build-asan UNIT_EXTRA_CFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=all'
UNIT_EXTRA_CFLAGS ?=
UNIT_CFLAGS := -std=gnu11 -O2 -g -I. -I$(BUILD) -DHV_HOST_TEST -Wall -Wextra -Werror -Wno-address-of-packed-member \
	$(UNIT_EXTRA_CFLAGS)
UNIT_LIBS := -lcmocka
UNIT_DIR := $(BUILD)/tests/unit
UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(sort $(wildcard tests/unit/test_*.c)))
UNIT_BINS := $(addprefix $(UNIT_DIR)/test_,$(UNIT_TESTS))

# The hypervisor sources each test needs.
UNIT_SRC_caps := arch/x86/vmx/caps.c hv/lib/format.c
UNIT_SRC_vmcs :=
UNIT_SRC_ept := arch/x86/vmx/ept.c
UNIT_SRC_frame := hv/mm/frame.c
UNIT_SRC_cmdline := hv/init/cmdline.c hv/lib/format.c hv/trace/ring.c
UNIT_SRC_bootinfo := hv/init/bootinfo.c hv/lib/format.c
UNIT_SRC_acpi := hv/host/acpi.c hv/lib/format.c
UNIT_SRC_loader := hv/vm/loader.c hv/vm/guest_acpi.c hv/mm/guest_map.c hv/lib/format.c
UNIT_SRC_insn := arch/x86/insn.c
UNIT_SRC_vioapic := tests/unit/fake_lock.c hv/irq/vioapic.c
UNIT_SRC_vpic := tests/unit/fake_lock.c hv/irq/vpic.c hv/dev/pic.c hv/io/bus.c
UNIT_SRC_vlapic := hv/irq/vlapic_regs.c
UNIT_SRC_posted :=
# Extra libraries of one test (after -lcmocka).
UNIT_LIBS_posted := -lpthread
UNIT_SRC_guest_acpi := hv/vm/guest_acpi.c hv/vm/loader.c hv/host/acpi.c hv/mm/guest_map.c hv/lib/format.c
UNIT_SRC_mmio := tests/unit/fake_lock.c arch/x86/vmx/mmio.c arch/x86/insn.c hv/irq/vioapic.c hv/lib/format.c hv/io/bus.c hv/dev/ioapic.c hv/mm/guest_map.c
UNIT_SRC_time :=
UNIT_SRC_msi := hv/irq/msi.c
UNIT_SRC_passthru := hv/pci/passthru_irq.c hv/irq/msi.c
UNIT_SRC_pci := tests/unit/fake_lock.c hv/pci/cfgmech.c hv/pci/config.c hv/pci/msi.c hv/pci/msix.c hv/pci/hostbridge.c \
	hv/pci/testdev.c hv/irq/msi.c hv/irq/vioapic.c hv/io/bus.c hv/mm/guest_map.c hv/lib/format.c
UNIT_SRC_bus := tests/unit/fake_lock.c hv/io/bus.c
UNIT_SRC_vuart := hv/dev/vuart.c hv/io/bus.c
UNIT_LIBS_vuart := -lpthread
UNIT_SRC_guest_map := hv/mm/guest_map.c hv/lib/format.c
UNIT_SRC_paging := arch/x86/paging.c
UNIT_SRC_ratelimit := hv/lib/ratelimit.c
UNIT_SRC_format := hv/lib/format.c
UNIT_SRC_vectors := hv/host/vectors.c hv/lib/format.c
UNIT_SRC_pit := hv/dev/i8254.c
UNIT_SRC_lapic := hv/host/lapic.c hv/lib/format.c
UNIT_SRC_virtq := virtio/virtq.c virtio/blk_req.c
UNIT_SRC_trace := hv/trace/ring.c hv/lib/format.c
UNIT_LIBS_trace := -lpthread
UNIT_SRC_ioq := virtio/ioq.c
UNIT_LIBS_ioq := -lpthread
UNIT_SRC_dmar := drivers/iommu/dmar.c hv/lib/format.c
UNIT_SRC_vtd := drivers/iommu/vtd_tables.c hv/mm/guest_map.c hv/lib/format.c
UNIT_SRC_vtdunit := drivers/iommu/vtd.c drivers/iommu/vtd_tables.c drivers/iommu/dmar.c hv/host/vectors.c hv/mm/frame.c \
	hv/mm/guest_map.c hv/lib/format.c
UNIT_LIBS_vtdunit := -lpthread
UNIT_SRC_vintr := arch/x86/vmx/vintr.c hv/irq/vlapic_regs.c hv/lib/format.c
UNIT_SRC_mark := hv/dev/mark_fmt.c hv/lib/format.c

unit: $(UNIT_BINS)

$(UNIT_DIR)/obj/hv/vm/guest_acpi.o: $(BUILD)/hv/vm/dsdt.hex

$(UNIT_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -MMD -MP -c -o $@ $<

unit_objs = $(patsubst %.c,$(UNIT_DIR)/obj/%.o,tests/unit/test_$(1).c tests/unit/support.c $(UNIT_SRC_$(1)))

define UNIT_TEST_RULE
$(UNIT_DIR)/test_$(1): $(call unit_objs,$(1))
	$$(CC) $$(UNIT_CFLAGS) -o $$@ $$^ $$(UNIT_LIBS) $$(UNIT_LIBS_$(1))
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call UNIT_TEST_RULE,$(t))))

UNIT_OBJS := $(sort $(foreach t,$(UNIT_TESTS),$(call unit_objs,$(t))))
-include $(UNIT_OBJS:.o=.d)
