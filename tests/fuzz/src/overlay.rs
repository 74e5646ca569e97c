// SPDX-License-Identifier: GPL-2.0
//! A copy-on-write disk: the seed image, read-only and shared by every
//! case, under a map of the sectors that differ (the mutated bytes and
//! whatever the kernel writes). The seed is never written and no case pays
//! for a copy of a 300 MiB image.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{PoisonError, RwLock};

use lkl::lkl_sys::lkl_host::virtio::{BlockBackend, GuestBuf};

use crate::mutate::Mutation;

pub const SECTOR: u64 = 512;

type Sector = Box<[u8; SECTOR as usize]>;

pub struct Overlay {
    base: File,
    size: u64,
    /// Sector number to its bytes, for every sector that differs from
    /// `base`.
    changed: RwLock<BTreeMap<u64, Sector>>,
}

impl Overlay {
    /// The image at `path` with `mutations` applied.
    pub fn open(path: &Path, mutations: &[Mutation]) -> io::Result<Overlay> {
        let base = File::open(path)?;
        let size = base.metadata()?.len();
        if size == 0 || size % SECTOR != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: size {size} is not a whole number of sectors",
                    path.display()
                ),
            ));
        }
        let mut changed: BTreeMap<u64, Sector> = BTreeMap::new();
        for m in mutations {
            if m.offset >= size {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{}: mutation at {} is past the end ({size} bytes)",
                        path.display(),
                        m.offset
                    ),
                ));
            }
            let number = m.offset / SECTOR;
            if let std::collections::btree_map::Entry::Vacant(slot) = changed.entry(number) {
                let mut sector = Box::new([0u8; SECTOR as usize]);
                base.read_exact_at(&mut sector[..], number * SECTOR)?;
                slot.insert(sector);
            }
            if let Some(sector) = changed.get_mut(&number) {
                sector[(m.offset % SECTOR) as usize] = m.value;
            }
        }
        Ok(Overlay {
            base,
            size,
            changed: RwLock::new(changed),
        })
    }
}

impl BlockBackend for Overlay {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_only(&self) -> bool {
        false
    }

    fn read_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let mut data = vec![0u8; total];
        self.base.read_exact_at(&mut data, offset)?;
        // Virtio-blk addresses whole sectors, so `offset` is aligned.
        let first = offset / SECTOR;
        let end = (offset + total as u64).div_ceil(SECTOR);
        let changed = self.changed.read().unwrap_or_else(PoisonError::into_inner);
        for (number, sector) in changed.range(first..end) {
            let at = ((number - first) * SECTOR) as usize;
            let len = (total - at).min(SECTOR as usize);
            data[at..at + len].copy_from_slice(&sector[..len]);
        }
        drop(changed);
        let mut at = 0;
        for buf in bufs {
            buf.copy_from(&data[at..at + buf.len()]);
            at += buf.len();
        }
        Ok(())
    }

    fn write_at(&self, bufs: &[GuestBuf<'_>], offset: u64) -> io::Result<()> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let mut data = vec![0u8; total];
        let mut at = 0;
        for buf in bufs {
            buf.copy_to(&mut data[at..at + buf.len()]);
            at += buf.len();
        }
        let first = offset / SECTOR;
        let mut changed = self.changed.write().unwrap_or_else(PoisonError::into_inner);
        for (i, chunk) in data.chunks(SECTOR as usize).enumerate() {
            let mut sector = Box::new([0u8; SECTOR as usize]);
            sector[..chunk.len()].copy_from_slice(chunk);
            changed.insert(first + i as u64, sector);
        }
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}
