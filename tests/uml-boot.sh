#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot standard UML and check that it reaches user space and exits on its own.
#
#   uml-boot.sh initramfs KERNEL   boot KERNEL with a tiny initramfs
#   uml-boot.sh hostfs KERNEL      boot KERNEL with a host directory as root
#
# In both, a static /init checks that processes keep their vector registers
# (SSE, AVX, AVX-512 as the CPU has them) across context switches, signal
# handlers and ptrace, prints a marker taken from the kernel command line
# and powers off. The test passes when the marker of this boot and the
# register check's "ok" are on the console, the process exited with status 0
# by itself, and the FP register state size UML reported at start-up is the
# one the host's ptrace reports (tests/xstate-size): the host refuses any
# other size, on some CPUs only.
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
(cd "$TOP" && cargo build -q --release -p xstate-size)
host_xstate=$("$TOP/target/release/xstate-size") || die "could not read the host's XSTATE size"
host_size=$(sed -n 's/^host ptrace XSTATE size: \([0-9]*\) bytes$/\1/p' <<<"$host_xstate")
[ -n "$host_size" ] || die "xstate-size printed '$host_xstate'"

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

uml_size=$(sed -n "s/^Checking the host's FP register state size\.\.\.\([0-9]*\) bytes.*/\1/p" "$work/console.log" | head -n1)
echo "FP register state: UML uses ${uml_size:-(not reported)} bytes, the host's ptrace reports $host_size bytes"
[ -n "$uml_size" ] || fail "UML did not report the size of the FP register state it uses"
[ "$uml_size" = "$host_size" ] ||
	fail "UML uses $uml_size bytes of FP register state; the host's ptrace takes exactly $host_size"
fpregs=$(grep -a "^uml-init: fpregs: " "$work/console.log" | head -n1 | tr -d '\r')
[ -n "$fpregs" ] || fail "the register check in /init printed nothing"
[[ $fpregs == "uml-init: fpregs: ok: "* ]] || fail "${fpregs#uml-init: }"
echo "${fpregs#uml-init: }"

printf 'PASS: UML boot (%s): %s printed marker %s and powered off by itself in %.2fs\n' \
	"$mode" "$(basename "$kernel")" "$marker" "$elapsed"
