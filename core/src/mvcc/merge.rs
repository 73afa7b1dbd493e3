//! Merging cursors over the engine's sources, and the garbage-collecting merge of frozen
//! memtables into a run.
//!
//! Sources are ordered newest first: the active memtable, the frozen memtables (newest first),
//! then the merged run. Their sequence ranges do not overlap, so the first source holding a
//! version of a key `<= snapshot` has the newest one.
//!
//! ## What a merge keeps
//!
//! A merge sees every version of the frozen inputs and the old run, all with `seq <= V`, the
//! visible sequence when the merge started. The *boundaries* are the live snapshots plus `V`:
//! every present or future reader reads at one of them or at a sequence `>= V`. Per key, with
//! versions newest first, a version `s` whose next newer version is `n` (or ∞) is seen by the
//! boundaries in `[s, n)`; it is kept only if one exists. A kept value that has expired at the
//! merge's `now` becomes a tombstone (it must still shadow older versions). Finally the oldest
//! kept versions are dropped while they are tombstones at or below the oldest live snapshot:
//! they shadow nothing, and no transaction can need them to detect a conflict.

use alloc::vec::Vec;
use core::ops::Bound;

use crate::memtable::run::{Run, RunBuilder};
use crate::memtable::{decode_entry, skiplist, Memtable, ValueKind, VersionRef};

/// A cursor over one source.
#[derive(Clone)]
pub(crate) enum SourceCursor<'a> {
    Mem(skiplist::Iter<'a>),
    Run { run: &'a Run, pos: usize },
}

impl<'a> SourceCursor<'a> {
    pub(crate) fn memtable(m: &'a Memtable) -> Self {
        SourceCursor::Mem(m.iter())
    }

    pub(crate) fn run(run: &'a Run) -> Self {
        SourceCursor::Run { run, pos: 0 }
    }

    fn seek(&mut self, key: &[u8], seq: u64) {
        match self {
            SourceCursor::Mem(it) => it.seek(key, seq),
            SourceCursor::Run { run, pos } => *pos = run.seek(key, seq),
        }
    }

    fn seek_to_first(&mut self) {
        match self {
            SourceCursor::Mem(it) => it.seek_to_first(),
            SourceCursor::Run { pos, .. } => *pos = 0,
        }
    }

    fn current(&self) -> Option<VersionRef<'a>> {
        match self {
            SourceCursor::Mem(it) => it.entry().map(decode_entry),
            SourceCursor::Run { run, pos } => run.version(*pos),
        }
    }

    fn advance(&mut self) {
        match self {
            SourceCursor::Mem(it) => it.next(),
            SourceCursor::Run { pos, .. } => *pos += 1,
        }
    }
}

/// A cursor over the union of several sources in internal order.
pub(crate) struct MergeCursor<'a> {
    sources: Vec<SourceCursor<'a>>,
    current: Option<usize>,
}

impl<'a> MergeCursor<'a> {
    pub(crate) fn new(sources: Vec<SourceCursor<'a>>) -> Self {
        MergeCursor {
            sources,
            current: None,
        }
    }

    /// Positions at the first version `>= (key, seq)`.
    pub(crate) fn seek(&mut self, key: &[u8], seq: u64) {
        self.sources.iter_mut().for_each(|s| s.seek(key, seq));
        self.pick();
    }

    /// Positions at the first version of all.
    pub(crate) fn seek_to_first(&mut self) {
        self.sources
            .iter_mut()
            .for_each(SourceCursor::seek_to_first);
        self.pick();
    }

    /// Positions according to a lower bound on user keys.
    pub(crate) fn seek_bound(&mut self, start: Bound<&[u8]>) {
        match start {
            Bound::Unbounded => self.seek_to_first(),
            Bound::Included(k) => self.seek(k, u64::MAX),
            Bound::Excluded(k) => {
                self.seek(k, u64::MAX);
                while self.current().is_some_and(|v| v.key == k) {
                    self.advance();
                }
            }
        }
    }

    fn pick(&mut self) {
        let mut best: Option<(usize, VersionRef<'a>)> = None;
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(v) = s.current() {
                let better = match &best {
                    None => true,
                    Some((_, b)) => {
                        (v.key, core::cmp::Reverse(v.seq)) < (b.key, core::cmp::Reverse(b.seq))
                    }
                };
                if better {
                    best = Some((i, v));
                }
            }
        }
        self.current = best.map(|(i, _)| i);
    }

    /// The version under the cursor.
    pub(crate) fn current(&self) -> Option<VersionRef<'a>> {
        self.sources[self.current?].current()
    }

    /// Moves to the next version.
    pub(crate) fn advance(&mut self) {
        if let Some(i) = self.current {
            self.sources[i].advance();
            self.pick();
        }
    }

    /// Moves to the next live version visible at `snapshot_seq` and returns it: per key, the
    /// newest version `<= snapshot_seq`, skipped if it is a tombstone or expired at `now`.
    pub(crate) fn next_visible(&mut self, snapshot_seq: u64, now: u64) -> Option<VersionRef<'a>> {
        loop {
            let v = self.current()?;
            self.advance();
            if v.seq > snapshot_seq {
                continue;
            }
            while self.current().is_some_and(|w| w.key == v.key) {
                self.advance();
            }
            if v.is_live(now) {
                return Some(v);
            }
        }
    }
}

/// Whether `key` is below the upper bound `end`.
pub(crate) fn below_end(key: &[u8], end: Bound<&[u8]>) -> bool {
    match end {
        Bound::Unbounded => true,
        Bound::Included(e) => key <= e,
        Bound::Excluded(e) => key < e,
    }
}

/// Counters of one merge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Versions read from the inputs.
    pub versions_in: u64,
    /// Versions written to the new run.
    pub versions_out: u64,
    /// Expired values turned into tombstones or dropped.
    pub expired: u64,
}

/// Merges `inputs` (all versions `<= boundaries.last()`) into one run, dropping what no
/// boundary can see. `boundaries` is ascending, non-empty, and ends with the visible sequence;
/// `oldest_snapshot` is its first element.
pub(crate) fn merge(
    inputs: Vec<SourceCursor<'_>>,
    boundaries: &[u64],
    now: u64,
) -> (Run, MergeStats) {
    assert!(
        !boundaries.is_empty(),
        "a merge needs at least the visible sequence"
    );
    let oldest_snapshot = boundaries[0];
    let mut cursor = MergeCursor::new(inputs);
    cursor.seek_to_first();
    let mut builder = RunBuilder::default();
    let mut stats = MergeStats::default();
    let mut group: Vec<VersionRef<'_>> = Vec::new();
    while let Some(first) = cursor.current() {
        group.clear();
        while let Some(v) = cursor.current().filter(|v| v.key == first.key) {
            group.push(v);
            cursor.advance();
        }
        stats.versions_in += group.len() as u64;
        let kept = collect_key(&group, boundaries, oldest_snapshot, now, &mut stats);
        for v in &kept {
            builder.push(v);
        }
        stats.versions_out += kept.len() as u64;
    }
    (builder.finish(), stats)
}

/// The versions of one key (newest first) that the merge keeps.
fn collect_key<'a>(
    group: &[VersionRef<'a>],
    boundaries: &[u64],
    oldest_snapshot: u64,
    now: u64,
    stats: &mut MergeStats,
) -> Vec<VersionRef<'a>> {
    let mut kept: Vec<VersionRef<'a>> = Vec::new();
    let mut newer = u64::MAX;
    for v in group {
        let i = boundaries.partition_point(|&b| b < v.seq);
        let seen = i < boundaries.len() && boundaries[i] < newer;
        newer = v.seq;
        if !seen {
            continue;
        }
        let mut v = *v;
        if v.kind == ValueKind::Value && v.is_expired(now) {
            stats.expired += 1;
            v = VersionRef {
                kind: ValueKind::Tombstone,
                flags: 0,
                expire_at: 0,
                value: &[],
                ..v
            };
        }
        kept.push(v);
    }
    while kept
        .last()
        .is_some_and(|v| v.kind == ValueKind::Tombstone && v.seq <= oldest_snapshot)
    {
        kept.pop();
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(seq: u64) -> VersionRef<'static> {
        VersionRef {
            key: b"k",
            seq,
            kind: ValueKind::Value,
            flags: 0,
            expire_at: 0,
            value: b"v",
        }
    }

    fn del(seq: u64) -> VersionRef<'static> {
        VersionRef {
            kind: ValueKind::Tombstone,
            value: b"",
            ..val(seq)
        }
    }

    fn seqs(group: &[VersionRef<'_>], boundaries: &[u64], now: u64) -> Vec<(u64, ValueKind)> {
        let mut st = MergeStats::default();
        collect_key(group, boundaries, boundaries[0], now, &mut st)
            .iter()
            .map(|v| (v.seq, v.kind))
            .collect()
    }

    #[test]
    fn keeps_only_versions_a_boundary_sees() {
        let g = [val(9), val(7), val(4), val(2)];
        assert_eq!(seqs(&g, &[10], 0), [(9, ValueKind::Value)]);
        assert_eq!(
            seqs(&g, &[5, 10], 0),
            [(9, ValueKind::Value), (4, ValueKind::Value)]
        );
        assert_eq!(seqs(&g, &[3, 8, 10], 0).len(), 3);
        assert_eq!(seqs(&g, &[1, 10], 0), [(9, ValueKind::Value)]);
    }

    #[test]
    fn tombstones_dropped_only_when_shadowing_nothing() {
        assert!(seqs(&[del(9), val(4)], &[10], 0).is_empty());
        assert_eq!(
            seqs(&[del(9), val(4)], &[5, 10], 0),
            [(9, ValueKind::Tombstone), (4, ValueKind::Value)]
        );
        // Newer than the oldest snapshot: kept, so conflicts against snapshot 5 are detected.
        assert_eq!(
            seqs(&[del(9), val(7)], &[5, 10], 0),
            [(9, ValueKind::Tombstone)]
        );
    }

    #[test]
    fn expired_values_shadow_then_vanish() {
        let mut e = val(9);
        e.expire_at = 50;
        assert!(seqs(&[e, val(4)], &[10], 60).is_empty());
        assert_eq!(seqs(&[e, val(4)], &[10], 40), [(9, ValueKind::Value)]);
        assert_eq!(
            seqs(&[e, val(4)], &[5, 10], 60),
            [(9, ValueKind::Tombstone), (4, ValueKind::Value)]
        );
    }
}
