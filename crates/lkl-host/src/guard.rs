// SPDX-License-Identifier: GPL-2.0
//! Keeping Rust panics from unwinding into the kernel's C code.

use std::any::Any;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; if it panics, aborts the process with a message naming `op`.
///
/// Unwinding into C is undefined behaviour, and the kernel has no way to
/// recover from a failed host operation anyway.
pub(crate) fn guard<R>(op: &str, f: impl FnOnce() -> R) -> R {
    // AssertUnwindSafe: state broken by the panic is never observed,
    // because the process aborts right away.
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => fatal(op, panic_message(payload.as_ref())),
    }
}

/// Prints `lkl-host: <op> failed: <why>` to stderr and aborts.
pub(crate) fn fatal(op: &str, why: &str) -> ! {
    // Write errors are ignored: there is nowhere else to report them.
    let _ = writeln!(std::io::stderr().lock(), "lkl-host: {op} failed: {why}");
    std::process::abort()
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "panic with a non-string payload"
    }
}
