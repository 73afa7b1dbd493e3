//! The arena skiplist against its peers: `crossbeam_skiplist::SkipMap` and a
//! `std::sync::RwLock<BTreeMap>`, with one and two threads.
//!
//! Every structure holds the same entries: 16-byte random keys at one sequence number each, with
//! 8-byte values. The peers store the internal key encoded as bytes, `key ++ (!seq) big-endian`,
//! whose bytewise order is our internal order (key ascending, seq descending), so all three
//! answer the same question: "the newest version of `key` visible at a snapshot" is a
//! lower-bound search everywhere, without allocating a probe key. The peers take owned `Vec`s;
//! those are built before the clock starts, so only the insertion itself is timed.
//!
//! Groups (each point is one structure at one thread count; two threads split the work):
//! - `skiplist_insert`: insert 1 M entries into an empty structure.
//! - `skiplist_overwrite`: insert 1 M versions of 20 k keys (random key, increasing sequence
//!   numbers), as a memtable under a write-heavy load sees them; ours with and without its key
//!   index (memtables have one).
//! - `skiplist_get`: 1 M lookups of random existing keys in a structure of 1 M entries.
//! - `skiplist_scan`: seek to a random key, then read the next 100 entries (10 k times).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::ops::Bound;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use criterion::{SamplingMode, Throughput};
use crossbeam_skiplist::SkipMap;
use ppdb_core::memtable::rng::Rng;
use ppdb_core::memtable::skiplist::SkipList;

const ENTRIES: usize = 1_000_000;
const SCANS: usize = 10_000;
const SCAN_LEN: usize = 100;
const KEY_BYTES: usize = 16;
const SEQ: u64 = 1;
const ARENA_BLOCK_BYTES: usize = 1 << 20;
const THREADS: [usize; 2] = [1, 2];
const OVERWRITE_KEYS: usize = 20_000;

type Key = [u8; KEY_BYTES];
type Encoded = [u8; KEY_BYTES + 8];
type BTree = RwLock<BTreeMap<Vec<u8>, Vec<u8>>>;

/// `key ++ (!seq) big-endian`: bytewise order = (key ascending, seq descending).
fn encode(key: &Key, seq: u64) -> Encoded {
    let mut out = [0u8; KEY_BYTES + 8];
    out[..KEY_BYTES].copy_from_slice(key);
    out[KEY_BYTES..].copy_from_slice(&(!seq).to_be_bytes());
    out
}

fn random_keys(seed: u64, n: usize) -> Vec<Key> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut k = [0u8; KEY_BYTES];
            k[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
            k[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
            k
        })
        .collect()
}

fn value_of(key: &Key) -> [u8; 8] {
    let mut v = [0u8; 8];
    v.copy_from_slice(&key[..8]);
    v
}

/// Runs `f` over `items` on `threads` threads (the calling thread when 1), each taking an
/// equal contiguous share; returns the wall time.
fn split<T: Sync>(threads: usize, items: &[T], f: impl Fn(&[T]) + Sync) -> Duration {
    let start = Instant::now();
    if threads == 1 {
        f(items);
    } else {
        let share = items.len().div_ceil(threads);
        std::thread::scope(|s| {
            for chunk in items.chunks(share) {
                let f = &f;
                s.spawn(move || f(chunk));
            }
        });
    }
    start.elapsed()
}

/// Like [`split`] for work that consumes owned items.
fn split_owned<T: Send>(threads: usize, mut items: Vec<T>, f: impl Fn(Vec<T>) + Sync) -> Duration {
    let share = items.len().div_ceil(threads);
    let mut parts = Vec::new();
    while items.len() > share {
        parts.push(items.split_off(items.len() - share));
    }
    parts.push(items);
    let start = Instant::now();
    if threads == 1 {
        parts.into_iter().for_each(&f);
    } else {
        std::thread::scope(|s| {
            for part in parts {
                let f = &f;
                s.spawn(move || f(part));
            }
        });
    }
    start.elapsed()
}

fn owned_entries(keys: &[Key]) -> Vec<(Vec<u8>, Vec<u8>)> {
    keys.iter()
        .map(|k| (encode(k, SEQ).to_vec(), value_of(k).to_vec()))
        .collect()
}

fn build_ours(keys: &[Key], threads: usize) -> (SkipList, Duration) {
    let list = SkipList::new(0x5eed, ARENA_BLOCK_BYTES);
    let took = split(threads, keys, |chunk| {
        for k in chunk {
            let inserted = list.insert(k, SEQ, &[&value_of(k)]);
            assert!(inserted.is_ok());
        }
    });
    (list, took)
}

fn build_crossbeam(keys: &[Key], threads: usize) -> (SkipMap<Vec<u8>, Vec<u8>>, Duration) {
    let map = SkipMap::new();
    let took = split_owned(threads, owned_entries(keys), |part| {
        for (k, v) in part {
            map.insert(k, v);
        }
    });
    (map, took)
}

fn build_btree(keys: &[Key], threads: usize) -> (BTree, Duration) {
    let map = RwLock::new(BTreeMap::new());
    let took = split_owned(threads, owned_entries(keys), |part| {
        for (k, v) in part {
            map.write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(k, v);
        }
    });
    (map, took)
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
    elements: usize,
) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(elements as u64));
    group
}

fn bench_insert(c: &mut Criterion) {
    let keys = random_keys(1, ENTRIES);
    let mut group = configure(c, "skiplist_insert", ENTRIES);
    for threads in THREADS {
        group.bench_function(BenchmarkId::new("ppdb", threads), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| build_ours(&keys, threads).1).sum())
        });
        group.bench_function(BenchmarkId::new("crossbeam", threads), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| build_crossbeam(&keys, threads).1).sum())
        });
        group.bench_function(BenchmarkId::new("btree_rwlock", threads), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| build_btree(&keys, threads).1).sum())
        });
    }
    group.finish();
}

/// `ENTRIES` versions `(key, seq)` of `OVERWRITE_KEYS` keys: random keys, sequence numbers
/// 1, 2, 3, ...
fn versions() -> Vec<(Key, u64)> {
    let keys = random_keys(3, OVERWRITE_KEYS);
    let mut rng = Rng::new(4);
    (0..ENTRIES as u64)
        .map(|seq| (keys[rng.below(OVERWRITE_KEYS as u64) as usize], seq + 1))
        .collect()
}

/// Deals `versions` out to `threads` threads round-robin, so that each thread's sequence
/// numbers interleave with the others' as commits' do (a thread given a contiguous half would
/// insert old versions behind the other thread's newer ones, which the engine never does: it
/// inserts under its commit lock, in sequence order).
fn deal<T: Clone>(threads: usize, versions: &[T]) -> Vec<Vec<T>> {
    let mut hands = vec![Vec::with_capacity(versions.len() / threads + 1); threads];
    for (i, v) in versions.iter().enumerate() {
        hands[i % threads].push(v.clone());
    }
    hands
}

/// Runs `f` on each hand on a thread of its own; returns the wall time.
fn run_hands<T: Sync>(hands: &[Vec<T>], f: impl Fn(&[T]) + Sync) -> Duration {
    let start = Instant::now();
    if hands.len() == 1 {
        f(&hands[0]);
    } else {
        std::thread::scope(|s| {
            for hand in hands {
                let f = &f;
                s.spawn(move || f(hand));
            }
        });
    }
    start.elapsed()
}

fn overwrite_ours(hands: &[Vec<(Key, u64)>], indexed: bool) -> Duration {
    let list = if indexed {
        SkipList::with_index(0x5eed, ARENA_BLOCK_BYTES, 2 * OVERWRITE_KEYS)
    } else {
        SkipList::new(0x5eed, ARENA_BLOCK_BYTES)
    };
    run_hands(hands, |hand| {
        for (k, seq) in hand {
            let inserted = list.insert(k, *seq, &[&value_of(k)]);
            assert!(inserted.is_ok());
        }
    })
}

fn overwrite_crossbeam(hands: &[Vec<(Vec<u8>, Vec<u8>)>]) -> Duration {
    let map = SkipMap::new();
    run_hands(hands, |hand| {
        for (k, v) in hand {
            map.insert(k.clone(), v.clone());
        }
    })
}

fn owned_versions(versions: &[(Key, u64)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    versions
        .iter()
        .map(|(k, seq)| (encode(k, *seq).to_vec(), value_of(k).to_vec()))
        .collect()
}

fn bench_overwrite(c: &mut Criterion) {
    let versions = versions();
    let owned = owned_versions(&versions);
    let mut group = configure(c, "skiplist_overwrite", ENTRIES);
    for threads in THREADS {
        let hands = deal(threads, &versions);
        let owned_hands = deal(threads, &owned);
        group.bench_function(BenchmarkId::new("ppdb_indexed", threads), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| overwrite_ours(&hands, true)).sum())
        });
        group.bench_function(BenchmarkId::new("ppdb", threads), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| overwrite_ours(&hands, false)).sum())
        });
        // The peer clones each owned entry inside the timed loop, as `insert` consumes it;
        // the clone of a 24- and an 8-byte vector is small beside a skiplist insert.
        group.bench_function(BenchmarkId::new("crossbeam", threads), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| overwrite_crossbeam(&owned_hands)).sum())
        });
    }
    group.finish();
}

/// The three structures, filled with the same entries.
struct Filled {
    keys: Vec<Key>,
    ours: SkipList,
    crossbeam: SkipMap<Vec<u8>, Vec<u8>>,
    btree: BTree,
}

fn filled() -> Filled {
    let keys = random_keys(2, ENTRIES);
    let ours = build_ours(&keys, 1).0;
    let crossbeam = build_crossbeam(&keys, 1).0;
    let btree = build_btree(&keys, 1).0;
    assert_eq!(ours.len(), ENTRIES);
    Filled {
        keys,
        ours,
        crossbeam,
        btree,
    }
}

fn get_ours(list: &SkipList, key: &Key) -> usize {
    list.get(key, u64::MAX).map_or(0, |e| e.value.len())
}

fn get_crossbeam(map: &SkipMap<Vec<u8>, Vec<u8>>, key: &Key) -> usize {
    let probe = encode(key, u64::MAX);
    let entry = map.lower_bound(Bound::Included(&probe[..]));
    entry
        .filter(|e| e.key()[..KEY_BYTES] == key[..])
        .map_or(0, |e| e.value().len())
}

fn get_btree(map: &BTree, key: &Key) -> usize {
    let probe = encode(key, u64::MAX);
    let map = map
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut range = map.range::<[u8], _>((Bound::Included(&probe[..]), Bound::Unbounded));
    range
        .next()
        .filter(|(k, _)| k[..KEY_BYTES] == key[..])
        .map_or(0, |(_, v)| v.len())
}

fn bench_get(c: &mut Criterion, f: &Filled) {
    let mut probes = f.keys.clone();
    let mut rng = Rng::new(3);
    for i in (1..probes.len()).rev() {
        probes.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut group = configure(c, "skiplist_get", ENTRIES);
    let check = |found: usize, n: usize| assert_eq!(found, 8 * n, "a key was not found");
    for threads in THREADS {
        group.bench_function(BenchmarkId::new("ppdb", threads), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        split(threads, &probes, |chunk| {
                            let found: usize = chunk.iter().map(|k| get_ours(&f.ours, k)).sum();
                            check(black_box(found), chunk.len());
                        })
                    })
                    .sum()
            })
        });
        group.bench_function(BenchmarkId::new("crossbeam", threads), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        split(threads, &probes, |chunk| {
                            let found: usize =
                                chunk.iter().map(|k| get_crossbeam(&f.crossbeam, k)).sum();
                            check(black_box(found), chunk.len());
                        })
                    })
                    .sum()
            })
        });
        group.bench_function(BenchmarkId::new("btree_rwlock", threads), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        split(threads, &probes, |chunk| {
                            let found: usize = chunk.iter().map(|k| get_btree(&f.btree, k)).sum();
                            check(black_box(found), chunk.len());
                        })
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

fn scan_ours(list: &SkipList, key: &Key) -> usize {
    let mut it = list.iter();
    it.seek(key, u64::MAX);
    let mut bytes = 0;
    for _ in 0..SCAN_LEN {
        let Some(e) = it.entry() else { break };
        bytes += e.key.len() + e.value.len();
        it.next();
    }
    bytes
}

fn scan_crossbeam(map: &SkipMap<Vec<u8>, Vec<u8>>, key: &Key) -> usize {
    let probe = encode(key, u64::MAX);
    let range = map.range::<[u8], _>((Bound::Included(&probe[..]), Bound::Unbounded));
    range
        .take(SCAN_LEN)
        .map(|e| e.key().len() - 8 + e.value().len())
        .sum()
}

fn scan_btree(map: &BTree, key: &Key) -> usize {
    let probe = encode(key, u64::MAX);
    let map = map
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let range = map.range::<[u8], _>((Bound::Included(&probe[..]), Bound::Unbounded));
    range
        .take(SCAN_LEN)
        .map(|(k, v)| k.len() - 8 + v.len())
        .sum()
}

fn bench_scan(c: &mut Criterion, f: &Filled) {
    let mut rng = Rng::new(4);
    let starts: Vec<Key> = (0..SCANS)
        .map(|_| f.keys[rng.below(ENTRIES as u64) as usize])
        .collect();
    let mut group = configure(c, "skiplist_scan", SCANS);
    for threads in THREADS {
        group.bench_function(BenchmarkId::new("ppdb", threads), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        split(threads, &starts, |chunk| {
                            black_box(chunk.iter().map(|k| scan_ours(&f.ours, k)).sum::<usize>());
                        })
                    })
                    .sum()
            })
        });
        group.bench_function(BenchmarkId::new("crossbeam", threads), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        split(threads, &starts, |chunk| {
                            let bytes = chunk.iter().map(|k| scan_crossbeam(&f.crossbeam, k));
                            black_box(bytes.sum::<usize>());
                        })
                    })
                    .sum()
            })
        });
        group.bench_function(BenchmarkId::new("btree_rwlock", threads), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        split(threads, &starts, |chunk| {
                            black_box(chunk.iter().map(|k| scan_btree(&f.btree, k)).sum::<usize>());
                        })
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

fn bench_reads(c: &mut Criterion) {
    let f = filled();
    bench_get(c, &f);
    bench_scan(c, &f);
}

/// The criterion entry point.
mod entry {
    #![allow(
        missing_docs,
        reason = "criterion_group! generates an undocumented function"
    )]
    criterion::criterion_group!(
        benches,
        super::bench_insert,
        super::bench_overwrite,
        super::bench_reads
    );
}

criterion_main!(entry::benches);
