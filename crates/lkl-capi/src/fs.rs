// SPDX-License-Identifier: GPL-2.0
//! lkl_mount_fs and lkl_umount_timeout.

use core::ffi::{c_char, c_int, c_long, CStr};
use std::ffi::CString;
use std::time::Duration;

use lkl_sys::nr;

use crate::{arg, syscall};

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
        return -libc::EINVAL;
    }
    // SAFETY: by the caller's promise `fstype` is NUL-terminated.
    let name = unsafe { CStr::from_ptr(fstype) }.to_bytes();
    if name.is_empty() || name.len() > MAX_FSTYPE_LEN || name.contains(&b'/') {
        return -libc::EINVAL;
    }
    let mut path = b"/".to_vec();
    path.extend_from_slice(name);
    let Ok(path) = CString::new(path) else {
        return -libc::EINVAL;
    };
    let ret = syscall(nr::mkdir, &[arg(path.as_ptr()), 0xff]);
    if ret < 0 && ret != -(libc::EEXIST as c_long) {
        return ret as c_int;
    }
    // Linux would stack a second mount on the first: tell it apart by
    // the device of the directory, which differs from the root's once
    // something is mounted there.
    match (device_of(c"/"), device_of(&path)) {
        (Ok(root), Ok(dir)) if root != dir => return 1,
        (Err(e), _) | (_, Err(e)) => return e,
        _ => {}
    }
    let ret = syscall(
        nr::mount,
        &[arg(c"none".as_ptr()), arg(path.as_ptr()), arg(fstype), 0, 0],
    );
    if ret == -(libc::EBUSY as c_long) {
        return 1;
    }
    if ret < 0 {
        syscall(nr::rmdir, &[arg(path.as_ptr())]);
        return ret as c_int;
    }
    0
}

/// st_dev of `path` (following symlinks), or a negative errno.
fn device_of(path: &CStr) -> Result<u64, c_int> {
    lkl::fs::stat(path)
        .map(|st| st.st_dev)
        .map_err(|e| -e.raw())
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
        if ret != -(libc::EBUSY as c_long) || left <= 0 {
            return ret;
        }
        // The kernel's own sleep, as LKL does.
        let _ = lkl::process::nanosleep(Duration::from_millis(STEP_MS as u64));
        left -= STEP_MS;
    }
}
