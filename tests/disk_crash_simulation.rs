//! The whole database in disk mode on the simulated disk, against a `BTreeMap` model: random
//! puts, deletes, batches, transactions, `flush_all` and rotations, with memtables of 8 KiB so
//! that frozen memtables are flushed to tables (and WAL segments deleted) every few dozen
//! writes; crashes at random points and right at sync, directory-sync and rename call sites
//! (the operation fails, then the disk crashes), also during recovery itself; and crashes right
//! *after* the n-th successful sync, rename and directory sync, for every n of a fixed
//! workload (which puts a crash between every two steps of the flush, the rotation and the
//! open). After each reopen every acknowledged write is present, nothing never written
//! appears, and transactions are all or nothing.
//!
//! `PPDB_DISK_SIM_SEEDS=n` runs more seeds (`PPDB_DISK_SIM_SEEDS_FIRST` picks the first one);
//! a failure names its seed: rerun with `PPDB_DISK_SIM_SEEDS_FIRST=<seed> PPDB_DISK_SIM_SEEDS=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use ppdb_core::Durability;
use ppdb_platform_sim::{Op, SimPlatform, SplitMix64, TornWrites};
use ppdb_tests::crash_point::CrashPlatform;
use ppdb_tests::disk_model::{
    apply_db, apply_model, is_write, open, random_step, read_all, seeds, Model, Step,
};

const FAULT_SITES: [Op; 4] = [Op::SyncData, Op::SyncDir, Op::Rename, Op::Write];

/// Runs one seed; returns the tables the database held at its last reopen.
fn run(seed: u64) -> usize {
    let platform = SimPlatform::new(seed);
    let fs = &platform.fs;
    fs.set_crash_keep_probability([0.0, 0.5, 0.9][(seed % 3) as usize]);
    fs.set_torn_writes(
        [
            TornWrites::Sectors,
            TornWrites::WithinSectors,
            TornWrites::Never,
        ][(seed / 3 % 3) as usize],
    );
    let durability = match seed % 4 {
        3 => Durability::None,
        _ => Durability::Sync,
    };
    let mut rng = SplitMix64::new(seed ^ 0x5eed_d15c);
    let (mut db, _) = open(&platform, seed, durability).unwrap();
    let mut model = Model::new();
    let mut tag = 0u64;
    for cycle in 0..3 {
        // States the database may recover to: every prefix since `durable` (None mode), or
        // exactly the acknowledged state (Sync mode), or that plus the one failed step.
        let mut history = vec![model.clone()];
        let mut durable = 0usize;
        let mut uncertain: Option<Model> = None;
        if rng.chance(0.5) {
            let op = FAULT_SITES[rng.below(3) as usize];
            fs.fail_nth_op(op, 1 + rng.below(12));
        }
        for _ in 0..20 + rng.below(150) {
            tag += 1;
            let step = random_step(&mut rng, tag);
            match apply_db(&db, &step) {
                Ok(()) => {
                    apply_model(&mut model, &step);
                    if is_write(&step) {
                        history.push(model.clone());
                    }
                    if matches!(step, Step::SyncWal) {
                        durable = history.len() - 1;
                    }
                }
                Err(e) => {
                    assert!(
                        matches!(
                            e,
                            ppdb_core::Error::Poisoned | ppdb_core::Error::Platform(_)
                        ),
                        "seed {seed}: unexpected error {e}"
                    );
                    let mut m = model.clone();
                    apply_model(&mut m, &step);
                    uncertain = Some(m);
                    break;
                }
            }
        }
        drop(db);
        fs.crash();
        fs.heal();
        // Sometimes crash during recovery as well.
        if rng.chance(0.3) {
            let op = FAULT_SITES[rng.below(4) as usize];
            fs.fail_nth_op(op, 1 + rng.below(4));
            if let Ok((d, _)) = open(&platform, seed, durability) {
                drop(d);
            }
            fs.crash();
            fs.heal();
        }
        let (reopened, info) = open(&platform, seed, durability)
            .unwrap_or_else(|e| panic!("seed {seed} cycle {cycle}: reopen failed: {e}"));
        let got = read_all(&reopened);
        let ok = match durability {
            Durability::Sync => got == model || uncertain.as_ref() == Some(&got),
            _ => history[durable..].contains(&got) || uncertain.as_ref() == Some(&got),
        };
        assert!(
            ok,
            "seed {seed} cycle {cycle}: recovered state is not an acknowledged one \
             ({} keys recovered, {} acknowledged; recovery {info:?})",
            got.len(),
            model.len()
        );
        model = got;
        db = reopened;
    }
    db.stats().disk.tables
}

#[test]
fn crashes_lose_no_acknowledged_write() {
    let mut tables = 0;
    for seed in seeds("PPDB_DISK_SIM_SEEDS", 300) {
        tables += run(seed);
    }
    assert!(tables > 0, "the workload never reopened onto tables");
}

const CRASH_POINT_SEED: u64 = 7;

fn crash_point_workload() -> Vec<Step> {
    let mut rng = SplitMix64::new(CRASH_POINT_SEED);
    (0..160).map(|i| random_step(&mut rng, i)).collect()
}

/// Runs the fixed workload on a disk that crashes right after the `n`-th successful `op`
/// (never for `n = 0`), reopens and checks the recovered state. Returns how many `op`s ran.
fn run_crash_point(op: Op, n: u64) -> u64 {
    let sim = SimPlatform::new(CRASH_POINT_SEED + n);
    sim.fs.set_crash_keep_probability(0.5);
    let platform = CrashPlatform::new(&sim, op, n);
    let mut model = Model::new();
    let mut uncertain = None;
    if let Ok((db, _)) = open(&platform, CRASH_POINT_SEED, Durability::Sync) {
        for step in crash_point_workload() {
            if apply_db(&db, &step).is_ok() {
                apply_model(&mut model, &step);
            } else {
                let mut m = model.clone();
                apply_model(&mut m, &step);
                uncertain = Some(m);
                break;
            }
        }
        if n == 0 {
            let disk = db.stats().disk;
            assert!(
                disk.flushes > 2 && disk.segments_deleted > 0,
                "the workload should flush and clean the log: {disk:?}"
            );
        }
    }
    let ops = sim.fs.counters().ops(op);
    if !platform.crashed() {
        sim.fs.crash();
    }
    let (db, info) = open(&sim, CRASH_POINT_SEED, Durability::Sync)
        .unwrap_or_else(|e| panic!("{op:?} #{n}: reopen failed: {e}"));
    let got = read_all(&db);
    assert!(
        got == model || uncertain.as_ref() == Some(&got),
        "{op:?} #{n}: recovered state is not an acknowledged one ({} keys recovered, {} \
         acknowledged; recovery {info:?})",
        got.len(),
        model.len()
    );
    ops
}

#[test]
fn crash_right_after_each_sync_rename_and_dir_sync() {
    for op in [Op::Rename, Op::SyncDir, Op::SyncData] {
        let total = run_crash_point(op, 0);
        assert!(total > 0, "{op:?} never ran");
        for n in 1..=total {
            run_crash_point(op, n);
        }
    }
}
