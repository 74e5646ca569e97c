// SPDX-License-Identifier: GPL-2.0
//! Process-level calls: ids, umask, sleeping, limits.
//!
//! All host threads of the program belong to one kernel process (pid 1);
//! each host thread is a kernel task of its own with its own tid.

use core::ffi::c_long;
use core::time::Duration;

use lkl_sys::{nr, uapi};

use crate::errno::Result;
use crate::syscall::call;

/// `getpid()`: the kernel process of the program, always 1.
pub fn getpid() -> Result<i32> {
    call(nr::getpid, &[]).map(|v| v as i32)
}

/// `gettid()`: the calling host thread's kernel task.
pub fn gettid() -> Result<i32> {
    call(nr::gettid, &[]).map(|v| v as i32)
}

/// `umask(mask)`: sets the kernel process's file-creation mask; returns the
/// old one.
pub fn umask(mask: u32) -> Result<u32> {
    call(nr::umask, &[mask as c_long]).map(|v| v as u32)
}

/// `nanosleep(duration)`: sleeps in the kernel. Other threads' calls go on
/// meanwhile.
pub fn nanosleep(duration: Duration) -> Result<()> {
    let ts = uapi::__kernel_timespec {
        tv_sec: duration.as_secs() as i64,
        tv_nsec: i64::from(duration.subsec_nanos()),
    };
    call(nr::nanosleep, &[core::ptr::addr_of!(ts) as c_long, 0]).map(drop)
}

/// `prlimit64(0, RLIMIT_NOFILE)`: sets how many descriptors the kernel
/// process may have open (soft and hard limit).
pub fn set_fd_limit(limit: u64) -> Result<()> {
    let new = uapi::rlimit64 {
        rlim_cur: limit,
        rlim_max: limit,
    };
    call(
        nr::prlimit64,
        &[
            0,
            uapi::RLIMIT_NOFILE as c_long,
            core::ptr::addr_of!(new) as c_long,
            0,
        ],
    )
    .map(drop)
}

/// `uname()`: the kernel's release string, e.g. `"6.12.117"`.
pub fn kernel_release() -> Result<String> {
    let mut uts = uapi::new_utsname::default();
    call(nr::uname, &[core::ptr::addr_of_mut!(uts) as c_long])?;
    let bytes: Vec<u8> = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
