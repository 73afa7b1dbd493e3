//! A failed fsync is fatal and sticky: the waiting writer gets `Error::Poisoned`, every later
//! write too (even though later syncs would succeed), reads keep working, the stats say so,
//! and a reopen after a crash has every write acknowledged before the failure.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use ppdb_core::{Durability, Error};
use ppdb_platform_sim::{Op, SimPlatform};
use ppdb_tests::disk_model::open;

#[test]
fn a_failed_sync_poisons_writes_for_good() {
    let platform = SimPlatform::new(5);
    let fs = &platform.fs;
    let (db, _) = open(&platform, 5, Durability::Sync).unwrap();
    for i in 0..20 {
        db.put(format!("k{i}").as_bytes(), b"before").unwrap();
    }
    fs.fail_nth_op(Op::SyncData, 1);
    assert_eq!(db.put(b"failed", b"x"), Err(Error::Poisoned));
    assert!(db.stats().disk.poisoned);
    assert_eq!(db.put(b"after", b"x"), Err(Error::Poisoned));
    assert_eq!(db.delete(b"k1"), Err(Error::Poisoned));
    assert_eq!(db.flush_all(), Err(Error::Poisoned));
    assert_eq!(db.sync_wal(), Err(Error::Poisoned));
    assert!(db.transaction(|t| t.put(b"t", b"x")).is_err());
    assert_eq!(db.get(b"k3").unwrap().unwrap().value, b"before");
    assert!(db.get(b"after").unwrap().is_none());
    drop(db);
    fs.crash();
    let (db, _) = open(&platform, 5, Durability::Sync).unwrap();
    assert!(!db.stats().disk.poisoned);
    for i in 0..20 {
        assert_eq!(
            db.get(format!("k{i}").as_bytes()).unwrap().unwrap().value,
            b"before"
        );
    }
    assert!(db.get(b"after").unwrap().is_none());
    db.put(b"after", b"y").unwrap();
}

#[test]
fn periodic_mode_reports_the_poison_too() {
    let platform = SimPlatform::new(6);
    let fs = &platform.fs;
    let (db, _) = open(&platform, 6, Durability::Periodic { ms: 10 }).unwrap();
    db.put(b"a", b"1").unwrap();
    fs.fail_nth_op(Op::SyncData, 1);
    assert_eq!(db.sync_wal(), Err(Error::Poisoned));
    assert_eq!(db.put(b"b", b"2"), Err(Error::Poisoned));
    assert!(db.stats().disk.poisoned);
    assert_eq!(db.get(b"a").unwrap().unwrap().value, b"1");
}
