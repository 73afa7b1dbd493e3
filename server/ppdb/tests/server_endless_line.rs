//! A command line that never ends gets its connection closed; the server serves the others.

mod common;

use std::io::Write;
use std::thread;

use common::{exchange, read_to_close, Server};

#[test]
fn an_endless_line_closes_only_its_connection() {
    let server = Server::start(&[]);
    let mut other = server.connect();
    exchange(&mut other, b"set k 0 0 1\r\nv\r\n", b"STORED\r\n");

    let mut stream = server.connect();
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        // "set " and then 8 MiB without a newline, in pieces; stops when the server closes.
        let _ = writer.write_all(b"get k\r\nset ");
        let chunk = vec![b'a'; 64 << 10];
        let mut sent = 0usize;
        for _ in 0..128 {
            match writer.write_all(&chunk) {
                Ok(()) => sent += chunk.len(),
                Err(_) => break,
            }
        }
        sent
    });
    let (reply, closed) = read_to_close(&mut stream);
    assert!(closed, "the server closes the connection");
    assert_eq!(
        reply, b"VALUE k 0 1\r\nv\r\nEND\r\n",
        "replies before the line are sent"
    );
    let sent = sender.join().unwrap();
    assert!(
        sent < 8 << 20,
        "the server stopped reading ({sent} bytes sent)"
    );

    let reply = exchange(&mut other, b"get k\r\n", b"END\r\n");
    assert_eq!(
        reply, b"VALUE k 0 1\r\nv\r\nEND\r\n",
        "other connections are served"
    );
    let mut fresh = server.connect();
    let reply = exchange(&mut fresh, b"get k\r\n", b"END\r\n");
    assert_eq!(
        reply, b"VALUE k 0 1\r\nv\r\nEND\r\n",
        "new connections are served"
    );
}
