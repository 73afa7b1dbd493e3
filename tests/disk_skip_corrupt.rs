//! Recovery past a damaged write-ahead log: a byte flipped inside a sealed segment fails a
//! strict open with a corruption error; `RecoveryMode::SkipCorrupt` opens, skipping the
//! damaged records and keeping every other one; and from then on a strict open works again,
//! because the skipping open flushed what it recovered and so retired the damaged segment. A
//! segment whose only record is damaged is retired as well (nothing to flush). A damaged table
//! fails every open, whatever the mode. Each error names the damaged file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use ppdb_core::{Db, DiskOptions, Durability, Error, RecoveryMode};
use ppdb_platform::{File, FileSystem, OpenMode};
use ppdb_platform_sim::SimPlatform;
use ppdb_tests::disk_model::small_config;

const SEED: u64 = 21;

fn open(platform: &SimPlatform, recovery: RecoveryMode) -> ppdb_core::Result<Db<SimPlatform>> {
    let options = DiskOptions {
        durability: Durability::Sync,
        recovery,
    };
    Db::open_dir(small_config(SEED), platform.clone(), "db", options).map(|(db, _)| db)
}

fn open_info(
    platform: &SimPlatform,
    recovery: RecoveryMode,
) -> (Db<SimPlatform>, ppdb_core::RecoveryInfo) {
    let options = DiskOptions {
        durability: Durability::Sync,
        recovery,
    };
    Db::open_dir(small_config(SEED), platform.clone(), "db", options).unwrap()
}

fn segments(platform: &SimPlatform) -> Vec<String> {
    files(platform, ".wal")
}

/// The names of the files in the directory ending in `suffix`, sorted.
fn files(platform: &SimPlatform, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = platform
        .fs
        .list("db")
        .unwrap()
        .into_iter()
        .filter(|name| name.ends_with(suffix))
        .collect();
    names.sort();
    names
}

/// Flips one byte at `at` (a fraction of the file's length) of segment `name`.
fn damage(platform: &SimPlatform, name: &str, at: f64) {
    let file = platform
        .fs
        .open(&format!("db/{name}"), OpenMode::Existing)
        .unwrap();
    let len = file.len().unwrap();
    let offset = (len as f64 * at) as u64;
    let mut byte = [0u8];
    file.read_at(&mut byte, offset).unwrap();
    file.write_at(&[byte[0] ^ 0x5a], offset).unwrap();
    file.sync_data().unwrap();
}

fn key(i: u64) -> Vec<u8> {
    format!("key-{i:04}").into_bytes()
}

fn value(i: u64) -> Vec<u8> {
    format!("value-{i}-{}", "x".repeat(40)).into_bytes()
}

#[test]
fn skipping_a_damaged_record_keeps_the_others_and_strict_opens_work_again() {
    let platform = SimPlatform::new(SEED);
    // Two sessions, so that the first segment is sealed (synced whole, followed by another):
    // damage in it is corruption, not a torn tail. 25 small puts stay under a memtable, so
    // nothing is flushed and both segments are needed.
    let db = open(&platform, RecoveryMode::Strict).unwrap();
    for i in 0..20 {
        db.put(&key(i), &value(i)).unwrap();
    }
    drop(db);
    let db = open(&platform, RecoveryMode::Strict).unwrap();
    for i in 20..25 {
        db.put(&key(i), &value(i)).unwrap();
    }
    drop(db);
    let before = segments(&platform);
    assert!(before.len() >= 2, "{before:?}");
    damage(&platform, &before[0], 0.5);

    match open(&platform, RecoveryMode::Strict) {
        // The error names the damaged segment.
        Err(e @ Error::Corruption { .. }) => {
            let named = format!("db/{}", before[0]);
            assert_eq!(
                e.to_string().split(" at byte").next(),
                Some(format!("corruption in {named}").as_str()),
                "{e}"
            );
        }
        other => panic!(
            "a strict open must fail on the damage: {:?}",
            other.map(|_| ())
        ),
    }

    let (db, info) = open_info(&platform, RecoveryMode::SkipCorrupt);
    assert!(info.skipped_regions >= 1, "{info:?}");
    let present: Vec<u64> = (0..25)
        .filter(|&i| match db.get(&key(i)).unwrap() {
            Some(item) => {
                assert_eq!(item.value, value(i), "key {i} came back with another value");
                true
            }
            None => false,
        })
        .collect();
    // One damaged byte loses the record it lies in (a put of about 60 bytes), no more.
    assert!(present.len() >= 23, "only {present:?} survived");
    assert!((20..25).all(|i| present.contains(&i)), "{present:?}");
    db.put(&key(100), &value(100)).unwrap();
    drop(db);
    let after = segments(&platform);
    assert!(
        !after.contains(&before[0]),
        "the damaged segment must be retired: {after:?}"
    );

    // Strict again, and twice: nothing acknowledged since is lost.
    for _ in 0..2 {
        let (db, info) = open_info(&platform, RecoveryMode::Strict);
        assert_eq!(info.skipped_regions, 0, "{info:?}");
        for &i in &present {
            assert_eq!(db.get(&key(i)).unwrap().unwrap().value, value(i), "key {i}");
        }
        assert_eq!(db.get(&key(100)).unwrap().unwrap().value, value(100));
    }
}

#[test]
fn a_segment_whose_only_record_is_damaged_is_retired() {
    let platform = SimPlatform::new(SEED + 1);
    let db = open(&platform, RecoveryMode::Strict).unwrap();
    db.put(&key(1), &value(1)).unwrap();
    drop(db);
    // A second, empty session seals the first segment.
    drop(open(&platform, RecoveryMode::Strict).unwrap());
    let before = segments(&platform);
    let damaged = before
        .iter()
        .find(|name| {
            let file = platform
                .fs
                .open(&format!("db/{name}"), OpenMode::Existing)
                .unwrap();
            file.len().unwrap() > 64
        })
        .expect("the segment holding the put")
        .clone();
    damage(&platform, &damaged, 0.9);
    assert!(matches!(
        open(&platform, RecoveryMode::Strict),
        Err(Error::Corruption { .. })
    ));

    let (db, info) = open_info(&platform, RecoveryMode::SkipCorrupt);
    assert!(info.skipped_regions >= 1, "{info:?}");
    assert_eq!(info.records, 0, "{info:?}");
    assert_eq!(db.get(&key(1)).unwrap(), None);
    drop(db);
    assert!(!segments(&platform).contains(&damaged));
    let (_db, info) = open_info(&platform, RecoveryMode::Strict);
    assert_eq!(info.skipped_regions, 0, "{info:?}");
}

/// The names of the tables in the directory.
fn tables(platform: &SimPlatform) -> Vec<String> {
    files(platform, ".sst")
}

#[test]
fn a_damaged_table_fails_every_open_and_the_error_names_it() {
    let platform = SimPlatform::new(SEED);
    let db = open(&platform, RecoveryMode::Strict).unwrap();
    let mut i = 0;
    while tables(&platform).is_empty() {
        assert!(i < 100_000, "no table after {i} puts");
        db.put(&key(i), &value(i)).unwrap();
        db.maintain();
        i += 1;
    }
    drop(db);
    let table = tables(&platform)[0].clone();
    let len = platform
        .fs
        .open(&format!("db/{table}"), OpenMode::Existing)
        .unwrap()
        .len()
        .unwrap();
    // The last byte is the footer's (its magic number, under its checksum).
    damage(&platform, &table, (len as f64 - 0.5) / len as f64);
    for mode in [RecoveryMode::Strict, RecoveryMode::SkipCorrupt] {
        match open(&platform, mode) {
            Err(e @ Error::Corruption { .. }) => {
                let text = e.to_string();
                let named = format!("corruption in db/{table} at byte ");
                assert!(
                    text.starts_with(&named) && text.contains("footer"),
                    "{text}"
                );
            }
            other => panic!("{mode:?}: {:?}", other.map(|_| ())),
        }
    }
}
