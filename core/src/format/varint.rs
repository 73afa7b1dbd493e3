//! LEB128 variable-length unsigned integers: seven bits per byte, least significant group
//! first, the high bit set on every byte but the last.

use alloc::vec::Vec;

/// The most bytes a `u64` takes.
pub const U64_BYTES_MAX: usize = 10;

/// Appends `v` to `out`.
pub fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` (a length) to `out`.
pub fn put_len(out: &mut Vec<u8>, len: usize) {
    put_u64(out, len as u64);
}

/// Appends `bytes` prefixed with their length.
pub fn put_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// The number of bytes `v` takes.
pub fn len_u64(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Decodes a `u64` from the start of `buf`: the value and the bytes it took. `None` if `buf`
/// ends first, or if the encoding is longer than 10 bytes or sets bits past 64.
pub fn decode_u64(buf: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(U64_BYTES_MAX) {
        let group = u64::from(b & 0x7f);
        if i == U64_BYTES_MAX - 1 && b > 1 {
            return None;
        }
        v |= group << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        let cases: [(u64, &[u8]); 5] = [
            (0, &[0]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ];
        for (v, bytes) in cases {
            let mut out = Vec::new();
            put_u64(&mut out, v);
            assert_eq!(out, bytes);
            assert_eq!(len_u64(v), bytes.len());
            assert_eq!(decode_u64(bytes), Some((v, bytes.len())));
        }
    }

    #[test]
    fn malformed() {
        assert_eq!(decode_u64(&[]), None);
        assert_eq!(decode_u64(&[0x80]), None);
        assert_eq!(decode_u64(&[0xff; 10]), None);
        assert_eq!(
            decode_u64(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            None
        );
        assert_eq!(decode_u64(&[0x80; 11]), None);
    }

    proptest::proptest! {
        #[test]
        fn round_trip(v: u64, tail: Vec<u8>) {
            let mut out = Vec::new();
            put_u64(&mut out, v);
            let n = out.len();
            out.extend_from_slice(&tail);
            proptest::prop_assert_eq!(decode_u64(&out), Some((v, n)));
        }
    }
}
