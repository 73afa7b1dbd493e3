//! An unterminated multiget line is cut at the cap (`-I`, 1 MiB): 64 MiB of it neither grows
//! the server's memory nor keeps the connection open. A long line under the cap works.

mod common;

use std::io::Write;
use std::thread;

use common::{exchange, read_to_close, Server};

#[test]
fn a_64_mib_multiget_line_is_cut_at_the_cap() {
    let server = Server::start(&[]);
    let rss_before = server.rss_kib();
    let mut stream = server.connect();
    let mut writer = stream.try_clone().unwrap();
    let total = 64usize << 20;
    let sender = thread::spawn(move || {
        let _ = writer.write_all(b"get ");
        let chunk = b"key ".repeat(16 << 10);
        let mut sent = 0usize;
        while sent < total {
            match writer.write_all(&chunk) {
                Ok(()) => sent += chunk.len(),
                Err(_) => break,
            }
        }
        sent
    });
    let (reply, closed) = read_to_close(&mut stream);
    assert!(closed, "the server closes the connection");
    assert!(reply.is_empty(), "no reply to a line over the cap");
    let sent = sender.join().unwrap();
    let rss_after = server.rss_kib();
    eprintln!("multiget cap: sent {sent} bytes; server RSS {rss_before} KiB -> {rss_after} KiB");
    assert!(
        sent < 32 << 20,
        "the server stopped reading near the cap ({sent} bytes sent)"
    );
    assert!(
        rss_after < rss_before + 16 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
}

#[test]
fn a_long_multiget_line_under_the_cap_works() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    exchange(&mut stream, b"set k7 0 0 1\r\nv\r\n", b"STORED\r\n");
    // About 900 KiB of keys in one line.
    let mut request = b"get".to_vec();
    for i in 0..100_000 {
        request.extend_from_slice(format!(" k{}", i % 50_000 + 1000).as_bytes());
    }
    request.extend_from_slice(b" k7\r\n");
    assert!(request.len() > 600 << 10 && request.len() < 1 << 20);
    let reply = exchange(&mut stream, &request, b"END\r\n");
    assert_eq!(reply, b"VALUE k7 0 1\r\nv\r\nEND\r\n");
}
