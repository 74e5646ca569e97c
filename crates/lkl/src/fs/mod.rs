// SPDX-License-Identifier: GPL-2.0
//! Files and directories of the kernel, as [`std::fs`] has them for the
//! host's.
//!
//! The functions and types here mirror `std::fs` (with the Unix extension
//! traits folded in) and return [`std::io::Result`]: a kernel error becomes
//! an [`io::Error`] with the kernel's errno as its
//! [`raw_os_error`](io::Error::raw_os_error) (see
//! [`From<Errno> for io::Error`](crate::Errno#impl-From<Errno>-for-Error)).
//! Paths are anything std's functions take ([`PathArg`]), resolved in the
//! kernel's namespace, relative to the calling thread's working directory.
//! [`File`] implements [`Read`], [`Write`] and [`Seek`](std::io::Seek), so
//! `std::io` moves data across:
//!
//! ```
//! use std::io::Write;
//! use lkl::fs::{self, File};
//!
//! let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
//! fs::create_dir_all("/data/notes")?;
//! let mut file = File::create("/data/notes/today")?;
//! // A host file (or any reader) copied into the kernel's file system.
//! std::io::copy(&mut &b"written by the host"[..], &mut file)?;
//! file.write_all(b", and more")?;
//! assert_eq!(fs::read_to_string("/data/notes/today")?, "written by the host, and more");
//!
//! let names: Vec<_> = fs::read_dir("/data/notes")?.map(|e| e.unwrap().file_name()).collect();
//! assert_eq!(names, ["today"]);
//! let err = fs::metadata("/data/none").unwrap_err();
//! assert_eq!((err.kind(), err.raw_os_error()), (std::io::ErrorKind::NotFound, Some(2)));
//! drop(file);
//! kernel.halt()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Beyond `std::fs`, for tools that copy whole trees in and out (cptofs,
//! cpfromfs, fs2tar) and for a FUSE server (lklfuse): [`Dir`], a directory
//! handle for calls relative to it (`openat`, `mkdirat`, ...); owners
//! ([`chown`], [`lchown`]); times with nanoseconds, also of symbolic links
//! ([`set_times`], [`set_symlink_times`]); extended attributes, also of
//! symbolic links ([`get_xattr`], [`lget_xattr`], ...); holes
//! ([`File::seek_data`], [`File::seek_hole`], [`File::allocate`]);
//! [`mknod`]; `renameat2`'s flags ([`rename_with_flags`]); device and inode
//! numbers for hard-link detection ([`Metadata::dev`], [`Metadata::ino`]);
//! [`statfs`] and [`sync`].
//!
//! [`raw`] has the system calls one by one, with [`Errno`](crate::Errno)
//! results, kernel [`Fd`](crate::Fd)s and caller-supplied buffers.
//!
//! Reads and writes of a [`File`] allocate nothing: each is one system
//! call on the caller's buffer. Paths shorter than 512 bytes get their
//! terminating NUL on the stack.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use crate::fd::BorrowedFd;
use crate::path::PathArg;

mod dir;
mod file;
mod flags;
mod metadata;
pub mod raw;
mod xattr;

pub use dir::{Dir, DirEntry, ReadDir};
pub use file::{File, OpenOptions};
pub use flags::{
    AtFlags, FallocateFlags, Mode, MountFlags, OFlags, RenameFlags, StatFsFlags, StatxMask,
    UnmountFlags, XattrFlags,
};
pub use metadata::{major, makedev, minor, FileTimes, FileType, Metadata, Permissions, StatFs};

/// The mode std gives new directories (less the umask).
const DIR_MODE: Mode = Mode::RWXU.union(Mode::RWXG).union(Mode::RWXO);

/// The status of a file, following symbolic links.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// let md = lkl::fs::metadata("/")?;
/// assert!(md.is_dir());
/// assert_eq!(lkl::fs::metadata("/nope").unwrap_err().kind(), std::io::ErrorKind::NotFound);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn metadata(path: impl PathArg) -> io::Result<Metadata> {
    dir::metadata_at(BorrowedFd::CWD, path, AtFlags::empty())
}

/// The status of a file, not following a final symbolic link.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("/", "/link")?;
/// assert!(lkl::fs::symlink_metadata("/link")?.is_symlink());
/// assert!(lkl::fs::metadata("/link")?.is_dir());
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn symlink_metadata(path: impl PathArg) -> io::Result<Metadata> {
    dir::metadata_at(BorrowedFd::CWD, path, AtFlags::SYMLINK_NOFOLLOW)
}

/// Whether `path` names an existing file (following symbolic links); an
/// error other than "not found" is returned as it is.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// assert!(lkl::fs::exists("/")?);
/// assert!(!lkl::fs::exists("/missing")?);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn exists(path: impl PathArg) -> io::Result<bool> {
    match metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The entries of directory `path`, without `.` and `..`.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::create_dir("/empty")?;
/// assert_eq!(lkl::fs::read_dir("/empty")?.count(), 0);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_dir(path: impl PathArg) -> io::Result<ReadDir> {
    dir::read_dir_at(BorrowedFd::CWD, path)
}

/// Creates a directory (mode `0o777` less the umask; [`Dir::create_dir`]
/// takes a mode).
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::create_dir("/d")?;
/// let again = lkl::fs::create_dir("/d").unwrap_err();
/// assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_dir(path: impl PathArg) -> io::Result<()> {
    Ok(raw::mkdir(path, DIR_MODE)?)
}

/// Creates a directory and any missing parents; a directory that exists is
/// fine, a file in the way is not.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::create_dir_all("/a/b/c")?;
/// lkl::fs::create_dir_all("/a/b/c")?;
/// lkl::fs::write("/a/file", b"")?;
/// assert!(lkl::fs::create_dir_all("/a/file/d").is_err());
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_dir_all(path: impl PathArg) -> io::Result<()> {
    Dir::cwd().create_dir_all(path, DIR_MODE)
}

/// Removes a file (any type but a directory).
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"")?;
/// lkl::fs::remove_file("/f")?;
/// assert!(lkl::fs::remove_file("/").is_err());
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_file(path: impl PathArg) -> io::Result<()> {
    Ok(raw::unlink(path)?)
}

/// Removes an empty directory.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::create_dir_all("/d/e")?;
/// let not_empty = lkl::fs::remove_dir("/d").unwrap_err();
/// assert_eq!(not_empty.raw_os_error(), Some(39)); // ENOTEMPTY
/// lkl::fs::remove_dir("/d/e")?;
/// lkl::fs::remove_dir("/d")?;
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_dir(path: impl PathArg) -> io::Result<()> {
    Ok(raw::rmdir(path)?)
}

/// Removes a directory with everything below it, through directory
/// handles; symbolic links inside are removed, not followed.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::create_dir_all("/tree/a/b")?;
/// lkl::fs::write("/tree/a/f", b"x")?;
/// lkl::fs::symlink("/", "/tree/root-link")?;
/// lkl::fs::remove_dir_all("/tree")?;
/// assert!(!lkl::fs::exists("/tree")?);
/// assert!(lkl::fs::exists("/")?);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_dir_all(path: impl PathArg) -> io::Result<()> {
    dir::remove_dir_all_at(BorrowedFd::CWD, path)
}

/// Renames a file or directory, replacing `to` if it exists (and is of a
/// kind that may be replaced).
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/a", b"x")?;
/// lkl::fs::rename("/a", "/b")?;
/// assert_eq!(lkl::fs::read("/b")?, b"x");
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn rename(from: impl PathArg, to: impl PathArg) -> io::Result<()> {
    Ok(raw::rename(from, to)?)
}

/// Renames with `renameat2`'s flags: [`RenameFlags::NOREPLACE`] refuses
/// to replace, [`RenameFlags::EXCHANGE`] swaps the two.
///
/// ```
/// use lkl::fs::{self, RenameFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// fs::write("/a", b"a")?;
/// fs::write("/b", b"b")?;
/// let refused = fs::rename_with_flags("/a", "/b", RenameFlags::NOREPLACE).unwrap_err();
/// assert_eq!(refused.kind(), std::io::ErrorKind::AlreadyExists);
/// fs::rename_with_flags("/a", "/b", RenameFlags::EXCHANGE)?;
/// assert_eq!(fs::read("/a")?, b"b");
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn rename_with_flags(
    from: impl PathArg,
    to: impl PathArg,
    flags: RenameFlags,
) -> io::Result<()> {
    let cwd = BorrowedFd::CWD;
    Ok(raw::renameat2(cwd, from, cwd, to, flags)?)
}

/// Makes `link` a new name of `original`; a symbolic link as `original` is
/// linked itself.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/a", b"x")?;
/// lkl::fs::hard_link("/a", "/b")?;
/// let (a, b) = (lkl::fs::metadata("/a")?, lkl::fs::metadata("/b")?);
/// assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn hard_link(original: impl PathArg, link: impl PathArg) -> io::Result<()> {
    let cwd = BorrowedFd::CWD;
    Ok(raw::linkat(cwd, original, cwd, link, AtFlags::empty())?)
}

/// Creates symbolic link `link` pointing at `original`.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("target", "/link")?;
/// assert_eq!(lkl::fs::read_link("/link")?, std::path::Path::new("target"));
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn symlink(original: impl PathArg, link: impl PathArg) -> io::Result<()> {
    Ok(raw::symlink(original, link)?)
}

/// The target of a symbolic link, of any length.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("/a/b", "/link")?;
/// assert_eq!(lkl::fs::read_link("/link")?, std::path::PathBuf::from("/a/b"));
/// assert_eq!(lkl::fs::read_link("/").unwrap_err().raw_os_error(), Some(22)); // EINVAL
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_link(path: impl PathArg) -> io::Result<PathBuf> {
    dir::read_link_at(BorrowedFd::CWD, path)
}

/// Sets the permission bits of a file, following symbolic links.
///
/// ```
/// use lkl::fs::Permissions;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"")?;
/// lkl::fs::set_permissions("/f", Permissions::from_mode(0o4755))?;
/// assert_eq!(lkl::fs::metadata("/f")?.permissions().mode(), 0o4755);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_permissions(path: impl PathArg, perm: Permissions) -> io::Result<()> {
    Dir::cwd().set_permissions(path, perm)
}

/// Sets the owner and group of a file, following symbolic links; `None`
/// leaves one as it is.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"")?;
/// lkl::fs::chown("/f", Some(1000), None)?;
/// assert_eq!(lkl::fs::metadata("/f")?.uid(), 1000);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn chown(path: impl PathArg, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    Dir::cwd().chown(path, uid, gid, AtFlags::empty())
}

/// Sets the owner and group of a symbolic link itself.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("/", "/link")?;
/// lkl::fs::lchown("/link", None, Some(50))?;
/// assert_eq!(lkl::fs::symlink_metadata("/link")?.gid(), 50);
/// assert_eq!(lkl::fs::metadata("/")?.gid(), 0);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lchown(path: impl PathArg, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    Dir::cwd().chown(path, uid, gid, AtFlags::SYMLINK_NOFOLLOW)
}

/// Sets the access and modification times of a file, with nanoseconds,
/// following symbolic links.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use lkl::fs::FileTimes;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"")?;
/// let when = UNIX_EPOCH + Duration::new(1_234_567_890, 123_456_789);
/// lkl::fs::set_times("/f", FileTimes::new().set_accessed(when).set_modified(when))?;
/// let md = lkl::fs::metadata("/f")?;
/// assert_eq!((md.mtime(), md.mtime_nsec()), (1_234_567_890, 123_456_789));
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_times(path: impl PathArg, times: FileTimes) -> io::Result<()> {
    Dir::cwd().set_times(path, times, AtFlags::empty())
}

/// Sets the access and modification times of a symbolic link itself, with
/// nanoseconds.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use lkl::fs::FileTimes;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("/", "/link")?;
/// let when = UNIX_EPOCH + Duration::new(10, 1);
/// lkl::fs::set_symlink_times("/link", FileTimes::new().set_modified(when))?;
/// assert_eq!(lkl::fs::symlink_metadata("/link")?.modified()?, when);
/// assert_ne!(lkl::fs::metadata("/")?.modified()?, when);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_symlink_times(path: impl PathArg, times: FileTimes) -> io::Result<()> {
    Dir::cwd().set_times(path, times, AtFlags::SYMLINK_NOFOLLOW)
}

/// Sets the size of a file: cuts it short or extends it with zeros.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"0123456789")?;
/// lkl::fs::truncate("/f", 4)?;
/// assert_eq!(lkl::fs::read("/f")?, b"0123");
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn truncate(path: impl PathArg, len: u64) -> io::Result<()> {
    Ok(raw::truncate(path, len)?)
}

/// Creates a device node, FIFO, socket file or empty regular file; `dev`
/// from [`makedev`] for devices.
///
/// ```
/// use lkl::fs::{makedev, FileType, Mode};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::mknod("/zero", FileType::CharDevice, Mode::from_bits_truncate(0o666), makedev(1, 5))?;
/// let mut buf = [1u8; 4];
/// lkl::fs::File::open("/zero")?.read_at(&mut buf, 0)?;
/// assert_eq!(buf, [0; 4]);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn mknod(path: impl PathArg, file_type: FileType, mode: Mode, dev: u64) -> io::Result<()> {
    Dir::cwd().mknod(path, file_type, mode, dev)
}

/// The status of the file system that holds `path`.
///
/// ```
/// use lkl::fs::{raw, Mode, MountFlags};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::create_dir("/ro")?;
/// raw::mount("tmpfs", "/ro", "tmpfs", MountFlags::RDONLY, None)?;
/// assert!(lkl::fs::statfs("/ro")?.flags().contains(lkl::fs::StatFsFlags::RDONLY));
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn statfs(path: impl PathArg) -> io::Result<StatFs> {
    Ok(StatFs::from_statfs(raw::statfs(path)?))
}

/// Writes back every file system of the kernel (`sync`).
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"x")?;
/// lkl::fs::sync()?;
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sync() -> io::Result<()> {
    Ok(raw::sync()?)
}

/// Mounts the virtual file system `fstype` (`proc`, `sysfs`, ...) on
/// directory `dir`, making it if missing, unless a file system is mounted
/// there already (the directory's device differs from its parent's).
/// Returns whether this call mounted it. A directory it made is removed
/// again if the mount fails.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// assert!(lkl::fs::mount_virtual("proc", "/proc")?);
/// assert!(lkl::fs::exists("/proc/self")?);
/// assert!(!lkl::fs::mount_virtual("proc", "/proc")?);
/// assert!(lkl::fs::mount_virtual("no-such-fs", "/none").is_err());
/// assert!(!lkl::fs::exists("/none")?);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn mount_virtual(fstype: &str, dir: &str) -> io::Result<bool> {
    let made = match raw::mkdir(dir, DIR_MODE) {
        Ok(()) => true,
        Err(crate::Errno::EXIST) => false,
        Err(e) => return Err(e.into()),
    };
    if !made && metadata(dir)?.dev() != metadata(format!("{dir}/.."))?.dev() {
        return Ok(false);
    }
    match raw::mount(fstype, dir, fstype, MountFlags::empty(), None) {
        Ok(()) => Ok(true),
        // Some file systems refuse a second mount of the same instance.
        Err(crate::Errno::BUSY) => Ok(false),
        Err(e) => {
            if made {
                let _ = raw::rmdir(dir);
            }
            Err(e.into())
        }
    }
}

/// The whole content of a file.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", [1, 2, 3])?;
/// assert_eq!(lkl::fs::read("/f")?, [1, 2, 3]);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read(path: impl PathArg) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let mut data = Vec::with_capacity(file.metadata().map_or(0, |m| m.len() as usize));
    file.read_to_end(&mut data)?;
    Ok(data)
}

/// The whole content of a file, as UTF-8 text.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", "text")?;
/// assert_eq!(lkl::fs::read_to_string("/f")?, "text");
/// lkl::fs::write("/bad", [0xff])?;
/// assert_eq!(lkl::fs::read_to_string("/bad").unwrap_err().kind(), std::io::ErrorKind::InvalidData);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_to_string(path: impl PathArg) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Writes `contents` as the whole content of a file, creating it if needed.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", "first")?;
/// lkl::fs::write("/f", "2nd")?;
/// assert_eq!(lkl::fs::read("/f")?, b"2nd");
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write(path: impl PathArg, contents: impl AsRef<[u8]>) -> io::Result<()> {
    File::create(path)?.write_all(contents.as_ref())
}

/// The value of extended attribute `name` of a file, following symbolic
/// links; a missing attribute is an error with `ENODATA`.
///
/// ```
/// use lkl::fs::XattrFlags;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"")?;
/// if lkl::fs::set_xattr("/f", "user.origin", b"host", XattrFlags::empty()).is_ok() {
///     assert_eq!(lkl::fs::get_xattr("/f", "user.origin")?, b"host");
/// }
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn get_xattr(path: impl PathArg, name: impl PathArg) -> io::Result<Vec<u8>> {
    path.with_c_path(|path| {
        name.with_c_path(|name| xattr::value(|buf| raw::getxattr(path, name, buf)))
    })
}

/// [`get_xattr`] of a symbolic link itself.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("/", "/link")?;
/// assert!(lkl::fs::lget_xattr("/link", "trusted.none").is_err());
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lget_xattr(path: impl PathArg, name: impl PathArg) -> io::Result<Vec<u8>> {
    path.with_c_path(|path| {
        name.with_c_path(|name| xattr::value(|buf| raw::lgetxattr(path, name, buf)))
    })
}

/// Sets extended attribute `name` of a file, following symbolic links.
///
/// ```
/// use lkl::fs::XattrFlags;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"")?;
/// let set = lkl::fs::set_xattr("/f", "user.k", b"v", XattrFlags::CREATE);
/// assert!(set.is_ok() || set.unwrap_err().kind() == std::io::ErrorKind::Unsupported);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_xattr(
    path: impl PathArg,
    name: impl PathArg,
    value: &[u8],
    flags: XattrFlags,
) -> io::Result<()> {
    Ok(raw::setxattr(path, name, value, flags)?)
}

/// [`set_xattr`] of a symbolic link itself (Linux allows `trusted.` and
/// `security.` names there, not `user.`).
///
/// ```
/// use lkl::fs::XattrFlags;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("/", "/link")?;
/// let set = lkl::fs::lset_xattr("/link", "trusted.k", b"v", XattrFlags::empty());
/// assert!(set.is_ok() || set.unwrap_err().kind() == std::io::ErrorKind::Unsupported);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lset_xattr(
    path: impl PathArg,
    name: impl PathArg,
    value: &[u8],
    flags: XattrFlags,
) -> io::Result<()> {
    Ok(raw::lsetxattr(path, name, value, flags)?)
}

/// The names of the extended attributes of a file, following symbolic
/// links.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"")?;
/// let names = lkl::fs::list_xattr("/f")?;
/// assert!(names.iter().all(|n| !n.is_empty()));
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn list_xattr(path: impl PathArg) -> io::Result<Vec<OsString>> {
    path.with_c_path(|path| xattr::names(|buf| raw::listxattr(path, buf)))
}

/// [`list_xattr`] of a symbolic link itself.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("/", "/link")?;
/// assert!(lkl::fs::llist_xattr("/link").is_ok());
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn llist_xattr(path: impl PathArg) -> io::Result<Vec<OsString>> {
    path.with_c_path(|path| xattr::names(|buf| raw::llistxattr(path, buf)))
}

/// Removes extended attribute `name` of a file, following symbolic links.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::write("/f", b"")?;
/// assert!(lkl::fs::remove_xattr("/f", "user.none").is_err());
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_xattr(path: impl PathArg, name: impl PathArg) -> io::Result<()> {
    Ok(raw::removexattr(path, name)?)
}

/// [`remove_xattr`] of a symbolic link itself.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::symlink("/", "/link")?;
/// assert!(lkl::fs::lremove_xattr("/link", "trusted.none").is_err());
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lremove_xattr(path: impl PathArg, name: impl PathArg) -> io::Result<()> {
    Ok(raw::lremovexattr(path, name)?)
}
