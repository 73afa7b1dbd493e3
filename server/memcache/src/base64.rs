//! Base64 for meta commands' `b` flag (standard alphabet, `=` padding), as memcached reads it.
//!
//! memcached's decoder is lenient in its own way, and we decode the same keys it does: bytes
//! outside the alphabet are skipped, the number of alphabet bytes (counting `=`) must be a
//! non-zero multiple of four, decoding stops after the first group that holds padding, and a
//! key that decodes to nothing is refused.

use alloc::vec::Vec;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The 6-bit value of an alphabet byte; `=` counts as 0. `None` for every other byte.
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        b'=' => Some(0),
        _ => None,
    }
}

/// Decodes `src`, or `None` where memcached answers `CLIENT_ERROR error decoding key`.
pub fn decode(src: &[u8]) -> Option<Vec<u8>> {
    let count = src.iter().filter(|&&b| sextet(b).is_some()).count();
    if count == 0 || count % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(count / 4 * 3);
    let mut block = [0u8; 4];
    let mut filled = 0;
    let mut pad = 0;
    for &b in src {
        let Some(value) = sextet(b) else { continue };
        if b == b'=' {
            pad += 1;
        }
        block[filled] = value;
        filled += 1;
        if filled == 4 {
            out.push((block[0] << 2) | (block[1] >> 4));
            out.push((block[1] << 4) | (block[2] >> 2));
            out.push((block[2] << 6) | block[3]);
            filled = 0;
            if pad > 0 {
                match pad {
                    1 => out.truncate(out.len() - 1),
                    2 => out.truncate(out.len() - 2),
                    _ => return None,
                }
                break;
            }
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Appends the base64 encoding of `src` (with `=` padding) to `out`.
pub fn encode_into(src: &[u8], out: &mut Vec<u8>) {
    let symbol = |v: u8| ALPHABET[usize::from(v & 0x3f)];
    let mut chunks = src.chunks_exact(3);
    for c in &mut chunks {
        out.extend_from_slice(&[
            symbol(c[0] >> 2),
            symbol((c[0] << 4) | (c[1] >> 4)),
            symbol((c[1] << 2) | (c[2] >> 6)),
            symbol(c[2]),
        ]);
    }
    match *chunks.remainder() {
        [a] => out.extend_from_slice(&[symbol(a >> 2), symbol(a << 4), b'=', b'=']),
        [a, b] => out.extend_from_slice(&[
            symbol(a >> 2),
            symbol((a << 4) | (b >> 4)),
            symbol(b << 2),
            b'=',
        ]),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(src: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_into(src, &mut out);
        out
    }

    #[test]
    fn round_trips() {
        for len in 0..40usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let encoded = encode(&data);
            assert_eq!(encoded.len(), len.div_ceil(3) * 4);
            if len > 0 {
                assert_eq!(decode(&encoded).as_deref(), Some(&data[..]));
            }
        }
        assert_eq!(encode(b"abc"), b"YWJj");
        assert_eq!(encode(b"a"), b"YQ==");
        assert_eq!(encode(b"nokey"), b"bm9rZXk=");
    }

    #[test]
    fn decodes_like_memcached() {
        assert_eq!(decode(b"YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode(b"YQ"), None);
        assert_eq!(decode(b"a"), None);
        assert_eq!(decode(b"!!!!"), None);
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"===="), None);
        assert_eq!(decode(b"A==="), None);
        // Bytes outside the alphabet are skipped.
        assert_eq!(decode(b"Y!Q=\t=").as_deref(), Some(&b"a"[..]));
        // Decoding stops after the first padded group.
        assert_eq!(decode(b"YQ==YWJj").as_deref(), Some(&b"a"[..]));
    }
}
