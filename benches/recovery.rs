//! Recovery speed: how fast opening a directory replays a large write-ahead log.
//!
//! Writes `PPDB_RECOVERY_BENCH_MIB` MiB (default 1024) of batches (100 puts of 1 KiB values each)
//! into a disk-mode engine whose memtable is large enough to hold them all, so nothing is
//! flushed and the whole log stays to be replayed, with `Durability::None` (one sync at the
//! end); drops the engine; then opens the directory again and reports the replay rate. The log
//! is read from the page cache (it was just written), so this measures the CPU side of
//! recovery: decoding, checksums and memtable inserts.
//!
//! ```text
//! cargo bench -p ppdb-benches --bench recovery            # 1 GiB; needs about 3 GiB of RAM
//! PPDB_RECOVERY_BENCH_MIB=256 cargo bench -p ppdb-benches --bench recovery
//! ```
//!
//! Not a criterion benchmark: one run of a gigabyte is the measurement.

use std::time::Instant;

use ppdb_core::{Config, DiskOptions, Durability, Engine, RecoveryMode, WriteBatch};
use ppdb_platform_std::StdPlatform;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: do a tiny run then.
    let benching = std::env::args().any(|a| a == "--bench");
    let mib: usize = std::env::var("PPDB_RECOVERY_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 1024 } else { 4 });
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        memtable_bytes_max: (mib << 20) * 2 + (64 << 20),
        arena_block_bytes: 1 << 20,
        memory_bytes_max: 0,
        ..Config::default()
    };
    let options = DiskOptions {
        durability: Durability::None,
        recovery: RecoveryMode::Strict,
    };
    let value = vec![b'v'; 1024];
    let batches = (mib << 20) / (100 * 1024);
    {
        let platform = StdPlatform::new(dir.path());
        let (engine, _) =
            Engine::open_dir(config.clone(), platform, "", options).expect("open a new directory");
        let start = Instant::now();
        for b in 0..batches {
            let mut batch = WriteBatch::new();
            for i in 0..100 {
                let key = format!("key-{:012}", b * 100 + i);
                batch.put(key.as_bytes(), &value);
            }
            engine.write(&batch, 0).expect("write");
        }
        engine.sync_wal().expect("sync");
        let secs = start.elapsed().as_secs_f64();
        println!(
            "wrote {batches} batches ({} MiB of values) in {secs:.2} s",
            (batches * 100 * 1024) >> 20
        );
    }
    let log_bytes: u64 = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".wal"))
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum();
    let platform = StdPlatform::new(dir.path());
    let start = Instant::now();
    let (engine, info) = Engine::open_dir(config, platform, "", options).expect("reopen");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(info.records as usize, batches, "every batch replayed");
    let mb = log_bytes as f64 / 1e6;
    println!(
        "recovered {} records, {:.0} MB of WAL in {secs:.2} s: {:.0} MB/s ({:.0} records/s)",
        info.records,
        mb,
        mb / secs,
        info.records as f64 / secs
    );
    drop(engine);
}
