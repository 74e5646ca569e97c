// SPDX-License-Identifier: GPL-2.0
//! lkl_if_up, lkl_if_down and lkl_set_fd_limit, on the safe API.

use core::ffi::{c_int, c_uint};

use crate::status;

/// Brings interface `ifindex` up. Returns 0 or a negative errno.
#[no_mangle]
pub extern "C" fn lkl_if_up(ifindex: c_int) -> c_int {
    status(lkl::net::if_up(ifindex))
}

/// Takes interface `ifindex` down. Returns 0 or a negative errno.
#[no_mangle]
pub extern "C" fn lkl_if_down(ifindex: c_int) -> c_int {
    status(lkl::net::if_down(ifindex))
}

/// Sets the kernel's limit on open files (RLIMIT_NOFILE, soft and hard)
/// for the calling process. Returns 0 or a negative errno.
#[no_mangle]
pub extern "C" fn lkl_set_fd_limit(fd_limit: c_uint) -> c_int {
    status(lkl::process::set_fd_limit(fd_limit.into()))
}
