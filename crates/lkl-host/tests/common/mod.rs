// SPDX-License-Identifier: GPL-2.0
//! The host interface as the kernel's C code sees it: opaque structs and
//! `extern "C"` declarations resolved by the linker, not Rust paths.
#![allow(dead_code)]

use std::ffi::{c_char, c_int, c_ulong, c_void};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

// Make sure the crate (and so the exported symbols) is linked in.
use lkl_host as _;

pub type LklHostThread = c_ulong;
pub type Callback = unsafe extern "C" fn(*mut c_void);

macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}
opaque!(LklHostSem, LklHostMutex, LklHostTls);

pub type LklHostTimer = lkl_host::HostTimer;

extern "C" {
    pub fn lkl_host_thread_create(body: Option<Callback>, arg: *mut c_void) -> LklHostThread;
    pub fn lkl_host_thread_join(thread: LklHostThread) -> c_int;
    pub fn lkl_host_thread_self() -> LklHostThread;
    pub fn lkl_host_thread_equal(a: LklHostThread, b: LklHostThread) -> c_int;

    pub fn lkl_host_sem_alloc(count: c_int) -> *mut LklHostSem;
    pub fn lkl_host_sem_free(sem: *mut LklHostSem);
    pub fn lkl_host_sem_up(sem: *mut LklHostSem);
    pub fn lkl_host_sem_down(sem: *mut LklHostSem);

    pub fn lkl_host_mutex_alloc(recursive: c_int) -> *mut LklHostMutex;
    pub fn lkl_host_mutex_free(mutex: *mut LklHostMutex);
    pub fn lkl_host_mutex_lock(mutex: *mut LklHostMutex);
    pub fn lkl_host_mutex_unlock(mutex: *mut LklHostMutex);

    pub fn lkl_host_tls_alloc(destructor: Option<Callback>) -> *mut LklHostTls;
    pub fn lkl_host_tls_free(key: *mut LklHostTls);
    pub fn lkl_host_tls_set(key: *mut LklHostTls, data: *mut c_void) -> c_int;
    pub fn lkl_host_tls_get(key: *mut LklHostTls) -> *mut c_void;

    pub fn lkl_host_uaccess_init() -> c_int;
    pub fn lkl_host_copy_user(dst: *mut c_void, src: *const c_void, n: c_ulong) -> c_ulong;

    pub fn lkl_host_mem_alloc(size: c_ulong) -> *mut c_void;
    pub fn lkl_host_mem_free(addr: *mut c_void);
    pub fn lkl_host_page_alloc(size: c_ulong) -> *mut c_void;
    pub fn lkl_host_page_free(addr: *mut c_void, size: c_ulong);

    pub fn lkl_host_print(text: *const c_char, len: c_int);
    pub fn lkl_host_panic(msg: *const c_char) -> !;
}

/// A raw pointer that test threads may share; the tests keep the pointee
/// alive and synchronised themselves.
pub struct Shared<T>(pub *mut T);

// Manual impls: derive would demand `T: Copy` of the opaque pointees.
impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Shared<T> {}

// SAFETY: only used for handles of the host interface, which is
// thread-safe by contract, and for pointees the tests synchronise.
unsafe impl<T> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Shared<T> {}

/// Runs `work` on a helper thread and fails the test if it does not finish
/// within `limit`, so that a lost wake-up fails instead of hanging.
pub fn within<R: Send + 'static>(limit: Duration, work: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, finished) = mpsc::channel();
    let worker = thread::spawn(move || {
        let _ = done.send(work());
    });
    match finished.recv_timeout(limit) {
        Ok(result) => {
            worker.join().expect("worker thread");
            result
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("did not finish within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: report its panic.
            match worker.join() {
                Err(payload) => std::panic::resume_unwind(payload),
                Ok(()) => unreachable!("worker ended without a result"),
            }
        }
    }
}

/// Milliseconds as nanoseconds.
pub const fn ms(milliseconds: u64) -> u64 {
    milliseconds * 1_000_000
}

/// Names, in a child process, the one test that process runs.
const CHILD_VAR: &str = "LKL_HOST_TEST_CHILD";
/// What a child prints on stderr right before it runs the test's body.
const CHILD_STARTED: &str = "lkl-host test child: running ";

/// For behaviour that ends or poisons the process: runs `body` in a child
/// process, which is this test binary again running only the calling test
/// (`test` must be its name).
///
/// In the parent this returns the child's output, which the test must
/// check: the test passes or fails on what the child did, and it is the
/// only one that counts, since the child runs in a process of its own. In
/// the child it runs `body` and returns `None`; the test then returns.
///
/// A child that did not reach `body` (a wrong `test` name, a filter that
/// matched nothing) fails the parent test instead of passing vacuously.
pub fn in_child_process(test: &str, body: impl FnOnce()) -> Option<std::process::Output> {
    if std::env::var(CHILD_VAR).as_deref() == Ok(test) {
        // Deliberate aborts must not leave core files behind.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: a valid pointer; only this child process is affected.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
        eprintln!("{CHILD_STARTED}{test}");
        body();
        return None;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let output = std::process::Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, test)
        .output()
        .expect("running the test binary as a child");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{CHILD_STARTED}{test}\n")),
        "the child process did not run test {test:?} ({}); stdout: {}; stderr: {stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
    );
    Some(output)
}

/// Monotonic host time in nanoseconds (`os_nsecs`).
pub fn lkl_host_time_ns() -> u64 {
    u64::try_from(lkl_host::os_nsecs()).unwrap()
}

/// Wall-clock host time in nanoseconds (`os_persistent_clock_emulation`).
pub fn lkl_host_wall_time_ns() -> u64 {
    u64::try_from(lkl_host::os_persistent_clock_emulation()).unwrap()
}

#[allow(unused_imports)] // not every test uses the timers
pub use lkl_host::app_timer::{
    alloc as lkl_host_timer_alloc, free as lkl_host_timer_free,
    set_oneshot as lkl_host_timer_set_oneshot,
};
