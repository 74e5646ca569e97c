#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that every prefix of the series (upstream + patch 1, upstream +
# patches 1-2, ...) builds standard UML with the stock defconfig and boots it
# to user space, and that every prefix from the one that adds library mode
# also builds it (UMMODE=library), compiling every C file of arch/um/lkl
# that the prefix has. At the last prefix the library must also link
# cleanly: only its entry points defined, only the host interface needed. Upstream alone is not a prefix that has to pass: on hosts
# whose XSTATE size is not the 2696 bytes it hard-codes, its processes lose
# vector registers or die at once, which patch 1 fixes and the boot test
# checks.
# Slow (one incremental kernel build per patch); run it on demand with
# 'make check-series'.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$BUILD/kernel-tree.ok" ] || die "build/linux is not ready; run 'make kernel-tree'"

# The same layout as build/linux and build/uml, one level down, so that the
# compiler sees the same relative paths and ccache can reuse the objects of
# the main build for every prefix whose sources did not change.
wt=$BUILD/series-check/linux
out=$BUILD/series-check/uml
libout=$BUILD/series-check/lib
if [ ! -d "$wt" ] || ! git -C "$wt" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	rm -rf "$wt"
	mkdir -p "$(dirname "$wt")"
	git -C "$KTREE" worktree prune
	git -C "$KTREE" worktree add -q --detach "$wt" upstream
fi

mapfile -t commits < <(git -C "$KTREE" rev-list --reverse upstream..HEAD)
[ ${#commits[@]} -gt 0 ] || die "the series is empty"

i=1
libprefixes=0
for c in "${commits[@]}"; do
	subject=$(git -C "$KTREE" log -1 --format=%s "$c")
	info "prefix $i/${#commits[@]}: $subject"
	git -C "$wt" checkout -q --detach "$c"
	if ! KTREE=$wt UMMODE= "$TOP/scripts/build-uml.sh" "$out" >"$out.log" 2>&1; then
		tail -n 30 "$out.log" >&2
		die "prefix $i ($subject) does not build standard UML; log: $out.log"
	fi
	if ! "$TOP/tests/uml-boot.sh" hostfs "$out/linux"; then
		die "prefix $i ($subject) builds but does not boot standard UML"
	fi
	if [ -f "$wt/arch/um/lkl/Makefile.lkl" ]; then
		# The objects of library mode's own files are removed first, so
		# that one left by a longer prefix cannot pass for this one's.
		rm -rf "$libout/arch/um/lkl" "$libout/liblinux.a"
		if ! KTREE=$wt UMMODE=library "$TOP/scripts/build-uml.sh" "$libout" >"$libout.log" 2>&1; then
			tail -n 30 "$libout.log" >&2
			die "prefix $i ($subject) does not build library mode; log: $libout.log"
		fi
		missing=()
		while read -r src; do
			obj=${src%.c}.o
			[ -f "$libout/$obj" ] || missing+=("$src")
		done < <(cd "$wt" && git ls-files 'arch/um/lkl/*.c')
		[ ${#missing[@]} -eq 0 ] ||
			die "prefix $i ($subject) does not compile ${missing[*]} in library mode"
		info "prefix $i builds library mode ($(cd "$wt" && git ls-files 'arch/um/lkl/*.c' | wc -l) C files of arch/um/lkl)"
		libprefixes=$((libprefixes + 1))
	fi
	i=$((i + 1))
done
[ "$libprefixes" -gt 0 ] || die "no prefix of the series adds library mode (arch/um/lkl/Makefile.lkl)"
KTREE=$wt "$TOP/tests/liblinux-symbols.sh" "$libout/liblinux.a"
echo "PASS: all ${#commits[@]} prefixes of the series build and boot standard UML; the last $libprefixes also build library mode"
