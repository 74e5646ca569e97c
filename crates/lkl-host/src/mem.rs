// SPDX-License-Identifier: GPL-2.0
//! Memory (`lkl_host_mem_*` from the C allocator, `lkl_host_page_*` from
//! anonymous mappings).

use core::ffi::{c_ulong, c_void};
use std::ptr;

/// The alignment the kernel relies on for `lkl_host_mem_alloc`.
const MEM_ALIGN: usize = 16;

/// Allocates `size` bytes aligned to 16 bytes, like `malloc`. Returns NULL
/// on failure. Free with [`lkl_host_mem_free`].
#[no_mangle]
pub extern "C" fn lkl_host_mem_alloc(size: c_ulong) -> *mut c_void {
    let Ok(size) = usize::try_from(size) else {
        return ptr::null_mut();
    };
    let mut memory: *mut c_void = ptr::null_mut();
    // SAFETY: `memory` is a valid out-pointer and MEM_ALIGN is a power of
    // two multiple of the pointer size, as posix_memalign requires. glibc
    // hands alignments it provides anyway straight to malloc.
    if unsafe { libc::posix_memalign(&mut memory, MEM_ALIGN, size) } != 0 {
        return ptr::null_mut();
    }
    memory
}

/// Frees memory from [`lkl_host_mem_alloc`]. NULL is ignored.
///
/// # Safety
///
/// `addr` is NULL or came from [`lkl_host_mem_alloc`] and has not been
/// freed.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_mem_free(addr: *mut c_void) {
    // SAFETY: by the caller's promise `addr` came from posix_memalign (or is
    // NULL), so free accepts it.
    unsafe { libc::free(addr) };
}

/// Maps `size` bytes of zero-filled, page-aligned, readable and writable
/// memory. Returns NULL on failure (including `size` 0). Free with
/// [`lkl_host_page_free`] and the same size.
#[no_mangle]
pub extern "C" fn lkl_host_page_alloc(size: c_ulong) -> *mut c_void {
    let Ok(size) = usize::try_from(size) else {
        return ptr::null_mut();
    };
    // SAFETY: an anonymous private mapping at an address of the kernel's
    // choosing touches no existing memory.
    let memory = unsafe {
        libc::mmap(
            ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if memory == libc::MAP_FAILED {
        return ptr::null_mut();
    }
    memory
}

/// Unmaps memory from [`lkl_host_page_alloc`]. NULL is ignored.
///
/// # Safety
///
/// `addr` is NULL or came from [`lkl_host_page_alloc`] with this `size`,
/// has not been freed, and nothing uses it again.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_page_free(addr: *mut c_void, size: c_ulong) {
    if addr.is_null() {
        return;
    }
    let Ok(size) = usize::try_from(size) else {
        return;
    };
    // SAFETY: by the caller's promise the range is exactly one mapping made
    // by `lkl_host_page_alloc` that nobody uses any more.
    unsafe { libc::munmap(addr, size) };
}
