// SPDX-License-Identifier: GPL-2.0
//! Pipes, descriptor duplication and epoll.

use core::ffi::c_long;
use core::time::Duration;

use lkl_sys::{nr, uapi};

use crate::errno::Result;
use crate::fd::{AsFd, Fd};
use crate::fs::OFlags;
use crate::syscall::call;

/// `pipe2(flags)`: a pipe, as (read end, write end).
pub fn pipe2(flags: OFlags) -> Result<(Fd, Fd)> {
    let mut fds = [0i32; 2];
    call(
        nr::pipe2,
        &[fds.as_mut_ptr() as c_long, flags.bits() as c_long],
    )?;
    Ok((Fd::from_ret(fds[0].into()), Fd::from_ret(fds[1].into())))
}

/// `dup(fd)`: a new descriptor for the same open file.
pub fn dup(fd: impl AsFd) -> Result<Fd> {
    call(nr::dup, &[fd.as_fd().as_raw().into()]).map(Fd::from_ret)
}

bitflags::bitflags! {
    /// Event bits of epoll (`EPOLL*`).
    ///
    /// ```
    /// use lkl::io::EpollFlags;
    ///
    /// assert!((EpollFlags::IN | EpollFlags::ET).contains(EpollFlags::IN));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct EpollFlags: u32 {
        /// `EPOLLIN`: readable.
        const IN = uapi::LKL_EPOLLIN;
        /// `EPOLLPRI`: urgent data.
        const PRI = uapi::LKL_EPOLLPRI;
        /// `EPOLLOUT`: writable.
        const OUT = uapi::LKL_EPOLLOUT;
        /// `EPOLLERR`: an error condition.
        const ERR = uapi::LKL_EPOLLERR;
        /// `EPOLLHUP`: hang-up.
        const HUP = uapi::LKL_EPOLLHUP;
        /// `EPOLLRDHUP`: the peer closed its writing end.
        const RDHUP = uapi::LKL_EPOLLRDHUP;
        /// `EPOLLET`: edge-triggered.
        const ET = uapi::LKL_EPOLLET;
        /// `EPOLLONESHOT`: report once, then disarm.
        const ONESHOT = uapi::LKL_EPOLLONESHOT;
        const _ = !0;
    }
}

/// One ready descriptor reported by [`Epoll::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpollEvent {
    /// What is ready.
    pub events: EpollFlags,
    /// The value given to [`Epoll::add`].
    pub data: u64,
}

/// An epoll instance of the kernel.
#[derive(Debug)]
pub struct Epoll {
    fd: Fd,
}

impl Epoll {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub fn new() -> Result<Epoll> {
        let fd = call(nr::epoll_create1, &[uapi::EPOLL_CLOEXEC as c_long])?;
        Ok(Epoll {
            fd: Fd::from_ret(fd),
        })
    }

    fn ctl(&self, op: u32, fd: impl AsFd, events: EpollFlags, data: u64) -> Result<()> {
        let mut event = uapi::epoll_event {
            events: events.bits(),
            data,
        };
        call(
            nr::epoll_ctl,
            &[
                self.fd.as_raw().into(),
                op as c_long,
                fd.as_fd().as_raw().into(),
                core::ptr::addr_of_mut!(event) as c_long,
            ],
        )
        .map(drop)
    }

    /// Watches `fd` for `events`, reporting them with `data`.
    pub fn add(&self, fd: impl AsFd, events: EpollFlags, data: u64) -> Result<()> {
        self.ctl(uapi::EPOLL_CTL_ADD, fd, events, data)
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: impl AsFd) -> Result<()> {
        self.ctl(uapi::EPOLL_CTL_DEL, fd, EpollFlags::default(), 0)
    }

    /// Waits up to `timeout` (forever with `None`) for at most `max`
    /// events.
    pub fn wait(&self, max: usize, timeout: Option<Duration>) -> Result<Vec<EpollEvent>> {
        let mut events = vec![uapi::epoll_event::default(); max.max(1)];
        let timeout_ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as c_long);
        let n = call(
            nr::epoll_wait,
            &[
                self.fd.as_raw().into(),
                events.as_mut_ptr() as c_long,
                events.len() as c_long,
                timeout_ms,
            ],
        )?;
        Ok(events[..n as usize]
            .iter()
            .map(|e| EpollEvent {
                events: EpollFlags::from_bits_retain(e.events),
                data: e.data,
            })
            .collect())
    }
}

impl AsFd for Epoll {
    fn as_fd(&self) -> crate::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
