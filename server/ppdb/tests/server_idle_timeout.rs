//! `--idle-timeout`: a connection with no traffic for that long is closed; a busy one is not.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{exchange, read_to_close, Server};

#[test]
fn idle_connections_are_closed() {
    let server = Server::start(&["--idle-timeout", "1"]);
    let mut idle = server.connect();
    let mut busy = server.connect();
    assert_eq!(exchange(&mut idle, b"get x\r\n", b"END\r\n"), b"END\r\n");
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(3000) {
        assert_eq!(exchange(&mut busy, b"get x\r\n", b"END\r\n"), b"END\r\n");
        thread::sleep(Duration::from_millis(250));
    }
    let (reply, closed) = read_to_close(&mut idle);
    assert!(closed && reply.is_empty(), "the idle connection was closed");
    assert_eq!(exchange(&mut busy, b"get x\r\n", b"END\r\n"), b"END\r\n");
}
