// SPDX-License-Identifier: GPL-2.0
//! Host threads: create, join, self, equal.

mod common;

use common::*;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;

/// What a created thread reports about itself.
#[derive(Default)]
struct Report {
    self_id: AtomicU64,
    runs: AtomicUsize,
}

unsafe extern "C" fn report_self(report: *mut c_void) {
    // SAFETY: the test passes a `Report` that outlives the thread.
    let report = unsafe { &*report.cast::<Report>() };
    // SAFETY: plain call of the host interface.
    let me = unsafe { lkl_host_thread_self() };
    report.self_id.store(me, Ordering::SeqCst);
    report.runs.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn created_thread_runs_once_and_knows_its_own_id() {
    let report = Report::default();
    let arg = std::ptr::from_ref(&report).cast_mut().cast::<c_void>();
    // SAFETY: `report` outlives the thread, which is joined below.
    unsafe {
        let thread = lkl_host_thread_create(Some(report_self), arg);
        assert_ne!(thread, 0);
        assert_eq!(lkl_host_thread_join(thread), 0);
        assert_eq!(report.runs.load(Ordering::SeqCst), 1);
        let seen = report.self_id.load(Ordering::SeqCst);
        assert_eq!(lkl_host_thread_equal(seen, thread), 1);
        assert_eq!(lkl_host_thread_equal(lkl_host_thread_self(), thread), 0);
    }
}

#[test]
fn many_threads_get_distinct_ids() {
    let reports: Vec<Report> = (0..16).map(|_| Report::default()).collect();
    // SAFETY: every thread is joined before `reports` is dropped.
    unsafe {
        let threads: Vec<_> = reports
            .iter()
            .map(|report| {
                let arg = std::ptr::from_ref(report).cast_mut().cast::<c_void>();
                let thread = lkl_host_thread_create(Some(report_self), arg);
                assert_ne!(thread, 0);
                thread
            })
            .collect();
        // All alive at once, so all ids differ.
        for (i, &a) in threads.iter().enumerate() {
            for &b in &threads[i + 1..] {
                assert_eq!(lkl_host_thread_equal(a, b), 0);
            }
        }
        for (report, &thread) in reports.iter().zip(&threads) {
            assert_eq!(lkl_host_thread_join(thread), 0);
            assert_eq!(report.runs.load(Ordering::SeqCst), 1);
            assert_eq!(
                lkl_host_thread_equal(report.self_id.load(Ordering::SeqCst), thread),
                1
            );
        }
    }
}

#[test]
fn self_works_on_threads_not_created_by_the_host() {
    // SAFETY: plain calls of the host interface.
    unsafe {
        let main = lkl_host_thread_self();
        assert_ne!(main, 0);
        assert_eq!(lkl_host_thread_equal(main, lkl_host_thread_self()), 1);
        let other = thread::spawn(|| {
            let me = lkl_host_thread_self();
            assert_eq!(lkl_host_thread_equal(me, lkl_host_thread_self()), 1);
            me
        })
        .join()
        .unwrap();
        assert_ne!(other, 0);
        assert_eq!(lkl_host_thread_equal(main, other), 0);
    }
}

#[test]
fn null_body_and_bad_join_fail() {
    // SAFETY: NULL body and handle 0 are refused without side effects.
    unsafe {
        assert_eq!(lkl_host_thread_create(None, std::ptr::null_mut()), 0);
        assert_eq!(lkl_host_thread_join(0), -libc::EINVAL);
        assert_eq!(lkl_host_thread_join(lkl_host_thread_self()), -libc::EDEADLK);
    }
}
