//! WAL codec tests: round trips across block and trailer edges, truncation at every offset,
//! bit flips, torn tails versus corruption, writer failures, and the batch encoding.

use alloc::vec;
use alloc::vec::Vec;

use ppdb_platform::{File, FileSystem, OpenMode};
use ppdb_platform_sim::{Op, SimFile, SimFs};
use proptest::prelude::*;

use super::*;
use crate::memtable::PutOptions;
use crate::Error;

const LOG: u64 = 7;

/// A record of `len` bytes whose content depends on `tag`.
fn payload(tag: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ tag.wrapping_mul(131)) as u8)
        .collect()
}

/// Writes `records` into `path`, syncing after those marked; returns the end offset of each
/// record and the file.
fn write_log(fs: &SimFs, path: &str, records: &[(Vec<u8>, bool)]) -> (Vec<u64>, SimFile) {
    let file = fs.open(path, OpenMode::Truncate).unwrap();
    let mut w = LogWriter::create(file, LogKind::Wal, LOG).with_buffer_bytes_max(4096);
    let mut ends = Vec::new();
    for (record, sync) in records {
        w.append(record).unwrap();
        ends.push(w.offset());
        if *sync {
            w.sync().unwrap();
        }
    }
    w.flush().unwrap();
    (ends, w.into_file())
}

/// Reads every record; the error, if reading failed, replaces the end.
fn read_all(
    file: SimFile,
    options: ReadOptions,
) -> (Vec<Vec<u8>>, Result<LogEnd, Error>, ReadStats) {
    let mut r = LogReader::new(file, LogKind::Wal, LOG, options).unwrap();
    let mut out = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some(rec)) => out.push(rec.data.to_vec()),
            Ok(None) => break,
            Err(e) => return (out, Err(e), r.stats()),
        }
    }
    let end = r.end().unwrap();
    (out, Ok(end), r.stats())
}

fn copy_prefix(fs: &SimFs, from: &str, to: &str, len: usize) -> SimFile {
    let bytes = fs.peek(from).unwrap();
    let f = fs.open(to, OpenMode::Truncate).unwrap();
    f.write_at(&bytes[..len], 0).unwrap();
    f
}

#[test]
fn round_trip_at_every_distance_from_the_block_end() {
    // The first record ends 0..=2*HEADER_BYTES bytes before the block end, so that the second
    // one starts with a full header, an empty first fragment, or after a zero trailer.
    let room = BLOCK_BYTES - SEGMENT_HEADER_BYTES - HEADER_BYTES;
    for gap in 0..=2 * HEADER_BYTES + 2 {
        let fs = SimFs::new(1);
        let records = vec![
            (payload(1, room - gap), false),
            (payload(2, 100), false),
            (Vec::new(), true),
            (payload(3, 3 * BLOCK_BYTES + 5), false),
        ];
        let (ends, file) = write_log(&fs, "log", &records);
        let (got, end, _) = read_all(file, ReadOptions::default());
        assert_eq!(got.len(), records.len(), "gap {gap}");
        for (g, (want, _)) in got.iter().zip(&records) {
            assert_eq!(g, want, "gap {gap}");
        }
        assert_eq!(end.unwrap(), LogEnd::Clean { offset: ends[3] });
    }
}

#[test]
fn fragments_never_cross_blocks_and_trailers_are_zero() {
    let fs = SimFs::new(1);
    let room = BLOCK_BYTES - SEGMENT_HEADER_BYTES - HEADER_BYTES;
    let first = room - 4 - HEADER_BYTES;
    let (ends, _) = write_log(
        &fs,
        "log",
        &[(payload(1, first), false), (payload(2, 10), false)],
    );
    let bytes = fs.peek("log").unwrap();
    // HEADER_BYTES + 4 bytes were left: the second record starts in block 0 with a 4-byte
    // `First` fragment and ends in block 1.
    let second = SEGMENT_HEADER_BYTES + HEADER_BYTES + first;
    assert_eq!(bytes[second + field::TYPE], RecordType::First as u8);
    assert_eq!(ends[1] as usize, BLOCK_BYTES + HEADER_BYTES + 6);
    // Now leave fewer than a header's bytes: they are zeros, the record goes to block 1.
    let (_, _) = write_log(
        &fs,
        "log2",
        &[(payload(1, room - 3), false), (payload(2, 10), false)],
    );
    let bytes = fs.peek("log2").unwrap();
    assert_eq!(&bytes[BLOCK_BYTES - 3..BLOCK_BYTES], &[0, 0, 0]);
    assert_eq!(bytes[BLOCK_BYTES + field::TYPE], RecordType::Full as u8);
}

#[test]
fn sync_records_announce_the_durable_offset() {
    let fs = SimFs::new(1);
    let (ends, file) = write_log(
        &fs,
        "log",
        &[(payload(1, 10), true), (payload(2, 10), false)],
    );
    let bytes = fs.peek("log").unwrap();
    let at = ends[0] as usize;
    assert_eq!(bytes[at + field::TYPE], RecordType::Sync as u8);
    assert_eq!(
        &bytes[at + HEADER_BYTES..at + HEADER_BYTES + 8],
        &ends[0].to_le_bytes()
    );
    let (got, end, stats) = read_all(file, ReadOptions::default());
    assert_eq!(got.len(), 2);
    assert_eq!(stats.sync_records, 1);
    assert_eq!(end.unwrap().offset(), ends[1]);
}

/// Sizes up to 200 KiB, mostly small: small records move the block edges around.
fn record_sizes() -> impl Strategy<Value = Vec<(usize, bool)>> {
    let size = prop_oneof![
        6 => 0usize..200,
        2 => 200usize..BLOCK_BYTES + 100,
        1 => (BLOCK_BYTES - 3 * HEADER_BYTES)..(BLOCK_BYTES + 3 * HEADER_BYTES),
        1 => 0usize..=200 * 1024,
    ];
    proptest::collection::vec((size, any::<bool>()), 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn records_round_trip(sizes in record_sizes(), buffer in 1usize..100_000) {
        let fs = SimFs::new(2);
        let records: Vec<(Vec<u8>, bool)> =
            sizes.iter().enumerate().map(|(i, &(n, s))| (payload(i, n), s)).collect();
        let file = fs.open("log", OpenMode::Truncate).unwrap();
        let mut w = LogWriter::create(file, LogKind::Wal, LOG).with_buffer_bytes_max(buffer);
        for (r, sync) in &records {
            w.append(r).unwrap();
            if *sync {
                w.sync().unwrap();
            }
        }
        w.flush().unwrap();
        let end_offset = w.offset();
        let (got, end, stats) = read_all(w.into_file(), ReadOptions::default());
        prop_assert_eq!(end.unwrap(), LogEnd::Clean { offset: end_offset });
        prop_assert_eq!(got.len(), records.len());
        for (g, (want, _)) in got.iter().zip(&records) {
            prop_assert_eq!(g, want);
        }
        prop_assert_eq!(stats.records, records.len() as u64);
    }

    /// Random bit flips are never accepted: strict reading yields an exact prefix and then an
    /// end or an error; skipping yields a subsequence of the written records.
    #[test]
    fn bit_flips_are_never_accepted(
        sizes in proptest::collection::vec((0usize..3000, any::<bool>()), 1..40),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
    ) {
        let fs = SimFs::new(3);
        let records: Vec<(Vec<u8>, bool)> =
            sizes.iter().enumerate().map(|(i, &(n, s))| (payload(i, n), s)).collect();
        write_log(&fs, "log", &records);
        let mut bytes = fs.peek("log").unwrap();
        for (index, bit) in &flips {
            let i = index.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        let written: Vec<&Vec<u8>> = records.iter().map(|(r, _)| r).collect();
        for skip_corrupt in [false, true] {
            let f = fs.open("flipped", OpenMode::Truncate).unwrap();
            f.write_at(&bytes, 0).unwrap();
            let options = ReadOptions { skip_corrupt, ..ReadOptions::default() };
            let (got, end, _) = read_all(f, options);
            if let Err(e) = &end {
                prop_assert!(matches!(e, Error::Corruption { .. }), "{:?}", e);
            }
            if skip_corrupt {
                // A subsequence: each yielded record is a written one, in order.
                let mut next = 0;
                for g in &got {
                    let found = written[next..].iter().position(|w| *w == g);
                    prop_assert!(found.is_some(), "a record that was never written");
                    next += found.unwrap_or(0) + 1;
                }
            } else {
                prop_assert!(got.len() <= written.len());
                for (g, w) in got.iter().zip(&written) {
                    prop_assert_eq!(g, *w);
                }
            }
        }
    }
}

/// Cutting a log at byte `len` yields exactly the records that end at or before `len`.
fn check_truncation(fs: &SimFs, records: &[(Vec<u8>, bool)], ends: &[u64], len: usize) {
    let f = copy_prefix(fs, "log", "cut", len);
    let (got, end, _) = read_all(f, ReadOptions::default());
    let end = end.unwrap_or_else(|e| panic!("cut at {len}: {e}"));
    let complete = ends.iter().filter(|&&e| e <= len as u64).count();
    assert_eq!(got.len(), complete, "cut at {len}");
    for (g, (w, _)) in got.iter().zip(records) {
        assert_eq!(g, w, "cut at {len}");
    }
    let valid = if complete == 0 { 0 } else { ends[complete - 1] };
    assert!(end.offset() <= len as u64, "cut at {len}: {end:?}");
    if len >= SEGMENT_HEADER_BYTES {
        assert!(
            end.offset() >= valid.max(SEGMENT_HEADER_BYTES as u64),
            "cut at {len}: {end:?}"
        );
    }
}

#[test]
fn truncation_at_every_offset_of_a_small_log_yields_a_prefix() {
    let fs = SimFs::new(4);
    let records: Vec<(Vec<u8>, bool)> = (0..24)
        .map(|i| (payload(i, (i * 37) % 120), i % 5 == 0))
        .collect();
    let (ends, _) = write_log(&fs, "log", &records);
    let total = fs.peek("log").unwrap().len();
    assert!(total > 1500);
    for len in 0..=total {
        check_truncation(&fs, &records, &ends, len);
    }
}

#[test]
fn truncation_around_block_edges_yields_a_prefix() {
    let fs = SimFs::new(5);
    let room = BLOCK_BYTES - SEGMENT_HEADER_BYTES - HEADER_BYTES;
    let records = vec![
        (payload(0, 100), true),
        (payload(1, room - 100 - 2 * HEADER_BYTES - 30), false),
        (payload(2, 60), true),
        (payload(3, BLOCK_BYTES + 700), false),
        (payload(4, 5), true),
    ];
    let (ends, _) = write_log(&fs, "log", &records);
    let total = fs.peek("log").unwrap().len();
    for len in 0..=total {
        let near_edge = (len % BLOCK_BYTES) < 300 || BLOCK_BYTES - (len % BLOCK_BYTES) < 300;
        let near_end = ends.iter().any(|&e| (e as usize).abs_diff(len) < 40);
        if near_edge || near_end || len % 97 == 0 || len == total {
            check_truncation(&fs, &records, &ends, len);
        }
    }
}

#[test]
fn damage_before_a_later_sync_record_is_corruption() {
    let fs = SimFs::new(6);
    let records: Vec<(Vec<u8>, bool)> = (0..8).map(|i| (payload(i, 5000), true)).collect();
    let (ends, _) = write_log(&fs, "log", &records);
    let mut bytes = fs.peek("log").unwrap();
    // Damage the payload of record 1 (synced, and vouched for by later Sync records).
    let victim = ends[0] as usize + HEADER_BYTES + 8 + HEADER_BYTES + 10;
    bytes[victim] ^= 0x40;
    let f = fs.open("bad", OpenMode::Truncate).unwrap();
    f.write_at(&bytes, 0).unwrap();
    let (got, end, _) = read_all(f, ReadOptions::default());
    assert_eq!(got.len(), 1);
    let Err(Error::Corruption { offset, .. }) = end else {
        panic!("expected corruption, got {end:?}");
    };
    assert!(offset > ends[0] && offset < ends[1], "{offset}");

    let f = fs.open("bad", OpenMode::Existing).unwrap();
    let options = ReadOptions {
        skip_corrupt: true,
        ..ReadOptions::default()
    };
    let (got, end, stats) = read_all(f, options);
    assert_eq!(stats.skipped_regions, 1);
    assert!(matches!(end, Ok(LogEnd::Clean { .. })), "{end:?}");
    assert_eq!(got[0], records[0].0);
    // Only record 1 is lost: its length field led to the next fragment.
    let mut want: Vec<Vec<u8>> = records.iter().map(|(r, _)| r.clone()).collect();
    want.remove(1);
    assert_eq!(got, want);

    // Damage to a length field: the rest of the block is skipped, the next block resumes
    // (its first fragments, the tail of a record that began in the skipped part, are dropped).
    let mut bytes = fs.peek("log").unwrap();
    let victim = ends[0] as usize + HEADER_BYTES + 8 + field::LENGTH.start;
    bytes[victim] ^= 0x01;
    let f = fs.open("bad2", OpenMode::Truncate).unwrap();
    f.write_at(&bytes, 0).unwrap();
    let (got, end, stats) = read_all(f, options);
    assert!(end.is_ok(), "{end:?}");
    assert_eq!(stats.skipped_regions, 1);
    let first_in_block_1 = ends.iter().position(|&e| e > BLOCK_BYTES as u64).unwrap() + 1;
    let mut want = vec![records[0].0.clone()];
    want.extend(records[first_in_block_1..].iter().map(|(r, _)| r.clone()));
    assert_eq!(got, want);
}

#[test]
fn unsynced_damage_is_a_torn_tail_even_with_valid_records_after_it() {
    let fs = SimFs::new(7);
    let mut records: Vec<(Vec<u8>, bool)> = vec![(payload(0, 3000), true)];
    records.extend((1..20).map(|i| (payload(i, 3000), false)));
    let (ends, _) = write_log(&fs, "log", &records);
    let mut bytes = fs.peek("log").unwrap();
    // A lost sector in the unsynced part: zeros, with valid records after it.
    let hole = (ends[2] as usize / 512 + 1) * 512;
    bytes[hole..hole + 512].fill(0);
    let f = fs.open("holed", OpenMode::Truncate).unwrap();
    f.write_at(&bytes, 0).unwrap();
    let (got, end, _) = read_all(f, ReadOptions::default());
    let LogEnd::Torn {
        offset,
        damage_offset,
        ..
    } = end.unwrap()
    else {
        panic!("expected a torn tail");
    };
    let complete = ends.iter().filter(|&&e| e <= hole as u64).count();
    assert_eq!(got.len(), complete);
    assert_eq!(offset, ends[complete - 1], "cut at the record the hole hit");
    assert!(damage_offset >= offset);
    // Sealed, the same damage is corruption.
    let f = fs.open("holed", OpenMode::Existing).unwrap();
    let (_, end, _) = read_all(
        f,
        ReadOptions {
            sealed: true,
            ..ReadOptions::default()
        },
    );
    assert!(matches!(end, Err(Error::Corruption { .. })), "{end:?}");
}

#[test]
fn an_incomplete_last_record_is_torn_unless_sealed() {
    let fs = SimFs::new(8);
    let records = vec![(payload(0, 10), true), (payload(1, 50_000), false)];
    let (ends, _) = write_log(&fs, "log", &records);
    let f = copy_prefix(&fs, "log", "cut", ends[1] as usize - 1);
    let (got, end, _) = read_all(f, ReadOptions::default());
    assert_eq!(got.len(), 1);
    assert!(matches!(end, Ok(LogEnd::Torn { offset, .. }) if offset > ends[0]));
    let f = fs.open("cut", OpenMode::Existing).unwrap();
    let (_, end, _) = read_all(
        f,
        ReadOptions {
            sealed: true,
            ..ReadOptions::default()
        },
    );
    assert!(matches!(end, Err(Error::Corruption { .. })), "{end:?}");
}

#[test]
fn segment_headers_are_checked() {
    let fs = SimFs::new(9);
    write_log(&fs, "log", &[(payload(0, 10), false)]);
    // Empty file: a torn creation.
    let f = fs.open("empty", OpenMode::Truncate).unwrap();
    let (got, end, _) = read_all(f, ReadOptions::default());
    assert!(got.is_empty());
    assert!(matches!(end, Ok(LogEnd::Torn { offset: 0, .. })));
    // Another log number: a misplaced file, always an error.
    let f = fs.open("log", OpenMode::Existing).unwrap();
    let mut r = LogReader::new(f, LogKind::Wal, LOG + 1, ReadOptions::default()).unwrap();
    assert!(matches!(
        r.next_record(),
        Err(Error::Corruption { offset: 0, .. })
    ));
    // Errors are sticky (a fuzzer found that the header's were not).
    assert!(matches!(
        r.next_record(),
        Err(Error::Corruption { offset: 0, .. })
    ));
    // A manifest is not a WAL segment.
    let f = fs.open("log", OpenMode::Existing).unwrap();
    let mut r = LogReader::new(f, LogKind::Manifest, LOG, ReadOptions::default()).unwrap();
    assert!(matches!(r.next_record(), Ok(None)));
    assert!(matches!(r.end(), Some(LogEnd::Torn { offset: 0, .. })));
    // A newer version.
    let mut bytes = fs.peek("log").unwrap();
    bytes[8] = 2;
    let crc = crate::format::crc32c::mask(crate::format::crc32c::checksum(&bytes[..28]));
    bytes[28..32].copy_from_slice(&crc.to_le_bytes());
    let f = fs.open("v2", OpenMode::Truncate).unwrap();
    f.write_at(&bytes, 0).unwrap();
    let mut r = LogReader::new(f, LogKind::Wal, LOG, ReadOptions::default()).unwrap();
    assert!(matches!(
        r.next_record(),
        Err(Error::UnsupportedFormat { version: 2, .. })
    ));
}

#[test]
fn a_damaged_header_is_corruption_once_a_sync_record_vouches_for_it() {
    let fs = SimFs::new(15);
    write_log(
        &fs,
        "log",
        &[(payload(0, 10), true), (payload(1, 10), false)],
    );
    let mut bytes = fs.peek("log").unwrap();
    bytes[3] ^= 1;
    let f = fs.open("bad", OpenMode::Truncate).unwrap();
    f.write_at(&bytes, 0).unwrap();
    let (got, end, _) = read_all(f, ReadOptions::default());
    assert!(got.is_empty());
    assert!(
        matches!(end, Err(Error::Corruption { offset: 0, .. })),
        "{end:?}"
    );
    // Without a sync, the same damage is a torn creation.
    write_log(&fs, "log", &[(payload(0, 10), false)]);
    let mut bytes = fs.peek("log").unwrap();
    bytes[3] ^= 1;
    let f = fs.open("bad", OpenMode::Truncate).unwrap();
    f.write_at(&bytes, 0).unwrap();
    let (_, end, _) = read_all(f, ReadOptions::default());
    assert!(matches!(end, Ok(LogEnd::Torn { offset: 0, .. })), "{end:?}");
}

#[test]
fn records_of_a_recycled_file_are_not_taken_for_current_ones() {
    let fs = SimFs::new(10);
    let records: Vec<(Vec<u8>, bool)> = (0..10).map(|i| (payload(i, 900), true)).collect();
    write_log(&fs, "log", &records);
    let old = fs.peek("log").unwrap();
    // Reuse the file for log 8 without truncating it: the old records stay behind the new ones.
    let f = fs.open("log", OpenMode::Existing).unwrap();
    let mut w = LogWriter::create(f, LogKind::Wal, 8);
    w.append(&payload(99, 500)).unwrap();
    w.sync().unwrap();
    let end = w.offset();
    assert_eq!(fs.peek("log").unwrap().len(), old.len());
    let f = fs.open("log", OpenMode::Existing).unwrap();
    let mut r = LogReader::new(f, LogKind::Wal, 8, ReadOptions::default()).unwrap();
    assert_eq!(
        r.next_record().unwrap().unwrap().data,
        &payload(99, 500)[..]
    );
    assert!(r.next_record().unwrap().is_none());
    assert!(matches!(r.end(), Some(LogEnd::Torn { offset, .. }) if offset == end));
}

#[test]
fn a_failed_write_can_be_discarded_and_writing_resumes() {
    let fs = SimFs::new(11);
    let file = fs.open("log", OpenMode::Truncate).unwrap();
    let mut w = LogWriter::create(file, LogKind::Wal, LOG);
    w.append(b"kept").unwrap();
    w.sync().unwrap();
    w.append(b"lost").unwrap();
    fs.fail_nth_op(Op::Write, 1);
    assert!(matches!(w.sync(), Err(Error::Platform(_))));
    assert!(w.is_poisoned());
    assert_eq!(w.append(b"refused"), Err(Error::Poisoned));
    w.discard_unsynced().unwrap();
    w.append(b"after").unwrap();
    w.sync().unwrap();
    let (got, end, _) = read_all(w.into_file(), ReadOptions::default());
    assert_eq!(got, vec![b"kept".to_vec(), b"after".to_vec()]);
    assert!(matches!(end, Ok(LogEnd::Clean { .. })));
}

#[test]
fn a_failed_sync_poisons_for_good() {
    let fs = SimFs::new(12);
    let file = fs.open("log", OpenMode::Truncate).unwrap();
    let mut w = LogWriter::create(file, LogKind::Wal, LOG);
    w.append(b"x").unwrap();
    fs.fail_nth_op(Op::SyncData, 1);
    assert!(w.sync().is_err());
    assert_eq!(w.sync(), Err(Error::Poisoned));
    assert_eq!(w.discard_unsynced(), Err(Error::Poisoned));
}

#[test]
fn a_cut_segment_can_be_resumed() {
    let fs = SimFs::new(13);
    let records = vec![(payload(0, 40_000), true), (payload(1, 30_000), false)];
    let (ends, _) = write_log(&fs, "log", &records);
    let f = copy_prefix(&fs, "log", "cut", ends[1] as usize - 7);
    let (got, end, _) = read_all(f, ReadOptions::default());
    assert_eq!(got.len(), 1);
    let cut = end.unwrap().offset();
    let f = fs.open("cut", OpenMode::Existing).unwrap();
    f.set_len(cut).unwrap();
    f.sync_data().unwrap();
    let mut w = LogWriter::resume(f, LogKind::Wal, LOG, cut);
    w.append(&payload(2, 70_000)).unwrap();
    w.sync().unwrap();
    let (got, end, _) = read_all(w.into_file(), ReadOptions::default());
    assert_eq!(got, vec![payload(0, 40_000), payload(2, 70_000)]);
    assert!(matches!(end, Ok(LogEnd::Clean { .. })));
}

#[test]
fn oversized_records_are_refused_and_rejected() {
    let fs = SimFs::new(14);
    let file = fs.open("log", OpenMode::Truncate).unwrap();
    let mut w = LogWriter::create(file, LogKind::Wal, LOG).with_record_bytes_max(100);
    assert!(matches!(
        w.append(&[0; 101]),
        Err(Error::ValueTooLarge { len: 101, max: 100 })
    ));
    let mut w = w.with_record_bytes_max(1000);
    w.append(&[0; 1000]).unwrap();
    w.sync().unwrap();
    let options = ReadOptions {
        record_bytes_max: 999,
        ..ReadOptions::default()
    };
    let (got, end, _) = read_all(w.into_file(), options);
    assert!(got.is_empty());
    assert!(matches!(end, Err(Error::Corruption { .. })));
}

// ---- batches ----

fn options_strategy() -> impl Strategy<Value = PutOptions> {
    (any::<u32>(), any::<u64>(), any::<u64>(), 0u8..=0x7f).prop_map(
        |(flags, expire_at, cas_origin, tags)| PutOptions {
            flags,
            expire_at,
            cas_origin,
            tags,
        },
    )
}

#[derive(Debug, Clone)]
enum OwnedOp {
    Put(Vec<u8>, Vec<u8>, PutOptions),
    Delete(Vec<u8>, PutOptions),
    FlushAll(u64),
}

impl OwnedOp {
    fn as_op(&self) -> WalOp<'_> {
        match self {
            OwnedOp::Put(k, v, o) => WalOp::Put {
                key: k,
                value: v,
                options: *o,
            },
            OwnedOp::Delete(k, o) => WalOp::Delete {
                key: k,
                options: *o,
            },
            OwnedOp::FlushAll(now) => WalOp::FlushAll { now: *now },
        }
    }
}

fn op_strategy() -> impl Strategy<Value = OwnedOp> {
    let key = proptest::collection::vec(any::<u8>(), 0..40);
    let value = proptest::collection::vec(any::<u8>(), 0..300);
    prop_oneof![
        (key.clone(), value, options_strategy()).prop_map(|(k, v, o)| OwnedOp::Put(k, v, o)),
        (key, options_strategy()).prop_map(|(k, o)| OwnedOp::Delete(k, o)),
        any::<u64>().prop_map(OwnedOp::FlushAll),
    ]
}

proptest! {
    #[test]
    fn batches_round_trip(first_seq in 0u64..u64::MAX / 2, ops in proptest::collection::vec(op_strategy(), 0..30)) {
        let mut out = vec![0xee];
        let views: Vec<WalOp<'_>> = ops.iter().map(OwnedOp::as_op).collect();
        let header = batch::encode_batch(&mut out, first_seq, &views);
        prop_assert_eq!(header, BatchHeader { first_seq, count: ops.len() as u32 });
        let d = BatchDecoder::decode(&out[1..], 0).unwrap();
        prop_assert_eq!(d.header(), header);
        let back: Vec<(u64, WalOp<'_>)> = d.ops().collect();
        prop_assert_eq!(back.len(), views.len());
        for (i, ((seq, op), want)) in back.iter().zip(&views).enumerate() {
            prop_assert_eq!(*seq, first_seq + i as u64);
            prop_assert_eq!(op, want);
        }
        // Every strict prefix is rejected.
        for cut in (0..out.len() - 1).step_by(1 + out.len() / 300) {
            prop_assert!(BatchDecoder::decode(&out[1..1 + cut], 0).is_err());
        }
    }
}

#[test]
fn batch_decoding_rejects_unknown_tags_and_trailing_bytes() {
    let mut out = Vec::new();
    batch::encode_batch(&mut out, 5, &[WalOp::FlushAll { now: 9 }]);
    let mut bad = out.clone();
    bad[0] = 2;
    assert!(matches!(
        BatchDecoder::decode(&bad, 3),
        Err(Error::UnsupportedFormat { version: 2, .. })
    ));
    let mut bad = out.clone();
    bad[batch::BATCH_HEADER_BYTES] = 0x7e;
    assert!(matches!(
        BatchDecoder::decode(&bad, 3),
        Err(Error::UnsupportedFormat { version: 0x7e, .. })
    ));
    let mut bad = out.clone();
    bad.push(0);
    assert!(matches!(
        BatchDecoder::decode(&bad, 3),
        Err(Error::Corruption { offset: 3, .. })
    ));
    let mut bad = out;
    bad[9..13].copy_from_slice(&2u32.to_le_bytes());
    assert!(matches!(
        BatchDecoder::decode(&bad, 3),
        Err(Error::Corruption { .. })
    ));
}

#[test]
fn batch_byte_layout() {
    let mut out = Vec::new();
    let options = PutOptions {
        flags: 3,
        expire_at: 0,
        cas_origin: 0,
        tags: 1,
    };
    batch::encode_batch(
        &mut out,
        0x0102,
        &[WalOp::Put {
            key: b"k",
            value: b"vv",
            options,
        }],
    );
    assert_eq!(
        out,
        [
            1,
            0x02,
            0x01,
            0,
            0,
            0,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            op_tag(1),
            1,
            b'k',
            3,
            0,
            0,
            1,
            2,
            b'v',
            b'v'
        ]
    );
}

fn op_tag(t: u8) -> u8 {
    t
}
