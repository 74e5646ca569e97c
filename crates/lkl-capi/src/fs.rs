// SPDX-License-Identifier: GPL-2.0
//! lkl_mount_fs and lkl_umount_timeout.

use core::ffi::{c_char, c_int, c_long, CStr};
use std::time::Duration;

use lkl::fs::{raw, Mode, MountFlags};
use lkl::{Errno, PathArg};
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
    if name.is_empty() || name.len() > MAX_FSTYPE_LEN || name.contains(&b'/') {
        return neg(Errno::INVAL);
    }
    let mut path = b"/".to_vec();
    path.extend_from_slice(name);
    let path = path.as_slice();
    match raw::mkdir(path, Mode::from_bits_truncate(0xff)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return neg(e),
    }
    // Linux would stack a second mount on the first: tell it apart by
    // the device of the directory, which differs from the root's once
    // something is mounted there.
    match (device_of("/"), device_of(path)) {
        (Ok(root), Ok(dir)) if root != dir => return 1,
        (Err(e), _) | (_, Err(e)) => return neg(e),
        _ => {}
    }
    match raw::mount("none", path, fstype, MountFlags::empty(), None) {
        Ok(()) => 0,
        Err(Errno::BUSY) => 1,
        Err(e) => {
            // Leave no directory behind that this call made; the mount's
            // error is the one to report.
            let _ = raw::rmdir(path);
            neg(e)
        }
    }
}

/// st_dev of `path` (following symlinks).
fn device_of(path: impl PathArg) -> lkl::Result<u64> {
    raw::stat(path).map(|st| st.st_dev)
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
