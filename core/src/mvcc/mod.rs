//! Multi-version concurrency control: sequence numbers, the visible watermark, snapshots,
//! write batches, optimistic transactions, and memtable rotation with garbage collection.
//!
//! ## Write path
//!
//! Every commit (a batch, a transaction, a read-modify-write) runs under one commit lock: it
//! validates (transactions), takes the next sequence numbers, inserts its versions into the
//! active memtable, then publishes the last sequence as *visible* with a release store. Readers
//! load the visible sequence with acquire and ignore every version above it, so they never see
//! half of a batch. Readers take no lock on the data: the skiplist reads are wait-free.
//!
//! ```text
//!  writer:  lock commit ─ validate ─ seq = last+1.. ─ insert into active ─ visible = last ─ unlock
//!  reader:  tables = current (Arc) ─ snap = visible ─ seek(key, snap) in active, frozen.., run
//! ```
//!
//! ## Rotation and merge
//!
//! When the active memtable reaches `Config::memtable_bytes_max` it is frozen and a new one
//! takes writes. Frozen memtables are merged with the run into a new run that keeps only what
//! live snapshots and current readers can see ([`merge`]). The merge runs outside the commit
//! lock; by default the writer that froze a memtable runs it (`Config::merge_inline`),
//! otherwise the runtime calls [`Engine::maintain`]. In disk mode the same maintenance flushes
//! the frozen memtables to a table instead (`crate::disk::flush`), and the tables are read
//! after the frozen memtables.

pub mod batch;
pub(crate) mod merge;
pub mod snapshot;
pub mod txn;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::{Bound, RangeBounds};
use core::sync::atomic::{AtomicU32, Ordering};

use crate::sync::AtomicU64;

use crate::disk::log::LogBatch;
use crate::disk::{DiskStats, FlushRequest, Storage, TableSource};
use crate::error::{Error, Result};
use crate::memtable::rng::Rng;
use crate::memtable::run::Run;
use crate::memtable::{Memtable, ValueKind, VersionRef, HEADER_BYTES};
use crate::sync::{Mutex, RwLock};
use crate::table::TableEntry;
use batch::{BatchOp, WriteBatch};
pub use merge::MergeStats;
use merge::{below_end, MergeCursor, SourceCursor};
use snapshot::{Snapshot, SnapshotRegistry};
use txn::{Isolation, Transaction};

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The active memtable is frozen once it holds this many bytes.
    pub memtable_bytes_max: usize,
    /// The size of the memtable arena's blocks.
    pub arena_block_bytes: usize,
    /// Whether the writer that freezes a memtable also merges (otherwise call `maintain`).
    pub merge_inline: bool,
    /// Keys are 1..=this many bytes.
    pub key_bytes_max: usize,
    /// Values are at most this many bytes.
    pub value_bytes_max: usize,
    /// A write batch or transaction holds at most this many operations.
    pub batch_ops_max: usize,
    /// `transaction` retries a conflicting transaction at most this many times.
    pub txn_retries_max: u32,
    /// Seeds the skiplist heights (runs are reproducible from it).
    pub seed: u64,
    /// The memory the engine may hold (memtables and run), in bytes; 0 means no limit.
    pub memory_bytes_max: usize,
    /// At the memory limit: evict the coldest keys (a cache, like memcached) when true, or
    /// refuse writes with `Error::OutOfMemory` when false (memcached's `-M`).
    pub evict: bool,
    /// Size-tiered merging of runs: a merge of frozen memtables also takes the next newer run
    /// while that run holds at most this many times the bytes gathered so far (0: never, so
    /// each merge makes a new run until [`Config::runs_max`] forces them together).
    pub run_merge_ratio: usize,
    /// The most runs kept; a merge that would leave more merges the oldest ones too.
    pub runs_max: usize,
    /// Called by long maintenance work (merges and flushes) every thousand keys or so, from
    /// the thread doing it: a host can yield the processor there (`std::thread::yield_now`),
    /// so that a merge on a busy machine runs in short slices between the threads serving
    /// requests instead of one long one. `None`: nothing is called.
    pub pause: Option<fn()>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            memtable_bytes_max: 4 << 20,
            arena_block_bytes: 256 << 10,
            merge_inline: true,
            key_bytes_max: 64 << 10,
            value_bytes_max: 64 << 20,
            batch_ops_max: 1 << 20,
            txn_retries_max: 100,
            seed: 0x5eed_f099_db00,
            memory_bytes_max: 0,
            evict: true,
            run_merge_ratio: 2,
            runs_max: 8,
            pause: None,
        }
    }
}

impl Config {
    /// The slots of a memtable's key index: one per 64 bytes of memtable budget (8 bytes each,
    /// so the index costs an eighth of the budget; it indexes up to three quarters of that many
    /// distinct keys, enough unless values are tiny).
    fn memtable_index_slots(&self) -> usize {
        self.memtable_bytes_max / 64
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<()> {
        if self.memtable_bytes_max < 4096 {
            return Err(Error::InvalidConfig(
                "memtable_bytes_max must be at least 4096",
            ));
        }
        if self.arena_block_bytes < 1024 || self.arena_block_bytes > self.memtable_bytes_max {
            return Err(Error::InvalidConfig(
                "arena_block_bytes must be in 1024..=memtable_bytes_max",
            ));
        }
        if self.key_bytes_max == 0 || self.key_bytes_max > u32::MAX as usize / 2 {
            return Err(Error::InvalidConfig("key_bytes_max must be in 1..=2^31"));
        }
        if self.value_bytes_max > u32::MAX as usize / 2 {
            return Err(Error::InvalidConfig("value_bytes_max must be at most 2^31"));
        }
        if self.memory_bytes_max != 0 && self.memory_bytes_max < 4 * self.memtable_bytes_max {
            return Err(Error::InvalidConfig(
                "memory_bytes_max must be 0 (no limit) or at least 4 * memtable_bytes_max",
            ));
        }
        if self.runs_max == 0 {
            return Err(Error::InvalidConfig("runs_max must be at least 1"));
        }
        if self.batch_ops_max == 0 {
            return Err(Error::InvalidConfig("batch_ops_max must be at least 1"));
        }
        Ok(())
    }
}

/// An item read from the engine (owned copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The value bytes.
    pub value: Vec<u8>,
    /// Opaque client flags.
    pub flags: u32,
    /// Unix time (seconds) of expiry; 0 means never.
    pub expire_at: u64,
    /// The version: the sequence number of the write.
    pub seq: u64,
    /// memcached's CAS unique: `seq`, unless the write kept an older one (a touch).
    pub cas: u64,
    /// The runtime's tags (see `PutOptions::tags`).
    pub tags: u8,
}

impl Item {
    fn from_version(v: &VersionRef<'_>) -> Item {
        Item {
            value: v.value.to_vec(),
            flags: v.flags,
            expire_at: v.expire_at,
            seq: v.seq,
            cas: v.cas(),
            tags: v.tags,
        }
    }
}

/// A range of user keys for scans: built from `..`, `a..b`, `a..`, `..b`, `a..=b`, `..=b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange<'a> {
    /// The lower bound.
    pub start: Bound<&'a [u8]>,
    /// The upper bound.
    pub end: Bound<&'a [u8]>,
}

impl<'a> KeyRange<'a> {
    /// Every key.
    pub const ALL: KeyRange<'static> = KeyRange {
        start: Bound::Unbounded,
        end: Bound::Unbounded,
    };

    /// The keys between two bounds.
    pub fn new(start: Bound<&'a [u8]>, end: Bound<&'a [u8]>) -> Self {
        KeyRange { start, end }
    }

    /// Whether `key` lies in the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        (self.start, self.end).contains(key)
    }
}

macro_rules! key_range_from {
    ($t:ty) => {
        impl<'a> From<$t> for KeyRange<'a> {
            fn from(r: $t) -> Self {
                KeyRange {
                    start: r.start_bound().cloned(),
                    end: r.end_bound().cloned(),
                }
            }
        }
    };
}
key_range_from!(core::ops::Range<&'a [u8]>);
key_range_from!(core::ops::RangeFrom<&'a [u8]>);
key_range_from!(core::ops::RangeTo<&'a [u8]>);
key_range_from!(core::ops::RangeInclusive<&'a [u8]>);
key_range_from!(core::ops::RangeToInclusive<&'a [u8]>);
key_range_from!((Bound<&'a [u8]>, Bound<&'a [u8]>));

impl From<core::ops::RangeFull> for KeyRange<'_> {
    fn from(_: core::ops::RangeFull) -> Self {
        KeyRange::ALL
    }
}

/// The outcome of a point lookup (see [`Engine::lookup_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The key holds a live value.
    Live(VersionRef<'a>),
    /// The key's newest version expired.
    Expired,
    /// The key's newest version is hidden by a `flush_all`.
    Flushed,
    /// The key is absent or deleted.
    Missing,
}

impl<'a> Lookup<'a> {
    /// The live version, if any.
    pub fn live(self) -> Option<VersionRef<'a>> {
        match self {
            Lookup::Live(v) => Some(v),
            _ => None,
        }
    }
}

/// Counters and gauges of the engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// The last published (visible) sequence number.
    pub seq_visible: u64,
    /// Bytes held by memtables and the run.
    pub memory_bytes: usize,
    /// Versions in the active memtable.
    pub active_versions: usize,
    /// Frozen memtables waiting for a merge.
    pub frozen_memtables: usize,
    /// Versions in the merged run.
    pub run_versions: usize,
    /// Merged runs (size-tiered; see [`Engine::maintain`]).
    pub runs: usize,
    /// Live snapshot handles.
    pub snapshots_live: usize,
    /// Memtables frozen so far.
    pub rotations: u64,
    /// Merges run so far.
    pub merges: u64,
    /// Versions dropped by merges so far.
    pub versions_dropped: u64,
    /// Merge inputs (memtables, runs) still being read when their merge ended, so that the
    /// large values it carried from them had their reference counts raised (see
    /// `memtable::run`, "Blobs lent by a merge"); the blobs carried from the other inputs were
    /// not touched.
    pub merge_loans_shared: u64,
    /// Transactions (and compare-and-swaps) that failed with a conflict.
    pub conflicts: u64,
    /// Keys evicted to meet the memory limit.
    pub evictions: u64,
    /// Of those, keys whose newest version was a live value.
    pub evictions_live: u64,
    /// Expired values found and turned into tombstones by merges.
    pub expired_reclaimed: u64,
    /// Writes refused at the memory limit (with `evict` off, or when nothing could go).
    pub writes_refused: u64,
    /// `flush_all` markers committed.
    pub flushes: u64,
    /// Live keys in the run after the last merge (a lower bound on live keys).
    pub run_keys_live: u64,
    /// Disk mode: the WAL and tables (all zero in memory mode). `disk.poisoned` says that a
    /// sync failed and writes are refused for good.
    pub disk: DiskStats,
}

/// The sources of the engine at one moment: swapped as a whole (copy on write).
#[derive(Debug)]
pub(crate) struct Tables {
    pub(crate) active: Arc<Memtable>,
    /// Newest first.
    pub(crate) frozen: Vec<Arc<Memtable>>,
    /// Disk mode: the tables flushed from frozen memtables, newest first; their sequence
    /// ranges do not overlap. (Disk mode has no runs.)
    pub(crate) sstables: Vec<Arc<dyn TableSource>>,
    /// The merged runs, newest first; their sequence ranges do not overlap (see
    /// [`Engine::maintain`] for how they are merged).
    pub(crate) runs: Vec<Arc<Run>>,
    /// The sequences of the `flush_all` markers still relevant, ascending.
    pub(crate) flushes: Vec<u64>,
    /// Bytes of the frozen memtables and the run (they do not change).
    settled_bytes: usize,
}

impl Tables {
    fn new(
        active: Arc<Memtable>,
        frozen: Vec<Arc<Memtable>>,
        sstables: Vec<Arc<dyn TableSource>>,
        runs: Vec<Arc<Run>>,
        flushes: Vec<u64>,
    ) -> Tables {
        let settled_bytes = frozen.iter().map(|m| m.memory_bytes()).sum::<usize>()
            + runs.iter().map(|r| r.memory_bytes()).sum::<usize>();
        Tables {
            active,
            frozen,
            sstables,
            runs,
            flushes,
            settled_bytes,
        }
    }

    /// The same sources with other frozen memtables and tables.
    fn with_frozen(
        &self,
        frozen: Vec<Arc<Memtable>>,
        sstables: Vec<Arc<dyn TableSource>>,
    ) -> Tables {
        Tables::new(
            self.active.clone(),
            frozen,
            sstables,
            self.runs.clone(),
            self.flushes.clone(),
        )
    }

    /// The newest version of `key` at or below `seq`, across all sources, ignoring
    /// `flush_all` markers. A hit in the run records an access at `epoch`. A version read from
    /// a table is decoded into `slot`, which the result borrows.
    fn get_raw<'s>(
        &'s self,
        key: &[u8],
        seq: u64,
        epoch: Option<u32>,
        slot: &'s mut Option<TableEntry>,
    ) -> Option<VersionRef<'s>> {
        if let Some(v) = self.active.get(key, seq) {
            return Some(v);
        }
        for m in &self.frozen {
            if let Some(v) = m.get(key, seq) {
                return Some(v);
            }
        }
        for t in &self.sstables {
            if let Some(entry) = t.get(key, seq) {
                let entry: &'s TableEntry = slot.insert(entry);
                return Some(entry.as_version());
            }
        }
        for run in &self.runs {
            if let Some((i, v)) = run.get_indexed(key, seq) {
                if let Some(epoch) = epoch {
                    run.touch(i, epoch);
                }
                return Some(v);
            }
        }
        None
    }

    /// The version of `key` a reader at `seq` sees (tombstones included, `None` if the key is
    /// absent or hidden by a `flush_all` at or below `seq`).
    pub(crate) fn get<'s>(
        &'s self,
        key: &[u8],
        seq: u64,
        slot: &'s mut Option<TableEntry>,
    ) -> Option<VersionRef<'s>> {
        let floor = merge::flush_floor(&self.flushes, seq);
        self.get_raw(key, seq, None, slot).filter(|v| v.seq > floor)
    }

    /// The sequence of the newest version of `key`, whatever it is (0 if none is held).
    pub(crate) fn newest_seq(&self, key: &[u8]) -> u64 {
        let mut slot = None;
        self.get_raw(key, u64::MAX, None, &mut slot)
            .map_or(0, |v| v.seq)
    }

    /// Whether a `flush_all` was committed after `seq`.
    pub(crate) fn flushed_after(&self, seq: u64) -> bool {
        self.flushes.last().is_some_and(|&f| f > seq)
    }

    /// The latest `flush_all` marker at or below `seq`.
    pub(crate) fn flush_floor(&self, seq: u64) -> u64 {
        merge::flush_floor(&self.flushes, seq)
    }

    pub(crate) fn cursor(&self) -> MergeCursor<'_> {
        let n = 1 + self.frozen.len() + self.sstables.len() + self.runs.len();
        let mut sources = Vec::with_capacity(n);
        sources.push(SourceCursor::memtable(&self.active));
        sources.extend(self.frozen.iter().map(|m| SourceCursor::memtable(m)));
        sources.extend(self.sstables.iter().map(|t| SourceCursor::table(&**t)));
        sources.extend(self.runs.iter().map(|r| SourceCursor::run(r)));
        MergeCursor::new(sources)
    }

    fn memory_bytes(&self) -> usize {
        self.active.memory_bytes() + self.settled_bytes
    }

    fn runs_bytes(&self) -> usize {
        self.runs.iter().map(|r| r.memory_bytes()).sum()
    }
}

/// State guarded by the commit lock.
#[derive(Debug)]
struct CommitState {
    seq_last: u64,
    memtable_next_id: u64,
    rng: Rng,
}

/// The in-memory MVCC engine. Time (`now`, unix seconds) is passed in by the caller.
pub struct Engine {
    config: Config,
    tables: RwLock<Arc<Tables>>,
    commit: Mutex<CommitState>,
    merge_lock: Mutex<()>,
    seq_visible: AtomicU64,
    snapshots: SnapshotRegistry,
    rotations: AtomicU64,
    merges: AtomicU64,
    versions_dropped: AtomicU64,
    merge_loans_shared: AtomicU64,
    conflicts: AtomicU64,
    evictions: AtomicU64,
    evictions_live: AtomicU64,
    expired_reclaimed: AtomicU64,
    writes_refused: AtomicU64,
    flushes: AtomicU64,
    run_keys_live: AtomicU64,
    /// The access epoch: the number of merges so far (the CLOCK hand of eviction).
    epoch: AtomicU32,
    /// Disk mode: the WAL, tables and manifest (`None` in memory mode).
    storage: Option<alloc::boxed::Box<dyn Storage>>,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Engine {
    /// An empty engine.
    pub fn new(config: Config) -> Result<Engine> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let active = Memtable::new(
            1,
            rng.next_u64(),
            config.arena_block_bytes,
            config.memtable_index_slots(),
        );
        let tables = Tables::new(
            Arc::new(active),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        Ok(Engine {
            config,
            tables: RwLock::new(Arc::new(tables)),
            commit: Mutex::new(CommitState {
                seq_last: 0,
                memtable_next_id: 2,
                rng,
            }),
            merge_lock: Mutex::new(()),
            seq_visible: AtomicU64::new(0),
            snapshots: SnapshotRegistry::default(),
            rotations: AtomicU64::new(0),
            merges: AtomicU64::new(0),
            versions_dropped: AtomicU64::new(0),
            merge_loans_shared: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            evictions_live: AtomicU64::new(0),
            expired_reclaimed: AtomicU64::new(0),
            writes_refused: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            run_keys_live: AtomicU64::new(0),
            epoch: AtomicU32::new(1),
            storage: None,
        })
    }

    /// Attaches disk storage (after recovery replayed the WAL into the memtables).
    pub(crate) fn attach_storage(&mut self, storage: alloc::boxed::Box<dyn Storage>) {
        self.storage = Some(storage);
    }

    /// Whether the engine keeps its data on disk.
    pub fn is_durable(&self) -> bool {
        self.storage.is_some()
    }

    /// Disk mode: whether a sync failed, so that what reached the disk is unknown and every
    /// later write is refused until the directory is opened again (`DiskStats::poisoned`).
    pub fn is_poisoned(&self) -> bool {
        self.storage.as_ref().is_some_and(|s| s.is_poisoned())
    }

    /// Disk mode: syncs the WAL now (everything committed so far becomes durable). With
    /// `Durability::Periodic` the runtime calls this from a timer; with `Sync` it is never
    /// needed. A no-op in memory mode.
    pub fn sync_wal(&self) -> Result<()> {
        match &self.storage {
            Some(s) => s.sync(),
            None => Ok(()),
        }
    }

    /// Waits until the commit ending at `seq` is durable as the durability mode promises.
    fn wait_durable(&self, seq: u64) -> Result<()> {
        match &self.storage {
            Some(s) => s.wait_durable(seq),
            None => Ok(()),
        }
    }

    /// Recovery: inserts a batch read from the WAL under its own sequence numbers, which must
    /// lie above every sequence so far. No storage is attached yet.
    pub(crate) fn replay_batch(&self, batch: &crate::wal::BatchDecoder<'_>) {
        use crate::wal::WalOp;
        let mut st = self.commit.lock();
        let header = batch.header();
        assert!(
            header.first_seq > st.seq_last,
            "replayed sequences go forward"
        );
        let active = self.tables.read().active.clone();
        for (seq, op) in batch.ops() {
            match op {
                WalOp::Put {
                    key,
                    value,
                    options,
                } => {
                    let _ = active.add(key, seq, ValueKind::Value, &options, value);
                }
                WalOp::Delete { key, options } => {
                    let _ = active.add(key, seq, ValueKind::Tombstone, &options, &[]);
                }
                WalOp::FlushAll { .. } => {
                    self.push_flush_marker_locked(seq);
                    self.flushes.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if header.count > 0 {
            st.seq_last = header.first_seq + u64::from(header.count) - 1;
            self.seq_visible.store(st.seq_last, Ordering::Release);
        }
        if active.memory_bytes() >= self.config.memtable_bytes_max {
            self.freeze_locked(&mut st);
        }
    }

    /// Recovery: the last sequence and the `flush_all` markers recorded in the manifest.
    pub(crate) fn restore(&self, seq_last: u64, markers: &[u64]) {
        let mut st = self.commit.lock();
        st.seq_last = st.seq_last.max(seq_last);
        self.seq_visible.store(st.seq_last, Ordering::Release);
        for &m in markers {
            self.push_flush_marker_locked(m);
        }
    }

    /// Recovery is done and the storage attached: flush what replay froze.
    pub(crate) fn after_recovery(&self, now: u64) {
        if self.config.merge_inline && self.frozen_memtables() > 0 {
            self.maintain(now);
        }
    }

    /// The last sequence assigned (recovery).
    pub(crate) fn seq_last(&self) -> u64 {
        self.commit.lock().seq_last
    }

    /// Adds a `flush_all` marker at `seq` to the tables (copy on write).
    fn push_flush_marker_locked(&self, seq: u64) {
        let mut tables = self.tables.write();
        let mut flushes = tables.flushes.clone();
        if flushes.last().is_some_and(|&f| f >= seq) {
            return;
        }
        flushes.push(seq);
        *tables = Arc::new(Tables::new(
            tables.active.clone(),
            tables.frozen.clone(),
            tables.sstables.clone(),
            tables.runs.clone(),
            flushes,
        ));
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The last published sequence number.
    pub fn seq_visible(&self) -> u64 {
        self.seq_visible.load(Ordering::Acquire)
    }

    pub(crate) fn tables(&self) -> Arc<Tables> {
        self.tables.read().clone()
    }

    /// The current sources and a sequence at which they are complete. The tables are taken
    /// first: a merge installed later could have dropped versions a smaller sequence needs.
    fn view(&self) -> (Arc<Tables>, u64) {
        let tables = self.tables();
        let seq = self.seq_visible();
        (tables, seq)
    }

    /// Takes a snapshot of the latest committed state.
    pub fn snapshot(&self) -> Snapshot<'_> {
        let seq = self.snapshots.acquire(&self.seq_visible);
        Snapshot {
            registry: &self.snapshots,
            seq,
        }
    }

    /// Reads the latest value of `key` at unix time `now`.
    pub fn get(&self, key: &[u8], now: u64) -> Option<Item> {
        self.get_with(key, now, |v| v.map(|v| Item::from_version(&v)))
    }

    /// Reads the latest version of `key` and hands it to `f` without copying the value. `f`
    /// receives `None` if the key is absent, deleted or expired at `now`.
    pub fn get_with<R>(
        &self,
        key: &[u8],
        now: u64,
        f: impl FnOnce(Option<VersionRef<'_>>) -> R,
    ) -> R {
        self.lookup_with(key, now, |l| f(l.live()))
    }

    /// Like [`Engine::get_with`], telling apart why a key is not there (for statistics such
    /// as memcached's `get_expired` and `get_flushed`). A hit records an access for eviction.
    pub fn lookup_with<R>(&self, key: &[u8], now: u64, f: impl FnOnce(Lookup<'_>) -> R) -> R {
        let (tables, seq) = self.view();
        let epoch = self.epoch.load(Ordering::Relaxed);
        let mut slot = None;
        f(lookup(&tables, key, seq, now, Some(epoch), &mut slot))
    }

    /// Reads `key` as of `snapshot`.
    pub fn get_at(&self, snapshot: &Snapshot<'_>, key: &[u8], now: u64) -> Option<Item> {
        let tables = self.tables();
        let mut slot = None;
        tables
            .get(key, snapshot.seq, &mut slot)
            .filter(|v| v.is_live(now))
            .map(|v| Item::from_version(&v))
    }

    /// Up to `limit` live items of `range` as of `snapshot`, in key order.
    pub fn scan_at<'r>(
        &self,
        snapshot: &Snapshot<'_>,
        range: impl Into<KeyRange<'r>>,
        limit: usize,
        now: u64,
    ) -> Vec<(Vec<u8>, Item)> {
        let range = range.into();
        let tables = self.tables();
        let mut cursor = tables.cursor();
        cursor.seek_bound(range.start);
        let floor = tables.flush_floor(snapshot.seq);
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(v) = cursor.next_visible(snapshot.seq, floor, now) else {
                break;
            };
            if !below_end(v.key, range.end) {
                break;
            }
            out.push((v.key.to_vec(), Item::from_version(&v)));
        }
        out
    }

    /// Iterates over the live items of `range` at the latest state, in key order. The iterator
    /// holds a snapshot and fetches items in chunks.
    pub fn scan<'r>(&self, range: impl Into<KeyRange<'r>>, now: u64) -> Scan<'_> {
        let range = range.into();
        Scan {
            engine: self,
            snapshot: self.snapshot(),
            next_start: range.start.map(<[u8]>::to_vec),
            end: range.end.map(<[u8]>::to_vec),
            now,
            buffer: alloc::collections::VecDeque::new(),
            done: false,
        }
    }

    /// Begins an optimistic transaction that reads and commits at unix time `now`.
    pub fn begin(&self, isolation: Isolation, now: u64) -> Transaction<'_> {
        Transaction::new(self, self.snapshot(), isolation, now)
    }

    /// Runs `body` in a transaction and commits it, retrying on conflict up to
    /// `Config::txn_retries_max` times. `body` may run several times; an error from it aborts.
    pub fn transaction<T>(
        &self,
        isolation: Isolation,
        now: u64,
        mut body: impl FnMut(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            let mut txn = self.begin(isolation, now);
            let out = body(&mut txn)?;
            match txn.commit() {
                Ok(_) => return Ok(out),
                Err(Error::Conflict) if attempt < self.config.txn_retries_max => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Applies a batch atomically; returns the sequence of its last operation (the visible
    /// sequence if the batch is empty).
    pub fn write(&self, batch: &WriteBatch, now: u64) -> Result<u64> {
        self.check_ops(batch.ops())?;
        if !self.has_room(batch.ops()) {
            self.ensure_room(ops_bytes(batch.ops()), now)?;
        }
        let (seq, rotated) = {
            let mut st = self.commit.lock();
            self.apply_locked(&mut st, batch.ops())?
        };
        let durable = if batch.ops().is_empty() {
            Ok(())
        } else {
            self.wait_durable(seq)
        };
        self.after_commit(rotated, now);
        durable.map(|()| seq)
    }

    /// Reads the latest version of `key` and writes what `f` decides, atomically: no other
    /// commit runs between the read and the write. `f` gets the live version (or `None`) and
    /// returns the operation to apply (or `None`) and a result. This is the mechanism behind
    /// compare-and-swap and memcached's add/replace/append/prepend/incr/decr/cas.
    pub fn update<R>(
        &self,
        key: &[u8],
        now: u64,
        mut f: impl FnMut(Option<VersionRef<'_>>) -> (Option<BatchOp>, R),
    ) -> Result<(R, Option<u64>)> {
        self.update_lookup(key, now, |lookup| f(lookup.live()))
    }

    /// Like [`Engine::update`], with the full [`Lookup`] (so the caller can tell an expired
    /// or flushed key from an absent one).
    pub fn update_lookup<R>(
        &self,
        key: &[u8],
        now: u64,
        mut f: impl FnMut(Lookup<'_>) -> (Option<BatchOp>, R),
    ) -> Result<(R, Option<u64>)> {
        self.check_key(key)?;
        loop {
            let (result, seq, rotated) = {
                let mut st = self.commit.lock();
                let (tables, seq) = self.view();
                let mut slot = None;
                let (op, result) = f(lookup(&tables, key, seq, now, None, &mut slot));
                let Some(op) = op else {
                    return Ok((result, None));
                };
                let ops = core::slice::from_ref(&op);
                self.check_ops(ops)?;
                if !self.has_room(ops) {
                    // Make room outside the commit lock, then decide again: the key may have
                    // changed meanwhile.
                    drop(st);
                    self.ensure_room(ops_bytes(ops), now)?;
                    continue;
                }
                let (seq, rotated) = self.apply_locked(&mut st, ops)?;
                (result, Some(seq), rotated)
            };
            let durable = match seq {
                Some(seq) => self.wait_durable(seq),
                None => Ok(()),
            };
            self.after_commit(rotated, now);
            return durable.map(|()| (result, seq));
        }
    }

    /// Replaces `key` with `new` (or deletes it when `new` is `None`) only if its live version
    /// is `expected` (a sequence number from a read; `None` = the key must be absent). Returns
    /// the new version, or `Error::Conflict` if the key changed.
    pub fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
        now: u64,
    ) -> Result<u64> {
        let (matched, seq) = self.update(key, now, |current| {
            if current.map(|v| v.seq) != expected {
                return (None, false);
            }
            let op = match new {
                Some(value) => BatchOp::put(key, value, batch::PutOptions::default()),
                None => BatchOp::delete(key),
            };
            (Some(op), true)
        })?;
        match (matched, seq) {
            (true, Some(seq)) => Ok(seq),
            _ => {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
                Err(Error::Conflict)
            }
        }
    }

    /// Merges frozen memtables into the run (if any); in disk mode flushes them to a table.
    /// Safe to call from any thread at any time; returns what the merges (or flush) did.
    pub fn maintain(&self, now: u64) -> MergeStats {
        self.maintain_to(now, self.run_bytes_target(0), false)
    }

    /// With a memory limit and eviction on, the bytes the run may keep after a merge: the limit
    /// less room for the next memtables to fill (and for an `incoming` write).
    fn run_bytes_target(&self, incoming: usize) -> Option<usize> {
        let limit = self.config.memory_bytes_max;
        let headroom = 2 * self.config.memtable_bytes_max + incoming;
        (limit != 0 && self.config.evict).then(|| limit.saturating_sub(headroom).max(limit / 4))
    }

    /// Merges frozen memtables into the runs; with `run_bytes_max`, evicts the coldest keys
    /// (in a merge of everything) until the runs hold at most that many bytes. `full` merges
    /// everything into one run even under the target, to reclaim all the memory that deletes,
    /// overwrites and expiry left behind.
    fn maintain_to(&self, now: u64, run_bytes_max: Option<usize>, full: bool) -> MergeStats {
        if let Some(storage) = &self.storage {
            return self.flush_frozen(&**storage, now);
        }
        let _guard = self.merge_lock.lock();
        let mut total = MergeStats::default();
        let mut evict_pass_done = false;
        loop {
            let tables = self.tables();
            let frozen_bytes = tables.settled_bytes - tables.runs_bytes();
            // Over the target, only a merge of everything can evict (dropping the versions of a
            // key from newer runs alone would uncover its older versions).
            let over = full || run_bytes_max.is_some_and(|max| tables.settled_bytes > max);
            let runs_reclaimable = tables.runs.len() > 1 || (over && !tables.runs.is_empty());
            if tables.frozen.is_empty() && (!over || evict_pass_done || !runs_reclaimable) {
                return total;
            }
            let runs_merged = if over {
                evict_pass_done = true;
                tables.runs.len()
            } else {
                let mut gathered = frozen_bytes.max(1);
                let mut n = 0;
                // Size-tiered: runs grow geometrically, so a version is rewritten about
                // log2(data / memtable) times and a read probes a handful of runs.
                let ratio = self.config.run_merge_ratio;
                let runs_max = self.config.runs_max;
                while n < tables.runs.len()
                    && (tables.runs[n].memory_bytes() <= ratio.saturating_mul(gathered)
                        || tables.runs.len() - n >= runs_max)
                {
                    gathered += tables.runs[n].memory_bytes();
                    n += 1;
                }
                n
            };
            let bottom = runs_merged == tables.runs.len();
            let (boundaries, _) = self.snapshots.boundaries(&self.seq_visible);
            let mut inputs: Vec<SourceCursor<'_>> = tables
                .frozen
                .iter()
                .map(|m| SourceCursor::memtable(m))
                .collect();
            inputs.extend(
                tables.runs[..runs_merged]
                    .iter()
                    .map(|r| SourceCursor::run(r)),
            );
            let epoch = self.epoch.load(Ordering::Relaxed);
            let params = merge::MergeParams {
                boundaries: &boundaries,
                flushes: &tables.flushes,
                now,
                epoch,
                bottom,
                output_bytes_max: if bottom { run_bytes_max } else { None },
                pause: self.config.pause,
            };
            // SAFETY: `loans` settles the blobs the new run borrows from the inputs (memtables
            // and runs) on every path out of here; until the run is installed, dropping it
            // leaves them to the inputs.
            #[expect(unsafe_code, reason = "the new run borrows blobs from the inputs")]
            let (run, stats, lent) = unsafe { merge::merge(inputs, &params) };
            let lenders = (tables.frozen.iter().cloned().map(merge::Lender::Mem))
                .chain(
                    tables.runs[..runs_merged]
                        .iter()
                        .cloned()
                        .map(merge::Lender::Run),
                )
                .collect();
            let mut loans = merge::Loans::new(lenders, lent);
            // A merge of everything dropped every version below the oldest boundary's floor;
            // the markers below it hide nothing any more. Otherwise older runs may still hold
            // versions the markers hide.
            let flush_keep = if bottom {
                tables.flush_floor(boundaries[0])
            } else {
                0
            };
            if let Some(run) = self.install_merge(&tables, run, runs_merged, flush_keep) {
                loans.borrower(run);
            }
            // The inputs are now held by `loans` and by readers of older sources only.
            drop(tables);
            let shared = loans.settle();
            self.merge_loans_shared.fetch_add(shared, Ordering::Relaxed);
            self.epoch.store(epoch.saturating_add(1), Ordering::Relaxed);
            self.merges.fetch_add(1, Ordering::Relaxed);
            let dropped = stats.versions_in - stats.versions_out;
            self.versions_dropped.fetch_add(dropped, Ordering::Relaxed);
            self.evictions
                .fetch_add(stats.keys_evicted, Ordering::Relaxed);
            self.evictions_live
                .fetch_add(stats.keys_evicted_live, Ordering::Relaxed);
            self.expired_reclaimed
                .fetch_add(stats.expired, Ordering::Relaxed);
            if bottom {
                self.run_keys_live.store(stats.keys_live, Ordering::Relaxed);
            }
            total.versions_in += stats.versions_in;
            total.versions_out += stats.versions_out;
            total.expired += stats.expired;
            total.keys_evicted += stats.keys_evicted;
            total.keys_evicted_live += stats.keys_evicted_live;
            total.keys_live = stats.keys_live;
        }
    }

    /// Whether `ops` fit under the memory limit as things stand. Deletes always fit: refusing
    /// them would keep memory full, and the next merge turns them into free space.
    fn has_room(&self, ops: &[BatchOp]) -> bool {
        let limit = self.config.memory_bytes_max;
        let puts = ops.iter().any(|op| op.kind == ValueKind::Value);
        let incoming = ops_bytes(ops) + self.config.arena_block_bytes;
        limit == 0 || !puts || self.memory_bytes() + incoming <= limit
    }

    /// Makes room for a write of about `incoming` bytes under `Config::memory_bytes_max`:
    /// merges away dead versions, evicts cold keys when `evict` is on, and otherwise refuses
    /// with `Error::OutOfMemory`.
    fn ensure_room(&self, incoming: usize, now: u64) -> Result<()> {
        let limit = self.config.memory_bytes_max;
        // The write may need a fresh arena block on top of its own bytes.
        let incoming = incoming + self.config.arena_block_bytes;
        if limit == 0 || self.memory_bytes() + incoming <= limit {
            return Ok(());
        }
        self.rotate_quiet();
        self.maintain_to(now, self.run_bytes_target(incoming), true);
        if self.memory_bytes() + incoming <= limit {
            return Ok(());
        }
        self.writes_refused.fetch_add(1, Ordering::Relaxed);
        Err(Error::OutOfMemory { limit_bytes: limit })
    }

    /// Marks every item committed so far as deleted (memcached's `flush_all`), with one
    /// sequence number; returns it. Snapshots taken before keep seeing the old items. In disk
    /// mode a failure to log the marker is not reported here: use [`Engine::try_flush_all`].
    pub fn flush_all(&self, now: u64) -> u64 {
        self.try_flush_all(now)
            .unwrap_or_else(|_| self.seq_visible())
    }

    /// [`Engine::flush_all`], reporting a failure to log the marker (disk mode).
    pub fn try_flush_all(&self, now: u64) -> Result<u64> {
        let (seq, rotated) = {
            let mut st = self.commit.lock();
            let seq = st.seq_last + 1;
            if let Some(storage) = &self.storage {
                if let Err(e) = storage.append(seq, LogBatch::FlushAll { now }) {
                    // Never reuse the sequence: the record's bytes may have reached the file.
                    st.seq_last = seq;
                    self.seq_visible.store(seq, Ordering::Release);
                    return Err(e);
                }
            }
            self.push_flush_marker_locked(seq);
            st.seq_last = seq;
            self.seq_visible.store(seq, Ordering::Release);
            self.flushes.fetch_add(1, Ordering::Relaxed);
            // Freeze so that the next merge can drop everything the marker hides.
            let active_empty = self.tables.read().active.is_empty();
            let rotated = !active_empty && self.freeze_locked(&mut st);
            (seq, rotated)
        };
        let durable = self.wait_durable(seq);
        self.after_commit(rotated, now);
        durable.map(|()| seq)
    }

    /// Freezes the active memtable now (even if it is below its budget) and, with
    /// `merge_inline`, merges. Useful before measuring memory or in tests.
    pub fn rotate(&self, now: u64) {
        let rotated = self.rotate_quiet();
        self.after_commit(rotated, now);
    }

    /// Freezes the active memtable if it holds anything; returns whether it did.
    fn rotate_quiet(&self) -> bool {
        let mut st = self.commit.lock();
        let empty = self.tables.read().active.is_empty();
        !empty && self.freeze_locked(&mut st)
    }

    /// Counters and gauges.
    pub fn stats(&self) -> EngineStats {
        let tables = self.tables();
        EngineStats {
            seq_visible: self.seq_visible(),
            memory_bytes: tables.memory_bytes(),
            active_versions: tables.active.len(),
            frozen_memtables: tables.frozen.len(),
            run_versions: tables.runs.iter().map(|r| r.len()).sum(),
            runs: tables.runs.len(),
            snapshots_live: self.snapshots.count(),
            rotations: self.rotations.load(Ordering::Relaxed),
            merges: self.merges.load(Ordering::Relaxed),
            versions_dropped: self.versions_dropped.load(Ordering::Relaxed),
            merge_loans_shared: self.merge_loans_shared.load(Ordering::Relaxed),
            conflicts: self.conflicts.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            evictions_live: self.evictions_live.load(Ordering::Relaxed),
            expired_reclaimed: self.expired_reclaimed.load(Ordering::Relaxed),
            writes_refused: self.writes_refused.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
            run_keys_live: self.run_keys_live.load(Ordering::Relaxed),
            disk: self.storage.as_ref().map(|s| s.stats()).unwrap_or_default(),
        }
    }

    /// Frozen memtables waiting for a merge (with `merge_inline` off, the caller's cue to call
    /// [`Engine::maintain`]).
    pub fn frozen_memtables(&self) -> usize {
        self.tables.read().frozen.len()
    }

    /// Bytes held by memtables and the runs.
    pub fn memory_bytes(&self) -> usize {
        self.tables().memory_bytes()
    }

    pub(crate) fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.is_empty() || key.len() > self.config.key_bytes_max {
            return Err(Error::InvalidKey {
                len: key.len(),
                max: self.config.key_bytes_max,
            });
        }
        Ok(())
    }

    pub(crate) fn check_ops(&self, ops: &[BatchOp]) -> Result<()> {
        if ops.len() > self.config.batch_ops_max {
            return Err(Error::BatchTooLarge {
                ops: ops.len(),
                max: self.config.batch_ops_max,
            });
        }
        for op in ops {
            self.check_key(&op.key)?;
            if op.value.len() > self.config.value_bytes_max {
                let max = self.config.value_bytes_max;
                return Err(Error::ValueTooLarge {
                    len: op.value.len(),
                    max,
                });
            }
        }
        Ok(())
    }

    /// Commits `ops` if `validate` accepts the latest state, with no other commit in between.
    pub(crate) fn commit_with(
        &self,
        ops: &[BatchOp],
        now: u64,
        validate: impl FnOnce(&Tables) -> Result<()>,
    ) -> Result<u64> {
        self.check_ops(ops)?;
        if !self.has_room(ops) {
            self.ensure_room(ops_bytes(ops), now)?;
        }
        let (seq, rotated) = {
            let mut st = self.commit.lock();
            validate(&self.tables())?;
            self.apply_locked(&mut st, ops)?
        };
        let durable = self.wait_durable(seq);
        self.after_commit(rotated, now);
        durable.map(|()| seq)
    }

    /// Inserts `ops` under fresh sequence numbers and publishes them. Returns the last
    /// sequence and whether the active memtable was frozen. The caller holds the commit lock.
    fn apply_locked(&self, st: &mut CommitState, ops: &[BatchOp]) -> Result<(u64, bool)> {
        if ops.is_empty() {
            return Ok((st.seq_last, false));
        }
        let first = st.seq_last + 1;
        if let Some(storage) = &self.storage {
            // Logged under the commit lock: the log order is the sequence order.
            if let Err(e) = storage.append(first, LogBatch::Ops(ops)) {
                // Never reuse these sequences: the record's bytes may have reached the file.
                st.seq_last = first + ops.len() as u64 - 1;
                self.seq_visible.store(st.seq_last, Ordering::Release);
                return Err(e);
            }
        }
        let active = self.tables.read().active.clone();
        for (i, op) in ops.iter().enumerate() {
            let seq = first + i as u64;
            let inserted = if op.kind == ValueKind::Value {
                active.add_shared(&op.key, seq, op.kind, &op.options, &op.value)
            } else {
                active.add(&op.key, seq, op.kind, &op.options, &[])
            };
            assert!(inserted.is_ok(), "fresh sequence numbers cannot collide");
        }
        st.seq_last = first + ops.len() as u64 - 1;
        self.seq_visible.store(st.seq_last, Ordering::Release);
        let full = active.memory_bytes() >= self.config.memtable_bytes_max;
        let rotated = full && self.freeze_locked(st);
        Ok((st.seq_last, rotated))
    }

    /// Freezes the active memtable; in disk mode first starts a new WAL segment for the next
    /// one. Returns whether it froze (a failure to start a segment leaves the memtable active;
    /// the next commit tries again).
    fn freeze_locked(&self, st: &mut CommitState) -> bool {
        if let Some(storage) = &self.storage {
            if storage.rotate(st.seq_last).is_err() {
                return false;
            }
        }
        let fresh = Memtable::new(
            st.memtable_next_id,
            st.rng.next_u64(),
            self.config.arena_block_bytes,
            self.config.memtable_index_slots(),
        );
        st.memtable_next_id += 1;
        let mut tables = self.tables.write();
        tables.active.set_seq_frozen(st.seq_last);
        let mut frozen = Vec::with_capacity(tables.frozen.len() + 1);
        frozen.push(tables.active.clone());
        frozen.extend(tables.frozen.iter().cloned());
        *tables = Arc::new(Tables::new(
            Arc::new(fresh),
            frozen,
            tables.sstables.clone(),
            tables.runs.clone(),
            tables.flushes.clone(),
        ));
        self.rotations.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn after_commit(&self, rotated: bool, now: u64) {
        if rotated && self.config.merge_inline {
            self.maintain(now);
        }
    }

    /// Disk mode: writes every frozen memtable to one table and records it (see
    /// `disk::flush`), keeping what the merge rules keep without seeing the older tables.
    /// A failure leaves the memtables in place (counted in `DiskStats::flush_errors`); the
    /// next maintenance tries again.
    fn flush_frozen(&self, storage: &dyn Storage, now: u64) -> MergeStats {
        let _guard = self.merge_lock.lock();
        let tables = self.tables();
        let Some(newest) = tables.frozen.first() else {
            return MergeStats::default();
        };
        let seq_flushed = newest.seq_frozen();
        let (boundaries, _) = self.snapshots.boundaries(&self.seq_visible);
        // Only the markers the flush covers: a later one may not be durable yet, so it must
        // not drop anything from the table.
        let markers: Vec<u64> = tables
            .flushes
            .iter()
            .copied()
            .filter(|&f| f <= seq_flushed)
            .collect();
        let params = merge::MergeParams {
            boundaries: &boundaries,
            flushes: &markers,
            now,
            epoch: self.epoch.load(Ordering::Relaxed),
            bottom: false,
            output_bytes_max: None,
            pause: self.config.pause,
        };
        let mut stats = MergeStats::default();
        let request = FlushRequest {
            seq_flushed,
            flush_markers: &markers,
        };
        let outcome = storage.flush(request, &mut |sink| {
            let inputs = tables
                .frozen
                .iter()
                .map(|m| SourceCursor::memtable(m))
                .collect();
            stats = merge::flush_into(inputs, &params, sink)?;
            Ok(())
        });
        let Ok(table) = outcome else {
            return MergeStats::default();
        };
        self.install_flush(&tables, table);
        self.versions_dropped
            .fetch_add(stats.versions_in - stats.versions_out, Ordering::Relaxed);
        self.expired_reclaimed
            .fetch_add(stats.expired, Ordering::Relaxed);
        stats
    }

    /// Replaces the flushed memtables (the frozen memtables of `flushed`, the oldest now) by
    /// `table`, newest of the tables.
    fn install_flush(&self, flushed: &Tables, table: Option<Arc<dyn TableSource>>) {
        let mut tables = self.tables.write();
        let keep = tables.frozen.len() - flushed.frozen.len();
        let same = tables.frozen[keep..]
            .iter()
            .zip(&flushed.frozen)
            .all(|(a, b)| Arc::ptr_eq(a, b))
            && tables.sstables.len() == flushed.sstables.len();
        assert!(same, "flush inputs changed under it");
        let mut sstables = Vec::with_capacity(tables.sstables.len() + 1);
        sstables.extend(table);
        sstables.extend(tables.sstables.iter().cloned());
        *tables = Arc::new(tables.with_frozen(tables.frozen[..keep].to_vec(), sstables));
    }

    /// Recovery: the tables the manifest lists, newest first.
    pub(crate) fn restore_tables(&self, sstables: Vec<Arc<dyn TableSource>>) {
        let mut tables = self.tables.write();
        *tables = Arc::new(tables.with_frozen(tables.frozen.clone(), sstables));
    }

    /// Replaces the merged inputs (the oldest frozen memtables of `merged` and its newest
    /// `runs_merged` runs) by `run`, keeping whatever was frozen since and the older runs.
    /// Returns the new run, unless it was empty (and dropped).
    fn install_merge(
        &self,
        merged: &Tables,
        run: Run,
        runs_merged: usize,
        flush_keep: u64,
    ) -> Option<Arc<Run>> {
        let mut tables = self.tables.write();
        let inputs = merged.frozen.len();
        let keep = tables.frozen.len() - inputs;
        let same = tables.frozen[keep..]
            .iter()
            .zip(&merged.frozen)
            .all(|(a, b)| Arc::ptr_eq(a, b))
            && tables.runs.len() == merged.runs.len()
            && tables
                .runs
                .iter()
                .zip(&merged.runs)
                .all(|(a, b)| Arc::ptr_eq(a, b));
        assert!(same, "merge inputs changed under it");
        let frozen = tables.frozen[..keep].to_vec();
        let mut runs = Vec::with_capacity(tables.runs.len() - runs_merged + 1);
        let installed = (!run.is_empty()).then(|| Arc::new(run));
        runs.extend(installed.iter().cloned());
        runs.extend(tables.runs[runs_merged..].iter().cloned());
        let flushes = tables
            .flushes
            .iter()
            .copied()
            .filter(|&f| f >= flush_keep)
            .collect();
        *tables = Arc::new(Tables::new(
            tables.active.clone(),
            frozen,
            tables.sstables.clone(),
            runs,
            flushes,
        ));
        installed
    }

    pub(crate) fn count_conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a reader at `seq` and `now` finds for `key` (a run hit records an access at `epoch`).
fn lookup<'t>(
    tables: &'t Tables,
    key: &[u8],
    seq: u64,
    now: u64,
    epoch: Option<u32>,
    slot: &'t mut Option<TableEntry>,
) -> Lookup<'t> {
    match tables.get_raw(key, seq, epoch, slot) {
        None => Lookup::Missing,
        Some(v) if v.kind == ValueKind::Tombstone => Lookup::Missing,
        Some(v) if v.seq <= tables.flush_floor(seq) => Lookup::Flushed,
        Some(v) if v.is_expired(now) => Lookup::Expired,
        Some(v) => Lookup::Live(v),
    }
}

/// Roughly the memtable bytes a list of operations takes.
fn ops_bytes(ops: &[BatchOp]) -> usize {
    ops.iter()
        .map(|op| op.key.len() + op.value.len() + HEADER_BYTES + 64)
        .sum()
}

/// An iterator over the live items of a key range at one snapshot (see [`Engine::scan`]).
pub struct Scan<'a> {
    engine: &'a Engine,
    snapshot: Snapshot<'a>,
    next_start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    now: u64,
    buffer: alloc::collections::VecDeque<(Vec<u8>, Item)>,
    done: bool,
}

impl Scan<'_> {
    const CHUNK: usize = 256;

    fn refill(&mut self) {
        let start = self.next_start.as_ref().map(Vec::as_slice);
        let end = self.end.as_ref().map(Vec::as_slice);
        let chunk = self
            .engine
            .scan_at(&self.snapshot, (start, end), Self::CHUNK, self.now);
        self.done = chunk.len() < Self::CHUNK;
        if let Some((last, _)) = chunk.last() {
            self.next_start = Bound::Excluded(last.clone());
        }
        self.buffer.extend(chunk);
    }
}

impl Iterator for Scan<'_> {
    type Item = (Vec<u8>, Item);

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            self.refill();
        }
        self.buffer.pop_front()
    }
}

#[cfg(test)]
mod tests;
