// SPDX-License-Identifier: GPL-2.0
//! Seed images: made by the real mkfs tools, filled with the seed tree by
//! the library itself (in a child process), kept under the output
//! directory so that a case number names the same image next time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bump when the tree or a recipe changes: cached seeds are then remade.
const TREE_VERSION: u32 = 1;

/// How one seed image is made.
pub struct Recipe {
    /// The image's name, also part of every case seed.
    pub name: &'static str,
    /// The file system type passed to mount.
    pub fstype: &'static str,
    pub size_mib: u64,
    /// mkfs and its options; the image path goes last.
    pub mkfs: &'static [&'static str],
    /// Re-compute btrfs block checksums after the flips.
    pub fix_btrfs_checksums: bool,
}

/// The seeds of each file system; case `n` uses seed `n % seeds`. Where a
/// format checksums its metadata, a second seed without checksums lets
/// flipped bytes reach past the checksum test into the parsers.
pub const RECIPES: &[Recipe] = &[
    Recipe {
        name: "ext4",
        fstype: "ext4",
        size_mib: 16,
        mkfs: &["mkfs.ext4", "-q", "-F"],
        fix_btrfs_checksums: false,
    },
    Recipe {
        name: "ext4-nocsum",
        fstype: "ext4",
        size_mib: 16,
        mkfs: &["mkfs.ext4", "-q", "-F", "-O", "^metadata_csum"],
        fix_btrfs_checksums: false,
    },
    // Single metadata: with the default DUP, most flips would be repaired
    // from the good copy before any parser saw them.
    Recipe {
        name: "btrfs",
        fstype: "btrfs",
        size_mib: 128,
        mkfs: &["mkfs.btrfs", "-q", "-f", "-m", "single"],
        fix_btrfs_checksums: false,
    },
    // The same image, with the checksums of the flipped blocks made right
    // again (the same name would give the same cases).
    Recipe {
        name: "btrfs-csum-fixed",
        fstype: "btrfs",
        size_mib: 128,
        mkfs: &["mkfs.btrfs", "-q", "-f", "-m", "single"],
        fix_btrfs_checksums: true,
    },
    // mkfs.xfs refuses less than 300 MB.
    Recipe {
        name: "xfs",
        fstype: "xfs",
        size_mib: 320,
        mkfs: &["mkfs.xfs", "-q", "-f"],
        fix_btrfs_checksums: false,
    },
    Recipe {
        name: "xfs-v4",
        fstype: "xfs",
        size_mib: 320,
        mkfs: &["mkfs.xfs", "-q", "-f", "-m", "crc=0"],
        fix_btrfs_checksums: false,
    },
    Recipe {
        name: "vfat",
        fstype: "vfat",
        size_mib: 16,
        mkfs: &["mkfs.vfat", "-F", "16"],
        fix_btrfs_checksums: false,
    },
    Recipe {
        name: "vfat-fat12",
        fstype: "vfat",
        size_mib: 4,
        mkfs: &["mkfs.vfat", "-F", "12"],
        fix_btrfs_checksums: false,
    },
];

/// The file systems fuzzed by default.
pub const FILE_SYSTEMS: &[&str] = &["ext4", "btrfs", "xfs", "vfat"];

pub fn recipes_for(fstype: &str) -> Vec<&'static Recipe> {
    RECIPES.iter().filter(|r| r.fstype == fstype).collect()
}

fn describe(recipe: &Recipe) -> String {
    format!(
        "tree {TREE_VERSION}, {} MiB, {}\n",
        recipe.size_mib,
        recipe.mkfs.join(" ")
    )
}

/// The seed image of `recipe` under `dir`, made unless a copy made by the
/// same recipe is there.
pub fn ensure(recipe: &Recipe, dir: &Path, fresh: bool) -> Result<PathBuf, String> {
    let image = dir.join(format!("{}.img", recipe.name));
    let stamp = dir.join(format!("{}.recipe", recipe.name));
    let wanted = describe(recipe);
    if !fresh && image.is_file() && fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return Ok(image);
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let _ = fs::remove_file(&stamp);
    let partial = dir.join(format!("{}.img.partial", recipe.name));
    let _ = fs::remove_file(&partial);
    fs::File::create(&partial)
        .and_then(|f| f.set_len(recipe.size_mib << 20))
        .map_err(|e| format!("{}: {e}", partial.display()))?;
    let out = Command::new(recipe.mkfs[0])
        .args(&recipe.mkfs[1..])
        .arg(&partial)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "{}: {e} (scripts/install-deps.sh installs it)",
                recipe.mkfs[0]
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}) making {}: {}",
            recipe.mkfs.join(" "),
            out.status,
            partial.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    populate(&partial, recipe.fstype)?;
    fs::rename(&partial, &image).map_err(|e| format!("{}: {e}", image.display()))?;
    fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(image)
}

/// Fills `image` in a child process (one kernel per process).
fn populate(image: &Path, fstype: &str) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    // A file, not a pipe, so that a chatty console never blocks the child.
    let log_path = image.with_extension("populate.log");
    let log = fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log2 = log
        .try_clone()
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut child = Command::new(exe)
        .args(["--child", "populate", "--fs", fstype, "--image"])
        .arg(image)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("starting the populate child: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{}: filling the seed tree took over 120 s",
                    image.display()
                ));
            }
            Err(e) => return Err(format!("waiting for the populate child: {e}")),
        }
    };
    if !status.success() {
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        return Err(format!(
            "{}: filling the seed tree failed ({status}):\n{}",
            image.display(),
            log.trim()
        ));
    }
    let _ = fs::remove_file(&log_path);
    Ok(())
}
