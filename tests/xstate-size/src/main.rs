// SPDX-License-Identifier: GPL-2.0
//! Prints how many bytes of FP register state the host's ptrace reads and
//! writes for a traced child (`PTRACE_GETREGSET` with `NT_X86_XSTATE`).
//!
//! UML moves its processes' FP state with exactly this call, and the host
//! accepts a write only of exactly this size, so the UML boot test compares
//! it with the size UML reports at start-up. A read with a buffer larger
//! than the state returns the state's length; the buffer doubles until it is
//! larger, so no maximum is assumed. A host without XSAVE has no such
//! register set: then the size is that of the FXSAVE area ptrace's
//! PTRACE_GETFPREGS uses, 512 bytes, which is what UML uses there.
//!
//! Output: `host ptrace XSTATE size: N bytes` (exit 0), or an error naming
//! the failing call (exit 1).

use std::io::Error;
use std::process::ExitCode;

const NT_X86_XSTATE: libc::c_int = 0x202;
const FXSAVE_SIZE: usize = 512;

/// Forks a child that stops itself under ptrace; returns its pid, stopped.
fn traced_child() -> Result<libc::pid_t, String> {
    // SAFETY: the child only calls async-signal-safe functions and _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: TRACEME and raise take no pointers; _exit never returns.
        unsafe {
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            libc::raise(libc::SIGSTOP);
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid || !libc::WIFSTOPPED(status) {
        return Err(format!("the child did not stop (wait status {status:#x})"));
    }
    Ok(pid)
}

fn xstate_size(pid: libc::pid_t) -> Result<usize, String> {
    let mut len = 4096;
    loop {
        let mut buf = vec![0u8; len];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: the iovec describes `buf`, which outlives the call; the
        // host writes at most iov_len bytes and updates iov_len.
        let ret = unsafe { libc::ptrace(libc::PTRACE_GETREGSET, pid, NT_X86_XSTATE, &mut iov) };
        if ret != 0 {
            let err = Error::last_os_error();
            return match err.raw_os_error() {
                Some(libc::EIO | libc::EINVAL | libc::ENODEV) => Ok(FXSAVE_SIZE),
                _ => Err(format!("PTRACE_GETREGSET(NT_X86_XSTATE): {err}")),
            };
        }
        if iov.iov_len < len {
            return Ok(iov.iov_len);
        }
        len *= 2;
    }
}

fn main() -> ExitCode {
    let result = traced_child().and_then(|pid| {
        let size = xstate_size(pid);
        // SAFETY: pid is our stopped child; kill and reap it.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        size
    });
    match result {
        Ok(size) => {
            println!("host ptrace XSTATE size: {size} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xstate-size: {e}");
            ExitCode::FAILURE
        }
    }
}
