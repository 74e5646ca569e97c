// SPDX-License-Identifier: GPL-2.0
//! Kernel file descriptors.
//!
//! These number files of the kernel inside the program. They are a type of
//! their own, so a kernel descriptor can never be passed to the host's
//! `read(2)` or mistaken for a [`std::os::fd::OwnedFd`], and the other way
//! round.

use core::fmt;
use core::marker::PhantomData;

use lkl_sys::nr;

use crate::syscall::call;

/// An open kernel file descriptor, closed through the kernel when dropped.
pub struct Fd {
    raw: i32,
}

impl Fd {
    /// Takes ownership of kernel descriptor `raw`.
    ///
    /// # Safety
    ///
    /// `raw` is an open kernel descriptor that nothing else will close.
    pub unsafe fn from_raw(raw: i32) -> Fd {
        Fd { raw }
    }

    /// The descriptor's number in the kernel.
    pub fn as_raw(&self) -> i32 {
        self.raw
    }

    /// Gives up ownership: the caller must close the number itself.
    pub fn into_raw(self) -> i32 {
        let raw = self.raw;
        core::mem::forget(self);
        raw
    }

    /// Closes the descriptor, returning the kernel's verdict, which dropping
    /// it ignores.
    pub fn close(self) -> crate::Result<()> {
        let raw = self.into_raw();
        call(nr::close, &[raw.into()]).map(drop)
    }

    /// Builds an owned descriptor from a syscall's return value.
    pub(crate) fn from_ret(ret: i64) -> Fd {
        Fd { raw: ret as i32 }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // Nothing useful can be done with an error here; `close()` reports
        // it. After halt the kernel answers ENODEV and owns nothing anymore.
        let _ = call(nr::close, &[self.raw.into()]);
    }
}

impl fmt::Debug for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fd({})", self.raw)
    }
}

/// A kernel descriptor borrowed for `'a`; it is not closed when dropped.
#[derive(Clone, Copy)]
pub struct BorrowedFd<'a> {
    raw: i32,
    owner: PhantomData<&'a Fd>,
}

impl BorrowedFd<'static> {
    /// The current working directory, for the `*at` calls (`AT_FDCWD`).
    pub const CWD: BorrowedFd<'static> = BorrowedFd {
        raw: lkl_sys::uapi::AT_FDCWD,
        owner: PhantomData,
    };

    /// Borrows kernel descriptor `raw` for as long as the caller likes.
    ///
    /// # Safety
    ///
    /// `raw` stays open while the result is used.
    pub unsafe fn borrow_raw(raw: i32) -> BorrowedFd<'static> {
        BorrowedFd {
            raw,
            owner: PhantomData,
        }
    }
}

impl BorrowedFd<'_> {
    /// The descriptor's number in the kernel.
    pub fn as_raw(&self) -> i32 {
        self.raw
    }
}

impl fmt::Debug for BorrowedFd<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BorrowedFd({})", self.raw)
    }
}

/// Anything that can lend a kernel descriptor.
pub trait AsFd {
    /// Borrows the descriptor.
    fn as_fd(&self) -> BorrowedFd<'_>;
}

impl AsFd for Fd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        BorrowedFd {
            raw: self.raw,
            owner: PhantomData,
        }
    }
}

impl AsFd for BorrowedFd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        *self
    }
}

impl<T: AsFd + ?Sized> AsFd for &T {
    fn as_fd(&self) -> BorrowedFd<'_> {
        (**self).as_fd()
    }
}
