// SPDX-License-Identifier: GPL-2.0
//! Disks: images made by each file system's own mkfs, mounted in the
//! library's kernel through `lkl::disk`, written and read there, then
//! checked by the file system's own checker on the host.
//!
//! A process holds one kernel, so each scenario runs in a child process
//! (this binary again, `LKL_TEST_SCENARIO` naming it); the parent prints
//! `ok`/`FAILED` per scenario and `disk: N passed, M failed`.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use lkl::disk::Disk;
use lkl::fs::{self, File, MountFlags};

use support::{pattern, Outcome};

const IMAGE_VAR: &str = "LKL_DISK_IMAGE";

fn image() -> PathBuf {
    PathBuf::from(std::env::var_os(IMAGE_VAR).expect("image path"))
}

/// LKL's disk test list, then a tree of files written and read back.
fn write_tree() -> Outcome {
    let disk = Disk::open(image())?;
    let kernel = support::boot()?;
    let mount = disk.mount(None, None, MountFlags::empty(), None)?;
    let root = mount.path().to_owned();
    println!("mounted {} as {}", image().display(), mount.fstype());
    fs::create_dir_all(root.join("a/b/c"))?;
    for i in 0..20u64 {
        let data = pattern(1000 + 37_000 * i as usize, i);
        let mut file = File::create(root.join(format!("a/b/file{i}")))?;
        file.write_all(&data)?;
        file.sync_all()?;
    }
    fs::write(root.join("a/b/c/small"), b"hello, disk\n")?;
    let names: Vec<String> = fs::read_dir(root.join("a/b"))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    assert_eq!(names.len(), 21, "entries of a/b: {names:?}");
    for i in 0..20u64 {
        let mut back = Vec::new();
        File::open(root.join(format!("a/b/file{i}")))?.read_to_end(&mut back)?;
        assert!(
            back == pattern(1000 + 37_000 * i as usize, i),
            "file{i} differs"
        );
    }
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    Ok(())
}

/// The tree written by `write_tree`, read back by a second kernel process.
fn read_tree() -> Outcome {
    let disk = Disk::open_read_only(image())?;
    let kernel = support::boot()?;
    let mount = disk.mount(None, None, MountFlags::empty(), None)?;
    let root = mount.path().to_owned();
    for i in 0..20u64 {
        let back = fs::read(root.join(format!("a/b/file{i}")))?;
        assert!(
            back == pattern(1000 + 37_000 * i as usize, i),
            "file{i} differs"
        );
    }
    assert_eq!(fs::read(root.join("a/b/c/small"))?, b"hello, disk\n");
    // Read-only: the kernel refuses writes.
    let err = fs::write(root.join("new"), b"x").expect_err("a write on a read-only disk");
    assert_eq!(err.raw_os_error(), Some(30), "EROFS, got {err}");
    mount.unmount()?;
    drop(disk);
    kernel.halt()?;
    Ok(())
}

/// A disk still mounted cannot be removed.
fn busy_remove() -> Outcome {
    let kernel = support::boot()?;
    // Added after boot: the kernel probes it at once.
    let disk = Disk::open(image())?;
    let mount = disk.mount(None, None, MountFlags::empty(), None)?;
    let (disk, err) = disk.remove().expect_err("removing a mounted disk");
    assert_eq!(lkl::disk::raw_os_error(&err), Some(16), "EBUSY, got {err}");
    mount.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    Ok(())
}

/// A partitioned image (MBR or GPT, made by sfdisk): vfat on partition 1,
/// ext4 on partition 2, each mounted by number, written and read back; a
/// partition the table does not have is refused, naming it.
fn partitions() -> Outcome {
    let disk = Disk::open(image())?;
    let kernel = support::boot()?;
    let first = disk.mount(Some(1), None, MountFlags::empty(), None)?;
    let second = disk.mount(Some(2), None, MountFlags::empty(), None)?;
    assert_eq!(first.fstype(), "vfat");
    assert_eq!(second.fstype(), "ext4");
    fs::write(first.path().join("one.txt"), b"partition 1\n")?;
    fs::write(second.path().join("two.txt"), pattern(300_000, 2))?;
    assert_eq!(fs::read(first.path().join("one.txt"))?, b"partition 1\n");
    assert!(fs::read(second.path().join("two.txt"))? == pattern(300_000, 2));
    let err = disk
        .mount(Some(3), None, MountFlags::empty(), None)
        .expect_err("partition 3 does not exist");
    assert!(err.to_string().contains("no partition 3"), "{err}");
    assert!(
        err.to_string().contains(&image().display().to_string()),
        "the error names the image: {err}"
    );
    first.unmount()?;
    second.unmount()?;
    disk.remove().map_err(|(_, e)| e)?;
    kernel.halt()?;
    Ok(())
}

/// A scenario: its name and what it runs.
type Scenario = (&'static str, fn() -> Outcome);

const SCENARIOS: &[Scenario] = &[
    ("write_tree", write_tree),
    ("read_tree", read_tree),
    ("busy_remove", busy_remove),
];

/// Run on partitioned images, not per file system.
const PARTITION_SCENARIOS: &[Scenario] = &[("partitions", partitions)];

/// Makes a 64 MiB image with a `label` (dos or gpt) table: partition 1
/// from 1 MiB, 22 MiB of vfat, partition 2 from 23 MiB to the end, with
/// 40 MiB of ext4, each made by its mkfs at its offset.
fn partitioned_image(path: &Path, label: &str) -> Result<(), String> {
    std::fs::File::create(path)
        .and_then(|f| f.set_len(64 << 20))
        .map_err(|e| e.to_string())?;
    let table = format!(
        "label: {label}\nstart=2048, size=45056, type={}\nstart=47104, type={}\n",
        if label == "gpt" {
            "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
        } else {
            "c"
        },
        if label == "gpt" {
            "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
        } else {
            "83"
        }
    );
    let mut sfdisk = Command::new("sfdisk")
        .arg("--quiet")
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("sfdisk: {e}"))?;
    sfdisk
        .stdin
        .take()
        .ok_or("sfdisk stdin")?
        .write_all(table.as_bytes())
        .map_err(|e| e.to_string())?;
    if !sfdisk.wait().map_err(|e| e.to_string())?.success() {
        return Err(format!("sfdisk failed on {}", path.display()));
    }
    // vfat at sector 2048, 45056 sectors (22 MiB); ext4 at 47104 * 512.
    let out = Command::new("mkfs.vfat")
        .args(["--offset=2048"])
        .arg(path)
        .arg("22528")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "mkfs.vfat: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let out = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-E", &format!("offset={}", 47104 * 512)])
        .arg(path)
        // 40 MiB: inside partition 2 with either table (GPT keeps a
        // backup table in the disk's last sectors).
        .arg("40960k")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "mkfs.ext4: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn run_child(name: &str, image: &Path) -> Result<String, String> {
    let run = support::run(
        name,
        name,
        image.parent().unwrap_or(Path::new("/")),
        &[(IMAGE_VAR, image.display().to_string())],
        Duration::from_secs(60),
    );
    if run.ok() {
        Ok(format!("{:.2}s", run.elapsed.as_secs_f64()))
    } else {
        Err(format!(
            "{:?} after {:?}\n{}",
            run.status, run.elapsed, run.out
        ))
    }
}

/// The host's own tools: `mkfs` to make the image, `fsck` to check it.
struct FsTools {
    name: &'static str,
    mkfs: &'static [&'static str],
    size_mib: u64,
    fsck: &'static [&'static str],
}

const FILESYSTEMS: &[FsTools] = &[
    FsTools {
        name: "ext4",
        mkfs: &["mkfs.ext4", "-q", "-F"],
        size_mib: 64,
        fsck: &["e2fsck", "-fn"],
    },
    FsTools {
        name: "btrfs",
        mkfs: &["mkfs.btrfs", "-q", "-f"],
        size_mib: 128,
        fsck: &["btrfs", "check", "--readonly"],
    },
    FsTools {
        name: "xfs",
        mkfs: &["mkfs.xfs", "-q", "-f"],
        size_mib: 320,
        fsck: &["xfs_repair", "-n"],
    },
    FsTools {
        name: "vfat",
        mkfs: &["mkfs.vfat"],
        size_mib: 64,
        fsck: &["fsck.vfat", "-n"],
    },
];

fn host(cmd: &[&str], image: &Path) -> Result<(), String> {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .arg(image)
        .output()
        .map_err(|e| format!("{}: {e}", cmd[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {}: {}\n{}{}",
            cmd.join(" "),
            image.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn main() {
    let all: Vec<support::Scenario> = SCENARIOS
        .iter()
        .chain(PARTITION_SCENARIOS)
        .copied()
        .collect();
    support::child_entry(&all);
    let dir = std::env::temp_dir().join(format!("lkl-disk-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let (mut passed, mut failed) = (0, 0);
    let mut report = |label: String, result: Result<String, String>| match result {
        Ok(what) => {
            passed += 1;
            println!("ok {label}: {what}");
        }
        Err(why) => {
            failed += 1;
            println!("FAILED {label}: {why}");
        }
    };
    for tools in FILESYSTEMS {
        let image = dir.join(format!("{}.img", tools.name));
        let made = std::fs::File::create(&image)
            .and_then(|f| f.set_len(tools.size_mib << 20))
            .map_err(|e| e.to_string())
            .and_then(|()| host(tools.mkfs, &image));
        if let Err(why) = made {
            report(format!("{} mkfs", tools.name), Err(why));
            continue;
        }
        for (scenario, _) in SCENARIOS {
            report(
                format!("{} {scenario}", tools.name),
                run_child(scenario, &image),
            );
        }
        report(
            format!("{} fsck", tools.name),
            host(tools.fsck, &image).map(|()| "clean".to_owned()),
        );
    }
    for label in ["dos", "gpt"] {
        let image = dir.join(format!("{label}.img"));
        if let Err(why) = partitioned_image(&image, label) {
            report(format!("{label} table"), Err(why));
            continue;
        }
        for (scenario, _) in PARTITION_SCENARIOS {
            report(format!("{label} {scenario}"), run_child(scenario, &image));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("disk: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
