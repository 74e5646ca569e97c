// SPDX-License-Identifier: GPL-2.0
//! Host threads (`lkl_host_thread_*`): joinable POSIX threads.

use core::ffi::{c_int, c_ulong, c_void};
use std::ptr;

use crate::alloc::try_box;
use crate::guard::guard;
use crate::HostCallback;

/// `lkl_host_thread_t`: the thread's `pthread_t`; 0 means "no thread".
pub type HostThread = c_ulong;

/// What a new thread runs, handed to it through `pthread_create`'s argument.
struct ThreadStart {
    body: HostCallback,
    arg: *mut c_void,
}

extern "C" fn thread_trampoline(start: *mut c_void) -> *mut c_void {
    guard("thread_start", || {
        // SAFETY: `start` is the `ThreadStart` that `lkl_host_thread_create`
        // boxed for this thread alone; ownership passes to us here.
        let start = unsafe { Box::from_raw(start.cast::<ThreadStart>()) };
        // SAFETY: the creator promised that `body(arg)` may run on a new
        // thread (see `lkl_host_thread_create`).
        unsafe { (start.body)(start.arg) };
    });
    ptr::null_mut()
}

/// Starts a joinable thread running `body(arg)`. Returns its handle, or 0
/// if `body` is NULL or the thread cannot be created.
///
/// # Safety
///
/// `body(arg)` must be sound to call on a new thread, and the thread must
/// eventually be joined with [`lkl_host_thread_join`].
#[no_mangle]
pub unsafe extern "C" fn lkl_host_thread_create(
    body: Option<HostCallback>,
    arg: *mut c_void,
) -> HostThread {
    let Some(body) = body else {
        return 0;
    };
    guard("thread_create", || {
        let start = try_box(ThreadStart { body, arg });
        if start.is_null() {
            return 0;
        }
        let mut thread: libc::pthread_t = 0;
        // SAFETY: `thread` is a valid out-pointer, NULL attributes mean the
        // defaults (joinable), and `start` stays valid until the trampoline
        // takes ownership of it.
        let error = unsafe {
            libc::pthread_create(&mut thread, ptr::null(), thread_trampoline, start.cast())
        };
        if error != 0 {
            // SAFETY: no thread was started, so `start` is still ours.
            drop(unsafe { Box::from_raw(start) });
            return 0;
        }
        thread as HostThread
    })
}

/// Waits for `thread` to finish. Returns 0, or a negative errno (`-EINVAL`
/// for the handle 0, `-EDEADLK` for joining oneself).
///
/// # Safety
///
/// `thread` is 0 or a handle from [`lkl_host_thread_create`] that has not
/// been joined yet.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_thread_join(thread: HostThread) -> c_int {
    if thread == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: by the caller's promise `thread` is a joinable thread that
    // nobody has joined; its result is not collected (NULL out-pointer).
    let error = unsafe { libc::pthread_join(thread as libc::pthread_t, ptr::null_mut()) };
    -error
}

/// The calling thread's handle. Works on every thread, including threads
/// not created by [`lkl_host_thread_create`].
#[no_mangle]
pub extern "C" fn lkl_host_thread_self() -> HostThread {
    // SAFETY: pthread_self has no preconditions.
    let thread = unsafe { libc::pthread_self() };
    thread as HostThread
}

/// 1 if `a` and `b` name the same thread, else 0.
#[no_mangle]
pub extern "C" fn lkl_host_thread_equal(a: HostThread, b: HostThread) -> c_int {
    // SAFETY: pthread_equal only compares the two values.
    let equal = unsafe { libc::pthread_equal(a as libc::pthread_t, b as libc::pthread_t) };
    c_int::from(equal != 0)
}
