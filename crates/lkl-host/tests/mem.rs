// SPDX-License-Identifier: GPL-2.0
//! Heap and page allocations.

mod common;

use common::*;
use std::slice;

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap()
}

#[test]
fn mem_alloc_is_16_byte_aligned_and_usable() {
    let mut blocks = Vec::new();
    for size in [1usize, 7, 16, 24, 100, 4096, 100_000, 1 << 22] {
        for _ in 0..4 {
            // SAFETY: plain call of the host interface.
            let block = unsafe { lkl_host_mem_alloc(size as _) };
            assert!(!block.is_null(), "allocating {size} bytes failed");
            assert_eq!(block as usize % 16, 0, "{size} bytes at {block:p}");
            // SAFETY: the block holds `size` writable bytes.
            let bytes = unsafe { slice::from_raw_parts_mut(block.cast::<u8>(), size) };
            bytes.fill(0xa5);
            blocks.push((block, size));
        }
    }
    for (block, size) in blocks {
        // SAFETY: the block still holds `size` bytes and is freed once.
        unsafe {
            let bytes = slice::from_raw_parts(block.cast::<u8>(), size);
            assert!(bytes.iter().all(|&b| b == 0xa5), "blocks overlap");
            lkl_host_mem_free(block);
        }
    }
    // SAFETY: freeing NULL is allowed.
    unsafe { lkl_host_mem_free(std::ptr::null_mut()) };
}

#[test]
fn page_alloc_is_page_aligned_and_zero_filled() {
    let page = page_size();
    for size in [page, 3 * page, 1 << 20, page + 1] {
        // SAFETY: plain call of the host interface.
        let pages = unsafe { lkl_host_page_alloc(size as _) };
        assert!(!pages.is_null());
        assert_eq!(pages as usize % page, 0, "{pages:p} not page aligned");
        // SAFETY: the mapping holds `size` writable bytes and is freed once
        // with the same size.
        unsafe {
            let bytes = slice::from_raw_parts_mut(pages.cast::<u8>(), size);
            assert!(bytes.iter().all(|&b| b == 0), "fresh pages not zeroed");
            bytes.fill(0xff);
            lkl_host_page_free(pages, size as _);
        }
    }
    // SAFETY: size 0 is refused; freeing NULL is allowed.
    unsafe {
        assert!(lkl_host_page_alloc(0).is_null());
        lkl_host_page_free(std::ptr::null_mut(), 0);
    }
}
