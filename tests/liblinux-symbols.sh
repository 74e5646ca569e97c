#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Symbol hygiene of liblinux.a: a program links it together with libc and
# Rust's std, so the only global symbols it may define are its documented
# entry points, and the only ones it may need are the host interface:
# lkl_host_*, and the few functions of UML's os.h that UML's time.c calls,
# which the host library implements too. Everything else (memcpy, printk,
# ...) must stay inside.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

archive=${1:-$BUILD/lib/liblinux.a}
allowed=$KTREE/arch/um/lkl/liblinux.exports
[ -s "$archive" ] || die "$archive is missing; build it with 'make library'"
[ -s "$allowed" ] || die "$allowed is missing"

defined=$(nm -g --defined-only "$archive" | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$(nm -g --undefined-only "$archive" | awk 'NF >= 2 { print $NF }' | sort -u)

bad_defined=$(comm -23 <(echo "$defined") <(grep -v '^#' "$allowed" | sort -u) || true)
uml_os_functions=(os_nsecs os_persistent_clock_emulation os_timer_create
	os_timer_disable os_timer_one_shot os_timer_set_interval timer_set_signal_handler)
bad_undefined=$(grep -v -e '^lkl_host_' -e '^_GLOBAL_OFFSET_TABLE_$' \
	$(printf -- "-e ^%s$ " "${uml_os_functions[@]}") <<<"$undefined" || true)

status=0
if [ -n "$bad_defined" ]; then
	echo "liblinux.a defines global symbols outside the allowed set ($allowed):" >&2
	echo "$bad_defined" | head -20 >&2
	status=1
fi
if [ -n "$bad_undefined" ]; then
	echo "liblinux.a needs symbols that are not part of the host interface:" >&2
	echo "$bad_undefined" | head -20 >&2
	status=1
fi
[ $status -eq 0 ] || die "symbol hygiene of $archive failed"
echo "PASS: liblinux.a exports only: $(echo $defined); needs only $(grep -c '^lkl_host_' <<<"$undefined") lkl_host_* functions and $(grep -c -e '^os_' -e '^timer_set' <<<"$undefined") of UML's os.h"
