// SPDX-License-Identifier: GPL-2.0
//! A short tour of the safe API, run by `make demo`: boot, files, a
//! directory listing, /proc, the loopback interface, threads, an error,
//! halt. Prints one `key: value` line per result on stdout; the kernel log
//! goes to stderr because this example asks for it.

use std::io::{Read, Seek, SeekFrom, Write};

use lkl::fs::{self, raw, File, Mode, MountFlags, OFlags};
use lkl::{net, process, Errno, Kernel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kernel = Kernel::builder()
        .memory_mib(32)
        .console_to_stderr()
        .boot()?;
    println!("release: {}", process::kernel_release()?);
    println!("getpid: {}", process::getpid()?);

    fs::create_dir("/data")?;
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .open("/data/note")?;
    let text = b"written and read back inside the kernel";
    file.write_all(text)?;
    file.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; text.len()];
    file.read_exact(&mut buf)?;
    println!("read back: {}", String::from_utf8_lossy(&buf));
    println!("size: {}", file.metadata()?.len());
    drop(file);

    let names: Vec<String> = fs::read_dir("/")?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()?;
    println!("root holds: {}", names.join(" "));

    raw::mkdir("/proc", Mode::from_bits_truncate(0o555))?;
    raw::mount("proc", "/proc", "proc", MountFlags::empty(), None)?;
    let version = raw::open("/proc/version", OFlags::RDONLY, Mode::empty())?;
    let mut line = vec![0u8; 256];
    let n = raw::read(&version, &mut line)?;
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
        .collect::<Result<_, Errno>>()?;
    println!("thread tids: {tids:?}");

    // The raw calls give the kernel's own error; lkl::fs gives io::Error.
    let missing: Errno = raw::open("/no/such/file", OFlags::RDONLY, Mode::empty()).unwrap_err();
    println!("error: {missing}");

    kernel.halt()?;
    println!("halt: ok");
    Ok(())
}
