//! A concurrent, insert-only skiplist whose nodes live in an [`Arena`].
//!
//! Entries are `(key, seq) -> value`, ordered by key ascending (bytewise), then sequence number
//! descending, so a seek to `(key, snapshot_seq)` lands on the newest version of `key` visible
//! at the snapshot. Inserts are lock-free (a compare-and-swap per level); reads (seeks and
//! iteration) are wait-free: plain Acquire loads, no locks, no retry loops. Nothing is ever
//! removed; the whole list is freed at once when it is dropped.
//!
//! # Keys and version chains
//!
//! The list links one *node* per distinct key; the versions of that key hang off the node in a
//! *version chain*, a singly linked list sorted by sequence number descending (newest first).
//! Writing a key that the list already holds therefore does not descend the list at all: with
//! the key index (below) it finds the node in one or two cache lines and links a new version
//! at the head of its chain with one compare-and-swap. A memtable under a write-heavy workload
//! is mostly overwrites of hot keys, and before the chains each of them paid a full descent,
//! a cache miss per level (`docs/performance.md`, "Version chains").
//!
//! # Node layout
//!
//! A node (the tower of links, a fixed header and the key) is one allocation in the list's
//! *node arena*; each version (a header and the value) is one allocation in its *value arena*.
//! As in RocksDB's `InlineSkipList`, the node pointer points at the level-0 link: the links of
//! the upper levels sit *below* it, so the header and the key are at a fixed offset from the
//! pointer whatever the node's height:
//!
//! ```text
//!   node    = | link[h-1] | ... | link[1] | link[0] | versions | key_len u32 | pad | key |
//!                                         ^ node pointer (8-aligned)
//!   version = | older | seq u64 | value_len u32 | pad u32 | value |
//! ```
//!
//! A link is an `AtomicPtr` to the next node at that level (null at the end); `versions` points
//! at the newest version and `older` at the next older one (null at the end). The height is not
//! stored: a reader only follows level `i` of a node it reached at level `i` or above. Keeping
//! values out of the node arena packs the nodes that a descent visits into a few pages: with
//! 4 KiB values beside them, every step of a descent was a cache miss and a TLB miss.
//!
//! # Insert
//!
//! The tower height is `1 + trailing_zeros(hash(seed, key))` (p = 1/2, at most
//! [`HEIGHT_MAX`]), computed from a seeded hash of the key rather than a shared generator, so
//! writers share no state for it and the same seed and keys give the same list in any order.
//!
//! A writer first looks for the key's node (through the key index, or by a descent when the
//! index cannot answer). If the key is there, it inserts the version into the chain: it walks
//! the chain to the first version older than its own (normally the head: sequence numbers grow),
//! rejects an equal sequence number, and compare-and-swaps the link in front of that position
//! from the older version to its own (Release); when the CAS fails, another version was linked
//! there meanwhile and the walk resumes from the same link. Otherwise it allocates the first
//! version and the node pointing at it, and links the node bottom-up: at each level it sets the node's link to the
//! successor and compare-and-swaps the predecessor's link from the successor to the node
//! (Release). When the CAS fails (another writer linked a node there), it searches the new
//! splice at that level from the same predecessor and retries; if at level 0 another writer
//! linked a node for the *same* key meanwhile, the new node is abandoned (it stays unused in
//! the arena) and its version joins that node's chain instead. Linking bottom-up keeps the
//! invariant that a node linked at level `i` is linked at every level below, and there is
//! never more than one linked node per key.
//!
//! # Key index
//!
//! A list made with [`SkipList::with_index`] also keeps a hash index from each key to its
//! node: an open-addressing table (linear probing) of node pointers, each slot written once
//! (null to a node) and never changed again. An insert publishes the node it found or linked
//! before returning, so an insert that returned is visible through the index. [`SkipList::get`]
//! and [`SkipList::insert`] look there first: a key that is absent from a *complete* index is
//! absent from the list. An index that fills past three quarters (or whose probe runs too long)
//! stops taking new keys and is marked incomplete, so misses then fall back to descents. For
//! memtable lookups and overwrites this turns a descent through `log2(n)` nodes into one or two
//! cache lines.
//!
//! # Memory ordering
//!
//! A node's header, key, first version and initial links are written before the Release CAS
//! that links it at level 0; a version's fields and value are written before the Release CAS
//! that links it into a chain. Every link load on the read path (node links, chain links,
//! index slots) is Acquire, so a reader that reaches a node or a version sees it fully written.
//! The list height is a hint read Relaxed: a reader that sees a new, larger height finds null
//! links at the head and simply descends.

#![expect(
    unsafe_code,
    reason = "nodes are variable-sized arena allocations reached through raw pointers"
)]

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::cmp::Ordering as CmpOrdering;
use core::mem::MaybeUninit;
use core::ptr;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;

use super::arena::{Arena, ALIGN, BLOCK_BYTES_MIN};
use super::rng::{hash_entry, hash_key, tower_height};

/// The maximum tower height. With p = 1/2 it keeps searches logarithmic up to about 2^24 (16 M)
/// keys, more than a memtable holds; larger lists still work, a little slower.
pub const HEIGHT_MAX: usize = 24;

/// The largest key or value (bytes): lengths are stored as `u32`.
pub const LEN_MAX: usize = u32::MAX as usize;

/// The alignment of every value's first byte in the arena (see [`SkipList::insert_with`]).
pub const VALUE_ALIGN: usize = ALIGN;
const _: () = assert!(VERSION_BYTES % VALUE_ALIGN == 0);

/// One entry, borrowed from the list's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The user key.
    pub key: &'a [u8],
    /// The sequence number (MVCC version).
    pub seq: u64,
    /// The value bytes (the concatenation of the parts given to [`SkipList::insert`]).
    pub value: &'a [u8],
}

/// Returned by [`SkipList::insert`] when an entry with the same `(key, seq)` already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateEntry;

impl core::fmt::Display for DuplicateEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("an entry with the same key and sequence number already exists")
    }
}

/// The fixed part of a node: level-0 link and header. The upper links lie below it, the key and
/// the first version after it (see the module documentation). Only ever accessed through raw
/// pointers derived from the arena allocation, never through a `&Node` spanning the whole node.
#[repr(C, align(8))]
struct Node {
    next0: AtomicPtr<Node>,
    /// The newest version of the key (null only for the head).
    versions: AtomicPtr<Version>,
    key_len: u32,
}

/// One version of a key: the header in front of its value bytes.
#[repr(C, align(8))]
struct Version {
    /// The next older version of the same key (null for the oldest).
    older: AtomicPtr<Version>,
    seq: u64,
    value_len: u32,
}

type Link = AtomicPtr<Node>;

/// Test-only counters of the contended insert paths, so the tests can check they ran.
#[cfg(test)]
static CAS_RETRIES: AtomicUsize = AtomicUsize::new(0);
#[cfg(test)]
static LATE_KEYS: AtomicUsize = AtomicUsize::new(0);
#[cfg(test)]
static CHAIN_RETRIES: AtomicUsize = AtomicUsize::new(0);
#[cfg(test)]
static DISCARDED: AtomicUsize = AtomicUsize::new(0);

const LINK_BYTES: usize = core::mem::size_of::<Link>();
const NODE_BYTES: usize = core::mem::size_of::<Node>();
const VERSION_BYTES: usize = core::mem::size_of::<Version>();
const _: () = assert!(NODE_BYTES % ALIGN == 0 && VERSION_BYTES % ALIGN == 0);
const _: () = assert!(core::mem::align_of::<Node>() <= ALIGN && ALIGN % LINK_BYTES == 0);
const _: () = assert!(core::mem::align_of::<Version>() <= ALIGN);

/// The link of `node` at `level`.
///
/// # Safety
/// `node` is a node of this list (or the head) with a height above `level`, whose links were
/// initialized (it was published, or is being built by the caller).
#[inline(always)]
unsafe fn link<'a>(node: *mut Node, level: usize) -> &'a Link {
    // SAFETY: per the contract, the link lies in the node's allocation, is initialized and
    // lives as long as the arena; it is only accessed atomically.
    unsafe { &*node.cast::<Link>().sub(level) }
}

/// The key of a published node.
///
/// # Safety
/// `node` is a fully written node (not the head) of a list that outlives `'a`.
#[inline(always)]
unsafe fn node_key<'a>(node: *mut Node) -> &'a [u8] {
    // SAFETY: the key bytes follow the header in the node's allocation; they were written
    // before the node was published and are never written again.
    unsafe {
        let len = (*node).key_len as usize;
        core::slice::from_raw_parts(node.cast::<u8>().add(NODE_BYTES), len)
    }
}

/// The newest version of a published node.
///
/// # Safety
/// As for [`node_key`].
#[inline(always)]
unsafe fn newest(node: *mut Node) -> *mut Version {
    // SAFETY: the field is initialized before publication and only accessed atomically.
    unsafe { (*node).versions.load(Ordering::Acquire) }
}

/// The next older version of a linked version.
///
/// # Safety
/// `version` is a fully written version of a list that outlives the call.
#[inline(always)]
unsafe fn older(version: *mut Version) -> *mut Version {
    // SAFETY: the link is initialized before the version is linked; atomic access only.
    unsafe { (*version).older.load(Ordering::Acquire) }
}

/// The sequence number of a linked version.
///
/// # Safety
/// As for [`older`].
#[inline(always)]
unsafe fn version_seq(version: *mut Version) -> u64 {
    // SAFETY: written before the version was linked, never written again.
    unsafe { (*version).seq }
}

/// The oldest version of a published node.
///
/// # Safety
/// As for [`node_key`].
unsafe fn oldest(node: *mut Node) -> *mut Version {
    // SAFETY: forwarded contract; every version reached through the chain is linked.
    unsafe {
        let mut v = newest(node);
        loop {
            let next = older(v);
            if next.is_null() {
                return v;
            }
            v = next;
        }
    }
}

/// The first version of `node`'s chain with a sequence number `<= seq` (null if none).
///
/// # Safety
/// As for [`node_key`].
#[inline]
unsafe fn visible(node: *mut Node, seq: u64) -> *mut Version {
    // SAFETY: forwarded contract.
    unsafe {
        let mut v = newest(node);
        while !v.is_null() && version_seq(v) > seq {
            v = older(v);
        }
        v
    }
}

/// The entry of `version`, a version of `node`.
///
/// # Safety
/// `node` and `version` are published (linked) parts of a list that outlives `'a`.
#[inline]
unsafe fn entry_of<'a>(node: *mut Node, version: *mut Version) -> Entry<'a> {
    // SAFETY: the key, the version's header and its value were written before publication
    // and are immutable; the value follows the version header in the same allocation.
    unsafe {
        Entry {
            key: node_key(node),
            seq: (*version).seq,
            value: version_value(version),
        }
    }
}

/// Compares the key of `node` with `key`.
///
/// # Safety
/// As for [`node_key`].
#[inline(always)]
unsafe fn compare(node: *mut Node, key: &[u8]) -> CmpOrdering {
    // SAFETY: forwarded contract.
    compare_bytes(unsafe { node_key(node) }, key)
}

/// Bytewise comparison (as `<[u8]>::cmp`), inlined: eight bytes at a time as big-endian words,
/// which beats a call to `memcmp` for the short keys of a memtable.
#[inline(always)]
fn compare_bytes(a: &[u8], b: &[u8]) -> CmpOrdering {
    let common = a.len().min(b.len());
    let (a_head, b_head) = (&a[..common], &b[..common]);
    let mut a_words = a_head.chunks_exact(8);
    let mut b_words = b_head.chunks_exact(8);
    for (x, y) in (&mut a_words).zip(&mut b_words) {
        let (mut xw, mut yw) = ([0u8; 8], [0u8; 8]);
        xw.copy_from_slice(x);
        yw.copy_from_slice(y);
        let (x, y) = (u64::from_be_bytes(xw), u64::from_be_bytes(yw));
        if x != y {
            return x.cmp(&y);
        }
    }
    for (x, y) in a_words.remainder().iter().zip(b_words.remainder()) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// A concurrent insert-only skiplist of `(key, seq) -> value` entries stored in an arena.
/// `Send + Sync`: insert and read through `&self` from any number of threads.
pub struct SkipList {
    /// The head node: height [`HEIGHT_MAX`], empty key, no versions, never compared.
    head: NonNull<Node>,
    /// The nodes (links, headers, keys).
    nodes: Arena,
    /// The versions (headers, values).
    arena: Arena,
    seed: u64,
    /// The highest tower linked (or being linked) so far; a hint that only grows.
    height: AtomicUsize,
    /// The number of entries (versions); on its own cache line as every insert bumps it.
    len: CachePadded<AtomicUsize>,
    /// The key index (see the module documentation), if the list was made with one.
    index: Option<KeyIndex>,
}

/// A hash index from each key to its node.
struct KeyIndex {
    /// A power-of-two table of node pointers (null: free); a slot changes at most once.
    slots: Box<[AtomicPtr<Node>]>,
    /// Slots taken.
    used: AtomicUsize,
    /// False once a key could not be indexed: a miss then proves nothing.
    complete: AtomicBool,
}

/// The longest probe sequence an insert follows before giving up on indexing its key.
const INDEX_PROBES_MAX: usize = 64;

impl KeyIndex {
    fn new(slots: usize) -> KeyIndex {
        let slots = slots.max(2).next_power_of_two();
        KeyIndex {
            slots: (0..slots)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect::<Vec<_>>()
                .into_boxed_slice(),
            used: AtomicUsize::new(0),
            complete: AtomicBool::new(true),
        }
    }

    /// Records `node`, the published node of `key`, unless it is recorded already. Two
    /// writers publishing the same node follow the same probe sequence, and slots never change
    /// once set, so they settle on the same slot.
    ///
    /// # Safety
    /// `node` and every pointer already in the table are published nodes of one list.
    unsafe fn publish(&self, node: *mut Node, key: &[u8]) {
        let mask = self.slots.len() - 1;
        let mut pos = hash_key(key) as usize & mask;
        for _ in 0..INDEX_PROBES_MAX {
            let slot = &self.slots[pos];
            let mut current = slot.load(Ordering::Acquire);
            if current.is_null() {
                if self.used.load(Ordering::Relaxed) >= self.slots.len() / 4 * 3 {
                    // The table is full enough: stop indexing new keys.
                    break;
                }
                match slot.compare_exchange(
                    ptr::null_mut(),
                    node,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        self.used.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Err(seen) => current = seen,
                }
            }
            // The list links one node per key, so an equal key is this very node.
            if current == node {
                return;
            }
            pos = (pos + 1) & mask;
        }
        self.complete.store(false, Ordering::Release);
    }

    /// The node of `key`; `Ok(None)` when the list has none, `Err(())` when the key is not
    /// indexed but the index is incomplete (the list must be searched).
    ///
    /// # Safety
    /// The table only holds published nodes of a list that outlives the call.
    #[inline]
    unsafe fn find(&self, key: &[u8]) -> Result<Option<*mut Node>, ()> {
        let mask = self.slots.len() - 1;
        let mut pos = hash_key(key) as usize & mask;
        for _ in 0..INDEX_PROBES_MAX {
            let node = self.slots[pos].load(Ordering::Acquire);
            if node.is_null() {
                break;
            }
            // SAFETY: forwarded contract.
            if compare_bytes(unsafe { node_key(node) }, key).is_eq() {
                return Ok(Some(node));
            }
            pos = (pos + 1) & mask;
        }
        if self.complete.load(Ordering::Acquire) {
            Ok(None)
        } else {
            Err(())
        }
    }

    fn memory_bytes(&self) -> usize {
        self.slots.len() * core::mem::size_of::<AtomicPtr<Node>>()
    }
}

// SAFETY: the list owns its arena; the raw head pointer only points into it. Nodes and
// versions are immutable after publication except for their atomic links, so sharing or moving
// the list between threads is as safe as sharing its `Arena` (Send + Sync) and atomics.
unsafe impl Send for SkipList {}
// SAFETY: see `Send`: every mutation through `&self` is an atomic operation or happens on a
// node or version not yet published.
unsafe impl Sync for SkipList {}

/// The predecessor and successor of a position at every level.
struct Splice {
    prev: [*mut Node; HEIGHT_MAX],
    next: [*mut Node; HEIGHT_MAX],
}

impl SkipList {
    /// An empty list. `seed` seeds tower heights; `arena_block_bytes` sizes the arena blocks
    /// (e.g. 1 MiB; small values such as 4 KiB work too, see [`Arena::new`]).
    pub fn new(seed: u64, arena_block_bytes: usize) -> Self {
        // Nodes are small (tens of bytes): smaller blocks keep an almost empty list small.
        let nodes = Arena::new((arena_block_bytes / 4).max(BLOCK_BYTES_MIN));
        let head = alloc_head(&nodes);
        SkipList {
            head,
            nodes,
            arena: Arena::new(arena_block_bytes),
            seed,
            height: AtomicUsize::new(1),
            len: CachePadded::new(AtomicUsize::new(0)),
            index: None,
        }
    }

    /// An empty list with a key index of about `index_slots` slots (rounded up to a power of
    /// two; it indexes up to three quarters of that many distinct keys, see the module
    /// documentation).
    pub fn with_index(seed: u64, arena_block_bytes: usize, index_slots: usize) -> Self {
        SkipList {
            index: Some(KeyIndex::new(index_slots)),
            ..SkipList::new(seed, arena_block_bytes)
        }
    }

    /// Inserts `(key, seq)` with the concatenation of `value_parts` as its value.
    ///
    /// Lock-free and callable concurrently from many threads. Returns [`DuplicateEntry`] (and
    /// leaves the list unchanged) when an entry with the same `(key, seq)` exists; if that
    /// entry was inserted concurrently, the memory already allocated stays unused in the arena.
    ///
    /// # Panics
    /// When the key or the value is longer than [`LEN_MAX`].
    pub fn insert(
        &self,
        key: &[u8],
        seq: u64,
        value_parts: &[&[u8]],
    ) -> Result<(), DuplicateEntry> {
        let value_len = value_parts
            .iter()
            .try_fold(0usize, |n, p| n.checked_add(p.len()));
        let Some(value_len) = value_len else {
            panic!("skiplist value longer than LEN_MAX")
        };
        let fill = |dst: &mut [MaybeUninit<u8>]| {
            let mut at = 0;
            for part in value_parts {
                copy_into(&mut dst[at..at + part.len()], part);
                at += part.len();
            }
        };
        self.insert_with(key, seq, value_len, fill, |_| {})
    }

    /// Inserts `(key, seq)` with a value of `value_len` bytes that `fill` writes in place: it
    /// gets the value's bytes in the list's arena, aligned to [`VALUE_ALIGN`], and must initialize
    /// all of them. So a caller can store typed data there (such as a pointer it will read back
    /// with the same type).
    ///
    /// `fill` runs at most once, before the entry is visible. If it ran but the entry then
    /// lost a race to an equal `(key, seq)` inserted concurrently (the only way a filled value
    /// is not linked), `discard` gets the filled bytes, so that the caller can release what it
    /// stored there; they are never read again. Otherwise as [`SkipList::insert`].
    ///
    /// # Panics
    /// When the key or the value is longer than [`LEN_MAX`].
    pub fn insert_with(
        &self,
        key: &[u8],
        seq: u64,
        value_len: usize,
        fill: impl FnOnce(&mut [MaybeUninit<u8>]),
        discard: impl FnOnce(&[u8]),
    ) -> Result<(), DuplicateEntry> {
        assert!(value_len <= LEN_MAX, "skiplist value longer than LEN_MAX");
        assert!(key.len() <= LEN_MAX, "skiplist key longer than LEN_MAX");
        let pending = Pending::New(fill, value_len);

        if let Some(index) = &self.index {
            // SAFETY: the index holds published nodes of this list.
            if let Ok(Some(node)) = unsafe { index.find(key) } {
                // An overwrite: no descent.
                return self.add_version(node, seq, pending, discard);
            }
        }

        let height = tower_height(hash_entry(self.seed, key, 0), HEIGHT_MAX);
        let list_height = self.raise_height(height);
        let mut splice = Splice {
            prev: [ptr::null_mut(); HEIGHT_MAX],
            next: [ptr::null_mut(); HEIGHT_MAX],
        };
        let (mut x, mut known_not_less) = (self.head.as_ptr(), ptr::null_mut());
        for level in (0..list_height.max(height)).rev() {
            let (prev, next) = self.find_splice_at(x, level, key, known_not_less);
            splice.prev[level] = prev;
            splice.next[level] = next;
            (x, known_not_less) = (prev, next);
        }
        let next = splice.next[0];
        // SAFETY: `next` links come from published nodes of this list.
        if !next.is_null() && unsafe { compare(next, key) }.is_eq() {
            self.publish(next, key);
            return self.add_version(next, seq, pending, discard);
        }
        let Pending::New(fill, value_len) = pending else {
            unreachable!("the value is built here")
        };
        let version = alloc_version(&self.arena, seq, value_len, fill);
        let node = alloc_node(&self.nodes, height, key, version);
        if let Err(existing) = self.link_at(node, 0, &mut splice, key) {
            // Another writer linked a node for this key meanwhile: the new node stays unused
            // and its version joins that node's chain.
            self.publish(existing, key);
            let built = Pending::<fn(&mut [MaybeUninit<u8>])>::Built(version);
            return self.add_version(existing, seq, built, discard);
        }
        for level in 1..height {
            // No other node for `key` can be linked any more, so this cannot fail.
            let _ = self.link_at(node, level, &mut splice, key);
        }
        self.publish(node, key);
        self.len.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Records the published node of `key` in the key index, if there is one.
    #[inline]
    fn publish(&self, node: *mut Node, key: &[u8]) {
        if let Some(index) = &self.index {
            // SAFETY: `node` is linked at level 0, so published; the index only ever receives
            // published nodes of this list.
            unsafe { index.publish(node, key) };
        }
    }

    /// Links a version `seq` into the chain of `node` (a published node), at its place in
    /// sequence order (normally the head). Fails if the chain holds `seq` already, handing a
    /// version already built to `discard`.
    fn add_version<F: FnOnce(&mut [MaybeUninit<u8>])>(
        &self,
        node: *mut Node,
        seq: u64,
        mut pending: Pending<F>,
        discard: impl FnOnce(&[u8]),
    ) -> Result<(), DuplicateEntry> {
        // SAFETY: `node` is a published node of this list.
        let mut at: &AtomicPtr<Version> = unsafe { &(*node).versions };
        let mut current = at.load(Ordering::Acquire);
        loop {
            // SAFETY: every version reached through a chain of this list is linked.
            while !current.is_null() && unsafe { version_seq(current) } > seq {
                // SAFETY: as above.
                at = unsafe { &(*current).older };
                current = at.load(Ordering::Acquire);
            }
            // SAFETY: as above.
            if !current.is_null() && unsafe { version_seq(current) } == seq {
                if let Pending::Built(v) = pending {
                    #[cfg(test)]
                    DISCARDED.fetch_add(1, Ordering::Relaxed);
                    // SAFETY: `v` is a fully written version that was never linked; nobody
                    // else reads it.
                    discard(unsafe { version_value(v) });
                }
                return Err(DuplicateEntry);
            }
            let version = match pending {
                Pending::Built(v) => v,
                Pending::New(fill, value_len) => {
                    let v = alloc_version(&self.arena, seq, value_len, fill);
                    pending = Pending::Built(v);
                    v
                }
            };
            // SAFETY: `version` is ours until the CAS below links it: nobody reads its `older`
            // link before then.
            let won = unsafe {
                (*version).older.store(current, Ordering::Relaxed);
                at.compare_exchange(current, version, Ordering::Release, Ordering::Acquire)
            };
            match won {
                Ok(_) => {
                    self.len.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(seen) => {
                    #[cfg(test)]
                    CHAIN_RETRIES.fetch_add(1, Ordering::Relaxed);
                    // A version was linked here meanwhile; it may be newer than `seq`.
                    current = seen;
                }
            }
        }
    }

    /// Raises the list height hint to at least `height`; returns the height now in force.
    #[inline]
    fn raise_height(&self, height: usize) -> usize {
        let mut current = self.height.load(Ordering::Relaxed);
        while height > current {
            match self.height.compare_exchange_weak(
                current,
                height,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return height,
                Err(seen) => current = seen,
            }
        }
        current
    }

    /// Links `node` at `level` between the splice's nodes, finding a new splice at that level
    /// while other writers get in first. At level 0, a node for the same key linked meanwhile
    /// makes the insert fail with that node.
    #[inline]
    fn link_at(
        &self,
        node: *mut Node,
        level: usize,
        splice: &mut Splice,
        key: &[u8],
    ) -> Result<(), *mut Node> {
        loop {
            let (prev, next) = (splice.prev[level], splice.next[level]);
            // SAFETY: `node` has a height above `level` and is ours until linked at `level`:
            // no other thread reads this link before the CAS below publishes the node here
            // (bottom-up linking means nobody reaches it at `level` otherwise). `prev` is a
            // node of this list with a height above `level` (it was found at `level`).
            let won = unsafe {
                link(node, level).store(next, Ordering::Relaxed);
                link(prev, level)
                    .compare_exchange(next, node, Ordering::Release, Ordering::Relaxed)
                    .is_ok()
            };
            if won {
                return Ok(());
            }
            #[cfg(test)]
            CAS_RETRIES.fetch_add(1, Ordering::Relaxed);
            // `prev` still sorts before the node: resume the search from it.
            let (prev, next) = self.find_splice_at(prev, level, key, ptr::null_mut());
            // SAFETY: `next` is a published node of this list (or null, checked first).
            if level == 0 && !next.is_null() && unsafe { compare(next, key) }.is_eq() {
                #[cfg(test)]
                LATE_KEYS.fetch_add(1, Ordering::Relaxed);
                return Err(next);
            }
            splice.prev[level] = prev;
            splice.next[level] = next;
        }
    }

    /// Walks `level` from `start` (which sorts before `key`) to the last node before `key`;
    /// returns it and its successor at that level (null at the end). `known_not_less` (or
    /// null) is a node already known to sort at or after `key`, which need not be compared
    /// again.
    #[inline]
    fn find_splice_at(
        &self,
        start: *mut Node,
        level: usize,
        key: &[u8],
        known_not_less: *mut Node,
    ) -> (*mut Node, *mut Node) {
        let mut x = start;
        loop {
            // SAFETY: `x` is the head or a node reached at `level`, so its height exceeds
            // `level`; `next` is published (Acquire pairs with the linking Release CAS).
            let next = unsafe { link(x, level).load(Ordering::Acquire) };
            if next.is_null()
                || next == known_not_less
                // SAFETY: `next` is a published node of this list.
                || unsafe { compare(next, key) }.is_ge()
            {
                return (x, next);
            }
            x = next;
        }
    }

    /// The last node whose key is less than `key` (the head if none).
    #[inline]
    fn find_less(&self, key: &[u8]) -> *mut Node {
        let mut x = self.head.as_ptr();
        let mut level = self.height.load(Ordering::Relaxed) - 1;
        // The successor that was found not smaller at the level above: no need to compare it
        // again one level down.
        let mut known_not_less = ptr::null_mut();
        loop {
            // SAFETY: `x` is the head or was reached at `level` or above, so its height exceeds
            // `level`; links are loaded with Acquire, so `next` is fully written.
            let next = unsafe { link(x, level).load(Ordering::Acquire) };
            let is_less = !next.is_null()
                && next != known_not_less
                // SAFETY: `next` is a published node of this list.
                && unsafe { compare(next, key) }.is_lt();
            if is_less {
                x = next;
            } else if level == 0 {
                return x;
            } else {
                known_not_less = next;
                level -= 1;
            }
        }
    }

    /// The last node whose key is less than `key` and the first node after it whose key is not
    /// (null at the end): like [`SkipList::find_less`], then stepping over nodes a concurrent
    /// insert linked meanwhile.
    #[inline]
    fn find_around(&self, key: &[u8]) -> (*mut Node, *mut Node) {
        let mut before = self.find_less(key);
        loop {
            // SAFETY: `before` is the head or a published node; both have a level-0 link.
            let node = unsafe { link(before, 0).load(Ordering::Acquire) };
            // SAFETY: `node` is null or a published node of this list.
            if node.is_null() || unsafe { compare(node, key) }.is_ge() {
                return (before, node);
            }
            before = node;
        }
    }

    /// The node of `key`, if the list holds one.
    #[inline]
    fn find_node(&self, key: &[u8]) -> Option<*mut Node> {
        if let Some(index) = &self.index {
            // SAFETY: the index holds published nodes of this list.
            if let Ok(found) = unsafe { index.find(key) } {
                return found;
            }
        }
        let (_, node) = self.find_around(key);
        // SAFETY: `node` is null or a published node of this list.
        (!node.is_null() && unsafe { compare(node, key) }.is_eq()).then_some(node)
    }

    /// The last node of the list (the head if the list is empty).
    fn find_last(&self) -> *mut Node {
        let mut x = self.head.as_ptr();
        let mut level = self.height.load(Ordering::Relaxed) - 1;
        loop {
            // SAFETY: as in `find_less`.
            let next = unsafe { link(x, level).load(Ordering::Acquire) };
            if !next.is_null() {
                x = next;
            } else if level == 0 {
                return x;
            } else {
                level -= 1;
            }
        }
    }

    /// The newest entry of `key` with a sequence number `<= seq`, if any.
    pub fn get(&self, key: &[u8], seq: u64) -> Option<Entry<'_>> {
        let node = self.find_node(key)?;
        // SAFETY: `node` is a published node of this list, which outlives the borrow.
        unsafe {
            let version = visible(node, seq);
            (!version.is_null()).then(|| entry_of(node, version))
        }
    }

    /// The number of entries (versions).
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the list holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held: the bytes the arenas reserved (nodes, keys, values, block headers and the
    /// unused tails of the current blocks) and the key index. Grows in steps of about one arena
    /// block.
    pub fn memory_bytes(&self) -> usize {
        self.nodes.memory_bytes()
            + self.arena.memory_bytes()
            + self.index.as_ref().map_or(0, KeyIndex::memory_bytes)
    }

    /// A cursor over the list, not positioned (not valid) until a seek.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            node: ptr::null_mut(),
            version: ptr::null_mut(),
        }
    }
}

impl core::fmt::Debug for SkipList {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SkipList")
            .field("len", &self.len())
            .field("height", &self.height.load(Ordering::Relaxed))
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

/// A version that [`SkipList::add_version`] still has to allocate (its filler and length),
/// or one already built.
enum Pending<F> {
    New(F, usize),
    Built(*mut Version),
}

/// Allocates the head: a node of height [`HEIGHT_MAX`] with null links, an empty key and no
/// versions.
fn alloc_head(arena: &Arena) -> NonNull<Node> {
    let upper_bytes = ((HEIGHT_MAX - 1) * LINK_BYTES).next_multiple_of(ALIGN);
    let Ok(layout) = Layout::from_size_align(upper_bytes + NODE_BYTES, ALIGN) else {
        panic!("skiplist head layout")
    };
    let base = arena.allocate(layout).as_ptr();
    // SAFETY: a fresh, exclusive, 8-aligned arena range holding the links and the header.
    unsafe {
        let node = base.add(upper_bytes).cast::<Node>();
        init_links(node, HEIGHT_MAX);
        node.write(Node {
            next0: AtomicPtr::new(ptr::null_mut()),
            versions: AtomicPtr::new(ptr::null_mut()),
            key_len: 0,
        });
        NonNull::new_unchecked(node)
    }
}

/// Writes null upper links (levels `1..height`) below `node`.
///
/// # Safety
/// The `height - 1` links below `node` lie in a fresh, exclusive allocation.
unsafe fn init_links(node: *mut Node, height: usize) {
    for level in 1..height {
        // SAFETY: per the contract.
        unsafe {
            node.cast::<Link>()
                .sub(level)
                .write(AtomicPtr::new(ptr::null_mut()));
        }
    }
}

/// Allocates a version of `value_len` bytes in `arena`, writes its header and has `fill`
/// write its value. It is not linked.
fn alloc_version(
    arena: &Arena,
    seq: u64,
    value_len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]),
) -> *mut Version {
    let layout = VERSION_BYTES
        .checked_add(value_len)
        .and_then(|n| Layout::from_size_align(n, ALIGN).ok());
    let Some(layout) = layout else {
        panic!("skiplist version too large")
    };
    let at = arena.allocate(layout).as_ptr().cast::<Version>();
    // SAFETY: `at .. at + VERSION_BYTES + value_len` is a fresh, exclusive, 8-aligned arena
    // range, so the header fits at `at` and the value bytes after it form a slice nobody else
    // sees until the version is linked; `value_len` fits `u32` (checked against LEN_MAX).
    unsafe {
        at.write(Version {
            older: AtomicPtr::new(ptr::null_mut()),
            seq,
            value_len: value_len as u32,
        });
        let value = at.cast::<MaybeUninit<u8>>().add(VERSION_BYTES);
        fill(core::slice::from_raw_parts_mut(value, value_len));
    }
    at
}

/// Copies `src` into `dst`, of the same length, with one `memcpy` (for the fillers given to
/// [`SkipList::insert_with`]).
///
/// # Panics
/// When the lengths differ.
pub(crate) fn copy_into(dst: &mut [MaybeUninit<u8>], src: &[u8]) {
    assert_eq!(dst.len(), src.len(), "copy_into needs equal lengths");
    // SAFETY: both ranges are `src.len()` bytes long (checked), `dst` is writable and cannot
    // overlap `src` (it is borrowed mutably); `MaybeUninit<u8>` has the layout of `u8`.
    unsafe { ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), src.len()) }
}

/// The value bytes of a written version.
///
/// # Safety
/// `version` is a fully written version (its value filled) of a list that outlives `'a`.
unsafe fn version_value<'a>(version: *mut Version) -> &'a [u8] {
    // SAFETY: per the contract, the value follows the header in the same allocation.
    unsafe {
        let start = version.cast::<u8>().add(VERSION_BYTES);
        core::slice::from_raw_parts(start, (*version).value_len as usize)
    }
}

/// Allocates a node of `height` for `key` in `arena`, whose newest (and only) version is
/// `version`, and writes its header, null links and key. The node is not published.
fn alloc_node(arena: &Arena, height: usize, key: &[u8], version: *mut Version) -> *mut Node {
    debug_assert!((1..=HEIGHT_MAX).contains(&height));
    // Rounded up to ALIGN so that the node itself stays 8-aligned when links are 4 bytes
    // (32-bit targets); the padding lies below the highest link.
    let upper_bytes = ((height - 1) * LINK_BYTES).next_multiple_of(ALIGN);
    let size = (upper_bytes + NODE_BYTES).checked_add(key.len());
    let layout = size.and_then(|n| Layout::from_size_align(n, ALIGN).ok());
    let Some(layout) = layout else {
        panic!("skiplist node too large")
    };
    let base = arena.allocate(layout).as_ptr();
    // SAFETY: `base .. base + size` is a fresh, exclusive, 8-aligned arena range: the links
    // (below the node pointer), the header and the key all lie inside it and are written
    // before the node is published. `key_len` fits `u32` (checked by the caller against
    // LEN_MAX).
    unsafe {
        let node = base.add(upper_bytes).cast::<Node>();
        init_links(node, height);
        node.write(Node {
            next0: AtomicPtr::new(ptr::null_mut()),
            versions: AtomicPtr::new(version),
            key_len: key.len() as u32,
        });
        ptr::copy_nonoverlapping(key.as_ptr(), node.cast::<u8>().add(NODE_BYTES), key.len());
        node
    }
}

/// A cursor over a [`SkipList`] in internal order: key ascending, then sequence descending.
///
/// It sees the entries inserted before each positioning or step (and possibly some inserted
/// concurrently). Stepping (`next`/`prev`) a cursor that is not valid leaves it not valid.
#[derive(Clone)]
pub struct Iter<'a> {
    list: &'a SkipList,
    /// The current node; null when not valid. Never the head.
    node: *mut Node,
    /// The current version, one of `node`'s; null when not valid.
    version: *mut Version,
}

// SAFETY: an `Iter` is a shared borrow of the list plus pointers to one of its immutable
// published nodes and versions: as thread-safe as `&SkipList`.
unsafe impl Send for Iter<'_> {}
// SAFETY: see `Send`; `&Iter` allows only reads.
unsafe impl Sync for Iter<'_> {}

impl<'a> Iter<'a> {
    /// Whether the cursor is at an entry.
    pub fn valid(&self) -> bool {
        !self.version.is_null()
    }

    /// The entry at the cursor; `None` when not valid.
    pub fn entry(&self) -> Option<Entry<'a>> {
        // SAFETY: a non-null `version` is a linked version of `node`, a published node of
        // `self.list`, which outlives 'a.
        (!self.version.is_null()).then(|| unsafe { entry_of(self.node, self.version) })
    }

    /// Positions at the first entry `>= (key, seq)` in internal order: the first entry whose
    /// key is greater than `key`, or whose key equals `key` and whose seq is `<= seq`. If that
    /// entry's key is `key`, it is the newest version of `key` visible at snapshot `seq`.
    pub fn seek(&mut self, key: &[u8], seq: u64) {
        let (_, node) = self.list.find_around(key);
        // SAFETY: `node` is null or a published node of this list.
        if !node.is_null() && unsafe { compare(node, key) }.is_eq() {
            // SAFETY: as above.
            let version = unsafe { visible(node, seq) };
            if !version.is_null() {
                (self.node, self.version) = (node, version);
                return;
            }
            // No version of `key` visible at `seq`: the next key's newest version.
            // SAFETY: `node` is a published node; its level-0 link is initialized.
            self.set_at_newest(unsafe { link(node, 0).load(Ordering::Acquire) });
        } else {
            self.set_at_newest(node);
        }
    }

    /// Positions at the last entry strictly `< (key, seq)` in internal order: the last entry
    /// whose key is less than `key`, or whose key equals `key` and whose seq is `> seq`.
    /// Not valid if there is none.
    ///
    /// For a reverse scan that includes every version of `key`, use `seek_for_prev(key, 0)`
    /// and then check an entry `(key, 0)` separately, or seek to the successor key instead.
    pub fn seek_for_prev(&mut self, key: &[u8], seq: u64) {
        let (before, node) = self.list.find_around(key);
        // SAFETY: `node` is null or a published node of this list.
        if !node.is_null() && unsafe { compare(node, key) }.is_eq() {
            // The last version of `key` newer than `seq`, if any.
            let mut last = ptr::null_mut();
            // SAFETY: `node` is published; its chain holds linked versions only.
            unsafe {
                let mut v = newest(node);
                while !v.is_null() && version_seq(v) > seq {
                    last = v;
                    v = older(v);
                }
            }
            if !last.is_null() {
                (self.node, self.version) = (node, last);
                return;
            }
        }
        self.set_at_oldest(before);
    }

    /// Positions at the first entry (not valid if the list is empty).
    pub fn seek_to_first(&mut self) {
        // SAFETY: the head's links are initialized.
        self.set_at_newest(unsafe { link(self.list.head.as_ptr(), 0).load(Ordering::Acquire) });
    }

    /// Positions at the last entry (not valid if the list is empty).
    pub fn seek_to_last(&mut self) {
        self.set_at_oldest(self.list.find_last());
    }

    /// Moves to the next entry (not valid past the last one).
    pub fn next(&mut self) {
        if self.version.is_null() {
            return;
        }
        // SAFETY: `version` is a linked version of `node`, a published node of the list.
        let older = unsafe { older(self.version) };
        if older.is_null() {
            // SAFETY: as above.
            self.set_at_newest(unsafe { link(self.node, 0).load(Ordering::Acquire) });
            self.prefetch_ahead();
        } else {
            self.version = older;
        }
    }

    /// Prefetches, from the node just reached, the newest version of the next node and the
    /// node after it. Nodes are linked in key order but were allocated in arrival order, and
    /// versions live in another arena: a walk in key order (a scan, a merge) misses the cache
    /// on every node and every version, one after the other. With these hints the misses of the
    /// next steps overlap with this one (docs/performance.md, "The maintenance thread's
    /// walk").
    #[inline]
    fn prefetch_ahead(&self) {
        if self.node.is_null() {
            return;
        }
        // SAFETY: `self.node` is a published node of the list, so its level-0 link is
        // initialized; the successor it holds (if any) is published too, so its header
        // (version chain and links) is fully written. Only pointers are read; their targets are
        // prefetched, never dereferenced.
        unsafe {
            let next = link(self.node, 0).load(Ordering::Acquire);
            if !next.is_null() {
                crate::sync::prefetch(newest(next));
                crate::sync::prefetch(link(next, 0).load(Ordering::Relaxed));
            }
        }
    }

    /// Moves to the previous entry (not valid before the first one). Within a key it walks the
    /// chain from its newest version; to the previous key it costs a search from the head,
    /// O(log n), as the nodes have no backward links.
    pub fn prev(&mut self) {
        if self.version.is_null() {
            return;
        }
        // SAFETY: `node` is a published node of the list and `version` one of its versions, so
        // the walk from the newest version reaches it.
        unsafe {
            let mut v = newest(self.node);
            if v != self.version {
                loop {
                    let next = older(v);
                    if next == self.version {
                        self.version = v;
                        return;
                    }
                    v = next;
                }
            }
            self.set_at_oldest(self.list.find_less(node_key(self.node)));
        }
    }

    /// Positions at the newest version of `node` (a published node, or null: not valid).
    fn set_at_newest(&mut self, node: *mut Node) {
        self.node = node;
        self.version = if node.is_null() {
            ptr::null_mut()
        } else {
            // SAFETY: `node` is a published node of the list.
            unsafe { newest(node) }
        };
    }

    /// Positions at the oldest version of `node` (a published node, or the head: not valid).
    fn set_at_oldest(&mut self, node: *mut Node) {
        if node == self.list.head.as_ptr() {
            (self.node, self.version) = (ptr::null_mut(), ptr::null_mut());
        } else {
            // SAFETY: `node` is a published node of the list (not the head).
            (self.node, self.version) = (node, unsafe { oldest(node) });
        }
    }
}

impl core::fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Iter")
            .field("entry", &self.entry())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::memtable::rng::Rng;
    use alloc::collections::BTreeMap;
    use alloc::vec;
    use alloc::vec::Vec;

    type Model = BTreeMap<(Vec<u8>, core::cmp::Reverse<u64>), Vec<u8>>;

    fn owned(e: Entry<'_>) -> (Vec<u8>, u64, Vec<u8>) {
        (e.key.to_vec(), e.seq, e.value.to_vec())
    }

    fn forward(list: &SkipList) -> Vec<(Vec<u8>, u64, Vec<u8>)> {
        let mut out = Vec::new();
        let mut it = list.iter();
        it.seek_to_first();
        while let Some(e) = it.entry() {
            out.push(owned(e));
            it.next();
        }
        out
    }

    fn backward(list: &SkipList) -> Vec<(Vec<u8>, u64, Vec<u8>)> {
        let mut out = Vec::new();
        let mut it = list.iter();
        it.seek_to_last();
        while let Some(e) = it.entry() {
            out.push(owned(e));
            it.prev();
        }
        out.reverse();
        out
    }

    fn model_entries(model: &Model) -> Vec<(Vec<u8>, u64, Vec<u8>)> {
        model
            .iter()
            .map(|((k, s), v)| (k.clone(), s.0, v.clone()))
            .collect()
    }

    /// The `(key, newest seq)` of the nodes linked at `level`, in order.
    fn level_entries(list: &SkipList, level: usize) -> Vec<(Vec<u8>, u64)> {
        let mut out = Vec::new();
        // SAFETY: walking published links of a list nobody writes during the walk.
        unsafe {
            let mut x = link(list.head.as_ptr(), level).load(Ordering::Acquire);
            while !x.is_null() {
                let e = entry_of(x, newest(x));
                out.push((e.key.to_vec(), e.seq));
                x = link(x, level).load(Ordering::Acquire);
            }
        }
        out
    }

    fn at(it: &Iter<'_>) -> Option<(Vec<u8>, u64)> {
        it.entry().map(|e| (e.key.to_vec(), e.seq))
    }

    fn small(n: usize, miri_n: usize) -> usize {
        if cfg!(miri) {
            miri_n
        } else {
            n
        }
    }

    #[test]
    fn compare_bytes_is_bytewise_order() {
        let mut rng = Rng::new(21);
        for _ in 0..small(20_000, 500) {
            // Long shared prefixes over a tiny alphabet, so words often tie.
            let prefix: Vec<u8> = (0..rng.below(20)).map(|_| rng.below(2) as u8).collect();
            let mut a = prefix.clone();
            let mut b = prefix;
            a.extend((0..rng.below(12)).map(|_| rng.below(3) as u8 * 127));
            b.extend((0..rng.below(12)).map(|_| rng.below(3) as u8 * 127));
            assert_eq!(compare_bytes(&a, &b), a.cmp(&b), "{a:?} vs {b:?}");
            assert_eq!(compare_bytes(&a, &a), CmpOrdering::Equal);
        }
    }

    #[test]
    fn send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SkipList>();
        check::<Iter<'_>>();
        check::<Arena>();
    }

    #[test]
    fn empty_list() {
        let list = SkipList::new(1, 4096);
        assert!(list.is_empty());
        assert_eq!(list.len(), 0);
        assert!(list.get(b"a", u64::MAX).is_none());
        let mut it = list.iter();
        assert!(!it.valid() && it.entry().is_none());
        it.seek_to_first();
        assert!(!it.valid());
        it.seek_to_last();
        assert!(!it.valid());
        it.seek(b"", u64::MAX);
        assert!(!it.valid());
        it.seek_for_prev(b"zzz", 0);
        assert!(!it.valid());
        it.next();
        it.prev();
        assert!(!it.valid());
    }

    #[test]
    fn order_is_key_ascending_then_seq_descending() {
        let list = SkipList::new(2, 4096);
        for (k, s) in [
            (&b"b"[..], 1),
            (b"a", 1),
            (b"b", 3),
            (b"ab", 0),
            (b"a", 7),
            (b"b", 2),
        ] {
            list.insert(k, s, &[b"v"]).unwrap();
        }
        let got: Vec<_> = forward(&list).into_iter().map(|(k, s, _)| (k, s)).collect();
        let want: Vec<(Vec<u8>, u64)> = vec![
            (b"a".to_vec(), 7),
            (b"a".to_vec(), 1),
            (b"ab".to_vec(), 0),
            (b"b".to_vec(), 3),
            (b"b".to_vec(), 2),
            (b"b".to_vec(), 1),
        ];
        assert_eq!(got, want);
        assert_eq!(backward(&list), forward(&list));
        assert_eq!(list.len(), 6);
    }

    #[test]
    fn duplicates_are_rejected() {
        let list = SkipList::new(3, 4096);
        list.insert(b"k", 5, &[b"first"]).unwrap();
        assert_eq!(list.insert(b"k", 5, &[b"second"]), Err(DuplicateEntry));
        list.insert(b"k", 4, &[b"older"]).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.get(b"k", 5).unwrap().value, b"first");
        assert_eq!(list.get(b"k", 4).unwrap().value, b"older");
    }

    #[test]
    fn seeks_at_the_edges() {
        let list = SkipList::new(4, 4096);
        for (k, s) in [(&b"b"[..], 5), (b"b", 2), (b"d", 9)] {
            list.insert(k, s, &[k]).unwrap();
        }
        let mut it = list.iter();
        let e = |k: &[u8], s: u64| Some((k.to_vec(), s));

        it.seek(b"a", 0); // before the first key
        assert_eq!(at(&it), e(b"b", 5));
        it.seek(b"b", u64::MAX);
        assert_eq!(at(&it), e(b"b", 5));
        it.seek(b"b", 5);
        assert_eq!(at(&it), e(b"b", 5));
        it.seek(b"b", 4); // newest version visible at 4
        assert_eq!(at(&it), e(b"b", 2));
        it.seek(b"b", 1); // no version of b visible: next key
        assert_eq!(at(&it), e(b"d", 9));
        it.seek(b"c", 0);
        assert_eq!(at(&it), e(b"d", 9));
        it.seek(b"d", 8); // after the last entry
        assert!(!it.valid());
        it.seek(b"e", u64::MAX);
        assert!(!it.valid());

        it.seek_for_prev(b"a", 0); // before the first entry
        assert!(!it.valid());
        it.seek_for_prev(b"b", 5); // strictly before (b, 5)
        assert!(!it.valid());
        it.seek_for_prev(b"b", 4);
        assert_eq!(at(&it), e(b"b", 5));
        it.seek_for_prev(b"b", 0);
        assert_eq!(at(&it), e(b"b", 2));
        it.seek_for_prev(b"c", u64::MAX);
        assert_eq!(at(&it), e(b"b", 2));
        it.seek_for_prev(b"d", 9);
        assert_eq!(at(&it), e(b"b", 2));
        it.seek_for_prev(b"d", 8);
        assert_eq!(at(&it), e(b"d", 9));
        it.seek_for_prev(b"zz", 0);
        assert_eq!(at(&it), e(b"d", 9));

        it.seek_to_first();
        assert_eq!(at(&it), e(b"b", 5));
        it.prev();
        assert!(!it.valid());
        it.prev();
        assert!(!it.valid());
        it.seek_to_last();
        assert_eq!(at(&it), e(b"d", 9));
        it.next();
        assert!(!it.valid());
        it.next();
        assert!(!it.valid());
        it.seek_to_last();
        it.prev();
        assert_eq!(at(&it), e(b"b", 2));
        let copy = it.clone();
        it.next();
        assert_eq!(at(&copy), e(b"b", 2));
        assert_eq!(at(&it), e(b"d", 9));
    }

    #[test]
    fn empty_keys_empty_values_and_value_parts() {
        let list = SkipList::new(5, 4096);
        list.insert(b"", 1, &[]).unwrap();
        list.insert(b"", 2, &[b"", b""]).unwrap();
        list.insert(b"k", 1, &[b"head", b"", b"er", b"value"])
            .unwrap();
        assert_eq!(list.insert(b"", 1, &[b"x"]), Err(DuplicateEntry));
        let all = forward(&list);
        assert_eq!(all[0], (vec![], 2, vec![]));
        assert_eq!(all[1], (vec![], 1, vec![]));
        assert_eq!(all[2], (b"k".to_vec(), 1, b"headervalue".to_vec()));
        let mut it = list.iter();
        it.seek(b"", u64::MAX);
        assert_eq!(at(&it), Some((vec![], 2)));
        it.seek_for_prev(b"", 2);
        assert!(!it.valid());
    }

    #[test]
    fn large_values_and_memory_accounting() {
        let block = 4096;
        let list = SkipList::new(6, block);
        let after_new = list.memory_bytes();
        assert!(after_new > 0);
        let big: Vec<u8> = (0..3 * block).map(|i| i as u8).collect();
        list.insert(b"big", 1, &[&big[..10], &big[10..]]).unwrap();
        assert!(list.memory_bytes() >= after_new + big.len());
        let key = vec![7u8; 2 * block];
        list.insert(&key, 1, &[b"v"]).unwrap();
        let mut last = list.memory_bytes();
        let mut grew = 0;
        for i in 0..small(2_000, 200u32 as usize) as u32 {
            list.insert(&i.to_be_bytes(), 0, &[&[0u8; 40]]).unwrap();
            let now = list.memory_bytes();
            assert!(now >= last);
            grew += usize::from(now > last);
            last = now;
        }
        assert!(grew >= 2, "memory did not grow with the inserts");
        assert_eq!(list.get(b"big", 1).unwrap().value, &big[..]);
        assert_eq!(list.get(&key, 1).unwrap().value, b"v");
    }

    #[test]
    fn matches_a_btreemap_model() {
        let mut rng = Rng::new(0x5eed);
        let list = SkipList::new(rng.next_u64(), 1024);
        let mut model = Model::new();
        let n = small(5_000, 300);
        for _ in 0..n {
            let key_len = rng.below(4) as usize;
            let key: Vec<u8> = (0..key_len).map(|_| b'a' + rng.below(4) as u8).collect();
            let seq = rng.below(8);
            let value: Vec<u8> = (0..rng.below(20)).map(|_| rng.next_u64() as u8).collect();
            let expect_new = !model.contains_key(&(key.clone(), core::cmp::Reverse(seq)));
            let got = list.insert(&key, seq, &[&value]);
            assert_eq!(got.is_ok(), expect_new);
            if expect_new {
                model.insert((key, core::cmp::Reverse(seq)), value);
            }
        }
        assert_eq!(list.len(), model.len());
        let want = model_entries(&model);
        assert_eq!(forward(&list), want);
        assert_eq!(backward(&list), want);
        // One node per distinct key: the other versions hang off it in its chain.
        let mut keys: Vec<Vec<u8>> = want.iter().map(|(k, _, _)| k.clone()).collect();
        keys.dedup();
        let level0: Vec<Vec<u8>> = level_entries(&list, 0).into_iter().map(|e| e.0).collect();
        assert_eq!(level0, keys);

        for _ in 0..small(2_000, 100) {
            let key: Vec<u8> = (0..rng.below(4))
                .map(|_| b'a' + rng.below(5) as u8)
                .collect();
            let seq = rng.below(10);
            let target = (key.clone(), core::cmp::Reverse(seq));
            let mut it = list.iter();
            it.seek(&key, seq);
            let want_ge = model
                .range(target.clone()..)
                .next()
                .map(|((k, s), _)| (k.clone(), s.0));
            assert_eq!(at(&it), want_ge);
            it.seek_for_prev(&key, seq);
            let want_lt = model
                .range(..target)
                .next_back()
                .map(|((k, s), _)| (k.clone(), s.0));
            assert_eq!(at(&it), want_lt);
            let visible = list.get(&key, seq).map(|e| (e.key.to_vec(), e.seq));
            assert_eq!(visible, want_ge.filter(|(k, _)| *k == key));
        }
    }

    #[test]
    fn same_seed_same_towers_in_any_order() {
        let n = small(2_000, 150) as u32;
        let mut keys: Vec<u32> = (0..n).collect();
        let a = SkipList::new(11, 4096);
        for k in &keys {
            a.insert(&k.to_be_bytes(), u64::from(*k % 3), &[]).unwrap();
        }
        let mut rng = Rng::new(1);
        for i in (1..keys.len()).rev() {
            keys.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let b = SkipList::new(11, 4096);
        for k in &keys {
            b.insert(&k.to_be_bytes(), u64::from(*k % 3), &[]).unwrap();
        }
        let c = SkipList::new(12, 4096);
        for k in &keys {
            c.insert(&k.to_be_bytes(), u64::from(*k % 3), &[]).unwrap();
        }
        assert_eq!(
            a.height.load(Ordering::Relaxed),
            b.height.load(Ordering::Relaxed)
        );
        for level in 0..HEIGHT_MAX {
            assert_eq!(
                level_entries(&a, level),
                level_entries(&b, level),
                "level {level}"
            );
        }
        assert_ne!(level_entries(&a, 1), level_entries(&c, 1));
        // Roughly half of the nodes reach level 1.
        let share = level_entries(&a, 1).len() as f64 / f64::from(n);
        assert!((0.4..0.6).contains(&share), "level 1 share {share}");
        // Every level is sorted and a subsequence of the level below.
        for level in 1..HEIGHT_MAX {
            let upper = level_entries(&a, level);
            let lower = level_entries(&a, level - 1);
            let mut rest = lower.iter();
            assert!(upper.iter().all(|e| rest.any(|l| l == e)));
        }
    }

    /// One round of writers on overlapping keys and the same `(key, seq)`, with a reader.
    fn concurrent_round(seed: u64, threads: u64, per_thread: u64, index_slots: usize) {
        let list = if index_slots == 0 {
            SkipList::new(seed, 1024)
        } else {
            SkipList::with_index(seed, 1024, index_slots)
        };
        std::thread::scope(|s| {
            for t in 0..threads {
                let list = &list;
                s.spawn(move || {
                    for i in 0..per_thread {
                        // Overlapping keys, disjoint seqs per thread.
                        let key = (i / 2).to_be_bytes();
                        list.insert(&key, i * threads + t, &[&t.to_le_bytes()])
                            .unwrap();
                        // The same (key, seq) from every thread: exactly one wins.
                        let _ = list.insert(b"shared", i, &[b"x"]);
                    }
                });
            }
            let list = &list;
            s.spawn(move || {
                // Through the key index (when there is one): a key's newest version never goes
                // back, and is the one a seek finds at that sequence.
                let mut newest = alloc::vec![0u64; per_thread as usize / 2 + 1];
                for _ in 0..3 {
                    for (k, seen) in newest.iter_mut().enumerate() {
                        let key = (k as u64).to_be_bytes();
                        if let Some(e) = list.get(&key, u64::MAX) {
                            assert_eq!(e.key, key);
                            assert!(e.seq >= *seen, "a key's newest version went back");
                            *seen = e.seq;
                            let mut it = list.iter();
                            it.seek(&key, e.seq);
                            assert_eq!(it.entry(), Some(e));
                        }
                    }
                }
            });
            s.spawn(move || {
                for _ in 0..4 {
                    let all = forward(list);
                    assert!(all.windows(2).all(|w| (&w[0].0, core::cmp::Reverse(w[0].1))
                        < (&w[1].0, core::cmp::Reverse(w[1].1))));
                }
            });
        });
        assert_eq!(list.len() as u64, threads * per_thread + per_thread);
        let all = forward(&list);
        assert_eq!(all.len(), list.len());
        assert_eq!(backward(&list), all);
        for t in 0..threads {
            for i in 0..per_thread {
                let e = list.get(&(i / 2).to_be_bytes(), i * threads + t).unwrap();
                assert_eq!((e.seq, e.value), (i * threads + t, &t.to_le_bytes()[..]));
            }
        }
        for i in 0..per_thread {
            assert_eq!(list.get(b"shared", i).unwrap().seq, i);
        }
        for k in 0..per_thread / 2 {
            let key = k.to_be_bytes();
            let newest = list.get(&key, u64::MAX).unwrap();
            assert_eq!(newest.seq, (2 * k + 1) * threads + threads - 1);
        }
        assert!(list.get(b"absent", u64::MAX).is_none());
    }

    #[test]
    fn concurrent_inserts_and_reads_through_the_key_index() {
        let per_thread = small(2_000, 40) as u64;
        for round in 0..small(4, 2) as u64 {
            // A roomy index, and one that fills up (misses then fall back to seeks).
            concurrent_round(31 + round, 3, per_thread, 4 * per_thread as usize);
            concurrent_round(41 + round, 3, per_thread, 16);
        }
    }

    #[test]
    fn key_index_answers_like_a_seek() {
        let mut rng = Rng::new(99);
        for slots in [2usize, 8, 64, 4096] {
            let plain = SkipList::new(5, 4096);
            let indexed = SkipList::with_index(5, 4096, slots);
            for step in 0..small(3000, 200) as u64 {
                let key = rng.below(small(500, 40) as u64).to_be_bytes();
                let seq = rng.below(1_000_000);
                let value = step.to_le_bytes();
                assert_eq!(
                    plain.insert(&key, seq, &[&value]),
                    indexed.insert(&key, seq, &[&value])
                );
                let probe = rng.below(small(600, 50) as u64).to_be_bytes();
                for at in [rng.below(1_000_000), u64::MAX, 0] {
                    assert_eq!(plain.get(&probe, at), indexed.get(&probe, at));
                }
            }
            assert_eq!(forward(&plain), forward(&indexed));
            assert_eq!(level_entries(&plain, 0), level_entries(&indexed, 0));
            assert!(indexed.memory_bytes() > plain.memory_bytes());
        }
    }

    /// Threads race to insert the same `(key, seq)` entries with `insert_with`: every value
    /// filled is either linked (exactly one per entry) or handed to `discard`.
    fn fill_or_discard_round(seed: u64, threads: u64, per_thread: u64) {
        let list = SkipList::with_index(seed, 1024, 64);
        let filled = AtomicUsize::new(0);
        let discarded = AtomicUsize::new(0);
        let linked = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads {
                let (list, filled, discarded, linked) = (&list, &filled, &discarded, &linked);
                s.spawn(move || {
                    for i in 0..per_thread {
                        let key = (i % 3).to_be_bytes();
                        let value = i.to_le_bytes();
                        let fill = |dst: &mut [MaybeUninit<u8>]| {
                            filled.fetch_add(1, Ordering::Relaxed);
                            copy_into(dst, &value);
                        };
                        let discard = |bytes: &[u8]| {
                            assert_eq!(bytes, value, "discard gets the filled bytes");
                            discarded.fetch_add(1, Ordering::Relaxed);
                        };
                        if list.insert_with(&key, i, 8, fill, discard).is_ok() {
                            linked.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        let (filled, discarded, linked) = (
            filled.into_inner(),
            discarded.into_inner(),
            linked.into_inner(),
        );
        assert_eq!(linked as u64, per_thread);
        assert_eq!(filled, linked + discarded);
        for i in 0..per_thread {
            let e = list.get(&(i % 3).to_be_bytes(), i).unwrap();
            assert_eq!((e.seq, e.value), (i, &i.to_le_bytes()[..]));
        }
    }

    #[test]
    fn a_filled_value_is_linked_or_discarded() {
        // Repeat until a filled value lost its race (so `discard` ran); bounded.
        for round in 0..small(200, 20) as u64 {
            fill_or_discard_round(round, 3, small(500, 30) as u64);
            if DISCARDED.load(Ordering::Relaxed) > 0 {
                return;
            }
        }
        panic!("no filled value was ever discarded");
    }

    #[test]
    fn concurrent_inserts_and_reads() {
        // Repeat until the contended paths (a lost CAS, a node for the same key linked by
        // another thread meanwhile, a lost CAS in a version chain) have run, so the tests
        // exercise them; bounded.
        let per_thread = small(2_000, 40) as u64;
        for round in 0..small(50, 8) as u64 {
            concurrent_round(13 + round, 3, per_thread, 0);
            let retries = CAS_RETRIES.load(Ordering::Relaxed);
            let late = LATE_KEYS.load(Ordering::Relaxed);
            let chain = CHAIN_RETRIES.load(Ordering::Relaxed);
            if retries > 0 && late > 0 && chain > 0 {
                return;
            }
        }
        panic!("the contended insert paths never ran");
    }
}
