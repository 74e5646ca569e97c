// SPDX-License-Identifier: GPL-2.0
//! Thread-local storage keys (`lkl_host_tls_*`) on POSIX thread keys.
//!
//! POSIX keys rather than Rust `thread_local!`, because the destructor must
//! run on the exit of every thread that stored a value, including threads
//! the application created without going through this crate.

use core::ffi::{c_int, c_void};
use std::ptr;

use crate::alloc::try_box;
use crate::guard::guard;
use crate::HostCallback;

/// A TLS key; `struct lkl_host_tls` to C.
pub struct HostTls {
    key: libc::pthread_key_t,
}

/// Creates a key. At the exit of each thread whose value for the key is
/// non-NULL, `destructor` (if not NULL) runs on that thread with the value.
/// Returns NULL if no key or memory is left.
///
/// # Safety
///
/// `destructor`, if not NULL, must be sound to call with any non-NULL value
/// stored under the key, on the thread that stored it.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_tls_alloc(destructor: Option<HostCallback>) -> *mut HostTls {
    guard("tls_alloc", || {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is a valid out-pointer; the caller vouches for
        // `destructor`.
        if unsafe { libc::pthread_key_create(&mut key, destructor) } != 0 {
            return ptr::null_mut();
        }
        let tls = try_box(HostTls { key });
        if tls.is_null() {
            // SAFETY: `key` was just created and nothing uses it yet.
            unsafe { libc::pthread_key_delete(key) };
        }
        tls
    })
}

/// Deletes a key. Destructors do not run for values still stored under it.
/// NULL is ignored.
///
/// # Safety
///
/// `key` is NULL or came from [`lkl_host_tls_alloc`], has not been freed,
/// and no thread uses it again.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_tls_free(key: *mut HostTls) {
    if key.is_null() {
        return;
    }
    // SAFETY: by the caller's promise `key` is a live, unshared allocation
    // from `lkl_host_tls_alloc`, which made it with `try_box`.
    let tls = unsafe { Box::from_raw(key) };
    // SAFETY: the key is live and, by the caller's promise, unused from now
    // on. Deleting a live key cannot fail.
    unsafe { libc::pthread_key_delete(tls.key) };
}

/// Stores `data` as the calling thread's value for `key`. Returns 0, or
/// `-ENOMEM` if the thread's value table cannot grow.
///
/// # Safety
///
/// `key` came from [`lkl_host_tls_alloc`] and has not been freed.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_tls_set(key: *mut HostTls, data: *mut c_void) -> c_int {
    // SAFETY: by the caller's promise `key` points to a live `HostTls`.
    let key = unsafe { (*key).key };
    // SAFETY: `key` is a live key; the value is stored, not dereferenced.
    let error = unsafe { libc::pthread_setspecific(key, data) };
    -error
}

/// The calling thread's value for `key`; NULL if it never stored one.
///
/// # Safety
///
/// `key` came from [`lkl_host_tls_alloc`] and has not been freed.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_tls_get(key: *mut HostTls) -> *mut c_void {
    // SAFETY: by the caller's promise `key` points to a live `HostTls`.
    let key = unsafe { (*key).key };
    // SAFETY: `key` is a live key.
    unsafe { libc::pthread_getspecific(key) }
}
