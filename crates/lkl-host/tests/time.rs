// SPDX-License-Identifier: GPL-2.0
//! Monotonic and wall-clock time (`os_nsecs`, `os_persistent_clock_emulation`).

mod common;

use common::*;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[test]
fn monotonic_time_never_goes_back_and_advances() {
    {
        let mut previous = lkl_host_time_ns();
        for _ in 0..100_000 {
            let now = lkl_host_time_ns();
            assert!(
                now >= previous,
                "monotonic time went back: {previous} -> {now}"
            );
            previous = now;
        }
        let before = lkl_host_time_ns();
        thread::sleep(Duration::from_millis(50));
        let elapsed = lkl_host_time_ns() - before;
        assert!(
            elapsed >= ms(50),
            "slept 50 ms, clock advanced {elapsed} ns"
        );
        assert!(
            elapsed < ms(5_000),
            "slept 50 ms, clock advanced {elapsed} ns"
        );
    }
}

#[test]
fn monotonic_time_matches_clock_monotonic() {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let (ours, before) = (lkl_host_time_ns(), now);
    let theirs = before.tv_sec as u64 * 1_000_000_000 + before.tv_nsec as u64;
    assert!(
        ours >= theirs && ours - theirs < ms(1_000),
        "{ours} vs {theirs}"
    );
}

#[test]
fn wall_time_matches_system_time() {
    let system = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let ours = lkl_host_wall_time_ns();
    assert!(
        ours.abs_diff(system) < ms(1_000),
        "wall {ours} vs system {system}"
    );
}
