// SPDX-License-Identifier: GPL-2.0
//! A tree of files with known content and metadata, written by the
//! library's kernel or by the host's, and a manifest of it that both sides
//! can take and compare: names, types, sizes, contents, modes, owners,
//! times with nanoseconds, symbolic links, hard links, holes, extended
//! attributes (also of symbolic links), device nodes and FIFOs, deep
//! directories, many entries in one directory, long names, only as far as
//! the file system keeps them ([`Caps`]).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use lkl::disk::Disk;
use lkl::fs::{self, MountFlags};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{fnv, pattern, Outcome};

/// What a file system (or the tool reading it) keeps of a tree.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    /// Permission bits, uid and gid.
    pub owners_modes: bool,
    pub symlinks: bool,
    pub hard_links: bool,
    /// `user.*` attributes of files and directories, `trusted.*` of
    /// symbolic links.
    pub xattrs: bool,
    /// Device nodes and FIFOs.
    pub special: bool,
    /// Files with holes keep them.
    pub holes: bool,
    /// The granularity of mtime in nanoseconds: 1, or 2 s for FAT.
    pub mtime_step_ns: u64,
    /// Whether atime is kept (to the nanosecond).
    pub atime: bool,
    /// Whether directories keep the times set on them.
    pub dir_times: bool,
    /// Names of 255 bytes and symbolic links of 300 (else 100 of each).
    pub long_names: bool,
}

impl Caps {
    /// ext4 with 256-byte inodes, btrfs, xfs.
    pub const POSIX: Caps = Caps {
        owners_modes: true,
        symlinks: true,
        hard_links: true,
        xattrs: true,
        special: true,
        holes: true,
        mtime_step_ns: 1,
        atime: true,
        dir_times: true,
        long_names: true,
    };
    /// vfat: names (case kept), contents, mtime to 2 s.
    pub const FAT: Caps = Caps {
        owners_modes: false,
        symlinks: false,
        hard_links: false,
        xattrs: false,
        special: false,
        holes: false,
        mtime_step_ns: 2_000_000_000,
        atime: false,
        dir_times: false,
        long_names: true,
    };
}

/// What an entry is.
#[derive(Clone, Debug)]
pub enum Kind {
    Dir,
    /// `len` bytes, zero but for `extents` (offset, seed, length).
    File {
        len: u64,
        extents: Vec<(u64, u64, usize)>,
    },
    Symlink(String),
    /// Another name of the file at the given path.
    HardLink(String),
    Fifo,
    CharDevice(u32, u32),
    BlockDevice(u32, u32),
}

#[derive(Clone, Debug)]
pub struct Entry {
    /// Relative to the root the tree is written in; starts with `tree`.
    pub path: String,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: (i64, u32),
    pub atime: (i64, u32),
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// A file whose holes must stay holes.
    pub sparse: bool,
}

/// The top directory of the tree.
pub const TOP: &str = "tree";

/// The tree, as far as `caps` keeps it.
pub fn spec(caps: Caps) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut n = 0u32;
    let mut add = |path: String, kind: Kind, mode: u32| {
        n += 1;
        let i = i64::from(n);
        entries.push(Entry {
            path,
            kind,
            mode,
            uid: 1000 + n,
            gid: 2000 + n * 3,
            // Distinct times, with nanoseconds, from 2020 and 2017 on.
            mtime: (
                1_600_000_000 + i * 86_413,
                (n * 123_456_789) % 1_000_000_000,
            ),
            atime: (1_500_000_000 + i * 7_919, (n * 987_654_321) % 1_000_000_000),
            xattrs: Vec::new(),
            sparse: false,
        });
    };
    let file = |len: u64, seed: u64| Kind::File {
        len,
        extents: vec![(0, seed, len as usize)],
    };
    add(TOP.into(), Kind::Dir, 0o755);
    add(format!("{TOP}/empty"), file(0, 0), 0o644);
    add(format!("{TOP}/small"), file(13, 1), 0o600);
    add(format!("{TOP}/page-plus-one"), file(4097, 2), 0o640);
    add(format!("{TOP}/big"), file((1 << 20) + 123, 3), 0o644);
    add(format!("{TOP}/run.sh"), file(300, 4), 0o4755);
    add(format!("{TOP}/MixedCase.Txt"), file(77, 5), 0o444);
    let (name_len, link_len) = if caps.long_names {
        (250, 150)
    } else {
        (95, 50)
    };
    add(
        format!("{TOP}/{}", "l".repeat(name_len) + ".long"),
        file(500, 6),
        0o644,
    );
    add(
        format!("{TOP}/sparse"),
        Kind::File {
            len: 8 << 20,
            extents: vec![(0, 7, 5000), (6 << 20, 8, 4096)],
        },
        0o644,
    );
    add(format!("{TOP}/sticky"), Kind::Dir, 0o1777);
    add(format!("{TOP}/sticky/inside"), file(10, 9), 0o2755);
    add(format!("{TOP}/many"), Kind::Dir, 0o750);
    for i in 0..300u64 {
        add(format!("{TOP}/many/f{i:03}"), file(i % 97, 100 + i), 0o644);
    }
    let mut deep = format!("{TOP}/deep");
    add(deep.clone(), Kind::Dir, 0o755);
    for level in 1..=24 {
        deep = format!("{deep}/d{level}");
        add(deep.clone(), Kind::Dir, 0o700);
    }
    add(format!("{deep}/leaf"), file(4096, 10), 0o644);
    if caps.symlinks {
        add(
            format!("{TOP}/link-rel"),
            Kind::Symlink("small".into()),
            0o777,
        );
        add(
            format!("{TOP}/link-abs"),
            Kind::Symlink("/nonexistent/target".into()),
            0o777,
        );
        // Longer than an inline (fast) symbolic link.
        add(
            format!("{TOP}/link-long"),
            // Not ending in `/`, which Rock Ridge drops.
            Kind::Symlink("x/".repeat(link_len) + "end"),
            0o777,
        );
    }
    if caps.hard_links {
        add(
            format!("{TOP}/big-again"),
            Kind::HardLink(format!("{TOP}/big")),
            0,
        );
        add(
            format!("{TOP}/many/big-third"),
            Kind::HardLink(format!("{TOP}/big")),
            0,
        );
    }
    if caps.special {
        add(format!("{TOP}/fifo"), Kind::Fifo, 0o640);
        add(format!("{TOP}/chr"), Kind::CharDevice(1, 7), 0o600);
        add(format!("{TOP}/blk"), Kind::BlockDevice(7, 200), 0o660);
    }
    for e in &mut entries {
        if let Kind::File { extents, .. } = &e.kind {
            e.sparse = caps.holes && extents.len() > 1;
        }
        if !caps.xattrs {
            continue;
        }
        match e.path.strip_prefix(TOP) {
            Some("/small") => {
                e.xattrs = vec![
                    ("user.comment".into(), b"hello".to_vec()),
                    ("user.binary".into(), vec![0, 1, 2, 255]),
                ];
            }
            // Too big for the inode, small enough for a 1 KiB block: a
            // block of its own on ext4.
            Some("/big") => e.xattrs = vec![("user.large".into(), pattern(900, 11))],
            Some("/many") => e.xattrs = vec![("user.dir".into(), b"yes".to_vec())],
            Some("/link-rel") => {
                e.xattrs = vec![("trusted.on-symlink".into(), b"kept".to_vec())];
            }
            _ => {}
        }
    }
    entries
}

/// The contents of a file entry.
pub fn contents(len: u64, extents: &[(u64, u64, usize)]) -> Vec<u8> {
    let mut data = vec![0u8; len as usize];
    for &(offset, seed, n) in extents {
        data[offset as usize..offset as usize + n].copy_from_slice(&pattern(n, seed));
    }
    data
}

/// A file's status, as much as the manifest needs.
#[derive(Clone, Debug, Default)]
pub struct Stat {
    /// `dir`, `file`, `symlink`, `fifo`, `chr`, `blk`, `socket`.
    pub kind: &'static str,
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub blocks: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mtime: (i64, i64),
    pub atime: (i64, i64),
    pub rdev: (u32, u32),
}

/// The [`Stat`] of metadata `$md` of either kernel: `lkl::fs::Metadata`
/// and `std::fs::Metadata` (through `MetadataExt`) have the same accessors
/// but no trait in common. `$major` and `$minor` split a device number.
macro_rules! stat_of {
    ($md:expr, $major:path, $minor:path) => {{
        let md = $md;
        Stat {
            kind: kind_name(md.mode()),
            perm: md.mode() & 0o7777,
            uid: md.uid(),
            gid: md.gid(),
            size: md.size(),
            blocks: md.blocks(),
            ino: md.ino(),
            nlink: md.nlink(),
            mtime: (md.mtime(), md.mtime_nsec()),
            atime: (md.atime(), md.atime_nsec()),
            rdev: ($major(md.rdev()), $minor(md.rdev())),
        }
    }};
}

fn kind_name(mode: u32) -> &'static str {
    match mode & 0o170000 {
        0o040000 => "dir",
        0o100000 => "file",
        0o120000 => "symlink",
        0o010000 => "fifo",
        0o020000 => "chr",
        0o060000 => "blk",
        0o140000 => "socket",
        _ => "unknown",
    }
}

/// Reads a tree: through the library's kernel or the host's.
pub trait View {
    fn lstat(&self, path: &str) -> io::Result<Stat>;
    fn list(&self, path: &str) -> io::Result<Vec<String>>;
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;
    fn read_link(&self, path: &str) -> io::Result<String>;
    /// Extended attributes, not following a symbolic link.
    fn xattrs(&self, path: &str) -> io::Result<Vec<(String, Vec<u8>)>>;
}

/// Writes a tree: through the library's kernel or the host's.
pub trait Builder {
    fn mkdir(&self, path: &str) -> io::Result<()>;
    /// A file of `len` bytes with data at `extents` only: holes between.
    fn write_file(&self, path: &str, len: u64, extents: &[(u64, Vec<u8>)]) -> io::Result<()>;
    fn symlink(&self, target: &str, path: &str) -> io::Result<()>;
    fn hard_link(&self, original: &str, path: &str) -> io::Result<()>;
    fn mknod(&self, path: &str, kind: &Kind) -> io::Result<()>;
    fn lchown(&self, path: &str, uid: u32, gid: u32) -> io::Result<()>;
    fn chmod(&self, path: &str, mode: u32) -> io::Result<()>;
    fn lset_xattr(&self, path: &str, name: &str, value: &[u8]) -> io::Result<()>;
    /// Not following a symbolic link.
    fn set_times(&self, path: &str, atime: (i64, u32), mtime: (i64, u32)) -> io::Result<()>;
}

fn at(what: &str, path: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {path}: {e}"))
}

/// Writes `entries` with `builder`: each entry made, owned, its mode and
/// attributes set; then the times, children before their directory (a
/// new entry changes its directory's mtime).
pub fn build(builder: &dyn Builder, entries: &[Entry], caps: Caps) -> io::Result<()> {
    for e in entries {
        let p = e.path.as_str();
        match &e.kind {
            Kind::Dir => builder.mkdir(p).map_err(|x| at("mkdir", p, x))?,
            Kind::File { len, extents } => {
                let data: Vec<(u64, Vec<u8>)> = extents
                    .iter()
                    .map(|&(o, seed, n)| (o, pattern(n, seed)))
                    .collect();
                builder
                    .write_file(p, *len, &data)
                    .map_err(|x| at("write", p, x))?;
            }
            Kind::Symlink(target) => builder
                .symlink(target, p)
                .map_err(|x| at("symlink", p, x))?,
            Kind::HardLink(original) => {
                builder
                    .hard_link(original, p)
                    .map_err(|x| at("link", p, x))?;
                continue;
            }
            kind => builder.mknod(p, kind).map_err(|x| at("mknod", p, x))?,
        }
        if caps.owners_modes {
            // Owner first: chown clears set-user-ID.
            builder
                .lchown(p, e.uid, e.gid)
                .map_err(|x| at("chown", p, x))?;
            if !matches!(e.kind, Kind::Symlink(_)) {
                builder.chmod(p, e.mode).map_err(|x| at("chmod", p, x))?;
            }
        }
        for (name, value) in &e.xattrs {
            builder
                .lset_xattr(p, name, value)
                .map_err(|x| at(&format!("setxattr {name}"), p, x))?;
        }
    }
    for e in entries.iter().rev() {
        if matches!(e.kind, Kind::HardLink(_)) || (matches!(e.kind, Kind::Dir) && !caps.dir_times) {
            continue;
        }
        builder
            .set_times(&e.path, e.atime, e.mtime)
            .map_err(|x| at("utimes", &e.path, x))?;
    }
    Ok(())
}

/// One line per entry, what `caps` keeps of it: the manifest the
/// entries promise.
pub fn expected(entries: &[Entry], caps: Caps) -> Vec<String> {
    let by_path: BTreeMap<&str, &Entry> = entries.iter().map(|e| (e.path.as_str(), e)).collect();
    // Hard-link groups: each name of a file with several, to the first.
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in entries {
        if let Kind::HardLink(original) = &e.kind {
            groups.entry(original).or_default().push(&e.path);
        }
    }
    let mut group_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (original, others) in &groups {
        let mut all = others.clone();
        all.push(original);
        let first = all.iter().min().copied().unwrap_or(original);
        for name in all {
            group_of.insert(name, first);
        }
    }
    let mut lines = Vec::new();
    for e in entries {
        let inode = match &e.kind {
            Kind::HardLink(original) => by_path[original.as_str()],
            _ => e,
        };
        let mut fields = Vec::new();
        let kind = match &inode.kind {
            Kind::Dir => "dir",
            Kind::File { .. } => "file",
            Kind::Symlink(_) => "symlink",
            Kind::Fifo => "fifo",
            Kind::CharDevice(..) => "chr",
            Kind::BlockDevice(..) => "blk",
            Kind::HardLink(_) => unreachable!("a hard link to a hard link"),
        };
        fields.push(kind.to_owned());
        match &inode.kind {
            Kind::File { len, extents } => {
                fields.push(format!("size={len}"));
                fields.push(format!("data={:016x}", fnv(&contents(*len, extents))));
                if inode.sparse {
                    fields.push("holes=yes".into());
                }
            }
            Kind::Symlink(target) => fields.push(format!("target={target}")),
            Kind::CharDevice(a, b) | Kind::BlockDevice(a, b) => {
                fields.push(format!("rdev={a}:{b}"));
            }
            _ => {}
        }
        if let Some(first) = group_of.get(e.path.as_str()) {
            fields.push(format!(
                "links={}:{first}",
                groups[inode.path.as_str()].len() + 1
            ));
        }
        if caps.owners_modes {
            if kind != "symlink" {
                fields.push(format!("mode={:o}", inode.mode));
            }
            fields.push(format!("owner={}:{}", inode.uid, inode.gid));
        }
        if kind != "dir" || caps.dir_times {
            let step = caps.mtime_step_ns as i128;
            let ns = i128::from(inode.mtime.0) * 1_000_000_000 + i128::from(inode.mtime.1);
            let ns = ns - ns % step;
            fields.push(format!(
                "mtime={}.{:09}",
                ns / 1_000_000_000,
                ns % 1_000_000_000
            ));
            if caps.atime {
                let ns = i128::from(inode.atime.0) * 1_000_000_000 + i128::from(inode.atime.1);
                let ns = ns - ns % step;
                fields.push(format!(
                    "atime={}.{:09}",
                    ns / 1_000_000_000,
                    ns % 1_000_000_000
                ));
            }
        }
        let mut attrs = inode.xattrs.clone();
        attrs.sort();
        for (name, value) in &attrs {
            fields.push(format!("xattr:{name}={}", hex(value)));
        }
        lines.push(format!("{} {}", e.path, fields.join(" ")));
    }
    lines.sort();
    lines
}

fn hex(bytes: &[u8]) -> String {
    if bytes.len() > 32 {
        return format!("{}b:{:016x}", bytes.len(), fnv(bytes));
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The manifest of the tree at [`TOP`] as `view` sees it, in the format of
/// [`expected`].
pub fn manifest(view: &dyn View, caps: Caps) -> io::Result<Vec<String>> {
    let mut stats = Vec::new();
    let mut todo = vec![TOP.to_owned()];
    while let Some(path) = todo.pop() {
        let st = view.lstat(&path).map_err(|e| at("stat", &path, e))?;
        if st.kind == "dir" {
            for name in view.list(&path).map_err(|e| at("list", &path, e))? {
                todo.push(format!("{path}/{name}"));
            }
        }
        stats.push((path, st));
    }
    stats.sort_by(|a, b| a.0.cmp(&b.0));
    let mut first_of_inode: BTreeMap<u64, &str> = BTreeMap::new();
    for (path, st) in &stats {
        if st.kind == "file" && st.nlink > 1 {
            first_of_inode.entry(st.ino).or_insert(path);
        }
    }
    let mut lines = Vec::new();
    for (path, st) in &stats {
        let mut fields = vec![st.kind.to_owned()];
        match st.kind {
            "file" => {
                fields.push(format!("size={}", st.size));
                let data = view.read(path).map_err(|e| at("read", path, e))?;
                fields.push(format!("data={:016x}", fnv(&data)));
                if caps.holes && st.blocks * 512 < st.size && st.size > 0 {
                    fields.push("holes=yes".into());
                }
            }
            "symlink" => {
                let target = view.read_link(path).map_err(|e| at("readlink", path, e))?;
                fields.push(format!("target={target}"));
            }
            "chr" | "blk" => fields.push(format!("rdev={}:{}", st.rdev.0, st.rdev.1)),
            _ => {}
        }
        if caps.hard_links && st.kind == "file" && st.nlink > 1 {
            fields.push(format!("links={}:{}", st.nlink, first_of_inode[&st.ino]));
        }
        if caps.owners_modes {
            if st.kind != "symlink" {
                fields.push(format!("mode={:o}", st.perm));
            }
            fields.push(format!("owner={}:{}", st.uid, st.gid));
        }
        if st.kind != "dir" || caps.dir_times {
            fields.push(format!("mtime={}.{:09}", st.mtime.0, st.mtime.1));
            if caps.atime {
                fields.push(format!("atime={}.{:09}", st.atime.0, st.atime.1));
            }
        }
        if caps.xattrs {
            let mut attrs = view.xattrs(path).map_err(|e| at("listxattr", path, e))?;
            // Only the name spaces the tree uses: a file system may add
            // its own (security.*, system.*).
            attrs.retain(|(n, _)| n.starts_with("user.") || n.starts_with("trusted."));
            for (name, value) in attrs {
                fields.push(format!("xattr:{name}={}", hex(&value)));
            }
        }
        lines.push(format!("{path} {}", fields.join(" ")));
    }
    lines.sort();
    Ok(lines)
}

/// The differences between two manifests, empty if they agree; at most
/// `limit` lines of each side.
pub fn diff(expected: &[String], actual: &[String], limit: usize) -> String {
    let only_expected: Vec<_> = expected.iter().filter(|l| !actual.contains(l)).collect();
    let only_actual: Vec<_> = actual.iter().filter(|l| !expected.contains(l)).collect();
    if only_expected.is_empty() && only_actual.is_empty() {
        return String::new();
    }
    let mut text = format!(
        "{} expected lines missing, {} unexpected lines\n",
        only_expected.len(),
        only_actual.len()
    );
    for l in only_expected.iter().take(limit) {
        text += &format!("  expected: {l}\n");
    }
    for l in only_actual.iter().take(limit) {
        text += &format!("  actual:   {l}\n");
    }
    text
}

fn time(t: (i64, u32)) -> SystemTime {
    UNIX_EPOCH + Duration::new(t.0 as u64, t.1)
}

// ---------------------------------------------------------------------------
// The library's kernel.

/// The tree below `root`, a directory in the library's kernel.
pub struct Lib {
    pub root: PathBuf,
}

impl Lib {
    fn p(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }
}

impl View for Lib {
    fn lstat(&self, path: &str) -> io::Result<Stat> {
        let md = lkl::fs::symlink_metadata(self.p(path))?;
        Ok(stat_of!(md, lkl::fs::major, lkl::fs::minor))
    }

    fn list(&self, path: &str) -> io::Result<Vec<String>> {
        lkl::fs::read_dir(self.p(path))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        lkl::fs::read(self.p(path))
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        Ok(lkl::fs::read_link(self.p(path))?
            .to_string_lossy()
            .into_owned())
    }

    fn xattrs(&self, path: &str) -> io::Result<Vec<(String, Vec<u8>)>> {
        let p = self.p(path);
        let mut out = Vec::new();
        for name in lkl::fs::llist_xattr(&p)? {
            let value = lkl::fs::lget_xattr(&p, name.as_os_str())?;
            out.push((name.to_string_lossy().into_owned(), value));
        }
        out.sort();
        Ok(out)
    }
}

impl Builder for Lib {
    fn mkdir(&self, path: &str) -> io::Result<()> {
        lkl::fs::create_dir(self.p(path))
    }

    fn write_file(&self, path: &str, len: u64, extents: &[(u64, Vec<u8>)]) -> io::Result<()> {
        let file = lkl::fs::File::create(self.p(path))?;
        for (offset, data) in extents {
            file.write_all_at(data, *offset)?;
        }
        file.set_len(len)
    }

    fn symlink(&self, target: &str, path: &str) -> io::Result<()> {
        lkl::fs::symlink(target, self.p(path))
    }

    fn hard_link(&self, original: &str, path: &str) -> io::Result<()> {
        lkl::fs::hard_link(self.p(original), self.p(path))
    }

    fn mknod(&self, path: &str, kind: &Kind) -> io::Result<()> {
        use lkl::fs::{makedev, FileType, Mode};
        let (file_type, dev) = match *kind {
            Kind::Fifo => (FileType::Fifo, 0),
            Kind::CharDevice(a, b) => (FileType::CharDevice, makedev(a, b)),
            Kind::BlockDevice(a, b) => (FileType::BlockDevice, makedev(a, b)),
            _ => return Err(io::ErrorKind::InvalidInput.into()),
        };
        lkl::fs::mknod(self.p(path), file_type, Mode::RUSR | Mode::WUSR, dev)
    }

    fn lchown(&self, path: &str, uid: u32, gid: u32) -> io::Result<()> {
        lkl::fs::lchown(self.p(path), Some(uid), Some(gid))
    }

    fn chmod(&self, path: &str, mode: u32) -> io::Result<()> {
        lkl::fs::set_permissions(self.p(path), lkl::fs::Permissions::from_mode(mode))
    }

    fn lset_xattr(&self, path: &str, name: &str, value: &[u8]) -> io::Result<()> {
        lkl::fs::lset_xattr(self.p(path), name, value, lkl::fs::XattrFlags::empty())
    }

    fn set_times(&self, path: &str, atime: (i64, u32), mtime: (i64, u32)) -> io::Result<()> {
        let times = lkl::fs::FileTimes::new()
            .set_accessed(time(atime))
            .set_modified(time(mtime));
        lkl::fs::set_symlink_times(self.p(path), times)
    }
}

// ---------------------------------------------------------------------------
// The host's kernel: a loop mount, or a directory a tool reads or fills.

/// The tree below `root`, a directory on the host.
pub struct Host {
    pub root: PathBuf,
}

impl Host {
    fn p(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    fn c(&self, path: &str) -> io::Result<CString> {
        CString::new(self.p(path).as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl View for Host {
    fn lstat(&self, path: &str) -> io::Result<Stat> {
        use std::os::unix::fs::MetadataExt;
        let md = std::fs::symlink_metadata(self.p(path))?;
        Ok(stat_of!(md, libc::major, libc::minor))
    }

    fn list(&self, path: &str) -> io::Result<Vec<String>> {
        std::fs::read_dir(self.p(path))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.p(path))
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        Ok(std::fs::read_link(self.p(path))?
            .to_string_lossy()
            .into_owned())
    }

    fn xattrs(&self, path: &str) -> io::Result<Vec<(String, Vec<u8>)>> {
        let c = self.c(path)?;
        let mut names = vec![0u8; 64 << 10];
        // SAFETY: `c` is a NUL-terminated path; the buffer is writable for
        // its length.
        let n = unsafe { libc::llistxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        names.truncate(n as usize);
        let mut out = Vec::new();
        for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
            let cname =
                CString::new(name).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let mut value = vec![0u8; 64 << 10];
            // SAFETY: both strings are NUL-terminated; the buffer is
            // writable for its length.
            let n = unsafe {
                libc::lgetxattr(
                    c.as_ptr(),
                    cname.as_ptr(),
                    value.as_mut_ptr().cast(),
                    value.len(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            value.truncate(n as usize);
            out.push((String::from_utf8_lossy(name).into_owned(), value));
        }
        out.sort();
        Ok(out)
    }
}

impl Builder for Host {
    fn mkdir(&self, path: &str) -> io::Result<()> {
        std::fs::create_dir(self.p(path))
    }

    fn write_file(&self, path: &str, len: u64, extents: &[(u64, Vec<u8>)]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::create(self.p(path))?;
        for (offset, data) in extents {
            file.write_all_at(data, *offset)?;
        }
        file.set_len(len)
    }

    fn symlink(&self, target: &str, path: &str) -> io::Result<()> {
        std::os::unix::fs::symlink(target, self.p(path))
    }

    fn hard_link(&self, original: &str, path: &str) -> io::Result<()> {
        std::fs::hard_link(self.p(original), self.p(path))
    }

    fn mknod(&self, path: &str, kind: &Kind) -> io::Result<()> {
        let (mode, dev) = match *kind {
            Kind::Fifo => (libc::S_IFIFO, 0),
            Kind::CharDevice(a, b) => (libc::S_IFCHR, libc::makedev(a, b)),
            Kind::BlockDevice(a, b) => (libc::S_IFBLK, libc::makedev(a, b)),
            _ => return Err(io::ErrorKind::InvalidInput.into()),
        };
        let c = self.c(path)?;
        // SAFETY: `c` is a NUL-terminated path.
        check(unsafe { libc::mknod(c.as_ptr(), mode | 0o600, dev) })
    }

    fn lchown(&self, path: &str, uid: u32, gid: u32) -> io::Result<()> {
        std::os::unix::fs::lchown(self.p(path), Some(uid), Some(gid))
    }

    fn chmod(&self, path: &str, mode: u32) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.p(path), std::fs::Permissions::from_mode(mode))
    }

    fn lset_xattr(&self, path: &str, name: &str, value: &[u8]) -> io::Result<()> {
        let c = self.c(path)?;
        let cname =
            CString::new(name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: both strings are NUL-terminated; `value` is readable for
        // its length.
        check(unsafe {
            libc::lsetxattr(
                c.as_ptr(),
                cname.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        })
    }

    fn set_times(&self, path: &str, atime: (i64, u32), mtime: (i64, u32)) -> io::Result<()> {
        let c = self.c(path)?;
        let ts = [
            libc::timespec {
                tv_sec: atime.0,
                tv_nsec: i64::from(atime.1),
            },
            libc::timespec {
                tv_sec: mtime.0,
                tv_nsec: i64::from(mtime.1),
            },
        ];
        // SAFETY: `c` is a NUL-terminated path; `ts` holds two timespecs.
        check(unsafe {
            libc::utimensat(
                libc::AT_FDCWD,
                c.as_ptr(),
                ts.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })
    }
}

// ---------------------------------------------------------------------------
// Sessions of the library, each in a child process of its own.

fn boot() -> Result<lkl::Kernel, Box<dyn std::error::Error>> {
    Ok(lkl::Kernel::builder()
        .memory_mib(128)
        .console_to_stderr()
        .boot()?)
}

/// Writes the tree on `image` through the library's kernel.
pub fn write_session(image: &Path, fstype: &str, caps: Caps) -> Outcome {
    write_session_under(image, fstype, caps, "")
}

/// Writes the tree on `image` through the library's kernel, in the
/// directory `under` (made by the session; `""` for the root), so that
/// it can sit next to a tree already there.
pub fn write_session_under(image: &Path, fstype: &str, caps: Caps, under: &str) -> Outcome {
    let disk = Disk::open(image)?;
    let kernel = boot()?;
    let mount = disk.mount(None, Some(fstype), MountFlags::empty(), None)?;
    let root = mount.path().join(under);
    if !under.is_empty() {
        fs::create_dir(&root).map_err(|e| at("mkdir", under, e))?;
    }
    let entries = spec(caps);
    build(&Lib { root }, &entries, caps)?;
    println!(
        "wrote {} entries on {} in /{under}",
        entries.len(),
        image.display()
    );
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    Ok(())
}

/// Opens `image` read-only, checks the tree, and tries to change it in
/// every way: each attempt must fail with `EROFS`.
pub fn read_only_session(image: &Path, fstype: &str, caps: Caps) -> Outcome {
    read_only_session_of(image, fstype, &[("", caps)])
}

/// [`read_only_session`] for several trees: each in its directory below
/// the root (`""` for the root itself), as far as its [`Caps`] keep it.
/// The writes are tried on the first.
pub fn read_only_session_of(image: &Path, fstype: &str, trees: &[(&str, Caps)]) -> Outcome {
    let disk = Disk::open_read_only(image)?;
    let kernel = boot()?;
    let mount = disk.mount(None, Some(fstype), MountFlags::empty(), None)?;
    for &(under, caps) in trees {
        let want = expected(&spec(caps), caps);
        let got = manifest(
            &Lib {
                root: mount.path().join(under),
            },
            caps,
        )?;
        let diff = diff(&want, &got, 20);
        if !diff.is_empty() {
            return Err(format!("the library reads a different tree in /{under}:\n{diff}").into());
        }
        println!("read back {} entries exactly in /{under}", got.len());
    }
    let t = mount.path().join(trees[0].0).join(TOP);
    let small = t.join("small");
    let attempts: Vec<(&str, std::io::Result<()>)> = vec![
        ("create", fs::write(t.join("new"), b"x")),
        ("mkdir", fs::create_dir(t.join("newdir"))),
        (
            "open for writing",
            fs::File::options().write(true).open(&small).map(drop),
        ),
        ("truncate", fs::truncate(&small, 0)),
        ("unlink", fs::remove_file(&small)),
        ("rename", fs::rename(&small, t.join("renamed"))),
        (
            "chmod",
            fs::set_permissions(&small, fs::Permissions::from_mode(0o777)),
        ),
        (
            "utimes",
            fs::set_times(&small, fs::FileTimes::new().set_modified_now()),
        ),
        (
            "setxattr",
            fs::set_xattr(&small, "user.new", b"v", fs::XattrFlags::empty()),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, result) in attempts {
        match result {
            Err(e) if e.raw_os_error() == Some(30) => {}
            other => wrong.push(format!("{what}: {other:?}")),
        }
    }
    if !wrong.is_empty() {
        return Err(format!("writes on a read-only disk not refused with EROFS: {wrong:?}").into());
    }
    println!("every write refused with EROFS");
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    Ok(())
}
