//! Log cleanup: overwriting the same keys over and over flushes memtable after memtable to
//! tables, and the WAL segments those flushes cover are deleted, so the number of segments
//! stays bounded however long the workload runs (tables accumulate until compaction, so this
//! asserts on the segments). A reopen replays only the segments after the last flush.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use ppdb_core::{Db, Durability};
use ppdb_platform_sim::SimPlatform;
use ppdb_tests::disk_model::open;

fn wal_segments(platform: &SimPlatform) -> usize {
    use ppdb_platform::FileSystem;
    platform
        .fs
        .list("db")
        .unwrap()
        .iter()
        .filter(|name| name.ends_with(".wal"))
        .count()
}

fn overwrite(db: &Db<SimPlatform>, round: u64) {
    for k in 0..50u64 {
        let value = format!("{round}:{k}:{}", "x".repeat(200));
        db.put(format!("key-{k:03}").as_bytes(), value.as_bytes())
            .unwrap();
    }
}

#[test]
fn wal_segments_are_deleted_after_flushes() {
    let platform = SimPlatform::new(5);
    let (db, _) = open(&platform, 5, Durability::Sync).unwrap();
    let mut segments_max = 0;
    for round in 0..200 {
        overwrite(&db, round);
        segments_max = segments_max.max(wal_segments(&platform));
    }
    let disk = db.stats().disk;
    // 200 rounds of 50 puts of ~220 bytes rotate an 8 KiB memtable hundreds of times.
    assert!(disk.flushes > 100, "{disk:?}");
    assert!(disk.segments_deleted > 100, "{disk:?}");
    assert!(
        disk.tables > 100,
        "tables accumulate until compaction: {disk:?}"
    );
    assert!(
        segments_max <= 3,
        "WAL segments must not accumulate: {segments_max} at most, {disk:?}"
    );
    drop(db);
    platform.fs.crash();

    let (db, info) = open(&platform, 5, Durability::Sync).unwrap();
    assert!(
        info.segments <= 3,
        "replays only the unflushed segments: {info:?}"
    );
    assert_eq!(info.tables, disk.tables, "{info:?}");
    for k in 0..50u64 {
        let item = db.get(format!("key-{k:03}").as_bytes()).unwrap().unwrap();
        assert!(item.value.starts_with(format!("199:{k}:").as_bytes()));
    }
    assert!(wal_segments(&platform) <= 3);
}
