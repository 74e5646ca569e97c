#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kernel's checkpatch.pl --strict on every patch in kernel/series.
# Errors fail; warnings and checks are printed and must be explained in the
# commit message of the patch that keeps them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -x "$KTREE/scripts/checkpatch.pl" ] || die "build/linux is missing; run 'make kernel-tree'"

errors=0 warnings=0 n=0
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
done < <(series_patches)
echo "checkpatch --strict: $n patch(es), $errors error(s), $warnings warning(s)/check(s)"
[ "$errors" -eq 0 ] || die "checkpatch found errors"
