// SPDX-License-Identifier: GPL-2.0
//! The timer machinery leaves no thread behind once every timer is freed.
//!
//! One test function only: it counts the threads of the whole process, so
//! nothing else may run beside it.

mod common;

use common::*;
use std::ffi::c_void;
use std::fs;
use std::ptr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// (all threads of the process, threads named `lkl-app-timer`)
fn threads() -> (usize, usize) {
    let mut all = 0;
    let mut timer = 0;
    for task in fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap().path();
        all += 1;
        // A thread may exit between listing and reading.
        if let Ok(name) = fs::read_to_string(task.join("comm")) {
            if name.trim_end() == "lkl-app-timer" {
                timer += 1;
            }
        }
    }
    (all, timer)
}

unsafe extern "C" fn count_firing(arg: *mut c_void) {
    // SAFETY: the test passes an `AtomicUsize` that outlives the timers.
    unsafe { &*arg.cast::<AtomicUsize>() }.fetch_add(1, Ordering::SeqCst);
}

/// The last timer frees itself from its callback.
unsafe extern "C" fn free_own_timer(arg: *mut c_void) {
    // SAFETY: the test passes an `AtomicU64` holding the live timer.
    let timer = unsafe { &*arg.cast::<AtomicU64>() }.load(Ordering::SeqCst);
    // SAFETY: the timer is live and freed only here.
    unsafe { lkl_host_timer_free(timer as usize as *mut LklHostTimer) };
}

fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn no_timer_thread_remains_after_last_free() {
    let (before, timer_threads) = threads();
    assert_eq!(timer_threads, 0);
    let fired = AtomicUsize::new(0);
    let arg = ptr::from_ref(&fired).cast_mut().cast::<c_void>();

    for cycle in 0..3 {
        // SAFETY: all timers are freed before `fired` goes away.
        unsafe {
            let timers: Vec<_> = (0..3)
                .map(|_| lkl_host_timer_alloc(Some(count_firing), arg))
                .collect();
            assert!(timers.iter().all(|timer| !timer.is_null()));

            let target = fired.load(Ordering::SeqCst) + 2;
            assert_eq!(lkl_host_timer_set_oneshot(timers[0], ms(1)), 0);
            assert_eq!(lkl_host_timer_set_oneshot(timers[1], 0), 0);
            // This one is still pending when freed.
            assert_eq!(lkl_host_timer_set_oneshot(timers[2], ms(10_000)), 0);
            wait_until("two firings", || fired.load(Ordering::SeqCst) == target);
            // Counted only now: the thread names itself once it runs.
            assert_eq!(
                threads(),
                (before + 1, 1),
                "cycle {cycle}: exactly one service thread expected"
            );

            for timer in timers {
                lkl_host_timer_free(timer);
            }
        }
        // Joined by the last free. pthread_join returns when the thread
        // has exited, which the host kernel reports a moment before it
        // drops the thread from /proc/self/task; a thread that was not
        // joined (still running) never leaves, and fails here.
        wait_until("the timer thread to leave /proc/self/task", || {
            threads() == (before, 0)
        });
    }

    // The last timer freeing itself from its own callback: the thread
    // cannot join itself, but must end right after the callback.
    let own = Box::new(AtomicU64::new(0));
    // SAFETY: the timer frees itself; `own` outlives it.
    unsafe {
        let arg = ptr::from_ref(&*own).cast_mut().cast::<c_void>();
        let timer = lkl_host_timer_alloc(Some(free_own_timer), arg);
        assert!(!timer.is_null());
        own.store(timer as usize as u64, Ordering::SeqCst);
        assert_eq!(lkl_host_timer_set_oneshot(timer, 0), 0);
    }
    wait_until("the self-freeing service thread to end", || {
        threads() == (before, 0)
    });
}
