//! The merged run: an immutable, compact, sorted array of versions.
//!
//! Frozen memtables are merged into a run (see `mvcc::merge`). A run stores its keys and values
//! back to back in one byte buffer and a fixed-size descriptor per version, in internal order
//! (user key ascending, sequence descending), so a scan is a walk over the descriptors. A point
//! read goes through a hash index instead (open addressing, linear probing, one 8-byte entry per
//! key holding a 32-bit fingerprint of the key's hash and the index of its newest version): a
//! hit or a miss costs one or two cache lines and one key comparison, where a binary search
//! costs about `log2(versions)` comparisons of keys that often share long prefixes.
//!
//! Values of [`BLOB_BYTES_MIN`] bytes or more are not copied into the byte buffer: the slot holds
//! the version's reference-counted [`Blob`] instead, the one the memtable made when the value
//! was written, shared (not copied) by every merge of that version. In a write-heavy workload of
//! large values, a version passes through several merges of the size-tiered runs; copying it
//! each time was the largest cost of those merges (`docs/performance.md`, "Large values out of
//! line"). A large value that comes without a blob (a table's, in tests) gets one here.
//!
//! ## Blobs lent by a merge
//!
//! Sharing a blob by cloning its `Arc` writes its reference count, which sits in front of the
//! value: with large values spread over hundreds of megabytes, each clone is a cache and TLB
//! miss, and a version of a write-heavy workload goes through several merges. So a merge does
//! not count the blobs it carries from its inputs (an older run, or a frozen memtable): they
//! *lend* them ([`RunBuilder::push_lent`]), and the merge settles the loan once the new run is
//! installed. If the merge then holds an input alone (readers hold the sources only for the
//! length of one read), the input [disowns](Run::disown) the carried blobs and nothing touches
//! them; otherwise it [counts](Run::share) them as a clone would have, and keeps them until its
//! last reader lets go. Until the loan is settled ([`Run::settle_lent`]), dropping the new run
//! leaves its lent blobs to their owner, so a merge abandoned half-way (a panic) frees nothing
//! twice.

use alloc::vec::Vec;
use core::cmp::Ordering;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering as AtomicOrdering};

use super::rng::hash_key;
use super::{Blob, ValueKind, VersionRef, BLOB_BYTES_MIN, BLOB_OVERHEAD_BYTES};

#[derive(Debug)]
struct Slot {
    /// Where the key (and an inline value after it) starts in `data`.
    data_off: usize,
    key_len: u32,
    value_len: u32,
    seq: u64,
    expire_at: u64,
    cas_origin: u64,
    flags: u32,
    kind: ValueKind,
    tags: u8,
    /// `blob` is lent by the run the merge took this version from: see the module
    /// documentation (meaningful only while the run's loan is unsettled).
    lent: bool,
    /// The value, when it lies out of line (then `data` holds only the key).
    blob: Option<Blob>,
}

/// An immutable sorted run of versions.
///
/// Besides the versions, a run keeps one *access epoch* per version: the engine's merge count
/// when the version was last read (or merged in). Eviction uses it to find the coldest items:
/// a multi-bit CLOCK whose hand moves once per merge.
#[derive(Debug, Default)]
pub struct Run {
    slots: Vec<Slot>,
    data: Vec<u8>,
    access: Vec<AtomicU32>,
    /// The hash index: a power-of-two table of `fingerprint << 32 | (first slot + 1)`, 0 = free.
    index: Vec<u64>,
    /// The bytes of the blobs the slots hold (counted per run, even when shared).
    blob_bytes: usize,
    /// Some slots hold blobs lent by a merge's inputs, and the loan is not settled yet: a drop
    /// must leave those blobs to their owners.
    lent_unsettled: AtomicBool,
}

impl Drop for Run {
    fn drop(&mut self) {
        if *self.lent_unsettled.get_mut() {
            for slot in self.slots.iter_mut().filter(|s| s.lent) {
                core::mem::forget(slot.blob.take());
            }
        }
    }
}

/// The bytes a run spends per version beyond its key and value.
pub const RUN_SLOT_BYTES: usize = core::mem::size_of::<Slot>() + 4;

/// The bytes a run's hash index spends per distinct key, on average (a table of 8-byte entries
/// between 1.5 and 3 times the number of keys).
pub const RUN_KEY_INDEX_BYTES: usize = 18;

/// Builds a [`Run`] from versions pushed in internal order.
#[derive(Debug, Default)]
pub struct RunBuilder {
    run: Run,
    /// The slot of each key's newest version, in key order.
    heads: Vec<u32>,
}

impl RunBuilder {
    /// An empty builder with room for about `versions` versions and `data_bytes` bytes.
    pub fn with_capacity(versions: usize, data_bytes: usize) -> Self {
        RunBuilder {
            run: Run {
                slots: Vec::with_capacity(versions),
                data: Vec::with_capacity(data_bytes),
                access: Vec::with_capacity(versions),
                index: Vec::new(),
                blob_bytes: 0,
                lent_unsettled: AtomicBool::new(false),
            },
            heads: Vec::with_capacity(versions),
        }
    }

    /// The bytes of `v`'s value that a run copies into its byte buffer: all of a small value,
    /// none of one kept out of line.
    pub fn inline_value_bytes(v: &VersionRef<'_>) -> usize {
        if v.blob.is_some() || v.value.len() >= BLOB_BYTES_MIN {
            0
        } else {
            v.value.len()
        }
    }

    /// Appends a version; it must sort after the previous one in internal order.
    pub fn push(&mut self, v: &VersionRef<'_>) {
        self.push_with_epoch(v, 0);
    }

    /// Appends a version last accessed at `epoch`.
    pub fn push_with_epoch(&mut self, v: &VersionRef<'_>, epoch: u32) {
        self.push_slot(v, epoch, false);
    }

    /// Appends a version last accessed at `epoch`, whose blob (if any) the run it comes from
    /// lends instead of sharing: its reference count is not touched (see the module
    /// documentation).
    ///
    /// # Safety
    /// `v` comes from a [`Run`] or a [`Memtable`](super::Memtable) (its `blob` borrows one of
    /// their versions). Before that source drops the blob, the caller either disowns it there
    /// ([`Run::disown`]) or counts it ([`Run::share`]), and then calls [`Run::settle_lent`] on
    /// the finished run, if it still exists.
    #[expect(
        unsafe_code,
        reason = "a lent blob is an Arc whose count was not raised"
    )]
    pub unsafe fn push_lent(&mut self, v: &VersionRef<'_>, epoch: u32) {
        self.push_slot(v, epoch, true);
    }

    #[expect(
        unsafe_code,
        reason = "a lent blob is an Arc whose count was not raised"
    )]
    fn push_slot(&mut self, v: &VersionRef<'_>, epoch: u32, lend: bool) {
        let new_key = match self.run.slots.last() {
            Some(last) => {
                let last_key = self.run.key(last);
                let order = compare_internal(last_key, last.seq, v.key, v.seq);
                assert!(order == Ordering::Less, "run versions pushed out of order");
                last_key != v.key
            }
            None => true,
        };
        if new_key {
            let slot = u32::try_from(self.run.slots.len()).unwrap_or(u32::MAX);
            assert!(slot < u32::MAX, "a run holds fewer than 2^32 - 1 versions");
            self.heads.push(slot);
        }
        let key_len = u32::try_from(v.key.len()).unwrap_or(u32::MAX);
        let value_len = u32::try_from(v.value.len()).unwrap_or(u32::MAX);
        assert!(key_len as usize == v.key.len() && value_len as usize == v.value.len());
        let data_off = self.run.data.len();
        self.run.data.extend_from_slice(v.key);
        let lent = lend && v.blob.is_some();
        let blob = match v.blob {
            Some(blob) if lend => {
                *self.run.lent_unsettled.get_mut() = true;
                // SAFETY: a second `Arc` for the same allocation without raising its count;
                // per `push_lent`'s contract the lending run disowns or counts it before it
                // could release it, and until `settle_lent` this run's drop forgets it.
                Some(unsafe { Blob::from_raw(Blob::as_ptr(blob)) })
            }
            // Already out of line in the source it comes from: share it.
            Some(blob) => Some(blob.clone()),
            None if v.value.len() >= BLOB_BYTES_MIN => Some(Blob::from(v.value)),
            None => {
                self.run.data.extend_from_slice(v.value);
                None
            }
        };
        if let Some(blob) = &blob {
            self.run.blob_bytes += blob.len() + BLOB_OVERHEAD_BYTES;
        }
        self.run.slots.push(Slot {
            data_off,
            key_len,
            value_len,
            seq: v.seq,
            expire_at: v.expire_at,
            flags: v.flags,
            kind: v.kind,
            cas_origin: v.cas_origin,
            tags: v.tags,
            lent,
            blob,
        });
        self.run.access.push(AtomicU32::new(epoch));
    }

    /// Finishes the run, releasing spare capacity.
    pub fn finish(mut self) -> Run {
        self.run.slots.shrink_to_fit();
        self.run.data.shrink_to_fit();
        self.run.access.shrink_to_fit();
        if !self.heads.is_empty() {
            let size = (self.heads.len() + self.heads.len() / 2 + 1).next_power_of_two();
            let mask = size - 1;
            let mut index = alloc::vec![0u64; size];
            for &slot in &self.heads {
                let h = hash_key(self.run.key(&self.run.slots[slot as usize]));
                let mut pos = h as usize & mask;
                while index[pos] != 0 {
                    pos = (pos + 1) & mask;
                }
                index[pos] = (h >> 32) << 32 | (u64::from(slot) + 1);
            }
            self.run.index = index;
        }
        self.run
    }
}

/// Internal-key order: user key ascending, then sequence descending.
pub fn compare_internal(a_key: &[u8], a_seq: u64, b_key: &[u8], b_seq: u64) -> Ordering {
    a_key.cmp(b_key).then(b_seq.cmp(&a_seq))
}

impl Run {
    fn key(&self, s: &Slot) -> &[u8] {
        &self.data[s.data_off..s.data_off + s.key_len as usize]
    }

    /// The version at `index` (in internal order).
    pub fn version(&self, index: usize) -> Option<VersionRef<'_>> {
        let s = self.slots.get(index)?;
        let key_end = s.data_off + s.key_len as usize;
        let value = match &s.blob {
            Some(blob) => &blob[..],
            None => &self.data[key_end..key_end + s.value_len as usize],
        };
        Some(VersionRef {
            key: &self.data[s.data_off..key_end],
            seq: s.seq,
            kind: s.kind,
            flags: s.flags,
            cas_origin: s.cas_origin,
            tags: s.tags,
            expire_at: s.expire_at,
            value,
            blob: s.blob.as_ref(),
        })
    }

    /// The index of the first version `>= (key, seq)` in internal order (`len()` if none).
    pub fn seek(&self, key: &[u8], seq: u64) -> usize {
        self.slots
            .partition_point(|s| compare_internal(self.key(s), s.seq, key, seq).is_lt())
    }

    /// The newest version of `key` with `seq <= snapshot_seq`, if any (tombstones included).
    pub fn get(&self, key: &[u8], snapshot_seq: u64) -> Option<VersionRef<'_>> {
        self.get_indexed(key, snapshot_seq).map(|(_, v)| v)
    }

    /// Like [`Run::get`], with the version's index.
    pub fn get_indexed(&self, key: &[u8], snapshot_seq: u64) -> Option<(usize, VersionRef<'_>)> {
        let first = self.find_key(key)?;
        let mut i = first;
        while let Some(s) = self.slots.get(i) {
            if i != first && self.key(s) != key {
                return None;
            }
            if s.seq <= snapshot_seq {
                return Some((i, self.version(i)?));
            }
            i += 1;
        }
        None
    }

    /// The slot of the newest version of `key`, through the hash index.
    fn find_key(&self, key: &[u8]) -> Option<usize> {
        if self.index.is_empty() {
            return None;
        }
        let h = hash_key(key);
        let mask = self.index.len() - 1;
        let fingerprint = h >> 32;
        let mut pos = h as usize & mask;
        loop {
            let entry = self.index[pos];
            if entry == 0 {
                return None;
            }
            if entry >> 32 == fingerprint {
                let slot = (entry & u64::from(u32::MAX)) as usize - 1;
                if self.slots.get(slot).is_some_and(|s| self.key(s) == key) {
                    return Some(slot);
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Records an access to the version at `index` during `epoch` (cheap when already set).
    pub fn touch(&self, index: usize, epoch: u32) {
        if let Some(a) = self.access.get(index) {
            if a.load(AtomicOrdering::Relaxed) != epoch {
                a.store(epoch, AtomicOrdering::Relaxed);
            }
        }
    }

    /// The epoch of the last access to the version at `index`.
    pub fn access_epoch(&self, index: usize) -> u32 {
        self.access
            .get(index)
            .map_or(0, |a| a.load(AtomicOrdering::Relaxed))
    }

    /// Gives up the blobs of the versions at `positions` without releasing them: a merge
    /// carried them into a newer run, which now owns them (see the module documentation).
    pub fn disown(&mut self, positions: &[u32]) {
        for &pos in positions {
            if let Some(slot) = self.slots.get_mut(pos as usize) {
                core::mem::forget(slot.blob.take());
            }
        }
    }

    /// Counts once more the blobs of the versions at `positions`, for the newer run a merge
    /// lent them to: this run keeps its own reference, released when it is dropped.
    pub fn share(&self, positions: &[u32]) {
        for &pos in positions {
            if let Some(blob) = self.slots.get(pos as usize).and_then(|s| s.blob.as_ref()) {
                core::mem::forget(blob.clone());
            }
        }
    }

    /// Ends the loan of the blobs this run was built with by [`RunBuilder::push_lent`]: from
    /// now on it owns them.
    ///
    /// # Safety
    /// Every run that lent a blob to this one has [disowned](Run::disown) or
    /// [counted](Run::share) it.
    #[expect(unsafe_code, reason = "settling a loan of blobs")]
    pub unsafe fn settle_lent(&self) {
        self.lent_unsettled.store(false, AtomicOrdering::Release);
    }

    /// Whether this run holds lent blobs whose loan is not settled.
    #[cfg(test)]
    fn is_lent_unsettled(&self) -> bool {
        self.lent_unsettled.load(AtomicOrdering::Acquire)
    }

    /// The number of versions.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the run holds no version.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The bytes the run holds (descriptors, data and its blobs; a blob shared with another run
    /// counts in both).
    pub fn memory_bytes(&self) -> usize {
        self.slots.capacity() * core::mem::size_of::<Slot>()
            + self.access.capacity() * 4
            + self.index.capacity() * 8
            + self.data.capacity()
            + self.blob_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v<'a>(key: &'a [u8], seq: u64, value: &'a [u8]) -> VersionRef<'a> {
        VersionRef {
            key,
            seq,
            kind: ValueKind::Value,
            flags: 0,
            cas_origin: 0,
            tags: 0,
            expire_at: 0,
            value,
            blob: None,
        }
    }

    #[test]
    fn large_values_live_in_blobs_that_later_runs_share() {
        let small = [7u8; BLOB_BYTES_MIN - 1];
        let large: Vec<u8> = (0..BLOB_BYTES_MIN * 3).map(|i| i as u8).collect();
        let mut b = RunBuilder::with_capacity(3, 0);
        b.push(&v(b"a", 3, &large));
        b.push(&v(b"a", 2, &small));
        b.push(&v(b"b", 1, &large[..BLOB_BYTES_MIN]));
        let first = b.finish();
        // Keys and the small value are inline; the two large values are blobs.
        assert_eq!(first.data.len(), 3 + small.len());
        assert_eq!(
            first.blob_bytes,
            large.len() + BLOB_BYTES_MIN + 2 * BLOB_OVERHEAD_BYTES
        );
        assert!(first.memory_bytes() >= first.blob_bytes + first.data.len());
        let a3 = first.get(b"a", 3).unwrap();
        assert_eq!((a3.value, a3.blob.is_some()), (&large[..], true));
        let a2 = first.get(b"a", 2).unwrap();
        assert_eq!((a2.value, a2.blob.is_some()), (&small[..], false));
        assert_eq!(first.get(b"b", 1).unwrap().value, &large[..BLOB_BYTES_MIN]);

        // A second run built from the first (as a merge does) shares the blobs.
        let mut b = RunBuilder::default();
        for i in 0..first.len() {
            b.push(&first.version(i).unwrap());
        }
        let second = b.finish();
        let (x, y) = (first.get(b"a", 3).unwrap(), second.get(b"a", 3).unwrap());
        assert_eq!(x, y);
        assert!(core::ptr::eq(x.value, y.value), "the blob was copied");
        assert_eq!(alloc::sync::Arc::strong_count(y.blob.unwrap()), 2);
        assert!(!core::ptr::eq(
            first.get(b"a", 2).unwrap().value,
            second.get(b"a", 2).unwrap().value
        ));
        // Dropping the first run leaves the second's blobs whole.
        drop(first);
        assert_eq!(alloc::sync::Arc::strong_count(y.blob.unwrap()), 1);
        assert_eq!(second.get(b"a", 3).unwrap().value, &large[..]);
        assert_eq!(second.get(b"b", 1).unwrap().value, &large[..BLOB_BYTES_MIN]);
    }

    /// A run of three keys, `a` and `c` with large values (blobs), `b` with a small one.
    fn lender(large: &[u8]) -> Run {
        let mut b = RunBuilder::default();
        b.push(&v(b"a", 3, large));
        b.push(&v(b"b", 2, b"small"));
        b.push(&v(b"c", 1, &large[..BLOB_BYTES_MIN]));
        b.finish()
    }

    /// A run that borrows every blob of `from` (as a merge does) and shares its small values.
    #[expect(unsafe_code, reason = "exercises lent blobs")]
    fn borrower(from: &Run) -> Run {
        let mut b = RunBuilder::default();
        for i in 0..from.len() {
            // SAFETY: every test below settles the loan or drops the borrower first.
            unsafe { b.push_lent(&from.version(i).unwrap(), 0) };
        }
        b.finish()
    }

    fn count(run: &Run, key: &[u8]) -> usize {
        alloc::sync::Arc::strong_count(run.get(key, u64::MAX).unwrap().blob.unwrap())
    }

    #[test]
    #[expect(unsafe_code, reason = "exercises lent blobs")]
    fn a_lender_held_by_nobody_else_disowns_the_blobs_it_lent() {
        let large: Vec<u8> = (0..BLOB_BYTES_MIN * 2).map(|i| i as u8).collect();
        let mut old = lender(&large);
        let new = borrower(&old);
        assert!(new.is_lent_unsettled() && !old.is_lent_unsettled());
        // Lending touched no count.
        assert_eq!((count(&new, b"a"), count(&new, b"c")), (1, 1));
        old.disown(&[0, 2]);
        // SAFETY: the only lender disowned both lent blobs.
        unsafe { new.settle_lent() };
        assert!(!new.is_lent_unsettled());
        drop(old);
        assert_eq!((count(&new, b"a"), count(&new, b"c")), (1, 1));
        assert_eq!(new.get(b"a", 9).unwrap().value, &large[..]);
        assert_eq!(new.get(b"b", 9).unwrap().value, b"small");
        assert_eq!(new.get(b"c", 9).unwrap().value, &large[..BLOB_BYTES_MIN]);
        // (Miri checks that each blob is freed exactly once when `new` goes.)
    }

    #[test]
    #[expect(unsafe_code, reason = "exercises lent blobs")]
    fn a_lender_still_read_counts_the_blobs_it_lent() {
        let large: Vec<u8> = (0..BLOB_BYTES_MIN * 2).map(|i| i as u8).collect();
        let old = lender(&large);
        let new = borrower(&old);
        old.share(&[0, 2]);
        // SAFETY: the only lender counted both lent blobs.
        unsafe { new.settle_lent() };
        assert_eq!((count(&new, b"a"), count(&new, b"c")), (2, 2));
        // Either may go first; the other keeps the values.
        drop(new);
        assert_eq!(count(&old, b"a"), 1);
        assert_eq!(old.get(b"a", 9).unwrap().value, &large[..]);
        let new = borrower(&old);
        old.share(&[0, 2]);
        // SAFETY: as above.
        unsafe { new.settle_lent() };
        drop(old);
        assert_eq!(count(&new, b"a"), 1);
        assert_eq!(new.get(b"c", 9).unwrap().value, &large[..BLOB_BYTES_MIN]);
    }

    #[test]
    fn a_borrower_dropped_before_its_loan_is_settled_leaves_the_blobs_to_the_lender() {
        let large: Vec<u8> = (0..BLOB_BYTES_MIN * 2).map(|i| i as u8).collect();
        let old = lender(&large);
        drop(borrower(&old));
        assert_eq!((count(&old, b"a"), count(&old, b"c")), (1, 1));
        assert_eq!(old.get(b"a", 9).unwrap().value, &large[..]);
    }

    /// A memtable holding a@3 (large), a@2 (small), b@4 (small) and c@1 (large): ordinals 0-3.
    fn memtable(large: &[u8]) -> crate::memtable::Memtable {
        let m = crate::memtable::Memtable::new(1, 7, 4096, 0);
        let o = crate::memtable::PutOptions::default();
        m.add(b"a", 2, ValueKind::Value, &o, b"old").unwrap();
        m.add(b"a", 3, ValueKind::Value, &o, large).unwrap();
        m.add(b"b", 4, ValueKind::Value, &o, b"small").unwrap();
        m.add(b"c", 1, ValueKind::Value, &o, large).unwrap();
        m
    }

    /// A run of the newest version of each key of `m`, borrowing their blobs as a merge does;
    /// with the ordinals of the lent blobs.
    #[expect(unsafe_code, reason = "exercises lent blobs")]
    fn newest_of(m: &crate::memtable::Memtable) -> (Run, Vec<u32>) {
        let mut b = RunBuilder::default();
        let mut it = m.iter();
        it.seek_to_first();
        let (mut ordinal, mut lent, mut last) = (0u32, Vec::new(), Vec::new());
        while let Some(v) = it.version() {
            if v.key != last.as_slice() {
                if v.blob.is_some() {
                    lent.push(ordinal);
                }
                // SAFETY: every test below settles the loan before the memtable goes.
                unsafe { b.push_lent(&v, 0) };
                last = v.key.to_vec();
            }
            ordinal += 1;
            it.next();
        }
        (b.finish(), lent)
    }

    /// A frozen memtable lends its blobs as a run does, by ordinal: disowned when nobody else
    /// holds it, counted otherwise; its drop releases only what it still owns (Miri checks
    /// that nothing leaks and nothing is freed twice).
    #[test]
    #[expect(unsafe_code, reason = "exercises lent blobs")]
    fn a_memtable_lends_its_blobs_by_ordinal() {
        let large: Vec<u8> = (0..BLOB_BYTES_MIN * 2).map(|i| i as u8).collect();
        let mut m = memtable(&large);
        let (run, lent) = newest_of(&m);
        assert_eq!(lent, [0, 3]);
        assert_eq!((count(&run, b"a"), count(&run, b"c")), (1, 1));
        m.disown(&lent);
        // SAFETY: the memtable disowned every lent blob.
        unsafe { run.settle_lent() };
        drop(m);
        assert_eq!((count(&run, b"a"), count(&run, b"c")), (1, 1));
        assert_eq!(run.get(b"a", 9).unwrap().value, &large[..]);
        assert_eq!(run.get(b"b", 9).unwrap().value, b"small");
        assert_eq!(run.get(b"c", 9).unwrap().value, &large[..]);

        let m = memtable(&large);
        let (run, lent) = newest_of(&m);
        m.share(&lent);
        // SAFETY: the memtable counted every lent blob.
        unsafe { run.settle_lent() };
        assert_eq!((count(&run, b"a"), count(&run, b"c")), (2, 2));
        drop(m);
        assert_eq!((count(&run, b"a"), count(&run, b"c")), (1, 1));
        assert_eq!(run.get(b"c", 9).unwrap().value, &large[..]);

        // Dropped unsettled, the run leaves the blobs to the memtable.
        let m = memtable(&large);
        drop(newest_of(&m));
        assert_eq!(m.get(b"a", 9).unwrap().value, &large[..]);
    }

    #[test]
    fn build_seek_get() {
        let mut b = RunBuilder::with_capacity(4, 64);
        b.push(&v(b"a", 9, b"a9"));
        b.push(&v(b"a", 2, b"a2"));
        b.push(&v(b"c", 5, b"c5"));
        let r = b.finish();
        assert_eq!(r.len(), 3);
        assert_eq!(r.get(b"a", 10).unwrap().value, b"a9");
        assert_eq!(r.get(b"a", 8).unwrap().value, b"a2");
        assert!(r.get(b"a", 1).is_none());
        assert!(r.get(b"b", 100).is_none());
        assert_eq!(r.seek(b"b", u64::MAX), 2);
        assert_eq!(r.seek(b"z", 0), 3);
        assert!(r.version(3).is_none());
        assert!(r.memory_bytes() >= 6);
    }

    #[test]
    fn hash_index_finds_every_key_and_no_other() {
        // Keys with long common prefixes, as memcached load generators make them.
        let keys: Vec<Vec<u8>> = (0..2000u32)
            .map(|i| alloc::format!("{i:032}").into_bytes())
            .collect();
        let mut b = RunBuilder::default();
        for (i, k) in keys.iter().enumerate() {
            // Every third key has two versions.
            if i % 3 == 0 {
                b.push(&v(k, 20, b"new"));
            }
            b.push(&v(k, 10, b"old"));
        }
        let r = b.finish();
        for (i, k) in keys.iter().enumerate() {
            let newest = r.get(k, u64::MAX).unwrap();
            assert_eq!(newest.value, if i % 3 == 0 { &b"new"[..] } else { b"old" });
            assert_eq!(r.get(k, 15).unwrap().value, b"old");
            assert!(r.get(k, 9).is_none());
            let (idx, _) = r.get_indexed(k, u64::MAX).unwrap();
            assert_eq!(idx, r.seek(k, u64::MAX));
        }
        for i in 2000..4000u32 {
            assert!(r
                .get(alloc::format!("{i:032}").as_bytes(), u64::MAX)
                .is_none());
        }
        assert!(r.get(b"", u64::MAX).is_none());
        assert!(Run::default().get(b"a", u64::MAX).is_none());
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn out_of_order_push_panics() {
        let mut b = RunBuilder::default();
        b.push(&v(b"b", 1, b""));
        b.push(&v(b"a", 1, b""));
    }
}
