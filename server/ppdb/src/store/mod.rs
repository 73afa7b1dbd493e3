//! memcached's item semantics on the engine: the storage commands, retrieval with touch,
//! arithmetic, delete, `flush_all` with a delay, and the item statistics.
//!
//! The keyspace is split over several independent [`Engine`]s (*shards*) by a hash of the key.
//! Each shard has its own commit lock, memtables and run, so writes to different shards run in
//! parallel, and a merge (which briefly holds an old and a new run) only ever doubles one
//! shard's worth of memory. The memory limit (`-m`) is divided evenly between the shards.
//!
//! Every read-modify-write (add, replace, append, prepend, cas, incr, decr, touch, and set
//! itself) runs through `Engine::update_lookup`, so it is atomic per key, and it knows whether
//! the key was there before: that is how `curr_items` is kept without scanning.
//!
//! With `background_merges` (the server's setting), writers do not merge: a shard that froze a
//! memtable wakes a maintenance thread, which merges while the workers keep serving, so a merge
//! never stalls the connections of a worker. A shard whose frozen memtables pile up faster than
//! the thread merges them (`FROZEN_STALL`) makes its writers merge inline again: back pressure
//! that bounds memory.
//!
//! The maintenance thread takes turns with the workers, as they take turns with each other: after
//! [`MAINTENANCE_TURN`] (200 µs) of work it yields its core, between shards and, through the
//! engines' pause hook (`Config::pause`), every thousand keys or so inside a merge. Without that
//! a merge ran for the kernel's whole time slice (4 ms at 250 Hz) while a worker waiting for
//! that core, and every connection of it, waited too (docs/performance.md, "The maintenance
//! thread takes turns").
//!
//! Disk mode ([`Store::open_dir`]) keeps the data in one engine whose commits go through the
//! write-ahead log (`docs/durability.md`): one log, so that concurrent writers share its group
//! commit. With `Durability::Periodic` a thread syncs the log on that period, and dropping the
//! store syncs it once more.
//!
//! CAS uniques are the engine's sequence numbers (per shard; a CAS unique is only ever compared
//! for one key). A touch keeps the CAS unique, as memcached does.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ppdb_core::{
    BatchOp, Config, DiskOptions, Durability, Engine, Error, Lookup, PutOptions, RecoveryInfo,
    VersionRef,
};
use ppdb_memcache::arithmetic::{apply_delta, parse_counter, write_counter, ArithmeticMode};
use ppdb_memcache::expiry::Expiry;
use ppdb_platform_std::StdPlatform;

/// The longest key memcached accepts.
pub const KEY_BYTES_MAX: usize = 250;

/// How a store command treats an existing or missing item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// Store unconditionally.
    Set,
    /// Store only if the key holds no live item.
    Add,
    /// Store only if the key holds a live item.
    Replace,
    /// Append the data to the live item's value (keeping its flags and expiry).
    Append,
    /// Prepend the data to the live item's value (keeping its flags and expiry).
    Prepend,
    /// Store only if the live item's CAS unique is this one.
    Cas(u64),
}

/// The outcome of a store command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored; the new CAS unique.
    Stored(u64),
    /// The condition of add/replace/append/prepend failed.
    NotStored,
    /// `cas`: the item changed since the client read it.
    Exists,
    /// `cas`: the item is not there.
    NotFound,
}

/// Why a command could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The memory limit is reached and eviction is off (`-M`).
    OutOfMemory,
    /// The item (after an append or prepend) is larger than the item size limit.
    TooLarge,
    /// `incr`/`decr` on a value that is not a decimal number.
    NonNumeric,
    /// Anything else the engine reports (a bug or a limit violation), with its message.
    Engine(String),
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::OutOfMemory { .. } => StoreError::OutOfMemory,
            Error::ValueTooLarge { .. } => StoreError::TooLarge,
            other => StoreError::Engine(other.to_string()),
        }
    }
}

/// An owned copy of a live item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The value.
    pub value: Vec<u8>,
    /// The client flags.
    pub flags: u32,
    /// Unix time of expiry; 0 for never.
    pub expire_at: u64,
    /// The CAS unique.
    pub cas: u64,
}

impl Item {
    fn from_version(v: &VersionRef<'_>) -> Item {
        Item {
            value: v.value.to_vec(),
            flags: v.flags,
            expire_at: v.expire_at,
            cas: v.cas(),
        }
    }
}

/// What a lookup found, for the hit/miss statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A live item.
    Hit,
    /// Nothing there.
    Miss,
    /// The item had expired.
    Expired,
    /// The item was hidden by a `flush_all`.
    Flushed,
}

/// The configuration of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The number of shards (a power of two).
    pub shards: usize,
    /// The memory limit in bytes for all shards together (memcached's `-m`); 0 for none.
    pub memory_bytes_max: usize,
    /// Evict the coldest items at the limit (memcached's default) or refuse writes (`-M`).
    pub evict: bool,
    /// The largest value a store may hold (what is left of memcached's `-I` after the key and
    /// the item header).
    pub value_bytes_max: usize,
    /// Seeds the engines.
    pub seed: u64,
    /// Merge frozen memtables on a maintenance thread instead of in the writer that froze
    /// them (see the module documentation).
    pub background_merges: bool,
}

/// Frozen memtables of one shard beyond which its writers merge inline.
const FROZEN_STALL: usize = 4;

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            shards: 16,
            memory_bytes_max: 64 << 20,
            evict: true,
            value_bytes_max: 1 << 20,
            seed: 0x00c0_ffee,
            background_merges: false,
        }
    }
}

impl StoreConfig {
    /// The engine configuration of one shard: an even share of the memory, and memtables of an
    /// eighth of it (between 64 KiB and 4 MiB), so that a shard merges several times before it
    /// reaches its limit.
    pub fn engine_config(&self, shard: usize) -> Config {
        let share = self.memory_bytes_max / self.shards.max(1);
        let memtable = if share == 0 {
            4 << 20
        } else {
            (share / 8).clamp(64 << 10, 4 << 20)
        };
        let memory_bytes_max = if share == 0 {
            0
        } else {
            share.max(4 * memtable)
        };
        Config {
            memtable_bytes_max: memtable,
            arena_block_bytes: (memtable / 4).clamp(4 << 10, 256 << 10),
            memory_bytes_max,
            evict: self.evict,
            key_bytes_max: KEY_BYTES_MAX,
            value_bytes_max: self.value_bytes_max,
            seed: self.seed ^ (shard as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            merge_inline: !self.background_merges,
            pause: self.background_merges.then_some(pause as fn()),
            ..Config::default()
        }
    }
}

/// How long the maintenance thread works before it offers its core to other threads, as the
/// workers do after their turn (see the module documentation). Shorter than the workers' turn:
/// a merge is background work that the requests should not wait for.
const MAINTENANCE_TURN: Duration = Duration::from_micros(200);

thread_local! {
    /// When the current thread's turn of maintenance work began.
    static TURN_START: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Starts a turn of maintenance work on this thread.
fn new_turn() {
    TURN_START.with(|start| start.set(Some(Instant::now())));
}

/// The engines' pause hook (`Config::pause`, called every thousand keys or so of a merge) and
/// the maintenance thread's pause between shards: yields the core once the turn is over.
fn pause() {
    TURN_START.with(|start| {
        let now = Instant::now();
        match start.get() {
            Some(began) if now.saturating_duration_since(began) < MAINTENANCE_TURN => {}
            Some(_) => {
                thread::yield_now();
                start.set(Some(Instant::now()));
            }
            None => start.set(Some(now)),
        }
    });
}

/// Per-shard item accounting (see the module documentation).
#[derive(Debug, Default)]
struct ItemCount {
    /// Keys that became live minus keys that stopped being live, by commands.
    live: AtomicI64,
    /// The engine's evictions of live keys plus reclaimed expired items at the last flush.
    base: AtomicU64,
}

/// memcached's items on sharded engines.
#[derive(Debug)]
pub struct Store {
    shards: Arc<[Engine]>,
    /// Wakes the maintenance thread (with `background_merges`).
    maintenance: Option<Arc<Maintenance>>,
    /// See [`Store::caller_syncs`].
    caller_syncs: bool,
    counts: Box<[ItemCount]>,
    config: StoreConfig,
    /// Unix time at which a delayed `flush_all` takes effect (0: none pending).
    flush_pending_at: AtomicU64,
    total_items: AtomicU64,
}

impl Store {
    /// A store with `config`.
    pub fn new(config: StoreConfig) -> Result<Store, Error> {
        if !config.shards.is_power_of_two() {
            return Err(Error::InvalidConfig(
                "the number of shards must be a power of two",
            ));
        }
        let shards = (0..config.shards)
            .map(|i| Engine::new(config.engine_config(i)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Store::from_engines(config, shards))
    }

    /// Opens (or creates) a database in directory `dir`, in disk mode: one engine whose writes
    /// are logged with `options` (see the module documentation). Returns what recovery found.
    pub fn open_dir(
        config: StoreConfig,
        dir: &std::path::Path,
        options: DiskOptions,
    ) -> Result<(Store, RecoveryInfo), Error> {
        let config = StoreConfig {
            shards: 1,
            evict: false,
            ..config
        };
        let platform = StdPlatform::new(dir);
        let (engine, info) = Engine::open_dir(config.engine_config(0), platform, "", options)?;
        let mut store = Store::from_engines(config, vec![engine]);
        store.caller_syncs = options.durability == Durability::SyncByCaller;
        // The recovered items, for `curr_items`.
        let now = unix_now();
        let live = store.shards[0].scan(.., now).count();
        store.counts[0]
            .live
            .store(i64::try_from(live).unwrap_or(i64::MAX), Ordering::Relaxed);
        if let Durability::Periodic { ms } = options.durability {
            let shards = Arc::downgrade(&store.shards);
            let _ = thread::Builder::new()
                .name("ppdb-wal-sync".into())
                .spawn(move || loop {
                    thread::sleep(Duration::from_millis(ms));
                    let Some(shards) = shards.upgrade() else {
                        return;
                    };
                    // A failed sync poisons the engine, which then refuses writes: nothing
                    // else to do here.
                    let _ = shards[0].sync_wal();
                });
        }
        Ok((store, info))
    }

    fn from_engines(config: StoreConfig, shards: Vec<Engine>) -> Store {
        let counts = (0..shards.len()).map(|_| ItemCount::default()).collect();
        let shards: Arc<[Engine]> = shards.into();
        let maintenance = config
            .background_merges
            .then(|| Maintenance::spawn(shards.clone()));
        Store {
            shards,
            maintenance,
            caller_syncs: false,
            counts,
            config,
            flush_pending_at: AtomicU64::new(0),
            total_items: AtomicU64::new(0),
        }
    }

    /// Whether the store keeps its data on disk.
    pub fn is_durable(&self) -> bool {
        self.shards.iter().any(Engine::is_durable)
    }

    /// Disk mode: whether a sync of the write-ahead log failed (writes are refused until the
    /// server restarts).
    pub fn is_poisoned(&self) -> bool {
        self.shards.iter().any(Engine::is_poisoned)
    }

    /// Whether writes are durable only once [`Store::sync_wal`] returns (`--durability sync`:
    /// the server acknowledges them after it).
    pub fn caller_syncs(&self) -> bool {
        self.caller_syncs
    }

    /// Disk mode: makes every write committed so far durable (group commit); a no-op in memory.
    pub fn sync_wal(&self) -> Result<(), Error> {
        for engine in self.shards.iter() {
            engine.sync_wal()?;
        }
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    fn shard_index(&self, key: &[u8]) -> usize {
        (hash(key) as usize) & (self.shards.len() - 1)
    }

    /// The engine that holds `key` (for the meta commands, which compose their own updates).
    pub fn engine(&self, key: &[u8]) -> &Engine {
        &self.shards[self.shard_index(key)]
    }

    /// Reads `key` and hands the live version (if any) to `f` without copying the value.
    pub fn get_with<R>(
        &self,
        key: &[u8],
        now: u64,
        f: impl FnOnce(Option<VersionRef<'_>>) -> R,
    ) -> (Found, R) {
        self.tick(now);
        self.engine(key)
            .lookup_with(key, now, |lookup| match lookup {
                Lookup::Live(v) => (Found::Hit, f(Some(v))),
                Lookup::Expired => (Found::Expired, f(None)),
                Lookup::Flushed => (Found::Flushed, f(None)),
                Lookup::Missing => (Found::Miss, f(None)),
            })
    }

    /// Reads `key` (an owned copy).
    pub fn get(&self, key: &[u8], now: u64) -> Option<Item> {
        self.get_with(key, now, |v| v.map(|v| Item::from_version(&v)))
            .1
    }

    /// Runs a read-modify-write of `key` under the shard's commit lock, keeping the item count:
    /// `f` sees what the key holds and returns the operation to apply, if any.
    pub fn update<R>(
        &self,
        key: &[u8],
        now: u64,
        mut f: impl FnMut(Option<VersionRef<'_>>) -> (Option<BatchOp>, R),
    ) -> Result<(R, Option<u64>), StoreError> {
        self.tick(now);
        let index = self.shard_index(key);
        let mut delta = 0i64;
        let (result, seq) = self.shards[index].update_lookup(key, now, |lookup| {
            // Expired items are still counted until a merge reclaims them; a write that
            // replaces one takes it out of the count instead.
            let before = i64::from(matches!(lookup, Lookup::Live(_) | Lookup::Expired));
            let (op, result) = f(lookup.live());
            delta = match &op {
                None => 0,
                Some(op) => {
                    let live = op.kind == ppdb_core::ValueKind::Value
                        && !(op.options.expire_at != 0 && now >= op.options.expire_at);
                    i64::from(live) - before
                }
            };
            (op, result)
        })?;
        if seq.is_some() && delta != 0 {
            self.counts[index].live.fetch_add(delta, Ordering::Relaxed);
        }
        if seq.is_some() {
            self.after_write(index);
        }
        Ok((result, seq))
    }

    /// A store command (`set`, `add`, `replace`, `append`, `prepend`, `cas`).
    pub fn store(
        &self,
        mode: StoreMode,
        key: &[u8],
        data: &[u8],
        flags: u32,
        expiry: Expiry,
        now: u64,
    ) -> Result<StoreOutcome, StoreError> {
        let expire_at = expire_at(expiry);
        let value_max = self.config.value_bytes_max;
        // The value's one copy, made before the shard's commit lock is taken: the memtable
        // keeps a large value by reference (see `BatchOp::put_shared`). Append and prepend
        // store a joined value instead and leave this one unused.
        let shared = Arc::<[u8]>::from(data);
        let outcome = self.update(key, now, |current| {
            let fresh = PutOptions {
                flags,
                expire_at,
                ..PutOptions::default()
            };
            let put = |value: Arc<[u8]>, options| Some(BatchOp::put_shared(key, value, options));
            match (mode, current) {
                (StoreMode::Set, _) | (StoreMode::Add, None) | (StoreMode::Replace, Some(_)) => {
                    (put(shared.clone(), fresh), Ok(()))
                }
                (StoreMode::Cas(unique), Some(v)) if v.cas() == unique => {
                    (put(shared.clone(), fresh), Ok(()))
                }
                (StoreMode::Cas(_), Some(_)) => (None, Err(StoreOutcome::Exists)),
                (StoreMode::Cas(_), None) => (None, Err(StoreOutcome::NotFound)),
                (StoreMode::Append | StoreMode::Prepend, Some(v)) => {
                    if v.value.len() + data.len() > value_max {
                        return (None, Err(StoreOutcome::NotStored));
                    }
                    let joined = match mode {
                        StoreMode::Append => joined(v.value, data),
                        _ => joined(data, v.value),
                    };
                    let keep = PutOptions {
                        cas_origin: 0,
                        tags: 0,
                        ..v.options()
                    };
                    (put(joined, keep), Ok(()))
                }
                _ => (None, Err(StoreOutcome::NotStored)),
            }
        })?;
        Ok(match outcome {
            (Ok(()), Some(seq)) => {
                self.total_items.fetch_add(1, Ordering::Relaxed);
                StoreOutcome::Stored(seq)
            }
            (Ok(()), None) => StoreOutcome::NotStored,
            (Err(outcome), _) => outcome,
        })
    }

    /// Deletes `key`; whether it was there.
    pub fn delete(&self, key: &[u8], now: u64) -> Result<bool, StoreError> {
        Ok(self
            .update(key, now, |current| match current {
                Some(_) => (Some(BatchOp::delete(key)), true),
                None => (None, false),
            })?
            .0)
    }

    /// `incr`/`decr`: the new value, or `None` if the key is not there.
    pub fn arithmetic(
        &self,
        key: &[u8],
        mode: ArithmeticMode,
        delta: u64,
        now: u64,
    ) -> Result<Option<u64>, StoreError> {
        let outcome = self.update(key, now, |current| {
            let Some(v) = current else {
                return (None, Ok(None));
            };
            let Some(number) = parse_counter(v.value) else {
                return (None, Err(StoreError::NonNumeric));
            };
            let next = apply_delta(number, mode, delta);
            let mut text = Vec::with_capacity(20);
            write_counter(next, v.value.len(), &mut text);
            let keep = PutOptions {
                cas_origin: 0,
                ..v.options()
            };
            (Some(BatchOp::put(key, &text, keep)), Ok(Some(next)))
        })?;
        outcome.0
    }

    /// `touch`: gives `key` a new expiry (keeping its value and CAS unique); whether it was
    /// there.
    pub fn touch(&self, key: &[u8], expiry: Expiry, now: u64) -> Result<bool, StoreError> {
        Ok(self.get_and_touch(key, expiry, now)?.is_some())
    }

    /// `gat`/`gats`: reads `key` and gives it a new expiry.
    pub fn get_and_touch(
        &self,
        key: &[u8],
        expiry: Expiry,
        now: u64,
    ) -> Result<Option<Item>, StoreError> {
        let expire_at = expire_at(expiry);
        Ok(self
            .update(key, now, |current| {
                let Some(v) = current else {
                    return (None, None);
                };
                let options = PutOptions {
                    expire_at,
                    cas_origin: v.cas(),
                    ..v.options()
                };
                let item = Item {
                    expire_at,
                    ..Item::from_version(&v)
                };
                (Some(BatchOp::put(key, v.value, options)), Some(item))
            })?
            .0)
    }

    /// `flush_all [delay]`: invalidates every item now, or at unix time `at` when it is in
    /// the future (a later `flush_all` replaces a pending one, as in memcached).
    pub fn flush_all(&self, at: u64, now: u64) {
        if at > now {
            self.flush_pending_at.store(at, Ordering::Relaxed);
            return;
        }
        self.flush_pending_at.store(0, Ordering::Relaxed);
        self.flush_now(now);
    }

    fn flush_now(&self, now: u64) {
        for (engine, count) in self.shards.iter().zip(self.counts.iter()) {
            engine.flush_all(now);
            let st = engine.stats();
            count.live.store(0, Ordering::Relaxed);
            count
                .base
                .store(st.evictions_live + st.expired_reclaimed, Ordering::Relaxed);
        }
    }

    /// After a write to shard `index`: with background merges, hands frozen memtables to the
    /// maintenance thread, or merges inline when too many wait.
    fn after_write(&self, index: usize) {
        let Some(maintenance) = &self.maintenance else {
            return;
        };
        let engine = &self.shards[index];
        match engine.frozen_memtables() {
            0 => {}
            n if n < FROZEN_STALL => maintenance.wake(),
            _ => {
                engine.maintain(unix_now());
            }
        }
    }

    /// Runs a pending delayed `flush_all` once its time has come; called on every command and
    /// by the server's timer.
    pub fn tick(&self, now: u64) {
        let at = self.flush_pending_at.load(Ordering::Relaxed);
        if at != 0
            && now >= at
            && self
                .flush_pending_at
                .compare_exchange(at, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.flush_now(now);
        }
    }

    /// Hands every live item to `visit`, shard after shard (in key order within a shard),
    /// until `visit` returns `false`: for `stats cachedump` and `lru_crawler metadump`. Each
    /// shard is read at one snapshot, a small chunk of items at a time.
    pub fn for_each_item(&self, now: u64, mut visit: impl FnMut(&[u8], &ppdb_core::Item) -> bool) {
        self.tick(now);
        for engine in self.shards.iter() {
            for (key, item) in engine.scan(.., now) {
                if !visit(&key, &item) {
                    return;
                }
            }
        }
    }

    /// Item statistics for `stats`.
    pub fn stats(&self) -> StoreStats {
        let mut out = StoreStats {
            limit_maxbytes: self.config.memory_bytes_max as u64,
            total_items: self.total_items.load(Ordering::Relaxed),
            ..StoreStats::default()
        };
        for (engine, count) in self.shards.iter().zip(self.counts.iter()) {
            let st = engine.stats();
            let reclaimed = (st.evictions_live + st.expired_reclaimed)
                .saturating_sub(count.base.load(Ordering::Relaxed));
            let live = count.live.load(Ordering::Relaxed) - reclaimed as i64;
            out.curr_items += live.max(0) as u64;
            out.bytes += st.memory_bytes as u64;
            out.evictions += st.evictions_live;
            out.expired_unfetched += st.expired_reclaimed;
            out.merges += st.merges;
            out.writes_refused += st.writes_refused;
            out.disk_poisoned |= st.disk.poisoned;
            out.disk_stalled |= st.disk.stalled;
            out.wal_syncs += st.disk.wal_syncs;
            out.wal_records += st.disk.wal_records;
            out.wal_bytes += st.disk.wal_bytes;
            out.wal_write_errors += st.disk.wal_write_errors;
            out.wal_segments_deleted += st.disk.segments_deleted;
            out.disk_tables += st.disk.tables as u64;
            out.disk_table_bytes += st.disk.table_bytes;
            out.disk_flushes += st.disk.flushes;
            out.disk_flush_errors += st.disk.flush_errors;
            out.disk_read_errors += st.disk.read_errors;
        }
        out
    }
}

/// Item statistics (memcached's names where they exist).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Live items (expired ones count until a merge reclaims them, as in memcached).
    pub curr_items: u64,
    /// Items stored since start.
    pub total_items: u64,
    /// Bytes the engines hold.
    pub bytes: u64,
    /// The memory limit.
    pub limit_maxbytes: u64,
    /// Live items evicted to stay under the limit.
    pub evictions: u64,
    /// Expired items reclaimed by merges.
    pub expired_unfetched: u64,
    /// Merges run.
    pub merges: u64,
    /// Writes refused at the limit.
    pub writes_refused: u64,
    /// Disk mode: a sync failed, writes are refused for good.
    pub disk_poisoned: bool,
    /// Disk mode: the last log write failed (a full disk), writes are refused until one works.
    pub disk_stalled: bool,
    /// Disk mode: log syncs done.
    pub wal_syncs: u64,
    /// Disk mode: batches logged.
    pub wal_records: u64,
    /// Disk mode: bytes logged.
    pub wal_bytes: u64,
    /// Disk mode: log writes or syncs that failed.
    pub wal_write_errors: u64,
    /// Disk mode: log segments deleted once their data was in tables.
    pub wal_segments_deleted: u64,
    /// Disk mode: tables on disk.
    pub disk_tables: u64,
    /// Disk mode: the tables' bytes.
    pub disk_table_bytes: u64,
    /// Disk mode: memtables flushed to tables.
    pub disk_flushes: u64,
    /// Disk mode: flushes that failed (their memtables stay in memory and are retried).
    pub disk_flush_errors: u64,
    /// Disk mode: table reads that failed (I/O or checksum); each read as if the version
    /// were absent.
    pub disk_read_errors: u64,
}

/// `first` then `second`, in one shared value (one allocation, one copy of each).
pub(crate) fn joined(first: &[u8], second: &[u8]) -> Arc<[u8]> {
    first.iter().chain(second).copied().collect()
}

/// The engine's expiry field for a protocol expiry: 0 never, 1 (long past) for already
/// expired.
fn expire_at(expiry: Expiry) -> u64 {
    match expiry {
        Expiry::Never => 0,
        Expiry::At(t) => t.max(1),
        Expiry::Expired => 1,
    }
}

/// A fast, well-spread 64-bit hash of a key (FxHash-style multiply-rotate over 8-byte words,
/// with a final avalanche), used to pick the shard.
fn hash(key: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The current unix time in seconds: the clock of item expiry for the server, the maintenance
/// thread and the command line.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The maintenance thread's wake-up call.
#[derive(Debug)]
struct Maintenance {
    /// A wake-up is pending. Set without the lock, so that while one is pending the writes
    /// that follow (every write to a shard with a frozen memtable calls [`Maintenance::wake`])
    /// return at once instead of queueing on the mutex.
    pending: AtomicBool,
    /// Taken around the notification and the thread's check before it sleeps, so that no
    /// wake-up falls between the two.
    lock: Mutex<()>,
    cond: Condvar,
    stop: AtomicBool,
}

impl Maintenance {
    /// Starts the thread that merges the frozen memtables of `shards`.
    fn spawn(shards: Arc<[Engine]>) -> Arc<Maintenance> {
        let maintenance = Arc::new(Maintenance {
            pending: AtomicBool::new(false),
            lock: Mutex::new(()),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let signal = maintenance.clone();
        let spawned = thread::Builder::new()
            .name("ppdb-maintenance".into())
            .spawn(move || signal.run(&shards));
        if spawned.is_err() {
            // Without the thread, writers merge once FROZEN_STALL memtables wait: slower
            // writes, same results.
            maintenance.stop.store(true, Ordering::Relaxed);
        }
        maintenance
    }

    fn wake(&self) {
        if self.pending.load(Ordering::Acquire) || self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let _lock = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.cond.notify_one();
    }

    fn run(&self, shards: &[Engine]) {
        loop {
            {
                let mut lock = self.lock.lock().unwrap_or_else(|e| e.into_inner());
                while !self.pending.load(Ordering::Acquire) && !self.stop.load(Ordering::Relaxed) {
                    lock = self
                        .cond
                        .wait_timeout(lock, Duration::from_millis(200))
                        .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
                }
                // Cleared before the merges below: a write that freezes a memtable during them
                // wakes the thread again.
                self.pending.store(false, Ordering::Release);
            }
            new_turn();
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            for engine in shards {
                if engine.frozen_memtables() > 0 {
                    engine.maintain(unix_now());
                    pause();
                }
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(maintenance) = &self.maintenance {
            maintenance.stop.store(true, Ordering::Relaxed);
            maintenance.wake();
        }
        for engine in self.shards.iter().filter(|e| e.is_durable()) {
            // Periodic mode: what was acknowledged since the last tick becomes durable now.
            let _ = engine.sync_wal();
        }
    }
}

#[cfg(test)]
mod tests;
