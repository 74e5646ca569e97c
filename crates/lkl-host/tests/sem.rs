// SPDX-License-Identifier: GPL-2.0
//! Counting semaphores.

mod common;

use common::*;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn negative_count_is_refused() {
    // SAFETY: plain call of the host interface.
    assert!(unsafe { lkl_host_sem_alloc(-1) }.is_null());
}

/// Spawns a thread that takes one unit and reports when it got it.
fn downer(sem: Shared<LklHostSem>) -> (Arc<AtomicBool>, thread::JoinHandle<()>) {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let handle = thread::spawn(move || {
        let sem = sem;
        // SAFETY: the semaphore outlives this thread (it is joined first).
        unsafe { lkl_host_sem_down(sem.0) };
        flag.store(true, Ordering::SeqCst);
    });
    (done, handle)
}

#[test]
fn initial_count_units_then_blocks_until_up() {
    within(LIMIT, || {
        // SAFETY: the semaphore is freed only after every user is joined.
        unsafe {
            let sem = lkl_host_sem_alloc(2);
            assert!(!sem.is_null());
            lkl_host_sem_down(sem);
            lkl_host_sem_down(sem);

            let (done, handle) = downer(Shared(sem));
            thread::sleep(Duration::from_millis(100));
            assert!(
                !done.load(Ordering::SeqCst),
                "down succeeded on an empty semaphore"
            );
            lkl_host_sem_up(sem);
            handle.join().unwrap();
            assert!(done.load(Ordering::SeqCst));

            // Ups are remembered: three ups, three downs, no blocking.
            for _ in 0..3 {
                lkl_host_sem_up(sem);
            }
            for _ in 0..3 {
                lkl_host_sem_down(sem);
            }
            // And the count is back at zero.
            let (done, handle) = downer(Shared(sem));
            thread::sleep(Duration::from_millis(50));
            assert!(
                !done.load(Ordering::SeqCst),
                "semaphore had units left over"
            );
            lkl_host_sem_up(sem);
            handle.join().unwrap();
            lkl_host_sem_free(sem);
        }
    });
}

#[test]
fn zero_count_blocks_all_waiters_and_each_up_releases_one() {
    within(LIMIT, || {
        // SAFETY: the semaphore is freed only after every user is joined.
        unsafe {
            let sem = lkl_host_sem_alloc(0);
            let waiters: Vec<_> = (0..4).map(|_| downer(Shared(sem))).collect();
            thread::sleep(Duration::from_millis(50));
            let released = || {
                waiters
                    .iter()
                    .filter(|(d, _)| d.load(Ordering::SeqCst))
                    .count()
            };
            assert_eq!(released(), 0);
            for expected in 1..=4 {
                lkl_host_sem_up(sem);
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while released() < expected && std::time::Instant::now() < deadline {
                    thread::sleep(Duration::from_millis(1));
                }
                thread::sleep(Duration::from_millis(20));
                assert_eq!(
                    released(),
                    expected,
                    "one up must release exactly one waiter"
                );
            }
            for (_, handle) in waiters {
                handle.join().unwrap();
            }
            lkl_host_sem_free(sem);
        }
    });
}

#[test]
fn ping_pong_between_threads() {
    const ROUNDS: usize = 20_000;
    within(LIMIT, || {
        // SAFETY: both semaphores are freed after the partner is joined.
        unsafe {
            let ping = Shared(lkl_host_sem_alloc(0));
            let pong = Shared(lkl_host_sem_alloc(0));
            let partner = thread::spawn(move || {
                let (ping, pong) = (ping, pong);
                for _ in 0..ROUNDS {
                    lkl_host_sem_down(ping.0);
                    lkl_host_sem_up(pong.0);
                }
            });
            for _ in 0..ROUNDS {
                lkl_host_sem_up(ping.0);
                lkl_host_sem_down(pong.0);
            }
            partner.join().unwrap();
            lkl_host_sem_free(ping.0);
            lkl_host_sem_free(pong.0);
        }
    });
}

#[test]
fn many_producers_and_consumers_balance() {
    const THREADS: usize = 4;
    const UNITS: usize = 20_000;
    within(LIMIT, || {
        // SAFETY: the semaphore is freed after every user is joined.
        let sem = Shared(unsafe { lkl_host_sem_alloc(0) });
        let taken = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..THREADS {
            threads.push(thread::spawn(move || {
                let sem = sem;
                for _ in 0..UNITS {
                    // SAFETY: the semaphore is live until all are joined.
                    unsafe { lkl_host_sem_up(sem.0) };
                }
            }));
            let taken = taken.clone();
            threads.push(thread::spawn(move || {
                let sem = sem;
                for _ in 0..UNITS {
                    // SAFETY: as above.
                    unsafe { lkl_host_sem_down(sem.0) };
                    taken.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(taken.load(Ordering::Relaxed), THREADS * UNITS);
        // Exactly balanced: one more down must block until one more up.
        let (done, handle) = downer(sem);
        thread::sleep(Duration::from_millis(50));
        assert!(!done.load(Ordering::SeqCst));
        // SAFETY: the semaphore is live; freed after the last user.
        unsafe {
            lkl_host_sem_up(sem.0);
            handle.join().unwrap();
            lkl_host_sem_free(sem.0);
        }
    });
}

unsafe extern "C" fn up_from_host_thread(sem: *mut c_void) {
    // SAFETY: the test passes a live semaphore.
    unsafe { lkl_host_sem_up(sem.cast()) };
}

#[test]
fn up_from_a_host_thread_wakes_a_waiter() {
    within(LIMIT, || {
        // SAFETY: the thread is joined before the semaphore is freed.
        unsafe {
            let sem = lkl_host_sem_alloc(0);
            let thread = lkl_host_thread_create(Some(up_from_host_thread), sem.cast());
            assert_ne!(thread, 0);
            lkl_host_sem_down(sem);
            assert_eq!(lkl_host_thread_join(thread), 0);
            lkl_host_sem_free(sem);
        }
    });
}
