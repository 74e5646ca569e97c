// SPDX-License-Identifier: GPL-2.0
//! [`Dir`], a directory handle for calls relative to it, and directory
//! listing ([`ReadDir`], [`DirEntry`]).
//!
//! The free functions of [`lkl::fs`](super) are these calls relative to the
//! working directory: both go through the `*_at` functions here.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::file::{File, OpenOptions};
use super::metadata::{FileTimes, FileType, Metadata, Permissions};
use super::raw::{self, Dirents};
use super::{AtFlags, Mode, OFlags, RenameFlags};
use crate::errno::Errno;
use crate::fd::{AsFd, BorrowedFd, Fd};
use crate::path::PathArg;

/// The flags every directory is opened with: readable, as getdents64,
/// fchown and the xattr calls need (`O_PATH` would not do), and a
/// directory or nothing.
const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

/// The bytes of a path argument, as a host `Path` for splitting.
fn path_buf(path: &impl PathArg) -> io::Result<PathBuf> {
    let c_path = path.to_c_path()?;
    Ok(PathBuf::from(OsStr::from_bytes(c_path.to_bytes())))
}

pub(super) fn metadata_at(
    dir: BorrowedFd<'_>,
    path: impl PathArg,
    flags: AtFlags,
) -> io::Result<Metadata> {
    let stx = raw::statx(dir, path, flags, Metadata::MASK)?;
    Ok(Metadata::from_statx(stx))
}

pub(super) fn create_dir_all_at(dir: BorrowedFd<'_>, path: &Path, mode: Mode) -> io::Result<()> {
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    let is_dir = || metadata_at(dir, path, AtFlags::empty()).is_ok_and(|m| m.is_dir());
    match raw::mkdirat(dir, path, mode) {
        Ok(()) => return Ok(()),
        Err(Errno::NOENT) => {}
        // Someone made it meanwhile, or it was there: fine if a directory.
        Err(_) if is_dir() => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    match path.parent() {
        Some(parent) => create_dir_all_at(dir, parent, mode)?,
        None => return Err(Errno::NOENT.into()),
    }
    match raw::mkdirat(dir, path, mode) {
        Ok(()) => Ok(()),
        Err(_) if is_dir() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn remove_dir_all_at(dir: BorrowedFd<'_>, path: impl PathArg) -> io::Result<()> {
    path.with_c_path(|path| {
        // A symbolic link is removed, never followed.
        if !metadata_at(dir, path, AtFlags::SYMLINK_NOFOLLOW)?.is_dir() {
            return Ok(raw::unlinkat(dir, path, AtFlags::empty())?);
        }
        let sub = raw::openat(dir, path, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())?;
        remove_contents(&sub)?;
        Ok(raw::unlinkat(dir, path, AtFlags::REMOVEDIR)?)
    })
}

/// Empties directory `dir`, depth first. Entries are removed as they are
/// read, which getdents64 allows: the ones not yet returned stay in order.
fn remove_contents(dir: &Fd) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = raw::getdents64(dir, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        for entry in Dirents::new(&buf[..n]) {
            let entry = entry?;
            let name = entry.name();
            if is_dot_or_dotdot(name) {
                continue;
            }
            let is_dir = match entry.file_type() {
                FileType::Unknown => {
                    metadata_at(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW)?.is_dir()
                }
                known => known.is_dir(),
            };
            if is_dir {
                let sub = raw::openat(dir, name, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())?;
                remove_contents(&sub)?;
                raw::unlinkat(dir, name, AtFlags::REMOVEDIR)?;
            } else {
                raw::unlinkat(dir, name, AtFlags::empty())?;
            }
        }
    }
}

fn is_dot_or_dotdot(name: &CStr) -> bool {
    matches!(name.to_bytes(), b"." | b"..")
}

pub(super) fn read_link_at(dir: BorrowedFd<'_>, path: impl PathArg) -> io::Result<PathBuf> {
    path.with_c_path(|path| {
        let mut buf = vec![0u8; 256];
        loop {
            let n = raw::readlinkat(dir, path, &mut buf)?;
            // A full buffer may hold a cut target: try again larger.
            if n < buf.len() {
                buf.truncate(n);
                return Ok(PathBuf::from(OsString::from_vec(buf)));
            }
            buf.resize(buf.len() * 2, 0);
        }
    })
}

/// Opens a directory listing of `path` relative to `dir`.
pub(super) fn read_dir_at(dir: BorrowedFd<'_>, path: impl PathArg) -> io::Result<ReadDir> {
    let root = path_buf(&path)?;
    let fd = raw::openat(dir, path, DIR_FLAGS, Mode::empty())?;
    Ok(ReadDir::new(fd, root))
}

/// An open directory, for calls relative to it (the `*at` system calls).
///
/// Paths given to its methods are relative to the directory unless they
/// are absolute, and a directory that is renamed or moved keeps serving
/// as the base: the handle names the directory itself, not its path. This
/// is what walks over a tree (cptofs, fs2tar) and a FUSE server (lklfuse)
/// want: no path is looked up from the root again for each file.
///
/// ```
/// use std::io::Read;
/// use lkl::fs::{self, Dir, Mode, OpenOptions};
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// fs::create_dir_all("/srv/www")?;
/// let www = Dir::open("/srv/www")?;
/// www.create_dir("assets", Mode::RWXU)?;
/// let mut file = www.open_file("index.html", OpenOptions::new().write(true).create(true))?;
/// std::io::Write::write_all(&mut file, b"<p>hi</p>")?;
/// fs::rename("/srv/www", "/srv/public")?;
/// // Still the same directory.
/// let mut text = String::new();
/// www.open_file("index.html", OpenOptions::new().read(true))?.read_to_string(&mut text)?;
/// assert_eq!(text, "<p>hi</p>");
/// let mut names: Vec<_> = www.entries()?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
/// names.sort();
/// assert_eq!(names, ["assets", "index.html"]);
/// # drop((file, www)); kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Dir {
    /// `None`: the working directory (`AT_FDCWD`).
    fd: Option<Fd>,
    /// The path it was opened by, to give entries a path.
    path: PathBuf,
}

impl Dir {
    /// Opens directory `path`.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// assert!(lkl::fs::Dir::open("/missing").is_err());
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl PathArg) -> io::Result<Dir> {
        Dir::cwd().open_dir(path)
    }

    /// The calling thread's working directory, as it is at each call
    /// (`AT_FDCWD`).
    ///
    /// ```
    /// use lkl::fs::{Dir, Mode};
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// Dir::cwd().create_dir("/private", Mode::RWXU)?;
    /// assert_eq!(lkl::fs::metadata("/private")?.permissions().mode(), 0o700);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cwd() -> Dir {
        Dir {
            fd: None,
            path: PathBuf::from("."),
        }
    }

    /// Takes over an open kernel directory descriptor; `path` is what
    /// entries' [`DirEntry::path`] start with.
    ///
    /// ```
    /// use lkl::fs::{raw, Dir, Mode, OFlags};
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let fd = raw::open("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    /// let root = Dir::from_fd(fd, "/");
    /// assert!(root.metadata(".")?.is_dir());
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_fd(fd: Fd, path: impl Into<PathBuf>) -> Dir {
        Dir {
            fd: Some(fd),
            path: path.into(),
        }
    }

    /// The path the directory was opened by (it may have moved since).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// assert_eq!(root.path(), std::path::Path::new("/"));
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens directory `path` relative to this one.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir_all("/a/b")?;
    /// let b = lkl::fs::Dir::open("/a")?.open_dir("b")?;
    /// assert_eq!(b.path(), std::path::Path::new("/a/b"));
    /// # drop(b); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_dir(&self, path: impl PathArg) -> io::Result<Dir> {
        let joined = self.path.join(path_buf(&path)?);
        let fd = raw::openat(self, path, DIR_FLAGS, Mode::empty())?;
        Ok(Dir::from_fd(fd, joined))
    }

    /// Opens file `path` relative to this directory.
    ///
    /// ```
    /// use lkl::fs::{Dir, OpenOptions};
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let root = Dir::open("/")?;
    /// let file = root.open_file("f", OpenOptions::new().write(true).create_new(true))?;
    /// assert!(lkl::fs::metadata("/f")?.is_file());
    /// # drop((file, root)); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_file(&self, path: impl PathArg, options: &OpenOptions) -> io::Result<File> {
        options.open_at(self.as_fd(), path)
    }

    /// A listing of this directory, without `.` and `..`. It reads through
    /// a descriptor of its own, so listings do not disturb each other.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/d")?;
    /// lkl::fs::write("/d/x", b"")?;
    /// let d = lkl::fs::Dir::open("/d")?;
    /// assert_eq!(d.entries()?.count(), 1);
    /// # drop(d); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn entries(&self) -> io::Result<ReadDir> {
        let fd = raw::openat(self, c".", DIR_FLAGS, Mode::empty())?;
        Ok(ReadDir::new(fd, self.path.clone()))
    }

    /// The status of `path`, following a final symbolic link; of the
    /// directory itself with an empty path.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::symlink("/", "/link")?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// assert!(root.metadata("link")?.is_dir());
    /// assert_eq!(root.metadata("")?.ino(), lkl::fs::metadata("/")?.ino());
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metadata(&self, path: impl PathArg) -> io::Result<Metadata> {
        metadata_at(self.as_fd(), path, AtFlags::EMPTY_PATH)
    }

    /// The status of `path`, not following a final symbolic link.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::symlink("/", "/link")?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// assert!(root.symlink_metadata("link")?.is_symlink());
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn symlink_metadata(&self, path: impl PathArg) -> io::Result<Metadata> {
        metadata_at(
            self.as_fd(),
            path,
            AtFlags::SYMLINK_NOFOLLOW | AtFlags::EMPTY_PATH,
        )
    }

    /// Creates directory `path` with permission bits `mode` (less the
    /// umask).
    ///
    /// ```
    /// use lkl::fs::Mode;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// root.create_dir("d", Mode::RWXU | Mode::RGRP | Mode::XGRP)?;
    /// assert_eq!(root.metadata("d")?.permissions().mode(), 0o750);
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_dir(&self, path: impl PathArg, mode: Mode) -> io::Result<()> {
        Ok(raw::mkdirat(self, path, mode)?)
    }

    /// Creates directory `path` and any missing parents, with permission
    /// bits `mode`; fine if it exists.
    ///
    /// ```
    /// use lkl::fs::Mode;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// root.create_dir_all("a/b/c", Mode::RWXU)?;
    /// root.create_dir_all("a/b/c", Mode::RWXU)?;
    /// assert!(lkl::fs::metadata("/a/b/c")?.is_dir());
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_dir_all(&self, path: impl PathArg, mode: Mode) -> io::Result<()> {
        create_dir_all_at(self.as_fd(), &path_buf(&path)?, mode)
    }

    /// Removes file `path` (any type but a directory).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"")?;
    /// lkl::fs::Dir::open("/")?.remove_file("f")?;
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_file(&self, path: impl PathArg) -> io::Result<()> {
        Ok(raw::unlinkat(self, path, AtFlags::empty())?)
    }

    /// Removes empty directory `path`.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/d")?;
    /// lkl::fs::Dir::open("/")?.remove_dir("d")?;
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_dir(&self, path: impl PathArg) -> io::Result<()> {
        Ok(raw::unlinkat(self, path, AtFlags::REMOVEDIR)?)
    }

    /// Removes `path` with everything below it; a symbolic link is removed,
    /// not followed.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir_all("/a/b/c")?;
    /// lkl::fs::write("/a/b/f", b"x")?;
    /// lkl::fs::Dir::open("/")?.remove_dir_all("a")?;
    /// assert!(!lkl::fs::exists("/a")?);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_dir_all(&self, path: impl PathArg) -> io::Result<()> {
        remove_dir_all_at(self.as_fd(), path)
    }

    /// Renames `from` (relative to this directory) to `to` (relative to
    /// `to_dir`), with `renameat2`'s flags.
    ///
    /// ```
    /// use lkl::fs::{self, Dir, RenameFlags};
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// fs::create_dir("/in")?;
    /// fs::create_dir("/out")?;
    /// fs::write("/in/a", b"a")?;
    /// fs::write("/out/b", b"b")?;
    /// let (src, dst) = (Dir::open("/in")?, Dir::open("/out")?);
    /// src.rename("a", &dst, "b", RenameFlags::EXCHANGE)?;
    /// assert_eq!(fs::read("/in/a")?, b"b");
    /// assert_eq!(fs::read("/out/b")?, b"a");
    /// # drop((src, dst)); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rename(
        &self,
        from: impl PathArg,
        to_dir: impl AsFd,
        to: impl PathArg,
        flags: RenameFlags,
    ) -> io::Result<()> {
        Ok(raw::renameat2(self, from, to_dir, to, flags)?)
    }

    /// Makes `link` (relative to `to_dir`) a new name of `original`
    /// (relative to this directory). A symbolic link as `original` is
    /// linked itself, not followed.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"x")?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// root.hard_link("f", &root, "g")?;
    /// assert_eq!(root.metadata("g")?.nlink(), 2);
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hard_link(
        &self,
        original: impl PathArg,
        to_dir: impl AsFd,
        link: impl PathArg,
    ) -> io::Result<()> {
        Ok(raw::linkat(self, original, to_dir, link, AtFlags::empty())?)
    }

    /// Creates symbolic link `link` pointing at `original` (which is stored
    /// as it is, not resolved).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// root.symlink("../elsewhere", "link")?;
    /// assert_eq!(root.read_link("link")?, std::path::Path::new("../elsewhere"));
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn symlink(&self, original: impl PathArg, link: impl PathArg) -> io::Result<()> {
        Ok(raw::symlinkat(original, self, link)?)
    }

    /// The target of symbolic link `path`.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::symlink("x".repeat(1000), "/long")?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// assert_eq!(root.read_link("long")?.as_os_str().len(), 1000);
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_link(&self, path: impl PathArg) -> io::Result<PathBuf> {
        read_link_at(self.as_fd(), path)
    }

    /// Sets the permission bits of `path`, following symbolic links.
    ///
    /// ```
    /// use lkl::fs::Permissions;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::write("/f", b"")?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// root.set_permissions("f", Permissions::from_mode(0o2755))?;
    /// assert_eq!(root.metadata("f")?.permissions().mode(), 0o2755);
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_permissions(&self, path: impl PathArg, perm: Permissions) -> io::Result<()> {
        Ok(raw::fchmodat(self, path, perm.as_mode(), AtFlags::empty())?)
    }

    /// Sets the owner and group of `path` (`None` leaves one as it is); of
    /// a symbolic link itself with [`AtFlags::SYMLINK_NOFOLLOW`].
    ///
    /// ```
    /// use lkl::fs::AtFlags;
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::symlink("/", "/link")?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// root.chown("link", Some(5), Some(6), AtFlags::SYMLINK_NOFOLLOW)?;
    /// assert_eq!(root.symlink_metadata("link")?.uid(), 5);
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chown(
        &self,
        path: impl PathArg,
        uid: Option<u32>,
        gid: Option<u32>,
        flags: AtFlags,
    ) -> io::Result<()> {
        Ok(raw::fchownat(self, path, uid, gid, flags)?)
    }

    /// Sets the access and modification times of `path`, with nanoseconds;
    /// of a symbolic link itself with [`AtFlags::SYMLINK_NOFOLLOW`].
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use lkl::fs::{AtFlags, FileTimes};
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::symlink("/", "/link")?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// let when = UNIX_EPOCH + Duration::new(3, 4);
    /// root.set_times("link", FileTimes::new().set_modified(when), AtFlags::SYMLINK_NOFOLLOW)?;
    /// assert_eq!(root.symlink_metadata("link")?.modified()?, when);
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_times(
        &self,
        path: impl PathArg,
        times: FileTimes,
        flags: AtFlags,
    ) -> io::Result<()> {
        Ok(raw::utimensat(self, path, &times, flags)?)
    }

    /// Creates a device node, FIFO, socket file or empty regular file
    /// `path`; `dev` from [`makedev`](super::makedev) for devices.
    ///
    /// ```
    /// use lkl::fs::{makedev, FileType, Mode};
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// let root = lkl::fs::Dir::open("/")?;
    /// root.mknod("sda", FileType::BlockDevice, Mode::RUSR | Mode::WUSR, makedev(8, 0))?;
    /// let md = root.metadata("sda")?;
    /// assert!(md.file_type().is_block_device());
    /// assert_eq!(md.rdev(), makedev(8, 0));
    /// # drop(root); kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mknod(
        &self,
        path: impl PathArg,
        file_type: FileType,
        mode: Mode,
        dev: u64,
    ) -> io::Result<()> {
        Ok(raw::mknodat(self, path, file_type, mode, dev)?)
    }
}

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.fd {
            Some(fd) => fd.as_fd(),
            None => BorrowedFd::CWD,
        }
    }
}

/// The directory a listing reads, shared with its entries for their
/// `*at` calls.
#[derive(Debug)]
struct Listed {
    fd: Fd,
    root: PathBuf,
}

/// The entries of a directory, without `.` and `..`, as
/// [`std::fs::ReadDir`]: from [`read_dir`](super::read_dir) and
/// [`Dir::entries`]. It reads batches of entries into one buffer, which it
/// keeps; each entry it yields owns its name.
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::create_dir("/d")?;
/// for name in ["a", "b", "c"] {
///     lkl::fs::write(format!("/d/{name}"), name)?;
/// }
/// let mut names = lkl::fs::read_dir("/d")?
///     .map(|entry| entry.map(|e| e.path()))
///     .collect::<Result<Vec<_>, _>>()?;
/// names.sort();
/// assert_eq!(names, ["/d/a", "/d/b", "/d/c"].map(std::path::PathBuf::from));
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ReadDir {
    dir: Arc<Listed>,
    buf: Vec<u8>,
    /// The unread part of the last batch: `buf[start..end]`.
    start: usize,
    end: usize,
    done: bool,
}

impl ReadDir {
    /// Room for a few hundred entries per system call.
    const BATCH: usize = 32 * 1024;

    fn new(fd: Fd, root: PathBuf) -> ReadDir {
        ReadDir {
            dir: Arc::new(Listed { fd, root }),
            buf: vec![0u8; ReadDir::BATCH],
            start: 0,
            end: 0,
            done: false,
        }
    }

    /// The next record, `.` and `..` included, reading a batch if needed.
    fn next_record(&mut self) -> Option<io::Result<(CString, u64, FileType)>> {
        while self.start == self.end {
            if self.done {
                return None;
            }
            match raw::getdents64(&self.dir.fd, &mut self.buf) {
                Ok(0) => self.done = true,
                Ok(n) => (self.start, self.end) = (0, n),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            }
        }
        let mut records = Dirents::new(&self.buf[self.start..self.end]);
        let result = records
            .next()?
            .map(|e| (e.name().to_owned(), e.ino(), e.file_type()));
        match result {
            Ok(record) => {
                self.start = self.end - records.remaining_len();
                Some(Ok(record))
            }
            Err(e) => {
                self.done = true;
                self.start = self.end;
                Some(Err(e.into()))
            }
        }
    }
}

impl Iterator for ReadDir {
    type Item = io::Result<DirEntry>;

    fn next(&mut self) -> Option<io::Result<DirEntry>> {
        loop {
            let (name, ino, file_type) = match self.next_record()? {
                Ok(record) => record,
                Err(e) => return Some(Err(e)),
            };
            if !is_dot_or_dotdot(&name) {
                return Some(Ok(DirEntry {
                    dir: Arc::clone(&self.dir),
                    name,
                    ino,
                    file_type,
                }));
            }
        }
    }
}

/// One entry of a [`ReadDir`], as [`std::fs::DirEntry`].
///
/// ```
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// lkl::fs::create_dir("/d")?;
/// lkl::fs::write("/d/f", b"four")?;
/// let entry = lkl::fs::read_dir("/d")?.next().unwrap()?;
/// assert_eq!(entry.file_name(), "f");
/// assert_eq!(entry.path(), std::path::Path::new("/d/f"));
/// assert!(entry.file_type()?.is_file());
/// assert_eq!(entry.metadata()?.len(), 4);
/// assert_eq!(entry.ino(), lkl::fs::metadata("/d/f")?.ino());
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DirEntry {
    dir: Arc<Listed>,
    name: CString,
    ino: u64,
    file_type: FileType,
}

impl DirEntry {
    /// The directory's path joined with the entry's name.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/d")?;
    /// lkl::fs::write("/d/f", b"abc")?;
    /// let entry = lkl::fs::read_dir("/d")?.next().unwrap()?;
    /// assert_eq!(entry.path(), std::path::Path::new("/d/f"));
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> PathBuf {
        self.dir.root.join(self.file_name_ref())
    }

    /// The entry's name.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/d")?;
    /// lkl::fs::write("/d/f", b"abc")?;
    /// let entry = lkl::fs::read_dir("/d")?.next().unwrap()?;
    /// assert_eq!(entry.file_name(), "f");
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_name(&self) -> OsString {
        self.file_name_ref().to_owned()
    }

    /// The entry's name, borrowed.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/d")?;
    /// lkl::fs::write("/d/f", b"abc")?;
    /// let entry = lkl::fs::read_dir("/d")?.next().unwrap()?;
    /// assert_eq!(entry.file_name_ref(), "f");
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_name_ref(&self) -> &OsStr {
        OsStr::from_bytes(self.name.to_bytes())
    }

    /// The inode number, as the directory gives it.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/d")?;
    /// lkl::fs::write("/d/f", b"abc")?;
    /// let entry = lkl::fs::read_dir("/d")?.next().unwrap()?;
    /// assert_eq!(entry.ino(), lkl::fs::metadata("/d/f")?.ino());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The type, from the directory where the file system gives it there,
    /// else from the file (not following a symbolic link).
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/d")?;
    /// lkl::fs::write("/d/f", b"abc")?;
    /// let entry = lkl::fs::read_dir("/d")?.next().unwrap()?;
    /// assert!(entry.file_type()?.is_file());
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_type(&self) -> io::Result<FileType> {
        match self.file_type {
            FileType::Unknown => Ok(self.metadata()?.file_type()),
            known => Ok(known),
        }
    }

    /// The status of the entry's file, not following a symbolic link (as
    /// std's does), looked up relative to the directory.
    ///
    /// ```
    /// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// lkl::fs::create_dir("/d")?;
    /// lkl::fs::write("/d/f", b"abc")?;
    /// let entry = lkl::fs::read_dir("/d")?.next().unwrap()?;
    /// assert_eq!(entry.metadata()?.len(), 3);
    /// # kernel.halt()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metadata(&self) -> io::Result<Metadata> {
        metadata_at(
            self.dir.fd.as_fd(),
            self.name.as_c_str(),
            AtFlags::SYMLINK_NOFOLLOW,
        )
    }
}
