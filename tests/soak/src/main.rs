// SPDX-License-Identifier: GPL-2.0
//! `make soak`: a long run of the library kernel, on demand (not in CI).
//!
//! For 20 minutes by default: rounds of host threads that come and go,
//! each entering the kernel (so each gets a kernel task that its exit must
//! clean up), making mixed system calls whose every result is checked;
//! io_uring rings without and with SQPOLL, with requests handed to io-wq
//! workers; and between the work, idle pauses of 330 s, longer than the
//! workqueue's 300 s idle-worker timeout, in which no thread enters the
//! kernel. Kernel time is checked against host time throughout. The run
//! ends with a halt that must succeed; the exit code is 0 only if
//! everything held, 1 on an unexpected result or a kernel warning on the
//! console, 3 when the watchdog found no progress, 2 for bad options.

mod mixed;
mod probe;
mod report;
mod uring;
mod watchdog;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lkl::fs::{raw, Mode, UnmountFlags};
use lkl::{Errno, Kernel};

use crate::probe::{Tasks, TimeBase, TimeCheck};
use crate::report::{check, elapsed, get, must, ok, set_phase, Sys, TOTALS};

/// The workqueue's IDLE_WORKER_TIMEOUT: idle workers beyond the pool's
/// minimum are culled after this.
const IDLE_WORKER_TIMEOUT: Duration = Duration::from_secs(300);
/// The shortest run that counts as a soak.
const SPEC_SECONDS: u64 = 15 * 60;

const DEFAULT_SECONDS: u64 = 20 * 60;
const DEFAULT_IDLE_SECONDS: u64 = 330;
const DEFAULT_IDLE_PAUSES: u64 = 2;
const DEFAULT_WATCHDOG_SECONDS: u64 = 60;

/// One round: its threads start together and are all joined at its end.
const MIXED_WORKERS: u64 = 4;
const MIXED_OPS: u32 = 150;
const BRIEF_THREADS: u64 = 6;
const FUTEX_PAIR_ROUNDS: u32 = 100;
const RING_CYCLES: u32 = 8;
/// How often a progress line (and a time check) comes.
const REPORT_EVERY: Duration = Duration::from_secs(10);

const USAGE: &str = "\
usage: lkl-soak [--seconds N] [--idle-seconds N] [--idle-pauses N]
                [--watchdog-seconds N] [--no-sqpoll] [--console]

  --seconds N           whole run, idle pauses included (SOAK_SECONDS; 1200)
  --idle-seconds N      length of each idle pause (SOAK_IDLE_SECONDS; 330)
  --idle-pauses N       idle pauses between the work (SOAK_IDLE_PAUSES; 2)
  --watchdog-seconds N  end the run if no kernel call returns for N s
                        outside the idle pauses (SOAK_WATCHDOG_SECONDS; 60)
  --no-sqpoll           leave out the SQPOLL rings (SOAK_SQPOLL=0)
  --console             copy the kernel console to stderr (SOAK_CONSOLE=1)

The defaults are the soak; shorter settings are for development, and the
run then says that it does not meet the soak's specification.";

struct Config {
    seconds: u64,
    idle_seconds: u64,
    idle_pauses: u64,
    watchdog_seconds: u64,
    sqpoll: bool,
    console: bool,
}

impl Config {
    fn parse() -> Result<Config, String> {
        let number = |name: &str, text: &str| -> Result<u64, String> {
            text.parse()
                .map_err(|_| format!("{name}: '{text}' is not a whole number"))
        };
        let env_number = |var: &str, default: u64| match std::env::var(var) {
            Ok(text) => number(var, &text),
            Err(_) => Ok(default),
        };
        let env_flag = |var: &str, default: bool| match std::env::var(var).as_deref() {
            Ok("1") => Ok(true),
            Ok("0") => Ok(false),
            Ok(other) => Err(format!("{var}: '{other}' is neither 0 nor 1")),
            Err(_) => Ok(default),
        };
        let mut config = Config {
            seconds: env_number("SOAK_SECONDS", DEFAULT_SECONDS)?,
            idle_seconds: env_number("SOAK_IDLE_SECONDS", DEFAULT_IDLE_SECONDS)?,
            idle_pauses: env_number("SOAK_IDLE_PAUSES", DEFAULT_IDLE_PAUSES)?,
            watchdog_seconds: env_number("SOAK_WATCHDOG_SECONDS", DEFAULT_WATCHDOG_SECONDS)?,
            sqpoll: env_flag("SOAK_SQPOLL", true)?,
            console: env_flag("SOAK_CONSOLE", false)?,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| format!("{name} needs a value"))
                    .and_then(|v| number(name, &v))
            };
            match arg.as_str() {
                "--seconds" => config.seconds = value("--seconds")?,
                "--idle-seconds" => config.idle_seconds = value("--idle-seconds")?,
                "--idle-pauses" => config.idle_pauses = value("--idle-pauses")?,
                "--watchdog-seconds" => config.watchdog_seconds = value("--watchdog-seconds")?,
                "--no-sqpoll" => config.sqpoll = false,
                "--console" => config.console = true,
                "--help" | "-h" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown option '{other}'")),
            }
        }
        if config.watchdog_seconds == 0 {
            return Err("the watchdog needs at least 1 s".into());
        }
        let work = config
            .seconds
            .saturating_sub(config.idle_seconds.saturating_mul(config.idle_pauses));
        if work < 3 * (config.idle_pauses + 1) {
            return Err(format!(
                "{} s leave too little work around {} idle pauses of {} s",
                config.seconds, config.idle_pauses, config.idle_seconds
            ));
        }
        Ok(config)
    }

    /// What keeps this run from being the soak the issue asks for.
    fn shortfalls(&self) -> Vec<String> {
        let mut short = Vec::new();
        if self.seconds < SPEC_SECONDS {
            short.push(format!("runs {} s, under {SPEC_SECONDS} s", self.seconds));
        }
        if self.idle_pauses == 0 || self.idle_seconds <= IDLE_WORKER_TIMEOUT.as_secs() {
            short.push(format!(
                "no idle pause longer than the workqueue's {} s idle timeout",
                IDLE_WORKER_TIMEOUT.as_secs()
            ));
        }
        if !self.sqpoll {
            short.push("no SQPOLL rings".into());
        }
        short
    }

    /// Seconds of work in each of the segments around the pauses.
    fn segment_seconds(&self) -> u64 {
        (self.seconds - self.idle_seconds * self.idle_pauses) / (self.idle_pauses + 1)
    }
}

static NEXT_THREAD_ID: AtomicU64 = AtomicU64::new(1);

/// Starts a thread of the soak, listed for the watchdog under `label`.
fn spawn(kind: &str, body: impl FnOnce(u64) + Send + 'static) -> (String, JoinHandle<()>) {
    let id = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
    let label = format!("{kind} #{id}");
    let activity = label.clone();
    report::add(&TOTALS.threads_started, 1);
    let handle = std::thread::Builder::new()
        .name(format!("soak-{id}"))
        .spawn(move || {
            report::enter_activity(activity);
            body(id);
        })
        .unwrap_or_else(|e| report::fail(format!("spawn {label}: {e}")));
    (label, handle)
}

/// The kworker counts around one idle pause.
struct PauseRecord {
    before: Tasks,
    after: Tasks,
    a_second_later: Tasks,
    clock_lag: f64,
    jiffies_lag: f64,
}

struct Run {
    config: Config,
    with_proc: bool,
    base: TimeBase,
    booted_at: Instant,
    rounds: u64,
    next_report: Duration,
    max_clock_lag: f64,
    max_jiffies_lag: f64,
    pauses: Vec<PauseRecord>,
}

impl Run {
    /// One round of threads; returns when all have ended.
    fn round(&mut self) {
        let mut threads = Vec::new();
        for _ in 0..MIXED_WORKERS {
            let with_proc = self.with_proc;
            threads.push(spawn("mixed worker", move |id| {
                mixed::run_worker(id, MIXED_OPS, with_proc)
            }));
        }
        let word = Arc::new(AtomicU32::new(0));
        for ping in [true, false] {
            let word = word.clone();
            threads.push(spawn(
                if ping { "futex ping" } else { "futex pong" },
                move |_| mixed::futex_pair_thread(&word, ping, FUTEX_PAIR_ROUNDS),
            ));
        }
        for k in 0..BRIEF_THREADS {
            threads.push(spawn("brief thread", move |_| {
                mixed::brief_thread(k % 2 == 1)
            }));
        }
        threads.push(spawn("io_uring", |id| {
            uring::ring_session(id, false, RING_CYCLES)
        }));
        if self.config.sqpoll {
            threads.push(spawn("io_uring SQPOLL", |id| {
                uring::ring_session(id, true, RING_CYCLES)
            }));
        }
        report::step("joining the round's threads");
        for (label, handle) in threads {
            if handle.join().is_err() {
                report::fail(format!("{label} panicked"));
            }
            report::add(&TOTALS.threads_ended, 1);
        }
        self.rounds += 1;
    }

    /// Kernel time against host time, with the largest lags kept.
    fn time_check(&mut self, when: &str) -> TimeCheck {
        report::step("time check");
        let result = self.base.check(when);
        self.max_clock_lag = self.max_clock_lag.max(result.clock_lag());
        self.max_jiffies_lag = self.max_jiffies_lag.max(result.jiffies_lag());
        result
    }

    fn progress_line(&mut self, phase: &str) {
        // A kernel warning ends the run here, with the console's last
        // lines, rather than at the end.
        if let Some(first) = report::console_alarms().first() {
            report::fail(format!("the kernel console reported a problem: {first}"));
        }
        let time = self.time_check(phase);
        let tasks = if self.with_proc {
            let t = probe::tasks();
            format!(
                ", kworkers {}, pid 1 threads {}",
                t.kworkers, t.pid1_threads
            )
        } else {
            String::new()
        };
        println!(
            "[{:7.1} s] {phase}: round {}, threads {} started {} ended, calls {}, \
             io_uring ops {} plain {} SQPOLL, kernel lag {:+.3} s clock {:+.3} s jiffies{tasks}",
            elapsed().as_secs_f64(),
            self.rounds,
            get(&TOTALS.threads_started),
            get(&TOTALS.threads_ended),
            report::total_calls(),
            get(&TOTALS.ring_ops[0]),
            get(&TOTALS.ring_ops[1]),
            time.clock_lag(),
            time.jiffies_lag(),
        );
    }

    fn work(&mut self, phase: &str, until: Duration) {
        set_phase(phase);
        self.next_report = elapsed() + REPORT_EVERY;
        println!(
            "[{:7.1} s] {phase}: until {:.0} s",
            elapsed().as_secs_f64(),
            until.as_secs_f64()
        );
        while elapsed() < until {
            report::step("starting a round");
            self.round();
            if elapsed() >= self.next_report {
                self.progress_line(phase);
                self.next_report = elapsed() + REPORT_EVERY;
            }
        }
        self.progress_line(phase);
    }

    fn idle_pause(&mut self, phase: &str) {
        set_phase(phase);
        let pause = Duration::from_secs(self.config.idle_seconds);
        let before = if self.with_proc {
            probe::tasks()
        } else {
            Tasks::default()
        };
        self.time_check(&format!("{phase}, before"));
        println!(
            "[{:7.1} s] {phase}: {} s, no thread enters the kernel; kworkers before: {} ({})",
            elapsed().as_secs_f64(),
            pause.as_secs(),
            before.kworkers,
            before.kworker_list()
        );
        report::step("idle pause (host sleep)");
        watchdog::expect_quiet(pause + Duration::from_secs(5));
        let calls = report::total_calls();
        let end = Instant::now() + pause;
        let mut next_line = Duration::from_secs(60);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            let slept = pause - left;
            if slept >= next_line {
                println!(
                    "[{:7.1} s] {phase}: idle {} of {} s",
                    elapsed().as_secs_f64(),
                    slept.as_secs(),
                    pause.as_secs()
                );
                next_line += Duration::from_secs(60);
            }
            std::thread::sleep(left.min(Duration::from_secs(1)));
        }
        // The soak's own threads made no call meanwhile (the watchdog's
        // pulse counts every one).
        check(report::total_calls() == calls, || {
            format!(
                "{} kernel calls during the idle pause",
                report::total_calls() - calls
            )
        });
        // The first call after the pause: kernel time must have kept up.
        let time = self.time_check(&format!("{phase}, first call after"));
        watchdog::quiet_over();
        let (after, a_second_later) = if self.with_proc {
            let after = probe::tasks();
            ok(
                Sys::Nanosleep,
                "nanosleep 1 s",
                lkl::process::nanosleep(Duration::from_secs(1)),
            );
            (after, probe::tasks())
        } else {
            (Tasks::default(), Tasks::default())
        };
        println!(
            "[{:7.1} s] {phase}: over; kernel lag {:+.3} s clock {:+.3} s jiffies; \
             kworkers {} before, {} after ({}), {} a second later ({})",
            elapsed().as_secs_f64(),
            time.clock_lag(),
            time.jiffies_lag(),
            before.kworkers,
            after.kworkers,
            after.kworker_list(),
            a_second_later.kworkers,
            a_second_later.kworker_list()
        );
        self.pauses.push(PauseRecord {
            before,
            after,
            a_second_later,
            clock_lag: time.clock_lag(),
            jiffies_lag: time.jiffies_lag(),
        });
    }

    /// After the last round: the ended threads' tasks and io_uring's
    /// threads go away, and no file is left behind.
    fn settle(&mut self, baseline: &Tasks) -> Tasks {
        set_phase("settle");
        report::step("waiting for the ended threads' tasks to go");
        let mut tasks = baseline.clone();
        if self.with_proc {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                tasks = probe::tasks();
                if (tasks.pid1_threads <= baseline.pid1_threads && tasks.io_workers == 0)
                    || Instant::now() > deadline
                {
                    break;
                }
                ok(
                    Sys::Nanosleep,
                    "nanosleep 100 ms",
                    lkl::process::nanosleep(Duration::from_millis(100)),
                );
            }
            check(
                tasks.pid1_threads <= baseline.pid1_threads
                    && tasks.io_workers == 0
                    && tasks.sq_threads == 0,
                || {
                    format!(
                        "30 s after the last round pid 1 still has {} threads \
                         ({} io-wq workers, {} SQPOLL threads); it had {} before the first",
                        tasks.pid1_threads,
                        tasks.io_workers,
                        tasks.sq_threads,
                        baseline.pid1_threads
                    )
                },
            );
        }
        let left = must(
            format_args!("read_dir {}", mixed::WORK_DIR),
            probe::dir_names(mixed::WORK_DIR),
        );
        check(left.len() == 2, || {
            format!("files left in {}: {:?}", mixed::WORK_DIR, left)
        });
        tasks
    }
}

fn main() {
    let config = match Config::parse() {
        Ok(config) => config,
        Err(why) => {
            eprintln!("lkl-soak: {why}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let _ = elapsed(); // the soak's clock starts here
    report::enter_activity("main".into());
    let shortfalls = config.shortfalls();
    println!(
        "lkl-soak: {} s, {} idle pause(s) of {} s (the workqueue culls idle workers after {} s), \
         io_uring {}, watchdog {} s",
        config.seconds,
        config.idle_pauses,
        config.idle_seconds,
        IDLE_WORKER_TIMEOUT.as_secs(),
        if config.sqpoll {
            "without and with SQPOLL"
        } else {
            "without SQPOLL only"
        },
        config.watchdog_seconds
    );
    println!(
        "each round: {MIXED_WORKERS} mixed workers x {MIXED_OPS} operations, a futex pair x \
         {FUTEX_PAIR_ROUNDS}, {BRIEF_THREADS} brief threads, io_uring rings x {RING_CYCLES} cycles"
    );
    if !shortfalls.is_empty() {
        println!(
            "note: a shortened run, not the soak ({})",
            shortfalls.join("; ")
        );
    }

    report::capture_console(config.console);
    watchdog::start(Duration::from_secs(config.watchdog_seconds));
    set_phase("boot");
    report::step("boot");
    let boot_start = Instant::now();
    let kernel = Kernel::builder()
        .memory_mib(64)
        .boot()
        .unwrap_or_else(|errno| report::fail(format!("boot: {errno:?}")));
    let booted_at = Instant::now();
    report::console_booted();
    let release = ok(Sys::Uname, "uname", lkl::process::kernel_release());
    println!(
        "[{:7.1} s] booted Linux {release} in {:.3} s",
        elapsed().as_secs_f64(),
        boot_start.elapsed().as_secs_f64()
    );

    set_phase("setup");
    ok(
        Sys::Mkdir,
        format_args!("mkdir {}", mixed::WORK_DIR),
        raw::mkdir(mixed::WORK_DIR, Mode::from_bits_truncate(0o755)),
    );
    let with_proc = probe::mount_proc();
    let baseline = if with_proc {
        probe::tasks()
    } else {
        Tasks::default()
    };
    let mem_free_start = with_proc.then(probe::mem_free_kib);
    let mut run = Run {
        with_proc,
        base: TimeBase::now(),
        booted_at,
        rounds: 0,
        next_report: elapsed() + REPORT_EVERY,
        max_clock_lag: 0.0,
        max_jiffies_lag: 0.0,
        pauses: Vec::new(),
        config,
    };
    println!(
        "[{:7.1} s] setup: kworkers {} ({}), kernel processes {}, pid 1 threads {}{}",
        elapsed().as_secs_f64(),
        baseline.kworkers,
        baseline.kworker_list(),
        baseline.processes,
        baseline.pid1_threads,
        mem_free_start.map_or(String::new(), |kib| format!(", MemFree {kib} KiB"))
    );

    let segments = run.config.idle_pauses + 1;
    let segment = Duration::from_secs(run.config.segment_seconds());
    for k in 0..segments {
        run.work(&format!("work {}/{segments}", k + 1), elapsed() + segment);
        if k + 1 < segments {
            run.idle_pause(&format!("idle pause {}/{}", k + 1, segments - 1));
        }
    }

    let settled = run.settle(&baseline);
    let last = run.time_check("end");
    let uptime = with_proc.then(|| probe::uptime(None, "/proc/uptime"));
    let mem_free_end = with_proc.then(probe::mem_free_kib);
    let host_since_boot = run.booted_at.elapsed();
    if with_proc {
        ok(
            Sys::Umount2,
            "umount /proc",
            raw::umount(probe::PROC, UnmountFlags::empty()),
        );
    }

    set_phase("halt");
    report::step("halt");
    let halt_start = Instant::now();
    if let Err(refused) = kernel.halt() {
        report::fail(format!("halt: {refused}"));
    }
    let halt_took = halt_start.elapsed();
    report::expect_errno(
        Sys::Getpid,
        "getpid after halt",
        lkl::process::getpid(),
        Errno::NODEV,
    );

    let alarms = report::console_alarms();
    report::add(&TOTALS.errors, alarms.len() as u64);
    summary(
        &run,
        &Summary {
            baseline,
            settled,
            last,
            uptime,
            host_since_boot,
            mem_free: (mem_free_start, mem_free_end),
            halt_took,
            alarms: &alarms,
            shortfalls: &shortfalls,
        },
    );
    if get(&TOTALS.errors) > 0 {
        println!("soak: FAILED");
        std::process::exit(1);
    }
    if shortfalls.is_empty() {
        println!("soak: PASSED");
    } else {
        println!(
            "soak: PASSED as a shortened run only ({})",
            shortfalls.join("; ")
        );
    }
}

struct Summary<'a> {
    baseline: Tasks,
    settled: Tasks,
    last: TimeCheck,
    uptime: Option<f64>,
    host_since_boot: Duration,
    mem_free: (Option<u64>, Option<u64>),
    halt_took: Duration,
    alarms: &'a [String],
    shortfalls: &'a [String],
}

fn summary(run: &Run, s: &Summary) {
    println!("[{:7.1} s] summary", elapsed().as_secs_f64());
    println!(
        "  host time {:.1} s in all, {:.1} s since boot; the kernel's, since the first check: \
         CLOCK_MONOTONIC {:.1} s, jiffies {:.1} s against the host's {:.1} s \
         (largest lag {:+.3} s clock, {:+.3} s jiffies)",
        elapsed().as_secs_f64(),
        s.host_since_boot.as_secs_f64(),
        s.last.monotonic.as_secs_f64(),
        s.last.jiffies.as_secs_f64(),
        s.last.host.as_secs_f64(),
        run.max_clock_lag,
        run.max_jiffies_lag
    );
    if let Some(uptime) = s.uptime {
        println!(
            "  /proc/uptime {uptime:.1} s against {:.1} s of host time since boot",
            s.host_since_boot.as_secs_f64()
        );
    }
    println!(
        "  rounds {}; threads started {}, ended {}; tasks ended by exit and replaced {}",
        run.rounds,
        get(&TOTALS.threads_started),
        get(&TOTALS.threads_ended),
        get(&TOTALS.task_exits)
    );
    println!(
        "  io_uring without SQPOLL: {} rings, {} ops ({} IOSQE_ASYNC)",
        get(&TOTALS.rings[0]),
        get(&TOTALS.ring_ops[0]),
        get(&TOTALS.ring_async_ops[0])
    );
    println!(
        "  io_uring with SQPOLL: {} rings, {} ops ({} IOSQE_ASYNC), {} wake-ups of a sleeping SQ thread",
        get(&TOTALS.rings[1]),
        get(&TOTALS.ring_ops[1]),
        get(&TOTALS.ring_async_ops[1]),
        get(&TOTALS.sq_wakeups)
    );
    println!("  system calls: {} in all", report::total_calls());
    for (name, count) in report::calls_by_kind() {
        if count > 0 {
            println!("    {name:<16} {count:>12}");
        }
    }
    for (k, pause) in run.pauses.iter().enumerate() {
        println!(
            "  idle pause {}: kworkers {} before, {} after, {} a second later; \
             kernel lag after it {:+.3} s clock, {:+.3} s jiffies",
            k + 1,
            pause.before.kworkers,
            pause.after.kworkers,
            pause.a_second_later.kworkers,
            pause.clock_lag,
            pause.jiffies_lag
        );
    }
    if run.with_proc {
        println!(
            "  tasks: pid 1 threads {} at the start, {} at the end; kernel processes {} then {}",
            s.baseline.pid1_threads,
            s.settled.pid1_threads,
            s.baseline.processes,
            s.settled.processes
        );
    }
    if let (Some(start), Some(end)) = s.mem_free {
        println!("  MemFree {start} KiB at the start, {end} KiB at the end");
    }
    println!("  halt: ok in {:.3} s", s.halt_took.as_secs_f64());
    let (console, dropped) = report::console_after_boot();
    println!(
        "  kernel console after boot: {} line(s), {} of them warnings{}",
        console.len() + dropped,
        s.alarms.len(),
        if dropped > 0 {
            format!(" ({dropped} not kept)")
        } else {
            String::new()
        }
    );
    for line in &console {
        println!("    {line}");
    }
    println!("  errors: {}", get(&TOTALS.errors));
    if !s.shortfalls.is_empty() {
        println!("  shortened: {}", s.shortfalls.join("; "));
    }
}
