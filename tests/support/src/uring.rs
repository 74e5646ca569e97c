// SPDX-License-Identifier: GPL-2.0
//! An io_uring instance of the library kernel, driven through raw system
//! calls, for tests that make the kernel start io-wq workers and SQPOLL
//! threads.
//!
//! The library kernel has no MMU: mmap of a ring returns the kernel's own
//! memory for it, which the program then reads and writes directly. Both
//! rings must go into one mapping (`IORING_FEAT_SINGLE_MMAP`): on nommu,
//! mapping the same memory twice is a BUG in mm/nommu.c, so a kernel
//! without the feature is refused.

use core::ffi::c_long;
use core::sync::atomic::{fence, AtomicU32, Ordering};

use lkl_sys::{lkl_syscall, nr, uapi};

pub use uapi::{
    IORING_ENTER_GETEVENTS, IORING_ENTER_SQ_WAKEUP, IORING_OP_FSYNC, IORING_OP_NOP, IORING_OP_READ,
    IORING_OP_WRITE, IORING_SETUP_SQPOLL,
};

/// Hands the request to an io-wq worker thread. The header defines it as
/// `1U << IOSQE_ASYNC_BIT`, which bindgen cannot evaluate.
pub const IOSQE_ASYNC: u8 = 1 << uapi::IOSQE_ASYNC_BIT;

/// A submission queue entry: `struct io_uring_sqe` with its unions flattened
/// to the members the tests use.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Sqe {
    pub opcode: u8,
    pub flags: u8,
    pub ioprio: u16,
    pub fd: i32,
    pub off: u64,
    pub addr: u64,
    pub len: u32,
    pub op_flags: u32,
    pub user_data: u64,
    pub buf_index: u16,
    pub personality: u16,
    pub splice_fd_in: i32,
    pub addr3: u64,
    pub pad: u64,
}

const _: () = assert!(core::mem::size_of::<Sqe>() == core::mem::size_of::<uapi::io_uring_sqe>());

impl Sqe {
    /// An entry with no file or buffer (a NOP, say).
    pub fn new(opcode: u32, flags: u8, user_data: u64) -> Sqe {
        Sqe {
            opcode: opcode as u8,
            flags,
            user_data,
            ..Sqe::default()
        }
    }
}

/// A completion queue entry, `struct io_uring_cqe` without the tail of
/// big CQEs, which these rings do not ask for.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Cqe {
    pub user_data: u64,
    pub res: i32,
    pub flags: u32,
}

const _: () = assert!(core::mem::size_of::<Cqe>() == core::mem::size_of::<uapi::io_uring_cqe>());

/// What went wrong, for the test to report its own way.
pub type Error = String;

/// Called with the name of each system call a ring makes, for programs
/// that count their calls (the soak).
pub type CallHook = fn(&'static str);

fn call(hook: Option<CallHook>, name: &'static str, no: c_long, args: &[c_long]) -> c_long {
    if let Some(hook) = hook {
        hook(name);
    }
    let mut params = [0 as c_long; 6];
    params[..args.len()].copy_from_slice(args);
    // SAFETY: six arguments; every caller below passes either no pointer or
    // one to memory that lives across the call.
    unsafe { lkl_syscall(no, params.as_mut_ptr()) }
}

/// A region the kernel mapped for the ring.
struct Mapping {
    addr: *mut u8,
    len: usize,
}

fn map(hook: Option<CallHook>, fd: c_long, len: usize, offset: u32) -> Result<Mapping, Error> {
    let prot = (uapi::PROT_READ | uapi::PROT_WRITE) as c_long;
    let flags = (uapi::MAP_SHARED | uapi::MAP_POPULATE) as c_long;
    let addr = call(
        hook,
        "mmap",
        nr::mmap,
        &[0, len as c_long, prot, flags, fd, offset.into()],
    );
    if addr <= 0 {
        return Err(format!("mmap of the io_uring ring at {offset:#x}: {addr}"));
    }
    Ok(Mapping {
        addr: addr as *mut u8,
        len,
    })
}

/// How to set a ring up.
#[derive(Clone, Copy, Debug, Default)]
pub struct Setup {
    /// SQ entries asked for.
    pub entries: u32,
    /// `IORING_SETUP_*` flags.
    pub flags: u32,
    /// With SQPOLL, how long the SQ thread polls before it sleeps.
    pub sq_thread_idle_ms: u32,
    /// Sees every system call the ring makes.
    pub on_call: Option<CallHook>,
}

/// An io_uring instance and its mapped rings. Only the thread that made it
/// uses it (its raw pointers keep it on that thread). Dropping it unmaps
/// the rings and closes the descriptor; [`Ring::into_fd`] leaves both to
/// the kernel instead.
pub struct Ring {
    fd: c_long,
    params: uapi::io_uring_params,
    on_call: Option<CallHook>,
    maps: Vec<Mapping>,
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
    /// Wake-ups the SQPOLL thread asked for and got, in [`Ring::run`].
    pub wakeups: u64,
}

impl Ring {
    /// `io_uring_setup` as `setup` says, then maps the rings.
    pub fn new(setup: Setup) -> Result<Ring, Error> {
        let hook = setup.on_call;
        let mut params = uapi::io_uring_params {
            flags: setup.flags,
            sq_thread_idle: setup.sq_thread_idle_ms,
            ..Default::default()
        };
        let fd = call(
            hook,
            "io_uring_setup",
            nr::io_uring_setup,
            &[
                setup.entries.into(),
                core::ptr::addr_of_mut!(params) as c_long,
            ],
        );
        if fd < 0 {
            return Err(format!("io_uring_setup: {fd}"));
        }
        let mut maps = Vec::new();
        let mapped = (|| {
            if params.features & uapi::IORING_FEAT_SINGLE_MMAP == 0 {
                return Err("the kernel cannot map both rings at once".to_owned());
            }
            let sq_len = params.sq_off.array as usize + params.sq_entries as usize * 4;
            let cq_len = params.cq_off.cqes as usize
                + params.cq_entries as usize * core::mem::size_of::<Cqe>();
            maps.push(map(hook, fd, sq_len.max(cq_len), uapi::IORING_OFF_SQ_RING)?);
            let sqes_len = params.sq_entries as usize * core::mem::size_of::<Sqe>();
            maps.push(map(hook, fd, sqes_len, uapi::IORING_OFF_SQES)?);
            Ok(())
        })();
        let rings = maps.first().map(|m| m.addr);
        let sqes = maps.get(1).map(|m| m.addr);
        let (Ok(()), Some(rings), Some(sqes)) = (&mapped, rings, sqes) else {
            drop(Ring::partial(fd, params, hook, maps));
            return Err(mapped.err().unwrap_or_default());
        };
        let at = |off: u32| {
            // SAFETY: the offsets come from io_uring_setup and lie inside
            // the ring mapping made with the length computed from them.
            unsafe { rings.add(off as usize) }
        };
        // SAFETY: the ring masks are u32s the kernel wrote and aligned,
        // inside the mapping.
        let (sq_mask, cq_mask) = unsafe {
            (
                *at(params.sq_off.ring_mask).cast::<u32>(),
                *at(params.cq_off.ring_mask).cast::<u32>(),
            )
        };
        Ok(Ring {
            sq_tail: at(params.sq_off.tail).cast(),
            sq_flags: at(params.sq_off.flags).cast(),
            sq_dropped: at(params.sq_off.dropped).cast(),
            sq_array: at(params.sq_off.array).cast(),
            sq_mask,
            cq_head: at(params.cq_off.head).cast(),
            cq_tail: at(params.cq_off.tail).cast(),
            cq_overflow: at(params.cq_off.overflow).cast(),
            cq_mask,
            cqes: at(params.cq_off.cqes).cast(),
            sqe_base: sqes.cast(),
            fd,
            params,
            on_call: hook,
            maps,
            wakeups: 0,
        })
    }

    /// A ring whose setup failed half way, for its drop to undo.
    fn partial(
        fd: c_long,
        params: uapi::io_uring_params,
        on_call: Option<CallHook>,
        maps: Vec<Mapping>,
    ) -> Ring {
        Ring {
            fd,
            params,
            on_call,
            maps,
            sq_tail: core::ptr::null(),
            sq_flags: core::ptr::null(),
            sq_dropped: core::ptr::null(),
            sq_array: core::ptr::null_mut(),
            sq_mask: 0,
            cq_head: core::ptr::null(),
            cq_tail: core::ptr::null(),
            cq_overflow: core::ptr::null(),
            cq_mask: 0,
            cqes: core::ptr::null(),
            sqe_base: core::ptr::null_mut(),
            wakeups: 0,
        }
    }

    /// The ring's descriptor in the library kernel.
    pub fn fd(&self) -> c_long {
        self.fd
    }

    /// The parameters io_uring_setup filled in.
    pub fn params(&self) -> &uapi::io_uring_params {
        &self.params
    }

    /// Leaves the ring open and mapped, for the kernel to tear down when
    /// the descriptor is closed or its task ends; returns the descriptor.
    pub fn into_fd(mut self) -> c_long {
        self.maps.clear();
        core::mem::replace(&mut self.fd, -1)
    }

    /// Writes `batch` into free SQ slots and publishes the new tail, with
    /// no system call. Every earlier batch must have completed.
    pub fn push(&mut self, batch: &[Sqe]) -> Result<(), Error> {
        let n = batch.len() as u32;
        if n == 0 || n > self.params.sq_entries {
            return Err(format!(
                "a batch of {n} entries for {} slots",
                self.params.sq_entries
            ));
        }
        // SAFETY: the SQE slots and the index array lie in the live
        // mappings; all `n` slots are free since every earlier batch has
        // completed. The tail is published with Release after the entries
        // are written, so the kernel sees them whole.
        unsafe {
            let tail = (*self.sq_tail).load(Ordering::Relaxed);
            for (i, sqe) in batch.iter().enumerate() {
                let slot = tail.wrapping_add(i as u32) & self.sq_mask;
                self.sqe_base.add(slot as usize).write(*sqe);
                self.sq_array.add(slot as usize).write(slot);
            }
            (*self.sq_tail).store(tail.wrapping_add(n), Ordering::Release);
        }
        fence(Ordering::SeqCst);
        Ok(())
    }

    /// `io_uring_enter` without an argument block; the raw result.
    pub fn enter(&self, to_submit: u32, min_complete: u32, flags: u32) -> c_long {
        call(
            self.on_call,
            "io_uring_enter",
            nr::io_uring_enter,
            &[
                self.fd,
                to_submit.into(),
                min_complete.into(),
                flags.into(),
                0,
                0,
            ],
        )
    }

    /// Whether the SQPOLL thread went to sleep and wants a wake-up.
    pub fn sq_needs_wakeup(&self) -> bool {
        fence(Ordering::SeqCst);
        // SAFETY: the SQ flags word lies in the live mapping.
        unsafe { (*self.sq_flags).load(Ordering::Relaxed) & uapi::IORING_SQ_NEED_WAKEUP != 0 }
    }

    /// Completions posted so far and not yet reaped.
    pub fn cq_ready(&self) -> u32 {
        // SAFETY: the CQ head and tail lie in the live mapping.
        unsafe {
            (*self.cq_tail)
                .load(Ordering::Acquire)
                .wrapping_sub((*self.cq_head).load(Ordering::Relaxed))
        }
    }

    /// Takes every completion the CQ ring holds.
    pub fn reap(&self, into: &mut Vec<Cqe>) {
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

    /// Submits `batch` and waits for all its completions; with SQPOLL the
    /// SQ thread picks the entries up, and is woken when it sleeps.
    pub fn run(&mut self, batch: &[Sqe]) -> Result<Vec<Cqe>, Error> {
        self.push(batch)?;
        let n = batch.len() as u32;
        let sqpoll = self.params.flags & IORING_SETUP_SQPOLL != 0;
        let mut done = Vec::with_capacity(batch.len());
        let mut to_submit = if sqpoll { 0 } else { n };
        while done.len() < batch.len() {
            let mut flags = IORING_ENTER_GETEVENTS;
            if sqpoll && self.sq_needs_wakeup() {
                flags |= IORING_ENTER_SQ_WAKEUP;
                self.wakeups += 1;
            }
            let want = n - done.len() as u32;
            let ret = self.enter(to_submit, want, flags);
            if ret != to_submit.into() {
                return Err(format!("io_uring_enter submitted {ret} of {to_submit}"));
            }
            to_submit = 0;
            self.reap(&mut done);
        }
        if done.len() != batch.len() {
            return Err(format!(
                "{} completions for {n} requests: {done:?}",
                done.len()
            ));
        }
        Ok(done)
    }

    /// Submissions the kernel dropped and completions that overflowed.
    pub fn lost(&self) -> (u32, u32) {
        // SAFETY: both counters lie in the live mapping.
        unsafe {
            (
                (*self.sq_dropped).load(Ordering::Relaxed),
                (*self.cq_overflow).load(Ordering::Relaxed),
            )
        }
    }

    /// Unmaps the rings, then closes the descriptor, or the other way
    /// round: the mapping holds the ring too, so either order must work.
    pub fn finish(mut self, close_first: bool) -> Result<(), Error> {
        let fd = core::mem::replace(&mut self.fd, -1);
        let hook = self.on_call;
        let close = || match call(hook, "close", nr::close, &[fd]) {
            0 => Ok(()),
            err => Err(format!("close of the ring: {err}")),
        };
        if close_first {
            close()?;
        }
        for m in self.maps.drain(..).rev() {
            let ret = call(
                hook,
                "munmap",
                nr::munmap,
                &[m.addr as c_long, m.len as c_long],
            );
            if ret != 0 {
                return Err(format!("munmap of a ring region: {ret}"));
            }
        }
        if !close_first {
            close()?;
        }
        Ok(())
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        for m in self.maps.drain(..).rev() {
            call(
                self.on_call,
                "munmap",
                nr::munmap,
                &[m.addr as c_long, m.len as c_long],
            );
        }
        if self.fd >= 0 {
            call(self.on_call, "close", nr::close, &[self.fd]);
        }
    }
}
