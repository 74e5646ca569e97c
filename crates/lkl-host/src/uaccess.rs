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
use std::sync::OnceLock;

use crate::sigchain::{self, Forwarded, PreviousAction};

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

/// The actions that were installed before ours, per signal.
struct Previous {
    segv: PreviousAction,
    bus: PreviousAction,
}

static PREVIOUS: OnceLock<Result<Previous, c_int>> = OnceLock::new();

fn insn_addr() -> usize {
    std::ptr::addr_of!(lkl_host_copy_user_insn) as usize
}

fn resume_addr() -> usize {
    std::ptr::addr_of!(lkl_host_copy_user_resume) as usize
}

/// Whether the kernel raised `info`'s signal for a fault (si_code > 0),
/// rather than a process sending it with kill(), tgkill() or sigqueue().
fn raised_by_fault(info: *const libc::siginfo_t) -> bool {
    // SAFETY: the siginfo the kernel passed, if any.
    !info.is_null() && unsafe { (*info).si_code } > 0
}

/// Hands a signal that is not a fault of ours to the action installed
/// before.
///
/// # Safety
/// Called from the signal handler with its arguments.
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    // Not yet recorded (another thread is installing): a fault happens
    // again on return, until it is.
    let Some(Ok(previous)) = PREVIOUS.get() else {
        return;
    };
    let action = if sig == libc::SIGBUS {
        &previous.bus
    } else {
        &previous.segv
    };
    // SAFETY: forwarding this handler's own arguments.
    match unsafe { action.forward(sig, info, ctx) } {
        Forwarded::Handled => {}
        // A fault happens again when the handler returns. The kernel
        // neither ignores nor defers a fault signal (it resets it to the
        // default action), so neither do we: a crash, as without us.
        Forwarded::Ignored | Forwarded::Default if raised_by_fault(info) => {
            sigchain::restore_default(sig);
        }
        Forwarded::Ignored => {}
        // Sent by a process: nothing happens again, it must be raised.
        Forwarded::Default => sigchain::raise_default(sig),
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
    // SA_ONSTACK: a stack overflow faults too. Whatever our flags, the
    // previous handler runs with its own action's mask.
    let flags = libc::SA_ONSTACK | libc::SA_NODEFER;
    let install = |sig| PreviousAction::install(sig, on_fault, flags).map_err(|errno| -errno);
    Ok(Previous {
        segv: install(libc::SIGSEGV)?,
        bus: install(libc::SIGBUS)?,
    })
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
