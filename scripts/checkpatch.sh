#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kernel's checkpatch.pl --strict on every patch in kernel/series.
# Errors fail; warnings and checks are printed and must be explained in the
# checkpatch notes of the patch that keeps them: below its '---' line, out of
# the commit message (git notes on refs/notes/checkpatch in build/linux; see
# "Working on the kernel patches" in README.md). A patch with warnings and
# no notes is named at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -x "$KTREE/scripts/checkpatch.pl" ] || die "build/linux is missing; run 'make kernel-tree'"

errors=0 warnings=0 n=0
unexplained=()
while read -r p; do
	n=$((n + 1))
	out=$(cd "$KTREE" && ./scripts/checkpatch.pl --strict --quiet --show-types \
		"$TOP/kernel/$p" 2>&1) || true
	e=$(grep -c '^ERROR:' <<<"$out" || true)
	w=$(grep -c -e '^WARNING:' -e '^CHECK:' <<<"$out" || true)
	errors=$((errors + e))
	warnings=$((warnings + w))
	if [ -n "$out" ]; then
		echo "kernel/$p:"
		echo "$out"
	fi
	if [ "$w" -gt 0 ] && [ -z "$(patch_notes "$TOP/kernel/$p")" ]; then
		unexplained+=("kernel/$p")
	fi
done < <(series_patches)
echo "checkpatch --strict: $n patch(es), $errors error(s), $warnings warning(s)/check(s)"
if [ ${#unexplained[@]} -gt 0 ]; then
	echo "warnings without checkpatch notes below '---' (they must say why they stay):"
	printf '  %s\n' "${unexplained[@]}"
fi
[ "$errors" -eq 0 ] || die "checkpatch found errors"
