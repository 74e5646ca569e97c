// SPDX-License-Identifier: GPL-2.0
//! Flag sets and the permission mode of the file system calls, with the
//! kernel's uapi values.
//!
//! Each set is a [`bitflags`] type. Bits without a name here are kept as
//! they are (`from_bits_retain`), so a flag newer than this crate still
//! reaches the kernel.

use lkl_sys::uapi;

bitflags::bitflags! {
    /// Flags of [`raw::openat`](super::raw::openat) and
    /// [`OpenOptions::custom_flags`](super::OpenOptions::custom_flags): the
    /// kernel's `O_*` values.
    ///
    /// ```
    /// use lkl::fs::OFlags;
    ///
    /// let flags = OFlags::CREAT | OFlags::WRONLY | OFlags::TRUNC;
    /// assert!(flags.contains(OFlags::CREAT));
    /// assert_eq!(OFlags::from_bits_retain(flags.bits()), flags);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct OFlags: u32 {
        /// `O_RDONLY` (zero: the absence of `WRONLY` and `RDWR`)
        const RDONLY = uapi::O_RDONLY;
        /// `O_WRONLY`
        const WRONLY = uapi::O_WRONLY;
        /// `O_RDWR`
        const RDWR = uapi::O_RDWR;
        /// `O_ACCMODE`: the two access-mode bits
        const ACCMODE = uapi::O_ACCMODE;
        /// `O_CREAT`
        const CREAT = uapi::O_CREAT;
        /// `O_EXCL`
        const EXCL = uapi::O_EXCL;
        /// `O_NOCTTY`
        const NOCTTY = uapi::O_NOCTTY;
        /// `O_TRUNC`
        const TRUNC = uapi::O_TRUNC;
        /// `O_APPEND`
        const APPEND = uapi::O_APPEND;
        /// `O_NONBLOCK`
        const NONBLOCK = uapi::O_NONBLOCK;
        /// `O_DSYNC`
        const DSYNC = uapi::O_DSYNC;
        /// `O_SYNC`
        const SYNC = uapi::O_SYNC;
        /// `O_DIRECT`
        const DIRECT = uapi::O_DIRECT;
        /// `O_LARGEFILE`
        const LARGEFILE = uapi::O_LARGEFILE;
        /// `O_DIRECTORY`
        const DIRECTORY = uapi::O_DIRECTORY;
        /// `O_NOFOLLOW`
        const NOFOLLOW = uapi::O_NOFOLLOW;
        /// `O_NOATIME`
        const NOATIME = uapi::O_NOATIME;
        /// `O_CLOEXEC`
        const CLOEXEC = uapi::O_CLOEXEC;
        /// `O_PATH`
        const PATH = uapi::O_PATH;
        /// `O_TMPFILE` (includes `O_DIRECTORY`)
        const TMPFILE = uapi::O_TMPFILE;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Flags of the `*at` calls (`AT_*`): whether to follow a final
    /// symbolic link, act on the descriptor itself, remove a directory.
    ///
    /// ```
    /// use lkl::fs::AtFlags;
    ///
    /// let flags = AtFlags::SYMLINK_NOFOLLOW | AtFlags::EMPTY_PATH;
    /// assert_eq!(flags.bits(), 0x100 | 0x1000);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct AtFlags: u32 {
        /// `AT_SYMLINK_NOFOLLOW`: act on a final symbolic link itself.
        const SYMLINK_NOFOLLOW = uapi::AT_SYMLINK_NOFOLLOW;
        /// `AT_SYMLINK_FOLLOW`: follow a final symbolic link (`linkat`).
        const SYMLINK_FOLLOW = uapi::AT_SYMLINK_FOLLOW;
        /// `AT_NO_AUTOMOUNT`
        const NO_AUTOMOUNT = uapi::AT_NO_AUTOMOUNT;
        /// `AT_EMPTY_PATH`: an empty path means the descriptor itself.
        const EMPTY_PATH = uapi::AT_EMPTY_PATH;
        /// `AT_REMOVEDIR`: `unlinkat` removes a directory.
        const REMOVEDIR = uapi::AT_REMOVEDIR;
        /// `AT_STATX_FORCE_SYNC`
        const STATX_FORCE_SYNC = uapi::AT_STATX_FORCE_SYNC;
        /// `AT_STATX_DONT_SYNC`
        const STATX_DONT_SYNC = uapi::AT_STATX_DONT_SYNC;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Flags of `renameat2` (`RENAME_*`), for
    /// [`rename_with_flags`](super::rename_with_flags) and
    /// [`Dir::rename`](super::Dir::rename).
    ///
    /// ```
    /// use lkl::fs::RenameFlags;
    ///
    /// assert!(RenameFlags::empty().is_empty());
    /// assert_eq!(RenameFlags::NOREPLACE.bits(), 1);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RenameFlags: u32 {
        /// `RENAME_NOREPLACE`: fail with `EEXIST` instead of replacing.
        const NOREPLACE = uapi::RENAME_NOREPLACE;
        /// `RENAME_EXCHANGE`: swap the two names atomically.
        const EXCHANGE = uapi::RENAME_EXCHANGE;
        /// `RENAME_WHITEOUT`: leave a whiteout at the old name (overlayfs).
        const WHITEOUT = uapi::RENAME_WHITEOUT;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// A file's permission bits and the set-id and sticky bits (`07777`),
    /// without the type bits, which are a [`FileType`](super::FileType).
    ///
    /// ```
    /// use lkl::fs::Mode;
    ///
    /// let mode = Mode::RUSR | Mode::WUSR | Mode::RGRP | Mode::ROTH;
    /// assert_eq!(mode, Mode::from_bits_truncate(0o644));
    /// // The type bits of a full st_mode are dropped.
    /// assert_eq!(Mode::from_bits_truncate(0o100_755).bits(), 0o755);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Mode: u32 {
        /// `S_ISUID`
        const SUID = uapi::S_ISUID;
        /// `S_ISGID`
        const SGID = uapi::S_ISGID;
        /// `S_ISVTX`: the sticky bit
        const SVTX = uapi::S_ISVTX;
        /// `S_IRWXU`
        const RWXU = uapi::S_IRWXU;
        /// `S_IRUSR`
        const RUSR = uapi::S_IRUSR;
        /// `S_IWUSR`
        const WUSR = uapi::S_IWUSR;
        /// `S_IXUSR`
        const XUSR = uapi::S_IXUSR;
        /// `S_IRWXG`
        const RWXG = uapi::S_IRWXG;
        /// `S_IRGRP`
        const RGRP = uapi::S_IRGRP;
        /// `S_IWGRP`
        const WGRP = uapi::S_IWGRP;
        /// `S_IXGRP`
        const XGRP = uapi::S_IXGRP;
        /// `S_IRWXO`
        const RWXO = uapi::S_IRWXO;
        /// `S_IROTH`
        const ROTH = uapi::S_IROTH;
        /// `S_IWOTH`
        const WOTH = uapi::S_IWOTH;
        /// `S_IXOTH`
        const XOTH = uapi::S_IXOTH;
    }
}

bitflags::bitflags! {
    /// Modes of `fallocate` (`FALLOC_FL_*`), for
    /// [`File::allocate`](super::File::allocate); empty allocates and
    /// extends the file.
    ///
    /// ```
    /// use lkl::fs::FallocateFlags;
    ///
    /// let punch = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
    /// assert_eq!(punch.bits(), 3);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct FallocateFlags: u32 {
        /// `FALLOC_FL_KEEP_SIZE`: do not change the file size.
        const KEEP_SIZE = uapi::FALLOC_FL_KEEP_SIZE;
        /// `FALLOC_FL_PUNCH_HOLE`: free the range (with `KEEP_SIZE`).
        const PUNCH_HOLE = uapi::FALLOC_FL_PUNCH_HOLE;
        /// `FALLOC_FL_COLLAPSE_RANGE`: remove the range, closing the gap.
        const COLLAPSE_RANGE = uapi::FALLOC_FL_COLLAPSE_RANGE;
        /// `FALLOC_FL_ZERO_RANGE`: zero the range.
        const ZERO_RANGE = uapi::FALLOC_FL_ZERO_RANGE;
        /// `FALLOC_FL_INSERT_RANGE`: insert a hole, moving data up.
        const INSERT_RANGE = uapi::FALLOC_FL_INSERT_RANGE;
        /// `FALLOC_FL_UNSHARE_RANGE`: unshare shared extents.
        const UNSHARE_RANGE = uapi::FALLOC_FL_UNSHARE_RANGE;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Flags of `setxattr` (`XATTR_*`); empty creates or replaces.
    ///
    /// ```
    /// use lkl::fs::XattrFlags;
    ///
    /// assert_ne!(XattrFlags::CREATE, XattrFlags::REPLACE);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct XattrFlags: u32 {
        /// `XATTR_CREATE`: fail with `EEXIST` if the attribute exists.
        const CREATE = uapi::XATTR_CREATE;
        /// `XATTR_REPLACE`: fail with `ENODATA` if it does not.
        const REPLACE = uapi::XATTR_REPLACE;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Flags of [`raw::mount`](super::raw::mount): the kernel's `MS_*`
    /// values.
    ///
    /// ```
    /// use lkl::fs::MountFlags;
    ///
    /// let flags = MountFlags::NOSUID | MountFlags::NODEV;
    /// assert!(!flags.contains(MountFlags::RDONLY));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MountFlags: u64 {
        /// `MS_RDONLY`
        const RDONLY = uapi::MS_RDONLY as u64;
        /// `MS_NOSUID`
        const NOSUID = uapi::MS_NOSUID as u64;
        /// `MS_NODEV`
        const NODEV = uapi::MS_NODEV as u64;
        /// `MS_NOEXEC`
        const NOEXEC = uapi::MS_NOEXEC as u64;
        /// `MS_SYNCHRONOUS`
        const SYNCHRONOUS = uapi::MS_SYNCHRONOUS as u64;
        /// `MS_REMOUNT`
        const REMOUNT = uapi::MS_REMOUNT as u64;
        /// `MS_NOATIME`
        const NOATIME = uapi::MS_NOATIME as u64;
        /// `MS_BIND`
        const BIND = uapi::MS_BIND as u64;
        /// `MS_REC`
        const REC = uapi::MS_REC as u64;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Flags of [`raw::umount`](super::raw::umount) (`umount2`'s `MNT_*`).
    ///
    /// ```
    /// use lkl::fs::UnmountFlags;
    ///
    /// assert_eq!(UnmountFlags::DETACH.bits(), 2);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct UnmountFlags: u32 {
        /// `MNT_FORCE`
        const FORCE = uapi::MNT_FORCE;
        /// `MNT_DETACH`: lazy unmount.
        const DETACH = uapi::MNT_DETACH;
        /// `MNT_EXPIRE`
        const EXPIRE = uapi::MNT_EXPIRE;
        /// `UMOUNT_NOFOLLOW`: do not follow a final symbolic link.
        const NOFOLLOW = uapi::UMOUNT_NOFOLLOW;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// How a file system is mounted, as `statfs` reports it (`ST_*`), from
    /// [`StatFs::flags`](super::StatFs::flags).
    ///
    /// ```
    /// use lkl::fs::StatFsFlags;
    ///
    /// assert!((StatFsFlags::RDONLY | StatFsFlags::NOEXEC).contains(StatFsFlags::RDONLY));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct StatFsFlags: u64 {
        /// `ST_RDONLY`
        const RDONLY = uapi::ST_RDONLY as u64;
        /// `ST_NOSUID`
        const NOSUID = uapi::ST_NOSUID as u64;
        /// `ST_NODEV`
        const NODEV = uapi::ST_NODEV as u64;
        /// `ST_NOEXEC`
        const NOEXEC = uapi::ST_NOEXEC as u64;
        /// `ST_SYNCHRONOUS`
        const SYNCHRONOUS = uapi::ST_SYNCHRONOUS as u64;
        /// `ST_VALID`: the other bits are meaningful.
        const VALID = uapi::ST_VALID as u64;
        /// `ST_MANDLOCK`
        const MANDLOCK = uapi::ST_MANDLOCK as u64;
        /// `ST_NOATIME`
        const NOATIME = uapi::ST_NOATIME as u64;
        /// `ST_NODIRATIME`
        const NODIRATIME = uapi::ST_NODIRATIME as u64;
        /// `ST_RELATIME`
        const RELATIME = uapi::ST_RELATIME as u64;
        /// `ST_NOSYMFOLLOW`
        const NOSYMFOLLOW = uapi::ST_NOSYMFOLLOW as u64;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// What [`raw::statx`](super::raw::statx) is asked for and what it
    /// filled in (`STATX_*`).
    ///
    /// ```
    /// use lkl::fs::StatxMask;
    ///
    /// assert!(StatxMask::BASIC_STATS.contains(StatxMask::INO | StatxMask::SIZE));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct StatxMask: u32 {
        /// `STATX_TYPE`
        const TYPE = uapi::STATX_TYPE;
        /// `STATX_MODE`
        const MODE = uapi::STATX_MODE;
        /// `STATX_NLINK`
        const NLINK = uapi::STATX_NLINK;
        /// `STATX_UID`
        const UID = uapi::STATX_UID;
        /// `STATX_GID`
        const GID = uapi::STATX_GID;
        /// `STATX_ATIME`
        const ATIME = uapi::STATX_ATIME;
        /// `STATX_MTIME`
        const MTIME = uapi::STATX_MTIME;
        /// `STATX_CTIME`
        const CTIME = uapi::STATX_CTIME;
        /// `STATX_INO`
        const INO = uapi::STATX_INO;
        /// `STATX_SIZE`
        const SIZE = uapi::STATX_SIZE;
        /// `STATX_BLOCKS`
        const BLOCKS = uapi::STATX_BLOCKS;
        /// `STATX_BASIC_STATS`: everything `stat` gives.
        const BASIC_STATS = uapi::STATX_BASIC_STATS;
        /// `STATX_BTIME`: the creation time.
        const BTIME = uapi::STATX_BTIME;
        /// `STATX_MNT_ID`
        const MNT_ID = uapi::STATX_MNT_ID;
        const _ = !0;
    }
}
