// SPDX-License-Identifier: GPL-2.0
//! The kick signal: chosen before boot, installed chained, sent only as the
//! kernel asks, taken out of the way where the program blocked it. One
//! test function: signal dispositions are process-wide.

use lkl_host::{
    kick_signal, lkl_host_irq_ops_set, lkl_host_kick_wait, lkl_host_set_kick_signal,
    lkl_host_thread_kick, lkl_host_thread_self, set_kick_signal, timer_set_signal_handler, IrqOps,
};
use std::ffi::c_ulong;
use std::sync::atomic::{AtomicU64, Ordering};

static KICKED: AtomicU64 = AtomicU64::new(0);
static LAST_PC: AtomicU64 = AtomicU64::new(0);
static PROGRAM_HANDLER: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" fn kicked(pc: c_ulong) -> i32 {
    KICKED.fetch_add(1, Ordering::SeqCst);
    LAST_PC.store(pc, Ordering::SeqCst);
    // errno must survive the handler.
    // SAFETY: the thread's own errno.
    unsafe { *libc::__errno_location() = libc::EBADF };
    1
}

static OPS: IrqOps = IrqOps {
    timer_expired: None,
    kick: None,
    kicked: Some(kicked),
};

extern "C" fn program_handler(_signal: i32) {
    PROGRAM_HANDLER.fetch_add(1, Ordering::SeqCst);
}

/// Sends a kick to the calling thread, which lives.
fn kick_self() -> i32 {
    // SAFETY: the calling thread lives until the call returns.
    unsafe { lkl_host_thread_kick(lkl_host_thread_self()) }
}

fn pending(signal: i32) -> bool {
    // SAFETY: reading the calling thread's pending set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut set);
        libc::sigismember(&set, signal) == 1
    }
}

fn set_blocked(signal: i32, blocked: bool) {
    // SAFETY: valid sigset_t; changes this thread's mask only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        let how = if blocked {
            libc::SIG_BLOCK
        } else {
            libc::SIG_UNBLOCK
        };
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

#[test]
fn the_kick_signal() {
    assert_eq!(
        kick_signal(),
        libc::SIGRTMAX() - 2,
        "the documented default"
    );
    for bad in [
        libc::SIGKILL,
        libc::SIGSEGV,
        libc::SIGCHLD,
        -1,
        libc::SIGRTMAX() + 1,
    ] {
        assert_eq!(
            set_kick_signal(Some(bad)),
            Err(libc::EINVAL),
            "signal {bad}"
        );
    }
    assert_eq!(lkl_host_set_kick_signal(0), 0, "off");
    assert_eq!(kick_signal(), 0);
    assert_eq!(kick_self(), -libc::EOPNOTSUPP);

    let signal = libc::SIGRTMIN() + 5;
    assert_eq!(set_kick_signal(Some(signal)), Ok(()));
    assert_eq!(kick_signal(), signal);
    assert_eq!(kick_self(), -libc::ENODEV);

    // The program's own handler comes first.
    // SAFETY: a plain handler for `signal`.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = program_handler as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
    }
    // SAFETY: OPS is a static, valid for the life of the process.
    unsafe { lkl_host_irq_ops_set(&OPS) };
    timer_set_signal_handler();
    assert_eq!(
        set_kick_signal(Some(libc::SIGRTMIN() + 6)),
        Err(libc::EBUSY)
    );
    assert_eq!(set_kick_signal(None), Err(libc::EBUSY));

    // A kick reaches the kernel's entry, with the interrupted address,
    // and not the program's handler; errno is as it was.
    // SAFETY: setting this thread's errno.
    unsafe { *libc::__errno_location() = libc::EAGAIN };
    assert_eq!(kick_self(), 0);
    assert_eq!(KICKED.load(Ordering::SeqCst), 1);
    assert_ne!(LAST_PC.load(Ordering::SeqCst), 0);
    assert_eq!(PROGRAM_HANDLER.load(Ordering::SeqCst), 0);
    // SAFETY: reading this thread's errno.
    assert_eq!(unsafe { *libc::__errno_location() }, libc::EAGAIN);

    // The program's own instance of the signal is not a kick: it goes to
    // the program's handler, whatever the kernel would say.
    // SAFETY: the program signals itself.
    unsafe { libc::pthread_kill(libc::pthread_self(), signal) };
    assert_eq!(PROGRAM_HANDLER.load(Ordering::SeqCst), 1);
    assert_eq!(KICKED.load(Ordering::SeqCst), 1);

    // Blocked by the program in this thread: the kick stays pending until
    // lkl_host_kick_wait takes it, and never reaches a handler.
    set_blocked(signal, true);
    let kicked_before = KICKED.load(Ordering::SeqCst);
    assert_eq!(kick_self(), 0);
    assert!(pending(signal));
    assert_eq!(lkl_host_kick_wait(0), 1);
    assert!(!pending(signal), "the kick was left pending");
    // The program's own instance, taken the same way, is no kick: it goes
    // back to the process and reaches the program's handler once a thread
    // takes the signal.
    // SAFETY: the program signals itself.
    unsafe { libc::pthread_kill(libc::pthread_self(), signal) };
    assert_eq!(lkl_host_kick_wait(0), 0, "the program's signal is no kick");
    set_blocked(signal, false);
    let start = std::time::Instant::now();
    while PROGRAM_HANDLER.load(Ordering::SeqCst) < 2 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the program's signal was lost"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(KICKED.load(Ordering::SeqCst), kicked_before);
    assert_eq!(lkl_host_kick_wait(1), 0, "unblocked: yields only");

    // A program that replaces the handler after boot turns kicks off:
    // none is awaited, none is sent.
    // SAFETY: ignoring the signal from now on.
    unsafe { libc::signal(signal, libc::SIG_IGN) };
    assert_eq!(lkl_host_kick_wait(0), 1);
    assert_eq!(kick_self(), -libc::ENODEV);
}
