//! A memcached command line starts PPDB: the tuning flags PPDB has no use for are accepted
//! and named in a warning; `-o idle_timeout` and `-R` are honoured.

mod common;

use std::time::Duration;

use common::{command, exchange, Server};

#[test]
fn memcached_tuning_flags_are_ignored_with_a_warning() {
    let args = [
        "-p",
        "0",
        "-v",
        "-o",
        "modern,lru_crawler",
        "-f",
        "1.25",
        "-n",
        "48",
        "-L",
        "-R",
        "20",
        "-B",
        "ascii",
        "-D",
        ":",
        "-C",
        "-b",
        "1024",
        "-k",
        "-r",
    ];
    let server = Server::spawn(command(&args, &[]));
    let stderr = server.stderr();
    for flag in ["-o modern", "-o lru_crawler", "-f 1.25", "-L", "-C"] {
        assert!(
            stderr.contains(&format!("flag=\"{flag}\"")),
            "{flag}: {stderr}"
        );
    }
    assert!(!stderr.contains("flag=\"-R"), "-R is honoured: {stderr}");
    let mut stream = server.connect();
    assert_eq!(exchange(&mut stream, b"get x\r\n", b"END\r\n"), b"END\r\n");
}

#[test]
fn extended_idle_timeout_is_honoured() {
    let server = Server::spawn(command(&["-p", "0", "-v", "-o", "idle_timeout=1"], &[]));
    let mut stream = server.connect();
    assert_eq!(exchange(&mut stream, b"get x\r\n", b"END\r\n"), b"END\r\n");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (_, closed) = common::read_to_close(&mut stream);
    assert!(closed, "an idle connection is closed");
}
