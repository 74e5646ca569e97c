# SPDX-License-Identifier: GPL-2.0
#
# Front door of the project. 'make help' lists the targets.

SHELL := /bin/bash
BUILD := build

.PHONY: all deps kernel-tree kernel-export uml uml-initrd library rust \
	test test-boot test-kunit test-rust test-valgrind test-c checkpatch check-series bench soak \
	fuzz test-fuzz \
	demo install clean distclean help

# Where 'make install' puts liblkl.a, lkl.h and lkl.pc.
PREFIX ?= /usr/local

all: deps kernel-tree uml uml-initrd library rust

help:
	@echo "make               install missing Debian packages (as root), prepare build/linux, build everything"
	@echo "make demo          build and boot standard UML, explained in plain words"
	@echo "make test          run every test (what CI runs)"
	@echo "make test-kunit    only the KUnit comparison (patched vs unpatched upstream)"
	@echo "make kernel-tree   (re)create build/linux from the Debian tarball + kernel/series"
	@echo "make kernel-export write build/linux's commits back to kernel/ as patches"
	@echo "make library       build the kernel in library mode: build/lib/liblinux.a"
	@echo "make install       install the LKL-compatible C library (liblkl.a, lkl.h, lkl.pc) into PREFIX=$(PREFIX)"
	@echo "make test-c        install into build/c-prefix, build and run the C boot test and example"
	@echo "make test-valgrind the library core's scenarios, each under valgrind (memcheck)"
	@echo "make checkpatch    checkpatch.pl --strict on every patch"
	@echo "make bench         boot/halt time, getpid latency vs the host's, RSS; disks vs the host's loop mount"
	@echo "make fuzz          mount and walk 200 corrupted images per file system (FUZZ_CASES= changes it)"
	@echo "make soak          20-minute soak: threads come and go, idle pauses, io_uring (SOAK_SECONDS= shortens)"
	@echo "make check-series  build and boot standard UML at every prefix of the series (slow)"
	@echo "make clean         remove build outputs (keeps build/linux and its edits)"
	@echo "make distclean     also remove build/linux, unless it holds unexported work"

deps:
	@scripts/install-deps.sh

kernel-tree: deps
	@scripts/kernel-tree.sh

kernel-export:
	@scripts/kernel-export.sh

# Stock defconfig, exactly as upstream builds it.
uml: kernel-tree
	@scripts/build-uml.sh $(BUILD)/uml

# The stock defconfig cannot load an initramfs; the boot test needs one.
uml-initrd: kernel-tree
	@scripts/build-uml.sh $(BUILD)/uml-initrd tests/configs/initrd.config

# Library mode: make ARCH=um UMMODE=library, giving build/lib/liblinux.a.
library: kernel-tree
	@UMMODE=library scripts/build-uml.sh $(BUILD)/lib

# lkl-sys links build/lib/liblinux.a and reads its headers.
rust: deps library
	@cargo build --workspace --release --quiet

# The LKL-compatible C library: liblkl.a (kernel + Rust host + C API),
# lkl.h, lkl_host.h, the prefixed uapi headers and lkl.pc.
install: deps library
	@scripts/install.sh $(PREFIX)

checkpatch: kernel-tree
	@scripts/checkpatch.sh

test-boot: uml uml-initrd
	@tests/uml-boot.sh initramfs $(BUILD)/uml-initrd/linux
	@tests/uml-boot.sh hostfs $(BUILD)/uml/linux
	@tests/uml-executables.sh $(BUILD)/uml

test-kunit: kernel-tree
	@tests/kunit.sh

test-rust: rust
	@tests/liblinux-symbols.sh $(BUILD)/lib/liblinux.a
	@tests/lkl-core-text.sh $(BUILD)/lib
	@tests/uml-mode-guard.sh $(BUILD)/lib
	@cargo fmt --all --check
	@cargo clippy --workspace --all-targets --quiet -- -D warnings
	@cargo test --workspace --release --quiet
	@RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

# The core scenarios (crates/lkl-sys/tests/core.rs) with every child under
# valgrind's memcheck: the host side must touch no freed memory at halt.
test-valgrind: rust
	@LKL_CORE_VALGRIND=1 cargo test --release --quiet -p lkl-sys --test core

# The C API from an installed tree, as a C user builds against it.
test-c: deps library
	@scripts/test-c.sh

# The short fuzz run of make test: 20 corrupted images per file system.
test-fuzz: rust
	@cargo run -q --release -p lkl-fuzz -- --cases 20 --out $(BUILD)/fuzz

test: all checkpatch test-rust test-valgrind test-c test-boot test-kunit test-fuzz
	@echo "make test: all tests passed"

# Speed and memory against the goals, with host baselines in the same run.
bench: rust
	@scripts/bench.sh

# On demand, not in CI nor in make test: 20 minutes of threads that come
# and go, idle pauses past the workqueue's idle timeout, io_uring with and
# without SQPOLL, then a halt (tests/soak). SOAK_SECONDS and friends shorten
# it for development; lkl-soak --help lists them.
soak: rust
	@cargo run -q --release -p lkl-soak

# Corrupted images, each mounted, walked and written in a child process:
# counts of mounted, refused, panicked, oops, hung, crashed; fails on a
# hang or a crash without a message. Seeds and reproducers in build/fuzz.
FUZZ_CASES ?= 200
fuzz: rust
	@cargo run -q --release -p lkl-fuzz -- --cases $(FUZZ_CASES) --out $(BUILD)/fuzz

check-series: kernel-tree
	@scripts/check-series.sh

demo: uml uml-initrd library
	@scripts/demo.sh

clean:
	rm -rf $(BUILD)/uml $(BUILD)/uml-initrd $(BUILD)/lib $(BUILD)/kunit-* $(BUILD)/series-check/uml* \
		$(BUILD)/c-prefix $(BUILD)/c-tests $(BUILD)/fuzz \
		$(BUILD)/gen_init_cpio $(BUILD)/*.json $(BUILD)/*.cases $(BUILD)/*.log $(BUILD)/kunit.diff
	cargo clean --quiet

distclean: clean
	@scripts/distclean.sh
