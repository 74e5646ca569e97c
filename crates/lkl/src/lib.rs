// SPDX-License-Identifier: GPL-2.0
//! Linux inside your program: a safe API to the kernel of UML library mode.
//!
//! The kernel is linked into the program as a static archive
//! (`liblinux.a`, through [`lkl_sys`]). [`Kernel`] boots it; from then on
//! every thread of the program can make system calls into it with the
//! functions of this crate, which run on the calling thread. Results are
//! [`Result<T, Errno>`](Result): [`Errno`] is the kernel's error number and
//! a type of its own, never the host's `std::io::Error`. Kernel file
//! descriptors are [`Fd`], closed through the kernel when dropped, and
//! never confused with host descriptors.
//!
//! ```
//! use lkl::fs::{self, OFlags, SeekFrom};
//!
//! let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
//! let file = fs::open("/hello", OFlags::CREAT | OFlags::RDWR, 0o644)?;
//! fs::write(&file, b"hello from the kernel")?;
//! fs::lseek(&file, SeekFrom::Start(0))?;
//! let mut buf = [0u8; 5];
//! fs::read(&file, &mut buf)?;
//! assert_eq!(&buf, b"hello");
//! assert_eq!(fs::stat("/hello")?.st_size, 21);
//! assert_eq!(fs::open("/missing", OFlags::RDONLY, 0).unwrap_err(), lkl::Errno::NOENT);
//! drop(file);
//! kernel.halt()?;
//! # Ok::<(), lkl::Errno>(())
//! ```
//!
//! One kernel per process: Linux keeps global state that a halt does not
//! reset, so [`KernelBuilder::boot`] refuses a second boot with
//! [`Errno::BUSY`]. Calls before boot or after halt fail with
//! [`Errno::NODEV`].

mod errno;
mod fd;
mod flags;
pub mod fs;
pub mod io;
mod kernel;
pub mod net;
mod path;
pub mod process;
mod syscall;

pub use errno::{Errno, Result};
pub use fd::{AsFd, BorrowedFd, Fd};
pub use kernel::{HaltError, Kernel, KernelBuilder};
pub use lkl_sys;
pub use path::PathArg;
pub use syscall::syscall;
