//! `noreply` requests send nothing; the next request's reply comes right after.

mod common;

use common::{exchange, Server};

#[test]
fn noreply_sends_nothing() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    let request = b"set a 0 0 1 noreply\r\n1\r\nadd a 0 0 1 noreply\r\n2\r\n\
        append a 0 0 1 noreply\r\n3\r\nincr a 5 noreply\r\ntouch a 10 noreply\r\n\
        set b 0 0 1 noreply\r\nx\r\ndelete b noreply\r\nget a b\r\n";
    let reply = exchange(&mut stream, request, b"END\r\n");
    assert_eq!(reply, b"VALUE a 0 2\r\n18\r\nEND\r\n");
    let reply = exchange(&mut stream, b"flush_all noreply\r\nget a\r\n", b"END\r\n");
    assert_eq!(reply, b"END\r\n");
}
