// SPDX-License-Identifier: GPL-2.0
//! Interrupts: the kernel's entry points for the host
//! (`lkl_host_irq_ops_set`) and the kick signal (`timer_set_signal_handler`,
//! `lkl_host_thread_kick`, `lkl_host_kick_wait`).
//!
//! Kernel code that runs for long without enabling interrupts or leaving
//! the kernel (io_uring's SQ polling thread, say) would never see the timer
//! interrupt, and the kernel's time would stop. Standard UML has SIGALRM
//! interrupt such code. Library mode does the same with a signal of the
//! program's choice, the *kick signal*:
//!
//! * the default is `SIGRTMAX - 2`, or the next free real-time signal
//!   below it if the program uses that one; [`set_kick_signal`] (or
//!   `lkl_host_set_kick_signal` from C) picks another or turns kicks off,
//!   before boot;
//! * its handler is installed at boot, chained: a signal that was not a kick
//!   goes to the handler installed before, or gets the default action;
//! * the kernel only ever sends it to the thread that owns its CPU, with
//!   `pthread_sigqueue` and a value of ours, so the handler tells kicks
//!   from the program's own instances of the signal; it runs interrupts
//!   only where it interrupted kernel code with interrupts enabled;
//! * an instance of the signal from the program that lands on a thread of
//!   ours goes back to the process, and that thread blocks the signal;
//! * the kernel waits for a kick on its way to a thread before that thread
//!   returns to the program, so the program's own blocking calls never see
//!   it (and if the program blocked the signal in that thread, the pending
//!   kick is taken out of its way with `sigtimedwait`);
//! * what runs in the handler is async-signal-safe: atomics, `pthread_kill`,
//!   futex wakes and the timer's atomic stores.

use core::ffi::{c_int, c_long, c_uint, c_ulong, c_void};
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::sigchain::{self, Forwarded, PreviousAction};
use crate::thread::HostThread;
use crate::timer;

/// `struct lkl_host_irq_ops`: the kernel's interrupt entry points.
#[repr(C)]
pub struct IrqOps {
    /// Raises the timer interrupt.
    pub timer_expired: Option<unsafe extern "C" fn()>,
    /// Kicks the CPU owner again if interrupts wait; nonzero while some do.
    pub kick: Option<unsafe extern "C" fn() -> c_int>,
    /// The kick handler's entry: 0 not a kick, 1 handled, 2 must retry.
    pub kicked: Option<unsafe extern "C" fn(pc: c_ulong) -> c_int>,
}

static OPS: AtomicPtr<IrqOps> = AtomicPtr::new(ptr::null_mut());

/// Records the kernel's interrupt entry points.
///
/// # Safety
///
/// `ops` is NULL or points to an `IrqOps` that stays valid and unchanged
/// for the life of the process, whose functions may be called from any
/// thread, the kick signal's handler included.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_irq_ops_set(ops: *const IrqOps) {
    OPS.store(ops.cast_mut(), Ordering::SeqCst);
}

fn ops() -> Option<&'static IrqOps> {
    let ops = OPS.load(Ordering::SeqCst);
    // SAFETY: set by `lkl_host_irq_ops_set`, whose caller promised that
    // the structure lives, unchanged, as long as the process.
    unsafe { ops.as_ref() }
}

/// Calls the kernel's `timer_expired`, if a kernel registered one.
pub(crate) fn timer_expired() {
    if let Some(f) = ops().and_then(|ops| ops.timer_expired) {
        // SAFETY: the kernel's entry point, callable from any thread.
        unsafe { f() };
    }
}

/// Calls the kernel's `kick`; true while interrupts still wait.
pub(crate) fn kick() -> bool {
    match ops().and_then(|ops| ops.kick) {
        // SAFETY: the kernel's entry point, callable from any thread.
        Some(f) => (unsafe { f() }) != 0,
        None => false,
    }
}

/// The value a kick carries (`sigqueue`), which tells it from the program's
/// own instances of the same signal.
const KICK_VALUE: usize = 0x4c4b_4c5f_6b69_636b;

/// The sender's pid and the value of a `siginfo_t` from `sigqueue`.
fn queued_from(info: *const libc::siginfo_t) -> Option<(libc::pid_t, usize)> {
    if info.is_null() {
        return None;
    }
    // SAFETY: a valid siginfo from the kernel; for SI_QUEUE its union holds
    // the sender's pid and the value.
    unsafe {
        if (*info).si_code != libc::SI_QUEUE {
            return None;
        }
        Some(((*info).si_pid(), (*info).si_value().sival_ptr as usize))
    }
}

/// Whether `info` describes a kick: queued by this process with our value.
fn is_kick(info: *const libc::siginfo_t) -> bool {
    // SAFETY: getpid has no preconditions.
    queued_from(info) == Some((unsafe { libc::getpid() }, KICK_VALUE))
}

thread_local! {
    /// Set on the threads this crate starts.
    static LIBRARY_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The configured kick signal: `DEFAULT_SIGNAL` until set, 0 for "off".
static CONFIGURED: AtomicI32 = AtomicI32::new(DEFAULT_SIGNAL);
/// Stands for `SIGRTMAX - 2`, which is not a constant in glibc.
const DEFAULT_SIGNAL: c_int = -1;
/// The signal whose handler is installed, or 0.
static INSTALLED: AtomicI32 = AtomicI32::new(0);

/// Kicks sent so far, for diagnostics and tests.
static KICKS_SENT: AtomicU64 = AtomicU64::new(0);

/// How many kick signals the kernel sent so far in this process.
pub fn kicks_sent() -> u64 {
    KICKS_SENT.load(Ordering::Relaxed)
}

/// The action installed before ours; `None` if ours could not be
/// installed (kicks stay off).
static PREVIOUS: OnceLock<Option<PreviousAction>> = OnceLock::new();

fn default_signal() -> c_int {
    libc::SIGRTMAX() - 2
}

/// The kick signal as configured now, 0 if kicks are off.
pub fn kick_signal() -> c_int {
    match CONFIGURED.load(Ordering::SeqCst) {
        DEFAULT_SIGNAL => default_signal(),
        signal => signal,
    }
}

/// Signals the kick may not use: those the kernel sends for faults and job
/// control, and those that cannot be caught.
fn usable(signal: c_int) -> bool {
    (1..=libc::SIGRTMAX()).contains(&signal)
        && ![
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
            libc::SIGABRT,
            libc::SIGCHLD,
            libc::SIGCONT,
            libc::SIGTSTP,
            libc::SIGTTIN,
            libc::SIGTTOU,
        ]
        .contains(&signal)
}

/// Chooses the kick signal, before boot: `Some(signal)` to use `signal`,
/// `None` to turn kicks off. Without kicks, kernel code that never enables
/// interrupts nor leaves the kernel keeps the timer out (see the module
/// documentation). A signal chosen here is the program's promise not to
/// use it otherwise; the default, `SIGRTMAX - 2`, instead gives way at boot
/// to the next free real-time signal below it if the program installed a
/// handler for it, ignores it, or blocks it in the thread that boots.
///
/// # Errors
///
/// `EINVAL` for a signal the kick cannot use (faults, job control,
/// `SIGKILL`, `SIGSTOP`, numbers outside 1..=`SIGRTMAX`); `EBUSY` once a
/// kernel booted and installed the handler.
pub fn set_kick_signal(signal: Option<c_int>) -> Result<(), c_int> {
    let value = match signal {
        None => 0,
        Some(signal) if usable(signal) => signal,
        Some(_) => return Err(libc::EINVAL),
    };
    if INSTALLED.load(Ordering::SeqCst) != 0 || PREVIOUS.get().is_some() {
        return Err(libc::EBUSY);
    }
    CONFIGURED.store(value, Ordering::SeqCst);
    Ok(())
}

/// C form of [`set_kick_signal`]: `signal` 0 turns kicks off. Returns 0 or
/// a negative errno.
#[no_mangle]
pub extern "C" fn lkl_host_set_kick_signal(signal: c_int) -> c_int {
    match set_kick_signal((signal != 0).then_some(signal)) {
        Ok(()) => 0,
        Err(errno) => -errno,
    }
}

/// Hands a signal that was not a kick to what was there before us.
///
/// # Safety
///
/// Called from the signal handler with its own arguments.
unsafe fn chain(signal: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let Some(Some(previous)) = PREVIOUS.get() else {
        return;
    };
    // SAFETY: forwarding the handler's own arguments.
    if unsafe { previous.forward(signal, info, ctx) } == Forwarded::Default {
        // The default action, as without us: for most signals the end of
        // the process, once our handler returns and unblocks the signal.
        sigchain::raise_default(signal);
    }
}

/// Sends `info` again, unchanged, as a signal to the whole process.
/// Naming our own thread id is what lets the kernel take any `si_code`
/// (an instance from `kill()` or `tgkill()` keeps its sender); the signal
/// still goes to the process, not to this thread. Async-signal-safe.
///
/// # Safety
///
/// `info` points to a valid `siginfo_t`.
unsafe fn requeue_to_process(signal: c_int, info: *const libc::siginfo_t) {
    // SAFETY: by the caller's promise; gettid has no preconditions.
    unsafe {
        libc::syscall(libc::SYS_rt_sigqueueinfo, libc::gettid(), signal, info);
    }
}

/// The program's own instance of the kick signal (process-directed, say).
/// On a thread of the program it goes to the program's handler. On one of
/// ours it goes back to the process, and this thread blocks the signal
/// from now on, so that a thread of the program takes it, or the program's
/// `sigwaitinfo()` finds it pending; this thread then only loses kicks.
///
/// # Safety
///
/// Called from the signal handler with its own arguments.
unsafe fn not_a_kick(signal: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    if !LIBRARY_THREAD.with(|ours| ours.get()) {
        // SAFETY: forwarding the handler's own arguments.
        unsafe { chain(signal, info, ctx) };
        return;
    }
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: the ucontext and siginfo the kernel passed; the signal mask
    // in the ucontext is restored when the handler returns.
    unsafe {
        libc::sigaddset(&mut (*uc).uc_sigmask, signal);
        requeue_to_process(signal, info);
    }
}

extern "C" fn on_kick(signal: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    // SAFETY: errno is the calling thread's; the interrupted code must find
    // it as it left it.
    let saved_errno = unsafe { *libc::__errno_location() };
    if !is_kick(info) {
        // SAFETY: this handler's own arguments.
        unsafe { not_a_kick(signal, info, ctx) };
    } else if let Some(kicked) = ops().and_then(|ops| ops.kicked) {
        let uc = ctx.cast::<libc::ucontext_t>();
        // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO
        // handler.
        let pc = unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] } as c_ulong;
        // SAFETY: the kernel's entry point, made for this handler. A kick
        // it no longer waits for (0) needs nothing.
        if unsafe { kicked(pc) } == 2 {
            timer::request_retry();
        }
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved_errno };
}

fn install(signal: c_int) -> Option<PreviousAction> {
    // SA_RESTART: a kick that lands in a system call of the kernel's own
    // host side restarts it. No SA_ONSTACK: interrupts and softirqs run in
    // the handler and need the thread's stack, not a small alternate one.
    PreviousAction::install(signal, on_kick, libc::SA_RESTART).ok()
}

/// Whether the program shows that it uses `signal`: it installed a handler
/// or ignores it, or (if `check_mask`) the calling thread blocks it, as a
/// program that takes the signal with `sigwaitinfo()` does.
fn used_by_program(signal: c_int, check_mask: bool) -> bool {
    // SAFETY: sigaction and sigset_t are plain data; a NULL new action or
    // mask only reads.
    unsafe {
        let mut current: libc::sigaction = MaybeUninit::zeroed().assume_init();
        if libc::sigaction(signal, ptr::null(), &mut current) != 0
            || current.sa_sigaction != libc::SIG_DFL
        {
            return true;
        }
        let mut mask: libc::sigset_t = MaybeUninit::zeroed().assume_init();
        check_mask
            && libc::pthread_sigmask(libc::SIG_BLOCK, ptr::null(), &mut mask) == 0
            && libc::sigismember(&mask, signal) == 1
    }
}

/// Settles the default kick signal, once: `SIGRTMAX - 2` gives way to a
/// free real-time signal, from the top down, when the program uses it; 0 if
/// none is free. Called on the thread that boots the kernel (when the
/// kernel starts its first thread), whose mask is the program's, and at
/// the latest when the handler is installed.
pub(crate) fn settle_kick_signal(on_program_thread: bool) {
    if CONFIGURED.load(Ordering::SeqCst) != DEFAULT_SIGNAL {
        return;
    }
    // glibc keeps SIGRTMIN and the two below it for itself.
    let signal = (libc::SIGRTMIN() + 1..=default_signal())
        .rev()
        .find(|&candidate| !used_by_program(candidate, on_program_thread))
        .unwrap_or(0);
    let _ = CONFIGURED.compare_exchange(DEFAULT_SIGNAL, signal, Ordering::SeqCst, Ordering::SeqCst);
}

/// Whether the calling thread is one this crate started.
pub(crate) fn on_library_thread() -> bool {
    LIBRARY_THREAD.with(|ours| ours.get())
}

/// `timer_set_signal_handler()`: installs the kick signal's handler, once
/// per process; in standard UML this installs SIGALRM's. The default
/// signal gives way to another if the program uses it (see
/// [`set_kick_signal`]); [`kick_signal`] tells which was taken. Kicks stay
/// off if the program turned them off, no signal is free, or the handler
/// cannot be installed.
#[no_mangle]
pub extern "C" fn timer_set_signal_handler() {
    crate::guard::guard("timer_set_signal_handler", || {
        if INSTALLED.load(Ordering::SeqCst) != 0 || PREVIOUS.get().is_some() {
            return;
        }
        settle_kick_signal(!on_library_thread());
        let signal = kick_signal();
        if signal == 0 {
            return;
        }
        // The previous action is recorded before ours can run: the handler
        // chains only once PREVIOUS is set, inside the initialiser.
        let mut installed = false;
        PREVIOUS.get_or_init(|| {
            let previous = install(signal);
            installed = previous.is_some();
            previous
        });
        if installed {
            INSTALLED.store(signal, Ordering::SeqCst);
            // The kernel's boot thread, one of ours, started before the
            // signal was chosen; it takes kicks from now on.
            unblock(signal);
        }
    })
}

/// Sends the kick signal to `thread`. Returns 0, `-EOPNOTSUPP` when kicks
/// are off, `-ENODEV` before the handler is installed, or the error of
/// `pthread_kill`. Async-signal-safe.
///
/// # Safety
///
/// `thread` is a live thread of this process, as the kernel guarantees for
/// the CPU owner it kicks.
#[no_mangle]
pub unsafe extern "C" fn lkl_host_thread_kick(thread: HostThread) -> c_int {
    let signal = INSTALLED.load(Ordering::SeqCst);
    if signal == 0 {
        return if kick_signal() == 0 {
            -libc::EOPNOTSUPP
        } else {
            -libc::ENODEV
        };
    }
    let value = libc::sigval {
        sival_ptr: KICK_VALUE as *mut c_void,
    };
    // SAFETY: the caller guarantees that `thread` lives.
    let error = unsafe { libc::pthread_sigqueue(thread as libc::pthread_t, signal, value) };
    if error == 0 {
        KICKS_SENT.fetch_add(1, Ordering::Relaxed);
    }
    -error
}

/// Whether our handler is still the signal's: a program that replaced it
/// (or set `SIG_IGN`) after boot gets no kicks, and none is awaited.
fn handler_installed(signal: c_int) -> bool {
    // SAFETY: sigaction is plain data; a NULL new action only reads.
    unsafe {
        let mut current: libc::sigaction = MaybeUninit::zeroed().assume_init();
        libc::sigaction(signal, ptr::null(), &mut current) == 0
            && current.sa_sigaction == on_kick as *const () as usize
    }
}

/// Lets a kick on its way to the calling thread arrive: yields (after 100
/// `attempt`s, sleeps 50 us) if the thread takes the signal, which its
/// sender may not have sent yet, or takes it out of the pending set (waiting up to a
/// millisecond for it) if the program blocked it here. A signal taken that
/// way but not a kick goes back to the process. Returns 1 if the kick is
/// gone without the handler (taken, or kicks turned off because the
/// program replaced the handler), else 0.
#[no_mangle]
pub extern "C" fn lkl_host_kick_wait(attempt: c_uint) -> c_int {
    let signal = INSTALLED.load(Ordering::SeqCst);
    if signal == 0 || !handler_installed(signal) {
        INSTALLED.store(0, Ordering::SeqCst);
        return 1;
    }
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: valid sigset_t; a NULL new mask only reads the current one.
    let blocked = unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, ptr::null(), &mut set) == 0
            && libc::sigismember(&set, signal) == 1
    };
    if !blocked {
        // The sender has claimed the kick but may not have sent it yet:
        // it can be preempted for long. Never send ourselves one instead;
        // the sender's own would then land in the program's code. Wait,
        // yielding first, then sleeping briefly so as not to spin.
        if attempt < 100 {
            // SAFETY: no preconditions; the signal arrives on the way back.
            unsafe { libc::sched_yield() };
        } else {
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: 50_000,
            };
            // SAFETY: a valid timespec; the kick may end the sleep early,
            // which is what we wait for.
            unsafe { libc::nanosleep(&pause, ptr::null_mut()) };
        }
        return 0;
    }
    // SAFETY: valid sigset_t, siginfo and timespec. The raw system call,
    // unlike glibc's sigtimedwait, is no cancellation point.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        let limit = libc::timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000,
        };
        let mut info: libc::siginfo_t = MaybeUninit::zeroed().assume_init();
        let taken = libc::syscall(
            libc::SYS_rt_sigtimedwait,
            &set,
            &mut info,
            &limit,
            std::mem::size_of::<libc::c_ulong>(),
        );
        if taken != c_long::from(signal) {
            return 0;
        }
        if is_kick(&info) {
            return 1;
        }
        requeue_to_process(signal, &info);
        0
    }
}

/// Runs `f` with every signal blocked in the calling thread, restoring the
/// thread's mask after: a thread started in `f` begins with all signals
/// blocked and sets its own mask, so no handler of the program ever runs on
/// it.
pub(crate) fn with_signals_blocked<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: sigset_t is plain data; sigfillset initialises it.
    let mut all: libc::sigset_t = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: as above.
    let mut old: libc::sigset_t = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: valid sigset_t values; this thread's mask, put back below.
    unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    }
    let result = f();
    // SAFETY: restoring the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, ptr::null_mut()) };
    result
}

fn unblock(signal: c_int) {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: a valid sigset_t; changes the calling thread's mask only.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, ptr::null_mut());
    }
}

/// In a thread of this crate: blocks every signal the program might send
/// the process, so its handlers never run on our threads, but leaves the
/// kick (once chosen and installed) and the faults deliverable.
pub(crate) fn block_program_signals() {
    LIBRARY_THREAD.with(|ours| ours.set(true));
    // SAFETY: sigset_t is plain data; sigfillset initialises it.
    let mut set: libc::sigset_t = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: valid sigset_t for sigfillset/sigdelset and pthread_sigmask.
    unsafe {
        libc::sigfillset(&mut set);
        for signal in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
            INSTALLED.load(Ordering::SeqCst),
        ] {
            if signal > 0 {
                libc::sigdelset(&mut set, signal);
            }
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, ptr::null_mut());
    }
}
