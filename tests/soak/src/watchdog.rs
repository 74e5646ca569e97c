// SPDX-License-Identifier: GPL-2.0
//! The watchdog: a soak must end, also when the kernel hangs.
//!
//! A host thread that never enters the kernel watches the progress
//! counter. If no kernel call returns for the limit, outside a declared
//! idle pause, it prints the phase and where each thread is, and ends the
//! process with exit code 3.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::report::{self, PROGRESS};

/// Host time (ms since the start) until which silence is expected: the
/// idle pauses, in which no thread calls the kernel.
static QUIET_UNTIL_MS: AtomicU64 = AtomicU64::new(0);

/// Exit code of a run the watchdog ended.
pub const STUCK_EXIT: i32 = 3;

/// Declares that no kernel call will return for `pause` from now.
pub fn expect_quiet(pause: Duration) {
    let until = report::elapsed() + pause;
    QUIET_UNTIL_MS.store(until.as_millis() as u64, Ordering::SeqCst);
}

/// Ends a declared pause.
pub fn quiet_over() {
    QUIET_UNTIL_MS.store(0, Ordering::SeqCst);
}

pub fn start(limit: Duration) {
    std::thread::Builder::new()
        .name("soak-watchdog".into())
        .spawn(move || watch(limit))
        .expect("spawn the watchdog thread");
}

fn watch(limit: Duration) {
    let mut last = PROGRESS.load(Ordering::Relaxed);
    let mut last_change = report::elapsed();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = report::elapsed();
        let progress = PROGRESS.load(Ordering::Relaxed);
        let quiet_until = Duration::from_millis(QUIET_UNTIL_MS.load(Ordering::SeqCst));
        if progress != last || now < quiet_until {
            last = progress;
            last_change = now;
            continue;
        }
        if now - last_change >= limit {
            report::end_run(
                STUCK_EXIT,
                &format!(
                    "STUCK: no kernel call returned for {} s (watchdog limit)",
                    (now - last_change).as_secs()
                ),
                &[format!(
                    "{} calls had returned; the last at {:.1} s",
                    progress,
                    last_change.as_secs_f64()
                )],
            );
        }
    }
}
