//! A failed fsync under `--durability sync`, on the real binary: the server must refuse every
//! command that reads or writes items with a clear `SERVER_ERROR` (its memory may hold writes
//! that were never acknowledged), keep answering `stats`, keep the connections open, and
//! never acknowledge a write it could not sync.
//!
//! The failure is injected with a small shared library preloaded into the server
//! (`LD_PRELOAD`): its `fdatasync` and `fsync` fail with `EIO` once a trigger file exists. It is
//! compiled here with the C compiler that Rust's linker needs anyway. Linux only.
#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{command, exchange, read_to_close, stat_text, stats, Server};

const SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int failing(void) {
    const char *trigger = getenv("PPDB_TEST_SYNC_FAILS_AFTER");
    return trigger != NULL && access(trigger, F_OK) == 0;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (failing()) { errno = EIO; return -1; }
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (failing()) { errno = EIO; return -1; }
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}
"#;

const POISONED: &[u8] =
    b"SERVER_ERROR an earlier sync failed: the durable state is unknown, reads and writes refused\r\n";

fn build_shim(dir: &Path) -> String {
    let source = dir.join("failsync.c");
    let library = dir.join("failsync.so");
    fs::write(&source, SHIM).expect("write the shim");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .status()
        .expect("run cc (the C compiler Rust links with)");
    assert!(status.success(), "the shim did not compile");
    library.to_str().expect("utf-8 path").to_string()
}

#[test]
fn after_a_failed_sync_items_are_refused_stats_answer_and_nothing_unsynced_is_acknowledged() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let library = build_shim(scratch.path());
    let data = scratch.path().join("data");
    let trigger = scratch.path().join("fail-now");
    let data_arg = data.to_str().expect("utf-8 path");
    let trigger_arg = trigger.to_str().expect("utf-8 path");
    let server = Server::spawn(command(
        &[
            "-p",
            "0",
            "-v",
            "--data-dir",
            data_arg,
            "--durability",
            "sync",
        ],
        &[
            ("LD_PRELOAD", library.as_str()),
            ("PPDB_TEST_SYNC_FAILS_AFTER", trigger_arg),
        ],
    ));

    let mut before = server.connect();
    assert_eq!(
        exchange(&mut before, b"set a 0 0 1\r\nx\r\n", b"\r\n"),
        b"STORED\r\n"
    );
    assert_eq!(stat_text(&stats(&mut before), "disk_write_failed"), "0");

    fs::write(&trigger, b"").expect("create the trigger");
    // The write whose sync fails is never acknowledged: its connection is closed unanswered.
    let mut failing = server.connect();
    std::io::Write::write_all(&mut failing, b"set b 0 0 1\r\ny\r\n").expect("write");
    let (reply, closed) = read_to_close(&mut failing);
    assert!(closed, "the connection of the unsynced write is closed");
    assert!(
        !reply.starts_with(b"STORED"),
        "an unsynced write was acknowledged: {:?}",
        String::from_utf8_lossy(&reply)
    );

    // From now on: a clear error for items, stats as usual, connections kept.
    let mut after = server.connect();
    assert_eq!(exchange(&mut after, b"get a\r\n", b"\r\n"), POISONED);
    assert_eq!(
        exchange(&mut after, b"set c 0 0 1\r\nz\r\n", b"\r\n"),
        POISONED
    );
    assert_eq!(exchange(&mut after, b"mg a v\r\n", b"\r\n"), POISONED);
    assert_eq!(exchange(&mut after, b"delete a\r\n", b"\r\n"), POISONED);
    assert_eq!(stat_text(&stats(&mut after), "disk_write_failed"), "1");
    assert!(exchange(&mut after, b"version\r\n", b"\r\n").starts_with(b"VERSION "));
    // The connection opened before the failure is served the same way.
    assert_eq!(exchange(&mut before, b"get a\r\n", b"\r\n"), POISONED);
    drop(server);
}
