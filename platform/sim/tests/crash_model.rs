//! What `SimFs::crash` keeps: exactly the synced data and entries, unsynced sectors whole (or
//! torn when asked), entries per seed, the same outcome for the same seed.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use ppdb_platform::{ErrorKind, File, FileSystem, OpenMode};
use ppdb_platform_sim::{Faults, SimFs, TornWrites};

const SECTOR: usize = 512;

fn sim(seed: u64, torn_writes: TornWrites, crash_keep_probability: f64) -> SimFs {
    SimFs::with_faults(
        seed,
        Faults {
            torn_writes,
            crash_keep_probability,
            ..Faults::NONE
        },
    )
}

/// Creates `path` with `data`, its data and entry durable.
fn durable_file(fs: &SimFs, path: &str, data: &[u8]) {
    let file = fs.open(path, OpenMode::Truncate).unwrap();
    file.write_at(data, 0).unwrap();
    file.sync_data().unwrap();
    fs.sync_dir(ppdb_platform::parent_dir(path)).unwrap();
}

fn contents(fs: &SimFs, path: &str) -> Vec<u8> {
    let file = fs.open(path, OpenMode::Existing).unwrap();
    let mut buf = vec![0; file.len().unwrap() as usize];
    file.read_exact_at(&mut buf, 0).unwrap();
    buf
}

#[test]
fn crash_keeps_exactly_synced_data_when_it_keeps_nothing_else() {
    for seed in 0..20 {
        let fs = sim(seed, TornWrites::Sectors, 0.0);
        durable_file(&fs, "a", &[1; 3000]);
        let file = fs.open("a", OpenMode::Existing).unwrap();
        file.write_at(&[2; 100], 700).unwrap();
        file.write_at(&[3; 900], 2900).unwrap();
        file.set_len(3500).unwrap();
        durable_file(&fs, "b", &[4; 10]);
        fs.open("c", OpenMode::CreateNew).unwrap();
        let report = fs.crash();
        assert_eq!(contents(&fs, "a"), [1; 3000], "seed {seed}");
        assert_eq!(contents(&fs, "b"), [4; 10], "seed {seed}");
        assert_eq!(fs.list("").unwrap(), ["a", "b"], "seed {seed}");
        assert_eq!(report.sectors_kept + report.sectors_torn, 0);
        assert!(
            report.sectors_lost > 0 && report.entry_changes_lost == 1,
            "{report:?}"
        );
    }
}

#[test]
fn crash_that_keeps_everything_loses_nothing() {
    let fs = sim(9, TornWrites::WithinSectors, 1.0);
    fs.create_dir_all("d/e").unwrap();
    let file = fs.open("d/e/f", OpenMode::CreateNew).unwrap();
    file.write_at(&[5; 5000], 3).unwrap();
    fs.rename("d/e/f", "d/g").unwrap();
    let before = fs.peek("d/g").unwrap();
    let report = fs.crash();
    assert!(contents(&fs, "d/g") == before, "{report:?}");
    assert_eq!(
        report.sectors_lost + report.sectors_torn + report.entry_changes_lost,
        0
    );
    assert_eq!(fs.list("d").unwrap(), ["e", "g"]);
}

#[test]
fn torn_writes_happen_for_some_seeds_and_keep_whole_sectors() {
    let (mut mixed, mut all_old, mut all_new) = (0, 0, 0);
    for seed in 0..64 {
        let fs = sim(seed, TornWrites::Sectors, 0.5);
        durable_file(&fs, "f", &[0xAA; 8 * SECTOR]);
        let file = fs.open("f", OpenMode::Existing).unwrap();
        file.write_at(&[0xBB; 8 * SECTOR], 0).unwrap();
        drop(file);
        fs.crash();
        let got = contents(&fs, "f");
        assert_eq!(got.len(), 8 * SECTOR);
        let new_sectors = got
            .chunks(SECTOR)
            .map(|sector| {
                let new = sector[0] == 0xBB;
                let expected = if new { 0xBB } else { 0xAA };
                assert!(
                    sector.iter().all(|&b| b == expected),
                    "seed {seed}: torn sector"
                );
                usize::from(new)
            })
            .sum::<usize>();
        match new_sectors {
            0 => all_old += 1,
            8 => all_new += 1,
            _ => mixed += 1,
        }
    }
    assert!(
        mixed > 50,
        "torn writes must be common: {mixed} mixed, {all_old} old, {all_new} new"
    );
}

#[test]
fn torn_within_sector_is_new_bytes_then_old_bytes() {
    let mut torn = 0;
    for seed in 0..64 {
        let fs = sim(seed, TornWrites::WithinSectors, 0.5);
        durable_file(&fs, "f", &[0xAA; 4 * SECTOR]);
        let file = fs.open("f", OpenMode::Existing).unwrap();
        file.write_at(&[0xBB; 4 * SECTOR], 0).unwrap();
        drop(file);
        torn += fs.crash().sectors_torn;
        for sector in contents(&fs, "f").chunks(SECTOR) {
            let new = sector.iter().take_while(|&&b| b == 0xBB).count();
            assert!(
                sector[new..].iter().all(|&b| b == 0xAA),
                "seed {seed}: not a prefix tear"
            );
        }
    }
    assert!(torn > 10, "{torn}");
}

#[test]
fn unsynced_append_keeps_old_or_new_length_and_zeros_or_data() {
    let mut lengths = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let fs = sim(seed, TornWrites::Sectors, 0.5);
        durable_file(&fs, "log", &[1; 1000]);
        let file = fs.open("log", OpenMode::Existing).unwrap();
        file.write_at(&[2; 2000], 1000).unwrap();
        drop(file);
        fs.crash();
        let got = contents(&fs, "log");
        lengths.insert(got.len());
        assert!(got.len() == 1000 || got.len() == 3000, "seed {seed}");
        assert!(
            got[..1000].iter().all(|&b| b == 1),
            "seed {seed}: synced prefix damaged"
        );
        for (s, sector) in got.chunks(SECTOR).enumerate() {
            // The unsynced bytes of the sector: all new or all zero (the synced value past the
            // synced length).
            let unsynced: Vec<u8> = (s * SECTOR..s * SECTOR + sector.len())
                .filter(|&p| p >= 1000)
                .map(|p| got[p])
                .collect();
            let whole = unsynced.iter().all(|&b| b == 2) || unsynced.iter().all(|&b| b == 0);
            assert!(whole, "seed {seed}: sector {s} is not whole");
        }
    }
    assert_eq!(lengths.len(), 2, "both lengths must occur: {lengths:?}");
}

#[test]
fn handles_from_before_a_crash_fail() {
    let fs = SimFs::new(1);
    durable_file(&fs, "f", b"data");
    let old = fs.open("f", OpenMode::Existing).unwrap();
    fs.crash();
    for result in [old.len().map(drop), old.write_at(b"x", 0), old.sync_data()] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Other);
    }
    assert!(old.read_at(&mut [0; 4], 0).is_err());
    let new = fs.open("f", OpenMode::Existing).unwrap();
    drop(old);
    assert_eq!(contents(&fs, "f"), b"data");
    new.write_at(b"more", 4).unwrap();
    assert_eq!(fs.peek("f").unwrap(), b"datamore");
}

#[test]
fn unsynced_entries_vanish_or_survive_per_seed() {
    let (mut created_kept, mut removed_back) = (0, 0);
    for seed in 0..64 {
        let fs = sim(seed, TornWrites::Sectors, 0.5);
        durable_file(&fs, "old", b"old");
        let file = fs.open("new", OpenMode::CreateNew).unwrap();
        file.write_at(b"new", 0).unwrap();
        file.sync_data().unwrap();
        drop(file);
        fs.remove("old").unwrap();
        fs.crash();
        let names = fs.list("").unwrap();
        if names.iter().any(|n| n == "new") {
            created_kept += 1;
            assert_eq!(contents(&fs, "new"), b"new");
        }
        if names.iter().any(|n| n == "old") {
            removed_back += 1;
            assert_eq!(contents(&fs, "old"), b"old");
        }
    }
    assert!((10..54).contains(&created_kept), "{created_kept}");
    assert!((10..54).contains(&removed_back), "{removed_back}");
}

#[test]
fn a_file_in_an_unsynced_directory_is_lost_with_it() {
    let fs = sim(3, TornWrites::Sectors, 0.0);
    fs.create_dir_all("d").unwrap();
    durable_file(&fs, "d/f", b"synced, but its directory is not");
    fs.crash();
    assert!(!fs.exists("d").unwrap());
    fs.create_dir_all("d").unwrap();
    fs.sync_dir("").unwrap();
    durable_file(&fs, "d/f", b"durable");
    fs.crash();
    assert_eq!(contents(&fs, "d/f"), b"durable");
}

#[test]
fn rename_across_directories_is_atomic_and_durable_with_the_target_directory() {
    for seed in 0..32 {
        let fs = sim(seed, TornWrites::Sectors, 0.5);
        fs.create_dir_all("tmp").unwrap();
        fs.create_dir_all("data").unwrap();
        fs.sync_dir("").unwrap();
        durable_file(&fs, "data/CURRENT", b"1");
        let tmp = fs.open("tmp/next", OpenMode::CreateNew).unwrap();
        tmp.write_at(b"2", 0).unwrap();
        tmp.sync_data().unwrap();
        fs.rename("tmp/next", "data/CURRENT").unwrap();
        fs.sync_dir("data").unwrap();
        fs.crash();
        assert_eq!(contents(&fs, "data/CURRENT"), b"2", "seed {seed}");
        assert!(fs.list("tmp").unwrap().is_empty(), "seed {seed}");
    }
}

#[test]
fn failed_syncs_make_nothing_durable() {
    let fs = sim(4, TornWrites::Sectors, 0.0);
    durable_file(&fs, "f", &[1; 600]);
    let file = fs.open("f", OpenMode::Existing).unwrap();
    file.write_at(&[2; 600], 0).unwrap();
    fs.set_sync_error_probability(1.0);
    assert_eq!(file.sync_data().unwrap_err().kind(), ErrorKind::Other);
    fs.open("g", OpenMode::CreateNew).unwrap();
    assert!(fs.sync_dir("").is_err());
    assert_eq!(
        fs.peek("f").unwrap(),
        [2; 600],
        "a failed sync must not change live data"
    );
    drop(file);
    fs.crash();
    assert_eq!(
        contents(&fs, "f"),
        [1; 600],
        "a failed sync_data must not make data durable"
    );
    assert_eq!(
        fs.list("").unwrap(),
        ["f"],
        "a failed sync_dir must not make entries durable"
    );
}

/// A workload with everything random switched on; returns what can be observed of its end.
fn run_workload(seed: u64) -> String {
    let faults = Faults {
        write_error_probability: 0.05,
        sync_error_probability: 0.05,
        read_error_probability: 0.05,
        bit_flip_probability: 0.05,
        short_read_probability: 0.2,
        torn_writes: TornWrites::WithinSectors,
        ..Faults::NONE
    };
    let fs = SimFs::with_faults(seed, faults);
    let mut log = String::new();
    fs.create_dir_all("wal").unwrap();
    while fs.sync_dir("").is_err() {}
    for round in 0..3 {
        for i in 0..10u8 {
            let name = format!("wal/{:03}", i % 4);
            let file = fs.open(&name, OpenMode::Create).unwrap();
            let r = file.write_at(&[i.wrapping_mul(37); 700], u64::from(i) * 300);
            let s = file.sync_data();
            let mut buf = [0; 64];
            let n = file.read_at(&mut buf, 10);
            log += &format!("{round}/{i}: {r:?} {s:?} {n:?} {:?}\n", &buf[..4]);
            if i % 3 == 0 {
                log += &format!("{:?}\n", fs.sync_dir("wal"));
            }
        }
        log += &format!("{:?}\n", fs.crash());
    }
    for name in fs.list("wal").unwrap() {
        log += &format!("{name}: {:?}\n", fs.peek(&format!("wal/{name}")));
    }
    log + &format!("{:?}", fs.counters())
}

#[test]
fn same_seed_same_outcome() {
    let runs: Vec<String> = (0..6).map(run_workload).collect();
    for (seed, first) in runs.iter().enumerate() {
        assert_eq!(
            *first,
            run_workload(seed as u64),
            "seed {seed} must reproduce"
        );
    }
    let distinct: std::collections::BTreeSet<_> = runs.iter().collect();
    assert_eq!(distinct.len(), runs.len(), "different seeds must differ");
}
