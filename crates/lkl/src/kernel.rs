// SPDX-License-Identifier: GPL-2.0
//! Booting and halting the kernel.

use core::fmt;
use std::ffi::CString;

use lkl_sys::uapi;

use crate::errno::{Errno, Result};

/// How to boot: memory size, extra command-line parameters and where the
/// console goes.
///
/// ```
/// let kernel = lkl::Kernel::builder().memory_mib(32).arg("loglevel=4").boot()?;
/// assert_eq!(lkl::process::getpid()?, 1);
/// kernel.halt()?;
/// # Ok::<(), lkl::Errno>(())
/// ```
#[derive(Debug, Clone)]
pub struct KernelBuilder {
    memory_mib: u32,
    args: Vec<String>,
    console_to_stderr: bool,
    /// `None`: the host library's default; `Some(None)`: kicks off.
    kick_signal: Option<Option<i32>>,
}

impl Default for KernelBuilder {
    fn default() -> Self {
        KernelBuilder {
            memory_mib: 64,
            args: Vec::new(),
            console_to_stderr: false,
            kick_signal: None,
        }
    }
}

impl KernelBuilder {
    /// Memory the kernel gets from the host, in MiB (default 64, at least
    /// 16).
    pub fn memory_mib(mut self, mib: u32) -> Self {
        self.memory_mib = mib;
        self
    }

    /// Adds a kernel command-line parameter, e.g. `"loglevel=8"`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sends the kernel console to the program's stderr. Without this the
    /// console is silent; [`lkl_sys::lkl_host::set_console_sink`] gives
    /// full control.
    pub fn console_to_stderr(mut self) -> Self {
        self.console_to_stderr = true;
        self
    }

    /// The signal that interrupts a thread running kernel code for long, so
    /// that the kernel's timer reaches it, as SIGALRM does in standard UML:
    /// `Some(signal)` to choose it (the program then does not use it
    /// otherwise), `None` to turn it off. The default is `SIGRTMAX - 2`, or
    /// the next free real-time signal below it if the program uses that
    /// one. Its handler is chained: signals the kernel did not
    /// send go to the handler installed before. Without it, kernel code
    /// that spins (io_uring's SQ polling thread, say) stops the kernel's
    /// clock. See [`lkl_sys::lkl_host::set_kick_signal`].
    pub fn kick_signal(mut self, signal: Option<i32>) -> Self {
        self.kick_signal = Some(signal);
        self
    }

    /// The command line this builder boots with.
    pub fn cmdline(&self) -> String {
        let mut line = format!("mem={}M", self.memory_mib);
        for arg in &self.args {
            line.push(' ');
            line.push_str(arg);
        }
        line
    }

    /// Boots the kernel.
    ///
    /// # Errors
    ///
    /// [`Errno::BUSY`] if a kernel was booted before in this process (also
    /// one that was halted since), [`Errno::INVAL`] for a command line the
    /// kernel refuses (an unclosed quote, less than 16 MiB, a NUL byte),
    /// [`Errno::TOOBIG`] for one too long, [`Errno::NOMEM`] if the host
    /// lacks memory or threads. For a kick signal the kernel cannot use,
    /// [`Errno::INVAL`]; for one chosen after a boot, [`Errno::BUSY`].
    pub fn boot(self) -> Result<Kernel> {
        let line = CString::new(self.cmdline()).map_err(|_| Errno::INVAL)?;
        if let Some(signal) = self.kick_signal {
            // The host's errno values, translated, not passed on.
            lkl_sys::lkl_host::set_kick_signal(signal).map_err(|host_errno| {
                if host_errno == libc::EBUSY {
                    Errno::BUSY
                } else {
                    Errno::INVAL
                }
            })?;
        }
        if self.console_to_stderr {
            lkl_sys::lkl_host::console_to_stderr();
        }
        // SAFETY: the format is a NUL-terminated "%s" and its argument a
        // NUL-terminated string that outlives the call.
        let ret = unsafe { lkl_sys::lkl_start_kernel(c"%s".as_ptr(), line.as_ptr()) };
        Errno::result(ret.into())?;
        Ok(Kernel { _booted: () })
    }
}

/// The running kernel. There is at most one per process, ever: Linux keeps
/// global state that a halt does not reset, so a second boot, also after a
/// halt, is refused with [`Errno::BUSY`].
///
/// The kernel serves system calls from every thread of the program while
/// this handle lives; the calls themselves are free functions in the
/// modules of this crate. Dropping the handle halts the kernel, so a handle
/// that is not kept halts the kernel at once. The type is `#[must_use]` to
/// catch that:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn boot_and_lose() -> Result<(), lkl::Errno> {
///     lkl::Kernel::boot()?; // error: unused `Kernel` that must be used
///     Ok(())
/// }
/// ```
///
/// [`halt`](Kernel::halt) takes the handle by value, since nothing is left
/// to do with it after a halt; if the kernel refuses to halt, it keeps
/// running and the handle comes back inside the [`HaltError`].
#[derive(Debug)]
#[must_use = "dropping the Kernel halts the kernel at once; keep it while making system calls"]
pub struct Kernel {
    /// Only [`KernelBuilder::boot`] makes one.
    _booted: (),
}

impl Kernel {
    /// A builder with the defaults: 64 MiB, no extra parameters, silent
    /// console.
    pub fn builder() -> KernelBuilder {
        KernelBuilder::default()
    }

    /// Whether a kernel runs in this process now (booted, not halted).
    pub fn is_running() -> bool {
        // SAFETY: no arguments; callable from any thread at any time.
        unsafe { lkl_sys::lkl_is_running() != 0 }
    }

    /// Boots with the defaults.
    pub fn boot() -> Result<Kernel> {
        KernelBuilder::default().boot()
    }

    /// Powers the kernel off: its threads are joined, its timers and memory
    /// freed. Kernel descriptors still open become invalid, and every later
    /// system call fails with [`Errno::NODEV`].
    ///
    /// The halt is a `reboot(LINUX_REBOOT_CMD_POWER_OFF)` system call made
    /// by the calling thread's kernel task. Other threads of the
    /// application may go on calling in meanwhile: calls that start once
    /// the halt has begun fail with [`Errno::NODEV`], calls blocked in an
    /// interruptible or killable wait (a pipe, `epoll_wait`, a futex,
    /// io_uring) return [`Errno::INTR`], and the halt returns once every
    /// other thread has left the kernel. A call in an uninterruptible wait
    /// delays the halt until it ends.
    ///
    /// ```
    /// let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
    /// match kernel.halt() {
    ///     Ok(()) => assert!(!lkl::Kernel::is_running()),
    ///     // Still running: the handle is back, to retry or to drop.
    ///     Err(refused) => return Err(refused.errno()),
    /// }
    /// # Ok::<(), lkl::Errno>(())
    /// ```
    ///
    /// # Errors
    ///
    /// If the kernel refuses, it keeps running, unchanged, and the error
    /// gives the handle back ([`HaltError::into_kernel`]): [`Errno::PERM`]
    /// when the calling thread's task lacks `CAP_SYS_BOOT` (it changed its
    /// credentials), [`Errno::NODEV`] when the kernel is not running any
    /// more (it was halted through the raw interface), [`Errno::BUSY`]
    /// when another thread is halting it, [`Errno::DEADLK`] when called
    /// from the console sink or from a signal handler that interrupted a
    /// call, [`Errno::AGAIN`] or [`Errno::NOMEM`] when the calling thread,
    /// new to the kernel, could not get a task. `?` turns the error into
    /// its [`Errno`], dropping the handle, which tries to halt again.
    pub fn halt(self) -> core::result::Result<(), HaltError> {
        match power_off() {
            Ok(()) => {
                // Halted: nothing is left for the drop to do.
                core::mem::forget(self);
                Ok(())
            }
            Err(errno) => Err(HaltError {
                errno,
                kernel: self,
            }),
        }
    }
}

/// `reboot(LINUX_REBOOT_CMD_POWER_OFF)` through the library's halt entry.
fn power_off() -> Result<()> {
    let mut params = [
        i64::from(uapi::LINUX_REBOOT_MAGIC1),
        i64::from(uapi::LINUX_REBOOT_MAGIC2),
        i64::from(uapi::LINUX_REBOOT_CMD_POWER_OFF),
        0,
        0,
        0,
    ];
    // SAFETY: the six arguments of reboot(POWER_OFF), no pointers.
    let ret = unsafe { lkl_sys::lkl_halt(params.as_mut_ptr()) };
    Errno::result(ret).map(drop)
}

impl Drop for Kernel {
    fn drop(&mut self) {
        // halt() reports errors; a drop has nobody to report them to. A
        // kernel that refuses keeps running.
        let _ = power_off();
    }
}

/// A refused [`Kernel::halt`]: the kernel still runs, and this holds its
/// handle.
#[derive(Debug)]
pub struct HaltError {
    errno: Errno,
    kernel: Kernel,
}

impl HaltError {
    /// Why the kernel refused.
    pub fn errno(&self) -> Errno {
        self.errno
    }

    /// The handle of the kernel, which still runs: halt it again, for
    /// instance from a thread that may, or keep using it.
    pub fn into_kernel(self) -> Kernel {
        self.kernel
    }
}

impl fmt::Display for HaltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the kernel refused to halt: {}", self.errno)
    }
}

impl std::error::Error for HaltError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.errno)
    }
}

/// The error's number; the handle is dropped, which tries to halt again.
impl From<HaltError> for Errno {
    fn from(err: HaltError) -> Errno {
        err.errno
    }
}
