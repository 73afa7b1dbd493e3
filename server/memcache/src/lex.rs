//! Splitting a command line into tokens and reading numbers, the way memcached does.
//!
//! memcached splits on the space character only (a tab is part of a token), collapses runs of
//! spaces and ignores leading and trailing ones. It reads numbers with the C library's
//! `strtol`/`strtoul`/`strtoull`, so a number may start with white space and a sign, may have
//! leading zeros, and may be followed by any white-space character and then anything at all
//! (`"1\tjunk"` reads as 1). Values that fit in 64 bits but not in the target width wrap.

use crate::limits::TOKENS_MAX;

/// The tokens of one command line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tokens<'a> {
    items: [&'a [u8]; TOKENS_MAX],
    len: usize,
}

impl<'a> Tokens<'a> {
    /// Splits `line` on spaces. Like memcached, at most `tokens_max - 1` tokens are split off;
    /// whatever follows the last of them is not looked at (only `get`-family commands read the
    /// rest of the line, and they do it on their own).
    pub(crate) fn split(line: &'a [u8], tokens_max: usize) -> Self {
        let cap = tokens_max.clamp(2, TOKENS_MAX) - 1;
        let mut tokens = Tokens {
            items: [&[]; TOKENS_MAX],
            len: 0,
        };
        for token in line.split(|&b| b == b' ').filter(|t| !t.is_empty()) {
            if tokens.len == cap {
                break;
            }
            tokens.items[tokens.len] = token;
            tokens.len += 1;
        }
        tokens
    }

    /// How many tokens the line has, capped at `tokens_max - 1` (memcached's `ntokens - 1`: a
    /// line with more tokens counts as having exactly that many, which every command that
    /// checks its token count refuses anyway).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The token at `index`, or an empty slice past the end.
    pub(crate) fn get(&self, index: usize) -> &'a [u8] {
        if index < self.len {
            self.items[index]
        } else {
            &[]
        }
    }

    /// The last token (memcached looks for `noreply` there).
    pub(crate) fn last(&self) -> &'a [u8] {
        match self.len {
            0 => &[],
            n => self.get(n - 1),
        }
    }

    /// Whether the last token is `noreply`, memcached's `set_noreply_maybe`.
    pub(crate) fn noreply(&self) -> bool {
        self.last() == b"noreply"
    }
}

/// Where `token`, a sub-slice of `line`, starts within `line`.
pub(crate) fn offset_in(line: &[u8], token: &[u8]) -> usize {
    (token.as_ptr() as usize)
        .wrapping_sub(line.as_ptr() as usize)
        .min(line.len())
}

/// The iterator over the space-separated words of `bytes`.
pub(crate) fn words(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&b| b == b' ').filter(|t| !t.is_empty())
}

/// C's `isspace` in the "C" locale.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What C's `strto*` functions read from a token.
struct Scanned {
    negative: bool,
    /// The magnitude, or `None` if it did not fit in 64 bits.
    magnitude: Option<u64>,
    /// Where the digits end.
    end: usize,
}

/// Reads optional white space, an optional sign and decimal digits, then checks what memcached
/// checks: at least one digit, and the digits followed by the end of the token or white space.
fn scan(token: &[u8]) -> Option<Scanned> {
    let mut i = token.iter().take_while(|&&b| is_c_space(b)).count();
    let negative = match token.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut magnitude = Some(0u64);
    while let Some(&b) = token.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        let digit = u64::from(b - b'0');
        magnitude = magnitude
            .and_then(|m| m.checked_mul(10))
            .and_then(|m| m.checked_add(digit));
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    match token.get(i) {
        None => {}
        Some(&b) if is_c_space(b) || b == 0 => {}
        Some(_) => return None,
    }
    Some(Scanned {
        negative,
        magnitude,
        end: i,
    })
}

/// memcached's `safe_strtoull`: a 64-bit unsigned number; negative numbers are refused unless
/// they wrap to a value below 2^63 (C's `strtoull` negates in unsigned arithmetic).
pub(crate) fn parse_u64(token: &[u8]) -> Option<u64> {
    let scanned = scan(token)?;
    let magnitude = scanned.magnitude?;
    let value = if scanned.negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    };
    if value > i64::MAX as u64 && token[..scanned.end].contains(&b'-') {
        return None;
    }
    Some(value)
}

/// memcached's `safe_strtoul` on a 64-bit host: read as [`parse_u64`], then truncated to 32
/// bits (`4294967297` reads as 1).
pub(crate) fn parse_u32(token: &[u8]) -> Option<u32> {
    parse_u64(token).map(|v| v as u32)
}

/// memcached's `safe_strtol` on a 64-bit host: a signed 64-bit number, then truncated to 32
/// bits (`4294967306` reads as 10, `2147483648` as -2147483648).
pub(crate) fn parse_i32(token: &[u8]) -> Option<i32> {
    let scanned = scan(token)?;
    let magnitude = scanned.magnitude?;
    let value = if scanned.negative {
        if magnitude > 1u64 << 63 {
            return None;
        }
        (magnitude as i64).wrapping_neg()
    } else {
        i64::try_from(magnitude).ok()?
    };
    Some(value as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_collapse_spaces_and_keep_tabs() {
        let t = Tokens::split(b"  set  a\tb   0 ", TOKENS_MAX);
        assert_eq!(t.len(), 3);
        assert_eq!(t.get(0), b"set");
        assert_eq!(t.get(1), b"a\tb");
        assert_eq!(t.get(2), b"0");
        assert_eq!(t.get(3), b"");
        assert_eq!(t.get(9), b"");
    }

    #[test]
    fn tokens_cap_like_memcached() {
        let line = b"t ".repeat(30);
        let t = Tokens::split(&line, TOKENS_MAX);
        assert_eq!(t.len(), 23);
        let line = b"t ".repeat(23);
        assert_eq!(Tokens::split(&line, TOKENS_MAX).len(), 23);
    }

    #[test]
    fn unsigned_numbers_follow_strtoull() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"01"), Some(1));
        assert_eq!(parse_u64(b"+1"), Some(1));
        assert_eq!(parse_u64(b" \t5"), Some(5));
        assert_eq!(parse_u64(b"5\tjunk"), Some(5));
        assert_eq!(parse_u64(b"5\r"), Some(5));
        assert_eq!(parse_u64(b"-0"), Some(0));
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"+"), None);
        assert_eq!(parse_u64(b"0x1"), None);
        assert_eq!(parse_u64(b"1.5"), None);
        assert_eq!(parse_u64(b"abc"), None);
    }

    #[test]
    fn u32_and_i32_wrap_like_a_64_bit_host() {
        assert_eq!(parse_u32(b"4294967296"), Some(0));
        assert_eq!(parse_u32(b"4294967297"), Some(1));
        assert_eq!(parse_u32(b"-1"), None);
        assert_eq!(parse_i32(b"-1"), Some(-1));
        assert_eq!(parse_i32(b"2147483648"), Some(i32::MIN));
        assert_eq!(parse_i32(b"4294967306"), Some(10));
        assert_eq!(parse_i32(b"9223372036854775807"), Some(-1));
        assert_eq!(parse_i32(b"9223372036854775808"), None);
        assert_eq!(parse_i32(b"-9223372036854775808"), Some(0));
        assert_eq!(parse_i32(b"-9223372036854775809"), None);
        assert_eq!(parse_i32(b"1.5"), None);
    }
}
