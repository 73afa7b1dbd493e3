//! `me <key> [b]\r\n` (meta debug) and `mn\r\n` (meta no-op).
//!
//! `me` answers `ME <key> exp=<s> la=<s> cas=<n> fetch=<yes|no> cls=<n> size=<n>\r\n`, or `EN`
//! on a miss. Unlike the other meta commands, it takes no flags: only a second token `b`
//! (base64 key) means anything, and a missing key is `CLIENT_ERROR bad command line format`,
//! not `ERROR`. `mn` ignores its arguments and answers `MN`.

use alloc::vec::Vec;
use core::fmt;

use super::fmt_key;
use crate::arithmetic::{write_decimal, write_signed};
use crate::base64;
use crate::key::Key;
use crate::lex::Tokens;
use crate::limits::Limits;
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// Appends `MN\r\n`, the reply to `mn`.
pub fn write_meta_noop(out: &mut Vec<u8>) {
    out.extend_from_slice(b"MN\r\n");
}

/// A parsed `me`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaDebug<'a> {
    /// The key (decoded when `b` was given).
    pub key: Key<'a>,
}

/// An item's internals, as `me` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaDebugInfo<'i> {
    /// The item's key.
    pub key: &'i [u8],
    /// Whether the key is binary (printed in base64, without a `b` flag).
    pub key_binary: bool,
    /// `exp`: seconds until it expires, `-1` for never.
    pub exp: i64,
    /// `la`: seconds since the last access.
    pub last_access_secs: u64,
    /// `cas`.
    pub cas: u64,
    /// `fetch`: fetched before.
    pub fetched: bool,
    /// `cls`: the slab class (memcached's; the server picks what it means).
    pub class: u32,
    /// `size`: the item's total size (see [`item_size_bytes`](crate::item_size_bytes)).
    pub size: u64,
}

impl<'a> MetaDebug<'a> {
    pub(crate) fn parse(tokens: &Tokens<'a>, limits: &Limits) -> Request<'a> {
        let bad = Request::Rejected(Rejection::client(ClientError::BadCommandLineFormat, false));
        let key = tokens.get(1);
        if tokens.len() < 2 || key.len() > limits.key_len_max {
            return bad;
        }
        let key = if tokens.len() >= 3 && tokens.get(2) == b"b" {
            match base64::decode(key) {
                Some(decoded) => Key::binary(decoded),
                None => return bad,
            }
        } else {
            Key::plain(key)
        };
        Request::MetaDebug(MetaDebug { key })
    }

    /// Appends the `ME` line for a hit.
    pub fn write_hit(&self, out: &mut Vec<u8>, info: &MetaDebugInfo<'_>) {
        out.extend_from_slice(b"ME ");
        if info.key_binary {
            base64::encode_into(info.key, out);
        } else {
            out.extend_from_slice(info.key);
        }
        out.extend_from_slice(b" exp=");
        write_signed(info.exp, out);
        out.extend_from_slice(b" la=");
        write_decimal(info.last_access_secs, out);
        out.extend_from_slice(b" cas=");
        write_decimal(info.cas, out);
        out.extend_from_slice(if info.fetched {
            b" fetch=yes"
        } else {
            b" fetch=no"
        });
        out.extend_from_slice(b" cls=");
        write_decimal(u64::from(info.class), out);
        out.extend_from_slice(b" size=");
        write_decimal(info.size, out);
        out.extend_from_slice(b"\r\n");
    }

    /// Appends `EN\r\n`, the reply to a miss.
    pub fn write_miss(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"EN\r\n");
    }
}

impl fmt::Display for MetaDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("me")?;
        fmt_key(f, &self.key)
    }
}
