// SPDX-License-Identifier: GPL-2.0
//! `lkl_host_ops`: LKL's table of host operations, as a real object whose
//! members work. Applications call them directly and set `print` to
//! capture the console; the kernel itself calls the `lkl_host_*`
//! functions of `lkl-host` and never this table.

use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_long, c_ulong, c_ulonglong, c_void};
use std::io::Write;
use std::ptr;

use lkl_host::{HostMutex, HostSem, HostThread, HostTimer, HostTls};

type Callback = unsafe extern "C" fn(*mut c_void);
type Thunk = unsafe extern "C" fn();

/// `struct lkl_host_operations`, member for member (lkl/asm/host_ops.h).
#[repr(C)]
pub struct LklHostOperations {
    pub virtio_devices: *const c_char,
    pub print: Option<unsafe extern "C" fn(*const c_char, c_int)>,
    pub panic: Option<unsafe extern "C" fn()>,
    pub sem_alloc: Option<unsafe extern "C" fn(c_int) -> *mut HostSem>,
    pub sem_free: Option<unsafe extern "C" fn(*mut HostSem)>,
    pub sem_up: Option<unsafe extern "C" fn(*mut HostSem)>,
    pub sem_down: Option<unsafe extern "C" fn(*mut HostSem)>,
    pub mutex_alloc: Option<unsafe extern "C" fn(c_int) -> *mut HostMutex>,
    pub mutex_free: Option<unsafe extern "C" fn(*mut HostMutex)>,
    pub mutex_lock: Option<unsafe extern "C" fn(*mut HostMutex)>,
    pub mutex_unlock: Option<unsafe extern "C" fn(*mut HostMutex)>,
    pub thread_create: Option<unsafe extern "C" fn(Option<Callback>, *mut c_void) -> HostThread>,
    pub thread_detach: Option<unsafe extern "C" fn()>,
    pub thread_exit: Option<unsafe extern "C" fn()>,
    pub thread_join: Option<unsafe extern "C" fn(HostThread) -> c_int>,
    pub thread_self: Option<unsafe extern "C" fn() -> HostThread>,
    pub thread_equal: Option<unsafe extern "C" fn(HostThread, HostThread) -> c_int>,
    pub thread_stack: Option<unsafe extern "C" fn(*mut c_ulong) -> *mut c_void>,
    pub tls_alloc: Option<unsafe extern "C" fn(Option<Callback>) -> *mut HostTls>,
    pub tls_free: Option<unsafe extern "C" fn(*mut HostTls)>,
    pub tls_set: Option<unsafe extern "C" fn(*mut HostTls, *mut c_void) -> c_int>,
    pub tls_get: Option<unsafe extern "C" fn(*mut HostTls) -> *mut c_void>,
    pub mem_alloc: Option<unsafe extern "C" fn(c_ulong) -> *mut c_void>,
    pub mem_free: Option<unsafe extern "C" fn(*mut c_void)>,
    pub page_alloc: Option<unsafe extern "C" fn(c_ulong) -> *mut c_void>,
    pub page_free: Option<unsafe extern "C" fn(*mut c_void, c_ulong)>,
    pub time: Option<unsafe extern "C" fn() -> c_ulonglong>,
    pub timer_alloc: Option<unsafe extern "C" fn(Option<Thunk>) -> *mut c_void>,
    pub timer_set_oneshot: Option<unsafe extern "C" fn(*mut c_void, c_ulong) -> c_int>,
    pub timer_free: Option<unsafe extern "C" fn(*mut c_void)>,
    pub ioremap: Option<unsafe extern "C" fn(c_long, c_int) -> *mut c_void>,
    pub iomem_access:
        Option<unsafe extern "C" fn(*const c_void, *mut c_void, c_int, c_int) -> c_int>,
    pub jmp_buf_set: Option<unsafe extern "C" fn(*mut c_void, Option<Thunk>)>,
    pub jmp_buf_longjmp: Option<unsafe extern "C" fn(*mut c_void, c_int)>,
    pub memcpy: Option<unsafe extern "C" fn(*mut c_void, *const c_void, c_ulong) -> *mut c_void>,
    pub memset: Option<unsafe extern "C" fn(*mut c_void, c_int, c_ulong) -> *mut c_void>,
    pub memmove: Option<unsafe extern "C" fn(*mut c_void, *const c_void, c_ulong) -> *mut c_void>,
    pub mmap: Option<unsafe extern "C" fn(*mut c_void, c_ulong, c_int) -> *mut c_void>,
    pub munmap: Option<unsafe extern "C" fn(*mut c_void, c_ulong) -> c_int>,
    pub shmem_init: Option<unsafe extern "C" fn(c_ulong)>,
    pub shmem_mmap:
        Option<unsafe extern "C" fn(*mut c_void, c_ulong, c_ulong, c_int) -> *mut c_void>,
    pub pci_ops: *mut c_void,
}

// 42 pointer-sized members, as in lkl/asm/host_ops.h (tests/c/headers.c
// checks the C side).
const _: () = assert!(std::mem::size_of::<LklHostOperations>() == 42 * 8);

/// The exported, mutable `lkl_host_ops`: C code reads and writes its
/// members directly, so it lives in an `UnsafeCell`.
#[repr(transparent)]
pub struct HostOps(UnsafeCell<LklHostOperations>);

// SAFETY: Rust code only reads members (with volatile reads of whole
// pointer-sized words); writes come from the C application, which owns the
// synchronization of its own writes, as with LKL's plain C global.
unsafe impl Sync for HostOps {}

impl HostOps {
    /// The table's address.
    pub fn get(&self) -> *mut LklHostOperations {
        self.0.get()
    }
}

/// Console: LKL's default prints to standard output.
unsafe extern "C" fn print_stdout(text: *const c_char, len: c_int) {
    let Ok(len) = usize::try_from(len) else {
        return;
    };
    if text.is_null() {
        return;
    }
    // SAFETY: the caller passes `len` readable bytes at `text`.
    let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
    // The console has nowhere else to go if stdout fails.
    let _ = std::io::stdout().lock().write_all(bytes);
}

unsafe extern "C" fn panic_abort() {
    std::process::abort()
}

unsafe extern "C" fn sem_alloc(count: c_int) -> *mut HostSem {
    lkl_host::lkl_host_sem_alloc(count)
}

unsafe extern "C" fn mutex_alloc(recursive: c_int) -> *mut HostMutex {
    lkl_host::lkl_host_mutex_alloc(recursive)
}

unsafe extern "C" fn thread_detach() {
    // SAFETY: detaching the calling thread; its handle stays valid.
    unsafe { libc::pthread_detach(libc::pthread_self()) };
}

unsafe extern "C" fn thread_exit() {
    // SAFETY: ends the calling thread, as the application asked.
    unsafe { libc::pthread_exit(ptr::null_mut()) }
}

/// LKL's thread_join: 0 on success, -1 otherwise.
unsafe extern "C" fn thread_join(thread: HostThread) -> c_int {
    // SAFETY: the caller passes a joinable thread, as LKL requires.
    if unsafe { lkl_host::lkl_host_thread_join(thread) } == 0 {
        0
    } else {
        -1
    }
}

unsafe extern "C" fn thread_self() -> HostThread {
    lkl_host::lkl_host_thread_self()
}

unsafe extern "C" fn thread_equal(a: HostThread, b: HostThread) -> c_int {
    lkl_host::lkl_host_thread_equal(a, b)
}

/// The calling thread's stack: its lowest address, and its size in `*size`.
unsafe extern "C" fn thread_stack(size: *mut c_ulong) -> *mut c_void {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `attr` is an out-parameter for the calling thread's attributes.
    if unsafe { libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) } != 0 {
        return ptr::null_mut();
    }
    let mut addr: *mut c_void = ptr::null_mut();
    let mut len: libc::size_t = 0;
    // SAFETY: `attr` was initialized above; `addr` and `len` are out-parameters.
    let err = unsafe { libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut len) };
    // SAFETY: `attr` was initialized above and is destroyed once.
    unsafe { libc::pthread_attr_destroy(attr.as_mut_ptr()) };
    if err != 0 {
        return ptr::null_mut();
    }
    if !size.is_null() {
        // SAFETY: the caller passes a writable `size` or NULL.
        unsafe { *size = len as c_ulong };
    }
    addr
}

unsafe extern "C" fn mem_alloc(size: c_ulong) -> *mut c_void {
    lkl_host::lkl_host_mem_alloc(size)
}

unsafe extern "C" fn page_alloc(size: c_ulong) -> *mut c_void {
    lkl_host::lkl_host_page_alloc(size)
}

unsafe extern "C" fn time_ns() -> c_ulonglong {
    // The monotonic clock never reads below 0.
    lkl_host::os_nsecs() as c_ulonglong
}

/// LKL's timers call `fn()` without an argument: the function pointer
/// travels as the host timer's argument.
unsafe extern "C" fn timer_thunk(f: *mut c_void) {
    // SAFETY: `f` is the non-NULL `Thunk` that timer_alloc stored.
    let f: Thunk = unsafe { std::mem::transmute::<*mut c_void, Thunk>(f) };
    // SAFETY: the application's timer function takes no arguments.
    unsafe { f() };
}

unsafe extern "C" fn timer_alloc(f: Option<Thunk>) -> *mut c_void {
    let Some(f) = f else {
        return ptr::null_mut();
    };
    // SAFETY: timer_thunk calls `f` from the timer thread, which LKL's
    // contract for timer functions allows.
    unsafe { lkl_host::app_timer::alloc(Some(timer_thunk), f as *mut c_void) }.cast()
}

unsafe extern "C" fn timer_set_oneshot(timer: *mut c_void, delta: c_ulong) -> c_int {
    // SAFETY: the caller passes a timer from timer_alloc.
    unsafe { lkl_host::app_timer::set_oneshot(timer.cast::<HostTimer>(), delta as c_ulonglong) }
}

unsafe extern "C" fn timer_free(timer: *mut c_void) {
    // SAFETY: the caller passes a timer from timer_alloc, once.
    unsafe { lkl_host::app_timer::free(timer.cast::<HostTimer>()) }
}

unsafe extern "C" fn memcpy(d: *mut c_void, s: *const c_void, n: c_ulong) -> *mut c_void {
    // SAFETY: the caller's promise, as for C's memcpy.
    unsafe { libc::memcpy(d, s, n as libc::size_t) }
}

unsafe extern "C" fn memset(d: *mut c_void, c: c_int, n: c_ulong) -> *mut c_void {
    // SAFETY: the caller's promise, as for C's memset.
    unsafe { libc::memset(d, c, n as libc::size_t) }
}

unsafe extern "C" fn memmove(d: *mut c_void, s: *const c_void, n: c_ulong) -> *mut c_void {
    // SAFETY: the caller's promise, as for C's memmove.
    unsafe { libc::memmove(d, s, n as libc::size_t) }
}

/// Anonymous memory with `prot` (LKL_HOST_PROT_* bits, which are the
/// host's PROT_* values), at `addr` if it is not NULL. NULL on failure.
unsafe extern "C" fn mmap(addr: *mut c_void, size: c_ulong, prot: c_int) -> *mut c_void {
    let mut flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    if !addr.is_null() {
        flags |= libc::MAP_FIXED_NOREPLACE;
    }
    // SAFETY: an anonymous mapping; MAP_FIXED_NOREPLACE never replaces an
    // existing one.
    let p = unsafe { libc::mmap(addr, size as libc::size_t, prot, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        p
    }
}

unsafe extern "C" fn munmap(addr: *mut c_void, size: c_ulong) -> c_int {
    // SAFETY: the caller unmaps memory it mapped with `mmap`.
    unsafe { libc::munmap(addr, size as libc::size_t) }
}

/// LKL's `lkl_host_ops`, filled with working host functions. The members
/// LKL uses only for its own kernel side (iomem, jmp_buf, MMU shared
/// memory, PCI) are NULL: the kernel here does not use this table.
#[no_mangle]
pub static lkl_host_ops: HostOps = HostOps(UnsafeCell::new(LklHostOperations {
    virtio_devices: ptr::null(),
    print: Some(print_stdout),
    panic: Some(panic_abort),
    sem_alloc: Some(sem_alloc),
    sem_free: Some(lkl_host::lkl_host_sem_free),
    sem_up: Some(lkl_host::lkl_host_sem_up),
    sem_down: Some(lkl_host::lkl_host_sem_down),
    mutex_alloc: Some(mutex_alloc),
    mutex_free: Some(lkl_host::lkl_host_mutex_free),
    mutex_lock: Some(lkl_host::lkl_host_mutex_lock),
    mutex_unlock: Some(lkl_host::lkl_host_mutex_unlock),
    thread_create: Some(lkl_host::lkl_host_thread_create),
    thread_detach: Some(thread_detach),
    thread_exit: Some(thread_exit),
    thread_join: Some(thread_join),
    thread_self: Some(thread_self),
    thread_equal: Some(thread_equal),
    thread_stack: Some(thread_stack),
    tls_alloc: Some(lkl_host::lkl_host_tls_alloc),
    tls_free: Some(lkl_host::lkl_host_tls_free),
    tls_set: Some(lkl_host::lkl_host_tls_set),
    tls_get: Some(lkl_host::lkl_host_tls_get),
    mem_alloc: Some(mem_alloc),
    mem_free: Some(lkl_host::lkl_host_mem_free),
    page_alloc: Some(page_alloc),
    page_free: Some(lkl_host::lkl_host_page_free),
    time: Some(time_ns),
    timer_alloc: Some(timer_alloc),
    timer_set_oneshot: Some(timer_set_oneshot),
    timer_free: Some(timer_free),
    ioremap: None,
    iomem_access: None,
    jmp_buf_set: None,
    jmp_buf_longjmp: None,
    memcpy: Some(memcpy),
    memset: Some(memset),
    memmove: Some(memmove),
    mmap: Some(mmap),
    munmap: Some(munmap),
    shmem_init: None,
    shmem_mmap: None,
    pci_ops: ptr::null_mut(),
}));
