//! WAL segments on the simulated disk, crashed at random points: reading back never fails,
//! yields a prefix of what was appended, and includes everything appended before the last
//! successful sync. Unsynced sectors come back old, new or torn, in any pattern, so this also
//! checks that holes in the unsynced tail are cut, not reported as corruption.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is a test failure"
)]

use ppdb_core::wal::{LogEnd, LogKind, LogReader, LogWriter, ReadOptions};
use ppdb_platform::{FileSystem, OpenMode};
use ppdb_platform_sim::{SimFs, SplitMix64, TornWrites};

const LOG: u64 = 42;

fn record(rng: &mut SplitMix64, i: u64) -> Vec<u8> {
    let len = match rng.below(10) {
        0 => rng.below(100_000),
        1..=3 => rng.below(3_000),
        _ => rng.below(200),
    } as usize;
    (0..len)
        .map(|j| (j as u64 ^ i.wrapping_mul(0x9e37)) as u8)
        .collect()
}

/// One seed: append and sync at random, crash, read back, check, resume after the cut, and
/// crash once more.
fn run(seed: u64, torn: TornWrites) {
    let fs = SimFs::new(seed);
    fs.set_torn_writes(torn);
    fs.set_crash_keep_probability([0.0, 0.5, 0.9][(seed % 3) as usize]);
    let mut rng = SplitMix64::new(seed ^ 0xabcd);
    let mut written: Vec<Vec<u8>> = Vec::new();
    let mut durable = 0usize;
    let mut cut = None;
    for round in 0..2 {
        let file = fs.open("000042.wal", OpenMode::Create).unwrap();
        let mut w = match cut {
            None => LogWriter::create(file, LogKind::Wal, LOG),
            Some(offset) => LogWriter::resume(file, LogKind::Wal, LOG, offset),
        }
        .with_buffer_bytes_max(1 + rng.below(64 * 1024) as usize);
        if round == 0 {
            w.sync().unwrap();
            fs.sync_dir("").unwrap();
        }
        for _ in 0..rng.below(60) {
            let r = record(&mut rng, written.len() as u64);
            w.append(&r).unwrap();
            written.push(r);
            if rng.chance(0.3) {
                w.sync().unwrap();
                durable = written.len();
            } else if rng.chance(0.3) {
                w.flush().unwrap();
            }
        }
        w.flush().unwrap();
        drop(w);
        fs.crash();

        let file = fs.open("000042.wal", OpenMode::Existing).unwrap();
        let mut reader = LogReader::new(file, LogKind::Wal, LOG, ReadOptions::default()).unwrap();
        let mut read = 0usize;
        while let Some(rec) = reader
            .next_record()
            .unwrap_or_else(|e| panic!("seed {seed}: {e} after {read} records"))
        {
            assert!(
                read < written.len(),
                "seed {seed}: a record that was never written"
            );
            assert_eq!(
                rec.data,
                &written[read][..],
                "seed {seed}: record {read} differs"
            );
            read += 1;
        }
        assert!(
            read >= durable,
            "seed {seed}: {read} records back, {durable} were synced"
        );
        let end = reader.end().unwrap();
        if let LogEnd::Torn { offset, .. } = end {
            assert!(offset >= 32, "seed {seed}: the synced header was lost");
        }
        // Cut the torn tail, sync, and keep writing after it.
        let file = reader.into_file();
        ppdb_platform::File::set_len(&file, end.offset()).unwrap();
        ppdb_platform::File::sync_data(&file).unwrap();
        written.truncate(read);
        durable = read;
        cut = Some(end.offset());
    }
}

#[test]
fn crashes_keep_every_synced_record_and_yield_a_prefix() {
    let seeds: u64 = std::env::var("PPDB_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    for seed in 0..seeds {
        let torn = [
            TornWrites::Sectors,
            TornWrites::WithinSectors,
            TornWrites::Never,
        ][(seed % 3) as usize];
        run(seed, torn);
    }
}
