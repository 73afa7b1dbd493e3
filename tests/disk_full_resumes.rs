//! A full disk (the simulator's capacity): writes fail with `Error::DiskFull`, reads keep
//! working, nothing acknowledged is lost, and writes resume once space is freed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use ppdb_core::{Durability, Error};
use ppdb_platform_sim::SimPlatform;
use ppdb_tests::disk_model::open;

fn value(i: u64) -> Vec<u8> {
    format!("value-{i}-{}", "x".repeat((i % 200) as usize)).into_bytes()
}

#[test]
fn writes_fail_while_full_and_resume_after() {
    for seed in 0..20 {
        let platform = SimPlatform::new(seed);
        let fs = &platform.fs;
        let (db, _) = open(&platform, seed, Durability::Sync).unwrap();
        let mut acked = Vec::new();
        let mut failed = Vec::new();
        for i in 0..50 {
            db.put(format!("k{i}").as_bytes(), &value(i)).unwrap();
            acked.push(i);
        }
        fs.set_capacity_bytes(Some(fs.used_bytes() + 20_000 + seed * 1000));
        let mut i = 50;
        loop {
            match db.put(format!("k{i}").as_bytes(), &value(i)) {
                Ok(_) => acked.push(i),
                Err(Error::DiskFull) => {
                    failed.push(i);
                    break;
                }
                Err(e) => panic!("seed {seed}: unexpected error {e}"),
            }
            i += 1;
            assert!(i < 100_000, "seed {seed}: the disk never filled");
        }
        // Full: further writes fail, reads work.
        for j in 0..5 {
            let k = i + 1 + j;
            assert_eq!(
                db.put(format!("k{k}").as_bytes(), &value(k)),
                Err(Error::DiskFull),
                "seed {seed}"
            );
            failed.push(k);
        }
        assert!(db.stats().disk.stalled, "seed {seed}");
        for &a in &acked {
            let item = db.get(format!("k{a}").as_bytes()).unwrap().unwrap();
            assert_eq!(item.value, value(a), "seed {seed}");
        }
        // Space returns: writes resume.
        fs.set_capacity_bytes(None);
        let base = i + 100;
        for k in base..base + 30 {
            db.put(format!("k{k}").as_bytes(), &value(k)).unwrap();
            acked.push(k);
        }
        assert!(!db.stats().disk.stalled, "seed {seed}");
        drop(db);
        fs.crash();
        let (db, _) = open(&platform, seed, Durability::Sync).unwrap();
        for &a in &acked {
            let item = db.get(format!("k{a}").as_bytes()).unwrap();
            assert_eq!(
                item.map(|i| i.value),
                Some(value(a)),
                "seed {seed}: k{a} lost"
            );
        }
        for &f in &failed {
            if let Some(item) = db.get(format!("k{f}").as_bytes()).unwrap() {
                assert_eq!(item.value, value(f), "seed {seed}");
            }
        }
    }
}
