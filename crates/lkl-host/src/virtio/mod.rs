// SPDX-License-Identifier: GPL-2.0
//! virtio-mmio devices on the host side: the register file the kernel's
//! `virtio_mmio` driver talks to (`lkl_host_virtio_read`/`_write`), the
//! kernel's memory as the devices see it (`lkl_host_virtio_memory`), a
//! registry of device slots and interrupt numbers (`lkl_host_virtio_boot_device`
//! and [`add`]/[`remove`]/[`shutdown`]), and a virtio-blk device over a
//! [`BlockBackend`].
//!
//! # Threads and locking
//!
//! Register accesses come from the kernel's CPU owner, perhaps with
//! interrupts off, so they never wait for I/O: a `QueueNotify` write bumps
//! an atomic counter and wakes one of the device's worker threads through a
//! futex. Each device has its own pool of workers (four by default), which
//! pop descriptor chains, do the I/O without the kernel's CPU, put the
//! chains in the used ring and raise the interrupt: bit 0 of
//! `InterruptStatus` is set atomically, then the device's [`Interrupt`] is
//! called. Several requests of one queue are thus in flight at once.
//!
//! Each queue sits behind a short mutex that the workers and the register
//! accesses share, held only to pop a chain or to add a used entry. The
//! rest of the register file has a mutex of its own, which workers never
//! take. `InterruptStatus`, `InterruptACK` and `QueueNotify`, which the
//! interrupt path uses, take no lock at all.
//!
//! A reset (a `Status` write of 0) stops workers from taking new chains,
//! waits until the requests in flight are done (workers never need the
//! kernel's CPU, so this cannot deadlock) and then resets the queues.
//!
//! # Boot and hotplug
//!
//! Devices [`add`]ed before the kernel boots form the boot list, which the
//! kernel reads with `lkl_host_virtio_boot_device`. The kernel boots when
//! it first calls `lkl_host_virtio_memory` or `lkl_host_virtio_boot_device`;
//! from then on [`add`] and [`remove`] tell the kernel through the
//! [`Hotplug`] given to [`set_hotplug`] (`lkl_virtio_mmio_add` and
//! `lkl_virtio_mmio_remove`). After the kernel halted, [`shutdown`] stops
//! every worker and forgets every device.

mod backend;
mod blk;
mod memory;
mod mmio;
mod registry;

use std::io;
use std::sync::Arc;

pub use backend::{BlockBackend, FileBackend, GuestBuf, MemoryBackend};
pub use blk::{BlockConfig, BlockDevice};
pub use memory::{lkl_host_virtio_memory, GuestMemory};
pub use mmio::{lkl_host_virtio_read, lkl_host_virtio_write};
pub use registry::{
    add, generation, lkl_host_virtio_boot_device, lkl_host_virtio_stop, remove, remove_generation,
    set_hotplug, shutdown, DeviceInfo,
};

/// The rust-vmm crates of the public API, for backends and devices written
/// elsewhere.
pub use {virtio_queue, vm_memory};

/// `LKL_VIRTIO_SLOTS`: the number of device slots.
pub const SLOTS: u32 = 256;
/// `LKL_VIRTIO_SLOT_SIZE`: the size of one slot's register window.
pub const SLOT_SIZE: u32 = 0x1000;
/// The interrupt numbers devices get: the kernel has 64 and 0 is its timer.
pub const IRQS: std::ops::RangeInclusive<u32> = 1..=63;

/// A device's interrupt line, which the device raises from its worker
/// threads after it set the cause in `InterruptStatus`. The `lkl` crate
/// wires it to the kernel's `lkl_trigger_irq`.
pub trait Interrupt: Send + Sync {
    /// Raises interrupt `irq`. Called from any thread, never from the
    /// kernel's CPU owner inside a register access.
    fn trigger(&self, irq: u32);
}

impl<F: Fn(u32) + Send + Sync> Interrupt for F {
    fn trigger(&self, irq: u32) {
        self(irq)
    }
}

/// How the registry tells a booted kernel about devices that come and go:
/// the `lkl` crate wires these to `lkl_virtio_mmio_add` and
/// `lkl_virtio_mmio_remove`. Called from the thread that calls [`add`] or
/// [`remove`], with no lock held that register accesses need, so the
/// kernel may probe or reset the device before returning.
pub trait Hotplug: Send + Sync {
    /// Registers the device in `slot`, with interrupt `irq`, with the kernel.
    /// `ENODEV` means the kernel does not run yet: [`add`] calls again,
    /// for up to 10 s.
    fn add(&self, slot: u32, irq: u32) -> io::Result<()>;
    /// Unregisters the device in `slot`; fails (`EBUSY`, say) if the kernel
    /// still uses it.
    fn remove(&self, slot: u32) -> io::Result<()>;
}

/// A descriptor chain as the workers hand it to a device.
pub type DescriptorChain = virtio_queue::DescriptorChain<Arc<GuestMemory>>;

/// A virtio device behind the virtio-mmio transport, which handles feature
/// negotiation, the queues and the worker threads. The transport always
/// adds `VIRTIO_F_VERSION_1`, `VIRTIO_RING_F_EVENT_IDX` and
/// `VIRTIO_RING_F_INDIRECT_DESC` to the device's features.
pub trait VirtioDevice: Send + Sync + 'static {
    /// The virtio device ID (2 for a block device).
    fn device_id(&self) -> u32;
    /// The device-specific feature bits offered.
    fn features(&self) -> u64;
    /// The maximum size of each queue, a power of two; one entry per queue.
    fn queue_max_sizes(&self) -> &[u16];
    /// Reads the configuration space at `offset`; bytes past its end read
    /// as 0.
    fn read_config(&self, offset: u64, data: &mut [u8]);
    /// Writes the configuration space; ignored by default.
    fn write_config(&self, _offset: u64, _data: &[u8]) {}
    /// How many worker threads serve the device.
    fn worker_count(&self) -> usize {
        4
    }
    /// The name of the worker threads (at most 15 bytes).
    fn worker_name(&self) -> &str;
    /// Handles one request of queue `queue`, on a worker thread, and returns
    /// the number of bytes written into the chain's device-writable buffers
    /// (the used entry's length).
    fn process(&self, queue: u16, chain: DescriptorChain) -> u32;
}
