// SPDX-License-Identifier: GPL-2.0
//! Smoke test: boot, getpid, halt.

fn main() {
    lkl_sys::lkl_host::console_to_stderr();
    let cmdline = c"mem=32M loglevel=8";
    // SAFETY: a valid NUL-terminated string.
    let ret = unsafe { lkl_sys::lkl_start_kernel(c"%s".as_ptr(), cmdline.as_ptr()) };
    println!("start: {ret}");
    let mut params = [0i64; 6];
    // SAFETY: six valid longs; getpid takes no arguments.
    let pid = unsafe { lkl_sys::lkl_syscall(lkl_sys::nr::getpid, params.as_mut_ptr()) };
    println!("getpid: {pid}");
    params[0] = 0xfee1dead;
    params[1] = 672274793;
    params[2] = 0x4321fedc;
    // SAFETY: reboot(LINUX_REBOOT_CMD_POWER_OFF) arguments.
    let ret = unsafe { lkl_sys::lkl_halt(params.as_mut_ptr()) };
    println!("halt: {ret}");
}
