// SPDX-License-Identifier: GPL-2.0
//! Kernel panic (`lkl_host_panic`).

use core::ffi::{c_char, CStr};
use std::io::Write;

/// Prints `lkl: kernel panic: <msg>` to stderr and aborts the process.
///
/// # Safety
///
/// `msg` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_panic(msg: *const c_char) -> ! {
    let msg: &[u8] = if msg.is_null() {
        b"(null)"
    } else {
        // SAFETY: by the caller's promise `msg` is NUL-terminated.
        unsafe { CStr::from_ptr(msg) }.to_bytes()
    };
    // Holding the lock keeps other Rust output out of the middle of the
    // line; write errors are ignored because we are about to abort anyway.
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(b"lkl: kernel panic: ");
    let _ = stderr.write_all(msg);
    let _ = stderr.write_all(b"\n");
    std::process::abort()
}
