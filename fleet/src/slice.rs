//! `--slice i/N`: a deterministic split of the fleet, so a CI matrix of N runners covers every
//! tenant exactly once whatever order each runner lists them in.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One of `count` slices (`index` from 1 to `count`, as a GitHub Actions matrix counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// Which slice, 1-based.
    pub index: u32,
    /// How many slices the fleet is split into.
    pub count: u32,
}

impl Slice {
    /// The whole fleet as one slice.
    pub const ALL: Slice = Slice { index: 1, count: 1 };

    /// Whether `subdomain` belongs to this slice.
    pub fn contains(&self, subdomain: &str) -> bool {
        bucket(subdomain, self.count) + 1 == self.index
    }
}

/// The first 8 bytes of SHA-256 of the subdomain, as a big-endian number: stable across
/// machines, releases and languages (a shell can compute it with `sha256sum`).
pub fn hash(subdomain: &str) -> u64 {
    let digest = Sha256::digest(subdomain.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The 0-based slice of `subdomain` among `count`.
pub fn bucket(subdomain: &str, count: u32) -> u32 {
    (hash(subdomain) % u64::from(count.max(1))) as u32
}

impl FromStr for Slice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wrong =
            || format!("--slice {text:?}: write it as i/N with 1 <= i <= N, e.g. --slice 2/4");
        let (index, count) = text.split_once('/').ok_or_else(wrong)?;
        let index: u32 = index.trim().parse().map_err(|_| wrong())?;
        let count: u32 = count.trim().parse().map_err(|_| wrong())?;
        if count == 0 || index == 0 || index > count {
            return Err(wrong());
        }
        Ok(Slice { index, count })
    }
}

impl fmt::Display for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_partition_the_fleet_exactly() {
        let names: Vec<String> = (0..2000).map(|i| format!("orchestra-{i}")).collect();
        for count in [1u32, 2, 3, 7, 16] {
            let mut seen = vec![0u32; names.len()];
            for index in 1..=count {
                let slice = Slice { index, count };
                for (i, name) in names.iter().enumerate() {
                    if slice.contains(name) {
                        seen[i] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "count {count}");
        }
        // Roughly even: no slice of 4 holds less than a fifth of 2,000.
        for index in 1..=4 {
            let slice = Slice { index, count: 4 };
            let n = names.iter().filter(|n| slice.contains(n)).count();
            assert!(n > 400, "slice {index}/4 has {n}");
        }
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/4".parse::<Slice>(), Ok(Slice { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "a/b", "3", ""] {
            let err = bad.parse::<Slice>().unwrap_err();
            assert!(err.contains("i/N"), "{err}");
        }
    }

    #[test]
    fn the_hash_is_sha256_prefix() {
        // printf 'a' | sha256sum -> ca978112ca1bbdca...
        assert_eq!(hash("a"), 0xca97_8112_ca1b_bdca);
    }
}
