# SPDX-License-Identifier: MIT
#
# Test guests (multiboot v1 kernels) and the foreign kernel.
# Included by the top-level Makefile from the repository root; standalone:
#   printf 'BUILD:=build\ninclude guests/guests.mk\n' > /tmp/wrap.mk
#   make -f /tmp/wrap.mk guests
#
# Produces build/guests/NAME.elf for each guest in G_NAMES and build/tests/foreign.elf,
# all appended to GUEST_ELFS. Each guest is every .c file in guests/NAME/ linked with
# guests/lib/. Everything here is prefixed G_ so as not to clash with the includer.

G_BUILD    := $(if $(BUILD),$(BUILD),build)
G_OUT      := $(G_BUILD)/guests
G_OBJ      := $(G_OUT)/obj
G_NAMES    := hello triplefault badmem badio bench races apic ipistress platform fair overcommit fpu pci uartflood memmap pagewalk isolate conform platform2 uartin platform3 vblk vtdrig reboot evdeliver assign exitedge

G_CC       ?= gcc
G_AS       ?= as
G_LD       ?= ld
G_OBJCOPY  ?= objcopy

G_WARN     := -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow -Wstrict-prototypes
G_CFLAGS   := -m64 -std=gnu11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
              -mno-red-zone -mgeneral-regs-only -nostdlib -O2 -g \
              -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
              $(G_WARN) -Iguests/lib -MMD -MP
G_LDFLAGS  := -m64 -nostdlib -static -no-pie -Wl,--build-id=none \
              -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,-T,guests/lib/guest.ld

G_LIB_SRCS := guests/lib/entry.S guests/lib/console.c guests/lib/desc.c \
              guests/lib/lib.c guests/lib/string.c guests/lib/time.c \
              guests/lib/apic.c guests/lib/smp.c guests/lib/acpi.c \
              guests/lib/trampoline.S
G_LIB_OBJS := $(patsubst guests/%,$(G_OBJ)/%.o,$(G_LIB_SRCS))

G_ELFS     := $(foreach n,$(G_NAMES),$(G_OUT)/$(n).elf)
G_FOREIGN  := $(G_BUILD)/tests/foreign.elf
G_PAGING32 := $(G_OUT)/paging32.elf
G_LEGACY32 := $(G_BUILD)/tests/legacy32.elf
G_FOREIGN_LOW := $(G_BUILD)/tests/foreign-low.elf
GUEST_ELFS += $(G_ELFS) $(G_FOREIGN) $(G_FOREIGN_LOW) $(G_PAGING32) $(G_LEGACY32)

.PHONY: guests
guests: $(G_ELFS) $(G_FOREIGN) $(G_FOREIGN_LOW) $(G_PAGING32) $(G_LEGACY32)

$(G_OBJ)/%.c.o: guests/%.c guests/guests.mk
	@mkdir -p $(@D)
	$(G_CC) $(G_CFLAGS) -c $< -o $@

$(G_OBJ)/%.S.o: guests/%.S guests/guests.mk
	@mkdir -p $(@D)
	$(G_CC) $(G_CFLAGS) -c $< -o $@

# NAME.elf64 is the linked image (with symbols, for gdb/objdump); NAME.elf the
# ELF32 container multiboot v1 loaders take.
define G_GUEST_RULES
G_$(1)_OBJS := $$(patsubst guests/%,$$(G_OBJ)/%.o,$$(wildcard guests/$(1)/*.c guests/$(1)/*.S))

$$(G_OUT)/$(1).elf64: $$(G_$(1)_OBJS) $$(G_LIB_OBJS) guests/lib/guest.ld
	@mkdir -p $$(@D)
	$$(G_CC) $$(G_LDFLAGS) -o $$@ $$(G_$(1)_OBJS) $$(G_LIB_OBJS)

$$(G_OUT)/$(1).elf: $$(G_OUT)/$(1).elf64
	$$(G_OBJCOPY) -O elf32-i386 --strip-debug $$< $$@
endef
$(foreach n,$(G_NAMES),$(eval $(call G_GUEST_RULES,$(n))))

# The foreign kernel: plain 32-bit assembly, no guest library. -N makes one RWX
# segment at exactly 0x100000 (the default layout also maps the ELF headers at
# 0xff000, in the BIOS area).
$(G_OBJ)/foreign/foreign.o: tests/foreign/foreign.s guests/guests.mk
	@mkdir -p $(@D)
	$(G_AS) --32 --fatal-warnings -o $@ $<

$(G_FOREIGN): $(G_OBJ)/foreign/foreign.o
	@mkdir -p $(@D)
	$(G_LD) --fatal-warnings -m elf_i386 -Ttext 0x100000 -N --no-warn-rwx-segments --build-id=none \
		-e _start -o $@ $<

# foreign-low: the same kernel linked at 0x20000, below 1 MiB (the loader places it
# between its multiboot information and the BIOS area).
$(G_FOREIGN_LOW): $(G_OBJ)/foreign/foreign.o
	@mkdir -p $(@D)
	$(G_LD) --fatal-warnings -m elf_i386 -Ttext 0x20000 -N --no-warn-rwx-segments --build-id=none \
		-e _start -o $@ $<

# paging32: a plain 32-bit kernel too (32-bit and PAE paging, which the 64-bit guest
# library cannot run), preprocessed for its #defines.
$(G_OBJ)/paging32/paging32.o: guests/paging32/paging32.S guests/guests.mk
	@mkdir -p $(@D)
	$(G_CC) -m32 -c -o $@ $<

$(G_PAGING32): $(G_OBJ)/paging32/paging32.o
	@mkdir -p $(@D)
	$(G_LD) --fatal-warnings -m elf_i386 -Ttext 0x100000 -N --no-warn-rwx-segments --build-id=none \
		-e _start -o $@ $<

-include $(wildcard $(G_OBJ)/*/*.d)

# legacy32: 32-bit protected-mode checks (tests/legacy32/legacy32.s), linked like foreign.
$(G_OBJ)/legacy32/legacy32.o: tests/legacy32/legacy32.s guests/guests.mk
	@mkdir -p $(@D)
	$(G_AS) --32 --fatal-warnings -o $@ $<

$(G_LEGACY32): $(G_OBJ)/legacy32/legacy32.o
	@mkdir -p $(@D)
	$(G_LD) --fatal-warnings -m elf_i386 -Ttext 0x100000 -N --no-warn-rwx-segments --build-id=none \
		-e _start -o $@ $<
