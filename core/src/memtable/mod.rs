//! The memtable: versioned entries in an arena skiplist, and the immutable merged run.
//!
//! Every entry is one *version* of a user key: `(key, seq)` plus a small header (kind, memcached
//! `flags`, expiry) and the value bytes. The skiplist orders versions by user key ascending, then
//! sequence number descending, so a seek to `(key, snapshot_seq)` lands on the newest version of
//! `key` that the snapshot can see.
//!
//! ```text
//!   skiplist value = | kind+tags u8 | flags u32 LE | expire_at u64 LE | cas_origin u64 LE | place u8 | value |
//!                    |<------------------------- HEADER_BYTES = 22 ------------------------>|
//!
//!   kind+tags: bit 0 = kind (1 value, 0 tombstone), bits 1..=7 = the version's tags
//!   place:     0 = the value follows inline; 1 = the value is in a blob:
//!
//!   skiplist value = | header (22) | pad (2) | Blob (an `Arc<[u8]>`, 16 bytes on 64-bit) |
//! ```
//!
//! Values of [`BLOB_BYTES_MIN`] bytes or more are stored in a reference-counted [`Blob`] rather
//! than in the arena: the skiplist value holds the `Arc` itself (written and read as that type,
//! at an aligned offset of the value, which the skiplist aligns to 8), and every run that a
//! merge makes from the memtable shares it. So a large value is copied once, from the request
//! into its blob, however many merges it goes through. A memtable releases its blobs when it is
//! dropped.
//!
//! A [`Memtable`] is written while it is *active*, then frozen (read-only) when it reaches its
//! budget; frozen memtables are merged into a [`run::Run`], which drops the versions no reader
//! can see any more (see `mvcc::merge`).

pub mod arena;
pub mod rng;
pub mod run;
pub mod skiplist;

use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};

use skiplist::{DuplicateEntry, SkipList};

/// Whether a version holds a value or marks the key deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValueKind {
    /// The key was deleted at this version.
    Tombstone = 0,
    /// The key holds a value at this version.
    Value = 1,
}

impl ValueKind {
    fn from_byte(b: u8) -> ValueKind {
        if b == ValueKind::Value as u8 {
            ValueKind::Value
        } else {
            ValueKind::Tombstone
        }
    }
}

/// The bytes of the per-version header stored in front of the value.
pub const HEADER_BYTES: usize = 22;
const _: () = assert!(HEADER_BYTES == 1 + 4 + 8 + 8 + 1);

/// The header's `place` byte: the value follows inline.
const PLACE_INLINE: u8 = 0;
/// The header's `place` byte: the value is in the [`Blob`] at [`BLOB_AT`].
const PLACE_BLOB: u8 = 1;
/// Where the blob lies in a skiplist value: after the header, aligned for an `Arc`.
const BLOB_AT: usize = HEADER_BYTES.next_multiple_of(core::mem::align_of::<Blob>());
/// The skiplist value of a version whose value is in a blob.
const BLOB_ENTRY_BYTES: usize = BLOB_AT + core::mem::size_of::<Blob>();
const _: () = assert!(BLOB_AT % core::mem::align_of::<Blob>() == 0);
const _: () = assert!(core::mem::align_of::<Blob>() <= skiplist::VALUE_ALIGN);

/// The largest tag value a version can carry (7 bits).
pub const TAGS_MAX: u8 = 0x7f;

/// What a write stores beside the value: memcached's item metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// Opaque client flags (memcached `flags`).
    pub flags: u32,
    /// Unix time (seconds) at which the value expires; 0 means never.
    pub expire_at: u64,
    /// The CAS unique to report for this version: 0 (the default) means the version's own
    /// sequence number. A write that changes only metadata (memcached's `touch`) passes the
    /// previous version's CAS so that clients holding it can still `cas`.
    pub cas_origin: u64,
    /// Seven opaque bits for the runtime (the server keeps memcached's meta-protocol item
    /// state here: stale, win token sent). Bits above [`TAGS_MAX`] are ignored.
    pub tags: u8,
}

/// A value kept out of line: reference-counted, so that a merge shares it with the run it
/// writes instead of copying its bytes (see [`BLOB_BYTES_MIN`]).
pub(crate) type Blob = alloc::sync::Arc<[u8]>;

/// Values of at least this many bytes are kept out of line, in a [`Blob`] made when the value
/// is written into the memtable and shared by every run that merges it, so a large value is
/// copied once over its life however often it is merged. Smaller values are copied into the
/// memtable's arena and each run's byte buffer, where they cost no allocation.
pub const BLOB_BYTES_MIN: usize = 512;

/// The bytes a blob is counted for beyond its value: the reference counts and the allocator's
/// own header.
pub const BLOB_OVERHEAD_BYTES: usize = 32;

/// One version of a key, borrowed from a memtable or a run.
#[derive(Clone, Copy)]
pub struct VersionRef<'a> {
    /// The user key.
    pub key: &'a [u8],
    /// The sequence number: the MVCC version and the memcached CAS unique.
    pub seq: u64,
    /// Value or tombstone.
    pub kind: ValueKind,
    /// Opaque client flags (memcached `flags`).
    pub flags: u32,
    /// Unix time (seconds) at which the version expires; 0 means never.
    pub expire_at: u64,
    /// The CAS unique recorded at write time (0 = `seq`); see [`VersionRef::cas`].
    pub cas_origin: u64,
    /// The runtime's tags (see [`PutOptions::tags`]).
    pub tags: u8,
    /// The value bytes (empty for a tombstone).
    pub value: &'a [u8],
    /// The blob holding `value`, when it lies out of line in a run: a merge shares it.
    pub(crate) blob: Option<&'a Blob>,
}

impl PartialEq for VersionRef<'_> {
    /// Versions are equal when everything a reader sees is: where the value lies does not
    /// matter.
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.seq == other.seq
            && self.kind == other.kind
            && self.flags == other.flags
            && self.expire_at == other.expire_at
            && self.cas_origin == other.cas_origin
            && self.tags == other.tags
            && self.value == other.value
    }
}

impl Eq for VersionRef<'_> {}

impl core::fmt::Debug for VersionRef<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VersionRef")
            .field("key", &self.key)
            .field("seq", &self.seq)
            .field("kind", &self.kind)
            .field("flags", &self.flags)
            .field("expire_at", &self.expire_at)
            .field("cas_origin", &self.cas_origin)
            .field("tags", &self.tags)
            .field("value", &self.value)
            .field("out_of_line", &self.blob.is_some())
            .finish()
    }
}

impl VersionRef<'_> {
    /// Whether the version has expired at unix time `now`: memcached's rule, an item with
    /// `expire_at != 0` is gone once `now >= expire_at`.
    pub fn is_expired(&self, now: u64) -> bool {
        self.expire_at != 0 && now >= self.expire_at
    }

    /// The CAS unique of the version: its sequence number, unless the write kept an older one.
    pub fn cas(&self) -> u64 {
        if self.cas_origin == 0 {
            self.seq
        } else {
            self.cas_origin
        }
    }

    /// The version's metadata, as a write would pass it to keep it unchanged.
    pub fn options(&self) -> PutOptions {
        PutOptions {
            flags: self.flags,
            expire_at: self.expire_at,
            cas_origin: self.cas_origin,
            tags: self.tags,
        }
    }

    /// Whether a reader at unix time `now` sees a value (not a tombstone, not expired).
    pub fn is_live(&self, now: u64) -> bool {
        self.kind == ValueKind::Value && !self.is_expired(now)
    }
}

/// Encodes the header of a version whose value is inline.
pub fn encode_header(kind: ValueKind, options: &PutOptions) -> [u8; HEADER_BYTES] {
    encode_header_at(kind, options, PLACE_INLINE)
}

fn encode_header_at(kind: ValueKind, options: &PutOptions, place: u8) -> [u8; HEADER_BYTES] {
    let mut h = [0u8; HEADER_BYTES];
    h[0] = kind as u8 | ((options.tags & TAGS_MAX) << 1);
    h[1..5].copy_from_slice(&options.flags.to_le_bytes());
    h[5..13].copy_from_slice(&options.expire_at.to_le_bytes());
    h[13..21].copy_from_slice(&options.cas_origin.to_le_bytes());
    h[21] = place;
    h
}

/// Whether a memtable entry's value lies in a blob (its header says `PLACE_BLOB`).
fn holds_blob(raw: &[u8]) -> bool {
    raw.len() == BLOB_ENTRY_BYTES && raw[HEADER_BYTES - 1] == PLACE_BLOB
}

/// The blob of a memtable entry that [`holds_blob`].
///
/// # Safety
/// `raw` is the skiplist value of a version that [`Memtable::add`] wrote with a blob (so a
/// live `Blob` lies at `BLOB_AT`), borrowed from a memtable that outlives the borrow.
#[expect(
    unsafe_code,
    reason = "memtable entries may hold a Blob written as that type"
)]
unsafe fn entry_blob(raw: &[u8]) -> &Blob {
    debug_assert!(holds_blob(raw));
    // SAFETY: per the contract, `Memtable::add` wrote a `Blob` at this aligned offset (the
    // skiplist aligns values to VALUE_ALIGN); it is dropped only when the memtable is.
    unsafe { &*raw.as_ptr().add(BLOB_AT).cast::<Blob>() }
}

/// Takes the blob out of an entry that [`holds_blob`], to release it.
///
/// # Safety
/// As for [`entry_blob`]; besides, the blob is taken at most once, and the entry is never read
/// again afterwards.
#[expect(
    unsafe_code,
    reason = "memtable entries may hold a Blob written as that type"
)]
unsafe fn take_blob(raw: &[u8]) -> Blob {
    debug_assert!(holds_blob(raw));
    // SAFETY: per the contract; reading moves the `Blob` out, and nothing reads it again.
    unsafe { raw.as_ptr().add(BLOB_AT).cast::<Blob>().read() }
}

/// Decodes a memtable's skiplist entry (header + value) into a version.
///
/// # Safety
/// `e` is an entry of a [`Memtable`]'s list (written by [`Memtable::add`]) that outlives `'a`.
#[expect(
    unsafe_code,
    reason = "memtable entries may hold a Blob written as that type"
)]
unsafe fn decode_entry(e: skiplist::Entry<'_>) -> VersionRef<'_> {
    let raw = e.value;
    assert!(
        raw.len() >= HEADER_BYTES,
        "memtable entry shorter than its header"
    );
    let blob = if holds_blob(raw) {
        // SAFETY: forwarded contract: the memtable wrote this entry with a blob.
        Some(unsafe { entry_blob(raw) })
    } else {
        None
    };
    let mut flags = [0u8; 4];
    flags.copy_from_slice(&raw[1..5]);
    let mut expire = [0u8; 8];
    expire.copy_from_slice(&raw[5..13]);
    let mut cas = [0u8; 8];
    cas.copy_from_slice(&raw[13..21]);
    VersionRef {
        key: e.key,
        seq: e.seq,
        kind: ValueKind::from_byte(raw[0] & 1),
        flags: u32::from_le_bytes(flags),
        expire_at: u64::from_le_bytes(expire),
        cas_origin: u64::from_le_bytes(cas),
        tags: raw[0] >> 1,
        value: blob.map_or(&raw[HEADER_BYTES..], |b| &b[..]),
        blob,
    }
}

/// A memtable: an insert-only arena skiplist of versions.
pub struct Memtable {
    list: SkipList,
    /// Versions whose value is in a blob (the drop releases them).
    blobs: AtomicUsize,
    /// The bytes of those blobs (see [`BLOB_OVERHEAD_BYTES`]).
    blob_bytes: AtomicUsize,
    /// The versions (by ordinal, in iteration order, ascending) whose blobs a merge carried
    /// into a run that now owns them: the drop leaves them alone (see `run`, "Blobs lent by a
    /// merge").
    disowned: alloc::vec::Vec<u32>,
    id: u64,
    /// The commit sequence when the memtable was frozen (0 while active): every version in
    /// it is at or below it, and in disk mode the records after it are in later WAL segments.
    seq_frozen: crate::sync::AtomicU64,
}

#[expect(
    unsafe_code,
    reason = "memtable entries may hold a Blob written as that type"
)]
impl Memtable {
    /// An empty memtable; `seed` seeds the skiplist's tower heights, `id` names it in stats,
    /// `index_slots` sizes the skiplist's key index (0: none; see `skiplist`'s "Key index").
    pub fn new(id: u64, seed: u64, arena_block_bytes: usize, index_slots: usize) -> Self {
        let list = if index_slots == 0 {
            SkipList::new(seed, arena_block_bytes)
        } else {
            SkipList::with_index(seed, arena_block_bytes, index_slots)
        };
        Memtable {
            list,
            blobs: AtomicUsize::new(0),
            blob_bytes: AtomicUsize::new(0),
            disowned: alloc::vec::Vec::new(),
            id,
            seq_frozen: crate::sync::AtomicU64::new(0),
        }
    }

    /// Gives up the blobs of the versions at `ordinals` (positions in iteration order,
    /// ascending) without releasing them: a merge carried them into a run, which now owns
    /// them (see `run`, "Blobs lent by a merge").
    pub fn disown(&mut self, ordinals: &[u32]) {
        debug_assert!(ordinals.windows(2).all(|w| w[0] < w[1]));
        self.disowned.extend_from_slice(ordinals);
    }

    /// Counts once more the blobs of the versions at `ordinals` (ascending), for the run a
    /// merge lent them to: the memtable keeps its own reference, released when it is dropped.
    pub fn share(&self, ordinals: &[u32]) {
        let mut it = self.list.iter();
        it.seek_to_first();
        let mut ordinal = 0u32;
        let mut want = ordinals.iter().peekable();
        while let (Some(e), Some(&&next)) = (it.entry(), want.peek()) {
            if ordinal == next {
                want.next();
                if holds_blob(e.value) {
                    // SAFETY: `add` wrote this entry with its blob, which lives as long as the
                    // memtable; the clone raises its count.
                    core::mem::forget(unsafe { entry_blob(e.value) }.clone());
                }
            }
            ordinal += 1;
            it.next();
        }
    }

    /// Records that the memtable was frozen at commit sequence `seq`.
    pub(crate) fn set_seq_frozen(&self, seq: u64) {
        self.seq_frozen
            .store(seq, core::sync::atomic::Ordering::Release);
    }

    /// The commit sequence when the memtable was frozen (0 while active).
    pub(crate) fn seq_frozen(&self) -> u64 {
        self.seq_frozen.load(core::sync::atomic::Ordering::Acquire)
    }

    /// The memtable's id (increasing with each rotation).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Adds one version. Callers guarantee `(key, seq)` is new; a duplicate is reported.
    pub fn add(
        &self,
        key: &[u8],
        seq: u64,
        kind: ValueKind,
        options: &PutOptions,
        value: &[u8],
    ) -> Result<(), DuplicateEntry> {
        self.add_with(key, seq, kind, options, value, || Blob::from(value))
    }

    /// As [`Memtable::add`], for a value already shared: a large value is kept by taking a
    /// reference to it, without copying its bytes.
    pub fn add_shared(
        &self,
        key: &[u8],
        seq: u64,
        kind: ValueKind,
        options: &PutOptions,
        value: &alloc::sync::Arc<[u8]>,
    ) -> Result<(), DuplicateEntry> {
        self.add_with(key, seq, kind, options, value, || value.clone())
    }

    /// Adds one version of `value`; `blob` gives it as a blob when it is large.
    fn add_with(
        &self,
        key: &[u8],
        seq: u64,
        kind: ValueKind,
        options: &PutOptions,
        value: &[u8],
        blob: impl FnOnce() -> Blob,
    ) -> Result<(), DuplicateEntry> {
        if value.len() < BLOB_BYTES_MIN {
            let header = encode_header(kind, options);
            return self.list.insert(key, seq, &[&header, value]);
        }
        let header = encode_header_at(kind, options, PLACE_BLOB);
        let blob = blob();
        let fill = move |dst: &mut [MaybeUninit<u8>]| {
            skiplist::copy_into(&mut dst[..HEADER_BYTES], &header);
            for d in &mut dst[HEADER_BYTES..BLOB_AT] {
                d.write(0);
            }
            // SAFETY: `dst` has BLOB_ENTRY_BYTES bytes and starts VALUE_ALIGN-aligned (the
            // skiplist's contract), so the blob's place is in bounds and aligned for it.
            unsafe { dst.as_mut_ptr().add(BLOB_AT).cast::<Blob>().write(blob) };
        };
        let discard = |filled: &[u8]| {
            // SAFETY: `filled` is a value `fill` wrote (with its blob) and the list will never
            // read; this is the only place that takes its blob.
            drop(unsafe { take_blob(filled) });
        };
        self.list
            .insert_with(key, seq, BLOB_ENTRY_BYTES, fill, discard)?;
        self.blobs.fetch_add(1, Ordering::Relaxed);
        self.blob_bytes
            .fetch_add(value.len() + BLOB_OVERHEAD_BYTES, Ordering::Relaxed);
        Ok(())
    }

    /// The newest version of `key` with `seq <= snapshot_seq`, if any (tombstones included).
    pub fn get(&self, key: &[u8], snapshot_seq: u64) -> Option<VersionRef<'_>> {
        // SAFETY: the entry comes from this memtable's list.
        self.list
            .get(key, snapshot_seq)
            .map(|e| unsafe { decode_entry(e) })
    }

    /// A cursor over the versions in internal order.
    pub fn iter(&self) -> Cursor<'_> {
        Cursor(self.list.iter())
    }

    /// The number of versions held.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the memtable holds no version.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The bytes the memtable holds (its arenas, key index and blobs).
    pub fn memory_bytes(&self) -> usize {
        self.list.memory_bytes() + self.blob_bytes.load(Ordering::Relaxed)
    }
}

#[expect(
    unsafe_code,
    reason = "memtable entries may hold a Blob written as that type"
)]
impl Drop for Memtable {
    fn drop(&mut self) {
        if *self.blobs.get_mut() == 0 {
            return;
        }
        // Release the blobs, but those disowned: the arena frees only bytes. Nobody else can
        // read the list now.
        let mut it = self.list.iter();
        it.seek_to_first();
        let mut ordinal = 0u32;
        let mut disowned = self.disowned.iter().peekable();
        while let Some(e) = it.entry() {
            if disowned.next_if_eq(&&ordinal).is_none() && holds_blob(e.value) {
                // SAFETY: `add` wrote this entry with its blob; it is taken exactly once, here,
                // and the entry is never read again.
                drop(unsafe { take_blob(e.value) });
            }
            ordinal += 1;
            it.next();
        }
    }
}

/// A cursor over a memtable's versions in internal order (key ascending, then sequence
/// descending); see [`skiplist::Iter`] for what it sees of concurrent inserts.
#[derive(Clone)]
pub struct Cursor<'a>(skiplist::Iter<'a>);

#[expect(
    unsafe_code,
    reason = "memtable entries may hold a Blob written as that type"
)]
impl<'a> Cursor<'a> {
    /// The version at the cursor; `None` when not valid.
    pub fn version(&self) -> Option<VersionRef<'a>> {
        // SAFETY: the cursor walks a memtable's list.
        self.0.entry().map(|e| unsafe { decode_entry(e) })
    }

    /// Positions at the first version `>= (key, seq)` in internal order.
    pub fn seek(&mut self, key: &[u8], seq: u64) {
        self.0.seek(key, seq);
    }

    /// Positions at the first version.
    pub fn seek_to_first(&mut self) {
        self.0.seek_to_first();
    }

    /// Moves to the next version.
    pub fn next(&mut self) {
        self.0.next();
    }
}

impl core::fmt::Debug for Memtable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Memtable")
            .field("id", &self.id)
            .field("len", &self.len())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn opts(flags: u32, expire_at: u64, cas_origin: u64, tags: u8) -> PutOptions {
        PutOptions {
            flags,
            expire_at,
            cas_origin,
            tags,
        }
    }

    #[test]
    fn large_values_live_in_blobs_released_with_the_memtable() {
        let m = Memtable::new(1, 7, 4096, 64);
        let large: Vec<u8> = (0..BLOB_BYTES_MIN * 2).map(|i| i as u8).collect();
        let small = [9u8; BLOB_BYTES_MIN - 1];
        let before = m.memory_bytes();
        m.add(b"a", 1, ValueKind::Value, &opts(5, 0, 0, 3), &large)
            .unwrap();
        m.add(b"a", 2, ValueKind::Value, &opts(6, 0, 0, 0), &small)
            .unwrap();
        m.add(b"b", 3, ValueKind::Value, &opts(0, 99, 0, 0), &large[1..])
            .unwrap();
        assert!(m
            .add(b"b", 3, ValueKind::Value, &opts(0, 0, 0, 0), &large)
            .is_err());
        assert!(m.memory_bytes() >= before + 2 * BLOB_BYTES_MIN * 2 - 1);
        let a1 = m.get(b"a", 1).unwrap();
        assert_eq!((a1.value, a1.flags, a1.tags), (&large[..], 5, 3));
        let a2 = m.get(b"a", 2).unwrap();
        assert_eq!((a2.value, a2.blob.is_some()), (&small[..], false));
        let b3 = m.get(b"b", u64::MAX).unwrap();
        assert_eq!((b3.value, b3.expire_at), (&large[1..], 99));
        // The cursor decodes the same versions.
        let mut it = m.iter();
        it.seek_to_first();
        let mut seen = Vec::new();
        while let Some(v) = it.version() {
            seen.push((v.key.to_vec(), v.seq, v.value.len(), v.blob.is_some()));
            it.next();
        }
        assert_eq!(
            seen,
            [
                (b"a".to_vec(), 2, small.len(), false),
                (b"a".to_vec(), 1, large.len(), true),
                (b"b".to_vec(), 3, large.len() - 1, true),
            ]
        );
        // A run made from the memtable shares its blobs; dropping the memtable releases its
        // references (and the rejected duplicate's blob was never kept).
        let shared = a1.blob.unwrap().clone();
        assert_eq!(alloc::sync::Arc::strong_count(&shared), 2);
        drop(m);
        assert_eq!(alloc::sync::Arc::strong_count(&shared), 1);
        assert_eq!(&shared[..], &large[..]);
    }

    #[test]
    fn a_shared_large_value_is_kept_by_reference_and_a_small_one_copied() {
        let m = Memtable::new(1, 7, 4096, 64);
        let large: alloc::sync::Arc<[u8]> = (0..BLOB_BYTES_MIN).map(|i| i as u8).collect();
        let small: alloc::sync::Arc<[u8]> = alloc::sync::Arc::from(&[7u8; 3][..]);
        m.add_shared(b"l", 1, ValueKind::Value, &opts(1, 0, 0, 0), &large)
            .unwrap();
        m.add_shared(b"s", 2, ValueKind::Value, &opts(2, 0, 0, 0), &small)
            .unwrap();
        // A rejected duplicate takes no reference.
        assert!(m
            .add_shared(b"l", 1, ValueKind::Value, &opts(0, 0, 0, 0), &large)
            .is_err());
        assert_eq!(alloc::sync::Arc::strong_count(&large), 2);
        assert_eq!(alloc::sync::Arc::strong_count(&small), 1);
        let l = m.get(b"l", 1).unwrap();
        assert_eq!((l.value.as_ptr(), l.flags), (large.as_ptr(), 1));
        let s = m.get(b"s", 2).unwrap();
        assert_eq!((s.value, s.blob.is_some(), s.flags), (&small[..], false, 2));
        drop(m);
        assert_eq!(alloc::sync::Arc::strong_count(&large), 1);
    }

    #[test]
    fn header_round_trip_and_visibility() {
        let m = Memtable::new(1, 7, 4096, 64);
        m.add(
            b"k",
            3,
            ValueKind::Value,
            &opts(0xdead_beef, 100, 0, 5),
            b"v3",
        )
        .unwrap();
        m.add(b"k", 5, ValueKind::Tombstone, &opts(0, 0, 0, 0), b"")
            .unwrap();
        m.add(b"k", 8, ValueKind::Value, &opts(1, 0, 3, 0), b"v8")
            .unwrap();
        assert!(m
            .add(b"k", 8, ValueKind::Value, &opts(1, 0, 0, 0), b"again")
            .is_err());
        let v = m.get(b"k", 4).unwrap();
        assert_eq!(
            (v.seq, v.flags, v.expire_at, v.value),
            (3, 0xdead_beef, 100, &b"v3"[..])
        );
        assert!(v.is_live(99) && !v.is_live(100));
        assert_eq!(m.get(b"k", 7).unwrap().kind, ValueKind::Tombstone);
        let newest = m.get(b"k", u64::MAX).unwrap();
        assert_eq!(
            (newest.value, newest.cas(), newest.tags),
            (&b"v8"[..], 3, 0)
        );
        let v3 = m.get(b"k", 4).unwrap();
        assert_eq!((v3.cas(), v3.tags, v3.options().tags), (3, 5, 5));
        assert!(m.get(b"k", 2).is_none());
        assert!(m.get(b"j", u64::MAX).is_none());
        assert!(m.get(b"kk", u64::MAX).is_none());
        assert_eq!(m.len(), 3);
    }
}
