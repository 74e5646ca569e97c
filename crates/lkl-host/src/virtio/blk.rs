// SPDX-License-Identifier: GPL-2.0
//! virtio-blk (device ID 2), as in virtio 1.2, section 5.2.

use std::io;
use std::mem::{offset_of, size_of};
use std::sync::Arc;

use virtio_bindings::virtio_blk::*;
use virtio_queue::desc::split::Descriptor;
use vm_memory::{Bytes, GuestMemoryBackend};

use super::backend::{BlockBackend, GuestBuf};
use super::{DescriptorChain, GuestMemory, VirtioDevice};

/// The virtio device ID of a block device.
const DEVICE_ID: u32 = 2;
const SECTOR_SIZE: u64 = 512;
/// Segments the driver may put in one request (`seg_max`).
const SEG_MAX: u32 = 128;
/// 1 GiB per discard or write-zeroes segment.
const MAX_RANGE_SECTORS: u32 = 1 << 21;
/// Segments in one discard or write-zeroes request.
const MAX_RANGE_SEGMENTS: u32 = 32;
/// Discards in 4 KiB units: the block size of most file systems, whose
/// holes are punched whole.
const DISCARD_ALIGNMENT_SECTORS: u32 = 8;
/// `struct virtio_blk_outhdr`: type, reserved, sector.
const HEADER_SIZE: usize = 16;
/// `struct virtio_blk_discard_write_zeroes`: sector, num_sectors, flags.
const RANGE_SIZE: usize = 16;
const ID_BYTES: usize = VIRTIO_BLK_ID_BYTES as usize;

/// How a block device looks to the driver, beyond its backend.
#[derive(Clone, Debug)]
pub struct BlockConfig {
    /// The serial number `GET_ID` returns (at most 20 bytes are used).
    pub serial: String,
    /// Worker threads, and so requests in flight at once.
    pub workers: usize,
    /// The queue's maximum size, a power of two up to 32768.
    pub queue_size: u16,
}

impl Default for BlockConfig {
    fn default() -> Self {
        Self {
            serial: String::new(),
            workers: 4,
            queue_size: 256,
        }
    }
}

/// A virtio-blk device: one request queue served by a pool of workers.
/// Register it with [`add`](super::add).
pub struct BlockDevice {
    backend: Arc<dyn BlockBackend>,
    /// In 512-byte sectors.
    capacity: u64,
    read_only: bool,
    discard: bool,
    write_zeroes: bool,
    features: u64,
    config: Vec<u8>,
    serial: [u8; ID_BYTES],
    workers: usize,
    queue_sizes: [u16; 1],
}

fn put(config: &mut [u8], offset: usize, bytes: &[u8]) {
    config[offset..offset + bytes.len()].copy_from_slice(bytes);
}

impl BlockDevice {
    /// A device over `backend`, read-only if the backend is.
    pub fn new(backend: Arc<dyn BlockBackend>, config: BlockConfig) -> Self {
        let capacity = backend.size() / SECTOR_SIZE;
        let read_only = backend.read_only();
        let discard = !read_only && backend.supports_discard();
        let write_zeroes = !read_only;
        let mut features =
            1 << VIRTIO_BLK_F_SEG_MAX | 1 << VIRTIO_BLK_F_BLK_SIZE | 1 << VIRTIO_BLK_F_FLUSH;
        if read_only {
            features |= 1 << VIRTIO_BLK_F_RO;
        }
        if discard {
            features |= 1 << VIRTIO_BLK_F_DISCARD;
        }
        if write_zeroes {
            features |= 1 << VIRTIO_BLK_F_WRITE_ZEROES;
        }

        let mut space = vec![0u8; size_of::<virtio_blk_config>()];
        let c = &mut space;
        put(
            c,
            offset_of!(virtio_blk_config, capacity),
            &capacity.to_le_bytes(),
        );
        put(
            c,
            offset_of!(virtio_blk_config, seg_max),
            &SEG_MAX.to_le_bytes(),
        );
        let blk_size = SECTOR_SIZE as u32;
        put(
            c,
            offset_of!(virtio_blk_config, blk_size),
            &blk_size.to_le_bytes(),
        );
        put(
            c,
            offset_of!(virtio_blk_config, num_queues),
            &1u16.to_le_bytes(),
        );
        if discard {
            let sectors = MAX_RANGE_SECTORS.to_le_bytes();
            let segments = MAX_RANGE_SEGMENTS.to_le_bytes();
            let alignment = DISCARD_ALIGNMENT_SECTORS.to_le_bytes();
            put(
                c,
                offset_of!(virtio_blk_config, max_discard_sectors),
                &sectors,
            );
            put(c, offset_of!(virtio_blk_config, max_discard_seg), &segments);
            put(
                c,
                offset_of!(virtio_blk_config, discard_sector_alignment),
                &alignment,
            );
        }
        if write_zeroes {
            let sectors = MAX_RANGE_SECTORS.to_le_bytes();
            let segments = MAX_RANGE_SEGMENTS.to_le_bytes();
            put(
                c,
                offset_of!(virtio_blk_config, max_write_zeroes_sectors),
                &sectors,
            );
            put(
                c,
                offset_of!(virtio_blk_config, max_write_zeroes_seg),
                &segments,
            );
            // Unmapping is how a backend that can discard zeroes cheaply.
            c[offset_of!(virtio_blk_config, write_zeroes_may_unmap)] = u8::from(discard);
        }

        let mut serial = [0u8; ID_BYTES];
        let bytes = config.serial.as_bytes();
        let len = bytes.len().min(ID_BYTES);
        serial[..len].copy_from_slice(&bytes[..len]);

        Self {
            backend,
            capacity,
            read_only,
            discard,
            write_zeroes,
            features,
            config: space,
            serial,
            workers: config.workers,
            queue_sizes: [config.queue_size],
        }
    }

    /// Whether `len` bytes from `sector` are whole sectors on the disk.
    fn in_range(&self, sector: u64, len: u64) -> bool {
        len % SECTOR_SIZE == 0
            && sector
                .checked_add(len / SECTOR_SIZE)
                .is_some_and(|end| end <= self.capacity)
    }

    /// Runs a request; returns the status and the bytes written into
    /// `input` (the device-writable data buffers).
    fn execute(
        &self,
        header: &[u8; HEADER_SIZE],
        output: &[GuestBuf<'_>],
        input: &[GuestBuf<'_>],
    ) -> (u32, u32) {
        let kind = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let mut sector = [0u8; 8];
        sector.copy_from_slice(&header[8..16]);
        let sector = u64::from_le_bytes(sector);
        match kind {
            VIRTIO_BLK_T_IN => {
                let len = total_len(input);
                if !self.in_range(sector, len) {
                    return (VIRTIO_BLK_S_IOERR, 0);
                }
                match self.backend.read_at(input, sector * SECTOR_SIZE) {
                    Ok(()) => (VIRTIO_BLK_S_OK, u32::try_from(len).unwrap_or(u32::MAX)),
                    Err(error) => (status_of(&error), 0),
                }
            }
            VIRTIO_BLK_T_OUT => {
                let len = total_len(output);
                if self.read_only || !self.in_range(sector, len) {
                    return (VIRTIO_BLK_S_IOERR, 0);
                }
                (
                    result(self.backend.write_at(output, sector * SECTOR_SIZE)),
                    0,
                )
            }
            VIRTIO_BLK_T_FLUSH => (result(self.backend.flush()), 0),
            VIRTIO_BLK_T_GET_ID => (VIRTIO_BLK_S_OK, scatter(input, &self.serial)),
            VIRTIO_BLK_T_DISCARD if self.discard => (self.ranges(output, false), 0),
            VIRTIO_BLK_T_WRITE_ZEROES if self.write_zeroes => (self.ranges(output, true), 0),
            // The driver never sends these to a read-only device; a write
            // that comes anyway fails.
            VIRTIO_BLK_T_DISCARD | VIRTIO_BLK_T_WRITE_ZEROES if self.read_only => {
                (VIRTIO_BLK_S_IOERR, 0)
            }
            _ => (VIRTIO_BLK_S_UNSUPP, 0),
        }
    }

    /// Discard (`zeroes` false) or write zeroes over the request's segments.
    fn ranges(&self, output: &[GuestBuf<'_>], zeroes: bool) -> u32 {
        let len = total_len(output) as usize;
        let count = len / RANGE_SIZE;
        if count == 0 || len % RANGE_SIZE != 0 || count > MAX_RANGE_SEGMENTS as usize {
            return VIRTIO_BLK_S_IOERR;
        }
        let mut bytes = vec![0u8; len];
        gather(output, &mut bytes);
        let allowed = if zeroes {
            VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
        } else {
            0
        };
        let mut ranges = Vec::with_capacity(count);
        for range in bytes.chunks_exact(RANGE_SIZE) {
            let mut sector = [0u8; 8];
            sector.copy_from_slice(&range[0..8]);
            let sector = u64::from_le_bytes(sector);
            let sectors = u32::from_le_bytes([range[8], range[9], range[10], range[11]]);
            let flags = u32::from_le_bytes([range[12], range[13], range[14], range[15]]);
            if flags & !allowed != 0 {
                return VIRTIO_BLK_S_UNSUPP;
            }
            let len = u64::from(sectors) * SECTOR_SIZE;
            if sectors > MAX_RANGE_SECTORS || !self.in_range(sector, len) {
                return VIRTIO_BLK_S_IOERR;
            }
            ranges.push((sector * SECTOR_SIZE, len, flags != 0));
        }
        for (offset, len, unmap) in ranges {
            let done = if zeroes {
                self.backend.write_zeroes(offset, len, unmap)
            } else {
                self.backend.discard(offset, len)
            };
            if let Err(error) = done {
                return status_of(&error);
            }
        }
        VIRTIO_BLK_S_OK
    }
}

fn status_of(error: &io::Error) -> u32 {
    if error.kind() == io::ErrorKind::Unsupported {
        VIRTIO_BLK_S_UNSUPP
    } else {
        VIRTIO_BLK_S_IOERR
    }
}

fn result(done: io::Result<()>) -> u32 {
    match done {
        Ok(()) => VIRTIO_BLK_S_OK,
        Err(error) => status_of(&error),
    }
}

fn total_len(bufs: &[GuestBuf<'_>]) -> u64 {
    bufs.iter().map(|buf| buf.len() as u64).sum()
}

/// Copies the start of `bufs` into `out`; returns the bytes copied.
fn gather(bufs: &[GuestBuf<'_>], out: &mut [u8]) -> usize {
    let mut done = 0;
    for buf in bufs {
        if done == out.len() {
            break;
        }
        done += buf.copy_to(&mut out[done..]);
    }
    done
}

/// Copies `data` into the start of `bufs`; returns the bytes copied.
fn scatter(bufs: &[GuestBuf<'_>], data: &[u8]) -> u32 {
    let mut done = 0;
    for buf in bufs {
        if done == data.len() {
            break;
        }
        let chunk = buf.len().min(data.len() - done);
        buf.copy_from(&data[done..done + chunk]);
        done += chunk;
    }
    done as u32
}

/// Takes the first `out.len()` bytes off the front of `bufs`, into `out`.
fn take_front(bufs: &mut Vec<GuestBuf<'_>>, out: &mut [u8]) -> bool {
    if (total_len(bufs) as usize) < out.len() {
        return false;
    }
    let mut done = 0;
    while done < out.len() {
        let buf = bufs[0];
        let chunk = buf.len().min(out.len() - done);
        buf.copy_to(&mut out[done..done + chunk]);
        done += chunk;
        match buf.offset(chunk) {
            Ok(rest) if !rest.is_empty() => bufs[0] = rest,
            _ => {
                bufs.remove(0);
            }
        }
    }
    true
}

/// Takes the last byte off the end of `bufs`, as a one-byte slice.
fn take_last_byte<'a>(bufs: &mut Vec<GuestBuf<'a>>) -> Option<GuestBuf<'a>> {
    let last = bufs.pop()?;
    let (rest, byte) = last.split_at(last.len() - 1).ok()?;
    if !rest.is_empty() {
        bufs.push(rest);
    }
    Some(byte)
}

/// The request's buffers: device-readable ones, then device-writable ones.
/// `None` if a buffer is outside the kernel's memory.
fn buffers<'a>(
    memory: &'a GuestMemory,
    descriptors: &[Descriptor],
) -> Option<(Vec<GuestBuf<'a>>, Vec<GuestBuf<'a>>, bool)> {
    let mut readable = Vec::new();
    let mut writable = Vec::new();
    let mut ordered = true;
    for descriptor in descriptors.iter().filter(|d| d.len() != 0) {
        let buf = memory
            .get_slice(descriptor.addr(), descriptor.len() as usize)
            .ok()?;
        if descriptor.is_write_only() {
            writable.push(buf);
        } else {
            // Readable buffers must all come first.
            ordered &= writable.is_empty();
            readable.push(buf);
        }
    }
    Some((readable, writable, ordered))
}

impl VirtioDevice for BlockDevice {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn features(&self) -> u64 {
        self.features
    }

    fn queue_max_sizes(&self) -> &[u16] {
        &self.queue_sizes
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte = usize::try_from(offset)
                .ok()
                .and_then(|offset| self.config.get(offset.checked_add(i)?))
                .copied()
                .unwrap_or(0);
        }
    }

    fn worker_count(&self) -> usize {
        self.workers
    }

    fn worker_name(&self) -> &str {
        "lkl-blk"
    }

    fn process(&self, _queue: u16, chain: DescriptorChain) -> u32 {
        // The clone keeps the memory reference while the chain is consumed.
        let holder = chain.clone();
        let memory = holder.memory();
        let descriptors: Vec<Descriptor> = chain.collect();
        // A buffer outside memory: nothing can be trusted, not even where
        // the status byte goes.
        let Some((mut readable, mut writable, ordered)) = buffers(memory, &descriptors) else {
            return 0;
        };
        let Some(status) = take_last_byte(&mut writable) else {
            return 0;
        };
        let mut header = [0u8; HEADER_SIZE];
        let (code, written) = if ordered && take_front(&mut readable, &mut header) {
            self.execute(&header, &readable, &writable)
        } else {
            (VIRTIO_BLK_S_IOERR, 0)
        };
        // The status byte is written last; the used ring's index, published
        // after it with release ordering, makes it visible.
        let _ = status.write_obj(code as u8, 0);
        written.saturating_add(1)
    }
}
