// SPDX-License-Identifier: GPL-2.0
//! Clocks (`lkl_host_time_ns`, `lkl_host_wall_time_ns`).

use core::ffi::c_ulonglong;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// Reads `clock` in nanoseconds; times before 0 read as 0.
fn clock_ns(clock: libc::clockid_t) -> u64 {
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

/// Monotonic time (`CLOCK_MONOTONIC`) in nanoseconds; never goes back.
/// Timer deadlines are on this clock.
#[no_mangle]
pub extern "C" fn lkl_host_time_ns() -> c_ulonglong {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// Wall-clock time (`CLOCK_REALTIME`) in nanoseconds since the Unix epoch.
#[no_mangle]
pub extern "C" fn lkl_host_wall_time_ns() -> c_ulonglong {
    clock_ns(libc::CLOCK_REALTIME)
}
