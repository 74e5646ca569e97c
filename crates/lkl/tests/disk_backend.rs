// SPDX-License-Identifier: GPL-2.0
//! Disks served by a [`BlockBackend`] of the program's own: an ext4 image
//! held in memory, written through the library and checked by the host's
//! tools afterwards; and a backend that fails reads of some sectors, which
//! the kernel must report as `EIO` to the reader without hanging.
//!
//! Each scenario runs in a child process (one kernel per process).

mod support;

use std::io::{self, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use lkl::disk::{Disk, Mount};
use lkl::fs::{self, File, MountFlags};
use lkl::lkl_sys::lkl_host::virtio::{BlockBackend, GuestBuf, MemoryBackend};
use support::{pattern, Outcome, TempDir};

/// A disk in memory (the library's [`MemoryBackend`]), whose reads of the
/// bytes in `failing` fail with `EIO`, as a worn-out sector would.
struct RamDisk {
    memory: MemoryBackend,
    failing: RwLock<Option<Range<u64>>>,
    failed_reads: AtomicU64,
}

impl RamDisk {
    fn new(data: Vec<u8>) -> RamDisk {
        RamDisk {
            memory: MemoryBackend::with_data(data, false),
            failing: RwLock::new(None),
            failed_reads: AtomicU64::new(0),
        }
    }

    fn contents(&self) -> Vec<u8> {
        self.memory.contents()
    }

    fn fail(&self, range: Option<Range<u64>>) {
        *self.failing.write().unwrap_or_else(PoisonError::into_inner) = range;
    }

    fn hits_failing(&self, offset: u64, len: u64) -> bool {
        self.failing
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|bad| offset < bad.end && bad.start < offset + len)
    }
}

/// The memory's, but for the failing reads; no discard, as the backend's
/// defaults have it.
impl BlockBackend for RamDisk {
    fn size(&self) -> u64 {
        self.memory.size()
    }

    fn read_only(&self) -> bool {
        self.memory.read_only()
    }

    fn read_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        let len = bufs.iter().map(|b| b.len() as u64).sum();
        if self.hits_failing(offset, len) {
            self.failed_reads.fetch_add(1, Ordering::Relaxed);
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        self.memory.read_at(bufs, offset)
    }

    fn write_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        self.memory.write_at(bufs, offset)
    }

    fn flush(&self) -> io::Result<()> {
        self.memory.flush()
    }
}

/// The files the memory scenario writes: name, length, seed.
const FILES: &[(&str, usize, u64)] = &[
    ("hello", 100_000, 42),
    ("dir/one", 1 << 20, 43),
    ("dir/two", 3, 44),
];

/// A scenario's disk: the parent's mkfs'd image in a [`RamDisk`], the
/// kernel booted, the disk added and mounted as ext4 at `root`. Should a
/// step fail, the fields drop in order: the mount, the disk, the kernel.
struct RamDiskRun {
    mount: Mount,
    disk: Disk,
    kernel: lkl::Kernel,
    ram: Arc<RamDisk>,
    root: PathBuf,
}

impl RamDiskRun {
    fn start() -> Result<RamDiskRun, Box<dyn std::error::Error>> {
        let ram = Arc::new(RamDisk::new(std::fs::read(
            support::dir().join("mkfs.img"),
        )?));
        let kernel = support::boot_with_proc()?;
        let disk = Disk::with_backend(ram.clone(), "memory")?;
        let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
        let root = mount.path().to_owned();
        Ok(RamDiskRun {
            mount,
            disk,
            kernel,
            ram,
            root,
        })
    }

    /// Unmounts, removes the disk and halts; the memory stays.
    fn finish(self) -> Result<Arc<RamDisk>, Box<dyn std::error::Error>> {
        self.mount.unmount()?;
        self.disk.remove().map_err(|(_, e)| e)?;
        self.kernel.halt()?;
        Ok(self.ram)
    }
}

/// ext4 from a mkfs'd file, loaded into memory; files written and read
/// back; the memory then saved for the host to check.
fn memory_ext4() -> Outcome {
    let run = RamDiskRun::start()?;
    let root = &run.root;
    fs::create_dir(root.join("dir"))?;
    for &(name, len, seed) in FILES {
        let mut f = File::create(root.join(name))?;
        f.write_all(&pattern(len, seed))?;
    }
    support::drop_caches()?;
    for &(name, len, seed) in FILES {
        if fs::read(root.join(name))? != pattern(len, seed) {
            return Err(format!("{name} reads back wrong").into());
        }
    }
    let ram = run.finish()?;
    std::fs::write(support::dir().join("saved.img"), ram.contents())?;
    println!("saved the memory disk");
    Ok(())
}

/// A file whose first block lies in sectors that fail: its read gets
/// `EIO`, other files still read, unmount and halt return.
fn failing_sectors() -> Outcome {
    let run = RamDiskRun::start()?;
    let (ram, root) = (&run.ram, &run.root);
    let victim = pattern(64 << 10, 7);
    let bystander = pattern(64 << 10, 8);
    for (name, data) in [("victim", &victim), ("bystander", &bystander)] {
        let mut f = File::create(root.join(name))?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    // Where the victim's data went: its bytes are unique on the disk.
    let contents = ram.contents();
    let at = contents
        .windows(4096)
        .position(|w| w == &victim[..4096])
        .ok_or("the victim's first block is not on the disk")? as u64;
    ram.fail(Some(at..at + 4096));
    support::drop_caches()?;
    let err = fs::read(root.join("victim")).expect_err("a read of failing sectors");
    println!(
        "victim read: {err} after {} failed backend reads",
        ram.failed_reads.load(Ordering::Relaxed)
    );
    if err.raw_os_error() != Some(libc::EIO) {
        return Err(format!("expected EIO, got {err}").into());
    }
    if fs::read(root.join("bystander"))? != bystander {
        return Err("a file outside the failing sectors reads wrong".into());
    }
    ram.fail(None);
    if fs::read(root.join("victim"))? != victim {
        return Err("the victim reads wrong once its sectors work again".into());
    }
    run.finish()?;
    println!("FAILING_SECTORS_DONE");
    Ok(())
}

/// An ext4 superblock that cannot be read: with the type detected, the
/// mount fails with the EIO ext4 met, not the EINVAL of the types that do
/// not recognise the disk; and a mount point the program made itself is
/// left in place.
fn failing_superblock() -> Outcome {
    let ram = Arc::new(RamDisk::new(std::fs::read(
        support::dir().join("mkfs.img"),
    )?));
    let kernel = support::boot_with_proc()?;
    let disk = Disk::with_backend(ram.clone(), "memory")?;
    let (major, minor) = disk.device_number(None)?;
    let own = PathBuf::from(format!("/mnt/{:08x}", fs::makedev(major, minor)));
    fs::create_dir_all(&own)?;
    ram.fail(Some(1024..2048));
    let err = disk
        .mount(None, None, MountFlags::empty(), None)
        .expect_err("a mount without a readable superblock");
    println!("refused: {err}");
    if lkl::disk::raw_os_error(&err) != Some(libc::EIO) {
        return Err(format!("expected EIO, got {err}").into());
    }
    if !fs::exists(&own)? {
        return Err("the failed mount removed the program's own mount point".into());
    }
    ram.fail(None);
    let mount = disk.mount(None, None, MountFlags::empty(), None)?;
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    println!("FAILING_SUPERBLOCK_DONE");
    Ok(())
}

const SCENARIOS: &[support::Scenario] = &[
    ("memory_ext4", memory_ext4),
    ("failing_sectors", failing_sectors),
    ("failing_superblock", failing_superblock),
];

fn run(scenario: &str, test: &str, dir: &TempDir) -> support::Run {
    support::run_shown(scenario, test, dir.path(), Duration::from_secs(60))
}

#[test]
fn memory_backend_ext4() {
    support::child_entry(SCENARIOS);
    let dir = TempDir::new("memory_backend_ext4");
    let image = dir.path().join("mkfs.img");
    support::make_image(&image, 16, &["mkfs.ext4", "-q", "-F"]).unwrap();
    let before = support::image_state(&image).unwrap();
    assert!(run("memory_ext4", "memory_backend_ext4", &dir).ok());
    // The file the disk was loaded from is untouched: the writes went to
    // memory, and the saved copy has them.
    assert_eq!(support::image_state(&image).unwrap(), before);
    let saved = dir.path().join("saved.img");
    support::host(&["e2fsck", "-fn"], &[&saved]).unwrap();
    println!("e2fsck -fn: the saved memory disk is clean");
    for &(name, len, seed) in FILES {
        let request = format!("cat /{name}");
        let out = std::process::Command::new("debugfs")
            .args(["-R", &request])
            .arg(&saved)
            .output()
            .unwrap();
        assert!(
            out.stdout == pattern(len, seed),
            "debugfs reads /{name} differently from what was written ({} bytes)",
            out.stdout.len()
        );
    }
    println!("debugfs cat: every file as written");
}

#[test]
fn failing_sectors_give_eio() {
    support::child_entry(SCENARIOS);
    let dir = TempDir::new("failing_sectors_give_eio");
    support::make_image(&dir.path().join("mkfs.img"), 16, &["mkfs.ext4", "-q", "-F"]).unwrap();
    let r = run("failing_sectors", "failing_sectors_give_eio", &dir);
    assert!(r.status.is_some(), "the scenario hung");
    assert!(r.ok() && r.out.contains("FAILING_SECTORS_DONE"));
}

#[test]
fn unreadable_superblock_gives_eio() {
    support::child_entry(SCENARIOS);
    let dir = TempDir::new("unreadable_superblock_gives_eio");
    support::make_image(&dir.path().join("mkfs.img"), 16, &["mkfs.ext4", "-q", "-F"]).unwrap();
    let r = run(
        "failing_superblock",
        "unreadable_superblock_gives_eio",
        &dir,
    );
    assert!(r.status.is_some(), "the scenario hung");
    assert!(r.ok() && r.out.contains("FAILING_SUPERBLOCK_DONE"));
}
