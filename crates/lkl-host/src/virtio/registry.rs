// SPDX-License-Identifier: GPL-2.0
//! The device registry: slots, interrupt numbers, the boot list and
//! hotplug.
//!
//! Register accesses find their device in a lock-free slot table, so that
//! they never wait for an `add` or `remove` in progress: each slot holds a
//! pointer to its device (an `Arc` turned raw) and a count of the register
//! accesses using it. Removal clears the pointer, waits until the count is
//! 0, and only then drops its reference.

use core::ffi::{c_int, c_uint};
use std::collections::BTreeMap;
use std::io;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::mmio::Transport;
use super::{memory, Hotplug, Interrupt, VirtioDevice, IRQS, SLOTS};
use crate::guard::guard;

/// Where a device sits: its register window and its interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The slot, 0..[`SLOTS`](super::SLOTS).
    pub slot: u32,
    /// The interrupt number, in [`IRQS`](super::IRQS).
    pub irq: u32,
}

struct Slot {
    device: AtomicPtr<Transport>,
    /// Register accesses that may be using `device`.
    users: AtomicU32,
}

impl Slot {
    const fn new() -> Self {
        Self {
            device: AtomicPtr::new(ptr::null_mut()),
            users: AtomicU32::new(0),
        }
    }
}

static TABLE: [Slot; SLOTS as usize] = [const { Slot::new() }; SLOTS as usize];

/// Runs `f` on the device in `slot`, if any, without taking a lock.
pub(crate) fn with_device<R>(slot: c_uint, f: impl FnOnce(&Transport) -> R) -> Option<R> {
    let entry = TABLE.get(usize::try_from(slot).ok()?)?;
    entry.users.fetch_add(1, Ordering::SeqCst);
    let device = entry.device.load(Ordering::SeqCst);
    // SAFETY: a non-null pointer came from `Arc::into_raw` in `publish`.
    // `unpublish` clears it and drops that reference only once `users` is
    // 0; we counted ourselves before loading it (both SeqCst), so either we
    // saw null or the reference lives until we uncount ourselves below.
    let result = unsafe { device.as_ref() }.map(f);
    entry.users.fetch_sub(1, Ordering::SeqCst);
    result
}

fn publish(slot: u32, device: &Arc<Transport>) {
    let raw = Arc::into_raw(Arc::clone(device)).cast_mut();
    let old = TABLE[slot as usize].device.swap(raw, Ordering::SeqCst);
    debug_assert!(old.is_null());
}

fn unpublish(slot: u32) {
    let entry = &TABLE[slot as usize];
    let old = entry.device.swap(ptr::null_mut(), Ordering::SeqCst);
    // Register accesses are short, except a reset waiting for the device's
    // requests, which end on their own.
    let mut spins = 0u32;
    while entry.users.load(Ordering::SeqCst) != 0 {
        if spins < 100 {
            std::thread::yield_now();
            spins += 1;
        } else {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
    if !old.is_null() {
        // SAFETY: `old` came from `Arc::into_raw` in `publish` and no
        // register access uses it any more (see `with_device`).
        drop(unsafe { Arc::from_raw(old) });
    }
}

struct Entry {
    transport: Arc<Transport>,
    workers: Vec<JoinHandle<()>>,
    /// Tells this device from a later one in the same slot.
    generation: u64,
}

/// The generation the next device gets.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

impl Entry {
    fn stop(self) {
        self.transport.stop_workers(self.workers);
    }
}

struct State {
    devices: BTreeMap<u32, Entry>,
    /// Bit n set: interrupt n is taken.
    irqs: u64,
    booted: bool,
    /// Devices added before boot, in order.
    boot_list: Vec<DeviceInfo>,
    hotplug: Option<Arc<dyn Hotplug>>,
}

/// Held briefly; never across a hotplug call or a join.
static STATE: Mutex<State> = Mutex::new(State {
    devices: BTreeMap::new(),
    irqs: 0,
    booted: false,
    boot_list: Vec::new(),
    hotplug: None,
});

/// Serialises `add`, `remove` and `shutdown`, across hotplug calls too.
static OPERATIONS: Mutex<()> = Mutex::new(());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // State is updated so that a panic (which aborts anyway) leaves it sound.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn errno(code: c_int) -> io::Error {
    io::Error::from_raw_os_error(code)
}

/// The kernel booted: devices added from now on are hotplugged.
pub(crate) fn mark_booted() {
    lock(&STATE).booted = true;
}

/// Sets (or with `None` clears) how a booted kernel learns of devices that
/// come and go.
pub fn set_hotplug(hotplug: Option<Arc<dyn Hotplug>>) {
    lock(&STATE).hotplug = hotplug;
}

/// Adds `device` in the first free slot with the first free interrupt
/// number and starts its worker threads. Before boot it joins the boot
/// list; after boot the [`Hotplug`] registers it with the kernel. A
/// [`Hotplug::add`] that fails with `ENODEV` (a kernel that read its boot
/// list but has not finished booting) is tried again every millisecond,
/// for up to 10 s, while the device is still there.
///
/// # Errors
///
/// `ENOSPC` when no slot or interrupt is free, `ENODEV` after boot without
/// a [`Hotplug`], or when the device was removed or the kernel halted
/// while the add waited, or after 10 s of `ENODEV`; `EINVAL` for invalid
/// queue sizes, the error of thread creation or of [`Hotplug::add`].
pub fn add(device: Arc<dyn VirtioDevice>, interrupt: Arc<dyn Interrupt>) -> io::Result<DeviceInfo> {
    let mut operations = lock(&OPERATIONS);
    let (info, hotplug, generation) = {
        let mut state = lock(&STATE);
        let hotplug = match (&state.hotplug, state.booted) {
            (_, false) => None,
            (Some(hotplug), true) => Some(Arc::clone(hotplug)),
            (None, true) => return Err(errno(libc::ENODEV)),
        };
        let slot = (0..SLOTS)
            .find(|slot| !state.devices.contains_key(slot))
            .ok_or_else(|| errno(libc::ENOSPC))?;
        let irq = IRQS
            .clone()
            .find(|irq| state.irqs & 1 << irq == 0)
            .ok_or_else(|| errno(libc::ENOSPC))?;
        let transport = Arc::new(Transport::new(irq, device, interrupt)?);
        let workers = transport.start_workers()?;
        publish(slot, &transport);
        state.irqs |= 1 << irq;
        let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
        state.devices.insert(
            slot,
            Entry {
                transport,
                workers,
                generation,
            },
        );
        let info = DeviceInfo { slot, irq };
        if hotplug.is_none() {
            state.boot_list.push(info);
        }
        (info, hotplug, generation)
    };
    let Some(hotplug) = hotplug else {
        return Ok(info);
    };
    // The kernel takes its boot list part-way through its boot, but takes
    // hotplugged devices only once the boot is over: a device added in
    // between is refused with ENODEV. It is tried again until the boot
    // ends, without holding OPERATIONS meanwhile, so that a halt (whose
    // shutdown takes the device away) is never held up.
    let deadline = std::time::Instant::now() + BOOT_WAIT;
    loop {
        match hotplug.add(info.slot, info.irq) {
            Ok(()) => return Ok(info),
            Err(error)
                if error.raw_os_error() == Some(libc::ENODEV)
                    && std::time::Instant::now() < deadline =>
            {
                drop(operations);
                std::thread::sleep(Duration::from_millis(1));
                operations = lock(&OPERATIONS);
                let state = lock(&STATE);
                let ours = state
                    .devices
                    .get(&info.slot)
                    .is_some_and(|entry| entry.generation == generation);
                if !ours || !state.booted {
                    // A halt's shutdown took it, or there is no kernel.
                    return Err(error);
                }
            }
            Err(error) => {
                discard(info.slot);
                return Err(error);
            }
        }
    }
}

/// How long [`add`] waits for a kernel that asked for its boot list to
/// finish booting.
const BOOT_WAIT: Duration = Duration::from_secs(10);

/// Takes the device in `slot` out of the table and the registry and stops
/// its workers. The caller holds `OPERATIONS`.
fn discard(slot: u32) {
    unpublish(slot);
    let entry = {
        let mut state = lock(&STATE);
        state.boot_list.retain(|info| info.slot != slot);
        let entry = state.devices.remove(&slot);
        if let Some(entry) = &entry {
            state.irqs &= !(1 << entry.transport.irq());
        }
        entry
    };
    if let Some(entry) = entry {
        entry.stop();
    }
}

/// Removes the device in `slot`: after boot the [`Hotplug`] unregisters it
/// from the kernel first. Then its worker threads end (a request in
/// progress completes) and its slot and interrupt become free.
///
/// # Errors
///
/// `ENOENT` for an empty slot, `ENODEV` after boot without a [`Hotplug`],
/// the error of [`Hotplug::remove`] (the device then stays).
pub fn remove(slot: u32) -> io::Result<()> {
    remove_checked(slot, None)
}

/// The generation of the device in `slot`: a number no other device of
/// this process gets, so that a handle kept past a halt (which forgets
/// every device) or a removal does not name the device that took its slot
/// since. `None` for an empty slot.
pub fn generation(slot: u32) -> Option<u64> {
    lock(&STATE)
        .devices
        .get(&slot)
        .map(|entry| entry.generation)
}

/// [`remove`], only if the device in `slot` is still of `generation`;
/// `ENOENT` otherwise.
///
/// # Errors
///
/// As [`remove`].
pub fn remove_generation(slot: u32, generation: u64) -> io::Result<()> {
    remove_checked(slot, Some(generation))
}

fn remove_checked(slot: u32, generation: Option<u64>) -> io::Result<()> {
    let _operations = lock(&OPERATIONS);
    let hotplug = {
        let state = lock(&STATE);
        match state.devices.get(&slot) {
            Some(entry) if generation.map_or(true, |g| g == entry.generation) => {}
            _ => return Err(errno(libc::ENOENT)),
        }
        match (&state.hotplug, state.booted) {
            (_, false) => None,
            (Some(hotplug), true) => Some(Arc::clone(hotplug)),
            (None, true) => return Err(errno(libc::ENODEV)),
        }
    };
    if let Some(hotplug) = hotplug {
        hotplug.remove(slot)?;
    }
    discard(slot);
    Ok(())
}

/// At halt, after the kernel stopped and before its memory is freed: stops
/// and joins every device's workers, forgets every device and the kernel's
/// memory. Devices added afterwards form the boot list of the next boot.
pub fn shutdown() {
    let _operations = lock(&OPERATIONS);
    let devices = {
        let mut state = lock(&STATE);
        state.booted = false;
        state.boot_list.clear();
        state.irqs = 0;
        std::mem::take(&mut state.devices)
    };
    for (slot, entry) in devices {
        unpublish(slot);
        entry.stop();
    }
    memory::clear();
}

/// The kernel halted (called after its threads ended, before its memory is
/// freed): [`shutdown`], so that no device touches that memory any more.
#[no_mangle]
pub extern "C" fn lkl_host_virtio_stop() {
    guard("virtio_stop", shutdown)
}

/// The devices added before boot: for `index` 0, 1, ... fills `*slot` and
/// `*irq` and returns 0, then `-ENOENT` after the last. The first call marks
/// the kernel as booted. `-EINVAL` for NULL pointers.
///
/// # Safety
///
/// `slot` and `irq` are NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_virtio_boot_device(
    index: c_uint,
    slot: *mut c_uint,
    irq: *mut c_int,
) -> c_int {
    guard("virtio_boot_device", || {
        if slot.is_null() || irq.is_null() {
            return -libc::EINVAL;
        }
        let mut state = lock(&STATE);
        state.booted = true;
        let Some(info) = usize::try_from(index)
            .ok()
            .and_then(|index| state.boot_list.get(index))
        else {
            return -libc::ENOENT;
        };
        // SAFETY: non-null, and valid for writes by the caller's promise.
        // Interrupt numbers are at most 63.
        unsafe {
            *slot = info.slot;
            *irq = info.irq as c_int;
        }
        0
    })
}
