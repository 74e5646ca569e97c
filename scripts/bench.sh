#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: run the benchmark and say on which machine it ran. The disk
# part's image goes to LKL_BENCH_DIR (default: the temporary directory);
# LKL_BENCH_RUNS sets its passes per side (default 3).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
echo "Machine: $cpu, $(nproc) CPUs, $mem, $(uname -r); Linux $(cat "$BUILD/kernel-version") library mode"
# The disk part's numbers depend on the storage under its image.
image_dir=${LKL_BENCH_DIR:-${TMPDIR:-/tmp}}
storage=$(findmnt -n -o SOURCE,FSTYPE -T "$image_dir" 2>/dev/null | tr -s ' ') || storage="unknown"
echo "Disk image in $image_dir, on ${storage:-unknown} (host)"
cd "$TOP" && cargo run -q --release -p lkl-bench
