// SPDX-License-Identifier: GPL-2.0
//! The other six file systems: exfat, f2fs and ntfs3 written through the
//! library and checked by their own tools; trees made by the file
//! systems' own tools (mksquashfs, mkfs.erofs, xorriso for iso9660,
//! sload.f2fs for f2fs) read back exactly through the library, as far as
//! each file system keeps content and metadata ([`Caps`]). exfat and
//! ntfs trees are made through the file systems' own user-space drivers
//! (exfat-fuse, ntfs-3g, both FUSE) and read back the same way; the
//! library then writes a copy next to the tool's tree, which the checkers
//! pass, and exfat-fuse reads the library's copy back exactly.
//!
//! Each session of the library runs in a child process (one kernel per
//! process).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::tree::{self, Caps, Host};
use support::{FuseMount, LoopDevice, Outcome, TempDir};

const FS_VAR: &str = "LKL_TEST_FS";
const CAPS_VAR: &str = "LKL_TEST_CAPS";
/// If set, the capabilities of a second tree, the library's, in
/// [`BY_LIBRARY`] next to the first: the write session writes that one,
/// the read-only session reads both.
const AGAIN_VAR: &str = "LKL_TEST_AGAIN";
/// The directory of the library's tree beside a tool's.
const BY_LIBRARY: &str = "by-library";

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
/// exfat written through exfat-fuse 1.3: as the library's, but mtime to
/// the second (it keeps no fraction of a second).
const EXFAT_FUSE: Caps = Caps {
    mtime_step_ns: 1_000_000_000,
    ..EXFAT
};
/// ntfs written through ntfs-3g 2022.10 (no mapping options): as the
/// library's ntfs3, but without symbolic links, which ntfs-3g makes as
/// Interix files (or, with `special_files=wsl`, as WSL reparse points),
/// both of which ntfs3 does not take for links; and without extended
/// attributes, which ntfs-3g keeps as named data streams where ntfs3
/// keeps them as EAs.
const NTFS_3G: Caps = Caps {
    symlinks: false,
    xattrs: false,
    ..NTFS3
};

fn caps_named(name: &str) -> Caps {
    match name {
        "squashfs" => SQUASHFS,
        "erofs" => EROFS,
        "iso9660" => ISO9660,
        "exfat" => EXFAT,
        "ntfs3" => NTFS3,
        "f2fs" => F2FS,
        "f2fs-sload" => F2FS_SLOAD,
        "exfat-fuse" => EXFAT_FUSE,
        "ntfs-3g" => NTFS_3G,
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

fn again() -> Option<Caps> {
    std::env::var(AGAIN_VAR).ok().map(|c| caps_named(&c))
}

fn lib_write() -> Outcome {
    let (image, fstype, caps) = child_args();
    match again() {
        Some(again) => tree::write_session_under(&image, &fstype, again, BY_LIBRARY),
        None => tree::write_session(&image, &fstype, caps),
    }
}

fn lib_read_only() -> Outcome {
    let (image, fstype, caps) = child_args();
    let mut trees = vec![("", caps)];
    trees.extend(again().map(|again| (BY_LIBRARY, again)));
    tree::read_only_session_of(&image, &fstype, &trees)
}

const SCENARIOS: &[support::Scenario] =
    &[("lib_write", lib_write), ("lib_read_only", lib_read_only)];

fn in_child(scenario: &str, test: &str, dir: &Path, fstype: &str, caps: &str) {
    in_child_again(scenario, test, dir, fstype, caps, None);
}

/// [`in_child`], with the library's tree beside the first if `again`
/// names its capabilities.
fn in_child_again(
    scenario: &str,
    test: &str,
    dir: &Path,
    fstype: &str,
    caps: &str,
    again: Option<&str>,
) {
    let mut env = vec![(FS_VAR, fstype.to_owned()), (CAPS_VAR, caps.to_owned())];
    env.extend(again.map(|a| (AGAIN_VAR, a.to_owned())));
    let run = support::run(scenario, test, dir, &env, Duration::from_secs(120));
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
    read_back_again(test, dir, fstype, caps, None);
}

/// [`read_back`], with the library's tree beside the first if `again`
/// names its capabilities.
fn read_back_again(test: &str, dir: &Path, fstype: &str, caps: &str, again: Option<&str>) {
    let image = dir.join("fs.img");
    let before = support::image_state(&image).unwrap();
    in_child_again("lib_read_only", test, dir, fstype, caps, again);
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

/// A file system's own FUSE driver, as the tests run it.
struct FuseDriver {
    /// The daemon in the foreground, and its options; the source and the
    /// mount point follow.
    cmd: &'static [&'static str],
    /// The option that mounts read-only.
    read_only: &'static str,
    /// It takes a block device only (as root): a loop device it gets.
    block_device: bool,
}

const EXFAT_FUSE_DRIVER: FuseDriver = FuseDriver {
    // `-d`: in the foreground (with debug output, to its log).
    cmd: &["mount.exfat-fuse", "-d"],
    read_only: "ro",
    // As root it mounts with `blkdev`, which a regular file fails.
    block_device: true,
};

const NTFS_3G_DRIVER: FuseDriver = FuseDriver {
    cmd: &["ntfs-3g", "-o", "no_detach"],
    read_only: "ro",
    block_device: false,
};

/// `image` mounted through `driver` at `dir`/mnt, with the loop device
/// under it if there is one; read-only if asked. The error says why not.
fn fuse_mount(
    driver: &FuseDriver,
    image: &Path,
    dir: &Path,
    read_only: bool,
) -> Result<(FuseMount, Option<LoopDevice>), String> {
    let device = match driver.block_device {
        true => Some(LoopDevice::new(image)?),
        false => None,
    };
    let mut cmd = driver.cmd.to_vec();
    if read_only {
        cmd.extend(["-o", driver.read_only]);
    }
    // exfat keeps local times with their offset: a fixed zone, so the
    // times are the same whatever the host's.
    let mount = FuseMount::new(
        &cmd,
        device.as_ref().map_or(image, |d| d.path()),
        &dir.join("mnt"),
        &[("TZ", "UTC")],
        &dir.join(format!("{}.log", driver.cmd[0])),
    )?;
    Ok((mount, device))
}

/// Unmounts, waits for the daemon to end, detaches the loop device.
fn fuse_unmount(mount: FuseMount, device: Option<LoopDevice>) -> Result<(), String> {
    mount.unmount()?;
    device.map_or(Ok(()), LoopDevice::detach)
}

/// The tree made on a fresh image (`mkfs`) through `driver`, with what
/// `tool_caps` keeps; the library reads it back exactly, read-only, the
/// image unchanged; the library writes its own copy beside it (with
/// `lib_caps`), `fsck` passes the image, the library reads both trees
/// back; and the driver, mounting read-only, reads the library's copy
/// back exactly too, without changing the image.
fn made_through_fuse(
    test: &str,
    fstype: &str,
    mkfs: &[&str],
    driver: &FuseDriver,
    tool_caps: &str,
    lib_caps: &str,
    fsck: &[&str],
) {
    let dir = TempDir::new(test);
    let image = dir.path().join("fs.img");
    support::make_image(&image, 64, mkfs).unwrap();
    let (mount, device) = match fuse_mount(driver, &image, dir.path(), false) {
        Ok(m) => m,
        Err(why) => {
            println!("[{test}] NOT RUN: no FUSE mount of {fstype}: {why}");
            return;
        }
    };
    let caps = caps_named(tool_caps);
    tree::build(
        &Host {
            root: mount.path().to_owned(),
        },
        &tree::spec(caps),
        caps,
    )
    .unwrap_or_else(|e| panic!("[{test}] writing the tree through {}: {e}", driver.cmd[0]));
    fuse_unmount(mount, device).unwrap();
    println!(
        "[{test}] made through `{}` (FUSE), unmounted, the daemon ended",
        driver.cmd[0]
    );
    read_back(test, dir.path(), fstype, tool_caps);

    in_child_again(
        "lib_write",
        test,
        dir.path(),
        fstype,
        tool_caps,
        Some(lib_caps),
    );
    match support::host(fsck, &[&image]) {
        Ok(_) => println!(
            "[{test}] `{}` finds the image clean with both trees",
            fsck.join(" ")
        ),
        Err(e) => panic!("[{test}] not clean: {e}"),
    }
    read_back_again(test, dir.path(), fstype, tool_caps, Some(lib_caps));

    let before = support::image_state(&image).unwrap();
    let (mount, device) = fuse_mount(driver, &image, dir.path(), true).unwrap();
    // What the driver keeps of a tree is what it can read back: the
    // entries of its own tree. Those the library wrote that the driver's
    // tree has not (ntfs3's symbolic links) are named, not compared.
    let entries = tree::spec(caps);
    let want = tree::expected(&entries, caps);
    let got = tree::manifest(
        &Host {
            root: mount.path().join(BY_LIBRARY),
        },
        caps,
    );
    fuse_unmount(mount, device).unwrap();
    let (got, others): (Vec<String>, Vec<String>) = got.unwrap().into_iter().partition(|l| {
        let path = l.split(' ').next().unwrap_or_default();
        entries.iter().any(|e| e.path == path)
    });
    let diff = tree::diff(&want, &got, 20);
    assert!(
        diff.is_empty(),
        "[{test}] {} reads the library's tree differently:\n{diff}",
        driver.cmd[0]
    );
    assert_eq!(
        before,
        support::image_state(&image).unwrap(),
        "[{test}] a read-only FUSE mount changed the image"
    );
    println!(
        "[{test}] `{}` reads {} entries of the library's tree back exactly, read-only, the image unchanged",
        driver.cmd[0],
        got.len()
    );
    for l in others {
        println!(
            "[{test}] not compared, as `{}` reads it: {l}",
            driver.cmd[0]
        );
    }
}

#[test]
fn exfat_from_exfat_fuse() {
    support::child_entry(SCENARIOS);
    made_through_fuse(
        "exfat_from_exfat_fuse",
        "exfat",
        &["mkfs.exfat"],
        &EXFAT_FUSE_DRIVER,
        "exfat-fuse",
        "exfat",
        &["fsck.exfat", "-n"],
    );
}

#[test]
fn ntfs3_from_ntfs_3g() {
    support::child_entry(SCENARIOS);
    made_through_fuse(
        "ntfs3_from_ntfs_3g",
        "ntfs3",
        &["mkntfs", "-q", "-F", "-f"],
        &NTFS_3G_DRIVER,
        "ntfs-3g",
        "ntfs3",
        &["ntfsfix", "-n"],
    );
}
