//! Snapshots and the registry of live ones.
//!
//! A snapshot pins a sequence number: reads through it see, per key, the newest version with
//! `seq <= snapshot.seq()`. The registry counts the live snapshots per sequence so that merges
//! keep every version some live snapshot can still see. Registration reads the visible sequence
//! while holding the registry lock, and merges read the registry and the visible sequence under
//! the same lock, so a snapshot is never created "behind" a merge's back.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use crate::sync::AtomicU64;

use crate::sync::Mutex;

/// The live snapshots: sequence → number of handles.
#[derive(Debug, Default)]
pub(crate) struct SnapshotRegistry {
    live: Mutex<BTreeMap<u64, usize>>,
}

impl SnapshotRegistry {
    /// Registers a snapshot at the current visible sequence and returns it.
    pub(crate) fn acquire(&self, visible: &AtomicU64) -> u64 {
        let mut live = self.live.lock();
        let seq = visible.load(Ordering::Acquire);
        *live.entry(seq).or_insert(0) += 1;
        seq
    }

    /// Releases one handle of the snapshot at `seq`.
    pub(crate) fn release(&self, seq: u64) {
        let mut live = self.live.lock();
        let count = live.get_mut(&seq);
        assert!(
            count.is_some(),
            "released a snapshot that is not registered"
        );
        if let Some(count) = count {
            *count -= 1;
            if *count == 0 {
                live.remove(&seq);
            }
        }
    }

    /// The merge boundaries: every live snapshot sequence plus the visible sequence, ascending
    /// and without duplicates; and the oldest live snapshot (the visible sequence if none).
    pub(crate) fn boundaries(&self, visible: &AtomicU64) -> (Vec<u64>, u64) {
        let live = self.live.lock();
        let v = visible.load(Ordering::Acquire);
        let mut b: Vec<u64> = live.keys().copied().filter(|&s| s < v).collect();
        b.push(v);
        let oldest = b[0];
        (b, oldest)
    }

    /// The number of live snapshot handles.
    pub(crate) fn count(&self) -> usize {
        self.live.lock().values().sum()
    }
}

/// A consistent read view of the database at one sequence number. Dropping it releases it.
#[derive(Debug)]
pub struct Snapshot<'a> {
    pub(crate) registry: &'a SnapshotRegistry,
    pub(crate) seq: u64,
}

impl Snapshot<'_> {
    /// The sequence number this snapshot reads at.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        self.registry.release(self.seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_counts_and_boundaries() {
        let reg = SnapshotRegistry::default();
        let visible = AtomicU64::new(5);
        assert_eq!(reg.acquire(&visible), 5);
        assert_eq!(reg.acquire(&visible), 5);
        visible.store(9, Ordering::Release);
        assert_eq!(reg.acquire(&visible), 9);
        assert_eq!(reg.count(), 3);
        assert_eq!(reg.boundaries(&visible), (alloc::vec![5, 9], 5));
        reg.release(5);
        reg.release(5);
        assert_eq!(reg.boundaries(&visible), (alloc::vec![9], 9));
        reg.release(9);
        assert_eq!(reg.count(), 0);
    }
}
