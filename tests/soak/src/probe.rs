// SPDX-License-Identifier: GPL-2.0
//! What the soak asks the kernel about itself: its clocks against the
//! host's, and its tasks, from /proc.

use std::ffi::c_long;
use std::time::{Duration, Instant};

use lkl::fs::{raw, Mode, MountFlags, OFlags};
use lkl::lkl_sys::{nr, uapi};
use lkl::Errno;

use crate::report::{self, check, counted, must, ok, Sys};

pub const CLOCK_REALTIME: c_long = 0;
pub const CLOCK_MONOTONIC: c_long = 1;
/// USER_HZ: the unit of times()'s result.
const USER_HZ: f64 = 100.0;
/// How far the kernel's time may fall behind the host's.
pub const MAX_LAG: Duration = Duration::from_secs(3);

/// A raw system call, for those the safe API lacks; the caller counts it.
///
/// # Safety
///
/// The arguments must be what the system call expects; pointers must be
/// valid for what the kernel reads or writes through them.
pub unsafe fn raw_call(no: c_long, args: &[c_long]) -> lkl::Result<i64> {
    // SAFETY: the caller's promise.
    unsafe { lkl::syscall(no, args) }
}

/// `clock_gettime(clock)` of the kernel.
pub fn kernel_clock(clock: c_long) -> Duration {
    let mut ts = uapi::__kernel_timespec::default();
    // SAFETY: clock_gettime writes one __kernel_timespec, which `ts` is.
    let ret = unsafe {
        raw_call(
            nr::clock_gettime,
            &[clock, core::ptr::addr_of_mut!(ts) as c_long],
        )
    };
    ok(Sys::ClockGettime, "clock_gettime", ret);
    check(
        ts.tv_sec >= 0 && (0..1_000_000_000).contains(&ts.tv_nsec),
        || {
            format!(
                "clock_gettime({clock}) gave {}.{:09}",
                ts.tv_sec, ts.tv_nsec
            )
        },
    );
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The kernel's jiffies, as times() reports them (in USER_HZ ticks). The
/// raw value: jiffies start 5 minutes before wrapping, so for a while
/// after boot the result looks like an error number, which it is not.
fn kernel_ticks() -> u64 {
    let mut params = [0 as c_long; 6];
    // SAFETY: times with a NULL buffer writes nothing.
    let ret = unsafe { lkl::lkl_sys::lkl_syscall(nr::times, params.as_mut_ptr()) };
    let _ = counted(Sys::Times, Ok(()));
    ret as u64
}

/// The kernel's clocks at one host instant, to measure later ones from.
pub struct TimeBase {
    host: Instant,
    monotonic: Duration,
    ticks: u64,
}

/// Kernel time against host time since the base.
pub struct TimeCheck {
    pub host: Duration,
    pub monotonic: Duration,
    pub jiffies: Duration,
}

impl TimeCheck {
    /// How far the kernel's monotonic clock is behind the host's.
    pub fn clock_lag(&self) -> f64 {
        self.host.as_secs_f64() - self.monotonic.as_secs_f64()
    }

    /// How far jiffies are behind the host's clock.
    pub fn jiffies_lag(&self) -> f64 {
        self.host.as_secs_f64() - self.jiffies.as_secs_f64()
    }
}

impl TimeBase {
    pub fn now() -> TimeBase {
        let host = Instant::now();
        TimeBase {
            monotonic: kernel_clock(CLOCK_MONOTONIC),
            ticks: kernel_ticks(),
            host,
        }
    }

    /// Checks that kernel time kept up with host time since the base: the
    /// monotonic clock and jiffies, and that a kernel timer fires on time.
    pub fn check(&self, when: &str) -> TimeCheck {
        let monotonic = kernel_clock(CLOCK_MONOTONIC);
        let ticks = kernel_ticks();
        // Read last: the kernel's readings must not be ahead of it.
        let host = self.host.elapsed();
        let monotonic = monotonic.checked_sub(self.monotonic).unwrap_or_else(|| {
            report::fail(format!(
                "{when}: the kernel's monotonic clock went back from {:?} to {monotonic:?}",
                self.monotonic
            ))
        });
        let tick_delta = ticks.wrapping_sub(self.ticks);
        check(tick_delta < 1 << 40, || {
            format!("{when}: jiffies went back ({} to {ticks})", self.ticks)
        });
        let jiffies = Duration::from_secs_f64(tick_delta as f64 / USER_HZ);
        let result = TimeCheck {
            host,
            monotonic,
            jiffies,
        };
        let max = MAX_LAG.as_secs_f64();
        check(result.clock_lag().abs() <= max, || {
            format!(
                "{when}: kernel CLOCK_MONOTONIC moved {:.3} s while the host's moved {:.3} s",
                monotonic.as_secs_f64(),
                host.as_secs_f64()
            )
        });
        check(result.jiffies_lag().abs() <= max, || {
            format!(
                "{when}: kernel jiffies moved {:.3} s while the host's clock moved {:.3} s",
                jiffies.as_secs_f64(),
                host.as_secs_f64()
            )
        });
        check_timer_fires(when);
        result
    }
}

/// A kernel nanosleep ends on time: the timer interrupt gets through.
pub fn check_timer_fires(when: &str) {
    let want = Duration::from_millis(20);
    let start = Instant::now();
    ok(Sys::Nanosleep, when, lkl::process::nanosleep(want));
    let took = start.elapsed();
    check(took >= want && took < MAX_LAG, || {
        format!("{when}: a kernel nanosleep of {want:?} took {took:?}")
    });
}

// ---- /proc ----

pub const PROC: &str = "/proc";

/// Mounts proc at /proc; false if this kernel cannot.
pub fn mount_proc() -> bool {
    match counted(
        Sys::Mkdir,
        raw::mkdir(PROC, Mode::from_bits_truncate(0o555)),
    ) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(errno) => report::fail(format!("mkdir /proc: {errno:?}")),
    }
    let mounted = counted(
        Sys::Mount,
        raw::mount("proc", PROC, "proc", MountFlags::empty(), None),
    );
    match mounted {
        Ok(()) => true,
        Err(errno) => {
            println!("note: proc does not mount ({errno:?}); the /proc checks are skipped");
            false
        }
    }
}

/// The whole content of a small file, or the error of open or read.
pub fn read_text(dir: Option<&lkl::Fd>, path: &str) -> lkl::Result<String> {
    let file = match dir {
        Some(dir) => counted(
            Sys::Openat,
            raw::openat(dir, path, OFlags::RDONLY, Mode::empty()),
        )?,
        None => counted(Sys::Openat, raw::open(path, OFlags::RDONLY, Mode::empty()))?,
    };
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = counted(Sys::Read, raw::read(&file, &mut buf))?;
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
    }
    ok(Sys::Close, format_args!("close {path}"), file.close());
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Every name of an open directory, `.` and `..` included, read with
/// getdents64.
fn names_of(dir: &lkl::Fd) -> lkl::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = counted(Sys::Getdents64, raw::getdents64(dir, &mut buf))?;
        if n == 0 {
            return Ok(names);
        }
        for entry in raw::Dirents::new(&buf[..n]) {
            names.push(String::from_utf8_lossy(entry?.name().to_bytes()).into_owned());
        }
    }
}

/// Every name of directory `path`, `.` and `..` included.
pub fn dir_names(path: &str) -> lkl::Result<Vec<String>> {
    let dir = counted(
        Sys::Openat,
        raw::open(path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()),
    )?;
    let names = names_of(&dir)?;
    counted(Sys::Close, dir.close())?;
    Ok(names)
}

/// Names of a directory, `.` and `..` left out.
fn list_dir(path: &str) -> Vec<String> {
    let dir = ok(
        Sys::Openat,
        format_args!("open {path}"),
        raw::open(path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()),
    );
    let names = ok(
        Sys::Getdents64,
        format_args!("getdents64 {path}"),
        names_of(&dir),
    )
    .into_iter()
    .filter(|n| n != "." && n != "..")
    .collect();
    ok(Sys::Close, format_args!("close {path}"), dir.close());
    names
}

/// The command names of the tasks in a /proc directory (processes, or
/// one process's threads). A task that exits while it is read is skipped.
fn task_names(dir: &str) -> Vec<String> {
    list_dir(dir)
        .into_iter()
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|pid| match read_text(None, &format!("{dir}/{pid}/comm")) {
            Ok(comm) => Some(comm.trim_end().to_string()),
            Err(Errno::NOENT | Errno::SRCH) => None,
            Err(errno) => report::fail(format!("read {dir}/{pid}/comm: {errno:?}")),
        })
        .collect()
}

/// The kernel's tasks, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tasks {
    /// Kernel processes: workqueue workers.
    pub kworkers: usize,
    /// Their names without `kworker/`, sorted: `0:1`, `u2:0`, and `R-...`
    /// for the rescuers, which the idle timeout never culls.
    pub kworker_names: Vec<String>,
    /// All processes (pid 1, kthreadd, kernel threads).
    pub processes: usize,
    /// Threads of pid 1: one per host thread that called in and has not
    /// ended, and io_uring's threads.
    pub pid1_threads: usize,
    /// io_uring's io-wq workers (threads of pid 1).
    pub io_workers: usize,
    /// io_uring's SQPOLL threads (threads of pid 1).
    pub sq_threads: usize,
}

impl Tasks {
    /// The kworkers' names, for a progress line.
    pub fn kworker_list(&self) -> String {
        self.kworker_names.join(" ")
    }
}

pub fn tasks() -> Tasks {
    let processes = task_names(PROC);
    let threads = task_names("/proc/1/task");
    let mut kworker_names: Vec<String> = processes
        .iter()
        .filter_map(|c| c.strip_prefix("kworker/"))
        .map(str::to_string)
        .collect();
    kworker_names.sort();
    Tasks {
        kworkers: kworker_names.len(),
        kworker_names,
        processes: processes.len(),
        pid1_threads: threads.len(),
        io_workers: threads.iter().filter(|c| c.starts_with("iou-wrk")).count(),
        sq_threads: threads.iter().filter(|c| c.starts_with("iou-sqp")).count(),
    }
}

/// MemFree of /proc/meminfo, in KiB.
pub fn mem_free_kib() -> u64 {
    let text = must("read /proc/meminfo", read_text(None, "/proc/meminfo"));
    text.lines()
        .find_map(|l| l.strip_prefix("MemFree:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| report::fail(format!("no MemFree in /proc/meminfo: {text:?}")))
}

/// The first field of /proc/uptime, in seconds.
pub fn uptime(dir: Option<&lkl::Fd>, path: &str) -> f64 {
    let text = must(format_args!("read {path}"), read_text(dir, path));
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| report::fail(format!("{path}: {text:?}")))
}
