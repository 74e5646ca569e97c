// SPDX-License-Identifier: GPL-2.0
//! The host interface of Linux in library mode.
//!
//! The kernel, linked into the application as a static archive, reaches the
//! host through the plain C functions `lkl_host_*` exported here with
//! `#[no_mangle]`. The kernel has a single virtual CPU but calls these
//! functions from many host threads at once, so every function is safe to
//! call concurrently from any thread, including threads the application
//! created itself.
//!
//! # Contract
//!
//! * **Threads** (`lkl_host_thread_*`): a thread is a joinable POSIX thread
//!   and its handle is the `pthread_t` value, so `lkl_host_thread_self` works
//!   on every thread. The creator must join each thread it creates.
//! * **Semaphores and mutexes** (`lkl_host_sem_*`, `lkl_host_mutex_*`):
//!   `down` and `lock` block the calling host thread (in the kernel's futex
//!   wait, without spinning) until they succeed. A plain mutex may be
//!   unlocked by any thread; a recursive mutex must be unlocked by the
//!   thread holding it, anything else aborts the process.
//! * **Thread-local storage** (`lkl_host_tls_*`): POSIX thread keys, so a
//!   key's destructor runs at the exit of every thread that stored a
//!   non-NULL value, whoever created the thread.
//! * **Timers** (`lkl_host_timer_*`): callbacks run on a host thread owned
//!   by this crate (named `lkl-timer`), never on the thread that armed the
//!   timer. That thread exists while at least one timer is allocated and is
//!   joined when the last timer is freed. See [`lkl_host_timer_free`] for
//!   the blocking rules.
//! * **Memory** (`lkl_host_mem_*`, `lkl_host_page_*`): the C allocator and
//!   anonymous mappings. Ownership passes to the caller, who frees with the
//!   matching function.
//! * **Console** (`lkl_host_print`): silent unless the application installs
//!   a sink with [`set_console_sink`] or [`console_to_stderr`].
//! * **Panic** (`lkl_host_panic`): prints to stderr and aborts.
//!
//! Nothing here installs signal handlers, changes process-wide settings or
//! prints on its own. A Rust panic never unwinds into C: each function
//! either cannot panic or turns a panic into an abort with a message on
//! stderr naming the operation (`lkl-host: <operation> failed: ...`).
//!
//! Handles returned by `*_alloc` are owned by the caller until the matching
//! `*_free`; using a handle after freeing it is undefined behaviour, as in C.

mod alloc;
mod console;
mod futex;
mod guard;
mod mem;
mod mutex;
mod panic;
mod sem;
mod thread;
mod time;
mod timer;
mod tls;
mod uaccess;

use core::ffi::c_void;

/// A C callback taking one opaque argument: thread bodies, timer callbacks
/// and TLS destructors.
pub type HostCallback = unsafe extern "C" fn(arg: *mut c_void);

pub use console::{console_to_stderr, lkl_host_print, set_console_sink, ConsoleSink};
pub use mem::{lkl_host_mem_alloc, lkl_host_mem_free, lkl_host_page_alloc, lkl_host_page_free};
pub use mutex::{
    lkl_host_mutex_alloc, lkl_host_mutex_free, lkl_host_mutex_lock, lkl_host_mutex_unlock,
    HostMutex,
};
pub use panic::lkl_host_panic;
pub use sem::{lkl_host_sem_alloc, lkl_host_sem_down, lkl_host_sem_free, lkl_host_sem_up, HostSem};
pub use thread::{
    lkl_host_thread_create, lkl_host_thread_equal, lkl_host_thread_join, lkl_host_thread_self,
    HostThread,
};
pub use time::{lkl_host_time_ns, lkl_host_wall_time_ns};
pub use timer::{lkl_host_timer_alloc, lkl_host_timer_free, lkl_host_timer_set_oneshot, HostTimer};
pub use tls::{lkl_host_tls_alloc, lkl_host_tls_free, lkl_host_tls_get, lkl_host_tls_set, HostTls};
pub use uaccess::{lkl_host_copy_user, lkl_host_uaccess_init};
