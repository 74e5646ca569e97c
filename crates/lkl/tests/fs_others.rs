// SPDX-License-Identifier: GPL-2.0
//! The other six file systems: exfat, f2fs and ntfs3 written through the
//! library and checked by their own tools; trees made by the file
//! systems' own tools (mksquashfs, mkfs.erofs, xorriso for iso9660,
//! sload.f2fs for f2fs) read back exactly through the library, as far as
//! each file system keeps content and metadata ([`Caps`]). exfat's and
//! ntfs's tools here make no trees: those two are written by the library
//! and read back by it and by the tools that read (fsck, ntfscat).
//!
//! Each session of the library runs in a child process (one kernel per
//! process).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::tree::{self, Caps, Host};
use support::{Outcome, TempDir};

const FS_VAR: &str = "LKL_TEST_FS";
const CAPS_VAR: &str = "LKL_TEST_CAPS";

/// Squashfs: seconds, no atime, no holes.
const SQUASHFS: Caps = Caps {
    mtime_step_ns: 1_000_000_000,
    atime: false,
    holes: false,
    ..Caps::POSIX
};
/// erofs: as squashfs, but with mtime to the nanosecond (extended
/// inodes, which mkfs.erofs writes for --preserve-mtime); mkfs.erofs 1.5
/// fails ("No such file or directory") on a 255-byte name: 100 bytes here.
const EROFS: Caps = Caps {
    long_names: false,
    mtime_step_ns: 1,
    ..SQUASHFS
};
/// iso9660 with Rock Ridge: no hard links kept as such, no xattrs.
/// Names and link targets longer than 100 bytes come back cut short.
const ISO9660: Caps = Caps {
    hard_links: false,
    xattrs: false,
    long_names: false,
    ..SQUASHFS
};
/// exfat: names, contents, mtime to 10 ms.
const EXFAT: Caps = Caps {
    mtime_step_ns: 10_000_000,
    dir_times: true,
    ..Caps::FAT
};
/// ntfs3 without mapping options: no owners or modes; times to 100 ns;
/// small files live in their MFT record and show no blocks, like holes.
const NTFS3: Caps = Caps {
    owners_modes: false,
    special: false,
    holes: false,
    mtime_step_ns: 100,
    ..Caps::POSIX
};
/// f2fs written by the library: all of it.
const F2FS: Caps = Caps::POSIX;

fn caps_named(name: &str) -> Caps {
    match name {
        "squashfs" => SQUASHFS,
        "erofs" => EROFS,
        "iso9660" => ISO9660,
        "exfat" => EXFAT,
        "ntfs3" => NTFS3,
        "f2fs" => F2FS,
        "f2fs-sload" => F2FS_SLOAD,
        _ => panic!("no capabilities for {name}"),
    }
}

/// f2fs filled by sload.f2fs: what it copies of a tree (no extended
/// attributes, device nodes or FIFOs).
const F2FS_SLOAD: Caps = Caps {
    xattrs: false,
    special: false,
    mtime_step_ns: 1_000_000_000,
    atime: false,
    holes: false,
    ..Caps::POSIX
};

fn child_args() -> (PathBuf, String, Caps) {
    let fstype = std::env::var(FS_VAR).expect("LKL_TEST_FS");
    let caps = caps_named(&std::env::var(CAPS_VAR).expect("LKL_TEST_CAPS"));
    (support::dir().join("fs.img"), fstype, caps)
}

fn lib_write() -> Outcome {
    let (image, fstype, caps) = child_args();
    tree::write_session(&image, &fstype, caps)
}

fn lib_read_only() -> Outcome {
    let (image, fstype, caps) = child_args();
    tree::read_only_session(&image, &fstype, caps)
}

const SCENARIOS: &[support::Scenario] =
    &[("lib_write", lib_write), ("lib_read_only", lib_read_only)];

fn in_child(scenario: &str, test: &str, dir: &Path, fstype: &str, caps: &str) {
    let run = support::run(
        scenario,
        test,
        dir,
        &[(FS_VAR, fstype.to_owned()), (CAPS_VAR, caps.to_owned())],
        Duration::from_secs(120),
    );
    println!(
        "[{test}] {scenario}: {:?} in {:.1?}\n{}",
        run.status,
        run.elapsed,
        support::interesting(&run.out)
    );
    assert!(run.ok(), "[{test}] {scenario} failed (its output is above)");
}

/// The read-only session, and the image unchanged by it.
fn read_back(test: &str, dir: &Path, fstype: &str, caps: &str) {
    let image = dir.join("fs.img");
    let before = support::image_state(&image).unwrap();
    in_child("lib_read_only", test, dir, fstype, caps);
    assert_eq!(
        before,
        support::image_state(&image).unwrap(),
        "[{test}] a read-only session changed the image"
    );
    println!("[{test}] read back exactly, image unchanged (sha256 and mtime)");
}

/// A host directory holding the tree as `caps` keeps it.
fn staging(dir: &Path, caps: Caps) -> PathBuf {
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    tree::build(
        &Host {
            root: staging.clone(),
        },
        &tree::spec(caps),
        caps,
    )
    .unwrap();
    staging
}

/// A read-only file system made from the tree by `tool` (run with the
/// staging directory and the image), read back through the library.
fn made_by_tool(
    test: &str,
    fstype: &str,
    caps: &str,
    tool: &[&str],
    image_first: bool,
    after: &[&str],
) {
    let dir = TempDir::new(test);
    let staging = staging(dir.path(), caps_named(caps));
    let image = dir.path().join("fs.img");
    // mkfs.erofs 1.5 does not create its output.
    std::fs::File::create(&image).unwrap();
    let args: [&Path; 2] = if image_first {
        [&image, &staging]
    } else {
        [&staging, &image]
    };
    let mut args: Vec<&Path> = args.to_vec();
    args.extend(after.iter().map(Path::new));
    support::host(tool, &args).unwrap();
    println!("[{test}] made by `{}`", tool.join(" "));
    read_back(test, dir.path(), fstype, caps);
}

#[test]
fn squashfs_from_mksquashfs() {
    support::child_entry(SCENARIOS);
    made_by_tool(
        "squashfs_from_mksquashfs",
        "squashfs",
        "squashfs",
        &["mksquashfs"],
        false,
        &["-noappend", "-quiet"],
    );
}

#[test]
fn erofs_from_mkfs() {
    support::child_entry(SCENARIOS);
    made_by_tool(
        "erofs_from_mkfs",
        "erofs",
        "erofs",
        &["mkfs.erofs", "--quiet", "--preserve-mtime"],
        true,
        &[],
    );
}

#[test]
fn iso9660_from_xorriso() {
    support::child_entry(SCENARIOS);
    let test = "iso9660_from_xorriso";
    let dir = TempDir::new(test);
    let staging = staging(dir.path(), ISO9660);
    let image = dir.path().join("fs.img");
    support::host(
        &[
            "xorriso",
            "-as",
            "mkisofs",
            "-quiet",
            "-R",
            "-J",
            "-joliet-long",
            "-o",
        ],
        &[&image, &staging],
    )
    .unwrap();
    println!("[{test}] made by `xorriso -as mkisofs -R -J`");
    read_back(test, dir.path(), "iso9660", "iso9660");
}

/// Written by the library, checked clean by `fsck`, read back read-only.
fn written_by_library(
    test: &str,
    fstype: &str,
    caps: &str,
    mkfs: &[&str],
    mib: u64,
    fsck: &[&str],
) -> TempDir {
    let dir = TempDir::new(test);
    let image = dir.path().join("fs.img");
    support::make_image(&image, mib, mkfs).unwrap();
    in_child("lib_write", test, dir.path(), fstype, caps);
    match support::host(fsck, &[&image]) {
        Ok(_) => println!("[{test}] `{}` finds the image clean", fsck.join(" ")),
        Err(e) => panic!("[{test}] not clean: {e}"),
    }
    read_back(test, dir.path(), fstype, caps);
    dir
}

#[test]
fn exfat_written_by_library() {
    support::child_entry(SCENARIOS);
    written_by_library(
        "exfat_written_by_library",
        "exfat",
        "exfat",
        &["mkfs.exfat"],
        64,
        &["fsck.exfat", "-n"],
    );
}

#[test]
fn f2fs_written_by_library() {
    support::child_entry(SCENARIOS);
    written_by_library(
        "f2fs_written_by_library",
        "f2fs",
        "f2fs",
        &[
            "mkfs.f2fs",
            "-q",
            "-f",
            "-O",
            "extra_attr,inode_checksum,sb_checksum",
        ],
        128,
        &["fsck.f2fs"],
    );
}

#[test]
fn f2fs_from_sload() {
    support::child_entry(SCENARIOS);
    let test = "f2fs_from_sload";
    let dir = TempDir::new(test);
    let staging = staging(dir.path(), F2FS_SLOAD);
    let image = dir.path().join("fs.img");
    support::make_image(&image, 128, &["mkfs.f2fs", "-q", "-f"]).unwrap();
    support::host(&["sload.f2fs", "-P", "-f"], &[&staging, &image]).unwrap();
    println!("[{test}] filled by `sload.f2fs -P -f`");
    read_back(test, dir.path(), "f2fs", "f2fs-sload");
}

#[test]
fn ntfs3_written_by_library() {
    support::child_entry(SCENARIOS);
    let test = "ntfs3_written_by_library";
    let dir = written_by_library(
        test,
        "ntfs3",
        "ntfs3",
        &["mkntfs", "-q", "-F", "-f"],
        64,
        &["ntfsfix", "-n"],
    );
    // ntfs-3g's own reader sees the same contents.
    let image = dir.path().join("fs.img");
    for e in tree::spec(NTFS3) {
        if let tree::Kind::File { len, extents } = &e.kind {
            if e.path.contains("/many/") {
                continue;
            }
            let out = std::process::Command::new("ntfscat")
                .arg(&image)
                .arg(&e.path)
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stdout == tree::contents(*len, extents),
                "[{test}] ntfscat reads {} differently: {}",
                e.path,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    println!("[{test}] ntfscat reads every file as written");
}
