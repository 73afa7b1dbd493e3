//! Requests that arrive one byte per write parse exactly as whole ones.

mod common;

use std::io::Write;
use std::thread;
use std::time::Duration;

use common::{read_until, Server};

#[test]
fn one_byte_writes() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    let request =
        b"set k 5 0 10\r\n0123456789\r\nget k\r\nbogus\r\nincr n 1\r\ndelete k\r\nget k\r\n";
    for (i, byte) in request.iter().enumerate() {
        stream.write_all(&[*byte]).unwrap();
        if i % 16 == 0 {
            thread::sleep(Duration::from_millis(1));
        }
    }
    let expected: &[u8] = b"STORED\r\nVALUE k 5 10\r\n0123456789\r\nEND\r\nERROR\r\nNOT_FOUND\r\n\
        DELETED\r\nEND\r\n";
    let reply = read_until(&mut stream, b"DELETED\r\nEND\r\n");
    assert_eq!(reply, expected);
}
