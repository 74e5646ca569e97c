#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make install: install the LKL-compatible C library into PREFIX.
#
#   PREFIX/lib/liblkl.a          kernel + Rust host + C API (crates/lkl-capi)
#   PREFIX/include/lkl.h         the C API
#   PREFIX/include/lkl_host.h    lkl_host_ops
#   PREFIX/include/lkl/...       prefixed uapi headers, generated syscalls.h
#   PREFIX/lib/pkgconfig/lkl.pc  cflags and libs (with rustc's native libs)
#
# Usage: scripts/install.sh PREFIX
set -euo pipefail
. "$(dirname "$0")/lib.sh"

prefix=${1:?usage: install.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

# One build, asking rustc for the native libraries a C link of the
# staticlib needs; the JSON messages also name the archive (target
# lkl_capi, installed as liblkl.a) and the build script's output directory
# (the generated headers).
info "building liblkl.a"
json=$(cd "$TOP" && cargo rustc -p lkl-capi --release --lib --quiet \
	--message-format=json -- --print native-static-libs)
archive=$(jq -r 'select(.reason == "compiler-artifact" and .target.name == "lkl_capi"
	and (.target.kind | index("staticlib")))
	| .filenames[] | select(endswith(".a"))' <<<"$json" | tail -n1)
outdir=$(jq -r 'select(.reason == "build-script-executed"
	and (.package_id | test("lkl-capi"))) | .out_dir' <<<"$json" | tail -n1)
native=$(jq -r 'select(.reason == "compiler-message") | .message.rendered
	| select(test("native-static-libs"))' <<<"$json" |
	sed -n 's/.*native-static-libs: *//p' | tail -n1)
[ -f "$archive" ] || die "cargo did not report lkl-capi's static library"
[ -f "$outdir/include/lkl/asm/syscalls.h" ] || die "no generated headers in '$outdir'"
[ -n "$native" ] || die "rustc did not print the native static libraries"

info "installing into $prefix"
install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 644 "$archive" "$prefix/lib/liblkl.a"
src=$TOP/crates/lkl-capi/include
install -m 644 "$src/lkl.h" "$src/lkl_host.h" "$prefix/include/"
rm -rf "$prefix/include/lkl"
cp -R "$outdir/include/lkl" "$prefix/include/lkl"
install -m 644 "$src/lkl/asm/host_ops.h" "$prefix/include/lkl/asm/"
chmod -R a+rX,go-w "$prefix/include/lkl"

cat >"$prefix/lib/pkgconfig/lkl.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: lkl
Description: Linux $(cat "$BUILD/kernel-version" 2>/dev/null || echo 6.12) as a library (UML library mode), LKL-compatible C API
Version: $(cd "$TOP" && cargo pkgid -p lkl-capi | sed 's/.*[@#]//')
Libs: -L\${libdir} -llkl $native
Cflags: -I\${includedir}
PC
info "installed: $(cd "$prefix" && find lib include -maxdepth 1 | sort | tr '\n' ' ')"
