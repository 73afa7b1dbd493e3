//! Group commit: concurrent writers in `Durability::Sync` mode share syncs (fewer syncs than
//! writes), every write is acknowledged, and all of them survive a crash that keeps nothing
//! unsynced.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use std::sync::Arc;

use ppdb_core::Durability;
use ppdb_platform_sim::SimPlatform;
use ppdb_tests::disk_model::open;

#[test]
fn concurrent_writers_share_syncs_and_survive_a_crash() {
    let platform = SimPlatform::new(9);
    platform.fs.set_crash_keep_probability(0.0);
    let (db, _) = open(&platform, 9, Durability::Sync).unwrap();
    let db = Arc::new(db);
    let threads = 8;
    let per_thread = 300;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    db.put(format!("t{t}-{i}").as_bytes(), format!("v{i}").as_bytes())
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = db.stats().disk;
    let writes = (threads * per_thread) as u64;
    assert_eq!(stats.wal_records, writes);
    assert!(stats.wal_syncs <= writes, "{stats:?}");
    eprintln!("{writes} writes, {} syncs", stats.wal_syncs);
    drop(db);
    platform.fs.crash();
    let (db, info) = open(&platform, 9, Durability::Sync).unwrap();
    assert_eq!(info.seq_last, writes);
    for t in 0..threads {
        for i in 0..per_thread {
            let item = db.get(format!("t{t}-{i}").as_bytes()).unwrap().unwrap();
            assert_eq!(item.value, format!("v{i}").into_bytes());
        }
    }
}
