// SPDX-License-Identifier: GPL-2.0
//! What runs in a child process, which boots its own kernel: filling a
//! fresh image with the seed tree, and one fuzz case (mount, walk, write,
//! unmount, halt).
//!
//! The child's stdout carries one `RESULT ...` line for the parent; its
//! stderr carries the kernel console and, if it dies of a fault, a line
//! naming the signal and the address, so that the parent can say what
//! happened.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lkl::disk::{raw_os_error, Disk};
use lkl::fs::{self, File, FileType, Mode, MountFlags, XattrFlags};
use lkl::Errno;

use crate::mutate::{Mutation, FILL};
use crate::overlay::Overlay;

/// Kernel memory: enough for btrfs and xfs to mount a few hundred MiB.
const MEMORY_MIB: u32 = 256;
/// The walk reads at most this much of each file: a corrupted size may
/// claim terabytes of holes.
const READ_LIMIT: u64 = 1 << 20;
/// A corrupted directory may loop or claim millions of entries.
const ENTRY_LIMIT: usize = 20_000;
const DEPTH_LIMIT: usize = 32;

/// The entries made in every seed image, as paths below the mount.
pub const MANY_ENTRIES: usize = 120;

fn boot() -> Result<lkl::Kernel, String> {
    lkl::Kernel::builder()
        .memory_mib(MEMORY_MIB)
        .console_to_stderr()
        .boot()
        .map_err(|e| format!("boot: {e}"))
}

/// `len` bytes of [`FILL`], repeated.
fn filled(len: usize) -> Vec<u8> {
    FILL.iter().copied().cycle().take(len).collect()
}

/// Fills the freshly made image at `image` with the seed tree: nested
/// directories, files of several sizes, a sparse file, a directory of many
/// entries, symbolic links short and long, a hard link, a FIFO and
/// extended attributes. What the file system does not support (links and
/// xattrs on vfat) is skipped.
pub fn populate(image: &Path, fstype: &str) -> Result<(), String> {
    let disk = Disk::open(image).map_err(|e| e.to_string())?;
    let kernel = boot()?;
    let mount = disk
        .mount(None, Some(fstype), MountFlags::empty(), None)
        .map_err(|e| e.to_string())?;
    let root = mount.path().to_owned();
    let must = |what: &str, r: io::Result<()>| r.map_err(|e| format!("{what}: {e}"));
    must("mkdir", fs::create_dir_all(root.join("a/b/c/d")))?;
    must("mkdir", fs::create_dir_all(root.join("many")))?;
    must("mkdir", fs::create_dir_all(root.join("links")))?;
    must(
        "write",
        fs::write(root.join("a/small.txt"), b"hello, fuzz\n"),
    )?;
    must("write", fs::write(root.join("a/b/sector"), filled(512)))?;
    must("write", fs::write(root.join("a/b/c/block"), filled(4096)))?;
    must(
        "write",
        fs::write(root.join("a/b/c/d/big"), filled(256 << 10)),
    )?;
    must("write", fs::write(root.join("a/empty"), b""))?;
    let sparse = File::create(root.join("a/sparse")).map_err(|e| format!("create: {e}"))?;
    must("write", sparse.write_all_at(&filled(4096), 0))?;
    must("write", sparse.write_all_at(&filled(8192), 3 << 20))?;
    drop(sparse);
    for i in 0..MANY_ENTRIES {
        let name = root.join(format!("many/entry-with-a-rather-long-name-{i:04}"));
        let len = if i % 4 == 0 { 1024 } else { 0 };
        must("write", fs::write(name, filled(len)))?;
    }
    // Optional: vfat has no links, FIFOs or xattrs.
    let long_target = format!("../a/{}", "long-target/".repeat(16));
    let _ = fs::symlink("../a/small.txt", root.join("links/short"));
    let _ = fs::symlink(&long_target, root.join("links/long"));
    let _ = fs::hard_link(root.join("a/small.txt"), root.join("links/hard"));
    let _ = fs::mknod(
        root.join("links/fifo"),
        FileType::Fifo,
        Mode::RUSR | Mode::WUSR,
        0,
    );
    let _ = fs::set_xattr(
        root.join("a/small.txt"),
        "user.small",
        b"v",
        XattrFlags::empty(),
    );
    let _ = fs::set_xattr(
        root.join("a/b/sector"),
        "user.big",
        &[b'x'; 1500],
        XattrFlags::empty(),
    );
    let _ = fs::set_xattr(
        root.join("a/b"),
        "user.dir",
        b"on a directory",
        XattrFlags::empty(),
    );
    must("sync", fs::sync())?;
    mount
        .unmount_timeout(Duration::from_secs(10))
        .map_err(|e| format!("unmount: {e}"))?;
    drop(disk);
    kernel.halt().map_err(|e| format!("halt: {e}"))?;
    Ok(())
}

/// What a walk saw: how much it visited and the first few errors.
#[derive(Default)]
struct Walk {
    entries: usize,
    bytes: u64,
    errors: usize,
    first_errors: Vec<String>,
}

impl Walk {
    fn error(&mut self, path: &Path, what: &str, e: &io::Error) {
        self.errors += 1;
        if self.first_errors.len() < 3 {
            self.first_errors
                .push(format!("{what} {}: {}", path.display(), errno_name(e)));
        }
    }

    fn check(&mut self, path: &Path, what: &str, r: io::Result<()>) {
        match r {
            Err(e) if !unsupported(&e) => self.error(path, what, &e),
            _ => {}
        }
    }
}

/// `EIO`, say, or the error's text if it has no errno.
pub fn errno_name(e: &io::Error) -> String {
    let Some(n) = raw_os_error(e) else {
        return e.to_string();
    };
    match Errno::from_raw(n).name() {
        Some(name) => name.to_owned(),
        None => format!("errno {n}"),
    }
}

/// Whether `e` says the file system lacks the operation (xattrs on vfat).
fn unsupported(e: &io::Error) -> bool {
    raw_os_error(e) == Some(Errno::OPNOTSUPP.raw())
}

/// Visits everything below `root`: directory entries, status, file
/// contents (the first MiB), link targets and extended attributes.
fn walk(root: &Path) -> Walk {
    let mut out = Walk::default();
    let mut seen_dirs = HashSet::new();
    let mut stack: Vec<(PathBuf, usize)> = vec![(root.to_owned(), 0)];
    if let Err(e) = fs::statfs(root) {
        out.error(root, "statfs", &e);
    }
    while let Some((dir, depth)) = stack.pop() {
        match fs::symlink_metadata(&dir) {
            // A corrupted tree may link a directory into itself.
            Ok(md) if !seen_dirs.insert((md.dev(), md.ino())) => continue,
            Ok(_) => {}
            Err(e) => {
                out.error(&dir, "stat", &e);
                continue;
            }
        }
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                out.error(&dir, "opendir", &e);
                continue;
            }
        };
        for entry in entries {
            if out.entries >= ENTRY_LIMIT {
                out.first_errors
                    .push(format!("stopped at {ENTRY_LIMIT} entries"));
                return out;
            }
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    out.error(&dir, "readdir", &e);
                    break;
                }
            };
            out.entries += 1;
            let path = entry.path();
            let md = match fs::symlink_metadata(&path) {
                Ok(md) => md,
                Err(e) => {
                    out.error(&path, "stat", &e);
                    continue;
                }
            };
            visit_xattrs(&path, &mut out);
            match md.file_type() {
                FileType::Dir if depth < DEPTH_LIMIT => stack.push((path, depth + 1)),
                FileType::File => read_file(&path, &mut out),
                FileType::Symlink => {
                    if let Err(e) = fs::read_link(&path) {
                        out.error(&path, "readlink", &e);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn read_file(path: &Path, out: &mut Walk) {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return out.error(path, "open", &e),
    };
    let mut buf = vec![0u8; 64 << 10];
    let mut offset = 0;
    while offset < READ_LIMIT {
        match file.read_at(&mut buf, offset) {
            Ok(0) => break,
            Ok(n) => {
                offset += n as u64;
                out.bytes += n as u64;
            }
            Err(e) => return out.error(path, "read", &e),
        }
    }
}

fn visit_xattrs(path: &Path, out: &mut Walk) {
    let names = match fs::llist_xattr(path) {
        Ok(names) => names,
        Err(e) if unsupported(&e) => return,
        Err(e) => return out.error(path, "listxattr", &e),
    };
    for name in names {
        if let Err(e) = fs::lget_xattr(path, name.as_os_str()) {
            out.error(path, "getxattr", &e);
        }
    }
}

/// Writes to a mounted corrupted file system: a new directory and file,
/// a rename, an xattr, removing a seed file, a sync. Errors are expected.
fn write_some(root: &Path, out: &mut Walk) {
    let dir = root.join("fuzz-new");
    out.check(&dir, "mkdir", fs::create_dir(&dir));
    let file = dir.join("file");
    out.check(&file, "write", fs::write(&file, filled(64 << 10)));
    let moved = root.join("a/moved");
    out.check(&moved, "rename", fs::rename(&file, &moved));
    out.check(
        &moved,
        "setxattr",
        fs::set_xattr(&moved, "user.new", b"value", XattrFlags::empty()),
    );
    let victim = root.join("many/entry-with-a-rather-long-name-0001");
    out.check(&victim, "unlink", fs::remove_file(&victim));
    out.check(root, "sync", fs::sync());
}

/// Where the executable is loaded, for fault addresses the parent can
/// look up with addr2line.
static EXE_BASE: AtomicUsize = AtomicUsize::new(0);

fn find_exe_base() {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let exe = exe.to_string_lossy().into_owned();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(_), Some(offset)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if line.ends_with(exe.as_str()) && offset.trim_start_matches('0').is_empty() {
            if let Some(start) = range.split('-').next() {
                if let Ok(base) = usize::from_str_radix(start, 16) {
                    EXE_BASE.store(base, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
}

/// Appends `value` in hex to `buf` at `len`.
fn push_hex(buf: &mut [u8], len: &mut usize, value: usize) {
    let digits = b"0123456789abcdef";
    let mut started = false;
    for shift in (0..16).rev() {
        let d = (value >> (shift * 4)) & 0xf;
        if d != 0 || started || shift == 0 {
            started = true;
            if *len < buf.len() {
                buf[*len] = digits[d];
                *len += 1;
            }
        }
    }
}

fn push_str(buf: &mut [u8], len: &mut usize, text: &[u8]) {
    for &b in text {
        if *len < buf.len() {
            buf[*len] = b;
            *len += 1;
        }
    }
}

/// The marker the parent looks for on stderr.
pub const FAULT_MARK: &str = "lkl-fuzz: fatal signal";

/// Prints the signal and where it hit, then lets it kill the process as
/// it would have: the handler goes back to the default action and the
/// faulting instruction runs again. Only async-signal-safe calls.
extern "C" fn on_fatal_signal(
    sig: libc::c_int,
    info: *mut libc::siginfo_t,
    ctx: *mut libc::c_void,
) {
    let mut buf = [0u8; 200];
    let mut len = 0;
    push_str(&mut buf, &mut len, FAULT_MARK.as_bytes());
    let name: &[u8] = match sig {
        libc::SIGSEGV => b" SIGSEGV",
        libc::SIGBUS => b" SIGBUS",
        libc::SIGILL => b" SIGILL",
        _ => b" SIGFPE",
    };
    push_str(&mut buf, &mut len, name);
    let ip = if ctx.is_null() {
        0
    } else {
        // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO
        // handler.
        let rip =
            unsafe { (*ctx.cast::<libc::ucontext_t>()).uc_mcontext.gregs[libc::REG_RIP as usize] };
        rip as usize
    };
    push_str(&mut buf, &mut len, b" at ip 0x");
    push_hex(&mut buf, &mut len, ip);
    let base = EXE_BASE.load(Ordering::Relaxed);
    if base != 0 && ip >= base {
        push_str(&mut buf, &mut len, b" (exe+0x");
        push_hex(&mut buf, &mut len, ip - base);
        push_str(&mut buf, &mut len, b")");
    }
    if !info.is_null() {
        // SAFETY: the siginfo of a fault, passed by the kernel.
        let addr = unsafe { (*info).si_addr() } as usize;
        push_str(&mut buf, &mut len, b", fault address 0x");
        push_hex(&mut buf, &mut len, addr);
    }
    push_str(&mut buf, &mut len, b"\n");
    // SAFETY: write(2) and signal(2) are async-signal-safe; `buf` holds
    // `len` bytes.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), len);
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// Installs [`on_fatal_signal`] before the kernel boots, so that the host
/// library's own fault handler (for copies from user memory) chains to it
/// for every other fault.
fn install_fault_reporter() {
    find_exe_base();
    for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE] {
        // SAFETY: sigaction is plain data, all-zero valid; the handler
        // only makes async-signal-safe calls.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal_signal as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// One case: `image` with `mutations` as a disk named `name`, mounted as
/// `fstype`, walked, written, unmounted; then a halt. Prints the `RESULT`
/// line. `Err` is a failure of the harness, not of the image.
pub fn run_case(
    image: &Path,
    fstype: &str,
    mutations: &[Mutation],
    name: &str,
) -> Result<(), String> {
    install_fault_reporter();
    let overlay =
        Overlay::open(image, mutations).map_err(|e| format!("{}: {e}", image.display()))?;
    let disk = Disk::with_backend(Arc::new(overlay), name).map_err(|e| e.to_string())?;
    let kernel = boot()?;
    let result = match disk.mount(None, Some(fstype), MountFlags::empty(), None) {
        Err(e) => format!("RESULT refused {}: {e}", errno_name(&e)),
        Ok(mount) => {
            let root = mount.path().to_owned();
            let mut walk = walk(&root);
            let read_only = fs::statfs(&root)
                .map(|s| s.flags().contains(fs::StatFsFlags::RDONLY))
                .unwrap_or(true);
            if !read_only {
                write_some(&root, &mut walk);
            }
            let unmounted = match mount.unmount_timeout(Duration::from_secs(5)) {
                Ok(()) => "unmounted".to_owned(),
                Err(e) => format!("unmount failed: {}", errno_name(&e)),
            };
            format!(
                "RESULT mounted {} entries, {} bytes read, {} errors{}{}; {unmounted}",
                walk.entries,
                walk.bytes,
                walk.errors,
                if walk.first_errors.is_empty() {
                    ""
                } else {
                    ": "
                },
                walk.first_errors.join("; ")
            )
        }
    };
    println!("{result}");
    drop(disk);
    kernel.halt().map_err(|e| format!("halt: {e}"))?;
    Ok(())
}

/// `--child selftest-fault`: a fault in a child with a running kernel, as
/// a bad kernel memory access would be; the parent must see an oops.
pub fn selftest_fault() -> Result<(), String> {
    install_fault_reporter();
    let _kernel = boot()?;
    // SAFETY: deliberately reads an unmapped address: the load faults and
    // the process dies of SIGSEGV, which is the point. The assembly
    // touches nothing Rust knows about.
    unsafe { std::arch::asm!("mov {0}, qword ptr [0x10]", out(reg) _) };
    Err("the fault did not end the process".into())
}

/// `--child selftest-panic`: the host library's panic exit with a running
/// kernel; the parent must see a kernel panic.
pub fn selftest_panic() -> Result<(), String> {
    install_fault_reporter();
    let _kernel = boot()?;
    // SAFETY: a NUL-terminated message; the call does not return.
    unsafe { lkl::lkl_sys::lkl_host::lkl_host_panic(c"lkl-fuzz self-test".as_ptr()) }
}
