#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kick signal's handler runs interrupts only in kernel text after
# __lkl_core_text_end: library mode's own code (arch/um/lkl/kernel, and
# setjmp_64.S), which hands the CPU over, must all lie before it. lkl.lds.S
# puts it there by input file and section name; a function that moves to
# another section (an annotation such as __sched or noinstr) would slip
# out silently. Init code lies after _etext, outside the range too.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

out=${1:-$BUILD/lib}
vmlinux=$out/vmlinux
[ -s "$vmlinux" ] || die "$vmlinux is missing; build it with 'make library'"

symbols=$(mktemp)
trap 'rm -f "$symbols"' EXIT
nm "$vmlinux" >"$symbols"
addr() { awk -v s="$1" '$3 == s && !done { print $1; done = 1 }' "$symbols"; }
end=$((16#$(addr __lkl_core_text_end)))
etext=$((16#$(addr _etext)))

objects=$(ar t "$out/arch/um/lkl/kernel/built-in.a"; echo arch/x86/um/setjmp_64.o)
checked=0 bad=""
for o in $objects; do
	o=${o#"$out/"}
	[ -f "$out/$o" ] || die "$out/$o is missing"
	# Function symbols and their sections, from the object itself.
	while read -r sym; do
		found=0
		for a in $(awk -v s="$sym" '$3 == s { print $1 }' "$symbols"); do
			a=$((16#$a))
			if [ "$a" -lt "$end" ] || [ "$a" -ge "$etext" ]; then
				found=1
			fi
		done
		[ "$found" -eq 1 ] || bad="$bad $o:$sym"
		checked=$((checked + 1))
	done < <(objdump -t "$out/$o" | awk '$3 == "F" && $4 ~ /text/ { print $NF }')
done
[ -z "$bad" ] || die "library-mode code outside the range the kick handler avoids:$bad"
echo "PASS: all $checked functions of library mode's own code lie before __lkl_core_text_end (or in init text)"
