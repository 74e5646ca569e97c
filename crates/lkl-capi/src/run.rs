// SPDX-License-Identifier: GPL-2.0
//! lkl_init, lkl_cleanup, lkl_sys_halt and the console. lkl_start_kernel
//! and lkl_is_running are the kernel's own.

use core::ffi::{c_char, c_int, c_long};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use lkl::Errno;
use lkl_sys::uapi;

use crate::neg;
use crate::ops::{lkl_host_ops, LklHostOperations};

/// The operations table given to lkl_init (NULL before and after).
static OPS: AtomicPtr<LklHostOperations> = AtomicPtr::new(ptr::null_mut());

/// The table whose `print` and `panic` the C API uses: the one given to
/// lkl_init, else `lkl_host_ops`.
pub(crate) fn current_ops() -> *mut LklHostOperations {
    let ops = OPS.load(Ordering::Acquire);
    if ops.is_null() {
        lkl_host_ops.get()
    } else {
        ops
    }
}

/// Sends `bytes` to the `print` member of the current table, if set.
pub(crate) fn print_bytes(bytes: &[u8]) {
    let ops = current_ops();
    // SAFETY: `ops` is lkl_host_ops or the table the application gave to
    // lkl_init, which must stay valid until lkl_cleanup; the member is read
    // as it is now, since the application may change it at any time.
    let print = unsafe { ptr::read_volatile(ptr::addr_of!((*ops).print)) };
    if let Some(print) = print {
        for chunk in bytes.chunks(c_int::MAX as usize) {
            // SAFETY: `chunk` is readable for its length, which fits in
            // an int; print is the application's console function.
            unsafe { print(chunk.as_ptr().cast::<c_char>(), chunk.len() as c_int) };
        }
    }
}

/// Registers the host operations: from now on the kernel console goes to
/// `ops->print` (nothing if it is NULL). The kernel itself always runs on
/// the built-in host functions. Returns 0, or -EINVAL for a NULL `ops`.
///
/// # Safety
///
/// `ops` must stay valid until lkl_cleanup.
#[no_mangle]
pub unsafe extern "C" fn lkl_init(ops: *mut LklHostOperations) -> c_int {
    if ops.is_null() {
        return neg(Errno::INVAL);
    }
    OPS.store(ops, Ordering::Release);
    lkl_host::set_console_sink(Some(Box::new(print_bytes)));
    0
}

/// Undoes lkl_init: the console is silent again and the table is no longer
/// used. The kernel cannot be booted again in this process.
#[no_mangle]
pub extern "C" fn lkl_cleanup() {
    lkl_host::set_console_sink(None);
    OPS.store(ptr::null_mut(), Ordering::Release);
}

/// Stops the kernel (reboot with LINUX_REBOOT_CMD_POWER_OFF) and frees
/// everything it took from the host. Returns 0, or a negative errno
/// (-ENODEV if it was not running).
#[no_mangle]
pub extern "C" fn lkl_sys_halt() -> c_long {
    let mut params: [c_long; 6] = [
        uapi::LINUX_REBOOT_MAGIC1 as c_long,
        uapi::LINUX_REBOOT_MAGIC2 as c_long,
        uapi::LINUX_REBOOT_CMD_POWER_OFF as c_long,
        0,
        0,
        0,
    ];
    // SAFETY: `params` holds the six arguments of the reboot call.
    unsafe { lkl_sys::lkl_halt(params.as_mut_ptr()) }
}

/// Sends `len` bytes at `str` to the console function (`print` of the
/// table given to lkl_init, else of lkl_host_ops). Used by lkl.h's
/// lkl_printf, which formats in C. Returns `len`, or 0 if nothing printed.
///
/// # Safety
///
/// `str` is NULL or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn lkl_print_str(str: *const c_char, len: c_int) -> c_int {
    let Ok(n) = usize::try_from(len) else {
        return 0;
    };
    if str.is_null() || n == 0 {
        return 0;
    }
    // SAFETY: by the caller's promise `str` points to `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(str.cast::<u8>(), n) };
    print_bytes(bytes);
    len
}

/// Prints `len` bytes at `str` like lkl_print_str, then calls the table's
/// `panic` (abort if it is NULL or returns). Used by lkl.h's lkl_bug.
///
/// # Safety
///
/// As for lkl_print_str.
#[no_mangle]
pub unsafe extern "C" fn lkl_bug_str(str: *const c_char, len: c_int) -> ! {
    // SAFETY: forwarded under the caller's promise.
    unsafe { lkl_print_str(str, len) };
    let ops = current_ops();
    // SAFETY: as in print_bytes.
    let panic = unsafe { ptr::read_volatile(ptr::addr_of!((*ops).panic)) };
    if let Some(panic) = panic {
        // SAFETY: the application's panic function takes no arguments.
        unsafe { panic() };
    }
    std::process::abort()
}
