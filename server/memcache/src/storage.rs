//! Storage commands: `set`, `add`, `replace`, `append`, `prepend` and `cas`.
//!
//! ```text
//! <command> <key> <flags> <exptime> <bytes> [noreply]\r\n<data>\r\n
//! cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]\r\n<data>\r\n
//! ```
//!
//! Replies: `STORED`, `NOT_STORED`, `EXISTS`, `NOT_FOUND`. Any sixth token (seventh for `cas`)
//! is accepted and ignored unless it is `noreply`. `append` and `prepend` parse flags and
//! exptime but memcached ignores them. A data block longer than the item size limit is answered
//! `SERVER_ERROR object too large for cache` and swallowed unread; for `set`, memcached also
//! removes the key's current item (see [`crate::TooLarge`]).

use core::fmt;

use crate::display::{flag, opt, Quoted};
use crate::key::Key;
use crate::lex::{parse_i32, parse_u32, parse_u64, Tokens};
use crate::limits::Limits;
use crate::parser::{DataRequest, LineOutcome};
use crate::reply::{ClientError, Rejection};
use crate::request::{Request, TooLarge, TooLargeCommand};

/// Which storage command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageCommand {
    /// `set`: store unconditionally.
    Set,
    /// `add`: store only if the key holds no item.
    Add,
    /// `replace`: store only if the key holds an item.
    Replace,
    /// `append`: add the data after the current item's data.
    Append,
    /// `prepend`: add the data before the current item's data.
    Prepend,
    /// `cas`: store only if the item's CAS unique still equals the one given.
    Cas,
}

impl StorageCommand {
    /// The command's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            StorageCommand::Set => "set",
            StorageCommand::Add => "add",
            StorageCommand::Replace => "replace",
            StorageCommand::Append => "append",
            StorageCommand::Prepend => "prepend",
            StorageCommand::Cas => "cas",
        }
    }

    pub(crate) fn from_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"set" => StorageCommand::Set,
            b"add" => StorageCommand::Add,
            b"replace" => StorageCommand::Replace,
            b"append" => StorageCommand::Append,
            b"prepend" => StorageCommand::Prepend,
            b"cas" => StorageCommand::Cas,
            _ => return None,
        })
    }
}

/// A parsed storage command with its data block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage<'a> {
    /// Which command.
    pub command: StorageCommand,
    /// The key (at most [`Limits::key_len_max`] bytes; any bytes but space, `\n` and NUL).
    pub key: &'a [u8],
    /// The client flags, stored and returned opaquely. memcached reads them as a 64-bit number
    /// and keeps the low 32 bits.
    pub client_flags: u32,
    /// The expiration time as sent (see [`expiry_to_deadline`](crate::expiry_to_deadline));
    /// memcached reads it as a 32-bit signed number, so larger values wrap.
    pub exptime: i64,
    /// The CAS unique to compare, for `cas` only.
    pub cas_unique: Option<u64>,
    /// The data block, without its `\r\n`.
    pub data: &'a [u8],
    /// Send no reply, not even an error.
    pub noreply: bool,
}

impl<'a> Storage<'a> {
    /// Parses a storage command line; the data block is read by the caller.
    pub(crate) fn parse(
        command: StorageCommand,
        tokens: &Tokens<'a>,
        limits: &Limits,
    ) -> LineOutcome<'a> {
        let count = tokens.len();
        let expected = if command == StorageCommand::Cas { 6 } else { 5 };
        if count != expected && count != expected + 1 {
            return LineOutcome::Done(Request::Rejected(Rejection::error()));
        }
        let noreply = tokens.noreply();
        let bad = LineOutcome::Done(Request::Rejected(Rejection::client(
            ClientError::BadCommandLineFormat,
            noreply,
        )));
        let key = tokens.get(1);
        if key.len() > limits.key_len_max {
            return bad;
        }
        let (Some(client_flags), Some(exptime), Some(len)) = (
            parse_u32(tokens.get(2)),
            parse_i32(tokens.get(3)),
            parse_i32(tokens.get(4)),
        ) else {
            return bad;
        };
        let cas_unique = match command {
            StorageCommand::Cas => match parse_u64(tokens.get(5)) {
                Some(cas) => Some(cas),
                None => return bad,
            },
            _ => None,
        };
        if !(0..=i32::MAX - 2).contains(&len) {
            return bad;
        }
        let len = len as usize;
        if limits.is_too_large(key.len(), client_flags, len) {
            let too_large = TooLarge {
                command: TooLargeCommand::Storage(command),
                key: Key::plain(key),
                noreply,
            };
            return LineOutcome::Swallow(Request::TooLarge(too_large), len + 2);
        }
        let storage = Storage {
            command,
            key,
            client_flags,
            exptime: i64::from(exptime),
            cas_unique,
            data: &[],
            noreply,
        };
        LineOutcome::Data(DataRequest::Storage(storage), len)
    }
}

impl fmt::Display for Storage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} key={} flags={} exptime={}",
            self.command.name(),
            Quoted(self.key),
            self.client_flags,
            self.exptime
        )?;
        opt(f, "cas", self.cas_unique)?;
        write!(f, " data={}", Quoted(self.data))?;
        flag(f, "noreply", self.noreply)
    }
}
