// SPDX-License-Identifier: GPL-2.0
//! Plain and recursive mutexes.

mod common;

use common::*;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

/// A counter updated with plain (non-atomic) reads and writes, so that lost
/// updates show when the mutex fails to exclude.
struct Counter(UnsafeCell<u64>);

// SAFETY: the tests only touch the cell while holding the host mutex.
unsafe impl Sync for Counter {}

/// `threads` threads each do `rounds` locked increments of a shared counter
/// while checking that nobody else is inside the critical section.
fn hammer(mutex: Shared<LklHostMutex>, threads: usize, rounds: usize, nesting: usize) -> u64 {
    let counter = Arc::new(Counter(UnsafeCell::new(0)));
    let inside = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (counter, inside) = (counter.clone(), inside.clone());
            thread::spawn(move || {
                let mutex = mutex;
                for _ in 0..rounds {
                    // SAFETY: the mutex outlives the workers; the counter is
                    // only touched with the mutex held.
                    unsafe {
                        for _ in 0..nesting {
                            lkl_host_mutex_lock(mutex.0);
                        }
                        assert!(!inside.swap(true, Ordering::Relaxed), "two holders");
                        let value = std::ptr::read_volatile(counter.0.get());
                        if value % 64 == 0 {
                            thread::yield_now();
                        }
                        std::ptr::write_volatile(counter.0.get(), value + 1);
                        inside.store(false, Ordering::Relaxed);
                        for _ in 0..nesting {
                            lkl_host_mutex_unlock(mutex.0);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    // SAFETY: all workers are joined.
    unsafe { *counter.0.get() }
}

#[test]
fn plain_mutex_excludes() {
    within(LIMIT, || {
        // SAFETY: freed after all users are joined.
        let mutex = Shared(unsafe { lkl_host_mutex_alloc(0) });
        assert!(!mutex.0.is_null());
        assert_eq!(hammer(mutex, 6, 20_000, 1), 6 * 20_000);
        // SAFETY: no users left.
        unsafe { lkl_host_mutex_free(mutex.0) };
    });
}

#[test]
fn recursive_mutex_excludes_under_contention() {
    within(LIMIT, || {
        // SAFETY: freed after all users are joined.
        let mutex = Shared(unsafe { lkl_host_mutex_alloc(1) });
        assert_eq!(hammer(mutex, 4, 10_000, 3), 4 * 10_000);
        // SAFETY: no users left.
        unsafe { lkl_host_mutex_free(mutex.0) };
    });
}

/// Starts a thread that locks and unlocks `mutex` once, reporting when it
/// got the lock.
fn contender(mutex: Shared<LklHostMutex>) -> (Arc<AtomicBool>, thread::JoinHandle<()>) {
    let got = Arc::new(AtomicBool::new(false));
    let flag = got.clone();
    let handle = thread::spawn(move || {
        let mutex = mutex;
        // SAFETY: the mutex outlives this thread.
        unsafe {
            lkl_host_mutex_lock(mutex.0);
            flag.store(true, Ordering::SeqCst);
            lkl_host_mutex_unlock(mutex.0);
        }
    });
    (got, handle)
}

#[test]
fn plain_mutex_blocks_other_threads_until_unlocked() {
    within(LIMIT, || {
        // SAFETY: freed after the contender is joined.
        unsafe {
            let mutex = lkl_host_mutex_alloc(0);
            lkl_host_mutex_lock(mutex);
            let (got, handle) = contender(Shared(mutex));
            thread::sleep(Duration::from_millis(100));
            assert!(!got.load(Ordering::SeqCst), "lock taken while held");
            lkl_host_mutex_unlock(mutex);
            handle.join().unwrap();
            assert!(got.load(Ordering::SeqCst));
            lkl_host_mutex_free(mutex);
        }
    });
}

#[test]
fn recursive_mutex_needs_as_many_unlocks_as_locks() {
    within(LIMIT, || {
        // SAFETY: freed after the contender is joined.
        unsafe {
            let mutex = lkl_host_mutex_alloc(1);
            assert!(!mutex.is_null());
            // Would deadlock if the mutex were not recursive.
            for _ in 0..3 {
                lkl_host_mutex_lock(mutex);
            }
            let (got, handle) = contender(Shared(mutex));
            for held in (1..=3).rev() {
                thread::sleep(Duration::from_millis(50));
                assert!(
                    !got.load(Ordering::SeqCst),
                    "taken by another thread while locked {held} times"
                );
                lkl_host_mutex_unlock(mutex);
            }
            handle.join().unwrap();
            assert!(got.load(Ordering::SeqCst));

            // Reusable after full release, by this thread again.
            lkl_host_mutex_lock(mutex);
            lkl_host_mutex_lock(mutex);
            lkl_host_mutex_unlock(mutex);
            lkl_host_mutex_unlock(mutex);
            lkl_host_mutex_free(mutex);
        }
    });
}

#[test]
fn plain_mutex_unlocked_by_another_thread() {
    // The kernel may lock on one host thread and unlock on another.
    within(LIMIT, || {
        // SAFETY: freed after every user is joined.
        unsafe {
            let mutex = Shared(lkl_host_mutex_alloc(0));
            for _ in 0..200 {
                lkl_host_mutex_lock(mutex.0);
                // Someone is (or is about to be) waiting for the lock...
                let (got, waiter) = contender(mutex);
                // ...and a third thread releases it on our behalf.
                let unlocker = thread::spawn(move || {
                    let mutex = mutex;
                    lkl_host_mutex_unlock(mutex.0);
                });
                unlocker.join().unwrap();
                waiter.join().unwrap();
                assert!(got.load(Ordering::SeqCst));
            }
            lkl_host_mutex_free(mutex.0);
        }
    });
}
