#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A stock 'make ARCH=um' must leave both 'linux' and 'vmlinux' as runnable
# host executables, as upstream does (the earlier LKL-in-UML series turned
# vmlinux into a relocatable object; reviewers rejected that).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

out=${1:?usage: $0 UML_BUILD_DIR}
want=$(cut -d' ' -f1 "$BUILD/kernel-version")
for f in linux vmlinux; do
	bin=$out/$f
	[ -x "$bin" ] || die "$bin is missing or not executable"
	type=$(od -An -j16 -N2 -tu2 "$bin" | tr -d ' ')
	# e_type 2 is ET_EXEC, 3 is ET_DYN (PIE); 1 would be a relocatable object.
	[ "$type" = 2 ] || [ "$type" = 3 ] || die "$bin is an ELF of type $type, not an executable"
	got=$("$bin" --version 2>&1 | tr -d '\r' | tail -n 1)
	# A git work tree adds a -g<commit> local version, as upstream's does.
	case "$got" in
	"$want" | "$want"-* | "$want"+*) ;;
	*) die "$bin --version printed '$got', expected Linux $want" ;;
	esac
	echo "PASS: $f is an executable ELF and runs ('$f --version' prints $got)"
done
