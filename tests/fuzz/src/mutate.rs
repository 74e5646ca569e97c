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

/// splitmix64: small, fast, and the same everywhere, so a case number and
/// a seed name one mutation list for good.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
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

/// The metadata sectors of a seed image.
pub struct MetadataMap {
    sectors: Vec<u64>,
}

impl MetadataMap {
    /// Scans the image for sectors that are neither zero nor [`FILL`].
    pub fn scan(path: &Path) -> io::Result<MetadataMap> {
        let mut file = File::open(path)?;
        let mut chunk = vec![0u8; 1 << 20];
        let mut sectors = Vec::new();
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
                    sectors.push(number);
                }
                number += 1;
            }
        }
        Ok(MetadataMap { sectors })
    }

    pub fn len(&self) -> usize {
        self.sectors.len()
    }

    /// Between 1 and 16 bytes of metadata changed: a bit flipped, or set
    /// to 0x00, 0xff, a neighbour value or a random one. Half of the picks
    /// prefer a nonzero byte of the sector, the fields in use.
    pub fn mutations(&self, image: &File, rng: &mut Rng) -> io::Result<Vec<Mutation>> {
        let mut out: Vec<Mutation> = Vec::new();
        if self.sectors.is_empty() {
            return Ok(out);
        }
        let count = 1 + rng.below(16);
        let mut sector = [0u8; SECTOR as usize];
        for _ in 0..count {
            let number = self.sectors[rng.below(self.sectors.len() as u64) as usize];
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
    fn fill_is_neither_zero_nor_constant() {
        assert!(FILL.iter().any(|&b| b != FILL[0]));
    }
}
