//! Reopening after many flushes reads the data back from tables: 10,000 keys written with
//! small memtables (so nearly everything is in tables), some overwritten and some deleted in
//! later tables, then a crash and a reopen: every key reads its last value, deleted keys stay
//! deleted (tombstones in newer tables hide older tables), and scans return the keys in order,
//! also from a bound in the middle and at a snapshot. The same on the real file system.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use std::collections::BTreeMap;

use ppdb_core::{Config, Db, DiskOptions, Durability, WriteBatch};
use ppdb_platform_sim::SimPlatform;

const KEYS: u64 = 10_000;

fn key(i: u64) -> Vec<u8> {
    format!("key-{i:06}").into_bytes()
}

fn open(platform: &SimPlatform) -> (Db<SimPlatform>, ppdb_core::RecoveryInfo) {
    let config = Config {
        memtable_bytes_max: 64 << 10,
        arena_block_bytes: 8 << 10,
        ..Config::default()
    };
    let options = DiskOptions {
        durability: Durability::None,
        ..DiskOptions::default()
    };
    Db::open_dir(config, platform.clone(), "db", options).unwrap()
}

#[test]
fn reopen_after_flushes_reads_from_tables() {
    let platform = SimPlatform::new(3);
    let (db, _) = open(&platform);
    let mut model = BTreeMap::new();
    for chunk in 0..KEYS / 100 {
        let mut batch = WriteBatch::new();
        for i in chunk * 100..(chunk + 1) * 100 {
            let value = format!("v1-{i}-{}", "y".repeat((i % 97) as usize));
            batch.put(&key(i), value.as_bytes());
            model.insert(key(i), value.into_bytes());
        }
        db.write(&batch).unwrap();
    }
    // Overwrite every seventh key and delete every eleventh, in later tables.
    for i in (0..KEYS).step_by(7) {
        let value = format!("v2-{i}");
        db.put(&key(i), value.as_bytes()).unwrap();
        model.insert(key(i), value.into_bytes());
    }
    for i in (0..KEYS).step_by(11) {
        db.delete(&key(i)).unwrap();
        model.remove(&key(i));
    }
    db.sync_wal().unwrap();
    let before = db.stats().disk;
    assert!(before.tables > 10, "{before:?}");
    drop(db);
    platform.fs.crash();

    let (db, info) = open(&platform);
    assert_eq!(info.tables, before.tables, "{info:?}");
    let stats = db.stats();
    assert!(
        stats.active_versions + stats.frozen_memtables < 5_000,
        "most versions must come from tables: {stats:?}"
    );
    for i in 0..KEYS {
        let got = db.get(&key(i)).unwrap().map(|item| item.value);
        assert_eq!(got.as_ref(), model.get(&key(i)), "key {i}");
    }
    let scanned: Vec<(Vec<u8>, Vec<u8>)> = db.scan(..).map(|(k, item)| (k, item.value)).collect();
    let expected: Vec<(Vec<u8>, Vec<u8>)> = model.clone().into_iter().collect();
    assert_eq!(scanned.len(), expected.len());
    assert!(
        scanned == expected,
        "a full scan returns every live key in order"
    );
    let from = key(KEYS / 2);
    let middle: Vec<Vec<u8>> = db
        .scan(from.as_slice()..)
        .take(50)
        .map(|(k, _)| k)
        .collect();
    let want: Vec<Vec<u8>> = model
        .range(from.clone()..)
        .take(50)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(middle, want);

    // A snapshot keeps reading the tables while newer writes and flushes go on.
    let snapshot = db.snapshot();
    for i in 0..2_000 {
        db.put(&key(i), b"v3").unwrap();
    }
    db.engine().rotate(db.now());
    let at_snapshot = db.scan_at(&snapshot, .., usize::MAX);
    assert_eq!(at_snapshot.len(), expected.len());
    assert!(at_snapshot
        .iter()
        .zip(&expected)
        .all(|((k, item), (ek, ev))| k == ek && &item.value == ev));
    assert_eq!(db.get(&key(1)).unwrap().unwrap().value, b"v3");
}

#[test]
fn reopen_on_the_real_file_system_reads_from_tables() {
    use ppdb_platform_std::StdPlatform;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        memtable_bytes_max: 16 << 10,
        arena_block_bytes: 4 << 10,
        ..Config::default()
    };
    let open = || {
        let platform = StdPlatform::new(dir.path());
        Db::open_dir(config.clone(), platform, "db", DiskOptions::default()).unwrap()
    };
    let (db, _) = open();
    for i in 0..2_000u64 {
        db.put(&key(i), format!("value-{i}").as_bytes()).unwrap();
    }
    let disk = db.stats().disk;
    assert!(disk.tables > 3 && disk.segments_deleted > 0, "{disk:?}");
    drop(db);
    let (db, info) = open();
    assert_eq!(info.tables, disk.tables, "{info:?}");
    for i in 0..2_000u64 {
        let item = db.get(&key(i)).unwrap().unwrap();
        assert_eq!(item.value, format!("value-{i}").into_bytes());
    }
    assert_eq!(db.scan(..).count(), 2_000);
    let names: Vec<String> = std::fs::read_dir(dir.path().join("db"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().filter(|n| n.ends_with(".wal")).count() <= 3,
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}
