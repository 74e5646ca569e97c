// SPDX-License-Identifier: GPL-2.0
//! Disks: host image files, or block backends of the program's own, as
//! block devices of the kernel, and their file systems mounted in it.
//!
//! A [`Disk`] is a virtio-blk device whose host side lives in
//! [`lkl_host::virtio`](lkl_sys::lkl_host::virtio): the kernel's own
//! `virtio_blk` driver reads and writes it, and host threads do the I/O
//! off the kernel's CPU. A disk may be added before the kernel boots (it is
//! there from boot on) or after (the kernel probes it at once).
//!
//! ```
//! use lkl::disk::Disk;
//! use lkl::fs::MountFlags;
//!
//! # let dir = std::env::temp_dir().join(format!("lkl-disk-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let image = dir.join("blank.img");
//! # std::fs::File::create(&image)?.set_len(8 << 20)?;
//! let disk = Disk::open(&image)?;
//! let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
//! assert_eq!(disk.capacity()?, 8 << 20);
//! // A blank image holds no file system.
//! assert!(disk.mount(None, None, MountFlags::empty(), None).is_err());
//! drop(disk);
//! kernel.halt()?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::{c_int, c_long, CString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

use lkl_sys::lkl_host::virtio::{
    self, BlockBackend, BlockConfig, BlockDevice, FileBackend, Hotplug,
};

use crate::fs::{self, raw, FileType, Mode, MountFlags, UnmountFlags};
use crate::Errno;

/// Where disks' device nodes and mount points are made in the kernel.
const DEV_DIR: &str = "/dev";
const MNT_DIR: &str = "/mnt";
/// Where sysfs is mounted, to find a disk's block devices.
const SYSFS: &str = "/sys";

/// Tells the kernel about devices added or removed after boot, and raises
/// their interrupts: the kernel's entry points behind the host library's
/// device registry.
struct KernelHotplug;

impl Hotplug for KernelHotplug {
    fn add(&self, slot: u32, irq: u32) -> io::Result<()> {
        // SAFETY: plain integers; callable from any thread that is not
        // running kernel code.
        let ret = unsafe { lkl_sys::lkl_virtio_mmio_add(slot, irq as c_int) };
        Errno::result(ret.into()).map(drop).map_err(io::Error::from)
    }

    fn remove(&self, slot: u32) -> io::Result<()> {
        // SAFETY: as above.
        let ret = unsafe { lkl_sys::lkl_virtio_mmio_remove(slot) };
        Errno::result(ret.into()).map(drop).map_err(io::Error::from)
    }
}

fn trigger_irq(irq: u32) {
    // SAFETY: any thread may raise an interrupt; an interrupt of a device
    // the kernel no longer has is ignored.
    unsafe { lkl_sys::lkl_trigger_irq(irq as c_int) };
}

fn connect_registry() {
    static CONNECTED: Once = Once::new();
    CONNECTED.call_once(|| virtio::set_hotplug(Some(Arc::new(KernelHotplug))));
}

/// A block device of the kernel backed by the host: an image file or a
/// [`BlockBackend`]. Dropping it removes it from the kernel, if it can
/// ([`remove`](Disk::remove) says why not).
pub struct Disk {
    slot: u32,
    /// Which device of the slot is ours: the slot may be another's after
    /// a halt, which forgets every device.
    generation: u64,
    irq: u32,
    read_only: bool,
    /// What the disk is, for error messages: the image's path.
    name: String,
    removed: bool,
}

impl fmt::Debug for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disk")
            .field("name", &self.name)
            .field("slot", &self.slot)
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// An error of a disk operation: what failed, on which image, and the
/// underlying error, whose errno [`raw_os_error`] finds.
#[derive(Debug)]
pub struct DiskError {
    what: String,
    source: io::Error,
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.source)
    }
}

impl std::error::Error for DiskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The errno of an error of this module (or of any `io::Error` that has
/// one): the kernel's or the host's, behind the message that names the
/// image.
///
/// ```
/// let err = lkl::disk::Disk::open("/nonexistent.img").unwrap_err();
/// assert_eq!(lkl::disk::raw_os_error(&err), Some(2));
/// assert!(err.to_string().contains("/nonexistent.img"));
/// ```
pub fn raw_os_error(error: &io::Error) -> Option<i32> {
    error.raw_os_error().or_else(|| {
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<DiskError>())
            .and_then(|e| raw_os_error(&e.source))
    })
}

/// `error` with `what` in front: which image and which step failed.
fn context(what: impl fmt::Display, error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        DiskError {
            what: what.to_string(),
            source: error,
        },
    )
}

impl Disk {
    /// Opens the image file at `path` read-write and adds it as a disk.
    ///
    /// # Errors
    ///
    /// The host's error opening the file (not found, permission denied, a
    /// directory), with the path in the message; the kernel's for the
    /// device.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Disk> {
        Disk::open_with(path, false)
    }

    /// Opens the image file at `path` read-only: the host opens it
    /// `O_RDONLY`, and the kernel sees a read-only disk, so writes fail
    /// with `EROFS` in the kernel and the image is never written.
    ///
    /// # Errors
    ///
    /// As [`open`](Disk::open).
    pub fn open_read_only(path: impl AsRef<Path>) -> io::Result<Disk> {
        Disk::open_with(path, true)
    }

    fn open_with(path: impl AsRef<Path>, read_only: bool) -> io::Result<Disk> {
        let path = path.as_ref();
        let name = path.display().to_string();
        if path.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name}: is a directory, not a disk image"),
            ));
        }
        let backend = FileBackend::open(path, read_only).map_err(|e| context(&name, e))?;
        Disk::add(Arc::new(backend), name, read_only)
    }

    /// Adds a disk served by the program's own `backend`: memory, a network
    /// disk, a compressed format.
    ///
    /// # Errors
    ///
    /// The kernel's error adding the device, or `ENOSPC` once every device
    /// slot or interrupt is taken.
    pub fn with_backend(backend: Arc<dyn BlockBackend>, name: &str) -> io::Result<Disk> {
        let read_only = backend.read_only();
        Disk::add(backend, name.to_owned(), read_only)
    }

    fn add(backend: Arc<dyn BlockBackend>, name: String, read_only: bool) -> io::Result<Disk> {
        connect_registry();
        let device = Arc::new(BlockDevice::new(backend, BlockConfig::default()));
        let info = virtio::add(device, Arc::new(trigger_irq)).map_err(|e| context(&name, e))?;
        Ok(Disk {
            slot: info.slot,
            generation: virtio::generation(info.slot).unwrap_or(0),
            irq: info.irq,
            read_only,
            name,
            removed: false,
        })
    }

    /// Whether the kernel sees the disk read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The device slot, which names the platform device
    /// `virtio-mmio.<slot>` in the kernel.
    pub fn slot(&self) -> u32 {
        self.slot
    }

    /// The interrupt the disk raises.
    pub fn irq(&self) -> u32 {
        self.irq
    }

    /// The kernel's name for the whole disk (`vda`, say), found in sysfs.
    ///
    /// # Errors
    ///
    /// `NotFound` if the kernel has no block device for the disk (it does
    /// not run, or did not probe it).
    pub fn device_name(&self) -> io::Result<String> {
        mount_sysfs()?;
        let platform = format!("{SYSFS}/bus/platform/devices/virtio-mmio.{}", self.slot);
        for virtio_dev in fs::read_dir(&platform).map_err(|e| context(&self.name, e))? {
            let virtio_dev = virtio_dev?.file_name();
            let Some(virtio_name) = virtio_dev.to_str() else {
                continue;
            };
            if !virtio_name.starts_with("virtio") {
                continue;
            }
            let block = format!("{platform}/{virtio_name}/block");
            if let Ok(entries) = fs::read_dir(&block) {
                if let Some(entry) = entries.flatten().next() {
                    return Ok(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{}: the kernel has no block device for it", self.name),
        ))
    }

    /// The size of the disk in bytes, as the kernel sees it.
    ///
    /// # Errors
    ///
    /// As [`device_name`](Disk::device_name).
    pub fn capacity(&self) -> io::Result<u64> {
        let name = self.device_name()?;
        let sectors = fs::read_to_string(format!("{SYSFS}/class/block/{name}/size"))?;
        sectors
            .trim()
            .parse::<u64>()
            .map(|s| s * 512)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// The kernel's device number of the whole disk (`partition` `None`)
    /// or of partition `n` (from 1), as `major:minor` in sysfs.
    ///
    /// # Errors
    ///
    /// `NotFound` for a partition the disk does not have, naming it.
    pub fn device_number(&self, partition: Option<u32>) -> io::Result<(u32, u32)> {
        let disk = self.device_name()?;
        let dir = match partition {
            None => format!("{SYSFS}/class/block/{disk}"),
            Some(n) => format!("{SYSFS}/class/block/{disk}/{disk}{n}"),
        };
        let text = fs::read_to_string(format!("{dir}/dev")).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{}: has no partition {}", self.name, partition.unwrap_or(0)),
                )
            } else {
                e
            }
        })?;
        let (major, minor) = text
            .trim()
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad dev in sysfs"))?;
        Ok((major, minor))
    }

    /// Mounts the whole disk (`partition` `None`) or partition `n` on a
    /// directory of its own in the kernel (`/mnt/<device>`), with file
    /// system `fstype`, or the first one that takes it when `None`.
    ///
    /// # Errors
    ///
    /// The kernel's refusal, naming the image, the partition and what was
    /// tried: `InvalidInput` (`EINVAL`) when no file system recognises it.
    pub fn mount(
        &self,
        partition: Option<u32>,
        fstype: Option<&str>,
        flags: MountFlags,
        options: Option<&str>,
    ) -> io::Result<Mount> {
        let (major, minor) = self.device_number(partition)?;
        let flags = if self.read_only {
            flags | MountFlags::RDONLY
        } else {
            flags
        };
        let what = match partition {
            Some(n) => format!("{} partition {n}", self.name),
            None => self.name.clone(),
        };
        mount_node(fs::makedev(major, minor), &what, fstype, flags, options)
    }

    /// Removes the disk from the kernel. Refused while it is in use, by a
    /// mounted file system for one: the disk is then given back with the
    /// error.
    ///
    /// # Errors
    ///
    /// `EBUSY` while a block device of the disk is open.
    pub fn remove(mut self) -> Result<(), (Disk, io::Error)> {
        match virtio::remove_generation(self.slot, self.generation) {
            Ok(()) => {
                self.removed = true;
                Ok(())
            }
            Err(e) => {
                let e = context(&self.name, e);
                Err((self, e))
            }
        }
    }
}

/// Mounts block device `dev` (a number from [`fs::makedev`]) as
/// [`Disk::mount`] does a disk's: through the node `/dev/<dev>` on
/// `/mnt/<dev>` (`<dev>` in eight hex digits, as LKL names them), made if
/// missing, with file system `fstype` or the first that takes it.
///
/// # Errors
///
/// As [`Disk::mount`].
pub fn mount_device(
    dev: u64,
    fstype: Option<&str>,
    flags: MountFlags,
    options: Option<&str>,
) -> io::Result<Mount> {
    mount_node(dev, &format!("device {dev:08x}"), fstype, flags, options)
}

/// Unmounts what [`mount_device`] or [`Disk::mount`] mounted of device
/// `dev`, retrying every 10 ms while the kernel says `EBUSY`, for up to
/// `timeout`; then removes its mount point and device node. This is the
/// path-based twin of [`Mount::unmount_timeout`], for a mount whose
/// [`Mount`] was given up with [`Mount::keep`].
///
/// # Errors
///
/// The kernel's error; `EBUSY` if it stayed busy for `timeout`.
pub fn unmount_device(dev: u64, flags: UnmountFlags, timeout: Duration) -> io::Result<()> {
    let (node, target) = device_paths(dev);
    unmount_paths(&target, Path::new(&node), flags, timeout)
}

/// The device node and the mount point of device `dev`.
fn device_paths(dev: u64) -> (String, PathBuf) {
    (
        format!("{DEV_DIR}/{dev:08x}"),
        PathBuf::from(format!("{MNT_DIR}/{dev:08x}")),
    )
}

fn mount_node(
    dev: u64,
    what: &str,
    fstype: Option<&str>,
    flags: MountFlags,
    options: Option<&str>,
) -> io::Result<Mount> {
    let data = options
        .map(CString::new)
        .transpose()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let types = match fstype {
        Some(t) => vec![t.to_owned()],
        None => block_filesystems()?,
    };
    let (node, target) = device_paths(dev);
    let _turn = PathTurn::take(&target);
    fs::create_dir_all(DEV_DIR)?;
    let made_node = match fs::mknod(&node, FileType::BlockDevice, Mode::RUSR | Mode::WUSR, dev) {
        Ok(()) => true,
        Err(e) if e.raw_os_error() == Some(Errno::EXIST.raw()) => false,
        Err(e) => return Err(e),
    };
    // A failed mount leaves nothing it made behind: the node is another's
    // only if it was there before.
    let undo_node = || {
        if made_node {
            let _ = fs::remove_file(&node);
        }
    };
    // Nor the mount point, unless it was there before (the program's own).
    let made_target = !fs::exists(&target).unwrap_or(false);
    if let Err(e) = fs::create_dir_all(&target) {
        undo_node();
        return Err(e);
    }
    let log_before = KernelLog::read();
    // With the type detected, every type that does not recognise the image
    // says EINVAL; another error (EIO, EUCLEAN) from one that did says more.
    let mut telling = None;
    for t in &types {
        match raw::mount(node.as_str(), &target, t.as_str(), flags, data.as_deref()) {
            Ok(()) => {
                return Ok(Mount {
                    target,
                    node: PathBuf::from(node),
                    fstype: t.clone(),
                    unmounted: false,
                })
            }
            Err(e) if telling.is_none() || telling == Some(Errno::INVAL) => telling = Some(e),
            Err(_) => {}
        }
    }
    if made_target {
        let _ = fs::remove_dir(&target);
    }
    undo_node();
    let errno = telling.unwrap_or(Errno::NODEV);
    let mut detail = if fstype.is_some() {
        format!("mount as {}", types.join(""))
    } else {
        format!("no file system recognised it (tried {})", types.join(", "))
    };
    // The errno alone rarely says what is wrong with the image; the file
    // system's own message on the kernel log does.
    let reasons = block_device_name(dev)
        .map(|name| log_before.new_lines_naming(&KernelLog::read(), &name))
        .unwrap_or_default();
    if !reasons.is_empty() {
        detail = format!("{detail} (kernel: {})", reasons.join("; "));
    }
    Err(context(format!("{what}: {detail}"), io::Error::from(errno)))
}

/// The name the kernel gives block device `dev` (`vda1`, say), from sysfs.
fn block_device_name(dev: u64) -> Option<String> {
    let (major, minor) = (fs::major(dev), fs::minor(dev));
    let uevent = fs::read_to_string(format!("{SYSFS}/dev/block/{major}:{minor}/uevent")).ok()?;
    uevent
        .lines()
        .find_map(|l| l.strip_prefix("DEVNAME="))
        .map(str::to_owned)
}

/// A copy of the kernel's log buffer, to find the lines a failed mount
/// added to it.
struct KernelLog(Vec<u8>);

impl KernelLog {
    /// Room for the whole log: library_defconfig's buffer is 16 KiB
    /// (LOG_BUF_SHIFT 14) of messages, which syslog gives with a prefix
    /// each; a larger log_buf_len= gives its newest 128 KiB.
    const SIZE: usize = 128 << 10;

    /// The whole log, as `syslog(SYSLOG_ACTION_READ_ALL)` gives it; empty
    /// if the kernel does not give it.
    fn read() -> KernelLog {
        const SYSLOG_ACTION_READ_ALL: c_long = 3;
        let mut buf = vec![0u8; Self::SIZE];
        let len = crate::syscall::call(
            lkl_sys::nr::syslog,
            &[
                SYSLOG_ACTION_READ_ALL,
                buf.as_mut_ptr() as c_long,
                buf.len() as c_long,
            ],
        );
        buf.truncate(len.map_or(0, |n| n as usize));
        KernelLog(buf)
    }

    /// The lines of `after` that came after this copy and name device
    /// `name`, without their log prefixes, each once.
    fn new_lines_naming(&self, after: &KernelLog, name: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&after.0);
        // The last line seen before marks where the new ones start; each
        // has a timestamp, so it is found again unless the log wrapped.
        let start = String::from_utf8_lossy(&self.0)
            .lines()
            .last()
            .and_then(|last| text.rfind(last).map(|at| at + last.len()))
            .unwrap_or(0);
        let mut messages: Vec<String> = Vec::new();
        for line in text[start..].lines() {
            let message = line.split_once("] ").map_or(line, |(_, msg)| msg).trim();
            // Each reason once: autodetect tries ext2, ext3 and ext4, say,
            // which are one driver and say the same.
            if names_device(message, name) && !messages.iter().any(|m| m == message) {
                messages.push(message.to_owned());
            }
        }
        messages
    }
}

/// Whether a kernel log message names device `name` the ways file systems
/// and the block layer do ("EXT4-fs (vda): ...", "BTRFS error (device
/// vda): ...", "I/O error, dev vda, sector 0", "vda: ..."), as a whole
/// name: not vda1 or vdaa for vda.
fn names_device(message: &str, name: &str) -> bool {
    message.match_indices(name).any(|(at, _)| {
        let before = &message[..at];
        let next = message[at + name.len()..].chars().next();
        let whole = next.map_or(true, |c| !c.is_ascii_alphanumeric());
        let introduced = before.ends_with('(')
            || before.ends_with("device ")
            || before.ends_with("dev ")
            || (next == Some(':') && (before.is_empty() || before.ends_with(' ')));
        whole && introduced
    })
}

impl Drop for Disk {
    fn drop(&mut self) {
        if !self.removed {
            let _ = virtio::remove_generation(self.slot, self.generation);
        }
    }
}

/// Mounts sysfs on /sys unless it is there.
fn mount_sysfs() -> io::Result<()> {
    fs::mount_virtual("sysfs", SYSFS).map(drop)
}

/// The file systems the kernel has that need a block device, from
/// /proc/filesystems (those not marked `nodev`).
fn block_filesystems() -> io::Result<Vec<String>> {
    fs::mount_virtual("proc", "/proc")?;
    let list = fs::read_to_string("/proc/filesystems")?;
    Ok(list
        .lines()
        .filter(|l| !l.starts_with("nodev"))
        .map(|l| l.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect())
}

/// A file system of a [`Disk`] mounted in the kernel. Dropping it unmounts
/// it, ignoring errors; [`unmount`](Mount::unmount) reports them.
#[derive(Debug)]
pub struct Mount {
    target: PathBuf,
    node: PathBuf,
    fstype: String,
    unmounted: bool,
}

impl Mount {
    /// The mount point in the kernel.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// The file system type that mounted it.
    pub fn fstype(&self) -> &str {
        &self.fstype
    }

    /// Unmounts, retrying while the file system is busy (`EBUSY`), for up
    /// to `timeout`, as LKL's `lkl_umount_dev` does; then removes the
    /// mount point and the device node.
    ///
    /// # Errors
    ///
    /// The kernel's error; `EBUSY` if it stayed busy for `timeout`.
    pub fn unmount_timeout(mut self, timeout: Duration) -> io::Result<()> {
        let result = self.unmount_inner(timeout);
        self.unmounted = true;
        result
    }

    /// Unmounts; see [`unmount_timeout`](Mount::unmount_timeout) (one
    /// second).
    ///
    /// # Errors
    ///
    /// As [`unmount_timeout`](Mount::unmount_timeout).
    pub fn unmount(self) -> io::Result<()> {
        self.unmount_timeout(Duration::from_secs(1))
    }

    /// Gives up the guard and leaves the file system mounted: returns the
    /// mount point. Unmount it later with [`unmount_device`] (LKL's C API
    /// mounts and unmounts by device number, holding no guard).
    pub fn keep(mut self) -> PathBuf {
        self.unmounted = true;
        std::mem::take(&mut self.target)
    }

    fn unmount_inner(&mut self, timeout: Duration) -> io::Result<()> {
        unmount_paths(&self.target, &self.node, UnmountFlags::empty(), timeout)
    }
}

/// Unmounts `target`, retrying while busy for up to `timeout`, then removes
/// it and the device node `node`.
fn unmount_paths(
    target: &Path,
    node: &Path,
    flags: UnmountFlags,
    timeout: Duration,
) -> io::Result<()> {
    // None: a timeout too long to have a deadline (Duration::MAX), forever.
    let deadline = Instant::now().checked_add(timeout);
    loop {
        match raw::umount(target, flags) {
            Ok(()) => break,
            Err(Errno::BUSY) if deadline.map_or(true, |d| Instant::now() < d) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(context(target.display(), e.into())),
        }
    }
    let _turn = PathTurn::take(target);
    let _ = fs::remove_dir(target);
    let _ = fs::remove_file(node);
    Ok(())
}

/// A mount point's turn: mounting a device makes its node and mount point
/// and removes them again when the mount fails, and an unmount removes
/// them, so mounts and unmounts of one device (one mount point) must not
/// interleave: a mount of the device in another thread would lose its
/// node or mount point under it (ENOENT). Other devices go on meanwhile.
struct PathTurn(PathBuf);

/// The mount points whose turn is taken.
static TAKEN_TURNS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static TURN_ENDED: Condvar = Condvar::new();

impl PathTurn {
    fn take(target: &Path) -> PathTurn {
        let mut taken = TAKEN_TURNS.lock().unwrap_or_else(PoisonError::into_inner);
        while taken.iter().any(|t| t == target) {
            taken = TURN_ENDED
                .wait(taken)
                .unwrap_or_else(PoisonError::into_inner);
        }
        taken.push(target.to_owned());
        PathTurn(target.to_owned())
    }
}

impl Drop for PathTurn {
    fn drop(&mut self) {
        let mut taken = TAKEN_TURNS.lock().unwrap_or_else(PoisonError::into_inner);
        taken.retain(|t| *t != self.0);
        TURN_ENDED.notify_all();
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if !self.unmounted {
            let _ = self.unmount_inner(Duration::from_secs(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KernelLog;

    fn log(lines: &[&str]) -> KernelLog {
        let mut text = String::new();
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        KernelLog(text.into_bytes())
    }

    const BEFORE: &str = "<6>[    1.000000] EXT4-fs (vda): mounted filesystem";

    #[test]
    fn only_new_lines_naming_the_device_exactly() {
        let before = log(&["<3>[    0.500000] EXT4-fs (vda): old reason", BEFORE]);
        let after = log(&[
            "<3>[    0.500000] EXT4-fs (vda): old reason",
            BEFORE,
            "<3>[    2.000000] BTRFS error (device vda1): another device's reason",
            "<3>[    2.000001] Buffer I/O error on device vdaa, logical block 0",
            "<3>[    2.000002] XFS (vdab): neither",
            "<3>[    2.100000] EXT4-fs (vda): VFS: Can't find ext4 filesystem",
            "<3>[    2.200000] BTRFS error (device vda): superblock checksum mismatch",
            "<3>[    2.300000] EXT4-fs (vda): VFS: Can't find ext4 filesystem",
            "<3>[    2.400000] I/O error, dev vda, sector 0 op 0x0:(READ)",
            "<3>[    2.500000] vda: unknown partition table",
        ]);
        assert_eq!(
            before.new_lines_naming(&after, "vda"),
            [
                "EXT4-fs (vda): VFS: Can't find ext4 filesystem",
                "BTRFS error (device vda): superblock checksum mismatch",
                "I/O error, dev vda, sector 0 op 0x0:(READ)",
                "vda: unknown partition table",
            ]
        );
        assert_eq!(
            before.new_lines_naming(&after, "vda1"),
            ["BTRFS error (device vda1): another device's reason"]
        );
    }

    #[test]
    fn a_wrapped_log_is_all_new() {
        // The line seen last before is gone: every line left came after it.
        let before = log(&[BEFORE]);
        let after = log(&["<3>[    2.100000] EXT4-fs (vda): bad geometry"]);
        assert_eq!(
            before.new_lines_naming(&after, "vda"),
            ["EXT4-fs (vda): bad geometry"]
        );
    }
}
