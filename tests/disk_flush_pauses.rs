//! A flush to a table calls the engine's pause hook (`Config::pause`) as it goes, as merges
//! do: a host's maintenance thread can yield the processor in the middle of a long flush.
//! Writes never call it, and what was flushed reads back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: a failure is a test failure"
)]

use std::sync::atomic::{AtomicUsize, Ordering};

use ppdb_core::{Config, Db, DiskOptions, Durability};
use ppdb_platform_sim::SimPlatform;

static PAUSES: AtomicUsize = AtomicUsize::new(0);

fn count_pause() {
    PAUSES.fetch_add(1, Ordering::Relaxed);
}

const KEYS: u32 = 5000;

#[test]
fn a_flush_calls_the_pause_hook_every_thousand_keys_or_so() {
    let platform = SimPlatform::new(11);
    let config = Config {
        memtable_bytes_max: 1 << 20,
        arena_block_bytes: 64 << 10,
        merge_inline: false,
        pause: Some(count_pause),
        ..Config::default()
    };
    let options = DiskOptions {
        durability: Durability::None,
        ..DiskOptions::default()
    };
    let (db, _) = Db::open_dir(config, platform, "db", options).unwrap();
    for i in 0..KEYS {
        db.put(format!("key-{i:05}").as_bytes(), b"value").unwrap();
    }
    db.engine().rotate(0);
    assert_eq!(PAUSES.load(Ordering::Relaxed), 0, "writes do not pause");
    let flushed = db.maintain();
    assert_eq!(flushed.versions_out, u64::from(KEYS));
    assert_eq!(db.stats().disk.tables, 1);
    assert_eq!(PAUSES.load(Ordering::Relaxed), KEYS as usize / 1024);
    for i in (0..KEYS).step_by(333) {
        let item = db.get(format!("key-{i:05}").as_bytes()).unwrap();
        assert_eq!(item.unwrap().value, b"value");
    }
}
