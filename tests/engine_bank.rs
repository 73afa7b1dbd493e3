//! Concurrency stress: bank transfers under serializable transactions keep the total constant,
//! and concurrent snapshot readers always see the constant total (never half a transfer).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use ppdb_core::{Config, Engine, Isolation, WriteBatch};
use rand::{Rng, SeedableRng};

const ACCOUNTS: u32 = 16;
const INITIAL: u64 = 1_000;

fn account(i: u32) -> Vec<u8> {
    format!("acct{i:03}").into_bytes()
}

fn balance(v: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(v);
    u64::from_le_bytes(b)
}

#[test]
fn concurrent_transfers_keep_the_total() {
    // Small memtables so that rotations and merges run during the test.
    let cfg = Config {
        memtable_bytes_max: 16 << 10,
        arena_block_bytes: 4 << 10,
        ..Config::default()
    };
    let engine = Arc::new(Engine::new(cfg).unwrap());
    let mut init = WriteBatch::new();
    for i in 0..ACCOUNTS {
        init.put(&account(i), &INITIAL.to_le_bytes());
    }
    engine.write(&init, 0).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for t in 0..4u64 {
        let (engine, committed) = (engine.clone(), committed.clone());
        handles.push(thread::spawn(move || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(t);
            for _ in 0..4_000 {
                let from = account(rng.gen_range(0..ACCOUNTS));
                let to = account(rng.gen_range(0..ACCOUNTS));
                let amount = rng.gen_range(1..50u64);
                engine
                    .transaction(Isolation::Serializable, 0, |txn| {
                        let a = balance(&txn.get(&from)?.expect("account exists").value);
                        let b = balance(&txn.get(&to)?.expect("account exists").value);
                        if from == to || a < amount {
                            return Ok(());
                        }
                        txn.put(&from, &(a - amount).to_le_bytes())?;
                        txn.put(&to, &(b + amount).to_le_bytes())?;
                        Ok(())
                    })
                    .expect("transactions retry until they commit");
                committed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..2 {
        let (engine, stop) = (engine.clone(), stop.clone());
        readers.push(thread::spawn(move || {
            let mut checks = 0u64;
            while !stop.load(Ordering::Relaxed) || checks == 0 {
                let snap = engine.snapshot();
                let items = engine.scan_at(&snap, .., usize::MAX, 0);
                assert_eq!(items.len(), ACCOUNTS as usize);
                let total: u64 = items.iter().map(|(_, i)| balance(&i.value)).sum();
                assert_eq!(
                    total,
                    INITIAL * u64::from(ACCOUNTS),
                    "a reader saw half a transfer"
                );
                checks += 1;
            }
            checks
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    let total: u64 = engine.scan(.., 0).map(|(_, i)| balance(&i.value)).sum();
    assert_eq!(total, INITIAL * u64::from(ACCOUNTS));
    assert_eq!(committed.load(Ordering::Relaxed), 16_000);
    let st = engine.stats();
    assert!(
        st.rotations > 0 && st.merges > 0,
        "the test must cover merges: {st:?}"
    );
}
