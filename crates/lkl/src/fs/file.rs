// SPDX-License-Identifier: GPL-2.0
//! [`File`] and [`OpenOptions`].

use std::ffi::OsString;
use std::io::{self, Read, Seek, Write};
use std::time::SystemTime;

use super::metadata::{FileTimes, Metadata, Permissions, StatFs};
use super::raw::{self, SeekFrom};
use super::xattr;
use super::{AtFlags, FallocateFlags, Mode, OFlags, XattrFlags};
use crate::errno::Errno;
use crate::fd::{AsFd, BorrowedFd, Fd};
use crate::path::PathArg;

/// An open file of the kernel, as [`std::fs::File`] is of the host's.
///
/// It implements [`Read`], [`Write`] and [`Seek`] (also through `&File`),
/// so the tools of [`std::io`] work across the boundary: `io::copy` from a
/// host file into a kernel file, a `BufReader` over a kernel file, and so
/// on. Reads and writes go straight to the kernel, one system call each,
/// without allocating. The descriptor is closed through the kernel when
/// the `File` is dropped.
///
/// ```
/// use std::io::{Read, Seek, SeekFrom, Write};
/// use lkl::fs::File;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let mut file = File::create("/hello")?;
/// file.write_all(b"hello from the kernel")?;
/// drop(file);
///
/// let mut file = File::open("/hello")?;
/// file.seek(SeekFrom::Start(6))?;
/// let mut text = String::new();
/// file.read_to_string(&mut text)?;
/// assert_eq!(text, "from the kernel");
///
/// let missing = File::open("/missing").unwrap_err();
/// assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct File {
    fd: Fd,
}

impl File {
    /// Opens a file for reading.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// let file = lkl::fs::File::open("/f")?;
    /// assert_eq!(file.metadata()?.len(), 3);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl PathArg) -> io::Result<File> {
        OpenOptions::new().read(true).open(path)
    }

    /// Creates a file for writing, or truncates an existing one.
    ///
    /// ```
    /// use std::io::Write;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let mut file = lkl::fs::File::create("/f")?;
    /// file.write_all(b"abc")?;
    /// assert_eq!(lkl::fs::read("/f")?, b"abc");
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(path: impl PathArg) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    /// Creates a new file for reading and writing; fails with
    /// [`io::ErrorKind::AlreadyExists`] if it exists.
    ///
    /// ```
    /// use lkl::fs::File;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = File::create_new("/f")?;
    /// assert_eq!(File::create_new("/f").unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_new(path: impl PathArg) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
    }

    /// The options to open a file with; the same as [`OpenOptions::new`].
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::options().append(true).create(true).open("/log")?;
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// The status of the open file.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// assert!(file.metadata()?.is_file());
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metadata(&self) -> io::Result<Metadata> {
        let stx = raw::statx(self, c"", AtFlags::EMPTY_PATH, Metadata::MASK)?;
        Ok(Metadata::from_statx(stx))
    }

    /// Sets the size: cuts the file short or extends it with zeros (a hole
    /// where the file system has them).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// file.set_len(1 << 20)?;
    /// assert_eq!(file.metadata()?.len(), 1 << 20);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_len(&self, len: u64) -> io::Result<()> {
        Ok(raw::ftruncate(self, len)?)
    }

    /// Writes data and metadata to storage (`fsync`).
    ///
    /// ```
    /// use std::io::Write;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let mut file = lkl::fs::File::create("/f")?;
    /// file.write_all(b"durable")?;
    /// file.sync_all()?;
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sync_all(&self) -> io::Result<()> {
        Ok(raw::fsync(self)?)
    }

    /// Writes data to storage, and only the metadata needed to read it
    /// (`fdatasync`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// file.sync_data()?;
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sync_data(&self) -> io::Result<()> {
        Ok(raw::fdatasync(self)?)
    }

    /// Writes back the whole file system that holds the file (`syncfs`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// file.sync_filesystem()?;
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sync_filesystem(&self) -> io::Result<()> {
        Ok(raw::syncfs(self)?)
    }

    /// A second handle to the same open file (sharing its position).
    ///
    /// ```
    /// use std::io::{Seek, Write};
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let mut file = lkl::fs::File::create("/f")?;
    /// let mut clone = file.try_clone()?;
    /// file.write_all(b"abc")?;
    /// assert_eq!(clone.stream_position()?, 3);
    /// # drop((file, clone)); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_clone(&self) -> io::Result<File> {
        Ok(File {
            fd: crate::io::dup(self)?,
        })
    }

    /// Sets the permission bits (`fchmod`).
    ///
    /// ```
    /// use lkl::fs::Permissions;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// file.set_permissions(Permissions::from_mode(0o600))?;
    /// assert_eq!(file.metadata()?.permissions().mode(), 0o600);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        Ok(raw::fchmod(self, perm.as_mode())?)
    }

    /// Sets the owner and group (`fchown`); `None` leaves one as it is.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// file.chown(Some(1000), Some(100))?;
    /// assert_eq!((file.metadata()?.uid(), file.metadata()?.gid()), (1000, 100));
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        Ok(raw::fchown(self, uid, gid)?)
    }

    /// Sets the access and modification times, with nanoseconds.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use lkl::fs::FileTimes;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// let when = UNIX_EPOCH + Duration::new(1_000_000, 999);
    /// file.set_times(FileTimes::new().set_accessed(when).set_modified(when))?;
    /// assert_eq!(file.metadata()?.accessed()?, when);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_times(&self, times: FileTimes) -> io::Result<()> {
        Ok(raw::futimens(self, &times)?)
    }

    /// Sets the modification time.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// file.set_modified(UNIX_EPOCH + Duration::from_secs(42))?;
    /// assert_eq!(file.metadata()?.mtime(), 42);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_modified(&self, time: SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time))
    }

    /// Allocates, frees or zeroes `len` bytes at `offset` (`fallocate`).
    /// File systems without it give [`io::ErrorKind::Unsupported`].
    ///
    /// ```
    /// use lkl::fs::FallocateFlags;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// match file.allocate(FallocateFlags::KEEP_SIZE, 0, 1 << 16) {
    ///     Ok(()) => assert_eq!(file.metadata()?.len(), 0),
    ///     Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::Unsupported), // ramfs
    /// }
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate(&self, mode: FallocateFlags, offset: u64, len: u64) -> io::Result<()> {
        Ok(raw::fallocate(self, mode, offset, len)?)
    }

    /// The first byte of data at or after `offset` (`SEEK_DATA`), or `None`
    /// if only a hole follows. Moves the file position there.
    ///
    /// ```
    /// use std::io::Write;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let mut file = lkl::fs::File::create("/f")?;
    /// file.write_all(b"data")?;
    /// assert_eq!(file.seek_data(0)?, Some(0));
    /// assert_eq!(file.seek_data(4)?, None);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seek_data(&self, offset: u64) -> io::Result<Option<u64>> {
        match raw::lseek(self, SeekFrom::Data(offset)) {
            Ok(at) => Ok(Some(at)),
            Err(Errno::NXIO) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The first hole at or after `offset` (`SEEK_HOLE`); the end of the
    /// file counts as one. Moves the file position there.
    ///
    /// ```
    /// use std::io::Write;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let mut file = lkl::fs::File::create("/f")?;
    /// file.write_all(b"data")?;
    /// assert_eq!(file.seek_hole(0)?, 4);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seek_hole(&self, offset: u64) -> io::Result<u64> {
        Ok(raw::lseek(self, SeekFrom::Hole(offset))?)
    }

    /// Reads at `offset` without moving the file position (`pread`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"0123456789")?;
    /// let file = lkl::fs::File::open("/f")?;
    /// let mut buf = [0u8; 4];
    /// assert_eq!(file.read_at(&mut buf, 8)?, 2);
    /// assert_eq!(&buf[..2], b"89");
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        Ok(raw::pread(self, buf, offset)?)
    }

    /// Writes at `offset` without moving the file position (`pwrite`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// assert_eq!(file.write_at(b"xy", 3)?, 2);
    /// assert_eq!(lkl::fs::read("/f")?, b"\0\0\0xy");
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize> {
        Ok(raw::pwrite(self, buf, offset)?)
    }

    /// Reads exactly `buf.len()` bytes at `offset`;
    /// [`io::ErrorKind::UnexpectedEof`] if the file ends first.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"0123456789")?;
    /// let file = lkl::fs::File::open("/f")?;
    /// let mut buf = [0u8; 4];
    /// file.read_exact_at(&mut buf, 2)?;
    /// assert_eq!(&buf, b"2345");
    /// assert!(file.read_exact_at(&mut buf, 8).is_err());
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match raw::pread(self, buf, offset) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Writes all of `buf` at `offset`.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// file.write_all_at(b"abc", 1)?;
    /// assert_eq!(lkl::fs::read("/f")?, b"\0abc");
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match raw::pwrite(self, buf, offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The value of extended attribute `name` (`fgetxattr`); a missing one
    /// is an error with `ENODATA`.
    ///
    /// ```
    /// use lkl::fs::XattrFlags;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// if file.set_xattr("user.k", b"v", XattrFlags::empty()).is_ok() {
    ///     assert_eq!(file.get_xattr("user.k")?, b"v");
    /// }
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_xattr(&self, name: impl PathArg) -> io::Result<Vec<u8>> {
        name.with_c_path(|name| xattr::value(|buf| raw::fgetxattr(self, name, buf)))
    }

    /// Sets extended attribute `name` (`fsetxattr`).
    ///
    /// ```
    /// use lkl::fs::XattrFlags;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// let result = file.set_xattr("trusted.k", b"v", XattrFlags::CREATE);
    /// assert!(result.is_ok() || result.unwrap_err().kind() == std::io::ErrorKind::Unsupported);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_xattr(&self, name: impl PathArg, value: &[u8], flags: XattrFlags) -> io::Result<()> {
        Ok(raw::fsetxattr(self, name, value, flags)?)
    }

    /// The names of the extended attributes (`flistxattr`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// assert!(file.list_xattr()?.iter().all(|name| !name.is_empty()));
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn list_xattr(&self) -> io::Result<Vec<OsString>> {
        xattr::names(|buf| raw::flistxattr(self, buf))
    }

    /// Removes extended attribute `name` (`fremovexattr`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// assert!(file.remove_xattr("user.none").is_err());
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_xattr(&self, name: impl PathArg) -> io::Result<()> {
        Ok(raw::fremovexattr(self, name)?)
    }

    /// The status of the file system that holds the file (`fstatfs`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::File::create("/f")?;
    /// assert_eq!(file.statfs()?.fs_type(), lkl::fs::statfs("/")?.fs_type());
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn statfs(&self) -> io::Result<StatFs> {
        Ok(StatFs::from_statfs(raw::fstatfs(self)?))
    }

    /// The kernel descriptor, given up by the `File`.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let fd: lkl::Fd = lkl::fs::File::create("/f")?.into_fd();
    /// assert_eq!(lkl::fs::raw::write(&fd, b"x")?, 1);
    /// # drop(fd); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_fd(self) -> Fd {
        self.fd
    }
}

/// Reads with one `read` system call, without allocating.
impl Read for &File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(raw::read(&self.fd, buf)?)
    }
}

/// Writes with one `write` system call, without allocating.
impl Write for &File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(raw::write(&self.fd, buf)?)
    }

    /// Nothing is buffered on this side of the kernel.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for &File {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let pos = match pos {
            io::SeekFrom::Start(o) => SeekFrom::Start(o),
            io::SeekFrom::Current(o) => SeekFrom::Current(o),
            io::SeekFrom::End(o) => SeekFrom::End(o),
        };
        Ok(raw::lseek(&self.fd, pos)?)
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for File {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        (&*self).seek(pos)
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Adopts an open kernel descriptor.
impl From<Fd> for File {
    fn from(fd: Fd) -> File {
        File { fd }
    }
}

impl From<File> for Fd {
    fn from(file: File) -> Fd {
        file.fd
    }
}

/// How to open a file, as [`std::fs::OpenOptions`] with `OpenOptionsExt`.
/// Files are always opened with `O_CLOEXEC`.
///
/// ```
/// use std::io::Write;
/// use lkl::fs::{Mode, OpenOptions};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let mut log = OpenOptions::new()
///     .append(true)
///     .create(true)
///     .mode(Mode::RUSR | Mode::WUSR)
///     .open("/log")?;
/// log.write_all(b"one\n")?;
/// assert_eq!(log.metadata()?.permissions().mode(), 0o600);
/// // Neither read nor write: refused, as std does.
/// let refused = OpenOptions::new().open("/log").unwrap_err();
/// assert_eq!(refused.raw_os_error(), Some(22));
/// # drop(log); kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: Mode,
    custom_flags: OFlags,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Nothing set; the mode of new files is `0o666` (less the umask).
    ///
    /// ```
    /// let options = lkl::fs::OpenOptions::new();
    /// # drop(options);
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: Mode::from_bits_truncate(0o666),
            custom_flags: OFlags::empty(),
        }
    }

    /// Open for reading.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::OpenOptions::new().read(true).open("/")?;
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.read = read;
        self
    }

    /// Open for writing.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// let file = lkl::fs::OpenOptions::new().write(true).open("/f")?;
    /// file.write_at(b"X", 0)?;
    /// assert_eq!(lkl::fs::read("/f")?, b"Xbc");
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.write = write;
        self
    }

    /// Open for appending: every write goes to the end (implies writing).
    ///
    /// ```
    /// use std::io::Write;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// let mut file = lkl::fs::OpenOptions::new().append(true).open("/f")?;
    /// file.write_all(b"def")?;
    /// assert_eq!(lkl::fs::read("/f")?, b"abcdef");
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.append = append;
        self
    }

    /// Truncate an existing file to length 0 (needs writing).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// let file = lkl::fs::OpenOptions::new().write(true).truncate(true).open("/f")?;
    /// assert_eq!(file.metadata()?.len(), 0);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.truncate = truncate;
        self
    }

    /// Create the file if it does not exist (needs writing or appending).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::OpenOptions::new().write(true).create(true).open("/new")?;
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.create = create;
        self
    }

    /// Create the file, failing if it exists (`O_CREAT | O_EXCL`); a
    /// symbolic link at the path counts as existing.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let mut options = lkl::fs::OpenOptions::new();
    /// options.write(true).create_new(true);
    /// let file = options.open("/new")?;
    /// assert!(options.open("/new").is_err());
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.create_new = create_new;
        self
    }

    /// The permission bits of a file this creates (less the umask).
    ///
    /// ```
    /// use lkl::fs::Mode;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::OpenOptions::new().write(true).create(true).mode(Mode::RUSR).open("/f")?;
    /// assert_eq!(file.metadata()?.permissions().mode(), 0o400);
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mode(&mut self, mode: Mode) -> &mut OpenOptions {
        self.mode = mode;
        self
    }

    /// More `O_*` flags (`O_NOFOLLOW`, `O_DIRECT`, ...); the access mode
    /// bits among them are ignored.
    ///
    /// ```
    /// use lkl::fs::OFlags;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::symlink("/", "/link")?;
    /// let refused = lkl::fs::OpenOptions::new().read(true).custom_flags(OFlags::NOFOLLOW).open("/link");
    /// assert_eq!(refused.unwrap_err().raw_os_error(), Some(40)); // ELOOP
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn custom_flags(&mut self, flags: OFlags) -> &mut OpenOptions {
        self.custom_flags = flags;
        self
    }

    /// The `open` flags these options stand for, or `EINVAL` for a
    /// combination std refuses too.
    fn flags(&self) -> Result<OFlags, Errno> {
        let access = match (self.read, self.write || self.append) {
            (true, false) => OFlags::RDONLY,
            (false, true) => OFlags::WRONLY,
            (true, true) => OFlags::RDWR,
            (false, false) => return Err(Errno::INVAL),
        };
        let writing = self.write || self.append;
        if !writing && (self.truncate || self.create || self.create_new) {
            return Err(Errno::INVAL);
        }
        if self.append && self.truncate && !self.create_new {
            return Err(Errno::INVAL);
        }
        let mut flags = access | OFlags::CLOEXEC | (self.custom_flags - OFlags::ACCMODE);
        if self.append {
            flags |= OFlags::APPEND;
        }
        if self.truncate {
            flags |= OFlags::TRUNC;
        }
        if self.create_new {
            flags |= OFlags::CREAT | OFlags::EXCL;
        } else if self.create {
            flags |= OFlags::CREAT;
        }
        Ok(flags)
    }

    /// Opens `path` relative to `dir`.
    pub(crate) fn open_at(&self, dir: BorrowedFd<'_>, path: impl PathArg) -> io::Result<File> {
        let fd = raw::openat(dir, path, self.flags()?, self.mode)?;
        Ok(File { fd })
    }

    /// Opens `path` (relative to the working directory) with these options.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let file = lkl::fs::OpenOptions::new().read(true).write(true).create(true).open("/f")?;
    /// # drop(file); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(&self, path: impl PathArg) -> io::Result<File> {
        self.open_at(BorrowedFd::CWD, path)
    }
}
