#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The build mode survives a make without UMMODE: on a library-mode build
# directory, "make ARCH=um olddefconfig" without UMMODE=library is refused
# with a message that says how to build it, and leaves .config as it was;
# with UMMODE=library it goes through.
#
#   uml-mode-guard.sh LIBRARY_BUILD_DIR
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

out=$(realpath "${1:?usage: $0 LIBRARY_BUILD_DIR}")
[ -f "$out/.config" ] || die "$out has no .config; run 'make library' first"
grep -qx 'CONFIG_UML_LIBRARY=y' "$out/.config" || die "$out/.config is not a library-mode configuration"

before=$(mktemp)
trap 'rm -f "$before"' EXIT
cp -p "$out/.config" "$before"

if msg=$(make -s -C "$KTREE" O="$out" ARCH=um olddefconfig 2>&1); then
	die "olddefconfig without UMMODE went through on a library .config"
fi
grep -q "is for library mode; build it with UMMODE=library" <<<"$msg" ||
	die "olddefconfig without UMMODE failed without saying why: $msg"
cmp -s "$before" "$out/.config" || die "the refused olddefconfig changed $out/.config"

make -s -C "$KTREE" O="$out" ARCH=um UMMODE=library olddefconfig ||
	die "olddefconfig with UMMODE=library failed"
cmp -s "$before" "$out/.config" || die "olddefconfig with UMMODE=library changed $out/.config"
touch -r "$before" "$out/.config"

echo "PASS: a library .config is refused without UMMODE=library ('$(grep -o '\.config is for .*UMMODE=library' <<<"$msg")') and kept as it was"
