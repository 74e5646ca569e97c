// SPDX-License-Identifier: GPL-2.0
//! One-shot timers for applications: the `timer_*` members of LKL's
//! `lkl_host_ops` table (lkl-capi). The kernel does not use these; its
//! clock event device is `os_timer_*` ([`crate::os_timer_create`]).
//!
//! All timers share one service thread, `lkl-app-timer`. It sleeps on a
//! condition variable until the earliest deadline in a queue ordered by
//! (deadline, timer id), then runs that timer's callback with no lock held.
//! One thread means callbacks of a timer never overlap, and the kernel only
//! has one clock event device, so there is no parallelism to lose.
//!
//! The service thread is started by the first `alloc` and
//! stopped and joined by the `free` of the last timer, so a
//! halted kernel leaves no thread behind. Each service thread has a
//! generation number; stopping one bumps the current generation, so an
//! old thread still winding down can never pick up timers allocated after
//! the stop, even if a new thread has started by then.
//!
//! Deadlines are `CLOCK_MONOTONIC` nanoseconds ([`crate::os_nsecs`]); the
//! service thread re-reads the clock after every wake-up, so a callback
//! never runs before its deadline even if the wait returns early.

use core::ffi::{c_int, c_ulonglong, c_void};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::thread::JoinHandleExt;
use std::ptr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::alloc::try_box;
use crate::guard::guard;
use crate::time::monotonic_ns;
use crate::HostCallback;

/// A timer; `struct lkl_host_timer` to C. The timer's state lives in the
/// shared timer table (`TimerState`) under `id`, so the service thread
/// never touches memory the caller frees.
pub struct HostTimer {
    id: u64,
}

/// The argument given to a timer callback.
#[derive(Clone, Copy)]
struct CallbackArg(*mut c_void);

// SAFETY: the pointer is never dereferenced here, only handed back to the
// callback on the service thread, which the caller of
// `alloc` declared sound.
unsafe impl Send for CallbackArg {}

struct TimerSlot {
    callback: HostCallback,
    arg: CallbackArg,
    /// The pending expiry; mirrored by the entry `(deadline, id)` in
    /// `TimerState::queue`.
    deadline: Option<u64>,
    /// The thread running this timer's callback right now, if any.
    running_on: Option<libc::pthread_t>,
    /// `free` has started: re-arming is ignored.
    freeing: bool,
}

struct TimerState {
    slots: BTreeMap<u64, TimerSlot>,
    /// Pending expiries as (deadline in ns, timer id), earliest first.
    queue: BTreeSet<(u64, u64)>,
    next_id: u64,
    /// The generation a service thread must carry to keep running.
    generation: u64,
    /// The running service thread; present exactly while timers exist.
    service: Option<JoinHandle<()>>,
}

struct TimerService {
    state: Mutex<TimerState>,
    /// Signalled when the earliest deadline changes or the service stops.
    wake_service: Condvar,
    /// Signalled whenever a callback returns.
    callback_done: Condvar,
}

static TIMERS: TimerService = TimerService {
    state: Mutex::new(TimerState {
        slots: BTreeMap::new(),
        queue: BTreeSet::new(),
        next_id: 0,
        generation: 0,
        service: None,
    }),
    wake_service: Condvar::new(),
    callback_done: Condvar::new(),
};

impl TimerService {
    /// Locks the state. A poisoned lock is taken anyway: panics abort
    /// before anyone could see half-updated state.
    fn lock(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn current_thread() -> libc::pthread_t {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

fn is_current_thread(thread: libc::pthread_t) -> bool {
    // SAFETY: pthread_equal only compares the two values.
    unsafe { libc::pthread_equal(thread, current_thread()) != 0 }
}

impl TimerState {
    /// Removes the pending expiry of timer `id`, if any.
    fn disarm(&mut self, id: u64) {
        if let Some(slot) = self.slots.get_mut(&id) {
            if let Some(deadline) = slot.deadline.take() {
                self.queue.remove(&(deadline, id));
            }
        }
    }
}

/// The body of the service thread of generation `generation`.
fn run_service(generation: u64) {
    guard("timer service", || {
        let mut state = TIMERS.lock();
        loop {
            if state.generation != generation {
                return;
            }
            let Some(&(deadline, id)) = state.queue.first() else {
                state = TIMERS
                    .wake_service
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let now = monotonic_ns();
            if deadline > now {
                let timeout = Duration::from_nanos(deadline - now);
                state = TIMERS
                    .wake_service
                    .wait_timeout(state, timeout)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                continue;
            }
            state.queue.remove(&(deadline, id));
            let Some(slot) = state.slots.get_mut(&id) else {
                continue;
            };
            slot.deadline = None;
            slot.running_on = Some(current_thread());
            let (callback, arg) = (slot.callback, slot.arg);
            drop(state);

            // SAFETY: the caller of `alloc` promised that
            // `callback(arg)` may run on this thread until the timer is
            // freed, and `free` waits for us to return.
            unsafe { callback(arg.0) };

            state = TIMERS.lock();
            if let Some(slot) = state.slots.get_mut(&id) {
                slot.running_on = None;
            }
            TIMERS.callback_done.notify_all();
        }
    });
}

/// Allocates a disarmed timer that will run `callback(arg)` on the timer
/// service thread. Returns NULL if `callback` is NULL or memory or the
/// service thread cannot be had.
///
/// # Safety
///
/// `callback(arg)` must be sound to call on another thread, at any time
/// until [`free`] returns.
pub unsafe extern "C" fn alloc(callback: Option<HostCallback>, arg: *mut c_void) -> *mut HostTimer {
    let Some(callback) = callback else {
        return ptr::null_mut();
    };
    guard("timer_alloc", || {
        let mut state = TIMERS.lock();
        let id = state.next_id;
        let timer = try_box(HostTimer { id });
        if timer.is_null() {
            return ptr::null_mut();
        }
        if state.service.is_none() {
            let generation = state.generation;
            // The new thread blocks on the lock we hold until we are done.
            let spawned = crate::irq::with_signals_blocked(|| {
                thread::Builder::new()
                    .name("lkl-app-timer".into())
                    .spawn(move || {
                        crate::irq::block_program_signals();
                        run_service(generation)
                    })
            });
            match spawned {
                Ok(service) => state.service = Some(service),
                Err(_) => {
                    // SAFETY: `timer` was just made by `try_box` and not
                    // handed out.
                    drop(unsafe { Box::from_raw(timer) });
                    return ptr::null_mut();
                }
            }
        }
        state.next_id += 1;
        state.slots.insert(
            id,
            TimerSlot {
                callback,
                arg: CallbackArg(arg),
                deadline: None,
                running_on: None,
                freeing: false,
            },
        );
        timer
    })
}

/// Arms `timer` to fire once, `delta_ns` nanoseconds from now (0: as soon
/// as possible), replacing any pending expiry. May be called from any
/// thread, including from the timer's own callback. Returns 0; a re-arm
/// racing with [`free`] is discarded.
///
/// # Safety
///
/// `timer` came from [`alloc`] and has not been freed.
pub unsafe extern "C" fn set_oneshot(timer: *mut HostTimer, delta_ns: c_ulonglong) -> c_int {
    // SAFETY: by the caller's promise `timer` points to a live `HostTimer`.
    let id = unsafe { (*timer).id };
    guard("timer_set_oneshot", || {
        let deadline = monotonic_ns().saturating_add(delta_ns);
        let mut state = TIMERS.lock();
        let TimerState { slots, queue, .. } = &mut *state;
        let Some(slot) = slots.get_mut(&id) else {
            return -libc::EINVAL;
        };
        if slot.freeing {
            return 0;
        }
        if let Some(previous) = slot.deadline.replace(deadline) {
            queue.remove(&(previous, id));
        }
        queue.insert((deadline, id));
        // The service only needs to know if it must wake up sooner.
        if queue.first() == Some(&(deadline, id)) {
            TIMERS.wake_service.notify_all();
        }
        0
    })
}

/// Frees `timer`, cancelling any pending expiry: once this returns the
/// callback does not run again. If the callback is running on the service
/// thread, this waits for it to return, except when called from that very
/// callback. Freeing the last timer stops the service thread and joins it
/// (when called from the last timer's own callback, the thread cannot join
/// itself; it ends as soon as the callback returns). NULL is ignored.
///
/// # Safety
///
/// `timer` is NULL or came from [`alloc`] and has not been
/// freed. The callback of the timer must not wait for this call to finish
/// (it would deadlock).
pub unsafe extern "C" fn free(timer: *mut HostTimer) {
    if timer.is_null() {
        return;
    }
    // SAFETY: by the caller's promise `timer` is a live allocation from
    // `alloc` (made with `try_box`) that nobody uses again.
    let id = unsafe { Box::from_raw(timer) }.id;
    guard("timer_free", || {
        let mut state = TIMERS.lock();
        // From here on the callback cannot re-arm the timer.
        if let Some(slot) = state.slots.get_mut(&id) {
            slot.freeing = true;
        }
        state.disarm(id);
        while let Some(thread) = state.slots.get(&id).and_then(|slot| slot.running_on) {
            if is_current_thread(thread) {
                break;
            }
            state = TIMERS
                .callback_done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.slots.remove(&id);
        if !state.slots.is_empty() {
            return;
        }

        // Last timer gone: stop the service thread.
        state.generation += 1;
        let service = state.service.take();
        drop(state);
        TIMERS.wake_service.notify_all();
        if let Some(service) = service {
            if is_current_thread(service.as_pthread_t()) {
                // Called from a callback on the service thread itself: it
                // sees the new generation once the callback returns and
                // ends; dropping the handle detaches it.
                drop(service);
            } else if service.join().is_err() {
                // The service thread aborts on panic, so this cannot happen.
                crate::guard::fatal("timer_free", "the timer service thread panicked");
            }
        }
    });
}
