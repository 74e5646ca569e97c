// SPDX-License-Identifier: GPL-2.0
//! `/init` for the UML boot test.
//!
//! The kernel hands unknown `key=value` boot parameters to init as
//! environment variables. This program prints the value of
//! `UML_BOOT_MARKER` on the console, so the test can tell that this very
//! boot reached user space, and then powers the machine off, so the UML
//! process exits on its own.
//!
//! Before that it checks that the kernel keeps user processes' vector
//! registers (see [`fpregs`]) and prints `uml-init: fpregs: ok: ...` or
//! `uml-init: fpregs: FAILED: ...`. Run with `--check-fpregs`, it does only
//! that check, on any kernel, and exits 0 or 1.

mod fpregs;

use std::ffi::CStr;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::ExitCode;

const MARKER_VAR: &str = "UML_BOOT_MARKER";
/// Threads and rounds of the register check: enough context switches and
/// signal handlers to catch a lost register, few enough for a second.
const FPREGS_THREADS: u64 = 3;
const FPREGS_ROUNDS: u64 = 2000;

fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table; no memory is passed.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Point stdout and stderr at /dev/console when the kernel could not open it
/// for us (a root without /dev/console), mounting devtmpfs if needed.
fn ensure_console() -> std::io::Result<()> {
    if fd_is_open(1) {
        return Ok(());
    }
    let _ = std::fs::create_dir("/dev");
    let source: &CStr = c"devtmpfs";
    let target: &CStr = c"/dev";
    // SAFETY: all pointers are valid NUL-terminated strings or null for data.
    // A failure (already mounted) is caught by the open below.
    unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            source.as_ptr(),
            0,
            std::ptr::null(),
        );
    }
    let console = OpenOptions::new().write(true).open("/dev/console")?;
    for fd in [1, 2] {
        // SAFETY: dup2 between two descriptors this process owns.
        if unsafe { libc::dup2(console.as_raw_fd(), fd) } == -1 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn power_off() -> std::io::Error {
    // SAFETY: sync and reboot take no pointers. As init we hold
    // CAP_SYS_BOOT; reboot only returns on failure.
    unsafe {
        libc::sync();
        libc::reboot(libc::LINUX_REBOOT_CMD_POWER_OFF);
    }
    std::io::Error::last_os_error()
}

fn check_fpregs() -> bool {
    match fpregs::check(FPREGS_THREADS, FPREGS_ROUNDS) {
        Ok(what) => {
            println!("uml-init: fpregs: ok: {what}");
            true
        }
        Err(e) => {
            println!("uml-init: fpregs: FAILED: {e}");
            false
        }
    }
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--check-fpregs") {
        return if check_fpregs() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    // Without a console there is nowhere to report to; the missing marker
    // fails the test instead.
    let _ = ensure_console();
    check_fpregs();
    let marker = std::env::var(MARKER_VAR).unwrap_or_else(|_| String::from("(unset)"));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "uml-init: {MARKER_VAR}={marker}");
    let _ = writeln!(out, "uml-init: powering off");
    let _ = out.flush();
    drop(out);
    let err = power_off();
    eprintln!("uml-init: reboot(POWER_OFF) failed: {err}");
    ExitCode::FAILURE
}
