//! `mg <key> <flag>*\r\n`: meta get.
//!
//! A hit is answered `VA <size> <flag>*\r\n<data>\r\n` when `v` was given, `HD <flag>*\r\n`
//! otherwise; a miss `EN\r\n` (nothing with `q`). Return flags: `s` size, `t` remaining TTL
//! (`-1`: never expires), `c` CAS, `f` client flags, `l` seconds since last access, `h` hit
//! before (0/1), `O` opaque, `k` key; then `Z` (a win was already sent), `X` (stale) and `W`
//! (this client won the right to recache).

use alloc::vec::Vec;
use core::fmt;

use super::{fmt_key, write_opaque_and_key, Line, MetaFlags, META_TOKENS_MAX};
use crate::key::Key;
use crate::lex::Tokens;
use crate::limits::Limits;
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// A parsed `mg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaGet<'a> {
    /// The key (decoded when `b` was given).
    pub key: Key<'a>,
    /// The flags.
    pub flags: MetaFlags<'a>,
}

/// What the server knows about the item an `mg` found, for the return flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaItem<'i> {
    /// The item's key (returned by `k`).
    pub key: &'i [u8],
    /// Whether the item was stored with a base64 key: `k` then returns it base64-encoded with
    /// a `b` flag, whichever way this request sent the key.
    pub key_binary: bool,
    /// The client flags (`f`).
    pub client_flags: u32,
    /// The value's length (`s`).
    pub value_len: usize,
    /// The CAS unique (`c`).
    pub cas: u64,
    /// Seconds until it expires, `-1` for never (`t`).
    pub ttl: i64,
    /// Seconds since it was last accessed, before this request (`l`).
    pub last_access_secs: u64,
    /// Whether it had been fetched before this request (`h`).
    pub fetched: bool,
}

/// The recache state of an item (the `N`, `R` and `I` machinery).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recache {
    /// `W`: this client won the right to recache (the item was just created by `N`, its TTL
    /// is below `R`, or it is stale and no win was sent yet).
    pub won: bool,
    /// `X`: the item is stale (invalidated by `md ... I`, or stored CAS-older by `ms ... I`).
    pub stale: bool,
    /// `Z`: a win was already sent to another client.
    pub win_sent: bool,
}

impl<'a> MetaGet<'a> {
    pub(crate) fn parse(line: &'a [u8], tokens: &Tokens<'a>, limits: &Limits) -> Request<'a> {
        if tokens.len() < 2 {
            return Request::Rejected(Rejection::error());
        }
        let key = tokens.get(1);
        let reject = |e| Request::Rejected(Rejection::client(e, false));
        if key.len() > limits.key_len_max {
            return reject(ClientError::BadCommandLineFormat);
        }
        if tokens.len() + 1 > META_TOKENS_MAX {
            return reject(ClientError::MgFlagsTooLong);
        }
        let (flags, key) = match MetaFlags::parse(line, tokens, 2, key) {
            Ok(parsed) => parsed,
            Err(e) => return reject(e),
        };
        if let Err(e) = flags.check_opaque() {
            return reject(e);
        }
        Request::MetaGet(MetaGet { key, flags })
    }

    /// Appends the reply to a hit: `VA` with the data block when `value` is given (the server
    /// passes it when `v` was sent, unless it decides otherwise), `HD` without.
    pub fn write_hit(
        &self,
        out: &mut Vec<u8>,
        item: &MetaItem<'_>,
        value: Option<&[u8]>,
        recache: Recache,
    ) {
        let mut line = match value {
            Some(v) => Line::value(out, v.len()),
            None => Line::new(out, b"HD"),
        };
        for token in self.flags.tokens() {
            match token[0] {
                b's' => line.unsigned(b's', item.value_len as u64),
                b't' => line.signed(b't', item.ttl),
                b'c' => line.unsigned(b'c', item.cas),
                b'f' => line.unsigned(b'f', u64::from(item.client_flags)),
                b'l' => line.unsigned(b'l', item.last_access_secs),
                b'h' => line.unsigned(b'h', u64::from(item.fetched)),
                b'O' => line.opaque(token),
                b'k' => line.key(item.key, item.key_binary),
                _ => {}
            }
        }
        if recache.win_sent {
            line.bare(b'Z');
        }
        if recache.stale {
            line.bare(b'X');
        }
        if recache.won {
            line.bare(b'W');
        }
        let out = line.end();
        if let Some(v) = value {
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Appends the reply to a miss: `EN` with the `O` and `k` flags, or nothing with `q`.
    pub fn write_miss(&self, out: &mut Vec<u8>) {
        if self.flags.quiet {
            return;
        }
        let mut line = Line::new(out, b"EN");
        write_opaque_and_key(&mut line, &self.flags, &self.key);
        line.end();
    }
}

impl fmt::Display for MetaGet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mg")?;
        fmt_key(f, &self.key)?;
        write!(f, " {}", self.flags)
    }
}
