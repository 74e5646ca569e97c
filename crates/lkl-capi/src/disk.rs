// SPDX-License-Identifier: GPL-2.0
//! LKL's disk API: lkl_disk_add, lkl_disk_remove, lkl_get_virtio_blkdev,
//! lkl_encode_dev_from_sysfs, lkl_mount_dev/lkl_mount_blkdev and
//! lkl_umount_dev/lkl_umount_blkdev.
//!
//! A disk is an image file descriptor (`ops` NULL: the default ops, read
//! and written with preadv/pwritev by `lkl_host::virtio::FileBackend`) or
//! the program's own `struct lkl_dev_blk_ops`, bridged onto
//! `lkl_host::virtio::BlockBackend`. The disks added are kept in a table
//! indexed by disk id; `lkl_disk_add` stores a token naming the entry in
//! `disk->dev`, by which `lkl_disk_remove` finds it again, as LKL stores
//! its device there.
//!
//! Mounts are not tracked here: as in LKL, a mount is named by its device
//! number (`/dev/%08x` mounted on `/mnt/%08x`), and the kernel is the only
//! record of what is mounted. So lkl_umount_blkdev undoes lkl_mount_dev,
//! and removing a disk is refused by the kernel itself (-EBUSY) while one
//! of its block devices is open.

use core::ffi::{c_char, c_int, c_long, c_uint, c_ulonglong, c_void, CStr};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lkl::disk::{self, Disk, Mount};
use lkl::fs::{self, MountFlags, UnmountFlags};
use lkl::Errno;
use lkl_host::virtio::{BlockBackend, FileBackend, GuestBuf};

use crate::neg;

/// A read (`struct lkl_blk_req.type`).
pub const LKL_DEV_BLK_TYPE_READ: c_uint = 0;
/// A write.
pub const LKL_DEV_BLK_TYPE_WRITE: c_uint = 1;
/// A flush of the written data (the kernel's only kind: FLUSH_OUT, 5, is
/// never sent).
pub const LKL_DEV_BLK_TYPE_FLUSH: c_uint = 4;
/// The request succeeded.
pub const LKL_DEV_BLK_STATUS_OK: c_int = 0;
/// The request is not supported (any other status is an I/O error).
pub const LKL_DEV_BLK_STATUS_UNSUP: c_int = 2;

/// lkl_disk_add_flags: the program's `request` may run on several host
/// threads at once.
pub const LKL_DISK_CONCURRENT_REQUESTS: c_uint = 1;

/// `struct lkl_blk_req`.
#[repr(C)]
pub struct lkl_blk_req {
    pub type_: c_uint,
    /// The request's I/O priority; always 0 here.
    pub prio: c_uint,
    pub sector: c_ulonglong,
    pub buf: *mut libc::iovec,
    pub count: c_int,
}

/// `struct lkl_dev_blk_ops`.
#[repr(C)]
pub struct lkl_dev_blk_ops {
    pub get_capacity: Option<unsafe extern "C" fn(lkl_disk, *mut c_ulonglong) -> c_int>,
    pub request: Option<unsafe extern "C" fn(lkl_disk, *mut lkl_blk_req) -> c_int>,
}

/// The anonymous union of `struct lkl_disk`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union lkl_disk_fd_or_handle {
    pub fd: c_int,
    pub handle: *mut c_void,
}

/// `struct lkl_disk`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct lkl_disk {
    pub dev: *mut c_void,
    pub u: lkl_disk_fd_or_handle,
    pub ops: *mut lkl_dev_blk_ops,
}

/// A disk added by lkl_disk_add.
struct Entry {
    /// What lkl_disk_add stored in `disk->dev`.
    token: usize,
    /// Shared with calls in progress (a mount), which run without the
    /// table's lock: the program's request function may be reached from
    /// them and may itself use this API.
    disk: Arc<Disk>,
}

/// Disk `disk_id`, or -ENODEV.
fn disk_of(disk_id: c_int) -> Result<Arc<Disk>, c_int> {
    let disks = DISKS.lock().unwrap_or_else(PoisonError::into_inner);
    usize::try_from(disk_id)
        .ok()
        .and_then(|i| disks.get(i))
        .and_then(Option::as_ref)
        .map(|e| Arc::clone(&e.disk))
        .ok_or(neg(Errno::NODEV))
}

/// The disks, indexed by disk id.
static DISKS: Mutex<Vec<Option<Entry>>> = Mutex::new(Vec::new());

/// The next token: never 0 (a zeroed struct names no disk) and never
/// reused, so a stale copy of a removed disk's struct names nothing.
static NEXT_TOKEN: AtomicUsize = AtomicUsize::new(1);

/// The kernel's errno of `error`, negated. The host errors here (EBADF,
/// EBUSY from the image lock) have the same numbers in the kernel's generic
/// table, which this architecture uses; errors made without an errno (a
/// missing partition, a FIFO given as image, a locked image) by their kind;
/// EIO for the rest.
fn neg_io(error: &io::Error) -> c_int {
    let errno = disk::raw_os_error(error).unwrap_or(match error.kind() {
        io::ErrorKind::NotFound => Errno::NOENT.raw(),
        io::ErrorKind::ResourceBusy => Errno::BUSY.raw(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => Errno::INVAL.raw(),
        _ => Errno::IO.raw(),
    });
    -errno
}

/// A disk served by the program's `struct lkl_dev_blk_ops`.
struct OpsBackend {
    disk: lkl_disk,
    request: unsafe extern "C" fn(lkl_disk, *mut lkl_blk_req) -> c_int,
    size: u64,
    /// Held across each call of `request` unless the program said it may
    /// run concurrently: the device has several worker threads, and LKL
    /// called the ops one at a time.
    serial: Option<Mutex<()>>,
}

// SAFETY: the disk's pointers belong to the program, which by lkl.h's
// contract lets its ops be called from any host thread (one at a time
// unless it asked for LKL_DISK_CONCURRENT_REQUESTS, which `serial`
// enforces).
unsafe impl Send for OpsBackend {}
// SAFETY: as for Send; `&self` only reads the copied struct and calls the
// program's function under the same contract.
unsafe impl Sync for OpsBackend {}

impl OpsBackend {
    fn submit(&self, type_: c_uint, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        // The guards keep the pointers valid while the request uses them.
        let guards: Vec<_> = bufs
            .iter()
            .filter(|b| !b.is_empty())
            .map(|b| b.ptr_guard_mut())
            .collect();
        let mut iovecs: Vec<libc::iovec> = guards
            .iter()
            .map(|g| libc::iovec {
                iov_base: g.as_ptr().cast(),
                iov_len: g.len(),
            })
            .collect();
        let count = c_int::try_from(iovecs.len())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let mut req = lkl_blk_req {
            type_,
            prio: 0,
            sector: offset / 512,
            buf: if iovecs.is_empty() {
                core::ptr::null_mut()
            } else {
                iovecs.as_mut_ptr()
            },
            count,
        };
        let _turn = self
            .serial
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner));
        // SAFETY: `request` is the program's function for this disk; `req`
        // and its iovecs live across the call and describe memory the
        // driver lent to this request.
        let status = unsafe { (self.request)(self.disk, &mut req) };
        match status {
            LKL_DEV_BLK_STATUS_OK => Ok(()),
            LKL_DEV_BLK_STATUS_UNSUP => Err(io::ErrorKind::Unsupported.into()),
            _ => Err(io::Error::from_raw_os_error(libc::EIO)),
        }
    }
}

impl BlockBackend for OpsBackend {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_only(&self) -> bool {
        false
    }
    fn read_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        self.submit(LKL_DEV_BLK_TYPE_READ, bufs, offset)
    }
    fn write_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        self.submit(LKL_DEV_BLK_TYPE_WRITE, bufs, offset)
    }
    fn flush(&self) -> io::Result<()> {
        match self.submit(LKL_DEV_BLK_TYPE_FLUSH, &[], 0) {
            // A disk that cannot flush has no cache to flush: its writes
            // are done when they complete (write-through). The device
            // offers flushes, so the kernel's FUA writes, which every
            // journal makes, would fail otherwise.
            Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(()),
            done => done,
        }
    }
}

/// The backend of the default ops: the image open at `fd`, read-only if
/// `fd` was opened O_RDONLY.
///
/// The image is opened again through /proc/self/fd rather than dup'ed: a
/// new open file description takes its own image lock, so the same image
/// (even through the same fd) never becomes two writable disks.
fn fd_backend(fd: c_int) -> io::Result<FileBackend> {
    // SAFETY: fcntl(F_GETFL) takes any int; a bad one fails with EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let read_only = flags & libc::O_ACCMODE == libc::O_RDONLY;
    FileBackend::open(format!("/proc/self/fd/{fd}"), read_only)
}

/// The largest disk the kernel takes: its byte sizes are loff_t.
const MAX_CAPACITY: u64 = i64::MAX as u64;

/// The backend of `disk`, or a negative errno.
///
/// # Safety
///
/// A non-NULL `disk.ops` points to a live `struct lkl_dev_blk_ops`.
unsafe fn backend_of(disk: &lkl_disk, flags: c_uint) -> Result<Arc<dyn BlockBackend>, c_int> {
    if disk.ops.is_null() {
        // SAFETY: with the default ops the program set the union's `fd`;
        // every bit pattern is an int.
        let fd = unsafe { disk.u.fd };
        return match fd_backend(fd) {
            Ok(b) => Ok(Arc::new(b)),
            Err(e) => Err(neg_io(&e)),
        };
    }
    // SAFETY: by the caller's promise.
    let ops = unsafe { &*disk.ops };
    let (Some(get_capacity), Some(request)) = (ops.get_capacity, ops.request) else {
        return Err(neg(Errno::INVAL));
    };
    let mut size: c_ulonglong = 0;
    // SAFETY: the program's function, given its own disk and a live u64.
    let ret = unsafe { get_capacity(*disk, &mut size) };
    if ret < 0 {
        return Err(ret);
    }
    if ret > 0 || size < 512 {
        // A positive status or an empty disk is a broken get_capacity.
        return Err(neg(Errno::INVAL));
    }
    if size > MAX_CAPACITY {
        // The kernel's sizes (loff_t) would be negative.
        return Err(neg(Errno::FBIG));
    }
    Ok(Arc::new(OpsBackend {
        disk: *disk,
        request,
        size,
        serial: (flags & LKL_DISK_CONCURRENT_REQUESTS == 0).then(|| Mutex::new(())),
    }))
}

/// Adds a disk, as lkl_disk_add_flags with no flags.
///
/// # Safety
///
/// As lkl_disk_add_flags.
#[no_mangle]
pub unsafe extern "C" fn lkl_disk_add(disk: *mut lkl_disk) -> c_int {
    // SAFETY: forwarded under the caller's promise.
    unsafe { lkl_disk_add_flags(disk, 0) }
}

/// Adds a disk: the image behind `disk->fd` when `disk->ops` is NULL, or
/// the program's ops. Stores a token in `disk->dev` and returns the disk id
/// (from 0), or a negative errno.
///
/// # Safety
///
/// `disk` is NULL or points to a `struct lkl_disk`; its `ops`, when not
/// NULL, stay valid until lkl_disk_remove succeeds.
#[no_mangle]
pub unsafe extern "C" fn lkl_disk_add_flags(disk: *mut lkl_disk, flags: c_uint) -> c_int {
    if disk.is_null() || flags & !LKL_DISK_CONCURRENT_REQUESTS != 0 {
        return neg(Errno::INVAL);
    }
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    // SAFETY: by the caller's promise `disk` points to a struct lkl_disk.
    let mut given = unsafe { *disk };
    // The ops see the struct as it will be after this call, as in LKL.
    given.dev = token as *mut c_void;
    // SAFETY: `given.ops` is NULL or live, by the caller's promise.
    let backend = match unsafe { backend_of(&given, flags) } {
        Ok(b) => b,
        Err(e) => return e,
    };
    let added = match Disk::with_backend(backend, "lkl_disk") {
        Ok(d) => d,
        Err(e) => return neg_io(&e),
    };
    let mut disks = DISKS.lock().unwrap_or_else(PoisonError::into_inner);
    let free = disks.iter().position(Option::is_none);
    let id = free.unwrap_or(disks.len());
    let Ok(ret) = c_int::try_from(id) else {
        return neg(Errno::NOSPC);
    };
    let entry = Some(Entry {
        token,
        disk: Arc::new(added),
    });
    match free {
        Some(i) => disks[i] = entry,
        None => disks.push(entry),
    }
    // SAFETY: as above; the token is an opaque value, never dereferenced.
    unsafe { (*disk).dev = token as *mut c_void };
    ret
}

/// Removes the disk that lkl_disk_add stored `disk.dev` for. Returns 0,
/// -EINVAL for a `dev` that names no disk, or -EBUSY while one of its
/// block devices is open (a file system of it is mounted). After
/// lkl_sys_halt, which forgets every device, it only drops the entry.
#[no_mangle]
pub extern "C" fn lkl_disk_remove(disk: lkl_disk) -> c_int {
    let token = disk.dev as usize;
    let mut disks = DISKS.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(slot) = disks
        .iter_mut()
        .find(|e| token != 0 && e.as_ref().is_some_and(|e| e.token == token))
    else {
        return neg(Errno::INVAL);
    };
    let Some(entry) = slot.take() else {
        return neg(Errno::INVAL);
    };
    let disk = match Arc::try_unwrap(entry.disk) {
        Ok(d) => d,
        Err(shared) => {
            // Another thread is mounting it right now.
            *slot = Some(Entry {
                token,
                disk: shared,
            });
            return neg(Errno::BUSY);
        }
    };
    match disk.remove() {
        Ok(()) => 0,
        // The host has no such device any more: the kernel halted.
        Err((_, e)) if disk::raw_os_error(&e) == Some(Errno::NOENT.raw()) => 0,
        Err((back, e)) => {
            *slot = Some(Entry {
                token,
                disk: Arc::new(back),
            });
            neg_io(&e)
        }
    }
}

/// The device number (`new_encode_dev`) of partition `part` (0: the whole
/// disk) of disk `disk_id`, or a negative errno.
fn blkdev(disk_id: c_int, part: c_uint) -> Result<u32, c_int> {
    let (major, minor) = disk_of(disk_id)?
        .device_number(partition(part))
        .map_err(|e| neg_io(&e))?;
    // The kernel's encoding fits in 32 bits: 12 bits of major, 20 of minor.
    Ok(fs::makedev(major, minor) as u32)
}

/// Stores in `*pdevid` the device number (as the kernel's new_encode_dev)
/// of partition `part` (0: the whole disk) of disk `disk_id`. Returns 0,
/// -ENODEV for an unknown disk, -ENOENT for a missing partition, or
/// another negative errno.
///
/// # Safety
///
/// `pdevid` is NULL or points to a writable u32.
#[no_mangle]
pub unsafe extern "C" fn lkl_get_virtio_blkdev(
    disk_id: c_int,
    part: c_uint,
    pdevid: *mut u32,
) -> c_int {
    if pdevid.is_null() {
        return neg(Errno::INVAL);
    }
    match blkdev(disk_id, part) {
        Ok(dev) => {
            // SAFETY: by the caller's promise `pdevid` is writable.
            unsafe { pdevid.write(dev) };
            0
        }
        Err(e) => e,
    }
}

/// Reads a sysfs `dev` file (`MAJOR:MINOR`) at `sysfs_path` in the kernel
/// and stores its device number (new_encode_dev) in `*pdevid`. Returns 0
/// or a negative errno (-EINVAL if the file does not hold a device
/// number).
///
/// # Safety
///
/// `sysfs_path` is NULL or a NUL-terminated string; `pdevid` is NULL or
/// points to a writable u32.
#[no_mangle]
pub unsafe extern "C" fn lkl_encode_dev_from_sysfs(
    sysfs_path: *const c_char,
    pdevid: *mut u32,
) -> c_int {
    if sysfs_path.is_null() || pdevid.is_null() {
        return neg(Errno::INVAL);
    }
    // SAFETY: by the caller's promise `sysfs_path` is NUL-terminated.
    let path = unsafe { CStr::from_ptr(sysfs_path) };
    let text = match read_dev_file(path) {
        Ok(t) => t,
        Err(e) => return neg_io(&e),
    };
    let Some(dev) = parse_dev(&text) else {
        return neg(Errno::INVAL);
    };
    // SAFETY: by the caller's promise `pdevid` is writable.
    unsafe { pdevid.write(dev) };
    0
}

/// The longest dev file: "4095:1048575\n".
const DEV_FILE_MAX: u64 = 13;

/// The start of the file at `path` in the kernel: one byte more than a dev
/// file holds at most, so that a longer file is seen to be one. Reading to
/// the end would never end on a file such as /dev/zero; O_NONBLOCK keeps a
/// FIFO from blocking the open.
fn read_dev_file(path: &CStr) -> io::Result<Vec<u8>> {
    let file = fs::File::options()
        .read(true)
        .custom_flags(fs::OFlags::NONBLOCK)
        .open(path)?;
    let mut text = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, DEV_FILE_MAX + 1), &mut text)?;
    Ok(text)
}

/// `MAJOR:MINOR` (and an optional newline) as new_encode_dev, if both
/// numbers are in the kernel's range (12 and 20 bits).
fn parse_dev(text: &[u8]) -> Option<u32> {
    let text = core::str::from_utf8(text).ok()?;
    let (major, minor) = text.strip_suffix('\n').unwrap_or(text).split_once(':')?;
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (major, minor) = (number(major)?, number(minor)?);
    (major < 1 << 12 && minor < 1 << 20).then(|| fs::makedev(major, minor) as u32)
}

/// The partition number of `part` for lkl::disk: 0 is the whole disk.
fn partition(part: c_uint) -> Option<u32> {
    (part != 0).then_some(part)
}

/// A NUL-terminated C string as UTF-8, NULL as None; Err(-EINVAL) if it is
/// not UTF-8.
///
/// # Safety
///
/// `s` is NULL or NUL-terminated.
unsafe fn opt_str<'a>(s: *const c_char) -> Result<Option<&'a str>, c_int> {
    if s.is_null() {
        return Ok(None);
    }
    // SAFETY: by the caller's promise.
    let s = unsafe { CStr::from_ptr(s) };
    s.to_str().map(Some).map_err(|_| neg(Errno::INVAL))
}

/// "/mnt/" and eight hex digits, then the NUL: what lkl_mount_dev writes.
const MNT_STR_MIN: usize = 5 + 8 + 1;

/// The string arguments of the mount functions.
///
/// # Safety
///
/// `fs_type` and `opts` are NULL or NUL-terminated strings.
unsafe fn mount_args<'a>(
    fs_type: *const c_char,
    opts: *const c_char,
    flags: c_int,
) -> Result<(Option<&'a str>, Option<&'a str>, MountFlags), c_int> {
    // SAFETY: by the caller's promise.
    let (fs_type, opts) = unsafe { (opt_str(fs_type)?, opt_str(opts)?) };
    Ok((
        fs_type,
        opts,
        MountFlags::from_bits_retain(flags as u32 as _),
    ))
}

/// Leaves `mounted` mounted (the kernel holds it; lkl_umount_blkdev undoes
/// it) and writes its mount point into `mnt_str`. Returns 0 or a negative
/// errno.
///
/// # Safety
///
/// `mnt_str` has room for `mnt_str_len` bytes, at least MNT_STR_MIN.
unsafe fn report_mount(
    mounted: io::Result<Mount>,
    mnt_str: *mut c_char,
    mnt_str_len: c_uint,
) -> c_long {
    let path = match mounted {
        Ok(m) => m.keep(),
        Err(e) => return neg_io(&e).into(),
    };
    let bytes = path.as_os_str().as_encoded_bytes();
    let n = bytes.len().min(mnt_str_len as usize - 1);
    // SAFETY: by the caller's promise `mnt_str` has `mnt_str_len` bytes;
    // `n` plus the NUL fit.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), mnt_str, n);
        mnt_str.add(n).write(0);
    }
    0
}

/// Whether `mnt_str` can take a mount point: Err(-EINVAL) for NULL,
/// Err(-ERANGE) if too short.
fn check_mnt_str(mnt_str: *mut c_char, mnt_str_len: c_uint) -> Result<(), c_long> {
    if mnt_str.is_null() {
        Err(neg(Errno::INVAL).into())
    } else if (mnt_str_len as usize) < MNT_STR_MIN {
        Err(neg(Errno::RANGE).into())
    } else {
        Ok(())
    }
}

/// What lkl_mount_blkdev and lkl_mount_dev share: checks `mnt_str` (first,
/// so that -ERANGE comes before any other error), then the strings; runs
/// `mount` with them, which may fail before mounting with a negative
/// errno; and writes the mount point into `mnt_str`. Returns 0 or a
/// negative errno.
///
/// # Safety
///
/// `fs_type` and `opts` are NULL or NUL-terminated strings; `mnt_str` is
/// NULL or has room for `mnt_str_len` bytes.
unsafe fn mount_and_report(
    fs_type: *const c_char,
    flags: c_int,
    opts: *const c_char,
    mnt_str: *mut c_char,
    mnt_str_len: c_uint,
    mount: impl FnOnce(Option<&str>, MountFlags, Option<&str>) -> Result<io::Result<Mount>, c_int>,
) -> c_long {
    if let Err(e) = check_mnt_str(mnt_str, mnt_str_len) {
        return e;
    }
    // SAFETY: by the caller's promise the strings are NULL or terminated.
    let (fs_type, opts, flags) = match unsafe { mount_args(fs_type, opts, flags) } {
        Ok(a) => a,
        Err(e) => return e.into(),
    };
    let mounted = match mount(fs_type, flags, opts) {
        Ok(m) => m,
        Err(e) => return e.into(),
    };
    // SAFETY: checked above; `mnt_str` has `mnt_str_len` bytes.
    unsafe { report_mount(mounted, mnt_str, mnt_str_len) }
}

/// Mounts block device `dev` (new_encode_dev) through the node `/dev/%08x`
/// on `/mnt/%08x`, both made if missing, with `fs_type` (NULL: the first
/// file system of /proc/filesystems that takes it), and writes the mount
/// point into `mnt_str`. Returns 0 or a negative errno: -ERANGE if
/// `mnt_str_len` cannot hold the path (checked first).
///
/// # Safety
///
/// `fs_type` and `opts` are NULL or NUL-terminated strings; `mnt_str` is
/// NULL or has room for `mnt_str_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn lkl_mount_blkdev(
    dev: c_uint,
    fs_type: *const c_char,
    flags: c_int,
    opts: *const c_char,
    mnt_str: *mut c_char,
    mnt_str_len: c_uint,
) -> c_long {
    let mount = |fs_type: Option<&str>, flags, opts: Option<&str>| {
        Ok(disk::mount_device(dev.into(), fs_type, flags, opts))
    };
    // SAFETY: the caller's promises are mount_and_report's.
    unsafe { mount_and_report(fs_type, flags, opts, mnt_str, mnt_str_len, mount) }
}

/// Mounts partition `part` (0: the whole disk) of disk `disk_id` as
/// lkl_mount_blkdev does its device number; a read-only disk read-only.
/// Returns 0 or a negative errno (-ENODEV for an unknown disk, -ENOENT for
/// a missing partition).
///
/// # Safety
///
/// As lkl_mount_blkdev.
#[no_mangle]
pub unsafe extern "C" fn lkl_mount_dev(
    disk_id: c_uint,
    part: c_uint,
    fs_type: *const c_char,
    flags: c_int,
    opts: *const c_char,
    mnt_str: *mut c_char,
    mnt_str_len: c_uint,
) -> c_long {
    let mount = |fs_type: Option<&str>, flags, opts: Option<&str>| {
        let disk = c_int::try_from(disk_id)
            .map_err(|_| neg(Errno::NODEV))
            .and_then(disk_of)?;
        Ok(disk.mount(partition(part), fs_type, flags, opts))
    };
    // SAFETY: the caller's promises are mount_and_report's.
    unsafe { mount_and_report(fs_type, flags, opts, mnt_str, mnt_str_len, mount) }
}

/// Unmounts what lkl_mount_blkdev mounted of device `dev` (umount2 with
/// `flags`), retrying every 10 ms while it is busy, for up to `timeout_ms`;
/// then removes the mount point and the device node. Returns 0 or a
/// negative errno (-EBUSY if it stayed busy).
#[no_mangle]
pub extern "C" fn lkl_umount_blkdev(dev: c_uint, flags: c_int, timeout_ms: c_long) -> c_long {
    let flags = UnmountFlags::from_bits_retain(flags as u32 as _);
    let timeout = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
    match disk::unmount_device(dev.into(), flags, timeout) {
        Ok(()) => 0,
        Err(e) => neg_io(&e).into(),
    }
}

/// Unmounts what lkl_mount_dev mounted of partition `part` of disk
/// `disk_id`, as lkl_umount_blkdev. Returns 0 or a negative errno (-ENODEV
/// for an unknown disk).
#[no_mangle]
pub extern "C" fn lkl_umount_dev(
    disk_id: c_uint,
    part: c_uint,
    flags: c_int,
    timeout_ms: c_long,
) -> c_long {
    let Ok(id) = c_int::try_from(disk_id) else {
        return neg(Errno::NODEV).into();
    };
    match blkdev(id, part) {
        Ok(dev) => lkl_umount_blkdev(dev, flags, timeout_ms),
        Err(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dev_accepts_sysfs_dev_files() {
        assert_eq!(parse_dev(b"254:0\n"), Some(0xfe00));
        assert_eq!(parse_dev(b"254:16"), Some(0xfe10));
        // A minor above 255 goes to the high bits, as new_encode_dev puts it.
        assert_eq!(parse_dev(b"259:300\n"), Some(0x11_032c));
    }

    #[test]
    fn parse_dev_refuses_what_is_not_a_device_number() {
        for bad in [
            &b""[..],
            b"\n",
            b"254",
            b"254:",
            b":0",
            b"-1:0",
            b"254:0:1",
            b"254 :0",
            b"4096:0",
            b"0:1048576",
            b"254:0\n\n",
        ] {
            assert_eq!(parse_dev(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn lkl_disk_matches_the_c_layout() {
        // struct lkl_disk: three pointer-sized members, the union in the
        // middle; struct lkl_blk_req: type, prio, sector, buf, count.
        let word = core::mem::size_of::<usize>();
        assert_eq!(core::mem::size_of::<lkl_disk>(), 3 * word);
        assert_eq!(core::mem::offset_of!(lkl_disk, ops), 2 * word);
        assert_eq!(core::mem::offset_of!(lkl_blk_req, sector), 8);
        assert_eq!(core::mem::offset_of!(lkl_blk_req, buf), 16);
        assert_eq!(core::mem::offset_of!(lkl_blk_req, count), 16 + word);
    }
}
