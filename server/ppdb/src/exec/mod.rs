//! The command executor: runs one parsed memcached request against the [`Store`] and appends
//! the exact bytes memcached would reply.
//!
//! ```text
//!   Connection ──Request──> Executor::execute ──┬── classic: storage retrieval modify admin
//!       ^                        |              ├── stats, dump (cachedump, lru_crawler)
//!       └── reply bytes (out) <──┘              └── meta: mg ms md ma mn me
//!                                                    |
//!             Store (items) · ExecState (server-wide state) · WorkerCounters (stats)
//! ```
//!
//! The runtime calls [`Executor::execute`] once per request, in order, and sends `out`. Every
//! reply is memcached 1.6's, byte for byte, quiet modes included: a classic `noreply`
//! suppresses every reply, errors too; a meta `q` suppresses only the "nothing to report"
//! replies. Counters are bumped where memcached bumps its own, so `stats` reads the same.
//!
//! Item state the meta protocol needs (fetched, stale, win token sent, base64 key) lives in the
//! engine's per-version tag bits ([`tags`]). `docs/commands.md` lists every command and every
//! difference from memcached.

mod admin;
mod detail;
mod dump;
mod meta;
mod modify;
mod retrieval;
mod rusage;
mod state;
mod stats;
mod storage;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod transcript;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use ppdb_memcache::{Request, Response};

use crate::shared::{Action, ConnContext, Shared, WorkerCounters};
use crate::store::{Store, StoreError};

pub use state::ExecState;

/// The version `version` and `stats` report: the memcached release whose behaviour PPDB
/// follows, then PPDB's own version (clients such as libmemcached parse the leading
/// `major.minor.micro` and refuse a major version of 0).
pub const VERSION: &str = concat!("1.6.18-ppdb-", env!("CARGO_PKG_VERSION"));

/// The one slab class PPDB reports: `stats items`, `stats slabs`, `me` and the dumps show every
/// item in it.
pub const SLAB_CLASS: u32 = 1;

/// memcached's `MAX_NUMBER_OF_SLAB_CLASSES`: class ids at or above it are illegal.
pub const SLAB_CLASSES_MAX: u32 = 64;

/// Meta-protocol item state, kept in the engine's seven tag bits of each item version.
pub mod tags {
    /// The item was fetched since it was stored (`mg`'s `h`, `me`'s `fetch`).
    pub const FETCHED: u8 = 1 << 0;
    /// The item is stale: invalidated by `md ... I`, or stored CAS-older by `ms ... I`.
    pub const STALE: u8 = 1 << 1;
    /// A client already got the win token (`W`); others now see `Z`.
    pub const WIN_SENT: u8 = 1 << 2;
    /// The item was stored with a base64 key (`b`); replies return its key encoded.
    pub const KEY_BINARY: u8 = 1 << 3;
}

/// Executes parsed requests. Cheap to create; all state it keeps lives in [`Shared`].
#[derive(Debug, Clone)]
pub struct Executor {
    shared: Arc<Shared>,
}

/// What one request runs with.
pub(crate) struct Cx<'a> {
    /// The server's shared state.
    pub(crate) shared: &'a Shared,
    /// The connection the request came on.
    pub(crate) conn: &'a ConnContext,
    /// The unix time the request is executed at.
    pub(crate) now: u64,
}

impl Cx<'_> {
    /// The items.
    pub(crate) fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The executor's server-wide state.
    pub(crate) fn state(&self) -> &ExecState {
        &self.shared.exec
    }

    /// Adds 1 to one of the worker's counters.
    pub(crate) fn count(&self, counter: fn(&WorkerCounters) -> &AtomicU64) {
        WorkerCounters::add(counter(&self.conn.counters), 1);
    }
}

impl Executor {
    /// An executor over the server's shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
        Executor { shared }
    }

    /// The shared state it executes against.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Executes `request`, received on `ctx` at `now_unix`, and appends its reply to `out`.
    ///
    /// Returns what the runtime does next: [`Action::Close`] after `quit`,
    /// [`Action::Shutdown`] after an allowed `shutdown`, [`Action::Continue`] otherwise.
    pub fn execute(
        &self,
        ctx: &mut ConnContext,
        request: Request<'_>,
        now_unix: u64,
        out: &mut Vec<u8>,
    ) -> Action {
        let cx = Cx {
            shared: &self.shared,
            conn: ctx,
            now: now_unix,
        };
        if touches_data(&request)
            && self.shared.store.caller_syncs()
            && self.shared.store.is_poisoned()
        {
            // `--durability sync` after a failed sync: the memory may hold writes that were
            // never acknowledged and may be lost, so neither reads nor writes are served
            // (docs/server.md, "Disk mode").
            Response::ServerError(POISONED).write_to(out);
            return Action::Continue;
        }
        match request {
            Request::Storage(s) => storage::storage(&cx, &s, out),
            Request::TooLarge(t) => storage::too_large(&cx, &t, out),
            Request::Retrieval(r) => retrieval::retrieval(&cx, &r, out),
            Request::Touch(t) => retrieval::touch(&cx, &t, out),
            Request::Delete(d) => modify::delete(&cx, &d, out),
            Request::Arithmetic(a) => modify::arithmetic(&cx, &a, out),
            Request::Stats(s) => stats::stats(&cx, &s, out),
            Request::LruCrawler(c) => dump::lru_crawler(&cx, &c, out),
            Request::MetaGet(g) => meta::get::meta_get(&cx, &g, out),
            Request::MetaSet(s) => meta::set::meta_set(&cx, &s, out),
            Request::MetaDelete(d) => meta::delete::meta_delete(&cx, &d, out),
            Request::MetaArithmetic(a) => meta::arithmetic::meta_arithmetic(&cx, &a, out),
            Request::MetaNoop => ppdb_memcache::meta::write_meta_noop(out),
            Request::MetaDebug(d) => meta::debug::meta_debug(&cx, &d, out),
            Request::Rejected(r) => r.write_to(out),
            other => return admin::admin(&cx, other, out),
        }
        Action::Continue
    }
}

/// The reply to every command that reads or writes items once a sync failed under
/// `--durability sync`.
pub(crate) const POISONED: &[u8] =
    b"an earlier sync failed: the durable state is unknown, reads and writes refused";

/// Whether a request reads or writes items (as opposed to `stats`, `version` and the like).
fn touches_data(request: &Request<'_>) -> bool {
    !matches!(
        request,
        Request::Version
            | Request::Verbosity(_)
            | Request::Quit
            | Request::Shutdown(_)
            | Request::Stats(_)
            | Request::MetaNoop
            | Request::Rejected(_)
    )
}

/// Appends the reply memcached gives when a write failed in the engine.
pub(crate) fn write_store_error(error: &StoreError, out: &mut Vec<u8>) {
    let reason: &[u8] = match error {
        StoreError::Engine(message) => message.as_bytes(),
        _ => b"out of memory",
    };
    Response::ServerError(reason).write_to(out);
}

/// The size memcached charges an item (its `size` in `me` and the dumps).
pub(crate) fn item_size(key_len: usize, client_flags: u32, value_len: usize) -> u64 {
    ppdb_memcache::item_size_bytes(key_len, client_flags, value_len) as u64
}
