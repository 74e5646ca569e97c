// SPDX-License-Identifier: GPL-2.0
//! lkl_if_up, lkl_if_down and lkl_set_fd_limit.

use core::ffi::{c_int, c_long, c_short, c_uint};

use lkl_sys::nr;

use crate::{arg, arg_mut, syscall};

/// `struct ifreq` as the kernel reads it (x86_64: 40 bytes): the name,
/// then a union whose first bytes hold the index or the flags.
#[repr(C, align(8))]
struct IfReq {
    name: [u8; 16],
    data: [u8; 24],
}

const SIOCGIFNAME: c_long = 0x8910;
const SIOCGIFFLAGS: c_long = 0x8913;
const SIOCSIFFLAGS: c_long = 0x8914;
const IFF_UP: c_short = 1;

/// Sets or clears IFF_UP on interface `ifindex`.
fn set_up(ifindex: c_int, up: bool) -> c_int {
    let sock = syscall(
        nr::socket,
        &[
            libc::AF_INET as c_long,
            (libc::SOCK_DGRAM | libc::SOCK_CLOEXEC) as c_long,
            0,
        ],
    );
    if sock < 0 {
        return sock as c_int;
    }
    let mut req = IfReq {
        name: [0; 16],
        data: [0; 24],
    };
    req.data[..4].copy_from_slice(&ifindex.to_ne_bytes());
    let mut ret = syscall(nr::ioctl, &[sock, SIOCGIFNAME, arg_mut(&mut req)]);
    if ret >= 0 {
        ret = syscall(nr::ioctl, &[sock, SIOCGIFFLAGS, arg_mut(&mut req)]);
    }
    if ret >= 0 {
        let mut flags = c_short::from_ne_bytes([req.data[0], req.data[1]]);
        if up {
            flags |= IFF_UP;
        } else {
            flags &= !IFF_UP;
        }
        req.data[..2].copy_from_slice(&flags.to_ne_bytes());
        ret = syscall(nr::ioctl, &[sock, SIOCSIFFLAGS, arg(&req)]);
    }
    syscall(nr::close, &[sock]);
    ret as c_int
}

/// Brings interface `ifindex` up. Returns 0 or a negative errno.
#[no_mangle]
pub extern "C" fn lkl_if_up(ifindex: c_int) -> c_int {
    set_up(ifindex, true)
}

/// Takes interface `ifindex` down. Returns 0 or a negative errno.
#[no_mangle]
pub extern "C" fn lkl_if_down(ifindex: c_int) -> c_int {
    set_up(ifindex, false)
}

/// Sets the kernel's limit on open files (RLIMIT_NOFILE, soft and hard)
/// for the calling process. Returns 0 or a negative errno.
#[no_mangle]
pub extern "C" fn lkl_set_fd_limit(fd_limit: c_uint) -> c_int {
    let lim = [u64::from(fd_limit), u64::from(fd_limit)];
    syscall(
        nr::prlimit64,
        &[0, libc::RLIMIT_NOFILE as c_long, arg(lim.as_ptr()), 0],
    ) as c_int
}
