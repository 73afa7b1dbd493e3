//! Feeds arbitrary bytes to the table reader and checks that opening, scanning, seeking and
//! point lookups never panic. A second mode builds a valid table from the input, flips one
//! bit chosen by the input, and checks that the damage is always reported (every byte of a
//! table is under a checksum).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppdb_core::memtable::{PutOptions, ValueKind};
use ppdb_core::table::{TableOptions, TableReader, TableWriter};
use ppdb_core::Error;
use ppdb_platform::{File, FileSystem, OpenMode};
use ppdb_platform_sim::{SimFile, SimFs};

/// Opens and reads the whole table; the number of versions, or the first error.
fn read_all(file: SimFile, probes: &[u8]) -> Result<usize, Error> {
    let table = TableReader::open(file)?;
    let mut it = table.iter();
    it.seek_to_first()?;
    let mut n = 0;
    while it.valid() {
        let v = it.current().expect("valid iterators have a version");
        assert!(v.seq <= ppdb_core::table::SEQ_MAX);
        n += 1;
        it.advance()?;
    }
    for chunk in probes.chunks(3) {
        let seq = u64::from(chunk[0]);
        let _ = table.get(chunk, seq)?;
        let mut it = table.iter();
        it.seek(chunk, seq)?;
    }
    Ok(n)
}

fn build(fs: &SimFs, data: &[u8]) -> usize {
    let file = fs.open("t", OpenMode::Truncate).expect("open");
    let options = TableOptions {
        block_bytes: 64 + usize::from(data.first().copied().unwrap_or(0)) * 8,
        restart_interval: 1 + usize::from(data.get(1).copied().unwrap_or(0) % 16),
        ..TableOptions::default()
    };
    let mut writer = TableWriter::new(file, options);
    let mut keys: Vec<Vec<u8>> = data
        .chunks(4)
        .map(|c| c[..c.len().min(3)].to_vec())
        .collect();
    keys.sort();
    keys.dedup();
    for (i, key) in keys.iter().enumerate() {
        for seq in (1..=(i as u64 % 3) + 1).rev() {
            let kind = if seq == 2 {
                ValueKind::Tombstone
            } else {
                ValueKind::Value
            };
            let value = if kind == ValueKind::Value {
                &data[..i.min(data.len())]
            } else {
                &[][..]
            };
            let options = PutOptions {
                flags: i as u32,
                ..PutOptions::default()
            };
            writer.add(key, seq, kind, &options, value).expect("add");
        }
    }
    let (props, _) = writer.finish().expect("finish");
    props.entries as usize
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let fs = SimFs::new(0);
    if mode & 1 == 0 {
        let file = fs.open("t", OpenMode::Truncate).expect("open");
        file.write_at(data, 0).expect("write");
        let _ = read_all(file, data.get(..30).unwrap_or(data));
        return;
    }
    let Some((data, flip)) = data.split_last_chunk::<4>() else {
        return;
    };
    let entries = build(&fs, data);
    let mut bytes = fs.peek("t").expect("the table");
    let file = fs.open("t", OpenMode::Existing).expect("open");
    assert_eq!(read_all(file, &[]).expect("a valid table reads"), entries);
    let at = u32::from_le_bytes(*flip) as usize;
    let byte = (at >> 3) % bytes.len();
    bytes[byte] ^= 1 << (at & 7);
    let file = fs.open("flipped", OpenMode::Truncate).expect("open");
    file.write_at(&bytes, 0).expect("write");
    let result = read_all(file, &[]);
    assert!(
        matches!(
            result,
            Err(Error::Corruption { .. } | Error::UnsupportedFormat { .. })
        ),
        "a flipped bit at byte {byte} went unnoticed: {result:?}"
    );
});
