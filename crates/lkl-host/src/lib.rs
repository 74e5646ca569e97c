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
//! * **Time and the timer** (`os_nsecs`, `os_persistent_clock_emulation`,
//!   `os_timer_*`): UML's own host functions from `os.h`, which
//!   `arch/um/kernel/time.c` calls. The timer expires on a host thread
//!   owned by this crate (named `lkl-timer`), which exists from
//!   `os_timer_create` until `lkl_host_timer_stop`. Arming is
//!   async-signal-safe.
//! * **Interrupts** (`lkl_host_irq_ops_set`, the kick signal): see
//!   [`irq`](crate::set_kick_signal) for the one signal handler this crate
//!   installs, chained, at boot, and how to choose or refuse it.
//! * **Memory** (`lkl_host_mem_*`, `lkl_host_page_*`): the C allocator and
//!   anonymous mappings. Ownership passes to the caller, who frees with the
//!   matching function.
//! * **Console** (`lkl_host_print`): silent unless the application installs
//!   a sink with [`set_console_sink`] or [`console_to_stderr`].
//! * **Panic** (`lkl_host_panic`): prints to stderr and aborts.
//! * **virtio-mmio devices** (`lkl_host_virtio_*`): register accesses,
//!   the kernel's memory and the boot list of the devices in [`virtio`],
//!   whose worker threads (named after the device, `lkl-blk` say) do the
//!   I/O off the kernel's CPU.
//!
//! Apart from the kick signal's handler, nothing here installs signal
//! handlers, changes process-wide settings or prints on its own. A Rust panic never unwinds into C: each function
//! either cannot panic or turns a panic into an abort with a message on
//! stderr naming the operation (`lkl-host: <operation> failed: ...`).
//!
//! Handles returned by `*_alloc` are owned by the caller until the matching
//! `*_free`; using a handle after freeing it is undefined behaviour, as in C.

mod alloc;
pub mod app_timer;
mod console;
mod futex;
mod guard;
mod irq;
mod mem;
mod mutex;
mod panic;
mod sem;
mod sigchain;
mod thread;
mod time;
mod timer;
mod tls;
mod uaccess;
pub mod virtio;

use core::ffi::c_void;

/// A C callback taking one opaque argument: thread bodies, application
/// timer callbacks and TLS destructors.
pub type HostCallback = unsafe extern "C" fn(arg: *mut c_void);

pub use app_timer::HostTimer;
pub use console::{console_to_stderr, lkl_host_print, set_console_sink, ConsoleSink};
pub use irq::{
    kick_signal, kicks_sent, lkl_host_irq_ops_set, lkl_host_kick_wait, lkl_host_set_kick_signal,
    lkl_host_thread_kick, set_kick_signal, timer_set_signal_handler, IrqOps,
};
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
pub use time::{os_nsecs, os_persistent_clock_emulation};
pub use timer::{
    lkl_host_timer_stop, os_timer_create, os_timer_disable, os_timer_one_shot,
    os_timer_set_interval,
};
pub use tls::{lkl_host_tls_alloc, lkl_host_tls_free, lkl_host_tls_get, lkl_host_tls_set, HostTls};
pub use uaccess::{lkl_host_copy_user, lkl_host_uaccess_init};
pub use virtio::{
    lkl_host_virtio_boot_device, lkl_host_virtio_memory, lkl_host_virtio_read,
    lkl_host_virtio_stop, lkl_host_virtio_write,
};
