// SPDX-License-Identifier: GPL-2.0
//! The two futex operations the semaphores and mutexes are built on.
//!
//! Futexes are process-private (`FUTEX_PRIVATE_FLAG`): the words live in
//! this process's memory and are never shared with another process.

use std::ptr;
use std::sync::atomic::AtomicU32;

/// Sleeps while `*word == expected`. May return spuriously (on a signal, if
/// the value already differs, or on a wake meant for someone else); callers
/// re-check their condition in a loop.
pub(crate) fn wait(word: &AtomicU32, expected: u32) {
    // SAFETY: `word` is a valid, aligned 32-bit word for the duration of the
    // call, and a NULL timeout means "no timeout". The kernel only reads
    // the word.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            ptr::null::<libc::timespec>(),
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
