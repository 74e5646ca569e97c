// SPDX-License-Identifier: GPL-2.0
//! Behaviour that ends or writes to the process: each test runs its body in
//! a child process (this test binary again, running only that test) and
//! passes or fails on what the child did.

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;
use std::process::Output;

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
fn kernel_panic_prints_and_aborts() {
    let Some(output) = in_child_process("kernel_panic_prints_and_aborts", || {
        // SAFETY: a NUL-terminated message.
        unsafe { lkl_host_panic(c"VFS: Unable to mount root fs".as_ptr()) };
    }) else {
        return;
    };
    assert_aborted_with(&output, "lkl: kernel panic: VFS: Unable to mount root fs\n");
}

#[test]
fn panic_inside_host_call_aborts_naming_the_operation() {
    let test = "panic_inside_host_call_aborts_naming_the_operation";
    let Some(output) = in_child_process(test, || {
        lkl_host::set_console_sink(Some(Box::new(|_: &[u8]| panic!("sink exploded"))));
        // SAFETY: a readable buffer of the given length.
        unsafe { lkl_host_print(c"boom".as_ptr(), 4) };
        // Not reached: the panic must not unwind back here.
        std::process::exit(0);
    }) else {
        return;
    };
    assert_aborted_with(&output, "lkl-host: print failed: sink exploded");
}

#[test]
fn recursive_mutex_unlocked_by_non_holder_aborts() {
    let test = "recursive_mutex_unlocked_by_non_holder_aborts";
    let Some(output) = in_child_process(test, || {
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
    }) else {
        return;
    };
    assert_aborted_with(
        &output,
        "lkl-host: mutex_unlock failed: recursive mutex unlocked by a thread that does not hold it",
    );
}

#[test]
fn console_to_stderr_writes_the_bytes() {
    let Some(output) = in_child_process("console_to_stderr_writes_the_bytes", || {
        let text = b"Linux version 6.12 (lkl)\n";
        // SAFETY: readable buffers of the given lengths.
        unsafe {
            lkl_host_print(text.as_ptr().cast(), text.len() as i32);
            lkl_host::console_to_stderr();
            lkl_host_print(text.as_ptr().cast(), text.len() as i32);
        }
    }) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stderr: {stderr}");
    assert_eq!(
        stderr.matches("Linux version 6.12 (lkl)\n").count(),
        1,
        "expected exactly the one print after console_to_stderr: {stderr}"
    );
}

/// The helper itself: a child that never reaches the body (here: no test of
/// that name) must fail the parent's test, not let it pass unchecked.
#[test]
#[should_panic(expected = "the child process did not run test \"no_such_test\"")]
fn a_child_that_runs_nothing_fails_the_parent() {
    let _ = in_child_process("no_such_test", || unreachable!("no test has this name"));
}

/// A child whose body fails reports a failure to the parent, which sees it
/// in the exit status.
#[test]
fn a_failing_child_is_seen_by_the_parent() {
    let Some(output) = in_child_process("a_failing_child_is_seen_by_the_parent", || {
        panic!("the child's check failed");
    }) else {
        return;
    };
    assert!(!output.status.success(), "a failed child must not exit 0");
    assert!(String::from_utf8_lossy(&output.stderr).contains("the child's check failed"));
}
