// SPDX-License-Identifier: GPL-2.0
//! The virtio-mmio transport, version 2: the register file of one device,
//! its split virtqueues and its worker threads.

use core::ffi::{c_int, c_uint, c_ulong};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use virtio_bindings::virtio_config::{
    VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_F_VERSION_1,
};
use virtio_bindings::virtio_mmio::*;
use virtio_bindings::virtio_ring::{VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC};
use virtio_queue::{Queue, QueueT};

use super::memory::{self, GuestMemory};
use super::{registry, Interrupt, VirtioDevice, SLOT_SIZE};
use crate::futex;
use crate::guard::guard;

/// "virt", little-endian.
const MAGIC: u32 = 0x7472_6976;
/// The virtio-mmio version without legacy registers.
const VERSION: u32 = 2;
/// "LKL" as a vendor ID.
const VENDOR: u32 = u32::from_le_bytes(*b"LKL\0");

/// The transport features every device offers.
pub(crate) const TRANSPORT_FEATURES: u64 =
    1 << VIRTIO_F_VERSION_1 | 1 << VIRTIO_RING_F_EVENT_IDX | 1 << VIRTIO_RING_F_INDIRECT_DESC;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock aborts the process (see `guard`), so a
    // poisoned lock is never seen in practice; its state is still sound.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One virtqueue and the memory its rings and buffers are in.
struct VirtQueue {
    queue: Queue,
    /// Taken from the kernel's memory when the queue became ready.
    memory: Option<Arc<GuestMemory>>,
}

/// The registers that are plain state of the driver's.
#[derive(Default)]
struct Registers {
    status: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    queue_sel: u32,
}

/// One device behind the transport; shared by the registry, the slot table
/// and the workers.
pub(crate) struct Transport {
    irq: u32,
    device: Arc<dyn VirtioDevice>,
    interrupt: Arc<dyn Interrupt>,
    device_features: u64,
    /// Lock order: `registers`, then a queue.
    registers: Mutex<Registers>,
    queues: Box<[Mutex<VirtQueue>]>,
    interrupt_status: AtomicU32,
    config_generation: AtomicU32,
    /// DRIVER_OK and not being reset: workers may take chains. Read and
    /// cleared under the queue locks (see `reset`).
    active: AtomicBool,
    /// Chains taken and not yet completed; a futex word that `reset` waits
    /// on.
    in_flight: AtomicU32,
    /// The workers' futex word, bumped for each notification.
    kick: AtomicU32,
    /// The workers must end.
    stop: AtomicBool,
}

impl Transport {
    pub(crate) fn new(
        irq: u32,
        device: Arc<dyn VirtioDevice>,
        interrupt: Arc<dyn Interrupt>,
    ) -> io::Result<Self> {
        let queues = device
            .queue_max_sizes()
            .iter()
            .map(|&size| {
                Queue::new(size)
                    .map(|queue| {
                        Mutex::new(VirtQueue {
                            queue,
                            memory: None,
                        })
                    })
                    .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
            })
            .collect::<io::Result<Box<[_]>>>()?;
        // The transport's own bits are the transport's to offer.
        let device_features = (device.features()
            & !(1 << VIRTIO_F_VERSION_1
                | 1 << VIRTIO_RING_F_EVENT_IDX
                | 1 << VIRTIO_RING_F_INDIRECT_DESC))
            | TRANSPORT_FEATURES;
        Ok(Self {
            irq,
            device,
            interrupt,
            device_features,
            registers: Mutex::new(Registers::default()),
            queues,
            interrupt_status: AtomicU32::new(0),
            config_generation: AtomicU32::new(0),
            active: AtomicBool::new(false),
            in_flight: AtomicU32::new(0),
            kick: AtomicU32::new(0),
            stop: AtomicBool::new(false),
        })
    }

    pub(crate) fn irq(&self) -> u32 {
        self.irq
    }

    /// A register read; `size` is 1, 2, 4 or 8 and `offset` is in the slot.
    pub(crate) fn read(&self, offset: u32, size: usize) -> u64 {
        if offset >= VIRTIO_MMIO_CONFIG {
            let mut bytes = [0u8; 8];
            self.device
                .read_config(u64::from(offset - VIRTIO_MMIO_CONFIG), &mut bytes[..size]);
            return u64::from_le_bytes(bytes);
        }
        // The registers proper are 32 bits wide, read whole.
        if size != 4 || offset % 4 != 0 {
            return 0;
        }
        u64::from(self.read_register(offset))
    }

    fn read_register(&self, offset: u32) -> u32 {
        match offset {
            VIRTIO_MMIO_MAGIC_VALUE => MAGIC,
            VIRTIO_MMIO_VERSION => VERSION,
            VIRTIO_MMIO_DEVICE_ID => self.device.device_id(),
            VIRTIO_MMIO_VENDOR_ID => VENDOR,
            VIRTIO_MMIO_INTERRUPT_STATUS => self.interrupt_status.load(Ordering::SeqCst),
            VIRTIO_MMIO_CONFIG_GENERATION => self.config_generation.load(Ordering::SeqCst),
            // No shared memory regions: a length of all ones says so.
            VIRTIO_MMIO_SHM_LEN_LOW | VIRTIO_MMIO_SHM_LEN_HIGH => u32::MAX,
            VIRTIO_MMIO_SHM_BASE_LOW | VIRTIO_MMIO_SHM_BASE_HIGH => u32::MAX,
            _ => {
                let registers = lock(&self.registers);
                match offset {
                    VIRTIO_MMIO_DEVICE_FEATURES => match registers.device_features_sel {
                        0 => self.device_features as u32,
                        1 => (self.device_features >> 32) as u32,
                        _ => 0,
                    },
                    VIRTIO_MMIO_STATUS => registers.status,
                    VIRTIO_MMIO_QUEUE_NUM_MAX => self
                        .queue(registers.queue_sel)
                        .map_or(0, |vq| u32::from(lock(vq).queue.max_size())),
                    VIRTIO_MMIO_QUEUE_READY => self
                        .queue(registers.queue_sel)
                        .map_or(0, |vq| u32::from(lock(vq).queue.ready())),
                    _ => 0,
                }
            }
        }
    }

    fn queue(&self, index: u32) -> Option<&Mutex<VirtQueue>> {
        self.queues.get(usize::try_from(index).ok()?)
    }

    /// A register write; `size` is 1, 2, 4 or 8 and `offset` is in the slot.
    pub(crate) fn write(&self, offset: u32, size: usize, value: u64) {
        if offset >= VIRTIO_MMIO_CONFIG {
            let bytes = value.to_le_bytes();
            self.device
                .write_config(u64::from(offset - VIRTIO_MMIO_CONFIG), &bytes[..size]);
            return;
        }
        if size != 4 || offset % 4 != 0 {
            return;
        }
        let value = value as u32;
        match offset {
            // Lock-free: the notifier (the kernel's CPU owner) never waits.
            VIRTIO_MMIO_QUEUE_NOTIFY => {
                if self.queue(value).is_some() {
                    self.wake_worker();
                }
            }
            VIRTIO_MMIO_INTERRUPT_ACK => {
                self.interrupt_status.fetch_and(!value, Ordering::SeqCst);
            }
            _ => self.write_register(offset, value),
        }
    }

    fn write_register(&self, offset: u32, value: u32) {
        let mut registers = lock(&self.registers);
        match offset {
            VIRTIO_MMIO_DEVICE_FEATURES_SEL => registers.device_features_sel = value,
            VIRTIO_MMIO_DRIVER_FEATURES_SEL => registers.driver_features_sel = value,
            VIRTIO_MMIO_DRIVER_FEATURES => {
                // Features are fixed once accepted.
                if registers.status & VIRTIO_CONFIG_S_FEATURES_OK == 0 {
                    let sel = registers.driver_features_sel;
                    let features = &mut registers.driver_features;
                    match sel {
                        0 => *features = (*features & !0xffff_ffff) | u64::from(value),
                        1 => *features = (*features & 0xffff_ffff) | u64::from(value) << 32,
                        _ => {}
                    }
                }
            }
            VIRTIO_MMIO_QUEUE_SEL => registers.queue_sel = value,
            VIRTIO_MMIO_STATUS => self.set_status(&mut registers, value),
            _ => {
                let Some(vq) = self.queue(registers.queue_sel) else {
                    return;
                };
                let mut vq = lock(vq);
                if offset == VIRTIO_MMIO_QUEUE_READY {
                    self.set_queue_ready(&mut vq, value == 1);
                    return;
                }
                // A live queue's layout is fixed.
                if vq.queue.ready() {
                    return;
                }
                let queue = &mut vq.queue;
                match offset {
                    VIRTIO_MMIO_QUEUE_NUM => {
                        // An invalid size (not a power of two, too large) is
                        // refused and the queue keeps its old one.
                        if let Ok(size) = u16::try_from(value) {
                            let _ = queue.try_set_size(size);
                        }
                    }
                    VIRTIO_MMIO_QUEUE_DESC_LOW => queue.set_desc_table_address(Some(value), None),
                    VIRTIO_MMIO_QUEUE_DESC_HIGH => queue.set_desc_table_address(None, Some(value)),
                    VIRTIO_MMIO_QUEUE_AVAIL_LOW => queue.set_avail_ring_address(Some(value), None),
                    VIRTIO_MMIO_QUEUE_AVAIL_HIGH => queue.set_avail_ring_address(None, Some(value)),
                    VIRTIO_MMIO_QUEUE_USED_LOW => queue.set_used_ring_address(Some(value), None),
                    VIRTIO_MMIO_QUEUE_USED_HIGH => queue.set_used_ring_address(None, Some(value)),
                    _ => {}
                }
            }
        }
    }

    /// `QueueReady`: a queue goes live only if its rings lie in the
    /// kernel's memory.
    fn set_queue_ready(&self, vq: &mut VirtQueue, ready: bool) {
        if !ready {
            vq.queue.set_ready(false);
            return;
        }
        let Some(memory) = memory::current() else {
            return;
        };
        vq.queue.set_ready(true);
        if vq.queue.is_valid(&*memory) {
            vq.memory = Some(memory);
        } else {
            vq.queue.set_ready(false);
        }
    }

    fn set_status(&self, registers: &mut Registers, value: u32) {
        if value == 0 {
            self.reset(registers);
            return;
        }
        let old = registers.status;
        let mut new = value;
        if new & VIRTIO_CONFIG_S_FEATURES_OK != 0 && old & VIRTIO_CONFIG_S_FEATURES_OK == 0 {
            let features = registers.driver_features;
            let acceptable =
                features & !self.device_features == 0 && features & 1 << VIRTIO_F_VERSION_1 != 0;
            if acceptable {
                let event_idx = features & 1 << VIRTIO_RING_F_EVENT_IDX != 0;
                for vq in self.queues.iter() {
                    lock(vq).queue.set_event_idx(event_idx);
                }
            } else {
                // Not kept: the driver reads the status back and gives up.
                new &= !VIRTIO_CONFIG_S_FEATURES_OK;
            }
        }
        registers.status = new;
        let live = VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK;
        if new & live == live && old & VIRTIO_CONFIG_S_DRIVER_OK == 0 {
            self.active.store(true, Ordering::SeqCst);
            // Chains may have been made available before DRIVER_OK.
            self.wake_worker();
        }
    }

    /// Device reset: no new chains are taken, the ones in flight complete,
    /// then the queues and registers go back to their initial state.
    fn reset(&self, registers: &mut Registers) {
        self.active.store(false, Ordering::SeqCst);
        // A worker checks `active` and counts its chain in flight under the
        // queue's lock; once we held each lock, no new chain can be taken.
        for vq in self.queues.iter() {
            drop(lock(vq));
        }
        loop {
            let in_flight = self.in_flight.load(Ordering::SeqCst);
            if in_flight == 0 {
                break;
            }
            futex::wait(&self.in_flight, in_flight);
        }
        for vq in self.queues.iter() {
            let mut vq = lock(vq);
            vq.queue.reset();
            vq.memory = None;
        }
        self.interrupt_status.store(0, Ordering::SeqCst);
        *registers = Registers::default();
    }

    fn wake_worker(&self) {
        self.kick.fetch_add(1, Ordering::SeqCst);
        futex::wake(&self.kick, 1);
    }

    /// Takes the next available chain of any queue, counted in flight, and
    /// its queue's index.
    fn take_chain(&self, first: usize) -> Option<(u16, super::DescriptorChain)> {
        let count = self.queues.len();
        for index in (first..count).chain(0..first) {
            let mut vq = lock(&self.queues[index]);
            if !self.active.load(Ordering::SeqCst) {
                return None;
            }
            if !vq.queue.ready() {
                continue;
            }
            let Some(memory) = vq.memory.clone() else {
                continue;
            };
            // One retry: a chain may have come in just before notifications
            // were enabled again; more would spin on a broken ring.
            for _ in 0..2 {
                if let Some(chain) = vq.queue.pop_descriptor_chain(Arc::clone(&memory)) {
                    self.in_flight.fetch_add(1, Ordering::SeqCst);
                    // More waiting: let another worker take it meanwhile.
                    let more = vq
                        .queue
                        .avail_idx(&*memory, Ordering::Acquire)
                        .is_ok_and(|idx| idx.0 != vq.queue.next_avail());
                    drop(vq);
                    if more {
                        self.wake_worker();
                    }
                    return Some((index as u16, chain));
                }
                // Empty: ask for a notification (with EVENT_IDX, set
                // avail_event) before sleeping.
                if !matches!(vq.queue.enable_notification(&*memory), Ok(true)) {
                    break;
                }
            }
        }
        None
    }

    /// Puts a processed chain in the used ring and raises the interrupt if
    /// the driver wants one.
    fn complete(&self, queue: u16, head: u16, len: u32) {
        let notify = {
            let mut vq = lock(&self.queues[usize::from(queue)]);
            match vq.memory.clone() {
                Some(memory) => {
                    vq.queue.add_used(&*memory, head, len).is_ok()
                        && vq.queue.needs_notification(&*memory).unwrap_or(true)
                }
                None => false,
            }
        };
        if notify {
            self.interrupt_status
                .fetch_or(VIRTIO_MMIO_INT_VRING, Ordering::SeqCst);
            self.interrupt.trigger(self.irq);
        }
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            futex::wake(&self.in_flight, u32::MAX);
        }
    }

    fn worker(&self, id: usize) {
        loop {
            let seen = self.kick.load(Ordering::SeqCst);
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            match self.take_chain(id % self.queues.len().max(1)) {
                Some((queue, chain)) => {
                    let head = chain.head_index();
                    let len = self.device.process(queue, chain);
                    self.complete(queue, head, len);
                }
                None => futex::wait(&self.kick, seen),
            }
        }
    }

    /// Starts the device's worker threads, with every signal blocked.
    pub(crate) fn start_workers(self: &Arc<Self>) -> io::Result<Vec<JoinHandle<()>>> {
        let mut workers = Vec::new();
        for id in 0..self.device.worker_count().max(1) {
            let transport = Arc::clone(self);
            let spawned = crate::irq::with_signals_blocked(|| {
                std::thread::Builder::new()
                    .name(self.device.worker_name().into())
                    .spawn(move || {
                        crate::irq::block_program_signals();
                        guard("virtio worker", || transport.worker(id));
                    })
            });
            match spawned {
                Ok(handle) => workers.push(handle),
                Err(error) => {
                    self.stop_workers(workers);
                    return Err(error);
                }
            }
        }
        Ok(workers)
    }

    /// Ends and joins the workers; a request being processed completes
    /// first.
    pub(crate) fn stop_workers(&self, workers: Vec<JoinHandle<()>>) {
        self.stop.store(true, Ordering::SeqCst);
        self.kick.fetch_add(1, Ordering::SeqCst);
        futex::wake(&self.kick, u32::MAX);
        for worker in workers {
            let _ = worker.join();
        }
    }
}

/// The access size in bytes, if valid, and the offset, if in the slot.
fn access(offset: c_uint, size: c_int) -> Option<(u32, usize)> {
    let size = match size {
        1 | 2 | 4 | 8 => size as usize,
        _ => return None,
    };
    (offset < SLOT_SIZE && offset as usize + size <= SLOT_SIZE as usize).then_some((offset, size))
}

/// All ones in the low `size` bytes: what a read of an empty slot returns.
fn all_ones(size: c_int) -> c_ulong {
    match size {
        1 => 0xff,
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => c_ulong::MAX,
    }
}

/// Reads the register at `offset` (1, 2, 4 or 8 bytes) of the device in
/// `slot`: all ones in `size` bytes for an empty slot or a bad access,
/// little-endian. Never waits for I/O.
#[no_mangle]
pub extern "C" fn lkl_host_virtio_read(slot: c_uint, offset: c_uint, size: c_int) -> c_ulong {
    guard("virtio_read", || {
        access(offset, size)
            .and_then(|(offset, size)| {
                registry::with_device(slot, |device| device.read(offset, size) as c_ulong)
            })
            .unwrap_or_else(|| all_ones(size))
    })
}

/// Writes the register at `offset` (1, 2, 4 or 8 bytes) of the device in
/// `slot`; ignored for an empty slot. A `QueueNotify` write only wakes a
/// worker thread; a reset waits for the device's requests in flight.
#[no_mangle]
pub extern "C" fn lkl_host_virtio_write(slot: c_uint, offset: c_uint, size: c_int, value: c_ulong) {
    guard("virtio_write", || {
        if let Some((offset, size)) = access(offset, size) {
            registry::with_device(slot, |device| device.write(offset, size, value));
        }
    })
}
