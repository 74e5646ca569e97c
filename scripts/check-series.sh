#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that every prefix of the series (upstream + patch 1, upstream +
# patches 1-2, ...) builds standard UML with the stock defconfig and boots it
# to user space. Upstream alone is not a prefix that has to pass: on hosts
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
if [ ! -d "$wt" ] || ! git -C "$wt" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	rm -rf "$wt"
	mkdir -p "$(dirname "$wt")"
	git -C "$KTREE" worktree prune
	git -C "$KTREE" worktree add -q --detach "$wt" upstream
fi

mapfile -t commits < <(git -C "$KTREE" rev-list --reverse upstream..HEAD)
[ ${#commits[@]} -gt 0 ] || die "the series is empty"

i=1
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
	i=$((i + 1))
done
echo "PASS: all ${#commits[@]} prefixes of the series build and boot standard UML"
