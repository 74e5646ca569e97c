// SPDX-License-Identifier: GPL-2.0
//! The core against a hostile program: race windows hit on purpose, bad
//! input to every entry point, use after halt, and a program that runs
//! for long. Each scenario was a bug found by a hostile review, or checks
//! that none hides there.
//!
//! As in core.rs, a process holds one kernel, so every scenario runs in a
//! child process: this binary again, with `LKL_ADVERSARIAL_SCENARIO`
//! naming it. The parent runs them one at a time (some are timing
//! sensitive) and ends with `adversarial: N passed, M failed`.
//!
//! Some scenarios force a rare interleaving: a program signal handler
//! looks at library state (found with `nm` in this very binary) and acts
//! only inside the race window. That only makes a race that happens by
//! chance happen on purpose; what the program does (a signal handler that
//! halts, a thread that raises an interrupt and gets preempted) is
//! ordinary. A scenario that never reaches its window fails as
//! inconclusive rather than pass.

use lkl_sys::{lkl_halt, lkl_start_kernel, lkl_syscall, lkl_trigger_irq, nr, uapi};
use lkl_test_support::uring::{Ring, Setup, Sqe, IORING_OP_NOP, IOSQE_ASYNC};
use std::ffi::{c_long, CStr};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCENARIO_VAR: &str = "LKL_ADVERSARIAL_SCENARIO";
const EDEADLK: c_long = 35;
const EINTR: c_long = 4;
const ENOSYS: c_long = 38;
const ENODEV: c_long = 19;
const EINVAL: c_long = 22;
const EBUSY: c_long = 16;
const E2BIG: c_long = 7;
const ENOMEM: c_long = 12;

fn syscall(no: c_long, args: &[c_long]) -> c_long {
    let mut params = [0 as c_long; 6];
    params[..args.len()].copy_from_slice(args);
    // SAFETY: six arguments; callers pass no pointers or valid ones.
    unsafe { lkl_syscall(no, params.as_mut_ptr()) }
}

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

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            eprintln!("check failed: {}", format!($($msg)+));
            std::process::exit(1);
        }
    };
}

// ---- symbols of this binary, to aim at race windows ----

/// Runtime address and size of a symbol of this executable, from `nm`.
fn symbol(name: &str) -> (usize, usize) {
    let exe = std::fs::read_link("/proc/self/exe").expect("own path");
    let out = Command::new("nm")
        .args(["-S", "--defined-only"])
        .arg(&exe)
        .output()
        .expect("run nm");
    let text = String::from_utf8_lossy(&out.stdout);
    let find = |want: &str| -> Option<(usize, usize)> {
        text.lines().find_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                [addr, size, _kind, n] if *n == want => Some((
                    usize::from_str_radix(addr, 16).ok()?,
                    usize::from_str_radix(size, 16).ok()?,
                )),
                [addr, _kind, n] if *n == want => Some((usize::from_str_radix(addr, 16).ok()?, 0)),
                _ => None,
            }
        })
    };
    let (anchor, _) = find("lkl_syscall").expect("lkl_syscall in nm");
    let base = lkl_syscall as *const () as usize - anchor;
    let (addr, size) = find(name).unwrap_or_else(|| panic!("{name} not in nm output"));
    (base + addr, size)
}

fn read_long(addr: usize) -> i64 {
    // SAFETY: `addr` is a static `long` of liblinux, from nm.
    unsafe { std::ptr::read_volatile(addr as *const i64) }
}

fn pthread_self() -> usize {
    // SAFETY: no preconditions.
    (unsafe { libc::pthread_self() }) as usize
}

fn install(
    signal: libc::c_int,
    handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void),
) {
    // SAFETY: a zeroed sigaction is valid; an SA_SIGINFO handler.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        check!(
            libc::sigaction(signal, &action, std::ptr::null_mut()) == 0,
            "sigaction"
        );
    }
}

fn interrupted_pc(ctx: *mut libc::c_void) -> usize {
    // SAFETY: the ucontext the kernel passed to an SA_SIGINFO handler.
    unsafe { (*ctx.cast::<libc::ucontext_t>()).uc_mcontext.gregs[libc::REG_RIP as usize] as usize }
}

// ---- halt from a signal handler that interrupted a call ----

static THREADS_INSIDE: AtomicUsize = AtomicUsize::new(0);
static CPU_OWNER: AtomicUsize = AtomicUsize::new(0);
static HALT_STARTED: AtomicBool = AtomicBool::new(false);
static HALT_DONE: AtomicBool = AtomicBool::new(false);
static HALT_RESULT: AtomicI64 = AtomicI64::new(i64::MIN);
static WINDOW_PC: AtomicUsize = AtomicUsize::new(0);

/// Whether this thread, the only one that calls in, is counted in
/// (threads_inside) without owning the CPU: in lkl_syscall() before it
/// took the CPU or after it gave it back. The entry/exit window where it
/// was counted in but not yet marked as in a call was the bug.
fn in_entry_window() -> bool {
    read_long(THREADS_INSIDE.load(SeqCst)) == 1
        && read_long(CPU_OWNER.load(SeqCst)) as usize != pthread_self()
}

extern "C" fn halting_handler(_: libc::c_int, _: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    if HALT_STARTED.load(SeqCst) || !in_entry_window() {
        return;
    }
    HALT_STARTED.store(true, SeqCst);
    WINDOW_PC.store(interrupted_pc(ctx), SeqCst);
    // A program's SIGTERM handler that shuts the kernel down.
    HALT_RESULT.store(halt(), SeqCst);
    HALT_DONE.store(true, SeqCst);
}

/// A program's SIGTERM handler halts while its thread is inside
/// lkl_syscall() but does not own the CPU. Halt waits until no other
/// thread is counted in, and the interrupted frame below the handler holds
/// one count that cannot go until the handler returns: the halt used to
/// wait forever when the handler came between the count and the in-call
/// mark. It must be refused with -EDEADLK, as any call from a handler that
/// interrupted a call is, and a later halt must succeed.
fn halt_from_handler_in_entry_window() {
    THREADS_INSIDE.store(symbol("threads_inside").0, SeqCst);
    CPU_OWNER.store(symbol("cpu_owner").0, SeqCst);
    check!(boot(c"mem=32M") == 0, "boot");
    install(libc::SIGUSR1, halting_handler);
    let (tx, rx) = std::sync::mpsc::channel();
    let hammer = std::thread::spawn(move || {
        check!(syscall(nr::getpid, &[]) == 1, "first call");
        tx.send(pthread_self()).unwrap();
        let mut last = 0;
        while !HALT_DONE.load(SeqCst) {
            last = syscall(nr::getpid, &[]);
            if last == -ENODEV {
                break;
            }
        }
        last
    });
    let target = rx.recv().unwrap() as libc::pthread_t;
    let start = Instant::now();
    while !HALT_STARTED.load(SeqCst) {
        check!(
            start.elapsed() < Duration::from_secs(60),
            "INCONCLUSIVE: no signal landed in the window in 60 s"
        );
        // SAFETY: the hammer thread lives until it sees HALT_DONE.
        unsafe { libc::pthread_kill(target, libc::SIGUSR1) };
        for _ in 0..200 {
            std::hint::spin_loop();
        }
    }
    eprintln!(
        "handler halts at pc {:#x} after {:?}",
        WINDOW_PC.load(SeqCst),
        start.elapsed()
    );
    let waited = Instant::now();
    while !HALT_DONE.load(SeqCst) {
        check!(
            waited.elapsed() < Duration::from_secs(14),
            "lkl_halt() from the handler has not returned after 14 s: threads_inside = {} (the interrupted frame below the handler)",
            read_long(THREADS_INSIDE.load(SeqCst))
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let last = hammer.join().unwrap();
    check!(
        HALT_RESULT.load(SeqCst) == -EDEADLK,
        "halt from a handler that interrupted a call returned {}, not -EDEADLK",
        HALT_RESULT.load(SeqCst)
    );
    check!(last == 1, "interrupted call returned {last}");
    check!(halt() == 0, "halt after the refused one");
}

// ---- scenario 2: a kick reaches program code after the drain's self-resend ----

static KICK_TARGET: AtomicUsize = AtomicUsize::new(0);
static VICTIM: AtomicUsize = AtomicUsize::new(0);
static STALLS: AtomicU64 = AtomicU64::new(0);

/// On the thread raising interrupts: if a kick is aimed at the victim,
/// stall 50 ms, as a preempted thread would. Often the raiser is then
/// between claiming the kick and sending it; the victim must wait for it
/// rather than leave the kernel.
extern "C" fn stalling_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    if read_long(KICK_TARGET.load(SeqCst)) as usize != VICTIM.load(SeqCst) {
        return;
    }
    STALLS.fetch_add(1, SeqCst);
    let pause = libc::timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    };
    // SAFETY: a valid timespec.
    unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
}

/// lkl_kick_drain() waits while a kick is on its way to the thread that
/// gives up the CPU. lkl_host_kick_wait() used to send the thread a kick of
/// its own every 100th attempt, "in case it was lost": its handler cleared
/// kick_target and the drain ended, though the real sender, stalled after
/// claiming the kick, had not sent yet. When it did, the kick landed in
/// program code (here a poll(), which fails with EINTR whatever SA_RESTART
/// says).
fn kick_after_self_resend_reaches_program() {
    KICK_TARGET.store(symbol("kick_target").0, SeqCst);
    check!(boot(c"mem=32M") == 0, "boot");
    check!(lkl_sys::lkl_host::kick_signal() > 0, "kicks on");
    install(libc::SIGUSR2, stalling_handler);
    let stop = Arc::new(AtomicBool::new(false));
    let intr = Arc::new(AtomicU64::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let victim = {
        let (stop, intr) = (stop.clone(), intr.clone());
        std::thread::spawn(move || {
            VICTIM.store(pthread_self(), SeqCst);
            let mut rounds = 0u64;
            while !stop.load(SeqCst) {
                for _ in 0..2000 {
                    check!(syscall(nr::getpid, &[]) == 1, "victim getpid");
                }
                // SAFETY: poll with no descriptors is a 5 ms sleep.
                if unsafe { libc::poll(std::ptr::null_mut(), 0, 5) } != 0 {
                    intr.fetch_add(1, SeqCst);
                }
                rounds += 1;
            }
            rounds
        })
    };
    let raiser = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            tx.send(pthread_self()).unwrap();
            let mut raised = 0u64;
            while !stop.load(SeqCst) {
                // SAFETY: a valid interrupt number.
                check!(unsafe { lkl_trigger_irq(9) } == 0, "trigger");
                raised += 1;
            }
            raised
        })
    };
    let raiser_thread = rx.recv().unwrap() as libc::pthread_t;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(8) && intr.load(SeqCst) < 3 {
        // SAFETY: the raiser lives until it is joined below.
        unsafe { libc::pthread_kill(raiser_thread, libc::SIGUSR2) };
        std::thread::sleep(Duration::from_micros(50));
    }
    stop.store(true, SeqCst);
    let rounds = victim.join().unwrap();
    let raised = raiser.join().unwrap();
    let intr = intr.load(SeqCst);
    let stalls = STALLS.load(SeqCst);
    eprintln!(
        "{rounds} victim rounds, {raised} raises, {} kicks, {stalls} stalled senders, {intr} poll() interrupted",
        lkl_sys::lkl_host::kicks_sent(),
    );
    check!(
        intr == 0,
        "{intr} of the victim's poll() calls were interrupted: kicks reached program code ({stalls} stalled senders)"
    );
    check!(
        stalls > 0,
        "INCONCLUSIVE: the sender was never stalled in the window"
    );
    check!(halt() == 0, "halt");
}

// ---- scenario 3: host threads of exited kernel threads are never joined before halt ----

/// One NOP that io_uring hands to an io-wq worker (a kernel thread); the
/// ring is closed afterwards.
fn async_nop() {
    let ring = Ring::new(Setup {
        entries: 4,
        ..Setup::default()
    });
    let done = ring.and_then(|mut ring| {
        let done = ring.run(&[Sqe::new(IORING_OP_NOP, IOSQE_ASYNC, 1)])?;
        ring.finish(true)?;
        Ok(done)
    });
    check!(
        matches!(done.as_deref(), Ok([c]) if c.res == 0),
        "the async NOP: {done:?}"
    );
}

fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Each host thread ending with io_uring work leaves an io-wq worker, a
/// kernel thread, that exits. exit_thread() puts its host thread on a list
/// joined only at halt, so every exited kernel thread keeps its pthread
/// (stack mapping, guard page, TLS) until the kernel halts: a long-running
/// program leaks without bound.
fn exited_kernel_threads_leak_until_halt() {
    check!(boot(c"mem=32M") == 0, "boot");
    // Warm up: the first round allocates what stays anyway.
    for _ in 0..5 {
        std::thread::spawn(async_nop).join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    let (vm0, rss0) = (status_kib("VmSize:"), status_kib("VmRSS:"));
    const ROUNDS: u64 = 200;
    for _ in 0..ROUNDS {
        std::thread::spawn(async_nop).join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let (vm1, rss1) = (status_kib("VmSize:"), status_kib("VmRSS:"));
    let per_round = (vm1.saturating_sub(vm0)) / ROUNDS;
    eprintln!(
        "after {ROUNDS} worker exits: VmSize +{} MiB ({per_round} KiB per exited kernel thread), VmRSS +{} KiB",
        (vm1.saturating_sub(vm0)) / 1024,
        rss1.saturating_sub(rss0)
    );
    check!(
        per_round < 512,
        "every exited kernel thread keeps {per_round} KiB of address space until halt"
    );
    check!(halt() == 0, "halt");
}

// ---- scenario 4..: bad input to the entry points ----

/// Out-of-range and negative system call numbers get -ENOSYS.
fn bad_syscall_numbers() {
    check!(boot(c"mem=32M") == 0, "boot");
    for no in [
        -1,
        -1000,
        c_long::MIN,
        c_long::MAX,
        1 << 30,
        (1 << 30) | 39,
        100_000,
        463,
        512,
    ] {
        let ret = syscall(no, &[0, 0, 0, 0, 0, 0]);
        check!(ret == -ENOSYS, "syscall {no} returned {ret}, not -ENOSYS");
    }
    check!(syscall(nr::getpid, &[]) == 1, "getpid");
    check!(halt() == 0, "halt");
}

/// Bad interrupt numbers are refused; every valid one is harmless, from
/// many threads at once, and the kernel runs on.
fn trigger_every_irq() {
    check!(boot(c"mem=32M") == 0, "boot");
    for irq in [i32::MIN, -1, 0, 64, 65, 4096, i32::MAX] {
        // SAFETY: any number is allowed.
        let ret = unsafe { lkl_trigger_irq(irq) };
        check!(
            ret == -(EINVAL as i32),
            "lkl_trigger_irq({irq}) returned {ret}"
        );
    }
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..2000 {
                    for irq in 1..64 {
                        // SAFETY: any number is allowed.
                        check!(unsafe { lkl_trigger_irq(irq) } == 0, "trigger {irq}");
                    }
                }
            })
        })
        .collect();
    for _ in 0..2000 {
        check!(
            syscall(nr::getpid, &[]) == 1,
            "getpid under an interrupt storm"
        );
    }
    for t in threads {
        t.join().unwrap();
    }
    check!(halt() == 0, "halt");
}

/// lkl_syscall() with a NULL parameter block (a call without arguments
/// from C: `lkl_syscall(__NR_getpid, NULL)`).
fn null_params() {
    check!(boot(c"mem=32M") == 0, "boot");
    // SAFETY: NULL parameters stand for six zeros.
    let ret = unsafe { lkl_syscall(nr::getpid, std::ptr::null_mut()) };
    check!(ret == 1, "lkl_syscall(getpid, NULL) returned {ret}");
    // SAFETY: as above; the reboot call refuses zero magic numbers.
    let ret = unsafe { lkl_halt(std::ptr::null_mut()) };
    check!(ret == -EINVAL, "lkl_halt(NULL) returned {ret}, not -EINVAL");
    // SAFETY: as above.
    let ret = unsafe { lkl_syscall(nr::reboot, std::ptr::null_mut()) };
    check!(
        ret == -EINVAL,
        "reboot with NULL returned {ret}, not -EINVAL"
    );
    check!(halt() == 0, "halt");
}

/// A command line with more unknown name=value words than the kernel
/// passes to init: documented to boot or come back as an error code.
fn cmdline_too_many_init_vars() {
    let mut cmdline = String::from("mem=32M");
    for i in 0..40 {
        cmdline.push_str(&format!(" lkl_hostile_{i}=1"));
    }
    let cmdline = std::ffi::CString::new(cmdline).unwrap();
    let ret = boot(&cmdline);
    eprintln!("lkl_start_kernel returned {ret}");
    if ret == 0 {
        check!(halt() == 0, "halt");
    }
}

/// mem= larger than the host can map: documented -ENOMEM. The memory used
/// to be taken in setup_arch(), whose panic() at the host's refusal came
/// before the panic notifier and spun forever on the boot thread.
fn cmdline_mem_huge() {
    let ret = boot(c"mem=100T");
    check!(
        ret == -(ENOMEM as i32),
        "mem=100T returned {ret}, not -ENOMEM"
    );
    check!(boot(c"mem=32M") == 0, "boot after the refusal");
    check!(halt() == 0, "halt");
}

/// mem= whose page alignment wraps around to 0 used to pass the check
/// (it is not below 16M) and hang the boot as mem=100T did.
fn cmdline_mem_wraps() {
    let ret = boot(c"mem=18446744073709551615");
    check!(
        ret == -(EINVAL as i32),
        "mem=2^64-1 returned {ret}, not -EINVAL"
    );
    check!(boot(c"mem=32M") == 0, "boot after the refusal");
    check!(halt() == 0, "halt");
}

/// Refused command lines leave the kernel bootable.
fn cmdline_refusals_then_boot() {
    let long = std::ffi::CString::new("x".repeat(5000)).unwrap();
    check!(boot(&long) == -(E2BIG as i32), "5000-byte command line");
    check!(
        boot(c"mem=32M \"unclosed") == -(EINVAL as i32),
        "unclosed quote"
    );
    check!(boot(c"mem=15M") == -(EINVAL as i32), "mem=15M");
    check!(boot(c"mem=") == -(EINVAL as i32), "mem=");
    check!(boot(c"mem=12Q") == -(EINVAL as i32), "mem=12Q");
    check!(boot(c"mem=32M") == 0, "boot after the refusals");
    check!(boot(c"mem=32M") == -(EBUSY as i32), "second boot");
    check!(syscall(nr::getpid, &[]) == 1, "getpid");
    check!(halt() == 0, "halt");
}

/// After halt every entry point answers without touching freed memory:
/// calls and halts get -ENODEV, interrupts are accepted and dropped, a
/// thread whose task was freed exits cleanly, and boot is refused.
fn use_after_halt() {
    check!(boot(c"mem=32M") == 0, "boot");
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    // A thread with a task, which exits only after the halt.
    let late = std::thread::spawn(move || {
        check!(syscall(nr::getpid, &[]) == 1, "late getpid");
        ready_tx.send(()).unwrap();
        rx.recv().unwrap();
        syscall(nr::getpid, &[])
    });
    ready_rx.recv().unwrap();
    check!(halt() == 0, "halt");
    check!(halt() == -ENODEV, "second halt");
    check!(syscall(nr::getpid, &[]) == -ENODEV, "call after halt");
    check!(
        syscall(nr::reboot, &[0, 0, 0]) == -ENODEV,
        "reboot after halt"
    );
    for irq in 1..64 {
        // SAFETY: any number is allowed.
        check!(unsafe { lkl_trigger_irq(irq) } == 0, "trigger after halt");
    }
    tx.send(()).unwrap();
    check!(late.join().unwrap() == -ENODEV, "late thread's call");
    check!(boot(c"mem=32M") == -(EBUSY as i32), "boot after halt");
    // SAFETY: no preconditions.
    let running = unsafe { lkl_sys::lkl_is_running() };
    check!(running == 0, "running after halt");
}

static SIGNAL_HALT: AtomicI64 = AtomicI64::new(i64::MIN);

extern "C" fn program_code_halt(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    SIGNAL_HALT.store(halt(), SeqCst);
}

/// A SIGTERM-style handler on a thread in program code halts, while other
/// threads hammer calls and block in reads, and threads exit (their TLS
/// destructors race the halt).
fn halt_from_handler_with_exits() {
    check!(boot(c"mem=32M") == 0, "boot");
    install(libc::SIGUSR1, program_code_halt);
    let mut fds = [0i32; 2];
    check!(
        syscall(nr::pipe2, &[fds.as_mut_ptr() as c_long, 0]) == 0,
        "pipe2"
    );
    let r = fds[0] as c_long;
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for i in 0..6 {
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || {
            while !stop.load(SeqCst) {
                match i % 3 {
                    0 => {
                        let ret = syscall(nr::getpid, &[]);
                        check!(ret == 1 || ret == -ENODEV, "getpid {ret}");
                        if ret == -ENODEV {
                            break;
                        }
                    }
                    1 => {
                        let mut b = [0u8; 1];
                        let ret = syscall(nr::read, &[r, b.as_mut_ptr() as c_long, 1]);
                        check!(ret == -EINTR || ret == -ENODEV, "read {ret}");
                        if ret == -ENODEV {
                            break;
                        }
                    }
                    _ => {
                        // Threads that make a task and exit at once.
                        std::thread::spawn(|| syscall(nr::gettid, &[]))
                            .join()
                            .unwrap();
                    }
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: raising a signal at this thread, in program code.
    unsafe { libc::raise(libc::SIGUSR1) };
    check!(
        SIGNAL_HALT.load(SeqCst) == 0,
        "halt from the handler: {}",
        SIGNAL_HALT.load(SeqCst)
    );
    stop.store(true, SeqCst);
    for t in threads {
        t.join().unwrap();
    }
}

// ---- parent side ----

fn run(name: &str, limit: Duration) -> Result<String, String> {
    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("own path"))
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
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the child") {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap_or_default();
    // Keep the report short: the kernel's boot log is long.
    let tail: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('[') || l.contains("lkl") || l.contains("anic"))
        .collect();
    let tail = tail.join("\n");
    match status {
        None => Err(format!("hung: killed after {limit:?}\n{tail}")),
        Some(s) if s.success() => Ok(format!("{:.2}s", start.elapsed().as_secs_f64())),
        Some(s) => Err(format!("child {} (signal {:?})\n{tail}", s, s.signal())),
    }
}

type Scenario = (&'static str, fn(), u64);

const SCENARIOS: [Scenario; 12] = [
    (
        "halt_from_handler_in_entry_window",
        halt_from_handler_in_entry_window,
        90,
    ),
    (
        "kick_after_self_resend_reaches_program",
        kick_after_self_resend_reaches_program,
        40,
    ),
    (
        "exited_kernel_threads_leak_until_halt",
        exited_kernel_threads_leak_until_halt,
        120,
    ),
    ("bad_syscall_numbers", bad_syscall_numbers, 30),
    ("trigger_every_irq", trigger_every_irq, 60),
    ("null_params", null_params, 30),
    ("cmdline_too_many_init_vars", cmdline_too_many_init_vars, 30),
    ("cmdline_mem_huge", cmdline_mem_huge, 15),
    ("cmdline_mem_wraps", cmdline_mem_wraps, 15),
    ("cmdline_refusals_then_boot", cmdline_refusals_then_boot, 30),
    ("use_after_halt", use_after_halt, 30),
    (
        "halt_from_handler_with_exits",
        halt_from_handler_with_exits,
        30,
    ),
];

fn main() {
    if let Ok(name) = std::env::var(SCENARIO_VAR) {
        match SCENARIOS.iter().find(|(n, _, _)| *n == name) {
            Some((_, scenario, _)) => scenario(),
            None => {
                eprintln!("unknown scenario {name}");
                std::process::exit(2);
            }
        }
        std::process::exit(0);
    }
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, _, limit) in SCENARIOS {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        match run(name, Duration::from_secs(limit)) {
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
    println!("adversarial: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
