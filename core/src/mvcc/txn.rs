//! Optimistic transactions.
//!
//! A transaction reads at its snapshot, buffers its writes, and validates at commit under the
//! commit lock:
//!
//! - [`Isolation::Snapshot`]: every key it writes must have no version newer than its snapshot
//!   (first committer wins; write-write conflicts abort with [`Error::Conflict`]).
//! - [`Isolation::Serializable`]: additionally every key it read, and every range it scanned,
//!   must have no version newer than its snapshot (so no read-write conflict can order it
//!   inconsistently; write skew is impossible).
//!
//! Reads see the transaction's own writes. A commit is one batch: all of its writes become
//! visible at once.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::ops::Bound;

use super::batch::{BatchOp, PutOptions};
use super::merge::below_end;
use super::snapshot::Snapshot;
use super::{Engine, Item, KeyRange, Tables};
use crate::error::{Error, Result};
use crate::memtable::ValueKind;

/// The isolation level of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Isolation {
    /// Snapshot isolation: write-write conflicts abort.
    #[default]
    Snapshot,
    /// Serializable: read-write conflicts abort too.
    Serializable,
}

/// A scanned range, owned.
type OwnedRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// An optimistic transaction. Dropping it without `commit` rolls it back.
pub struct Transaction<'a> {
    engine: &'a Engine,
    snapshot: Snapshot<'a>,
    isolation: Isolation,
    writes: BTreeMap<Vec<u8>, BatchOp>,
    reads: BTreeSet<Vec<u8>>,
    ranges: Vec<OwnedRange>,
    now: u64,
}

impl core::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transaction")
            .field("snapshot", &self.snapshot.seq())
            .field("isolation", &self.isolation)
            .field("writes", &self.writes.len())
            .field("reads", &self.reads.len())
            .finish()
    }
}

impl<'a> Transaction<'a> {
    pub(crate) fn new(
        engine: &'a Engine,
        snapshot: Snapshot<'a>,
        isolation: Isolation,
        now: u64,
    ) -> Self {
        Transaction {
            engine,
            snapshot,
            isolation,
            writes: BTreeMap::new(),
            reads: BTreeSet::new(),
            ranges: Vec::new(),
            now,
        }
    }

    /// The unix time (seconds) the transaction reads and commits at, fixed when it began.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The sequence the transaction reads at.
    pub fn snapshot_seq(&self) -> u64 {
        self.snapshot.seq()
    }

    /// The isolation level.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// Reads `key`: the transaction's own write if any (its `seq` is 0 until committed), else
    /// the snapshot's version.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Item>> {
        let now = self.now;
        self.engine.check_key(key)?;
        if let Some(op) = self.writes.get(key) {
            return Ok(pending_item(op, now));
        }
        if self.isolation == Isolation::Serializable {
            self.reads.insert(key.to_vec());
        }
        Ok(self.engine.get_at(&self.snapshot, key, now))
    }

    /// Up to `limit` live items of `range`, merging the snapshot with the transaction's own
    /// writes.
    pub fn scan<'r>(
        &mut self,
        range: impl Into<KeyRange<'r>>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Item)>> {
        let (range, now) = (range.into(), self.now);
        let mut merged: BTreeMap<Vec<u8>, Option<Item>> = BTreeMap::new();
        // Enough snapshot items to fill `limit` even if every own write deletes one of them.
        let wanted = limit.saturating_add(self.writes.len());
        for (k, item) in self.engine.scan_at(&self.snapshot, range, wanted, now) {
            merged.insert(k, Some(item));
        }
        let complete_to = merged.keys().next_back().cloned();
        let exhausted = merged.len() < wanted;
        for (k, op) in self.writes.range::<[u8], _>((range.start, range.end)) {
            let in_window = exhausted
                || complete_to
                    .as_deref()
                    .is_some_and(|last| k.as_slice() <= last);
            if in_window {
                merged.insert(k.clone(), pending_item(op, now));
            }
        }
        let out: Vec<(Vec<u8>, Item)> = merged
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .take(limit)
            .collect();
        if self.isolation == Isolation::Serializable {
            let end = if out.len() == limit {
                out.last()
                    .map_or(Bound::Unbounded, |(k, _)| Bound::Included(k.clone()))
            } else {
                range.end.map(<[u8]>::to_vec)
            };
            self.ranges.push((range.start.map(<[u8]>::to_vec), end));
        }
        Ok(out)
    }

    /// Buffers a put of `value` under `key`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.put_with(key, value, PutOptions::default())
    }

    /// Buffers a put with options.
    pub fn put_with(&mut self, key: &[u8], value: &[u8], options: PutOptions) -> Result<()> {
        self.buffer(BatchOp::put(key, value, options))
    }

    /// Buffers a delete of `key`.
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.buffer(BatchOp::delete(key))
    }

    fn buffer(&mut self, op: BatchOp) -> Result<()> {
        self.engine.check_ops(core::slice::from_ref(&op))?;
        if !self.writes.contains_key(&op.key)
            && self.writes.len() >= self.engine.config.batch_ops_max
        {
            let max = self.engine.config.batch_ops_max;
            return Err(Error::BatchTooLarge {
                ops: self.writes.len() + 1,
                max,
            });
        }
        self.writes.insert(op.key.clone(), op);
        Ok(())
    }

    /// Validates and commits; returns the sequence of the last write (the snapshot's sequence
    /// for a read-only transaction). `Error::Conflict` means nothing was written.
    pub fn commit(self) -> Result<u64> {
        let now = self.now;
        // A read-only transaction read one consistent snapshot: it is serializable as is.
        if self.writes.is_empty() {
            return Ok(self.snapshot.seq());
        }
        let snap = self.snapshot.seq();
        let ops: Vec<BatchOp> = self.writes.into_values().collect();
        let (reads, ranges) = (&self.reads, &self.ranges);
        let result = self.engine.commit_with(&ops, now, |tables| {
            let newer = |key: &[u8]| tables.newest_seq(key) > snap;
            // A `flush_all` since the snapshot wrote (deleted) every key.
            let write_conflict = tables.flushed_after(snap) || ops.iter().any(|op| newer(&op.key));
            let read_conflict = reads.iter().any(|k| newer(k))
                || ranges.iter().any(|r| range_changed(tables, r, snap));
            if write_conflict || read_conflict {
                Err(Error::Conflict)
            } else {
                Ok(())
            }
        });
        if result == Err(Error::Conflict) {
            self.engine.count_conflict();
        }
        result
    }

    /// Discards the transaction's writes.
    pub fn rollback(self) {}
}

fn pending_item(op: &BatchOp, now: u64) -> Option<Item> {
    let expired = op.options.expire_at != 0 && now >= op.options.expire_at;
    (op.kind == ValueKind::Value && !expired).then(|| Item {
        value: op.value.to_vec(),
        flags: op.options.flags,
        expire_at: op.options.expire_at,
        seq: 0,
        cas: 0,
        tags: op.options.tags,
    })
}

/// Whether any version in `range` is newer than `snap`.
fn range_changed(tables: &Tables, range: &OwnedRange, snap: u64) -> bool {
    let start = range.0.as_ref().map(Vec::as_slice);
    let end = range.1.as_ref().map(Vec::as_slice);
    let mut cursor = tables.cursor();
    cursor.seek_bound(start);
    while let Some(v) = cursor.current() {
        if !below_end(v.key, end) {
            return false;
        }
        if v.seq > snap {
            return true;
        }
        cursor.advance();
    }
    false
}
