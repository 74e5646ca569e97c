// SPDX-License-Identifier: GPL-2.0
//! One-shot timers for applications (`lkl_host::app_timer`). (The test that no timer thread is left behind lives in
//! `timer_threads.rs`: it counts the process's threads, so it must not run
//! beside these.)

mod common;

use common::*;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

/// What a timer callback records; passed as the callback's argument.
#[derive(Default)]
struct Fired {
    count: AtomicUsize,
    /// `lkl_host_time_ns` at the first and at the latest firing.
    first_at_ns: AtomicU64,
    at_ns: AtomicU64,
    /// The thread the latest callback ran on.
    on_thread: AtomicU64,
    /// Set while a callback runs, to catch overlapping callbacks.
    running: AtomicBool,
    overlapped: AtomicBool,
    /// How long each callback sleeps.
    sleep_ms: AtomicU64,
    /// If non-zero: re-arm with this delta (ns) until `count` reaches
    /// `rearm_until`.
    rearm_ns: AtomicU64,
    rearm_until: AtomicUsize,
    /// The timer itself, for callbacks that re-arm or free it.
    timer: AtomicU64,
    /// Free the timer from its own callback.
    free_self: AtomicBool,
    finished: AtomicBool,
}

impl Fired {
    fn arg(&self) -> *mut c_void {
        ptr::from_ref(self).cast_mut().cast()
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    fn timer(&self) -> *mut LklHostTimer {
        self.timer.load(Ordering::SeqCst) as usize as *mut LklHostTimer
    }

    fn alloc_timer(&self) -> *mut LklHostTimer {
        // SAFETY: every test keeps its `Fired` alive until the timer is
        // freed (and so its callback is done).
        let timer = unsafe { lkl_host_timer_alloc(Some(record_firing), self.arg()) };
        assert!(!timer.is_null());
        self.timer.store(timer as usize as u64, Ordering::SeqCst);
        timer
    }
}

unsafe extern "C" fn record_firing(arg: *mut c_void) {
    // SAFETY: the tests pass a `Fired` that outlives the timer.
    let fired = unsafe { &*arg.cast::<Fired>() };
    if fired.running.swap(true, Ordering::SeqCst) {
        fired.overlapped.store(true, Ordering::SeqCst);
    }
    // SAFETY: plain calls of the host interface.
    unsafe {
        let now = lkl_host_time_ns();
        let _ = fired
            .first_at_ns
            .compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst);
        fired.at_ns.store(now, Ordering::SeqCst);
        fired
            .on_thread
            .store(lkl_host_thread_self(), Ordering::SeqCst);
    }
    let sleep = fired.sleep_ms.load(Ordering::SeqCst);
    if sleep > 0 {
        thread::sleep(Duration::from_millis(sleep));
    }
    let count = fired.count.fetch_add(1, Ordering::SeqCst) + 1;
    let rearm = fired.rearm_ns.load(Ordering::SeqCst);
    if rearm > 0 && count < fired.rearm_until.load(Ordering::SeqCst) {
        // SAFETY: the timer is live while its callback runs in these tests.
        let result = unsafe { lkl_host_timer_set_oneshot(fired.timer(), rearm) };
        assert_eq!(result, 0);
    }
    fired.running.store(false, Ordering::SeqCst);
    if fired.free_self.load(Ordering::SeqCst) {
        // SAFETY: the timer is live and freed exactly once, here.
        unsafe { lkl_host_timer_free(fired.timer()) };
    }
    fired.finished.store(true, Ordering::SeqCst);
}

/// Waits (bounded) until `condition` holds.
fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

fn now_ns() -> u64 {
    lkl_host_time_ns()
}

#[test]
fn oneshot_fires_once_not_early_on_another_thread() {
    within(LIMIT, || {
        let fired = Box::new(Fired::default());
        let timer = fired.alloc_timer();
        let armed_at = now_ns();
        // SAFETY: the timer is live until freed below.
        assert_eq!(unsafe { lkl_host_timer_set_oneshot(timer, ms(20)) }, 0);
        wait_for("the timer", || fired.count() == 1);
        let late_by = fired.at_ns.load(Ordering::SeqCst) as i64 - (armed_at + ms(20)) as i64;
        assert!(late_by >= 0, "fired {} ns early", -late_by);
        thread::sleep(Duration::from_millis(100));
        assert_eq!(fired.count(), 1, "a one-shot timer fired again");
        // SAFETY: plain call of the host interface.
        let me = unsafe { lkl_host_thread_self() };
        // SAFETY: as above.
        let same = unsafe { lkl_host_thread_equal(me, fired.on_thread.load(Ordering::SeqCst)) };
        assert_eq!(same, 0, "callback ran on the arming thread");
        // SAFETY: freed once; the callback is done.
        unsafe { lkl_host_timer_free(timer) };
    });
}

#[test]
fn zero_delta_fires_promptly() {
    within(LIMIT, || {
        let fired = Box::new(Fired::default());
        let timer = fired.alloc_timer();
        let armed_at = now_ns();
        // SAFETY: the timer is live until freed below.
        assert_eq!(unsafe { lkl_host_timer_set_oneshot(timer, 0) }, 0);
        wait_for("the timer", || fired.count() == 1);
        let delay = fired.at_ns.load(Ordering::SeqCst) - armed_at;
        assert!(delay < ms(1_000), "delta 0 fired after {delay} ns");
        // SAFETY: freed once.
        unsafe { lkl_host_timer_free(timer) };
    });
}

#[test]
fn rearm_to_later_replaces_earlier_expiry() {
    within(LIMIT, || {
        let fired = Box::new(Fired::default());
        let timer = fired.alloc_timer();
        // SAFETY: the timer is live until freed below.
        unsafe {
            assert_eq!(lkl_host_timer_set_oneshot(timer, ms(30)), 0);
            let rearmed_at = now_ns();
            assert_eq!(lkl_host_timer_set_oneshot(timer, ms(300)), 0);
            wait_for("the timer", || fired.count() == 1);
            // Had the 30 ms expiry survived, the first firing would be it.
            let first = fired.first_at_ns.load(Ordering::SeqCst);
            assert!(first >= rearmed_at + ms(300), "the replaced expiry fired");
            thread::sleep(Duration::from_millis(100));
            assert_eq!(fired.count(), 1);
            lkl_host_timer_free(timer);
        }
    });
}

#[test]
fn rearm_to_earlier_replaces_later_expiry() {
    within(LIMIT, || {
        let fired = Box::new(Fired::default());
        let timer = fired.alloc_timer();
        // SAFETY: the timer is live until freed below.
        unsafe {
            let armed_at = now_ns();
            assert_eq!(lkl_host_timer_set_oneshot(timer, ms(1_000)), 0);
            assert_eq!(lkl_host_timer_set_oneshot(timer, ms(20)), 0);
            wait_for("the timer", || fired.count() == 1);
            let first = fired.first_at_ns.load(Ordering::SeqCst);
            assert!(first >= armed_at + ms(20), "fired early");
            assert!(
                first < armed_at + ms(1_000),
                "the earlier expiry did not replace the later one"
            );
            // The 1 s expiry is gone too.
            while now_ns() < armed_at + ms(1_200) {
                thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(fired.count(), 1);
            lkl_host_timer_free(timer);
        }
    });
}

#[test]
fn free_cancels_pending_expiry() {
    within(LIMIT, || {
        let fired = Box::new(Fired::default());
        let timer = fired.alloc_timer();
        // SAFETY: the timer is freed once.
        let freed_in_time = unsafe {
            let armed_at = now_ns();
            assert_eq!(lkl_host_timer_set_oneshot(timer, ms(100)), 0);
            lkl_host_timer_free(timer);
            now_ns() < armed_at + ms(100)
        };
        thread::sleep(Duration::from_millis(300));
        // (On a machine so loaded that freeing took 100 ms, the expiry may
        // legitimately have come first.)
        if freed_in_time {
            assert_eq!(fired.count(), 0, "a freed timer fired");
        }
    });
}

#[test]
fn free_waits_for_running_callback() {
    within(LIMIT, || {
        // Another live timer, so this free is not the last one (the last
        // one joins the service thread, which would wait anyway).
        let other = Box::new(Fired::default());
        let keep = other.alloc_timer();
        let fired = Box::new(Fired::default());
        fired.sleep_ms.store(200, Ordering::SeqCst);
        let timer = fired.alloc_timer();
        // SAFETY: the timer is freed once, after it started running; `keep`
        // is freed at the end.
        unsafe {
            assert_eq!(lkl_host_timer_set_oneshot(timer, 0), 0);
            wait_for("the callback to start", || {
                fired.first_at_ns.load(Ordering::SeqCst) != 0
            });
            lkl_host_timer_free(timer);
            assert!(
                fired.finished.load(Ordering::SeqCst),
                "free returned while the callback was running"
            );
            lkl_host_timer_free(keep);
        }
    });
}

#[test]
fn callback_may_rearm_its_timer_and_never_overlaps() {
    within(LIMIT, || {
        let fired = Box::new(Fired::default());
        fired.rearm_ns.store(ms(1), Ordering::SeqCst);
        fired.rearm_until.store(10, Ordering::SeqCst);
        fired.sleep_ms.store(2, Ordering::SeqCst);
        let timer = fired.alloc_timer();
        // SAFETY: the timer is freed once, after the chain of firings.
        unsafe {
            assert_eq!(lkl_host_timer_set_oneshot(timer, 0), 0);
            // Meanwhile other threads keep re-arming it to fire at once.
            thread::scope(|scope| {
                for _ in 0..3 {
                    let timer = Shared(timer);
                    let fired = &*fired;
                    scope.spawn(move || {
                        let timer = timer;
                        while fired.count() < 10 {
                            assert_eq!(lkl_host_timer_set_oneshot(timer.0, 0), 0);
                            thread::sleep(Duration::from_micros(200));
                        }
                    });
                }
            });
            wait_for("ten firings", || fired.count() >= 10);
            lkl_host_timer_free(timer);
        }
        assert!(
            !fired.overlapped.load(Ordering::SeqCst),
            "callbacks overlapped"
        );
    });
}

#[test]
fn callback_may_free_its_own_timer() {
    within(LIMIT, || {
        // Keep another timer alive, so this is not the last one.
        let other = Box::new(Fired::default());
        let keep = other.alloc_timer();
        let fired = Box::new(Fired::default());
        fired.free_self.store(true, Ordering::SeqCst);
        let timer = fired.alloc_timer();
        // SAFETY: `timer` is freed by its callback, `keep` here.
        unsafe {
            assert_eq!(lkl_host_timer_set_oneshot(timer, ms(5)), 0);
            wait_for("the self-freeing callback", || {
                fired.finished.load(Ordering::SeqCst)
            });
            // The service keeps working for the other timer.
            assert_eq!(lkl_host_timer_set_oneshot(keep, ms(5)), 0);
            wait_for("the other timer", || other.count() == 1);
            lkl_host_timer_free(keep);
        }
        assert_eq!(fired.count(), 1);
    });
}

#[test]
fn many_timers_fire_in_deadline_order() {
    within(LIMIT, || {
        static ORDER: Mutex<Vec<usize>> = Mutex::new(Vec::new());
        unsafe extern "C" fn record_order(arg: *mut c_void) {
            ORDER.lock().unwrap().push(arg as usize);
        }
        // SAFETY: the callback ignores its argument's pointee; all timers
        // are freed once.
        unsafe {
            let timers: Vec<_> = (0..8usize)
                .map(|i| lkl_host_timer_alloc(Some(record_order), i as *mut c_void))
                .collect();
            // Arm in scrambled order; deadlines 20 ms apart by index.
            for i in [5usize, 2, 7, 0, 3, 6, 1, 4] {
                let delta = ms(20) * (i as u64 + 1);
                assert_eq!(lkl_host_timer_set_oneshot(timers[i], delta), 0);
            }
            wait_for("all timers", || ORDER.lock().unwrap().len() == 8);
            for timer in timers {
                lkl_host_timer_free(timer);
            }
        }
        assert_eq!(*ORDER.lock().unwrap(), (0..8).collect::<Vec<_>>());
    });
}

#[test]
fn concurrent_set_and_free_from_many_threads() {
    within(LIMIT, || {
        thread::scope(|scope| {
            for worker in 0..4u64 {
                scope.spawn(move || {
                    for round in 0..200u64 {
                        let fired = Box::new(Fired::default());
                        let timer = fired.alloc_timer();
                        // SAFETY: the timer is freed once, before `fired`
                        // is dropped.
                        unsafe {
                            let delta = (worker * 7 + round) % 5 * 100_000;
                            assert_eq!(lkl_host_timer_set_oneshot(timer, delta), 0);
                            if round % 3 == 0 {
                                thread::sleep(Duration::from_micros(300));
                            }
                            assert_eq!(lkl_host_timer_set_oneshot(timer, delta / 2), 0);
                            lkl_host_timer_free(timer);
                        }
                        let count = fired.count();
                        thread::sleep(Duration::from_micros(100));
                        assert_eq!(fired.count(), count, "fired after free");
                        // Armed twice: the first expiry may have fired
                        // before the second arming.
                        assert!(count <= 2, "two armings fired {count} times");
                    }
                });
            }
        });
    });
}
