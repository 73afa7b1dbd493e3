//! A second stop signal ends a draining server at once: the operator need not wait for a
//! client that does not read its replies.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{exchange, Server};

#[test]
fn a_second_sigterm_exits_at_once() {
    let mut server = Server::start(&[]);
    let mut stream = server.connect();
    let value = vec![b'x'; 256 << 10];
    let mut set = format!("set big 0 0 {}\r\n", value.len()).into_bytes();
    set.extend_from_slice(&value);
    set.extend_from_slice(b"\r\n");
    exchange(&mut stream, &set, b"STORED\r\n");
    // 50 MiB of replies that this client never reads.
    stream.write_all(&b"get big\r\n".repeat(200)).unwrap();

    server.signal("TERM");
    assert!(server.wait_for_log("stopping: no new connections", Duration::from_secs(5)));
    assert!(
        server.wait_exit(Duration::from_millis(500)).is_none(),
        "the server waits for the client to read"
    );
    server.signal("TERM");
    let status = server
        .wait_exit(Duration::from_secs(5))
        .expect("the second signal ends the process");
    assert_eq!(status.code(), Some(1));
}
