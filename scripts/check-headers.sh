#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every exported header that compiles on its own must still compile once
# renamed (include/lkl/...), in one file with the common libc headers,
# included before them and after them.
#
# Usage: scripts/check-headers.sh UAPI_DIR INSTALLED_INCLUDE_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"

uapi=$1
inc=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Renaming cannot follow names built by token pasting (nilfs2's
# NILFS_CPINFO_##flag, v4l2's MEDIA_BUS_FMT_##x, vbox's struct ##type) nor
# patchkey.h's mix of libc's __BYTE_ORDER with the kernel's __BIG_ENDIAN;
# LKL's renamed headers have the same gaps.
known="linux/nilfs2_api.h linux/nilfs2_ondisk.h linux/soundcard.h
linux/v4l2-mediabus.h linux/v4l2-subdev.h linux/vbox_vmmdev_types.h
linux/vboxguest.h"

libc='#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <errno.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>'

check() {
	local h=$1 f
	f=$work/$(tr / _ <<<"$h")
	printf '#include <%s>\nint x;\n' "$h" >"$f.c"
	gcc -fsyntax-only -I"$uapi" "$f.c" 2>/dev/null || return 0
	printf '%s\n#include <lkl/%s>\nint x;\n' "$libc" "$h" >"$f.a.c"
	printf '#include <lkl/%s>\n%s\nint x;\n' "$h" "$libc" >"$f.b.c"
	for c in "$f.a.c" "$f.b.c"; do
		if ! gcc -fsyntax-only -I"$inc" "$c" 2>"$f.err"; then
			echo "FAIL $h: $(grep -m1 error "$f.err")"
			return 0
		fi
	done
	echo "OK $h"
}
export -f check
export uapi inc work libc

(cd "$uapi" && find . -name '*.h' | sed 's|^\./||' | sort) |
	xargs -P "$(nproc)" -I{} bash -c 'check {}' >"$work/results"
ok=$(grep -c '^OK ' "$work/results" || true)
bad=0
while read -r _ h rest; do
	h=${h%:}
	if grep -qxF "$h" <<<"$(tr ' ' '\n' <<<"$known")"; then
		continue
	fi
	echo "renamed header fails: $h: $rest" >&2
	bad=$((bad + 1))
done < <(grep '^FAIL ' "$work/results" || true)
known_n=$(grep -c '^FAIL ' "$work/results" || true)
info "renamed headers: $ok compile next to libc (both orders), $((known_n - bad)) known exceptions, $bad failures"
[ "$bad" -eq 0 ]
