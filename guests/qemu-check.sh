#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Run every guest of guests/guests.cfg directly under QEMU TCG (no hypervisor: QEMU
# loads multiboot v1 kernels itself) and compare QEMU's exit status with the
# manifest's QEMU_STATUS. Checks the guests themselves, not the hypervisor.
#
# usage: guests/qemu-check.sh [BUILD_DIR]     (default: build; run from the repo root)
# Logs go to BUILD_DIR/guests/qemu-NAME.log. Exit status 0 if all matched.

build=${1:-build}
cfg=$(dirname "$0")/guests.cfg
qemu=${QEMU:-qemu-system-x86_64}
timeout_s=${TIMEOUT:-30}
fail=0

command -v "$qemu" >/dev/null 2>&1 || { echo "qemu-check: $qemu not found" >&2; exit 125; }

while read -r name kernel hv_status qemu_status append; do
	case "$name" in ''|'#'*) continue ;; esac
	[ "$append" = "-" ] && append=
	log=$build/guests/qemu-$name.log
	timeout "$timeout_s" "$qemu" -display none -no-reboot -serial stdio -monitor none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$build/$kernel" -append "nohv $append" </dev/null >"$log" 2>&1
	status=$?
	if [ "$status" = "$qemu_status" ]; then
		echo "qemu-check: $name ok (status $status)"
	else
		echo "qemu-check: $name FAILED: status $status, expected $qemu_status (log $log)"
		fail=1
	fi
done <"$cfg"
exit $fail
