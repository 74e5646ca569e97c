// SPDX-License-Identifier: GPL-2.0
//! Views of what the kernel reports about files and file systems, and the
//! values the setters take: [`FileType`], [`Metadata`], [`Permissions`],
//! [`FileTimes`], [`StatFs`].

use core::fmt;
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lkl_sys::uapi;

use super::raw::{Statfs, Statx};
use super::{Mode, StatFsFlags, StatxMask};

/// The type of a file: the `S_IFMT` bits of its mode, or the `DT_*` type
/// of a directory entry.
///
/// ```
/// use lkl::fs::FileType;
///
/// assert_eq!(FileType::from_mode(0o100_644), FileType::File);
/// assert!(FileType::Dir.is_dir());
/// assert_eq!(FileType::Symlink.mode_bits(), 0o120_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// The file system did not say (`DT_UNKNOWN`), or a type Linux does not
    /// have.
    Unknown,
}

impl FileType {
    /// The type in a full mode (`st_mode`).
    ///
    /// ```
    /// use lkl::fs::FileType;
    ///
    /// assert_eq!(FileType::from_mode(0o040_755), FileType::Dir);
    /// assert_eq!(FileType::from_mode(0o644), FileType::Unknown);
    /// ```
    pub fn from_mode(mode: u32) -> FileType {
        match mode & uapi::S_IFMT {
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

    /// The type of a directory entry's `d_type`.
    pub(crate) fn from_dtype(d_type: u8) -> FileType {
        // DT_* are the S_IF* type bits shifted right by 12.
        FileType::from_mode(u32::from(d_type) << 12)
    }

    /// The `S_IF*` bits of this type; 0 for [`FileType::Unknown`].
    ///
    /// ```
    /// assert_eq!(lkl::fs::FileType::File.mode_bits(), 0o100_000);
    /// ```
    pub fn mode_bits(self) -> u32 {
        match self {
            FileType::File => uapi::S_IFREG,
            FileType::Dir => uapi::S_IFDIR,
            FileType::Symlink => uapi::S_IFLNK,
            FileType::CharDevice => uapi::S_IFCHR,
            FileType::BlockDevice => uapi::S_IFBLK,
            FileType::Fifo => uapi::S_IFIFO,
            FileType::Socket => uapi::S_IFSOCK,
            FileType::Unknown => 0,
        }
    }

    /// A directory.
    ///
    /// ```
    /// assert!(lkl::fs::FileType::Dir.is_dir());
    /// ```
    pub fn is_dir(self) -> bool {
        self == FileType::Dir
    }

    /// A regular file.
    ///
    /// ```
    /// assert!(lkl::fs::FileType::File.is_file());
    /// ```
    pub fn is_file(self) -> bool {
        self == FileType::File
    }

    /// A symbolic link.
    ///
    /// ```
    /// assert!(lkl::fs::FileType::Symlink.is_symlink());
    /// ```
    pub fn is_symlink(self) -> bool {
        self == FileType::Symlink
    }

    /// A block device.
    ///
    /// ```
    /// assert!(lkl::fs::FileType::BlockDevice.is_block_device());
    /// ```
    pub fn is_block_device(self) -> bool {
        self == FileType::BlockDevice
    }

    /// A character device.
    ///
    /// ```
    /// assert!(lkl::fs::FileType::CharDevice.is_char_device());
    /// ```
    pub fn is_char_device(self) -> bool {
        self == FileType::CharDevice
    }

    /// A named pipe.
    ///
    /// ```
    /// assert!(lkl::fs::FileType::Fifo.is_fifo());
    /// ```
    pub fn is_fifo(self) -> bool {
        self == FileType::Fifo
    }

    /// A socket.
    ///
    /// ```
    /// assert!(lkl::fs::FileType::Socket.is_socket());
    /// ```
    pub fn is_socket(self) -> bool {
        self == FileType::Socket
    }
}

/// A device number as the kernel encodes it (`new_encode_dev`): what
/// [`Metadata::dev`] and [`Metadata::rdev`] return and
/// [`mknod`](super::mknod) takes.
///
/// ```
/// use lkl::fs::{major, makedev, minor};
///
/// let dev = makedev(8, 0x1234);
/// assert_eq!((major(dev), minor(dev)), (8, 0x1234));
/// assert_eq!(makedev(1, 5), 0x105);
/// ```
pub fn makedev(major: u32, minor: u32) -> u64 {
    u64::from(minor & 0xff) | (u64::from(major & 0xfff) << 8) | (u64::from(minor & !0xff) << 12)
}

/// The major number of a device number from [`makedev`].
///
/// ```
/// assert_eq!(lkl::fs::major(lkl::fs::makedev(259, 3)), 259);
/// ```
pub fn major(dev: u64) -> u32 {
    ((dev >> 8) & 0xfff) as u32
}

/// The minor number of a device number from [`makedev`].
///
/// ```
/// assert_eq!(lkl::fs::minor(lkl::fs::makedev(259, 70_000)), 70_000);
/// ```
pub fn minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & 0xfff00)) as u32
}

/// What the kernel knows about a file: a view of its `statx` record, as
/// [`std::fs::Metadata`] with `MetadataExt` is of the host's.
///
/// `(dev(), ino())` names a file uniquely while it exists, so two paths
/// with the same pair are hard links to one file.
///
/// ```
/// use lkl::fs;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// fs::write("/a", b"hello")?;
/// fs::hard_link("/a", "/b")?;
/// let (a, b) = (fs::metadata("/a")?, fs::metadata("/b")?);
/// assert!(a.is_file() && a.len() == 5 && a.nlink() == 2);
/// assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Metadata {
    stx: Statx,
}

/// A time of the kernel's as a host `SystemTime` (both count from the Unix
/// epoch).
fn system_time(secs: i64, nanos: u32) -> SystemTime {
    let nanos = Duration::from_nanos(u64::from(nanos));
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64) + nanos
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + nanos
    }
}

impl Metadata {
    /// The fields this view asks `statx` for.
    pub(crate) const MASK: StatxMask = StatxMask::BASIC_STATS.union(StatxMask::BTIME);

    /// A view of a `statx` record.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// use lkl::fs::{raw, AtFlags, Metadata, StatxMask};
    /// use lkl::BorrowedFd;
    /// let stx = raw::statx(BorrowedFd::CWD, "/", AtFlags::empty(), StatxMask::BASIC_STATS)?;
    /// assert!(Metadata::from_statx(stx).is_dir());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_statx(stx: Statx) -> Metadata {
        Metadata { stx }
    }

    /// The `statx` record itself, for fields this view does not name.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let md = lkl::fs::metadata("/")?;
    /// assert_eq!(md.as_statx().stx_ino, md.ino());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_statx(&self) -> &Statx {
        &self.stx
    }

    /// The type of the file.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::symlink("/", "/link")?;
    /// assert_eq!(lkl::fs::symlink_metadata("/link")?.file_type(), lkl::fs::FileType::Symlink);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.mode())
    }

    /// A directory.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// assert!(lkl::fs::metadata("/")?.is_dir());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_dir(&self) -> bool {
        self.file_type().is_dir()
    }

    /// A regular file.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert!(lkl::fs::metadata("/f")?.is_file());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_file(&self) -> bool {
        self.file_type().is_file()
    }

    /// A symbolic link (only from [`symlink_metadata`](super::symlink_metadata)
    /// and its kind, which do not follow links).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::symlink("/", "/link")?;
    /// assert!(lkl::fs::symlink_metadata("/link")?.is_symlink());
    /// assert!(!lkl::fs::metadata("/link")?.is_symlink());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_symlink(&self) -> bool {
        self.file_type().is_symlink()
    }

    /// The size in bytes.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert_eq!(lkl::fs::metadata("/f")?.len(), 3);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> u64 {
        self.stx.stx_size
    }

    /// Whether the size is 0.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"")?;
    /// assert!(lkl::fs::metadata("/f")?.is_empty());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The permission bits.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert_eq!(lkl::fs::metadata("/f")?.permissions().mode(), 0o644);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn permissions(&self) -> Permissions {
        Permissions::from_mode(self.mode())
    }

    /// The last modification time, with nanoseconds.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// let now = std::time::SystemTime::now();
    /// let age = now.duration_since(lkl::fs::metadata("/f")?.modified()?);
    /// assert!(age.map_or(true, |a| a.as_secs() < 3600));
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn modified(&self) -> io::Result<SystemTime> {
        Ok(system_time(self.mtime(), self.stx.stx_mtime.tv_nsec))
    }

    /// The last access time, with nanoseconds.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// let md = lkl::fs::metadata("/f")?;
    /// assert!(md.accessed()? >= std::time::UNIX_EPOCH);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accessed(&self) -> io::Result<SystemTime> {
        Ok(system_time(self.atime(), self.stx.stx_atime.tv_nsec))
    }

    /// The creation time, if the file system keeps one;
    /// [`io::ErrorKind::Unsupported`] otherwise.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// match lkl::fs::metadata("/f")?.created() {
    ///     Ok(t) => assert!(t > std::time::UNIX_EPOCH),
    ///     Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::Unsupported),
    /// }
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn created(&self) -> io::Result<SystemTime> {
        if StatxMask::from_bits_retain(self.stx.stx_mask).contains(StatxMask::BTIME) {
            let t = self.stx.stx_btime;
            Ok(system_time(t.tv_sec, t.tv_nsec))
        } else {
            Err(io::Error::from(crate::Errno::OPNOTSUPP))
        }
    }

    /// The device of the file system that holds the file ([`makedev`]
    /// encoding).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/mnt")?;
    /// lkl::fs::raw::mount("tmpfs", "/mnt", "tmpfs", lkl::fs::MountFlags::empty(), None)?;
    /// assert_ne!(lkl::fs::metadata("/mnt")?.dev(), lkl::fs::metadata("/")?.dev());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dev(&self) -> u64 {
        makedev(self.stx.stx_dev_major, self.stx.stx_dev_minor)
    }

    /// The inode number.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// lkl::fs::hard_link("/f", "/g")?;
    /// assert_eq!(lkl::fs::metadata("/f")?.ino(), lkl::fs::metadata("/g")?.ino());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ino(&self) -> u64 {
        self.stx.stx_ino
    }

    /// The full mode: type and permission bits (`st_mode`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert_eq!(lkl::fs::metadata("/f")?.mode(), 0o100_644);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mode(&self) -> u32 {
        u32::from(self.stx.stx_mode)
    }

    /// The number of hard links.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert_eq!(lkl::fs::metadata("/f")?.nlink(), 1);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn nlink(&self) -> u64 {
        u64::from(self.stx.stx_nlink)
    }

    /// The owner's user id.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// lkl::fs::chown("/f", Some(7), None)?;
    /// assert_eq!(lkl::fs::metadata("/f")?.uid(), 7);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn uid(&self) -> u32 {
        self.stx.stx_uid
    }

    /// The group id.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// lkl::fs::chown("/f", None, Some(8))?;
    /// assert_eq!(lkl::fs::metadata("/f")?.gid(), 8);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gid(&self) -> u32 {
        self.stx.stx_gid
    }

    /// For a device node, the device it stands for ([`makedev`] encoding).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// use lkl::fs::{makedev, FileType, Mode};
    /// lkl::fs::mknod("/null", FileType::CharDevice, Mode::RUSR, makedev(1, 3))?;
    /// assert_eq!(lkl::fs::metadata("/null")?.rdev(), makedev(1, 3));
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rdev(&self) -> u64 {
        makedev(self.stx.stx_rdev_major, self.stx.stx_rdev_minor)
    }

    /// The size in bytes (as [`len`](Metadata::len)).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert_eq!(lkl::fs::metadata("/f")?.size(), 3);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn size(&self) -> u64 {
        self.stx.stx_size
    }

    /// Access time, whole seconds since the epoch.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert!(lkl::fs::metadata("/f")?.atime() > 0);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atime(&self) -> i64 {
        self.stx.stx_atime.tv_sec
    }

    /// Access time, the nanoseconds.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert!(lkl::fs::metadata("/f")?.atime_nsec() < 1_000_000_000);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atime_nsec(&self) -> i64 {
        i64::from(self.stx.stx_atime.tv_nsec)
    }

    /// Modification time, whole seconds since the epoch.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// lkl::fs::File::open("/f")?.set_modified(std::time::UNIX_EPOCH)?;
    /// assert_eq!(lkl::fs::metadata("/f")?.mtime(), 0);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mtime(&self) -> i64 {
        self.stx.stx_mtime.tv_sec
    }

    /// Modification time, the nanoseconds.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert!(lkl::fs::metadata("/f")?.mtime_nsec() < 1_000_000_000);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mtime_nsec(&self) -> i64 {
        i64::from(self.stx.stx_mtime.tv_nsec)
    }

    /// Status change time, whole seconds since the epoch.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert!(lkl::fs::metadata("/f")?.ctime() > 0);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ctime(&self) -> i64 {
        self.stx.stx_ctime.tv_sec
    }

    /// Status change time, the nanoseconds.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert!(lkl::fs::metadata("/f")?.ctime_nsec() < 1_000_000_000);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ctime_nsec(&self) -> i64 {
        i64::from(self.stx.stx_ctime.tv_nsec)
    }

    /// The preferred I/O block size.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// assert!(lkl::fs::metadata("/f")?.blksize().is_power_of_two());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn blksize(&self) -> u64 {
        u64::from(self.stx.stx_blksize)
    }

    /// The space used, in 512-byte blocks.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", vec![1u8; 8192])?;
    /// assert!(lkl::fs::metadata("/f")?.blocks() >= 16);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn blocks(&self) -> u64 {
        self.stx.stx_blocks
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metadata")
            .field("file_type", &self.file_type())
            .field("mode", &format_args!("{:#o}", self.mode()))
            .field("len", &self.len())
            .field("dev", &self.dev())
            .field("ino", &self.ino())
            .field("nlink", &self.nlink())
            .field("uid", &self.uid())
            .field("gid", &self.gid())
            .finish_non_exhaustive()
    }
}

/// The permission bits of a file, as [`std::fs::Permissions`] with
/// `PermissionsExt`.
///
/// ```
/// use lkl::fs::{self, Mode, Permissions};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// fs::write("/f", b"x")?;
/// let mut perms = fs::metadata("/f")?.permissions();
/// perms.set_readonly(true);
/// fs::set_permissions("/f", perms)?;
/// assert!(fs::metadata("/f")?.permissions().readonly());
/// fs::set_permissions("/f", Permissions::from_mode(0o750))?;
/// assert_eq!(fs::metadata("/f")?.permissions().as_mode(), Mode::RWXU | Mode::RGRP | Mode::XGRP);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permissions {
    mode: Mode,
}

impl Permissions {
    /// The permissions of mode bits; type bits in `mode` are ignored.
    ///
    /// ```
    /// assert_eq!(lkl::fs::Permissions::from_mode(0o100_640).mode(), 0o640);
    /// ```
    pub fn from_mode(mode: u32) -> Permissions {
        Permissions {
            mode: Mode::from_bits_truncate(mode),
        }
    }

    /// The mode bits (`07777`).
    ///
    /// ```
    /// assert_eq!(lkl::fs::Permissions::from_mode(0o4755).mode(), 0o4755);
    /// ```
    pub fn mode(&self) -> u32 {
        self.mode.bits()
    }

    /// Replaces the mode bits.
    ///
    /// ```
    /// let mut perms = lkl::fs::Permissions::from_mode(0o600);
    /// perms.set_mode(0o644);
    /// assert_eq!(perms.mode(), 0o644);
    /// ```
    pub fn set_mode(&mut self, mode: u32) {
        self.mode = Mode::from_bits_truncate(mode);
    }

    /// The mode bits, typed.
    ///
    /// ```
    /// use lkl::fs::{Mode, Permissions};
    ///
    /// assert_eq!(Permissions::from_mode(0o700).as_mode(), Mode::RWXU);
    /// ```
    pub fn as_mode(&self) -> Mode {
        self.mode
    }

    /// Whether no one may write (no write bit is set).
    ///
    /// ```
    /// assert!(lkl::fs::Permissions::from_mode(0o444).readonly());
    /// assert!(!lkl::fs::Permissions::from_mode(0o644).readonly());
    /// ```
    pub fn readonly(&self) -> bool {
        !self.mode.intersects(Mode::WUSR | Mode::WGRP | Mode::WOTH)
    }

    /// Clears every write bit, or sets the owner's write bit (a narrower
    /// choice than std's, which makes the file writable for everyone).
    ///
    /// ```
    /// let mut perms = lkl::fs::Permissions::from_mode(0o664);
    /// perms.set_readonly(true);
    /// assert_eq!(perms.mode(), 0o444);
    /// perms.set_readonly(false);
    /// assert_eq!(perms.mode(), 0o644);
    /// ```
    pub fn set_readonly(&mut self, readonly: bool) {
        if readonly {
            self.mode.remove(Mode::WUSR | Mode::WGRP | Mode::WOTH);
        } else {
            self.mode.insert(Mode::WUSR);
        }
    }
}

impl From<Mode> for Permissions {
    fn from(mode: Mode) -> Permissions {
        Permissions { mode }
    }
}

/// The access and modification times to set, with nanoseconds, as
/// [`std::fs::FileTimes`]; a time not set is left as it is (`UTIME_OMIT`).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use lkl::fs::{self, FileTimes};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// fs::write("/f", b"x")?;
/// let when = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
/// fs::set_times("/f", FileTimes::new().set_modified(when).set_accessed_now())?;
/// assert_eq!(fs::metadata("/f")?.modified()?, when);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FileTimes {
    /// Access and modification time, in utimensat's order.
    times: [uapi::__kernel_timespec; 2],
}

impl Default for FileTimes {
    fn default() -> FileTimes {
        FileTimes::new()
    }
}

/// A timespec of a special value (`UTIME_NOW`, `UTIME_OMIT`).
fn special(nsec: u32) -> uapi::__kernel_timespec {
    uapi::__kernel_timespec {
        tv_sec: 0,
        tv_nsec: i64::from(nsec),
    }
}

/// A host time as the kernel's timespec; times before the epoch count
/// down, with the nanoseconds kept positive.
fn timespec(time: SystemTime) -> uapi::__kernel_timespec {
    let (secs, nanos) = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => (
            i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            after.subsec_nanos(),
        ),
        Err(before) => {
            let before = before.duration();
            let secs = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            match before.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    };
    uapi::__kernel_timespec {
        tv_sec: secs,
        tv_nsec: i64::from(nanos),
    }
}

impl FileTimes {
    /// Leaves both times as they are.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// let before = lkl::fs::metadata("/f")?.modified()?;
    /// lkl::fs::set_times("/f", lkl::fs::FileTimes::new())?;
    /// assert_eq!(lkl::fs::metadata("/f")?.modified()?, before);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> FileTimes {
        FileTimes {
            times: [special(uapi::UTIME_OMIT), special(uapi::UTIME_OMIT)],
        }
    }

    /// Sets the access time.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// lkl::fs::write("/f", b"abc")?;
    /// let when = UNIX_EPOCH + Duration::new(60, 7);
    /// lkl::fs::set_times("/f", lkl::fs::FileTimes::new().set_accessed(when))?;
    /// assert_eq!(lkl::fs::metadata("/f")?.accessed()?, when);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_accessed(mut self, time: SystemTime) -> FileTimes {
        self.times[0] = timespec(time);
        self
    }

    /// Sets the modification time.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// lkl::fs::write("/f", b"abc")?;
    /// // Before the epoch works too.
    /// let when = UNIX_EPOCH - Duration::new(60, 7);
    /// lkl::fs::set_times("/f", lkl::fs::FileTimes::new().set_modified(when))?;
    /// assert_eq!(lkl::fs::metadata("/f")?.modified()?, when);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_modified(mut self, time: SystemTime) -> FileTimes {
        self.times[1] = timespec(time);
        self
    }

    /// Sets the access time to the kernel's current time (`UTIME_NOW`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// lkl::fs::File::open("/f")?.set_times(lkl::fs::FileTimes::new().set_accessed(std::time::UNIX_EPOCH))?;
    /// lkl::fs::set_times("/f", lkl::fs::FileTimes::new().set_accessed_now())?;
    /// assert!(lkl::fs::metadata("/f")?.atime() > 0);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_accessed_now(mut self) -> FileTimes {
        self.times[0] = special(uapi::UTIME_NOW);
        self
    }

    /// Sets the modification time to the kernel's current time.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"abc")?;
    /// lkl::fs::File::open("/f")?.set_modified(std::time::UNIX_EPOCH)?;
    /// lkl::fs::set_times("/f", lkl::fs::FileTimes::new().set_modified_now())?;
    /// assert!(lkl::fs::metadata("/f")?.mtime() > 0);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_modified_now(mut self) -> FileTimes {
        self.times[1] = special(uapi::UTIME_NOW);
        self
    }

    /// The two timespecs utimensat takes.
    pub(crate) fn as_timespecs(&self) -> &[uapi::__kernel_timespec; 2] {
        &self.times
    }
}

/// The status of a file system: a view of its `statfs` record.
///
/// ```
/// use lkl::fs;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let st = fs::statfs("/")?;
/// assert!(st.block_size() > 0 && st.blocks_available() <= st.blocks_free());
/// assert!(st.name_max() >= 255);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StatFs {
    st: Statfs,
}

impl StatFs {
    /// A view of a `statfs` record.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::StatFs::from_statfs(lkl::fs::raw::statfs("/")?);
    /// assert!(st.block_size() > 0);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_statfs(st: Statfs) -> StatFs {
        StatFs { st }
    }

    /// The `statfs` record itself.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert_eq!(st.as_statfs().f_type as u64, st.fs_type());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_statfs(&self) -> &Statfs {
        &self.st
    }

    /// The file system's magic number (`f_type`: `0x858458f6` for ramfs,
    /// `0x01021994` for tmpfs, ...).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/p")?;
    /// lkl::fs::raw::mount("proc", "/p", "proc", lkl::fs::MountFlags::empty(), None)?;
    /// assert_eq!(lkl::fs::statfs("/p")?.fs_type(), 0x9fa0); // PROC_SUPER_MAGIC
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fs_type(&self) -> u64 {
        self.st.f_type as u64
    }

    /// The block size of the counts below (`f_bsize`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert!(st.block_size().is_power_of_two());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn block_size(&self) -> u64 {
        self.st.f_bsize as u64
    }

    /// The fragment size (`f_frsize`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert!(st.fragment_size() > 0);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fragment_size(&self) -> u64 {
        self.st.f_frsize as u64
    }

    /// Total blocks.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert!(st.blocks() >= st.blocks_free());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn blocks(&self) -> u64 {
        self.st.f_blocks as u64
    }

    /// Free blocks.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert!(st.blocks_free() >= st.blocks_available());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn blocks_free(&self) -> u64 {
        self.st.f_bfree as u64
    }

    /// Free blocks an unprivileged user may use.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert!(st.blocks_available() <= st.blocks_free());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn blocks_available(&self) -> u64 {
        self.st.f_bavail as u64
    }

    /// Total inodes (0 if the file system does not count them).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert!(st.files() >= st.files_free());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn files(&self) -> u64 {
        self.st.f_files as u64
    }

    /// Free inodes.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert!(st.files_free() <= st.files());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn files_free(&self) -> u64 {
        self.st.f_ffree as u64
    }

    /// The longest name the file system takes.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert_eq!(st.name_max(), 255);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name_max(&self) -> u64 {
        self.st.f_namelen as u64
    }

    /// How the file system is mounted.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// assert!(!st.flags().contains(lkl::fs::StatFsFlags::RDONLY));
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flags(&self) -> StatFsFlags {
        StatFsFlags::from_bits_retain(self.st.f_flags as u64)
    }

    /// The file system id (`f_fsid`).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let st = lkl::fs::statfs("/")?;
    /// let _ = st.fsid();
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fsid(&self) -> [i32; 2] {
        self.st.f_fsid.val
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_device_numbers() {
        assert_eq!(makedev(1, 5), 0x105);
        assert_eq!(makedev(8, 0x1234), 0x34 | (8 << 8) | (0x1200 << 12));
        for (ma, mi) in [(0, 0), (4095, 0xfffff), (259, 1), (7, 0x100)] {
            let dev = makedev(ma, mi);
            assert_eq!((major(dev), minor(dev)), (ma, mi));
        }
    }

    #[test]
    fn converts_times() {
        let t = timespec(UNIX_EPOCH + Duration::new(5, 7));
        assert_eq!((t.tv_sec, t.tv_nsec), (5, 7));
        let t = timespec(UNIX_EPOCH - Duration::new(1, 250_000_000));
        assert_eq!((t.tv_sec, t.tv_nsec), (-2, 750_000_000));
        assert_eq!(
            system_time(-2, 750_000_000),
            UNIX_EPOCH - Duration::new(1, 250_000_000)
        );
        assert_eq!(system_time(5, 7), UNIX_EPOCH + Duration::new(5, 7));
    }

    #[test]
    fn file_types_round_trip() {
        for t in [
            FileType::File,
            FileType::Dir,
            FileType::Symlink,
            FileType::CharDevice,
            FileType::BlockDevice,
            FileType::Fifo,
            FileType::Socket,
        ] {
            assert_eq!(FileType::from_mode(t.mode_bits() | 0o644), t);
            assert_eq!(FileType::from_dtype((t.mode_bits() >> 12) as u8), t);
        }
        assert_eq!(FileType::from_dtype(0), FileType::Unknown);
    }

    #[test]
    fn permissions() {
        let mut p = Permissions::from_mode(0o100_664);
        assert_eq!(p.mode(), 0o664);
        assert!(!p.readonly());
        p.set_readonly(true);
        assert_eq!(p.mode(), 0o444);
        p.set_readonly(false);
        assert_eq!(p.mode(), 0o644);
    }
}
