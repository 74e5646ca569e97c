#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build UML (ARCH=um) from build/linux out of tree, incrementally.
#
#   build-uml.sh OUTDIR [CONFIG_FRAGMENT...]
#
# OUTDIR gets defconfig, then each fragment merged on top (for test kernels
# that need an extra option); without fragments it is exactly the defconfig.
# With UMMODE=library in the environment it builds library mode instead:
# library_defconfig, and liblinux.a in place of linux and vmlinux.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 OUTDIR [CONFIG_FRAGMENT...]"
out=$(realpath -m "$1")
shift
fragments=()
for f in "$@"; do
	[ -f "$f" ] || die "config fragment $f does not exist"
	fragments+=("$(realpath "$f")")
done

[ -f "$BUILD/kernel-tree.ok" ] ||
	die "build/linux is not ready (missing or a patch failed to apply); run 'make kernel-tree'"

mkdir -p "$out"
mode=${UMMODE:-}
kmake() {
	make -s -C "$KTREE" O="$out" ARCH=um ${mode:+UMMODE=$mode} \
		CC="$(kernel_cc)" HOSTCC="$(kernel_cc)" "$@"
}

# Start from defconfig on every run so a changed defconfig or fragment is
# always taken; an unchanged .config keeps its timestamp and the build stays
# incremental.
tmpcfg=$(mktemp)
trap 'rm -f "$tmpcfg"' EXIT
[ -f "$out/.config" ] && cp -p "$out/.config" "$tmpcfg"
kmake defconfig >/dev/null
if [ ${#fragments[@]} -gt 0 ]; then
	(cd "$out" && "$KTREE/scripts/kconfig/merge_config.sh" -m -O "$out" .config "${fragments[@]}" >/dev/null)
	kmake olddefconfig >/dev/null
fi
if [ -s "$tmpcfg" ] && cmp -s "$tmpcfg" "$out/.config"; then
	touch -r "$tmpcfg" "$out/.config" 2>/dev/null || true
fi

info "building UML${mode:+ ($mode mode)} in $out (Linux $(cat "$BUILD/kernel-version"))"
kmake -j"$(nproc)"
if [ "$mode" = library ]; then
	[ -s "$out/liblinux.a" ] || die "the build did not produce $out/liblinux.a"
	info "built $out/liblinux.a"
	# The library's system call ABI is x86_64's (its table and its uapi
	# structs), and kbuild refuses headers_install for ARCH=um, so the
	# uapi headers its users compile against are x86's from this tree.
	make -s -C "$KTREE" O="$out-uapi" ARCH=x86 HOSTCC="$(kernel_cc)" \
		INSTALL_HDR_PATH="$out/usr" headers_install
	[ -f "$out/usr/include/linux/stat.h" ] || die "headers_install did not fill $out/usr/include"
	info "installed the library's uapi headers in $out/usr/include"
else
	for f in linux vmlinux; do
		[ -x "$out/$f" ] || die "the build did not produce an executable $out/$f"
	done
	info "built $out/linux and $out/vmlinux"
fi
