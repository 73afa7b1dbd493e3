//! `md <key> <flag>*\r\n`: meta delete.
//!
//! Replies `HD` (deleted, or marked stale with `I`; nothing with `q`), `NF` (not found) or
//! `EX` (the `C` CAS did not match), with the `O` and `k` flags. Every flag error is reported
//! as `CLIENT_ERROR invalid or duplicate flag`.

use alloc::vec::Vec;
use core::fmt;

use super::{fmt_key, write_opaque_and_key, Line, MetaFlags, META_TOKENS_MAX};
use crate::key::Key;
use crate::lex::Tokens;
use crate::limits::Limits;
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// The outcome of an `md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaDeleteStatus {
    /// `HD`: deleted (or invalidated).
    Deleted,
    /// `NF`: no such item.
    NotFound,
    /// `EX`: the CAS unique did not match.
    Exists,
}

/// A parsed `md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaDelete<'a> {
    /// The key (decoded when `b` was given).
    pub key: Key<'a>,
    /// The flags (`C` compare CAS, `I` invalidate, `T` TTL with `I`, `x` drop value, ...).
    pub flags: MetaFlags<'a>,
}

impl<'a> MetaDelete<'a> {
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
        if let Err(e) = flags.check_opaque() {
            return reject(e);
        }
        Request::MetaDelete(MetaDelete { key, flags })
    }

    /// Appends the reply, or nothing for a deletion with `q`.
    pub fn write_reply(&self, out: &mut Vec<u8>, status: MetaDeleteStatus) {
        let code: &[u8] = match status {
            MetaDeleteStatus::Deleted if self.flags.quiet => return,
            MetaDeleteStatus::Deleted => b"HD",
            MetaDeleteStatus::NotFound => b"NF",
            MetaDeleteStatus::Exists => b"EX",
        };
        let mut line = Line::new(out, code);
        write_opaque_and_key(&mut line, &self.flags, &self.key);
        line.end();
    }
}

impl fmt::Display for MetaDelete<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("md")?;
        fmt_key(f, &self.key)?;
        write!(f, " {}", self.flags)
    }
}
