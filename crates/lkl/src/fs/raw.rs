// SPDX-License-Identifier: GPL-2.0
//! The file system calls one by one, as the kernel has them.
//!
//! Each function is one system call: results are [`Result<T, Errno>`],
//! descriptors are kernel [`Fd`]s, buffers come from the caller, and
//! nothing is allocated on the heap (paths are copied to the stack to add
//! their NUL, except long ones of 512 bytes or more). The
//! [`std::fs`]-like layer of [`lkl::fs`](super) is built on these; use them
//! for what it does not cover.
//!
//! ```
//! use lkl::fs::{raw, Mode, OFlags};
//!
//! let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
//! let file = raw::open("/hello", OFlags::CREAT | OFlags::RDWR, Mode::from_bits_truncate(0o644))?;
//! raw::write(&file, b"hello from the kernel")?;
//! raw::lseek(&file, raw::SeekFrom::Start(0))?;
//! let mut buf = [0u8; 5];
//! raw::read(&file, &mut buf)?;
//! assert_eq!(&buf, b"hello");
//! assert_eq!(raw::stat("/hello")?.st_size, 21);
//! assert_eq!(raw::open("/missing", OFlags::RDONLY, Mode::empty()).unwrap_err(), lkl::Errno::NOENT);
//! # drop(file);
//! # kernel.halt()?;
//! # Ok::<(), lkl::Errno>(())
//! ```

use core::ffi::{c_long, CStr};
use core::mem::MaybeUninit;

use lkl_sys::{nr, uapi};

use super::{
    AtFlags, FallocateFlags, FileTimes, FileType, Mode, MountFlags, OFlags, RenameFlags, StatxMask,
    UnmountFlags, XattrFlags,
};
use crate::errno::{Errno, Result};
use crate::fd::{AsFd, BorrowedFd, Fd};
use crate::path::PathArg;
use crate::syscall::call;

/// File status from `stat`, `lstat` and `fstat`: the kernel's `struct stat`
/// (x86_64 layout).
pub type Stat = uapi::stat;

/// File status from [`statx`]: the kernel's `struct statx`.
pub type Statx = uapi::statx;

/// File system status from [`statfs`] and [`fstatfs`]: the kernel's
/// `struct statfs` (x86_64 layout).
pub type Statfs = uapi::statfs;

/// A pointer argument.
fn ptr<T: ?Sized>(p: *const T) -> c_long {
    p.cast::<u8>() as c_long
}

/// A descriptor argument.
fn fd_arg(fd: BorrowedFd<'_>) -> c_long {
    fd.as_raw().into()
}

/// A path argument.
fn path_arg(path: &CStr) -> c_long {
    ptr(path.as_ptr())
}

/// `openat(dir, path, flags, mode)`: opens or creates a file.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let root = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
/// let file = raw::openat(&root, "new", OFlags::CREAT | OFlags::WRONLY, Mode::RUSR | Mode::WUSR)?;
/// let again = raw::openat(BorrowedFd::CWD, "/new", OFlags::RDONLY, Mode::empty())?;
/// # drop((file, again, root)); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn openat(dir: impl AsFd, path: impl PathArg, flags: OFlags, mode: Mode) -> Result<Fd> {
    path.with_c_path(|path| {
        call(
            nr::openat,
            &[
                fd_arg(dir.as_fd()),
                path_arg(path),
                flags.bits() as c_long,
                mode.bits() as c_long,
            ],
        )
        .map(Fd::from_ret)
    })
}

/// `open(path, flags, mode)`: [`openat`] relative to the working directory.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::open("/f", OFlags::CREAT | OFlags::EXCL | OFlags::RDWR, Mode::from_bits_truncate(0o600))?;
/// assert_eq!(raw::open("/f", OFlags::CREAT | OFlags::EXCL, Mode::empty()).unwrap_err(), lkl::Errno::EXIST);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn open(path: impl PathArg, flags: OFlags, mode: Mode) -> Result<Fd> {
    openat(BorrowedFd::CWD, path, flags, mode)
}

/// `creat(path, mode)`: creates or truncates a file and opens it for
/// writing.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::from_bits_truncate(0o644))?;
/// assert_eq!(raw::write(&file, b"abc")?, 3);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn creat(path: impl PathArg, mode: Mode) -> Result<Fd> {
    open(path, OFlags::CREAT | OFlags::WRONLY | OFlags::TRUNC, mode)
}

/// `read(fd, buf)`: reads up to `buf.len()` bytes; 0 at end of file.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let (rd, wr) = lkl::io::pipe2(OFlags::empty())?;
/// raw::write(&wr, b"ping")?;
/// let mut buf = [0u8; 8];
/// assert_eq!(raw::read(&rd, &mut buf)?, 4);
/// # drop((rd, wr)); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> Result<usize> {
    let args = [
        fd_arg(fd.as_fd()),
        ptr(buf.as_mut_ptr()),
        buf.len() as c_long,
    ];
    call(nr::read, &args).map(|n| n as usize)
}

/// `write(fd, buf)`: writes up to `buf.len()` bytes.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// assert_eq!(raw::write(&file, b"data")?, 4);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn write(fd: impl AsFd, buf: &[u8]) -> Result<usize> {
    let args = [fd_arg(fd.as_fd()), ptr(buf.as_ptr()), buf.len() as c_long];
    call(nr::write, &args).map(|n| n as usize)
}

/// `pread64(fd, buf, offset)`: reads at `offset` without moving the file
/// position.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::open("/f", OFlags::CREAT | OFlags::RDWR, Mode::RUSR | Mode::WUSR)?;
/// raw::write(&file, b"0123456789")?;
/// let mut buf = [0u8; 3];
/// assert_eq!(raw::pread(&file, &mut buf, 4)?, 3);
/// assert_eq!(&buf, b"456");
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn pread(fd: impl AsFd, buf: &mut [u8], offset: u64) -> Result<usize> {
    let args = [
        fd_arg(fd.as_fd()),
        ptr(buf.as_mut_ptr()),
        buf.len() as c_long,
        offset as c_long,
    ];
    call(nr::pread64, &args).map(|n| n as usize)
}

/// `pwrite64(fd, buf, offset)`: writes at `offset` without moving the file
/// position.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::open("/f", OFlags::CREAT | OFlags::RDWR, Mode::RUSR | Mode::WUSR)?;
/// raw::pwrite(&file, b"end", 100)?;
/// assert_eq!(raw::fstat(&file)?.st_size, 103);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn pwrite(fd: impl AsFd, buf: &[u8], offset: u64) -> Result<usize> {
    let args = [
        fd_arg(fd.as_fd()),
        ptr(buf.as_ptr()),
        buf.len() as c_long,
        offset as c_long,
    ];
    call(nr::pwrite64, &args).map(|n| n as usize)
}

/// Where [`lseek`] counts from, or what it looks for.
///
/// ```
/// use lkl::fs::raw::SeekFrom;
///
/// assert_ne!(SeekFrom::Start(0), SeekFrom::End(0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekFrom {
    /// From the start of the file (`SEEK_SET`).
    Start(u64),
    /// From the current position (`SEEK_CUR`).
    Current(i64),
    /// From the end of the file (`SEEK_END`).
    End(i64),
    /// The first byte of data at or after the offset (`SEEK_DATA`);
    /// [`Errno::NXIO`] if there is none before the end.
    Data(u64),
    /// The first hole at or after the offset (`SEEK_HOLE`); the end of the
    /// file counts as a hole.
    Hole(u64),
}

/// `lseek(fd, offset, whence)`: moves the file position; returns the new
/// one.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::open("/f", OFlags::CREAT | OFlags::RDWR, Mode::RUSR | Mode::WUSR)?;
/// raw::write(&file, b"12345")?;
/// assert_eq!(raw::lseek(&file, raw::SeekFrom::Current(-2))?, 3);
/// assert_eq!(raw::lseek(&file, raw::SeekFrom::Hole(0))?, 5);
/// assert_eq!(raw::lseek(&file, raw::SeekFrom::Data(5)), Err(lkl::Errno::NXIO));
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn lseek(fd: impl AsFd, pos: SeekFrom) -> Result<u64> {
    let (offset, whence) = match pos {
        SeekFrom::Start(o) => (o as i64, uapi::SEEK_SET),
        SeekFrom::Current(o) => (o, uapi::SEEK_CUR),
        SeekFrom::End(o) => (o, uapi::SEEK_END),
        SeekFrom::Data(o) => (o as i64, uapi::SEEK_DATA),
        SeekFrom::Hole(o) => (o as i64, uapi::SEEK_HOLE),
    };
    call(
        nr::lseek,
        &[fd_arg(fd.as_fd()), offset as c_long, whence as c_long],
    )
    .map(|n| n as u64)
}

/// Runs a call that fills a `T` through the pointer it is given.
fn fill<T>(run: impl FnOnce(c_long) -> Result<i64>) -> Result<T> {
    let mut out = MaybeUninit::<T>::zeroed();
    run(ptr(out.as_mut_ptr()))?;
    // SAFETY: only used for the kernel's plain C structs, for which
    // all-zero bytes are a valid value; the kernel wrote the rest.
    Ok(unsafe { out.assume_init() })
}

/// `fstat(fd)`: the status of an open file.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::from_bits_truncate(0o640))?;
/// assert_eq!(raw::fstat(&file)?.st_mode & 0o7777, 0o640 & !0o022);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fstat(fd: impl AsFd) -> Result<Stat> {
    fill(|out| call(nr::fstat, &[fd_arg(fd.as_fd()), out]))
}

/// `stat(path)`: the status of a file, following symbolic links.
///
/// ```
/// use lkl::fs::raw;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// assert_eq!(raw::stat("/")?.st_ino, raw::stat("/.")?.st_ino);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn stat(path: impl PathArg) -> Result<Stat> {
    path.with_c_path(|path| fill(|out| call(nr::stat, &[path_arg(path), out])))
}

/// `lstat(path)`: the status of a file, not following a final symbolic
/// link.
///
/// ```
/// use lkl::fs::raw;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("/nowhere", "/link")?;
/// assert_eq!(raw::lstat("/link")?.st_mode & 0o170000, 0o120000);
/// assert_eq!(raw::stat("/link").unwrap_err(), lkl::Errno::NOENT);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn lstat(path: impl PathArg) -> Result<Stat> {
    path.with_c_path(|path| fill(|out| call(nr::lstat, &[path_arg(path), out])))
}

/// `statx(dir, path, flags, mask)`: the extended status of a file. With
/// [`AtFlags::EMPTY_PATH`] and an empty path, of `dir` itself.
///
/// ```
/// use lkl::fs::{raw, AtFlags, StatxMask};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let stx = raw::statx(BorrowedFd::CWD, "/", AtFlags::empty(), StatxMask::BASIC_STATS)?;
/// assert!(StatxMask::from_bits_retain(stx.stx_mask).contains(StatxMask::INO));
/// assert_eq!(u32::from(stx.stx_mode) & 0o170000, 0o040000);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn statx(dir: impl AsFd, path: impl PathArg, flags: AtFlags, mask: StatxMask) -> Result<Statx> {
    path.with_c_path(|path| {
        fill(|out| {
            call(
                nr::statx,
                &[
                    fd_arg(dir.as_fd()),
                    path_arg(path),
                    flags.bits() as c_long,
                    mask.bits() as c_long,
                    out,
                ],
            )
        })
    })
}

/// `mkdirat(dir, path, mode)`: creates a directory.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mkdirat(BorrowedFd::CWD, "/d", Mode::RWXU)?;
/// assert_eq!(raw::stat("/d")?.st_mode & 0o777, 0o700);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn mkdirat(dir: impl AsFd, path: impl PathArg, mode: Mode) -> Result<()> {
    path.with_c_path(|path| {
        call(
            nr::mkdirat,
            &[fd_arg(dir.as_fd()), path_arg(path), mode.bits() as c_long],
        )
        .map(drop)
    })
}

/// `mkdir(path, mode)`: creates a directory.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mkdir("/d", Mode::from_bits_truncate(0o755))?;
/// assert_eq!(raw::mkdir("/d", Mode::RWXU), Err(lkl::Errno::EXIST));
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn mkdir(path: impl PathArg, mode: Mode) -> Result<()> {
    mkdirat(BorrowedFd::CWD, path, mode)
}

/// `mknodat(dir, path, type | mode, dev)`: creates a device node, FIFO,
/// socket or regular file; `dev` comes from [`makedev`](super::makedev).
/// [`FileType::Dir`], [`FileType::Symlink`] and [`FileType::Unknown`] are
/// refused with [`Errno::INVAL`].
///
/// ```
/// use lkl::fs::{raw, FileType, Mode};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mknodat(BorrowedFd::CWD, "/fifo", FileType::Fifo, Mode::RUSR | Mode::WUSR, 0)?;
/// assert_eq!(raw::stat("/fifo")?.st_mode & 0o170000, 0o010000);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn mknodat(
    dir: impl AsFd,
    path: impl PathArg,
    file_type: FileType,
    mode: Mode,
    dev: u64,
) -> Result<()> {
    let type_bits = match file_type {
        FileType::Dir | FileType::Symlink | FileType::Unknown => return Err(Errno::INVAL),
        other => other.mode_bits(),
    };
    path.with_c_path(|path| {
        call(
            nr::mknodat,
            &[
                fd_arg(dir.as_fd()),
                path_arg(path),
                (type_bits | mode.bits()) as c_long,
                dev as c_long,
            ],
        )
        .map(drop)
    })
}

/// `mknod(path, type | mode, dev)`: [`mknodat`] relative to the working
/// directory.
///
/// ```
/// use lkl::fs::{makedev, raw, FileType, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mknod("/null", FileType::CharDevice, Mode::from_bits_truncate(0o666), makedev(1, 3))?;
/// assert_eq!(raw::stat("/null")?.st_rdev, makedev(1, 3));
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn mknod(path: impl PathArg, file_type: FileType, mode: Mode, dev: u64) -> Result<()> {
    mknodat(BorrowedFd::CWD, path, file_type, mode, dev)
}

/// `unlinkat(dir, path, flags)`: removes a name, or with
/// [`AtFlags::REMOVEDIR`] an empty directory.
///
/// ```
/// use lkl::fs::{raw, AtFlags, Mode};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mkdir("/d", Mode::RWXU)?;
/// raw::unlinkat(BorrowedFd::CWD, "/d", AtFlags::REMOVEDIR)?;
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn unlinkat(dir: impl AsFd, path: impl PathArg, flags: AtFlags) -> Result<()> {
    path.with_c_path(|path| {
        call(
            nr::unlinkat,
            &[fd_arg(dir.as_fd()), path_arg(path), flags.bits() as c_long],
        )
        .map(drop)
    })
}

/// `rmdir(path)`: removes an empty directory.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mkdir("/d", Mode::RWXU)?;
/// raw::rmdir("/d")?;
/// assert_eq!(raw::rmdir("/d"), Err(lkl::Errno::NOENT));
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn rmdir(path: impl PathArg) -> Result<()> {
    unlinkat(BorrowedFd::CWD, path, AtFlags::REMOVEDIR)
}

/// `unlink(path)`: removes a name of a file.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/f", Mode::RUSR)?);
/// raw::unlink("/f")?;
/// assert_eq!(raw::stat("/f").unwrap_err(), lkl::Errno::NOENT);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn unlink(path: impl PathArg) -> Result<()> {
    unlinkat(BorrowedFd::CWD, path, AtFlags::empty())
}

/// `chdir(path)`: changes the calling thread's working directory.
///
/// Every host thread has a kernel task of its own, and the working
/// directory belongs to the task.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mkdir("/d", Mode::RWXU)?;
/// raw::chdir("/d")?;
/// drop(raw::creat("f", Mode::RUSR)?);
/// assert!(raw::stat("/d/f").is_ok());
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn chdir(path: impl PathArg) -> Result<()> {
    path.with_c_path(|path| call(nr::chdir, &[path_arg(path)]).map(drop))
}

/// The shape `renameat2` and `linkat` share: two (directory, path) pairs
/// and a flags word.
fn two_paths_at(
    nr: c_long,
    old_dir: impl AsFd,
    old: impl PathArg,
    new_dir: impl AsFd,
    new: impl PathArg,
    flags: c_long,
) -> Result<()> {
    old.with_c_path(|old| {
        new.with_c_path(|new| {
            call(
                nr,
                &[
                    fd_arg(old_dir.as_fd()),
                    path_arg(old),
                    fd_arg(new_dir.as_fd()),
                    path_arg(new),
                    flags,
                ],
            )
            .map(drop)
        })
    })
}

/// `renameat2(old_dir, old, new_dir, new, flags)`.
///
/// ```
/// use lkl::fs::{raw, Mode, RenameFlags};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/a", Mode::RUSR)?);
/// drop(raw::creat("/b", Mode::RUSR)?);
/// let cwd = BorrowedFd::CWD;
/// assert_eq!(raw::renameat2(cwd, "/a", cwd, "/b", RenameFlags::NOREPLACE), Err(lkl::Errno::EXIST));
/// raw::renameat2(cwd, "/a", cwd, "/b", RenameFlags::EXCHANGE)?;
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn renameat2(
    old_dir: impl AsFd,
    old: impl PathArg,
    new_dir: impl AsFd,
    new: impl PathArg,
    flags: RenameFlags,
) -> Result<()> {
    two_paths_at(
        nr::renameat2,
        old_dir,
        old,
        new_dir,
        new,
        flags.bits() as c_long,
    )
}

/// `rename(from, to)`.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/a", Mode::RUSR)?);
/// raw::rename("/a", "/b")?;
/// assert!(raw::stat("/b").is_ok());
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn rename(from: impl PathArg, to: impl PathArg) -> Result<()> {
    let cwd = BorrowedFd::CWD;
    renameat2(cwd, from, cwd, to, RenameFlags::empty())
}

/// `linkat(old_dir, old, new_dir, new, flags)`: a new name for a file;
/// with [`AtFlags::SYMLINK_FOLLOW`] a final symbolic link in `old` is
/// followed.
///
/// ```
/// use lkl::fs::{raw, AtFlags, Mode};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/a", Mode::RUSR)?);
/// let cwd = BorrowedFd::CWD;
/// raw::linkat(cwd, "/a", cwd, "/b", AtFlags::empty())?;
/// assert_eq!(raw::stat("/a")?.st_nlink, 2);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn linkat(
    old_dir: impl AsFd,
    old: impl PathArg,
    new_dir: impl AsFd,
    new: impl PathArg,
    flags: AtFlags,
) -> Result<()> {
    two_paths_at(
        nr::linkat,
        old_dir,
        old,
        new_dir,
        new,
        flags.bits() as c_long,
    )
}

/// `symlinkat(target, dir, path)`: creates `path` pointing at `target`.
///
/// ```
/// use lkl::fs::raw;
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlinkat("target", BorrowedFd::CWD, "/link")?;
/// let mut buf = [0u8; 16];
/// assert_eq!(raw::readlink("/link", &mut buf)?, 6);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn symlinkat(target: impl PathArg, dir: impl AsFd, path: impl PathArg) -> Result<()> {
    target.with_c_path(|target| {
        path.with_c_path(|path| {
            call(
                nr::symlinkat,
                &[path_arg(target), fd_arg(dir.as_fd()), path_arg(path)],
            )
            .map(drop)
        })
    })
}

/// `symlink(target, path)`: creates `path` pointing at `target`.
///
/// ```
/// use lkl::fs::raw;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("/", "/root-link")?;
/// assert_eq!(raw::stat("/root-link")?.st_ino, raw::stat("/")?.st_ino);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn symlink(target: impl PathArg, path: impl PathArg) -> Result<()> {
    symlinkat(target, BorrowedFd::CWD, path)
}

/// `readlinkat(dir, path, buf)`: reads the target of a symbolic link into
/// `buf`, returning its length. A target as long as `buf` may have been cut
/// short.
///
/// ```
/// use lkl::fs::raw;
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("somewhere", "/link")?;
/// let mut buf = [0u8; 64];
/// let n = raw::readlinkat(BorrowedFd::CWD, "/link", &mut buf)?;
/// assert_eq!(&buf[..n], b"somewhere");
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn readlinkat(dir: impl AsFd, path: impl PathArg, buf: &mut [u8]) -> Result<usize> {
    path.with_c_path(|path| {
        call(
            nr::readlinkat,
            &[
                fd_arg(dir.as_fd()),
                path_arg(path),
                ptr(buf.as_mut_ptr()),
                buf.len() as c_long,
            ],
        )
        .map(|n| n as usize)
    })
}

/// `readlink(path, buf)`: [`readlinkat`] relative to the working
/// directory.
///
/// ```
/// use lkl::fs::raw;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("abc", "/link")?;
/// let mut buf = [0u8; 8];
/// assert_eq!(raw::readlink("/link", &mut buf)?, 3);
/// assert_eq!(raw::readlink("/", &mut buf), Err(lkl::Errno::INVAL));
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn readlink(path: impl PathArg, buf: &mut [u8]) -> Result<usize> {
    readlinkat(BorrowedFd::CWD, path, buf)
}

/// `truncate(path, len)`: sets the size of a file.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/f", Mode::RUSR | Mode::WUSR)?);
/// raw::truncate("/f", 1000)?;
/// assert_eq!(raw::stat("/f")?.st_size, 1000);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn truncate(path: impl PathArg, len: u64) -> Result<()> {
    path.with_c_path(|path| call(nr::truncate, &[path_arg(path), len as c_long]).map(drop))
}

/// `ftruncate(fd, len)`: sets the size of an open file.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// raw::ftruncate(&file, 10)?;
/// assert_eq!(raw::fstat(&file)?.st_size, 10);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn ftruncate(fd: impl AsFd, len: u64) -> Result<()> {
    call(nr::ftruncate, &[fd_arg(fd.as_fd()), len as c_long]).map(drop)
}

/// `fallocate(fd, mode, offset, len)`: allocates, frees or zeroes a range
/// of a file. File systems without it answer [`Errno::OPNOTSUPP`].
///
/// ```
/// use lkl::fs::{raw, FallocateFlags, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// match raw::fallocate(&file, FallocateFlags::empty(), 0, 4096) {
///     Ok(()) => assert_eq!(raw::fstat(&file)?.st_size, 4096),
///     Err(e) => assert_eq!(e, lkl::Errno::OPNOTSUPP), // ramfs
/// }
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fallocate(fd: impl AsFd, mode: FallocateFlags, offset: u64, len: u64) -> Result<()> {
    call(
        nr::fallocate,
        &[
            fd_arg(fd.as_fd()),
            mode.bits() as c_long,
            offset as c_long,
            len as c_long,
        ],
    )
    .map(drop)
}

/// `fsync(fd)`: writes the file's data and metadata to its storage.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// raw::fsync(&file)?;
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fsync(fd: impl AsFd) -> Result<()> {
    call(nr::fsync, &[fd_arg(fd.as_fd())]).map(drop)
}

/// `fdatasync(fd)`: writes the file's data, and the metadata needed to read
/// it back.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// raw::fdatasync(&file)?;
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fdatasync(fd: impl AsFd) -> Result<()> {
    call(nr::fdatasync, &[fd_arg(fd.as_fd())]).map(drop)
}

/// `syncfs(fd)`: writes back the file system that holds `fd`.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let root = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
/// raw::syncfs(&root)?;
/// # drop(root); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn syncfs(fd: impl AsFd) -> Result<()> {
    call(nr::syncfs, &[fd_arg(fd.as_fd())]).map(drop)
}

/// `sync()`: writes back every file system.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::raw::sync()?;
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn sync() -> Result<()> {
    call(nr::sync, &[]).map(drop)
}

/// `fchmod(fd, mode)`: sets the permission bits of an open file.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// raw::fchmod(&file, Mode::from_bits_truncate(0o4711))?;
/// assert_eq!(raw::fstat(&file)?.st_mode & 0o7777, 0o4711);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fchmod(fd: impl AsFd, mode: Mode) -> Result<()> {
    call(nr::fchmod, &[fd_arg(fd.as_fd()), mode.bits() as c_long]).map(drop)
}

/// `fchmodat2(dir, path, mode, flags)`: sets the permission bits of a file.
/// With [`AtFlags::SYMLINK_NOFOLLOW`] on a symbolic link, Linux answers
/// [`Errno::OPNOTSUPP`] (links have no permissions of their own).
///
/// ```
/// use lkl::fs::{raw, AtFlags, Mode};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mkdir("/d", Mode::RWXU)?;
/// raw::fchmodat(BorrowedFd::CWD, "/d", Mode::from_bits_truncate(0o1777), AtFlags::empty())?;
/// assert_eq!(raw::stat("/d")?.st_mode & 0o7777, 0o1777);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fchmodat(dir: impl AsFd, path: impl PathArg, mode: Mode, flags: AtFlags) -> Result<()> {
    path.with_c_path(|path| {
        call(
            nr::fchmodat2,
            &[
                fd_arg(dir.as_fd()),
                path_arg(path),
                mode.bits() as c_long,
                flags.bits() as c_long,
            ],
        )
        .map(drop)
    })
}

/// An owner argument: `None` (-1) leaves it as it is.
fn id_arg(id: Option<u32>) -> c_long {
    id.map_or(-1, c_long::from)
}

/// `fchown(fd, uid, gid)`: sets the owner and group of an open file;
/// `None` leaves one as it is.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR)?;
/// raw::fchown(&file, Some(1000), None)?;
/// assert_eq!((raw::fstat(&file)?.st_uid, raw::fstat(&file)?.st_gid), (1000, 0));
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fchown(fd: impl AsFd, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    call(nr::fchown, &[fd_arg(fd.as_fd()), id_arg(uid), id_arg(gid)]).map(drop)
}

/// `fchownat(dir, path, uid, gid, flags)`: sets the owner and group of a
/// file, of a symbolic link itself with [`AtFlags::SYMLINK_NOFOLLOW`].
///
/// ```
/// use lkl::fs::{raw, AtFlags};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("/", "/link")?;
/// raw::fchownat(BorrowedFd::CWD, "/link", Some(7), Some(8), AtFlags::SYMLINK_NOFOLLOW)?;
/// assert_eq!(raw::lstat("/link")?.st_gid, 8);
/// assert_eq!(raw::stat("/")?.st_gid, 0);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fchownat(
    dir: impl AsFd,
    path: impl PathArg,
    uid: Option<u32>,
    gid: Option<u32>,
    flags: AtFlags,
) -> Result<()> {
    path.with_c_path(|path| {
        call(
            nr::fchownat,
            &[
                fd_arg(dir.as_fd()),
                path_arg(path),
                id_arg(uid),
                id_arg(gid),
                flags.bits() as c_long,
            ],
        )
        .map(drop)
    })
}

/// `utimensat(dir, path, times, flags)`: sets the access and modification
/// times of a file, with nanoseconds; of a symbolic link itself with
/// [`AtFlags::SYMLINK_NOFOLLOW`].
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use lkl::fs::{raw, AtFlags, FileTimes};
/// use lkl::BorrowedFd;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("/", "/link")?;
/// let when = UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
/// let times = FileTimes::new().set_modified(when);
/// raw::utimensat(BorrowedFd::CWD, "/link", &times, AtFlags::SYMLINK_NOFOLLOW)?;
/// assert_eq!(raw::lstat("/link")?.st_mtime_nsec, 123_456_789);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn utimensat(
    dir: impl AsFd,
    path: impl PathArg,
    times: &FileTimes,
    flags: AtFlags,
) -> Result<()> {
    path.with_c_path(|path| {
        call(
            nr::utimensat,
            &[
                fd_arg(dir.as_fd()),
                path_arg(path),
                ptr(times.as_timespecs().as_ptr()),
                flags.bits() as c_long,
            ],
        )
        .map(drop)
    })
}

/// `futimens(fd, times)` (`utimensat` on the descriptor): sets the access
/// and modification times of an open file.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use lkl::fs::{raw, FileTimes, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// let times = FileTimes::new().set_accessed(UNIX_EPOCH + Duration::from_secs(86400));
/// raw::futimens(&file, &times)?;
/// assert_eq!(raw::fstat(&file)?.st_atime, 86400);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn futimens(fd: impl AsFd, times: &FileTimes) -> Result<()> {
    // A NULL path makes utimensat act on the descriptor itself.
    call(
        nr::utimensat,
        &[fd_arg(fd.as_fd()), 0, ptr(times.as_timespecs().as_ptr()), 0],
    )
    .map(drop)
}

/// What an extended attribute call acts on: the system call number of
/// each form and its first argument.
enum XattrTarget<'a> {
    Path(&'a CStr),
    Link(&'a CStr),
    Fd(BorrowedFd<'a>),
}

impl XattrTarget<'_> {
    /// The number among the (path, link, fd) triple, and the argument.
    fn pick(&self, calls: [c_long; 3]) -> (c_long, c_long) {
        match self {
            XattrTarget::Path(p) => (calls[0], path_arg(p)),
            XattrTarget::Link(p) => (calls[1], path_arg(p)),
            XattrTarget::Fd(fd) => (calls[2], fd_arg(*fd)),
        }
    }

    fn get(&self, name: &CStr, value: &mut [u8]) -> Result<usize> {
        let (no, target) = self.pick([nr::getxattr, nr::lgetxattr, nr::fgetxattr]);
        let args = [
            target,
            path_arg(name),
            buf_arg(value),
            value.len() as c_long,
        ];
        call(no, &args).map(|n| n as usize)
    }

    fn set(&self, name: &CStr, value: &[u8], flags: XattrFlags) -> Result<()> {
        let (no, target) = self.pick([nr::setxattr, nr::lsetxattr, nr::fsetxattr]);
        let args = [
            target,
            path_arg(name),
            ptr(value.as_ptr()),
            value.len() as c_long,
            flags.bits() as c_long,
        ];
        call(no, &args).map(drop)
    }

    fn list(&self, names: &mut [u8]) -> Result<usize> {
        let (no, target) = self.pick([nr::listxattr, nr::llistxattr, nr::flistxattr]);
        let args = [target, buf_arg(names), names.len() as c_long];
        call(no, &args).map(|n| n as usize)
    }

    fn remove(&self, name: &CStr) -> Result<()> {
        let (no, target) = self.pick([nr::removexattr, nr::lremovexattr, nr::fremovexattr]);
        call(no, &[target, path_arg(name)]).map(drop)
    }
}

/// A buffer the kernel may fill; NULL when empty, which asks for the size.
fn buf_arg(buf: &mut [u8]) -> c_long {
    if buf.is_empty() {
        0
    } else {
        ptr(buf.as_mut_ptr())
    }
}

/// `getxattr(path, name, value)`: reads extended attribute `name` of a file
/// (following symbolic links) into `value`, returning its length. An empty
/// `value` asks for the length only; one too short gives [`Errno::RANGE`],
/// a missing attribute [`Errno::NODATA`].
///
/// ```
/// use lkl::fs::{raw, Mode, XattrFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// # raw::mkdir("/t", Mode::RWXU)?;
/// # raw::mount("tmpfs", "/t", "tmpfs", lkl::fs::MountFlags::empty(), None)?;
/// drop(raw::creat("/t/f", Mode::RUSR | Mode::WUSR)?);
/// match raw::setxattr("/t/f", "user.color", b"blue", XattrFlags::empty()) {
///     Ok(()) => {
///         assert_eq!(raw::getxattr("/t/f", "user.color", &mut [])?, 4);
///         let mut value = [0u8; 16];
///         let n = raw::getxattr("/t/f", "user.color", &mut value)?;
///         assert_eq!(&value[..n], b"blue");
///     }
///     // A kernel whose tmpfs lacks extended attributes.
///     Err(e) => assert_eq!(e, lkl::Errno::OPNOTSUPP),
/// }
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn getxattr(path: impl PathArg, name: impl PathArg, value: &mut [u8]) -> Result<usize> {
    path.with_c_path(|path| name.with_c_path(|name| XattrTarget::Path(path).get(name, value)))
}

/// `lgetxattr(path, name, value)`: [`getxattr`] of a symbolic link itself.
///
/// ```
/// use lkl::fs::raw;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("/", "/link")?;
/// let missing = raw::lgetxattr("/link", "trusted.none", &mut []).unwrap_err();
/// assert!(missing == lkl::Errno::NODATA || missing == lkl::Errno::OPNOTSUPP);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn lgetxattr(path: impl PathArg, name: impl PathArg, value: &mut [u8]) -> Result<usize> {
    path.with_c_path(|path| name.with_c_path(|name| XattrTarget::Link(path).get(name, value)))
}

/// `fgetxattr(fd, name, value)`: [`getxattr`] of an open file.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// let missing = raw::fgetxattr(&file, "user.none", &mut []).unwrap_err();
/// assert!(missing == lkl::Errno::NODATA || missing == lkl::Errno::OPNOTSUPP);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fgetxattr(fd: impl AsFd, name: impl PathArg, value: &mut [u8]) -> Result<usize> {
    name.with_c_path(|name| XattrTarget::Fd(fd.as_fd()).get(name, value))
}

/// `setxattr(path, name, value, flags)`: sets extended attribute `name` of a
/// file, following symbolic links.
///
/// ```
/// use lkl::fs::{raw, Mode, XattrFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/f", Mode::RUSR | Mode::WUSR)?);
/// // A name without a namespace prefix is refused.
/// let refused = raw::setxattr("/f", "color", b"x", XattrFlags::empty()).unwrap_err();
/// assert!(refused == lkl::Errno::OPNOTSUPP || refused == lkl::Errno::INVAL);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn setxattr(
    path: impl PathArg,
    name: impl PathArg,
    value: &[u8],
    flags: XattrFlags,
) -> Result<()> {
    path.with_c_path(|path| {
        name.with_c_path(|name| XattrTarget::Path(path).set(name, value, flags))
    })
}

/// `lsetxattr(path, name, value, flags)`: [`setxattr`] of a symbolic link
/// itself. Linux allows only `trusted.` and `security.` names on links.
///
/// ```
/// use lkl::fs::{raw, XattrFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("/", "/link")?;
/// // user. attributes are for regular files and directories only.
/// let refused = raw::lsetxattr("/link", "user.x", b"1", XattrFlags::empty()).unwrap_err();
/// assert!(refused == lkl::Errno::PERM || refused == lkl::Errno::OPNOTSUPP);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn lsetxattr(
    path: impl PathArg,
    name: impl PathArg,
    value: &[u8],
    flags: XattrFlags,
) -> Result<()> {
    path.with_c_path(|path| {
        name.with_c_path(|name| XattrTarget::Link(path).set(name, value, flags))
    })
}

/// `fsetxattr(fd, name, value, flags)`: [`setxattr`] of an open file.
///
/// ```
/// use lkl::fs::{raw, Mode, XattrFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// let missing = raw::fsetxattr(&file, "user.x", b"1", XattrFlags::REPLACE).unwrap_err();
/// assert!(missing == lkl::Errno::NODATA || missing == lkl::Errno::OPNOTSUPP);
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fsetxattr(fd: impl AsFd, name: impl PathArg, value: &[u8], flags: XattrFlags) -> Result<()> {
    name.with_c_path(|name| XattrTarget::Fd(fd.as_fd()).set(name, value, flags))
}

/// `listxattr(path, names)`: the names of a file's extended attributes,
/// each followed by a NUL, into `names`; returns the length used. An empty
/// `names` asks for the length only.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/f", Mode::RUSR | Mode::WUSR)?);
/// let mut names = [0u8; 256];
/// let n = raw::listxattr("/f", &mut names)?;
/// assert!(names[..n].split(|&b| b == 0).all(|name| !name.starts_with(b"user.")));
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn listxattr(path: impl PathArg, names: &mut [u8]) -> Result<usize> {
    path.with_c_path(|path| XattrTarget::Path(path).list(names))
}

/// `llistxattr(path, names)`: [`listxattr`] of a symbolic link itself.
///
/// ```
/// use lkl::fs::raw;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("/", "/link")?;
/// assert!(raw::llistxattr("/link", &mut []).is_ok());
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn llistxattr(path: impl PathArg, names: &mut [u8]) -> Result<usize> {
    path.with_c_path(|path| XattrTarget::Link(path).list(names))
}

/// `flistxattr(fd, names)`: [`listxattr`] of an open file.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// assert!(raw::flistxattr(&file, &mut [0u8; 64]).is_ok());
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn flistxattr(fd: impl AsFd, names: &mut [u8]) -> Result<usize> {
    XattrTarget::Fd(fd.as_fd()).list(names)
}

/// `removexattr(path, name)`: removes extended attribute `name` of a file,
/// following symbolic links.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/f", Mode::RUSR | Mode::WUSR)?);
/// let missing = raw::removexattr("/f", "user.none").unwrap_err();
/// assert!(missing == lkl::Errno::NODATA || missing == lkl::Errno::OPNOTSUPP);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn removexattr(path: impl PathArg, name: impl PathArg) -> Result<()> {
    path.with_c_path(|path| name.with_c_path(|name| XattrTarget::Path(path).remove(name)))
}

/// `lremovexattr(path, name)`: [`removexattr`] of a symbolic link itself.
///
/// ```
/// use lkl::fs::raw;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::symlink("/", "/link")?;
/// assert!(raw::lremovexattr("/link", "trusted.none").is_err());
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn lremovexattr(path: impl PathArg, name: impl PathArg) -> Result<()> {
    path.with_c_path(|path| name.with_c_path(|name| XattrTarget::Link(path).remove(name)))
}

/// `fremovexattr(fd, name)`: [`removexattr`] of an open file.
///
/// ```
/// use lkl::fs::{raw, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let file = raw::creat("/f", Mode::RUSR | Mode::WUSR)?;
/// assert!(raw::fremovexattr(&file, "user.none").is_err());
/// # drop(file); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fremovexattr(fd: impl AsFd, name: impl PathArg) -> Result<()> {
    name.with_c_path(|name| XattrTarget::Fd(fd.as_fd()).remove(name))
}

/// `statfs(path)`: the status of the file system that holds `path`.
///
/// ```
/// use lkl::fs::raw;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let st = raw::statfs("/")?;
/// assert!(st.f_bsize > 0);
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn statfs(path: impl PathArg) -> Result<Statfs> {
    path.with_c_path(|path| fill(|out| call(nr::statfs, &[path_arg(path), out])))
}

/// `fstatfs(fd)`: the status of the file system that holds an open file.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let root = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
/// assert_eq!(raw::fstatfs(&root)?.f_type, raw::statfs("/")?.f_type);
/// # drop(root); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn fstatfs(fd: impl AsFd) -> Result<Statfs> {
    fill(|out| call(nr::fstatfs, &[fd_arg(fd.as_fd()), out]))
}

/// `mount(source, target, fstype, flags, data)`.
///
/// ```
/// use lkl::fs::{raw, Mode, MountFlags, UnmountFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mkdir("/mnt", Mode::RWXU)?;
/// raw::mount("tmpfs", "/mnt", "tmpfs", MountFlags::NOSUID, Some(c"size=1m"))?;
/// raw::umount("/mnt", UnmountFlags::empty())?;
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn mount(
    source: impl PathArg,
    target: impl PathArg,
    fstype: impl PathArg,
    flags: MountFlags,
    data: Option<&CStr>,
) -> Result<()> {
    source.with_c_path(|source| {
        target.with_c_path(|target| {
            fstype.with_c_path(|fstype| {
                call(
                    nr::mount,
                    &[
                        path_arg(source),
                        path_arg(target),
                        path_arg(fstype),
                        flags.bits() as c_long,
                        data.map_or(0, path_arg),
                    ],
                )
                .map(drop)
            })
        })
    })
}

/// `umount2(target, flags)`.
///
/// ```
/// use lkl::fs::{raw, Mode, MountFlags, UnmountFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// raw::mkdir("/mnt", Mode::RWXU)?;
/// raw::mount("proc", "/mnt", "proc", MountFlags::empty(), None)?;
/// raw::umount("/mnt", UnmountFlags::DETACH)?;
/// assert_eq!(raw::umount("/mnt", UnmountFlags::empty()), Err(lkl::Errno::INVAL));
/// # kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn umount(target: impl PathArg, flags: UnmountFlags) -> Result<()> {
    target.with_c_path(|target| {
        call(nr::umount2, &[path_arg(target), flags.bits() as c_long]).map(drop)
    })
}

/// `getdents64(fd, buf)`: reads the next directory entries of an open
/// directory into `buf`, returning the bytes used; 0 at the end. [`Dirents`]
/// walks the records.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let dir = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
/// let mut buf = [0u8; 4096];
/// let n = raw::getdents64(&dir, &mut buf)?;
/// let names: Vec<&[u8]> = raw::Dirents::new(&buf[..n])
///     .map(|entry| entry.map(|e| e.name().to_bytes()))
///     .collect::<Result<_, _>>()?;
/// assert!(names.contains(&&b"."[..]) && names.contains(&&b".."[..]));
/// # drop(dir); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
pub fn getdents64(fd: impl AsFd, buf: &mut [u8]) -> Result<usize> {
    let args = [
        fd_arg(fd.as_fd()),
        ptr(buf.as_mut_ptr()),
        buf.len() as c_long,
    ];
    call(nr::getdents64, &args).map(|n| n as usize)
}

/// One record of [`getdents64`], borrowed from its buffer.
///
/// ```
/// use lkl::fs::{raw, FileType, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// drop(raw::creat("/f", Mode::RUSR)?);
/// let dir = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
/// let mut buf = [0u8; 4096];
/// let n = raw::getdents64(&dir, &mut buf)?;
/// for entry in raw::Dirents::new(&buf[..n]) {
///     let entry = entry?;
///     if entry.name() == c"f" {
///         assert_eq!(entry.file_type(), FileType::File);
///         assert_eq!(entry.ino(), raw::stat("/f")?.st_ino);
///         assert!(entry.offset() != 0);
///     }
/// }
/// # drop(dir); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dirent<'a> {
    ino: u64,
    offset: i64,
    file_type: FileType,
    name: &'a CStr,
}

impl<'a> Dirent<'a> {
    /// The inode number.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// use lkl::fs::{raw, Mode, OFlags};
    /// let dir = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    /// let mut buf = [0u8; 4096];
    /// let n = raw::getdents64(&dir, &mut buf)?;
    /// let dot = raw::Dirents::new(&buf[..n]).find_map(|e| e.ok().filter(|e| e.name() == c".")).unwrap();
    /// assert_eq!(dot.ino(), raw::stat("/")?.st_ino);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The position after this entry, for `lseek` on the directory (the
    /// file system's cookie, not a byte count).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// use lkl::fs::{raw, Mode, OFlags};
    /// let dir = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    /// let mut buf = [0u8; 4096];
    /// let n = raw::getdents64(&dir, &mut buf)?;
    /// let dot = raw::Dirents::new(&buf[..n]).find_map(|e| e.ok().filter(|e| e.name() == c".")).unwrap();
    /// raw::lseek(&dir, raw::SeekFrom::Start(dot.offset() as u64))?;
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// The type, [`FileType::Unknown`] if the file system does not say.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// use lkl::fs::{raw, Mode, OFlags};
    /// let dir = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    /// let mut buf = [0u8; 4096];
    /// let n = raw::getdents64(&dir, &mut buf)?;
    /// let dot = raw::Dirents::new(&buf[..n]).find_map(|e| e.ok().filter(|e| e.name() == c".")).unwrap();
    /// assert_eq!(dot.file_type(), lkl::fs::FileType::Dir);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_type(&self) -> FileType {
        self.file_type
    }

    /// The name, with its NUL: it can be passed on to the `*at` calls as
    /// it is.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// use lkl::fs::{raw, Mode, OFlags};
    /// let dir = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    /// let mut buf = [0u8; 4096];
    /// let n = raw::getdents64(&dir, &mut buf)?;
    /// let dot = raw::Dirents::new(&buf[..n]).find_map(|e| e.ok().filter(|e| e.name() == c".")).unwrap();
    /// assert_eq!(dot.name().to_bytes(), b".");
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &'a CStr {
        self.name
    }
}

/// Walks the records [`getdents64`] wrote (u64 ino, i64 offset, u16
/// length, u8 type, NUL-terminated name). A torn record yields
/// [`Errno::IO`] and ends the walk.
///
/// ```
/// use lkl::fs::{raw, Mode, OFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let dir = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
/// let mut buf = [0u8; 4096];
/// let n = raw::getdents64(&dir, &mut buf)?;
/// assert!(raw::Dirents::new(&buf[..n]).count() >= 2);
/// assert_eq!(raw::Dirents::new(&buf[..10]).next(), Some(Err(lkl::Errno::IO)));
/// # drop(dir); kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dirents<'a> {
    bytes: &'a [u8],
}

impl<'a> Dirents<'a> {
    /// The records in `bytes`, the part of the buffer the kernel filled.
    ///
    /// ```
    /// // One record by hand: ino 2, offset 1, length 24, DT_DIR, ".".
    /// let mut record = [0u8; 24];
    /// record[0] = 2;
    /// record[8] = 1;
    /// record[16] = 24;
    /// record[18] = 4;
    /// record[19] = b'.';
    /// let entry = lkl::fs::raw::Dirents::new(&record).next().unwrap()?;
    /// assert_eq!((entry.ino(), entry.name()), (2, c"."));
    /// # Ok::<(), lkl::Errno>(())
    /// ```
    pub fn new(bytes: &'a [u8]) -> Dirents<'a> {
        Dirents { bytes }
    }

    /// How many bytes are left to walk.
    pub(crate) fn remaining_len(&self) -> usize {
        self.bytes.len()
    }

    fn parse(&self) -> Result<(Dirent<'a>, usize)> {
        const HEADER: usize = 19;
        let bytes = self.bytes;
        if bytes.len() < HEADER {
            return Err(Errno::IO);
        }
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[at..at + 8]);
            w
        };
        let reclen = usize::from(u16::from_ne_bytes([bytes[16], bytes[17]]));
        if reclen <= HEADER || reclen > bytes.len() {
            return Err(Errno::IO);
        }
        let name = CStr::from_bytes_until_nul(&bytes[HEADER..reclen]).map_err(|_| Errno::IO)?;
        let entry = Dirent {
            ino: u64::from_ne_bytes(word(0)),
            offset: i64::from_ne_bytes(word(8)),
            file_type: FileType::from_dtype(bytes[18]),
            name,
        };
        Ok((entry, reclen))
    }
}

impl<'a> Iterator for Dirents<'a> {
    type Item = Result<Dirent<'a>>;

    fn next(&mut self) -> Option<Result<Dirent<'a>>> {
        if self.bytes.is_empty() {
            return None;
        }
        match self.parse() {
            Ok((entry, len)) => {
                self.bytes = &self.bytes[len..];
                Some(Ok(entry))
            }
            Err(e) => {
                self.bytes = &[];
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ino: u64, dtype: u8, name: &[u8]) -> Vec<u8> {
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        let mut r = vec![0u8; reclen];
        r[0..8].copy_from_slice(&ino.to_ne_bytes());
        r[8..16].copy_from_slice(&77i64.to_ne_bytes());
        r[16..18].copy_from_slice(&(reclen as u16).to_ne_bytes());
        r[18] = dtype;
        r[19..19 + name.len()].copy_from_slice(name);
        r
    }

    #[test]
    fn parses_records() {
        let mut buf = record(2, 4, b".");
        buf.extend(record(12, 8, b"a-file"));
        let entries: Vec<Dirent<'_>> = Dirents::new(&buf).collect::<Result<_>>().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].file_type(), FileType::Dir);
        assert_eq!(entries[1].name(), c"a-file");
        assert_eq!(entries[1].ino(), 12);
        assert_eq!(entries[1].offset(), 77);
        assert_eq!(entries[1].file_type(), FileType::File);
    }

    #[test]
    fn rejects_torn_records() {
        let buf = record(2, 4, b"x");
        let mut torn = Dirents::new(&buf[..10]);
        assert_eq!(torn.next(), Some(Err(Errno::IO)));
        assert_eq!(torn.next(), None);
        let mut bad = buf.clone();
        bad[16..18].copy_from_slice(&200u16.to_ne_bytes());
        assert_eq!(Dirents::new(&bad).next(), Some(Err(Errno::IO)));
        // A name without its NUL.
        let mut unterminated = buf.clone();
        unterminated[19..].fill(b'x');
        assert_eq!(Dirents::new(&unterminated).next(), Some(Err(Errno::IO)));
    }
}
