// SPDX-License-Identifier: GPL-2.0
//! Review findings on lkl::disk that need no kernel: what a call does with
//! extreme arguments before boot. No kernel boots in this binary.

use std::time::Duration;

use lkl::disk;
use lkl::fs::UnmountFlags;
use lkl::Errno;

/// "Wait as long as it takes" is Duration::MAX; the deadline must not
/// overflow (a panic, which aborts a release build and so a C program
/// through lkl_umount_blkdev). Before boot the kernel refuses at once.
#[test]
fn unmount_device_with_the_longest_timeout_fails_without_panic() {
    let err = disk::unmount_device(0xfe00, UnmountFlags::empty(), Duration::MAX)
        .expect_err("no kernel runs");
    assert_eq!(disk::raw_os_error(&err), Some(Errno::NODEV.raw()), "{err}");
}
