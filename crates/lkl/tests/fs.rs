// SPDX-License-Identifier: GPL-2.0
//! The `std::fs`-like layer (`lkl::fs`) against a running kernel: every
//! function and type, errors included.
//!
//! A process holds one kernel, ever, so each scenario runs in a child
//! process of its own: this binary again, with `LKL_FS_SCENARIO` naming the
//! scenario. Each child boots, mounts a tmpfs on `/t` and works below it.
//! The parent runs the scenarios (all, or those named on the command line)
//! under a time limit and ends with `fs: N passed, M failed`.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::error::Error;
use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lkl::fs::{
    self, major, makedev, minor, raw, AtFlags, Dir, FallocateFlags, File, FileTimes, FileType,
    Mode, MountFlags, OFlags, OpenOptions, Permissions, RenameFlags, StatFsFlags, UnmountFlags,
    XattrFlags,
};
use lkl::{Errno, Kernel};
use support::{pattern, Outcome};

const SCENARIO_VAR: &str = "LKL_FS_SCENARIO";
const LIMIT: Duration = Duration::from_secs(120);
/// `TMPFS_MAGIC`: a tmpfs backed by shmem, which tracks holes. Without an
/// MMU, Linux's "tmpfs" is ramfs (`RAMFS_MAGIC`), which does not.
const TMPFS_MAGIC: u64 = 0x0102_1994;

/// Counts the heap allocations of threads that ask for it.
struct CountingAlloc;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counted() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// count is a side effect that never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted();
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted();
        // SAFETY: `ptr` came from System with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// The heap allocations `f` makes on this thread.
fn allocations_of(f: impl FnOnce() -> Outcome) -> Result<usize, Box<dyn Error>> {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    result?;
    Ok(ALLOCATIONS.load(Ordering::Relaxed) - before)
}

/// An error's kind and number, for comparisons.
fn errno_of<T: std::fmt::Debug>(result: io::Result<T>) -> (ErrorKind, Option<i32>) {
    let err = result.expect_err("an error");
    (err.kind(), err.raw_os_error())
}

fn sorted_names(dir: impl lkl::PathArg) -> io::Result<Vec<OsString>> {
    let mut names = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

fn errors() -> Outcome {
    // ENOENT keeps its number and becomes NotFound.
    let (kind, raw) = errno_of(fs::metadata("/t/missing"));
    assert_eq!((kind, raw), (ErrorKind::NotFound, Some(2)));
    assert_eq!(
        errno_of(File::open("/t/missing")),
        (ErrorKind::NotFound, Some(2))
    );
    assert_eq!(errno_of(fs::read_dir("/t/missing")).1, Some(2));
    // The raw layer gives the kernel's Errno itself.
    assert_eq!(raw::stat("/t/missing").unwrap_err(), Errno::NOENT);
    let converted: io::Error = Errno::NOENT.into();
    assert_eq!(converted.raw_os_error(), Some(2));

    fs::create_dir("/t/d")?;
    fs::write("/t/f", b"x")?;
    assert_eq!(
        errno_of(fs::create_dir("/t/d")),
        (ErrorKind::AlreadyExists, Some(17))
    );
    assert_eq!(errno_of(File::create_new("/t/f")).1, Some(17));
    assert_eq!(errno_of(fs::metadata("/t/f/x")).1, Some(20)); // ENOTDIR
    assert_eq!(errno_of(fs::read_dir("/t/f")).1, Some(20));
    assert_eq!(errno_of(Dir::open("/t/f")).1, Some(20));
    assert_eq!(errno_of(File::create("/t/d")).1, Some(21)); // EISDIR
    assert_eq!(errno_of(fs::remove_file("/t/d")).1, Some(21));
    assert_eq!(errno_of(fs::remove_dir("/t/f")).1, Some(20));
    fs::write("/t/d/inner", b"")?;
    assert_eq!(errno_of(fs::remove_dir("/t/d")).1, Some(39)); // ENOTEMPTY
    assert_eq!(errno_of(fs::read_link("/t/f")).1, Some(22)); // not a link
                                                             // A NUL byte never reaches the kernel.
    assert_eq!(
        errno_of(fs::metadata("/t/f\0junk")),
        (ErrorKind::InvalidInput, Some(22))
    );
    assert_eq!(errno_of(fs::rename("/t/f", "a\0b")).1, Some(22));
    // Option combinations std refuses.
    assert_eq!(errno_of(OpenOptions::new().open("/t/f")).1, Some(22));
    assert_eq!(
        errno_of(OpenOptions::new().read(true).truncate(true).open("/t/f")).1,
        Some(22)
    );
    assert_eq!(
        errno_of(OpenOptions::new().read(true).create(true).open("/t/n")).1,
        Some(22)
    );
    assert_eq!(
        errno_of(OpenOptions::new().append(true).truncate(true).open("/t/f")).1,
        Some(22)
    );
    // Writing a file opened for reading: EBADF.
    let mut ro = File::open("/t/f")?;
    assert_eq!(errno_of(ro.write(b"x")).1, Some(9));
    // Reading a directory: EISDIR.
    let mut dir = File::open("/t/d")?;
    assert_eq!(errno_of(dir.read(&mut [0u8; 4])).1, Some(21));
    // A path too long for the kernel: ENAMETOOLONG, also past the stack
    // buffer.
    let long = format!("/t/{}", "n".repeat(300));
    assert_eq!(errno_of(fs::write(&long, b"")).1, Some(36));
    let very_long = format!("/t/{}", "d/".repeat(3000));
    assert_eq!(errno_of(fs::metadata(&very_long)).1, Some(36));
    // Unsupported combinations of the kernel: EINVAL from renameat2.
    fs::write("/t/g", b"")?;
    let both = RenameFlags::NOREPLACE | RenameFlags::EXCHANGE;
    assert_eq!(
        errno_of(fs::rename_with_flags("/t/f", "/t/g", both)).1,
        Some(22)
    );
    // mknod of a type it cannot make.
    assert_eq!(
        errno_of(fs::mknod("/t/x", FileType::Dir, Mode::RWXU, 0)).1,
        Some(22)
    );
    Ok(())
}

fn files() -> Outcome {
    // create, write, reopen, read.
    let mut file = File::create("/t/a")?;
    file.write_all(b"hello, ")?;
    let word = "world";
    write!(file, "{word}")?;
    file.flush()?;
    drop(file);
    assert_eq!(fs::read_to_string("/t/a")?, "hello, world");
    assert!(fs::exists("/t/a")?);
    assert!(!fs::exists("/t/b")?);

    // Seek in every form, stream_position, read_exact.
    let mut file = File::options().read(true).write(true).open("/t/a")?;
    assert_eq!(file.seek(SeekFrom::End(-5))?, 7);
    let mut word = [0u8; 5];
    file.read_exact(&mut word)?;
    assert_eq!(&word, b"world");
    assert_eq!(file.stream_position()?, 12);
    assert_eq!(file.seek(SeekFrom::Current(-12))?, 0);
    file.write_all(b"HELLO")?;
    assert_eq!(file.seek(SeekFrom::Start(0))?, 0);
    let mut all = String::new();
    file.read_to_string(&mut all)?;
    assert_eq!(all, "HELLO, world");
    assert_eq!(errno_of(file.seek(SeekFrom::Current(-100))).1, Some(22));

    // Through &File, as std's File allows.
    let shared = &file;
    (&*shared).seek(SeekFrom::Start(0))?;
    let mut two = [0u8; 2];
    (&*shared).read_exact(&mut two)?;
    assert_eq!(&two, b"HE");

    // Positioned reads and writes leave the position alone.
    let pos = file.stream_position()?;
    file.write_all_at(b"**", 5)?;
    let mut buf = [0u8; 4];
    file.read_exact_at(&mut buf, 4)?;
    assert_eq!(&buf, b"O**w");
    assert_eq!(file.read_at(&mut buf, 10)?, 2);
    assert_eq!(file.write_at(b"!", 12)?, 1);
    assert_eq!(
        errno_of(file.read_exact_at(&mut buf, 11)).0,
        ErrorKind::UnexpectedEof
    );
    assert_eq!(file.stream_position()?, pos);
    assert_eq!(fs::read("/t/a")?, b"HELLO**world!");

    // set_len, metadata, syncs.
    file.set_len(5)?;
    assert_eq!(file.metadata()?.len(), 5);
    file.set_len(10_000)?;
    assert_eq!(fs::metadata("/t/a")?.len(), 10_000);
    file.sync_all()?;
    file.sync_data()?;
    file.sync_filesystem()?;
    fs::truncate("/t/a", 3)?;
    assert_eq!(fs::read("/t/a")?, b"HEL");

    // try_clone shares the open file, and so the position.
    let mut clone = file.try_clone()?;
    file.seek(SeekFrom::Start(1))?;
    assert_eq!(clone.stream_position()?, 1);
    let mut rest = Vec::new();
    clone.read_to_end(&mut rest)?;
    assert_eq!(rest, b"EL");

    // Options: append, truncate, create_new, mode, custom flags.
    let mut log = File::options().append(true).create(true).open("/t/log")?;
    log.write_all(b"one\n")?;
    log.seek(SeekFrom::Start(0))?;
    log.write_all(b"two\n")?;
    assert_eq!(fs::read_to_string("/t/log")?, "one\ntwo\n");
    drop(
        OpenOptions::new()
            .write(true)
            .truncate(true)
            .open("/t/log")?,
    );
    assert_eq!(fs::metadata("/t/log")?.len(), 0);
    let new = File::options()
        .write(true)
        .create_new(true)
        .mode(Mode::RUSR | Mode::WUSR | Mode::XUSR)
        .open("/t/new")?;
    assert_eq!(new.metadata()?.permissions().mode(), 0o700);
    let direct = File::options()
        .read(true)
        .custom_flags(OFlags::NOATIME | OFlags::WRONLY)
        .open("/t/new")?;
    // The access mode bits of custom_flags are ignored: still read-only.
    assert!(raw::write(&direct, b"x").is_err());

    // Fd round trip.
    let fd: lkl::Fd = File::open("/t/a")?.into_fd();
    let mut again = File::from(fd);
    let mut text = String::new();
    again.read_to_string(&mut text)?;
    assert_eq!(text, "HEL");
    let back: lkl::Fd = again.into();
    assert!(back.as_raw() >= 0);

    // write() replaces, read() reads everything, also of /proc-like files
    // whose size says 0.
    fs::write("/t/a", vec![7u8; 100_000])?;
    assert_eq!(fs::read("/t/a")?, vec![7u8; 100_000]);

    // Buffered std readers and writers work over kernel files.
    let mut writer = BufWriter::new(File::create("/t/lines")?);
    for i in 0..1000 {
        writeln!(writer, "line {i}")?;
    }
    writer
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    let lines = io::BufRead::lines(BufReader::new(File::open("/t/lines")?)).count();
    assert_eq!(lines, 1000);
    Ok(())
}

fn copy_host() -> Outcome {
    let data = pattern(5 * 1024 * 1024 + 123, 42);
    let host_dir = std::env::temp_dir().join(format!("lkl-fs-test-{}", std::process::id()));
    std::fs::create_dir_all(&host_dir)?;
    let host_in = host_dir.join("in");
    let host_out = host_dir.join("out");
    std::fs::write(&host_in, &data)?;

    let result = (|| -> Outcome {
        // Host file into the kernel.
        let mut from = std::fs::File::open(&host_in)?;
        let mut into = File::create("/t/image")?;
        let copied = io::copy(&mut from, &mut into)?;
        assert_eq!(copied, data.len() as u64);
        drop(into);
        assert_eq!(fs::metadata("/t/image")?.len(), data.len() as u64);

        // And back out.
        let mut from = File::open("/t/image")?;
        let mut out = std::fs::File::create(&host_out)?;
        let copied = io::copy(&mut from, &mut out)?;
        assert_eq!(copied, data.len() as u64);
        drop(out);
        assert!(
            std::fs::read(&host_out)? == data,
            "bytes differ after the round trip"
        );

        // Kernel to kernel, through a BufReader.
        let mut from = BufReader::new(File::open("/t/image")?);
        let mut into = File::create("/t/image2")?;
        io::copy(&mut from, &mut into)?;
        assert!(fs::read("/t/image2")? == data);
        Ok(())
    })();
    std::fs::remove_dir_all(&host_dir)?;
    result
}

fn no_allocation() -> Outcome {
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .open("/t/fast")?;
    let block = [0x5au8; 4096];
    let mut back = [0u8; 4096];
    // The first call of a thread makes its kernel task; not counted.
    (&file).write_all(&block)?;
    let writes = allocations_of(|| {
        for _ in 0..1000 {
            (&file).write_all(&block)?;
        }
        Ok(())
    })?;
    assert_eq!(writes, 0, "allocations in 1000 writes");
    (&file).seek(SeekFrom::Start(0))?;
    let reads = allocations_of(|| {
        for _ in 0..1000 {
            (&file).read_exact(&mut back)?;
        }
        Ok(())
    })?;
    assert_eq!(reads, 0, "allocations in 1000 reads");
    assert_eq!(back, block);
    let positioned = allocations_of(|| {
        for i in 0..1000u64 {
            file.write_all_at(&block, i * 4096)?;
            file.read_exact_at(&mut back, i * 4096)?;
        }
        Ok(())
    })?;
    assert_eq!(positioned, 0, "allocations in positioned calls");
    // Errors too: an io::Error from an errno is not boxed.
    let errors = allocations_of(|| {
        let mut ro = File::open("/t/fast")?;
        for _ in 0..100 {
            assert!(ro.write(&block).is_err());
        }
        Ok(())
    })?;
    assert_eq!(errors, 0, "allocations in failed calls");
    // Short paths go through the stack.
    let paths = allocations_of(|| {
        for _ in 0..100 {
            fs::metadata("/t/fast")?;
            drop(File::open(Path::new("/t/fast"))?);
        }
        Ok(())
    })?;
    assert_eq!(paths, 0, "allocations in calls with short paths");
    Ok(())
}

fn read_dir() -> Outcome {
    fs::create_dir("/t/d")?;
    fs::write("/t/d/file", b"1234")?;
    fs::create_dir("/t/d/sub")?;
    fs::symlink("file", "/t/d/link")?;
    fs::mknod("/t/d/fifo", FileType::Fifo, Mode::RUSR | Mode::WUSR, 0)?;
    fs::mknod(
        "/t/d/null",
        FileType::CharDevice,
        Mode::from_bits_truncate(0o666),
        makedev(1, 3),
    )?;

    // . and .. are left out; every type is reported.
    let mut entries = fs::read_dir("/t/d")?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|e| e.file_name());
    let names: Vec<_> = entries.iter().map(|e| e.file_name()).collect();
    assert_eq!(names, ["fifo", "file", "link", "null", "sub"]);
    let types = entries
        .iter()
        .map(|e| e.file_type())
        .collect::<io::Result<Vec<_>>>()?;
    assert_eq!(
        types,
        [
            FileType::Fifo,
            FileType::File,
            FileType::Symlink,
            FileType::CharDevice,
            FileType::Dir
        ]
    );
    for entry in &entries {
        assert_eq!(entry.path(), Path::new("/t/d").join(entry.file_name()));
        assert_eq!(entry.file_name_ref(), entry.file_name().as_os_str());
        let md = fs::symlink_metadata(entry.path())?;
        // The entry's metadata does not follow the link.
        assert_eq!(entry.metadata()?.ino(), md.ino());
        assert_eq!(entry.ino(), md.ino());
        assert_eq!(entry.metadata()?.file_type(), entry.file_type()?);
    }
    assert_eq!(entries[1].metadata()?.len(), 4);

    // An empty directory lists nothing.
    assert_eq!(fs::read_dir("/t/d/sub")?.count(), 0);

    // Many entries: several getdents64 batches, each seen once.
    fs::create_dir("/t/many")?;
    let many = 3000;
    for i in 0..many {
        fs::write(format!("/t/many/entry-with-a-longish-name-{i:05}"), b"")?;
    }
    let names = sorted_names("/t/many")?;
    assert_eq!(names.len(), many);
    assert_eq!(names[0], "entry-with-a-longish-name-00000");
    assert_eq!(
        names[many - 1],
        format!("entry-with-a-longish-name-{:05}", many - 1).as_str()
    );
    names.windows(2).for_each(|w| assert!(w[0] < w[1]));

    // Relative paths keep their form in entries' paths.
    lkl::fs::raw::chdir("/t")?;
    let first = fs::read_dir("d/sub/..")?.next().expect("an entry")?;
    assert!(first.path().starts_with("d/sub/.."));
    // Entries stay usable after their listing is dropped.
    let entry = {
        let mut listing = fs::read_dir("/t/d")?;
        listing.find(|e| e.as_ref().is_ok_and(|e| e.file_name() == "file"))
    }
    .expect("file")?;
    assert!(entry.metadata()?.is_file());
    Ok(())
}

fn dirs() -> Outcome {
    // create_dir_all: nested, existing, relative, a file in the way.
    fs::create_dir_all("/t/a/b/c")?;
    fs::create_dir_all("/t/a/b/c")?;
    fs::create_dir_all("/t/a/b/c/")?;
    fs::create_dir_all("")?;
    assert!(fs::metadata("/t/a/b/c")?.is_dir());
    raw::chdir("/t/a")?;
    fs::create_dir_all("x/y")?;
    assert!(fs::metadata("/t/a/x/y")?.is_dir());
    fs::write("/t/a/file", b"")?;
    assert_eq!(errno_of(fs::create_dir_all("/t/a/file/z")).1, Some(20));
    assert_eq!(errno_of(fs::create_dir_all("/t/a/file")).1, Some(17));
    raw::chdir("/")?;

    // remove_dir_all: depth, files, and links that must not be followed.
    fs::create_dir_all("/t/keep/inside")?;
    fs::write("/t/keep/inside/precious", b"keep me")?;
    fs::create_dir_all("/t/tree/1/2/3")?;
    for i in 0..50 {
        fs::write(format!("/t/tree/1/f{i}"), b"x")?;
    }
    fs::symlink("/t/keep", "/t/tree/1/2/link-to-keep")?;
    fs::symlink("/t/keep/inside", "/t/tree/3-link")?;
    fs::mknod("/t/tree/1/2/3/fifo", FileType::Fifo, Mode::RUSR, 0)?;
    fs::remove_dir_all("/t/tree")?;
    assert!(!fs::exists("/t/tree")?);
    assert_eq!(fs::read("/t/keep/inside/precious")?, b"keep me");
    // On a link to a directory: the link goes, the directory stays.
    fs::symlink("/t/keep", "/t/keep-link")?;
    fs::remove_dir_all("/t/keep-link")?;
    assert!(fs::symlink_metadata("/t/keep-link").is_err());
    assert!(fs::exists("/t/keep/inside/precious")?);
    assert_eq!(errno_of(fs::remove_dir_all("/t/none")).1, Some(2));

    // Dir: calls relative to a handle, which follows the directory.
    let dir = Dir::open("/t/a")?;
    assert_eq!(dir.path(), Path::new("/t/a"));
    dir.create_dir("made", Mode::RWXU | Mode::RGRP | Mode::XGRP)?;
    assert_eq!(fs::metadata("/t/a/made")?.permissions().mode(), 0o750);
    dir.create_dir_all("deep/er", Mode::RWXU)?;
    let mut file = dir.open_file(
        "made/f",
        OpenOptions::new()
            .write(true)
            .create(true)
            .mode(Mode::RUSR | Mode::WUSR),
    )?;
    file.write_all(b"via dir")?;
    assert!(dir.metadata("made/f")?.is_file());
    assert!(dir.metadata("")?.is_dir());
    assert_eq!(dir.metadata("")?.ino(), fs::metadata("/t/a")?.ino());
    dir.symlink("made/f", "ln")?;
    assert!(dir.symlink_metadata("ln")?.is_symlink());
    assert!(dir.metadata("ln")?.is_file());
    assert_eq!(dir.read_link("ln")?, PathBuf::from("made/f"));
    dir.hard_link("made/f", &dir, "hard")?;
    assert_eq!(dir.metadata("hard")?.nlink(), 2);
    dir.set_permissions("hard", Permissions::from_mode(0o604))?;
    assert_eq!(dir.metadata("made/f")?.permissions().mode(), 0o604);
    dir.chown("ln", Some(11), Some(12), AtFlags::SYMLINK_NOFOLLOW)?;
    assert_eq!(dir.symlink_metadata("ln")?.uid(), 11);
    assert_eq!(dir.metadata("ln")?.uid(), 0);
    dir.chown("ln", Some(13), None, AtFlags::empty())?;
    assert_eq!(dir.metadata("made/f")?.uid(), 13);
    let when = UNIX_EPOCH + Duration::new(99, 100);
    dir.set_times(
        "ln",
        FileTimes::new().set_modified(when),
        AtFlags::SYMLINK_NOFOLLOW,
    )?;
    assert_eq!(dir.symlink_metadata("ln")?.modified()?, when);
    assert_ne!(dir.metadata("ln")?.modified()?, when);
    dir.mknod("blk", FileType::BlockDevice, Mode::RUSR, makedev(7, 1))?;
    assert!(dir.metadata("blk")?.file_type().is_block_device());
    let sub = dir.open_dir("made")?;
    assert_eq!(sub.path(), Path::new("/t/a/made"));
    let other = Dir::open("/t")?;
    sub.rename("f", &other, "moved", RenameFlags::NOREPLACE)?;
    assert_eq!(fs::read("/t/moved")?, b"via dir");
    dir.remove_file("hard")?;
    dir.remove_dir("deep/er")?;
    // The handle follows its directory through a rename.
    fs::rename("/t/a", "/t/renamed")?;
    dir.create_dir("after", Mode::RWXU)?;
    assert!(fs::metadata("/t/renamed/after")?.is_dir());
    let names: Vec<_> = {
        let mut names = dir
            .entries()?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        names
    };
    assert_eq!(
        names,
        ["after", "b", "blk", "deep", "file", "ln", "made", "x"].map(OsString::from)
    );
    dir.remove_dir_all("x")?;
    assert!(!fs::exists("/t/renamed/x")?);
    // Absolute paths ignore the handle.
    assert!(dir.metadata("/t/moved")?.is_file());
    // From a raw descriptor.
    let fd = raw::open("/t", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    let t = Dir::from_fd(fd, "/t");
    assert!(t.metadata("renamed")?.is_dir());
    // The working directory, as a Dir.
    raw::chdir("/t/renamed")?;
    let cwd = Dir::cwd();
    assert!(cwd.metadata("after")?.is_dir());
    assert!(cwd
        .entries()?
        .any(|e| e.is_ok_and(|e| e.file_name() == "made")));
    assert_eq!(
        errno_of(dir.open_file("nope", OpenOptions::new().read(true))).1,
        Some(2)
    );
    Ok(())
}

fn links_rename() -> Outcome {
    fs::write("/t/a", b"a")?;
    fs::write("/t/b", b"b")?;
    // rename replaces; NOREPLACE refuses; EXCHANGE swaps.
    fs::rename("/t/a", "/t/c")?;
    assert!(!fs::exists("/t/a")?);
    assert_eq!(
        errno_of(fs::rename_with_flags(
            "/t/c",
            "/t/b",
            RenameFlags::NOREPLACE
        )),
        (ErrorKind::AlreadyExists, Some(17))
    );
    fs::rename_with_flags("/t/c", "/t/b", RenameFlags::EXCHANGE)?;
    assert_eq!(fs::read("/t/b")?, b"a");
    assert_eq!(fs::read("/t/c")?, b"b");
    fs::rename("/t/c", "/t/b")?;
    assert_eq!(fs::read("/t/b")?, b"b");
    assert_eq!(
        errno_of(fs::rename_with_flags(
            "/t/none",
            "/t/b",
            RenameFlags::EXCHANGE
        ))
        .1,
        Some(2)
    );
    fs::create_dir("/t/d")?;
    assert_eq!(errno_of(fs::rename("/t/d", "/t/b")).1, Some(20));

    // Hard links: one (dev, ino), a link count, shared content.
    fs::hard_link("/t/b", "/t/b2")?;
    fs::create_dir("/t/sub")?;
    fs::hard_link("/t/b", "/t/sub/b3")?;
    let b = fs::metadata("/t/b")?;
    assert_eq!(b.nlink(), 3);
    let mut seen = std::collections::HashMap::new();
    for path in ["/t/b", "/t/b2", "/t/sub/b3", "/t/d"] {
        let md = fs::symlink_metadata(path)?;
        seen.entry((md.dev(), md.ino()))
            .or_insert_with(Vec::new)
            .push(path);
    }
    assert_eq!(seen[&(b.dev(), b.ino())], ["/t/b", "/t/b2", "/t/sub/b3"]);
    assert_eq!(seen.len(), 2);
    // Another file system has another device.
    assert_ne!(fs::metadata("/")?.dev(), b.dev());
    fs::write("/t/b2", b"changed")?;
    assert_eq!(fs::read("/t/sub/b3")?, b"changed");
    assert_eq!(errno_of(fs::hard_link("/t/b", "/t/b2")).1, Some(17));
    assert_eq!(errno_of(fs::hard_link("/t/d", "/t/d2")).1, Some(1)); // EPERM
    assert_eq!(errno_of(fs::hard_link("/t/b", "/t-other")).1, Some(18)); // EXDEV

    // Symbolic links: targets of any length, stored as given.
    fs::symlink("b", "/t/rel")?;
    assert_eq!(fs::read_link("/t/rel")?, PathBuf::from("b"));
    assert_eq!(fs::read("/t/rel")?, b"changed");
    let long_target = format!("/t/{}", "x/".repeat(1500));
    fs::symlink(&long_target, "/t/long")?;
    assert_eq!(fs::read_link("/t/long")?, PathBuf::from(&long_target));
    fs::symlink("/t/nowhere", "/t/dangling")?;
    assert!(fs::symlink_metadata("/t/dangling")?.is_symlink());
    assert_eq!(
        fs::symlink_metadata("/t/dangling")?.len(),
        "/t/nowhere".len() as u64
    );
    assert_eq!(errno_of(fs::metadata("/t/dangling")).1, Some(2));
    assert_eq!(errno_of(fs::symlink("x", "/t/rel")).1, Some(17));
    // A hard link to a symbolic link links the link.
    fs::hard_link("/t/dangling", "/t/dangling2")?;
    assert!(fs::symlink_metadata("/t/dangling2")?.is_symlink());
    Ok(())
}

fn attributes() -> Outcome {
    fs::write("/t/f", b"data")?;
    fs::symlink("f", "/t/link")?;

    // Permissions, set-id bits included.
    let mut perms = fs::metadata("/t/f")?.permissions();
    assert!(!perms.readonly());
    perms.set_readonly(true);
    fs::set_permissions("/t/f", perms)?;
    assert!(fs::metadata("/t/f")?.permissions().readonly());
    fs::set_permissions("/t/link", Permissions::from_mode(0o6755))?;
    let md = fs::metadata("/t/f")?;
    assert_eq!(md.permissions().mode(), 0o6755);
    assert_eq!(md.mode(), 0o106_755);
    assert_eq!(
        md.permissions().as_mode(),
        Mode::SUID | Mode::SGID | Mode::RWXU | Mode::RGRP | Mode::XGRP | Mode::ROTH | Mode::XOTH
    );
    let file = File::open("/t/f")?;
    file.set_permissions(Permissions::from(Mode::RUSR))?;
    assert_eq!(file.metadata()?.permissions().mode(), 0o400);

    // Owners: chown follows, lchown does not.
    fs::chown("/t/link", Some(1000), Some(1001))?;
    let (f, l) = (fs::metadata("/t/f")?, fs::symlink_metadata("/t/link")?);
    assert_eq!((f.uid(), f.gid()), (1000, 1001));
    assert_eq!((l.uid(), l.gid()), (0, 0));
    fs::lchown("/t/link", Some(2000), None)?;
    let (f, l) = (fs::metadata("/t/f")?, fs::symlink_metadata("/t/link")?);
    assert_eq!((f.uid(), l.uid(), l.gid()), (1000, 2000, 0));
    file.chown(None, Some(5))?;
    assert_eq!(file.metadata()?.gid(), 5);
    assert_eq!(errno_of(fs::lchown("/t/none", Some(1), Some(1))).1, Some(2));

    // Times with nanoseconds, on a link itself and through it.
    let link_time = UNIX_EPOCH + Duration::new(1_111_111_111, 222_333_444);
    let file_time = UNIX_EPOCH + Duration::new(1_500_000_000, 999_999_999);
    fs::set_symlink_times(
        "/t/link",
        FileTimes::new()
            .set_modified(link_time)
            .set_accessed(link_time),
    )?;
    let l = fs::symlink_metadata("/t/link")?;
    assert_eq!((l.mtime(), l.mtime_nsec()), (1_111_111_111, 222_333_444));
    assert_eq!((l.atime(), l.atime_nsec()), (1_111_111_111, 222_333_444));
    assert_eq!(l.modified()?, link_time);
    assert_eq!(l.accessed()?, link_time);
    // Following the link reads it, which may touch its atime; its mtime
    // stays.
    fs::set_times("/t/link", FileTimes::new().set_modified(file_time))?;
    assert_eq!(fs::symlink_metadata("/t/link")?.modified()?, link_time);
    let f = fs::metadata("/t/f")?;
    assert_eq!(f.modified()?, file_time);
    assert_ne!(f.accessed()?, link_time);
    // Before the epoch.
    let early = UNIX_EPOCH - Duration::new(86_400, 250_000_000);
    file.set_modified(early)?;
    assert_eq!(file.metadata()?.modified()?, early);
    assert_eq!(file.metadata()?.mtime(), -86_401);
    // "Now" is the kernel's clock; omitted times stay.
    let before = fs::metadata("/t/f")?;
    file.set_times(FileTimes::new().set_modified_now())?;
    let after = file.metadata()?;
    assert!(after.modified()? > early);
    assert_eq!(after.accessed()?, before.accessed()?);
    file.set_times(FileTimes::new().set_accessed_now())?;
    assert!(file.metadata()?.accessed()? >= before.accessed()?);
    file.set_times(FileTimes::new())?;
    assert_eq!(file.metadata()?.modified()?, after.modified()?);
    // A change of status moves ctime.
    let ctime = (after.ctime(), after.ctime_nsec());
    std::thread::sleep(Duration::from_millis(50));
    fs::chown("/t/f", Some(3), None)?;
    let md = fs::metadata("/t/f")?;
    assert!((md.ctime(), md.ctime_nsec()) > ctime);

    // The rest of the view.
    assert_eq!(md.len(), 4);
    assert_eq!(md.size(), 4);
    assert!(!md.is_empty());
    assert_eq!(md.nlink(), 1);
    assert!(md.blksize() > 0);
    assert_eq!(md.rdev(), 0);
    assert!(md.as_statx().stx_mask != 0);
    match md.created() {
        Ok(created) => assert!(created <= SystemTime::now() + Duration::from_secs(3600)),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported),
    }
    let debug = format!("{md:?}");
    assert!(debug.contains("File") && debug.contains("0o100"), "{debug}");
    Ok(())
}

fn sparse() -> Outcome {
    let holes = fs::statfs("/t")?.fs_type() == TMPFS_MAGIC;
    println!("file system reports holes: {holes}");
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .open("/t/sparse")?;
    let mib = 1 << 20;
    file.set_len(mib)?;
    file.write_all_at(&[1u8; 4096], mib / 2)?;
    assert_eq!(file.metadata()?.len(), mib);
    // At and past the end there is nothing to find.
    assert_eq!(file.seek_data(mib)?, None);
    assert_eq!(errno_of(file.seek_hole(mib)).1, Some(6)); // ENXIO
    let data = file.seek_data(0)?.expect("data");
    let hole = file.seek_hole(0)?;
    // The position moved to the answer.
    assert_eq!((&file).stream_position()?, hole);
    if holes {
        assert_eq!((data, hole), (mib / 2, 0));
        assert_eq!(file.seek_hole(mib / 2)?, mib / 2 + 4096);
        assert_eq!(file.seek_data(mib / 2 + 4096)?, None);
        assert!(file.metadata()?.blocks() < mib / 512);
        assert_eq!(file.seek_hole(mib - 1)?, mib - 1);
    } else {
        // Everything before the end counts as data, the end as the hole.
        assert_eq!((data, hole), (0, mib));
        assert_eq!(file.seek_data(mib / 4)?, Some(mib / 4));
        assert_eq!(file.seek_hole(mib - 1)?, mib);
    }
    // The raw form.
    assert_eq!(raw::lseek(&file, raw::SeekFrom::Hole(0))?, hole);
    assert_eq!(
        raw::lseek(&file, raw::SeekFrom::Data(mib)),
        Err(Errno::NXIO)
    );

    // fallocate: allocate, punch a hole, zero a range.
    match file.allocate(FallocateFlags::KEEP_SIZE, mib, mib) {
        Ok(()) => {
            assert_eq!(file.metadata()?.len(), mib);
            file.allocate(FallocateFlags::empty(), 0, 2 * mib)?;
            assert_eq!(file.metadata()?.len(), 2 * mib);
            file.allocate(
                FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
                mib / 2,
                4096,
            )?;
            let mut back = [9u8; 4096];
            file.read_exact_at(&mut back, mib / 2)?;
            assert_eq!(back, [0u8; 4096]);
            if holes {
                assert_eq!(file.seek_hole(0)?, mib / 2);
            }
        }
        Err(e) => {
            // ramfs has no fallocate: the errno comes through.
            assert!(!holes, "tmpfs refused fallocate: {e}");
            assert_eq!(
                (e.kind(), e.raw_os_error()),
                (ErrorKind::Unsupported, Some(95))
            );
            println!("fallocate: not supported by this file system (EOPNOTSUPP)");
        }
    }
    Ok(())
}

/// On ramfs every xattr call fails with EOPNOTSUPP, which must reach the
/// caller as `ErrorKind::Unsupported` with the errno kept.
fn xattrs_unsupported() -> Outcome {
    fs::write("/t/f", b"")?;
    fs::symlink("f", "/t/link")?;
    let unsupported = (ErrorKind::Unsupported, Some(95));
    assert_eq!(
        errno_of(fs::set_xattr("/t/f", "user.a", b"1", XattrFlags::empty())),
        unsupported
    );
    assert_eq!(
        errno_of(fs::lset_xattr(
            "/t/link",
            "trusted.a",
            b"1",
            XattrFlags::empty()
        )),
        unsupported
    );
    assert_eq!(errno_of(fs::get_xattr("/t/f", "user.a")), unsupported);
    let file = File::open("/t/f")?;
    assert_eq!(errno_of(file.get_xattr("user.a")), unsupported);
    Ok(())
}

/// Runs once the library has a file system with xattrs (disks).
#[allow(dead_code)]
fn xattrs() -> Outcome {
    fs::write("/t/f", b"")?;
    fs::create_dir("/t/d")?;
    fs::symlink("f", "/t/link")?;

    // Path form, following links.
    fs::set_xattr("/t/f", "user.color", b"blue", XattrFlags::empty())?;
    fs::set_xattr("/t/link", "user.shape", b"round", XattrFlags::CREATE)?;
    fs::set_xattr(
        "/t/f",
        "trusted.secret",
        b"\0binary\xff",
        XattrFlags::empty(),
    )?;
    fs::set_xattr("/t/d", "trusted.overlay.opaque", b"y", XattrFlags::empty())?;
    assert_eq!(fs::get_xattr("/t/f", "user.color")?, b"blue");
    assert_eq!(fs::get_xattr("/t/link", "user.shape")?, b"round");
    assert_eq!(fs::get_xattr("/t/f", "trusted.secret")?, b"\0binary\xff");
    assert_eq!(fs::get_xattr("/t/d", "trusted.overlay.opaque")?, b"y");
    let mut names = fs::list_xattr("/t/link")?;
    names.sort();
    assert_eq!(names, ["trusted.secret", "user.color", "user.shape"]);

    // Flags: CREATE on an existing one, REPLACE on a missing one.
    assert_eq!(
        errno_of(fs::set_xattr(
            "/t/f",
            "user.color",
            b"red",
            XattrFlags::CREATE
        ))
        .1,
        Some(17)
    );
    assert_eq!(
        errno_of(fs::set_xattr(
            "/t/f",
            "user.none",
            b"x",
            XattrFlags::REPLACE
        ))
        .1,
        Some(61) // ENODATA
    );
    fs::set_xattr("/t/f", "user.color", b"red", XattrFlags::REPLACE)?;
    assert_eq!(fs::get_xattr("/t/f", "user.color")?, b"red");
    assert_eq!(errno_of(fs::get_xattr("/t/f", "user.none")).1, Some(61));

    // Values of some size, and empty ones.
    let big = pattern(4000, 7);
    fs::set_xattr("/t/f", "user.big", &big, XattrFlags::empty())?;
    assert_eq!(fs::get_xattr("/t/f", "user.big")?, big);
    fs::set_xattr("/t/f", "user.empty", b"", XattrFlags::empty())?;
    assert_eq!(fs::get_xattr("/t/f", "user.empty")?, b"");

    // The link itself: trusted. names; user. ones are refused there.
    fs::lset_xattr("/t/link", "trusted.on-link", b"L", XattrFlags::empty())?;
    assert_eq!(fs::lget_xattr("/t/link", "trusted.on-link")?, b"L");
    assert_eq!(fs::llist_xattr("/t/link")?, ["trusted.on-link"]);
    assert_eq!(
        errno_of(fs::get_xattr("/t/link", "trusted.on-link")).1,
        Some(61)
    );
    assert_eq!(
        errno_of(fs::lset_xattr(
            "/t/link",
            "user.x",
            b"1",
            XattrFlags::empty()
        ))
        .1,
        Some(1) // EPERM
    );
    fs::lremove_xattr("/t/link", "trusted.on-link")?;
    assert!(fs::llist_xattr("/t/link")?.is_empty());

    // Open file form.
    let file = File::open("/t/f")?;
    file.set_xattr("user.via-fd", b"fd", XattrFlags::CREATE)?;
    assert_eq!(file.get_xattr("user.via-fd")?, b"fd");
    assert!(file.list_xattr()?.contains(&OsString::from("user.via-fd")));
    file.remove_xattr("user.via-fd")?;
    assert_eq!(errno_of(file.get_xattr("user.via-fd")).1, Some(61));
    assert_eq!(errno_of(file.remove_xattr("user.via-fd")).1, Some(61));

    // Removal by path.
    fs::remove_xattr("/t/link", "user.shape")?;
    let mut names = fs::list_xattr("/t/f")?;
    names.sort();
    assert_eq!(
        names,
        ["trusted.secret", "user.big", "user.color", "user.empty"]
    );

    // The raw form: size probe, short buffer.
    assert_eq!(raw::getxattr("/t/f", "user.color", &mut [])?, 3);
    let mut short = [0u8; 2];
    assert_eq!(
        raw::getxattr("/t/f", "user.color", &mut short),
        Err(Errno::RANGE)
    );
    let mut list = [0u8; 256];
    let n = raw::listxattr("/t/f", &mut list)?;
    assert_eq!(list[..n].iter().filter(|&&b| b == 0).count(), 4);
    Ok(())
}

fn statfs_sync_mknod() -> Outcome {
    let st = fs::statfs("/t")?;
    assert!(st.block_size() > 0 && st.fragment_size() > 0);
    assert!(st.blocks_free() <= st.blocks() || st.blocks() == 0);
    assert!(st.blocks_available() <= st.blocks_free());
    assert!(st.files_free() <= st.files() || st.files() == 0);
    assert!(st.name_max() >= 255);
    assert!(!st.flags().contains(StatFsFlags::RDONLY));
    let _ = (st.fsid(), st.as_statfs().f_type);
    let file = File::create("/t/f")?;
    assert_eq!(file.statfs()?.fs_type(), st.fs_type());
    assert_ne!(fs::statfs("/")?.fs_type(), 0);
    assert_eq!(errno_of(fs::statfs("/t/none")).1, Some(2));

    // A read-only mount says so, and refuses writes with EROFS.
    fs::create_dir("/ro")?;
    raw::mount(
        "tmpfs",
        "/ro",
        "tmpfs",
        MountFlags::RDONLY | MountFlags::NOSUID,
        None,
    )?;
    let ro = fs::statfs("/ro")?.flags();
    assert!(
        ro.contains(StatFsFlags::RDONLY | StatFsFlags::NOSUID),
        "{ro:?}"
    );
    assert_eq!(errno_of(fs::write("/ro/f", b"")).1, Some(30));
    raw::umount("/ro", UnmountFlags::empty())?;

    fs::write("/t/g", b"to disk")?;
    fs::sync()?;

    // Device nodes, FIFOs, sockets, plain files.
    fs::mknod(
        "/t/tty",
        FileType::CharDevice,
        Mode::from_bits_truncate(0o620),
        makedev(4, 64),
    )?;
    fs::mknod(
        "/t/disk",
        FileType::BlockDevice,
        Mode::RUSR,
        makedev(259, 70_000),
    )?;
    fs::mknod("/t/fifo", FileType::Fifo, Mode::RUSR | Mode::WUSR, 0)?;
    fs::mknod("/t/sock", FileType::Socket, Mode::RWXU, 0)?;
    fs::mknod("/t/plain", FileType::File, Mode::RUSR, 0)?;
    let tty = fs::metadata("/t/tty")?;
    assert!(tty.file_type().is_char_device());
    assert_eq!((major(tty.rdev()), minor(tty.rdev())), (4, 64));
    assert_eq!(tty.permissions().mode(), 0o620 & !0o022);
    let disk = fs::metadata("/t/disk")?;
    assert!(disk.file_type().is_block_device());
    assert_eq!((major(disk.rdev()), minor(disk.rdev())), (259, 70_000));
    assert!(fs::metadata("/t/fifo")?.file_type().is_fifo());
    assert!(fs::metadata("/t/sock")?.file_type().is_socket());
    assert!(fs::metadata("/t/plain")?.is_file());
    assert_eq!(
        errno_of(fs::mknod("/t/fifo", FileType::Fifo, Mode::RUSR, 0)).1,
        Some(17)
    );
    assert_eq!(
        errno_of(fs::mknod("/t/l", FileType::Symlink, Mode::RUSR, 0)).1,
        Some(22)
    );
    Ok(())
}

/// A scenario: its name and what it runs after boot.
type Scenario = (&'static str, fn() -> Outcome);

const SCENARIOS: &[Scenario] = &[
    ("errors", errors),
    ("files", files),
    ("copy_host", copy_host),
    ("no_allocation", no_allocation),
    ("read_dir", read_dir),
    ("dirs", dirs),
    ("links_rename", links_rename),
    ("attributes", attributes),
    ("sparse", sparse),
    // `xattrs` needs a file system with extended attributes; the library
    // kernel has none before disks (no MMU, so no tmpfs; ramfs has none).
    // Until then the calls are checked to report that as Unsupported.
    ("xattrs_unsupported", xattrs_unsupported),
    ("statfs_sync_mknod", statfs_sync_mknod),
];

/// In the child: boots, mounts the tmpfs, runs the scenario, halts.
fn child(name: &str) -> Outcome {
    let (_, scenario) = SCENARIOS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| format!("no scenario {name}"))?;
    let kernel = Kernel::builder().memory_mib(96).boot()?;
    fs::create_dir("/t")?;
    raw::mount("tmpfs", "/t", "tmpfs", MountFlags::empty(), None)?;
    scenario()?;
    kernel.halt()?;
    Ok(())
}

fn main() {
    if let Ok(name) = std::env::var(SCENARIO_VAR) {
        if let Err(e) = child(&name) {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
        return;
    }
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let exe = std::env::current_exe().expect("own path");
    let (mut passed, mut failed) = (0, Vec::new());
    for (name, _) in SCENARIOS {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let child = Command::new(&exe)
            .env(SCENARIO_VAR, name)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn a scenario");
        let support::Run {
            status,
            out: said,
            elapsed,
        } = support::wait(child, LIMIT);
        match status {
            Some(s) if s.success() => {
                passed += 1;
                println!("ok {name} # {} ms", elapsed.as_millis());
                for line in said.lines() {
                    println!("  {line}");
                }
            }
            other => {
                let why = match other {
                    Some(s) => format!("{s}"),
                    None => format!("no end after {LIMIT:?}"),
                };
                println!("not ok {name}: {why}");
                for line in said.lines() {
                    println!("  {line}");
                }
                failed.push(*name);
            }
        }
    }
    println!("fs: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        println!("failed: {}", failed.join(" "));
        std::process::exit(1);
    }
}
