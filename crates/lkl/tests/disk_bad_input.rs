// SPDX-License-Identifier: GPL-2.0
//! Bad input: each gets a clear error that names the image and the
//! problem, the process keeps running (a good image mounts afterwards),
//! and no bad image is written (its SHA-256 and mtime are unchanged).
//!
//! Missing, unreadable and read-only-to-us images need a process without
//! root's power to bypass permissions: that scenario drops to `nobody`
//! first (when it runs as root). Zero-length, odd-sized images, character
//! devices and FIFOs are in `disk_hostile`'s `bad_inputs`.
//!
//! Each scenario runs in a child process (one kernel per process).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use lkl::disk::Disk;
use lkl::fs::{self, MountFlags};
use support::{pattern, Outcome, TempDir};

/// Checks that `err` names `image` and says `problem` (any of them), and
/// prints it.
fn names(err: &std::io::Error, image: &Path, problem: &[&str]) -> Result<(), String> {
    let text = err.to_string();
    println!("refused: {text}");
    if !text.contains(&image.display().to_string()) {
        return Err(format!(
            "the error does not name {}: {text}",
            image.display()
        ));
    }
    if !problem.iter().any(|p| text.contains(p)) {
        return Err(format!("the error does not say {problem:?}: {text}"));
    }
    Ok(())
}

/// A good ext4 image mounts, after every refusal: the process still runs.
fn still_works(good: &Path) -> Outcome {
    let disk = Disk::open(good)?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    fs::write(mount.path().join("after"), pattern(10_000, 1))?;
    if fs::read(mount.path().join("after"))? != pattern(10_000, 1) {
        return Err("the good image reads back wrong".into());
    }
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    println!("a good image still mounts and works");
    Ok(())
}

/// Images that open but hold no file system the kernel takes.
fn bad_images() -> Outcome {
    let d = support::dir();
    let noise = d.join("noise.img");
    let ext4 = d.join("ext4.img");
    let truncated = d.join("truncated.img");
    let erofs_lz4 = d.join("erofs-lz4.img");
    let kernel = support::boot()?;
    let mut problems = Vec::new();
    let mut check = |what: &str, result: Result<(), String>| {
        if let Err(e) = result {
            problems.push(format!("{what}: {e}"));
        }
    };

    // No file system: every type the kernel has is tried.
    let disk = Disk::open(&noise)?;
    let err = disk
        .mount(None, None, MountFlags::empty(), None)
        .expect_err("random bytes mount");
    check(
        "no file system",
        names(&err, &noise, &["no file system recognised it"]),
    );
    drop(disk);

    // The wrong type: ext4 mounted as xfs, then as vfat.
    let disk = Disk::open(&ext4)?;
    for wrong in ["xfs", "vfat"] {
        let err = disk
            .mount(None, Some(wrong), MountFlags::empty(), None)
            .expect_err("ext4 mounted as another type");
        check(
            &format!("ext4 as {wrong}"),
            names(&err, &ext4, &[&format!("mount as {wrong}")]),
        );
    }
    // A partition the image has not: it has no table at all.
    let err = disk
        .mount(Some(1), None, MountFlags::empty(), None)
        .expect_err("partition 1 of an image without a table");
    check("no partition", names(&err, &ext4, &["has no partition 1"]));
    drop(disk);

    // Truncated in the middle: the file system is bigger than the disk.
    let disk = Disk::open(&truncated)?;
    let err = disk
        .mount(None, Some("ext4"), MountFlags::empty(), None)
        .expect_err("a truncated image mounts");
    check("truncated", names(&err, &truncated, &["mount as ext4"]));
    // With the file system's own reason, from the kernel log.
    check("truncated", names(&err, &truncated, &["bad geometry"]));
    drop(disk);

    // A compressed erofs image: library_defconfig leaves erofs's
    // compression out (its vmap() is BUG() without an MMU), so the image is
    // refused instead of panicking the kernel.
    let disk = Disk::open_read_only(&erofs_lz4)?;
    let err = disk
        .mount(None, Some("erofs"), MountFlags::empty(), None)
        .expect_err("a compressed erofs image mounts");
    check(
        "compressed erofs",
        names(&err, &erofs_lz4, &["compression disabled"]),
    );
    drop(disk);

    still_works(&d.join("good.img"))?;
    kernel.halt()?;
    if !problems.is_empty() {
        return Err(problems.join("\n").into());
    }
    println!("BAD_IMAGES_DONE");
    Ok(())
}

/// Drops root's power to bypass permissions, if the process has it; says
/// which.
fn drop_to_nobody() -> Result<(), String> {
    // SAFETY: plain system calls without pointers.
    unsafe {
        if libc::geteuid() != 0 {
            println!("running as uid {} already", libc::geteuid());
            return Ok(());
        }
        if libc::setresgid(65534, 65534, 65534) != 0 || libc::setresuid(65534, 65534, 65534) != 0 {
            return Err(format!(
                "dropping to nobody: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    println!("dropped from root to uid 65534 (nobody)");
    Ok(())
}

/// Images that cannot be opened as asked: missing, a directory,
/// unreadable, or read-only to this process and opened read-write.
fn unopenable() -> Outcome {
    let d = support::dir();
    drop_to_nobody()?;
    let missing = d.join("missing.img");
    let unreadable = d.join("unreadable.img");
    let read_only = d.join("read-only.img");
    let mut problems = Vec::new();
    let mut check =
        |what: &str, result: std::io::Result<Disk>, image: &Path, problem: &[&str]| match result {
            Ok(_) => problems.push(format!("{what}: opened")),
            Err(e) => {
                if let Err(e) = names(&e, image, problem) {
                    problems.push(format!("{what}: {e}"));
                }
            }
        };
    let kernel = support::boot()?;
    check(
        "missing",
        Disk::open(&missing),
        &missing,
        &["No such file or directory"],
    );
    check(
        "missing, read-only",
        Disk::open_read_only(&missing),
        &missing,
        &["No such file or directory"],
    );
    check("a directory", Disk::open(&d), &d, &["is a directory"]);
    check(
        "unreadable",
        Disk::open_read_only(&unreadable),
        &unreadable,
        &["Permission denied"],
    );
    check(
        "read-only to us, opened read-write",
        Disk::open(&read_only),
        &read_only,
        &["Permission denied"],
    );
    // Read-only is what it may have: that works and mounts.
    let disk = Disk::open_read_only(&read_only)?;
    let mount = disk.mount(None, Some("ext4"), MountFlags::empty(), None)?;
    println!("{} opens read-only and mounts", read_only.display());
    mount.unmount()?;
    drop(disk);
    kernel.halt()?;
    if !problems.is_empty() {
        return Err(problems.join("\n").into());
    }
    println!("UNOPENABLE_DONE");
    Ok(())
}

const SCENARIOS: &[support::Scenario] = &[("bad_images", bad_images), ("unopenable", unopenable)];

fn states(images: &[PathBuf]) -> Vec<support::ImageState> {
    images
        .iter()
        .map(|i| support::image_state(i).unwrap())
        .collect()
}

fn run(scenario: &str, test: &str, dir: &TempDir) -> support::Run {
    support::run_shown(scenario, test, dir.path(), Duration::from_secs(60))
}

#[test]
fn bad_images_refused_untouched() {
    support::child_entry(SCENARIOS);
    let dir = TempDir::new("bad_images");
    let d = dir.path();
    std::fs::write(d.join("noise.img"), pattern(4 << 20, 5)).unwrap();
    support::make_image(&d.join("ext4.img"), 16, &["mkfs.ext4", "-q", "-F"]).unwrap();
    support::make_image(&d.join("good.img"), 16, &["mkfs.ext4", "-q", "-F"]).unwrap();
    let truncated = d.join("truncated.img");
    support::make_image(&truncated, 32, &["mkfs.ext4", "-q", "-F"]).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&truncated)
        .and_then(|f| f.set_len(16 << 20))
        .unwrap();
    let tree = d.join("erofs-tree");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("text"), "compressible ".repeat(20_000)).unwrap();
    let status = std::process::Command::new("mkfs.erofs")
        .args(["--quiet", "-zlz4"])
        .arg(d.join("erofs-lz4.img"))
        .arg(&tree)
        .status()
        .expect("mkfs.erofs runs");
    assert!(status.success(), "mkfs.erofs -zlz4: {status}");
    let bad: Vec<PathBuf> = ["noise.img", "ext4.img", "truncated.img", "erofs-lz4.img"]
        .iter()
        .map(|n| d.join(n))
        .collect();
    let before = states(&bad);
    let r = run("bad_images", "bad_images_refused_untouched", &dir);
    assert!(r.ok() && r.out.contains("BAD_IMAGES_DONE"));
    assert!(before == states(&bad), "a refused image was written");
    println!("every refused image unchanged (sha256 and mtime)");
}

#[test]
fn unopenable_images_refused_untouched() {
    use std::os::unix::fs::PermissionsExt;
    support::child_entry(SCENARIOS);
    let dir = TempDir::new("unopenable");
    let d = dir.path();
    // The child may run as nobody: it must reach the directory.
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let unreadable = d.join("unreadable.img");
    let read_only = d.join("read-only.img");
    for image in [&unreadable, &read_only] {
        support::make_image(image, 16, &["mkfs.ext4", "-q", "-F"]).unwrap();
    }
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).unwrap();
    let images = vec![unreadable, read_only];
    let before = states(&images);
    let r = run("unopenable", "unopenable_images_refused_untouched", &dir);
    assert!(r.ok() && r.out.contains("UNOPENABLE_DONE"));
    assert!(before == states(&images), "a refused image was written");
    println!("every refused image unchanged (sha256 and mtime)");
}
