// SPDX-License-Identifier: GPL-2.0
//! Behaviour that ends or writes to the process: each case runs in a child
//! process (this test binary again, with `LKL_HOST_CHILD` naming the case).

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};

const CHILD_VAR: &str = "LKL_HOST_CHILD";

/// True in the child process running `case`. Also stops aborts from
/// leaving core files behind.
fn in_child(case: &str) -> bool {
    if std::env::var(CHILD_VAR).as_deref() != Ok(case) {
        return false;
    }
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid pointer; only this child process is affected.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
    true
}

/// Runs the child-side test `case` in a new process.
fn run_child(case: &str) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", case, "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, case)
        .output()
        .unwrap()
}

fn assert_aborted_with(output: &Output, message: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGABRT),
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains(message),
        "{message:?} not in stderr: {stderr}"
    );
}

#[test]
fn child_kernel_panic() {
    if in_child("child_kernel_panic") {
        // SAFETY: a NUL-terminated message.
        unsafe { lkl_host_panic(c"VFS: Unable to mount root fs".as_ptr()) };
    }
}

#[test]
fn kernel_panic_prints_and_aborts() {
    let output = run_child("child_kernel_panic");
    assert_aborted_with(&output, "lkl: kernel panic: VFS: Unable to mount root fs\n");
}

#[test]
fn child_panicking_sink() {
    if in_child("child_panicking_sink") {
        lkl_host::set_console_sink(Some(Box::new(|_: &[u8]| panic!("sink exploded"))));
        // SAFETY: a readable buffer of the given length.
        unsafe { lkl_host_print(c"boom".as_ptr(), 4) };
        // Not reached: the panic must not unwind back here.
        std::process::exit(0);
    }
}

#[test]
fn panic_inside_host_call_aborts_naming_the_operation() {
    let output = run_child("child_panicking_sink");
    assert_aborted_with(&output, "lkl-host: print failed: sink exploded");
}

#[test]
fn child_foreign_unlock() {
    if in_child("child_foreign_unlock") {
        // SAFETY: the mutex stays live; the unlock by a non-holder aborts.
        unsafe {
            let mutex = Shared(lkl_host_mutex_alloc(1));
            lkl_host_mutex_lock(mutex.0);
            std::thread::spawn(move || {
                let mutex = mutex;
                lkl_host_mutex_unlock(mutex.0);
            })
            .join()
            .unwrap();
        }
        std::process::exit(0);
    }
}

#[test]
fn recursive_mutex_unlocked_by_non_holder_aborts() {
    let output = run_child("child_foreign_unlock");
    assert_aborted_with(
        &output,
        "lkl-host: mutex_unlock failed: recursive mutex unlocked by a thread that does not hold it",
    );
}

#[test]
fn child_console_to_stderr() {
    if in_child("child_console_to_stderr") {
        let text = b"Linux version 6.12 (lkl)\n";
        // SAFETY: readable buffers of the given lengths.
        unsafe {
            lkl_host_print(text.as_ptr().cast(), text.len() as i32);
            lkl_host::console_to_stderr();
            lkl_host_print(text.as_ptr().cast(), text.len() as i32);
        }
    }
}

#[test]
fn console_to_stderr_writes_the_bytes() {
    let output = run_child("child_console_to_stderr");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("Linux version 6.12 (lkl)\n").count(),
        1,
        "expected exactly the one print after console_to_stderr: {stderr}"
    );
}
