//! `quit` closes the connection after the replies before it; what follows is not executed.

mod common;

use std::io::Write;

use common::{read_to_close, Server};

#[test]
fn quit_closes_after_earlier_replies() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    stream
        .write_all(b"set k 0 0 1\r\nv\r\nget k\r\nquit\r\nset k 0 0 1\r\nw\r\n")
        .unwrap();
    let (reply, closed) = read_to_close(&mut stream);
    assert!(closed, "quit closes the connection");
    assert_eq!(reply, b"STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n");

    let mut other = server.connect();
    let reply = common::exchange(&mut other, b"get k\r\n", b"END\r\n");
    assert_eq!(
        reply, b"VALUE k 0 1\r\nv\r\nEND\r\n",
        "the request after quit did not run"
    );
}
