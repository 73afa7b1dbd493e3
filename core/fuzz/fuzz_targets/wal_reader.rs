//! Feeds arbitrary bytes to the WAL reader (as a segment, with or without a valid segment
//! header in front) and checks that it never panics, never yields a record longer than its
//! limit, and ends at an offset inside the file; records it yields go through the batch
//! decoder. A second mode writes records taken from the input and checks that they read back
//! exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppdb_core::wal::{BatchDecoder, LogKind, LogReader, LogWriter, ReadOptions, SegmentHeader};
use ppdb_platform::{File, FileSystem, OpenMode};
use ppdb_platform_sim::SimFs;

const LOG: u64 = 1;

fn read_back(data: &[u8], options: ReadOptions) {
    let fs = SimFs::new(0);
    let file = fs.open("wal", OpenMode::Truncate).expect("open");
    file.write_at(data, 0).expect("write");
    let Ok(mut reader) = LogReader::new(file, LogKind::Wal, LOG, options) else {
        return;
    };
    let mut records = 0;
    loop {
        match reader.next_record() {
            Ok(Some(record)) => {
                assert!(record.data.len() <= options.record_bytes_max);
                assert!(record.offset < data.len() as u64);
                if let Ok(batch) = BatchDecoder::decode(record.data, record.offset) {
                    assert_eq!(batch.ops().count() as u64, u64::from(batch.header().count));
                }
                records += 1;
            }
            Ok(None) => {
                let end = reader.end().expect("an end after the last record");
                assert!(end.offset() <= data.len() as u64);
                break;
            }
            Err(_) => {
                assert!(reader.next_record().is_err(), "errors are sticky");
                break;
            }
        }
    }
    assert_eq!(reader.stats().records, records);
}

/// Writes the records the input describes (lengths from its bytes, contents from the rest),
/// syncing now and then, and reads them back.
fn round_trip(data: &[u8]) {
    let fs = SimFs::new(0);
    let file = fs.open("wal", OpenMode::Truncate).expect("open");
    let mut writer = LogWriter::create(file, LogKind::Wal, LOG).with_buffer_bytes_max(16 * 1024);
    let mut records = Vec::new();
    let mut rest = data;
    let mut total = 0;
    while let [a, b, tail @ ..] = rest {
        // Up to 64 KiB a record, 160 KiB in all: records cross blocks and trailers.
        let len = usize::from(*a) << 8 | usize::from(*b);
        total += len;
        if total > 160 * 1024 {
            break;
        }
        let record: Vec<u8> = tail.iter().copied().cycle().take(len).collect();
        writer.append(&record).expect("append");
        if a & 1 == 1 {
            writer.sync().expect("sync");
        }
        records.push(record);
        rest = tail.get(1..).unwrap_or(&[]);
    }
    writer.flush().expect("flush");
    let end = writer.offset();
    let mut reader = LogReader::new(
        writer.into_file(),
        LogKind::Wal,
        LOG,
        ReadOptions::default(),
    )
    .expect("reader");
    for want in &records {
        let got = reader.next_record().expect("read").expect("a record");
        assert_eq!(got.data, &want[..]);
    }
    assert!(reader.next_record().expect("read").is_none());
    assert_eq!(reader.end().expect("end").offset(), end);
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let options = ReadOptions {
        skip_corrupt: mode & 1 != 0,
        sealed: mode & 2 != 0,
        record_bytes_max: if mode & 4 != 0 { 1 << 20 } else { 300 },
    };
    match mode >> 6 {
        0 => read_back(data, options),
        1 | 2 => {
            let header = SegmentHeader {
                kind: LogKind::Wal,
                log_number: LOG,
            };
            let mut file = header.encode().to_vec();
            file.extend_from_slice(data);
            read_back(&file, options);
        }
        _ => round_trip(data),
    }
});
