// SPDX-License-Identifier: GPL-2.0
//! lkl_host_copy_user: faults stop the copy and report what is left; faults
//! elsewhere still reach the handler that was there before.

mod common;

use common::*;
use std::ffi::c_void;
use std::os::unix::process::ExitStatusExt;

fn page() -> usize {
    // SAFETY: sysconf has no memory side effects.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

#[test]
fn copies_and_reports_faults() {
    // SAFETY: installs the process-wide handler, chained to the previous.
    assert_eq!(unsafe { lkl_host_uaccess_init() }, 0);

    let src = [7u8; 100];
    let mut dst = [0u8; 100];
    // SAFETY: both buffers are valid for 100 bytes.
    let left = unsafe { lkl_host_copy_user(dst.as_mut_ptr().cast(), src.as_ptr().cast(), 100) };
    assert_eq!(left, 0);
    assert_eq!(dst, src);

    // A source that is not mapped at all: nothing is copied.
    // SAFETY: the destination is valid; the source faults and is caught.
    let left = unsafe { lkl_host_copy_user(dst.as_mut_ptr().cast(), 8 as *const c_void, 64) };
    assert_eq!(left, 64);

    // Two pages, the second inaccessible: the copy stops exactly at it.
    let p = page();
    // SAFETY: a fresh anonymous mapping of two pages.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            2 * p,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(map, libc::MAP_FAILED);
    // SAFETY: the second page of our own mapping.
    let protected = unsafe { libc::mprotect(map.cast::<u8>().add(p).cast(), p, libc::PROT_NONE) };
    assert_eq!(protected, 0);
    let mut big = vec![0u8; 2 * p];
    let start = p - 10;
    // SAFETY: reads 10 valid bytes, then faults on the protected page.
    let left = unsafe {
        lkl_host_copy_user(
            big.as_mut_ptr().cast(),
            map.cast::<u8>().add(start).cast(),
            100,
        )
    };
    assert_eq!(left, 90, "10 bytes are readable before the protected page");
    // SAFETY: our own mapping.
    unsafe { libc::munmap(map, 2 * p) };
}

#[test]
fn other_faults_still_crash() {
    let Some(output) = in_child_process("other_faults_still_crash", || {
        // SAFETY: installing the handler; then a deliberate bad write.
        unsafe {
            assert_eq!(lkl_host_uaccess_init(), 0);
            std::ptr::write_volatile(16 as *mut u8, 1);
        }
        unreachable!("the bad write must not return");
    }) else {
        return;
    };
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGSEGV),
        "a fault outside lkl_host_copy_user must keep its default action; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
