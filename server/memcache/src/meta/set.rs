//! `ms <key> <datalen> <flag>*\r\n<data>\r\n`: meta set.
//!
//! Replies `HD` (stored; nothing with `q`), `NS` (not stored), `EX` (CAS mismatch), `NF` (not
//! found), each with the `O`, `k` and `c` return flags in request order (`c` is 0 unless
//! stored). The mode flag `M` picks the storage command: `S` set (default), `E` add, `A`
//! append, `P` prepend, `R` replace; with `C`, set and replace compare the CAS unique. A
//! flag error after the data length has been read still swallows the data block.

use alloc::vec::Vec;
use core::fmt;

use super::{fmt_key, Line, MetaFlags, META_TOKENS_MAX};
use crate::display::Quoted;
use crate::key::Key;
use crate::lex::{parse_i32, Tokens};
use crate::limits::Limits;
use crate::parser::{DataRequest, LineOutcome};
use crate::reply::{ClientError, Rejection};
use crate::request::{Request, TooLarge, TooLargeCommand};

/// The storage mode of an `ms` (its `M` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// `MS` (default): store.
    Set,
    /// `ME`: store only if absent ("add").
    Add,
    /// `MA`: append to the current value.
    Append,
    /// `MP`: prepend to the current value.
    Prepend,
    /// `MR`: store only if present.
    Replace,
}

impl SetMode {
    fn from_flag(mode: Option<u8>) -> Option<Self> {
        Some(match mode {
            None | Some(b'S') => SetMode::Set,
            Some(b'E') => SetMode::Add,
            Some(b'A') => SetMode::Append,
            Some(b'P') => SetMode::Prepend,
            Some(b'R') => SetMode::Replace,
            Some(_) => return None,
        })
    }

    /// The mode's name: `set`, `add`, `append`, `prepend` or `replace`.
    pub fn name(self) -> &'static str {
        match self {
            SetMode::Set => "set",
            SetMode::Add => "add",
            SetMode::Append => "append",
            SetMode::Prepend => "prepend",
            SetMode::Replace => "replace",
        }
    }
}

/// The outcome of an `ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaSetStatus {
    /// `HD`: stored.
    Stored,
    /// `NS`: not stored (add on a present key, replace/append/prepend on an absent one).
    NotStored,
    /// `EX`: the CAS unique did not match.
    Exists,
    /// `NF`: a CAS compare on an absent key.
    NotFound,
}

/// A parsed `ms` with its data block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaSet<'a> {
    /// The key (decoded when `b` was given).
    pub key: Key<'a>,
    /// The mode.
    pub mode: SetMode,
    /// The flags (`F` client flags, `T` TTL, `C` compare CAS, `I`, `N`, ...).
    pub flags: MetaFlags<'a>,
    /// The data block, without its `\r\n`.
    pub data: &'a [u8],
}

impl<'a> MetaSet<'a> {
    pub(crate) fn parse(line: &'a [u8], tokens: &Tokens<'a>, limits: &Limits) -> LineOutcome<'a> {
        let count = tokens.len();
        if count < 2 {
            return LineOutcome::Done(Request::Rejected(Rejection::error()));
        }
        let reject = |e| LineOutcome::Done(Request::Rejected(Rejection::client(e, false)));
        let key = tokens.get(1);
        if key.len() > limits.key_len_max || count == 2 {
            return reject(ClientError::BadCommandLineFormat);
        }
        if count + 1 > META_TOKENS_MAX {
            return reject(ClientError::FlagsTooLong);
        }
        let len = match parse_i32(tokens.get(2)) {
            Some(len) if (0..=i32::MAX - 2).contains(&len) => len as usize,
            _ => return reject(ClientError::BadCommandLineFormat),
        };
        // From here on memcached knows the data length, and swallows the data on errors.
        let swallow =
            |e| LineOutcome::Swallow(Request::Rejected(Rejection::client(e, false)), len + 2);
        let (flags, key) = match MetaFlags::parse(line, tokens, 3, key) {
            Ok(parsed) => parsed,
            Err(e) => return swallow(e),
        };
        let opaque = flags.check_opaque();
        let Some(mode) = SetMode::from_flag(flags.mode) else {
            return swallow(ClientError::InvalidSetMode);
        };
        if let Err(e) = opaque {
            return swallow(e);
        }
        let client_flags = flags.client_flags.unwrap_or(0);
        if limits.is_too_large(key.as_bytes().len(), client_flags, len) {
            let too_large = TooLarge {
                command: TooLargeCommand::MetaSet(mode),
                key,
                noreply: false,
            };
            return LineOutcome::Swallow(Request::TooLarge(too_large), len + 2);
        }
        LineOutcome::Data(
            DataRequest::MetaSet(MetaSet {
                key,
                mode,
                flags,
                data: &[],
            }),
            len,
        )
    }

    /// Appends the reply: the status with the `O`, `k` and `c` flags, or nothing for a stored
    /// item with `q`. `cas` is the stored item's CAS unique (memcached sends 0 otherwise).
    pub fn write_reply(&self, out: &mut Vec<u8>, status: MetaSetStatus, cas: u64) {
        let code: &[u8] = match status {
            MetaSetStatus::Stored if self.flags.quiet => return,
            MetaSetStatus::Stored => b"HD",
            MetaSetStatus::NotStored => b"NS",
            MetaSetStatus::Exists => b"EX",
            MetaSetStatus::NotFound => b"NF",
        };
        let mut line = Line::new(out, code);
        for token in self.flags.tokens() {
            match token[0] {
                b'O' => line.opaque(token),
                b'k' => line.key(self.key.as_bytes(), self.key.is_binary()),
                b'c' => line.unsigned(b'c', cas),
                _ => {}
            }
        }
        line.end();
    }
}

impl fmt::Display for MetaSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ms")?;
        fmt_key(f, &self.key)?;
        write!(
            f,
            " mode={} data={} {}",
            self.mode.name(),
            Quoted(self.data),
            self.flags
        )
    }
}
