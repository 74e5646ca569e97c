# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the project's shell scripts. Source it; do not run it.

# The upstream series this project targets. Patches are written against it.
KERNEL_SERIES_MAJOR=6
KERNEL_SERIES_MINOR=12
KERNEL_SOURCE_PKG=linux-source-$KERNEL_SERIES_MAJOR.$KERNEL_SERIES_MINOR
KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/$KERNEL_SOURCE_PKG.tar.xz}

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KTREE=${KTREE:-$BUILD/linux}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

info() {
	printf '==> %s\n' "$*"
}

# Print the patch file names listed in kernel/series, one a line.
series_patches() {
	grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$TOP/kernel/series" || true
}

# Let ccache share results between clones at different paths (CI clones
# afresh): paths under the project are hashed relative to it.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

# Use ccache when it is there; the build never depends on it.
kernel_cc() {
	if command -v ccache >/dev/null 2>&1; then
		echo "ccache gcc"
	else
		echo "gcc"
	fi
}
