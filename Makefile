# microhv: a bare-metal VMX microhypervisor. `make` builds everything, `make run` boots
# the demo under Bochs, `make test` runs every test. See README.md.

BUILD ?= build
CC := gcc
AS := gcc
LD := ld
OBJCOPY := objcopy
PYTHON ?= python3

WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
	-Wpointer-arith -Wno-address-of-packed-member
CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-omit-frame-pointer -mno-red-zone -mgeneral-regs-only -mcmodel=small \
	-fno-asynchronous-unwind-tables -fcf-protection=none -I. -I$(BUILD) $(WARN)
ASFLAGS := -I. -I$(BUILD) -D__ASSEMBLER__
LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T boot/linker.ld

HV_C := $(wildcard boot/*.c hv/*/*.c arch/x86/*.c arch/x86/vmx/*.c drivers/iommu/*.c virtio/*.c)
HV_C := $(filter-out arch/x86/vmx/asm-offsets.c,$(HV_C))
HV_S := $(wildcard boot/*.S arch/x86/vmx/*.S)
HV_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(HV_C)) $(patsubst %.S,$(BUILD)/obj/%.o,$(HV_S))

.PHONY: all hv guests run test unit bench bench-overcommit bench-io bench-assign bench-linux bench-linux-io clean setup linux-image run-linux test-linux-long fuzz
all: hv guests unit

hv: $(BUILD)/hv.elf

$(BUILD)/asm-offsets.h: arch/x86/vmx/asm-offsets.c hv/vm/vm.h hv/host/cpu.h arch/x86/vmx/vmcs.h arch/x86/vmx/exit_reason.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -S -o $(BUILD)/asm-offsets.s $<
	sed -n 's/.*->\([A-Z0-9_]*\) \$$\{0,1\}\([0-9]*\).*/#define \1 \2/p' $(BUILD)/asm-offsets.s > $@.tmp
	mv $@.tmp $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/%.o: %.S $(BUILD)/asm-offsets.h
	@mkdir -p $(dir $@)
	$(AS) $(ASFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/hv.elf: $(HV_OBJ) boot/linker.ld
	$(LD) $(LDFLAGS) -o $@ $(HV_OBJ)
	@grub-file --is-x86-multiboot $@ && grub-file --is-x86-multiboot2 $@ || \
		{ echo "hv.elf lacks a multiboot header"; rm -f $@; exit 1; }

-include $(HV_OBJ:.o=.d)

# The guest DSDT: ASL compiled by iasl (Debian acpica-tools) into a C array
# (dsdt_aml_code[]) that hv/vm/guest_acpi.c includes.
$(BUILD)/hv/vm/dsdt.hex: hv/vm/dsdt.asl
	@mkdir -p $(dir $@)
	iasl -vs -p $(BUILD)/hv/vm/dsdt -tc $< > $(BUILD)/hv/vm/iasl.log 2>&1 || { cat $(BUILD)/hv/vm/iasl.log; exit 1; }
	rm -f $(BUILD)/hv/vm/dsdt.aml
$(BUILD)/obj/hv/vm/guest_acpi.o: $(BUILD)/hv/vm/dsdt.hex

include guests/guests.mk
include tests/unit/unit.mk

setup:
	bash tools/setup

run: setup all
	tools/hvrun --emulator bochs --cpus 2 --timeout 300 \
		--vm-cpus 0 --name hello --append "name=hello exit=0" $(BUILD)/guests/hello.elf \
		--vm "$(BUILD)/tests/foreign.elf,name=foreign,cpus=1,append=from make run" \
		|| { s=$$?; [ $$s -eq 1 ] || { echo "make run: status $$s (docs/INTERFACES.md)"; exit $$s; }; }

test: setup all linux-image
	$(PYTHON) tests/run-all

# Debian's kernel (scenario=shell) on CPU 0 beside the hello VM on CPU 1: the terminal
# is the Linux guest's console (hvrun forwards standard input to the first VM);
# `poweroff -f` ends the run (status 1), Ctrl-A x aborts it.
run-linux: setup all linux-image
	tools/hvrun --emulator bochs --cpus 2 --memory 512 --timeout 3600 \
		--vm-cpus 0 --mem 256M --initrd $(BUILD)/linux/initrd.gz \
		--append "console=ttyS0 scenario=shell" $(BUILD)/linux/vmlinuz \
		--vm "$(BUILD)/guests/hello.elf,name=hello,cpus=1,append=name=hello" \
		|| { s=$$?; [ $$s -eq 1 ] || { echo "make run-linux: status $$s (docs/INTERFACES.md)"; exit $$s; }; }

# The longer Linux guest scenarios, not part of `make test` (tests/e2e-linux-long.manifest).
test-linux-long: setup all linux-image
	$(PYTHON) tests/e2e.py --manifest tests/e2e-linux-long.manifest

bench: setup all
	tools/bench
	tools/benchplot bench

# The virtio-blk I/O benchmark (guests/vblk test=bench, docs/benchmarks.md "I/O").
bench-io: setup all
	tools/bench-io

# Debian's Linux with fio on the virtio-blk disk, per request between measurement marks
# (tools/bench-linux-io, docs/benchmarks.md "Linux guest").
bench-linux-io: setup all linux-image
	tools/bench-linux-io

# Device interrupts of an assigned function (docs/benchmarks.md, issue 13): Bochs with --iommu.
bench-assign: setup all
	tools/bench-assign

# Linux's boot to its first userspace process, under the hypervisor and on bare Bochs
# (docs/benchmarks.md "Linux guest").
bench-linux: setup all linux-image
	tools/bench-linux

# The traced run of make bench-overcommit (tools/benchplot's overcommit-wakeup.svg): 2 VMs of the think workload.
OC_TRACE_ARGS := trace=post,notify,elide,wakeup,block,switch,yield,timer,eoi,inject trace_buf=262144
OC_TRACE_RUN := duration=50000000 start=400000000 timeout=1000000000 think
# The overcommit benchmark of directed yield to ready vCPUs (docs/benchmarks.md): the whole matrix under the default
# policy, then rr and spread=on against it for the yield comparison. About 25 minutes on 2
# cores.
bench-overcommit: setup all
	tools/bench-overcommit
	tools/bench-overcommit --hv-args sched=rr --settings ready/wakeup,preempted/wakeup --section rr
	tools/bench-overcommit --hv-args spread=on --settings ready/wakeup,preempted/wakeup --section spread
	mkdir -p $(BUILD)/bench
	tools/hvrun --cpus 2 --vcpus 2 --stdin off --timeout 900 --hv-args "$(OC_TRACE_ARGS)" \
		--trace $(BUILD)/bench/overcommit.trace --name a build/guests/overcommit.elf --append "name=a $(OC_TRACE_RUN)" \
		--vm 'build/guests/overcommit.elf,name=b,vcpus=2,append=name=b $(OC_TRACE_RUN)' > $(BUILD)/bench/overcommit.log; \
		test $$? -eq 1
	tools/benchplot overcommit

# The virtio-blk fuzz target (tests/check-fuzz) for FUZZ_TIME seconds (make test runs
# 20000 executions); the corpus grows in $(BUILD)/fuzz/corpus.
FUZZ_TIME ?= 600
fuzz: setup
	BUILD=$(abspath $(BUILD)) FUZZ_TIME=$(FUZZ_TIME) tests/check-fuzz

# A truncated bzImage for the Linux loader's error path (e2e linux-truncated).
guests: $(BUILD)/tests/bzimage-truncated
$(BUILD)/tests/bzimage-truncated: tests/linux/mkbzimage.py
	@mkdir -p $(dir $@)
	$(PYTHON) $< $@

# ACPI DMAR tables for GRUB's acpi command (tools/mkdmar, hvrun --dmar; e2e qemu-dmar-*).
DMAR_TABLES := $(BUILD)/tests/dmar-nounit.bin $(BUILD)/tests/dmar-bad-scope.bin $(BUILD)/tests/dmar-overlap.bin
guests: $(DMAR_TABLES)
$(BUILD)/tests/dmar-nounit.bin: tools/mkdmar
	@mkdir -p $(dir $@)
	$(PYTHON) tools/mkdmar --base 0xfed90000 --include-all --ioapic 0:ff:00.0 $@
$(BUILD)/tests/dmar-bad-scope.bin: tools/mkdmar
	@mkdir -p $(dir $@)
	$(PYTHON) tools/mkdmar --base 0xfed90000 --endpoint 00:03.0 --bad scope-past-end $@
$(BUILD)/tests/dmar-overlap.bin: tools/mkdmar
	@mkdir -p $(dir $@)
	$(PYTHON) tools/mkdmar --base 0xfed90000 --include-all --bad overlap $@
# The Bochs unit's table (as hvrun --iommu writes it for one CPU: I/O APIC ID 1) with an
# RMRR for the edu 00:02.0: above a 16 MiB VM's RAM, and over it (e2e assign-rmrr*).
guests: $(BUILD)/tests/dmar-rmrr.bin $(BUILD)/tests/dmar-rmrr-overlap.bin
$(BUILD)/tests/dmar-rmrr.bin: tools/mkdmar
	@mkdir -p $(dir $@)
	$(PYTHON) tools/mkdmar --base 0xfed90000 --haw 48 --include-all --ioapic 1:00:1f.0 --rmrr 0xe000000-0xe00ffff:00:02.0 $@
$(BUILD)/tests/dmar-rmrr-overlap.bin: tools/mkdmar
	@mkdir -p $(dir $@)
	$(PYTHON) tools/mkdmar --base 0xfed90000 --haw 48 --include-all --ioapic 1:00:1f.0 --rmrr 0x800000-0x80ffff:00:02.0 $@

# The Linux guest image (tools/mklinux): Debian 12's kernel and a busybox initramfs,
# downloaded and built once into ~/.cache/microhv/linux/, linked as $(BUILD)/linux/.
linux-image:
	$(PYTHON) tools/mklinux --link $(BUILD)/linux

clean:
	rm -rf $(BUILD)
