// SPDX-License-Identifier: GPL-2.0
//! What the soak counts, where each thread is, and how it fails.
//!
//! Every kernel call the soak makes goes through [`ok`] or [`counted`],
//! which count it by kind and move the progress counter the watchdog
//! watches. Any unexpected result ends the whole run at once through
//! [`fail`], with the thread, its step, the phase and the kernel console's
//! last lines.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

macro_rules! syscall_kinds {
    ($($kind:ident = $name:literal,)*) => {
        /// The kernel calls the soak makes, for the per-kind counts.
        #[derive(Clone, Copy, Debug)]
        pub enum Sys {
            $($kind,)*
        }

        impl Sys {
            pub const ALL: &'static [Sys] = &[$(Sys::$kind,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Sys::$kind => $name,)*
                }
            }
        }
    };
}

syscall_kinds! {
    Getpid = "getpid",
    Gettid = "gettid",
    Exit = "exit",
    Pipe2 = "pipe2",
    Read = "read",
    Write = "write",
    Openat = "openat",
    Close = "close",
    Fsync = "fsync",
    Lseek = "lseek",
    Fstat = "fstat",
    Stat = "stat",
    Unlink = "unlink",
    Mkdir = "mkdir",
    Mount = "mount",
    Umount2 = "umount2",
    Uname = "uname",
    Getdents64 = "getdents64",
    Nanosleep = "nanosleep",
    Futex = "futex",
    EpollCreate1 = "epoll_create1",
    EpollCtl = "epoll_ctl",
    EpollWait = "epoll_wait",
    Eventfd2 = "eventfd2",
    ClockGettime = "clock_gettime",
    Times = "times",
    IoUringSetup = "io_uring_setup",
    IoUringEnter = "io_uring_enter",
    Mmap = "mmap",
    Munmap = "munmap",
}

const KINDS: usize = Sys::ALL.len();

static CALLS: [AtomicU64; KINDS] = [const { AtomicU64::new(0) }; KINDS];

/// Moves with every kernel call that returns; the watchdog's pulse.
pub static PROGRESS: AtomicU64 = AtomicU64::new(0);

/// Counts of what the run did, for the progress lines and the summary.
pub struct Totals {
    pub threads_started: AtomicU64,
    pub threads_ended: AtomicU64,
    /// Tasks a host thread ended with the exit system call, keeping its
    /// thread (the next call gets a new task).
    pub task_exits: AtomicU64,
    pub rings: [AtomicU64; 2],
    pub ring_ops: [AtomicU64; 2],
    pub ring_async_ops: [AtomicU64; 2],
    /// Times an SQPOLL thread had gone to sleep and was woken.
    pub sq_wakeups: AtomicU64,
    pub errors: AtomicU64,
}

pub static TOTALS: Totals = Totals {
    threads_started: AtomicU64::new(0),
    threads_ended: AtomicU64::new(0),
    task_exits: AtomicU64::new(0),
    rings: [AtomicU64::new(0), AtomicU64::new(0)],
    ring_ops: [AtomicU64::new(0), AtomicU64::new(0)],
    ring_async_ops: [AtomicU64::new(0), AtomicU64::new(0)],
    sq_wakeups: AtomicU64::new(0),
    errors: AtomicU64::new(0),
};

/// Index into the `ring*` totals: without and with SQPOLL.
pub fn ring_index(sqpoll: bool) -> usize {
    usize::from(sqpoll)
}

pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Calls made so far, per kind.
pub fn calls_by_kind() -> Vec<(&'static str, u64)> {
    Sys::ALL
        .iter()
        .map(|&k| (k.name(), CALLS[k as usize].load(Ordering::Relaxed)))
        .collect()
}

pub fn total_calls() -> u64 {
    CALLS.iter().map(|c| c.load(Ordering::Relaxed)).sum()
}

/// Counts a call that returned, whatever it returned.
pub fn counted<T>(kind: Sys, result: lkl::Result<T>) -> lkl::Result<T> {
    CALLS[kind as usize].fetch_add(1, Ordering::Relaxed);
    PROGRESS.fetch_add(1, Ordering::Relaxed);
    result
}

/// Counts a call that must succeed, and ends the run if it did not.
pub fn ok<T>(kind: Sys, what: impl Display, result: lkl::Result<T>) -> T {
    match counted(kind, result) {
        Ok(value) => value,
        Err(errno) => fail(format!("{what}: {} failed: {errno:?}", kind.name())),
    }
}

/// Checks the result of calls counted already (a helper that makes
/// several), and ends the run if it is an error.
pub fn must<T>(what: impl Display, result: lkl::Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(errno) => fail(format!("{what}: {errno:?}")),
    }
}

/// Counts a call that must fail with `want`.
pub fn expect_errno<T: std::fmt::Debug>(
    kind: Sys,
    what: impl Display,
    result: lkl::Result<T>,
    want: lkl::Errno,
) {
    match counted(kind, result) {
        Err(errno) if errno == want => {}
        other => fail(format!(
            "{what}: {} returned {other:?}, not {want:?}",
            kind.name()
        )),
    }
}

/// Ends the run unless `cond` holds.
pub fn check(cond: bool, why: impl FnOnce() -> String) {
    if !cond {
        fail(why());
    }
}

// ---- time, phase, threads ----

static START: OnceLock<Instant> = OnceLock::new();

/// Host time since the soak started.
pub fn elapsed() -> Duration {
    START.get_or_init(Instant::now).elapsed()
}

static PHASE: Mutex<String> = Mutex::new(String::new());

pub fn set_phase(phase: impl Into<String>) {
    *PHASE.lock().unwrap_or_else(PoisonError::into_inner) = phase.into();
}

/// The phase, unless someone holds it (the watchdog must not block).
pub fn phase_now() -> String {
    match PHASE.try_lock() {
        Ok(phase) => phase.clone(),
        Err(_) => "(phase being updated)".into(),
    }
}

/// A thread of the soak and the step it is at, for the watchdog's report.
pub struct Activity {
    label: String,
    step: Mutex<(&'static str, Duration)>,
}

static ACTIVITIES: Mutex<Vec<Weak<Activity>>> = Mutex::new(Vec::new());

thread_local! {
    static CURRENT: RefCell<Option<Arc<Activity>>> = const { RefCell::new(None) };
}

/// Names the calling thread for reports; it stays listed until the thread
/// ends (or calls this again).
pub fn enter_activity(label: String) {
    let activity = Arc::new(Activity {
        label,
        step: Mutex::new(("start", elapsed())),
    });
    let mut all = ACTIVITIES.lock().unwrap_or_else(PoisonError::into_inner);
    all.retain(|a| a.strong_count() > 0);
    all.push(Arc::downgrade(&activity));
    drop(all);
    CURRENT.with(|c| *c.borrow_mut() = Some(activity));
}

/// Records what the calling thread is about to do.
pub fn step(what: &'static str) {
    CURRENT.with(|c| {
        if let Some(activity) = c.borrow().as_ref() {
            *activity.step.lock().unwrap_or_else(PoisonError::into_inner) = (what, elapsed());
        }
    });
}

fn current_label() -> String {
    CURRENT
        .try_with(|c| {
            c.try_borrow().ok().and_then(|a| {
                a.as_ref().map(|a| {
                    let step = a.step.try_lock().map(|s| s.0).unwrap_or("?");
                    format!("{} at '{step}'", a.label)
                })
            })
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| "an unnamed thread".into())
}

/// Every listed thread still running and its step; never blocks.
pub fn activities_now() -> Vec<String> {
    let Ok(all) = ACTIVITIES.try_lock() else {
        return vec!["(thread list being updated)".into()];
    };
    all.iter()
        .filter_map(Weak::upgrade)
        .map(|a| match a.step.try_lock() {
            Ok(step) => format!(
                "{} at '{}' since {:.1} s",
                a.label,
                step.0,
                step.1.as_secs_f64()
            ),
            Err(_) => format!("{} (step being updated)", a.label),
        })
        .collect()
}

// ---- the kernel console ----

/// The kernel console, kept for failure reports and scanned for warnings.
struct ConsoleLog {
    partial: Vec<u8>,
    tail: VecDeque<String>,
    alarms: Vec<String>,
    /// Once the boot is over, every line is kept (the kernel prints little
    /// then, and what it prints explains the alarms).
    booted: bool,
    after_boot: Vec<String>,
    after_boot_dropped: usize,
    echo: bool,
}

static CONSOLE: Mutex<ConsoleLog> = Mutex::new(ConsoleLog {
    partial: Vec::new(),
    tail: VecDeque::new(),
    alarms: Vec::new(),
    booted: false,
    after_boot: Vec::new(),
    after_boot_dropped: 0,
    echo: false,
});

const CONSOLE_TAIL_LINES: usize = 40;
const MAX_ALARMS: usize = 200;
const MAX_AFTER_BOOT_LINES: usize = 1000;

/// What in a console line means the kernel saw something go wrong.
const ALARMS: &[&str] = &[
    "BUG:",
    "WARNING:",
    "Oops",
    "Kernel panic",
    "Call Trace",
    "INFO: task",
    "blocked for more than",
    "rcu: INFO",
    "self-detected stall",
    "soft lockup",
    "hard LOCKUP",
    "refcount_t:",
    "Out of memory",
    "page allocation failure",
    "list_add corruption",
    "list_del corruption",
];

/// Takes the kernel console; with `echo` it also goes to stderr.
pub fn capture_console(echo: bool) {
    CONSOLE.lock().unwrap_or_else(PoisonError::into_inner).echo = echo;
    lkl::lkl_sys::lkl_host::set_console_sink(Some(Box::new(|bytes: &[u8]| {
        let mut log = CONSOLE.lock().unwrap_or_else(PoisonError::into_inner);
        if log.echo {
            let _ = std::io::stderr().write_all(bytes);
        }
        log.partial.extend_from_slice(bytes);
        while let Some(end) = log.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = log.partial.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            if ALARMS.iter().any(|a| line.contains(a)) && log.alarms.len() < MAX_ALARMS {
                log.alarms.push(line.clone());
            }
            if log.booted {
                if log.after_boot.len() < MAX_AFTER_BOOT_LINES {
                    log.after_boot.push(line.clone());
                } else {
                    log.after_boot_dropped += 1;
                }
            }
            if log.tail.len() == CONSOLE_TAIL_LINES {
                log.tail.pop_front();
            }
            log.tail.push_back(line);
        }
    })));
}

/// From now on every console line is kept for the summary.
pub fn console_booted() {
    CONSOLE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .booted = true;
}

/// The console lines since the boot, and how many more were dropped.
pub fn console_after_boot() -> (Vec<String>, usize) {
    let log = CONSOLE.lock().unwrap_or_else(PoisonError::into_inner);
    (log.after_boot.clone(), log.after_boot_dropped)
}

/// Console lines that report a kernel problem.
pub fn console_alarms() -> Vec<String> {
    CONSOLE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .alarms
        .clone()
}

/// The console's last lines; never blocks (the kernel may be printing).
fn console_tail() -> Vec<String> {
    match CONSOLE.try_lock() {
        Ok(log) => log.tail.iter().cloned().collect(),
        Err(_) => vec!["(console busy)".into()],
    }
}

// ---- the end of a run ----

static ENDING: AtomicBool = AtomicBool::new(false);

/// Prints the report and ends the process with `code`, without running
/// exit handlers or destructors: other threads may be inside a kernel that
/// is stuck, and nothing may wait for them. Of two threads failing at
/// once, the first reports; the second waits for the end.
pub fn end_run(code: i32, headline: &str, details: &[String]) -> ! {
    if ENDING.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "[{:7.1} s] soak: {headline}", elapsed().as_secs_f64());
    let _ = writeln!(out, "  phase: {}", phase_now());
    for line in details {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "  threads in the soak:");
    for line in activities_now() {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(out, "  kernel console, last lines:");
    for line in console_tail() {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(out, "soak: FAILED");
    let _ = out.flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; it has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Ends the run: an unexpected result.
pub fn fail(why: impl Display) -> ! {
    TOTALS.errors.fetch_add(1, Ordering::Relaxed);
    let thread = current_label();
    end_run(1, &format!("error in {thread}: {why}"), &[])
}
