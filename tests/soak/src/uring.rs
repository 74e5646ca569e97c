// SPDX-License-Identifier: GPL-2.0
//! io_uring through the raw system calls (x86_64 layouts), without and
//! with SQPOLL.
//!
//! The library kernel has no MMU: mmap of a ring returns the kernel's own
//! memory for it, which the program then reads and writes directly. Both
//! rings go into one mapping when the kernel offers it
//! (`IORING_FEAT_SINGLE_MMAP`): on nommu, mapping the same memory twice is
//! a BUG in mm/nommu.c.

use std::time::Duration;

use lkl::fs::{raw, Mode, OFlags};
use lkl::Fd;
use lkl_test_support::uring::{
    Cqe, Ring, Setup, Sqe, IORING_OP_FSYNC, IORING_OP_NOP, IORING_OP_READ, IORING_OP_WRITE,
    IORING_SETUP_SQPOLL, IOSQE_ASYNC,
};

use crate::mixed::{fill_pattern, WORK_DIR};
use crate::report::{self, check, expect_errno, fail, ok, step, Sys, TOTALS};

const RING_ENTRIES: u32 = 8;
/// How long the SQPOLL thread polls before it sleeps and asks for a wake-up.
const SQ_THREAD_IDLE_MS: u32 = 10;
const BLOCK: usize = 512;

/// Counts the calls the ring makes, as every other call of the soak is.
fn count_ring_call(name: &'static str) {
    let kind = match name {
        "io_uring_setup" => Sys::IoUringSetup,
        "io_uring_enter" => Sys::IoUringEnter,
        "mmap" => Sys::Mmap,
        "munmap" => Sys::Munmap,
        _ => Sys::Close,
    };
    let _ = report::counted(kind, Ok(()));
}

fn must<T>(what: &str, result: Result<T, String>) -> T {
    result.unwrap_or_else(|e| fail(format!("{what}: {e}")))
}

fn new_ring(sqpoll: bool) -> Ring {
    step("io_uring_setup");
    let ring = must(
        "io_uring_setup",
        Ring::new(Setup {
            entries: RING_ENTRIES,
            flags: if sqpoll { IORING_SETUP_SQPOLL } else { 0 },
            sq_thread_idle_ms: SQ_THREAD_IDLE_MS,
            on_call: Some(count_ring_call),
        }),
    );
    check(ring.params().sq_entries >= RING_ENTRIES, || {
        format!(
            "io_uring_setup gave {} SQ entries",
            ring.params().sq_entries
        )
    });
    ring
}

/// Submits `batch`, waits for its completions and counts them.
fn run(ring: &mut Ring, sqpoll: bool, batch: &[Sqe]) -> Vec<Cqe> {
    let done = must("io_uring", ring.run(batch));
    let index = report::ring_index(sqpoll);
    report::add(&TOTALS.ring_ops[index], batch.len() as u64);
    let async_ops = batch.iter().filter(|s| s.flags & IOSQE_ASYNC != 0).count();
    report::add(&TOTALS.ring_async_ops[index], async_ops as u64);
    done
}

/// Checks the ring lost nothing, then unmaps and closes it in the order
/// given.
fn finish(ring: Ring, close_first: bool) {
    let (dropped, overflow) = ring.lost();
    check(dropped == 0 && overflow == 0, || {
        format!("the ring dropped {dropped} submissions, overflowed {overflow} completions")
    });
    step("tear the ring down");
    must("tear the ring down", ring.finish(close_first));
}

fn sqe(opcode: u32, flags: u8, user_data: u64) -> Sqe {
    Sqe::new(opcode, flags, user_data)
}

fn transfer(opcode: u32, flags: u8, file: &Fd, buf: *const u8, offset: u64, user_data: u64) -> Sqe {
    Sqe {
        fd: file.as_raw(),
        addr: buf as u64,
        len: BLOCK as u32,
        off: offset,
        ..sqe(opcode, flags, user_data)
    }
}

/// Checks that each request completed once, with its expected result.
fn expect_results(what: &str, done: &[Cqe], expected: &[(u64, i32)]) {
    for &(user_data, res) in expected {
        let matching: Vec<&Cqe> = done.iter().filter(|c| c.user_data == user_data).collect();
        check(matching.len() == 1 && matching[0].res == res, || {
            format!("{what}: request {user_data:#x} should complete once with {res}: {done:?}")
        });
    }
}

/// One ring's life: set up, `cycles` rounds of NOPs, writes, an fsync and
/// reads on a file (half of them handed to io-wq workers with
/// IOSQE_ASYNC), each checked, then torn down.
pub fn ring_session(id: u64, sqpoll: bool, cycles: u32) {
    let mut ring = new_ring(sqpoll);
    report::add(&TOTALS.rings[report::ring_index(sqpoll)], 1);
    let path = format!("{WORK_DIR}/u{id}");
    step("create the file");
    let file = ok(
        Sys::Openat,
        format_args!("create {path}"),
        raw::open(
            &path,
            OFlags::CREAT | OFlags::EXCL | OFlags::RDWR,
            Mode::from_bits_truncate(0o600),
        ),
    );
    let mut written = [[0u8; BLOCK]; 2];
    for cycle in 0..u64::from(cycles) {
        let tag = (id << 24) | (cycle << 8);
        step("io_uring NOPs");
        let nops: Vec<Sqe> = (0..4)
            .map(|k| {
                sqe(
                    IORING_OP_NOP,
                    if k % 2 == 1 { IOSQE_ASYNC } else { 0 },
                    tag | k,
                )
            })
            .collect();
        let done = run(&mut ring, sqpoll, &nops);
        expect_results(
            "NOP",
            &done,
            &(0..4).map(|k| (tag | k, 0)).collect::<Vec<_>>(),
        );

        step("io_uring writes and fsync");
        let base = cycle * 2 * BLOCK as u64;
        for (k, block) in written.iter_mut().enumerate() {
            fill_pattern(block, tag | 0x10 | k as u64);
        }
        let writes = [
            transfer(
                IORING_OP_WRITE,
                0,
                &file,
                written[0].as_ptr(),
                base,
                tag | 0x10,
            ),
            transfer(
                IORING_OP_WRITE,
                IOSQE_ASYNC,
                &file,
                written[1].as_ptr(),
                base + BLOCK as u64,
                tag | 0x11,
            ),
        ];
        let done = run(&mut ring, sqpoll, &writes);
        expect_results(
            "WRITE",
            &done,
            &[(tag | 0x10, BLOCK as i32), (tag | 0x11, BLOCK as i32)],
        );
        let sync = Sqe {
            fd: file.as_raw(),
            ..sqe(IORING_OP_FSYNC, IOSQE_ASYNC, tag | 0x12)
        };
        let done = run(&mut ring, sqpoll, &[sync]);
        expect_results("FSYNC", &done, &[(tag | 0x12, 0)]);

        step("io_uring reads");
        let mut read_back = [[0u8; BLOCK]; 2];
        let reads = [
            transfer(
                IORING_OP_READ,
                IOSQE_ASYNC,
                &file,
                read_back[0].as_mut_ptr(),
                base,
                tag | 0x20,
            ),
            transfer(
                IORING_OP_READ,
                0,
                &file,
                read_back[1].as_mut_ptr(),
                base + BLOCK as u64,
                tag | 0x21,
            ),
        ];
        let done = run(&mut ring, sqpoll, &reads);
        expect_results(
            "READ",
            &done,
            &[(tag | 0x20, BLOCK as i32), (tag | 0x21, BLOCK as i32)],
        );
        check(read_back == written, || {
            format!("{path}: io_uring read back other data than it wrote (cycle {cycle})")
        });
        if sqpoll && cycle % 4 == 3 {
            // Long enough for the SQ thread to go to sleep, so the next
            // batch has to wake it.
            step("pause for the SQ thread to idle");
            std::thread::sleep(Duration::from_millis(u64::from(SQ_THREAD_IDLE_MS) * 5));
        }
    }
    let wakeups = ring.wakeups;
    report::add(&TOTALS.sq_wakeups, wakeups);
    finish(ring, id % 2 == 0);
    if sqpoll && cycles >= 4 {
        check(wakeups > 0, || {
            "the SQPOLL thread never asked for a wake-up after its idle time".into()
        });
    }
    step("remove the file");
    ok(Sys::Close, format_args!("close {path}"), file.close());
    ok(
        Sys::Unlink,
        format_args!("unlink {path}"),
        raw::unlink(&path),
    );
    expect_errno(
        Sys::Stat,
        format_args!("stat {path} after unlink"),
        raw::stat(&path),
        lkl::Errno::NOENT,
    );
}
