//! The table's bloom filter: one filter over every user key of the table, probed with double
//! hashing (`g_i = h1 + i * h2 mod m`, Kirsch and Mitzenmacher), so one 64-bit hash per key
//! gives all `k` probes.
//!
//! ```text
//!   filter block = | bit array (m / 8 bytes) | k u8 |
//! ```
//!
//! With 10 bits per key and `k = 7` the false-positive rate is about 0.8%. The hash
//! ([`hash64`]) is part of the format: changing it needs a new table format version.

use alloc::vec::Vec;

/// The most probes a filter may ask for.
pub const PROBES_MAX: u8 = 30;

const P1: u64 = 0x9e37_79b9_7f4a_7c15;
const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;
const P3: u64 = 0x1656_67b1_9e37_79f9;

/// The murmur3 64-bit finalizer.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The 64-bit hash of a user key used by the filter (stable: part of the format).
pub fn hash64(key: &[u8]) -> u64 {
    let mut h = P3 ^ (key.len() as u64).wrapping_mul(P1);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h ^= fmix64(u64::from_le_bytes(w).wrapping_mul(P2));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P3);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h ^= fmix64(u64::from_le_bytes(w).wrapping_mul(P2));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P3);
    }
    fmix64(h)
}

/// The number of probes that minimises false positives at `bits_per_key` (`ln 2` times it).
pub fn probes_for(bits_per_key: usize) -> u8 {
    let k = (bits_per_key * 69 + 50) / 100;
    k.clamp(1, PROBES_MAX as usize) as u8
}

/// The bit positions of `hash` in a filter of `bits` bits.
fn probes(hash: u64, bits: u64, k: u8) -> impl Iterator<Item = u64> {
    let h1 = hash & 0xffff_ffff;
    let h2 = hash >> 32;
    (0..u64::from(k)).map(move |i| (h1 + i * h2) % bits)
}

/// Builds the filter block from the hashes of the table's user keys.
pub fn build(hashes: &[u64], bits_per_key: usize) -> Vec<u8> {
    let bits = (hashes.len() * bits_per_key).max(64).div_ceil(8) * 8;
    let k = probes_for(bits_per_key);
    let mut out = alloc::vec![0u8; bits / 8 + 1];
    for &h in hashes {
        for bit in probes(h, bits as u64, k) {
            out[(bit / 8) as usize] |= 1 << (bit % 8);
        }
    }
    out[bits / 8] = k;
    out
}

/// A filter block, checked.
#[derive(Debug, Clone)]
pub struct BloomFilter {
    bits: Vec<u8>,
    k: u8,
}

impl BloomFilter {
    /// Reads a filter block; `None` if it is malformed (no bits, or too many probes).
    pub fn new(mut block: Vec<u8>) -> Option<BloomFilter> {
        let k = block.pop()?;
        if block.is_empty() || k == 0 || k > PROBES_MAX {
            return None;
        }
        Some(BloomFilter { bits: block, k })
    }

    /// Whether `key` may be in the table (`false`: it certainly is not).
    pub fn may_contain(&self, key: &[u8]) -> bool {
        let bits = self.bits.len() as u64 * 8;
        probes(hash64(key), bits, self.k)
            .all(|bit| self.bits[(bit / 8) as usize] & (1 << (bit % 8)) != 0)
    }

    /// The filter's size in bytes (without the probe count).
    pub fn bytes(&self) -> usize {
        self.bits.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable() {
        // Golden values: the hash is part of the on-disk format.
        assert_eq!(hash64(b""), 0xf490_368a_ba8b_feac);
        assert_eq!(hash64(b"a"), 0xe037_251f_4ed6_14d1);
        assert_eq!(hash64(b"0123456789abcdef!"), 0x1b6b_bbe1_0a21_e56e);
        assert_ne!(hash64(b"a"), hash64(b"b"));
        assert_ne!(hash64(b"12345678"), hash64(b"12345678\0"));
    }

    #[test]
    fn probe_counts() {
        assert_eq!(probes_for(10), 7);
        assert_eq!(probes_for(1), 1);
        assert_eq!(probes_for(100), PROBES_MAX);
    }

    #[test]
    fn no_false_negatives() {
        let keys: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let hashes: Vec<u64> = keys.iter().map(|k| hash64(k)).collect();
        let f = BloomFilter::new(build(&hashes, 10)).unwrap();
        assert!(keys.iter().all(|k| f.may_contain(k)));
        assert_eq!(f.bytes(), 1250);
    }
}
