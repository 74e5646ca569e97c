// SPDX-License-Identifier: GPL-2.0
//! Copies of user memory that survive bad pointers.
//!
//! In library mode a "user pointer" is any address the application passed
//! to a system call. `lkl_host_copy_user` copies with one `rep movsb`
//! instruction; if it faults, a SIGSEGV/SIGBUS handler sees the fault at
//! that very instruction and resumes after it, where the count of bytes
//! left is returned. The kernel turns that into `-EFAULT`. Faults anywhere
//! else go to whatever handler was installed before ours (Rust's stack
//! overflow handler, the application's, or the default action), so the
//! program behaves as if we were not there.

use std::ffi::{c_int, c_ulong, c_void};
use std::mem::MaybeUninit;
use std::sync::OnceLock;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("lkl_host_copy_user is implemented for x86_64 only");

// The copy routine. `lkl_host_copy_user_insn` is the only instruction that
// touches the memory; `lkl_host_copy_user_resume` is where a fault there
// continues, with rcx holding the bytes not yet copied.
std::arch::global_asm!(
    ".pushsection .text.lkl_host_copy_user,\"ax\",@progbits",
    ".globl lkl_host_copy_user",
    ".type lkl_host_copy_user,@function",
    ".globl lkl_host_copy_user_insn",
    ".hidden lkl_host_copy_user_insn",
    ".globl lkl_host_copy_user_resume",
    ".hidden lkl_host_copy_user_resume",
    "lkl_host_copy_user:",
    "    mov rcx, rdx",
    "lkl_host_copy_user_insn:",
    "    rep movsb",
    "lkl_host_copy_user_resume:",
    "    mov rax, rcx",
    "    ret",
    ".size lkl_host_copy_user, . - lkl_host_copy_user",
    ".popsection",
);

extern "C" {
    /// Copies `n` bytes; returns the number not copied (0 on success).
    pub fn lkl_host_copy_user(dst: *mut c_void, src: *const c_void, n: c_ulong) -> c_ulong;
    static lkl_host_copy_user_insn: u8;
    static lkl_host_copy_user_resume: u8;
}

/// The handlers that were installed before ours, per signal.
struct Previous {
    segv: libc::sigaction,
    bus: libc::sigaction,
}

// SAFETY: plain data read by the signal handler after it was written once.
unsafe impl Sync for Previous {}
// SAFETY: as above.
unsafe impl Send for Previous {}

static PREVIOUS: OnceLock<Result<Previous, c_int>> = OnceLock::new();

fn insn_addr() -> usize {
    std::ptr::addr_of!(lkl_host_copy_user_insn) as usize
}

fn resume_addr() -> usize {
    std::ptr::addr_of!(lkl_host_copy_user_resume) as usize
}

/// Hands a fault that is not ours to the handler installed before.
///
/// # Safety
/// Called from the signal handler with its arguments.
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let previous = match PREVIOUS.get() {
        Some(Ok(previous)) => previous,
        _ => return,
    };
    let action = if sig == libc::SIGBUS {
        &previous.bus
    } else {
        &previous.segv
    };
    let handler = action.sa_sigaction;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // Let the fault happen again with the default action: a crash, as
        // without us.
        // SAFETY: restoring the default disposition of a signal.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
        return;
    }
    if action.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed with SA_SIGINFO and
        // takes exactly these arguments.
        let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(handler) };
        f(sig, info, ctx);
    } else {
        // SAFETY: a plain handler takes the signal number.
        let f: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
        f(sig);
    }
}

extern "C" fn on_fault(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    let rip = unsafe { &mut (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] };
    if *rip as usize == insn_addr() {
        *rip = resume_addr() as i64;
        return;
    }
    // SAFETY: forwarding this handler's own arguments.
    unsafe { chain(sig, info, ctx) };
}

fn install() -> Result<Previous, c_int> {
    let mut previous = Previous {
        // SAFETY: sigaction is plain data; all-zero is a valid value.
        segv: unsafe { MaybeUninit::zeroed().assume_init() },
        // SAFETY: as above.
        bus: unsafe { MaybeUninit::zeroed().assume_init() },
    };
    // SAFETY: as above.
    let mut action: libc::sigaction = unsafe { MaybeUninit::zeroed().assume_init() };
    action.sa_sigaction = on_fault as *const () as usize;
    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
    // SAFETY: sa_mask is valid memory for sigemptyset.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    for (sig, slot) in [
        (libc::SIGSEGV, &mut previous.segv),
        (libc::SIGBUS, &mut previous.bus),
    ] {
        // SAFETY: valid sigaction structures for the old and new action.
        if unsafe { libc::sigaction(sig, &action, slot) } != 0 {
            return Err(-std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL));
        }
    }
    Ok(previous)
}

/// Installs the fault handler once per process.
#[no_mangle]
pub extern "C" fn lkl_host_uaccess_init() -> c_int {
    crate::guard::guard("uaccess_init", || {
        // The previous handlers must be recorded before ours can run: the
        // handler only chains once PREVIOUS is set, and installing happens
        // inside the initialiser.
        match PREVIOUS.get_or_init(install) {
            Ok(_) => 0,
            Err(err) => *err,
        }
    })
}
