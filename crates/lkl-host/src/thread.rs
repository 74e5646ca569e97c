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
        // Our thread: the program's signals go elsewhere, kicks come here.
        crate::irq::block_program_signals();
        // SAFETY: `start` is the `ThreadStart` that `lkl_host_thread_create`
        // boxed for this thread alone; ownership passes to us here.
        let start = unsafe { Box::from_raw(start.cast::<ThreadStart>()) };
        // SAFETY: the creator promised that `body(arg)` may run on a new
        // thread (see `lkl_host_thread_create`).
        unsafe { (start.body)(start.arg) };
    });
    ptr::null_mut()
}

extern "C" {
    // glibc 2.32 and later.
    fn pthread_attr_setsigmask_np(
        attr: *mut libc::pthread_attr_t,
        sigmask: *const libc::sigset_t,
    ) -> c_int;
}

/// Starts a joinable thread running the trampoline with `start`, with every
/// signal blocked from its first instruction, so that no handler of the
/// program runs on it before it sets its own mask. The creator's mask,
/// often an application thread's, is not touched. Returns 0 or an errno.
fn create_with_signals_blocked(thread: &mut libc::pthread_t, start: *mut c_void) -> c_int {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: sigset_t is plain data; sigfillset initialises it.
    let mut all: libc::sigset_t = unsafe { std::mem::MaybeUninit::zeroed().assume_init() };
    // SAFETY: `attr` is initialised by pthread_attr_init before any other
    // use and destroyed once; `all` is a valid set; `thread` is a valid
    // out-pointer and `start` stays valid until the trampoline owns it.
    unsafe {
        libc::sigfillset(&mut all);
        let error = libc::pthread_attr_init(attr.as_mut_ptr());
        if error != 0 {
            return error;
        }
        let mut error = pthread_attr_setsigmask_np(attr.as_mut_ptr(), &all);
        if error == 0 {
            error = libc::pthread_create(thread, attr.as_ptr(), thread_trampoline, start);
        }
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        error
    }
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
        // The kernel's first thread is made on the thread that boots it:
        // the program's, whose signal mask tells which signals it uses.
        if !crate::irq::on_library_thread() {
            crate::irq::settle_kick_signal(true);
        }
        let start = try_box(ThreadStart { body, arg });
        if start.is_null() {
            return 0;
        }
        let mut thread: libc::pthread_t = 0;
        let error = create_with_signals_blocked(&mut thread, start.cast());
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
