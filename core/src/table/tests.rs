//! Table tests: round trips against a `BTreeMap` model, seeks, the filter's false-positive
//! rate, and corruption of every byte.

extern crate std;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cmp::Reverse;

use ppdb_platform::{File, FileSystem, OpenMode};
use ppdb_platform_sim::{SimFile, SimFs};
use proptest::prelude::*;

use super::*;
use crate::memtable::{PutOptions, ValueKind};
use crate::Error;

type ModelKey = (Vec<u8>, Reverse<u64>);
type ModelVersion = (ValueKind, PutOptions, Vec<u8>);
type Model = BTreeMap<ModelKey, ModelVersion>;

fn write_table(fs: &SimFs, path: &str, model: &Model, options: TableOptions) -> TableProperties {
    let file = fs.open(path, OpenMode::Truncate).unwrap();
    let mut w = TableWriter::new(file, options);
    for ((key, Reverse(seq)), (kind, opts, value)) in model {
        w.add(key, *seq, *kind, opts, value).unwrap();
    }
    let (props, file) = w.finish().unwrap();
    assert_eq!(file.len().unwrap(), props.file_bytes);
    props
}

fn open(fs: &SimFs, path: &str) -> TableReader<SimFile> {
    TableReader::open(fs.open(path, OpenMode::Existing).unwrap()).unwrap()
}

/// The newest version of `key` at or below `seq` in the model.
fn model_get<'m>(model: &'m Model, key: &[u8], seq: u64) -> Option<(u64, &'m ModelVersion)> {
    model
        .range((key.to_vec(), Reverse(seq))..)
        .next()
        .filter(|((k, _), _)| k == key)
        .map(|((_, Reverse(s)), v)| (*s, v))
}

fn model_strategy() -> impl Strategy<Value = Model> {
    let key = proptest::collection::vec(
        prop_oneof![Just(b'a'), Just(b'b'), Just(b'c'), any::<u8>()],
        1..12,
    );
    let value = prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => proptest::collection::vec(any::<u8>(), 4000..9000),
    ];
    let options = (
        any::<u32>(),
        prop_oneof![Just(0u64), any::<u64>()],
        any::<u64>(),
        0u8..=0x7f,
    )
        .prop_map(|(flags, expire_at, cas_origin, tags)| PutOptions {
            flags,
            expire_at,
            cas_origin,
            tags,
        });
    let kind = prop_oneof![4 => Just(ValueKind::Value), 1 => Just(ValueKind::Tombstone)];
    let version = (key, 1u64..SEQ_MAX, kind, options, value);
    proptest::collection::vec(version, 0..400).prop_map(|versions| {
        let mut model = Model::new();
        for (k, seq, kind, o, v) in versions {
            let v = if kind == ValueKind::Tombstone {
                Vec::new()
            } else {
                v
            };
            model.insert((k, Reverse(seq)), (kind, o, v));
        }
        model
    })
}

fn check_current(it: &TableIter<'_, SimFile>, want: Option<(&ModelKey, &ModelVersion)>) {
    match (it.current(), want) {
        (None, None) => {}
        (Some(v), Some(((k, Reverse(s)), (kind, o, val)))) => {
            assert_eq!(
                (v.key, v.seq, v.kind, v.options(), v.value),
                (&k[..], *s, *kind, *o, &val[..])
            );
        }
        (got, want) => panic!("iterator at {got:?}, model at {want:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn tables_match_the_model(
        model in model_strategy(),
        block_bytes in 64usize..5000,
        restart_interval in 1usize..20,
        probes in proptest::collection::vec((proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..6), any::<u64>()), 50),
    ) {
        let fs = SimFs::new(1);
        let options = TableOptions { block_bytes, restart_interval, ..TableOptions::default() };
        let props = write_table(&fs, "t", &model, options);
        let table = open(&fs, "t");
        prop_assert_eq!(table.properties(), &props);
        prop_assert_eq!(props.entries, model.len() as u64);

        // Full scan.
        let mut it = table.iter();
        it.seek_to_first().unwrap();
        for want in &model {
            check_current(&it, Some(want));
            it.advance().unwrap();
        }
        prop_assert!(!it.valid());

        // Point lookups and seeks, at keys that exist and keys that do not.
        let existing: Vec<&(Vec<u8>, Reverse<u64>)> = model.keys().collect();
        for (i, (key, seq)) in probes.iter().enumerate() {
            let seq = seq % (SEQ_MAX + 1);
            let key = if i % 2 == 0 && !existing.is_empty() {
                existing[i * 7919 % existing.len()].0.clone()
            } else {
                key.clone()
            };
            let got = table.get(&key, seq).unwrap();
            let want = model_get(&model, &key, seq);
            match (&got, want) {
                (None, None) => {}
                (Some(e), Some((s, (kind, o, v)))) => {
                    prop_assert_eq!((e.seq, e.kind, e.options, e.value()), (s, *kind, *o, &v[..]));
                    prop_assert_eq!(e.as_version().key, &key[..]);
                }
                _ => prop_assert!(false, "get({:?}, {}) = {:?}, model {:?}", key, seq, got, want),
            }
            let mut it = table.iter();
            it.seek(&key, seq).unwrap();
            check_current(&it, model.range((key.clone(), Reverse(seq))..).next());
            it.advance().unwrap();
            check_current(&it, model.range((key.clone(), Reverse(seq))..).nth(1));
        }
    }
}

#[test]
fn the_bloom_filter_false_positive_rate_is_about_one_percent() {
    let fs = SimFs::new(2);
    let mut model = Model::new();
    for i in 0..10_000u32 {
        let key = alloc::format!("user:{i:08}").into_bytes();
        model.insert(
            (key, Reverse(u64::from(i) + 1)),
            (ValueKind::Value, PutOptions::default(), b"v".to_vec()),
        );
    }
    write_table(&fs, "t", &model, TableOptions::default());
    let table = open(&fs, "t");
    for (key, _) in model.keys() {
        assert!(table.may_contain(key));
    }
    let probes = 100_000u32;
    let false_positives = (0..probes)
        .filter(|i| table.may_contain(alloc::format!("absent:{i:08}").as_bytes()))
        .count();
    let rate = false_positives as f64 / f64::from(probes);
    std::println!(
        "bloom false-positive rate at 10 bits/key: {:.3}%",
        rate * 100.0
    );
    assert!(rate > 0.002 && rate < 0.02, "false-positive rate {rate}");
}

#[test]
fn every_flipped_bit_is_detected() {
    let fs = SimFs::new(3);
    let mut model = Model::new();
    for i in 0..40u64 {
        let key = alloc::format!("k{:03}", i / 2).into_bytes();
        let kind = if i % 7 == 0 {
            ValueKind::Tombstone
        } else {
            ValueKind::Value
        };
        let value = if kind == ValueKind::Value {
            alloc::vec![i as u8; 10]
        } else {
            Vec::new()
        };
        model.insert(
            (key, Reverse(100 - i)),
            (
                kind,
                PutOptions {
                    flags: i as u32,
                    ..PutOptions::default()
                },
                value,
            ),
        );
    }
    let options = TableOptions {
        block_bytes: 256,
        ..TableOptions::default()
    };
    write_table(&fs, "t", &model, options);
    let bytes = fs.peek("t").unwrap();
    for i in 0..bytes.len() {
        for bit in [0, 5] {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1 << bit;
            let f = fs.open("flipped", OpenMode::Truncate).unwrap();
            f.write_at(&flipped, 0).unwrap();
            let result = TableReader::open(f).and_then(|t| {
                let mut it = t.iter();
                it.seek_to_first()?;
                let mut n = 0;
                while it.valid() {
                    n += 1;
                    it.advance()?;
                }
                Ok(n)
            });
            assert!(
                matches!(
                    result,
                    Err(Error::Corruption { .. } | Error::UnsupportedFormat { .. })
                ),
                "flip of bit {bit} at byte {i} of {} went unnoticed: {result:?}",
                bytes.len()
            );
        }
    }
}

#[test]
fn empty_and_truncated_tables() {
    let fs = SimFs::new(4);
    let props = write_table(&fs, "empty", &Model::new(), TableOptions::default());
    assert_eq!(props.entries, 0);
    let table = open(&fs, "empty");
    assert!(table.get(b"x", u64::MAX).unwrap().is_none());
    let mut it = table.iter();
    it.seek_to_first().unwrap();
    assert!(!it.valid());
    let bytes = fs.peek("empty").unwrap();
    for len in 0..bytes.len() {
        let f = fs.open("cut", OpenMode::Truncate).unwrap();
        f.write_at(&bytes[..len], 0).unwrap();
        assert!(TableReader::open(f).is_err(), "cut at {len}");
    }
}

#[test]
fn a_table_without_a_filter_reads_the_same() {
    let fs = SimFs::new(5);
    let mut model = Model::new();
    model.insert(
        (b"a".to_vec(), Reverse(3)),
        (ValueKind::Value, PutOptions::default(), b"x".to_vec()),
    );
    let options = TableOptions {
        bloom_bits_per_key: 0,
        ..TableOptions::default()
    };
    write_table(&fs, "t", &model, options);
    let table = open(&fs, "t");
    assert!(table.may_contain(b"zzz"));
    assert_eq!(table.get(b"a", 3).unwrap().unwrap().value(), b"x");
    assert!(table.get(b"a", 2).unwrap().is_none());
}

#[test]
fn newer_versions_and_compressions_are_refused() {
    let fs = SimFs::new(6);
    let mut model = Model::new();
    model.insert(
        (b"a".to_vec(), Reverse(3)),
        (ValueKind::Value, PutOptions::default(), b"x".to_vec()),
    );
    write_table(&fs, "t", &model, TableOptions::default());
    let bytes = fs.peek("t").unwrap();
    let footer_at = bytes.len() - FOOTER_BYTES;
    let mut v2 = bytes.clone();
    v2[footer_at + 48] = 2;
    let crc = crate::format::crc32c::mask(crate::format::crc32c::checksum(
        &v2[footer_at..footer_at + 60],
    ));
    v2[footer_at + 60..].copy_from_slice(&crc.to_le_bytes());
    let f = fs.open("v2", OpenMode::Truncate).unwrap();
    f.write_at(&v2, 0).unwrap();
    assert!(matches!(
        TableReader::open(f),
        Err(Error::UnsupportedFormat {
            what: "table",
            version: 2
        })
    ));

    // The first data block claims compression type 9, with a valid checksum.
    let mut c9 = bytes;
    let size = {
        let t = open(&fs, "t");
        let mut ix = t.index_for_tests();
        ix.seek_to_first().unwrap();
        BlockHandle::decode_varint(ix.value()).unwrap().size as usize
    };
    let trailer = block_trailer(&c9[..size], Compression::None);
    assert_eq!(&c9[size..size + 5], &trailer);
    c9[size] = 9;
    let crc = crate::format::crc32c::mask(crate::format::crc32c::checksum(&c9[..size + 1]));
    c9[size + 1..size + 5].copy_from_slice(&crc.to_le_bytes());
    let f = fs.open("c9", OpenMode::Truncate).unwrap();
    f.write_at(&c9, 0).unwrap();
    let t = TableReader::open(f).unwrap();
    assert!(matches!(
        t.get(b"a", 9),
        Err(Error::UnsupportedFormat {
            what: "block compression",
            version: 9
        })
    ));
}

#[test]
fn internal_key_order() {
    let mut a = Vec::new();
    put_internal_key(&mut a, b"k", 5, ValueKind::Value);
    let mut b = Vec::new();
    put_internal_key(&mut b, b"k", 4, ValueKind::Value);
    let mut c = Vec::new();
    put_internal_key(&mut c, b"k\0", 9, ValueKind::Value);
    assert_eq!(compare_internal(&a, &b), core::cmp::Ordering::Less);
    assert_eq!(compare_internal(&b, &c), core::cmp::Ordering::Less);
    assert_eq!(
        compare_internal(&seek_key(b"k", 5), &a),
        core::cmp::Ordering::Less
    );
    assert_eq!(
        compare_internal(&seek_key(b"k", 4), &a),
        core::cmp::Ordering::Greater
    );
    assert_eq!(split_internal_key(&a), Some((&b"k"[..], 5, 1)));
}
