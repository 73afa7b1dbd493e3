//! A client that pipelines thousands of gets of a large value and never reads its replies does
//! not make the server buffer them: the connection stops executing and reading once its
//! pending output is over the cap, and the server's memory stays flat. When the client reads,
//! every reply arrives.

mod common;

use std::io::{Read, Write};
use std::thread;
use std::time::Duration;

use common::{exchange, Server};

#[test]
fn unread_replies_do_not_grow_server_memory() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    let value = vec![b'v'; 512 << 10];
    let mut set = format!("set big 0 0 {}\r\n", value.len()).into_bytes();
    set.extend_from_slice(&value);
    set.extend_from_slice(b"\r\n");
    exchange(&mut stream, &set, b"STORED\r\n");
    thread::sleep(Duration::from_millis(1500)); // let the sweep shrink the input buffer
    let rss_before = server.rss_kib();

    // 2000 gets of 512 KiB: 1 GiB of replies, requested in 18 KB.
    let gets = 2000;
    stream.write_all(&b"get big\r\n".repeat(gets)).unwrap();
    let mut rss_peak = 0;
    for _ in 0..10 {
        thread::sleep(Duration::from_millis(200));
        rss_peak = rss_peak.max(server.rss_kib());
    }
    eprintln!(
        "slow reader: server RSS {rss_before} KiB before, {rss_peak} KiB at most while {} MiB \
         of replies were pending",
        (gets * value.len()) >> 20
    );
    assert!(
        rss_peak < rss_before + 32 * 1024,
        "RSS grew from {rss_before} KiB to {rss_peak} KiB"
    );

    // Now read everything: every reply arrives, in full.
    let reply_len = "VALUE big 0 524288\r\n".len() + value.len() + "\r\nEND\r\n".len();
    let mut remaining = gets * reply_len;
    let mut buf = vec![0u8; 1 << 20];
    let mut tail = Vec::new();
    while remaining > 0 {
        let n = stream.read(&mut buf).expect("replies keep coming");
        assert!(
            n > 0,
            "the server closed with {remaining} bytes of replies unsent"
        );
        remaining = remaining
            .checked_sub(n)
            .expect("no more bytes than the replies");
        tail = buf[..n].to_vec();
    }
    assert!(tail.ends_with(b"\r\nEND\r\n"));
    let reply = exchange(&mut stream, b"get nothing\r\n", b"END\r\n");
    assert_eq!(reply, b"END\r\n", "the connection is usable afterwards");
}
