#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run upstream's KUnit suite for UML (kunit.py run --arch=um, default
# kunitconfig) on the patched tree and on the unpatched upstream tree, and
# require the same result for every test case. The patched run must also
# pass on its own (kunit.py fails on any failing case).
#
# The unpatched result is cached per upstream commit in build/, so it is
# computed once per kernel version on a machine (and always in a clean CI
# clone).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

[ -f "$BUILD/kernel-tree.ok" ] || die "build/linux is not ready; run 'make kernel-tree'"

jobs=$(nproc)
upstream_commit=$(git -C "$KTREE" rev-parse upstream)
upstream_tree=$BUILD/linux-upstream
upstream_json=$BUILD/kunit-upstream-${upstream_commit:0:12}.json
patched_json=$BUILD/kunit-patched.json

# kunit.py runs from the tree it is given; every output stays under build/.
run_kunit() {
	local tree=$1 outdir=$2 json=$3
	python3 "$tree/tools/testing/kunit/kunit.py" run --arch=um --jobs="$jobs" \
		--build_dir="$outdir" --make_options="CC=$(kernel_cc)" \
		--make_options="HOSTCC=$(kernel_cc)" --json="$json" >"$outdir.log" 2>&1
}

# "suite.case<TAB>STATUS" for every test case, sorted.
flatten() {
	jq -r '
		def walk_cases($prefix):
			(.test_cases // [] | .[] | "\($prefix)\(.name)\t\(.status)"),
			(.sub_groups // [] | .[] | walk_cases("\($prefix)\(.name)."));
		.sub_groups[] | walk_cases("\(.name).")
	' "$1" | sort
}

summary() {
	local f=$1
	printf '%s cases: %s passed, %s skipped, %s failed' \
		"$(grep -c . "$f")" "$(grep -c $'\tPASS$' "$f" || true)" \
		"$(grep -c $'\tSKIP$' "$f" || true)" "$(grep -vc -e $'\tPASS$' -e $'\tSKIP$' "$f" || true)"
}

if [ ! -s "$upstream_json" ]; then
	info "KUnit on unpatched Linux $(cat "$BUILD/kernel-version") (baseline, cached afterwards)"
	if [ -e "$upstream_tree" ]; then
		git -C "$KTREE" worktree remove --force "$upstream_tree" 2>/dev/null || rm -rf "$upstream_tree"
	fi
	git -C "$KTREE" worktree prune
	git -C "$KTREE" worktree add -q --detach "$upstream_tree" upstream
	mkdir -p "$BUILD/kunit-upstream"
	if ! run_kunit "$upstream_tree" "$BUILD/kunit-upstream" "$upstream_json.tmp"; then
		tail -n 30 "$BUILD/kunit-upstream.log" >&2
		die "KUnit on the unpatched tree failed; see $BUILD/kunit-upstream.log"
	fi
	mv "$upstream_json.tmp" "$upstream_json"
fi

info "KUnit on the patched tree ($(series_patches | wc -l) patch(es))"
mkdir -p "$BUILD/kunit-patched"
rm -f "$patched_json"
if ! run_kunit "$KTREE" "$BUILD/kunit-patched" "$patched_json"; then
	grep -E '(not ok|FAILED|Error|error:)' "$BUILD/kunit-patched.log" | tail -n 30 >&2 || true
	die "KUnit on the patched tree failed; see $BUILD/kunit-patched.log"
fi

flatten "$upstream_json" >"$BUILD/kunit-upstream.cases"
flatten "$patched_json" >"$BUILD/kunit-patched.cases"
[ -s "$BUILD/kunit-patched.cases" ] || die "KUnit ran no test cases on the patched tree; see $BUILD/kunit-patched.log"

echo "unpatched: $(summary "$BUILD/kunit-upstream.cases")"
echo "patched:   $(summary "$BUILD/kunit-patched.cases")"
if ! diff -u "$BUILD/kunit-upstream.cases" "$BUILD/kunit-patched.cases" >"$BUILD/kunit.diff"; then
	head -n 40 "$BUILD/kunit.diff" >&2
	die "KUnit results on the patched tree differ from the unpatched tree (full diff: $BUILD/kunit.diff)"
fi
echo "PASS: KUnit on UML: every test case has the same result as on unpatched upstream"
