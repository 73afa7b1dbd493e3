//! Keys: a fixed-width ASCII rendering of the key index.
//!
//! Key `i` is the decimal digits of `i`, left-padded with `0` to exactly `--key-size` bytes, so
//! every key has the same length, sorts like its index, and can be read back by a person looking
//! at the server (`get 00000000000000000000000000000042`).

/// Renders key indexes as zero-padded decimal strings of a fixed width.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyFormat {
    size: usize,
}

/// Decimal digits of the largest `u64`.
const DIGITS_MAX: usize = 20;

impl KeyFormat {
    /// A format of `size` bytes that can render every index below `keys`, or `None` if the
    /// largest index has more digits than `size` or `size` is zero.
    pub(crate) fn new(size: usize, keys: u64) -> Option<Self> {
        let largest = keys.checked_sub(1)?;
        (size > 0 && digits(largest) <= size).then_some(Self { size })
    }

    /// Appends the key of `index` to `out`.
    pub(crate) fn append(&self, index: u64, out: &mut Vec<u8>) {
        let mut scratch = [b'0'; DIGITS_MAX];
        let mut rest = index;
        let mut len = 0;
        loop {
            len += 1;
            scratch[DIGITS_MAX - len] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        debug_assert!(
            len <= self.size,
            "index {index} does not fit in {} bytes",
            self.size
        );
        out.resize(out.len() + self.size.saturating_sub(len), b'0');
        out.extend_from_slice(&scratch[DIGITS_MAX - len..]);
    }
}

/// The number of decimal digits of `value` (1 for 0).
pub(crate) fn digits(value: u64) -> usize {
    value.checked_ilog10().map_or(1, |log| log as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(size: usize, keys: u64, index: u64) -> String {
        let format = KeyFormat::new(size, keys).expect("valid format");
        let mut out = b"prefix:".to_vec();
        format.append(index, &mut out);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn pads_to_the_width() {
        assert_eq!(key(8, 100, 0), "prefix:00000000");
        assert_eq!(key(8, 100, 42), "prefix:00000042");
        assert_eq!(key(3, 1000, 999), "prefix:999");
        assert_eq!(key(32, 100_000, 99_999).len(), "prefix:".len() + 32);
        assert_eq!(
            key(20, u64::MAX, u64::MAX - 1),
            "prefix:18446744073709551614"
        );
    }

    #[test]
    fn rejects_formats_too_narrow() {
        assert!(KeyFormat::new(3, 1000).is_some());
        assert!(KeyFormat::new(3, 1001).is_none());
        assert!(KeyFormat::new(0, 1).is_none());
        assert!(KeyFormat::new(4, 0).is_none());
        assert_eq!(KeyFormat::new(5, 10).map(|f| f.size), Some(5));
    }

    #[test]
    fn digit_counts() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        assert_eq!(digits(99_999), 5);
        assert_eq!(digits(u64::MAX), 20);
    }
}
