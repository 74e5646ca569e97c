// SPDX-License-Identifier: GPL-2.0
//! Sockets and network interfaces.

use core::ffi::c_long;

use lkl_sys::{nr, uapi};

use crate::errno::{Errno, Result};
use crate::fd::{AsFd, Fd};
use crate::syscall::call;

/// `socket(domain, type, protocol)`, with values from
/// [`lkl_sys::uapi`] (`AF_*`, `SOCK_*`).
pub fn socket(domain: u32, kind: u32, protocol: u32) -> Result<Fd> {
    call(
        nr::socket,
        &[domain as c_long, kind as c_long, protocol as c_long],
    )
    .map(Fd::from_ret)
}

fn ifreq_ioctl(sock: &Fd, request: u32, req: &mut uapi::ifreq) -> Result<()> {
    call(
        nr::ioctl,
        &[
            sock.as_fd().as_raw().into(),
            request as c_long,
            core::ptr::from_mut(req) as c_long,
        ],
    )
    .map(drop)
}

fn control_socket() -> Result<Fd> {
    socket(uapi::AF_INET, uapi::SOCK_DGRAM | uapi::SOCK_CLOEXEC, 0)
}

/// The name of interface `ifindex` (`SIOCGIFNAME`).
pub fn if_name(ifindex: i32) -> Result<String> {
    let sock = control_socket()?;
    let mut req = uapi::ifreq::default();
    req.ifr_ifru.ifru_ivalue = ifindex;
    ifreq_ioctl(&sock, uapi::SIOCGIFNAME, &mut req)?;
    // SAFETY: the kernel filled ifrn_name, a char array of which every bit
    // pattern is valid.
    let name = unsafe { req.ifr_ifrn.ifrn_name };
    let bytes: Vec<u8> = name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8(bytes).map_err(|_| Errno::INVAL)
}

fn set_flag(ifindex: i32, flag: u32, on: bool) -> Result<()> {
    let sock = control_socket()?;
    let mut req = uapi::ifreq::default();
    req.ifr_ifru.ifru_ivalue = ifindex;
    ifreq_ioctl(&sock, uapi::SIOCGIFNAME, &mut req)?;
    ifreq_ioctl(&sock, uapi::SIOCGIFFLAGS, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled ifru_flags; a short of any bits is valid.
    let flags = unsafe { req.ifr_ifru.ifru_flags } as u16 as u32;
    let flags = if on { flags | flag } else { flags & !flag };
    req.ifr_ifru.ifru_flags = flags as u16 as i16;
    ifreq_ioctl(&sock, uapi::SIOCSIFFLAGS, &mut req)
}

/// Brings interface `ifindex` up (`IFF_UP`); the loopback device is 1.
pub fn if_up(ifindex: i32) -> Result<()> {
    set_flag(ifindex, uapi::IFF_UP, true)
}

/// Takes interface `ifindex` down.
pub fn if_down(ifindex: i32) -> Result<()> {
    set_flag(ifindex, uapi::IFF_UP, false)
}

/// The `IFF_*` flags of interface `ifindex`.
pub fn if_flags(ifindex: i32) -> Result<u32> {
    let sock = control_socket()?;
    let mut req = uapi::ifreq::default();
    req.ifr_ifru.ifru_ivalue = ifindex;
    ifreq_ioctl(&sock, uapi::SIOCGIFNAME, &mut req)?;
    ifreq_ioctl(&sock, uapi::SIOCGIFFLAGS, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled ifru_flags; a short of any bits is valid.
    Ok(unsafe { req.ifr_ifru.ifru_flags } as u16 as u32)
}
