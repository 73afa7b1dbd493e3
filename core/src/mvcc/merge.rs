//! Merging cursors over the engine's sources, and the garbage-collecting merge of frozen
//! memtables into a run.
//!
//! Sources are ordered newest first: the active memtable, the frozen memtables (newest first),
//! then (disk mode) the tables, newest first, or (memory mode) the merged runs. Their sequence
//! ranges do not overlap, so the first source holding a version of a key `<= snapshot` has the
//! newest one. A table's versions are decoded from its blocks, so [`MergeCursor::current`]
//! lends them from the cursor: valid until it moves.
//!
//! In disk mode frozen memtables are not merged into runs but flushed to tables
//! ([`flush_into`]) with the same rules, less those that need the oldest data.
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

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::ops::Bound;

use alloc::boxed::Box;
use alloc::sync::Arc;

use crate::disk::{TableCursor, TableSink, TableSource};
use crate::memtable::run::{Run, RunBuilder, RUN_KEY_INDEX_BYTES, RUN_SLOT_BYTES};
use crate::memtable::{Cursor, Memtable, ValueKind, VersionRef};
use crate::Result;

/// A cursor over one source.
pub(crate) enum SourceCursor<'a> {
    /// A memtable, and the ordinal of the current version since the first one (`u32::MAX`
    /// after a seek elsewhere: only merges, which read from the first version, need it).
    Mem(Cursor<'a>, u32),
    Run {
        run: &'a Run,
        pos: usize,
    },
    /// A table on disk: its versions are decoded from blocks, so they borrow from the cursor.
    Table(Box<dyn TableCursor + 'a>),
}

impl<'a> SourceCursor<'a> {
    pub(crate) fn memtable(m: &'a Memtable) -> Self {
        SourceCursor::Mem(m.iter(), u32::MAX)
    }

    pub(crate) fn run(run: &'a Run) -> Self {
        SourceCursor::Run { run, pos: 0 }
    }

    pub(crate) fn table(table: &'a dyn TableSource) -> Self {
        SourceCursor::Table(table.cursor())
    }

    fn seek(&mut self, key: &[u8], seq: u64) {
        match self {
            SourceCursor::Mem(it, ordinal) => {
                it.seek(key, seq);
                *ordinal = u32::MAX;
            }
            SourceCursor::Run { run, pos } => *pos = run.seek(key, seq),
            SourceCursor::Table(t) => t.seek(key, seq),
        }
    }

    fn seek_to_first(&mut self) {
        match self {
            SourceCursor::Mem(it, ordinal) => {
                it.seek_to_first();
                *ordinal = 0;
            }
            SourceCursor::Run { pos, .. } => *pos = 0,
            SourceCursor::Table(t) => t.seek_to_first(),
        }
    }

    /// The current version, borrowed from the cursor (a table's block may change when the
    /// cursor moves).
    fn current(&self) -> Option<VersionRef<'_>> {
        match self {
            SourceCursor::Mem(it, _) => it.version(),
            SourceCursor::Run { run, pos } => run.version(*pos),
            SourceCursor::Table(t) => t.current(),
        }
    }

    /// The current version of an in-memory source, borrowed from the source itself (it stays
    /// valid while the cursor moves on). The merges into runs and tables read only memtables
    /// and runs.
    fn current_in_memory(&self) -> Option<VersionRef<'a>> {
        match self {
            SourceCursor::Mem(it, _) => it.version(),
            SourceCursor::Run { run, pos } => run.version(*pos),
            SourceCursor::Table(_) => panic!("merge inputs are memtables and runs"),
        }
    }

    fn advance(&mut self) {
        match self {
            SourceCursor::Mem(it, ordinal) => {
                it.next();
                *ordinal = ordinal.saturating_add(1);
            }
            SourceCursor::Run { pos, .. } => *pos += 1,
            SourceCursor::Table(t) => t.advance(),
        }
    }

    /// The access epoch of the current version: recorded for a run, `fresh` for a memtable
    /// (its versions were written since the last merge) and for a table.
    fn access_epoch(&self, fresh: u32) -> u32 {
        match self {
            SourceCursor::Mem(..) | SourceCursor::Table(_) => fresh,
            SourceCursor::Run { run, pos } => run.access_epoch(*pos),
        }
    }
}

/// A cursor over the union of several sources in internal order.
pub(crate) struct MergeCursor<'a> {
    sources: Vec<SourceCursor<'a>>,
    current: Option<usize>,
    /// [`MergeCursor::next_visible`]: the key it returned last, whose older versions the next
    /// call skips first.
    returned_key: Vec<u8>,
    skip_returned: bool,
}

impl<'a> MergeCursor<'a> {
    pub(crate) fn new(sources: Vec<SourceCursor<'a>>) -> Self {
        MergeCursor {
            sources,
            current: None,
            returned_key: Vec::new(),
            skip_returned: false,
        }
    }

    /// Positions at the first version `>= (key, seq)`.
    pub(crate) fn seek(&mut self, key: &[u8], seq: u64) {
        self.sources.iter_mut().for_each(|s| s.seek(key, seq));
        self.skip_returned = false;
        self.pick();
    }

    /// Positions at the first version of all.
    pub(crate) fn seek_to_first(&mut self) {
        self.sources
            .iter_mut()
            .for_each(SourceCursor::seek_to_first);
        self.skip_returned = false;
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
        let mut best: Option<(usize, VersionRef<'_>)> = None;
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

    /// The version under the cursor, borrowed from the cursor.
    pub(crate) fn current(&self) -> Option<VersionRef<'_>> {
        current_of(&self.sources, self.current)
    }

    /// The version under the cursor, borrowed from its source: only for cursors over memtables
    /// and runs (panics on a table).
    fn current_in_memory(&self) -> Option<VersionRef<'a>> {
        self.sources[self.current?].current_in_memory()
    }

    /// Where the version under the cursor lies in an in-memory source: the source's index
    /// and the version's position in a run, or its ordinal in a memtable.
    fn position(&self) -> Option<(usize, u32)> {
        let i = self.current?;
        match &self.sources[i] {
            SourceCursor::Run { pos, .. } => Some((i, u32::try_from(*pos).ok()?)),
            SourceCursor::Mem(_, ordinal) => (*ordinal != u32::MAX).then_some((i, *ordinal)),
            SourceCursor::Table(_) => None,
        }
    }

    /// The access epoch of the version under the cursor (see [`SourceCursor::access_epoch`]).
    fn access_epoch(&self, fresh: u32) -> u32 {
        self.current
            .map_or(fresh, |i| self.sources[i].access_epoch(fresh))
    }

    /// Moves to the next version.
    pub(crate) fn advance(&mut self) {
        if let Some(i) = self.current {
            self.sources[i].advance();
            self.pick();
        }
    }

    /// Moves past the versions of [`MergeCursor::returned_key`].
    fn skip_returned_key(&mut self) {
        while current_of(&self.sources, self.current).is_some_and(|w| w.key == self.returned_key) {
            self.advance();
        }
    }

    /// Moves to the next live version visible at `snapshot_seq` and returns it: per key, the
    /// newest version `<= snapshot_seq`, skipped if it is a tombstone, expired at `now`, or
    /// older than `flush_floor` (the latest `flush_all` at or below the snapshot). The cursor
    /// stays on the version returned; the next call first skips the key's older versions.
    pub(crate) fn next_visible(
        &mut self,
        snapshot_seq: u64,
        flush_floor: u64,
        now: u64,
    ) -> Option<VersionRef<'_>> {
        if core::mem::take(&mut self.skip_returned) {
            self.skip_returned_key();
        }
        loop {
            let (visible, live) = {
                let v = current_of(&self.sources, self.current)?;
                let visible = v.seq <= snapshot_seq;
                if visible {
                    self.returned_key.clear();
                    self.returned_key.extend_from_slice(v.key);
                }
                (visible, v.seq > flush_floor && v.is_live(now))
            };
            if !visible {
                self.advance();
                continue;
            }
            if live {
                self.skip_returned = true;
                return self.current();
            }
            self.skip_returned_key();
        }
    }
}

/// The version under a cursor over `sources` positioned on source `current`.
fn current_of<'c>(
    sources: &'c [SourceCursor<'_>],
    current: Option<usize>,
) -> Option<VersionRef<'c>> {
    sources[current?].current()
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
    /// Keys evicted (all their versions dropped) to meet the memory limit.
    pub keys_evicted: u64,
    /// Of those, keys whose newest version was a live value.
    pub keys_evicted_live: u64,
    /// Live keys (newest version a live value) in the new run.
    pub keys_live: u64,
}

/// The latest `flush_all` marker at or below `seq` (0 if none). `flushes` is ascending.
pub(crate) fn flush_floor(flushes: &[u64], seq: u64) -> u64 {
    let i = flushes.partition_point(|&f| f <= seq);
    if i == 0 {
        0
    } else {
        flushes[i - 1]
    }
}

/// What a merge must respect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MergeParams<'p> {
    /// Ascending, non-empty, ending with the visible sequence at the merge's start.
    pub(crate) boundaries: &'p [u64],
    /// The `flush_all` markers, ascending.
    pub(crate) flushes: &'p [u64],
    /// Unix time: values expired at `now` become tombstones.
    pub(crate) now: u64,
    /// The current access epoch (given to versions coming from memtables).
    pub(crate) epoch: u32,
    /// Whether the inputs include the oldest run: only then may a merge drop tombstones that
    /// shadow nothing, or evict keys (older runs could otherwise still hold versions they hide).
    pub(crate) bottom: bool,
    /// Evict the coldest keys until the run holds at most this many bytes.
    pub(crate) output_bytes_max: Option<usize>,
    /// Called every [`PAUSE_KEYS`] keys (see [`Config::pause`](super::Config::pause)).
    pub(crate) pause: Option<fn()>,
}

/// How many keys a merge handles between two calls of its pause hook.
pub(crate) const PAUSE_KEYS: usize = 1024;

/// Calls a merge's pause hook (if any) once every [`PAUSE_KEYS`] ticks.
struct Pacer {
    pause: Option<fn()>,
    ticks: usize,
}

impl Pacer {
    fn new(pause: Option<fn()>) -> Pacer {
        Pacer { pause, ticks: 0 }
    }

    /// One key handled.
    #[inline]
    fn tick(&mut self) {
        self.ticks += 1;
        if self.ticks == PAUSE_KEYS {
            self.ticks = 0;
            if let Some(pause) = self.pause {
                pause();
            }
        }
    }
}

/// One key's kept versions in the merge's scratch list.
struct KeyGroup {
    first: usize,
    len: usize,
    bytes: usize,
    epoch: u32,
    live: bool,
}

/// The blobs a merge carried from its inputs without counting them (see `memtable::run`,
/// "Blobs lent by a merge"): for each input, by index, the positions (in a run) or ordinals (in
/// a memtable) of the versions whose blobs the new run borrows.
pub(crate) type LentBlobs = Vec<Vec<u32>>;

/// Merges `inputs` (all versions `<= boundaries.last()`) into one run, dropping what no
/// boundary can see and, with `output_bytes_max`, evicting the coldest keys.
///
/// The blobs of the versions it carries are lent to the new run, not shared: the returned
/// [`LentBlobs`] says which.
///
/// # Safety
/// The inputs are memtables and runs that outlive the merge. The caller settles the loans
/// before any input could release a lent blob: it hands the inputs and the new run to
/// [`Loans`] (or drops the new run first, which then leaves the lent blobs to the inputs).
#[expect(unsafe_code, reason = "the new run borrows blobs from the inputs")]
pub(crate) unsafe fn merge(
    inputs: Vec<SourceCursor<'_>>,
    params: &MergeParams<'_>,
) -> (Run, MergeStats, LentBlobs) {
    assert!(
        !params.boundaries.is_empty(),
        "a merge needs at least the visible sequence"
    );
    let mut lent: LentBlobs = alloc::vec![Vec::new(); inputs.len()];
    let mut cursor = MergeCursor::new(inputs);
    cursor.seek_to_first();
    let mut stats = MergeStats::default();
    let mut kept: Vec<VersionRef<'_>> = Vec::new();
    // Parallel to `kept`: where a kept version with a blob lies in an input memtable or run.
    let mut kept_origin: Vec<Option<(usize, u32)>> = Vec::new();
    let mut keys: Vec<KeyGroup> = Vec::new();
    let mut group: Vec<VersionRef<'_>> = Vec::new();
    let mut origins: Vec<Option<(usize, u32)>> = Vec::new();
    let mut pacer = Pacer::new(params.pause);
    while let Some(first) = cursor.current_in_memory() {
        pacer.tick();
        group.clear();
        origins.clear();
        let mut epoch = 0u32;
        while let Some(v) = cursor.current_in_memory().filter(|v| v.key == first.key) {
            epoch = epoch.max(cursor.access_epoch(params.epoch));
            group.push(v);
            origins.push(cursor.position());
            cursor.advance();
        }
        stats.versions_in += group.len() as u64;
        let start = kept.len();
        collect_key(&group, params, &mut stats, &mut kept);
        // `collect_key` keeps a subsequence of the group (sequences are unique within it).
        let mut g = 0;
        for v in &kept[start..] {
            while group[g].seq != v.seq {
                g += 1;
            }
            kept_origin.push(origins[g].filter(|_| v.blob.is_some()));
            g += 1;
        }
        if kept.len() > start {
            let bytes = RUN_KEY_INDEX_BYTES
                + kept[start..]
                    .iter()
                    .map(|v| v.key.len() + v.value.len() + RUN_SLOT_BYTES)
                    .sum::<usize>();
            let live = kept[start].kind == ValueKind::Value;
            keys.push(KeyGroup {
                first: start,
                len: kept.len() - start,
                bytes,
                epoch,
                live,
            });
        }
    }
    let evict = params
        .output_bytes_max
        .map_or(Eviction::None, |max| eviction_cut(&keys, max));
    let data_bytes: usize = kept
        .iter()
        .map(|v| v.key.len() + RunBuilder::inline_value_bytes(v))
        .sum();
    let mut builder = RunBuilder::with_capacity(kept.len(), data_bytes);
    for k in &keys {
        pacer.tick();
        if evict.evicts(k, &kept[k.first]) {
            stats.keys_evicted += 1;
            stats.keys_evicted_live += u64::from(k.live);
            continue;
        }
        stats.keys_live += u64::from(k.live);
        for i in k.first..k.first + k.len {
            match kept_origin[i] {
                Some((input, pos)) => {
                    // SAFETY: the version comes from an input memtable or run, and the caller
                    // settles the loan (this function's contract).
                    unsafe { builder.push_lent(&kept[i], k.epoch) };
                    lent[input].push(pos);
                }
                None => builder.push_with_epoch(&kept[i], k.epoch),
            }
            stats.versions_out += 1;
        }
    }
    (builder.finish(), stats, lent)
}

/// An input of a merge that may have lent blobs to the new run.
pub(crate) enum Lender {
    Mem(Arc<Memtable>),
    Run(Arc<Run>),
}

impl Lender {
    /// Disowns the blobs at `lent` if nobody else holds the input; false otherwise.
    fn try_disown(&mut self, lent: &[u32]) -> bool {
        match self {
            Lender::Mem(m) => Arc::get_mut(m).map(|m| m.disown(lent)).is_some(),
            Lender::Run(r) => Arc::get_mut(r).map(|r| r.disown(lent)).is_some(),
        }
    }

    fn share(&self, lent: &[u32]) {
        match self {
            Lender::Mem(m) => m.share(lent),
            Lender::Run(r) => r.share(lent),
        }
    }
}

/// Settles the loans of a merge (see `memtable::run`, "Blobs lent by a merge") when dropped:
/// each input that nobody else holds any more disowns the blobs it lent, and one still read by
/// someone counts them instead; then the new run owns them. Dropped on every path out of a
/// merge, unwinding included.
pub(crate) struct Loans {
    /// The inputs and, for each, the positions of the blobs it lent.
    lenders: Vec<(Lender, Vec<u32>)>,
    /// The new run, once installed (before that, dropping it leaves the blobs to the inputs).
    borrower: Option<Arc<Run>>,
}

/// How many times the settling of a loan checks whether readers still hold an input before
/// it counts the lent blobs instead (a reader holds the sources for one read).
const SETTLE_SPINS: u32 = 1 << 12;

impl Loans {
    /// The loans of a merge of `inputs` (in the merge's order), with the [`LentBlobs`] it
    /// returned.
    pub(crate) fn new(inputs: Vec<Lender>, lent: LentBlobs) -> Loans {
        Loans {
            lenders: inputs.into_iter().zip(lent).collect(),
            borrower: None,
        }
    }

    /// Records the installed new run.
    pub(crate) fn borrower(&mut self, run: Arc<Run>) {
        self.borrower = Some(run);
    }

    /// Settles every loan now; returns how many inputs were still held by readers (and
    /// counted their lent blobs).
    pub(crate) fn settle(mut self) -> u64 {
        self.settle_now()
    }

    /// Settles every loan not settled yet; returns how many inputs counted their lent blobs.
    #[expect(unsafe_code, reason = "ends the loan of blobs")]
    fn settle_now(&mut self) -> u64 {
        let Some(borrower) = self.borrower.take() else {
            // The new run was never installed: it was (or will be) dropped unsettled, leaving
            // the blobs to the inputs.
            self.lenders.clear();
            return 0;
        };
        let mut shared = 0;
        for (mut lender, lent) in self.lenders.drain(..) {
            if lent.is_empty() {
                continue;
            }
            let mut spins = 0;
            while !lender.try_disown(&lent) {
                if spins == SETTLE_SPINS {
                    lender.share(&lent);
                    shared += 1;
                    break;
                }
                spins += 1;
                core::hint::spin_loop();
            }
        }
        // SAFETY: every input disowned or counted the blobs it lent, just above.
        unsafe { borrower.settle_lent() };
        shared
    }
}

impl Drop for Loans {
    fn drop(&mut self) {
        self.settle_now();
    }
}

/// Writes the versions of `inputs` (frozen memtables, all `<= boundaries.last()`) into a
/// table through `sink`, keeping what [`collect_key`] keeps without seeing older sources
/// (`params.bottom` is false: tombstones stay, since an older table may hold what they hide).
/// Memory stays bounded by one key's versions.
pub(crate) fn flush_into(
    inputs: Vec<SourceCursor<'_>>,
    params: &MergeParams<'_>,
    sink: &mut dyn TableSink,
) -> Result<MergeStats> {
    assert!(!params.bottom, "a flush does not see the older tables");
    assert!(params.output_bytes_max.is_none(), "a flush never evicts");
    let mut cursor = MergeCursor::new(inputs);
    cursor.seek_to_first();
    let mut stats = MergeStats::default();
    let mut group: Vec<VersionRef<'_>> = Vec::new();
    let mut kept: Vec<VersionRef<'_>> = Vec::new();
    let mut pacer = Pacer::new(params.pause);
    while let Some(first) = cursor.current_in_memory() {
        pacer.tick();
        group.clear();
        while let Some(v) = cursor.current_in_memory().filter(|v| v.key == first.key) {
            group.push(v);
            cursor.advance();
        }
        stats.versions_in += group.len() as u64;
        kept.clear();
        collect_key(&group, params, &mut stats, &mut kept);
        if kept.first().is_some_and(|v| v.kind == ValueKind::Value) {
            stats.keys_live += 1;
        }
        for v in &kept {
            sink.add(v)?;
            stats.versions_out += 1;
        }
    }
    Ok(stats)
}

/// Which keys an eviction drops: every key colder than `epoch`, and a pseudo-random share
/// (`per_mille`) of the keys at exactly `epoch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eviction {
    None,
    Below { epoch: u32, per_mille: u32 },
}

impl Eviction {
    fn evicts(&self, k: &KeyGroup, newest: &VersionRef<'_>) -> bool {
        match *self {
            Eviction::None => false,
            Eviction::Below { epoch, per_mille } => {
                k.epoch < epoch || (k.epoch == epoch && key_hash(newest.key) % 1000 < per_mille)
            }
        }
    }
}

/// FNV-1a: a cheap, stable spread of keys for the partial eviction of one epoch.
fn key_hash(key: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in key {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// The coldest epochs whose keys must go for the output to fit in `bytes_max`.
fn eviction_cut(keys: &[KeyGroup], bytes_max: usize) -> Eviction {
    let total: usize = keys.iter().map(|k| k.bytes).sum();
    if total <= bytes_max {
        return Eviction::None;
    }
    let mut excess = total - bytes_max;
    let mut by_epoch: BTreeMap<u32, usize> = BTreeMap::new();
    for k in keys {
        *by_epoch.entry(k.epoch).or_insert(0) += k.bytes;
    }
    for (&epoch, &bytes) in &by_epoch {
        if bytes >= excess {
            // Round up, and a little more, so the share evicted covers the excess.
            let per_mille = (excess as u128 * 1000).div_ceil(bytes as u128) as u32;
            return Eviction::Below {
                epoch,
                per_mille: (per_mille + 10).min(1000),
            };
        }
        excess -= bytes;
    }
    Eviction::Below {
        epoch: u32::MAX,
        per_mille: 1000,
    }
}

/// Appends to `kept` the versions of one key (`group`, newest first) that the merge keeps.
fn collect_key<'a>(
    group: &[VersionRef<'a>],
    params: &MergeParams<'_>,
    stats: &mut MergeStats,
    kept: &mut Vec<VersionRef<'a>>,
) {
    let boundaries = params.boundaries;
    let oldest_snapshot = boundaries[0];
    let start = kept.len();
    let mut newer = u64::MAX;
    for v in group {
        let i = boundaries.partition_point(|&b| b < v.seq);
        let seen = i < boundaries.len()
            && boundaries[i] < newer
            && flush_floor(params.flushes, boundaries[i]) < v.seq;
        newer = v.seq;
        if !seen {
            continue;
        }
        let mut v = *v;
        if v.kind == ValueKind::Value && v.is_expired(params.now) {
            stats.expired += 1;
            v = VersionRef {
                kind: ValueKind::Tombstone,
                flags: 0,
                expire_at: 0,
                cas_origin: 0,
                tags: 0,
                value: &[],
                blob: None,
                ..v
            };
        }
        kept.push(v);
    }
    while params.bottom
        && kept.len() > start
        && kept
            .last()
            .is_some_and(|v| v.kind == ValueKind::Tombstone && v.seq <= oldest_snapshot)
    {
        kept.pop();
    }
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
            cas_origin: 0,
            tags: 0,
            value: b"v",
            blob: None,
        }
    }

    fn del(seq: u64) -> VersionRef<'static> {
        VersionRef {
            kind: ValueKind::Tombstone,
            value: b"",
            ..val(seq)
        }
    }

    fn seqs_flushed(
        group: &[VersionRef<'_>],
        boundaries: &[u64],
        flushes: &[u64],
        now: u64,
    ) -> Vec<(u64, ValueKind)> {
        let mut st = MergeStats::default();
        let params = MergeParams {
            boundaries,
            flushes,
            now,
            epoch: 0,
            bottom: true,
            output_bytes_max: None,
            pause: None,
        };
        let mut kept = Vec::new();
        collect_key(group, &params, &mut st, &mut kept);
        kept.iter().map(|v| (v.seq, v.kind)).collect()
    }

    fn seqs(group: &[VersionRef<'_>], boundaries: &[u64], now: u64) -> Vec<(u64, ValueKind)> {
        seqs_flushed(group, boundaries, &[], now)
    }

    #[test]
    fn flush_markers_hide_older_versions() {
        let g = [val(9), val(4)];
        assert_eq!(flush_floor(&[5, 8], 7), 5);
        assert_eq!(flush_floor(&[5, 8], 4), 0);
        assert_eq!(flush_floor(&[5, 8], 8), 8);
        assert!(seqs_flushed(&g, &[10], &[10], 0).is_empty());
        assert_eq!(seqs_flushed(&g, &[10], &[5], 0), [(9, ValueKind::Value)]);
        // Snapshot 4 predates the flush at 5 and still sees version 4.
        assert_eq!(seqs_flushed(&g, &[4, 10], &[5], 0).len(), 2);
        assert!(seqs_flushed(&[val(4)], &[7, 10], &[5], 0).is_empty());
    }

    fn group(bytes: usize, epoch: u32) -> KeyGroup {
        KeyGroup {
            first: 0,
            len: 1,
            bytes,
            epoch,
            live: true,
        }
    }

    #[test]
    fn eviction_cuts_the_coldest_epochs_first() {
        let keys = [group(100, 1), group(100, 2), group(100, 3), group(100, 3)];
        assert_eq!(eviction_cut(&keys, 400), Eviction::None);
        assert_eq!(
            eviction_cut(&keys, 300),
            Eviction::Below {
                epoch: 1,
                per_mille: 1000
            }
        );
        assert_eq!(
            eviction_cut(&keys, 250),
            Eviction::Below {
                epoch: 2,
                per_mille: 510
            }
        );
        assert_eq!(
            eviction_cut(&keys, 100),
            Eviction::Below {
                epoch: 3,
                per_mille: 510
            }
        );
        assert_eq!(
            eviction_cut(&keys, 0),
            Eviction::Below {
                epoch: 3,
                per_mille: 1000
            }
        );
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
    fn a_flush_keeps_tombstones_and_hides_older_tables_from_expired_values() {
        let params = MergeParams {
            boundaries: &[10],
            flushes: &[],
            now: 60,
            epoch: 0,
            bottom: false,
            output_bytes_max: None,
            pause: None,
        };
        let mut e = val(9);
        e.expire_at = 50;
        for (group, want) in [
            (
                alloc::vec![del(9), val(4)],
                alloc::vec![(9, ValueKind::Tombstone)],
            ),
            (
                alloc::vec![e, val(4)],
                alloc::vec![(9, ValueKind::Tombstone)],
            ),
            (
                alloc::vec![val(9), del(4)],
                alloc::vec![(9, ValueKind::Value)],
            ),
        ] {
            let mut kept = Vec::new();
            collect_key(&group, &params, &mut MergeStats::default(), &mut kept);
            let got: Vec<(u64, ValueKind)> = kept.iter().map(|v| (v.seq, v.kind)).collect();
            assert_eq!(got, want);
        }
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
