//! Fails the n-th I/O operation of a fixed disk-mode workload, for every n: no panic, the
//! failed steps are reported as errors, and after a crash the database reopens with every
//! acknowledged write and, per key, nothing but the last acknowledged value or a value of a
//! later step that failed (whose outcome the client could not know). The memtables are small,
//! so the workload flushes tables (written, synced, renamed, recorded in the manifest) and
//! reads them back (point reads and scans between the steps, transactions validating against
//! them): the failing operation lands in each of these in turn.
//!
//! `PPDB_DISK_COUNTDOWN_MAX=n` bounds the operations tried (default: all of them).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use std::collections::BTreeMap;

use ppdb_core::Durability;
use ppdb_platform_sim::{SimPlatform, SplitMix64};
use ppdb_tests::disk_model::{apply_db, key, open, random_step, read_all, Step, KEYS};

/// Reads under failures: results are not checked (a failed table read reads as a miss and is
/// counted), only that nothing panics.
fn read_some(db: &ppdb_core::Db<SimPlatform>, i: u64) {
    let _ = db.get(&key(i % KEYS));
    let _ = db.scan(..).take(10).count();
}

const SEED: u64 = 11;

fn workload() -> Vec<Step> {
    let mut rng = SplitMix64::new(SEED);
    (0..120).map(|i| random_step(&mut rng, i)).collect()
}

/// The values each key may have after the run: the last acknowledged one, or one written by a
/// failed step after it.
type Allowed = BTreeMap<Vec<u8>, Vec<Option<Vec<u8>>>>;

fn effects(step: &Step) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    match step {
        Step::Batch(ws) | Step::Txn(ws) => ws.clone(),
        Step::FlushAll => (0..KEYS).map(|i| (key(i), None)).collect(),
        Step::Rotate | Step::SyncWal => Vec::new(),
    }
}

fn run(fail_at: Option<u64>) -> u64 {
    let platform = SimPlatform::new(SEED);
    let fs = &platform.fs;
    let (db, _) = open(&platform, SEED, Durability::Sync).unwrap();
    fs.reset_counters();
    if let Some(n) = fail_at {
        fs.fail_nth_io(n);
    }
    let mut allowed: Allowed = (0..KEYS).map(|i| (key(i), vec![None])).collect();
    for (i, step) in workload().into_iter().enumerate() {
        if i % 10 == 0 {
            read_some(&db, i as u64);
        }
        let ok = apply_db(&db, &step).is_ok();
        for (k, v) in effects(&step) {
            let values = allowed.get_mut(&k).expect("known key");
            if ok {
                values.clear();
            }
            values.push(v);
        }
        if !ok {
            assert!(fail_at.is_some(), "a step failed without a fault");
        }
    }
    let ios = fs.counters().io_total();
    if fail_at.is_none() {
        let disk = db.stats().disk;
        assert!(disk.flushes > 2 && disk.read_errors == 0, "{disk:?}");
    }
    drop(db);
    fs.crash();
    fs.heal();
    let (db, info) = open(&platform, SEED, Durability::Sync)
        .unwrap_or_else(|e| panic!("fail_at {fail_at:?}: reopen failed: {e}"));
    let got = read_all(&db);
    for (k, values) in &allowed {
        let v = got.get(k).cloned();
        assert!(
            values.contains(&v),
            "fail_at {fail_at:?}: key {} has a value never acknowledged (recovery {info:?})",
            String::from_utf8_lossy(k)
        );
    }
    ios
}

#[test]
fn failing_any_io_keeps_a_consistent_acknowledged_state() {
    let total = run(None);
    let max = std::env::var("PPDB_DISK_COUNTDOWN_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(total);
    for n in 1..=total.min(max) {
        run(Some(n));
    }
}
