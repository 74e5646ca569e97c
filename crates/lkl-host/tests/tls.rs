// SPDX-License-Identifier: GPL-2.0
//! Thread-local storage keys and their destructors.

mod common;

use common::*;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// Destructor used by the tests: the stored value points to a counter of
/// destructor calls, so each test counts only its own.
unsafe extern "C" fn count_destruction(value: *mut c_void) {
    // SAFETY: every value stored under the tests' keys is an `AtomicUsize`
    // that outlives the thread.
    let counter = unsafe { &*value.cast::<AtomicUsize>() };
    counter.fetch_add(1, Ordering::SeqCst);
}

fn as_value(counter: &AtomicUsize) -> *mut c_void {
    ptr::from_ref(counter).cast_mut().cast()
}

#[test]
fn values_are_per_thread() {
    // SAFETY: the key is freed after the other thread is joined.
    unsafe {
        let key = Shared(lkl_host_tls_alloc(None));
        assert!(!key.0.is_null());
        assert!(
            lkl_host_tls_get(key.0).is_null(),
            "fresh key must read NULL"
        );
        let mine = 1usize as *mut c_void;
        assert_eq!(lkl_host_tls_set(key.0, mine), 0);
        assert_eq!(lkl_host_tls_get(key.0), mine);

        thread::spawn(move || {
            let key = key;
            assert!(
                lkl_host_tls_get(key.0).is_null(),
                "value leaked across threads"
            );
            let theirs = 2usize as *mut c_void;
            assert_eq!(lkl_host_tls_set(key.0, theirs), 0);
            assert_eq!(lkl_host_tls_get(key.0), theirs);
        })
        .join()
        .unwrap();

        assert_eq!(lkl_host_tls_get(key.0), mine);
        assert_eq!(lkl_host_tls_set(key.0, ptr::null_mut()), 0);
        assert!(lkl_host_tls_get(key.0).is_null());
        lkl_host_tls_free(key.0);
    }
}

#[test]
fn destructor_runs_at_exit_of_std_threads() {
    let counter = Arc::new(AtomicUsize::new(0));
    // SAFETY: the key is freed after both threads are joined; the counter
    // outlives them.
    unsafe {
        let key = Shared(lkl_host_tls_alloc(Some(count_destruction)));
        assert!(!key.0.is_null());

        let stored = counter.clone();
        thread::spawn(move || {
            let key = key;
            assert_eq!(lkl_host_tls_set(key.0, as_value(&stored)), 0);
            assert_eq!(stored.load(Ordering::SeqCst), 0, "destructor ran too early");
        })
        .join()
        .unwrap();
        assert_eq!(counter.load(Ordering::SeqCst), 1);

        // A thread that stored NULL (or nothing) gets no destructor call.
        thread::spawn(move || {
            let key = key;
            assert_eq!(lkl_host_tls_set(key.0, ptr::null_mut()), 0);
        })
        .join()
        .unwrap();
        assert_eq!(counter.load(Ordering::SeqCst), 1);

        lkl_host_tls_free(key.0);
    }
}

struct HostThreadArgs {
    key: *mut LklHostTls,
    counter: *const AtomicUsize,
    seen_early: AtomicUsize,
}

unsafe extern "C" fn store_counter(arg: *mut c_void) {
    // SAFETY: the test passes `HostThreadArgs` that outlive the thread.
    let args = unsafe { &*arg.cast::<HostThreadArgs>() };
    // SAFETY: the key and counter are live until the thread is joined.
    unsafe {
        assert_eq!(
            lkl_host_tls_set(args.key, args.counter.cast_mut().cast()),
            0
        );
        let early = (*args.counter).load(Ordering::SeqCst);
        args.seen_early.store(early, Ordering::SeqCst);
    }
}

#[test]
fn destructor_runs_at_exit_of_host_threads() {
    let counter = AtomicUsize::new(0);
    // SAFETY: the key is freed and `args` dropped after the join.
    unsafe {
        let key = lkl_host_tls_alloc(Some(count_destruction));
        let args = HostThreadArgs {
            key,
            counter: &counter,
            seen_early: AtomicUsize::new(usize::MAX),
        };
        let arg = ptr::from_ref(&args).cast_mut().cast::<c_void>();
        let thread = lkl_host_thread_create(Some(store_counter), arg);
        assert_ne!(thread, 0);
        assert_eq!(lkl_host_thread_join(thread), 0);
        assert_eq!(args.seen_early.load(Ordering::SeqCst), 0);
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        lkl_host_tls_free(key);
    }
}

#[test]
fn many_keys_coexist() {
    let counters: Arc<Vec<AtomicUsize>> = Arc::new((0..8).map(|_| AtomicUsize::new(0)).collect());
    // SAFETY: keys are freed after the thread is joined; counters outlive it.
    unsafe {
        let keys: Vec<Shared<LklHostTls>> = (0..8)
            .map(|_| Shared(lkl_host_tls_alloc(Some(count_destruction))))
            .collect();
        let (thread_keys, thread_counters) = (keys.clone(), counters.clone());
        // A joined std thread, not a scoped one: only a real join waits for
        // the thread's exit, where the destructors run.
        thread::spawn(move || {
            for (key, counter) in thread_keys.iter().zip(thread_counters.iter()) {
                assert_eq!(lkl_host_tls_set(key.0, as_value(counter)), 0);
            }
            for (key, counter) in thread_keys.iter().zip(thread_counters.iter()) {
                assert_eq!(lkl_host_tls_get(key.0), as_value(counter));
            }
        })
        .join()
        .unwrap();
        for counter in counters.iter() {
            assert_eq!(counter.load(Ordering::SeqCst), 1);
        }
        for key in keys {
            lkl_host_tls_free(key.0);
        }
    }
}
