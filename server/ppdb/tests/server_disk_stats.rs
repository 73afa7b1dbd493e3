//! Disk mode's `stats`: after enough sets to fill several memtables, the server reports the
//! flushes, the tables they wrote and the log segments those flushes let it delete, with no
//! errors; in memory mode none of these lines appear.

mod common;

use std::io::Write;

use common::{read_until, stat_number, stats, Server};

#[test]
fn disk_mode_stats_count_flushes_tables_and_deleted_segments() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().to_str().expect("utf-8 path");
    // -m 16: memtables of 256 KiB, so 4 MiB of sets flush about sixteen of them.
    let server = Server::start(&["--data-dir", dir, "--durability", "none", "-m", "16"]);
    let mut stream = server.connect();
    let value = vec![b'v'; 4000];
    for i in 0..1000 {
        let mut request = format!("set key-{i} 0 0 {}\r\n", value.len()).into_bytes();
        request.extend_from_slice(&value);
        request.extend_from_slice(b"\r\n");
        stream.write_all(&request).expect("write a set");
        assert_eq!(read_until(&mut stream, b"\r\n"), b"STORED\r\n");
    }
    // Flushes run in the background: wait for the first few.
    let mut text = stats(&mut stream);
    for _ in 0..200 {
        if stat_number(&text, "disk_flushes") >= 2
            && stat_number(&text, "wal_segments_deleted") >= 1
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
        text = stats(&mut stream);
    }
    assert_eq!(stat_number(&text, "disk_mode"), 1);
    assert!(stat_number(&text, "disk_flushes") >= 2, "{text}");
    assert!(stat_number(&text, "disk_tables") >= 1, "{text}");
    assert!(
        stat_number(&text, "disk_table_bytes") >= 1_000_000,
        "{text}"
    );
    assert!(stat_number(&text, "wal_segments_deleted") >= 1, "{text}");
    for errors in ["wal_write_errors", "disk_flush_errors", "disk_read_errors"] {
        assert_eq!(stat_number(&text, errors), 0, "{errors}:\n{text}");
    }
}

#[test]
fn memory_mode_stats_have_no_disk_lines() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    let text = stats(&mut stream);
    for name in [
        "disk_mode",
        "disk_flushes",
        "wal_write_errors",
        "disk_read_errors",
    ] {
        assert!(!text.contains(&format!("STAT {name} ")), "{name}:\n{text}");
    }
}
