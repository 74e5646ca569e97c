// SPDX-License-Identifier: GPL-2.0
//! The library's core on the paths an ordinary boot test never takes: task
//! exits, interrupts during boot and on a busy CPU, boots at once, halt
//! under load.
//!
//! A process holds one kernel, ever, so each scenario runs in a child
//! process of its own: this binary again, with `LKL_CORE_SCENARIO` naming
//! the scenario. The parent runs every scenario under a time limit, checks
//! what the child did, and ends with `core: N passed, M failed`.
//!
//! With `LKL_CORE_VALGRIND=1` (`make test-valgrind`) every child runs under
//! valgrind's memcheck, and any error it reports in the host side (a freed
//! semaphore, TLS key or thread handle touched after halt, say) fails the
//! scenario. Time limits grow accordingly.

use lkl_sys::{lkl_halt, lkl_start_kernel, lkl_syscall, nr, uapi};
use lkl_test_support::uring::{
    Ring, Setup, Sqe, IORING_ENTER_GETEVENTS, IORING_ENTER_SQ_WAKEUP, IORING_OP_NOP,
    IORING_SETUP_SQPOLL, IOSQE_ASYNC,
};
use std::ffi::{c_long, CStr};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const SCENARIO_VAR: &str = "LKL_CORE_SCENARIO";
/// Set: the scenario runs with kicks turned off.
const NO_KICK_VAR: &str = "LKL_CORE_NO_KICK";
const EPERM: c_long = 1;
const EINTR: c_long = 4;
const EBUSY: i32 = 16;
const ENODEV: c_long = 19;
const ENOEXEC: c_long = 8;
const EFAULT: c_long = 14;
const EDEADLK: c_long = 35;
const EINVAL: c_long = 22;

fn syscall(no: c_long, args: &[c_long]) -> c_long {
    let mut params = [0 as c_long; 6];
    params[..args.len()].copy_from_slice(args);
    // SAFETY: six arguments; callers pass no pointers or valid ones.
    unsafe { lkl_syscall(no, params.as_mut_ptr()) }
}

/// Boots with the console on stderr, which the parent shows on failure.
fn boot(cmdline: &CStr) -> i32 {
    lkl_sys::lkl_host::set_console_sink(Some(Box::new(|text: &[u8]| {
        let _ = std::io::stderr().write_all(text);
    })));
    // SAFETY: a NUL-terminated command line without conversions.
    unsafe { lkl_start_kernel(c"%s".as_ptr(), cmdline.as_ptr()) }
}

fn halt() -> c_long {
    let mut params = [
        uapi::LINUX_REBOOT_MAGIC1 as c_long,
        uapi::LINUX_REBOOT_MAGIC2 as c_long,
        uapi::LINUX_REBOOT_CMD_POWER_OFF as c_long,
        0,
        0,
        0,
    ];
    // SAFETY: the reboot system call's arguments; no pointers.
    unsafe { lkl_halt(params.as_mut_ptr()) }
}

/// Fails the child with a message on stderr.
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            eprintln!("check failed: {}", format!($($msg)+));
            std::process::exit(1);
        }
    };
}

// ---- io_uring (lkl-test-support's ring) ----

fn ring(setup: Setup) -> Ring {
    Ring::new(setup).unwrap_or_else(|e| {
        eprintln!("check failed: {e}");
        std::process::exit(1)
    })
}

/// One NOP with IOSQE_ASYNC, which the kernel hands to an io-wq worker
/// thread, and its completion. Returns the ring's fd; the ring stays open
/// and mapped.
fn async_nop() -> c_long {
    let (fd, res) = async_nop_completion();
    check!(res == 0, "the NOP completed with {res}");
    fd
}

/// As async_nop(), returning the ring's fd and the completion's result.
fn async_nop_completion() -> (c_long, i32) {
    let mut ring = ring(Setup {
        entries: 4,
        ..Setup::default()
    });
    let done = ring.run(&[Sqe::new(IORING_OP_NOP, IOSQE_ASYNC, 0x5eed)]);
    let done = done.unwrap_or_else(|e| {
        eprintln!("check failed: {e}");
        std::process::exit(1)
    });
    check!(done[0].user_data == 0x5eed, "completion {:?}", done[0]);
    (ring.into_fd(), done[0].res)
}

/// A ring with a kernel SQ polling thread, made to spin: it only starts
/// polling after its first request, and then spins for `idle_ms` of
/// jiffies after the last one before it sleeps. One NOP goes in through
/// the ring, without a system call unless the thread went to sleep before
/// it looked, and its completion is awaited without one. Returns the
/// ring's fd; the ring stays open and mapped.
fn spinning_sq_ring(idle_ms: u32) -> c_long {
    let mut ring = ring(Setup {
        entries: 4,
        flags: IORING_SETUP_SQPOLL,
        sq_thread_idle_ms: idle_ms,
        ..Setup::default()
    });
    let start = Instant::now();
    let pushed = ring.push(&[Sqe::new(IORING_OP_NOP, 0, 1)]);
    check!(pushed.is_ok(), "{pushed:?}");
    // A thread that looked before the entry was there sleeps already.
    if ring.sq_needs_wakeup() {
        let woken = ring.enter(0, 0, IORING_ENTER_SQ_WAKEUP);
        check!(woken == 0, "io_uring_enter to wake the SQ thread: {woken}");
    }
    while ring.cq_ready() == 0 {
        check!(
            start.elapsed() < Duration::from_secs(10),
            "the SQ thread never completed the NOP"
        );
        std::thread::yield_now();
    }
    ring.into_fd()
}

/// The kernel's jiffies, in USER_HZ clock ticks, from times().
fn clock_ticks() -> i64 {
    let mut tms = [0 as c_long; 4];
    let ticks = syscall(nr::times, &[tms.as_mut_ptr() as c_long]);
    check!(ticks > 0, "times: {ticks}");
    ticks
}

/// Milliseconds per USER_HZ tick (USER_HZ is 100 on x86).
const MS_PER_CLOCK_TICK: i64 = 10;

// ---- scenarios (child side) ----

/// Host threads that end with io_uring work handed to io-wq: the worker
/// threads exit, and so do the threads' tasks, which sleep while dying.
fn host_thread_exit_with_async_io_uring() {
    check!(boot(c"mem=32M") == 0, "boot");
    for close_first in [false, true, false] {
        std::thread::spawn(move || {
            let fd = async_nop();
            if close_first {
                check!(syscall(nr::close, &[fd]) == 0, "close");
            }
        })
        .join()
        .unwrap();
    }
    // io-wq workers idle out after a few seconds, on their own.
    std::thread::sleep(Duration::from_millis(200));
    check!(syscall(nr::getpid, &[]) == 1, "getpid after the exits");
    check!(halt() == 0, "halt");
}

/// exit from a host thread ends its task only; the next call gets a new
/// one. exit_group is refused.
fn exit_from_host_thread() {
    check!(boot(c"mem=32M") == 0, "boot");
    std::thread::spawn(|| {
        let first = syscall(nr::gettid, &[]);
        check!(first > 1, "gettid: {first}");
        check!(
            syscall(nr::exit, &[3]) == 0,
            "exit must return 0 to the caller"
        );
        let second = syscall(nr::gettid, &[]);
        check!(
            second > 1 && second != first,
            "after exit the thread must get a new task: {first} then {second}"
        );
        check!(
            syscall(nr::exit_group, &[0]) == -EPERM,
            "exit_group must be refused with EPERM"
        );
    })
    .join()
    .unwrap();
    check!(syscall(nr::exit, &[0]) == 0, "exit from the main thread");
    check!(syscall(nr::getpid, &[]) == 1, "getpid after exit");
    check!(halt() == 0, "halt");
}

/// Opens `path` in the kernel with `flags`.
fn open(path: &CStr, flags: u32) -> c_long {
    syscall(
        nr::openat,
        &[
            uapi::AT_FDCWD as c_long,
            path.as_ptr() as c_long,
            flags as c_long,
            0,
        ],
    )
}

/// The pids of the kernel's tasks whose name is `name`, from /proc.
fn pids_named(name: &str) -> Vec<c_long> {
    let dir = open(c"/proc", uapi::O_RDONLY | uapi::O_DIRECTORY);
    check!(dir >= 0, "open /proc: {dir}");
    let mut pids = Vec::new();
    let mut buf = vec![0u8; 16384];
    loop {
        let n = syscall(
            nr::getdents64,
            &[dir, buf.as_mut_ptr() as c_long, buf.len() as c_long],
        );
        check!(n >= 0, "getdents64 /proc: {n}");
        if n == 0 {
            break;
        }
        // struct linux_dirent64: ino (8), off (8), reclen (2), type (1),
        // then the NUL-terminated name.
        let mut at = 0usize;
        while at < n as usize {
            let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
            let raw = &buf[at + 19..at + reclen];
            let entry = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
            at += reclen;
            let Some(pid) = std::str::from_utf8(entry)
                .ok()
                .and_then(|e| e.parse::<c_long>().ok())
            else {
                continue;
            };
            let comm = std::ffi::CString::new(format!("/proc/{pid}/comm")).unwrap();
            let fd = open(&comm, uapi::O_RDONLY);
            if fd < 0 {
                continue; // gone meanwhile
            }
            let mut text = [0u8; 32];
            let len = syscall(
                nr::read,
                &[fd, text.as_mut_ptr() as c_long, text.len() as c_long],
            );
            syscall(nr::close, &[fd]);
            if len > 0 && text[..len as usize].trim_ascii_end() == name.as_bytes() {
                pids.push(pid);
            }
        }
    }
    syscall(nr::close, &[dir]);
    pids
}

/// A kernel thread stopped with kthread_stop(): a pressure-stall trigger
/// with a window under 2 s starts the "psimon" kernel thread, and closing
/// the last trigger stops it (psi_trigger_destroy()). The thread sleeps in
/// its wait, or runs its timer, when it is told to stop; either way its
/// exit must neither abort the program nor leave the closer waiting, and
/// the thread must be gone afterwards.
fn kthread_stopped() {
    check!(boot(c"mem=32M psi=1") == 0, "boot");
    let made = syscall(nr::mkdir, &[c"/proc".as_ptr() as c_long, 0o555]);
    check!(made == 0, "mkdir /proc: {made}");
    let mounted = syscall(
        nr::mount,
        &[
            c"proc".as_ptr() as c_long,
            c"/proc".as_ptr() as c_long,
            c"proc".as_ptr() as c_long,
            0,
            0,
        ],
    );
    check!(mounted == 0, "mount /proc: {mounted}");
    check!(pids_named("psimon").is_empty(), "psimon before any trigger");
    for round in 0..20 {
        let fd = open(c"/proc/pressure/cpu", uapi::O_RDWR | uapi::O_NONBLOCK);
        check!(fd >= 0, "round {round}: open /proc/pressure/cpu: {fd}");
        // Stall of 150 ms within a window of 500 ms. The kernel replaces
        // the last byte written with the string's end.
        let trigger = b"some 150000 500000\n";
        let written = syscall(
            nr::write,
            &[fd, trigger.as_ptr() as c_long, trigger.len() as c_long],
        );
        check!(
            written == trigger.len() as c_long,
            "round {round}: write the trigger: {written}"
        );
        let running = pids_named("psimon");
        check!(
            running.len() == 1,
            "round {round}: one psimon thread after the trigger, found {running:?}"
        );
        // Some rounds let the thread run its polling timer first.
        if round % 2 == 1 {
            std::thread::sleep(Duration::from_millis(30));
        }
        check!(syscall(nr::close, &[fd]) == 0, "round {round}: close");
        // kthread_stop() returned once the thread had run its exit; the
        // task itself is released soon after.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !pids_named("psimon").is_empty() {
            check!(
                Instant::now() < deadline,
                "round {round}: psimon {running:?} still there 5 s after close"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    check!(syscall(nr::getpid, &[]) == 1, "getpid after the stops");
    check!(halt() == 0, "halt");
}

/// A boot that sleeps before mounting the root: the timer interrupt has to
/// run while boot waits. The kernel then finds no root device and panics,
/// which ends this process; the parent checks the timing.
fn boot_sleeps() {
    boot(c"mem=32M rdinit=/nonexistent rootdelay=1");
    eprintln!("boot returned");
    std::process::exit(1);
}

/// Threads boot at once: exactly one boots, the others get -EBUSY. A long
/// command line (the same parameter many times) widens the window in which
/// a check of the state, and the boot it allows, can race.
fn boots_at_once() {
    const THREADS: usize = 3;
    let mut cmdline = String::from("mem=32M");
    for _ in 0..300 {
        cmdline.push_str(" loglevel=4");
    }
    let cmdline = std::ffi::CString::new(cmdline).unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let barrier = barrier.clone();
            let cmdline = cmdline.clone();
            std::thread::spawn(move || {
                barrier.wait();
                boot(&cmdline)
            })
        })
        .collect();
    let mut results: Vec<i32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    results.sort();
    check!(
        results == [-EBUSY, -EBUSY, 0],
        "boot results {results:?}, not one 0 and the rest -EBUSY"
    );
    check!(syscall(nr::getpid, &[]) == 1, "getpid");
    check!(halt() == 0, "halt");
}

/// Halt while 8 threads hammer system calls: every call gets a result or
/// -ENODEV, and every thread gets out.
fn halt_under_load() {
    check!(boot(c"mem=32M") == 0, "boot");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut fds = [0i32; 2];
                let ret = syscall(nr::pipe2, &[fds.as_mut_ptr() as c_long, 0]);
                check!(ret == 0, "thread {i}: pipe2: {ret}");
                let (r, w) = (fds[0] as c_long, fds[1] as c_long);
                let mut calls = 0u64;
                let byte = [7u8];
                let mut back = [0u8];
                loop {
                    let pid = syscall(nr::getpid, &[]);
                    let wrote = syscall(nr::write, &[w, byte.as_ptr() as c_long, 1]);
                    let read = syscall(nr::read, &[r, back.as_mut_ptr() as c_long, 1]);
                    calls += 3;
                    for (what, ret, ok) in
                        [("getpid", pid, 1), ("write", wrote, 1), ("read", read, 1)]
                    {
                        check!(
                            ret == ok || ret == -ENODEV || (what == "read" && ret == -EINTR),
                            "thread {i}: {what} returned {ret} during halt"
                        );
                    }
                    if pid == -ENODEV {
                        return calls;
                    }
                    if stop.load(std::sync::atomic::Ordering::Relaxed) && calls > 1_000_000 {
                        return calls;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    check!(halt() == 0, "halt under load");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let calls: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    check!(calls > 8 * 3, "the threads made only {calls} calls");
    check!(syscall(nr::getpid, &[]) == -ENODEV, "a call after halt");
}

/// io_uring's SQ polling thread spins in the kernel, never enabling
/// interrupts nor leaving, until its idle time (in jiffies) passes. Closing
/// the ring waits for it. Without the timer interrupt reaching the
/// spinning thread, jiffies stop and this never returns.
fn sqpoll_close() {
    check!(boot(c"mem=32M") == 0, "boot");
    for round in 0..3 {
        let fd = spinning_sq_ring(300);
        check!(syscall(nr::close, &[fd]) == 0, "round {round}: close");
        check!(
            syscall(nr::getpid, &[]) == 1,
            "round {round}: getpid after close"
        );
    }
    check!(halt() == 0, "halt");
}

/// While the SQ thread spins for a second, the other threads wait for the
/// CPU. When they get it, jiffies must have kept up with the host's clock
/// to within a few ticks: the tick reached the busy CPU all along.
fn busy_kernel_sees_ticks() {
    check!(boot(c"mem=32M") == 0, "boot");
    const SPIN_MS: u32 = 1000;
    let kicks_before = lkl_sys::lkl_host::kicks_sent();
    let ticks_before = clock_ticks();
    let host_before = Instant::now();
    let fd = spinning_sq_ring(SPIN_MS);
    // The SQ thread spins now; this call waits for the CPU until it idles.
    let ticks = clock_ticks() - ticks_before;
    let host_ms = host_before.elapsed().as_millis() as i64;
    let jiffies_ms = ticks * MS_PER_CLOCK_TICK;
    let lag_ms = host_ms - jiffies_ms;
    eprintln!(
        "host {host_ms} ms, jiffies {jiffies_ms} ms, {} kicks",
        lkl_sys::lkl_host::kicks_sent() - kicks_before
    );
    check!(
        host_ms >= i64::from(SPIN_MS),
        "the call got the CPU after {host_ms} ms, before the SQ thread's {SPIN_MS} ms of spinning ended"
    );
    // A few ticks of the kernel (HZ 100 to 1000), plus the host's
    // scheduling of two CPUs among more threads.
    let limit_ms = if under_valgrind() { 500 } else { 100 };
    check!(
        lag_ms <= limit_ms,
        "jiffies fell {lag_ms} ms behind the host's clock while the CPU was busy"
    );
    check!(
        lkl_sys::lkl_host::kicks_sent() > kicks_before,
        "the busy CPU got no kick"
    );
    check!(syscall(nr::close, &[fd]) == 0, "close");
    check!(halt() == 0, "halt");
}

static PROGRAM_HANDLER_RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

extern "C" fn program_handler(_sig: libc::c_int) {
    PROGRAM_HANDLER_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Kicks fly while threads hammer system calls and the SQ thread spins;
/// between calls the threads sit in the host's poll() and nanosleep(),
/// which a stray kick would end with EINTR. One thread has every signal
/// blocked: its kicks must be taken out of its pending set, never left
/// there. The program's own handler of the kick signal, installed before
/// boot, runs for the signals the program sends, and for nothing else.
fn kicks_stay_in_the_kernel() {
    let signal = lkl_sys::lkl_host::kick_signal();
    check!(signal > 0, "kicks are on by default");
    // Chosen explicitly: the default would give way to another signal,
    // since the program handles this one.
    check!(
        lkl_sys::lkl_host::set_kick_signal(Some(signal)).is_ok(),
        "choose the kick signal"
    );
    // SAFETY: a plain handler for the kick signal, installed before boot,
    // without SA_RESTART: any stray signal would show as EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = program_handler as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        check!(
            libc::sigaction(signal, &action, std::ptr::null_mut()) == 0,
            "install the program's handler"
        );
    }
    check!(boot(c"mem=32M") == 0, "boot");
    let kicks_before = lkl_sys::lkl_host::kicks_sent();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                if i == 0 {
                    // SAFETY: blocking every signal in this thread only.
                    unsafe {
                        let mut all: libc::sigset_t = std::mem::zeroed();
                        libc::sigfillset(&mut all);
                        libc::pthread_sigmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
                    }
                }
                let mut rounds = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for _ in 0..50 {
                        check!(syscall(nr::getpid, &[]) == 1, "thread {i}: getpid");
                    }
                    // SAFETY: poll with no descriptors is a 1 ms sleep.
                    let polled = unsafe { libc::poll(std::ptr::null_mut(), 0, 1) };
                    check!(
                        polled == 0,
                        "thread {i}: the host's poll() returned {polled}: {}",
                        std::io::Error::last_os_error()
                    );
                    let pause = libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 200_000,
                    };
                    // SAFETY: a valid timespec; no remainder wanted.
                    let slept = unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
                    check!(
                        slept == 0,
                        "thread {i}: the host's nanosleep() returned {slept}: {}",
                        std::io::Error::last_os_error()
                    );
                    if i == 0 {
                        // SAFETY: reading this thread's pending set.
                        let pending = unsafe {
                            let mut set: libc::sigset_t = std::mem::zeroed();
                            libc::sigpending(&mut set);
                            libc::sigismember(&set, signal) == 1
                        };
                        check!(!pending, "thread {i}: a kick was left pending");
                    }
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    // Busy CPU phases, so that interrupts find the CPU owned.
    for _ in 0..4 {
        let fd = spinning_sq_ring(200);
        check!(syscall(nr::close, &[fd]) == 0, "close");
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rounds: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let kicks = lkl_sys::lkl_host::kicks_sent() - kicks_before;
    eprintln!("{rounds} rounds, {kicks} kicks");
    check!(kicks > 0, "no kick was sent: the test tested nothing");
    check!(
        PROGRAM_HANDLER_RUNS.load(std::sync::atomic::Ordering::SeqCst) == 0,
        "the program's handler ran for a kick"
    );
    for n in 1..=3 {
        // SAFETY: the program sends its own signal to this thread.
        unsafe { libc::pthread_kill(libc::pthread_self(), signal) };
        check!(
            PROGRAM_HANDLER_RUNS.load(std::sync::atomic::Ordering::SeqCst) == n,
            "the program's own signal {n} did not reach its handler"
        );
    }
    check!(halt() == 0, "halt");
}

/// The console sink is the program's code, run by the CPU owner with
/// interrupts off; interrupts raised meanwhile must not kick it. A sink
/// that sleeps in the host's poll() sees no EINTR through a verbose boot
/// and a busy CPU.
fn sink_sees_no_kicks() {
    static INTERRUPTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static LINES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    lkl_sys::lkl_host::set_console_sink(Some(Box::new(|_text: &[u8]| {
        LINES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // SAFETY: poll with no descriptors is a 2 ms sleep.
        if unsafe { libc::poll(std::ptr::null_mut(), 0, 2) } != 0 {
            INTERRUPTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    })));
    // SAFETY: a NUL-terminated command line without conversions.
    let booted = unsafe { lkl_start_kernel(c"%s".as_ptr(), c"mem=32M loglevel=8".as_ptr()) };
    check!(booted == 0, "boot");
    let fd = spinning_sq_ring(100);
    check!(syscall(nr::close, &[fd]) == 0, "close");
    check!(halt() == 0, "halt");
    let lines = LINES.load(std::sync::atomic::Ordering::SeqCst);
    let interrupted = INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst);
    check!(lines > 50, "only {lines} console writes");
    check!(
        interrupted == 0,
        "{interrupted} of {lines} sink calls saw EINTR"
    );
}

/// A program that takes the default kick signal the POSIX way: blocked in
/// all its threads, sent to the process, waited for with sigtimedwait().
/// The default gives way to a free signal at boot, so the program gets
/// every instance, with its value, and kicks still work.
fn program_sigwaits_for_the_kick_signal() {
    let signal = lkl_sys::lkl_host::kick_signal();
    // SAFETY: blocking the signal in the main thread before any other
    // thread exists, so that every thread of the program inherits it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid sigset_t.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    check!(boot(c"mem=32M") == 0, "boot");
    let kick = lkl_sys::lkl_host::kick_signal();
    check!(
        kick > 0 && kick != signal,
        "the default kick signal did not give way to the program's: {kick}"
    );
    // Kicks still work: the SQ thread's spin ends and close returns.
    let fd = spinning_sq_ring(300);
    for n in 1..=3usize {
        let value = libc::sigval {
            sival_ptr: n as *mut libc::c_void,
        };
        // SAFETY: queueing the signal to this process.
        let queued = unsafe { libc::sigqueue(libc::getpid(), signal, value) };
        check!(queued == 0, "sigqueue");
    }
    let mut values = Vec::new();
    for n in 1..=3usize {
        let limit = libc::timespec {
            tv_sec: 10,
            tv_nsec: 0,
        };
        // SAFETY: a valid set, siginfo and timespec.
        let (got, value) = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let got = libc::sigtimedwait(&set, &mut info, &limit);
            (got, info.si_value().sival_ptr as usize)
        };
        check!(got == signal, "signal {n}: sigtimedwait returned {got}");
        values.push(value);
    }
    // An instance sent back to the process queues behind later ones.
    values.sort_unstable();
    check!(
        values == [1, 2, 3],
        "the signals came with the values {values:?}"
    );
    check!(syscall(nr::close, &[fd]) == 0, "close");
    check!(halt() == 0, "halt");
}

/// Halt while threads are blocked in interruptible waits: read on an
/// empty pipe, epoll_wait, a futex, io_uring's wait for completions. Halt
/// returns, and so do they, with -EINTR (or -ENODEV, had they not got in
/// yet).
fn halt_with_blocked_waits() {
    check!(boot(c"mem=32M") == 0, "boot");
    let mut fds = [0i32; 2];
    check!(
        syscall(nr::pipe2, &[fds.as_mut_ptr() as c_long, 0]) == 0,
        "pipe2"
    );
    let read_fd = fds[0] as c_long;
    let epfd = syscall(nr::epoll_create1, &[0]);
    check!(epfd >= 0, "epoll_create1: {epfd}");
    static FUTEX_WORD: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    type Wait = Box<dyn FnOnce() -> c_long + Send>;
    let waits: Vec<(&str, Wait)> = vec![
        (
            "read",
            Box::new(move || {
                let mut buf = [0u8; 8];
                syscall(nr::read, &[read_fd, buf.as_mut_ptr() as c_long, 8])
            }),
        ),
        (
            "epoll_wait",
            Box::new(move || {
                let mut events = [0u64; 4];
                syscall(
                    nr::epoll_wait,
                    &[epfd, events.as_mut_ptr() as c_long, 2, -1],
                )
            }),
        ),
        (
            "futex",
            Box::new(|| {
                // FUTEX_WAIT on a word that stays 0, without a timeout.
                syscall(nr::futex, &[FUTEX_WORD.as_ptr() as c_long, 0, 0, 0, 0, 0])
            }),
        ),
        (
            // Its wait loop ends only for fatal signals.
            "io_uring_enter",
            Box::new(|| {
                let ring = ring(Setup {
                    entries: 4,
                    ..Setup::default()
                });
                let ret = ring.enter(0, 1, IORING_ENTER_GETEVENTS);
                let _left_open = ring.into_fd();
                ret
            }),
        ),
    ];
    let threads: Vec<_> = waits
        .into_iter()
        .map(|(what, wait)| (what, std::thread::spawn(wait)))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    check!(halt() == 0, "halt with blocked threads");
    for (what, thread) in threads {
        let ret = thread.join().unwrap();
        check!(
            ret == -EINTR || ret == -ENODEV,
            "{what} returned {ret} at halt, not -EINTR or -ENODEV"
        );
    }
}

/// The reboot system call from any thread is a halt; of two halts at once,
/// one halts and the other is told so.
fn halts_from_two_threads() {
    check!(boot(c"mem=32M") == 0, "boot");
    check!(syscall(nr::getpid, &[]) == 1, "getpid");
    let barrier = Arc::new(Barrier::new(2));
    let b = barrier.clone();
    let by_syscall = std::thread::spawn(move || {
        let params = [
            uapi::LINUX_REBOOT_MAGIC1 as c_long,
            uapi::LINUX_REBOOT_MAGIC2 as c_long,
            uapi::LINUX_REBOOT_CMD_POWER_OFF as c_long,
        ];
        b.wait();
        syscall(nr::reboot, &params)
    });
    barrier.wait();
    let by_halt = halt();
    let by_syscall = by_syscall.join().unwrap();
    let mut results = [by_halt, by_syscall];
    results.sort();
    check!(
        results[1] == 0 && (results[0] == -(EBUSY as c_long) || results[0] == -ENODEV),
        "halt and reboot at once returned {results:?}: one must halt, the other get EBUSY or ENODEV"
    );
    check!(syscall(nr::getpid, &[]) == -ENODEV, "a call after halt");
}

static SINK_RESULTS: [std::sync::atomic::AtomicI64; 2] = [
    std::sync::atomic::AtomicI64::new(0),
    std::sync::atomic::AtomicI64::new(0),
];

/// The console sink runs on a thread in the middle of kernel code: a call
/// from it is refused with -EDEADLK, and the kernel goes on unharmed.
fn reentry_from_console_sink() {
    check!(boot(c"mem=32M") == 0, "boot");
    lkl_sys::lkl_host::set_console_sink(Some(Box::new(|text: &[u8]| {
        if text.windows(17).any(|w| w == b"Unknown parameter") {
            SINK_RESULTS[0].store(
                syscall(nr::getpid, &[]) as i64,
                std::sync::atomic::Ordering::SeqCst,
            );
            SINK_RESULTS[1].store(halt() as i64, std::sync::atomic::Ordering::SeqCst);
        }
    })));
    check!(
        syscall(nr::mkdir, &[c"/mnt".as_ptr() as c_long, 0o755]) == 0,
        "mkdir"
    );
    // proc prints "proc: Unknown parameter ..." on the console, and fails.
    let ret = syscall(
        nr::mount,
        &[
            c"proc".as_ptr() as c_long,
            c"/mnt".as_ptr() as c_long,
            c"proc".as_ptr() as c_long,
            0,
            c"lkl_no_such_option".as_ptr() as c_long,
        ],
    );
    check!(ret < 0, "mount with an unknown option succeeded: {ret}");
    for (what, result) in ["getpid", "halt"].iter().zip(&SINK_RESULTS) {
        let got = result.load(std::sync::atomic::Ordering::SeqCst);
        check!(
            got == -EDEADLK,
            "{what} from the console sink returned {got}, not -EDEADLK"
        );
    }
    check!(
        syscall(nr::getpid, &[]) == 1,
        "getpid after the refused calls"
    );
    check!(halt() == 0, "halt");
}

static HANDLER_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static HANDLER_REFUSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static HANDLER_BAD: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

extern "C" fn call_from_handler(_sig: libc::c_int) {
    let ret = syscall(nr::getpid, &[]);
    HANDLER_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if ret == -EDEADLK {
        HANDLER_REFUSED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    } else if ret != 1 {
        HANDLER_BAD.store(ret as i64, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A signal handler that makes a call, interrupting a thread that hammers
/// system calls: the call runs (getpid is 1) or, if the thread was running
/// kernel code, is refused with -EDEADLK; the kernel goes on unharmed.
fn reentry_from_signal_handler() {
    check!(boot(c"mem=32M") == 0, "boot");
    // SAFETY: a zeroed sigaction is valid; the handler takes the signal
    // number, as sa_handler requires.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = call_from_handler as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut());
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        check!(syscall(nr::getpid, &[]) == 1, "first call");
        // SAFETY: pthread_self has no preconditions.
        tx.send(unsafe { libc::pthread_self() }).unwrap();
        // struct new_utsname: six fields of 65 bytes.
        let mut buf = [0u8; 6 * 65];
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            let ret = syscall(nr::uname, &[buf.as_mut_ptr() as c_long]);
            check!(ret == 0, "uname in the interrupted thread: {ret}");
        }
    });
    let thread = rx.recv().unwrap();
    for _ in 0..2000 {
        // SAFETY: the worker thread is alive until stop is set and joined.
        unsafe { libc::pthread_kill(thread, libc::SIGUSR1) };
        std::thread::sleep(Duration::from_micros(100));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    worker.join().unwrap();
    let bad = HANDLER_BAD.load(std::sync::atomic::Ordering::SeqCst);
    check!(bad == 0, "a call from the signal handler returned {bad}");
    let calls = HANDLER_CALLS.load(std::sync::atomic::Ordering::SeqCst);
    let refused = HANDLER_REFUSED.load(std::sync::atomic::Ordering::SeqCst);
    check!(
        refused > 0,
        "no signal came in the middle of a call ({calls} handler calls)"
    );
    check!(syscall(nr::getpid, &[]) == 1, "getpid afterwards");
    check!(halt() == 0, "halt");
}

/// A halt refused for a bad argument changes nothing: a blocked reader
/// stays blocked, and the kernel runs on. execve of the boot-time /init is
/// refused after boot.
fn refused_halt_changes_nothing() {
    check!(boot(c"mem=32M") == 0, "boot");
    let argv = [std::ptr::null::<i8>()];
    let ret = syscall(
        nr::execve,
        &[
            c"/init".as_ptr() as c_long,
            argv.as_ptr() as c_long,
            argv.as_ptr() as c_long,
        ],
    );
    check!(
        ret == -ENOEXEC,
        "execve of /init after boot returned {ret}, not -ENOEXEC"
    );
    let mut fds = [0i32; 2];
    check!(
        syscall(nr::pipe2, &[fds.as_mut_ptr() as c_long, 0]) == 0,
        "pipe2"
    );
    let (r, w) = (fds[0] as c_long, fds[1] as c_long);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 1];
        syscall(nr::read, &[r, buf.as_mut_ptr() as c_long, 1])
    });
    std::thread::sleep(Duration::from_millis(200));
    let mut bad_magic = [
        uapi::LINUX_REBOOT_MAGIC1 as c_long,
        0x1234,
        uapi::LINUX_REBOOT_CMD_POWER_OFF as c_long,
        0,
        0,
        0,
    ];
    // SAFETY: the reboot system call's arguments; no pointers.
    let ret = unsafe { lkl_halt(bad_magic.as_mut_ptr()) };
    check!(
        ret == -EINVAL,
        "halt with a bad magic number returned {ret}, not -EINVAL"
    );
    // valgrind does not let the kernel's fault-catching copy see the fault.
    if !under_valgrind() {
        let mut bad_string = [
            uapi::LINUX_REBOOT_MAGIC1 as c_long,
            uapi::LINUX_REBOOT_MAGIC2 as c_long,
            uapi::LINUX_REBOOT_CMD_RESTART2 as c_long,
            0x10, // not a string the kernel can read
            0,
            0,
        ];
        // SAFETY: the reboot system call's arguments; the bad pointer is
        // read through the kernel's fault-catching copy.
        let ret = unsafe { lkl_halt(bad_string.as_mut_ptr()) };
        check!(
            ret == -EFAULT,
            "halt with a bad RESTART2 string returned {ret}, not -EFAULT"
        );
    }
    // SAFETY: no arguments, no preconditions.
    let running = unsafe { lkl_sys::lkl_is_running() };
    check!(running == 1, "the kernel stopped after a refused halt");
    check!(
        syscall(nr::write, &[w, b"x".as_ptr() as c_long, 1]) == 1,
        "write"
    );
    let read = reader.join().unwrap();
    check!(
        read == 1,
        "the blocked reader got {read}, not the byte: the refused halt interrupted it"
    );
    check!(halt() == 0, "halt");
}

/// A fork that fails after the architecture started the new task's host
/// thread: with pids used up, io_uring cannot make its io-wq worker. The
/// thread ends with the failed task, and the kernel goes on.
fn fork_fails_when_pids_run_out() {
    const O_WRONLY: c_long = 1;
    const EAGAIN: c_long = 11;
    const ENOMEM: c_long = 12;
    check!(boot(c"mem=64M") == 0, "boot");
    check!(
        syscall(nr::mkdir, &[c"/proc".as_ptr() as c_long, 0o555]) == 0,
        "mkdir /proc"
    );
    let ret = syscall(
        nr::mount,
        &[
            c"proc".as_ptr() as c_long,
            c"/proc".as_ptr() as c_long,
            c"proc".as_ptr() as c_long,
            0,
            0,
        ],
    );
    check!(ret == 0, "mount proc: {ret}");
    let fd = syscall(
        nr::open,
        &[c"/proc/sys/kernel/pid_max".as_ptr() as c_long, O_WRONLY, 0],
    );
    check!(fd >= 0, "open pid_max: {fd}");
    check!(
        syscall(nr::write, &[fd, b"301".as_ptr() as c_long, 3]) == 3,
        "write pid_max"
    );
    check!(syscall(nr::close, &[fd]) == 0, "close");

    // Host threads take a pid each, until a new task cannot be made.
    let hold = Arc::new(std::sync::RwLock::new(()));
    let held = hold.write().unwrap();
    let mut holders = Vec::new();
    let mut exhausted = false;
    for _ in 0..400 {
        let (tx, rx) = std::sync::mpsc::channel();
        let hold = hold.clone();
        holders.push(std::thread::spawn(move || {
            let ret = syscall(nr::getpid, &[]);
            tx.send(ret).unwrap();
            if ret == 1 {
                drop(hold.read().unwrap());
            }
        }));
        match rx.recv().unwrap() {
            1 => continue,
            ret if ret == -EAGAIN || ret == -ENOMEM => {
                exhausted = true;
                break;
            }
            ret => check!(false, "a new thread's first call returned {ret}"),
        }
    }
    check!(exhausted, "400 threads did not use up 301 pids");
    // This thread has a task; its io-wq worker cannot get a pid.
    let (ring, res) = async_nop_completion();
    // Done, or given up for want of a worker.
    const ECANCELED: i32 = 125;
    check!(
        res == 0 || res == -(EAGAIN as i32) || res == -ECANCELED,
        "the NOP completed with {res}"
    );
    check!(syscall(nr::close, &[ring]) == 0, "close the ring");
    drop(held);
    for holder in holders {
        holder.join().unwrap();
    }
    check!(syscall(nr::getpid, &[]) == 1, "getpid afterwards");
    check!(halt() == 0, "halt");
}

// ---- parent side ----

struct Outcome {
    status: ExitStatus,
    stderr: String,
    elapsed: Duration,
    timed_out: bool,
}

const VALGRIND_VAR: &str = "LKL_CORE_VALGRIND";
/// What valgrind exits with when it found errors.
const VALGRIND_ERROR_EXIT: i32 = 99;

fn under_valgrind() -> bool {
    std::env::var_os(VALGRIND_VAR).is_some_and(|v| v == "1")
}

/// With -q, valgrind prints nothing but its errors, as `==PID== ...` lines.
fn valgrind_complained(stderr: &str) -> bool {
    stderr.lines().any(|line| {
        line.strip_prefix("==")
            .and_then(|rest| rest.split_once("=="))
            .is_some_and(|(pid, _)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn run_child(name: &str, limit: Duration) -> Outcome {
    let start = Instant::now();
    let exe = std::env::current_exe().expect("own path");
    let (mut command, limit) = if under_valgrind() {
        let mut command = Command::new("valgrind");
        // Fair scheduling: valgrind runs one thread at a time, and by
        // default a thread that keeps calling in can starve the others
        // for minutes (the signal-handler scenario hung that way).
        command
            .arg("-q")
            .arg("--fair-sched=yes")
            .arg(format!("--error-exitcode={VALGRIND_ERROR_EXIT}"))
            .arg(concat!(
                "--suppressions=",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/valgrind.supp"
            ))
            .arg(&exe);
        (command, limit * 10)
    } else {
        (Command::new(&exe), limit)
    };
    let mut child = command
        .env(SCENARIO_VAR, name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the scenario's process");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for the killed child");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    Outcome {
        status,
        stderr: reader.join().unwrap_or_default(),
        elapsed,
        timed_out,
    }
}

fn expect_success(name: &str, limit: Duration) -> Result<String, String> {
    let out = run_child(name, limit);
    if out.timed_out {
        return Err(format!("hung: killed after {limit:?}\n{}", out.stderr));
    }
    if out.status.code() == Some(VALGRIND_ERROR_EXIT) && under_valgrind() {
        return Err(format!("valgrind found errors\n{}", out.stderr));
    }
    if !out.status.success() {
        return Err(format!("child {}\n{}", out.status, out.stderr));
    }
    Ok(format!("{:.2}s", out.elapsed.as_secs_f64()))
}

fn check_boot_sleeps() -> Result<String, String> {
    let out = run_child("boot_sleeps", Duration::from_secs(20));
    if under_valgrind() && valgrind_complained(&out.stderr) {
        return Err(format!("valgrind found errors\n{}", out.stderr));
    }
    let waiting = "Waiting 1 sec before mounting root device";
    let Some(at) = out.stderr.find(waiting) else {
        return Err(format!(
            "the boot never reached the root delay\n{}",
            out.stderr
        ));
    };
    if out.timed_out {
        return Err(format!(
            "the boot slept forever in the root delay: killed\n{}",
            out.stderr
        ));
    }
    let after = &out.stderr[at + waiting.len()..];
    if !after.contains("VFS: Unable to mount root fs") {
        return Err(format!(
            "after the delay the kernel did not go on to mount the root\n{}",
            out.stderr
        ));
    }
    if out.status.signal() != Some(libc::SIGABRT) {
        return Err(format!("expected the panic's abort, got {}", out.status));
    }
    if out.elapsed < Duration::from_secs(1) {
        return Err(format!("the delay of 1 s took only {:?}", out.elapsed));
    }
    Ok(format!(
        "woke after the delay, then panicked as expected, in {:.2}s",
        out.elapsed.as_secs_f64()
    ))
}

fn check_boots() -> Result<String, String> {
    let rounds = if under_valgrind() { 4 } else { 20 };
    for round in 0..rounds {
        expect_success("boots_at_once", Duration::from_secs(20))
            .map_err(|e| format!("round {round}: {e}"))?;
    }
    Ok(format!("{rounds} fresh processes, one boot each"))
}

type Check = fn() -> Result<String, String>;

fn main() {
    if let Ok(name) = std::env::var(SCENARIO_VAR) {
        // For measurements only (docs/DESIGN.md): what the cooperative
        // paths alone achieve.
        if std::env::var_os(NO_KICK_VAR).is_some() {
            check!(
                lkl_sys::lkl_host::set_kick_signal(None).is_ok(),
                "turn kicks off"
            );
        }
        match name.as_str() {
            "host_thread_exit_with_async_io_uring" => host_thread_exit_with_async_io_uring(),
            "exit_from_host_thread" => exit_from_host_thread(),
            "kthread_stopped" => kthread_stopped(),
            "boot_sleeps" => boot_sleeps(),
            "boots_at_once" => boots_at_once(),
            "halt_under_load" => halt_under_load(),
            "halt_with_blocked_waits" => halt_with_blocked_waits(),
            "halts_from_two_threads" => halts_from_two_threads(),
            "reentry_from_console_sink" => reentry_from_console_sink(),
            "reentry_from_signal_handler" => reentry_from_signal_handler(),
            "refused_halt_changes_nothing" => refused_halt_changes_nothing(),
            "fork_fails_when_pids_run_out" => fork_fails_when_pids_run_out(),
            "sqpoll_close" => sqpoll_close(),
            "busy_kernel_sees_ticks" => busy_kernel_sees_ticks(),
            "kicks_stay_in_the_kernel" => kicks_stay_in_the_kernel(),
            "sink_sees_no_kicks" => sink_sees_no_kicks(),
            "program_sigwaits_for_the_kick_signal" => program_sigwaits_for_the_kick_signal(),
            _ => {
                eprintln!("unknown scenario {name}");
                std::process::exit(2);
            }
        }
        std::process::exit(0);
    }

    let checks: [(&str, Check); 17] = [
        ("host_thread_exit_with_async_io_uring", || {
            expect_success(
                "host_thread_exit_with_async_io_uring",
                Duration::from_secs(30),
            )
        }),
        ("exit_from_host_thread", || {
            expect_success("exit_from_host_thread", Duration::from_secs(30))
        }),
        ("kthread_stopped", || {
            expect_success("kthread_stopped", Duration::from_secs(60))
        }),
        ("boot_sleeps", check_boot_sleeps),
        ("boots_at_once", check_boots),
        ("halt_under_load", || {
            expect_success("halt_under_load", Duration::from_secs(30))
        }),
        ("halt_with_blocked_waits", || {
            expect_success("halt_with_blocked_waits", Duration::from_secs(30))
        }),
        ("halts_from_two_threads", || {
            expect_success("halts_from_two_threads", Duration::from_secs(30))
        }),
        ("reentry_from_console_sink", || {
            expect_success("reentry_from_console_sink", Duration::from_secs(30))
        }),
        ("reentry_from_signal_handler", || {
            expect_success("reentry_from_signal_handler", Duration::from_secs(30))
        }),
        ("refused_halt_changes_nothing", || {
            expect_success("refused_halt_changes_nothing", Duration::from_secs(30))
        }),
        ("fork_fails_when_pids_run_out", || {
            expect_success("fork_fails_when_pids_run_out", Duration::from_secs(60))
        }),
        ("sqpoll_close", || {
            expect_success("sqpoll_close", Duration::from_secs(30))
        }),
        ("busy_kernel_sees_ticks", || {
            expect_success("busy_kernel_sees_ticks", Duration::from_secs(30))
        }),
        ("kicks_stay_in_the_kernel", || {
            expect_success("kicks_stay_in_the_kernel", Duration::from_secs(60))
        }),
        ("sink_sees_no_kicks", || {
            expect_success("sink_sees_no_kicks", Duration::from_secs(60))
        }),
        ("program_sigwaits_for_the_kick_signal", || {
            expect_success(
                "program_sigwaits_for_the_kick_signal",
                Duration::from_secs(60),
            )
        }),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, check) in checks {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        match check() {
            Ok(what) => {
                passed += 1;
                println!("ok {name}: {what}");
            }
            Err(why) => {
                failed += 1;
                println!("FAILED {name}: {why}");
            }
        }
    }
    println!("core: {passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        std::process::exit(1);
    }
}
