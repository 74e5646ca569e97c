// SPDX-License-Identifier: GPL-2.0
//! Refused boots and the lifecycle around one kernel: bad command lines are
//! refused with a clear error and a console line, without using up the
//! process's one boot; a refused halt gives the handle back with the kernel
//! still running; dropping the handle halts; no second boot.

use std::sync::{Arc, Mutex};
use std::thread;

use lkl::fs::{raw, Mode, OFlags};
use lkl::lkl_sys::nr;
use lkl::{process, Errno, Kernel};

fn main() {
    let console = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = Arc::clone(&console);
    lkl::lkl_sys::lkl_host::set_console_sink(Some(Box::new(move |b: &[u8]| {
        sink.lock().unwrap().extend_from_slice(b)
    })));
    let last_console =
        || String::from_utf8_lossy(&std::mem::take(&mut *console.lock().unwrap())).into_owned();

    let too_small = Kernel::builder().memory_mib(8).boot().map(drop);
    assert_eq!(too_small, Err(Errno::INVAL), "8 MiB must be refused");
    let said = last_console();
    assert!(
        said.contains("mem=8M is below"),
        "no reason given: {said:?}"
    );

    let quote = Kernel::builder().arg("x=\"open").boot().map(drop);
    assert_eq!(
        quote,
        Err(Errno::INVAL),
        "an unclosed quote must be refused"
    );
    assert!(last_console().contains("unclosed quote"));

    let nul = Kernel::builder().arg("a\0b").boot().map(drop);
    assert_eq!(nul, Err(Errno::INVAL), "a NUL byte must be refused");

    let long = Kernel::builder().arg("x".repeat(5000)).boot().map(drop);
    assert_eq!(
        long,
        Err(Errno::TOOBIG),
        "an overlong command line must be refused"
    );

    let fault_signal = Kernel::builder()
        .kick_signal(Some(libc::SIGSEGV))
        .boot()
        .map(drop);
    assert_eq!(
        fault_signal,
        Err(Errno::INVAL),
        "SIGSEGV cannot be the kick signal"
    );

    assert_eq!(
        process::getpid(),
        Err(Errno::NODEV),
        "refused boots start nothing"
    );

    // A good boot still works after the refusals, with a kick signal of
    // the program's choice, which cannot change once booted.
    let chosen = lkl::lkl_sys::lkl_host::kick_signal() - 1;
    let kernel = Kernel::builder()
        .memory_mib(32)
        .kick_signal(Some(chosen))
        .boot()
        .expect("boot");
    assert_eq!(lkl::lkl_sys::lkl_host::kick_signal(), chosen);
    assert_eq!(
        lkl::lkl_sys::lkl_host::set_kick_signal(None),
        Err(libc::EBUSY),
        "the kick signal is fixed once booted (host EBUSY)"
    );
    assert_eq!(process::getpid(), Ok(1));
    assert!(Kernel::is_running());
    let file = raw::creat("/f", Mode::from_bits_truncate(0o600)).expect("creat");

    // A thread whose kernel task gave up root's credentials lacks
    // CAP_SYS_BOOT: the kernel refuses its halt and keeps running, and the
    // handle comes back in the error, still able to halt it.
    let kernel = thread::spawn(move || {
        // SAFETY: setresuid takes three plain ids; it changes only the
        // calling thread's own kernel task.
        let dropped = unsafe { lkl::syscall(nr::setresuid, &[1000, 1000, 1000]) };
        assert_eq!(dropped, Ok(0), "setresuid");
        let refused = kernel
            .halt()
            .expect_err("a task without CAP_SYS_BOOT halted");
        assert_eq!(refused.errno(), Errno::PERM);
        assert!(refused.to_string().contains("refused to halt"), "{refused}");
        refused.into_kernel()
    })
    .join()
    .expect("the unprivileged thread");
    assert!(
        Kernel::is_running(),
        "a refused halt leaves the kernel running"
    );
    assert_eq!(process::getpid(), Ok(1), "calls still work");
    raw::write(&file, b"still here").expect("write after a refused halt");

    // Dropping the handle halts the kernel; the open Fd closes harmlessly
    // afterwards.
    drop(kernel);
    assert_eq!(process::getpid(), Err(Errno::NODEV), "drop halts");
    assert!(!Kernel::is_running());
    assert_eq!(file.close(), Err(Errno::NODEV));
    assert_eq!(
        raw::open("/f", OFlags::RDONLY, Mode::empty()).map(drop),
        Err(Errno::NODEV)
    );
    assert_eq!(
        Kernel::builder().boot().map(drop),
        Err(Errno::BUSY),
        "one kernel per process, also after halt"
    );
    println!("boot_errors: all checks passed");
}
