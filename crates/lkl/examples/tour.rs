// SPDX-License-Identifier: GPL-2.0
//! A short tour of the safe API, run by `make demo`: boot, files, a
//! directory listing, /proc, the loopback interface, threads, an error,
//! halt. Prints one `key: value` line per result on stdout; the kernel log
//! goes to stderr because this example asks for it.

use lkl::fs::{self, MountFlags, OFlags, SeekFrom};
use lkl::{net, process, Errno, Kernel};

fn main() -> Result<(), Errno> {
    let kernel = Kernel::builder()
        .memory_mib(32)
        .console_to_stderr()
        .boot()?;
    println!("release: {}", process::kernel_release()?);
    println!("getpid: {}", process::getpid()?);

    fs::mkdir("/data", 0o755)?;
    let file = fs::open("/data/note", OFlags::CREAT | OFlags::RDWR, 0o644)?;
    let text = b"written and read back inside the kernel";
    fs::write(&file, text)?;
    fs::lseek(&file, SeekFrom::Start(0))?;
    let mut buf = vec![0u8; text.len()];
    fs::read(&file, &mut buf)?;
    println!("read back: {}", String::from_utf8_lossy(&buf));
    println!("size: {}", fs::fstat(&file)?.st_size);
    drop(file);

    let names: Vec<String> = fs::read_dir("/")?
        .into_iter()
        .map(|e| String::from_utf8_lossy(&e.name).into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    println!("root holds: {}", names.join(" "));

    fs::mkdir("/proc", 0o555)?;
    fs::mount("proc", "/proc", "proc", MountFlags::default(), None)?;
    let version = fs::open("/proc/version", OFlags::RDONLY, 0)?;
    let mut line = vec![0u8; 256];
    let n = fs::read(&version, &mut line)?;
    let line = String::from_utf8_lossy(&line[..n]);
    println!("proc version: {}", line.lines().next().unwrap_or(""));
    drop(version);

    net::if_up(1)?;
    println!("loopback: {} up", net::if_name(1)?);

    let tids: Vec<i32> = (0..4)
        .map(|_| std::thread::spawn(process::gettid))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect::<Result<_, _>>()?;
    println!("thread tids: {tids:?}");

    let missing = fs::open("/no/such/file", OFlags::RDONLY, 0).unwrap_err();
    println!("error: {missing}");

    kernel.halt()?;
    println!("halt: ok");
    Ok(())
}
