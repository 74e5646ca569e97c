#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: run the benchmark and say on which machine it ran.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
echo "Machine: $cpu, $(nproc) CPUs, $mem, $(uname -r); Linux $(cat "$BUILD/kernel-version") library mode"
cd "$TOP" && cargo run -q --release -p lkl-bench
