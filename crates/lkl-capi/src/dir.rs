// SPDX-License-Identifier: GPL-2.0
//! LKL's directory streams over getdents64: lkl_opendir, lkl_fdopendir,
//! lkl_readdir, lkl_rewinddir, lkl_closedir, lkl_errdir, lkl_dirfd.

use core::ffi::{c_char, c_int, c_long};
use std::ptr;

use lkl::fs::OFlags;
use lkl::Errno;
use lkl_sys::{nr, uapi};

use crate::{arg, arg_mut, neg, syscall};

/// getdents64's buffer; aligned for `struct lkl_linux_dirent64`.
#[repr(C, align(8))]
struct Buffer([u8; 4096]);

/// `struct lkl_dir`, opaque to C.
pub struct LklDir {
    fd: c_int,
    /// The result of the last lkl_readdir: 0 or a negative errno.
    err: c_int,
    /// Bytes of `buf` that getdents64 filled, and the next entry's offset.
    len: usize,
    pos: usize,
    buf: Buffer,
}

fn new_dir(fd: c_int) -> *mut LklDir {
    Box::into_raw(Box::new(LklDir {
        fd,
        err: 0,
        len: 0,
        pos: 0,
        buf: Buffer([0; 4096]),
    }))
}

/// Opens directory `path`. On failure returns NULL and stores the negative
/// errno in `*err`.
///
/// # Safety
///
/// `path` is a NUL-terminated string; `err` is writable or NULL.
#[no_mangle]
pub unsafe extern "C" fn lkl_opendir(path: *const c_char, err: *mut c_int) -> *mut LklDir {
    let flags = (OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC).bits() as c_long;
    let fd = syscall(nr::open, &[arg(path), flags, 0]);
    if fd < 0 {
        if !err.is_null() {
            // SAFETY: `err` is writable by the caller's promise.
            unsafe { *err = fd as c_int };
        }
        return ptr::null_mut();
    }
    new_dir(fd as c_int)
}

/// A directory stream over the open directory `fd`, which it then owns
/// (lkl_closedir closes it). `*err` is not touched: this cannot fail
/// other than by running out of host memory, which aborts.
///
/// # Safety
///
/// `err` is writable or NULL.
#[no_mangle]
pub unsafe extern "C" fn lkl_fdopendir(fd: c_int, _err: *mut c_int) -> *mut LklDir {
    new_dir(fd)
}

/// Rewinds the stream to its first entry.
///
/// # Safety
///
/// `dir` came from lkl_opendir or lkl_fdopendir and is not closed.
#[no_mangle]
pub unsafe extern "C" fn lkl_rewinddir(dir: *mut LklDir) {
    // SAFETY: `dir` is a live stream by the caller's promise.
    let dir = unsafe { &mut *dir };
    syscall(nr::lseek, &[dir.fd as c_long, 0, uapi::SEEK_SET as c_long]);
    dir.len = 0;
    dir.pos = 0;
    dir.err = 0;
}

/// Closes the stream and its file descriptor; returns close's result.
///
/// # Safety
///
/// `dir` came from lkl_opendir or lkl_fdopendir and is not closed.
#[no_mangle]
pub unsafe extern "C" fn lkl_closedir(dir: *mut LklDir) -> c_int {
    // SAFETY: the caller hands the stream back; it was made by Box.
    let dir = unsafe { Box::from_raw(dir) };
    syscall(nr::close, &[dir.fd as c_long]) as c_int
}

/// The next entry, or NULL at the end or on an error (see lkl_errdir).
/// The entry stays valid until the next call on the stream.
///
/// # Safety
///
/// `dir` came from lkl_opendir or lkl_fdopendir and is not closed.
#[no_mangle]
pub unsafe extern "C" fn lkl_readdir(dir: *mut LklDir) -> *mut u8 {
    // SAFETY: `dir` is a live stream by the caller's promise.
    let dir = unsafe { &mut *dir };
    dir.err = 0;
    if dir.pos >= dir.len {
        let n = syscall(
            nr::getdents64,
            &[
                dir.fd as c_long,
                arg_mut(dir.buf.0.as_mut_ptr()),
                dir.buf.0.len() as c_long,
            ],
        );
        if n < 0 {
            dir.err = n as c_int;
            return ptr::null_mut();
        }
        dir.len = n as usize;
        dir.pos = 0;
        if n == 0 {
            return ptr::null_mut();
        }
    }
    // d_reclen: the u16 after d_ino and d_off.
    let at = dir.pos;
    let Some(reclen) = dir.buf.0.get(at + 16..at + 18) else {
        dir.err = neg(Errno::IO);
        return ptr::null_mut();
    };
    let reclen = usize::from(u16::from_ne_bytes([reclen[0], reclen[1]]));
    if reclen == 0 || at + reclen > dir.len {
        dir.err = neg(Errno::IO);
        return ptr::null_mut();
    }
    dir.pos += reclen;
    dir.buf.0[at..].as_mut_ptr()
}

/// 0 if the last lkl_readdir did not fail, else its negative errno.
///
/// # Safety
///
/// `dir` came from lkl_opendir or lkl_fdopendir and is not closed.
#[no_mangle]
pub unsafe extern "C" fn lkl_errdir(dir: *mut LklDir) -> c_int {
    // SAFETY: `dir` is a live stream by the caller's promise.
    unsafe { (*dir).err }
}

/// The stream's file descriptor.
///
/// # Safety
///
/// `dir` came from lkl_opendir or lkl_fdopendir and is not closed.
#[no_mangle]
pub unsafe extern "C" fn lkl_dirfd(dir: *mut LklDir) -> c_int {
    // SAFETY: `dir` is a live stream by the caller's promise.
    unsafe { (*dir).fd }
}
