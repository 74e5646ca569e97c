// SPDX-License-Identifier: GPL-2.0
//! Linux inside your program: a safe API to the kernel of UML library mode.
//!
//! The kernel is linked into the program as a static archive
//! (`liblinux.a`, through [`lkl_sys`]). [`Kernel`] boots it; from then on
//! every thread of the program can make system calls into it with the
//! functions of this crate, which run on the calling thread. Results are
//! [`Result<T, Errno>`](Result): [`Errno`] is the kernel's error number and
//! a type of its own, never the host's `std::io::Error`, except in the
//! [`std::fs`]-like [`fs`] module, whose functions return
//! [`std::io::Result`] as std's do (an explicit `From<Errno>` keeps the
//! number). Kernel file descriptors are [`Fd`], closed through the kernel
//! when dropped, and never confused with host descriptors.
//!
//! ```
//! use std::io::{Read, Seek, SeekFrom, Write};
//! use lkl::fs::{self, File};
//!
//! let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
//! let mut file = File::options().read(true).write(true).create(true).open("/hello")?;
//! file.write_all(b"hello from the kernel")?;
//! file.seek(SeekFrom::Start(0))?;
//! let mut buf = [0u8; 5];
//! file.read_exact(&mut buf)?;
//! assert_eq!(&buf, b"hello");
//! assert_eq!(fs::metadata("/hello")?.len(), 21);
//! // The raw calls give the kernel's errno as it is.
//! assert_eq!(fs::raw::stat("/missing").unwrap_err(), lkl::Errno::NOENT);
//! drop(file);
//! kernel.halt()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! One kernel per process: Linux keeps global state that a halt does not
//! reset, so [`KernelBuilder::boot`] refuses a second boot with
//! [`Errno::BUSY`]. Calls before boot or after halt fail with
//! [`Errno::NODEV`].

pub mod disk;
mod errno;
mod fd;
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
