// SPDX-License-Identifier: GPL-2.0
//! lkl_strerror and lkl_perror: descriptions of the kernel's errno values.

use core::ffi::{c_char, c_int, CStr};

/// The description of kernel errno `err` (negative, as the C API returns
/// them, or positive). Unknown values give "Unknown error". The string is
/// static.
#[no_mangle]
pub extern "C" fn lkl_strerror(err: c_int) -> *const c_char {
    let err = err.checked_abs().unwrap_or(c_int::MAX);
    lkl_sys::errno_description(err)
        .unwrap_or(c"Unknown error")
        .as_ptr()
}

/// Prints "`msg`: description\n" through the console function, like
/// perror for kernel errno `err`.
///
/// # Safety
///
/// `msg` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lkl_perror(msg: *const c_char, err: c_int) {
    // SAFETY: lkl_strerror returns a static NUL-terminated string.
    let what = unsafe { CStr::from_ptr(lkl_strerror(err)) };
    let mut line = Vec::new();
    if !msg.is_null() {
        // SAFETY: by the caller's promise `msg` is NUL-terminated.
        line.extend_from_slice(unsafe { CStr::from_ptr(msg) }.to_bytes());
        line.extend_from_slice(b": ");
    }
    line.extend_from_slice(what.to_bytes());
    line.push(b'\n');
    crate::run::print_bytes(&line);
}
