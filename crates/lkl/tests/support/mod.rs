// SPDX-License-Identifier: GPL-2.0
//! Shared by the disk and fs tests: scenarios run in child processes (a
//! process holds one kernel), data patterns, host commands and image
//! digests.
//!
//! A test binary lists its scenarios and calls [`child_entry`] first thing
//! (in `main`, or in every `#[test]`): in a child, where
//! [`SCENARIO_VAR`] names the scenario, it runs it and exits; in the
//! parent it returns. The parent starts children with [`run`].

// Each test binary uses a part of this module.
#![allow(dead_code)]

pub mod tree;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Names the scenario a child runs.
pub const SCENARIO_VAR: &str = "LKL_TEST_SCENARIO";
/// A directory of the parent's for the child's images and files.
pub const DIR_VAR: &str = "LKL_TEST_DIR";

pub type Outcome = Result<(), Box<dyn std::error::Error>>;

/// A scenario: its name and what the child runs.
pub type Scenario = (&'static str, fn() -> Outcome);

/// Boots the kernel of a disk scenario: 64 MiB, its console on stderr
/// (which the parent shows, filtered by [`interesting`]).
pub fn boot() -> Result<lkl::Kernel, Box<dyn std::error::Error>> {
    Ok(lkl::Kernel::builder()
        .memory_mib(64)
        .console_to_stderr()
        .boot()?)
}

/// [`boot`], with /proc mounted for [`drop_caches`].
pub fn boot_with_proc() -> Result<lkl::Kernel, Box<dyn std::error::Error>> {
    let kernel = boot()?;
    lkl::fs::create_dir_all("/proc")?;
    lkl::fs::raw::mount("proc", "/proc", "proc", lkl::fs::MountFlags::empty(), None)?;
    Ok(kernel)
}

/// Empties the kernel's page cache, so that the next reads go to the
/// disk. Needs the /proc of [`boot_with_proc`].
pub fn drop_caches() -> std::io::Result<()> {
    lkl::fs::write("/proc/sys/vm/drop_caches", b"3")
}

/// Bytes that differ from block to block, so misplaced blocks show.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// In a child, runs the scenario [`SCENARIO_VAR`] names and exits (0 if
/// it succeeded; 1 with the error printed if not; 2 if no such scenario);
/// in the parent, returns.
pub fn child_entry(scenarios: &[Scenario]) {
    let Ok(name) = std::env::var(SCENARIO_VAR) else {
        return;
    };
    let code = match scenarios.iter().find(|(n, _)| *n == name) {
        None => {
            println!("unknown scenario {name}");
            2
        }
        Some((_, scenario)) => match scenario() {
            Ok(()) => 0,
            Err(e) => {
                println!("SCENARIO ERROR {name}: {e}");
                1
            }
        },
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: ends the process without running destructors: the test
    // harness' threads, a kernel a scenario may leave behind on purpose.
    unsafe { libc::_exit(code) };
}

/// The child's directory, from [`DIR_VAR`].
pub fn dir() -> PathBuf {
    PathBuf::from(std::env::var_os(DIR_VAR).expect("LKL_TEST_DIR names the scenario's directory"))
}

/// A child's result: its status (`None` if it was killed at the time
/// limit), its stdout and stderr, and how long it ran.
pub struct Run {
    pub status: Option<ExitStatus>,
    pub out: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

/// Starts this binary again as a child running `scenario` on `dir`, with
/// `extra` environment. `test` is the `#[test]` the child must run
/// (`--exact`) under the libtest harness; a binary with its own `main`
/// ignores it.
pub fn spawn(scenario: &str, test: &str, dir: &Path, extra: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary's path"));
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(SCENARIO_VAR, scenario)
        .env(DIR_VAR, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().expect("starting a child of the test binary")
}

/// Reads all of `pipe` on a thread of its own, so that a chatty child
/// never blocks on a full pipe (its kernel console writes while it holds
/// the kernel's CPU, so one blocked write stops the whole kernel).
pub fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut text);
        }
        text
    })
}

/// Waits for `child` for up to `limit`; past it, prints the child's
/// threads and where they wait, and kills it.
pub fn wait(mut child: Child, limit: Duration) -> Run {
    let start = Instant::now();
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let mut status = None;
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().expect("waiting for a child") {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if status.is_none() {
        let pid = child.id();
        let stacks = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "for t in /proc/{pid}/task/*; do echo \"$t $(cat $t/comm) $(cat $t/wchan 2>/dev/null)\"; done"
            ))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        println!("HANG after {limit:?}; threads:\n{stacks}");
        let _ = child.kill();
    }
    let _ = child.wait();
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    Run {
        status,
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
        elapsed: start.elapsed(),
    }
}

/// Runs `scenario` in a child and waits for it.
pub fn run(
    scenario: &str,
    test: &str,
    dir: &Path,
    extra: &[(&str, String)],
    limit: Duration,
) -> Run {
    wait(spawn(scenario, test, dir, extra), limit)
}

/// [`run`] with no extra environment, then prints the child's status,
/// time and [`interesting`] output.
pub fn run_shown(scenario: &str, test: &str, dir: &Path, limit: Duration) -> Run {
    let run = run(scenario, test, dir, &[], limit);
    println!(
        "{scenario}: {:?} in {:.1?}\n{}",
        run.status,
        run.elapsed,
        interesting(&run.out)
    );
    run
}

/// A child's output without the kernel's boot chatter (lines starting
/// with `[`), but with its warnings and errors.
pub fn interesting(out: &str) -> String {
    const KEEP: &[&str] = &[
        "WARN", "BUG", "rror", "Oops", "virtio", "blk", "EXT4", "BTRFS", "XFS", "FAT", "I/O",
        "lkl:", "hung", "panic", "vd", "buffer",
    ];
    out.lines()
        .filter(|l| !l.starts_with('[') || KEEP.iter().any(|k| l.contains(k)))
        .filter(|l| !l.starts_with("running ") && !l.starts_with("test result") && !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fresh directory for one test's images, removed by [`TempDir`]'s drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("lkl-test-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("a temporary directory");
        TempDir(d)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // A loop mount left behind by a failed test would keep the image.
        let _ = Command::new("umount")
            .arg("-R")
            .arg(self.0.join("mnt"))
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a host command; its stdout, or an error with the command, its
/// status and everything it printed.
pub fn host(cmd: &[&str], args: &[&Path]) -> Result<String, String> {
    host_env(cmd, args, &[])
}

/// [`host`] with extra environment.
pub fn host_env(cmd: &[&str], args: &[&Path], env: &[(&str, &str)]) -> Result<String, String> {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", cmd[0]))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "`{} {}`: {}\n{stdout}{}",
            cmd.join(" "),
            args.iter()
                .map(|a| a.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A sparse file of `mib` MiB, made by `mkfs` (its arguments, the image
/// last).
pub fn make_image(path: &Path, mib: u64, mkfs: &[&str]) -> Result<(), String> {
    std::fs::File::create(path)
        .and_then(|f| f.set_len(mib << 20))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    host(mkfs, &[path]).map(drop)
}

/// 64-bit FNV-1a: a digest of contents for manifests.
pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The state of an image file on the host: the SHA-256 of all its bytes
/// (by `sha256sum`), and its mtime and size.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageState {
    pub sha256: String,
    pub mtime: (i64, i64),
    pub len: u64,
}

pub fn image_state(path: &Path) -> Result<ImageState, String> {
    use std::os::unix::fs::MetadataExt;
    let sum = host(&["sha256sum"], &[path])?;
    let md = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(ImageState {
        sha256: sum.split_whitespace().next().unwrap_or_default().to_owned(),
        mtime: (md.mtime(), md.mtime_nsec()),
        len: md.len(),
    })
}

/// Whether the host kernel can loop-mount `image` as `fstype`, found by
/// trying: a mount read-only at `mountpoint`, unmounted at once. The
/// answer names what was tried.
pub fn host_can_mount(image: &Path, fstype: &str, mountpoint: &Path) -> Result<(), String> {
    let listed = std::fs::read_to_string("/proc/filesystems")
        .map(|l| {
            l.lines()
                .any(|l| l.split_whitespace().last() == Some(fstype))
        })
        .unwrap_or(false);
    // A kernel may load the module on demand: try even when not listed.
    let _ = std::fs::create_dir_all(mountpoint);
    let opts = format!("loop,ro,{}", no_recovery(fstype));
    match host(
        &["mount", "-t", fstype, "-o", opts.trim_end_matches(',')],
        &[image, mountpoint],
    ) {
        Ok(_) => {
            host(&["umount"], &[mountpoint])?;
            Ok(())
        }
        Err(e) => Err(format!(
            "the host kernel cannot loop-mount {fstype} ({} in /proc/filesystems): {}",
            if listed { "listed" } else { "not listed" },
            e.lines()
                .find(|l| l.contains("mount:"))
                .unwrap_or_else(|| e.lines().last().unwrap_or_default())
                .trim()
        )),
    }
}

/// The mount option that keeps a read-only mount of `fstype` from
/// replaying a journal or log (which writes the image).
pub fn no_recovery(fstype: &str) -> &'static str {
    match fstype {
        "ext4" | "xfs" => "norecovery",
        "btrfs" => "rescue=nologreplay",
        _ => "",
    }
}

/// Loop-mounts `image` as `fstype` on the host, unmounting on drop.
pub struct HostMount {
    dir: PathBuf,
}

impl HostMount {
    pub fn new(image: &Path, fstype: &str, options: &str, dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let opts = format!("loop,{options}");
        host(
            &["mount", "-t", fstype, "-o", opts.trim_end_matches(',')],
            &[image, dir],
        )?;
        Ok(HostMount {
            dir: dir.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn unmount(mut self) -> Result<(), String> {
        let r = host(&["umount"], &[&self.dir]).map(drop);
        self.dir = PathBuf::new();
        r
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        if !self.dir.as_os_str().is_empty() {
            let _ = host(&["umount"], &[&self.dir]);
        }
    }
}

/// A loop device on the host for an image file, detached on drop: for a
/// user-space driver that takes only block devices.
pub struct LoopDevice {
    dev: PathBuf,
}

impl LoopDevice {
    pub fn new(image: &Path) -> Result<Self, String> {
        let dev = host(&["losetup", "--find", "--show"], &[image])?;
        Ok(LoopDevice {
            dev: PathBuf::from(dev.trim()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dev
    }

    pub fn detach(mut self) -> Result<(), String> {
        let r = host(&["losetup", "--detach"], &[&self.dev]).map(drop);
        self.dev = PathBuf::new();
        r
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        if !self.dev.as_os_str().is_empty() {
            let _ = host(&["losetup", "--detach"], &[&self.dev]);
        }
    }
}

/// A file system's own user-space driver (a FUSE daemon), run in the
/// foreground so that the test knows when it has written everything and
/// exited: the mount is up when [`FuseMount::new`] returns, and
/// [`FuseMount::unmount`] waits for the daemon to end. Dropping it
/// unmounts and waits too, or kills a daemon that does not end.
pub struct FuseMount {
    daemon: Option<Child>,
    dir: PathBuf,
    log: PathBuf,
    what: String,
}

/// How long a FUSE daemon may take to mount, or to end once unmounted.
const FUSE_WAIT: Duration = Duration::from_secs(15);

impl FuseMount {
    /// Runs `cmd` (the daemon and its options) on `source` and `dir`, with
    /// `env`, its output in `log`, and waits for the mount at `dir`. The
    /// error says why there is none: the daemon missing, ended, or slow,
    /// with the end of its output.
    pub fn new(
        cmd: &[&str],
        source: &Path,
        dir: &Path,
        env: &[(&str, &str)],
        log: &Path,
    ) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let what = format!("`{} {} {}`", cmd.join(" "), source.display(), dir.display());
        let daemon = Command::new(cmd[0])
            .args(&cmd[1..])
            .arg(source)
            .arg(&dir)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", cmd[0]))?;
        let mut mount = FuseMount {
            daemon: Some(daemon),
            dir,
            log: log.to_owned(),
            what,
        };
        let start = Instant::now();
        loop {
            if mount.is_mounted() {
                return Ok(mount);
            }
            let ended = mount
                .daemon
                .as_mut()
                .and_then(|d| d.try_wait().ok().flatten());
            if let Some(status) = ended {
                mount.daemon = None;
                return Err(format!(
                    "{} ended ({status}){}",
                    mount.what,
                    mount.log_tail()
                ));
            }
            if start.elapsed() > FUSE_WAIT {
                return Err(format!(
                    "{} mounted nothing in {FUSE_WAIT:?}{}",
                    mount.what,
                    mount.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Whether something is mounted at the directory, by the host's
    /// mount table.
    fn is_mounted(&self) -> bool {
        let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") else {
            return false;
        };
        let dir = self.dir.to_string_lossy();
        table
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(dir.as_ref()))
    }

    /// The last lines the daemon printed, to explain a failure.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; its output ends:\n{tail}")
        }
    }

    /// Unmounts, and waits for the daemon to end: then everything it
    /// wrote is in the image. An error if either fails, or the daemon
    /// ends with an error.
    pub fn unmount(mut self) -> Result<(), String> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), String> {
        let Some(mut daemon) = self.daemon.take() else {
            return Ok(());
        };
        let unmounted = host(&["umount"], &[&self.dir]);
        let start = Instant::now();
        loop {
            match daemon.try_wait() {
                Ok(Some(status)) if status.success() => return unmounted.map(drop),
                Ok(Some(status)) => {
                    return Err(format!(
                        "{} ended with {status}{}",
                        self.what,
                        self.log_tail()
                    ))
                }
                Ok(None) if start.elapsed() < FUSE_WAIT && unmounted.is_ok() => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = daemon.kill();
                    let _ = daemon.wait();
                    return Err(format!(
                        "{} did not end once unmounted ({}), killed{}",
                        self.what,
                        unmounted.err().unwrap_or_else(|| "unmounted".into()),
                        self.log_tail()
                    ));
                }
            }
        }
    }
}

impl Drop for FuseMount {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
