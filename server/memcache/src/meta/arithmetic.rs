//! `ma <key> <flag>*\r\n`: meta arithmetic.
//!
//! Increments (mode `MI`, `M+`, the default) or decrements (`MD`, `M-`) by `D` (default 1).
//! Success is `HD`, or `VA <len>\r\n<number>\r\n` with `v` (nothing with `q`), with the `c`,
//! `t`, `O` and `k` flags in request order; failures are `NF`, `NS` or `EX` with `O` and `k`.
//! With `N`, a miss creates the item with value `J` (default 0). Flag errors are reported as
//! `CLIENT_ERROR invalid or duplicate flag`.

use alloc::vec::Vec;
use core::fmt;

use super::{fmt_key, write_opaque_and_key, Line, MetaFlags, META_TOKENS_MAX};
use crate::arithmetic::{write_decimal, ArithmeticMode};
use crate::key::Key;
use crate::lex::Tokens;
use crate::limits::Limits;
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// The outcome of an `ma`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaArithmeticOutcome {
    /// The delta was applied (or the item created by `N`).
    Done {
        /// The new value.
        value: u64,
        /// The item's new CAS unique (`c`).
        cas: u64,
        /// Seconds until it expires, `-1` for never (`t`).
        ttl: i64,
    },
    /// `NF`: no such item, and no `N`.
    NotFound,
    /// `NS`: the item could not be created after a miss.
    NotStored,
    /// `EX`: the `C` CAS did not match.
    Exists,
}

/// A parsed `ma`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaArithmetic<'a> {
    /// The key (decoded when `b` was given).
    pub key: Key<'a>,
    /// Increment or decrement.
    pub mode: ArithmeticMode,
    /// The flags (`D` delta, `J` initial, `N` autovivify, `C`, `T`, ...).
    pub flags: MetaFlags<'a>,
}

impl<'a> MetaArithmetic<'a> {
    pub(crate) fn parse(line: &'a [u8], tokens: &Tokens<'a>, limits: &Limits) -> Request<'a> {
        if tokens.len() < 2 {
            return Request::Rejected(Rejection::error());
        }
        let reject = |e| Request::Rejected(Rejection::client(e, false));
        let key = tokens.get(1);
        if key.len() > limits.key_len_max {
            return reject(ClientError::BadCommandLineFormat);
        }
        if tokens.len() + 1 > META_TOKENS_MAX {
            return reject(ClientError::FlagsTooLong);
        }
        let Ok((flags, key)) = MetaFlags::parse(line, tokens, 2, key) else {
            return reject(ClientError::InvalidOrDuplicateFlag);
        };
        let mode = match flags.mode {
            None | Some(b'I') | Some(b'+') => ArithmeticMode::Increment,
            Some(b'D') | Some(b'-') => ArithmeticMode::Decrement,
            Some(_) => return reject(ClientError::InvalidArithmeticMode),
        };
        if let Err(e) = flags.check_opaque() {
            return reject(e);
        }
        Request::MetaArithmetic(MetaArithmetic { key, mode, flags })
    }

    /// The amount to add or subtract (`D`, default 1).
    pub fn delta(&self) -> u64 {
        self.flags.delta.unwrap_or(1)
    }

    /// The value of an item created on a miss (`J`, default 0).
    pub fn initial(&self) -> u64 {
        self.flags.initial.unwrap_or(0)
    }

    /// Appends the reply, or nothing for a success with `q`.
    pub fn write_reply(&self, out: &mut Vec<u8>, outcome: MetaArithmeticOutcome) {
        let (value, cas, ttl) = match outcome {
            MetaArithmeticOutcome::Done { value, cas, ttl } => (value, cas, ttl),
            MetaArithmeticOutcome::NotFound => return self.write_failure(out, b"NF"),
            MetaArithmeticOutcome::NotStored => return self.write_failure(out, b"NS"),
            MetaArithmeticOutcome::Exists => return self.write_failure(out, b"EX"),
        };
        if self.flags.quiet {
            return;
        }
        let mut number = Vec::with_capacity(20);
        write_decimal(value, &mut number);
        let mut line = if self.flags.return_value {
            Line::value(out, number.len())
        } else {
            Line::new(out, b"HD")
        };
        for token in self.flags.tokens() {
            match token[0] {
                b'c' => line.unsigned(b'c', cas),
                b't' => line.signed(b't', ttl),
                b'O' => line.opaque(token),
                b'k' => line.key(self.key.as_bytes(), self.key.is_binary()),
                _ => {}
            }
        }
        let out = line.end();
        if self.flags.return_value {
            out.extend_from_slice(&number);
            out.extend_from_slice(b"\r\n");
        }
    }

    fn write_failure(&self, out: &mut Vec<u8>, code: &[u8]) {
        let mut line = Line::new(out, code);
        write_opaque_and_key(&mut line, &self.flags, &self.key);
        line.end();
    }
}

impl fmt::Display for MetaArithmetic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ma")?;
        fmt_key(f, &self.key)?;
        write!(f, " mode={} {}", self.mode.name(), self.flags)
    }
}
