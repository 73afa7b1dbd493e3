//! Stress test of the arena skiplist: writers insert disjoint keys, shared keys (many versions
//! of the same key from every writer) and contested duplicates of the same `(key, seq)`, while
//! readers scan forward and backward and seek.
//!
//! Checked while the writers run: every scan is strictly sorted in internal order (key
//! ascending, seq descending); every entry whose insert had returned before a scan started is
//! seen by that scan (entries never disappear); seeks find published entries. Checked after
//! join: the list holds exactly the successful inserts (a `BTreeMap` model), each found by seek
//! and by `get`, and exactly one insert of each contested `(key, seq)` won.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ppdb_core::memtable::skiplist::{DuplicateEntry, Entry, SkipList};

const WRITERS: usize = 4;
const READERS: usize = 2;
const PER_WRITER: usize = 8_000;
const SHARED_KEYS: usize = 64;
const DUP_KEYS: usize = 16;

type Model = BTreeMap<(Vec<u8>, std::cmp::Reverse<u64>), Vec<u8>>;

fn own_key(writer: usize, i: usize) -> Vec<u8> {
    let mut k = b"own".to_vec();
    k.push(writer as u8);
    k.extend_from_slice(&(i as u32).to_be_bytes());
    k
}

fn shared_key(i: usize) -> Vec<u8> {
    let mut k = b"shared".to_vec();
    k.push((i % SHARED_KEYS) as u8);
    k
}

fn shared_seq(writer: usize, i: usize) -> u64 {
    (i * WRITERS + writer) as u64
}

fn dup_key(i: usize) -> Vec<u8> {
    let mut k = b"dup".to_vec();
    k.push((i % DUP_KEYS) as u8);
    k
}

fn value(writer: usize, i: usize, kind: u8) -> [u8; 6] {
    let mut v = [kind, writer as u8, 0, 0, 0, 0];
    v[2..].copy_from_slice(&(i as u32).to_le_bytes());
    v
}

fn internal_lt(a: &Entry<'_>, b: &Entry<'_>) -> bool {
    (a.key, std::cmp::Reverse(a.seq)) < (b.key, std::cmp::Reverse(b.seq))
}

/// What one writer did: its successful contested inserts.
struct WriterLog {
    dup_wins: Vec<(Vec<u8>, u64, [u8; 6])>,
}

fn writer(list: &SkipList, w: usize, done: &AtomicUsize) -> WriterLog {
    let mut dup_wins = Vec::new();
    for i in 0..PER_WRITER {
        list.insert(&own_key(w, i), i as u64, &[&value(w, i, b'o')])
            .expect("own key is new");
        let v = value(w, i, b's');
        list.insert(&shared_key(i), shared_seq(w, i), &[&v[..2], &v[2..]])
            .expect("shared seq is new");
        let (key, seq, v) = (dup_key(i), (i / DUP_KEYS) as u64, value(w, i, b'd'));
        // Every writer tries the same (key, seq): the losers get DuplicateEntry.
        if list.insert(&key, seq, &[&v]) != Err(DuplicateEntry) {
            dup_wins.push((key, seq, v));
        }
        done.store(i + 1, Ordering::Release);
    }
    WriterLog { dup_wins }
}

/// One forward scan: sorted, and contains every own/shared entry published before it started.
fn check_forward_scan(list: &SkipList, published: &[usize; WRITERS]) -> usize {
    let mut seen_own = vec![vec![false; PER_WRITER]; WRITERS];
    let mut seen_shared = vec![vec![false; PER_WRITER]; WRITERS];
    let mut it = list.iter();
    it.seek_to_first();
    let mut prev: Option<Entry<'_>> = None;
    let mut count = 0;
    while let Some(e) = it.entry() {
        if let Some(p) = prev {
            assert!(internal_lt(&p, &e), "scan out of order: {p:?} then {e:?}");
        }
        let (w, i) = (
            e.value[1] as usize,
            u32::from_le_bytes(e.value[2..6].try_into().expect("4 bytes")),
        );
        match e.value[0] {
            b'o' => seen_own[w][i as usize] = true,
            b's' => seen_shared[w][i as usize] = true,
            _ => {}
        }
        prev = Some(e);
        count += 1;
        it.next();
    }
    for w in 0..WRITERS {
        let upto = published[w];
        assert!(
            seen_own[w][..upto].iter().all(|&s| s),
            "an own entry of writer {w} vanished"
        );
        assert!(
            seen_shared[w][..upto].iter().all(|&s| s),
            "a shared entry of {w} vanished"
        );
    }
    count
}

/// A short backward walk from the last entry: strictly decreasing.
fn check_backward_walk(list: &SkipList, steps: usize) {
    let mut it = list.iter();
    it.seek_to_last();
    let mut next: Option<Entry<'_>> = None;
    for _ in 0..steps {
        let Some(e) = it.entry() else { break };
        if let Some(n) = next {
            assert!(
                internal_lt(&e, &n),
                "reverse scan out of order: {e:?} before {n:?}"
            );
        }
        next = Some(e);
        it.prev();
    }
}

fn reader(list: &SkipList, done: &[AtomicUsize; WRITERS], stop: &AtomicBool, r: usize) -> usize {
    let mut passes = 0;
    let mut last_count = 0;
    let mut probe = r;
    loop {
        let finished = stop.load(Ordering::Acquire);
        let published: [usize; WRITERS] = std::array::from_fn(|w| done[w].load(Ordering::Acquire));
        let count = check_forward_scan(list, &published);
        assert!(
            count >= last_count,
            "the list shrank from {last_count} to {count} entries"
        );
        last_count = count;
        check_backward_walk(list, 300);
        // Seeks land on published entries.
        for _ in 0..200 {
            probe = probe
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let w = (probe >> 33) % WRITERS;
            if published[w] == 0 {
                continue;
            }
            let i = (probe >> 40) % published[w];
            let key = own_key(w, i);
            let mut it = list.iter();
            it.seek(&key, u64::MAX);
            let e = it.entry().expect("a published entry is found");
            assert_eq!((e.key, e.seq), (&key[..], i as u64));
            it.seek_for_prev(&key, i as u64);
            if let Some(before) = it.entry() {
                assert!(internal_lt(&before, &e));
            }
        }
        passes += 1;
        if finished {
            return passes;
        }
    }
}

#[test]
fn writers_and_readers_agree() {
    let start = Instant::now();
    let list = SkipList::new(0xc0ffee, 4096);
    let done: [AtomicUsize; WRITERS] = std::array::from_fn(|_| AtomicUsize::new(0));
    let stop = AtomicBool::new(false);
    let (logs, passes) = std::thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                let (list, done, stop) = (&list, &done, &stop);
                s.spawn(move || reader(list, done, stop, r))
            })
            .collect();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (list, done) = (&list, &done[w]);
                s.spawn(move || writer(list, w, done))
            })
            .collect();
        let logs: Vec<WriterLog> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        stop.store(true, Ordering::Release);
        let passes: Vec<usize> = readers.into_iter().map(|h| h.join().unwrap()).collect();
        (logs, passes)
    });
    assert!(passes.iter().all(|&p| p >= 1));

    // The model: every successful insert.
    let mut model = Model::new();
    for w in 0..WRITERS {
        for i in 0..PER_WRITER {
            let own = (
                (own_key(w, i), std::cmp::Reverse(i as u64)),
                value(w, i, b'o').to_vec(),
            );
            assert!(model.insert(own.0, own.1).is_none());
            let shared = (shared_key(i), std::cmp::Reverse(shared_seq(w, i)));
            assert!(model.insert(shared, value(w, i, b's').to_vec()).is_none());
        }
    }
    let mut dup_wins = 0;
    for log in &logs {
        for (key, seq, v) in &log.dup_wins {
            let prior = model.insert((key.clone(), std::cmp::Reverse(*seq)), v.to_vec());
            assert!(
                prior.is_none(),
                "two inserts of the same (key, seq) succeeded"
            );
            dup_wins += 1;
        }
    }
    // Every contested (key, seq) has exactly one winner.
    assert_eq!(dup_wins, PER_WRITER);
    assert_eq!(list.len(), model.len());

    let mut it = list.iter();
    it.seek_to_first();
    for ((key, seq), v) in &model {
        let e = it.entry().expect("the list ends early");
        assert_eq!((e.key, e.seq, e.value), (&key[..], seq.0, &v[..]));
        it.next();
    }
    assert!(!it.valid());
    for ((key, seq), v) in &model {
        let e = list.get(key, seq.0).expect("every entry is found");
        assert_eq!((e.seq, e.value), (seq.0, &v[..]));
    }
    assert!(list.memory_bytes() > model.len() * 24);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "stress test took {:?}",
        start.elapsed()
    );
}
