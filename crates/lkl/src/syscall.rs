// SPDX-License-Identifier: GPL-2.0
//! The raw system call entry, for calls this crate does not wrap.

use core::ffi::c_long;

use crate::errno::{Errno, Result};

/// Runs system call `nr` of the library's kernel with up to six arguments
/// on the calling thread, and decodes the result.
///
/// Numbers are in [`lkl_sys::nr`]. Before boot and after halt every call
/// fails with [`Errno::NODEV`].
///
/// # Safety
///
/// The arguments must be what the system call expects. Pointers the kernel
/// reads or writes must be valid for it for the duration of the call; an
/// unmapped pointer makes the call fail with [`Errno::FAULT`], but a mapped
/// one the kernel writes through is written.
pub unsafe fn syscall(nr: c_long, args: &[c_long]) -> Result<i64> {
    let mut params = [0 as c_long; 6];
    if args.len() > params.len() {
        return Err(Errno::INVAL);
    }
    params[..args.len()].copy_from_slice(args);
    // SAFETY: `params` holds six arguments; what they point to is the
    // caller's promise.
    let ret = unsafe { lkl_sys::lkl_syscall(nr, params.as_mut_ptr()) };
    Errno::result(ret)
}

/// A system call whose arguments are plain values or pointers the caller
/// of this crate-internal helper has checked.
pub(crate) fn call(nr: c_long, args: &[c_long]) -> Result<i64> {
    // SAFETY: every caller inside this crate passes pointers derived from
    // live references of the right size, or plain values.
    unsafe { syscall(nr, args) }
}
