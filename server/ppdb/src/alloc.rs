//! The `ppdb` binary's allocator: the system allocator behind a cache of freed blocks, by size
//! class, for the sizes large values come in.
//!
//! A set of a large value allocates its blob on a worker thread; the maintenance thread frees
//! it when a merge drops the version, thousands at a time. glibc's allocator takes the lock of
//! the arena the block came from, a worker's, and holds it while it walks chunk headers that
//! are cold (the neighbours it coalesces with); a worker that wants to allocate meanwhile sleeps
//! on the lock, and its connections wait (`docs/performance.md`, "The allocator"). Allocators
//! with lock-free remote frees (mimalloc) round such blocks up to classes a quarter apart, which
//! cost 30% more memory for 4 KiB values than the limit allows.
//!
//! So blocks of [`SMALLEST`] to [`LARGEST`] bytes (alignment at most 16) are rounded up to a
//! multiple of [`CLASS_BYTES`], and when one is freed it goes onto its class's stack of
//! pointers, for the next allocation of that class, instead of back to the system allocator.
//! Pushing and popping copy one pointer under a lock held for nothing else, and touch nothing of
//! the block. Other sizes, a full stack, and blocks beyond the cache's byte budget
//! ([`set_budget`], which the server sets from `-m`) go to the system allocator as before. The
//! rounding costs at most 63 bytes a block (1.5% of a 4 KiB value), and the cache holds at most
//! its budget of free memory, which glibc would mostly have kept as well.
//!
//! The stacks' locks are `std::sync::Mutex`, which must not allocate: it does not where it is
//! a futex (Linux, Android) or an SRW lock (Windows). Elsewhere (on Apple systems it may box a
//! pthread mutex on first use) the cache is off and every request goes to the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The size classes are this many bytes apart.
pub const CLASS_BYTES: usize = 64;
/// The smallest block the cache keeps (smaller ones are the system allocator's fast path).
pub const SMALLEST: usize = 512;
/// The largest block the cache keeps.
pub const LARGEST: usize = 16 << 10;
/// The alignment of every cached block (what the system allocator gives any small block).
const ALIGN: usize = 16;
/// The number of size classes.
const CLASSES: usize = (LARGEST - SMALLEST) / CLASS_BYTES + 1;
/// The most blocks a class keeps: 64 MiB of 4 KiB values. A merge frees thousands of blobs at
/// once; with 4 096 slots (16 MiB of them) the stack overflowed back to the system allocator and
/// the workers allocated from it again until the next merge (`docs/performance.md`, "The
/// allocator"). The stacks are static and zeroed, so a class's slots take memory only as far as
/// it has ever filled them (8 bytes per cached block).
const SLOTS: usize = 16384;
/// The cache's byte budget until [`set_budget`] is called.
const BUDGET_DEFAULT: usize = 4 << 20;

/// A class's free blocks.
struct Stack {
    len: usize,
    blocks: [*mut u8; SLOTS],
}

impl Stack {
    /// Takes the most recently pushed block, if any.
    fn pop(&mut self) -> Option<*mut u8> {
        let top = self.len.checked_sub(1)?;
        self.len = top;
        Some(self.blocks[top])
    }

    /// Keeps `block` if there is a free slot; returns whether it did.
    fn push(&mut self, block: *mut u8) -> bool {
        if self.len == SLOTS {
            return false;
        }
        self.blocks[self.len] = block;
        self.len += 1;
        true
    }
}

// SAFETY: the pointers are free blocks owned by the cache, handed out to one thread at a time
// under the stack's lock.
#[expect(unsafe_code, reason = "free blocks move between threads")]
unsafe impl Send for Stack {}

static STACKS: [Mutex<Stack>; CLASSES] = [const {
    Mutex::new(Stack {
        len: 0,
        blocks: [std::ptr::null_mut(); SLOTS],
    })
}; CLASSES];
static CACHED_BYTES: AtomicUsize = AtomicUsize::new(0);
static BUDGET: AtomicUsize = AtomicUsize::new(BUDGET_DEFAULT);

/// Sets how many bytes of free blocks the cache may keep (the server: a sixteenth of `-m`).
pub fn set_budget(bytes: usize) {
    BUDGET.store(bytes, Ordering::Relaxed);
}

/// The bytes of free blocks the cache keeps now.
#[cfg(test)]
fn cached_bytes() -> usize {
    CACHED_BYTES.load(Ordering::Relaxed)
}

/// Whether the cache is on (see the module documentation).
const CACHING: bool = cfg!(any(target_os = "linux", target_os = "android", windows));

/// The class of a request, if the cache serves it.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (CACHING && (SMALLEST..=LARGEST).contains(&size) && layout.align() <= ALIGN)
        .then(|| (size - SMALLEST).div_ceil(CLASS_BYTES))
}

/// The layout of every block of `class`.
fn class_layout(class: usize) -> Layout {
    let size = SMALLEST + class * CLASS_BYTES;
    Layout::from_size_align(size, ALIGN)
        .expect("a multiple of 64 bytes with a power-of-two alignment is a valid layout")
}

fn stack(class: usize) -> std::sync::MutexGuard<'static, Stack> {
    STACKS[class].lock().unwrap_or_else(|e| e.into_inner())
}

/// The system allocator with a cache of freed blocks by size class (see the module
/// documentation).
#[derive(Debug, Default, Clone, Copy)]
pub struct ClassCache;

#[expect(unsafe_code, reason = "an allocator")]
// SAFETY: every block handed out is either the system allocator's, for the caller's layout
// (sizes the cache does not serve), or a block of the request's class: allocated by the system
// allocator with that class's layout, at least as large and as aligned as the request, and
// owned by nobody else (it was freed, then taken off the class's stack under its lock).
unsafe impl GlobalAlloc for ClassCache {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            // SAFETY: the caller's contract, passed on.
            return unsafe { System.alloc(layout) };
        };
        let block = stack(class).pop();
        match block {
            Some(block) => {
                CACHED_BYTES.fetch_sub(class_layout(class).size(), Ordering::Relaxed);
                block
            }
            // SAFETY: a valid, non-zero layout.
            None => unsafe { System.alloc(class_layout(class)) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if class_of(layout).is_none() {
            // SAFETY: the caller's contract, passed on.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // SAFETY: the caller's contract, passed on.
        let block = unsafe { self.alloc(layout) };
        if !block.is_null() {
            // SAFETY: the block holds at least `layout.size()` bytes.
            unsafe { block.write_bytes(0, layout.size()) };
        }
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = class_of(layout) else {
            // SAFETY: the block came from `System.alloc(layout)` (the caller's contract).
            return unsafe { System.dealloc(ptr, layout) };
        };
        let size = class_layout(class).size();
        let kept = CACHED_BYTES.load(Ordering::Relaxed) + size <= BUDGET.load(Ordering::Relaxed)
            && stack(class).push(ptr);
        if kept {
            CACHED_BYTES.fetch_add(size, Ordering::Relaxed);
        } else {
            // SAFETY: blocks of a class come from `System.alloc(class_layout(class))`.
            unsafe { System.dealloc(ptr, class_layout(class)) };
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align(new_size, layout.align());
        let Ok(new_layout) = new_layout else {
            return std::ptr::null_mut();
        };
        match (class_of(layout), class_of(new_layout)) {
            // SAFETY: the block came from `System.alloc(layout)` (the caller's contract).
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            // The block is already of the new size's class.
            (Some(old), Some(new)) if old == new => ptr,
            _ => {
                // SAFETY: a valid layout of non-zero size (the caller's contract).
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    // SAFETY: both blocks hold at least the bytes copied, and are distinct.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns every cached block to the system allocator (so that Miri's leak check passes:
    /// a process never drains its cache, it ends).
    #[expect(unsafe_code, reason = "frees cached blocks")]
    fn drain() {
        for class in 0..CLASSES {
            let mut stack = stack(class);
            while let Some(block) = stack.pop() {
                CACHED_BYTES.fetch_sub(class_layout(class).size(), Ordering::Relaxed);
                // SAFETY: a free block of the class, now taken off its stack.
                unsafe { System.dealloc(block, class_layout(class)) };
            }
        }
    }

    /// A block sent to another thread to be freed there.
    struct Sent(*mut u8, usize, u8);
    // SAFETY: the block is owned by whoever holds the message.
    #[expect(unsafe_code, reason = "a block moves between threads")]
    unsafe impl Send for Sent {}

    #[test]
    fn classes_round_up_to_64_bytes_within_the_range_only() {
        if !CACHING {
            return;
        }
        let l = |size, align| Layout::from_size_align(size, align).unwrap();
        assert_eq!(class_of(l(511, 8)), None);
        assert_eq!(class_of(l(512, 8)), Some(0));
        assert_eq!(class_of(l(513, 8)), Some(1));
        assert_eq!(
            class_of(l(4096 + 16, 8)),
            Some(57),
            "4112 bytes: class 57, 4160 bytes"
        );
        assert_eq!(class_layout(class_of(l(4112, 8)).unwrap()).size(), 4160);
        assert_eq!(class_of(l(LARGEST, 16)), Some(CLASSES - 1));
        assert_eq!(class_of(l(LARGEST + 1, 8)), None);
        assert_eq!(
            class_of(l(1024, 32)),
            None,
            "over-aligned requests go to the system"
        );
        for class in 0..CLASSES {
            let layout = class_layout(class);
            assert_eq!(class_of(layout), Some(class));
            assert_eq!(layout.align(), ALIGN);
        }
    }

    /// Threads allocate, fill, check and free blocks of every kind of size (cached classes,
    /// small, large, over-aligned) through the cache, some freed by another thread than the
    /// one that allocated them, and grow and shrink some with `realloc`: every block keeps its
    /// bytes, so no block is handed out twice.
    #[test]
    #[expect(unsafe_code, reason = "exercises the allocator")]
    fn blocks_are_never_handed_out_twice_under_concurrent_use() {
        set_budget(1 << 20);
        let rounds = if cfg!(miri) { 60 } else { 4000 };
        let sizes = [
            100,
            512,
            600,
            4096,
            4112,
            5000,
            LARGEST,
            LARGEST + 100,
            70_000,
        ];
        let (tx, rx) = std::sync::mpsc::channel::<Sent>();
        let freer = std::thread::spawn(move || {
            for Sent(p, size, fill) in rx {
                let layout = Layout::from_size_align(size, 8).unwrap();
                // SAFETY: allocated below with `layout`, sent here once, freed once.
                let bytes = unsafe { std::slice::from_raw_parts(p, size) };
                assert!(
                    bytes.iter().all(|&b| b == fill),
                    "block changed under its owner"
                );
                unsafe { ClassCache.dealloc(p, layout) };
            }
        });
        std::thread::scope(|s| {
            for t in 0..3u8 {
                let tx = tx.clone();
                s.spawn(move || {
                    let mut held: Vec<(*mut u8, Layout, u8)> = Vec::new();
                    for i in 0..rounds {
                        let size = sizes[(i * 7 + usize::from(t)) % sizes.len()];
                        let align = if i % 11 == 0 { 64 } else { 8 };
                        let layout = Layout::from_size_align(size, align).unwrap();
                        let fill = (i as u8) ^ (t << 5);
                        // SAFETY: a valid layout; the block is written within its size.
                        let p = unsafe { ClassCache.alloc(layout) };
                        assert!(!p.is_null());
                        assert_eq!(p as usize % align, 0);
                        unsafe { p.write_bytes(fill, size) };
                        held.push((p, layout, fill));
                        if held.len() > 16 {
                            let (p, layout, fill) = held.remove(i % held.len());
                            // SAFETY: allocated above with `layout` and filled with `fill`.
                            let bytes = unsafe { std::slice::from_raw_parts(p, layout.size()) };
                            assert!(bytes.iter().all(|&b| b == fill), "block changed");
                            if i % 3 == 0 && align == 8 {
                                tx.send(Sent(p, layout.size(), fill)).unwrap();
                            } else if i % 3 == 1 {
                                let grown = layout.size() * 2 + 1;
                                // SAFETY: a block of `layout`, resized once.
                                let q = unsafe { ClassCache.realloc(p, layout, grown) };
                                assert!(!q.is_null());
                                let kept = unsafe { std::slice::from_raw_parts(q, layout.size()) };
                                assert!(kept.iter().all(|&b| b == fill), "realloc lost bytes");
                                let grown = Layout::from_size_align(grown, layout.align()).unwrap();
                                unsafe { ClassCache.dealloc(q, grown) };
                            } else {
                                // SAFETY: allocated above with `layout`, freed once.
                                unsafe { ClassCache.dealloc(p, layout) };
                            }
                        }
                    }
                    for (p, layout, fill) in held {
                        // SAFETY: as above.
                        let bytes = unsafe { std::slice::from_raw_parts(p, layout.size()) };
                        assert!(bytes.iter().all(|&b| b == fill));
                        unsafe { ClassCache.dealloc(p, layout) };
                    }
                });
            }
        });
        drop(tx);
        freer.join().unwrap();
        assert!(
            cached_bytes() <= 1 << 20,
            "over the budget: {}",
            cached_bytes()
        );
        // Zeroed blocks are zero even when they come from the cache.
        let layout = Layout::from_size_align(4112, 8).unwrap();
        for _ in 0..3 {
            // SAFETY: a valid layout, freed once.
            let p = unsafe { ClassCache.alloc_zeroed(layout) };
            let bytes = unsafe { std::slice::from_raw_parts(p, 4112) };
            assert!(bytes.iter().all(|&b| b == 0));
            unsafe { p.write_bytes(0xff, 4112) };
            unsafe { ClassCache.dealloc(p, layout) };
        }
        drain();
        assert_eq!(cached_bytes(), 0);
    }
}
