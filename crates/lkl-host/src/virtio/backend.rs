// SPDX-License-Identifier: GPL-2.0
//! Where a virtio-blk device keeps its data: the [`BlockBackend`] trait, a
//! file (or host block device) and memory.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

use vm_memory::volatile_memory::PtrGuardMut;

/// A buffer in the kernel's memory that a request reads from or writes to.
/// Copy with [`copy_from`](vm_memory::VolatileSlice::copy_from) and
/// [`copy_to`](vm_memory::VolatileSlice::copy_to), or hand its pointer
/// ([`ptr_guard_mut`](vm_memory::VolatileSlice::ptr_guard_mut)) to a system
/// call; the kernel does not touch it until the request completes.
pub type GuestBuf<'a> = vm_memory::VolatileSlice<'a, ()>;

/// The storage of a virtio-blk device. Called from the device's worker
/// threads, several at once; never from the kernel's CPU. The device checks
/// every request against [`size`](Self::size) and
/// [`read_only`](Self::read_only) first, so offsets and lengths are in
/// range, and multiples of 512 for reads and writes.
pub trait BlockBackend: Send + Sync {
    /// The size in bytes; the device shows `size / 512` sectors.
    fn size(&self) -> u64;
    /// Whether the device refuses writes (`VIRTIO_BLK_F_RO`).
    fn read_only(&self) -> bool;
    /// Fills `bufs`, in order, with the bytes from `offset` on.
    fn read_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()>;
    /// Writes the bytes of `bufs`, in order, from `offset` on.
    fn write_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()>;
    /// Makes completed writes durable.
    fn flush(&self) -> io::Result<()>;
    /// Whether [`discard`](Self::discard) works (`VIRTIO_BLK_F_DISCARD`).
    fn supports_discard(&self) -> bool {
        false
    }
    /// The driver no longer needs `len` bytes from `offset`: a hint, after
    /// which they read as anything.
    fn discard(&self, _offset: u64, _len: u64) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
    /// Makes `len` bytes from `offset` read as zeroes; `unmap` allows doing
    /// so by deallocating them. By default writes zeroes.
    fn write_zeroes(&self, offset: u64, len: u64, _unmap: bool) -> io::Result<()> {
        let mut zeroes = vec![0u8; len.min(1 << 20) as usize];
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(zeroes.len() as u64) as usize;
            self.write_at(&[GuestBuf::from(&mut zeroes[..chunk])], offset + done)?;
            done += chunk as u64;
        }
        Ok(())
    }
}

/// Writes of at least this size start the host's writeback of what they
/// wrote at once (write-behind). They are the kernel's streaming writeback;
/// left to the host's dirty limits, which scale with the host's memory,
/// the data would all go to storage at the next flush, so that a large
/// write's fsync would wait for it all at the end instead of overlapping
/// it with the writing (`make bench`: 1 GiB written and fsynced through
/// ext4 in 1.40 s instead of 1.77 s, medians of 8). Small writes, metadata
/// mostly, are left to merge in the host's page cache.
const WRITE_BEHIND_BYTES: u64 = 256 << 10;

/// The most iovecs one `preadv`/`pwritev` takes (Linux's `UIO_MAXIOV`).
const IOV_MAX: usize = 1024;

/// `preadv`/`pwritev` of all of `bufs` at `offset`, short transfers
/// continued.
fn transfer(file: &File, bufs: &[GuestBuf<'_>], mut offset: u64, write: bool) -> io::Result<()> {
    // The guards keep the pointers valid while the system calls use them.
    let guards: Vec<PtrGuardMut> = bufs
        .iter()
        .filter(|buf| !buf.is_empty())
        .map(|buf| buf.ptr_guard_mut())
        .collect();
    let mut iovecs: Vec<libc::iovec> = guards
        .iter()
        .map(|guard| libc::iovec {
            iov_base: guard.as_ptr().cast(),
            iov_len: guard.len(),
        })
        .collect();
    let mut first = 0;
    while first < iovecs.len() {
        let batch = &iovecs[first..iovecs.len().min(first + IOV_MAX)];
        let position = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: every iovec lies in a slice of `bufs` (or the tail of
        // one), memory that stays mapped while the borrowed slices live and
        // that the driver lent to this request; `batch` is a valid array of
        // at most IOV_MAX iovecs.
        let done = unsafe {
            if write {
                libc::pwritev(
                    file.as_raw_fd(),
                    batch.as_ptr(),
                    batch.len() as i32,
                    position,
                )
            } else {
                libc::preadv(
                    file.as_raw_fd(),
                    batch.as_ptr(),
                    batch.len() as i32,
                    position,
                )
            }
        };
        if done < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        if done == 0 {
            return Err(if write {
                io::ErrorKind::WriteZero
            } else {
                io::ErrorKind::UnexpectedEof
            }
            .into());
        }
        let mut done = done as usize;
        offset += done as u64;
        // Skip what was transferred; `done` never exceeds what is left.
        while done > 0 {
            let iovec = &mut iovecs[first];
            if done >= iovec.iov_len {
                done -= iovec.iov_len;
                first += 1;
            } else {
                iovec.iov_base = iovec.iov_base.cast::<u8>().wrapping_add(done).cast();
                iovec.iov_len -= done;
                done = 0;
            }
        }
    }
    Ok(())
}

fn unsupported(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::ENOTTY)
    )
}

/// A file or host block device, read and written in place: `preadv` and
/// `pwritev` go straight between the file and the kernel's memory.
pub struct FileBackend {
    file: File,
    size: u64,
    read_only: bool,
    /// `FALLOC_FL_ZERO_RANGE` failed as unsupported: write zeroes instead.
    no_zero_range: AtomicBool,
}

/// Takes an open-file-description lock on the whole image: shared for a
/// read-only disk, exclusive for a writable one.
fn lock_image(file: &File, read_only: bool) -> io::Result<()> {
    // SAFETY: flock is plain data; all-zero is a valid value.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = if read_only {
        libc::F_RDLCK as libc::c_short
    } else {
        libc::F_WRLCK as libc::c_short
    };
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    // l_start = l_len = 0: the whole file, however it grows.
    // SAFETY: a descriptor we own and a valid flock.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &lock) } == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        // The kind of EBUSY (ResourceBusy), with a message that says why.
        Some(libc::EAGAIN) | Some(libc::EACCES) => Err(io::Error::new(
            io::Error::from_raw_os_error(libc::EBUSY).kind(),
            "the image is in use by another disk (locked)",
        )),
        _ => Err(error),
    }
}

impl FileBackend {
    /// Opens `path`, read-only (`O_RDONLY`) or read-write (`O_RDWR`).
    ///
    /// Only a regular file or a block device is a disk image: anything else
    /// (a FIFO, a character device, a directory) is refused with
    /// `InvalidInput`, and the open never blocks on it. The image is locked
    /// against other users with an open-file-description lock, shared when
    /// read-only and exclusive otherwise, so that two disks, in this
    /// process or another that locks the same way, never write one image
    /// at once; a conflict gives `EBUSY` (`ResourceBusy`). The lock goes
    /// with the file.
    pub fn open(path: impl AsRef<Path>, read_only: bool) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(!read_only)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        let file_type = file.metadata()?.file_type();
        if !file_type.is_file() && !file_type.is_block_device() {
            let what = if file_type.is_fifo() {
                "a FIFO"
            } else if file_type.is_char_device() {
                "a character device"
            } else if file_type.is_dir() {
                "a directory"
            } else if file_type.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            };
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{what}, not a disk image"),
            ));
        }
        // SAFETY: a descriptor we own; F_SETFL takes an int.
        unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
        lock_image(&file, read_only)?;
        Self::from_file(file, read_only)
    }

    /// Uses an open file; `read_only` must be true if it is not open for
    /// writing. Its size must be a whole number of 512-byte sectors, and
    /// not 0: the kernel would not see a tail, and an empty disk is a
    /// mistake.
    pub fn from_file(file: File, read_only: bool) -> io::Result<Self> {
        // Seeking to the end works for block devices too, whose metadata
        // say 0 bytes; reads and writes are positioned, so the file offset
        // does not matter.
        let size = (&file).seek(SeekFrom::End(0))?;
        if size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the image is empty (0 bytes)",
            ));
        }
        if size % 512 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the image's size, {size} bytes, is not a whole number of 512-byte sectors (truncated?)"
                ),
            ));
        }
        Ok(Self {
            file,
            size,
            read_only,
            no_zero_range: AtomicBool::new(false),
        })
    }

    fn fallocate(&self, mode: libc::c_int, offset: u64, len: u64) -> io::Result<()> {
        let invalid = || io::Error::from_raw_os_error(libc::EINVAL);
        let offset = libc::off_t::try_from(offset).map_err(|_| invalid())?;
        let len = libc::off_t::try_from(len).map_err(|_| invalid())?;
        loop {
            // SAFETY: plain system call on a file we own; no memory passed.
            if unsafe { libc::fallocate(self.file.as_raw_fd(), mode, offset, len) } == 0 {
                return Ok(());
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }

    /// Starts the host writing `len` bytes from `offset` to its storage,
    /// without waiting: a hint, whose failure changes nothing.
    fn start_writeback(&self, offset: u64, len: u64) {
        let (Ok(offset), Ok(len)) = (
            libc::off64_t::try_from(offset),
            libc::off64_t::try_from(len),
        ) else {
            return;
        };
        // SAFETY: plain system call on a file we own; no memory passed.
        unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                offset,
                len,
                libc::SYNC_FILE_RANGE_WRITE,
            )
        };
    }

    fn check_writable(&self) -> io::Result<()> {
        if self.read_only {
            Err(io::Error::from_raw_os_error(libc::EROFS))
        } else {
            Ok(())
        }
    }
}

impl BlockBackend for FileBackend {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        transfer(&self.file, bufs, offset, false)
    }

    fn write_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        self.check_writable()?;
        transfer(&self.file, bufs, offset, true)?;
        let len = total_len(bufs);
        if len >= WRITE_BEHIND_BYTES {
            self.start_writeback(offset, len);
        }
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        if self.read_only {
            return Ok(());
        }
        self.file.sync_data()
    }

    fn supports_discard(&self) -> bool {
        !self.read_only
    }

    fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        self.check_writable()?;
        match self.fallocate(
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset,
            len,
        ) {
            // A hint: where holes cannot be punched, the data just stays.
            Err(error) if unsupported(&error) => Ok(()),
            result => result,
        }
    }

    fn write_zeroes(&self, offset: u64, len: u64, unmap: bool) -> io::Result<()> {
        self.check_writable()?;
        // A hole reads as zeroes, and block devices zero what they punch.
        if unmap
            && self
                .fallocate(
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    offset,
                    len,
                )
                .is_ok()
        {
            return Ok(());
        }
        if !self.no_zero_range.load(Ordering::Relaxed) {
            match self.fallocate(
                libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE,
                offset,
                len,
            ) {
                Ok(()) => return Ok(()),
                Err(error) if unsupported(&error) => {
                    self.no_zero_range.store(true, Ordering::Relaxed)
                }
                Err(error) => return Err(error),
            }
        }
        let zeroes = vec![0u8; len.min(1 << 20) as usize];
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(zeroes.len() as u64) as usize;
            self.file.write_all_at(&zeroes[..chunk], offset + done)?;
            done += chunk as u64;
        }
        Ok(())
    }
}

/// A disk in memory: for tests, scratch space and images built on the fly.
/// Discarded and zeroed ranges read as zeroes.
pub struct MemoryBackend {
    data: RwLock<Vec<u8>>,
    read_only: bool,
}

impl MemoryBackend {
    /// A zeroed disk of `size` bytes.
    pub fn new(size: usize) -> Self {
        Self::with_data(vec![0; size], false)
    }

    /// A disk holding `data`.
    pub fn with_data(data: Vec<u8>, read_only: bool) -> Self {
        Self {
            data: RwLock::new(data),
            read_only,
        }
    }

    /// A copy of the disk's bytes.
    pub fn contents(&self) -> Vec<u8> {
        self.data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The byte range of `len` bytes at `offset`, if inside `data`.
    fn range(data: &[u8], offset: u64, len: u64) -> io::Result<std::ops::Range<usize>> {
        let start = usize::try_from(offset).ok();
        let end = offset
            .checked_add(len)
            .and_then(|end| usize::try_from(end).ok());
        match (start, end) {
            (Some(start), Some(end)) if end <= data.len() => Ok(start..end),
            _ => Err(io::ErrorKind::UnexpectedEof.into()),
        }
    }

    fn zero(&self, offset: u64, len: u64) -> io::Result<()> {
        if self.read_only {
            return Err(io::Error::from_raw_os_error(libc::EROFS));
        }
        let mut data = self.data.write().unwrap_or_else(PoisonError::into_inner);
        let range = Self::range(&data, offset, len)?;
        data[range].fill(0);
        Ok(())
    }
}

fn total_len(bufs: &[GuestBuf<'_>]) -> u64 {
    bufs.iter().map(|buf| buf.len() as u64).sum()
}

impl BlockBackend for MemoryBackend {
    fn size(&self) -> u64 {
        self.data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len() as u64
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
        let mut position = Self::range(&data, offset, total_len(bufs))?.start;
        for buf in bufs {
            buf.copy_from(&data[position..position + buf.len()]);
            position += buf.len();
        }
        Ok(())
    }

    fn write_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        if self.read_only {
            return Err(io::Error::from_raw_os_error(libc::EROFS));
        }
        let mut data = self.data.write().unwrap_or_else(PoisonError::into_inner);
        let mut position = Self::range(&data, offset, total_len(bufs))?.start;
        for buf in bufs {
            buf.copy_to(&mut data[position..position + buf.len()]);
            position += buf.len();
        }
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }

    fn supports_discard(&self) -> bool {
        !self.read_only
    }

    fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        self.zero(offset, len)
    }

    fn write_zeroes(&self, offset: u64, len: u64, _unmap: bool) -> io::Result<()> {
        self.zero(offset, len)
    }
}
