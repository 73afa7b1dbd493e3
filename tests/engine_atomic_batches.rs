//! Readers never observe half a write batch: writers set every key of a group to the same value
//! in one batch while readers (plain reads through snapshots, and scans) check that all keys of
//! the group agree. Small memtables make rotations and merges run concurrently.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use ppdb_core::{Config, Engine, WriteBatch};

const GROUP: u32 = 8;

fn key(g: u32, i: u32) -> Vec<u8> {
    format!("g{g}-k{i}").into_bytes()
}

#[test]
fn readers_never_see_half_a_batch() {
    let cfg = Config {
        memtable_bytes_max: 8 << 10,
        arena_block_bytes: 2 << 10,
        ..Config::default()
    };
    let engine = Arc::new(Engine::new(cfg).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2u32)
        .map(|g| {
            let engine = engine.clone();
            thread::spawn(move || {
                for round in 0..20_000u32 {
                    let mut b = WriteBatch::new();
                    for i in 0..GROUP {
                        b.put(&key(g, i), &round.to_le_bytes());
                    }
                    engine.write(&b, 0).unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2u32)
        .map(|g| {
            let (engine, stop) = (engine.clone(), stop.clone());
            thread::spawn(move || {
                let mut seen = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let snap = engine.snapshot();
                    let values: Vec<_> = (0..GROUP)
                        .map(|i| engine.get_at(&snap, &key(g, i), 0).map(|v| v.value))
                        .collect();
                    assert!(
                        values.windows(2).all(|w| w[0] == w[1]),
                        "half a batch: {values:?}"
                    );
                    let prefix = format!("g{g}-");
                    let scanned: Vec<_> = engine
                        .scan(prefix.as_bytes().., 0)
                        .take_while(|(k, _)| k.starts_with(prefix.as_bytes()))
                        .map(|(_, v)| v.value)
                        .collect();
                    assert!(
                        scanned.windows(2).all(|w| w[0] == w[1]),
                        "half a batch in a scan"
                    );
                    assert!(scanned.is_empty() || scanned.len() == GROUP as usize);
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert!(engine.stats().merges > 0);
}
