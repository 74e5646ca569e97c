// SPDX-License-Identifier: GPL-2.0
//! Hostile tests of the disk support: halt and removal racing I/O, hotplug
//! churn, bad images, crash consistency.
//!
//! A process holds one kernel, so every #[test] runs its scenario in a
//! child: this binary again, with `LKL_TEST_SCENARIO` naming the
//! scenario (and `--exact <name>` so that the harness runs only it). The
//! child prints what it saw; the parent enforces a time limit and checks
//! the outcome. The tests take turns (`SERIAL`); `--nocapture` shows what
//! each child saw.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use lkl::disk::Disk;
use lkl::fs::{self, File, FileType, Mode, MountFlags, OFlags};
use lkl::lkl_sys::lkl_host::virtio::{self, BlockBackend, FileBackend, GuestBuf};

use support::{dir, interesting, pattern, spawn, wait, Outcome, Run};

fn drop_caches() {
    support::drop_caches().expect("drop_caches");
}

fn mkfs_ext4(path: &Path, mib: u64) {
    support::make_image(path, mib, &["mkfs.ext4", "-q", "-F"]).expect("mkfs.ext4");
}

fn host_threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// A block node for the whole disk, made in the kernel's /dev.
fn blk_node(disk: &Disk) -> Result<String, Box<dyn std::error::Error>> {
    let (major, minor) = disk.device_number(None)?;
    let dev = fs::makedev(major, minor);
    fs::create_dir_all("/dev")?;
    let node = format!("/dev/hostile{}", disk.slot());
    let _ = fs::remove_file(&node);
    fs::mknod(&node, FileType::BlockDevice, Mode::RUSR | Mode::WUSR, dev)?;
    Ok(node)
}

/// Runs `f` on a thread; `None` if it did not finish within `limit`.
fn with_deadline<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

// ---------------------------------------------------------------------------
// 1. Halt while I/O is in flight.

/// Eight threads write (and some fsync) files on a mounted ext4 when the
/// kernel halts under them. The halt must return, nothing may crash.
fn halt_inflight() -> Outcome {
    let image = dir().join("halt.img");
    mkfs_ext4(&image, 64);
    let disk = Disk::open(&image)?;
    let kernel = support::boot_with_proc()?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    let root = mount.path().to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let bytes = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for t in 0..8u64 {
        let root = root.clone();
        let stop = stop.clone();
        let bytes = bytes.clone();
        threads.push(std::thread::spawn(move || {
            let mut i = 0u64;
            let mut last_err = None;
            while !stop.load(Ordering::Relaxed) {
                let path = root.join(format!("t{t}-{}", i % 16));
                let r = (|| -> std::io::Result<()> {
                    let mut f = File::create(&path)?;
                    f.write_all(&pattern(256 << 10, t * 1000 + i))?;
                    if t % 2 == 0 {
                        f.sync_all()?;
                    }
                    Ok(())
                })();
                match r {
                    Ok(()) => {
                        bytes.fetch_add(256 << 10, Ordering::Relaxed);
                    }
                    Err(e) => {
                        last_err = Some(e.to_string());
                        break;
                    }
                }
                i += 1;
            }
            last_err
        }));
    }
    std::thread::sleep(Duration::from_millis(700));
    println!(
        "written before halt: {} MiB",
        bytes.load(Ordering::Relaxed) >> 20
    );
    let t0 = Instant::now();
    // Mount and Disk outlive the kernel on purpose: a program that halts
    // with a mounted disk.
    std::mem::forget(mount);
    kernel.halt()?;
    println!("halt took {:?}", t0.elapsed());
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        println!("writer ended: {:?}", t.join().unwrap());
    }
    drop(disk);
    println!("HALT_INFLIGHT_DONE");
    Ok(())
}

/// Buffered writes without fsync, then halt with the mount still up: how
/// much of what the program wrote (and the kernel acknowledged) is on the
/// image? The parent checks the image afterwards.
fn halt_unsynced() -> Outcome {
    let image = dir().join("unsynced.img");
    mkfs_ext4(&image, 64);
    let disk = Disk::open(&image)?;
    let kernel = support::boot_with_proc()?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    let root = mount.path().to_owned();
    let mut f = File::create(root.join("unsynced"))?;
    f.write_all(&pattern(4 << 20, 7))?;
    drop(f);
    std::mem::forget(mount);
    kernel.halt()?;
    drop(disk);
    println!("HALT_UNSYNCED_DONE");
    Ok(())
}

// ---------------------------------------------------------------------------
// 2. Removal racing open/mount; hotplug churn.

/// One thread opens and closes the whole-disk block device in a loop; the
/// other removes the disk. A removal that succeeds while the device is
/// open breaks the EBUSY promise.
fn remove_open_race() -> Outcome {
    let image = dir().join("race.img");
    mkfs_ext4(&image, 16);
    let kernel = support::boot_with_proc()?;
    let mut violations = 0;
    let mut ebusy = 0;
    let rounds = 60;
    for round in 0..rounds {
        let disk = Disk::open(&image)?;
        let node = blk_node(&disk)?;
        let slot = disk.slot();
        let removed = Arc::new(AtomicBool::new(false));
        let held_at_remove = Arc::new(AtomicBool::new(false));
        let go = Arc::new(Barrier::new(2));
        let opener = {
            let removed = removed.clone();
            let held_at_remove = held_at_remove.clone();
            let go = go.clone();
            let node = node.clone();
            std::thread::spawn(move || {
                go.wait();
                let mut opens = 0;
                let deadline = Instant::now() + Duration::from_millis(300);
                while Instant::now() < deadline && !removed.load(Ordering::SeqCst) {
                    match fs::raw::open(node.as_str(), OFlags::RDONLY, Mode::empty()) {
                        Ok(fd) => {
                            opens += 1;
                            // Hold it across a few scheduling points.
                            let mut buf = [0u8; 512];
                            let _ = fs::raw::pread(&fd, &mut buf, (opens % 64) * 4096);
                            if removed.load(Ordering::SeqCst) {
                                held_at_remove.store(true, Ordering::SeqCst);
                            }
                            drop(fd);
                        }
                        Err(_) => break,
                    }
                }
                opens
            })
        };
        go.wait();
        // Remove, retrying on EBUSY, with the slot only: as Disk::remove.
        std::mem::forget(disk);
        let start = Instant::now();
        loop {
            match virtio::remove(slot) {
                Ok(()) => {
                    removed.store(true, Ordering::SeqCst);
                    break;
                }
                Err(e) if e.raw_os_error() == Some(16) => {
                    ebusy += 1;
                    if start.elapsed() > Duration::from_secs(5) {
                        return Err("EBUSY forever".into());
                    }
                }
                Err(e) => return Err(format!("remove: {e}").into()),
            }
        }
        let opens = opener.join().unwrap();
        if held_at_remove.load(Ordering::SeqCst) {
            violations += 1;
            println!(
                "round {round}: removal succeeded while the block device was open ({opens} opens)"
            );
        }
        let _ = fs::remove_file(&node);
    }
    println!("REMOVE_OPEN_RACE violations={violations} ebusy={ebusy} rounds={rounds}");
    kernel.halt()?;
    Ok(())
}

/// Same race with a real mount: one thread mounts, the other removes.
fn remove_mount_race() -> Outcome {
    let image = dir().join("mrace.img");
    mkfs_ext4(&image, 16);
    let kernel = support::boot_with_proc()?;
    let mut violations = 0;
    for round in 0..40 {
        let disk = Arc::new(Disk::open(&image)?);
        let slot = disk.slot();
        let go = Arc::new(Barrier::new(2));
        let removed = Arc::new(AtomicBool::new(false));
        let mounter = {
            let disk = disk.clone();
            let go = go.clone();
            let removed = removed.clone();
            std::thread::spawn(move || {
                go.wait();
                match disk.mount(None, Some("ext4"), MountFlags::empty(), None) {
                    Ok(m) => {
                        let ok_write = fs::write(m.path().join("x"), b"hello").is_ok();
                        let sync = fs::sync();
                        let gone = removed.load(Ordering::SeqCst);
                        let _ = m.unmount();
                        Some((ok_write, sync.is_ok(), gone))
                    }
                    Err(_) => None,
                }
            })
        };
        go.wait();
        // Removal racing the mount, through the registry (Disk::remove
        // takes the Disk by value; the Arc keeps ours).
        std::thread::sleep(Duration::from_micros((round % 10) * 300));
        let r = virtio::remove(slot);
        if r.is_ok() {
            removed.store(true, Ordering::SeqCst);
        }
        let m = mounter.join().unwrap();
        if let (Ok(()), Some((_, _, true))) = (&r, &m) {
            violations += 1;
        }
        if r.is_ok() && m.is_some() {
            println!("round {round}: remove Ok and mount Ok: {m:?}");
        }
        if r.is_err() {
            // Mounted first: now it is unmounted, so removal works.
            let _ = virtio::remove(slot);
        }
        // Already removed through the registry: keep the drop from
        // removing whatever is in the slot next.
        std::mem::forget(Arc::try_unwrap(disk).ok());
    }
    println!("REMOVE_MOUNT_RACE violations={violations}");
    kernel.halt()?;
    Ok(())
}

/// Add, mount, write, unmount, remove, many times: slots, irqs and worker
/// threads are recycled; a leak shows in the host's thread count.
fn readd_cycle() -> Outcome {
    let image = dir().join("cycle.img");
    mkfs_ext4(&image, 16);
    let kernel = support::boot_with_proc()?;
    let base = host_threads();
    let mut irqs = std::collections::BTreeSet::new();
    for i in 0..300 {
        if i % 50 == 0 {
            println!("cycle {i}: host threads {}", host_threads());
        }
        let disk = Disk::open(&image)?;
        irqs.insert((disk.slot(), disk.irq()));
        let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
        fs::write(mount.path().join(format!("f{}", i % 5)), pattern(8192, i))?;
        mount.unmount()?;
        disk.remove().map_err(|(_, e)| e)?;
    }
    let after = host_threads();
    println!("READD threads before={base} after={after} slot/irq pairs used={irqs:?}");
    kernel.halt()?;
    if after > base + 8 {
        return Err(format!("thread leak: {base} -> {after}").into());
    }
    Ok(())
}

/// Disks until ENOSPC: there are 63 interrupts and 256 slots.
fn irq_exhaust() -> Outcome {
    let kernel = support::boot_with_proc()?;
    let base = host_threads();
    let mut disks = Vec::new();
    let mut last_err = None;
    for i in 0..70 {
        let image = dir().join(format!("small{i}.img"));
        std::fs::File::create(&image)?.set_len(1 << 20)?;
        match Disk::open(&image) {
            Ok(d) => disks.push(d),
            Err(e) => {
                last_err = Some((i, lkl::disk::raw_os_error(&e), e.to_string()));
                break;
            }
        }
    }
    println!(
        "IRQ_EXHAUST added={} threads {} -> {} error={last_err:?}",
        disks.len(),
        base,
        host_threads()
    );
    for d in disks {
        d.remove().map_err(|(_, e)| e)?;
    }
    println!("IRQ_EXHAUST threads after removal {}", host_threads());
    kernel.halt()?;
    Ok(())
}

/// A Disk that outlives the kernel, then a new Disk in the same slot:
/// dropping the old handle removes the new disk.
fn stale_handle() -> Outcome {
    let a_img = dir().join("a.img");
    let b_img = dir().join("b.img");
    std::fs::File::create(&a_img)?.set_len(1 << 20)?;
    std::fs::File::create(&b_img)?.set_len(1 << 20)?;
    let kernel = support::boot_with_proc()?;
    let a = Disk::open(&a_img)?;
    kernel.halt()?;
    let b = Disk::open(&b_img)?;
    println!(
        "a slot {} irq {}, b slot {} irq {}",
        a.slot(),
        a.irq(),
        b.slot(),
        b.irq()
    );
    drop(a);
    // b should still be registered: removing it must work.
    match b.remove() {
        Ok(()) => println!("STALE_HANDLE b still there"),
        Err((_, e)) => println!("STALE_HANDLE b was removed by a's drop: {e}"),
    }
    Ok(())
}

/// Hotplug churn on two threads while the kernel halts.
fn halt_vs_hotplug() -> Outcome {
    let image = dir().join("churn.img");
    mkfs_ext4(&image, 16);
    let kernel = support::boot_with_proc()?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for t in 0..2 {
        let image = image.clone();
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || {
            let mut n = 0;
            let mut errs = std::collections::BTreeMap::<String, u32>::new();
            while !stop.load(Ordering::Relaxed) {
                match Disk::open(&image) {
                    Ok(disk) => {
                        if t == 0 {
                            if let Ok(m) = disk.mount(None, Some("ext4"), MountFlags::RDONLY, None)
                            {
                                let _ = fs::read_dir(m.path()).map(|d| d.count());
                                drop(m);
                            }
                        }
                        if let Err((d, e)) = disk.remove() {
                            *errs.entry(format!("remove: {e}")).or_default() += 1;
                            std::mem::forget(d);
                        }
                        n += 1;
                    }
                    Err(e) => {
                        *errs.entry(format!("open: {e}")).or_default() += 1;
                    }
                }
            }
            (n, errs)
        }));
    }
    std::thread::sleep(Duration::from_millis(400));
    let t0 = Instant::now();
    kernel.halt()?;
    println!("halt took {:?}", t0.elapsed());
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        println!("churner: {:?}", t.join().unwrap());
    }
    println!("HALT_VS_HOTPLUG_DONE threads now {}", host_threads());
    Ok(())
}

/// One image opened as two disks, both mounted read-write: nothing stops
/// it, and each kernel-side file system overwrites the other's metadata.
fn same_image_twice() -> Outcome {
    let image = dir().join("twice.img");
    mkfs_ext4(&image, 32);
    let kernel = support::boot_with_proc()?;
    let a = Disk::open(&image)?;
    let b = match Disk::open(&image) {
        Ok(b) => b,
        Err(e) => {
            // The image is locked: a second writer would lose data.
            assert_eq!(
                e.kind(),
                std::io::Error::from_raw_os_error(16).kind(),
                "{e}"
            );
            assert!(e.to_string().contains("twice.img"), "{e}");
            // Read-only next to a writer is refused too.
            let ro = Disk::open_read_only(&image).expect_err("read-only next to a writer");
            assert_eq!(
                ro.kind(),
                std::io::Error::from_raw_os_error(16).kind(),
                "{ro}"
            );
            println!("SAME_IMAGE second open refused: {e}");
            drop(a);
            kernel.halt()?;
            return Ok(());
        }
    };
    println!(
        "SAME_IMAGE second open accepted (slots {} and {})",
        a.slot(),
        b.slot()
    );
    let ma = a.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    let mb = b.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    for i in 0..20u64 {
        fs::write(ma.path().join(format!("a{i}")), pattern(100 << 10, i))?;
        fs::write(mb.path().join(format!("b{i}")), pattern(100 << 10, 100 + i))?;
    }
    ma.unmount()?;
    mb.unmount()?;
    a.remove().map_err(|(_, e)| e)?;
    b.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    Ok(())
}

// ---------------------------------------------------------------------------
// 3. Driver unbind/bind through sysfs with I/O running.

fn unbind_rebind() -> Outcome {
    let image = dir().join("unbind.img");
    mkfs_ext4(&image, 32);
    let kernel = support::boot_with_proc()?;
    let disk = Disk::open(&image)?;
    let node = blk_node(&disk)?;
    // The virtio device below the platform device.
    let platform = format!("/sys/bus/platform/devices/virtio-mmio.{}", disk.slot());
    let vdev = fs::read_dir(&platform)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("virtio"))
        .ok_or("no virtio device")?;
    println!("virtio device {vdev}");
    // Raw reads in flight on the whole disk while the driver goes.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let node = node.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            let mut err = None;
            while !stop.load(Ordering::Relaxed) {
                match fs::raw::open(node.as_str(), OFlags::RDONLY, Mode::empty()) {
                    Ok(fd) => {
                        let mut buf = vec![0u8; 1 << 20];
                        // O_DIRECT wants alignment; a Vec of 1 MiB is page aligned in practice.
                        match fs::raw::pread(&fd, &mut buf, (n % 30) << 20) {
                            Ok(_) => n += 1,
                            Err(e) => err = Some(e),
                        }
                    }
                    Err(e) => {
                        err = Some(e);
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
            (n, err)
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    for round in 0..10 {
        let t0 = Instant::now();
        let r = fs::write("/sys/bus/virtio/drivers/virtio_blk/unbind", &vdev);
        let unbind = t0.elapsed();
        let t0 = Instant::now();
        let r2 = fs::write("/sys/bus/virtio/drivers/virtio_blk/bind", &vdev);
        println!(
            "round {round}: unbind {r:?} in {unbind:?}, bind {r2:?} in {:?}",
            t0.elapsed()
        );
        // The disk's number may change: make the node again.
        let _ = blk_node(&disk);
    }
    stop.store(true, Ordering::Relaxed);
    println!("reader: {:?}", reader.join().unwrap());
    // Still usable after all that?
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    fs::write(mount.path().join("after"), b"after rebind")?;
    assert_eq!(fs::read(mount.path().join("after"))?, b"after rebind");
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    println!("UNBIND_REBIND_DONE");
    Ok(())
}

/// Unbind the driver while ext4 is mounted on the disk: the EBUSY check
/// looks for open block devices below the platform device, and there are
/// none any more.
fn unbind_mounted_then_remove() -> Outcome {
    let image = dir().join("unbindm.img");
    mkfs_ext4(&image, 32);
    let kernel = support::boot_with_proc()?;
    let disk = Disk::open(&image)?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    fs::write(mount.path().join("before"), pattern(1 << 20, 1))?;
    let platform = format!("/sys/bus/platform/devices/virtio-mmio.{}", disk.slot());
    let vdev = fs::read_dir(&platform)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("virtio"))
        .ok_or("no virtio device")?;
    let r = fs::write("/sys/bus/virtio/drivers/virtio_blk/unbind", &vdev);
    println!("unbind while mounted: {r:?}");
    let slot = disk.slot();
    std::mem::forget(disk);
    let r = virtio::remove(slot);
    println!("UNBIND_MOUNTED remove after unbind while mounted: {r:?}");
    let w = fs::write(mount.path().join("after"), b"x");
    let s = fs::sync();
    println!("write after: {w:?}, sync: {s:?}");
    let u = mount.unmount();
    println!("unmount: {u:?}");
    kernel.halt()?;
    Ok(())
}

// ---------------------------------------------------------------------------
// 3b. A backend that is slow (a network disk): does removal, or halt, hold
// the kernel's CPU while it waits?

struct SlowBackend {
    inner: FileBackend,
    delay: Duration,
    slow: AtomicBool,
}

impl BlockBackend for SlowBackend {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_only(&self) -> bool {
        false
    }
    fn read_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> std::io::Result<()> {
        if self.slow.load(Ordering::SeqCst) {
            std::thread::sleep(self.delay);
        }
        self.inner.read_at(bufs, offset)
    }
    fn write_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> std::io::Result<()> {
        if self.slow.load(Ordering::SeqCst) {
            std::thread::sleep(self.delay);
        }
        self.inner.write_at(bufs, offset)
    }
    fn flush(&self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A slow read in flight when the kernel halts: halt waits (fine), but is
/// the kernel's clock frozen meanwhile? And a second reader's syscall?
fn halt_slow_backend() -> Outcome {
    let image = dir().join("slow.img");
    std::fs::File::create(&image)?.set_len(8 << 20)?;
    let backend = Arc::new(SlowBackend {
        inner: FileBackend::open(&image, false)?,
        delay: Duration::from_secs(3),
        slow: AtomicBool::new(false),
    });
    let kernel = support::boot_with_proc()?;
    let disk = Disk::with_backend(backend.clone(), "slow")?;
    let node = blk_node(&disk)?;
    backend.slow.store(true, Ordering::SeqCst);
    let reader = std::thread::spawn(move || {
        let fd = fs::raw::open(node.as_str(), OFlags::RDONLY, Mode::empty());
        let t0 = Instant::now();
        let r = fd.map(|fd| {
            let mut buf = vec![0u8; 4096];
            fs::raw::pread(&fd, &mut buf, 1 << 20)
        });
        (t0.elapsed(), format!("{r:?}"))
    });
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    let h = kernel.halt();
    println!(
        "HALT_SLOW halt {:?} after {:?}; reader {:?}",
        h.err(),
        t0.elapsed(),
        reader.join()
    );
    std::mem::forget(disk);
    Ok(())
}

// ---------------------------------------------------------------------------
// 5. Bad images.

fn bad_inputs() -> Outcome {
    let d = dir();
    let kernel = support::boot_with_proc()?;
    // Zero-length image.
    let zero = d.join("zero.img");
    std::fs::File::create(&zero)?;
    let refused = |result: std::io::Result<Disk>, why: &str| {
        let err = result.expect_err(why);
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{why}: {err}");
        println!("refused: {err}");
        err.to_string()
    };
    assert!(refused(Disk::open(&zero), "a zero-length image").contains("empty"));
    // Size not a multiple of 512: the kernel would not see the tail.
    let odd = d.join("odd.img");
    std::fs::File::create(&odd)?.set_len((1 << 20) + 100)?;
    assert!(refused(Disk::open(&odd), "an odd-sized image").contains("512-byte"));
    // /dev/null and /dev/zero: char devices, not images.
    for dev in ["/dev/null", "/dev/zero"] {
        assert!(refused(Disk::open(dev), dev).contains("character device"));
    }
    // A directory.
    assert!(refused(Disk::open(&d), "a directory").contains("directory"));
    // A FIFO, read-write: O_RDWR on a FIFO never blocks.
    let fifo = d.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert!(refused(Disk::open(&fifo), "a FIFO").contains("FIFO"));
    // 1 TiB sparse: write the last 4 KiB and read them back through the
    // kernel's block device.
    let huge = d.join("huge.img");
    std::fs::File::create(&huge)?.set_len(1 << 40)?;
    let disk = Disk::open(&huge)?;
    println!("1 TiB: capacity {:?}", disk.capacity());
    let node = blk_node(&disk)?;
    let fd = fs::raw::open(node.as_str(), OFlags::RDWR, Mode::empty())?;
    let data = pattern(4096, 99);
    let mut aligned = vec![0u8; 8192];
    let off = aligned.as_ptr().align_offset(4096);
    aligned[off..off + 4096].copy_from_slice(&data);
    fs::raw::pwrite(&fd, &aligned[off..off + 4096], (1 << 40) - 4096)?;
    fs::raw::fsync(&fd)?;
    drop(fd);
    disk.remove().map_err(|(_, e)| e)?;
    let mut back = vec![0u8; 4096];
    use std::os::unix::fs::FileExt;
    std::fs::File::open(&huge)?.read_exact_at(&mut back, (1 << 40) - 4096)?;
    println!("1 TiB: last block on the host matches: {}", back == data);
    kernel.halt()?;
    println!("BAD_INPUTS_DONE");
    Ok(())
}

/// Two threads mount a truncated ext4 image each, at once, again and
/// again: each refusal carries its own device's reason from the kernel log
/// ("bad geometry" with its own block counts), never the other's.
fn concurrent_failed_mounts() -> Outcome {
    let d = dir();
    let kernel = support::boot_with_proc()?;
    let mut disks = Vec::new();
    for (name, mib) in [("a.img", 32), ("b.img", 48)] {
        let image = d.join(name);
        mkfs_ext4(&image, mib);
        // Half the file system is gone: ext4 refuses it by its geometry.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&image)?
            .set_len(mib << 19)?;
        disks.push(Arc::new(Disk::open(&image)?));
    }
    let names: Vec<String> = disks
        .iter()
        .map(|disk| disk.device_name())
        .collect::<Result<_, _>>()?;
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = disks
        .iter()
        .map(|disk| {
            let (disk, barrier) = (Arc::clone(disk), Arc::clone(&barrier));
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| {
                        barrier.wait();
                        disk.mount(None, Some("ext4"), MountFlags::empty(), None)
                            .map(drop)
                            .expect_err("a truncated ext4 mounted")
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut bad = 0;
    for (i, thread) in threads.into_iter().enumerate() {
        let (own, other) = (&names[i], &names[1 - i]);
        for error in thread.join().expect("mount thread") {
            let Some((_, reason)) = error.split_once("(kernel: ") else {
                println!("CONCURRENT_MOUNTS no kernel reason: {error}");
                bad += 1;
                continue;
            };
            if !reason.contains(&format!("EXT4-fs ({own}): bad geometry"))
                || reason.contains(other.as_str())
            {
                println!("CONCURRENT_MOUNTS wrong reason for {own}: {error}");
                bad += 1;
            }
        }
    }
    println!(
        "CONCURRENT_MOUNTS {} and {}: {bad} wrong of 40",
        names[0], names[1]
    );
    drop(disks);
    kernel.halt()?;
    Ok(())
}

/// One thread mounts a good ext4 disk and unmounts it, again and again,
/// while another mounts the same disk as xfs, which fails: the failed
/// mount's undo must not take the node the good mount uses.
fn same_device_mount_race() -> Outcome {
    let d = dir();
    let kernel = support::boot_with_proc()?;
    let image = d.join("good.img");
    mkfs_ext4(&image, 32);
    let disk = Arc::new(Disk::open(&image)?);
    let stop = Arc::new(AtomicBool::new(false));
    let failing = {
        let (disk, stop) = (Arc::clone(&disk), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let _ = disk.mount(None, Some("xfs"), MountFlags::RDONLY, None);
                n += 1;
            }
            n
        })
    };
    let mut good_failures = Vec::new();
    for _ in 0..300 {
        match disk.mount(None, Some("ext4"), MountFlags::RDONLY, None) {
            Ok(mount) => mount.unmount()?,
            Err(e) => good_failures.push(e.to_string()),
        }
    }
    stop.store(true, Ordering::SeqCst);
    let tries = failing.join().expect("failing thread");
    for e in good_failures.iter().take(3) {
        println!("SAME_DEVICE good mount failed: {e}");
    }
    println!(
        "SAME_DEVICE {} of 300 good mounts failed beside {tries} failing ones",
        good_failures.len()
    );
    drop(disk);
    kernel.halt()?;
    Ok(())
}

/// `Disk::open_read_only` of a FIFO: `open(O_RDONLY)` on a FIFO blocks
/// until a writer comes.
fn fifo_read_only() -> Outcome {
    let fifo = dir().join("fifo_ro");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let r = with_deadline(Duration::from_secs(3), move || {
        Disk::open_read_only(&fifo)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match r {
        Some(r) => println!("FIFO_RO returned: {r:?}"),
        None => println!("FIFO_RO HANG: Disk::open_read_only did not return in 3 s"),
    }
    Ok(())
}

/// The image shrinks under a mounted file system (truncated on the host).
fn shrink_mounted() -> Outcome {
    let image = dir().join("shrink.img");
    mkfs_ext4(&image, 32);
    let disk = Disk::open(&image)?;
    let kernel = support::boot_with_proc()?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    let root = mount.path().to_owned();
    for i in 0..8u64 {
        let mut f = File::create(root.join(format!("f{i}")))?;
        f.write_all(&pattern(1 << 20, i))?;
        f.sync_all()?;
    }
    // Drop the caches so that reads go to the device.
    drop_caches();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&image)?
        .set_len(4 << 20)?;
    let mut results = Vec::new();
    for i in 0..8u64 {
        let r = fs::read(root.join(format!("f{i}"))).map(|d| d == pattern(1 << 20, i));
        results.push(format!("{r:?}"));
    }
    println!("reads after shrink: {results:?}");
    let w = (|| -> std::io::Result<()> {
        let mut f = File::create(root.join("late"))?;
        f.write_all(&pattern(4 << 20, 42))?;
        f.sync_all()
    })();
    println!("write+fsync after shrink: {w:?}");
    println!("host image size now {}", std::fs::metadata(&image)?.len());
    let u = mount.unmount();
    println!("unmount: {u:?}");
    let r = disk.remove();
    println!("remove: {:?}", r.as_ref().err().map(|(_, e)| e.to_string()));
    kernel.halt()?;
    println!("SHRINK_DONE");
    Ok(())
}

// ---------------------------------------------------------------------------
// 6. Data integrity: concurrent I/O, fsync then SIGKILL.

/// Eight threads write and read back files of their own on one mounted
/// ext4 at once (the parent checks the image with e2fsck afterwards).
fn concurrent_rw() -> Outcome {
    let image = dir().join("conc.img");
    mkfs_ext4(&image, 128);
    let disk = Disk::open(&image)?;
    let kernel = support::boot_with_proc()?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    let root = mount.path().to_owned();
    let mut threads = Vec::new();
    for t in 0..8u64 {
        let root = root.clone();
        threads.push(std::thread::spawn(move || -> Result<u64, String> {
            let mut bad = 0;
            for i in 0..30u64 {
                let len = 4096 * (1 + ((t * 7 + i * 13) % 97) as usize) + (i as usize % 511);
                let path = root.join(format!("t{t}-{}", i % 5));
                let data = pattern(len, t << 32 | i);
                let mut f = File::create(&path).map_err(|e| e.to_string())?;
                f.write_all(&data).map_err(|e| e.to_string())?;
                if i % 3 == 0 {
                    f.sync_data().map_err(|e| e.to_string())?;
                }
                drop(f);
                if i % 4 == 0 {
                    drop_caches();
                }
                let mut back = Vec::new();
                File::open(&path)
                    .and_then(|mut f| f.read_to_end(&mut back))
                    .map_err(|e| e.to_string())?;
                if back != data {
                    bad += 1;
                }
            }
            Ok(bad)
        }));
    }
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    println!(
        "CONCURRENT {} threads, mismatches per thread: {results:?}",
        results.len()
    );
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    for r in results {
        if r? != 0 {
            return Err("data mismatch".into());
        }
    }
    Ok(())
}

/// Writes files, fsyncs each, prints its name; the parent kills the child
/// with SIGKILL at some point and checks the image.
/// Synced files each writer makes at most: 4 x 400 x 64 KiB = 100 MiB.
const SYNCED_PER_THREAD: u64 = 400;

fn crash_writer() -> Outcome {
    let image = dir().join("crash.img");
    let disk = Disk::open(&image)?;
    let _kernel = support::boot_with_proc()?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    let root = mount.path().to_owned();
    let mut threads = Vec::new();
    for t in 0..4u64 {
        let root = root.clone();
        threads.push(std::thread::spawn(move || {
            for i in 0.. {
                // Unsynced noise: rewritten all the time, so the session
                // is still writing when the kill comes.
                fs::write(root.join(format!("u{t}-{}", i % 3)), pattern(200 << 10, i)).unwrap();
                // At most SYNCED_PER_THREAD synced files, so that a fast
                // machine never fills the image (a full image made the
                // writers end before the kill).
                if i >= SYNCED_PER_THREAD {
                    continue;
                }
                let name = format!("s{t}-{i}");
                let data = pattern(64 << 10, t << 32 | i);
                let mut f = File::create(root.join(&name)).unwrap();
                f.write_all(&data).unwrap();
                f.sync_all().unwrap();
                drop(f);
                // The directory entry too.
                let d = fs::raw::open(
                    root.as_path(),
                    OFlags::RDONLY | OFlags::DIRECTORY,
                    Mode::empty(),
                )
                .unwrap();
                fs::raw::fsync(&d).unwrap();
                println!("SYNCED {name}");
            }
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Reads back the files named in `LKL_HOSTILE_SYNCED` from the crashed image.
fn crash_verify() -> Outcome {
    let image =
        dir().join(std::env::var("LKL_HOSTILE_IMAGE").unwrap_or_else(|_| "crash.img".into()));
    let names = std::env::var("LKL_HOSTILE_SYNCED")?;
    let disk = Disk::open(&image)?;
    let kernel = support::boot_with_proc()?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    let root = mount.path().to_owned();
    let mut bad = Vec::new();
    let mut ok = 0;
    for name in names.split(',').filter(|n| !n.is_empty()) {
        let (t, i) = name[1..].split_once('-').unwrap();
        let (t, i): (u64, u64) = (t.parse()?, i.parse()?);
        match fs::read(root.join(name)) {
            Ok(d) if d == pattern(64 << 10, t << 32 | i) => ok += 1,
            Ok(d) => bad.push(format!("{name}: wrong content ({} bytes)", d.len())),
            Err(e) => bad.push(format!("{name}: {e}")),
        }
    }
    println!("CRASH_VERIFY ok={ok} bad={bad:?}");
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    if !bad.is_empty() {
        return Err("synced files lost".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Harness.

type Scenario = (&'static str, fn() -> Outcome);

const SCENARIOS: &[Scenario] = &[
    ("halt_inflight", halt_inflight),
    ("halt_unsynced", halt_unsynced),
    ("halt_vs_hotplug", halt_vs_hotplug),
    ("same_image_twice", same_image_twice),
    ("remove_open_race", remove_open_race),
    ("remove_mount_race", remove_mount_race),
    ("readd_cycle", readd_cycle),
    ("irq_exhaust", irq_exhaust),
    ("stale_handle", stale_handle),
    ("unbind_rebind", unbind_rebind),
    ("unbind_mounted_then_remove", unbind_mounted_then_remove),
    ("halt_slow_backend", halt_slow_backend),
    ("bad_inputs", bad_inputs),
    ("concurrent_failed_mounts", concurrent_failed_mounts),
    ("same_device_mount_race", same_device_mount_race),
    ("fifo_read_only", fifo_read_only),
    ("shrink_mounted", shrink_mounted),
    ("concurrent_rw", concurrent_rw),
    ("crash_writer", crash_writer),
    ("crash_verify", crash_verify),
];

/// Held by each test in the parent: the scenarios run one at a time, even
/// under a parallel test harness (several boot kernels and time things).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// In a child, runs the scenario and exits; in the parent, returns the
/// guard that keeps the other tests waiting.
fn child_entry() -> std::sync::MutexGuard<'static, ()> {
    support::child_entry(SCENARIOS);
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn scenario_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lkl-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(name: &str, limit: Duration) -> (Run, PathBuf) {
    let d = scenario_dir(name);
    let r = wait(spawn(name, &format!("{name}_t"), &d, &[]), limit);
    println!(
        "== {name}: {:?} in {:?}\n{}",
        r.status,
        r.elapsed,
        interesting(&r.out)
    );
    (r, d)
}

/// [`run`], for a scenario that needs no look at its directory afterwards:
/// removes the directory and asserts that the child passed.
fn run_passed(name: &str, limit: Duration) -> Run {
    let (r, d) = run(name, limit);
    let _ = std::fs::remove_dir_all(&d);
    assert!(ok(&r), "{name}");
    r
}

fn fsck(image: &Path) -> (i32, String) {
    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(image)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn ok(r: &Run) -> bool {
    r.ok()
}

#[test]
fn halt_inflight_t() {
    let _serial = child_entry();
    for _ in 0..3 {
        let (r, d) = run("halt_inflight", Duration::from_secs(60));
        assert!(ok(&r), "halt with I/O in flight failed");
        assert!(r.out.contains("HALT_INFLIGHT_DONE"));
        // A halted kernel leaves a journal to replay: fsck -fy on a copy
        // must fix everything (the journal replays).
        let copy = d.join("copy.img");
        std::fs::copy(d.join("halt.img"), &copy).unwrap();
        let out = Command::new("e2fsck")
            .arg("-fy")
            .arg(&copy)
            .output()
            .unwrap();
        println!(
            "e2fsck -fy: {:?}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            out.status.code().unwrap_or(8) <= 1,
            "image damaged beyond journal replay"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}

#[test]
fn halt_unsynced_t() {
    let _serial = child_entry();
    let (r, d) = run("halt_unsynced", Duration::from_secs(60));
    assert!(ok(&r));
    let image = d.join("unsynced.img");
    let (code, text) = fsck(&image);
    println!("e2fsck -fn after halt with a live mount: {code}\n{text}");
    let out = Command::new("debugfs")
        .args(["-R", "stat /unsynced"])
        .arg(&image)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("debugfs stat /unsynced:\n{text}");
    let _ = std::fs::remove_dir_all(&d);
    assert!(
        text.contains("Size: 4194304"),
        "4 MiB written through a live mount, kernel halted: the file is not on the image"
    );
}

#[test]
fn halt_vs_hotplug_t() {
    let _serial = child_entry();
    for _ in 0..3 {
        let (r, d) = run("halt_vs_hotplug", Duration::from_secs(60));
        let _ = std::fs::remove_dir_all(&d);
        assert!(ok(&r), "halt racing hotplug");
        assert!(r.out.contains("HALT_VS_HOTPLUG_DONE"));
    }
}

#[test]
fn same_image_twice_t() {
    let _serial = child_entry();
    let (r, d) = run("same_image_twice", Duration::from_secs(60));
    let (code, _) = fsck(&d.join("twice.img"));
    let _ = std::fs::remove_dir_all(&d);
    assert!(ok(&r), "{}", r.out);
    assert!(
        r.out.contains("SAME_IMAGE second open refused"),
        "one image opened as two disks\n{}",
        r.out
    );
    assert_eq!(code, 0, "the image is not clean after the refused open");
}

#[test]
fn remove_open_race_t() {
    let _serial = child_entry();
    let r = run_passed("remove_open_race", Duration::from_secs(120));
    assert!(
        r.out.contains("violations=0 "),
        "a removal succeeded while the block device was open"
    );
}

#[test]
fn remove_mount_race_t() {
    let _serial = child_entry();
    let r = run_passed("remove_mount_race", Duration::from_secs(120));
    assert!(
        r.out.contains("violations=0"),
        "removal succeeded under a live mount"
    );
}

#[test]
fn readd_cycle_t() {
    let _serial = child_entry();
    run_passed("readd_cycle", Duration::from_secs(240));
}

#[test]
fn irq_exhaust_t() {
    let _serial = child_entry();
    let r = run_passed("irq_exhaust", Duration::from_secs(120));
    assert!(r.out.contains("added=63 "), "63 interrupts for disks");
}

#[test]
fn stale_handle_t() {
    let _serial = child_entry();
    let r = run_passed("stale_handle", Duration::from_secs(60));
    assert!(
        r.out.contains("STALE_HANDLE b still there"),
        "dropping a Disk of a halted kernel removed another disk"
    );
}

#[test]
fn unbind_rebind_t() {
    let _serial = child_entry();
    run_passed("unbind_rebind", Duration::from_secs(120));
}

#[test]
fn unbind_mounted_then_remove_t() {
    let _serial = child_entry();
    run_passed("unbind_mounted_then_remove", Duration::from_secs(60));
}

#[test]
fn halt_slow_backend_t() {
    let _serial = child_entry();
    run_passed("halt_slow_backend", Duration::from_secs(60));
}

#[test]
fn bad_inputs_t() {
    let _serial = child_entry();
    let r = run_passed("bad_inputs", Duration::from_secs(120));
    assert!(r.out.contains("last block on the host matches: true"));
}

#[test]
fn concurrent_failed_mounts_t() {
    let _serial = child_entry();
    let r = run_passed("concurrent_failed_mounts", Duration::from_secs(30));
    assert!(r.out.contains(": 0 wrong of 40"), "{}", r.out);
}

#[test]
fn same_device_mount_race_t() {
    let _serial = child_entry();
    let r = run_passed("same_device_mount_race", Duration::from_secs(30));
    assert!(r.out.contains("SAME_DEVICE 0 of 300"), "{}", r.out);
}

#[test]
fn fifo_read_only_t() {
    let _serial = child_entry();
    let r = run_passed("fifo_read_only", Duration::from_secs(30));
    assert!(
        !r.out.contains("FIFO_RO HANG"),
        "Disk::open_read_only blocks on a FIFO"
    );
}

#[test]
fn shrink_mounted_t() {
    let _serial = child_entry();
    let (r, d) = run("shrink_mounted", Duration::from_secs(60));
    let _ = std::fs::remove_dir_all(&d);
    assert!(ok(&r), "shrinking the image under a mount");
}

#[test]
fn concurrent_rw_t() {
    let _serial = child_entry();
    let (r, d) = run("concurrent_rw", Duration::from_secs(240));
    let (code, text) = fsck(&d.join("conc.img"));
    println!("e2fsck -fn: {code}\n{text}");
    let _ = std::fs::remove_dir_all(&d);
    assert!(ok(&r));
    assert!(r.out.contains("CONCURRENT 8 threads"), "{}", r.out);
    assert_eq!(code, 0, "fsck after a clean unmount");
}

#[test]
fn crash_after_fsync_t() {
    let _serial = child_entry();
    for round in 0..3u64 {
        let d = scenario_dir("crash");
        mkfs_ext4(&d.join("crash.img"), 256);
        let mut child = spawn("crash_writer", "crash_after_fsync_t", &d, &[]);
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let mut buf = [0u8; 4096];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        text.push_str(&String::from_utf8_lossy(&buf[..n]));
                        let _ = tx.send(text.clone());
                    }
                }
            }
        });
        std::thread::sleep(Duration::from_millis(1500 + 700 * round));
        // SAFETY: plain kill of our child.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL),
            "the writer ended before the kill: {status}"
        );
        let mut text = String::new();
        while let Ok(t) = rx.recv_timeout(Duration::from_millis(300)) {
            text = t;
        }
        let synced: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("SYNCED "))
            .collect();
        println!(
            "round {round}: {} files reported synced before SIGKILL",
            synced.len()
        );
        // Killed in the middle of the session: files were synced before,
        // and the writers never stop on their own.
        assert!(synced.len() >= 5, "fewer than 5 files synced: {text}");
        assert!(
            !text.contains("SCENARIO ERROR"),
            "the writer stopped before the kill: {text}"
        );
        // e2fsck recovers the image (on a copy; the original is for the
        // library's own journal replay below).
        let copy = d.join("copy.img");
        std::fs::copy(d.join("crash.img"), &copy).unwrap();
        let out = Command::new("e2fsck")
            .arg("-fy")
            .arg(&copy)
            .output()
            .unwrap();
        println!(
            "e2fsck -fy after SIGKILL: {:?}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            out.status.code().unwrap_or(8) <= 1,
            "e2fsck -fy could not recover the image"
        );
        let (code, text) = fsck(&copy);
        assert_eq!(code, 0, "not clean after e2fsck -fy:\n{text}");
        println!("e2fsck -fn after recovery: clean");
        // Every synced file intact: on the image e2fsck recovered, and on
        // the original, whose journal the library's kernel replays.
        for image in ["copy.img", "crash.img"] {
            let r = wait(
                spawn(
                    "crash_verify",
                    "crash_after_fsync_t",
                    &d,
                    &[
                        ("LKL_HOSTILE_SYNCED", synced.join(",")),
                        ("LKL_HOSTILE_IMAGE", image.to_owned()),
                    ],
                ),
                Duration::from_secs(60),
            );
            println!("verify {image}: {:?}\n{}", r.status, interesting(&r.out));
            assert!(ok(&r), "fsynced files lost after SIGKILL ({image})");
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
