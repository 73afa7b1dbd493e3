//! Disk mode: the engine's write-ahead log with group commit, recovery on open, and the flush of
//! frozen memtables to tables recorded in the manifest.
//!
//! ```text
//!   commit (under the commit lock)        waiting (outside it)            maintenance
//!   validate ─ seq = last+1.. ─ append ─  leader: write + sync_data  ─── frozen memtable ─ table
//!   record to the WAL ─ insert ─ publish  followers: sleep until their    ─ manifest edit ─ drop
//!                                         sequence is durable              old WAL segments
//! ```
//!
//! - [`log`]: the WAL writer the engine appends to under its commit lock, so that the order of
//!   records in the log is the order of sequence numbers; group commit; the durability modes;
//!   sticky poisoning after a failed sync; stalling and resuming on a full disk.
//! - [`open`]: opening a directory: `CURRENT`, the manifest, the live tables, replay of the WAL
//!   segments the manifest still needs, cutting a torn tail, a fresh manifest and segment.
//! - [`flush`]: writing a frozen memtable to a table and recording it in the manifest.
//!
//! `docs/durability.md` states the guarantees and the trade-offs.

pub(crate) mod flush;
pub(crate) mod log;
pub(crate) mod open;
pub(crate) mod table;

use alloc::boxed::Box;
use alloc::sync::Arc;

use ppdb_platform::{Duration, ErrorKind, File};

use crate::memtable::VersionRef;
use crate::table::TableEntry;
use crate::Error;

/// When a committed write is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A write returns only once its WAL record is synced (group commit: one sync serves every
    /// writer waiting). Nothing acknowledged is lost, even on power loss.
    Sync,
    /// A write returns once its record is written to the file (the operating system holds it);
    /// the log is synced when `ms` milliseconds have passed since the last sync, checked at each
    /// commit and by [`crate::Engine::sync_wal`] (call it from a timer). A killed process loses
    /// nothing; a power loss loses at most the writes of the last `ms` milliseconds (plus the
    /// time until the next commit or timer call).
    Periodic {
        /// The sync interval in milliseconds.
        ms: u64,
    },
    /// As `Sync`, but a commit returns as soon as its record is written to the file (so that a
    /// full disk fails that commit), and the caller makes it durable with
    /// [`crate::Engine::sync_wal`] before acknowledging it. A server uses this
    /// to collect the commits of all the requests it just executed (from many connections)
    /// into one group commit, instead of blocking a thread per commit.
    SyncByCaller,
    /// A write returns once its record is written to the file; the log is synced only when a
    /// memtable is rotated or flushed. A killed process loses nothing; a power loss may lose
    /// any write since the last rotation.
    None,
}

/// What recovery does with corruption (damage in bytes that were synced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoveryMode {
    /// Corruption fails the open.
    #[default]
    Strict,
    /// Corrupt regions of the WAL are skipped and counted ([`RecoveryInfo::skipped_regions`]).
    SkipCorrupt,
}

/// How a database directory is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskOptions {
    /// When writes are made durable.
    pub durability: Durability,
    /// What recovery does with corruption.
    pub recovery: RecoveryMode,
}

impl Default for DiskOptions {
    fn default() -> Self {
        DiskOptions {
            durability: Durability::Sync,
            recovery: RecoveryMode::Strict,
        }
    }
}

/// What opening a directory found and did (for the server's log).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecoveryInfo {
    /// Whether the directory held no database (a new one was created).
    pub created: bool,
    /// The manifest read (`None` for a new database).
    pub manifest_number: Option<u64>,
    /// Live tables opened.
    pub tables: usize,
    /// WAL segments replayed.
    pub segments: usize,
    /// Batches (logical records) replayed.
    pub records: u64,
    /// Their bytes.
    pub record_bytes: u64,
    /// The first and last sequence number replayed (`None` if nothing was).
    pub seq_range: Option<(u64, u64)>,
    /// The last sequence number after recovery.
    pub seq_last: u64,
    /// Batches skipped because their sequence numbers were not above the last one replayed:
    /// already in tables, or left behind by a failed write.
    pub records_stale: u64,
    /// Corrupt regions skipped ([`RecoveryMode::SkipCorrupt`]).
    pub skipped_regions: u64,
    /// Bytes in them.
    pub skipped_bytes: u64,
    /// The torn tail cut from the newest segment: `(segment, offset, bytes dropped)`.
    pub torn_tail: Option<(u64, u64, u64)>,
    /// Time spent, from the platform's monotonic clock.
    pub elapsed: Duration,
}

/// Counters and flags of the disk layer, part of [`crate::EngineStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Whether a sync failed: the engine refuses writes for good (reads keep working).
    pub poisoned: bool,
    /// Whether the last WAL write failed (a full disk): writes are refused until one succeeds.
    pub stalled: bool,
    /// WAL syncs done.
    pub wal_syncs: u64,
    /// Batches appended to the WAL.
    pub wal_records: u64,
    /// Their bytes.
    pub wal_bytes: u64,
    /// Writes refused because the WAL could not be written.
    pub wal_write_errors: u64,
    /// The WAL segment being written.
    pub wal_log_number: u64,
    /// The last sequence number known durable.
    pub seq_durable: u64,
    /// Tables live.
    pub tables: usize,
    /// Their bytes.
    pub table_bytes: u64,
    /// Memtables flushed to tables.
    pub flushes: u64,
    /// Flushes that failed (retried later).
    pub flush_errors: u64,
    /// WAL segments deleted after a flush.
    pub segments_deleted: u64,
    /// Table reads that failed (I/O error or corruption) in calls that cannot report an error.
    pub read_errors: u64,
}

/// A file shared between the WAL writer and the thread that syncs it outside the log's lock.
#[derive(Debug)]
pub(crate) struct SharedFile<F>(pub(crate) Arc<F>);

impl<F> Clone for SharedFile<F> {
    fn clone(&self) -> Self {
        SharedFile(self.0.clone())
    }
}

impl<F: File> File for SharedFile<F> {
    fn len(&self) -> ppdb_platform::Result<u64> {
        self.0.len()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> ppdb_platform::Result<usize> {
        self.0.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> ppdb_platform::Result<()> {
        self.0.write_at(buf, offset)
    }
    fn set_len(&self, len: u64) -> ppdb_platform::Result<()> {
        self.0.set_len(len)
    }
    fn sync_data(&self) -> ppdb_platform::Result<()> {
        self.0.sync_data()
    }
}

/// The error a failed write reports: a full disk is [`Error::DiskFull`].
pub(crate) fn write_error(e: Error) -> Error {
    match e {
        Error::Platform(p) if p.kind() == ErrorKind::NoSpace => Error::DiskFull,
        other => other,
    }
}

/// What the engine asks of its disk storage (object safe, so that the engine stays free of the
/// platform's type parameter).
pub(crate) trait Storage: Send + Sync {
    /// Logs a batch; called under the commit lock, in sequence order.
    fn append(&self, first_seq: u64, batch: log::LogBatch<'_>) -> crate::Result<()>;
    /// Starts a new WAL segment before the active memtable (whose last sequence is
    /// `seq_last`) is frozen; called under the commit lock.
    fn rotate(&self, seq_last: u64) -> crate::Result<()>;
    /// Waits, outside the commit lock, until `seq` is durable as the mode promises.
    fn wait_durable(&self, seq: u64) -> crate::Result<()>;
    /// Syncs everything logged so far.
    fn sync(&self) -> crate::Result<()>;
    /// Flushes frozen memtables: `fill` writes their versions (in internal-key order) into a
    /// new table, which is synced, renamed and recorded in the manifest with the WAL cleanup
    /// the flush allows. Returns the table opened for reading (`None` if `fill` wrote nothing).
    /// Called with the engine's merge lock held (one flush at a time).
    fn flush(
        &self,
        request: FlushRequest<'_>,
        fill: &mut dyn FnMut(&mut dyn TableSink) -> crate::Result<()>,
    ) -> crate::Result<Option<Arc<dyn TableSource>>>;
    /// Counters and flags.
    fn stats(&self) -> DiskStats;
    /// Whether a sync failed: every later write is refused (see `DiskStats::poisoned`).
    fn is_poisoned(&self) -> bool;
}

/// What a flush covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlushRequest<'r> {
    /// The last sequence of the newest memtable flushed (the commit sequence when it was
    /// frozen): every sequence up to it is in the tables once the flush is recorded.
    pub(crate) seq_flushed: u64,
    /// The `flush_all` markers at or below `seq_flushed` (the manifest keeps them: tables do
    /// not hold markers).
    pub(crate) flush_markers: &'r [u64],
}

/// Receives the versions of a table being written, in internal-key order.
pub(crate) trait TableSink {
    /// Adds one version.
    fn add(&mut self, version: &VersionRef<'_>) -> crate::Result<()>;
}

/// A table as the engine reads it (object safe: no platform type parameter). Read errors
/// (I/O, corruption) cannot be reported through the engine's read calls: the table counts
/// them ([`DiskStats::read_errors`]) and reads as if the version were absent.
pub(crate) trait TableSource: Send + Sync + core::fmt::Debug {
    /// The newest version of `key` at or below `seq` (bloom filter and key range first).
    fn get(&self, key: &[u8], seq: u64) -> Option<TableEntry>;
    /// A cursor over the table's versions in internal order.
    fn cursor(&self) -> Box<dyn TableCursor + '_>;
}

/// A cursor over one table; a read error ends it (and is counted).
pub(crate) trait TableCursor {
    /// Positions on the first version `>= (key, seq)` in internal order.
    fn seek(&mut self, key: &[u8], seq: u64);
    /// Positions on the first version.
    fn seek_to_first(&mut self);
    /// Moves to the next version.
    fn advance(&mut self);
    /// The current version, borrowed from the cursor.
    fn current(&self) -> Option<VersionRef<'_>>;
}
