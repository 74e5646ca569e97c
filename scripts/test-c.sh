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
cc_lkl disk "$TOP/tests/c/disk.c" -pthread
cc_lkl disk_hostile "$TOP/tests/c/disk_hostile.c" -pthread
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

info "C disk tests (TAP13)"
(cd "$TOP" && cargo build --release --quiet -p tap13)
tap13=$(cd "$TOP" && cargo metadata --format-version 1 --no-deps |
	jq -r .target_directory)/release/tap13
images=$BUILD/c-disk-images
rm -rf "$images"
mkdir -p "$images"
# Sparse images of LKL's sizes: btrfs needs 115 MB at least, xfs 300 MB.
mkimage() {
	local fs=$1 mb=$2 img=$images/$3.img
	truncate -s "${mb}M" "$img"
	local quiet=-q
	[ "$fs" != vfat ] || quiet=
	# shellcheck disable=SC2086
	"mkfs.$fs" $quiet "$img" >/dev/null || die "mkfs.$fs $img failed"
	printf '%s\n' "$img"
}
disk_runs=()
fs_checked=()
for spec in ext4:32 btrfs:128 xfs:300 vfat:32; do
	fs=${spec%%:*}
	if ! command -v "mkfs.$fs" >/dev/null; then
		info "skipping disk $fs: mkfs.$fs is not installed (scripts/install-deps.sh)"
		continue
	fi
	img=$(mkimage "$fs" "${spec#*:}" "$fs")
	disk_runs+=("$bin/disk fs $fs $img")
	fs_checked+=("$fs")
done
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 is needed for the C disk tests"
disk_runs+=("$bin/disk memory $(mkimage ext4 16 memory)")
disk_runs+=("$bin/disk memory-concurrent $(mkimage ext4 16 memory-concurrent)")
disk_runs+=("$bin/disk misc $(mkimage ext4 32 misc)")
# The hostile scenarios (tests/c/disk_hostile.c), each on its own image.
for scenario in ops handles args threads leaks boot-race; do
	disk_runs+=("$bin/disk_hostile $scenario $(mkimage ext4 16 "hostile-$scenario")")
done
"$tap13" "${disk_runs[@]}"

# The file the fs runs wrote must be in each image as the host reads it:
# through a read-only loop mount where the host kernel has the file system
# (probed by trying), else through mtools for vfat.
expected='written through lkl.h by tests/c/disk.c'
for fs in "${fs_checked[@]}"; do
	img=$images/$fs.img
	dir=$images/$fs.mnt
	mkdir -p "$dir"
	if mount -o loop,ro -t "$fs" "$img" "$dir" 2>/dev/null; then
		got=$(cat "$dir/hello" 2>/dev/null || true)
		umount "$dir"
		how="a host loop mount"
	elif [ "$fs" = vfat ] && command -v mtype >/dev/null; then
		got=$(mtype -i "$img" ::/hello 2>/dev/null || true)
		how=mtools
	else
		info "disk $fs: the host can neither loop-mount nor read the image; not cross-checked"
		continue
	fi
	[ "$got" = "$expected" ] || die "disk $fs: the host read '$got' from $img through $how"
	info "disk $fs: the host reads the file back through $how"
done
rm -rf "$images"

info "C boot test (TAP13)"
"$tap13" "$bin/boot" "$bin/boot bad-mem" "$bin/boot bad-quote" \
	"$bin/boot lifecycle" "$bin/boot silent"
