// SPDX-License-Identifier: GPL-2.0
//! The kernel's memory as devices see it: its physical (DMA) address `p` is
//! the host address `base + p`, one region at guest address 0.

use core::ffi::{c_ulong, c_void};
use std::sync::{Arc, Mutex, PoisonError};

use vm_memory::{GuestAddress, GuestRegionMmap, MmapRegion};

use crate::guard::guard;

/// The kernel's memory: one region from physical address 0.
pub type GuestMemory = vm_memory::GuestMemoryMmap<()>;

/// The memory given at boot. Devices take a reference when a queue becomes
/// ready and keep it until reset, so replacing it never pulls memory from
/// under a worker.
static MEMORY: Mutex<Option<Arc<GuestMemory>>> = Mutex::new(None);

/// The kernel's memory, if it was given.
pub(crate) fn current() -> Option<Arc<GuestMemory>> {
    MEMORY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Forgets the memory, at halt.
pub(crate) fn clear() {
    *MEMORY.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

/// Builds the memory map over `size` bytes at `base`.
///
/// # Safety
///
/// As for [`lkl_host_virtio_memory`].
unsafe fn build(base: *mut u8, size: usize) -> Option<GuestMemory> {
    // SAFETY: the caller promises that base..base + size is mapped,
    // readable and writable while devices use it. The region does not own
    // the mapping (it never unmaps it); prot and flags only describe it.
    // The kernel and the devices share the memory as a guest and its
    // devices do: devices touch it through volatile accessors and system
    // calls only, and only where the driver handed them buffers.
    let region = unsafe {
        MmapRegion::build_raw(
            base,
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        )
    }
    .ok()?;
    let region = GuestRegionMmap::new(region, GuestAddress(0))?;
    GuestMemory::from_regions(vec![region]).ok()
}

/// Tells where the kernel's memory is: physical address `p` is the host
/// address `base + p`, for `p < size`. The kernel calls this once at boot,
/// before any register access; it also marks the kernel as booted (see
/// [`add`](super::add)). A NULL `base`, a `size` of 0 or a `base` that is
/// not page-aligned leaves devices without memory: their queues never
/// become ready.
///
/// # Safety
///
/// `base..base + size` is mapped, readable and writable, and stays so until
/// the kernel halted and [`shutdown`](super::shutdown) returned.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_virtio_memory(base: *mut c_void, size: c_ulong) {
    guard("virtio_memory", || {
        let memory = match usize::try_from(size) {
            Ok(size) if !base.is_null() && size != 0 => {
                // SAFETY: by the caller's promise.
                unsafe { build(base.cast(), size) }
            }
            _ => None,
        };
        *MEMORY.lock().unwrap_or_else(PoisonError::into_inner) = memory.map(Arc::new);
        super::registry::mark_booted();
    })
}
