// SPDX-License-Identifier: GPL-2.0
//! Build script of liblkl.a's C API.
//!
//! 1. Renames the library build's exported headers (build/lib/usr/include)
//!    into LKL's prefixed form under `$OUT_DIR/include/lkl/` (see
//!    `headers.rs`).
//! 2. Generates the `lkl_sys_*` functions from the kernel's
//!    `include/linux/syscalls.h`: Rust definitions in
//!    `$OUT_DIR/syscalls.rs`, C prototypes in
//!    `$OUT_DIR/include/lkl/asm/syscalls.h` (see `syscalls.rs`).
//!
//! `make install` copies `$OUT_DIR/include` next to lkl.h and lkl_host.h.

mod ctok;
mod headers;
mod syscalls;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use headers::{member_names, prefixed, Names, Renamer};

/// Libc headers the renamed headers must coexist with. Their macros that
/// would rewrite one of our struct members are prefixed as well.
const LIBC_HEADERS: &[&str] = &[
    "stdio.h",
    "stdlib.h",
    "string.h",
    "errno.h",
    "fcntl.h",
    "unistd.h",
    "dirent.h",
    "poll.h",
    "signal.h",
    "time.h",
    "sys/types.h",
    "sys/stat.h",
    "sys/time.h",
    "sys/epoll.h",
    "sys/socket.h",
    "sys/ioctl.h",
    "sys/mman.h",
    "sys/uio.h",
    "sys/resource.h",
    "sys/statfs.h",
    "net/if.h",
    "netinet/in.h",
];

/// Libc identity macros that the exported headers test to avoid clashing
/// with libc's definitions. Prefixed copies never clash, so the renamed
/// headers must not see a libc: renaming these leaves them undefined.
const LIBC_IDENTITY: &[&str] = &["__GLIBC__", "__GLIBC_MINOR__"];

/// Typedefs of the kernel's signal ABI that libc also defines, with its
/// own layouts: always renamed.
const KERNEL_SIGNAL_TYPES: &[&str] =
    &["sigset_t", "siginfo_t", "sigval_t", "sigevent_t", "stack_t"];

/// Uapi headers the system call prototypes header pulls in (those that
/// exist in this kernel's export), after its own types.
const SYSCALL_INCLUDES: &[&str] = &[
    "linux/types.h",
    "linux/time.h",
    "linux/times.h",
    "linux/timex.h",
    "linux/capability.h",
    "linux/stat.h",
    "linux/errno.h",
    "linux/fcntl.h",
    "linux/fs.h",
    "asm/statfs.h",
    "asm/stat.h",
    "linux/msg.h",
    "linux/resource.h",
    "linux/sysinfo.h",
    "linux/shm.h",
    "linux/sem.h",
    "linux/aio_abi.h",
    "linux/socket.h",
    "linux/futex.h",
    "linux/poll.h",
    "linux/mqueue.h",
    "linux/eventpoll.h",
    "linux/uio.h",
    "asm/signal.h",
    "asm/siginfo.h",
    "linux/utime.h",
    "asm/socket.h",
    "asm/sockios.h",
    "linux/netlink.h",
    "linux/if.h",
    "linux/in.h",
    "linux/in6.h",
    "linux/sockios.h",
    "linux/route.h",
    "linux/kdev_t.h",
    "linux/sched.h",
    "linux/sched/types.h",
    "linux/openat2.h",
    "linux/mount.h",
    "linux/utsname.h",
    "linux/mman.h",
    "linux/rseq.h",
    "linux/reboot.h",
    "linux/landlock.h",
    "linux/io_uring.h",
    "linux/perf_event.h",
    "linux/bpf.h",
    "linux/lsm.h",
    "linux/prctl.h",
    "linux/random.h",
    "linux/eventfd.h",
    "linux/memfd.h",
    "linux/ioctl.h",
    "linux/termios.h",
    "linux/wait.h",
    "linux/limits.h",
];

fn read(path: &Path) -> String {
    println!("cargo:rerun-if-changed={}", path.display());
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn env_dir(var: &str, default: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed={var}");
    match std::env::var_os(var) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default),
    }
}

/// Keywords of GNU C that headers sometimes define as macros for other
/// compilers (coda.h's `__inline__`): never renamed.
const C_KEYWORDS: &[&str] = &[
    "asm",
    "__asm",
    "__asm__",
    "inline",
    "__inline",
    "__inline__",
    "volatile",
    "__volatile",
    "__volatile__",
    "__signed",
    "__signed__",
    "__const",
    "__const__",
    "__restrict",
    "__restrict__",
    "__extension__",
    "__attribute",
    "__attribute__",
    "typeof",
    "__typeof",
    "__typeof__",
    "__alignof__",
    "__label__",
    "__auto_type",
    "__int128",
    "_Bool",
    "_Static_assert",
    "restrict",
    "const",
    "signed",
    "NULL",
    "offsetof",
    "bool",
    "true",
    "false",
];

/// Macros the host libc headers define beyond the compiler's own, and the
/// compiler's own.
fn libc_macros(out: &Path) -> (HashSet<String>, HashSet<String>) {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let probe = out.join("libc-probe.c");
    let mut src = String::from("#define _GNU_SOURCE\n");
    for h in LIBC_HEADERS {
        writeln!(src, "#include <{h}>").unwrap();
    }
    write(&probe, &src);
    let run = |file: &Path| -> HashSet<String> {
        let o = Command::new(&cc)
            .args(["-dM", "-E"])
            .arg(file)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
        assert!(
            o.status.success(),
            "{cc} -dM -E failed on {}",
            file.display()
        );
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("#define "))
            .filter_map(|l| l.split([' ', '(']).next())
            .map(str::to_string)
            .collect()
    };
    let empty = out.join("empty.c");
    write(&empty, "");
    let builtin = run(&empty);
    let libc = run(&probe).difference(&builtin).cloned().collect();
    (libc, builtin)
}

/// The exported headers the prototypes use, unrenamed and preprocessed,
/// followed by our own types.
fn preprocessed(out: &Path, uapi: &Path, extra: &Path) -> String {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let mut src = String::new();
    for i in SYSCALL_INCLUDES {
        if uapi.join(i).is_file() {
            writeln!(src, "#include <{i}>").unwrap();
        }
    }
    writeln!(src, "#include \"{}\"", extra.display()).unwrap();
    let file = out.join("types-probe.c");
    write(&file, &src);
    let o = Command::new(&cc)
        .arg("-E")
        .arg(format!("-I{}", uapi.display()))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(
        o.status.success(),
        "{cc} -E failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Names the host libc headers declare with typedef.
fn libc_typedefs(out: &Path) -> HashSet<String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let probe = out.join("libc-probe.c");
    let o = Command::new(&cc)
        .arg("-E")
        .arg(&probe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(o.status.success(), "{cc} -E failed on {}", probe.display());
    let mut names = Names::default();
    names.collect(&String::from_utf8_lossy(&o.stdout));
    names.typedefs.into_iter().collect()
}

/// CONFIG_* options set in the library build's .config.
fn config_defined(config: &str) -> HashSet<String> {
    config
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(_, v)| *v != "n")
        .map(|(k, _)| k.to_string())
        .collect()
}

/// Our own libc-compat.h: the kernel's coordinates with libc headers
/// included before it, by leaving out what libc already defined. The
/// prefixed definitions never clash, so everything is defined.
fn libc_compat(all_sources: &[String]) -> String {
    let mut defs = BTreeSet::new();
    for src in all_sources {
        for tok in ctok::tokenize(src) {
            if tok.kind == ctok::Kind::Ident && tok.text.starts_with("__UAPI_DEF_") {
                defs.insert(tok.text);
            }
        }
    }
    let mut out = String::from(
        "/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */\n\
         /*\n * Generated by lkl-capi's build script. The kernel's libc-compat.h leaves\n\
         \x20* out definitions a libc header already made; prefixed definitions never\n\
         \x20* clash with libc, so here every one of them is made.\n */\n\
         #ifndef _LKL_LIBC_COMPAT_H\n#define _LKL_LIBC_COMPAT_H\n\n",
    );
    for d in defs {
        writeln!(out, "#define {} 1", prefixed(&d)).unwrap();
    }
    out.push_str("\n#endif\n");
    out
}

fn main() {
    let lib = env_dir("LKL_LIBLINUX_DIR", "../../build/lib");
    let ksrc = env_dir("LKL_KERNEL_SRC", "../../build/linux");
    let uapi = lib.join("usr/include");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let inc = out.join("include/lkl");
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=build");

    // 1. What the exported headers define.
    let files = headers::header_files(&uapi);
    assert!(
        files.iter().any(|f| f == Path::new("linux/stat.h")),
        "{} lacks the library's uapi headers: run 'make library'",
        uapi.display()
    );
    println!("cargo:rerun-if-changed={}", uapi.display());
    let sources: Vec<String> = files
        .iter()
        .map(|f| fs::read_to_string(uapi.join(f)).expect("readable header"))
        .collect();
    let mut names = Names::default();
    for src in &sources {
        names.collect(src);
    }
    let (libc, builtin) = libc_macros(&out);
    // Typedefs the exported headers make only as stand-ins for libc's on
    // other systems (coda.h's int32_t, u_long): libc's own are meant. The
    // signal types are the exception: the headers define the kernel's, in
    // the kernel's layout (x86's sigset_t is not glibc's).
    let libc_types = libc_typedefs(&out);
    names.ordinary.retain(|n| {
        KERNEL_SIGNAL_TYPES.contains(&n.as_str()) || n.starts_with("__") || !libc_types.contains(n)
    });
    for src in &sources {
        for m in member_names(src) {
            if libc.contains(&m) && !names.ordinary.contains(&m) {
                names.ordinary.insert(m);
            }
        }
    }
    names
        .ordinary
        .retain(|n| !builtin.contains(n) && !C_KEYWORDS.contains(&n.as_str()));
    for id in LIBC_IDENTITY {
        names.ordinary.insert((*id).to_string());
    }

    // Our additions: their struct tags are renamed everywhere (the
    // exported headers mean them too: if.h's struct sockaddr); their other
    // names, which shadow libc's (size_t), only in our own headers.
    let extra_path = manifest.join("headers/syscall_types.h");
    let extra_src = read(&extra_path);
    let mut extra = Names::default();
    extra.collect(&extra_src);
    names.tags.extend(extra.tags.iter().cloned());
    let mut combined = names.clone();
    combined.ordinary.extend(extra.ordinary.iter().cloned());

    // 2. The renamed tree.
    let additions = [
        ("sys/socket.h", "lkl/asm/syscall_types.h"),
        ("sys/time.h", "lkl/linux/time.h"),
        ("time.h", "lkl/linux/time.h"),
    ];
    let renamer = Renamer {
        names: &names,
        uapi: &uapi,
        libc_additions: &additions,
    };
    let _ = fs::remove_dir_all(&inc);
    for (f, src) in files.iter().zip(&sources) {
        let text = if f == Path::new("linux/libc-compat.h") {
            libc_compat(&sources)
        } else {
            renamer.rename(src)
        };
        write(&inc.join(f), &text);
    }
    let own = Renamer {
        names: &combined,
        uapi: &uapi,
        libc_additions: &[],
    };
    write(&inc.join("asm/syscall_types.h"), &own.rename(&extra_src));

    // 3. The system calls.
    // The types' definitions, as the C preprocessor selects them for this
    // target (the headers hold alternatives for other word sizes).
    let mut typedef_map = HashMap::new();
    syscalls::typedefs(&preprocessed(&out, &uapi, &extra_path), &mut typedef_map);
    let numbers = syscalls::syscall_numbers(&read(&uapi.join("asm/unistd_64.h")));
    let entries =
        syscalls::entry_points(&read(&ksrc.join("arch/x86/entry/syscalls/syscall_64.tbl")));
    let generated = syscalls::generate(
        &numbers,
        &entries,
        &read(&ksrc.join("include/linux/syscalls.h")),
        &config_defined(&read(&lib.join(".config"))),
        &names,
        &extra,
        &typedef_map,
    );
    let mut h = String::from(
        "/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */\n\
         /*\n * Generated by lkl-capi's build script from the kernel's\n\
         \x20* include/linux/syscalls.h and asm/unistd_64.h: one lkl_sys_<name>()\n\
         \x20* per system call of the library's (x86_64) table. Each returns the\n\
         \x20* result or a negative LKL_E* errno.\n */\n\
         #ifndef _LKL_ASM_SYSCALLS_H\n#define _LKL_ASM_SYSCALLS_H\n\n\
         #include <lkl/asm/syscall_types.h>\n",
    );
    for i in SYSCALL_INCLUDES {
        if uapi.join(i).is_file() {
            writeln!(h, "#include <lkl/{i}>").unwrap();
        }
    }
    h.push_str("\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    h.push_str("long lkl_syscall(long no, long *params);\n\n");
    h.push_str(&generated.c_header);
    h.push_str("\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    write(&inc.join("asm/syscalls.h"), &h);
    write(&out.join("syscalls.rs"), &generated.rust);
}
