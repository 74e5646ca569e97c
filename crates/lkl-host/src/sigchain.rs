// SPDX-License-Identifier: GPL-2.0
//! Signal chaining: our handlers are installed in front of whatever action
//! the program (or Rust's runtime) had installed, and a signal that is not
//! ours is forwarded to that previous action as the kernel would have
//! delivered it had the previous action been installed alone.
//!
//! What the kernel does on delivery and [`PreviousAction::forward`] does
//! too: `SIG_IGN` drops the signal; a handler is called with `(signal)`,
//! or `(signal, info, context)` under `SA_SIGINFO`, while the interrupted
//! code's mask plus the action's `sa_mask` plus the signal itself (unless
//! `SA_NODEFER`) is blocked; `SA_RESETHAND` makes every later delivery
//! `SIG_DFL`. The default action is left to the caller, which knows whether
//! the signal was a fault that happens again or one sent that must be
//! raised again (see [`restore_default`] and [`raise_default`]).
//!
//! The previous handler gets the very `info` and `context` the kernel gave
//! ours, so a context it edits is the one the interrupted code resumes
//! with. Not emulated: `SA_ONSTACK` and `SA_RESTART` of the previous
//! action (the previous handler runs on the stack ours runs on, and an
//! interrupted system call restarts as our action says).
//!
//! Everything on the forwarding path is async-signal-safe: atomics,
//! `pthread_sigmask`, `signal`, `pthread_kill` and the signal set
//! functions; nothing allocates, locks or panics.

use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

/// A handler of ours, installed with `SA_SIGINFO`.
pub(crate) type Handler = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);

/// What the previous action made of a forwarded signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Forwarded {
    /// Its handler ran.
    Handled,
    /// It ignores the signal (`SIG_IGN`).
    Ignored,
    /// It takes the default action (`SIG_DFL`, or reset by
    /// `SA_RESETHAND`), which the caller carries out.
    Default,
}

/// The action that was installed for a signal before our handler.
pub(crate) struct PreviousAction {
    action: libc::sigaction,
    /// Set by the delivery of an `SA_RESETHAND` action; from then on the
    /// action is `SIG_DFL`. An atomic, not a lock: it is read and set in
    /// signal handlers.
    reset: AtomicBool,
}

impl PreviousAction {
    /// Installs `handler` for `signal` with `SA_SIGINFO | flags` and an
    /// empty mask, and records the action it replaces. Errors are errno
    /// values.
    pub(crate) fn install(signal: c_int, handler: Handler, flags: c_int) -> Result<Self, c_int> {
        // SAFETY: sigaction is plain data; all-zero is a valid value.
        let mut action: libc::sigaction = unsafe { MaybeUninit::zeroed().assume_init() };
        // SAFETY: as above.
        let mut previous: libc::sigaction = unsafe { MaybeUninit::zeroed().assume_init() };
        action.sa_sigaction = handler as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | flags;
        // SAFETY: sa_mask is valid memory for sigemptyset.
        unsafe { libc::sigemptyset(&mut action.sa_mask) };
        // SAFETY: valid sigaction structures for the new and the old action.
        if unsafe { libc::sigaction(signal, &action, &mut previous) } != 0 {
            return Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL));
        }
        Ok(Self {
            action: previous,
            reset: AtomicBool::new(false),
        })
    }

    /// Delivers `signal` to the previous action, as the kernel would have.
    /// errno is as the interrupted code left it when the previous handler
    /// starts, and as that handler left it when this returns: the
    /// forwarding itself does not show.
    ///
    /// # Safety
    ///
    /// Called from our handler for `signal`, with the `info` and `ctx` the
    /// kernel passed it (or null pointers).
    pub(crate) unsafe fn forward(
        &self,
        signal: c_int,
        info: *mut libc::siginfo_t,
        ctx: *mut c_void,
    ) -> Forwarded {
        let handler = self.action.sa_sigaction;
        let flags = self.action.sa_flags;
        if handler == libc::SIG_IGN {
            return Forwarded::Ignored;
        }
        // swap: of concurrent deliveries exactly one gets the handler, as
        // under the kernel's lock; the flag is all the state there is.
        if handler == libc::SIG_DFL
            || (flags & libc::SA_RESETHAND != 0 && self.reset.swap(true, Ordering::Relaxed))
        {
            return Forwarded::Default;
        }
        // SAFETY: the calling thread's errno.
        let errno = unsafe { libc::__errno_location() };
        // SAFETY: as above.
        let interrupted_errno = unsafe { *errno };
        // SAFETY: by the caller's promise, `ctx` is the kernel's ucontext
        // or null.
        let blocked = unsafe { self.blocked_while_handling(signal, ctx) };
        // SAFETY: sigset_t is plain data, filled in by pthread_sigmask.
        let mut ours: libc::sigset_t = unsafe { MaybeUninit::zeroed().assume_init() };
        // SAFETY: valid sigset_t values; this thread's mask, put back below.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &blocked, &mut ours);
            *errno = interrupted_errno;
        }
        if flags & libc::SA_SIGINFO != 0 {
            // SAFETY: the previous handler was installed with SA_SIGINFO
            // and takes exactly these arguments.
            let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                unsafe { std::mem::transmute(handler) };
            f(signal, info, ctx);
        } else {
            // SAFETY: a plain handler takes the signal number.
            let f: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
            f(signal);
        }
        // SAFETY: errno as the handler left it, kept across the restoring
        // of our own mask.
        unsafe {
            let handler_errno = *errno;
            libc::pthread_sigmask(libc::SIG_SETMASK, &ours, ptr::null_mut());
            *errno = handler_errno;
        }
        Forwarded::Handled
    }

    /// The mask the kernel would have set for the previous handler: the
    /// interrupted code's (from `ctx`, else this thread's now), the
    /// action's `sa_mask`, and the signal unless `SA_NODEFER`. The signal
    /// itself is not taken from the interrupted mask, which without `ctx`
    /// is ours, where our own action may block it.
    ///
    /// # Safety
    ///
    /// `ctx` is the ucontext the kernel passed to a handler, or null.
    unsafe fn blocked_while_handling(&self, signal: c_int, ctx: *mut c_void) -> libc::sigset_t {
        // SAFETY: sigset_t is plain data; sigemptyset or pthread_sigmask
        // fills it in below.
        let mut set: libc::sigset_t = unsafe { MaybeUninit::zeroed().assume_init() };
        // SAFETY: as above.
        let mut now: libc::sigset_t = unsafe { MaybeUninit::zeroed().assume_init() };
        let uc = ctx.cast::<libc::ucontext_t>();
        // SAFETY: a valid ucontext by the caller's promise, or this
        // thread's mask read into a valid sigset_t. Signals are copied one
        // by one: only the kernel's 64 bits of uc_sigmask are meaningful.
        // sigaddset may set errno (for glibc's own signals), which
        // `forward` restores.
        unsafe {
            let interrupted: *const libc::sigset_t = if uc.is_null() {
                libc::pthread_sigmask(libc::SIG_BLOCK, ptr::null(), &mut now);
                &now
            } else {
                ptr::addr_of!((*uc).uc_sigmask)
            };
            libc::sigemptyset(&mut set);
            for other in 1..=libc::SIGRTMAX() {
                if (other != signal && libc::sigismember(interrupted, other) == 1)
                    || libc::sigismember(&self.action.sa_mask, other) == 1
                {
                    libc::sigaddset(&mut set, other);
                }
            }
            if self.action.sa_flags & libc::SA_NODEFER == 0 {
                libc::sigaddset(&mut set, signal);
            }
        }
        set
    }
}

/// Restores the default disposition of `signal`, replacing our handler:
/// a fault that happens again on return then takes the default action,
/// as without us. Async-signal-safe; errno is kept.
pub(crate) fn restore_default(signal: c_int) {
    // SAFETY: the calling thread's errno; setting a disposition has no
    // memory preconditions.
    unsafe {
        let errno = libc::__errno_location();
        let saved = *errno;
        libc::signal(signal, libc::SIG_DFL);
        *errno = saved;
    }
}

/// Carries out the default action of a `signal` that was sent rather than
/// raised by a fault: nothing for the signals whose default is to ignore
/// them; otherwise the default disposition comes back and the signal is
/// raised again on this thread, where it acts as soon as it is unblocked
/// (at the latest when our handler returns). Async-signal-safe.
pub(crate) fn raise_default(signal: c_int) {
    if [libc::SIGCHLD, libc::SIGCONT, libc::SIGURG, libc::SIGWINCH].contains(&signal) {
        return;
    }
    restore_default(signal);
    // SAFETY: signals the calling thread; pthread_kill leaves errno alone.
    unsafe { libc::pthread_kill(libc::pthread_self(), signal) };
}
