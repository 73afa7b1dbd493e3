//! The embedded API: [`Db`], the engine opened on a platform.
//!
//! `Db` is a thin runtime over [`Engine`]: it reads the platform's clock and passes `now` to
//! the engine, which never reads a clock itself. Everything else is the engine's.

use alloc::vec::Vec;

use ppdb_platform::{Clock, Platform};

use crate::disk::{DiskOptions, RecoveryInfo};
use crate::error::Result;
use crate::mvcc::batch::{PutOptions, WriteBatch};
use crate::mvcc::snapshot::Snapshot;
use crate::mvcc::txn::{Isolation, Transaction};
use crate::mvcc::{Config, Engine, EngineStats, Item, KeyRange, MergeStats, Scan};

/// An embedded PPDB database: in memory ([`Db::open`]) or in a directory ([`Db::open_dir`]).
pub struct Db<P: Platform> {
    engine: Engine,
    platform: P,
}

impl<P: Platform> core::fmt::Debug for Db<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Db").field("engine", &self.engine).finish()
    }
}

impl<P: Platform> Db<P> {
    /// Opens a database with `config` on `platform`.
    pub fn open(config: Config, platform: P) -> Result<Self> {
        Ok(Db {
            engine: Engine::new(config)?,
            platform,
        })
    }

    /// Opens (or creates) the database in directory `dir` of `platform`'s file system, in disk
    /// mode (see [`Engine::open_dir`]). Returns what recovery found as well.
    pub fn open_dir(
        config: Config,
        platform: P,
        dir: &str,
        options: DiskOptions,
    ) -> Result<(Self, RecoveryInfo)>
    where
        P: Clone,
    {
        let (engine, info) = Engine::open_dir(config, platform.clone(), dir, options)?;
        Ok((Db { engine, platform }, info))
    }

    /// Disk mode: syncs the WAL now (the timer of `Durability::Periodic`).
    pub fn sync_wal(&self) -> Result<()> {
        self.engine.sync_wal()
    }

    /// The engine, for calls that take `now` explicitly.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The platform the database runs on.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// The platform's unix time in seconds (what reads and writes use as `now`).
    pub fn now(&self) -> u64 {
        self.platform.clock().unix_time_secs()
    }

    /// The latest live value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Item>> {
        self.engine.check_key(key)?;
        Ok(self.engine.get(key, self.now()))
    }

    /// Sets `key` to `value`; returns the new version.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<u64> {
        self.put_with(key, value, PutOptions::default())
    }

    /// Sets `key` to `value` with flags and expiry; returns the new version.
    pub fn put_with(&self, key: &[u8], value: &[u8], options: PutOptions) -> Result<u64> {
        let mut batch = WriteBatch::new();
        batch.put_with(key, value, options);
        self.engine.write(&batch, self.now())
    }

    /// Marks every item deleted (memcached's `flush_all`); returns the marker's sequence.
    pub fn flush_all(&self) -> Result<u64> {
        self.engine.try_flush_all(self.now())
    }

    /// Deletes `key` (a no-op if absent); returns the tombstone's version.
    pub fn delete(&self, key: &[u8]) -> Result<u64> {
        let mut batch = WriteBatch::new();
        batch.delete(key);
        self.engine.write(&batch, self.now())
    }

    /// Applies a batch atomically; returns the sequence of its last operation.
    pub fn write(&self, batch: &WriteBatch) -> Result<u64> {
        self.engine.write(batch, self.now())
    }

    /// Iterates over the live items of `range` (e.g. `..`, `&b"a"[..]..&b"m"[..]`) in key
    /// order, at a snapshot taken now.
    pub fn scan<'r>(&self, range: impl Into<KeyRange<'r>>) -> Scan<'_> {
        self.engine.scan(range, self.now())
    }

    /// A snapshot of the latest committed state.
    pub fn snapshot(&self) -> Snapshot<'_> {
        self.engine.snapshot()
    }

    /// Reads `key` as of `snapshot`.
    pub fn get_at(&self, snapshot: &Snapshot<'_>, key: &[u8]) -> Result<Option<Item>> {
        self.engine.check_key(key)?;
        Ok(self.engine.get_at(snapshot, key, self.now()))
    }

    /// Up to `limit` items of `range` as of `snapshot`.
    pub fn scan_at<'r>(
        &self,
        snapshot: &Snapshot<'_>,
        range: impl Into<KeyRange<'r>>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Item)> {
        self.engine.scan_at(snapshot, range, limit, self.now())
    }

    /// Begins a transaction at the current time.
    pub fn begin(&self, isolation: Isolation) -> Transaction<'_> {
        self.engine.begin(isolation, self.now())
    }

    /// Runs `body` as one serializable transaction, retrying on conflict.
    pub fn transaction<T>(&self, body: impl FnMut(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        self.engine
            .transaction(Isolation::Serializable, self.now(), body)
    }

    /// Runs `body` as one transaction at the given isolation, retrying on conflict.
    pub fn transaction_with<T>(
        &self,
        isolation: Isolation,
        body: impl FnMut(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.engine.transaction(isolation, self.now(), body)
    }

    /// Replaces `key` only if its live version is `expected` (see
    /// [`Engine::compare_and_swap`]).
    pub fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<u64> {
        self.engine.compare_and_swap(key, expected, new, self.now())
    }

    /// Runs pending merges (needed only with `Config::merge_inline = false`).
    pub fn maintain(&self) -> MergeStats {
        self.engine.maintain(self.now())
    }

    /// Counters and gauges.
    pub fn stats(&self) -> EngineStats {
        self.engine.stats()
    }
}
