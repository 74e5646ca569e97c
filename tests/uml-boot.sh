#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot standard UML and check that it reaches user space and exits on its own.
#
#   uml-boot.sh initramfs KERNEL   boot KERNEL with a tiny initramfs
#   uml-boot.sh hostfs KERNEL      boot KERNEL with a host directory as root
#
# In both, a static /init prints a marker taken from the kernel command line
# and powers off. The test passes when the marker of this boot is on the
# console and the process exited with status 0 by itself.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

mode=${1:?usage: $0 initramfs|hostfs KERNEL}
kernel=$(realpath "${2:?usage: $0 initramfs|hostfs KERNEL}")
timeout_s=${UML_BOOT_TIMEOUT:-120}

[ -x "$kernel" ] || die "$kernel is not an executable UML kernel; build it first ('make')"

work=$(mktemp -d "${TMPDIR:-/tmp}/uml-boot.XXXXXX")
trap 'rm -rf "$work"' EXIT

info "building the static test /init"
(cd "$TOP" && RUSTFLAGS="-C target-feature=+crt-static" \
	cargo build -q --release --target x86_64-unknown-linux-gnu -p uml-init)
init_bin=$TOP/target/x86_64-unknown-linux-gnu/release/uml-init

marker="boot-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
args=(mem=64M "UML_BOOT_MARKER=$marker")

case "$mode" in
initramfs)
	# The kernel's own cpio writer makes the device node without root.
	gen=$BUILD/gen_init_cpio
	if [ ! -x "$gen" ] || [ "$KTREE/usr/gen_init_cpio.c" -nt "$gen" ]; then
		gcc -O2 -o "$gen" "$KTREE/usr/gen_init_cpio.c"
	fi
	cat >"$work/initramfs.list" <<-LIST
	dir /dev 0755 0 0
	nod /dev/console 0600 0 0 c 5 1
	file /init $init_bin 0755 0 0
	LIST
	"$gen" "$work/initramfs.list" >"$work/initramfs.cpio"
	args+=("initrd=$work/initramfs.cpio")
	;;
hostfs)
	mkdir -p "$work/root/dev"
	cp "$init_bin" "$work/root/init"
	args+=(root=/dev/root rootfstype=hostfs "hostfs=$work/root" init=/init)
	;;
*)
	die "unknown mode '$mode' (expected initramfs or hostfs)"
	;;
esac

info "booting $kernel ${args[*]}"
start=$(date +%s.%N)
set +e
(cd "$work" && TMPDIR=$work timeout --kill-after=10 "$timeout_s" "$kernel" "${args[@]}" </dev/null >"$work/console.log" 2>&1)
status=$?
set -e
elapsed=$(echo "$(date +%s.%N) - $start" | bc)

fail() {
	echo "---- console (last 40 lines) ----" >&2
	tail -n 40 "$work/console.log" >&2
	die "UML boot ($mode): $*"
}

[ $status -ne 124 ] && [ $status -ne 137 ] || fail "the kernel did not exit within ${timeout_s}s"
grep -qF "uml-init: UML_BOOT_MARKER=$marker" "$work/console.log" ||
	fail "the marker '$marker' from the command line never reached the console"
[ $status -eq 0 ] || fail "the kernel exited with status $status instead of 0 after power-off"
grep -q "Linux version $(cut -d' ' -f1 "$BUILD/kernel-version")" "$work/console.log" ||
	fail "the console does not show the expected Linux version $(cat "$BUILD/kernel-version")"

printf 'PASS: UML boot (%s): %s printed marker %s and powered off by itself in %.2fs\n' \
	"$mode" "$(basename "$kernel")" "$marker" "$elapsed"
