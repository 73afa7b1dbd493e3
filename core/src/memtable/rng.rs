//! A small, fast, seeded pseudo-random number generator, and the seeded hash that picks
//! skiplist tower heights.
//!
//! [`Rng`] is SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
//! generators", 2014): a 64-bit counter advanced by an odd constant and passed through a
//! bijective finalizer. Every seed, including 0, gives a full-period stream, so callers can seed
//! it with anything (a test case number, a clock reading). It is not cryptographic.
//!
//! The skiplist does not share one generator between its writer threads (that would put a
//! contended read-modify-write on every insert, and make the shape of the list depend on the
//! interleaving of the threads). It derives each tower height from a seeded hash of the entry
//! instead, see [`tower_height`]: the same seed and the same entries give the same list, in any
//! insertion order and with any number of threads.

/// The SplitMix64 increment (the golden ratio as a 64-bit odd integer).
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// A SplitMix64 pseudo-random number generator, seeded by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose stream is fully determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }

    /// A pseudo-random number in `0..bound` (`bound` must not be 0), by multiply-shift, with a
    /// bias below 2^-32 for bounds under 2^32.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound != 0, "Rng::below needs a non-zero bound");
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }
}

/// The SplitMix64 finalizer: a bijection on `u64` in which every input bit affects every output
/// bit.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seeded 64-bit hash of `(key, seq)`; not cryptographic, but well mixed.
///
/// The key is folded eight bytes at a time (little-endian) with a multiply and a rotation, then
/// the length and the sequence number are mixed in and the result passes through [`mix64`].
pub fn hash_entry(seed: u64, key: &[u8], seq: u64) -> u64 {
    let mut h = seed ^ GAMMA;
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(word))
            .wrapping_mul(0xff51_afd7_ed55_8ccd)
            .rotate_left(31);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(word))
            .wrapping_mul(0xc4ce_b9fe_1a85_ec53)
            .rotate_left(29);
    }
    h ^= (key.len() as u64).wrapping_mul(GAMMA);
    mix64(mix64(h) ^ seq)
}

/// A 64-bit hash of a key alone (no seed, no sequence number), for the hash indexes of runs
/// and memtables: every output bit depends on every key byte.
#[inline]
pub fn hash_key(key: &[u8]) -> u64 {
    hash_entry(0, key, 0)
}

/// A tower height in `1..=height_max` with `P(height > h) = 2^-h` (p = 1/2): the number of
/// trailing zero bits of `bits`, plus one, capped at `height_max`.
pub fn tower_height(bits: u64, height_max: usize) -> usize {
    let height = 1 + bits.trailing_zeros() as usize;
    height.min(height_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let mut c = Rng::new(43);
        let mut differs = false;
        for _ in 0..1000 {
            let x = a.next_u64();
            assert_eq!(x, b.next_u64());
            differs |= x != c.next_u64();
        }
        assert!(differs);
    }

    #[test]
    fn known_values() {
        // SplitMix64 reference outputs for seed 0.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(r.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(9);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let x = r.below(7) as usize;
            seen[x] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn heights_are_deterministic_and_geometric() {
        let n = if cfg!(miri) { 2_000 } else { 100_000 };
        let mut counts = [0usize; 25];
        for i in 0..n as u64 {
            let key = i.to_be_bytes();
            let h = tower_height(hash_entry(7, &key, 1), 24);
            assert_eq!(h, tower_height(hash_entry(7, &key, 1), 24));
            assert!((1..=24).contains(&h));
            counts[h] += 1;
        }
        // About 1/2 of the towers have height 1, 1/4 height 2 and 1/8 height 3.
        let share = |h: usize| counts[h] as f64 / n as f64;
        assert!(
            (0.45..0.55).contains(&share(1)),
            "height 1 share {}",
            share(1)
        );
        assert!(
            (0.21..0.29).contains(&share(2)),
            "height 2 share {}",
            share(2)
        );
        assert!(
            (0.09..0.16).contains(&share(3)),
            "height 3 share {}",
            share(3)
        );
        // A different seed gives different heights.
        let differ = (0..1000u64)
            .filter(|i| {
                let key = i.to_be_bytes();
                hash_entry(7, &key, 1) != hash_entry(8, &key, 1)
            })
            .count();
        assert!(differ > 990);
    }

    #[test]
    fn tower_height_caps() {
        assert_eq!(tower_height(0, 20), 20);
        assert_eq!(tower_height(1, 20), 1);
        assert_eq!(tower_height(0b100, 20), 3);
        assert_eq!(tower_height(1 << 8, 3), 3);
    }
}
