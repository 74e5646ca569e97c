#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test-c: install the C library into an empty prefix (build/c-prefix),
# build the C tests and the example against it with the pkg-config line a
# user would write, and run them. The boot test speaks TAP13; tap13 sums
# it up and fails on any "not ok".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

prefix=$BUILD/c-prefix
bin=$BUILD/c-tests
rm -rf "$prefix" "$bin"
"$TOP/scripts/install.sh" "$prefix"
mkdir -p "$bin"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cflags=$(pkg-config --cflags lkl)
libs=$(pkg-config --libs lkl)
info "pkg-config: cc prog.c $cflags $libs"
cc_lkl() {
	local out=$1
	shift
	local log
	# shellcheck disable=SC2086
	log=$(cc -std=gnu11 -Wall -Wextra -Werror -O2 "$@" $cflags $libs -o "$bin/$out" 2>&1) ||
		die "cc $out failed: $log"
	# The linker only warns; a program must never get an executable stack.
	[ -z "$log" ] || die "linking $out printed: $log"
	readelf -lW "$bin/$out" | grep -q 'GNU_STACK.* RW ' ||
		die "$out got an executable stack: $(readelf -lW "$bin/$out" | grep GNU_STACK)"
}
cc_lkl boot "$TOP/tests/c/boot.c" -pthread
cc_lkl headers "$TOP/tests/c/headers.c"
cc_lkl headers-lkl-first "$TOP/tests/c/headers.c" -DLKL_FIRST
cc_lkl hello "$TOP/examples/c/hello.c"

info "installed headers next to libc's (both orders)"
"$bin/headers"
"$bin/headers-lkl-first"

"$TOP/scripts/check-headers.sh" "${LKL_LIBLINUX_DIR:-$BUILD/lib}/usr/include" "$prefix/include"

info "examples/c/hello.c"
out=$("$bin/hello")
printf '%s\n' "$out"
grep -q '^read back: hello from Linux$' <<<"$out" || die "hello did not read its file back"

info "C boot test (TAP13)"
(cd "$TOP" && cargo build --release --quiet -p tap13)
tap13=$(cd "$TOP" && cargo metadata --format-version 1 --no-deps |
	jq -r .target_directory)/release/tap13
"$tap13" "$bin/boot" "$bin/boot bad-mem" "$bin/boot bad-quote" \
	"$bin/boot lifecycle" "$bin/boot silent"
