//! Large values (kept in blobs) stay whole while writers overwrite them, readers read them in
//! place and a maintenance thread merges them: merges lend the blobs they carry to the new run
//! and settle the loan afterwards, either with the old sources held by nobody (they disown the
//! blobs) or with readers still in them (they count the blobs). A blob freed too early would be
//! reused by a later value and show up here as a value that does not match its own header.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use ppdb_core::{Config, Engine, WriteBatch};

const KEYS: u64 = 64;
const WRITES_PER_WRITER: u64 = 6_000;

fn key(k: u64) -> Vec<u8> {
    format!("large-{k:04}").into_bytes()
}

/// A value of 600 to 3 000 bytes that names its key and round and whose bytes follow from them.
fn value(k: u64, round: u64) -> Vec<u8> {
    let len = 600 + ((k * 131 + round * 17) % 2400) as usize;
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&k.to_le_bytes());
    v.extend_from_slice(&round.to_le_bytes());
    v.extend((16..len).map(|i| (k as usize * 31 + round as usize * 7 + i) as u8));
    v
}

/// Checks that `v` is exactly what [`value`] made for key `k`; returns its round.
fn check(k: u64, v: &[u8]) -> u64 {
    assert!(
        v.len() >= 16,
        "value of key {k} too short: {} bytes",
        v.len()
    );
    let owner = u64::from_le_bytes(v[..8].try_into().expect("8 bytes"));
    let round = u64::from_le_bytes(v[8..16].try_into().expect("8 bytes"));
    assert_eq!(owner, k, "key {k} holds a value of key {owner}");
    assert!(
        v == value(k, round),
        "value of key {k}, round {round}, corrupt"
    );
    round
}

#[test]
fn large_values_stay_whole_under_concurrent_merges_and_reads() {
    let engine = Arc::new(
        Engine::new(Config {
            memtable_bytes_max: 64 << 10,
            arena_block_bytes: 16 << 10,
            merge_inline: false,
            ..Config::default()
        })
        .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let maintenance = {
        let (engine, stop) = (engine.clone(), stop.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                engine.maintain(0);
                thread::yield_now();
            }
        })
    };
    let readers: Vec<_> = (0..2u64)
        .map(|r| {
            let (engine, stop, reads) = (engine.clone(), stop.clone(), reads.clone());
            thread::spawn(move || {
                let mut k = r;
                while !stop.load(Ordering::Relaxed) {
                    k = (k * 7 + 3) % KEYS;
                    engine.get_with(&key(k), 0, |v| v.map(|v| check(k, v.value)));
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let engine = engine.clone();
            thread::spawn(move || {
                for i in 0..WRITES_PER_WRITER {
                    // Each writer owns half the keys, so rounds only grow per key.
                    let k = (i * 13) % (KEYS / 2) * 2 + w;
                    let mut b = WriteBatch::new();
                    b.put(&key(k), &value(k, i + 1));
                    engine.write(&b, 0).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    maintenance.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    engine.rotate(0);
    engine.maintain(0);
    for k in 0..KEYS {
        let item = engine.get(&key(k), 0).expect("every key was written");
        check(k, &item.value);
    }
    let stats = engine.stats();
    eprintln!(
        "merges {}, loans counted because inputs were still read {}, reads {}",
        stats.merges,
        stats.merge_loans_shared,
        reads.load(Ordering::Relaxed)
    );
    assert!(
        stats.merges > 20,
        "too few merges to exercise them: {stats:?}"
    );
}
