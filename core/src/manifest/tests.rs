//! Manifest tests: edit encoding, version rules, replay with torn tails, and the `CURRENT`
//! protocol under crashes and failed operations.

use alloc::vec;
use alloc::vec::Vec;

use ppdb_platform::{File, FileSystem, OpenMode};
use ppdb_platform_sim::SimFs;
use proptest::prelude::*;

use super::*;
use crate::format::varint;

fn table(number: u64, level: u32) -> TableMeta {
    TableMeta {
        number,
        level,
        size_bytes: 1000 + number,
        seq_min: number * 10,
        seq_max: number * 10 + 9,
        smallest_key: vec![b'a', number as u8],
        largest_key: vec![b'z', number as u8],
    }
}

fn edit_strategy() -> impl Strategy<Value = VersionEdit> {
    let meta = (
        any::<u64>(),
        0u32..7,
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..20),
        proptest::collection::vec(any::<u8>(), 0..20),
    )
        .prop_map(
            |(number, level, size_bytes, seq_min, seq_max, smallest_key, largest_key)| TableMeta {
                number,
                level,
                size_bytes,
                seq_min,
                seq_max,
                smallest_key,
                largest_key,
            },
        );
    (
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::collection::vec(meta, 0..4),
        proptest::collection::vec((any::<u32>(), any::<u64>()), 0..4),
        proptest::collection::vec(any::<u64>(), 0..3),
        proptest::collection::vec(any::<u64>(), 0..3),
    )
        .prop_map(
            |(
                log_number,
                next_file_number,
                last_sequence,
                added_tables,
                removed_tables,
                added_flush_markers,
                removed_flush_markers,
            )| VersionEdit {
                log_number,
                next_file_number,
                last_sequence,
                added_tables,
                removed_tables,
                added_flush_markers,
                removed_flush_markers,
            },
        )
}

proptest! {
    #[test]
    fn edits_round_trip(edit in edit_strategy()) {
        let mut out = Vec::new();
        edit.encode(&mut out);
        prop_assert_eq!(VersionEdit::decode(&out, 0).unwrap(), edit);
        for cut in 0..out.len() {
            // A strict prefix either fails or decodes to fewer fields, never to garbage.
            if let Ok(e) = VersionEdit::decode(&out[..cut], 0) {
                let mut again = Vec::new();
                e.encode(&mut again);
                prop_assert!(out.starts_with(&again));
            }
        }
    }
}

#[test]
fn unknown_fields_are_skipped_only_when_ignorable() {
    let edit = VersionEdit {
        last_sequence: Some(9),
        ..VersionEdit::default()
    };
    let mut out = Vec::new();
    varint::put_u64(&mut out, edit::tag::IGNORABLE_BIT | 3);
    varint::put_len_prefixed(&mut out, b"future");
    edit.encode(&mut out);
    assert_eq!(VersionEdit::decode(&out, 0).unwrap(), edit);

    let mut out = Vec::new();
    varint::put_u64(&mut out, 30);
    varint::put_len_prefixed(&mut out, b"future");
    assert!(matches!(
        VersionEdit::decode(&out, 0),
        Err(Error::UnsupportedFormat { version: 30, .. })
    ));

    // A known field may grow: bytes after what a reader knows are ignored.
    let mut out = Vec::new();
    varint::put_u64(&mut out, edit::tag::LAST_SEQUENCE);
    varint::put_len_prefixed(&mut out, &[9, 0xaa, 0xbb]);
    assert_eq!(VersionEdit::decode(&out, 0).unwrap(), edit);

    // A field too short for what it must hold is corruption.
    let mut out = Vec::new();
    varint::put_u64(&mut out, edit::tag::REMOVE_TABLE);
    varint::put_len_prefixed(&mut out, &[1]);
    assert!(matches!(
        VersionEdit::decode(&out, 5),
        Err(Error::Corruption { offset: 5, .. })
    ));
}

#[test]
fn versions_apply_edits_and_refuse_inconsistent_ones() {
    let mut v = Version::default();
    let e1 = VersionEdit {
        log_number: Some(3),
        next_file_number: Some(10),
        last_sequence: Some(100),
        added_tables: vec![table(4, 0), table(5, 1)],
        added_flush_markers: vec![50],
        ..VersionEdit::default()
    };
    v.apply(&e1).unwrap();
    assert_eq!(v.table_count(), 2);
    assert_eq!(v.tables(1).map(|t| t.number).collect::<Vec<_>>(), vec![5]);
    let before = v.clone();
    assert!(v
        .apply(&VersionEdit {
            added_tables: vec![table(4, 2)],
            ..VersionEdit::default()
        })
        .is_err());
    assert!(v
        .apply(&VersionEdit {
            removed_tables: vec![(1, 4)],
            ..VersionEdit::default()
        })
        .is_err());
    assert!(v
        .apply(&VersionEdit {
            log_number: Some(2),
            ..VersionEdit::default()
        })
        .is_err());
    assert!(v
        .apply(&VersionEdit {
            added_tables: vec![table(8, 7)],
            ..VersionEdit::default()
        })
        .is_err());
    // A failed edit changes nothing, even if part of it was acceptable.
    assert!(v
        .apply(&VersionEdit {
            removed_tables: vec![(0, 4), (0, 99)],
            ..VersionEdit::default()
        })
        .is_err());
    assert_eq!(v, before);
    // A compaction: remove 4 and 5, add 6 in level 1, forget the marker.
    v.apply(&VersionEdit {
        removed_tables: vec![(0, 4), (1, 5)],
        added_tables: vec![table(6, 1)],
        removed_flush_markers: vec![50],
        ..VersionEdit::default()
    })
    .unwrap();
    assert_eq!(
        v.all_tables().map(|t| t.number).collect::<Vec<_>>(),
        vec![6]
    );
    assert_eq!(v.flush_markers().count(), 0);
    let mut rebuilt = Version::default();
    rebuilt.apply(&v.snapshot_edit()).unwrap();
    assert_eq!(rebuilt, v);
}

fn edits() -> Vec<VersionEdit> {
    (1..=20u64)
        .map(|i| VersionEdit {
            log_number: Some(i),
            next_file_number: Some(100 + 2 * i),
            last_sequence: Some(1000 * i),
            added_tables: vec![table(100 + i, (i % 3) as u32)],
            removed_tables: if i > 4 {
                vec![(((i - 4) % 3) as u32, 100 + i - 4)]
            } else {
                vec![]
            },
            added_flush_markers: if i % 5 == 0 { vec![1000 * i] } else { vec![] },
            removed_flush_markers: vec![],
        })
        .collect()
}

#[test]
fn replay_rebuilds_the_version_and_drops_a_torn_tail() {
    let fs = SimFs::new(1);
    let file = fs.open("MANIFEST-000001", OpenMode::CreateNew).unwrap();
    let mut w = ManifestWriter::create(file, 1, &Version::default()).unwrap();
    let mut model = Version::default();
    let mut ends = Vec::new();
    for e in edits() {
        w.append(&e).unwrap();
        w.sync().unwrap();
        model.apply(&e).unwrap();
        ends.push((w.offset(), model.clone()));
    }
    let r = replay(fs.open("MANIFEST-000001", OpenMode::Existing).unwrap(), 1).unwrap();
    assert_eq!(r.version, model);
    assert_eq!(r.edits, 21);
    assert!(matches!(r.end, LogEnd::Clean { .. }));

    // Cut inside the last edit: the version before it, and a torn end.
    let bytes = fs.peek("MANIFEST-000001").unwrap();
    let f = fs.open("cut", OpenMode::Truncate).unwrap();
    f.write_at(&bytes[..bytes.len() - 3], 0).unwrap();
    let r = replay(f, 1).unwrap();
    assert_eq!(r.version, ends[ends.len() - 2].1);
    assert!(matches!(r.end, LogEnd::Torn { .. }));

    // Cut it, resume, and append the last edit again.
    let f = fs.open("cut", OpenMode::Existing).unwrap();
    f.set_len(r.end.offset()).unwrap();
    f.sync_data().unwrap();
    let mut w = ManifestWriter::resume(f, 1, r.end.offset());
    w.append(&edits()[19]).unwrap();
    w.sync().unwrap();
    let r = replay(w.into_file(), 1).unwrap();
    assert_eq!(r.version, model);

    // A manifest whose only record is torn holds nothing: an error, not an empty database.
    let f = fs.open("cut", OpenMode::Truncate).unwrap();
    f.write_at(&bytes[..40], 0).unwrap();
    assert!(matches!(replay(f, 1), Err(Error::Corruption { .. })));
    // An inconsistent edit is corruption at its offset.
    let f = fs.open("bad", OpenMode::CreateNew).unwrap();
    let mut w = ManifestWriter::create(f, 2, &Version::default()).unwrap();
    w.append(&VersionEdit {
        removed_tables: vec![(0, 1)],
        ..VersionEdit::default()
    })
    .unwrap();
    w.sync().unwrap();
    assert!(matches!(
        replay(w.into_file(), 2),
        Err(Error::Corruption {
            what: "edit removes a table that is not live",
            ..
        })
    ));
}

#[test]
fn file_names() {
    assert_eq!(manifest_file_name(5), "MANIFEST-000005");
    assert_eq!(wal_file_name(7), "000007.wal");
    assert_eq!(table_file_name(1234567), "1234567.sst");
    for (name, kind) in [
        ("CURRENT", Some(FileKind::Current)),
        ("CURRENT.tmp", Some(FileKind::CurrentTemp)),
        ("MANIFEST-000005", Some(FileKind::Manifest(5))),
        ("000007.wal", Some(FileKind::Wal(7))),
        ("1234567.sst", Some(FileKind::Table(1234567))),
        ("000009.tmp", Some(FileKind::Temp(9))),
        ("LOCK", None),
        ("x.sst", None),
        ("-1.wal", None),
        ("+1.wal", None),
        ("MANIFEST-", None),
        ("000007.log", None),
    ] {
        assert_eq!(parse_file_name(name), kind, "{name}");
    }
    assert_eq!(join("", "CURRENT"), "CURRENT");
    assert_eq!(join("db", "CURRENT"), "db/CURRENT");
}

/// Installs manifest `number` holding `version`: write, sync, sync the directory, point
/// CURRENT at it.
fn install(fs: &SimFs, number: u64, version: &Version) -> crate::Result<()> {
    let file = fs.open(&join("db", &manifest_file_name(number)), OpenMode::Truncate)?;
    let mut w = ManifestWriter::create(file, number, version)?;
    w.sync()?;
    fs.sync_dir("db")?;
    write_current(fs, "db", number)
}

#[test]
fn current_points_at_the_new_manifest_once_written() {
    let fs = SimFs::new(2);
    fs.create_dir_all("db").unwrap();
    fs.sync_dir("").unwrap();
    assert_eq!(read_current(&fs, "db").unwrap(), None);
    assert!(load(&fs, "db").unwrap().is_none());
    let mut v = Version::default();
    v.apply(&edits()[0]).unwrap();
    install(&fs, 3, &v).unwrap();
    fs.set_crash_keep_probability(0.0);
    fs.crash();
    assert_eq!(read_current(&fs, "db").unwrap(), Some(3));
    let (number, r) = load(&fs, "db").unwrap().unwrap();
    assert_eq!((number, r.version), (3, v));
    // Garbage in CURRENT is corruption, not a new database.
    let f = fs.open("db/CURRENT", OpenMode::Truncate).unwrap();
    f.write_at(b"MANIFEST-x\n", 0).unwrap();
    assert!(matches!(
        read_current(&fs, "db"),
        Err(Error::Corruption { .. })
    ));
}

/// Fails each I/O operation of a manifest switch in turn, crashes, and checks that the
/// database opens on the old manifest or the new one, never on neither.
#[test]
fn a_crash_at_any_point_of_a_manifest_switch_keeps_old_or_new() {
    let mut old = Version::default();
    old.apply(&edits()[0]).unwrap();
    let mut new = old.clone();
    new.apply(&edits()[1]).unwrap();
    let setup = |seed: u64| {
        let fs = SimFs::new(seed);
        fs.create_dir_all("db").unwrap();
        fs.sync_dir("").unwrap();
        install(&fs, 3, &old).unwrap();
        fs.reset_counters();
        fs
    };
    let fs = setup(0);
    install(&fs, 5, &new).unwrap();
    let total = fs.counters().io_total();
    assert!(total >= 8, "{total}");
    let mut outcomes = [0u32; 2];
    for n in 1..=total + 1 {
        for seed in 0..8u64 {
            let fs = setup(seed * 1000 + n);
            fs.fail_nth_io(n);
            let installed = install(&fs, 5, &new).is_ok();
            fs.heal();
            fs.crash();
            let (number, r) = load(&fs, "db")
                .unwrap_or_else(|e| panic!("failing I/O {n}, seed {seed}: {e}"))
                .expect("CURRENT survives");
            let expected: &Version = if number == 5 { &new } else { &old };
            assert_eq!(&r.version, expected, "failing I/O {n}, seed {seed}");
            if installed {
                assert_eq!(number, 5, "an installed manifest is in force after a crash");
            }
            outcomes[usize::from(number == 5)] += 1;
        }
    }
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
