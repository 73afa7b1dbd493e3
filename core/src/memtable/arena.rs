//! A concurrent bump allocator: memory handed out in blocks, all freed at once on drop.
//!
//! The arena reserves blocks of `block_bytes` from the global allocator. Each block starts with
//! a small header (the link to the previously installed block, its capacity and a bump offset)
//! followed by the usable bytes:
//!
//! ```text
//!   block = | BlockHeader (32 bytes) | data: capacity bytes ...                    |
//!                                      ^ offset 0      ^ used (bumped by fetch_add)
//! ```
//!
//! Allocation is lock-free on the common path: load the current block, `fetch_add` the rounded
//! size on its `used` offset, and if the range fits the block the caller owns it. When it does
//! not fit, the caller takes the arena's lock, checks that no other thread installed a new
//! block meanwhile, and installs one. The tail of the full block is wasted (at most one
//! allocation's worth). An allocation larger than a quarter of a block gets a block of its own,
//! so a large value neither wastes the rest of the current block nor fails.
//!
//! Every allocation is rounded up to a multiple of [`ALIGN`] (8), which keeps every offset
//! 8-aligned without a compare-and-swap loop; larger alignments are served by over-allocating.
//! Memory is never reused or freed before the arena is dropped, so a pointer handed out stays
//! valid for the arena's lifetime: this is what lets the skiplist hand out `&'a [u8]` borrowed
//! from its nodes.
#![expect(
    unsafe_code,
    reason = "raw block allocation and pointer arithmetic are what an arena is made of"
)]

use alloc::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::sync::Mutex;

/// The alignment of every allocation's start and size (bytes).
pub const ALIGN: usize = 8;

/// The smallest usable capacity of a block; smaller `block_bytes` are raised to it.
pub const BLOCK_BYTES_MIN: usize = 256;

/// The header at the start of every block.
#[repr(C)]
struct BlockHeader {
    /// The block installed before this one (a singly linked list for `Drop`). Written once,
    /// under the lock, before the block is published.
    next: *mut BlockHeader,
    /// The total bytes reserved for the block (header included), for `dealloc`.
    total_bytes: usize,
    /// The usable bytes after the header.
    capacity: usize,
    /// The bump offset into the data; may run past `capacity` when the block is full.
    used: AtomicUsize,
}

const HEADER_BYTES: usize = core::mem::size_of::<BlockHeader>();
const _: () = assert!(HEADER_BYTES % ALIGN == 0 && HEADER_BYTES <= 32);
const _: () = assert!(core::mem::align_of::<BlockHeader>() <= ALIGN);

/// A concurrent bump allocator. `Send + Sync`; frees all its blocks when dropped.
#[derive(Debug)]
pub struct Arena {
    /// The block small allocations bump into; null before the first allocation.
    current: AtomicPtr<BlockHeader>,
    /// The most recently installed block (current or dedicated), head of the list of all
    /// blocks. Only written under `install`.
    blocks: AtomicPtr<BlockHeader>,
    /// Taken only to install a block.
    install: Mutex<()>,
    /// The usable bytes of a regular block.
    block_capacity: usize,
    /// Bytes reserved from the global allocator, headers included.
    memory_bytes: AtomicUsize,
}

impl Arena {
    /// An empty arena whose regular blocks reserve `block_bytes` (header included, rounded down
    /// to a multiple of [`ALIGN`], and raised so that at least [`BLOCK_BYTES_MIN`] bytes are
    /// usable). Nothing is reserved until the first allocation.
    pub fn new(block_bytes: usize) -> Self {
        // Rounded down, so that a block reserves at most `block_bytes`.
        let block_capacity =
            (block_bytes.saturating_sub(HEADER_BYTES) & !(ALIGN - 1)).max(BLOCK_BYTES_MIN);
        Arena {
            current: AtomicPtr::new(ptr::null_mut()),
            blocks: AtomicPtr::new(ptr::null_mut()),
            install: Mutex::new(()),
            block_capacity,
            memory_bytes: AtomicUsize::new(0),
        }
    }

    /// Bytes reserved from the global allocator, including block bookkeeping and the unused
    /// tails of blocks.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes.load(Ordering::Relaxed)
    }

    /// The usable bytes of a regular block.
    pub fn block_capacity(&self) -> usize {
        self.block_capacity
    }

    /// Allocates `layout.size()` uninitialized bytes aligned to `layout.align()`.
    ///
    /// The memory stays valid, and is never handed out again, until the arena is dropped.
    /// Callable concurrently from many threads. Aborts through [`handle_alloc_error`] when the
    /// global allocator fails, and panics when the size overflows `isize`.
    pub fn allocate(&self, layout: Layout) -> NonNull<u8> {
        if layout.align() <= ALIGN {
            return self.allocate_aligned(layout.size());
        }
        // Over-allocate and align the start inside the range.
        let padded = layout.size().checked_add(layout.align() - ALIGN);
        let Some(padded) = padded else {
            panic!("arena allocation of {layout:?} overflows")
        };
        let start = self.allocate_aligned(padded);
        let offset = start.as_ptr().align_offset(layout.align());
        assert!(offset < layout.align());
        // SAFETY: `offset <= layout.align() - ALIGN` because `start` is ALIGN-aligned, so
        // `start + offset .. + size` lies inside the `padded` bytes just allocated.
        unsafe { NonNull::new_unchecked(start.as_ptr().add(offset)) }
    }

    /// Allocates `size` bytes (rounded up to [`ALIGN`]) at an [`ALIGN`]-aligned address.
    #[inline]
    fn allocate_aligned(&self, size: usize) -> NonNull<u8> {
        let Some(size) = round_up(size, ALIGN) else {
            panic!("arena allocation of {size} bytes overflows")
        };
        if size > self.block_capacity / 4 {
            return self.allocate_dedicated(size);
        }
        loop {
            let block = self.current.load(Ordering::Acquire);
            if let Some(start) = bump(block, size) {
                return start;
            }
            if let Some(start) = self.install_block(block, size) {
                return start;
            }
        }
    }

    /// Installs a new current block after `full` turned out full, and takes `size` bytes from
    /// it. Returns `None` when another thread installed a block first (the caller retries).
    #[cold]
    fn install_block(&self, full: *mut BlockHeader, size: usize) -> Option<NonNull<u8>> {
        let _guard = self.install.lock();
        if self.current.load(Ordering::Acquire) != full {
            return None;
        }
        let block = self.reserve_block(self.block_capacity, size);
        // Release: the header written by `reserve_block` is visible to whoever loads the
        // pointer with Acquire.
        self.current.store(block.as_ptr(), Ordering::Release);
        Some(data_start(block))
    }

    /// Allocates a block of exactly `size` usable bytes for one large allocation.
    #[cold]
    fn allocate_dedicated(&self, size: usize) -> NonNull<u8> {
        let _guard = self.install.lock();
        data_start(self.reserve_block(size, size))
    }

    /// Reserves a block with `capacity` usable bytes, `used` bytes of which are already taken
    /// by the caller, and links it into the block list. Must be called with `install` held.
    fn reserve_block(&self, capacity: usize, used: usize) -> NonNull<BlockHeader> {
        let total_bytes = capacity.checked_add(HEADER_BYTES);
        let layout = total_bytes.and_then(|t| Layout::from_size_align(t, ALIGN).ok());
        let Some(layout) = layout else {
            panic!("arena block of {capacity} bytes overflows")
        };
        // SAFETY: `layout` has a non-zero size (at least the header).
        let raw = unsafe { alloc(layout) }.cast::<BlockHeader>();
        let Some(block) = NonNull::new(raw) else {
            handle_alloc_error(layout)
        };
        let header = BlockHeader {
            next: self.blocks.load(Ordering::Relaxed),
            total_bytes: layout.size(),
            capacity,
            used: AtomicUsize::new(used),
        };
        // SAFETY: `block` is a fresh allocation, aligned for and large enough for the header,
        // not yet visible to any other thread.
        unsafe { block.as_ptr().write(header) };
        self.blocks.store(block.as_ptr(), Ordering::Release);
        self.memory_bytes
            .fetch_add(layout.size(), Ordering::Relaxed);
        block
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        let mut block = *self.blocks.get_mut();
        while !block.is_null() {
            // SAFETY: every block in the list was allocated by `reserve_block` with the layout
            // recorded in its header, is freed exactly once here, and `&mut self` proves no
            // other thread (and no borrow of the arena's memory) is alive.
            unsafe {
                let next = (*block).next;
                let layout = Layout::from_size_align_unchecked((*block).total_bytes, ALIGN);
                dealloc(block.cast::<u8>(), layout);
                block = next;
            }
        }
    }
}

/// Takes `size` bytes from `block` by bumping its offset; `None` when `block` is null or full.
#[inline]
fn bump(block: *mut BlockHeader, size: usize) -> Option<NonNull<u8>> {
    if block.is_null() {
        return None;
    }
    // SAFETY: non-null block pointers are only published after `reserve_block` initialized
    // the header (Release store, Acquire load by the caller) and stay allocated until the
    // arena drops; `used` is only accessed atomically and `capacity` is never written again.
    let (offset, capacity) = unsafe {
        let used = &(*block).used;
        // Relaxed: the bytes handed out are exclusive to the caller; publishing what it writes
        // there is the caller's business.
        (used.fetch_add(size, Ordering::Relaxed), (*block).capacity)
    };
    if offset <= capacity && size <= capacity - offset {
        // SAFETY: `offset + size <= capacity`, so the range lies inside the block's data.
        Some(unsafe { NonNull::new_unchecked(data_start_raw(block).add(offset)) })
    } else {
        None
    }
}

/// The first data byte of a block.
fn data_start(block: NonNull<BlockHeader>) -> NonNull<u8> {
    // SAFETY: the data follows the header in the same allocation and is not null.
    unsafe { NonNull::new_unchecked(data_start_raw(block.as_ptr())) }
}

#[inline]
fn data_start_raw(block: *mut BlockHeader) -> *mut u8 {
    // `wrapping_add` keeps this function safe; the result stays inside the block's allocation
    // (one past the header), derived from the allocation's own pointer.
    block.cast::<u8>().wrapping_add(HEADER_BYTES)
}

/// `n` rounded up to a multiple of `align` (a power of two); `None` on overflow.
fn round_up(n: usize, align: usize) -> Option<usize> {
    Some(n.checked_add(align - 1)? & !(align - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn fill(p: NonNull<u8>, len: usize, byte: u8) {
        // SAFETY: the tests only fill ranges the arena just handed out.
        unsafe { ptr::write_bytes(p.as_ptr(), byte, len) }
    }

    fn read(_arena: &Arena, p: NonNull<u8>, len: usize) -> &[u8] {
        // SAFETY: the range was handed out by `_arena`, which outlives the slice, and filled.
        unsafe { core::slice::from_raw_parts(p.as_ptr(), len) }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn empty_arena_reserves_nothing() {
        let a = Arena::new(4096);
        assert_eq!(a.memory_bytes(), 0);
        assert_eq!(a.block_capacity(), 4096 - HEADER_BYTES);
        assert_eq!(Arena::new(0).block_capacity(), BLOCK_BYTES_MIN);
        assert_eq!(
            Arena::new(1001).block_capacity(),
            (1001 - HEADER_BYTES) & !(ALIGN - 1)
        );
    }

    #[test]
    fn allocations_are_aligned_disjoint_and_accounted() {
        let a = Arena::new(1024);
        let mut ranges = Vec::new();
        for i in 0..200usize {
            let size = i % 37;
            let p = a.allocate(layout(size, 1));
            assert_eq!(p.as_ptr() as usize % ALIGN, 0);
            fill(p, size, i as u8);
            ranges.push((p, size, i as u8));
        }
        for &(p, size, byte) in &ranges {
            assert!(read(&a, p, size).iter().all(|&b| b == byte));
        }
        let mut spans: Vec<(usize, usize)> = ranges
            .iter()
            .map(|&(p, s, _)| (p.as_ptr() as usize, s))
            .collect();
        spans.sort_unstable();
        for w in spans.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0);
        }
        let used: usize = ranges.iter().map(|r| r.1).sum();
        assert!(a.memory_bytes() >= used);
        assert_eq!(a.memory_bytes() % 1024, 0);
    }

    #[test]
    fn large_allocations_get_their_own_block() {
        let a = Arena::new(512);
        let small = a.allocate(layout(8, 8));
        fill(small, 8, 1);
        let before = a.memory_bytes();
        let big = a.allocate(layout(10_000, 8));
        fill(big, 10_000, 2);
        assert_eq!(a.memory_bytes(), before + 10_000 + HEADER_BYTES);
        // The current block keeps serving small allocations.
        let small2 = a.allocate(layout(8, 8));
        assert_eq!(small2.as_ptr() as usize, small.as_ptr() as usize + 8);
        assert_eq!(a.memory_bytes(), before + 10_000 + HEADER_BYTES);
        assert!(read(&a, big, 10_000).iter().all(|&b| b == 2));
        assert_eq!(read(&a, small, 8), &[1; 8]);
    }

    #[test]
    fn over_aligned_and_zero_sized() {
        let a = Arena::new(4096);
        let _ = a.allocate(layout(3, 1));
        let p = a.allocate(layout(64, 64));
        assert_eq!(p.as_ptr() as usize % 64, 0);
        fill(p, 64, 9);
        let z = a.allocate(layout(0, 1));
        assert_eq!(z.as_ptr() as usize % ALIGN, 0);
    }

    #[test]
    fn concurrent_allocations_are_disjoint() {
        extern crate std;
        let threads = 4;
        let per_thread = if cfg!(miri) { 40 } else { 5_000 };
        let a = Arena::new(512);
        let spans: Vec<(usize, usize)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let a = &a;
                    s.spawn(move || {
                        let mut mine = Vec::new();
                        for i in 0..per_thread {
                            let size = 1 + (i * 7 + t) % 150;
                            let p = a.allocate(layout(size, 8));
                            fill(p, size, t as u8);
                            mine.push((p, size));
                        }
                        for &(p, size) in &mine {
                            assert!(read(a, p, size).iter().all(|&b| b == t as u8));
                        }
                        mine.iter()
                            .map(|&(p, size)| (p.as_ptr() as usize, size))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        let mut sorted = spans;
        sorted.sort_unstable();
        for w in sorted.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "overlapping allocations");
        }
        assert!(a.memory_bytes() >= threads * per_thread);
    }
}
