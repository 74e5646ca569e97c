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
initramfs whose only program, /init, first checks that the kernel keeps
each process's vector registers (SSE, AVX and, where the CPU has it,
AVX-512) while it switches between threads, runs signal handlers and lets
a tracer read and write them; then it prints a marker taken from the kernel
command line and powers the "machine" off.

MSG
if out=$("$TOP/tests/uml-boot.sh" initramfs "$BUILD/uml-initrd/linux" 2>&1); then
	marker=$(grep -o 'marker boot-[0-9a-f]*' <<<"$out" | cut -d' ' -f2)
	secs=$(grep -o 'in [0-9.]*s' <<<"$out" | tail -n 1)
	cat <<MSG
It worked: the kernel booted, started /init, which printed the marker
"$marker" that we put on the command line, and then the kernel shut
itself down and the process exited with status 0, all $secs.

On the way, UML asked the host how large a process's FP register state is
(this CPU's XSAVE area, which the host's ptrace insists on, whole) and the
register check passed:
  $(grep '^FP register state: ' <<<"$out")
  $(grep '^fpregs: ' <<<"$out" | fold -s -w 72 | sed '2,$s/^/    /')

MSG
else
	echo "$out"
	die "the boot did not go as expected (see above)"
fi

cat <<MSG
Now the same kernel source in library mode (make ARCH=um UMMODE=library):
built as $BUILD/lib/liblinux.a and linked into an ordinary Rust program,
crates/lkl/examples/tour.rs, through the safe API (the lkl crate). The
program boots the kernel with 32 MiB and makes system calls that run on
its own threads: it writes a file and reads it back, lists the root
directory, mounts /proc, brings up the loopback interface, asks from four
threads for their task ids, tries to open a missing file, and halts. The
kernel's boot log goes to stderr only because the program asks for it;
by default it is silent.

MSG
if out=$(cd "$TOP" && cargo run -q --release -p lkl --example tour 2>"$BUILD/demo-library.log"); then
	field() { sed -n "s/^$1: //p" <<<"$out"; }
	lines=$(wc -l <"$BUILD/demo-library.log")
	cat <<MSG
It worked. The kernel booted (its $lines lines of log are in
$BUILD/demo-library.log) and answered:
  - it is Linux $(field release), and the program is its process $(field getpid);
  - the file it wrote ($(field size) bytes) read back as "$(field "read back")";
  - the root directory holds: $(field "root holds");
  - /proc/version says: $(field "proc version" | cut -c1-60)...;
  - the loopback interface "$(field loopback | cut -d' ' -f1)" is up;
  - four threads each got a kernel task of their own: $(field "thread tids");
  - opening a missing file failed as it should, with the kernel's error:
    "$(field error)";
  - halt returned after joining every thread the kernel had started.

MSG
else
	tail -n 20 "$BUILD/demo-library.log" >&2
	die "the library demo failed (see above)"
fi
