// SPDX-License-Identifier: GPL-2.0
//! lkl_mount_fs and lkl_umount_timeout.

use core::ffi::{c_char, c_int, c_long, CStr};
use std::time::Duration;

use lkl::Errno;
use lkl_sys::nr;

use crate::{arg, is_err, neg, syscall};

/// Longest file system type lkl_mount_fs accepts.
const MAX_FSTYPE_LEN: usize = 50;

/// Mounts a virtual file system of type `fstype` (proc, sysfs, ...) at
/// `/fstype`, creating the directory. Returns 0 once mounted, 1 if
/// something was already mounted there, or a negative errno.
///
/// # Safety
///
/// `fstype` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lkl_mount_fs(fstype: *const c_char) -> c_int {
    if fstype.is_null() {
        return neg(Errno::INVAL);
    }
    // SAFETY: by the caller's promise `fstype` is NUL-terminated.
    let fstype = unsafe { CStr::from_ptr(fstype) };
    let name = fstype.to_bytes();
    if name.is_empty()
        || name.len() > MAX_FSTYPE_LEN
        || name.contains(&b'/')
        || name == b"."
        || name == b".."
    {
        return neg(Errno::INVAL);
    }
    let Ok(name) = core::str::from_utf8(name) else {
        return neg(Errno::INVAL);
    };
    match lkl::fs::mount_virtual(name, &format!("/{name}")) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => -e.raw_os_error().unwrap_or(Errno::IO.raw()),
    }
}

/// Unmounts `path` (umount2 with `flags`), retrying every 10 ms while the
/// kernel says -EBUSY, for up to `timeout_ms` milliseconds. Returns 0 or
/// the last negative errno.
///
/// # Safety
///
/// `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lkl_umount_timeout(
    path: *const c_char,
    flags: c_int,
    timeout_ms: c_long,
) -> c_long {
    const STEP_MS: c_long = 10;
    let mut left = timeout_ms;
    loop {
        let ret = syscall(nr::umount2, &[arg(path), flags as c_long]);
        if !is_err(ret, Errno::BUSY) || left <= 0 {
            return ret;
        }
        // The kernel's own sleep, as LKL does.
        let _ = lkl::process::nanosleep(Duration::from_millis(STEP_MS as u64));
        left -= STEP_MS;
    }
}
