#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Write the commits of build/linux on top of upstream back to kernel/ as
# git format-patch files, and rewrite kernel/series to list them in order.
# A commit's checkpatch notes (git notes on refs/notes/checkpatch) go below
# the '---' line of its patch, where they stay out of the commit message.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$KTREE/.git" ] || die "there is no work tree at $KTREE; run 'make kernel-tree' first"
git -C "$KTREE" rev-parse -q --verify refs/tags/upstream >/dev/null ||
	die "$KTREE has no 'upstream' tag; it was not made by 'make kernel-tree'"
if [ -n "$(git -C "$KTREE" status --porcelain --untracked-files=no)" ]; then
	git -C "$KTREE" status --short --untracked-files=no | head -20 >&2
	die "$KTREE has uncommitted changes; commit them first (only commits are exported)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --zero-commit and no signature keep re-exports of unchanged commits
# byte-identical, so kernel/ only changes where a patch did. --no-notes
# first: only the checkpatch notes, whatever notes the developer's git
# config shows.
git -C "$KTREE" format-patch -q --zero-commit --no-signature \
	--no-notes --notes="$NOTES_REF" -o "$tmp" upstream..HEAD

rm -f "$TOP"/kernel/*.patch
n=0
{
	sed -n '1,/^# One patch file name per line/p' "$TOP/kernel/series"
	for p in "$tmp"/*.patch; do
		[ -f "$p" ] || continue
		cp "$p" "$TOP/kernel/"
		basename "$p"
		n=$((n + 1))
	done
} >"$tmp/series"
mv "$tmp/series" "$TOP/kernel/series"
info "exported $(series_patches | wc -l) patch(es) to kernel/"
# The tree now matches kernel/ exactly.
touch "$BUILD/kernel-tree.ok"
