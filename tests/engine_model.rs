//! Model test: the engine against a `BTreeMap` of versions, under random sequences of puts,
//! deletes, expiring puts, reads, scans, snapshots, transactions (with injected conflicting
//! writes), rotations and time advancing. Proptest shrinks a failure to a minimal sequence and
//! records its seed in `proptest-regressions/`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is a test failure"
)]

use std::collections::BTreeMap;

use ppdb_core::{
    BatchOp, Config, Engine, Error, Isolation, Item, PutOptions, Snapshot, WriteBatch,
};
use proptest::prelude::*;

const KEYS: u8 = 12;

#[derive(Debug, Clone)]
enum TxnOp {
    Get(u8),
    Put(u8, u8),
    Delete(u8),
    Scan(u8, u8),
}

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u8),
    PutExpiring(u8, u8, u8),
    Delete(u8),
    Batch(Vec<(u8, Option<u8>)>),
    Get(u8),
    Scan(u8, u8),
    TakeSnapshot,
    DropSnapshot(usize),
    ReadSnapshot(usize, u8),
    ScanSnapshot(usize),
    Txn {
        serializable: bool,
        ops: Vec<TxnOp>,
        interfere: Option<u8>,
    },
    Cas(u8, bool, u8),
    Rotate,
    FlushAll,
    Advance(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0..KEYS;
    prop_oneof![
        6 => (k.clone(), any::<u8>()).prop_map(|(k, v)| Op::Put(k, v)),
        2 => (k.clone(), any::<u8>(), 1..5u8).prop_map(|(k, v, t)| Op::PutExpiring(k, v, t)),
        3 => k.clone().prop_map(Op::Delete),
        2 => prop::collection::vec((k.clone(), prop::option::of(any::<u8>())), 0..5).prop_map(Op::Batch),
        4 => k.clone().prop_map(Op::Get),
        2 => (k.clone(), k.clone()).prop_map(|(a, b)| Op::Scan(a.min(b), a.max(b))),
        2 => Just(Op::TakeSnapshot),
        1 => (0..4usize).prop_map(Op::DropSnapshot),
        3 => (0..4usize, k.clone()).prop_map(|(s, k)| Op::ReadSnapshot(s, k)),
        1 => (0..4usize).prop_map(Op::ScanSnapshot),
        3 => (any::<bool>(), prop::collection::vec(txn_op(), 0..6), prop::option::of(k.clone()))
            .prop_map(|(serializable, ops, interfere)| Op::Txn { serializable, ops, interfere }),
        2 => (k.clone(), any::<bool>(), any::<u8>()).prop_map(|(k, right, v)| Op::Cas(k, right, v)),
        1 => Just(Op::Rotate),
        1 => Just(Op::FlushAll),
        1 => (1..4u8).prop_map(Op::Advance),
    ]
}

fn txn_op() -> impl Strategy<Value = TxnOp> {
    let k = 0..KEYS;
    prop_oneof![
        k.clone().prop_map(TxnOp::Get),
        (k.clone(), any::<u8>()).prop_map(|(k, v)| TxnOp::Put(k, v)),
        k.clone().prop_map(TxnOp::Delete),
        (k.clone(), k).prop_map(|(a, b)| TxnOp::Scan(a.min(b), a.max(b))),
    ]
}

/// The value written for `v`: one byte, or (for a quarter of them) a value long enough that
/// runs keep it out of line in a shared blob.
fn value(v: u8) -> Vec<u8> {
    if v % 4 == 0 {
        vec![v; ppdb_core::memtable::BLOB_BYTES_MIN + usize::from(v)]
    } else {
        vec![v]
    }
}

fn key(k: u8) -> Vec<u8> {
    format!("key{k:02}").into_bytes()
}

/// One version in the model: (seq, value or tombstone, expire_at).
type Version = (u64, Option<Vec<u8>>, u64);

#[derive(Default)]
struct Model {
    versions: BTreeMap<Vec<u8>, Vec<Version>>,
    flushes: Vec<u64>,
    seq: u64,
}

impl Model {
    fn write(&mut self, k: &[u8], v: Option<Vec<u8>>, expire_at: u64) -> u64 {
        self.seq += 1;
        self.versions
            .entry(k.to_vec())
            .or_default()
            .push((self.seq, v, expire_at));
        self.seq
    }

    fn flush(&mut self) -> u64 {
        self.seq += 1;
        self.flushes.push(self.seq);
        self.seq
    }

    fn read(&self, k: &[u8], snap: u64, now: u64) -> Option<(Vec<u8>, u64)> {
        let floor = self
            .flushes
            .iter()
            .copied()
            .filter(|&f| f <= snap)
            .max()
            .unwrap_or(0);
        let (seq, v, exp) = self
            .versions
            .get(k)?
            .iter()
            .rev()
            .find(|(s, _, _)| *s <= snap)?;
        let live = (*exp == 0 || now < *exp) && *seq > floor;
        v.clone().filter(|_| live).map(|v| (v, *seq))
    }

    fn scan(&self, lo: &[u8], hi: &[u8], snap: u64, now: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.versions
            .range(lo.to_vec()..=hi.to_vec())
            .filter_map(|(k, _)| self.read(k, snap, now).map(|(v, _)| (k.clone(), v)))
            .collect()
    }

    fn newest(&self, k: &[u8]) -> u64 {
        self.versions
            .get(k)
            .and_then(|v| v.last())
            .map_or(0, |v| v.0)
    }
}

fn item(i: Option<Item>) -> Option<(Vec<u8>, u64)> {
    i.map(|i| (i.value, i.seq))
}

fn pairs(items: Vec<(Vec<u8>, Item)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    items.into_iter().map(|(k, i)| (k, i.value)).collect()
}

/// Runs `ops` on an engine with small memtables whose runs merge with `run_merge_ratio` and
/// at most `runs_max` runs (0 and small caps keep several runs alive, so partial merges happen).
fn run(ops: Vec<Op>, run_merge_ratio: usize, runs_max: usize) -> Result<(), TestCaseError> {
    let cfg = Config {
        memtable_bytes_max: 4096,
        arena_block_bytes: 1024,
        run_merge_ratio,
        runs_max,
        ..Config::default()
    };
    let engine = Engine::new(cfg).unwrap();
    let mut model = Model::default();
    let mut snaps: Vec<(Snapshot<'_>, u64)> = Vec::new();
    let mut now = 1000u64;
    for op in ops {
        match op {
            Op::Put(k, v) => {
                let mut b = WriteBatch::new();
                b.put(&key(k), &value(v));
                prop_assert_eq!(
                    engine.write(&b, now).unwrap(),
                    model.write(&key(k), Some(value(v)), 0)
                );
            }
            Op::PutExpiring(k, v, ttl) => {
                let exp = now + u64::from(ttl);
                let mut b = WriteBatch::new();
                b.put_with(
                    &key(k),
                    &value(v),
                    PutOptions {
                        flags: 0,
                        expire_at: exp,
                        ..PutOptions::default()
                    },
                );
                prop_assert_eq!(
                    engine.write(&b, now).unwrap(),
                    model.write(&key(k), Some(value(v)), exp)
                );
            }
            Op::Delete(k) => {
                let mut b = WriteBatch::new();
                b.delete(&key(k));
                prop_assert_eq!(
                    engine.write(&b, now).unwrap(),
                    model.write(&key(k), None, 0)
                );
            }
            Op::Batch(ops) => {
                let mut b = WriteBatch::new();
                let mut last = model.seq;
                for (k, v) in ops {
                    match v {
                        Some(v) => b.put(&key(k), &value(v)),
                        None => b.delete(&key(k)),
                    };
                    last = model.write(&key(k), v.map(value), 0);
                }
                prop_assert_eq!(engine.write(&b, now).unwrap(), last);
            }
            Op::Get(k) => {
                prop_assert_eq!(
                    item(engine.get(&key(k), now)),
                    model.read(&key(k), model.seq, now)
                );
            }
            Op::Scan(a, b) => {
                let got = pairs(engine.scan(&key(a)[..]..=&key(b)[..], now).collect());
                prop_assert_eq!(got, model.scan(&key(a), &key(b), model.seq, now));
            }
            Op::TakeSnapshot => {
                if snaps.len() < 4 {
                    let s = engine.snapshot();
                    prop_assert_eq!(s.seq(), model.seq);
                    snaps.push((s, now));
                }
            }
            Op::DropSnapshot(i) => {
                if i < snaps.len() {
                    snaps.remove(i);
                }
            }
            Op::ReadSnapshot(i, k) => {
                if let Some((s, _)) = snaps.get(i) {
                    let got = item(engine.get_at(s, &key(k), now));
                    prop_assert_eq!(got, model.read(&key(k), s.seq(), now));
                }
            }
            Op::ScanSnapshot(i) => {
                if let Some((s, _)) = snaps.get(i) {
                    let got = pairs(engine.scan_at(s, .., usize::MAX, now));
                    prop_assert_eq!(got, model.scan(b"", b"\xff", s.seq(), now));
                }
            }
            Op::Txn {
                serializable,
                ops,
                interfere,
            } => {
                run_txn(&engine, &mut model, now, serializable, ops, interfere)?;
            }
            Op::Cas(k, right, v) => {
                let current = model.read(&key(k), model.seq, now).map(|(_, s)| s);
                let expected = if right {
                    current
                } else {
                    Some(current.unwrap_or(0) + 1000)
                };
                let got = engine.compare_and_swap(&key(k), expected, Some(&value(v)), now);
                if right {
                    prop_assert_eq!(got, Ok(model.write(&key(k), Some(value(v)), 0)));
                } else {
                    prop_assert_eq!(got, Err(Error::Conflict));
                }
            }
            Op::Rotate => engine.rotate(now),
            Op::FlushAll => prop_assert_eq!(engine.flush_all(now), model.flush()),
            Op::Advance(d) => now += u64::from(d),
        }
    }
    // Everything still reads right after a final merge.
    snaps.clear();
    engine.rotate(now);
    let got = pairs(engine.scan(.., now).collect());
    prop_assert_eq!(got, model.scan(b"", b"\xff", model.seq, now));
    Ok(())
}

fn run_txn(
    engine: &Engine,
    model: &mut Model,
    now: u64,
    serializable: bool,
    ops: Vec<TxnOp>,
    interfere: Option<u8>,
) -> Result<(), TestCaseError> {
    let iso = if serializable {
        Isolation::Serializable
    } else {
        Isolation::Snapshot
    };
    let mut txn = engine.begin(iso, now);
    let snap = model.seq;
    let mut writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    let mut reads: Vec<Vec<u8>> = Vec::new();
    let mut scanned: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for op in ops {
        match op {
            TxnOp::Get(k) => {
                let got = txn.get(&key(k)).unwrap().map(|i| i.value);
                let want = match writes.get(&key(k)) {
                    Some(w) => w.clone(),
                    None => {
                        reads.push(key(k));
                        model.read(&key(k), snap, now).map(|(v, _)| v)
                    }
                };
                prop_assert_eq!(got, want);
            }
            TxnOp::Put(k, v) => {
                txn.put(&key(k), &value(v)).unwrap();
                writes.insert(key(k), Some(value(v)));
            }
            TxnOp::Delete(k) => {
                txn.delete(&key(k)).unwrap();
                writes.insert(key(k), None);
            }
            TxnOp::Scan(a, b) => {
                let got = pairs(txn.scan(&key(a)[..]..=&key(b)[..], usize::MAX).unwrap());
                let mut want: BTreeMap<Vec<u8>, Vec<u8>> = model
                    .scan(&key(a), &key(b), snap, now)
                    .into_iter()
                    .collect();
                for (k, w) in writes.range(key(a)..=key(b)) {
                    match w {
                        Some(v) => want.insert(k.clone(), v.clone()),
                        None => want.remove(k),
                    };
                }
                prop_assert_eq!(got, want.into_iter().collect::<Vec<_>>());
                scanned.push((key(a), key(b)));
            }
        }
    }
    if let Some(k) = interfere {
        let mut b = WriteBatch::new();
        b.push(BatchOp::put(&key(k), b"interloper", PutOptions::default()));
        engine.write(&b, now).unwrap();
        model.write(&key(k), Some(b"interloper".to_vec()), 0);
    }
    let newer = |k: &[u8]| model.newest(k) > snap;
    let mut conflict = writes.keys().any(|k| newer(k)) || model.flushes.iter().any(|&f| f > snap);
    if serializable {
        conflict |= reads.iter().any(|k| newer(k));
        conflict |= scanned.iter().any(|(a, b)| {
            model
                .versions
                .range(a.clone()..=b.clone())
                .any(|(_, v)| v.iter().any(|x| x.0 > snap))
        });
    }
    let conflict = conflict && !writes.is_empty();
    let got = txn.commit();
    if conflict {
        prop_assert_eq!(got, Err(Error::Conflict));
    } else {
        let mut last = snap;
        for (k, v) in writes {
            last = model.write(&k, v, 0);
        }
        prop_assert_eq!(got, Ok(last));
    }
    Ok(())
}

/// Cases per run: 256, or `PROPTEST_CASES` (the longer runs of `.ci/extended` set it).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_model(
        ops in prop::collection::vec(op(), 1..200),
        run_merge_ratio in 0..3usize,
        runs_max in 1..5usize,
    ) {
        run(ops, run_merge_ratio, runs_max)?;
    }
}
