// SPDX-License-Identifier: GPL-2.0
//! ext4, btrfs, xfs and vfat, checked against the host both ways.
//!
//! Library to host: the library's kernel writes a tree of files with known
//! content and metadata ([`support::tree`]) on an image made by the file
//! system's mkfs; then the file system's checker must find the image
//! clean, a read-only session of the library must see the tree and change
//! no byte of the image (writes fail with `EROFS`), and the host must see
//! exactly the same tree: through a loop mount where the host's kernel
//! mounts the file system, else through the file system's own tools
//! (mtools for vfat). Which way was taken is probed at run time and
//! printed.
//!
//! Host to library: the host's kernel writes the tree through a loop mount
//! (or mtools, for a host that cannot mount vfat), and the library reads
//! it back exactly, read-only.
//!
//! Each session of the library runs in a child process (one kernel per
//! process): this binary again, `LKL_TEST_SCENARIO` naming the scenario.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::tree::{self, Caps, Host};
use support::{Outcome, TempDir};

/// Names the file system a child works on.
const FS_VAR: &str = "LKL_TEST_FS";

/// A file system and the host's tools for it.
struct Fs {
    name: &'static str,
    mkfs: &'static [&'static str],
    size_mib: u64,
    fsck: &'static [&'static str],
    caps: Caps,
}

const FILESYSTEMS: &[Fs] = &[
    Fs {
        name: "ext4",
        // 256-byte inodes keep nanoseconds (a small file system would get
        // 128-byte ones).
        mkfs: &["mkfs.ext4", "-q", "-F", "-I", "256"],
        size_mib: 64,
        fsck: &["e2fsck", "-fn"],
        caps: Caps::POSIX,
    },
    Fs {
        name: "btrfs",
        mkfs: &["mkfs.btrfs", "-q", "-f"],
        size_mib: 128,
        fsck: &["btrfs", "check", "--readonly"],
        caps: Caps::POSIX,
    },
    Fs {
        name: "xfs",
        mkfs: &["mkfs.xfs", "-q", "-f"],
        size_mib: 320,
        fsck: &["xfs_repair", "-n"],
        caps: Caps::POSIX,
    },
    Fs {
        name: "vfat",
        mkfs: &["mkfs.vfat"],
        size_mib: 64,
        fsck: &["fsck.vfat", "-n"],
        caps: Caps::FAT,
    },
];

fn fs_named(name: &str) -> &'static Fs {
    FILESYSTEMS
        .iter()
        .find(|f| f.name == name)
        .expect("a known file system")
}

// ---------------------------------------------------------------------------
// Children.

fn child_fs() -> &'static Fs {
    fs_named(&std::env::var(FS_VAR).expect("LKL_TEST_FS names the file system"))
}

fn image_path(dir: &Path, fs: &Fs) -> PathBuf {
    dir.join(format!("{}.img", fs.name))
}

/// Writes the tree through the library's kernel.
fn lib_write() -> Outcome {
    let fs = child_fs();
    tree::write_session(&image_path(&support::dir(), fs), fs.name, fs.caps)
}

/// Reads the tree back read-only; every write must fail with `EROFS`.
fn lib_read_only() -> Outcome {
    let fs = child_fs();
    tree::read_only_session(&image_path(&support::dir(), fs), fs.name, fs.caps)
}

const SCENARIOS: &[support::Scenario] =
    &[("lib_write", lib_write), ("lib_read_only", lib_read_only)];

// ---------------------------------------------------------------------------
// The parent.

fn in_child(scenario: &str, test: &str, dir: &Path, fs: &Fs) -> Result<(), String> {
    let run = support::run(
        scenario,
        test,
        dir,
        &[(FS_VAR, fs.name.to_owned())],
        Duration::from_secs(120),
    );
    println!(
        "[{test}] {scenario}: {:?} in {:.1?}\n{}",
        run.status,
        run.elapsed,
        support::interesting(&run.out)
    );
    if run.ok() {
        Ok(())
    } else {
        Err(format!("{scenario} failed (its output is above)"))
    }
}

fn fsck(fs: &Fs, image: &Path, test: &str) {
    match support::host(fs.fsck, &[image]) {
        Ok(_) => println!("[{test}] `{}` finds the image clean", fs.fsck.join(" ")),
        Err(e) => panic!("[{test}] the image is not clean: {e}"),
    }
}

/// The read-only session: the tree read back, writes refused, and the
/// image unchanged: same SHA-256, same mtime.
fn read_only_session(fs: &Fs, image: &Path, dir: &Path, test: &str) {
    let before = support::image_state(image).expect("image state");
    in_child("lib_read_only", test, dir, fs).unwrap();
    let after = support::image_state(image).expect("image state");
    assert_eq!(
        before, after,
        "[{test}] a read-only session changed the image"
    );
    println!(
        "[{test}] image unchanged by the read-only session (sha256 {}, mtime {:?})",
        &after.sha256[..16],
        after.mtime
    );
}

/// Compares the tree the host sees with the expected one: through a loop
/// mount if the host's kernel mounts the file system, else with the file
/// system's own tools.
fn host_check(fs: &Fs, image: &Path, dir: &Path, test: &str) {
    let want = tree::expected(&tree::spec(fs.caps), fs.caps);
    let mnt = dir.join("mnt");
    let (got, how) = match support::host_can_mount(image, fs.name, &mnt) {
        Ok(()) => {
            let options = format!("ro,{}", support::no_recovery(fs.name));
            let m = support::HostMount::new(image, fs.name, &options, &mnt).unwrap();
            let got = tree::manifest(
                &Host {
                    root: m.path().to_owned(),
                },
                fs.caps,
            );
            m.unmount().unwrap();
            (got, "a host loop mount".to_owned())
        }
        Err(why) if fs.name == "vfat" => {
            println!("[{test}] {why}: checking with mtools instead");
            let out = dir.join("mtools-out");
            std::fs::create_dir_all(&out).unwrap();
            let target = format!("::/{}", tree::TOP);
            support::host_env(
                &["mcopy", "-s", "-m", "-n", "-i"],
                &[image, Path::new(&target), &out],
                &[("TZ", "UTC"), ("MTOOLS_SKIP_CHECK", "1")],
            )
            .unwrap();
            let got = tree::manifest(&Host { root: out }, Caps::FAT);
            (got, "mtools (mcopy -s -m)".to_owned())
        }
        Err(why) => {
            println!("[{test}] NOT CROSS-CHECKED on the host: {why}, and no user-space reader is wired up for {}", fs.name);
            return;
        }
    };
    let got = got.unwrap_or_else(|e| panic!("[{test}] reading the tree through {how}: {e}"));
    let diff = tree::diff(&want, &got, 20);
    assert!(
        diff.is_empty(),
        "[{test}] the host ({how}) sees a different tree:\n{diff}"
    );
    println!(
        "[{test}] checked through {how}: {} entries, contents and metadata as written",
        got.len()
    );
}

fn library_to_host(fs: &Fs, test: &str) {
    let dir = TempDir::new(test);
    let image = image_path(dir.path(), fs);
    support::make_image(&image, fs.size_mib, fs.mkfs).unwrap();
    in_child("lib_write", test, dir.path(), fs).unwrap();
    fsck(fs, &image, test);
    read_only_session(fs, &image, dir.path(), test);
    host_check(fs, &image, dir.path(), test);
}

/// Writes the tree with the host's kernel (a loop mount), or with mtools
/// into a vfat the host cannot mount.
fn host_write(fs: &Fs, image: &Path, dir: &Path, test: &str) -> Result<String, String> {
    let entries = tree::spec(fs.caps);
    let mnt = dir.join("mnt");
    match support::host_can_mount(image, fs.name, &mnt) {
        Ok(()) => {
            let m = support::HostMount::new(image, fs.name, "", &mnt)?;
            tree::build(
                &Host {
                    root: m.path().to_owned(),
                },
                &entries,
                fs.caps,
            )
            .map_err(|e| format!("writing through the host loop mount: {e}"))?;
            m.unmount()?;
            Ok("a host loop mount".into())
        }
        Err(why) if fs.name == "vfat" => {
            println!("[{test}] {why}: writing with mtools instead");
            let staging = dir.join("staging");
            std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
            tree::build(
                &Host {
                    root: staging.clone(),
                },
                &entries,
                fs.caps,
            )
            .map_err(|e| format!("staging the tree: {e}"))?;
            support::host_env(
                &["mcopy", "-s", "-m", "-i"],
                &[image, &staging.join(tree::TOP), Path::new("::/")],
                &[("TZ", "UTC"), ("MTOOLS_SKIP_CHECK", "1")],
            )?;
            Ok("mtools (mcopy -s -m)".into())
        }
        Err(why) => Err(why),
    }
}

fn host_to_library(fs: &Fs, test: &str) {
    let dir = TempDir::new(test);
    let image = image_path(dir.path(), fs);
    support::make_image(&image, fs.size_mib, fs.mkfs).unwrap();
    match host_write(fs, &image, dir.path(), test) {
        Ok(how) => println!("[{test}] tree written through {how}"),
        Err(why) => {
            println!("[{test}] NOT RUN: the host cannot write {}: {why}", fs.name);
            return;
        }
    }
    fsck(fs, &image, test);
    // The library reads it back exactly, and changes nothing.
    read_only_session(fs, &image, dir.path(), test);
}

#[test]
fn ext4_library_to_host() {
    support::child_entry(SCENARIOS);
    library_to_host(fs_named("ext4"), "ext4_library_to_host");
}

#[test]
fn btrfs_library_to_host() {
    support::child_entry(SCENARIOS);
    library_to_host(fs_named("btrfs"), "btrfs_library_to_host");
}

#[test]
fn xfs_library_to_host() {
    support::child_entry(SCENARIOS);
    library_to_host(fs_named("xfs"), "xfs_library_to_host");
}

#[test]
fn vfat_library_to_host() {
    support::child_entry(SCENARIOS);
    library_to_host(fs_named("vfat"), "vfat_library_to_host");
}

#[test]
fn ext4_host_to_library() {
    support::child_entry(SCENARIOS);
    host_to_library(fs_named("ext4"), "ext4_host_to_library");
}

#[test]
fn btrfs_host_to_library() {
    support::child_entry(SCENARIOS);
    host_to_library(fs_named("btrfs"), "btrfs_host_to_library");
}

#[test]
fn xfs_host_to_library() {
    support::child_entry(SCENARIOS);
    host_to_library(fs_named("xfs"), "xfs_host_to_library");
}

#[test]
fn vfat_host_to_library() {
    support::child_entry(SCENARIOS);
    host_to_library(fs_named("vfat"), "vfat_host_to_library");
}
