// SPDX-License-Identifier: GPL-2.0
//! Refused boots and the lifecycle around one kernel: bad command lines are
//! refused with a clear error and a console line, without using up the
//! process's one boot; dropping the handle halts; no second boot.

use std::sync::{Arc, Mutex};

use lkl::fs::{self, OFlags};
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

    assert_eq!(
        process::getpid(),
        Err(Errno::NODEV),
        "refused boots start nothing"
    );

    // A good boot still works after the refusals.
    let kernel = Kernel::builder().memory_mib(32).boot().expect("boot");
    assert_eq!(process::getpid(), Ok(1));
    assert!(Kernel::is_running());
    let file = fs::creat("/f", 0o600).expect("creat");
    // Dropping the handle halts the kernel; the open Fd closes harmlessly
    // afterwards.
    drop(kernel);
    assert_eq!(process::getpid(), Err(Errno::NODEV), "drop halts");
    assert!(!Kernel::is_running());
    assert_eq!(file.close(), Err(Errno::NODEV));
    assert_eq!(
        fs::open("/f", OFlags::RDONLY, 0).map(drop),
        Err(Errno::NODEV)
    );
    assert_eq!(
        Kernel::builder().boot().map(drop),
        Err(Errno::BUSY),
        "one kernel per process, also after halt"
    );
    println!("boot_errors: all checks passed");
}
