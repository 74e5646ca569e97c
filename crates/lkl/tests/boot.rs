// SPDX-License-Identifier: GPL-2.0
//! The boot test: LKL's list of boot checks, through the safe API, in
//! order, against one kernel (a process boots at most one). Each step
//! prints `ok N name`; the first failure ends the run with a message naming
//! its step.

use std::ffi::c_long;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lkl::fs::raw::{self, SeekFrom};
use lkl::fs::{self, FileType, Mode, MountFlags, OFlags, UnmountFlags};
use lkl::io::{self, Epoll, EpollFlags};
use lkl::lkl_sys::{nr, uapi};
use lkl::{net, process, Errno, Kernel};

type Step = Result<(), String>;

fn check<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Step {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

fn ok<T>(what: &str, r: lkl::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("{what} failed: {e}"))
}

fn read_file(path: impl lkl::PathArg) -> lkl::Result<String> {
    let file = raw::open(path, OFlags::RDONLY, Mode::empty())?;
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match raw::read(&file, &mut buf)? {
            0 => return Ok(String::from_utf8_lossy(&all).into_owned()),
            n => all.extend_from_slice(&buf[..n]),
        }
    }
}

struct Run {
    n: usize,
}

impl Run {
    fn step(&mut self, name: &str, f: impl FnOnce() -> Step) {
        self.n += 1;
        let start = Instant::now();
        match f() {
            Ok(()) => println!("ok {} {name} # {} us", self.n, start.elapsed().as_micros()),
            Err(why) => {
                println!("not ok {} {name}: {why}", self.n);
                eprintln!("boot test failed at step {} ({name}): {why}", self.n);
                std::process::exit(1);
            }
        }
    }
}

fn main() {
    let console = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = Arc::clone(&console);
    lkl::lkl_sys::lkl_host::set_console_sink(Some(Box::new(move |b: &[u8]| {
        sink.lock().unwrap().extend_from_slice(b)
    })));

    let mut run = Run { n: 0 };
    let mut kernel = None;
    run.step("call_before_boot", || {
        check("getpid", process::getpid(), Err(Errno::NODEV))
    });
    run.step("start_kernel", || {
        let k = ok(
            "boot",
            Kernel::builder().memory_mib(32).arg("loglevel=8").boot(),
        )?;
        kernel = Some(k);
        let log = String::from_utf8_lossy(&console.lock().unwrap()).into_owned();
        if !log.contains("Linux version") {
            return Err(format!("console lacks the banner: {log:.200}"));
        }
        Ok(())
    });
    run.step("second_boot_refused", || {
        check("boot", Kernel::builder().boot().map(drop), Err(Errno::BUSY))
    });
    run.step("getpid", || check("getpid", process::getpid(), Ok(1)));
    run.step("umask", || check("umask", process::umask(0o777), Ok(0o022)));
    run.step("umask2", || check("umask", process::umask(0), Ok(0o777)));
    run.step("enosys", || {
        // SAFETY: no arguments for a number the kernel does not have.
        let r = unsafe { lkl::syscall(100_000, &[]) };
        check("syscall 100000", r, Err(Errno::NOSYS))
    });
    run.step("efault", || {
        let (rd, wr) = ok("pipe2", io::pipe2(OFlags::default()))?;
        let unmapped: c_long = 8; // the first page is never mapped
                                  // SAFETY: an unmapped buffer, which the kernel must refuse.
        let r = unsafe { lkl::syscall(nr::write, &[wr.as_raw().into(), unmapped, 4]) };
        check("write from unmapped", r, Err(Errno::FAULT))?;
        check("write", raw::write(&wr, b"data"), Ok(4))?;
        // SAFETY: as above, into an unmapped buffer.
        let r = unsafe { lkl::syscall(nr::read, &[rd.as_raw().into(), unmapped, 4]) };
        check("read into unmapped", r, Err(Errno::FAULT))?;
        let mut buf = [0u8; 4];
        check("read", raw::read(&rd, &mut buf), Ok(4))?;
        check("data kept", &buf, b"data")?;
        // Zeroing goes through the fault catcher too (clear_user).
        ok(
            "mknod /zero",
            raw::mknod(
                "/zero",
                FileType::CharDevice,
                Mode::from_bits_truncate(0o666),
                fs::makedev(1, 5),
            ),
        )?;
        let zero = ok(
            "open /zero",
            raw::open("/zero", OFlags::RDONLY, Mode::empty()),
        )?;
        // SAFETY: as above, into an unmapped buffer.
        let r = unsafe { lkl::syscall(nr::read, &[zero.as_raw().into(), unmapped, 4]) };
        check("read zeros into unmapped", r, Err(Errno::FAULT))?;
        let mut buf = [0xffu8; 4];
        check("read zeros", raw::read(&zero, &mut buf), Ok(4))?;
        check("zeros", buf, [0u8; 4])
    });

    let mut file = None;
    run.step("creat", || {
        let fd = ok(
            "creat /file",
            raw::creat("/file", Mode::from_bits_truncate(0o721)),
        )?;
        file = Some(fd);
        Ok(())
    });
    run.step("close", || ok("close", file.take().unwrap().close()));
    run.step("failopen", || {
        check(
            "open /file2",
            raw::open("/file2", OFlags::RDWR, Mode::empty()).map(drop),
            Err(Errno::NOENT),
        )
    });
    run.step("open", || {
        file = Some(ok(
            "open /file",
            raw::open("/file", OFlags::RDWR, Mode::empty()),
        )?);
        Ok(())
    });
    let f = file.as_ref().unwrap();
    run.step("write", || check("write", raw::write(f, b"test\0"), Ok(5)));
    run.step("lseek_cur", || {
        check("lseek", raw::lseek(f, SeekFrom::Current(0)), Ok(5))
    });
    run.step("lseek_end", || {
        check("lseek", raw::lseek(f, SeekFrom::End(0)), Ok(5))
    });
    run.step("lseek_set", || {
        check("lseek", raw::lseek(f, SeekFrom::Start(0)), Ok(0))
    });
    run.step("read", || {
        let mut buf = [0u8; 16];
        check("read", raw::read(f, &mut buf), Ok(5))?;
        check("bytes", &buf[..5], b"test\0")
    });
    run.step("fstat", || {
        let st = ok("fstat", raw::fstat(f))?;
        check("size", st.st_size, 5)?;
        check("mode", st.st_mode, 0o721 | uapi::S_IFREG)
    });
    drop(file.take());
    run.step("mkdir", || {
        ok(
            "mkdir /mnt",
            raw::mkdir("/mnt", Mode::from_bits_truncate(0o721)),
        )
    });
    run.step("stat", || {
        let st = ok("stat /mnt", raw::stat("/mnt"))?;
        check("mode", st.st_mode, 0o721 | uapi::S_IFDIR)
    });
    run.step("nanosleep", || {
        let want = Duration::from_nanos(87_654_321);
        let start = Instant::now();
        ok("nanosleep", process::nanosleep(want))?;
        let took = start.elapsed();
        if took.as_nanos() * 10 < want.as_nanos() * 9 {
            return Err(format!("slept {took:?}, less than 90% of {want:?}"));
        }
        Ok(())
    });
    run.step("pipe2", || {
        let (rd, wr) = ok("pipe2", io::pipe2(OFlags::NONBLOCK))?;
        let mut buf = [0u8; 8];
        check("read empty", raw::read(&rd, &mut buf), Err(Errno::AGAIN))?;
        check("write", raw::write(&wr, b"ping"), Ok(4))?;
        check("read", raw::read(&rd, &mut buf), Ok(4))?;
        check("bytes", &buf[..4], b"ping")
    });
    run.step("epoll", || {
        let (rd, wr) = ok("pipe2", io::pipe2(OFlags::NONBLOCK))?;
        let ep = ok("epoll_create1", Epoll::new())?;
        ok("epoll_ctl", ep.add(&rd, EpollFlags::IN, 42))?;
        let none = ok("epoll_wait", ep.wait(4, Some(Duration::ZERO)))?;
        check("ready before write", none.len(), 0)?;
        ok("write", raw::write(&wr, b"x"))?;
        let ready = ok("epoll_wait", ep.wait(4, Some(Duration::from_secs(5))))?;
        check("ready after write", ready.len(), 1)?;
        check("data", ready[0].data, 42)?;
        check("readable", ready[0].events.contains(EpollFlags::IN), true)
    });
    run.step("mount_fs_proc", || {
        ok(
            "mkdir /proc",
            raw::mkdir("/proc", Mode::from_bits_truncate(0o755)),
        )?;
        ok(
            "mount proc",
            raw::mount("proc", "/proc", "proc", MountFlags::empty(), None),
        )
    });
    run.step("chdir_proc", || ok("chdir /proc", raw::chdir("/proc")));
    let mut dir = None;
    run.step("open_cwd", || {
        dir = Some(ok(
            "open .",
            raw::open(".", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()),
        )?);
        Ok(())
    });
    run.step("getdents64", || {
        let mut buf = [0u8; 8192];
        let n = ok(
            "getdents64",
            raw::getdents64(dir.as_ref().unwrap(), &mut buf),
        )?;
        let entries: Vec<raw::Dirent<'_>> = ok("records", raw::Dirents::new(&buf[..n]).collect())?;
        let find = |name: &[u8]| entries.iter().find(|e| e.name().to_bytes() == name);
        check(
            "has self",
            find(b"self").map(|e| e.file_type()),
            Some(FileType::Symlink),
        )?;
        check(
            "has 1",
            find(b"1").map(|e| e.file_type()),
            Some(FileType::Dir),
        )?;
        check(
            "has version",
            find(b"version").map(|e| e.file_type()),
            Some(FileType::File),
        )
    });
    run.step("close_dir_fd", || ok("close", dir.take().unwrap().close()));
    run.step("kernel_threads_softirqs", || {
        // Kernel threads, workqueue workers, timers and softirqs run.
        let comm = ok("read /proc/2/comm", read_file("/proc/2/comm"))?;
        check("pid 2", comm.as_str(), "kthreadd\n")?;
        let workers = fs::read_dir("/proc")
            .map_err(|e| format!("read_dir /proc failed: {e}"))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
            .filter_map(|pid| read_file(format!("/proc/{pid}/comm")).ok())
            .filter(|c| c.starts_with("kworker/"))
            .count();
        if workers == 0 {
            return Err("no kworker thread".into());
        }
        let softirqs = ok("read /proc/softirqs", read_file("/proc/softirqs"))?;
        let timer: u64 = softirqs
            .lines()
            .find_map(|l| l.trim().strip_prefix("TIMER:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| format!("no TIMER row in {softirqs:?}"))?;
        if timer == 0 {
            return Err("the timer softirq never ran".into());
        }
        Ok(())
    });
    run.step("chdir_root", || ok("chdir /", raw::chdir("/")));
    run.step("umount_fs_proc", || {
        ok("umount /proc", raw::umount("/proc", UnmountFlags::empty()))?;
        check(
            "empty after umount",
            fs::read_dir("/proc")
                .map(Iterator::count)
                .map_err(|e| e.to_string()),
            Ok(0),
        )
    });
    run.step("lo_ifup", || {
        check("name of 1", net::if_name(1), Ok("lo".to_string()))?;
        ok("if_up 1", net::if_up(1))?;
        let flags = ok("flags", net::if_flags(1))?;
        check("IFF_UP", flags & uapi::IFF_UP, uapi::IFF_UP)
    });
    run.step("syscall_thread", || {
        // A reader blocks in the kernel on an empty pipe while this thread
        // writes more than a pipe buffer's atomic size.
        let (rd, wr) = ok("pipe2", io::pipe2(OFlags::default()))?;
        let len = uapi::PIPE_BUF as usize + 1;
        let reader = thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = vec![0u8; len];
            while got.len() < len {
                match raw::read(&rd, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) => return Err(e),
                }
            }
            Ok(got)
        });
        thread::sleep(Duration::from_millis(50));
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut sent = 0;
        while sent < len {
            sent += ok("write", raw::write(&wr, &data[sent..]))?;
        }
        let got = ok(
            "reader",
            reader.join().map_err(|_| Errno::IO).and_then(|r| r),
        )?;
        check("bytes read", got == data, true)
    });
    run.step("many_syscall_threads", || {
        // Each thread's first call makes its kernel task, and its exit
        // reaps it through the TLS destructor.
        let tids: Vec<i32> = (0..64)
            .map(|_| {
                thread::spawn(|| {
                    assert_eq!(process::getpid(), Ok(1));
                    process::gettid()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().map_err(|_| Errno::IO).and_then(|r| r))
            .collect::<lkl::Result<_>>()
            .map_err(|e| format!("a thread failed: {e}"))?;
        check("threads", tids.len(), 64)?;
        check("all tids > 1", tids.iter().all(|&t| t > 1), true)
    });
    run.step("stress", || {
        // 16 threads x 10,000 mixed calls: files, pipes, ids, sleeps.
        let errors = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(16));
        let workers: Vec<_> = (0..16)
            .map(|t| {
                let errors = Arc::clone(&errors);
                let start = Arc::clone(&start);
                thread::spawn(move || {
                    start.wait();
                    let path = format!("/stress-{t}");
                    for i in 0..10_000u32 {
                        let good = match i % 5 {
                            0 => process::getpid() == Ok(1),
                            1 => raw::stat("/").is_ok(),
                            2 => {
                                let f = raw::open(
                                    &path,
                                    OFlags::CREAT | OFlags::RDWR,
                                    Mode::from_bits_truncate(0o600),
                                );
                                f.and_then(|f| raw::pwrite(&f, &i.to_ne_bytes(), 0)) == Ok(4)
                            }
                            3 => match io::pipe2(OFlags::default()) {
                                Ok((r, w)) => {
                                    let mut b = [0u8; 4];
                                    raw::write(&w, &i.to_ne_bytes()) == Ok(4)
                                        && raw::read(&r, &mut b) == Ok(4)
                                        && b == i.to_ne_bytes()
                                }
                                Err(_) => false,
                            },
                            _ => {
                                i % 1000 != 4
                                    || process::nanosleep(Duration::from_micros(100)).is_ok()
                            }
                        };
                        if !good {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| "a stress thread panicked".to_string())?;
        }
        check("failed calls", errors.load(Ordering::Relaxed), 0)
    });
    run.step("stop_kernel", || {
        let halted = kernel.take().unwrap().halt();
        ok("halt", halted.map_err(Errno::from))
    });
    run.step("call_after_halt", || {
        check("getpid", process::getpid(), Err(Errno::NODEV))
    });
    println!("boot test: all {} steps passed", run.n);
}
