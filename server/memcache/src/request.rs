//! [`Request`]: everything the parser can hand the server.

use alloc::vec::Vec;
use core::fmt;

use crate::arithmetic::Arithmetic;
use crate::delete::Delete;
use crate::display::{flag, Quoted};
use crate::key::Key;
use crate::meta::{MetaArithmetic, MetaDebug, MetaDelete, MetaGet, MetaSet, SetMode};
use crate::misc::{FlushAll, LruCrawler, Shutdown, Verbosity};
use crate::reply::{ErrorReply, Rejection, ServerError};
use crate::retrieval::Retrieval;
use crate::stats::Stats;
use crate::storage::{Storage, StorageCommand};
use crate::touch::Touch;

/// One parsed request, borrowing keys and data from the input.
///
/// `Display` prints a normalized one-line form (`set key="a" flags=0 exptime=0 data="x"`), the
/// form the transcript tests compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// `set`, `add`, `replace`, `append`, `prepend`, `cas`.
    Storage(Storage<'a>),
    /// `get`, `gets`, `gat`, `gats`.
    Retrieval(Retrieval<'a>),
    /// `delete`.
    Delete(Delete<'a>),
    /// `incr`, `decr`.
    Arithmetic(Arithmetic<'a>),
    /// `touch`.
    Touch(Touch<'a>),
    /// `flush_all`.
    FlushAll(FlushAll),
    /// `version`: reply `VERSION <version>`.
    Version,
    /// `verbosity`: reply `OK`.
    Verbosity(Verbosity),
    /// `quit`: close the connection after sending what is queued; no reply.
    Quit,
    /// `shutdown`.
    Shutdown(Shutdown),
    /// `stats`.
    Stats(Stats<'a>),
    /// `lru_crawler`.
    LruCrawler(LruCrawler<'a>),
    /// `mg`.
    MetaGet(MetaGet<'a>),
    /// `ms`.
    MetaSet(MetaSet<'a>),
    /// `md`.
    MetaDelete(MetaDelete<'a>),
    /// `ma`.
    MetaArithmetic(MetaArithmetic<'a>),
    /// `mn`: reply `MN` (see [`write_meta_noop`](crate::meta::write_meta_noop)).
    MetaNoop,
    /// `me`.
    MetaDebug(MetaDebug<'a>),
    /// A storage command over the item size limit; its data block is being swallowed.
    TooLarge(TooLarge<'a>),
    /// A request memcached refuses with an error line (see [`Rejection::write_to`]).
    Rejected(Rejection),
}

/// A storage command (`set`..`cas`, or `ms`) whose item would be over
/// [`Limits::item_size_max`](crate::Limits::item_size_max).
///
/// The reply is `SERVER_ERROR object too large for cache` ([`TooLarge::write_to`]); the parser
/// swallows the data block without buffering it. memcached also unlinks the key's current
/// item for `set` and for every `ms` ([`TooLarge::removes_existing`]), so that a failed
/// overwrite does not leave the old value readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge<'a> {
    /// Which command.
    pub command: TooLargeCommand,
    /// Its key.
    pub key: Key<'a>,
    /// A classic `noreply`: send nothing (`ms` always replies, even with `q`).
    pub noreply: bool,
}

/// The command of a [`TooLarge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLargeCommand {
    /// A classic storage command.
    Storage(StorageCommand),
    /// An `ms` in the given mode.
    MetaSet(SetMode),
}

impl TooLarge<'_> {
    /// Whether memcached removes the key's current item: for `set` and for every `ms`, not for
    /// `add`, `replace`, `append`, `prepend` or `cas`.
    pub fn removes_existing(&self) -> bool {
        matches!(
            self.command,
            TooLargeCommand::Storage(StorageCommand::Set) | TooLargeCommand::MetaSet(_)
        )
    }

    /// Appends `SERVER_ERROR object too large for cache\r\n`, unless `noreply`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        self.rejection().write_to(out);
    }

    /// The reply as a [`Rejection`].
    pub fn rejection(&self) -> Rejection {
        Rejection {
            reply: ErrorReply::Server(ServerError::ObjectTooLarge),
            noreply: self.noreply,
        }
    }
}

impl Request<'_> {
    /// The command's name as memcached knows it (`"set"`, `"mg"`, ...); `"error"` for a
    /// rejected request and `"too_large"` for an oversized one.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Storage(r) => r.command.name(),
            Request::Retrieval(r) => r.command.name(),
            Request::Delete(_) => "delete",
            Request::Arithmetic(r) => r.mode.name(),
            Request::Touch(_) => "touch",
            Request::FlushAll(_) => "flush_all",
            Request::Version => "version",
            Request::Verbosity(_) => "verbosity",
            Request::Quit => "quit",
            Request::Shutdown(_) => "shutdown",
            Request::Stats(_) => "stats",
            Request::LruCrawler(_) => "lru_crawler",
            Request::MetaGet(_) => "mg",
            Request::MetaSet(_) => "ms",
            Request::MetaDelete(_) => "md",
            Request::MetaArithmetic(_) => "ma",
            Request::MetaNoop => "mn",
            Request::MetaDebug(_) => "me",
            Request::TooLarge(_) => "too_large",
            Request::Rejected(_) => "error",
        }
    }
}

impl fmt::Display for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Storage(r) => r.fmt(f),
            Request::Retrieval(r) => r.fmt(f),
            Request::Delete(r) => r.fmt(f),
            Request::Arithmetic(r) => r.fmt(f),
            Request::Touch(r) => r.fmt(f),
            Request::FlushAll(r) => r.fmt(f),
            Request::Version => f.write_str("version"),
            Request::Verbosity(r) => r.fmt(f),
            Request::Quit => f.write_str("quit"),
            Request::Shutdown(r) => r.fmt(f),
            Request::Stats(r) => r.fmt(f),
            Request::LruCrawler(r) => r.fmt(f),
            Request::MetaGet(r) => r.fmt(f),
            Request::MetaSet(r) => r.fmt(f),
            Request::MetaDelete(r) => r.fmt(f),
            Request::MetaArithmetic(r) => r.fmt(f),
            Request::MetaNoop => f.write_str("mn"),
            Request::MetaDebug(r) => r.fmt(f),
            Request::TooLarge(r) => {
                let name = match r.command {
                    TooLargeCommand::Storage(c) => c.name(),
                    TooLargeCommand::MetaSet(_) => "ms",
                };
                write!(f, "too_large {name} key={}", Quoted(r.key.as_bytes()))?;
                flag(f, "noreply", r.noreply)
            }
            Request::Rejected(r) => {
                write!(f, "error {}", r.reply)?;
                flag(f, "noreply", r.noreply)
            }
        }
    }
}
