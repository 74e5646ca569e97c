// SPDX-License-Identifier: GPL-2.0
//! Raw bindings to `liblinux.a`: the Linux kernel built in UML library mode.
//!
//! The host side the kernel calls back into comes from `lkl-host`, linked
//! in by this crate.

use std::ffi::{c_char, c_int, c_long};

// The kernel's calls into the host resolve against this crate.
pub use lkl_host;

/// System call numbers of the library's kernel (its x86_64 table).
#[allow(non_upper_case_globals)]
pub mod nr {
    include!(concat!(env!("OUT_DIR"), "/syscall_numbers.rs"));
}

extern "C" {
    /// Boots the kernel with the command line printf-formatted from `fmt`
    /// and its arguments; 0 or a negative errno.
    pub fn lkl_start_kernel(fmt: *const c_char, ...) -> c_int;
    /// Runs system call `no` with six arguments on the calling thread.
    pub fn lkl_syscall(no: c_long, params: *mut c_long) -> c_long;
    /// Halts the kernel through the reboot system call with `params`.
    pub fn lkl_halt(params: *mut c_long) -> c_long;
    /// Raises interrupt `irq` from any host thread.
    pub fn lkl_trigger_irq(irq: c_int) -> c_int;
}
