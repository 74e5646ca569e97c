// SPDX-License-Identifier: GPL-2.0
//! Clocks for `arch/um/kernel/time.c`: `os_nsecs` and
//! `os_persistent_clock_emulation`, as declared in UML's `os.h`.
//!
//! Both read the clock through the vDSO; they take no lock and are
//! async-signal-safe.

use core::ffi::c_longlong;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// Reads `clock` in nanoseconds; times before 0 read as 0.
pub(crate) fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid out-pointer. The clocks used here always
    // exist on Linux, so the call cannot fail.
    unsafe { libc::clock_gettime(clock, &mut now) };
    let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanoseconds = u64::try_from(now.tv_nsec).unwrap_or(0);
    seconds
        .saturating_mul(NSEC_PER_SEC)
        .saturating_add(nanoseconds)
}

/// Monotonic host time (`CLOCK_MONOTONIC`) in nanoseconds: the kernel's
/// clocksource. Timer deadlines are on this clock.
pub(crate) fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// `os_nsecs()`: monotonic host time in nanoseconds; never goes back.
#[no_mangle]
pub extern "C" fn os_nsecs() -> c_longlong {
    c_longlong::try_from(monotonic_ns()).unwrap_or(c_longlong::MAX)
}

/// `os_persistent_clock_emulation()`: wall-clock time (`CLOCK_REALTIME`)
/// in nanoseconds since the Unix epoch, which the kernel's clock starts at.
#[no_mangle]
pub extern "C" fn os_persistent_clock_emulation() -> c_longlong {
    c_longlong::try_from(clock_ns(libc::CLOCK_REALTIME)).unwrap_or(c_longlong::MAX)
}
