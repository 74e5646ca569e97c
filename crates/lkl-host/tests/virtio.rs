// SPDX-License-Identifier: GPL-2.0
//! The virtio-mmio transport and virtio-blk, driven as the kernel's driver
//! would, without the kernel: fake kernel memory, register accesses through
//! `lkl_host_virtio_read`/`_write`, rings laid out in that memory.
//!
//! Tests share the process's registry and memory; each adds its own
//! devices. The kernel counts as booted (the memory is given), so a no-op
//! hotplug stands in for `lkl_virtio_mmio_add`.

mod virtio_driver;

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, Once};
use std::time::{Duration, Instant};

use lkl_host::virtio::{
    self, BlockBackend, BlockConfig, BlockDevice, FileBackend, GuestBuf, Hotplug, MemoryBackend,
};
use lkl_host::{lkl_host_virtio_read, lkl_host_virtio_write};
use virtio_driver::*;

struct NoHotplug;

impl Hotplug for NoHotplug {
    fn add(&self, _slot: u32, _irq: u32) -> io::Result<()> {
        Ok(())
    }
    fn remove(&self, _slot: u32) -> io::Result<()> {
        Ok(())
    }
}

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        memory();
        virtio::set_hotplug(Some(Arc::new(NoHotplug)));
    });
}

/// Adds a block device over `backend` and returns its driver, not yet
/// initialised.
fn add_blk(backend: Arc<dyn BlockBackend>, config: BlockConfig) -> Driver {
    setup();
    let irqs = Arc::new(Irqs::default());
    let device = Arc::new(BlockDevice::new(backend, config));
    let info = virtio::add(device, irqs.clone()).unwrap();
    assert!(virtio::IRQS.contains(&info.irq));
    Driver::new(info.slot, irqs)
}

fn serial(name: &str) -> BlockConfig {
    BlockConfig {
        serial: name.into(),
        ..BlockConfig::default()
    }
}

#[test]
fn empty_slot_reads_all_ones() {
    setup();
    // Tests add a few devices from slot 0 up; the last slot stays empty.
    let slot = virtio::SLOTS - 1;
    assert_eq!(lkl_host_virtio_read(slot, MAGIC_VALUE, 4), 0xffff_ffff);
    assert_eq!(lkl_host_virtio_read(slot, DEVICE_ID, 4), 0xffff_ffff);
    assert_eq!(lkl_host_virtio_read(slot, CONFIG, 1), 0xff);
    assert_eq!(lkl_host_virtio_read(slot, CONFIG, 2), 0xffff);
    assert_eq!(lkl_host_virtio_read(slot, CONFIG, 8), u64::MAX);
    assert_eq!(
        lkl_host_virtio_read(virtio::SLOTS, MAGIC_VALUE, 4),
        0xffff_ffff
    );
    assert_eq!(lkl_host_virtio_read(u32::MAX, MAGIC_VALUE, 4), 0xffff_ffff);
    // Writes to nothing are ignored.
    lkl_host_virtio_write(slot, STATUS, 4, 1);
    lkl_host_virtio_write(virtio::SLOTS, STATUS, 4, 1);
    assert_eq!(lkl_host_virtio_read(slot, STATUS, 4), 0xffff_ffff);

    // Accesses outside a live device's window or of a bad size read as
    // nothing there.
    let driver = add_blk(Arc::new(MemoryBackend::new(4096)), serial("ones"));
    assert_eq!(driver.read(MAGIC_VALUE), 0x7472_6976);
    assert_eq!(lkl_host_virtio_read(driver.slot, 0x1000, 4), 0xffff_ffff);
    assert_eq!(lkl_host_virtio_read(driver.slot, 0xffe, 4), 0xffff_ffff);
    assert_eq!(lkl_host_virtio_read(driver.slot, MAGIC_VALUE, 3), u64::MAX);
}

#[test]
fn identity_features_and_config_space() {
    let size = 3 << 20;
    let mut driver = add_blk(Arc::new(MemoryBackend::new(size)), serial("ident"));
    assert_eq!(driver.read(MAGIC_VALUE), 0x7472_6976);
    assert_eq!(driver.read(VERSION), 2);
    assert_eq!(driver.read(DEVICE_ID), 2);
    assert_ne!(driver.read(VENDOR_ID), 0);
    driver.write(QUEUE_SEL, 0);
    assert_eq!(driver.read(QUEUE_NUM_MAX), 256);
    driver.write(QUEUE_SEL, 1);
    assert_eq!(driver.read(QUEUE_NUM_MAX), 0, "only one queue");

    let features = driver.device_features();
    for bit in [
        F_VERSION_1,
        F_EVENT_IDX,
        F_INDIRECT_DESC,
        BLK_F_SEG_MAX,
        BLK_F_BLK_SIZE,
        BLK_F_FLUSH,
        BLK_F_DISCARD,
        BLK_F_WRITE_ZEROES,
    ] {
        assert_ne!(
            features & bit,
            0,
            "feature {bit:#x} missing in {features:#x}"
        );
    }
    assert_eq!(features & BLK_F_RO, 0);

    // struct virtio_blk_config, little-endian.
    assert_eq!(
        lkl_host_virtio_read(driver.slot, CONFIG, 8),
        (size / 512) as u64
    );
    assert_eq!(driver.read(CONFIG), (size / 512) as u32);
    assert_eq!(driver.read(CONFIG + 4), 0);
    assert_eq!(driver.read(CONFIG + 12), 128, "seg_max");
    assert_eq!(driver.read(CONFIG + 20), 512, "blk_size");
    assert_eq!(lkl_host_virtio_read(driver.slot, CONFIG + 20, 2), 512);
    assert_eq!(lkl_host_virtio_read(driver.slot, CONFIG + 21, 1), 2);
    assert_ne!(driver.read(CONFIG + 36), 0, "max_discard_sectors");
    assert_ne!(driver.read(CONFIG + 40), 0, "max_discard_seg");
    assert_ne!(driver.read(CONFIG + 48), 0, "max_write_zeroes_sectors");
    assert_ne!(driver.read(CONFIG + 52), 0, "max_write_zeroes_seg");
    assert_eq!(driver.read(CONFIG_GENERATION), 0);
    // Past the end of the config space.
    assert_eq!(driver.read(CONFIG + 0x200), 0);

    driver.init(64);
    assert_eq!(driver.status(), 1 | 2 | 4 | 8);
    let (status, used_len) = driver.blk_run(T_FLUSH, 0, &[]);
    assert_eq!((status, used_len), (S_OK, 1));
    assert!(virtio::IRQS.contains(&driver.irqs.last_irq()));
}

#[test]
fn features_ok_requires_version_1() {
    let mut driver = add_blk(Arc::new(MemoryBackend::new(1 << 20)), serial("feat"));
    let offered = driver.device_features();

    // Without VERSION_1 the device does not keep FEATURES_OK.
    let status = driver.negotiate(offered & !F_VERSION_1);
    assert_eq!(status & S_FEATURES_OK, 0);
    assert_eq!(status, S_ACKNOWLEDGE | S_DRIVER);

    // Nor with a feature it did not offer.
    let status = driver.negotiate(offered | 1 << 50);
    assert_eq!(status & S_FEATURES_OK, 0);

    // VERSION_1 alone is enough; then the device works.
    let status = driver.negotiate(F_VERSION_1);
    assert_ne!(status & S_FEATURES_OK, 0);
    driver.setup_queue(16);
    driver.write(STATUS, status | S_DRIVER_OK);
    assert_eq!(driver.blk_run(T_FLUSH, 0, &[]).0, S_OK);

    // Features written after FEATURES_OK change nothing.
    let status = driver.negotiate(offered);
    assert_ne!(status & S_FEATURES_OK, 0);
    driver.write(DRIVER_FEATURES_SEL, 1);
    driver.write(DRIVER_FEATURES, 0);
    driver.setup_queue(16);
    driver.write(STATUS, status | S_DRIVER_OK);
    assert_eq!(driver.blk_run(T_FLUSH, 0, &[]).0, S_OK);
}

#[test]
fn file_backend_requests() {
    let len = 1 << 20;
    let initial = pattern(len, 7);
    let file = TempFile::new("rw", &initial);
    let backend = Arc::new(FileBackend::open(&file.path, false).unwrap());
    assert_eq!(backend.size(), len as u64);
    let mut driver = add_blk(backend, serial("file-serial-0123456789"));
    driver.init(128);

    // Three writes in flight at once, one with its data split in two
    // buffers.
    let data: Vec<Vec<u8>> = (0..3).map(|i| pattern(8192, 100 + i)).collect();
    let sectors = [8u64, 100, 2000];
    let mut requests = Vec::new();
    for (i, (bytes, &sector)) in data.iter().zip(&sectors).enumerate() {
        let buf = driver.mem.alloc(bytes.len(), 512);
        driver.mem.write(buf, bytes);
        let buffers = if i == 1 {
            vec![(buf, 4096, false), (buf + 4096, 4096, false)]
        } else {
            vec![(buf, 8192, false)]
        };
        requests.push(driver.blk_submit(T_OUT, sector, &buffers));
    }
    driver.notify();
    let mut used = driver.wait_used(3);
    used.sort_by_key(|u| u.id);
    let mut heads: Vec<u16> = requests.iter().map(|r| r.head).collect();
    heads.sort();
    assert_eq!(used.iter().map(|u| u.id).collect::<Vec<_>>(), heads);
    assert!(used.iter().all(|u| u.len == 1));
    for request in &requests {
        assert_eq!(driver.status_of(request), S_OK);
    }
    assert!(driver.irqs.count() > 0);
    assert_eq!(
        driver.ack() & 1,
        1,
        "InterruptStatus bit 0 after a completion"
    );
    assert_eq!(driver.read(INTERRUPT_STATUS), 0, "acknowledged");

    // The file holds them, written straight from the buffers.
    let mut expected = initial.clone();
    for (bytes, &sector) in data.iter().zip(&sectors) {
        let at = sector as usize * 512;
        expected[at..at + bytes.len()].copy_from_slice(bytes);
    }
    assert_bytes(
        &std::fs::read(&file.path).unwrap(),
        &expected,
        "file after writes",
    );

    // Reads, several in flight, straight into the buffers.
    let mut reads = Vec::new();
    for &sector in &sectors {
        let buf = driver.mem.alloc(8192, 512);
        let request = driver.blk_submit(T_IN, sector, &[(buf, 8192, true)]);
        reads.push((request, buf));
    }
    driver.notify();
    let used = driver.wait_used(3);
    assert!(used.iter().all(|u| u.len == 8193));
    for ((request, buf), bytes) in reads.iter().zip(&data) {
        assert_eq!(driver.status_of(request), S_OK);
        assert_bytes(&driver.mem.read(*buf, 8192), bytes, "read back");
    }
    assert_bytes(
        &driver.blk_read_ok(0, 4096),
        &initial[..4096],
        "untouched sectors",
    );

    assert_eq!(driver.blk_run(T_FLUSH, 0, &[]).0, S_OK);

    // GET_ID: the first 20 bytes of the serial.
    let id = driver.mem.alloc(20, 1);
    let (status, used_len) = driver.blk_run(T_GET_ID, 0, &[(id, 20, true)]);
    assert_eq!((status, used_len), (S_OK, 21));
    assert_eq!(driver.mem.read(id, 20), b"file-serial-01234567");

    // Discard punches a hole, write zeroes zeroes.
    assert_eq!(driver.blk_ranges(T_DISCARD, &[(8, 16, 0)]), S_OK);
    assert_bytes(&driver.blk_read_ok(8, 8192), &[0; 8192], "discarded");
    assert_eq!(
        driver.blk_ranges(T_WRITE_ZEROES, &[(100, 8, 0), (2000, 8, 1)]),
        S_OK
    );
    assert_bytes(&driver.blk_read_ok(100, 4096), &[0; 4096], "zeroed");
    assert_bytes(&driver.blk_read_ok(2000, 4096), &[0; 4096], "zeroed, unmap");
    let on_disk = std::fs::read(&file.path).unwrap();
    assert_eq!(on_disk.len(), len, "discard keeps the size");
    assert!(on_disk[8 * 512..16 * 512].iter().all(|&b| b == 0));
    assert_bytes(
        &on_disk[108 * 512..109 * 512],
        &expected[108 * 512..109 * 512],
        "beyond the zeroes",
    );
    // Discard takes no unmap flag.
    assert_eq!(driver.blk_ranges(T_DISCARD, &[(8, 8, 1)]), S_UNSUPP);

    // Out of range: at the end, across the end, past the end.
    let capacity = (len / 512) as u64;
    assert_eq!(driver.blk_read(capacity, 512).0, S_IOERR);
    assert_eq!(driver.blk_read(capacity - 1, 1024).0, S_IOERR);
    assert_eq!(driver.blk_read(u64::MAX, 512).0, S_IOERR);
    assert_eq!(driver.blk_write(capacity, &[1; 512]), S_IOERR);
    assert_eq!(
        driver.blk_ranges(T_DISCARD, &[(capacity - 4, 8, 0)]),
        S_IOERR
    );
    assert_eq!(
        driver.blk_ranges(T_WRITE_ZEROES, &[(capacity, 1, 0)]),
        S_IOERR
    );
    // Not whole sectors.
    assert_eq!(driver.blk_read(0, 100).0, S_IOERR);
    // The last sector is fine.
    assert_eq!(driver.blk_read(capacity - 1, 512).0, S_OK);

    // Unknown types.
    assert_eq!(driver.blk_run(99, 0, &[]).0, S_UNSUPP);
    assert_eq!(driver.blk_run(10, 0, &[]).0, S_UNSUPP);

    // The file is unchanged by the failures.
    assert_bytes(
        &std::fs::read(&file.path).unwrap(),
        &on_disk,
        "file after failures",
    );
}

#[test]
fn memory_backend_many_in_flight() {
    let len = 4 << 20;
    let backend = Arc::new(MemoryBackend::new(len));
    let mut driver = add_blk(backend.clone(), serial("mem"));
    driver.init(256);
    let mut expected = vec![0u8; len];

    // 40 writes at once, in three layouts: header, data and status apart;
    // header and data in one buffer, status apart; data split in pieces.
    let mut requests = Vec::new();
    for i in 0..40u64 {
        let sector = i * 64;
        let bytes = pattern(512 * (1 + i as usize % 8), i as u8);
        let at = sector as usize * 512;
        expected[at..at + bytes.len()].copy_from_slice(&bytes);
        let request = match i % 3 {
            0 => {
                let buf = driver.mem.alloc(bytes.len(), 512);
                driver.mem.write(buf, &bytes);
                driver.blk_submit(T_OUT, sector, &[(buf, bytes.len() as u32, false)])
            }
            1 => {
                let buf = driver.mem.alloc(16 + bytes.len(), 16);
                let mut raw = Vec::from(T_OUT.to_le_bytes());
                raw.extend_from_slice(&[0; 4]);
                raw.extend_from_slice(&sector.to_le_bytes());
                raw.extend_from_slice(&bytes);
                driver.mem.write(buf, &raw);
                let status = driver.blk_status();
                let head = driver.submit(&[(buf, raw.len() as u32, false), (status, 1, true)]);
                BlkRequest { head, status }
            }
            _ => {
                let buf = driver.mem.alloc(bytes.len(), 512);
                driver.mem.write(buf, &bytes);
                let pieces: Vec<(u64, u32, bool)> = (0..bytes.len() / 256)
                    .map(|p| (buf + 256 * p as u64, 256, false))
                    .collect();
                driver.blk_submit(T_OUT, sector, &pieces)
            }
        };
        requests.push(request);
        // Notify every few: later ones queue while workers are busy.
        if i % 8 == 7 {
            driver.notify();
        }
    }
    driver.notify();
    let used = driver.wait_used(40);
    assert_eq!(used.len(), 40);
    for request in &requests {
        assert_eq!(driver.status_of(request), S_OK);
    }
    assert_bytes(&backend.contents(), &expected, "disk");

    // Reads back, with the status byte sharing the data's last buffer.
    let mut reads = Vec::new();
    for i in 0..20u64 {
        let sector = i * 64;
        let n = 512 * (1 + i as usize % 8);
        let buf = driver.mem.alloc(n + 1, 512);
        let header = driver.blk_header(T_IN, sector);
        driver.mem.write(buf + n as u64, &[0xff]);
        let head = driver.submit(&[(header, 16, false), (buf, n as u32 + 1, true)]);
        reads.push((head, buf, n, sector));
    }
    driver.notify();
    let used = driver.wait_used(20);
    for (head, buf, n, sector) in reads {
        let entry = used.iter().find(|u| u.id == head).unwrap();
        assert_eq!(entry.len as usize, n + 1);
        let raw = driver.mem.read(buf, n + 1);
        assert_eq!(raw[n], S_OK);
        let at = sector as usize * 512;
        assert_bytes(&raw[..n], &expected[at..at + n], "read back");
    }

    // Discarded and zeroed ranges of memory read as zeroes.
    assert_eq!(
        driver.blk_ranges(T_DISCARD, &[(0, 64, 0), (128, 8, 0)]),
        S_OK
    );
    assert_eq!(driver.blk_ranges(T_WRITE_ZEROES, &[(64, 64, 1)]), S_OK);
    expected[..136 * 512].fill(0);
    assert_bytes(&backend.contents(), &expected, "disk");
}

#[test]
fn read_only_devices_refuse_writes() {
    let data = pattern(1 << 20, 3);
    let backend = Arc::new(MemoryBackend::with_data(data.clone(), true));
    let mut driver = add_blk(backend.clone(), serial("ro"));
    let features = driver.device_features();
    assert_ne!(features & BLK_F_RO, 0);
    assert_eq!(features & (BLK_F_DISCARD | BLK_F_WRITE_ZEROES), 0);
    driver.init(32);
    assert_eq!(driver.blk_write(0, &[9; 4096]), S_IOERR);
    assert_eq!(driver.blk_ranges(T_DISCARD, &[(0, 8, 0)]), S_IOERR);
    assert_eq!(driver.blk_ranges(T_WRITE_ZEROES, &[(0, 8, 0)]), S_IOERR);
    assert_bytes(
        &driver.blk_read_ok(0, 4096),
        &data[..4096],
        "read-only disk",
    );
    assert_eq!(driver.blk_run(T_FLUSH, 0, &[]).0, S_OK);
    assert_bytes(&backend.contents(), &data, "read-only disk after writes");

    // A file opened read-only: the same, and the file is untouched.
    let file = TempFile::new("ro", &data);
    let backend = Arc::new(FileBackend::open(&file.path, true).unwrap());
    let mut driver = add_blk(backend, serial("ro-file"));
    assert_ne!(driver.device_features() & BLK_F_RO, 0);
    driver.init(32);
    assert_eq!(driver.blk_write(8, &[9; 4096]), S_IOERR);
    assert_bytes(
        &driver.blk_read_ok(8, 4096),
        &data[4096..8192],
        "read-only file",
    );
    assert_bytes(
        &std::fs::read(&file.path).unwrap(),
        &data,
        "read-only file after writes",
    );
}

/// A backend whose reads wait until `want` of them are inside at once (or
/// a timeout), recording the most seen.
struct Rendezvous {
    want: usize,
    /// Reads inside now, and whether `want` were inside at some point.
    inside: Mutex<(usize, bool)>,
    changed: Condvar,
    most: AtomicUsize,
}

impl BlockBackend for Rendezvous {
    fn size(&self) -> u64 {
        1 << 20
    }
    fn read_only(&self) -> bool {
        false
    }
    fn read_at(&self, bufs: &[GuestBuf<'_>], _offset: u64) -> io::Result<()> {
        let mut inside = self.inside.lock().unwrap();
        inside.0 += 1;
        inside.1 |= inside.0 >= self.want;
        self.most.fetch_max(inside.0, Ordering::SeqCst);
        self.changed.notify_all();
        let (mut inside, _) = self
            .changed
            .wait_timeout_while(inside, Duration::from_secs(3), |inside| !inside.1)
            .unwrap();
        inside.0 -= 1;
        drop(inside);
        for buf in bufs {
            buf.copy_from(&vec![0x5au8; buf.len()]);
        }
        Ok(())
    }
    fn write_at(&self, _bufs: &[GuestBuf<'_>], _offset: u64) -> io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn requests_are_processed_in_parallel() {
    let backend = Arc::new(Rendezvous {
        want: 4,
        inside: Mutex::new((0, false)),
        changed: Condvar::new(),
        most: AtomicUsize::new(0),
    });
    let mut driver = add_blk(
        backend.clone(),
        BlockConfig {
            workers: 4,
            ..serial("par")
        },
    );
    driver.init(64);
    let start = Instant::now();
    let mut requests = Vec::new();
    for i in 0..4 {
        let buf = driver.mem.alloc(512, 512);
        requests.push((driver.blk_submit(T_IN, i, &[(buf, 512, true)]), buf));
    }
    // One notification for all four: workers hand the rest on.
    driver.notify();
    driver.wait_used(4);
    assert_eq!(
        backend.most.load(Ordering::SeqCst),
        4,
        "requests ran one after another"
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "a read waited for the others in vain"
    );
    for (request, buf) in &requests {
        assert_eq!(driver.status_of(request), S_OK);
        assert_bytes(&driver.mem.read(*buf, 512), &[0x5a; 512], "parallel read");
    }
}

/// A backend whose reads block until the gate opens.
#[derive(Default)]
struct Gate {
    entered: AtomicBool,
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl BlockBackend for Gate {
    fn size(&self) -> u64 {
        1 << 20
    }
    fn read_only(&self) -> bool {
        false
    }
    fn read_at(&self, bufs: &[GuestBuf<'_>], _offset: u64) -> io::Result<()> {
        self.entered.store(true, Ordering::SeqCst);
        let open = self.open.lock().unwrap();
        let _open = self.opened.wait_while(open, |open| !*open).unwrap();
        for buf in bufs {
            buf.copy_from(&vec![0x77u8; buf.len()]);
        }
        Ok(())
    }
    fn write_at(&self, _bufs: &[GuestBuf<'_>], _offset: u64) -> io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn notify_does_not_wait_and_reset_waits_for_requests_in_flight() {
    let gate = Arc::new(Gate::default());
    let mut driver = add_blk(gate.clone(), serial("reset"));
    driver.init(16);
    let buf = driver.mem.alloc(4096, 512);
    let request = driver.blk_submit(T_IN, 0, &[(buf, 4096, true)]);

    // The notification only hands the request to a worker.
    let start = Instant::now();
    driver.notify();
    assert!(start.elapsed() < Duration::from_millis(500));
    let deadline = Instant::now() + TIMEOUT;
    while !gate.entered.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "no worker took the request");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Registers stay readable meanwhile.
    assert_eq!(driver.read(MAGIC_VALUE), 0x7472_6976);
    assert_eq!(driver.used_idx(), 0);

    let slot = driver.slot;
    let (done, resetted) = mpsc::channel();
    let reset = std::thread::spawn(move || {
        write32(slot, STATUS, 0);
        done.send(()).unwrap();
    });
    assert!(
        resetted.recv_timeout(Duration::from_millis(300)).is_err(),
        "reset did not wait for the request in flight"
    );
    gate.open();
    resetted
        .recv_timeout(TIMEOUT)
        .expect("reset never finished");
    reset.join().unwrap();

    // The request completed before the reset did.
    assert_eq!(driver.used_idx(), 1);
    assert_eq!(driver.status_of(&request), S_OK);
    assert_bytes(
        &driver.mem.read(buf, 4096),
        &[0x77; 4096],
        "read before reset",
    );
    // And the device is back to its initial state.
    assert_eq!(driver.status(), 0);
    driver.write(QUEUE_SEL, 0);
    assert_eq!(driver.read(QUEUE_READY), 0);
    assert_eq!(driver.read(INTERRUPT_STATUS), 0);

    // It comes back to life with a new queue.
    driver.init(16);
    assert_bytes(
        &driver.blk_read_ok(0, 512),
        &[0x77; 512],
        "read after reset",
    );
}

#[test]
fn event_idx_suppresses_interrupts() {
    let mut driver = add_blk(Arc::new(MemoryBackend::new(1 << 20)), serial("evidx"));
    driver.init(32);
    // Interrupt only once the used index passes 4, i.e. at the fifth.
    driver.set_used_event(4);
    let before = driver.irqs.count();
    for _ in 0..3 {
        driver.blk_submit(T_FLUSH, 0, &[]);
    }
    driver.notify();
    let deadline = Instant::now() + TIMEOUT;
    while driver.used_idx() != 3 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(driver.irqs.count(), before, "interrupted before used_event");
    assert_eq!(driver.read(INTERRUPT_STATUS), 0);

    for _ in 0..2 {
        driver.blk_submit(T_FLUSH, 0, &[]);
    }
    driver.notify();
    driver.wait_used(5);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(driver.irqs.count(), before + 1);
    assert_eq!(driver.ack(), 1);

    // The device asks to be notified at the next chain (avail_event), once
    // it found the ring empty.
    let deadline = Instant::now() + TIMEOUT;
    while driver.avail_event() != 5 {
        assert!(
            Instant::now() < deadline,
            "avail_event {}",
            driver.avail_event()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn removed_devices_leave_their_slot_empty() {
    let driver = add_blk(Arc::new(MemoryBackend::new(1 << 20)), serial("gone"));
    assert_eq!(driver.read(DEVICE_ID), 2);
    virtio::remove(driver.slot).unwrap();
    assert_eq!(driver.read(MAGIC_VALUE), 0xffff_ffff);
    assert_eq!(
        virtio::remove(driver.slot).unwrap_err().raw_os_error(),
        Some(libc::ENOENT)
    );
}

#[test]
fn bad_queue_layouts_are_refused() {
    let driver = add_blk(Arc::new(MemoryBackend::new(1 << 20)), serial("badq"));
    let status = driver.negotiate(driver.device_features());
    assert_ne!(status & S_FEATURES_OK, 0);
    driver.write(QUEUE_SEL, 0);
    // Rings outside the kernel's memory.
    driver.write(QUEUE_NUM, 16);
    driver.write(QUEUE_DESC_LOW, 0);
    driver.write(QUEUE_DESC_HIGH, 0x10);
    driver.write(QUEUE_AVAIL_LOW, 0x2000);
    driver.write(QUEUE_USED_LOW, 0x3000);
    driver.write(QUEUE_READY, 1);
    assert_eq!(driver.read(QUEUE_READY), 0);
}
