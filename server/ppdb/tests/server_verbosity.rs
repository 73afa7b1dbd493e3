//! `verbosity` changes the log level while the server runs.

mod common;

use std::time::Duration;

use common::{exchange, Server};

#[test]
fn verbosity_turns_on_connection_logs() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    assert!(
        !server.stderr().contains("connection opened"),
        "-v logs no connections"
    );
    assert_eq!(
        exchange(&mut stream, b"verbosity 2\r\n", b"\r\n"),
        b"OK\r\n"
    );
    assert_eq!(
        exchange(
            &mut stream,
            b"verbosity 1 noreply\r\nverbosity 2\r\n",
            b"\r\n"
        ),
        b"OK\r\n"
    );
    assert!(
        server.wait_for_log("log level changed", Duration::from_secs(5)),
        "the timer applies the new level; stderr:\n{}",
        server.stderr()
    );
    let _second = server.connect();
    assert!(
        server.wait_for_log("connection opened", Duration::from_secs(5)),
        "-vv logs each connection; stderr:\n{}",
        server.stderr()
    );
    assert!(server.stdout().is_empty(), "stdout stays quiet");
}
