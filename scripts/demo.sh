#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo: boot the patched kernel as standard UML and say what happened.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

version=$(cat "$BUILD/kernel-version")
n=$(series_patches | wc -l)
cat <<MSG

This project turns the Linux kernel into a library, as a library mode of
User Mode Linux. Its first promise is that ordinary UML keeps working.

The kernel here is Linux $version,
with this project's $n patch(es) from kernel/ applied, built with the stock
UML defconfig (plus initramfs support) into $BUILD/uml-initrd/linux.

Now booting that kernel as an ordinary Linux program. It gets a tiny
initramfs whose only program, /init, prints a marker taken from the kernel
command line and then powers the "machine" off.

MSG
if out=$("$TOP/tests/uml-boot.sh" initramfs "$BUILD/uml-initrd/linux" 2>&1); then
	marker=$(grep -o 'marker boot-[0-9a-f]*' <<<"$out" | cut -d' ' -f2)
	secs=$(grep -o 'in [0-9.]*s' <<<"$out" | tail -n 1)
	cat <<MSG
It worked: the kernel booted, started /init, which printed the marker
"$marker" that we put on the command line, and then the kernel shut
itself down and the process exited with status 0, all $secs.

MSG
else
	echo "$out"
	die "the boot did not go as expected (see above)"
fi
