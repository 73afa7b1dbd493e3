//! SIGTERM: the server stops accepting, executes the requests it had already read, delivers
//! their replies, closes, and exits 0.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use common::{exchange, read_to_close, Server};

#[test]
fn sigterm_delivers_in_flight_replies_and_exits_zero() {
    let mut server = Server::start(&[]);
    let addr = server.addr;
    let mut stream = server.connect();
    let value = vec![b'x'; 256 << 10];
    let mut set = format!("set big 0 0 {}\r\n", value.len()).into_bytes();
    set.extend_from_slice(&value);
    set.extend_from_slice(b"\r\n");
    exchange(&mut stream, &set, b"STORED\r\n");

    // 200 gets (50 MiB of replies) in one small write: read by the server at once, executed
    // only as fast as this client reads, since the server caps a connection's pending output.
    let gets = 200;
    stream.write_all(&b"get big\r\n".repeat(gets)).unwrap();
    let mut first = vec![0u8; 1000];
    stream.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"VALUE big 0 262144\r\n"));
    thread::sleep(Duration::from_millis(200));

    server.signal("TERM");
    assert!(
        server.wait_for_log("stopping: no new connections", Duration::from_secs(5)),
        "stderr:\n{}",
        server.stderr()
    );
    assert!(
        TcpStream::connect(addr).is_err(),
        "the server no longer accepts connections"
    );

    let (rest, closed) = read_to_close(&mut stream);
    assert!(
        closed,
        "the connection is closed once its replies are written"
    );
    let reply_len = "VALUE big 0 262144\r\n".len() + value.len() + "\r\nEND\r\n".len();
    assert_eq!(
        first.len() + rest.len(),
        gets * reply_len,
        "every reply arrived"
    );
    assert!(rest.ends_with(b"\r\nEND\r\n"));

    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the server exits");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", server.stderr());
}

#[test]
fn sigint_stops_an_idle_server() {
    let mut server = Server::start(&[]);
    let _idle = server.connect();
    server.signal("INT");
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the server exits");
    assert_eq!(status.code(), Some(0));
}
