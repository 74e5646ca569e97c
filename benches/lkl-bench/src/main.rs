// SPDX-License-Identifier: GPL-2.0
//! `make bench`: measures the library kernel against the goals, with
//! the host's own getpid measured in the same run as the baseline.
//!
//! One kernel per process: boot, measure, halt, print the table.

use std::ffi::c_long;
use std::time::{Duration, Instant};

const ITERATIONS: usize = 200_000;
const BOOT_GOAL: Duration = Duration::from_millis(20);
const GETPID_GOAL_NS: u128 = 200;
const RSS_GOAL_KIB: u64 = 48 * 1024;

fn lkl_getpid() -> c_long {
    let mut params = [0 as c_long; 6];
    // SAFETY: six valid arguments; getpid reads none of them.
    unsafe { lkl_sys::lkl_syscall(lkl_sys::nr::getpid, params.as_mut_ptr()) }
}

fn host_getpid() -> libc::pid_t {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

/// Median and 99th percentile of `samples` (nanoseconds).
fn median_p99(samples: &mut [u128]) -> (u128, u128) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn time_each<R>(f: impl Fn() -> R) -> Vec<u128> {
    (0..ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed().as_nanos()
        })
        .collect()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "meets"
    } else {
        "MISSES"
    }
}

fn main() {
    let start = Instant::now();
    // SAFETY: a NUL-terminated command line.
    let booted = unsafe { lkl_sys::lkl_start_kernel(c"%s".as_ptr(), c"mem=32M".as_ptr()) };
    assert_eq!(booted, 0, "lkl_start_kernel failed");
    assert_eq!(lkl_getpid(), 1);
    let boot = start.elapsed();
    let rss = rss_kib();

    // Warm both paths, then interleave nothing: each series runs alone.
    time_each(lkl_getpid);
    let (lkl_median, lkl_p99) = median_p99(&mut time_each(lkl_getpid));
    let (host_median, host_p99) = median_p99(&mut time_each(host_getpid));

    let mut reboot = [0xfee1_dead, 672_274_793, 0x4321_fedc, 0, 0, 0];
    let start = Instant::now();
    // SAFETY: reboot(POWER_OFF) arguments.
    let halted = unsafe { lkl_sys::lkl_halt(reboot.as_mut_ptr()) };
    let halt = start.elapsed();
    assert_eq!(halted, 0, "lkl_halt failed");

    println!("| measure | result | goal | |");
    println!("|---|---|---|---|");
    println!(
        "| boot to first syscall (mem=32M) | {:.1} ms | <= {} ms | {} |",
        boot.as_secs_f64() * 1e3,
        BOOT_GOAL.as_millis(),
        verdict(boot <= BOOT_GOAL)
    );
    println!("| halt | {:.1} ms | | |", halt.as_secs_f64() * 1e3);
    println!(
        "| getpid via lkl_syscall, median / p99 | {lkl_median} / {lkl_p99} ns | <= {GETPID_GOAL_NS} ns median | {} |",
        verdict(lkl_median <= GETPID_GOAL_NS)
    );
    println!("| host getpid() (baseline), median / p99 | {host_median} / {host_p99} ns | | |");
    println!(
        "| library / host getpid, median | {:.2}x | | |",
        lkl_median as f64 / host_median.max(1) as f64
    );
    println!(
        "| RSS after boot (mem=32M) | {:.1} MiB | <= {} MiB | {} |",
        rss as f64 / 1024.0,
        RSS_GOAL_KIB / 1024,
        verdict(rss <= RSS_GOAL_KIB)
    );
    println!("({ITERATIONS} calls per getpid series; times include Instant::now() overhead)");
}
