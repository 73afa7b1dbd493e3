//! The whole database in disk mode on the simulated disk, against a `BTreeMap` model: random
//! puts, deletes, batches, transactions, `flush_all` and rotations; crashes at random points
//! and right at sync, directory-sync and rename call sites (the operation fails, then the
//! disk crashes), also during recovery itself. After each reopen every acknowledged write is
//! present, nothing never written appears, and transactions are all or nothing.
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
use ppdb_tests::disk_model::{
    apply_db, apply_model, is_write, open, random_step, read_all, seeds, Model, Step,
};

const FAULT_SITES: [Op; 4] = [Op::SyncData, Op::SyncDir, Op::Rename, Op::Write];

fn run(seed: u64) {
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
}

#[test]
fn crashes_lose_no_acknowledged_write() {
    for seed in seeds("PPDB_DISK_SIM_SEEDS", 300) {
        run(seed);
    }
}
