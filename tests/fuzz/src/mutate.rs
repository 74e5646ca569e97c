// SPDX-License-Identifier: GPL-2.0
//! Where an image's metadata is, and the seeded, reproducible byte flips
//! of one case.
//!
//! Every file of a seed image holds [`FILL`] repeated (or a short text),
//! so a sector that is all zeroes or exactly `FILL` is free space or file
//! data; every other sector is the file system's own: superblocks, tables,
//! inodes, directories, trees, logs, inline data. Mutations land only
//! there.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

// splitmix64, the same everywhere: a case number and a seed name one
// mutation list for good.
pub use lkl_test_support::rng::Rng;

use crate::overlay::SECTOR;

/// The contents of every data sector of the seed files.
pub const FILL: [u8; SECTOR as usize] = fill();

const fn fill() -> [u8; SECTOR as usize] {
    let mut out = [0u8; SECTOR as usize];
    let mut state: u32 = 0x6c6b_6c21;
    let mut i = 0;
    while i < out.len() {
        // A little xorshift: bytes no file system writes by itself.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        out[i] = (state >> 8) as u8;
        i += 1;
    }
    out
}

/// The seed of one case: the run's seed, the image's name and the case
/// number, mixed.
pub fn case_seed(run_seed: u64, image: &str, case: u64) -> u64 {
    // FNV-1a of the name keeps images apart.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in image.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = Rng::new(run_seed ^ h ^ case.wrapping_mul(0xd6e8_feb8_6659_fd93));
    rng.next_u64()
}

/// One byte of the image set to `value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mutation {
    pub offset: u64,
    pub value: u8,
}

/// A list of mutations as `offset=value` pairs (decimal offset, hex
/// value), comma-separated: how the parent hands a case to its child and
/// how a report names it.
pub struct MutationList<'a>(pub &'a [Mutation]);

impl fmt::Display for MutationList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}={:02x}", m.offset, m.value)?;
        }
        Ok(())
    }
}

/// Parses what [`MutationList`] prints.
pub fn parse_mutations(text: &str) -> Result<Vec<Mutation>, String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (offset, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("mutation {pair:?}: expected OFFSET=HEXBYTE"))?;
            let offset = offset
                .parse()
                .map_err(|e| format!("mutation {pair:?}: offset: {e}"))?;
            let value = u8::from_str_radix(value, 16)
                .map_err(|e| format!("mutation {pair:?}: value: {e}"))?;
            Ok(Mutation { offset, value })
        })
        .collect()
}

/// The metadata sectors of a seed image, as runs of adjacent sectors. A
/// pick takes a run first, then a sector in it, so that one large region
/// (xfs's initialised log is 2 MiB of 4 MiB of metadata) does not drown
/// the small ones (superblocks, group descriptors, directory blocks).
pub struct MetadataMap {
    /// First sector and length of each run, in order.
    runs: Vec<(u64, u64)>,
    sectors: u64,
}

impl MetadataMap {
    /// Scans the image for sectors that are neither zero nor [`FILL`].
    pub fn scan(path: &Path) -> io::Result<MetadataMap> {
        let mut file = File::open(path)?;
        let mut chunk = vec![0u8; 1 << 20];
        let mut runs: Vec<(u64, u64)> = Vec::new();
        let mut sectors = 0;
        let mut number = 0u64;
        loop {
            let mut len = 0;
            while len < chunk.len() {
                match file.read(&mut chunk[len..])? {
                    0 => break,
                    n => len += n,
                }
            }
            if len == 0 {
                break;
            }
            for sector in chunk[..len].chunks(SECTOR as usize) {
                if sector.iter().any(|&b| b != 0) && sector != FILL {
                    sectors += 1;
                    match runs.last_mut() {
                        Some((start, count)) if *start + *count == number => *count += 1,
                        _ => runs.push((number, 1)),
                    }
                }
                number += 1;
            }
        }
        Ok(MetadataMap { runs, sectors })
    }

    /// How many metadata sectors.
    pub fn len(&self) -> u64 {
        self.sectors
    }

    /// In how many runs.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Between 1 and 16 bytes of metadata changed: a bit flipped, or set
    /// to 0x00, 0xff, a neighbour value or a random one. Half of the picks
    /// prefer a nonzero byte of the sector, the fields in use.
    pub fn mutations(&self, image: &File, rng: &mut Rng) -> io::Result<Vec<Mutation>> {
        let mut out: Vec<Mutation> = Vec::new();
        if self.runs.is_empty() {
            return Ok(out);
        }
        let count = 1 + rng.below(16);
        let mut sector = [0u8; SECTOR as usize];
        for _ in 0..count {
            let (start, count) = self.runs[rng.below(self.runs.len() as u64) as usize];
            let number = start + rng.below(count);
            image.read_exact_at(&mut sector, number * SECTOR)?;
            let nonzero: Vec<usize> = (0..sector.len()).filter(|&i| sector[i] != 0).collect();
            let index = if !nonzero.is_empty() && rng.below(2) == 0 {
                nonzero[rng.below(nonzero.len() as u64) as usize]
            } else {
                rng.below(SECTOR) as usize
            };
            let offset = number * SECTOR + index as u64;
            // A byte changed twice keeps the first change's base.
            let old = out
                .iter()
                .find(|m| m.offset == offset)
                .map_or(sector[index], |m| m.value);
            let value = match rng.below(6) {
                0 | 1 => old ^ (1 << rng.below(8)),
                2 => 0x00,
                3 => 0xff,
                4 => old.wrapping_add(if rng.below(2) == 0 { 1 } else { 0xff }),
                _ => rng.next_u64() as u8,
            };
            match out.iter_mut().find(|m| m.offset == offset) {
                Some(m) => m.value = value,
                None => out.push(Mutation { offset, value }),
            }
        }
        // A change that gives the byte back is no change: flip it instead.
        for m in &mut out {
            let mut byte = [0u8];
            image.read_exact_at(&mut byte, m.offset)?;
            if byte[0] == m.value {
                m.value ^= 0x01;
            }
        }
        Ok(out)
    }
}

/// CRC-32C (Castagnoli), as btrfs checksums its blocks.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Btrfs's checksummed blocks: the superblock (4 KiB) and tree nodes
/// (16 KiB, mkfs's default), each with the CRC-32C of everything after
/// its first 32 bytes stored in its first 4.
const BTRFS_BLOCKS: [u64; 2] = [4096, 16384];
const BTRFS_CSUM_SIZE: usize = 32;

/// Re-computes the checksum of every btrfs block that `mutations` touch
/// and whose checksum was right in the seed, adding the new checksum
/// bytes as mutations: the flipped bytes then reach the parsers instead
/// of stopping at the checksum test.
pub fn fix_btrfs_checksums(image: &File, mutations: &mut Vec<Mutation>) -> io::Result<()> {
    let mut fixed = Vec::new();
    for size in BTRFS_BLOCKS {
        let mut starts: Vec<u64> = mutations.iter().map(|m| m.offset / size * size).collect();
        starts.sort_unstable();
        starts.dedup();
        for start in starts {
            let mut block = vec![0u8; size as usize];
            if image.read_exact_at(&mut block, start).is_err() {
                continue;
            }
            let stored = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
            if stored != crc32c(&block[BTRFS_CSUM_SIZE..]) || fixed.contains(&start) {
                continue;
            }
            for m in mutations.iter() {
                if (start..start + size).contains(&m.offset) {
                    block[(m.offset - start) as usize] = m.value;
                }
            }
            let crc = crc32c(&block[BTRFS_CSUM_SIZE..]).to_le_bytes();
            for (i, value) in crc.into_iter().enumerate() {
                let offset = start + i as u64;
                match mutations.iter_mut().find(|m| m.offset == offset) {
                    Some(m) => m.value = value,
                    None => mutations.push(Mutation { offset, value }),
                }
            }
            fixed.push(start);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_list_round_trips() {
        let list = [
            Mutation {
                offset: 1024,
                value: 0x5a,
            },
            Mutation {
                offset: 7,
                value: 0,
            },
        ];
        let text = MutationList(&list).to_string();
        assert_eq!(text, "1024=5a,7=00");
        assert_eq!(parse_mutations(&text).unwrap(), list);
        assert!(parse_mutations("12").is_err());
        assert!(parse_mutations("12=zz").is_err());
    }

    #[test]
    fn case_seeds_differ_by_image_and_case() {
        let a = case_seed(1, "ext4", 0);
        assert_ne!(a, case_seed(1, "ext4", 1));
        assert_ne!(a, case_seed(1, "xfs", 0));
        assert_ne!(a, case_seed(2, "ext4", 0));
        assert_eq!(a, case_seed(1, "ext4", 0));
    }

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // The check value of CRC-32C for "123456789" (RFC 3720's).
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn fill_is_neither_zero_nor_constant() {
        assert!(FILL.iter().any(|&b| b != FILL[0]));
    }
}
