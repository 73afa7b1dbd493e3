//! Error replies: `ERROR`, `CLIENT_ERROR <reason>` and `SERVER_ERROR <reason>`, with memcached's
//! exact reasons, and [`Rejection`], the parse result that carries one.

use alloc::vec::Vec;
use core::fmt;

/// The reason in a `CLIENT_ERROR` line. [`ClientError::as_str`] is memcached's exact text.
///
/// The parser produces most of them; the rest are here so a server can answer with memcached's
/// words (marked "server" below).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientError {
    /// `bad command line format`: a key too long, a malformed number, a bad data length.
    BadCommandLineFormat,
    /// `bad data chunk`: a data block not followed by `\r\n`.
    BadDataChunk,
    /// `invalid exptime argument` (`touch`, `gat`, `gats`, `flush_all`).
    InvalidExptime,
    /// `invalid numeric delta argument` (`incr`, `decr`).
    InvalidNumericDelta,
    /// `cannot increment or decrement non-numeric value` (server: the stored value is not a
    /// decimal number; see [`parse_counter`](crate::arithmetic::parse_counter)).
    NonNumericValue,
    /// `bad command line format.  Usage: delete <key> [noreply]` (two spaces, as memcached).
    DeleteUsage,
    /// `bad command line` (`stats cachedump` with too few arguments).
    BadCommandLine,
    /// `usage: stats detail on|off|dump`.
    StatsDetailUsage,
    /// `stats cachedump not allowed` (server: checked before the arguments).
    CachedumpNotAllowed,
    /// `Illegal slab id` (server: `stats cachedump` with a class out of range).
    IllegalSlabId,
    /// `invalid shutdown mode` (server, when shutdown is enabled).
    InvalidShutdownMode,
    /// `flush_all not allowed` (server, when flushing is disabled).
    FlushAllNotAllowed,
    /// `lru crawler disabled` (server).
    LruCrawlerDisabled,
    /// `sleep must be one second or less` (`lru_crawler sleep`).
    SleepTooLong,
    /// `options flags are too long` (`mg` with more than 17 flags).
    MgFlagsTooLong,
    /// `options flags too long` (`ms`, `md`, `ma` with too many flags).
    FlagsTooLong,
    /// `duplicate flag` (`mg`, `ms`; also a flag byte of 127 or more).
    DuplicateFlag,
    /// `invalid flag` (`mg`, `ms`: a flag no meta command knows).
    InvalidFlag,
    /// `invalid or duplicate flag` (`md`, `ma`: any flag error).
    InvalidOrDuplicateFlag,
    /// `bad token in command line format` (a bad number after `N`, `T`, `R`, `C` or `E`).
    BadToken,
    /// `error decoding key` (the `b` flag with a key that is not base64).
    ErrorDecodingKey,
    /// `incorrect length for M token`.
    IncorrectModeLength,
    /// `invalid numeric initial value` (`J`).
    InvalidInitialValue,
    /// `invalid numeric delta value` (`D`).
    InvalidDeltaValue,
    /// `invalid mode for ms M token`.
    InvalidSetMode,
    /// `invalid mode for ma M token`.
    InvalidArithmeticMode,
    /// `opaque token too long` (an `O` token of more than 32 bytes, the `O` included).
    OpaqueTooLong,
}

impl ClientError {
    /// The reason, without the `CLIENT_ERROR ` prefix.
    pub fn as_str(self) -> &'static str {
        use ClientError::*;
        match self {
            BadCommandLineFormat => "bad command line format",
            BadDataChunk => "bad data chunk",
            InvalidExptime => "invalid exptime argument",
            InvalidNumericDelta => "invalid numeric delta argument",
            NonNumericValue => "cannot increment or decrement non-numeric value",
            DeleteUsage => "bad command line format.  Usage: delete <key> [noreply]",
            BadCommandLine => "bad command line",
            StatsDetailUsage => "usage: stats detail on|off|dump",
            CachedumpNotAllowed => "stats cachedump not allowed",
            IllegalSlabId => "Illegal slab id",
            InvalidShutdownMode => "invalid shutdown mode",
            FlushAllNotAllowed => "flush_all not allowed",
            LruCrawlerDisabled => "lru crawler disabled",
            SleepTooLong => "sleep must be one second or less",
            MgFlagsTooLong => "options flags are too long",
            FlagsTooLong => "options flags too long",
            DuplicateFlag => "duplicate flag",
            InvalidFlag => "invalid flag",
            InvalidOrDuplicateFlag => "invalid or duplicate flag",
            BadToken => "bad token in command line format",
            ErrorDecodingKey => "error decoding key",
            IncorrectModeLength => "incorrect length for M token",
            InvalidInitialValue => "invalid numeric initial value",
            InvalidDeltaValue => "invalid numeric delta value",
            InvalidSetMode => "invalid mode for ms M token",
            InvalidArithmeticMode => "invalid mode for ma M token",
            OpaqueTooLong => "opaque token too long",
        }
    }
}

/// The reason in a `SERVER_ERROR` line. [`ServerError::as_str`] is memcached's exact text.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerError {
    /// `object too large for cache`: a storage command over the item size limit.
    ObjectTooLarge,
    /// `out of memory storing object` (memory full and evictions off: memcached's `-M`).
    OutOfMemoryStoring,
    /// `out of memory` (`incr`/`decr`/`ma` could not allocate the new value).
    OutOfMemory,
    /// `out of memory writing get response`.
    OutOfMemoryWritingGet,
    /// `out of memory writing stats`.
    OutOfMemoryWritingStats,
}

impl ServerError {
    /// The reason, without the `SERVER_ERROR ` prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerError::ObjectTooLarge => "object too large for cache",
            ServerError::OutOfMemoryStoring => "out of memory storing object",
            ServerError::OutOfMemory => "out of memory",
            ServerError::OutOfMemoryWritingGet => "out of memory writing get response",
            ServerError::OutOfMemoryWritingStats => "out of memory writing stats",
        }
    }
}

/// One error reply line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorReply {
    /// `ERROR`: an unknown command, or a known one with the wrong number of tokens.
    Error,
    /// `CLIENT_ERROR <reason>`.
    Client(ClientError),
    /// `SERVER_ERROR <reason>`.
    Server(ServerError),
}

impl ErrorReply {
    /// Appends the line, `\r\n` included, to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            ErrorReply::Error => out.extend_from_slice(b"ERROR"),
            ErrorReply::Client(e) => {
                out.extend_from_slice(b"CLIENT_ERROR ");
                out.extend_from_slice(e.as_str().as_bytes());
            }
            ErrorReply::Server(e) => {
                out.extend_from_slice(b"SERVER_ERROR ");
                out.extend_from_slice(e.as_str().as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

impl fmt::Display for ErrorReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorReply::Error => f.write_str("ERROR"),
            ErrorReply::Client(e) => write!(f, "CLIENT_ERROR {}", e.as_str()),
            ErrorReply::Server(e) => write!(f, "SERVER_ERROR {}", e.as_str()),
        }
    }
}

/// A request the parser refused: the reply to send, unless memcached would stay silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// The error line memcached answers with.
    pub reply: ErrorReply,
    /// memcached stays silent: a classic command whose last token is `noreply` suppresses
    /// every reply, errors included, once memcached has read that token (meta commands always
    /// return errors, even with `q`).
    pub noreply: bool,
}

impl Rejection {
    pub(crate) fn error() -> Self {
        Rejection {
            reply: ErrorReply::Error,
            noreply: false,
        }
    }

    pub(crate) fn client(error: ClientError, noreply: bool) -> Self {
        Rejection {
            reply: ErrorReply::Client(error),
            noreply,
        }
    }

    /// Appends the reply to `out`, or nothing when [`noreply`](Self::noreply) is set.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if !self.noreply {
            self.reply.write_to(out);
        }
    }
}
