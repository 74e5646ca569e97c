// SPDX-License-Identifier: GPL-2.0
//! Kernel console output (`lkl_host_print`) and the application's sink.
//!
//! A library must not write to the application's terminal unasked, so the
//! console is silent until the application installs a sink. Without one,
//! `lkl_host_print` is a single relaxed atomic load.

use core::ffi::{c_char, c_int};
use std::io::Write;
use std::slice;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::guard::guard;

/// A function receiving kernel console output, for [`set_console_sink`].
pub type ConsoleSink = Box<dyn Fn(&[u8]) + Send + Sync>;

type SharedSink = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// Whether `SINK` holds a sink; lets `lkl_host_print` skip the lock.
static SINK_INSTALLED: AtomicBool = AtomicBool::new(false);
static SINK: RwLock<Option<SharedSink>> = RwLock::new(None);

/// Installs the function that receives kernel console output, or with
/// `None` makes the console silent again (the default).
///
/// The sink is called on whichever thread the kernel prints from, possibly
/// on several threads at once, with the bytes exactly as the kernel
/// printed them (not necessarily whole lines). A print already in progress
/// when the sink is replaced may still reach the old sink. A sink may
/// itself call `set_console_sink`.
///
/// The sink runs in the middle of kernel code (the thread holds the
/// kernel's CPU): a system call or a halt from it is refused with
/// `EDEADLK`, and it must return, not end its thread or jump out.
pub fn set_console_sink(sink: Option<ConsoleSink>) {
    let sink: Option<SharedSink> = sink.map(Arc::from);
    let mut slot = SINK.write().unwrap_or_else(PoisonError::into_inner);
    SINK_INSTALLED.store(sink.is_some(), Ordering::Relaxed);
    let previous = std::mem::replace(&mut *slot, sink);
    drop(slot);
    // Dropped outside the lock: the old sink's destructor is user code.
    drop(previous);
}

/// Sends kernel console output to the process's stderr.
pub fn console_to_stderr() {
    set_console_sink(Some(Box::new(|bytes: &[u8]| {
        // Console output has nowhere else to go if stderr fails.
        let _ = std::io::stderr().write_all(bytes);
    })));
}

/// Kernel console output: hands `len` bytes at `text` to the sink installed
/// with [`set_console_sink`], or drops them if there is none. NULL `text`
/// or `len <= 0` prints nothing.
///
/// # Safety
///
/// `text` is NULL or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_print(text: *const c_char, len: c_int) {
    if !SINK_INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    let Ok(len) = usize::try_from(len) else {
        return;
    };
    if text.is_null() || len == 0 {
        return;
    }
    // SAFETY: by the caller's promise `text` points to `len` readable bytes.
    let bytes = unsafe { slice::from_raw_parts(text.cast::<u8>(), len) };
    guard("print", || {
        // Call the sink outside the lock so that it may replace itself.
        let sink = SINK.read().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(sink) = sink {
            sink(bytes);
        }
    });
}
