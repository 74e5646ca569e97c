// SPDX-License-Identifier: GPL-2.0
//! The two futex operations the semaphores and mutexes are built on.
//!
//! Futexes are process-private (`FUTEX_PRIVATE_FLAG`): the words live in
//! this process's memory and are never shared with another process.

use std::ptr;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleeps while `*word == expected`. May return spuriously (on a signal, if
/// the value already differs, or on a wake meant for someone else); callers
/// re-check their condition in a loop.
pub(crate) fn wait(word: &AtomicU32, expected: u32) {
    wait_timeout(word, expected, None);
}

/// As [`wait`], but for at most `timeout` (`None`: no limit).
/// Async-signal-safe: one system call.
pub(crate) fn wait_timeout(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let limit = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(t.subsec_nanos()),
    });
    let limit_ptr = limit
        .as_ref()
        .map_or(ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a valid, aligned 32-bit word for the duration of the
    // call, which only reads it; `limit_ptr` is NULL (no timeout) or points
    // to `limit`, a relative timeout that lives until the call returns.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            limit_ptr,
        );
    }
}

/// Wakes at most `count` threads sleeping in [`wait`] on `word`.
pub(crate) fn wake(word: &AtomicU32, count: u32) {
    let count = libc::c_int::try_from(count).unwrap_or(libc::c_int::MAX);
    // SAFETY: FUTEX_WAKE only uses the address of `word` as a key; it does
    // not access memory through it.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            count,
        );
    }
}
