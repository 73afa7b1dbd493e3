//! `ppdb dump` then `ppdb load` into another server: 100k items (text and binary keys and
//! values, flags, expiry times) arrive with everything equal.

mod cli_common;
mod common;

use std::io::{Read, Write};
use std::time::Instant;

use cli_common::{ppdb, run, server_args};
use common::{read_until, Server};

const ITEMS: usize = 100_000;

fn key(i: usize) -> Vec<u8> {
    if i % 1000 == 7 {
        // A key the text protocol cannot carry, and not UTF-8 either.
        let mut k = format!("bin key {i}\x01").into_bytes();
        k.push(0xff);
        k
    } else {
        format!("key:{i:06}").into_bytes()
    }
}

fn value(i: usize) -> Vec<u8> {
    if i % 100 == 3 {
        (0..=255u8)
            .cycle()
            .skip(i % 256)
            .take(40 + i % 50)
            .collect()
    } else {
        format!("value {i} {}", "x".repeat(i % 40)).into_bytes()
    }
}

/// Stores every item with pipelined quiet meta sets.
fn fill(server: &Server) {
    let mut stream = server.connect();
    let mut request = Vec::new();
    for i in 0..ITEMS {
        let k = key(i);
        let v = value(i);
        request.extend_from_slice(b"ms ");
        ppdb_memcache::base64::encode_into(&k, &mut request);
        let ttl = if i % 10 == 0 { 3600 } else { 0 };
        request.extend_from_slice(format!(" {} b F{} T{ttl} q\r\n", v.len(), i % 7).as_bytes());
        request.extend_from_slice(&v);
        request.extend_from_slice(b"\r\n");
        if i % 5000 == 4999 {
            request.extend_from_slice(b"mn\r\n");
            stream.write_all(&request).expect("send the items");
            request.clear();
            assert_eq!(read_until(&mut stream, b"MN\r\n"), b"MN\r\n");
        }
    }
}

fn dump(server: &Server, file: &std::path::Path) -> String {
    let mut command = ppdb(&["dump"]);
    command.args(server_args(server.addr)).arg(file);
    let outcome = run(command);
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);
    outcome.stderr
}

#[test]
fn dump_and_load_carry_100k_items() {
    let source = Server::start(&["-m", "1024"]);
    let target = Server::start(&["-m", "1024"]);
    fill(&source);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.jsonl");
    let second = dir.path().join("second.jsonl");

    let started = Instant::now();
    let summary = dump(&source, &first);
    assert!(
        summary.contains(&format!("dumped {ITEMS} items")),
        "{summary}"
    );
    let dumped = started.elapsed();

    let mut command = ppdb(&["load"]);
    command.args(server_args(target.addr)).arg(&first);
    let outcome = run(command);
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains(&format!("loaded {ITEMS} items")),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("0 skipped as expired, 0 failed"),
        "{}",
        outcome.stderr
    );
    eprintln!("dump {dumped:?}, dump + load {:?}", started.elapsed());

    dump(&target, &second);
    let a = std::fs::read(&first).unwrap();
    let b = std::fs::read(&second).unwrap();
    assert_eq!(a.iter().filter(|&&c| c == b'\n').count(), ITEMS);
    assert!(a == b, "the second server's dump equals the first's");

    // Spot checks against the item as stored, through the protocol.
    let mut stream = target.connect();
    for i in [0, 3, 7, 1007, 99_999] {
        let k = key(i);
        let mut request = b"mg ".to_vec();
        ppdb_memcache::base64::encode_into(&k, &mut request);
        request.extend_from_slice(b" b v f\r\n");
        stream.write_all(&request).unwrap();
        let header = format!("VA {} f{}\r\n", value(i).len(), i % 7);
        let mut expected = header.into_bytes();
        expected.extend_from_slice(&value(i));
        expected.extend_from_slice(b"\r\n");
        let mut reply = vec![0; expected.len()];
        stream.read_exact(&mut reply).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&reply),
            String::from_utf8_lossy(&expected),
            "item {i}"
        );
    }
    let text = String::from_utf8_lossy(&a);
    assert!(
        text.contains("\"key_encoding\":\"base64\""),
        "binary keys are base64"
    );
    assert!(
        text.contains("\"value_encoding\":\"base64\""),
        "binary values are base64"
    );
}
