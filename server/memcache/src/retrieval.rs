//! Retrieval commands: `get`, `gets`, `gat` and `gats`.
//!
//! ```text
//! get <key>*\r\n              gets <key>*\r\n
//! gat <exptime> <key>*\r\n    gats <exptime> <key>*\r\n
//! ```
//!
//! The reply is one `VALUE <key> <flags> <bytes>[ <cas unique>]\r\n<data>\r\n` per hit (the
//! CAS unique for `gets` and `gats`), then `END\r\n`. A key longer than the limit fails the
//! whole command with `CLIENT_ERROR bad command line format` (memcached drops the values it
//! had already found). These lines may be longer than other commands' (see
//! [`Limits::multiget_line_len_max`](crate::Limits::multiget_line_len_max)); the keys are not
//! copied but iterated from the line.

use core::fmt;

use crate::display::{opt, Quoted};
use crate::lex::{offset_in, parse_i32, words, Tokens};
use crate::limits::Limits;
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// Which retrieval command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrievalCommand {
    /// `get`: values.
    Get,
    /// `gets`: values with their CAS uniques.
    Gets,
    /// `gat`: values, and set each found item's expiration time.
    Gat,
    /// `gats`: as `gat`, with CAS uniques.
    Gats,
}

impl RetrievalCommand {
    /// The command's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            RetrievalCommand::Get => "get",
            RetrievalCommand::Gets => "gets",
            RetrievalCommand::Gat => "gat",
            RetrievalCommand::Gats => "gats",
        }
    }

    pub(crate) fn from_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"get" => RetrievalCommand::Get,
            b"gets" => RetrievalCommand::Gets,
            b"gat" => RetrievalCommand::Gat,
            b"gats" => RetrievalCommand::Gats,
            _ => return None,
        })
    }

    /// Whether `VALUE` lines carry the CAS unique.
    pub fn returns_cas(self) -> bool {
        matches!(self, RetrievalCommand::Gets | RetrievalCommand::Gats)
    }
}

/// A parsed retrieval command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieval<'a> {
    /// Which command.
    pub command: RetrievalCommand,
    /// For `gat` and `gats`: the new expiration time of every item found.
    pub exptime: Option<i64>,
    /// The part of the line holding the keys.
    keys: &'a [u8],
}

impl<'a> Retrieval<'a> {
    /// The keys, in order. Duplicates are kept (memcached answers each one). `gat` and `gats`
    /// may have none, and are then answered with just `END`.
    pub fn keys(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        words(self.keys)
    }

    /// Parses a retrieval line. The caller has checked there are at least two tokens.
    pub(crate) fn parse(
        command: RetrievalCommand,
        line: &'a [u8],
        tokens: &Tokens<'a>,
        limits: &Limits,
    ) -> Request<'a> {
        let (exptime, keys_from) = match command {
            RetrievalCommand::Get | RetrievalCommand::Gets => (None, tokens.get(0)),
            RetrievalCommand::Gat | RetrievalCommand::Gats => {
                let Some(exptime) = parse_i32(tokens.get(1)) else {
                    return Request::Rejected(Rejection::client(
                        ClientError::InvalidExptime,
                        false,
                    ));
                };
                (Some(i64::from(exptime)), tokens.get(1))
            }
        };
        let keys = &line[end_offset(line, keys_from)..];
        if words(keys).any(|key| key.len() > limits.key_len_max) {
            return Request::Rejected(Rejection::client(ClientError::BadCommandLineFormat, false));
        }
        Request::Retrieval(Retrieval {
            command,
            exptime,
            keys,
        })
    }
}

/// Where `token`, a sub-slice of `line`, ends within `line`.
fn end_offset(line: &[u8], token: &[u8]) -> usize {
    (offset_in(line, token) + token.len()).min(line.len())
}

impl fmt::Display for Retrieval<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.command.name())?;
        opt(f, "exptime", self.exptime)?;
        f.write_str(" keys=[")?;
        for (i, key) in self.keys().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}", Quoted(key))?;
        }
        f.write_str("]")
    }
}
