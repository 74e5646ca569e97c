// SPDX-License-Identifier: GPL-2.0
//! The device registry across a boot: the boot list, interrupt numbers,
//! hotplug after boot, removal and shutdown at halt, and the worker
//! threads. One test function: the registry is process-wide.

mod virtio_driver;

use std::ffi::{c_int, c_uint};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lkl_host::lkl_host_virtio_boot_device;
use lkl_host::virtio::{self, BlockConfig, BlockDevice, DeviceInfo, Hotplug, MemoryBackend};
use virtio_driver::*;

#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
    /// The errno the next call fails with, if any.
    fail: Mutex<Option<i32>>,
    /// How many more adds are refused with ENODEV, as by a kernel that
    /// read its boot list but has not finished booting.
    booting: AtomicUsize,
}

impl Recorder {
    fn answer(&self, call: String) -> io::Result<()> {
        self.calls.lock().unwrap().push(call);
        match self.fail.lock().unwrap().take() {
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
            None => Ok(()),
        }
    }

    fn calls(&self) -> Vec<String> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }

    /// Waits until an add was refused, so that its caller waits for the
    /// boot to end.
    fn wait_refused(&self) {
        let deadline = Instant::now() + TIMEOUT;
        while !self
            .calls
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.starts_with("refused"))
        {
            assert!(Instant::now() < deadline, "no add was refused");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Hotplug for Recorder {
    fn add(&self, slot: u32, irq: u32) -> io::Result<()> {
        let booting = self
            .booting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if booting.is_ok() {
            self.calls.lock().unwrap().push(format!("refused {slot}"));
            return Err(io::Error::from_raw_os_error(libc::ENODEV));
        }
        self.answer(format!("add {slot} {irq}"))
    }
    fn remove(&self, slot: u32) -> io::Result<()> {
        self.answer(format!("remove {slot}"))
    }
}

fn add(workers: usize) -> io::Result<DeviceInfo> {
    let device = BlockDevice::new(
        Arc::new(MemoryBackend::new(1 << 20)),
        BlockConfig {
            workers,
            ..BlockConfig::default()
        },
    );
    virtio::add(Arc::new(device), Arc::new(|_irq: u32| {}))
}

fn boot_device(index: c_uint) -> Result<(c_uint, c_int), c_int> {
    let (mut slot, mut irq) = (c_uint::MAX, -1);
    // SAFETY: valid out-pointers.
    match unsafe { lkl_host_virtio_boot_device(index, &mut slot, &mut irq) } {
        0 => Ok((slot, irq)),
        error => Err(error),
    }
}

/// The threads of this process named `name`, with their blocked signals.
fn threads(name: &str) -> Vec<u64> {
    let mut masks = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(task.join("comm")) else {
            continue;
        };
        if comm.trim_end() != name {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(task.join("status")) else {
            continue;
        };
        let mask = status
            .lines()
            .find_map(|line| line.strip_prefix("SigBlk:"))
            .map(|mask| u64::from_str_radix(mask.trim(), 16).unwrap())
            .unwrap();
        masks.push(mask);
    }
    masks
}

/// [`threads`], once `count` of them run: a new thread names itself when it
/// starts, a joined one is gone.
fn threads_settled(name: &str, count: usize) -> Vec<u64> {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let masks = threads(name);
        if masks.len() == count || std::time::Instant::now() > deadline {
            return masks;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn errno(error: io::Error) -> i32 {
    error.raw_os_error().unwrap()
}

#[test]
fn boot_list_hotplug_and_shutdown() {
    // Before boot: devices form the boot list, nothing is hotplugged.
    let recorder = Arc::new(Recorder::default());
    virtio::set_hotplug(Some(recorder.clone()));
    let first = add(2).unwrap();
    let second = add(2).unwrap();
    assert_eq!(first, DeviceInfo { slot: 0, irq: 1 });
    assert_eq!(second, DeviceInfo { slot: 1, irq: 2 });
    assert!(recorder.calls().is_empty());

    // Two workers each, named, with the program's signals blocked.
    let masks = threads_settled("lkl-blk", 4);
    assert_eq!(masks.len(), 4);
    for mask in masks {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1, libc::SIGALRM] {
            assert_ne!(mask & 1 << (signal - 1), 0, "signal {signal} not blocked");
        }
    }

    // A device removed before boot leaves the list.
    let third = add(1).unwrap();
    assert_eq!(third, DeviceInfo { slot: 2, irq: 3 });
    virtio::remove(third.slot).unwrap();
    assert!(recorder.calls().is_empty());

    // The kernel reads the list at boot.
    assert_eq!(boot_device(0), Ok((0, 1)));
    assert_eq!(boot_device(1), Ok((1, 2)));
    assert_eq!(boot_device(2), Err(-libc::ENOENT));
    assert_eq!(boot_device(u32::MAX), Err(-libc::ENOENT));
    // SAFETY: NULL pointers are refused, not written.
    let refused =
        unsafe { lkl_host_virtio_boot_device(0, std::ptr::null_mut(), std::ptr::null_mut()) };
    assert_eq!(refused, -libc::EINVAL);
    memory();

    // After boot, devices are hotplugged; the freed slot and interrupt are
    // reused.
    let hot = add(1).unwrap();
    assert_eq!(hot, DeviceInfo { slot: 2, irq: 3 });
    assert_eq!(recorder.calls(), ["add 2 3"]);
    assert_eq!(read32(hot.slot, DEVICE_ID), 2);

    // A failed hotplug leaves no device behind.
    *recorder.fail.lock().unwrap() = Some(libc::ENOMEM);
    assert_eq!(errno(add(1).unwrap_err()), libc::ENOMEM);
    assert_eq!(recorder.calls(), ["add 3 4"]);
    assert_eq!(read32(3, MAGIC_VALUE), 0xffff_ffff);
    assert_eq!(threads_settled("lkl-blk", 5).len(), 5);

    // A device the kernel still uses stays.
    *recorder.fail.lock().unwrap() = Some(libc::EBUSY);
    assert_eq!(errno(virtio::remove(first.slot).unwrap_err()), libc::EBUSY);
    assert_eq!(read32(first.slot, DEVICE_ID), 2);
    virtio::remove(first.slot).unwrap();
    assert_eq!(recorder.calls(), ["remove 0", "remove 0"]);
    assert_eq!(read32(first.slot, MAGIC_VALUE), 0xffff_ffff);
    assert_eq!(threads_settled("lkl-blk", 3).len(), 3);

    // Without a way to tell the booted kernel, nothing comes or goes.
    virtio::set_hotplug(None);
    assert_eq!(errno(add(1).unwrap_err()), libc::ENODEV);
    assert_eq!(
        errno(virtio::remove(second.slot).unwrap_err()),
        libc::ENODEV
    );
    assert_eq!(errno(virtio::remove(200).unwrap_err()), libc::ENOENT);

    // Halt: every worker is joined, every slot empty.
    virtio::shutdown();
    assert!(threads("lkl-blk").is_empty());
    for slot in [0, 1, 2] {
        assert_eq!(read32(slot, MAGIC_VALUE), 0xffff_ffff);
    }

    // The next boot starts from an empty list, and the interrupt numbers
    // run out after 63 devices.
    assert_eq!(boot_device(0), Err(-libc::ENOENT));
    virtio::shutdown();
    let mut irqs = Vec::new();
    for _ in 0..63 {
        irqs.push(add(1).unwrap().irq);
    }
    assert_eq!(irqs, (1..=63).collect::<Vec<_>>());
    assert_eq!(errno(add(1).unwrap_err()), libc::ENOSPC);
    assert_eq!(boot_device(62), Ok((62, 63)));
    assert_eq!(threads_settled("lkl-blk", 63).len(), 63);
    virtio::shutdown();
    assert!(threads("lkl-blk").is_empty());

    // A device added after the kernel read its boot list but before its
    // boot ended is refused with ENODEV: add tries again until the kernel
    // takes it.
    virtio::set_hotplug(Some(recorder.clone()));
    assert_eq!(boot_device(0), Err(-libc::ENOENT));
    recorder.booting.store(5, Ordering::SeqCst);
    let late = add(1).unwrap();
    assert_eq!(late, DeviceInfo { slot: 0, irq: 1 });
    let mut expected = vec!["refused 0".to_owned(); 5];
    expected.push("add 0 1".to_owned());
    assert_eq!(recorder.calls(), expected);
    assert_eq!(read32(late.slot, DEVICE_ID), 2);

    // Meanwhile other adds go on too, each in its own slot.
    recorder.booting.store(usize::MAX, Ordering::SeqCst);
    let (first_waiting, second_waiting) = std::thread::scope(|scope| {
        let first = scope.spawn(|| add(1));
        recorder.wait_refused();
        let second = scope.spawn(|| add(1));
        std::thread::sleep(Duration::from_millis(20));
        recorder.booting.store(0, Ordering::SeqCst);
        (first.join().unwrap(), second.join().unwrap())
    });
    let mut slots = [first_waiting.unwrap().slot, second_waiting.unwrap().slot];
    slots.sort_unstable();
    assert_eq!(slots, [1, 2]);
    let mut added: Vec<_> = recorder
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("add"))
        .collect();
    added.sort();
    assert_eq!(added, ["add 1 2", "add 2 3"]);

    // A device removed while its add waits: the add fails with ENODEV and
    // leaves nothing behind.
    recorder.booting.store(usize::MAX, Ordering::SeqCst);
    let started = Instant::now();
    let (waiting, removed) = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| add(1));
        recorder.wait_refused();
        let removed = virtio::remove(3);
        (waiting.join().unwrap(), removed)
    });
    removed.unwrap();
    assert_eq!(errno(waiting.unwrap_err()), libc::ENODEV);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(recorder.calls().contains(&"remove 3".to_owned()));
    assert_eq!(read32(3, MAGIC_VALUE), 0xffff_ffff);
    assert_eq!(virtio::generation(3), None);
    assert_eq!(threads_settled("lkl-blk", 3).len(), 3);

    // A halt while an add waits: the shutdown is not held up, and the add
    // fails with ENODEV, its device gone with the others.
    let started = Instant::now();
    let waiting = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| add(1));
        recorder.wait_refused();
        virtio::shutdown();
        waiting.join().unwrap()
    });
    assert_eq!(errno(waiting.unwrap_err()), libc::ENODEV);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(threads("lkl-blk").is_empty());
    for slot in 0..4 {
        assert_eq!(virtio::generation(slot), None);
    }
    // After the halt, devices form the next boot's list again.
    recorder.booting.store(0, Ordering::SeqCst);
    recorder.calls();
    let next = add(1).unwrap();
    assert_eq!(next, DeviceInfo { slot: 0, irq: 1 });
    assert!(recorder.calls().is_empty());
    virtio::shutdown();
}
