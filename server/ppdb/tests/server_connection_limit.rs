//! Over `-c` open connections, a new one gets `ERROR Too many open connections` and is
//! closed, as in memcached; once a connection closes, a new one is served again.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{exchange, read_to_close, Server};

#[test]
fn connections_over_the_limit_are_refused() {
    let server = Server::start(&["-c", "10"]);
    let mut open: Vec<_> = (0..10).map(|_| server.connect()).collect();
    for stream in &mut open {
        let reply = exchange(stream, b"get nothing\r\n", b"END\r\n");
        assert_eq!(reply, b"END\r\n");
    }
    for _ in 0..5 {
        let mut extra = server.connect();
        let (reply, closed) = read_to_close(&mut extra);
        assert!(closed);
        assert_eq!(reply, b"ERROR Too many open connections\r\n");
    }
    // The ten are still served.
    for stream in &mut open {
        assert_eq!(exchange(stream, b"get nothing\r\n", b"END\r\n"), b"END\r\n");
    }
    // Close one: a new connection is accepted once the server has noticed.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = server.connect();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut reply = Vec::new();
        use std::io::{Read, Write};
        stream.write_all(b"get nothing\r\n").unwrap();
        let mut buf = [0u8; 256];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buf[..n]);
            if reply.ends_with(b"\r\n") {
                break;
            }
        }
        if reply == b"END\r\n" {
            break;
        }
        assert_eq!(reply, b"ERROR Too many open connections\r\n");
        assert!(
            Instant::now() < deadline,
            "a closed connection's slot was never freed"
        );
        thread::sleep(Duration::from_millis(50));
    }
}
