#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian 12 packages the project needs to build and test.
# As root it installs what is missing; otherwise it names what is missing
# and how to install it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Keep this list in sync with the README.
PACKAGES=(
	"$KERNEL_SOURCE_PKG" # the upstream kernel source tarball
	build-essential      # gcc, make, libc6-dev (static libc for test init)
	flex bison bc        # kernel build
	xz-utils             # unpacks the source tarball
	git                  # kernel work tree
	python3              # KUnit's kunit.py
	python3-ply python3-git # checkpatch's SPDX check (scripts/spdxcheck.py)
	jq                   # compares KUnit results
	rsync                # the kernel's headers_install
	libclang-dev         # bindgen: Rust bindings from the uapi headers
	pkg-config           # tests the installed C library's lkl.pc
	valgrind             # make test-valgrind: the core scenarios under memcheck
	ccache               # optional speed-up, used when present
	# Disk images for the disk tests, made by each file system's own tools
	e2fsprogs btrfs-progs xfsprogs dosfstools mtools exfatprogs f2fs-tools
	squashfs-tools erofs-utils xorriso ntfs-3g
	exfat-fuse           # exfat's own user-space driver: makes and reads trees
	fdisk                # sfdisk: MBR and GPT partition tables
)

missing=()
for p in "${PACKAGES[@]}"; do
	if [ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	command -v cargo >/dev/null 2>&1 ||
		die "cargo is not on PATH; install the Rust toolchain (rustup, stable channel)"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	die "missing Debian packages: ${missing[*]}. Run 'make deps' as root, or: sudo apt-get install ${missing[*]}"
fi
if ! grep -qs '^VERSION_ID="12"' /etc/os-release; then
	die "automatic installs are for Debian 12; install these packages yourself: ${missing[*]}"
fi

info "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
# The package lists may be absent or too old to know linux-source-6.12.
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
info "installed: ${missing[*]}"
