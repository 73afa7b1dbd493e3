//! Under an overwrite-heavy workload, rotation and merging keep memory bounded: old versions
//! that no snapshot can see are dropped, so memory tracks the live data, not the write volume.

use ppdb_core::{Config, Engine, WriteBatch};

#[test]
fn overwrites_do_not_grow_memory() {
    let cfg = Config {
        memtable_bytes_max: 64 << 10,
        arena_block_bytes: 16 << 10,
        ..Config::default()
    };
    let engine = Engine::new(cfg).unwrap();
    let keys = 500u32;
    let value = [7u8; 100];
    let mut peak = 0usize;
    // 200 overwrites of every key: ~11 MB of writes against ~60 KB of live data.
    for round in 0..200u32 {
        for k in 0..keys {
            let mut b = WriteBatch::new();
            b.put(format!("key{k:05}").as_bytes(), &value);
            engine.write(&b, 0).unwrap();
        }
        if round >= 10 {
            peak = peak.max(engine.memory_bytes());
        }
    }
    let st = engine.stats();
    assert!(st.rotations > 50, "{st:?}");
    assert_eq!(engine.scan(.., 0).count(), keys as usize);
    // Live data ~ 500 * (100 + 8 key) bytes; the bound allows the active memtable, the frozen
    // ones awaiting a merge and the run with its descriptors.
    let bound = 4 * (64 << 10) + 4 * (keys as usize) * 160;
    assert!(peak < bound, "memory {peak} exceeds {bound}: {st:?}");
    // Deleting everything and merging brings the run down to nothing.
    for k in 0..keys {
        let mut b = WriteBatch::new();
        b.delete(format!("key{k:05}").as_bytes());
        engine.write(&b, 0).unwrap();
    }
    engine.rotate(0);
    assert_eq!(engine.stats().run_versions, 0);
}
