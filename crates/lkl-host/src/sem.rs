// SPDX-License-Identifier: GPL-2.0
//! Counting semaphores (`lkl_host_sem_*`).
//!
//! The count lives in one futex word. `down` takes a unit with a
//! compare-and-swap when the count is positive and otherwise sleeps on the
//! word while it is zero. `up` adds a unit and makes the futex system call
//! only when someone may be asleep, so an uncontended up/down pair costs
//! two atomic operations.

use core::ffi::c_int;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::alloc::try_box;
use crate::futex;
use crate::guard::{fatal, guard};

/// A counting semaphore; `struct lkl_host_sem` to C.
pub struct HostSem {
    /// Units available; the futex word sleepers wait on.
    count: AtomicU32,
    /// Threads between deciding to sleep and having woken up. `up` skips
    /// the wake system call when this is zero.
    sleepers: AtomicU32,
}

impl HostSem {
    fn new(count: u32) -> Self {
        HostSem {
            count: AtomicU32::new(count),
            sleepers: AtomicU32::new(0),
        }
    }

    fn try_down(&self) -> bool {
        let mut current = self.count.load(Ordering::Relaxed);
        while current > 0 {
            // Acquire pairs with the release in `up`: whatever the upper did
            // before `up` is visible after `down`.
            match self.count.compare_exchange_weak(
                current,
                current - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
        false
    }

    fn down(&self) {
        while !self.try_down() {
            // The SeqCst increment of `sleepers` and the SeqCst add in `up`
            // order against each other: either `up` sees us as a sleeper
            // and wakes the word, or its new count is already there when
            // the futex call compares the word with 0 and returns at once.
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            futex::wait(&self.count, 0);
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn up(&self) {
        if self.count.fetch_add(1, Ordering::SeqCst) == u32::MAX {
            fatal("sem_up", "semaphore count overflow");
        }
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            // One unit, one waiter. A woken thread that loses the unit to a
            // newcomer goes back to sleep, which is fine: the unit was taken.
            futex::wake(&self.count, 1);
        }
    }
}

/// Allocates a semaphore holding `count` units. Returns NULL if `count` is
/// negative or memory runs out.
#[no_mangle]
pub extern "C" fn lkl_host_sem_alloc(count: c_int) -> *mut HostSem {
    let Ok(count) = u32::try_from(count) else {
        return ptr::null_mut();
    };
    guard("sem_alloc", || try_box(HostSem::new(count)))
}

/// Frees a semaphore. NULL is ignored.
///
/// # Safety
///
/// `sem` is NULL or came from [`lkl_host_sem_alloc`], has not been freed,
/// and no thread is using it or will use it again.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_sem_free(sem: *mut HostSem) {
    if sem.is_null() {
        return;
    }
    // SAFETY: by the caller's promise `sem` is a live, unshared allocation
    // from `lkl_host_sem_alloc`, which made it with `try_box`.
    drop(unsafe { Box::from_raw(sem) });
}

/// Adds one unit, waking one thread blocked in [`lkl_host_sem_down`] if
/// there is one. Never blocks.
///
/// # Safety
///
/// `sem` came from [`lkl_host_sem_alloc`] and has not been freed.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_sem_up(sem: *mut HostSem) {
    // SAFETY: by the caller's promise `sem` points to a live semaphore;
    // all its state is atomic, so a shared reference is enough.
    let sem = unsafe { &*sem };
    guard("sem_up", || sem.up());
}

/// Takes one unit, blocking the calling thread while there is none.
///
/// # Safety
///
/// `sem` came from [`lkl_host_sem_alloc`] and has not been freed.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_sem_down(sem: *mut HostSem) {
    // SAFETY: as in `lkl_host_sem_up`.
    let sem = unsafe { &*sem };
    guard("sem_down", || sem.down());
}
