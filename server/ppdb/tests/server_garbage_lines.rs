//! Garbage lines get `ERROR` each and leave the connection usable.

mod common;

use common::{exchange, Server};

#[test]
fn each_garbage_line_gets_error() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    let mut request = Vec::new();
    let garbage: Vec<Vec<u8>> = vec![
        b"hello world".to_vec(),
        b"GET k".to_vec(),
        b"".to_vec(),
        b"\x01\x02\x03\xff\xfe".to_vec(),
        vec![b'z'; 2000],
        b"sett k 0 0 1".to_vec(),
        b"\x80\x01\x00\x05".to_vec(),
    ];
    for line in &garbage {
        request.extend_from_slice(line);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"set k 0 0 2\r\nok\r\nget k\r\n");
    let reply = exchange(&mut stream, &request, b"END\r\n");
    let mut expected = b"ERROR\r\n".repeat(garbage.len());
    expected.extend_from_slice(b"STORED\r\nVALUE k 0 2\r\nok\r\nEND\r\n");
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn bad_arguments_get_client_errors() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    let reply = exchange(&mut stream, b"set k 0 0 x\r\n", b"\r\n");
    assert_eq!(reply, b"CLIENT_ERROR bad command line format\r\n");
    // As memcached: the 3 bytes after the line are not "x\r\n", and the "\r\n" left over is
    // an empty line.
    let reply = exchange(&mut stream, b"set k 0 0 1\r\nxyz\r\n", b"ERROR\r\n");
    assert_eq!(reply, b"CLIENT_ERROR bad data chunk\r\nERROR\r\n");
    let reply = exchange(&mut stream, b"get k\r\n", b"END\r\n");
    assert!(reply.ends_with(b"END\r\n"), "still usable");
}
