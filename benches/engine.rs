//! Engine throughput: `put`, `get`, write batches and serializable transactions on one
//! `Engine` (in memory, rotation and merges included), single-threaded and with two threads.
//! `engine_put/put_4KiB_overwrite_merged` reproduces the server's set-heavy 4 KiB workload on
//! 16 engines (the server's shards), merges included: the measure of the merge path for large
//! values (`docs/performance.md`, "The 4 KiB set-heavy rows").
//!
//! Run: `cargo bench -p ppdb-benches --bench engine`

use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_main, BatchSize, Criterion, Throughput};
use ppdb_core::{Config, Engine, Isolation, WriteBatch};
use rand::{Rng, SeedableRng};

const KEYS: u64 = 100_000;
const VALUE: [u8; 100] = [0x5a; 100];
/// Keys of 4 KiB values, over [`SHARDS`] engines, as in the server's benchmark.
const LARGE_KEYS: u64 = 100_000;
const SHARDS: usize = 16;

fn key(i: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(b"user-key");
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

fn filled() -> Engine {
    let engine = Engine::new(Config::default()).expect("config");
    for i in 0..KEYS {
        let mut b = WriteBatch::new();
        b.put(&key(i), &VALUE);
        engine.write(&b, 0).expect("write");
    }
    engine
}

fn put(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine_put");
    g.throughput(Throughput::Elements(1)).sample_size(20);
    let engine = Engine::new(Config::default()).expect("config");
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    g.bench_function("put_100B", |b| {
        b.iter(|| {
            let mut batch = WriteBatch::new();
            batch.put(&key(rng.gen_range(0..KEYS)), &VALUE);
            black_box(engine.write(&batch, 0).expect("write"))
        })
    });
    // The shards of `ppdb server -m 1024` under `10:90 / 4096 B`: 16 engines with 4 MiB
    // memtables and a 64 MiB limit each, 400 MB of live data rewritten at random (as much as
    // the server's benchmark, so that caches and TLBs miss as they do there). Merges run
    // inline, so the time per put includes its share of the merges and of dropping the runs
    // they replace.
    let shards: Vec<Engine> = (0..SHARDS)
        .map(|_| {
            Engine::new(Config {
                memtable_bytes_max: 4 << 20,
                arena_block_bytes: 256 << 10,
                memory_bytes_max: 64 << 20,
                ..Config::default()
            })
            .expect("config")
        })
        .collect();
    let large = vec![0xa5u8; 4096];
    g.bench_function("put_4KiB_overwrite_merged", |b| {
        b.iter(|| {
            let i = rng.gen_range(0..LARGE_KEYS);
            let mut batch = WriteBatch::new();
            batch.put(&key(i), &large);
            let shard = &shards[(i % SHARDS as u64) as usize];
            black_box(shard.write(&batch, 0).expect("write"))
        })
    });
    g.throughput(Throughput::Elements(100));
    g.bench_function("batch_100x100B", |b| {
        b.iter_batched(
            || {
                let mut batch = WriteBatch::new();
                for _ in 0..100 {
                    batch.put(&key(rng.gen_range(0..KEYS)), &VALUE);
                }
                batch
            },
            |batch| black_box(engine.write(&batch, 0).expect("write")),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn get(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine_get");
    g.throughput(Throughput::Elements(1)).sample_size(20);
    let engine = filled();
    engine.rotate(0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    g.bench_function("get_hit_run", |b| {
        b.iter(|| black_box(engine.get_with(&key(rng.gen_range(0..KEYS)), 0, |v| v.is_some())))
    });
    // Two threads reading the same engine: total operations per second.
    let shared = Arc::new(engine);
    g.bench_function("get_hit_run_2_threads", |b| {
        b.iter_custom(|iters| two_threads(&shared, iters))
    });
    g.finish();
}

fn two_threads(engine: &Arc<Engine>, iters: u64) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..2u64)
        .map(|t| {
            let engine = engine.clone();
            thread::spawn(move || {
                let mut rng = rand::rngs::StdRng::seed_from_u64(t);
                for _ in 0..iters / 2 {
                    black_box(engine.get_with(&key(rng.gen_range(0..KEYS)), 0, |v| v.is_some()));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("reader thread");
    }
    start.elapsed()
}

fn transaction(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine_transaction");
    g.throughput(Throughput::Elements(1)).sample_size(20);
    let engine = filled();
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    g.bench_function("serializable_read2_write2", |b| {
        b.iter(|| {
            let (a, z) = (key(rng.gen_range(0..KEYS)), key(rng.gen_range(0..KEYS)));
            engine
                .transaction(Isolation::Serializable, 0, |txn| {
                    let x = txn.get(&a)?.map_or(0, |i| i.value.len());
                    let y = txn.get(&z)?.map_or(0, |i| i.value.len());
                    txn.put(&a, &VALUE[..y.min(100)])?;
                    txn.put(&z, &VALUE[..x.min(100)])?;
                    Ok(())
                })
                .expect("commit")
        })
    });
    g.finish();
}

/// The criterion entry point.
mod entry {
    #![allow(
        missing_docs,
        reason = "criterion_group! generates an undocumented function"
    )]
    criterion::criterion_group!(benches, super::put, super::get, super::transaction);
}

criterion_main!(entry::benches);
