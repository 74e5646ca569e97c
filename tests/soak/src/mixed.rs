// SPDX-License-Identifier: GPL-2.0
//! Threads of mixed system calls, each result checked: the mixed worker,
//! the futex pair and the brief threads.

use std::ffi::c_long;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use lkl::fs::raw::{self, SeekFrom};
use lkl::fs::{Mode, OFlags};
use lkl::io::{Epoll, EpollFlags};
use lkl::lkl_sys::{nr, uapi};
use lkl::{Errno, Fd};
// splitmix64, seeded apart: a different, repeatable mix for each thread.
use lkl_test_support::rng::Rng;

use crate::probe::{self, raw_call, CLOCK_MONOTONIC, CLOCK_REALTIME};
use crate::report::{self, check, counted, expect_errno, must, ok, step, Sys};

/// Where the workers make their files (the root file system).
pub const WORK_DIR: &str = "/soak";

const FUTEX_WAIT_PRIVATE: c_long = 128;
const FUTEX_WAKE_PRIVATE: c_long = 129;
const EFD_NONBLOCK: c_long = uapi::O_NONBLOCK as c_long;
const EFD_CLOEXEC: c_long = uapi::O_CLOEXEC as c_long;

/// epoll data of the worker's two watched descriptors.
const PIPE_TAG: u64 = 1;
const EVENTFD_TAG: u64 = 2;

/// A pattern no other thread, file or step writes.
pub fn fill_pattern(buf: &mut [u8], seed: u64) {
    let mut rng = Rng::new(seed);
    for chunk in buf.chunks_mut(8) {
        let word = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) -> lkl::Result<i64> {
    let ts = uapi::__kernel_timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    // SAFETY: the futex word is a live u32 (the kernel reads it); the
    // timeout a live timespec.
    unsafe {
        raw_call(
            nr::futex,
            &[
                word.as_ptr() as c_long,
                FUTEX_WAIT_PRIVATE,
                expected as c_long,
                core::ptr::addr_of!(ts) as c_long,
            ],
        )
    }
}

pub fn futex_wake(word: &AtomicU32, waiters: u32) -> lkl::Result<i64> {
    // SAFETY: the futex word is a live u32; wake only hashes its address.
    unsafe {
        raw_call(
            nr::futex,
            &[
                word.as_ptr() as c_long,
                FUTEX_WAKE_PRIVATE,
                waiters as c_long,
            ],
        )
    }
}

/// One of the operations a mixed worker draws from.
type Op = fn(&mut Worker);

/// The operations a mixed worker draws from (the file cycle twice as
/// often as the others).
const OPS: [(&str, Op); 10] = [
    ("getpid/gettid", Worker::ids),
    ("pipe round trip", Worker::pipe_round_trip),
    ("file cycle", Worker::file_cycle),
    ("stat", Worker::stat),
    ("/proc read", Worker::proc_read),
    ("nanosleep", Worker::nanosleep),
    ("futex alone", Worker::futex_alone),
    ("eventfd via epoll", Worker::eventfd_epoll),
    ("clock_gettime", Worker::clocks),
    ("file cycle", Worker::file_cycle),
];

/// A thread's own descriptors and state for the mixed operations.
pub struct Worker {
    id: u64,
    rng: Rng,
    tid: i32,
    pipe_read: Option<Fd>,
    pipe_write: Option<Fd>,
    eventfd: Option<Fd>,
    epoll: Option<Epoll>,
    proc_dir: Option<Fd>,
    last_monotonic: Duration,
    last_uptime: f64,
    files: u64,
    buf: Vec<u8>,
    back: Vec<u8>,
}

/// One mixed worker: sets up, runs `ops` random operations, closes
/// everything it opened, and returns (its thread then ends, and with it
/// its kernel task).
pub fn run_worker(id: u64, ops: u32, with_proc: bool) {
    step("setup");
    let tid = ok(Sys::Gettid, "gettid", lkl::process::gettid());
    check(tid > 1, || format!("gettid gave {tid}"));
    let (pipe_read, pipe_write) = ok(Sys::Pipe2, "pipe2", lkl::io::pipe2(OFlags::CLOEXEC));
    // SAFETY: eventfd2 takes an initial count and flags; no pointers.
    let eventfd = unsafe { raw_call(nr::eventfd2, &[0, EFD_NONBLOCK | EFD_CLOEXEC]) };
    let eventfd = ok(Sys::Eventfd2, "eventfd2", eventfd);
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    let eventfd = unsafe { Fd::from_raw(eventfd as i32) };
    let epoll = ok(Sys::EpollCreate1, "epoll_create1", Epoll::new());
    ok(
        Sys::EpollCtl,
        "epoll_ctl add pipe",
        epoll.add(&pipe_read, EpollFlags::IN, PIPE_TAG),
    );
    ok(
        Sys::EpollCtl,
        "epoll_ctl add eventfd",
        epoll.add(&eventfd, EpollFlags::IN, EVENTFD_TAG),
    );
    let proc_dir = with_proc.then(|| {
        ok(
            Sys::Openat,
            "open /proc",
            raw::open(
                probe::PROC,
                OFlags::RDONLY | OFlags::DIRECTORY,
                Mode::empty(),
            ),
        )
    });
    let mut worker = Worker {
        id,
        rng: Rng::new(id.wrapping_mul(0x2545_f491_4f6c_dd1d)),
        tid,
        pipe_read: Some(pipe_read),
        pipe_write: Some(pipe_write),
        eventfd: Some(eventfd),
        epoll: Some(epoll),
        proc_dir,
        last_monotonic: Duration::ZERO,
        last_uptime: 0.0,
        files: 0,
        buf: vec![0; 16 * 1024],
        back: vec![0; 16 * 1024],
    };
    for _ in 0..ops {
        let (name, op) = OPS[worker.rng.below(OPS.len() as u64) as usize];
        step(name);
        op(&mut worker);
    }
    step("close");
    worker.close_all();
}

impl Worker {
    fn close_all(&mut self) {
        let epoll = self.epoll.take().expect("epoll");
        ok(
            Sys::EpollCtl,
            "epoll_ctl del pipe",
            epoll.delete(self.pipe_read.as_ref().expect("pipe")),
        );
        // Epoll has no close() that reports; dropping it closes its fd.
        drop(epoll);
        let _ = counted(Sys::Close, Ok(()));
        for (what, fd) in [
            ("pipe read end", self.pipe_read.take()),
            ("pipe write end", self.pipe_write.take()),
            ("eventfd", self.eventfd.take()),
            ("/proc", self.proc_dir.take()),
        ] {
            if let Some(fd) = fd {
                ok(Sys::Close, format_args!("close {what}"), fd.close());
            }
        }
    }

    fn ids(&mut self) {
        let pid = ok(Sys::Getpid, "getpid", lkl::process::getpid());
        check(pid == 1, || format!("getpid gave {pid}, not 1"));
        let tid = ok(Sys::Gettid, "gettid", lkl::process::gettid());
        check(tid == self.tid, || {
            format!(
                "gettid gave {tid}, not {}: the thread's task changed",
                self.tid
            )
        });
    }

    fn pipe_round_trip(&mut self) {
        // At most PIPE_BUF, so the write is whole.
        let len = 1 + self.rng.below(4096) as usize;
        let seed = self.rng.next_u64();
        fill_pattern(&mut self.buf[..len], seed);
        let write_end = self.pipe_write.as_ref().expect("pipe");
        let wrote = ok(
            Sys::Write,
            "pipe write",
            raw::write(write_end, &self.buf[..len]),
        );
        check(wrote == len, || {
            format!("pipe write took {wrote} of {len} bytes")
        });
        let ready = ok(
            Sys::EpollWait,
            "epoll_wait for the pipe",
            self.epoll
                .as_ref()
                .expect("epoll")
                .wait(4, Some(Duration::ZERO)),
        );
        check(
            ready.len() == 1
                && ready[0].data == PIPE_TAG
                && ready[0].events.contains(EpollFlags::IN),
            || format!("epoll_wait after a pipe write: {ready:?}"),
        );
        let read_end = self.pipe_read.as_ref().expect("pipe");
        let mut got = 0;
        while got < len {
            let n = ok(
                Sys::Read,
                "pipe read",
                raw::read(read_end, &mut self.back[got..len]),
            );
            check(n > 0, || {
                format!("pipe read hit the end after {got} of {len}")
            });
            got += n;
        }
        check(self.back[..len] == self.buf[..len], || {
            format!("pipe data of {len} bytes came back changed")
        });
    }

    fn file_cycle(&mut self) {
        self.files += 1;
        let path = format!("{WORK_DIR}/w{}-{}", self.id, self.files);
        let len = 1 + self.rng.below(self.buf.len() as u64) as usize;
        let seed = self.rng.next_u64();
        fill_pattern(&mut self.buf[..len], seed);
        let file = ok(
            Sys::Openat,
            format_args!("create {path}"),
            raw::open(
                &path,
                OFlags::CREAT | OFlags::EXCL | OFlags::RDWR,
                Mode::from_bits_truncate(0o600),
            ),
        );
        let wrote = ok(
            Sys::Write,
            "file write",
            raw::write(&file, &self.buf[..len]),
        );
        check(wrote == len, || {
            format!("{path}: write took {wrote} of {len}")
        });
        ok(Sys::Fsync, format_args!("fsync {path}"), raw::fsync(&file));
        let pos = ok(Sys::Lseek, "lseek", raw::lseek(&file, SeekFrom::Start(0)));
        check(pos == 0, || format!("lseek to 0 gave {pos}"));
        let mut got = 0;
        while got < len {
            let n = ok(
                Sys::Read,
                "file read",
                raw::read(&file, &mut self.back[got..len]),
            );
            check(n > 0, || {
                format!("{path}: end of file after {got} of {len}")
            });
            got += n;
        }
        check(self.back[..len] == self.buf[..len], || {
            format!("{path}: {len} bytes read back changed")
        });
        let size = ok(Sys::Fstat, "fstat", raw::fstat(&file)).st_size;
        check(size == len as i64, || {
            format!("{path}: fstat size {size}, not {len}")
        });
        ok(Sys::Close, format_args!("close {path}"), file.close());
        let size = ok(Sys::Stat, format_args!("stat {path}"), raw::stat(&path)).st_size;
        check(size == len as i64, || {
            format!("{path}: stat size {size}, not {len}")
        });
        ok(
            Sys::Unlink,
            format_args!("unlink {path}"),
            raw::unlink(&path),
        );
        expect_errno(
            Sys::Stat,
            format_args!("stat {path} after unlink"),
            raw::stat(&path),
            Errno::NOENT,
        );
    }

    fn stat(&mut self) {
        for dir in ["/", WORK_DIR] {
            let mode = ok(Sys::Stat, format_args!("stat {dir}"), raw::stat(dir)).st_mode;
            check(mode & uapi::S_IFMT == uapi::S_IFDIR, || {
                format!("stat {dir}: mode {mode:o} is not a directory")
            });
        }
    }

    fn proc_read(&mut self) {
        let Some(proc_dir) = self.proc_dir.as_ref() else {
            return self.ids();
        };
        // openat relative to /proc: this thread's own task, then uptime.
        let status = must(
            "read /proc/thread-self/status",
            probe::read_text(Some(proc_dir), "thread-self/status"),
        );
        let pid_line = format!("\nPid:\t{}\n", self.tid);
        check(
            status.contains(&pid_line) && status.contains("\nTgid:\t1\n"),
            || format!("/proc/thread-self/status of tid {}: {status:?}", self.tid),
        );
        let uptime = probe::uptime(Some(proc_dir), "uptime");
        check(uptime >= self.last_uptime, || {
            format!(
                "/proc/uptime went back from {} to {uptime}",
                self.last_uptime
            )
        });
        self.last_uptime = uptime;
    }

    fn nanosleep(&mut self) {
        let want = Duration::from_micros(50 + self.rng.below(2000));
        let start = Instant::now();
        ok(Sys::Nanosleep, "nanosleep", lkl::process::nanosleep(want));
        let took = start.elapsed();
        check(took >= want && took < probe::MAX_LAG, || {
            format!("a kernel nanosleep of {want:?} took {took:?}")
        });
    }

    fn futex_alone(&mut self) {
        let word = AtomicU32::new(7);
        expect_errno(
            Sys::Futex,
            "FUTEX_WAIT on a changed value",
            futex_wait(&word, 8, Duration::from_secs(5)),
            Errno::AGAIN,
        );
        expect_errno(
            Sys::Futex,
            "FUTEX_WAIT with a 200 us timeout",
            futex_wait(&word, 7, Duration::from_micros(200)),
            Errno::TIMEDOUT,
        );
        let woken = ok(Sys::Futex, "FUTEX_WAKE", futex_wake(&word, 1));
        check(woken == 0, || {
            format!("FUTEX_WAKE woke {woken} waiters of none")
        });
    }

    fn eventfd_epoll(&mut self) {
        let value = 1 + self.rng.below(1000);
        let eventfd = self.eventfd.as_ref().expect("eventfd");
        let wrote = ok(
            Sys::Write,
            "eventfd write",
            raw::write(eventfd, &value.to_ne_bytes()),
        );
        check(wrote == 8, || format!("eventfd write took {wrote} bytes"));
        let ready = ok(
            Sys::EpollWait,
            "epoll_wait for the eventfd",
            self.epoll
                .as_ref()
                .expect("epoll")
                .wait(4, Some(Duration::ZERO)),
        );
        check(ready.len() == 1 && ready[0].data == EVENTFD_TAG, || {
            format!("epoll_wait after an eventfd write: {ready:?}")
        });
        let mut counter = [0u8; 8];
        let n = ok(Sys::Read, "eventfd read", raw::read(eventfd, &mut counter));
        let got = u64::from_ne_bytes(counter);
        check(n == 8 && got == value, || {
            format!("eventfd read gave {got} ({n} bytes), not {value}")
        });
        expect_errno(
            Sys::Read,
            "eventfd read when empty",
            raw::read(eventfd, &mut counter),
            Errno::AGAIN,
        );
    }

    fn clocks(&mut self) {
        let now = probe::kernel_clock(CLOCK_MONOTONIC);
        check(now >= self.last_monotonic, || {
            format!(
                "CLOCK_MONOTONIC went back from {:?} to {now:?}",
                self.last_monotonic
            )
        });
        self.last_monotonic = now;
        // The kernel's wall clock comes from the host's: after 2020.
        let wall = probe::kernel_clock(CLOCK_REALTIME);
        check(wall.as_secs() > 1_577_836_800, || {
            format!("CLOCK_REALTIME is {wall:?}")
        });
    }
}

/// Two threads pass a turn back and forth through a futex word: the ping
/// thread makes it odd, the pong thread even, each waking the other.
pub fn futex_pair_thread(word: &AtomicU32, ping: bool, rounds: u32) {
    for round in 0..rounds {
        let odd = 2 * round + 1;
        let (mine, theirs) = if ping { (odd, odd + 1) } else { (odd + 1, odd) };
        if !ping {
            wait_for(word, theirs);
        }
        word.store(mine, Ordering::SeqCst);
        ok(Sys::Futex, "FUTEX_WAKE of the pair", futex_wake(word, 1));
        if ping {
            wait_for(word, theirs);
        }
    }
}

/// Sleeps on the futex until the word holds `want`; a wake that never
/// comes ends the run.
fn wait_for(word: &AtomicU32, want: u32) {
    step("futex wait for the other thread");
    loop {
        let seen = word.load(Ordering::SeqCst);
        if seen == want {
            return;
        }
        match counted(Sys::Futex, futex_wait(word, seen, Duration::from_secs(10))) {
            Ok(_) | Err(Errno::AGAIN) => {}
            Err(Errno::TIMEDOUT) if word.load(Ordering::SeqCst) == seen => report::fail(format!(
                "futex pair: waited 10 s for {want}, the word still holds {seen}: a lost wake-up"
            )),
            Err(Errno::TIMEDOUT) => {}
            Err(errno) => report::fail(format!("futex pair: FUTEX_WAIT: {errno:?}")),
        }
    }
}

/// A thread that calls in briefly and ends. Every other one ends its task
/// with the exit system call first, and must get a new one for its next
/// call.
pub fn brief_thread(exit_first: bool) {
    let pid = ok(Sys::Getpid, "getpid", lkl::process::getpid());
    check(pid == 1, || format!("getpid gave {pid}"));
    let tid = ok(Sys::Gettid, "gettid", lkl::process::gettid());
    if exit_first {
        step("exit");
        // SAFETY: exit takes a status; in the library it ends the calling
        // thread's task only, and returns.
        let ret = unsafe { raw_call(nr::exit, &[0]) };
        ok(Sys::Exit, "exit", ret);
        report::add(&report::TOTALS.task_exits, 1);
        let again = ok(Sys::Gettid, "gettid after exit", lkl::process::gettid());
        check(again > 1 && again != tid, || {
            format!("after exit the thread kept tid {tid} (then {again})")
        });
    }
}
