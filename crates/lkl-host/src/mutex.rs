// SPDX-License-Identifier: GPL-2.0
//! Mutexes (`lkl_host_mutex_*`), plain and recursive.
//!
//! The lock word is a futex with three states (unlocked, locked, locked
//! with possible sleepers), so an uncontended lock/unlock pair costs two
//! atomic operations and no system call. A recursive mutex adds the owner's
//! `pthread_t` and a depth on top.

use core::ffi::c_int;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::alloc::try_box;
use crate::futex;
use crate::guard::{fatal, guard};

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
/// Locked, and some thread may be asleep waiting: unlock must wake one.
const CONTENDED: u32 = 2;

/// No owner; `pthread_self()` is never 0 for a running thread.
const NO_OWNER: usize = 0;

/// A mutex; `struct lkl_host_mutex` to C.
pub struct HostMutex {
    state: AtomicU32,
    recursive: bool,
    /// `pthread_t` of the holder of a recursive mutex, or [`NO_OWNER`].
    owner: AtomicUsize,
    /// Lock count of a recursive mutex; only touched by its holder.
    depth: AtomicU32,
}

fn current_thread() -> usize {
    // SAFETY: pthread_self has no preconditions.
    let thread = unsafe { libc::pthread_self() };
    // pthread_t is an integer or pointer of word size on Linux.
    thread as usize
}

impl HostMutex {
    fn new(recursive: bool) -> Self {
        HostMutex {
            state: AtomicU32::new(UNLOCKED),
            recursive,
            owner: AtomicUsize::new(NO_OWNER),
            depth: AtomicU32::new(0),
        }
    }

    fn acquire(&self) {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.acquire_contended();
        }
    }

    #[cold]
    fn acquire_contended(&self) {
        // Marking the word CONTENDED whenever we may sleep makes the holder
        // wake someone at unlock. We may over-wake once, never under-wake.
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            futex::wait(&self.state, CONTENDED);
        }
    }

    fn release(&self) {
        match self.state.swap(UNLOCKED, Ordering::Release) {
            LOCKED => {}
            CONTENDED => futex::wake(&self.state, 1),
            _ => fatal("mutex_unlock", "the mutex is not locked"),
        }
    }

    fn lock(&self) {
        if !self.recursive {
            self.acquire();
            return;
        }
        let me = current_thread();
        // Only this thread ever stores its own id, so seeing it means we
        // hold the lock; Relaxed suffices.
        if self.owner.load(Ordering::Relaxed) == me {
            let depth = self.depth.load(Ordering::Relaxed);
            let Some(depth) = depth.checked_add(1) else {
                fatal("mutex_lock", "recursive mutex locked too many times");
            };
            self.depth.store(depth, Ordering::Relaxed);
            return;
        }
        self.acquire();
        self.owner.store(me, Ordering::Relaxed);
        self.depth.store(1, Ordering::Relaxed);
    }

    fn unlock(&self) {
        if !self.recursive {
            self.release();
            return;
        }
        if self.owner.load(Ordering::Relaxed) != current_thread() {
            fatal(
                "mutex_unlock",
                "recursive mutex unlocked by a thread that does not hold it",
            );
        }
        let depth = self.depth.load(Ordering::Relaxed) - 1;
        self.depth.store(depth, Ordering::Relaxed);
        if depth == 0 {
            self.owner.store(NO_OWNER, Ordering::Relaxed);
            self.release();
        }
    }
}

/// Allocates an unlocked mutex; recursive if `recursive` is non-zero.
/// Returns NULL if memory runs out.
#[no_mangle]
pub extern "C" fn lkl_host_mutex_alloc(recursive: c_int) -> *mut HostMutex {
    guard("mutex_alloc", || try_box(HostMutex::new(recursive != 0)))
}

/// Frees a mutex. NULL is ignored.
///
/// # Safety
///
/// `mutex` is NULL or came from [`lkl_host_mutex_alloc`], has not been
/// freed, and no thread is using it or will use it again.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_mutex_free(mutex: *mut HostMutex) {
    if mutex.is_null() {
        return;
    }
    // SAFETY: by the caller's promise `mutex` is a live, unshared
    // allocation from `lkl_host_mutex_alloc`, which made it with `try_box`.
    drop(unsafe { Box::from_raw(mutex) });
}

/// Locks the mutex, blocking while another thread holds it. A recursive
/// mutex already held by the calling thread is locked once more.
///
/// # Safety
///
/// `mutex` came from [`lkl_host_mutex_alloc`] and has not been freed.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_mutex_lock(mutex: *mut HostMutex) {
    // SAFETY: by the caller's promise `mutex` points to a live mutex; all
    // its state is atomic, so a shared reference is enough.
    let mutex = unsafe { &*mutex };
    guard("mutex_lock", || mutex.lock());
}

/// Unlocks the mutex (one level of a recursive one). A plain mutex may be
/// unlocked by any thread; unlocking a recursive mutex the calling thread
/// does not hold, or an unlocked mutex, aborts the process.
///
/// # Safety
///
/// `mutex` came from [`lkl_host_mutex_alloc`] and has not been freed.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_mutex_unlock(mutex: *mut HostMutex) {
    // SAFETY: as in `lkl_host_mutex_lock`.
    let mutex = unsafe { &*mutex };
    guard("mutex_unlock", || mutex.unlock());
}
