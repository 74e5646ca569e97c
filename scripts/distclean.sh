#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Remove build/ entirely, but never a work tree that holds unexported work.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -d "$KTREE/.git" ]; then
	[ -z "$(git -C "$KTREE" status --porcelain --untracked-files=no)" ] ||
		die "$KTREE has uncommitted edits; commit and 'make kernel-export' them, or discard them, first"
	known=$(for p in "$TOP"/kernel/*.patch; do
		[ -f "$p" ] && git patch-id --stable <"$p" | cut -d' ' -f1
	done)
	for c in $(git -C "$KTREE" rev-list upstream..HEAD); do
		id=$(git -C "$KTREE" show "$c" | git patch-id --stable | cut -d' ' -f1)
		grep -qx "$id" <<<"$known" ||
			die "$KTREE has commit ${c:0:12} that is not in kernel/; run 'make kernel-export' first"
	done
fi
rm -rf "$BUILD"
info "removed $BUILD"
