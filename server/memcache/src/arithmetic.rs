//! `incr`/`decr <key> <delta> [noreply]\r\n`, and the arithmetic both they and `ma` perform.
//!
//! The reply is the new value in decimal, or `NOT_FOUND`. The stored value must read as a
//! 64-bit unsigned decimal number ([`parse_counter`]), or the reply is
//! `CLIENT_ERROR cannot increment or decrement non-numeric value`. Increments wrap at 2^64;
//! decrements stop at 0 ([`apply_delta`]). The new value replaces the old as decimal text,
//! padded with spaces to the old length when it is shorter ([`write_counter`]), as memcached
//! does when it updates the item in place.

use alloc::vec::Vec;
use core::fmt;

use crate::display::{flag, Quoted};
use crate::lex::{parse_u64, Tokens};
use crate::limits::Limits;
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// Increment or decrement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithmeticMode {
    /// Add, wrapping at 2^64.
    Increment,
    /// Subtract, stopping at 0.
    Decrement,
}

impl ArithmeticMode {
    /// `incr` or `decr`.
    pub fn name(self) -> &'static str {
        match self {
            ArithmeticMode::Increment => "incr",
            ArithmeticMode::Decrement => "decr",
        }
    }
}

/// A parsed `incr` or `decr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arithmetic<'a> {
    /// `incr` or `decr`.
    pub mode: ArithmeticMode,
    /// The key.
    pub key: &'a [u8],
    /// The amount to add or subtract.
    pub delta: u64,
    /// Send no reply, not even an error.
    pub noreply: bool,
}

impl<'a> Arithmetic<'a> {
    pub(crate) fn parse(mode: ArithmeticMode, tokens: &Tokens<'a>, limits: &Limits) -> Request<'a> {
        if !matches!(tokens.len(), 3 | 4) {
            return Request::Rejected(Rejection::error());
        }
        let noreply = tokens.noreply();
        let key = tokens.get(1);
        if key.len() > limits.key_len_max {
            return Request::Rejected(Rejection::client(
                ClientError::BadCommandLineFormat,
                noreply,
            ));
        }
        match parse_u64(tokens.get(2)) {
            Some(delta) => Request::Arithmetic(Arithmetic {
                mode,
                key,
                delta,
                noreply,
            }),
            None => Request::Rejected(Rejection::client(ClientError::InvalidNumericDelta, noreply)),
        }
    }
}

impl fmt::Display for Arithmetic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} key={} delta={}",
            self.mode.name(),
            Quoted(self.key),
            self.delta
        )?;
        flag(f, "noreply", self.noreply)
    }
}

/// Reads a stored value as memcached's `incr`/`decr` do, or `None` for a value they refuse as
/// non-numeric.
///
/// The value is read like C's `strtoull` on the data: leading white space and a `+` are
/// allowed, the digits may be followed by white space (or a NUL) and then anything; an empty
/// value, a negative number or one over 2^64 - 1 is refused. A value that an earlier
/// decrement left padded with spaces (`"99 "`) therefore still reads as a number.
pub fn parse_counter(value: &[u8]) -> Option<u64> {
    parse_u64(value)
}

/// The new value of an `incr` (wrapping) or `decr` (stopping at 0).
pub fn apply_delta(current: u64, mode: ArithmeticMode, delta: u64) -> u64 {
    match mode {
        ArithmeticMode::Increment => current.wrapping_add(delta),
        ArithmeticMode::Decrement => current.saturating_sub(delta),
    }
}

/// Appends the text that replaces a counter's value: `value` in decimal, padded with trailing
/// spaces to `old_len` bytes when shorter (memcached's in-place update: `"100"` decremented to
/// 99 reads back as `"99 "`). A longer result is not padded.
pub fn write_counter(value: u64, old_len: usize, out: &mut Vec<u8>) {
    let start = out.len();
    write_decimal(value, out);
    let written = out.len() - start;
    if written < old_len {
        out.resize(start + old_len, b' ');
    }
}

/// Appends `value` in decimal.
pub(crate) fn write_decimal(value: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = value;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `value` in decimal, with a `-` when negative.
pub(crate) fn write_signed(value: i64, out: &mut Vec<u8>) {
    if value < 0 {
        out.push(b'-');
    }
    write_decimal(value.unsigned_abs(), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_read_like_memcached() {
        assert_eq!(parse_counter(b"10"), Some(10));
        assert_eq!(parse_counter(b" 12"), Some(12));
        assert_eq!(parse_counter(b"12 "), Some(12));
        assert_eq!(parse_counter(b"99 "), Some(99));
        assert_eq!(parse_counter(b"+5"), Some(5));
        assert_eq!(parse_counter(b"12 abc"), Some(12));
        assert_eq!(parse_counter(b"12\0x"), Some(12));
        assert_eq!(parse_counter(b"-5"), None);
        assert_eq!(parse_counter(b""), None);
        assert_eq!(parse_counter(b"   "), None);
        assert_eq!(parse_counter(b"abc"), None);
        assert_eq!(parse_counter(b"12abc"), None);
        assert_eq!(parse_counter(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_counter(b"18446744073709551616"), None);
    }

    #[test]
    fn arithmetic_wraps_up_and_floors_down() {
        assert_eq!(apply_delta(u64::MAX, ArithmeticMode::Increment, 2), 1);
        assert_eq!(apply_delta(15, ArithmeticMode::Decrement, 100), 0);
        assert_eq!(apply_delta(10, ArithmeticMode::Increment, 5), 15);
    }

    #[test]
    fn counters_keep_their_length_when_they_shrink() {
        let mut out = Vec::new();
        write_counter(99, 3, &mut out);
        assert_eq!(out, b"99 ");
        out.clear();
        write_counter(100, 2, &mut out);
        assert_eq!(out, b"100");
        out.clear();
        write_counter(0, 20, &mut out);
        assert_eq!(out, b"0                   ");
        out.clear();
        write_decimal(u64::MAX, &mut out);
        assert_eq!(out, b"18446744073709551615");
        out.clear();
        write_signed(-1, &mut out);
        assert_eq!(out, b"-1");
    }
}
