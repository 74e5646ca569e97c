// SPDX-License-Identifier: GPL-2.0
//! The disk part of `make bench`: the same workloads on one ext4 image,
//! through the host kernel's loop mount and through the library kernel
//! (`lkl::disk` + `lkl::fs`), with cold caches before every measured part.
//!
//! The workloads are written once, over [`FileSystemApi`], which each side
//! implements with its own calls: `std::fs` on the host, `lkl::fs` in the
//! library.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lkl::disk::Disk;
use lkl::fs::MountFlags;

/// The sparse image's size: room for the big file, the small ones and
/// ext4's own metadata.
pub const IMAGE_BYTES: u64 = 2 << 30;
/// The sequential file, written and read in `CHUNK_BYTES` calls.
pub const BIG_FILE_BYTES: u64 = 1 << 30;
const CHUNK_BYTES: usize = 1 << 20;
/// 10,000 small files of 1 KiB each, 100 to a directory.
pub const SMALL_DIRS: usize = 100;
pub const SMALL_FILES_PER_DIR: usize = 100;
pub const SMALL_FILE_BYTES: usize = 1024;
/// Memory of the library kernel for the disk part: enough that 1 GiB of
/// writes is not throttled much harder than on the host.
pub const LIBRARY_MEMORY_MIB: u32 = 512;

/// mkfs.ext4's defaults, but the inode tables and journal zeroed at once:
/// otherwise a background thread of whichever kernel mounts it zeroes them
/// during the measurements.
const MKFS_ARGS: &[&str] = &["-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0"];

/// Seconds of each measured part of one pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassTimes {
    pub write: Duration,
    pub read: Duration,
    pub create: Duration,
    pub stat: Duration,
}

/// The calls a workload needs, made by one kernel or the other.
trait FileSystemApi {
    type File: Read + Write;
    fn create(&self, path: &Path) -> io::Result<Self::File>;
    fn open(&self, path: &Path) -> io::Result<Self::File>;
    fn fsync(&self, file: &Self::File) -> io::Result<()>;
    /// `syncfs` of the file system that holds `dir`.
    fn syncfs(&self, dir: &Path) -> io::Result<()>;
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// The size `stat` gives.
    fn stat_len(&self, path: &Path) -> io::Result<u64>;
}

struct HostApi;

impl FileSystemApi for HostApi {
    type File = std::fs::File;
    fn create(&self, path: &Path) -> io::Result<std::fs::File> {
        std::fs::File::create(path)
    }
    fn open(&self, path: &Path) -> io::Result<std::fs::File> {
        std::fs::File::open(path)
    }
    fn fsync(&self, file: &std::fs::File) -> io::Result<()> {
        file.sync_all()
    }
    fn syncfs(&self, dir: &Path) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let dir = std::fs::File::open(dir)?;
        // SAFETY: a descriptor we own, open for the whole call.
        if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }
    fn stat_len(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.len())
    }
}

struct LibraryApi;

impl FileSystemApi for LibraryApi {
    type File = lkl::fs::File;
    fn create(&self, path: &Path) -> io::Result<lkl::fs::File> {
        lkl::fs::File::create(path)
    }
    fn open(&self, path: &Path) -> io::Result<lkl::fs::File> {
        lkl::fs::File::open(path)
    }
    fn fsync(&self, file: &lkl::fs::File) -> io::Result<()> {
        file.sync_all()
    }
    fn syncfs(&self, dir: &Path) -> io::Result<()> {
        lkl::fs::File::open(dir)?.sync_filesystem()
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        lkl::fs::create_dir(path)
    }
    fn stat_len(&self, path: &Path) -> io::Result<u64> {
        Ok(lkl::fs::metadata(path)?.len())
    }
}

/// Bytes that are not all zeroes, so nothing on the way can shortcut them.
fn chunk() -> Vec<u8> {
    (0..CHUNK_BYTES).map(|i| (i * 7 + 1) as u8).collect()
}

/// Writes the big file in 1 MiB calls, then fsyncs it; both are timed.
fn write_big(api: &impl FileSystemApi, root: &Path) -> io::Result<Duration> {
    let data = chunk();
    let start = Instant::now();
    let mut file = api.create(&root.join("big"))?;
    for _ in 0..BIG_FILE_BYTES / CHUNK_BYTES as u64 {
        file.write_all(&data)?;
    }
    api.fsync(&file)?;
    Ok(start.elapsed())
}

/// Reads the big file back in 1 MiB calls, checking its length.
fn read_big(api: &impl FileSystemApi, root: &Path) -> io::Result<Duration> {
    let mut buf = vec![0u8; CHUNK_BYTES];
    let start = Instant::now();
    let mut file = api.open(&root.join("big"))?;
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let elapsed = start.elapsed();
    if total != BIG_FILE_BYTES {
        return Err(io::Error::other(format!(
            "read back {total} bytes of the big file, not {BIG_FILE_BYTES}"
        )));
    }
    Ok(elapsed)
}

fn small_path(root: &Path, dir: usize, file: usize) -> PathBuf {
    root.join(format!("d{dir:03}/f{file:03}"))
}

/// Creates the small files (and their directories), then syncfs.
fn create_small(api: &impl FileSystemApi, root: &Path) -> io::Result<Duration> {
    let data = &chunk()[..SMALL_FILE_BYTES];
    let start = Instant::now();
    for dir in 0..SMALL_DIRS {
        api.create_dir(&root.join(format!("d{dir:03}")))?;
        for file in 0..SMALL_FILES_PER_DIR {
            api.create(&small_path(root, dir, file))?.write_all(data)?;
        }
    }
    api.syncfs(root)?;
    Ok(start.elapsed())
}

/// Stats every small file, checking its size.
fn stat_small(api: &impl FileSystemApi, root: &Path) -> io::Result<Duration> {
    let start = Instant::now();
    for dir in 0..SMALL_DIRS {
        for file in 0..SMALL_FILES_PER_DIR {
            let path = small_path(root, dir, file);
            let len = api.stat_len(&path)?;
            if len != SMALL_FILE_BYTES as u64 {
                return Err(io::Error::other(format!(
                    "{}: {len} bytes, not {SMALL_FILE_BYTES}",
                    path.display()
                )));
            }
        }
    }
    Ok(start.elapsed())
}

/// Writes back everything dirty and drops the host's page cache, dentries
/// and inodes (the image's pages included: the library's device reads the
/// image through it). Needs root.
pub fn drop_host_caches() -> io::Result<()> {
    // SAFETY: no arguments.
    unsafe { libc::sync() };
    std::fs::write("/proc/sys/vm/drop_caches", "3\n")
        .map_err(|e| io::Error::new(e.kind(), format!("/proc/sys/vm/drop_caches: {e}")))
}

/// Runs a command, turning a failure into an error that names it and
/// carries its stderr.
fn run(program: &str, args: &[&std::ffi::OsStr]) -> io::Result<()> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("{program}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(io::Error::other(format!(
        "{program} {}: {} ({})",
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        stderr.trim(),
        output.status
    )))
}

/// Makes `image` a fresh sparse ext4 image of [`IMAGE_BYTES`].
pub fn make_image(image: &Path) -> io::Result<()> {
    let file = std::fs::File::create(image)?;
    file.set_len(IMAGE_BYTES)?;
    drop(file);
    let mut args: Vec<&std::ffi::OsStr> = MKFS_ARGS.iter().map(|a| a.as_ref()).collect();
    args.push(image.as_os_str());
    run(&mkfs_ext4(), &args)
}

/// mkfs.ext4 from the PATH, or from the sbin directories that a user's
/// PATH often lacks.
fn mkfs_ext4() -> String {
    const NAME: &str = "mkfs.ext4";
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(NAME))
        .find(|candidate| candidate.is_file())
        .map_or_else(|| NAME.to_owned(), |found| found.display().to_string())
}

/// The host's loop mount of an image, unmounted (and its loop device
/// freed) on drop.
struct LoopMount<'a> {
    dir: &'a Path,
    mounted: bool,
}

impl<'a> LoopMount<'a> {
    fn new(image: &Path, dir: &'a Path) -> io::Result<Self> {
        run(
            "mount",
            &[
                "-t".as_ref(),
                "ext4".as_ref(),
                "-o".as_ref(),
                "loop".as_ref(),
                image.as_os_str(),
                dir.as_os_str(),
            ],
        )?;
        Ok(LoopMount { dir, mounted: true })
    }

    fn unmount(mut self) -> io::Result<()> {
        self.mounted = false;
        run("umount", &[self.dir.as_os_str()])
    }
}

impl Drop for LoopMount<'_> {
    fn drop(&mut self) {
        if self.mounted {
            let _ = run("umount", &[self.dir.as_os_str()]);
        }
    }
}

/// Whether the host can loop-mount ext4 here: `Err` says why not. Probed
/// by mounting the fresh `image` on `dir`, since a dry check (root, the
/// loop module, the ext4 driver) can still miss, in a container say.
pub fn probe_host_loop_mount(image: &Path, dir: &Path) -> Result<(), String> {
    // SAFETY: no arguments.
    if unsafe { libc::geteuid() } != 0 {
        return Err("loop mounts need root".into());
    }
    match LoopMount::new(image, dir) {
        Ok(mount) => mount.unmount().map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// The measured parts of a pass, in order; each runs on a fresh mount
/// with cold caches.
const PARTS: [Part; 4] = [Part::Write, Part::Read, Part::Create, Part::Stat];

#[derive(Clone, Copy)]
enum Part {
    Write,
    Read,
    Create,
    Stat,
}

impl Part {
    fn run(self, api: &impl FileSystemApi, root: &Path, times: &mut PassTimes) -> io::Result<()> {
        match self {
            Part::Write => times.write = write_big(api, root)?,
            Part::Read => times.read = read_big(api, root)?,
            Part::Create => times.create = create_small(api, root)?,
            Part::Stat => times.stat = stat_small(api, root)?,
        }
        Ok(())
    }
}

/// One pass of the workloads through the host's loop mount of `image` on
/// `dir`. Before each part the host's caches are dropped (when
/// `drop_caches`) and the image mounted afresh, on a new loop device.
pub fn host_pass(image: &Path, dir: &Path, drop_caches: bool) -> io::Result<PassTimes> {
    let mut times = PassTimes::default();
    for part in PARTS {
        if drop_caches {
            drop_host_caches()?;
        }
        let mount = LoopMount::new(image, dir)?;
        part.run(&HostApi, dir, &mut times)?;
        mount.unmount()?;
    }
    Ok(times)
}

/// Drops the library kernel's own caches, as [`drop_host_caches`] does the
/// host's; mounts its /proc first if needed.
fn drop_library_caches() -> io::Result<()> {
    if !lkl::fs::exists("/proc/sys")? {
        lkl::fs::create_dir_all("/proc")?;
        lkl::fs::raw::mount("proc", "/proc", "proc", MountFlags::empty(), None)?;
    }
    lkl::fs::sync()?;
    lkl::fs::write("/proc/sys/vm/drop_caches", "3\n")
}

fn mount_ext4(disk: &Disk) -> io::Result<lkl::disk::Mount> {
    disk.mount(None, Some("ext4"), MountFlags::empty(), None)
}

/// The library side of a pass, in a process of its own (one kernel per
/// process): boots with `image` as a disk and runs the parts of
/// [`host_pass`], each on a fresh mount after dropping the library
/// kernel's caches and (when `drop_caches`) the host's: the device reads
/// the image through the host's page cache. Also returns the time from
/// opening the disk to its first mount, boot included, with the host's
/// caches warm.
pub fn library_pass(image: &Path, drop_caches: bool) -> io::Result<(PassTimes, Duration)> {
    // Host caches warm: a cold start would time reading this program from
    // disk.
    let start = Instant::now();
    let disk = Disk::open(image)?;
    let kernel = lkl::Kernel::builder()
        .memory_mib(LIBRARY_MEMORY_MIB)
        .boot()
        .map_err(|e| io::Error::other(format!("boot with {LIBRARY_MEMORY_MIB} MiB: {e}")))?;
    let first = mount_ext4(&disk)?;
    let boot_to_mount = start.elapsed();
    first.unmount()?;

    let mut times = PassTimes::default();
    for part in PARTS {
        drop_library_caches()?;
        if drop_caches {
            drop_host_caches()?;
        }
        let mount = mount_ext4(&disk)?;
        part.run(&LibraryApi, mount.path(), &mut times)?;
        mount.unmount()?;
    }
    drop(disk);
    kernel
        .halt()
        .map_err(|e| io::Error::other(format!("halt: {e}")))?;
    Ok((times, boot_to_mount))
}
