//! A client that sends its requests and then shuts down its side gets every reply, then the
//! server closes the connection.

mod common;

use std::io::Write;
use std::net::Shutdown;

use common::{read_to_close, Server};

#[test]
fn replies_then_close_after_a_half_close() {
    let server = Server::start(&[]);
    for round in 0..20 {
        let mut stream = server.connect();
        let request = format!("set k{round} 0 0 2\r\nhi\r\nget k{round}\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let (reply, closed) = read_to_close(&mut stream);
        assert!(closed, "the server closes after the replies");
        let expected = format!("STORED\r\nVALUE k{round} 0 2\r\nhi\r\nEND\r\n");
        assert_eq!(String::from_utf8_lossy(&reply), expected);
    }
}
