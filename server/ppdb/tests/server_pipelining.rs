//! Many requests in one write: every reply comes back, in order.

mod common;

use std::io::Write;

use common::{exchange, read_until, stat_number, stats, Server};

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    let count = 5000;
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..count {
        let value = format!("v{i}");
        request
            .extend_from_slice(format!("set k{i} 0 0 {}\r\n{value}\r\n", value.len()).as_bytes());
        request.extend_from_slice(format!("get k{i}\r\n").as_bytes());
        expected.extend_from_slice(b"STORED\r\n");
        expected.extend_from_slice(
            format!("VALUE k{i} 0 {}\r\n{value}\r\nEND\r\n", value.len()).as_bytes(),
        );
    }
    request.extend_from_slice(b"get k0 k1 nothing k2\r\n");
    expected.extend_from_slice(
        b"VALUE k0 0 2\r\nv0\r\nVALUE k1 0 2\r\nv1\r\nVALUE k2 0 2\r\nv2\r\nEND\r\n",
    );
    // A last request with a reply found nowhere else marks the end.
    request.extend_from_slice(b"incr k0 1\r\nbogus\r\n");
    expected.extend_from_slice(b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    expected.extend_from_slice(b"ERROR\r\n");
    let reply = exchange(&mut stream, &request, b"value\r\nERROR\r\n");
    assert_eq!(reply.len(), expected.len());
    assert!(reply == expected, "replies differ from the requests' order");
}

#[test]
fn pipelined_storage_across_many_writes() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    // A large value split over many small writes, with the next request glued to its end.
    let value = vec![b'x'; 300_000];
    let mut request = format!("set big 0 0 {}\r\n", value.len()).into_bytes();
    request.extend_from_slice(&value);
    request.extend_from_slice(b"\r\nget big\r\n");
    for chunk in request.chunks(7919) {
        stream.write_all(chunk).unwrap();
    }
    let mut expected = b"STORED\r\nVALUE big 0 300000\r\n".to_vec();
    expected.extend_from_slice(&value);
    expected.extend_from_slice(b"\r\nEND\r\n");
    assert_eq!(read_until(&mut stream, b"END\r\n"), expected);
}

/// A connection yields to the others after 20 requests (memcached's `-R` default); requests
/// already read but not yet executed are then executed on its next turn, without waiting for
/// more input from the client. 41 requests in one write: two full turns and one request left.
#[test]
fn requests_left_after_a_turn_are_answered_without_more_input() {
    let server = Server::start(&[]);
    let mut stream = server.connect();
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..41 {
        request.extend_from_slice(format!("set t{i} 0 0 1\r\n{}\r\n", i % 10).as_bytes());
        expected.extend_from_slice(b"STORED\r\n");
    }
    stream.write_all(&request).unwrap();
    let mut replies = Vec::new();
    while replies.len() < expected.len() {
        replies.extend(read_until(&mut stream, b"STORED\r\n"));
    }
    assert_eq!(replies, expected);
    let reply = exchange(&mut stream, b"get t40\r\n", b"END\r\n");
    assert_eq!(reply, b"VALUE t40 0 1\r\n0\r\nEND\r\n");
}

/// `-R 2`: a connection gives way after every two requests. Seven requests in one write are all
/// answered, in order, each yield counts in `conn_yields`, and `stats settings` shows the
/// setting; with the default of 20 the same seven requests never yield.
#[test]
fn max_reqs_per_event_sets_the_turn_and_counts_yields() {
    let seven_sets = || {
        let mut request = Vec::new();
        for i in 0..7 {
            request.extend_from_slice(format!("set r{i} 0 0 1\r\n{i}\r\n").as_bytes());
        }
        request
    };
    for (args, yields_min, yields_max) in [(&["-R", "2"][..], 1, u64::MAX), (&[][..], 0, 0)] {
        let server = Server::start(args);
        let mut stream = server.connect();
        stream.write_all(&seven_sets()).unwrap();
        let mut replies = Vec::new();
        while replies.len() < 7 * b"STORED\r\n".len() {
            replies.extend(read_until(&mut stream, b"STORED\r\n"));
        }
        assert_eq!(replies, b"STORED\r\n".repeat(7), "{args:?}");
        let text = stats(&mut stream);
        let yields = stat_number(&text, "conn_yields");
        assert!(
            (yields_min..=yields_max).contains(&yields),
            "{args:?}: conn_yields {yields}"
        );
        let settings = exchange(&mut stream, b"stats settings\r\n", b"END\r\n");
        let expected = if args.is_empty() { "20" } else { "2" };
        let line = format!("STAT reqs_per_event {expected}\r\n");
        assert!(
            String::from_utf8_lossy(&settings).contains(&line),
            "{args:?}: {}",
            String::from_utf8_lossy(&settings)
        );
    }
}
