// SPDX-License-Identifier: GPL-2.0
//! Boot, system calls and halt through the raw interface. One kernel per
//! process: this file holds a single test.

use lkl_sys::{lkl_halt, lkl_start_kernel, lkl_syscall, nr};
use std::ffi::c_long;

fn syscall(no: c_long, args: &[c_long]) -> c_long {
    let mut params = [0 as c_long; 6];
    params[..args.len()].copy_from_slice(args);
    // SAFETY: six valid arguments; the calls below pass no pointers or
    // valid ones.
    unsafe { lkl_syscall(no, params.as_mut_ptr()) }
}

const ENOSYS: c_long = 38;
const ENODEV: c_long = 19;
const EBUSY: c_long = 16;
const ENOENT: c_long = 2;
const EFAULT: c_long = 14;

#[test]
fn boot_syscalls_halt() {
    assert_eq!(
        syscall(nr::getpid, &[]),
        -ENODEV,
        "a call before boot must fail"
    );

    // SAFETY: a NUL-terminated format whose one conversion gets an int.
    let first = unsafe { lkl_start_kernel(c"mem=%dM".as_ptr(), 32) };
    assert_eq!(first, 0);
    // SAFETY: as above.
    let second = unsafe { lkl_start_kernel(c"mem=%dM".as_ptr(), 32) };
    assert_eq!(second, -EBUSY as i32, "a second boot must be refused");

    assert_eq!(syscall(nr::getpid, &[]), 1);
    assert_eq!(syscall(nr::umask, &[0o777]), 0o022);
    assert_eq!(syscall(nr::umask, &[0]), 0o777);
    assert_eq!(syscall(100_000, &[]), -ENOSYS);
    let path = c"/nonexistent";
    assert_eq!(
        syscall(nr::openat, &[-100, path.as_ptr() as c_long, 0, 0]),
        -ENOENT
    );

    // Bad pointers fail the call with -EFAULT instead of killing the
    // program: into a read buffer, out of a write buffer, and a path.
    let mut fds = [0i32; 2];
    assert_eq!(syscall(nr::pipe2, &[fds.as_mut_ptr() as c_long, 0]), 0);
    let unmapped = 8 as c_long; // the first page is never mapped
    assert_eq!(
        syscall(nr::write, &[fds[1] as c_long, unmapped, 16]),
        -EFAULT
    );
    let data = b"0123456789abcdef";
    assert_eq!(
        syscall(nr::write, &[fds[1] as c_long, data.as_ptr() as c_long, 16]),
        16
    );
    assert_eq!(
        syscall(nr::read, &[fds[0] as c_long, unmapped, 16]),
        -EFAULT
    );
    assert_eq!(syscall(nr::mkdirat, &[-100, unmapped, 0o755]), -EFAULT);
    let mut buf = [0u8; 16];
    assert_eq!(
        syscall(
            nr::read,
            &[fds[0] as c_long, buf.as_mut_ptr() as c_long, 16]
        ),
        16
    );
    assert_eq!(&buf, data, "a failed read must not consume the data");

    // Calls from other threads get tasks of their own in the same process.
    let pids: Vec<c_long> = (0..8)
        .map(|_| std::thread::spawn(|| (syscall(nr::getpid, &[]), syscall(nr::gettid, &[]))))
        .map(|t| t.join().expect("thread"))
        .map(|(pid, tid)| {
            assert_eq!(pid, 1);
            tid
        })
        .collect();
    let mut unique = pids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), pids.len(), "each thread has its own task");

    let mut halt = [0xfee1_dead, 672_274_793, 0x4321_fedc, 0, 0, 0];
    // SAFETY: the reboot(POWER_OFF) arguments.
    assert_eq!(unsafe { lkl_halt(halt.as_mut_ptr()) }, 0);
    assert_eq!(
        syscall(nr::getpid, &[]),
        -ENODEV,
        "a call after halt must fail"
    );
}
