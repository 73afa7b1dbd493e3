//! The no_std proof: links the engine into a `#![no_std]` static library that brings its own
//! panic handler and allocator, and exercises it through the C ABI so nothing is optimised away.
#![no_std]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use ppdb_core::{Config, Engine, Isolation, WriteBatch};

/// A bump allocator over a static buffer: enough for the probe, and no `std` needed.
struct Bump;

const HEAP_BYTES: usize = 4 << 20;
static mut HEAP: [u8; HEAP_BYTES] = [0; HEAP_BYTES];
static NEXT: AtomicUsize = AtomicUsize::new(0);

// SAFETY: `alloc` hands out disjoint, aligned ranges of HEAP by bumping NEXT atomically, and
// never reuses memory; `dealloc` is a no-op, which is always sound.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = core::ptr::addr_of_mut!(HEAP) as usize;
        let mut cur = NEXT.load(Ordering::Relaxed);
        loop {
            let start = (base + cur).next_multiple_of(layout.align()) - base;
            let end = start + layout.size();
            if end > HEAP_BYTES {
                return core::ptr::null_mut();
            }
            match NEXT.compare_exchange_weak(cur, end, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return (base + start) as *mut u8,
                Err(actual) => cur = actual,
            }
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Bump = Bump;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Parses a memcached request with the protocol crate; returns 1 if it is a `get`.
#[no_mangle]
pub extern "C" fn ppdb_probe_protocol() -> usize {
    let mut parser = ppdb_memcache::Parser::new(ppdb_memcache::Limits::default());
    match parser.parse(b"get k\r\n") {
        Ok(ppdb_memcache::Parsed::Complete { request: ppdb_memcache::Request::Retrieval(_), .. }) => 1,
        _ => 0,
    }
}

/// Writes a value through a transaction and reads it back; returns its length (1) or 0.
#[no_mangle]
pub extern "C" fn ppdb_probe() -> usize {
    let Ok(engine) = Engine::new(Config::default()) else {
        return 0;
    };
    let mut batch = WriteBatch::new();
    batch.put(b"k", b"v");
    if engine.write(&batch, 0).is_err() {
        return 0;
    }
    let committed = engine.transaction(Isolation::Serializable, 0, |txn| {
        let v = txn.get(b"k")?;
        txn.put(b"k2", b"w")?;
        Ok(v.map_or(0, |i| i.value.len()))
    });
    committed.unwrap_or(0)
}
