//! Unit tests of the engine: visibility, snapshots, transactions, rotation and merges.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::AtomicUsize;

use super::batch::PutOptions;
use super::*;

fn small() -> Config {
    Config {
        memtable_bytes_max: 4096,
        arena_block_bytes: 1024,
        ..Config::default()
    }
}

fn put(e: &Engine, k: &[u8], v: &[u8]) -> u64 {
    let mut b = WriteBatch::new();
    b.put(k, v);
    e.write(&b, 0).unwrap()
}

fn del(e: &Engine, k: &[u8]) -> u64 {
    let mut b = WriteBatch::new();
    b.delete(k);
    e.write(&b, 0).unwrap()
}

fn value(e: &Engine, k: &[u8]) -> Option<Vec<u8>> {
    e.get(k, 0).map(|i| i.value)
}

#[test]
fn put_get_delete_and_versions() {
    let e = Engine::new(Config::default()).unwrap();
    assert_eq!(put(&e, b"a", b"1"), 1);
    assert_eq!(put(&e, b"a", b"2"), 2);
    assert_eq!(
        e.get(b"a", 0).unwrap(),
        Item {
            value: b"2".to_vec(),
            flags: 0,
            expire_at: 0,
            seq: 2,
            cas: 2,
            tags: 0,
        }
    );
    assert_eq!(del(&e, b"a"), 3);
    assert_eq!(value(&e, b"a"), None);
    assert_eq!(e.seq_visible(), 3);
    let mut empty = WriteBatch::new();
    assert_eq!(e.write(&empty, 0).unwrap(), 3);
    empty.put(b"", b"x");
    assert!(matches!(
        e.write(&empty, 0),
        Err(Error::InvalidKey { len: 0, .. })
    ));
}

#[test]
fn limits_are_typed_errors() {
    let cfg = Config {
        key_bytes_max: 4,
        value_bytes_max: 8,
        batch_ops_max: 2,
        ..Config::default()
    };
    let e = Engine::new(cfg).unwrap();
    let mut b = WriteBatch::new();
    b.put(b"toolong", b"v");
    assert_eq!(e.write(&b, 0), Err(Error::InvalidKey { len: 7, max: 4 }));
    let mut b = WriteBatch::new();
    b.put(b"k", b"123456789");
    assert_eq!(e.write(&b, 0), Err(Error::ValueTooLarge { len: 9, max: 8 }));
    let mut b = WriteBatch::new();
    b.put(b"a", b"").put(b"b", b"").put(b"c", b"");
    assert_eq!(e.write(&b, 0), Err(Error::BatchTooLarge { ops: 3, max: 2 }));
    assert!(Engine::new(Config {
        memtable_bytes_max: 10,
        ..Config::default()
    })
    .is_err());
}

#[test]
fn expiry_hides_items_at_now() {
    let e = Engine::new(Config::default()).unwrap();
    let mut b = WriteBatch::new();
    b.put_with(
        b"k",
        b"v",
        PutOptions {
            flags: 7,
            expire_at: 100,
            ..PutOptions::default()
        },
    );
    e.write(&b, 50).unwrap();
    assert_eq!(e.get(b"k", 99).unwrap().flags, 7);
    assert!(e.get(b"k", 100).is_none());
    assert!(e.scan(.., 100).next().is_none());
    assert_eq!(e.scan(.., 99).count(), 1);
}

#[test]
fn snapshots_see_the_past() {
    let e = Engine::new(Config::default()).unwrap();
    put(&e, b"k", b"old");
    let s = e.snapshot();
    put(&e, b"k", b"new");
    del(&e, b"gone");
    assert_eq!(e.get_at(&s, b"k", 0).unwrap().value, b"old");
    assert_eq!(value(&e, b"k").unwrap(), b"new");
    assert_eq!(e.stats().snapshots_live, 1);
    drop(s);
    assert_eq!(e.stats().snapshots_live, 0);
}

#[test]
fn scans_respect_bounds_tombstones_and_snapshots() {
    let e = Engine::new(small()).unwrap();
    for k in [b"a", b"b", b"c", b"d", b"e"] {
        put(&e, k, k);
    }
    del(&e, b"c");
    let s = e.snapshot();
    put(&e, b"b", b"B");
    let keys = |items: Vec<(Vec<u8>, Item)>| items.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(
        keys(e.scan_at(&s, .., 10, 0)),
        vec![b"a".to_vec(), b"b".to_vec(), b"d".to_vec(), b"e".to_vec()]
    );
    assert_eq!(
        keys(e.scan_at(&s, &b"b"[..]..&b"e"[..], 10, 0)),
        vec![b"b".to_vec(), b"d".to_vec()]
    );
    assert_eq!(
        keys(e.scan_at(&s, &b"b"[..]..=&b"e"[..], 2, 0)),
        vec![b"b".to_vec(), b"d".to_vec()]
    );
    let after_b = (Bound::Excluded(&b"b"[..]), Bound::Unbounded);
    assert_eq!(
        keys(e.scan_at(&s, after_b, 10, 0)),
        vec![b"d".to_vec(), b"e".to_vec()]
    );
    let latest: Vec<_> = e.scan(.., 0).collect();
    assert_eq!(latest[1].1.value, b"B");
    assert_eq!(latest.len(), 4);
}

#[test]
fn scan_iterator_crosses_chunks() {
    let e = Engine::new(small()).unwrap();
    for i in 0..1000u32 {
        put(&e, &i.to_be_bytes(), b"v");
    }
    let keys: Vec<Vec<u8>> = e.scan(.., 0).map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 1000);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn snapshot_isolation_detects_write_write_conflicts() {
    let e = Engine::new(Config::default()).unwrap();
    put(&e, b"x", b"0");
    let mut t1 = e.begin(Isolation::Snapshot, 0);
    let mut t2 = e.begin(Isolation::Snapshot, 0);
    t1.put(b"x", b"1").unwrap();
    t2.put(b"x", b"2").unwrap();
    assert!(t1.commit().is_ok());
    assert_eq!(t2.commit(), Err(Error::Conflict));
    assert_eq!(value(&e, b"x").unwrap(), b"1");
    assert_eq!(e.stats().conflicts, 1);
}

#[test]
fn serializable_prevents_write_skew_that_snapshot_allows() {
    for (iso, both_commit) in [
        (Isolation::Snapshot, true),
        (Isolation::Serializable, false),
    ] {
        let e = Engine::new(Config::default()).unwrap();
        put(&e, b"a", b"1");
        put(&e, b"b", b"1");
        let mut t1 = e.begin(iso, 0);
        let mut t2 = e.begin(iso, 0);
        assert!(t1.get(b"a").unwrap().is_some());
        assert!(t2.get(b"b").unwrap().is_some());
        t1.delete(b"b").unwrap();
        t2.delete(b"a").unwrap();
        let r1 = t1.commit();
        let r2 = t2.commit();
        assert!(r1.is_ok());
        assert_eq!(r2.is_ok(), both_commit, "{iso:?}");
    }
}

#[test]
fn serializable_scans_detect_phantoms() {
    let e = Engine::new(Config::default()).unwrap();
    put(&e, b"k1", b"1");
    let mut t = e.begin(Isolation::Serializable, 0);
    assert_eq!(t.scan(&b"k"[..]..&b"l"[..], 10).unwrap().len(), 1);
    t.put(b"count", b"1").unwrap();
    put(&e, b"k2", b"2");
    assert_eq!(t.commit(), Err(Error::Conflict));
}

#[test]
fn transactions_read_their_own_writes() {
    let e = Engine::new(Config::default()).unwrap();
    put(&e, b"a", b"1");
    put(&e, b"c", b"3");
    let mut t = e.begin(Isolation::Serializable, 0);
    t.put(b"b", b"2").unwrap();
    t.delete(b"c").unwrap();
    assert_eq!(t.get(b"b").unwrap().unwrap().value, b"2");
    assert!(t.get(b"c").unwrap().is_none());
    let keys: Vec<Vec<u8>> = t
        .scan(.., 10)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec()]);
    assert!(
        value(&e, b"b").is_none(),
        "uncommitted writes are invisible"
    );
    let seq = t.commit().unwrap();
    assert_eq!(seq, e.seq_visible());
    assert_eq!(value(&e, b"b").unwrap(), b"2");
    assert!(value(&e, b"c").is_none());
}

#[test]
fn transaction_helper_retries_conflicts() {
    let e = Engine::new(Config::default()).unwrap();
    put(&e, b"n", b"0");
    let mut attempts = 0;
    let out = e.transaction(Isolation::Serializable, 0, |t| {
        attempts += 1;
        let n = t.get(b"n")?.map(|i| i.value).unwrap_or_default();
        if attempts == 1 {
            put(&e, b"n", b"interloper");
        }
        t.put(b"n", &[n.as_slice(), b"+"].concat())?;
        Ok(attempts)
    });
    assert_eq!(out, Ok(2));
    assert_eq!(value(&e, b"n").unwrap(), b"interloper+");
}

#[test]
fn compare_and_swap_and_update() {
    let e = Engine::new(Config::default()).unwrap();
    let s1 = e.compare_and_swap(b"k", None, Some(b"a"), 0).unwrap();
    assert_eq!(
        e.compare_and_swap(b"k", None, Some(b"b"), 0),
        Err(Error::Conflict)
    );
    assert_eq!(
        e.compare_and_swap(b"k", Some(s1 + 1), Some(b"b"), 0),
        Err(Error::Conflict)
    );
    let s2 = e.compare_and_swap(b"k", Some(s1), Some(b"b"), 0).unwrap();
    assert!(s2 > s1);
    e.compare_and_swap(b"k", Some(s2), None, 0).unwrap();
    assert!(value(&e, b"k").is_none());
    let (len, seq) = e
        .update(b"k", 0, |cur| {
            assert!(cur.is_none());
            (
                Some(BatchOp::put(b"k", b"xyz", PutOptions::default())),
                3usize,
            )
        })
        .unwrap();
    assert_eq!((len, seq), (3, Some(e.seq_visible())));
    let (_, seq) = e.update(b"k", 0, |_| (None, ())).unwrap();
    assert_eq!(seq, None);
}

#[test]
fn rotation_merges_and_keeps_what_snapshots_need() {
    let e = Engine::new(small()).unwrap();
    put(&e, b"pinned", b"v1");
    let s = e.snapshot();
    for i in 0..2000u32 {
        put(&e, b"pinned", &i.to_le_bytes());
        put(&e, &(i % 10).to_be_bytes(), &i.to_le_bytes());
    }
    let st = e.stats();
    assert!(st.rotations > 5 && st.merges > 0, "{st:?}");
    assert_eq!(e.get_at(&s, b"pinned", 0).unwrap().value, b"v1");
    assert_eq!(value(&e, b"pinned").unwrap(), 1999u32.to_le_bytes());
    drop(s);
    e.rotate(0);
    let st = e.stats();
    assert_eq!(st.frozen_memtables, 0);
    assert_eq!(
        st.run_versions, 11,
        "one version per key once no snapshot pins more: {st:?}"
    );
}

#[test]
fn merges_drop_tombstones_and_expired_items() {
    let e = Engine::new(small()).unwrap();
    put(&e, b"a", b"1");
    del(&e, b"a");
    let mut b = WriteBatch::new();
    b.put_with(
        b"t",
        b"v",
        PutOptions {
            flags: 0,
            expire_at: 10,
            ..PutOptions::default()
        },
    );
    e.write(&b, 0).unwrap();
    put(&e, b"z", b"live");
    e.rotate(20);
    let st = e.stats();
    assert_eq!(st.run_versions, 1, "{st:?}");
    assert_eq!(value(&e, b"z").unwrap(), b"live");
}

#[test]
fn manual_maintain_without_inline_merge() {
    let e = Engine::new(Config {
        merge_inline: false,
        ..small()
    })
    .unwrap();
    for i in 0..500u32 {
        put(&e, b"k", &i.to_le_bytes());
    }
    assert!(e.stats().frozen_memtables > 0);
    let m = e.maintain(0);
    assert!(m.versions_in > m.versions_out);
    assert_eq!(e.stats().frozen_memtables, 0);
    assert_eq!(value(&e, b"k").unwrap(), 499u32.to_le_bytes());
}

static PAUSES: AtomicUsize = AtomicUsize::new(0);

fn count_pause() {
    PAUSES.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn a_merge_calls_the_pause_hook_every_thousand_keys_or_so() {
    let e = Engine::new(Config {
        merge_inline: false,
        memtable_bytes_max: 1 << 20,
        pause: Some(count_pause),
        ..small()
    })
    .unwrap();
    for i in 0..5000u32 {
        put(&e, &i.to_be_bytes(), b"v");
    }
    e.rotate(0);
    assert_eq!(PAUSES.load(Ordering::Relaxed), 0, "writes do not pause");
    let m = e.maintain(0);
    assert_eq!(m.versions_out, 5000);
    // 5000 keys gathered, then 5000 written to the run: one pause per 1024.
    assert_eq!(PAUSES.load(Ordering::Relaxed), 10_000 / merge::PAUSE_KEYS);
    for i in (0..5000u32).step_by(499) {
        assert_eq!(value(&e, &i.to_be_bytes()).unwrap(), b"v");
    }
}

#[test]
fn flush_all_hides_everything_before_it_but_not_from_older_snapshots() {
    let e = Engine::new(small()).unwrap();
    put(&e, b"a", b"1");
    put(&e, b"b", b"2");
    let before = e.snapshot();
    let marker = e.flush_all(0);
    assert_eq!(marker, 3);
    assert!(value(&e, b"a").is_none());
    assert_eq!(e.scan(.., 0).count(), 0);
    assert_eq!(e.get_at(&before, b"a", 0).unwrap().value, b"1");
    put(&e, b"a", b"new");
    assert_eq!(value(&e, b"a").unwrap(), b"new");
    // A transaction from before the flush that writes conflicts with it.
    let mut t = e.begin(Isolation::Snapshot, 0);
    drop(before);
    e.flush_all(0);
    t.put(b"z", b"1").unwrap();
    assert_eq!(t.commit(), Err(Error::Conflict));
    // Once no snapshot predates the second flush, a merge drops everything it hides.
    put(&e, b"x", b"after");
    e.rotate(0);
    let st = e.stats();
    assert_eq!((st.run_versions, st.flushes), (1, 2), "{st:?}");
    assert!(value(&e, b"a").is_none());
}

#[test]
fn memory_limit_evicts_the_coldest_keys() {
    let cfg = Config {
        memtable_bytes_max: 16 << 10,
        arena_block_bytes: 4 << 10,
        memory_bytes_max: 256 << 10,
        ..Config::default()
    };
    let e = Engine::new(cfg).unwrap();
    let value = [1u8; 200];
    // A hot set read between every batch of cold writes.
    for k in 0..50u32 {
        put(&e, format!("hot{k}").as_bytes(), &value);
    }
    for i in 0..20_000u32 {
        put(&e, format!("cold{i}").as_bytes(), &value);
        if i % 100 == 0 {
            for k in 0..50u32 {
                assert!(
                    e.get(format!("hot{k}").as_bytes(), 0).is_some(),
                    "hot{k} evicted"
                );
            }
        }
        assert!(e.memory_bytes() <= 256 << 10, "{:?}", e.stats());
    }
    let st = e.stats();
    assert!(st.evictions > 10_000, "{st:?}");
    assert!(
        e.get(b"cold19999", 0).is_some(),
        "the newest write is there"
    );
    assert!(
        e.get(b"cold0", 0).is_none(),
        "the oldest unread write is gone"
    );
}

#[test]
fn memory_limit_without_eviction_refuses_writes() {
    let cfg = Config {
        memtable_bytes_max: 16 << 10,
        arena_block_bytes: 4 << 10,
        memory_bytes_max: 128 << 10,
        evict: false,
        ..Config::default()
    };
    let e = Engine::new(cfg).unwrap();
    let value = [1u8; 200];
    let mut stored = 0u32;
    let err = loop {
        let mut b = WriteBatch::new();
        b.put(format!("k{stored}").as_bytes(), &value);
        match e.write(&b, 0) {
            Ok(_) => stored += 1,
            Err(err) => break err,
        }
        assert!(stored < 10_000, "the limit is never reached");
    };
    assert_eq!(
        err,
        Error::OutOfMemory {
            limit_bytes: 128 << 10
        }
    );
    assert!(e.memory_bytes() <= 128 << 10);
    // Everything acknowledged is still there; overwrites that free memory still work after
    // deletes make room.
    for k in 0..stored {
        assert!(e.get(format!("k{k}").as_bytes(), 0).is_some());
    }
    for k in 0..stored / 2 {
        del(&e, format!("k{k}").as_bytes());
    }
    put(&e, b"after", &value);
    assert_eq!(e.stats().evictions, 0);
    assert!(e.stats().writes_refused >= 1);
}

#[test]
fn metadata_only_writes_keep_the_cas_unique() {
    let e = Engine::new(Config::default()).unwrap();
    put(&e, b"k", b"v");
    let before = e.get(b"k", 0).unwrap();
    // A touch: same value, new expiry, the old CAS kept, and a tag set.
    let (_, seq) = e
        .update(b"k", 0, |cur| {
            let cur = cur.expect("present");
            let options = PutOptions {
                expire_at: 500,
                cas_origin: cur.cas(),
                tags: 3,
                ..cur.options()
            };
            (Some(BatchOp::put(b"k", cur.value, options)), ())
        })
        .unwrap();
    let after = e.get(b"k", 0).unwrap();
    assert!(seq.unwrap() > before.seq);
    assert_eq!(
        (after.cas, after.expire_at, after.tags),
        (before.cas, 500, 3)
    );
    // It survives a merge.
    e.rotate(0);
    let merged = e.get(b"k", 0).unwrap();
    assert_eq!(
        (merged.cas, merged.tags, merged.seq),
        (before.cas, 3, after.seq)
    );
}

#[test]
fn lookups_tell_why_a_key_is_missing() {
    let e = Engine::new(Config {
        merge_inline: false,
        ..small()
    })
    .unwrap();
    let mut b = WriteBatch::new();
    b.put_with(
        b"exp",
        b"v",
        PutOptions {
            expire_at: 10,
            ..PutOptions::default()
        },
    );
    b.put(b"flushed", b"v");
    e.write(&b, 0).unwrap();
    let reason = |k: &[u8], now| {
        e.lookup_with(k, now, |l| match l {
            Lookup::Live(_) => "live",
            Lookup::Expired => "expired",
            Lookup::Flushed => "flushed",
            Lookup::Missing => "missing",
        })
    };
    assert_eq!(reason(b"exp", 20), "expired");
    assert_eq!(reason(b"exp", 5), "live");
    e.flush_all(0);
    assert_eq!(reason(b"flushed", 0), "flushed");
    assert_eq!(reason(b"absent", 0), "missing");
    e.maintain(0);
    assert_eq!(reason(b"flushed", 0), "missing");
}

/// Large values carried from run to run by merges: with the older runs held by nobody the
/// merges disown them there, with a reader holding the sources the merge counts them instead
/// (`merge_loans_shared`); either way every value reads back whole, and (under Miri) each blob
/// is freed exactly once.
#[test]
fn merges_lend_large_values_and_settle_whether_or_not_readers_hold_the_runs() {
    let e = Engine::new(Config {
        merge_inline: false,
        run_merge_ratio: 4,
        ..small()
    })
    .unwrap();
    let large = |k: u32, round: u32| -> Vec<u8> {
        (0..crate::memtable::BLOB_BYTES_MIN as u32 + k)
            .map(|i| (i ^ k ^ round) as u8)
            .collect()
    };
    let keys = 6u32;
    let mut model = alloc::collections::BTreeMap::new();
    for round in 0..6u32 {
        // Half the keys are rewritten each round, so runs carry the others along.
        for k in (0..keys).filter(|k| round == 0 || k % 2 == round % 2) {
            let key = format!("key{k}").into_bytes();
            put(&e, &key, &large(k, round));
            model.insert(key, large(k, round));
        }
        e.rotate(0);
        let held = (round % 2 == 1).then(|| e.tables());
        let shared_before = e.stats().merge_loans_shared;
        e.maintain(0);
        let runs_merged_held = held.as_ref().is_some_and(|t| !t.runs.is_empty());
        let shared = e.stats().merge_loans_shared - shared_before;
        // Only a reader holding the input runs makes a merge count its loans.
        assert_eq!(shared > 0, runs_merged_held, "round {round}");
        drop(held);
        for (key, v) in &model {
            assert_eq!(value(&e, key).as_ref(), Some(v), "round {round}");
        }
    }
    assert!(e.stats().merges >= 6);
    assert!(e.stats().merge_loans_shared > 0);
}
