// SPDX-License-Identifier: GPL-2.0
//! io_uring through the raw system calls (x86_64 layouts), without and
//! with SQPOLL.
//!
//! The library kernel has no MMU: mmap of a ring returns the kernel's own
//! memory for it, which the program then reads and writes directly. Both
//! rings go into one mapping when the kernel offers it
//! (`IORING_FEAT_SINGLE_MMAP`): on nommu, mapping the same memory twice is
//! a BUG in mm/nommu.c.

use std::ffi::c_long;
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::time::Duration;

use lkl::fs::{raw, Mode, OFlags};
use lkl::lkl_sys::{nr, uapi};
use lkl::Fd;

use crate::mixed::{fill_pattern, WORK_DIR};
use crate::probe::raw_call;
use crate::report::{self, check, expect_errno, ok, step, Sys, TOTALS};

const IORING_SETUP_SQPOLL: u32 = 1 << 1;
const IORING_FEAT_SINGLE_MMAP: u32 = 1 << 0;
const IORING_OFF_SQ_RING: c_long = 0;
const IORING_OFF_CQ_RING: c_long = 0x800_0000;
const IORING_OFF_SQES: c_long = 0x1000_0000;
const IORING_SQ_NEED_WAKEUP: u32 = 1 << 0;
const IORING_ENTER_GETEVENTS: c_long = 1 << 0;
const IORING_ENTER_SQ_WAKEUP: c_long = 1 << 1;
const IORING_OP_NOP: u8 = 0;
const IORING_OP_FSYNC: u8 = 3;
const IORING_OP_READ: u8 = 22;
const IORING_OP_WRITE: u8 = 23;
/// Hands the request to an io-wq worker thread.
const IOSQE_ASYNC: u8 = 1 << 4;

const RING_ENTRIES: u32 = 8;
/// How long the SQPOLL thread polls before it sleeps and asks for a wake-up.
const SQ_THREAD_IDLE_MS: u32 = 10;
const BLOCK: usize = 512;

#[repr(C)]
#[derive(Default)]
struct SqRingOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    flags: u32,
    dropped: u32,
    array: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
#[derive(Default)]
struct CqRingOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    overflow: u32,
    cqes: u32,
    flags: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
#[derive(Default)]
struct SetupParams {
    sq_entries: u32,
    cq_entries: u32,
    flags: u32,
    sq_thread_cpu: u32,
    sq_thread_idle: u32,
    features: u32,
    wq_fd: u32,
    resv: [u32; 3],
    sq_off: SqRingOffsets,
    cq_off: CqRingOffsets,
}

/// A submission queue entry, `struct io_uring_sqe`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Sqe {
    opcode: u8,
    flags: u8,
    ioprio: u16,
    fd: i32,
    off: u64,
    addr: u64,
    len: u32,
    op_flags: u32,
    user_data: u64,
    buf_index: u16,
    personality: u16,
    splice_fd_in: i32,
    addr3: u64,
    pad: u64,
}

const _: () = assert!(core::mem::size_of::<Sqe>() == 64);
const _: () = assert!(core::mem::size_of::<SetupParams>() == 120);

/// A completion queue entry, `struct io_uring_cqe`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Cqe {
    user_data: u64,
    res: i32,
    flags: u32,
}

/// A region the kernel mapped for the ring.
struct Mapping {
    addr: *mut u8,
    len: usize,
}

fn map(fd: &Fd, len: usize, offset: c_long) -> Mapping {
    let prot = (uapi::PROT_READ | uapi::PROT_WRITE) as c_long;
    let flags = (uapi::MAP_SHARED | uapi::MAP_POPULATE) as c_long;
    // SAFETY: mmap of a ring region; no pointer is passed in.
    let ret = unsafe {
        raw_call(
            nr::mmap,
            &[0, len as c_long, prot, flags, fd.as_raw().into(), offset],
        )
    };
    let addr = ok(Sys::Mmap, format_args!("mmap ring at {offset:#x}"), ret);
    check(addr > 0, || {
        format!("mmap of the ring at {offset:#x} gave {addr:#x}")
    });
    Mapping {
        addr: addr as *mut u8,
        len,
    }
}

fn unmap(mapping: Mapping) {
    // SAFETY: the region is one the kernel mapped, with its length; nothing
    // of it is used after this.
    let ret = unsafe { raw_call(nr::munmap, &[mapping.addr as c_long, mapping.len as c_long]) };
    ok(Sys::Munmap, "munmap of a ring region", ret);
}

/// An io_uring instance and its mapped rings. Only the thread that made it
/// uses it (raw pointers keep it from leaving the thread).
struct Ring {
    fd: Option<Fd>,
    sqpoll: bool,
    sq_ring: Option<Mapping>,
    /// The CQ ring's own mapping, when the kernel lacks SINGLE_MMAP.
    cq_ring: Option<Mapping>,
    sqes: Option<Mapping>,
    params: SetupParams,
    /// Pointers into the mappings, fixed at setup.
    sq_tail: *const AtomicU32,
    sq_flags: *const AtomicU32,
    sq_dropped: *const AtomicU32,
    sq_array: *mut u32,
    sq_mask: u32,
    cq_head: *const AtomicU32,
    cq_tail: *const AtomicU32,
    cq_overflow: *const AtomicU32,
    cq_mask: u32,
    cqes: *const Cqe,
    sqe_base: *mut Sqe,
    /// Wake-ups the SQPOLL thread asked for and got.
    wakeups: u64,
}

impl Ring {
    fn new(sqpoll: bool) -> Ring {
        let mut params = SetupParams {
            flags: if sqpoll { IORING_SETUP_SQPOLL } else { 0 },
            sq_thread_idle: SQ_THREAD_IDLE_MS,
            ..SetupParams::default()
        };
        // SAFETY: io_uring_setup reads and fills one io_uring_params,
        // which `params` is (its size is checked above).
        let ret = unsafe {
            raw_call(
                nr::io_uring_setup,
                &[
                    c_long::from(RING_ENTRIES),
                    core::ptr::addr_of_mut!(params) as c_long,
                ],
            )
        };
        let fd = ok(Sys::IoUringSetup, "io_uring_setup", ret);
        // SAFETY: the kernel just returned this descriptor; nothing else owns it.
        let fd = unsafe { Fd::from_raw(fd as i32) };
        check(params.sq_entries >= RING_ENTRIES, || {
            format!("io_uring_setup gave {} SQ entries", params.sq_entries)
        });
        let sq_len = params.sq_off.array as usize + params.sq_entries as usize * 4;
        let cq_len =
            params.cq_off.cqes as usize + params.cq_entries as usize * core::mem::size_of::<Cqe>();
        let (sq_ring, cq_ring) = if params.features & IORING_FEAT_SINGLE_MMAP != 0 {
            (map(&fd, sq_len.max(cq_len), IORING_OFF_SQ_RING), None)
        } else {
            (
                map(&fd, sq_len, IORING_OFF_SQ_RING),
                Some(map(&fd, cq_len, IORING_OFF_CQ_RING)),
            )
        };
        let sqes = map(
            &fd,
            params.sq_entries as usize * core::mem::size_of::<Sqe>(),
            IORING_OFF_SQES,
        );
        let sq = sq_ring.addr;
        let cq = cq_ring.as_ref().map_or(sq, |m| m.addr);
        // SAFETY: the offsets come from io_uring_setup and lie inside the
        // mappings made with the lengths computed from them; the ring
        // fields are u32s the kernel aligned.
        unsafe {
            let at = |base: *mut u8, off: u32| base.add(off as usize);
            Ring {
                sq_tail: at(sq, params.sq_off.tail).cast(),
                sq_flags: at(sq, params.sq_off.flags).cast(),
                sq_dropped: at(sq, params.sq_off.dropped).cast(),
                sq_array: at(sq, params.sq_off.array).cast(),
                sq_mask: *at(sq, params.sq_off.ring_mask).cast::<u32>(),
                cq_head: at(cq, params.cq_off.head).cast(),
                cq_tail: at(cq, params.cq_off.tail).cast(),
                cq_overflow: at(cq, params.cq_off.overflow).cast(),
                cq_mask: *at(cq, params.cq_off.ring_mask).cast::<u32>(),
                cqes: at(cq, params.cq_off.cqes).cast(),
                sqe_base: sqes.addr.cast(),
                fd: Some(fd),
                sqpoll,
                sq_ring: Some(sq_ring),
                cq_ring,
                sqes: Some(sqes),
                params,
                wakeups: 0,
            }
        }
    }

    fn raw_fd(&self) -> c_long {
        self.fd.as_ref().expect("ring fd").as_raw().into()
    }

    fn enter(&self, to_submit: u32, min_complete: u32, flags: c_long) -> i64 {
        // SAFETY: io_uring_enter without an argument block (the last two
        // arguments are 0).
        let ret = unsafe {
            raw_call(
                nr::io_uring_enter,
                &[
                    self.raw_fd(),
                    to_submit.into(),
                    min_complete.into(),
                    flags,
                    0,
                    0,
                ],
            )
        };
        ok(Sys::IoUringEnter, "io_uring_enter", ret)
    }

    /// Takes every completion the CQ ring holds.
    fn reap(&self, into: &mut Vec<Cqe>) {
        // SAFETY: the CQ head, tail and entries lie in the live mapping;
        // only this thread moves the head, the kernel the tail (read with
        // Acquire, so the entries below it are written).
        unsafe {
            let head = (*self.cq_head).load(Ordering::Relaxed);
            let tail = (*self.cq_tail).load(Ordering::Acquire);
            let mut at = head;
            while at != tail {
                into.push(*self.cqes.add((at & self.cq_mask) as usize));
                at = at.wrapping_add(1);
            }
            (*self.cq_head).store(tail, Ordering::Release);
        }
    }

    /// Submits `batch` and waits for its completions.
    fn run(&mut self, batch: &[Sqe]) -> Vec<Cqe> {
        let n = batch.len() as u32;
        check(n > 0 && n <= self.params.sq_entries, || {
            format!("a batch of {n} entries")
        });
        // SAFETY: the SQE slots and the index array lie in the live
        // mappings; all `n` slots are free, since every earlier batch was
        // completed before this one. The tail is published with Release
        // after the entries are written.
        unsafe {
            let tail = (*self.sq_tail).load(Ordering::Relaxed);
            for (i, sqe) in batch.iter().enumerate() {
                let slot = tail.wrapping_add(i as u32) & self.sq_mask;
                self.sqe_base.add(slot as usize).write(*sqe);
                self.sq_array.add(slot as usize).write(slot);
            }
            (*self.sq_tail).store(tail.wrapping_add(n), Ordering::Release);
        }
        let mut done = Vec::with_capacity(batch.len());
        if self.sqpoll {
            // The SQ thread picks the entries up; wait for completions,
            // waking it if it went to sleep.
            loop {
                self.reap(&mut done);
                if done.len() >= batch.len() {
                    break;
                }
                let mut flags = IORING_ENTER_GETEVENTS;
                fence(Ordering::SeqCst);
                // SAFETY: the SQ flags word lies in the live mapping.
                if unsafe { (*self.sq_flags).load(Ordering::Relaxed) } & IORING_SQ_NEED_WAKEUP != 0
                {
                    flags |= IORING_ENTER_SQ_WAKEUP;
                    self.wakeups += 1;
                }
                let want = n - done.len() as u32;
                let ret = self.enter(0, want, flags);
                check(ret == 0, || format!("io_uring_enter (SQPOLL) gave {ret}"));
            }
        } else {
            let ret = self.enter(n, n, IORING_ENTER_GETEVENTS);
            check(ret == i64::from(n), || {
                format!("io_uring_enter submitted {ret} of {n}")
            });
            loop {
                self.reap(&mut done);
                if done.len() >= batch.len() {
                    break;
                }
                self.enter(0, n - done.len() as u32, IORING_ENTER_GETEVENTS);
            }
        }
        check(done.len() == batch.len(), || {
            format!("{} completions for {} requests: {done:?}", done.len(), n)
        });
        let index = report::ring_index(self.sqpoll);
        report::add(&TOTALS.ring_ops[index], n.into());
        let async_ops = batch.iter().filter(|s| s.flags & IOSQE_ASYNC != 0).count();
        report::add(&TOTALS.ring_async_ops[index], async_ops as u64);
        done
    }

    /// Checks the ring lost nothing, unmaps it and closes it; either order,
    /// since the mapping holds the ring too.
    fn finish(mut self, close_first: bool) {
        // SAFETY: both counters lie in the live mappings.
        let (dropped, overflow) = unsafe {
            (
                (*self.sq_dropped).load(Ordering::Relaxed),
                (*self.cq_overflow).load(Ordering::Relaxed),
            )
        };
        check(dropped == 0 && overflow == 0, || {
            format!("the ring dropped {dropped} submissions, overflowed {overflow} completions")
        });
        let mut fd = self.fd.take();
        let mut close = || {
            if let Some(fd) = fd.take() {
                step("close the ring");
                ok(Sys::Close, "close the ring", fd.close());
            }
        };
        if close_first {
            close();
        }
        step("munmap the ring");
        for mapping in [self.sqes.take(), self.cq_ring.take(), self.sq_ring.take()]
            .into_iter()
            .flatten()
        {
            unmap(mapping);
        }
        close();
    }
}

fn sqe(opcode: u8, flags: u8, user_data: u64) -> Sqe {
    Sqe {
        opcode,
        flags,
        user_data,
        ..Sqe::default()
    }
}

fn transfer(opcode: u8, flags: u8, file: &Fd, buf: *const u8, offset: u64, user_data: u64) -> Sqe {
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
    step("io_uring_setup");
    let mut ring = Ring::new(sqpoll);
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
        let done = ring.run(&nops);
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
        let done = ring.run(&writes);
        expect_results(
            "WRITE",
            &done,
            &[(tag | 0x10, BLOCK as i32), (tag | 0x11, BLOCK as i32)],
        );
        let sync = Sqe {
            fd: file.as_raw(),
            ..sqe(IORING_OP_FSYNC, IOSQE_ASYNC, tag | 0x12)
        };
        let done = ring.run(&[sync]);
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
        let done = ring.run(&reads);
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
    ring.finish(id % 2 == 0);
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
