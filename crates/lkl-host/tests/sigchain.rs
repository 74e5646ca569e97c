// SPDX-License-Identifier: GPL-2.0
//! Signal chaining: a signal that is not ours, for the kick signal's
//! handler (`timer_set_signal_handler`) or the fault catcher's
//! (`lkl_host_uaccess_init`), reaches the action installed before as the
//! kernel would have delivered it: with that action's mask, the signal
//! blocked unless `SA_NODEFER`, reset by `SA_RESETHAND`, `SIG_IGN` ignored.
//!
//! Dispositions are process-wide and installed once, so every test runs its
//! body in a child process of its own and passes on what the child did. A
//! child whose checks all pass exits with `CHILD_PASSED`, not 0: a child
//! that just returned from its test (exit 0) never counts as a pass.

mod common;

use common::*;
use lkl_host::{
    lkl_host_irq_ops_set, lkl_host_thread_kick, lkl_host_thread_self, set_kick_signal,
    timer_set_signal_handler, IrqOps,
};
use std::ffi::{c_int, c_ulong, c_void};
use std::os::unix::process::ExitStatusExt;
use std::process::Output;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};

/// The exit code of a child whose checks all passed.
const CHILD_PASSED: i32 = 77;
/// What a child that is to die prints right before the signal that is to
/// end it (after its checks of what came before).
const LAST_SIGNAL_NEXT: &str = "the last signal comes next\n";

/// How often the previous handler ran, with which signal, and the signals
/// (bit n-1 for signal n) blocked while it ran the last time.
static CALLS: AtomicU32 = AtomicU32::new(0);
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static BLOCKED: AtomicU64 = AtomicU64::new(0);
/// What the SA_SIGINFO handler last got: si_code, and whether the context
/// was non-null.
static SI_CODE: AtomicI32 = AtomicI32::new(0);
static HAD_CONTEXT: AtomicU32 = AtomicU32::new(0);
/// A page the fault tests protect; the previous handler makes it writable
/// again, so the faulting write succeeds on return.
static PAGE: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

fn page_size() -> usize {
    // SAFETY: sysconf has no memory side effects.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// The calling thread's blocked signals, bit n-1 for signal n.
fn blocked_now() -> u64 {
    // SAFETY: sigset_t is plain data; a NULL new mask only reads.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, ptr::null(), &mut set);
        (1..=64).fold(0, |bits, signal| {
            if libc::sigismember(&set, signal) == 1 {
                bits | bit(signal)
            } else {
                bits
            }
        })
    }
}

fn bit(signal: c_int) -> u64 {
    1 << (signal - 1)
}

/// Records a call; repairs the fault tests' page. Async-signal-safe.
fn record(signal: c_int) {
    BLOCKED.store(blocked_now(), Ordering::SeqCst);
    SIGNAL.store(signal, Ordering::SeqCst);
    CALLS.fetch_add(1, Ordering::SeqCst);
    let page = PAGE.load(Ordering::SeqCst);
    if !page.is_null() {
        // SAFETY: the test's own mapping, one page.
        unsafe { libc::mprotect(page, page_size(), libc::PROT_READ | libc::PROT_WRITE) };
    }
}

extern "C" fn plain_handler(signal: c_int) {
    record(signal);
}

extern "C" fn siginfo_handler(signal: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    if !info.is_null() {
        // SAFETY: the siginfo the kernel passed on.
        SI_CODE.store(unsafe { (*info).si_code }, Ordering::SeqCst);
    }
    HAD_CONTEXT.store(u32::from(!ctx.is_null()), Ordering::SeqCst);
    record(signal);
}

/// Installs the program's own action for `signal`, before the crate's:
/// `handler` is a function address, `SIG_IGN` or `SIG_DFL`.
fn set_previous(signal: c_int, handler: usize, flags: c_int, mask: &[c_int]) {
    // SAFETY: a valid sigaction; the handlers above match their flags.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        action.sa_flags = flags;
        libc::sigemptyset(&mut action.sa_mask);
        for &other in mask {
            libc::sigaddset(&mut action.sa_mask, other);
        }
        assert_eq!(libc::sigaction(signal, &action, ptr::null_mut()), 0);
    }
}

fn plain() -> usize {
    plain_handler as *const () as usize
}

fn siginfo() -> usize {
    siginfo_handler as *const () as usize
}

/// Runs `body` in a child process of its own (see `in_child_process`):
/// a body that returns passed its checks, and the child exits with
/// `CHILD_PASSED`. A hang (a fault that comes back forever, say) ends the
/// child with SIGALRM, which no test expects. `None` in the child.
fn in_child(test: &str, body: impl FnOnce()) -> Option<Output> {
    in_child_process(test, || {
        // SAFETY: no memory side effects.
        unsafe { libc::alarm(10) };
        body();
        std::process::exit(CHILD_PASSED);
    })
}

/// A test whose child must pass all the checks in `body`.
fn passes_in_child(test: &str, body: impl FnOnce()) {
    let Some(output) = in_child(test, body) else {
        return;
    };
    assert_eq!(
        output.status.code(),
        Some(CHILD_PASSED),
        "the child did not pass ({}); stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A test whose child must pass the checks in `before` and then die of
/// `signal` in `last`.
fn dies_in_child(test: &str, signal: c_int, before: impl FnOnce(), last: impl FnOnce()) {
    let Some(output) = in_child(test, || {
        before();
        eprint!("{LAST_SIGNAL_NEXT}");
        last();
        eprintln!("survived; calls: {}", CALLS.load(Ordering::SeqCst));
    }) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.signal(),
        Some(signal),
        "the child was to die of signal {signal} ({}); stderr: {stderr}",
        output.status
    );
    assert!(
        stderr.contains(LAST_SIGNAL_NEXT),
        "the child died before its last signal; stderr: {stderr}"
    );
}

/// Signals the calling thread, as a program's `raise()` does.
fn raise_here(signal: c_int) {
    // SAFETY: the calling thread lives.
    let error = unsafe { libc::pthread_kill(libc::pthread_self(), signal) };
    assert_eq!(error, 0);
}

/// The previous handler ran `calls` times in all, the last time for
/// `signal` with the signals of `blocked` blocked and those of `unblocked`
/// not.
fn assert_previous_ran(calls: u32, signal: c_int, blocked: &[c_int], unblocked: &[c_int]) {
    assert_eq!(CALLS.load(Ordering::SeqCst), calls);
    assert_eq!(SIGNAL.load(Ordering::SeqCst), signal);
    let mask = BLOCKED.load(Ordering::SeqCst);
    for &other in blocked {
        assert_ne!(mask & bit(other), 0, "signal {other} not blocked");
    }
    for &other in unblocked {
        assert_eq!(mask & bit(other), 0, "signal {other} blocked");
    }
}

// ---- The kick signal's handler -------------------------------------------

/// The kick signal these tests choose; the program's action is installed
/// for it first.
fn kick() -> c_int {
    libc::SIGRTMIN() + 5
}

static KICKED: AtomicU32 = AtomicU32::new(0);

unsafe extern "C" fn kicked(_pc: c_ulong) -> c_int {
    KICKED.fetch_add(1, Ordering::SeqCst);
    1
}

static OPS: IrqOps = IrqOps {
    timer_expired: None,
    kick: None,
    kicked: Some(kicked),
};

/// Installs the program's action for the kick signal, then the kick
/// handler in front of it.
fn kick_handler_after(handler: usize, flags: c_int, mask: &[c_int]) {
    set_previous(kick(), handler, flags, mask);
    assert_eq!(set_kick_signal(Some(kick())), Ok(()));
    // SAFETY: OPS is a static, valid for the life of the process.
    unsafe { lkl_host_irq_ops_set(&OPS) };
    timer_set_signal_handler();
}

#[test]
fn kick_chain_applies_the_previous_mask() {
    passes_in_child("kick_chain_applies_the_previous_mask", || {
        let mask = [libc::SIGUSR1, libc::SIGUSR2];
        kick_handler_after(siginfo(), libc::SA_SIGINFO, &mask);
        raise_here(kick());
        assert_previous_ran(1, kick(), &[libc::SIGUSR1, libc::SIGUSR2, kick()], &[]);
        assert_eq!(SI_CODE.load(Ordering::SeqCst), libc::SI_TKILL);
        assert_eq!(HAD_CONTEXT.load(Ordering::SeqCst), 1);
        assert_eq!(blocked_now() & bit(libc::SIGUSR1), 0, "mask not restored");
    });
}

#[test]
fn kick_chain_sa_nodefer_leaves_the_signal_unblocked() {
    passes_in_child("kick_chain_sa_nodefer_leaves_the_signal_unblocked", || {
        let flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        kick_handler_after(siginfo(), flags, &[libc::SIGUSR1]);
        raise_here(kick());
        assert_previous_ran(1, kick(), &[libc::SIGUSR1], &[kick()]);
    });
}

#[test]
fn kick_chain_calls_a_plain_handler() {
    passes_in_child("kick_chain_calls_a_plain_handler", || {
        kick_handler_after(plain(), 0, &[libc::SIGUSR2]);
        raise_here(kick());
        raise_here(kick());
        assert_previous_ran(2, kick(), &[libc::SIGUSR2, kick()], &[libc::SIGUSR1]);
        assert_eq!(KICKED.load(Ordering::SeqCst), 0, "no kick was sent");
    });
}

#[test]
fn kick_chain_sa_resethand_second_instance_takes_the_default_action() {
    dies_in_child(
        "kick_chain_sa_resethand_second_instance_takes_the_default_action",
        kick(),
        || {
            kick_handler_after(plain(), libc::SA_RESETHAND, &[]);
            raise_here(kick());
            assert_eq!(CALLS.load(Ordering::SeqCst), 1);
        },
        // SIG_DFL now: a real-time signal ends the process.
        || raise_here(kick()),
    );
}

#[test]
fn kick_chain_ignores_what_the_program_ignores() {
    passes_in_child("kick_chain_ignores_what_the_program_ignores", || {
        kick_handler_after(libc::SIG_IGN, 0, &[]);
        raise_here(kick());
        raise_here(kick());
        // Our handler is still there: kicks still reach the kernel.
        // SAFETY: the calling thread lives.
        assert_eq!(unsafe { lkl_host_thread_kick(lkl_host_thread_self()) }, 0);
        assert_eq!(KICKED.load(Ordering::SeqCst), 1);
    });
}

// ---- The fault catcher's handler -----------------------------------------

/// `si_code` of a SIGSEGV for a mapped page without the permission
/// (<asm-generic/siginfo.h>); the libc crate does not have it.
const SEGV_ACCERR: c_int = 2;

/// Installs the program's action for SIGSEGV, then the fault catcher in
/// front of it.
fn fault_catcher_after(handler: usize, flags: c_int, mask: &[c_int]) {
    set_previous(libc::SIGSEGV, handler, flags, mask);
    // SAFETY: installs the process-wide handler, chained to the previous.
    assert_eq!(unsafe { lkl_host_uaccess_init() }, 0);
}

/// A fresh page, inaccessible, that the previous handler repairs.
fn protected_page() -> *mut u8 {
    // SAFETY: a fresh anonymous mapping of one page, ours alone.
    let page = unsafe {
        libc::mmap(
            ptr::null_mut(),
            page_size(),
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(page, libc::MAP_FAILED);
    PAGE.store(page, Ordering::SeqCst);
    page.cast()
}

fn protect_again(page: *mut u8) {
    // SAFETY: the test's own mapping.
    let result = unsafe { libc::mprotect(page.cast(), page_size(), libc::PROT_NONE) };
    assert_eq!(result, 0);
}

/// A write that faults on the protected page, outside lkl_host_copy_user.
fn fault_on(page: *mut u8) {
    // SAFETY: our own mapping; the fault is repaired by the handler.
    unsafe { ptr::write_volatile(page, 1) };
}

/// lkl_host_copy_user still reports a fault as bytes not copied, not a
/// crash: our handler is still installed.
fn assert_copy_user_catches_faults() {
    let mut dst = [0u8; 64];
    // SAFETY: the destination is valid; the source faults and is caught.
    let left = unsafe { lkl_host_copy_user(dst.as_mut_ptr().cast(), 8 as *const c_void, 64) };
    assert_eq!(left, 64);
}

#[test]
fn fault_chain_applies_the_previous_mask() {
    passes_in_child("fault_chain_applies_the_previous_mask", || {
        let flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        fault_catcher_after(siginfo(), flags, &[libc::SIGUSR1]);
        fault_on(protected_page());
        let blocked = [libc::SIGUSR1, libc::SIGSEGV];
        assert_previous_ran(1, libc::SIGSEGV, &blocked, &[libc::SIGUSR2]);
        assert_eq!(SI_CODE.load(Ordering::SeqCst), SEGV_ACCERR);
        assert_copy_user_catches_faults();
    });
}

#[test]
fn fault_chain_sa_nodefer_leaves_the_signal_unblocked() {
    passes_in_child("fault_chain_sa_nodefer_leaves_the_signal_unblocked", || {
        let flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        fault_catcher_after(siginfo(), flags, &[libc::SIGUSR2]);
        fault_on(protected_page());
        assert_previous_ran(1, libc::SIGSEGV, &[libc::SIGUSR2], &[libc::SIGSEGV]);
    });
}

#[test]
fn fault_chain_calls_a_plain_handler() {
    passes_in_child("fault_chain_calls_a_plain_handler", || {
        fault_catcher_after(plain(), 0, &[]);
        fault_on(protected_page());
        assert_previous_ran(1, libc::SIGSEGV, &[libc::SIGSEGV], &[libc::SIGUSR1]);
    });
}

#[test]
fn fault_chain_sigbus_goes_to_the_previous_sigbus_action() {
    passes_in_child(
        "fault_chain_sigbus_goes_to_the_previous_sigbus_action",
        || {
            set_previous(libc::SIGBUS, plain(), 0, &[]);
            fault_catcher_after(libc::SIG_DFL, 0, &[]);
            raise_here(libc::SIGBUS);
            assert_previous_ran(1, libc::SIGBUS, &[libc::SIGBUS], &[libc::SIGSEGV]);
        },
    );
}

#[test]
fn fault_chain_sa_resethand_second_fault_takes_the_default_action() {
    let page = std::cell::Cell::new(ptr::null_mut());
    dies_in_child(
        "fault_chain_sa_resethand_second_fault_takes_the_default_action",
        libc::SIGSEGV,
        || {
            let flags = libc::SA_SIGINFO | libc::SA_RESETHAND;
            fault_catcher_after(siginfo(), flags, &[]);
            page.set(protected_page());
            fault_on(page.get());
            assert_eq!(CALLS.load(Ordering::SeqCst), 1);
            protect_again(page.get());
        },
        || fault_on(page.get()),
    );
}

/// A SIGSEGV sent, not raised by a fault, to a program that ignores it: it
/// is ignored, and the fault catcher stays installed.
#[test]
fn fault_chain_ignores_a_sent_signal_the_program_ignores() {
    passes_in_child(
        "fault_chain_ignores_a_sent_signal_the_program_ignores",
        || {
            fault_catcher_after(libc::SIG_IGN, 0, &[]);
            raise_here(libc::SIGSEGV);
            assert_copy_user_catches_faults();
        },
    );
}

/// A real fault cannot be ignored: the kernel resets an ignored fault
/// signal to its default action, and so does the chain.
#[test]
fn fault_chain_real_fault_ignored_takes_the_default_action() {
    let page = std::cell::Cell::new(ptr::null_mut());
    dies_in_child(
        "fault_chain_real_fault_ignored_takes_the_default_action",
        libc::SIGSEGV,
        || {
            fault_catcher_after(libc::SIG_IGN, 0, &[]);
            page.set(protected_page());
        },
        || fault_on(page.get()),
    );
}

/// A SIGSEGV sent to a program that takes the default action ends it, as
/// without us.
#[test]
fn fault_chain_sent_signal_takes_the_default_action() {
    dies_in_child(
        "fault_chain_sent_signal_takes_the_default_action",
        libc::SIGSEGV,
        || fault_catcher_after(libc::SIG_DFL, 0, &[]),
        || raise_here(libc::SIGSEGV),
    );
}
