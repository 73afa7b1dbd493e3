//! `shutdown` is refused without `-A`; with `-A` it stops the server, which exits 0.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{exchange, read_to_close, Server};

#[test]
fn shutdown_without_enable_shutdown_is_refused() {
    let mut server = Server::start(&[]);
    let mut stream = server.connect();
    let reply = exchange(&mut stream, b"shutdown\r\n", b"\r\n");
    assert_eq!(reply, b"ERROR: shutdown not enabled\r\n");
    let reply = exchange(&mut stream, b"version\r\n", b"\r\n");
    assert!(
        reply.starts_with(b"VERSION "),
        "the connection stays usable"
    );
    assert!(
        server.wait_exit(Duration::from_millis(300)).is_none(),
        "still running"
    );
}

#[test]
fn shutdown_with_enable_shutdown_stops_the_server() {
    let mut server = Server::start(&["-A"]);
    let mut bystander = server.connect();
    exchange(&mut bystander, b"set k 0 0 1\r\nv\r\n", b"STORED\r\n");
    let mut stream = server.connect();
    stream.write_all(b"get k\r\nshutdown\r\n").unwrap();
    let (reply, closed) = read_to_close(&mut stream);
    assert!(closed);
    assert_eq!(
        reply, b"VALUE k 0 1\r\nv\r\nEND\r\n",
        "replies before shutdown are sent"
    );
    let (_, closed) = read_to_close(&mut bystander);
    assert!(closed, "other connections are closed too");
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the server exits");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", server.stderr());
}
