// SPDX-License-Identifier: GPL-2.0
//! `make bench`: measures the library kernel against the project's goals,
//! each baseline measured in the same run: the host's own getpid for
//! system calls, the host kernel's loop mount of the same ext4 image for
//! disks.
//!
//! A process holds one kernel, so each measurement that boots one runs in
//! a child process (this binary again, `LKL_BENCH_CHILD` naming what it
//! measures), which prints `result <name> <value>` lines; this process
//! boots nothing, runs the host's side of the disk part itself, and prints
//! the tables.

mod disk;

use std::collections::HashMap;
use std::ffi::c_long;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const CHILD_VAR: &str = "LKL_BENCH_CHILD";
const IMAGE_VAR: &str = "LKL_BENCH_IMAGE";
const DROP_CACHES_VAR: &str = "LKL_BENCH_DROP_CACHES";
/// Where the disk part makes its image (default: the temporary directory).
const DIR_VAR: &str = "LKL_BENCH_DIR";
/// Disk passes per side (default 3).
const RUNS_VAR: &str = "LKL_BENCH_RUNS";
const DEFAULT_RUNS: usize = 3;
/// Processes that boot, measure getpid and halt.
const CORE_RUNS: usize = 5;

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

/// The child that boots, measures getpid and RSS, and halts.
fn core_child() -> Result<(), String> {
    let start = Instant::now();
    // SAFETY: a NUL-terminated command line.
    let booted = unsafe { lkl_sys::lkl_start_kernel(c"%s".as_ptr(), c"mem=32M".as_ptr()) };
    if booted != 0 {
        return Err(format!("lkl_start_kernel failed: {booted}"));
    }
    if lkl_getpid() != 1 {
        return Err("getpid in the kernel is not 1".into());
    }
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
    if halted != 0 {
        return Err(format!("lkl_halt failed: {halted}"));
    }
    println!("result boot_ms {}", boot.as_secs_f64() * 1e3);
    println!("result halt_ms {}", halt.as_secs_f64() * 1e3);
    println!("result lkl_getpid_median_ns {lkl_median}");
    println!("result lkl_getpid_p99_ns {lkl_p99}");
    println!("result host_getpid_median_ns {host_median}");
    println!("result host_getpid_p99_ns {host_p99}");
    println!("result rss_kib {rss}");
    Ok(())
}

/// The child that runs the library's side of one disk pass.
fn disk_child() -> Result<(), String> {
    let image = std::env::var_os(IMAGE_VAR).ok_or(format!("{IMAGE_VAR} is not set"))?;
    let drop_caches = std::env::var(DROP_CACHES_VAR).as_deref() == Ok("1");
    let (times, boot_to_mount) =
        disk::library_pass(Path::new(&image), drop_caches).map_err(|e| e.to_string())?;
    print_times(&times);
    println!("result boot_to_mount_s {}", boot_to_mount.as_secs_f64());
    Ok(())
}

fn print_times(times: &disk::PassTimes) {
    println!("result write_s {}", times.write.as_secs_f64());
    println!("result read_s {}", times.read.as_secs_f64());
    println!("result create_s {}", times.create.as_secs_f64());
    println!("result stat_s {}", times.stat.as_secs_f64());
}

type Results = HashMap<String, f64>;

/// Runs this binary as child `what`, with `env`; returns its results.
fn run_child(what: &str, env: &[(&str, &std::ffi::OsStr)]) -> Result<Results, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let mut command = Command::new(exe);
    command.env(CHILD_VAR, what).stderr(Stdio::inherit());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().map_err(|e| format!("child {what}: {e}"))?;
    if !output.status.success() {
        return Err(format!("child {what} failed ({})", output.status));
    }
    let mut results = Results::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut words = line.split_whitespace();
        if let (Some("result"), Some(name), Some(value)) =
            (words.next(), words.next(), words.next())
        {
            let value = value
                .parse()
                .map_err(|e| format!("child {what}: bad result line {line:?}: {e}"))?;
            results.insert(name.to_owned(), value);
        }
    }
    Ok(results)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// The values of `name` in each of `runs`.
fn series(runs: &[Results], name: &str) -> Result<Vec<f64>, String> {
    runs.iter()
        .map(|r| {
            r.get(name)
                .copied()
                .ok_or(format!("no {name} in a child's results"))
        })
        .collect()
}

fn core_part() -> Result<(), String> {
    let runs = (0..CORE_RUNS)
        .map(|_| run_child("core", &[]))
        .collect::<Result<Vec<_>, _>>()?;
    let boot = series(&runs, "boot_ms")?;
    let (boot_min, boot_max) = min_max(&boot);
    let boot_median = median(&boot);
    let halt = median(&series(&runs, "halt_ms")?);
    let lkl_median = median(&series(&runs, "lkl_getpid_median_ns")?);
    let lkl_p99 = median(&series(&runs, "lkl_getpid_p99_ns")?);
    let host_median = median(&series(&runs, "host_getpid_median_ns")?);
    let host_p99 = median(&series(&runs, "host_getpid_p99_ns")?);
    let rss = series(&runs, "rss_kib")?;
    let (rss_min, rss_max) = min_max(&rss);
    let rss_median = median(&rss);

    println!("Core: {CORE_RUNS} processes, each boots (mem=32M, library_defconfig: every file system built in), measures, halts; medians over them");
    println!();
    println!("| measure | result | goal | |");
    println!("|---|---|---|---|");
    println!(
        "| boot to first syscall, median (min-max) | {boot_median:.1} ms ({boot_min:.1}-{boot_max:.1}) | <= {} ms | {} |",
        BOOT_GOAL.as_millis(),
        verdict(boot_median <= BOOT_GOAL.as_secs_f64() * 1e3)
    );
    println!("| halt | {halt:.1} ms | | |");
    println!(
        "| getpid via lkl_syscall, median / p99 | {lkl_median:.0} / {lkl_p99:.0} ns | <= {GETPID_GOAL_NS} ns median | {} |",
        verdict(lkl_median <= GETPID_GOAL_NS as f64)
    );
    println!(
        "| host getpid() (baseline), median / p99 | {host_median:.0} / {host_p99:.0} ns | | |"
    );
    println!(
        "| library / host getpid, median | {:.2}x | | |",
        lkl_median / host_median.max(1.0)
    );
    println!(
        "| RSS after boot, median (min-max) | {:.1} MiB ({:.1}-{:.1}) | <= {} MiB | {} |",
        rss_median / 1024.0,
        rss_min / 1024.0,
        rss_max / 1024.0,
        RSS_GOAL_KIB / 1024,
        verdict(rss_median <= RSS_GOAL_KIB as f64)
    );
    println!("({ITERATIONS} calls per getpid series; times include Instant::now() overhead)");
    Ok(())
}

/// The disk part's scratch directory: the image and the host's mount point.
struct Scratch {
    dir: PathBuf,
    image: PathBuf,
    mount_point: PathBuf,
}

impl Scratch {
    fn new() -> Result<Scratch, String> {
        let base = std::env::var_os(DIR_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("lkl-bench-{}", std::process::id()));
        let mount_point = dir.join("mnt");
        std::fs::create_dir_all(&mount_point)
            .map_err(|e| format!("{}: {e}", mount_point.display()))?;
        Ok(Scratch {
            image: dir.join("ext4.img"),
            dir,
            mount_point,
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.image);
        let _ = std::fs::remove_dir(&self.mount_point);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Free bytes of the file system holding `dir`.
fn free_bytes(dir: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    // SAFETY: statvfs is plain data; all-zero is a valid value.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a valid statvfs to fill.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stats.f_bavail as u64 * stats.f_frsize as u64)
}

fn runs_wanted() -> Result<usize, String> {
    match std::env::var(RUNS_VAR) {
        Err(_) => Ok(DEFAULT_RUNS),
        Ok(text) => match text.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "{RUNS_VAR}={text:?}: want a number of passes, at least 1"
            )),
        },
    }
}

fn disk_part(runs: usize) -> Result<(), String> {
    println!();
    println!("Disk: one sparse {} GiB ext4 image (mkfs.ext4 defaults, inode tables and journal zeroed at mkfs), made afresh before every pass; {runs} pass(es) per side, host and library alternating; each part on a fresh mount", disk::IMAGE_BYTES >> 30);
    let scratch = Scratch::new()?;
    let free = free_bytes(&scratch.dir).map_err(|e| format!("{}: {e}", scratch.dir.display()))?;
    if free < disk::IMAGE_BYTES + (256 << 20) {
        println!(
            "skipped: {} has {} MiB free, the image needs {} MiB",
            scratch.dir.display(),
            free >> 20,
            disk::IMAGE_BYTES >> 20
        );
        return Ok(());
    }
    if let Err(e) = disk::make_image(&scratch.image) {
        println!("skipped: cannot make the ext4 image: {e}");
        return Ok(());
    }
    let drop_caches = match disk::drop_host_caches() {
        Ok(()) => true,
        Err(e) => {
            println!("WARNING: caches are not dropped, every result below is warm: {e}");
            false
        }
    };
    let host = disk::probe_host_loop_mount(&scratch.image, &scratch.mount_point);
    if let Err(reason) = &host {
        println!("host side skipped: {reason}");
    }

    let mut host_runs = Vec::new();
    let mut library_runs = Vec::new();
    let cold = std::ffi::OsStr::new(if drop_caches { "1" } else { "0" });
    for _ in 0..runs {
        if host.is_ok() {
            disk::make_image(&scratch.image).map_err(|e| e.to_string())?;
            let times = disk::host_pass(&scratch.image, &scratch.mount_point, drop_caches)
                .map_err(|e| format!("host pass: {e}"))?;
            host_runs.push(times);
        }
        disk::make_image(&scratch.image).map_err(|e| e.to_string())?;
        let results = run_child(
            "disk",
            &[
                (IMAGE_VAR, scratch.image.as_os_str()),
                (DROP_CACHES_VAR, cold),
            ],
        )?;
        library_runs.push(results);
    }
    print_disk_table(&host_runs, &library_runs, drop_caches)
}

fn mib_per_s(seconds: f64) -> f64 {
    (disk::BIG_FILE_BYTES >> 20) as f64 / seconds
}

fn files_per_s(seconds: f64) -> f64 {
    (disk::SMALL_DIRS * disk::SMALL_FILES_PER_DIR) as f64 / seconds
}

/// A row of the disk table.
struct Case {
    name: String,
    /// The library child's result, in seconds.
    key: &'static str,
    /// The same time in a host pass.
    host_time: fn(&disk::PassTimes) -> Duration,
    unit: &'static str,
    /// Seconds to the rate shown.
    rate: fn(f64) -> f64,
    /// The least library / host ratio wanted, if any.
    goal: Option<f64>,
}

fn print_disk_table(
    host_runs: &[disk::PassTimes],
    library_runs: &[Results],
    caches_dropped: bool,
) -> Result<(), String> {
    let files = disk::SMALL_DIRS * disk::SMALL_FILES_PER_DIR;
    let cold = if caches_dropped { "cold" } else { "WARM" };
    let big_gib = disk::BIG_FILE_BYTES >> 30;
    let cases = [
        Case {
            name: format!("sequential write, {big_gib} GiB in 1 MiB writes + fsync"),
            key: "write_s",
            host_time: |t| t.write,
            unit: "MiB/s",
            rate: mib_per_s,
            goal: Some(SEQUENTIAL_GOAL),
        },
        Case {
            name: format!("sequential read, {big_gib} GiB in 1 MiB reads, {cold}"),
            key: "read_s",
            host_time: |t| t.read,
            unit: "MiB/s",
            rate: mib_per_s,
            goal: Some(SEQUENTIAL_GOAL),
        },
        Case {
            name: format!(
                "create {files} files of {} KiB in {} dirs + syncfs",
                disk::SMALL_FILE_BYTES >> 10,
                disk::SMALL_DIRS
            ),
            key: "create_s",
            host_time: |t| t.create,
            unit: "files/s",
            rate: files_per_s,
            goal: None,
        },
        Case {
            name: format!("stat {files} files, {cold}"),
            key: "stat_s",
            host_time: |t| t.stat,
            unit: "files/s",
            rate: files_per_s,
            goal: None,
        },
    ];
    println!();
    println!("| case | host kernel, loop mount | library | library / host | goal |");
    println!("|---|---|---|---|---|");
    let mut detail = Vec::new();
    for Case {
        name,
        key,
        host_time,
        unit,
        rate,
        goal,
    } in &cases
    {
        let library: Vec<f64> = series(library_runs, key)?.into_iter().map(rate).collect();
        let host: Vec<f64> = host_runs
            .iter()
            .map(|t| rate(host_time(t).as_secs_f64()))
            .collect();
        let library_median = median(&library);
        let (host_cell, ratio_cell, goal_cell) = if host.is_empty() {
            ("skipped".to_owned(), String::new(), String::new())
        } else {
            let host_median = median(&host);
            let ratio = library_median / host_median;
            let goal_cell = match goal {
                Some(goal) => format!(">= {goal}x: {}", verdict(ratio >= *goal)),
                None => String::new(),
            };
            (
                format!("{host_median:.0} {unit}"),
                format!("{ratio:.2}x"),
                goal_cell,
            )
        };
        println!(
            "| {name} | {host_cell} | {library_median:.0} {unit} | {ratio_cell} | {goal_cell} |"
        );
        let list = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let host_list = if host.is_empty() {
            String::new()
        } else {
            format!("host {} / ", list(&host))
        };
        detail.push(format!(
            "{key}: {host_list}library {} {unit}",
            list(&library)
        ));
    }
    let boot_to_mount: Vec<f64> = series(library_runs, "boot_to_mount_s")?
        .into_iter()
        .map(|s| s * 1e3)
        .collect();
    let (lo, hi) = min_max(&boot_to_mount);
    println!(
        "| library: disk open + boot (mem={}M) + ext4 mount, host caches warm, median (min-max) | | {:.1} ms ({lo:.1}-{hi:.1}) | | |",
        disk::LIBRARY_MEMORY_MIB,
        median(&boot_to_mount)
    );
    println!("(medians of the passes; each pass: {})", detail.join("; "));
    Ok(())
}

/// The library's sequential throughput against the host kernel's.
const SEQUENTIAL_GOAL: f64 = 0.8;

fn main() -> ExitCode {
    let outcome = match std::env::var(CHILD_VAR).as_deref() {
        Ok("core") => core_child(),
        Ok("disk") => disk_child(),
        Ok(other) => Err(format!(
            "{CHILD_VAR}={other:?}: not a child of this benchmark (core, disk)"
        )),
        // Bad settings are refused before anything runs.
        Err(_) => runs_wanted().and_then(|runs| core_part().and_then(|()| disk_part(runs))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lkl-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
