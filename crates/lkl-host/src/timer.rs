// SPDX-License-Identifier: GPL-2.0
//! The timer of `arch/um/kernel/time.c`: `os_timer_create`,
//! `os_timer_set_interval`, `os_timer_one_shot` and `os_timer_disable`, as
//! declared in UML's `os.h`, plus `lkl_host_timer_stop` for halt.
//!
//! Standard UML arms a POSIX timer that sends SIGALRM to its one thread. A
//! library leaves SIGALRM to the program, so here a service thread,
//! `lkl-timer`, sleeps on a futex until the deadline and then calls the
//! kernel's `timer_expired` entry point (see [`crate::irq`]), which raises
//! the timer interrupt.
//!
//! The kernel arms the timer from its interrupt handlers, and those may run
//! inside the kick signal's handler. So arming, re-arming and disarming are
//! atomic stores and a futex wake: no lock, no allocation, async-signal-safe.
//!
//! After an expiry, and whenever the kick handler reports that interrupts
//! had to wait, the service thread calls the kernel's `kick` entry point
//! every millisecond for as long as interrupts stay pending.

use core::ffi::{c_int, c_ulonglong};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::futex;
use crate::guard::guard;
use crate::irq;
use crate::time::monotonic_ns;

/// `DEADLINE` of a timer that is not armed.
const DISARMED: u64 = u64::MAX;
/// How often the service thread kicks again while interrupts wait.
const RETRY_PERIOD: Duration = Duration::from_millis(1);

/// The expiry, in `CLOCK_MONOTONIC` nanoseconds, or [`DISARMED`].
static DEADLINE: AtomicU64 = AtomicU64::new(DISARMED);
/// The period of a periodic timer; 0 for a one-shot timer.
static INTERVAL: AtomicU64 = AtomicU64::new(0);
/// The futex word of the service thread: bumped by every change it must see.
static CHANGES: AtomicU32 = AtomicU32::new(0);
/// Interrupts may be waiting for a kick: the service thread retries.
static RETRY: AtomicBool = AtomicBool::new(false);
/// The service thread must end.
static STOP: AtomicBool = AtomicBool::new(false);
/// The running service thread. Only create and stop take this lock, never
/// the async-signal-safe functions.
static SERVICE: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

fn wake_service() {
    CHANGES.fetch_add(1, Ordering::SeqCst);
    futex::wake(&CHANGES, 1);
}

fn arm(deadline: u64, interval: u64) {
    // The interval first: an expiry in between at worst fires once more.
    INTERVAL.store(interval, Ordering::SeqCst);
    DEADLINE.store(deadline, Ordering::SeqCst);
    wake_service();
}

/// Asks the service thread to kick the CPU owner until pending interrupts
/// ran. Async-signal-safe.
pub(crate) fn request_retry() {
    RETRY.store(true, Ordering::SeqCst);
    wake_service();
}

/// The next deadline of a timer that expired at `deadline`, seen at `now`.
fn next_deadline(deadline: u64, interval: u64, now: u64) -> u64 {
    if interval == 0 {
        return DISARMED;
    }
    match deadline.checked_add(interval) {
        // A periodic timer that fell behind skips the lost periods, as a
        // POSIX timer counts them as overruns instead of firing for each.
        Some(next) if next > now => next,
        _ => now.saturating_add(interval),
    }
}

fn service_thread() {
    loop {
        let seen = CHANGES.load(Ordering::SeqCst);
        if STOP.load(Ordering::SeqCst) {
            return;
        }
        let now = monotonic_ns();
        let deadline = DEADLINE.load(Ordering::SeqCst);
        if deadline <= now {
            let next = next_deadline(deadline, INTERVAL.load(Ordering::SeqCst), now);
            // Lost to a concurrent re-arm: look at the new deadline.
            if DEADLINE
                .compare_exchange(deadline, next, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                irq::timer_expired();
                RETRY.store(true, Ordering::SeqCst);
            }
            continue;
        }
        let mut timeout = (deadline != DISARMED).then(|| Duration::from_nanos(deadline - now));
        if RETRY.swap(false, Ordering::SeqCst) && irq::kick() {
            RETRY.store(true, Ordering::SeqCst);
            timeout = Some(timeout.map_or(RETRY_PERIOD, |t| t.min(RETRY_PERIOD)));
        }
        futex::wait_timeout(&CHANGES, seen, timeout);
    }
}

/// `os_timer_create()`: starts the service thread, disarmed. Returns 0, or
/// `-EAGAIN` if the thread cannot be started. Creating it again while it
/// runs changes nothing.
#[no_mangle]
pub extern "C" fn os_timer_create() -> c_int {
    guard("timer_create", || {
        let mut service = SERVICE.lock().unwrap_or_else(PoisonError::into_inner);
        if service.is_some() {
            return 0;
        }
        STOP.store(false, Ordering::SeqCst);
        DEADLINE.store(DISARMED, Ordering::SeqCst);
        INTERVAL.store(0, Ordering::SeqCst);
        RETRY.store(false, Ordering::SeqCst);
        let spawned = irq::with_signals_blocked(|| {
            std::thread::Builder::new()
                .name("lkl-timer".into())
                .spawn(|| {
                    irq::block_program_signals();
                    service_thread();
                })
        });
        match spawned {
            Ok(handle) => {
                *service = Some(handle);
                0
            }
            Err(_) => -libc::EAGAIN,
        }
    })
}

/// `os_timer_one_shot(nsecs)`: expire once, `nsecs` from now, replacing any
/// earlier setting. Async-signal-safe. Returns 0.
#[no_mangle]
pub extern "C" fn os_timer_one_shot(nsecs: c_ulonglong) -> c_int {
    arm(monotonic_ns().saturating_add(nsecs).min(DISARMED - 1), 0);
    0
}

/// `os_timer_set_interval(nsecs)`: expire every `nsecs`, the first time
/// `nsecs` from now. Async-signal-safe. Returns 0, or `-EINVAL` for 0.
#[no_mangle]
pub extern "C" fn os_timer_set_interval(nsecs: c_ulonglong) -> c_int {
    if nsecs == 0 {
        return -libc::EINVAL;
    }
    arm(
        monotonic_ns().saturating_add(nsecs).min(DISARMED - 1),
        nsecs,
    );
    0
}

/// `os_timer_disable()`: cancel any expiry. Async-signal-safe.
#[no_mangle]
pub extern "C" fn os_timer_disable() {
    arm(DISARMED, 0);
}

/// Ends and joins the service thread, disarming the timer; the kernel
/// calls this at halt, after it stopped taking interrupts. A later
/// [`os_timer_create`] starts a new one.
#[no_mangle]
pub extern "C" fn lkl_host_timer_stop() {
    guard("timer_stop", || {
        let mut service = SERVICE.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(handle) = service.take() else {
            return;
        };
        STOP.store(true, Ordering::SeqCst);
        DEADLINE.store(DISARMED, Ordering::SeqCst);
        wake_service();
        if handle.thread().id() != std::thread::current().id() {
            let _ = handle.join();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_deadlines_skip_lost_periods() {
        assert_eq!(next_deadline(100, 0, 150), DISARMED);
        assert_eq!(next_deadline(100, 10, 105), 110);
        assert_eq!(next_deadline(100, 10, 135), 145);
        assert_eq!(next_deadline(u64::MAX - 5, 10, 200), 210);
    }
}
