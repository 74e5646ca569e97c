// SPDX-License-Identifier: GPL-2.0
//! A virtio-mmio driver in miniature, as the kernel's would drive the
//! host side: fake kernel memory, the init sequence through
//! `lkl_host_virtio_read`/`_write`, a split virtqueue laid out in that
//! memory, and virtio-blk requests.
#![allow(dead_code)]

use std::ptr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use lkl_host::virtio::{Interrupt, SLOTS};
use lkl_host::{lkl_host_virtio_memory, lkl_host_virtio_read, lkl_host_virtio_write};

pub const MAGIC_VALUE: u32 = 0x000;
pub const VERSION: u32 = 0x004;
pub const DEVICE_ID: u32 = 0x008;
pub const VENDOR_ID: u32 = 0x00c;
pub const DEVICE_FEATURES: u32 = 0x010;
pub const DEVICE_FEATURES_SEL: u32 = 0x014;
pub const DRIVER_FEATURES: u32 = 0x020;
pub const DRIVER_FEATURES_SEL: u32 = 0x024;
pub const QUEUE_SEL: u32 = 0x030;
pub const QUEUE_NUM_MAX: u32 = 0x034;
pub const QUEUE_NUM: u32 = 0x038;
pub const QUEUE_READY: u32 = 0x044;
pub const QUEUE_NOTIFY: u32 = 0x050;
pub const INTERRUPT_STATUS: u32 = 0x060;
pub const INTERRUPT_ACK: u32 = 0x064;
pub const STATUS: u32 = 0x070;
pub const QUEUE_DESC_LOW: u32 = 0x080;
pub const QUEUE_DESC_HIGH: u32 = 0x084;
pub const QUEUE_AVAIL_LOW: u32 = 0x090;
pub const QUEUE_AVAIL_HIGH: u32 = 0x094;
pub const QUEUE_USED_LOW: u32 = 0x0a0;
pub const QUEUE_USED_HIGH: u32 = 0x0a4;
pub const CONFIG_GENERATION: u32 = 0x0fc;
pub const CONFIG: u32 = 0x100;

pub const S_ACKNOWLEDGE: u32 = 1;
pub const S_DRIVER: u32 = 2;
pub const S_DRIVER_OK: u32 = 4;
pub const S_FEATURES_OK: u32 = 8;

pub const F_VERSION_1: u64 = 1 << 32;
pub const F_EVENT_IDX: u64 = 1 << 29;
pub const F_INDIRECT_DESC: u64 = 1 << 28;
pub const BLK_F_SEG_MAX: u64 = 1 << 2;
pub const BLK_F_RO: u64 = 1 << 5;
pub const BLK_F_BLK_SIZE: u64 = 1 << 6;
pub const BLK_F_FLUSH: u64 = 1 << 9;
pub const BLK_F_DISCARD: u64 = 1 << 13;
pub const BLK_F_WRITE_ZEROES: u64 = 1 << 14;

pub const T_IN: u32 = 0;
pub const T_OUT: u32 = 1;
pub const T_FLUSH: u32 = 4;
pub const T_GET_ID: u32 = 8;
pub const T_DISCARD: u32 = 11;
pub const T_WRITE_ZEROES: u32 = 13;

pub const S_OK: u8 = 0;
pub const S_IOERR: u8 = 1;
pub const S_UNSUPP: u8 = 2;

const DESC_F_NEXT: u16 = 1;
const DESC_F_WRITE: u16 = 2;

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The fake kernel memory: page-aligned, given to the devices once; tests
/// carve buffers out of it and never free them.
pub struct Memory {
    base: *mut u8,
    size: usize,
    next: AtomicUsize,
}

// SAFETY: the mapping lives for the whole process; tests only touch the
// parts they allocated for themselves.
unsafe impl Sync for Memory {}
// SAFETY: as above.
unsafe impl Send for Memory {}

const MEMORY_SIZE: usize = 64 << 20;

static MEMORY: OnceLock<Memory> = OnceLock::new();

/// The fake kernel memory, given to `lkl_host_virtio_memory` on first use.
pub fn memory() -> &'static Memory {
    MEMORY.get_or_init(|| {
        // SAFETY: a fresh anonymous mapping, never unmapped.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                MEMORY_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        // SAFETY: mapped, readable and writable for the rest of the process.
        unsafe { lkl_host_virtio_memory(base, MEMORY_SIZE as _) };
        Memory {
            base: base.cast(),
            size: MEMORY_SIZE,
            // Physical address 0 stays unused: a ring there counts as unset.
            next: AtomicUsize::new(0x1000),
        }
    })
}

impl Memory {
    /// `len` bytes aligned to `align`; returns the physical address.
    pub fn alloc(&self, len: usize, align: usize) -> u64 {
        let mut start = 0;
        self.next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |next| {
                start = next.next_multiple_of(align);
                Some(start + len)
            })
            .unwrap();
        assert!(start + len <= self.size, "fake kernel memory exhausted");
        start as u64
    }

    fn ptr(&self, addr: u64, len: usize) -> *mut u8 {
        assert!(addr as usize + len <= self.size);
        // SAFETY: in the mapping, as just checked.
        unsafe { self.base.add(addr as usize) }
    }

    pub fn write(&self, addr: u64, bytes: &[u8]) {
        // SAFETY: in the mapping; devices only touch buffers lent to them.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr(addr, bytes.len()), bytes.len())
        }
    }

    pub fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        // SAFETY: as in `write`.
        unsafe { ptr::copy_nonoverlapping(self.ptr(addr, len), bytes.as_mut_ptr(), len) };
        bytes
    }

    fn u16_at(&self, addr: u64) -> &AtomicU16 {
        assert_eq!(addr % 2, 0);
        // SAFETY: aligned, in the mapping that lives forever; device and
        // driver both access ring indices atomically.
        unsafe { AtomicU16::from_ptr(self.ptr(addr, 2).cast()) }
    }
}

/// Counts a device's interrupts.
#[derive(Default)]
pub struct Irqs {
    count: Mutex<u64>,
    raised: Condvar,
    last_irq: AtomicUsize,
}

impl Interrupt for Irqs {
    fn trigger(&self, irq: u32) {
        self.last_irq.store(irq as usize, Ordering::SeqCst);
        *self.count.lock().unwrap() += 1;
        self.raised.notify_all();
    }
}

impl Irqs {
    pub fn count(&self) -> u64 {
        *self.count.lock().unwrap()
    }

    pub fn last_irq(&self) -> u32 {
        self.last_irq.load(Ordering::SeqCst) as u32
    }

    /// Waits up to `timeout` for the count to exceed `seen`.
    fn wait_past(&self, seen: u64, timeout: Duration) {
        let count = self.count.lock().unwrap();
        let _ = self
            .raised
            .wait_timeout_while(count, timeout, |count| *count <= seen)
            .unwrap();
    }
}

pub fn read32(slot: u32, offset: u32) -> u32 {
    lkl_host_virtio_read(slot, offset, 4) as u32
}

pub fn write32(slot: u32, offset: u32, value: u32) {
    lkl_host_virtio_write(slot, offset, 4, value.into());
}

/// A request's completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    pub id: u16,
    pub len: u32,
}

/// One device and its queue 0, as a driver sees them.
pub struct Driver {
    pub slot: u32,
    pub irqs: Arc<Irqs>,
    pub mem: &'static Memory,
    size: u16,
    desc: u64,
    avail: u64,
    used: u64,
    next_desc: u16,
    avail_idx: u16,
    last_used: u16,
}

impl Driver {
    pub fn new(slot: u32, irqs: Arc<Irqs>) -> Self {
        assert!(slot < SLOTS);
        Self {
            slot,
            irqs,
            mem: memory(),
            size: 0,
            desc: 0,
            avail: 0,
            used: 0,
            next_desc: 0,
            avail_idx: 0,
            last_used: 0,
        }
    }

    pub fn read(&self, offset: u32) -> u32 {
        read32(self.slot, offset)
    }

    pub fn write(&self, offset: u32, value: u32) {
        write32(self.slot, offset, value)
    }

    pub fn status(&self) -> u32 {
        self.read(STATUS)
    }

    pub fn device_features(&self) -> u64 {
        self.write(DEVICE_FEATURES_SEL, 0);
        let low = self.read(DEVICE_FEATURES);
        self.write(DEVICE_FEATURES_SEL, 1);
        let high = self.read(DEVICE_FEATURES);
        u64::from(high) << 32 | u64::from(low)
    }

    /// Reset, ACKNOWLEDGE, DRIVER, the driver's features, FEATURES_OK;
    /// returns the status read back.
    pub fn negotiate(&self, features: u64) -> u32 {
        self.write(STATUS, 0);
        assert_eq!(self.status(), 0);
        self.write(STATUS, S_ACKNOWLEDGE);
        self.write(STATUS, S_ACKNOWLEDGE | S_DRIVER);
        self.write(DRIVER_FEATURES_SEL, 0);
        self.write(DRIVER_FEATURES, features as u32);
        self.write(DRIVER_FEATURES_SEL, 1);
        self.write(DRIVER_FEATURES, (features >> 32) as u32);
        self.write(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
        self.status()
    }

    /// Lays out queue 0 with `size` entries in the fake memory and makes it
    /// ready.
    pub fn setup_queue(&mut self, size: u16) {
        self.write(QUEUE_SEL, 0);
        assert_eq!(self.read(QUEUE_READY), 0);
        assert!(u32::from(size) <= self.read(QUEUE_NUM_MAX));
        let n = usize::from(size);
        self.size = size;
        self.desc = self.mem.alloc(16 * n, 16);
        self.avail = self.mem.alloc(6 + 2 * n, 2);
        self.used = self.mem.alloc(6 + 8 * n, 4);
        self.next_desc = 0;
        self.avail_idx = 0;
        self.last_used = 0;
        self.write(QUEUE_NUM, size.into());
        for (low, high, addr) in [
            (QUEUE_DESC_LOW, QUEUE_DESC_HIGH, self.desc),
            (QUEUE_AVAIL_LOW, QUEUE_AVAIL_HIGH, self.avail),
            (QUEUE_USED_LOW, QUEUE_USED_HIGH, self.used),
        ] {
            self.write(low, addr as u32);
            self.write(high, (addr >> 32) as u32);
        }
        self.write(QUEUE_READY, 1);
        assert_eq!(self.read(QUEUE_READY), 1, "queue refused");
    }

    /// The whole init sequence, accepting every offered feature.
    pub fn init(&mut self, queue_size: u16) {
        let features = self.device_features();
        assert_ne!(features & F_VERSION_1, 0);
        let status = self.negotiate(features);
        assert_ne!(status & S_FEATURES_OK, 0, "features refused");
        self.setup_queue(queue_size);
        self.write(STATUS, status | S_DRIVER_OK);
    }

    /// Makes a chain of `(address, length, device-writable)` buffers
    /// available; returns its head. Needs a `notify` to be seen.
    pub fn submit(&mut self, buffers: &[(u64, u32, bool)]) -> u16 {
        assert!(!buffers.is_empty() && buffers.len() <= usize::from(self.size));
        let head = self.next_desc;
        for (i, &(addr, len, writable)) in buffers.iter().enumerate() {
            let index = self.next_desc;
            self.next_desc = (self.next_desc + 1) % self.size;
            let mut flags = if writable { DESC_F_WRITE } else { 0 };
            if i + 1 < buffers.len() {
                flags |= DESC_F_NEXT;
            }
            let mut raw = [0u8; 16];
            raw[0..8].copy_from_slice(&addr.to_le_bytes());
            raw[8..12].copy_from_slice(&len.to_le_bytes());
            raw[12..14].copy_from_slice(&flags.to_le_bytes());
            raw[14..16].copy_from_slice(&self.next_desc.to_le_bytes());
            self.mem.write(self.desc + 16 * u64::from(index), &raw);
        }
        let entry = self.avail + 4 + 2 * u64::from(self.avail_idx % self.size);
        self.mem.write(entry, &head.to_le_bytes());
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.mem
            .u16_at(self.avail + 2)
            .store(self.avail_idx, Ordering::Release);
        head
    }

    pub fn notify(&self) {
        self.write(QUEUE_NOTIFY, 0);
    }

    /// The device's used index.
    pub fn used_idx(&self) -> u16 {
        self.mem.u16_at(self.used + 2).load(Ordering::Acquire)
    }

    /// The `avail_event` the device published (EVENT_IDX).
    pub fn avail_event(&self) -> u16 {
        let at = self.used + 4 + 8 * u64::from(self.size);
        self.mem.u16_at(at).load(Ordering::Acquire)
    }

    /// Sets `used_event`: the device interrupts once it passes this index.
    pub fn set_used_event(&self, index: u16) {
        let at = self.avail + 4 + 2 * u64::from(self.size);
        self.mem.u16_at(at).store(index, Ordering::Release);
    }

    /// Waits until `count` more chains are used, sleeping on the interrupt
    /// between looks; returns them and asks for an interrupt on the next.
    pub fn wait_used(&mut self, count: u16) -> Vec<Used> {
        let deadline = Instant::now() + TIMEOUT;
        let target = self.last_used.wrapping_add(count);
        loop {
            let seen = self.irqs.count();
            if self.used_idx().wrapping_sub(self.last_used) >= count {
                break;
            }
            let now = Instant::now();
            assert!(now < deadline, "requests not completed in time");
            self.irqs
                .wait_past(seen, (deadline - now).min(Duration::from_millis(20)));
        }
        let mut used = Vec::new();
        while self.last_used != target {
            let at = self.used + 4 + 8 * u64::from(self.last_used % self.size);
            let raw = self.mem.read(at, 8);
            used.push(Used {
                id: u16::try_from(u32::from_le_bytes(raw[0..4].try_into().unwrap())).unwrap(),
                len: u32::from_le_bytes(raw[4..8].try_into().unwrap()),
            });
            self.last_used = self.last_used.wrapping_add(1);
        }
        self.set_used_event(self.last_used);
        used
    }

    /// Reads and acknowledges `InterruptStatus`.
    pub fn ack(&self) -> u32 {
        let status = self.read(INTERRUPT_STATUS);
        self.write(INTERRUPT_ACK, status);
        status
    }
}

/// A virtio-blk request in the fake memory.
pub struct BlkRequest {
    pub head: u16,
    pub status: u64,
}

impl Driver {
    /// A block request header in its own buffer.
    pub fn blk_header(&self, kind: u32, sector: u64) -> u64 {
        let header = self.mem.alloc(16, 16);
        let mut raw = [0u8; 16];
        raw[0..4].copy_from_slice(&kind.to_le_bytes());
        raw[8..16].copy_from_slice(&sector.to_le_bytes());
        self.mem.write(header, &raw);
        header
    }

    /// A status byte, preset to 0xff so that the device's write shows.
    pub fn blk_status(&self) -> u64 {
        let status = self.mem.alloc(1, 1);
        self.mem.write(status, &[0xff]);
        status
    }

    /// Submits header, `data` buffers and status as one chain.
    pub fn blk_submit(&mut self, kind: u32, sector: u64, data: &[(u64, u32, bool)]) -> BlkRequest {
        let header = self.blk_header(kind, sector);
        let status = self.blk_status();
        let mut chain = vec![(header, 16, false)];
        chain.extend_from_slice(data);
        chain.push((status, 1, true));
        let head = self.submit(&chain);
        BlkRequest { head, status }
    }

    pub fn status_of(&self, request: &BlkRequest) -> u8 {
        self.mem.read(request.status, 1)[0]
    }

    /// Runs one request to completion; returns its status and used length.
    pub fn blk_run(&mut self, kind: u32, sector: u64, data: &[(u64, u32, bool)]) -> (u8, u32) {
        let request = self.blk_submit(kind, sector, data);
        self.notify();
        let used = self.wait_used(1);
        assert_eq!(used[0].id, request.head);
        (self.status_of(&request), used[0].len)
    }

    /// Writes `bytes` at `sector` through the device; returns the status.
    pub fn blk_write(&mut self, sector: u64, bytes: &[u8]) -> u8 {
        let buf = self.mem.alloc(bytes.len(), 512);
        self.mem.write(buf, bytes);
        self.blk_run(T_OUT, sector, &[(buf, bytes.len() as u32, false)])
            .0
    }

    /// Reads `len` bytes at `sector` through the device.
    pub fn blk_read(&mut self, sector: u64, len: usize) -> (u8, Vec<u8>) {
        let buf = self.mem.alloc(len, 512);
        self.mem.write(buf, &vec![0xee; len]);
        let (status, used_len) = self.blk_run(T_IN, sector, &[(buf, len as u32, true)]);
        if status == S_OK {
            assert_eq!(used_len as usize, len + 1);
        }
        (status, self.mem.read(buf, len))
    }

    /// Discard or write-zeroes segments `(sector, sectors, flags)`.
    pub fn blk_ranges(&mut self, kind: u32, ranges: &[(u64, u32, u32)]) -> u8 {
        let buf = self.mem.alloc(16 * ranges.len(), 16);
        let mut raw = Vec::new();
        for &(sector, sectors, flags) in ranges {
            raw.extend_from_slice(&sector.to_le_bytes());
            raw.extend_from_slice(&sectors.to_le_bytes());
            raw.extend_from_slice(&flags.to_le_bytes());
        }
        self.mem.write(buf, &raw);
        self.blk_run(kind, 0, &[(buf, raw.len() as u32, false)]).0
    }
}

/// A pattern that differs from sector to sector and from run to run.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

/// A temporary file of `len` bytes holding `pattern(len, seed)`, removed
/// when dropped.
pub struct TempFile {
    pub path: std::path::PathBuf,
}

impl TempFile {
    pub fn new(name: &str, contents: &[u8]) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "lkl-virtio-{}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst),
            name
        ));
        std::fs::write(&path, contents).unwrap();
        Self { path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Compares byte strings without printing them whole.
#[track_caller]
pub fn assert_bytes(actual: &[u8], expected: &[u8], what: &str) {
    if actual != expected {
        let first = actual.iter().zip(expected).position(|(a, b)| a != b);
        let near = first.map(|at| {
            let end = (at + 8).min(actual.len()).min(expected.len());
            (&actual[at..end], &expected[at..end])
        });
        panic!(
            "{what}: {} bytes, expected {}; first difference at {first:?}: {near:?}",
            actual.len(),
            expected.len()
        );
    }
}

impl Driver {
    /// Reads through the device and expects success.
    #[track_caller]
    pub fn blk_read_ok(&mut self, sector: u64, len: usize) -> Vec<u8> {
        let (status, bytes) = self.blk_read(sector, len);
        assert_eq!(status, S_OK, "read of {len} bytes at sector {sector}");
        bytes
    }
}
