// SPDX-License-Identifier: GPL-2.0
//! The kernel's timer (`os_timer_*`) and its retry of kicks, against a
//! stand-in for the kernel's interrupt entry points. One test function:
//! the timer and the entry points are process-wide.

use lkl_host::{
    lkl_host_irq_ops_set, lkl_host_timer_stop, os_nsecs, os_timer_create, os_timer_disable,
    os_timer_one_shot, os_timer_set_interval, IrqOps,
};
use std::fs;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

const MS: u64 = 1_000_000;

static EXPIRIES: Mutex<Vec<i64>> = Mutex::new(Vec::new());
static KICKS: AtomicU64 = AtomicU64::new(0);
/// How many more kicks report interrupts still pending.
static PENDING_FOR: AtomicI64 = AtomicI64::new(0);

unsafe extern "C" fn timer_expired() {
    EXPIRIES.lock().unwrap().push(os_nsecs());
}

unsafe extern "C" fn kick() -> i32 {
    KICKS.fetch_add(1, Ordering::SeqCst);
    i32::from(PENDING_FOR.fetch_sub(1, Ordering::SeqCst) > 1)
}

static OPS: IrqOps = IrqOps {
    timer_expired: Some(timer_expired),
    kick: Some(kick),
    kicked: None,
};

fn expiries() -> Vec<i64> {
    EXPIRIES.lock().unwrap().clone()
}

fn timer_threads() -> usize {
    fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| fs::read_to_string(t.unwrap().path().join("comm")).ok())
        .filter(|name| name.trim_end() == "lkl-timer")
        .count()
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn the_kernel_timer() {
    // SAFETY: OPS is a static, valid for the life of the process.
    unsafe { lkl_host_irq_ops_set(&OPS) };
    assert_eq!(os_timer_create(), 0);
    assert_eq!(os_timer_create(), 0, "a second create changes nothing");
    // The thread names itself once it runs.
    wait_until("the timer thread", || timer_threads() == 1);

    // One shot: once, never early.
    let armed = os_nsecs();
    assert_eq!(os_timer_one_shot(20 * MS), 0);
    wait_until("the one-shot expiry", || !expiries().is_empty());
    let fired = expiries()[0];
    assert!(
        fired - armed >= (20 * MS) as i64,
        "fired {} ns after arming",
        fired - armed
    );
    thread::sleep(Duration::from_millis(50));
    assert_eq!(expiries().len(), 1, "a one-shot timer fired twice");

    // A later arming replaces the earlier one.
    EXPIRIES.lock().unwrap().clear();
    assert_eq!(os_timer_one_shot(10_000 * MS), 0);
    let armed = os_nsecs();
    assert_eq!(os_timer_one_shot(5 * MS), 0);
    wait_until("the replacing expiry", || !expiries().is_empty());
    assert!(expiries()[0] - armed < (5_000 * MS) as i64);

    // Periodic, until disabled.
    EXPIRIES.lock().unwrap().clear();
    assert_eq!(os_timer_set_interval(0), -libc::EINVAL);
    let armed = os_nsecs();
    assert_eq!(os_timer_set_interval(5 * MS), 0);
    wait_until("five periodic expiries", || expiries().len() >= 5);
    os_timer_disable();
    let after_disable = expiries().len();
    thread::sleep(Duration::from_millis(50));
    assert!(
        expiries().len() <= after_disable + 1,
        "the timer kept firing after os_timer_disable"
    );
    // On a fixed schedule: the n-th expiry never before n periods.
    let times = expiries();
    for (n, at) in times.iter().take(5).enumerate() {
        let due = armed + ((n as u64 + 1) * 5 * MS) as i64;
        assert!(*at >= due, "expiry {n} early: {times:?}, armed at {armed}");
    }

    // After an expiry, kicks repeat while interrupts stay pending, and
    // stop when they ran.
    PENDING_FOR.store(10, Ordering::SeqCst);
    let kicks_before = KICKS.load(Ordering::SeqCst);
    assert_eq!(os_timer_one_shot(MS), 0);
    wait_until("ten kicks", || {
        KICKS.load(Ordering::SeqCst) >= kicks_before + 10
    });
    thread::sleep(Duration::from_millis(50));
    let kicks = KICKS.load(Ordering::SeqCst) - kicks_before;
    assert!(
        kicks <= 11,
        "kicks went on after the interrupts ran: {kicks}"
    );

    // Stop ends the thread; a new create starts one again.
    lkl_host_timer_stop();
    wait_until("the timer thread to go", || timer_threads() == 0);
    EXPIRIES.lock().unwrap().clear();
    assert_eq!(os_timer_one_shot(MS), 0);
    thread::sleep(Duration::from_millis(20));
    assert!(expiries().is_empty(), "a stopped timer fired");
    assert_eq!(os_timer_create(), 0);
    wait_until("a new timer thread", || timer_threads() == 1);
    assert_eq!(os_timer_one_shot(MS), 0);
    wait_until("an expiry after restart", || !expiries().is_empty());
    lkl_host_timer_stop();
}
