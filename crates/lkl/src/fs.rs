// SPDX-License-Identifier: GPL-2.0
//! Files and directories.

use core::ffi::c_long;
use core::mem::MaybeUninit;

use lkl_sys::{nr, uapi};

use crate::errno::{Errno, Result};
use crate::fd::{AsFd, BorrowedFd, Fd};
use crate::flags::kernel_flags;
use crate::path::PathArg;
use crate::syscall::call;

/// File status, the kernel's `struct stat` (x86_64 layout).
pub type Stat = uapi::stat;

kernel_flags! {
    /// Flags of [`open`] and [`openat`], the kernel's `O_*` values.
    OFlags: u32
}

impl OFlags {
    /// `O_RDONLY`
    pub const RDONLY: OFlags = OFlags(uapi::O_RDONLY);
    /// `O_WRONLY`
    pub const WRONLY: OFlags = OFlags(uapi::O_WRONLY);
    /// `O_RDWR`
    pub const RDWR: OFlags = OFlags(uapi::O_RDWR);
    /// `O_CREAT`
    pub const CREAT: OFlags = OFlags(uapi::O_CREAT);
    /// `O_EXCL`
    pub const EXCL: OFlags = OFlags(uapi::O_EXCL);
    /// `O_TRUNC`
    pub const TRUNC: OFlags = OFlags(uapi::O_TRUNC);
    /// `O_APPEND`
    pub const APPEND: OFlags = OFlags(uapi::O_APPEND);
    /// `O_NONBLOCK`
    pub const NONBLOCK: OFlags = OFlags(uapi::O_NONBLOCK);
    /// `O_DIRECTORY`
    pub const DIRECTORY: OFlags = OFlags(uapi::O_DIRECTORY);
    /// `O_NOFOLLOW`
    pub const NOFOLLOW: OFlags = OFlags(uapi::O_NOFOLLOW);
    /// `O_CLOEXEC`
    pub const CLOEXEC: OFlags = OFlags(uapi::O_CLOEXEC);
}

/// Where [`lseek`] counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekFrom {
    /// From the start of the file (`SEEK_SET`).
    Start(u64),
    /// From the current position (`SEEK_CUR`).
    Current(i64),
    /// From the end of the file (`SEEK_END`).
    End(i64),
}

/// `openat(dir, path, flags, mode)`: opens or creates a file.
pub fn openat(dir: impl AsFd, path: impl PathArg, flags: OFlags, mode: u32) -> Result<Fd> {
    let path = path.to_c_path()?;
    call(
        nr::openat,
        &[
            dir.as_fd().as_raw().into(),
            path.as_ptr() as c_long,
            flags.0 as c_long,
            mode as c_long,
        ],
    )
    .map(Fd::from_ret)
}

/// `open(path, flags, mode)`: [`openat`] relative to the working directory.
pub fn open(path: impl PathArg, flags: OFlags, mode: u32) -> Result<Fd> {
    openat(BorrowedFd::CWD, path, flags, mode)
}

/// `creat(path, mode)`: creates or truncates a file and opens it for
/// writing.
pub fn creat(path: impl PathArg, mode: u32) -> Result<Fd> {
    open(path, OFlags::CREAT | OFlags::WRONLY | OFlags::TRUNC, mode)
}

/// A read or write of `len` bytes at `buf`; `offset` is the fourth
/// argument of the positioned calls.
fn transfer(
    nr: c_long,
    fd: BorrowedFd<'_>,
    buf: c_long,
    len: usize,
    offset: &[c_long],
) -> Result<usize> {
    let mut args = vec![fd.as_raw().into(), buf, len as c_long];
    args.extend_from_slice(offset);
    call(nr, &args).map(|n| n as usize)
}

/// `read(fd, buf)`: reads up to `buf.len()` bytes; 0 at end of file.
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> Result<usize> {
    transfer(
        nr::read,
        fd.as_fd(),
        buf.as_mut_ptr() as c_long,
        buf.len(),
        &[],
    )
}

/// `write(fd, buf)`: writes up to `buf.len()` bytes.
pub fn write(fd: impl AsFd, buf: &[u8]) -> Result<usize> {
    transfer(
        nr::write,
        fd.as_fd(),
        buf.as_ptr() as c_long,
        buf.len(),
        &[],
    )
}

/// `pread64(fd, buf, offset)`: reads at `offset` without moving the file
/// position.
pub fn pread(fd: impl AsFd, buf: &mut [u8], offset: u64) -> Result<usize> {
    let (ptr, len) = (buf.as_mut_ptr() as c_long, buf.len());
    transfer(nr::pread64, fd.as_fd(), ptr, len, &[offset as c_long])
}

/// `pwrite64(fd, buf, offset)`: writes at `offset` without moving the file
/// position.
pub fn pwrite(fd: impl AsFd, buf: &[u8], offset: u64) -> Result<usize> {
    let (ptr, len) = (buf.as_ptr() as c_long, buf.len());
    transfer(nr::pwrite64, fd.as_fd(), ptr, len, &[offset as c_long])
}

/// `lseek(fd, offset, whence)`: moves the file position; returns the new
/// one.
pub fn lseek(fd: impl AsFd, pos: SeekFrom) -> Result<u64> {
    let (offset, whence) = match pos {
        SeekFrom::Start(o) => (o as i64, uapi::SEEK_SET),
        SeekFrom::Current(o) => (o, uapi::SEEK_CUR),
        SeekFrom::End(o) => (o, uapi::SEEK_END),
    };
    call(
        nr::lseek,
        &[fd.as_fd().as_raw().into(), offset, whence as c_long],
    )
    .map(|n| n as u64)
}

fn stat_call(nr: c_long, args: &mut [c_long], slot: usize) -> Result<Stat> {
    let mut st = MaybeUninit::<Stat>::zeroed();
    args[slot] = st.as_mut_ptr() as c_long;
    call(nr, args)?;
    // SAFETY: the kernel filled the whole struct on success, and all-zero
    // bytes were already a valid `Stat`.
    Ok(unsafe { st.assume_init() })
}

/// `fstat(fd)`: the status of an open file.
pub fn fstat(fd: impl AsFd) -> Result<Stat> {
    stat_call(nr::fstat, &mut [fd.as_fd().as_raw().into(), 0], 1)
}

/// `stat(path)`: the status of a file, following symbolic links.
pub fn stat(path: impl PathArg) -> Result<Stat> {
    let path = path.to_c_path()?;
    stat_call(nr::stat, &mut [path.as_ptr() as c_long, 0], 1)
}

/// `lstat(path)`: the status of a file, not following a final symbolic
/// link.
pub fn lstat(path: impl PathArg) -> Result<Stat> {
    let path = path.to_c_path()?;
    stat_call(nr::lstat, &mut [path.as_ptr() as c_long, 0], 1)
}

fn path_call(nr: c_long, path: impl PathArg, rest: &[c_long]) -> Result<i64> {
    let path = path.to_c_path()?;
    let mut args = vec![path.as_ptr() as c_long];
    args.extend_from_slice(rest);
    call(nr, &args)
}

/// `mkdir(path, mode)`: creates a directory.
pub fn mkdir(path: impl PathArg, mode: u32) -> Result<()> {
    path_call(nr::mkdir, path, &[mode as c_long]).map(drop)
}

/// A device number as the kernel encodes it (`new_encode_dev`).
pub fn makedev(major: u32, minor: u32) -> u64 {
    u64::from(minor & 0xff) | (u64::from(major) << 8) | (u64::from(minor & !0xff) << 12)
}

/// `mknod(path, mode, dev)`: creates a device node, FIFO or socket file;
/// `mode` carries the type bits (`S_IFCHR`, ...), `dev` comes from
/// [`makedev`].
pub fn mknod(path: impl PathArg, mode: u32, dev: u64) -> Result<()> {
    path_call(nr::mknod, path, &[mode as c_long, dev as c_long]).map(drop)
}

/// `rmdir(path)`: removes an empty directory.
pub fn rmdir(path: impl PathArg) -> Result<()> {
    path_call(nr::rmdir, path, &[]).map(drop)
}

/// `unlink(path)`: removes a name of a file.
pub fn unlink(path: impl PathArg) -> Result<()> {
    path_call(nr::unlink, path, &[]).map(drop)
}

/// `chdir(path)`: changes the calling thread's working directory.
///
/// Every host thread has a kernel task of its own, and the working
/// directory belongs to the task.
pub fn chdir(path: impl PathArg) -> Result<()> {
    path_call(nr::chdir, path, &[]).map(drop)
}

/// `rename(from, to)`.
pub fn rename(from: impl PathArg, to: impl PathArg) -> Result<()> {
    let to = to.to_c_path()?;
    path_call(nr::rename, from, &[to.as_ptr() as c_long]).map(drop)
}

/// `symlink(target, path)`: creates `path` pointing at `target`.
pub fn symlink(target: impl PathArg, path: impl PathArg) -> Result<()> {
    let path = path.to_c_path()?;
    path_call(nr::symlink, target, &[path.as_ptr() as c_long]).map(drop)
}

/// `readlink(path)`: the target of a symbolic link.
pub fn readlink(path: impl PathArg) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    let n = path_call(
        nr::readlink,
        path,
        &[buf.as_mut_ptr() as c_long, buf.len() as c_long],
    )?;
    buf.truncate(n as usize);
    Ok(buf)
}

/// `ftruncate(fd, len)`.
pub fn ftruncate(fd: impl AsFd, len: u64) -> Result<()> {
    call(nr::ftruncate, &[fd.as_fd().as_raw().into(), len as c_long]).map(drop)
}

/// `fsync(fd)`.
pub fn fsync(fd: impl AsFd) -> Result<()> {
    call(nr::fsync, &[fd.as_fd().as_raw().into()]).map(drop)
}

kernel_flags! {
    /// Flags of [`mount`], the kernel's `MS_*` values.
    MountFlags: u64
}

impl MountFlags {
    /// `MS_RDONLY`
    pub const RDONLY: MountFlags = MountFlags(uapi::MS_RDONLY as u64);
    /// `MS_NOSUID`
    pub const NOSUID: MountFlags = MountFlags(uapi::MS_NOSUID as u64);
    /// `MS_NODEV`
    pub const NODEV: MountFlags = MountFlags(uapi::MS_NODEV as u64);
    /// `MS_NOEXEC`
    pub const NOEXEC: MountFlags = MountFlags(uapi::MS_NOEXEC as u64);
    /// `MS_REMOUNT`
    pub const REMOUNT: MountFlags = MountFlags(uapi::MS_REMOUNT as u64);
}

/// `mount(source, target, fstype, flags, data)`.
pub fn mount(
    source: impl PathArg,
    target: impl PathArg,
    fstype: impl PathArg,
    flags: MountFlags,
    data: Option<&core::ffi::CStr>,
) -> Result<()> {
    let target = target.to_c_path()?;
    let fstype = fstype.to_c_path()?;
    path_call(
        nr::mount,
        source,
        &[
            target.as_ptr() as c_long,
            fstype.as_ptr() as c_long,
            flags.0 as c_long,
            data.map_or(0, |d| d.as_ptr() as c_long),
        ],
    )
    .map(drop)
}

/// `umount2(target, flags)`.
pub fn umount(target: impl PathArg, flags: u32) -> Result<()> {
    path_call(nr::umount2, target, &[flags as c_long]).map(drop)
}

/// The type of a directory entry (`DT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A socket.
    Socket,
    /// The file system did not say.
    Unknown,
}

impl FileType {
    fn from_dtype(d: u8) -> FileType {
        // DT_* are the S_IF* type bits shifted right by 12.
        match u32::from(d) << 12 {
            uapi::S_IFREG => FileType::File,
            uapi::S_IFDIR => FileType::Dir,
            uapi::S_IFLNK => FileType::Symlink,
            uapi::S_IFCHR => FileType::CharDevice,
            uapi::S_IFBLK => FileType::BlockDevice,
            uapi::S_IFIFO => FileType::Fifo,
            uapi::S_IFSOCK => FileType::Socket,
            _ => FileType::Unknown,
        }
    }
}

/// One entry of a directory, from [`getdents64`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u64,
    /// File type, if the file system gives it.
    pub file_type: FileType,
    /// The name, without a NUL.
    pub name: Vec<u8>,
}

/// `getdents64(fd)`: reads the next batch of entries of an open directory;
/// an empty batch means the end.
pub fn getdents64(fd: impl AsFd) -> Result<Vec<DirEntry>> {
    // Aligned for the records' u64 fields.
    let mut buf = vec![0u64; 1024];
    let len = call(
        nr::getdents64,
        &[
            fd.as_fd().as_raw().into(),
            buf.as_mut_ptr() as c_long,
            (buf.len() * 8) as c_long,
        ],
    )? as usize;
    // SAFETY: `buf` is 8192 initialized bytes; reading them as bytes is
    // always valid.
    let bytes = unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), buf.len() * 8) };
    parse_dirents(&bytes[..len.min(bytes.len())])
}

/// Splits getdents64 records: u64 ino, i64 off, u16 reclen, u8 type, name.
fn parse_dirents(mut bytes: &[u8]) -> Result<Vec<DirEntry>> {
    const HEADER: usize = 19;
    let mut entries = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < HEADER {
            return Err(Errno::IO);
        }
        let ino = u64::from_ne_bytes(bytes[0..8].try_into().map_err(|_| Errno::IO)?);
        let reclen = usize::from(u16::from_ne_bytes([bytes[16], bytes[17]]));
        if reclen < HEADER || reclen > bytes.len() {
            return Err(Errno::IO);
        }
        let name = &bytes[HEADER..reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        entries.push(DirEntry {
            ino,
            file_type: FileType::from_dtype(bytes[18]),
            name: name.to_vec(),
        });
        bytes = &bytes[reclen..];
    }
    Ok(entries)
}

/// All entries of directory `path`, `.` and `..` included.
pub fn read_dir(path: impl PathArg) -> Result<Vec<DirEntry>> {
    let dir = open(path, OFlags::RDONLY | OFlags::DIRECTORY, 0)?;
    let mut all = Vec::new();
    loop {
        let batch = getdents64(&dir)?;
        if batch.is_empty() {
            return Ok(all);
        }
        all.extend(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ino: u64, dtype: u8, name: &[u8]) -> Vec<u8> {
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        let mut r = vec![0u8; reclen];
        r[0..8].copy_from_slice(&ino.to_ne_bytes());
        r[16..18].copy_from_slice(&(reclen as u16).to_ne_bytes());
        r[18] = dtype;
        r[19..19 + name.len()].copy_from_slice(name);
        r
    }

    #[test]
    fn parses_records() {
        let mut buf = record(2, 4, b".");
        buf.extend(record(12, 8, b"a-file"));
        let entries = parse_dirents(&buf).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].file_type, FileType::Dir);
        assert_eq!(entries[1].name, b"a-file");
        assert_eq!(entries[1].ino, 12);
        assert_eq!(entries[1].file_type, FileType::File);
    }

    #[test]
    fn encodes_device_numbers() {
        assert_eq!(makedev(1, 5), 0x105);
        assert_eq!(makedev(8, 0x1234), 0x34 | (8 << 8) | (0x1200 << 12));
    }

    #[test]
    fn rejects_torn_records() {
        let buf = record(2, 4, b"x");
        assert_eq!(parse_dirents(&buf[..10]), Err(Errno::IO));
        let mut bad = buf.clone();
        bad[16..18].copy_from_slice(&200u16.to_ne_bytes());
        assert_eq!(parse_dirents(&bad), Err(Errno::IO));
    }
}
