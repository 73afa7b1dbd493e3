//! The example scripts under `examples/lisp` print what their `.out` files hold: against a
//! server with `ppdb run`, and in-process with `ppdb run --memory` (the same script on both
//! backends). `bank.lisp` uses transactions, which only the embedded mode has.

mod cli_common;
mod common;

use std::path::PathBuf;

use cli_common::{examples_dir, ppdb, run, server_args};
use common::Server;

/// Scripts that need the embedded mode.
const EMBEDDED_ONLY: &[&str] = &["bank"];

fn examples() -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(examples_dir())
        .expect("examples/lisp exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "lisp"))
        .map(|path| {
            let stem = path.file_stem().expect("a file name");
            (stem.to_string_lossy().into_owned(), path)
        })
        .collect();
    found.sort();
    assert!(found.len() >= 4, "examples found: {found:?}");
    found
}

fn expected(path: &std::path::Path) -> String {
    std::fs::read_to_string(path.with_extension("out")).expect("each example has a .out file")
}

#[test]
fn examples_run_against_a_server() {
    for (name, path) in examples() {
        if EMBEDDED_ONLY.contains(&name.as_str()) {
            continue;
        }
        let server = Server::start(&[]);
        let mut command = ppdb(&["run"]);
        command.arg(&path).args(server_args(server.addr));
        let outcome = run(command);
        assert_eq!(outcome.code(), 0, "{name}: {}", outcome.stderr);
        assert_eq!(outcome.out(), expected(&path), "{name}");
    }
}

#[test]
fn examples_run_in_memory() {
    for (name, path) in examples() {
        let mut command = ppdb(&["run", "--memory"]);
        command.arg(&path);
        let outcome = run(command);
        assert_eq!(outcome.code(), 0, "{name}: {}", outcome.stderr);
        assert_eq!(outcome.out(), expected(&path), "{name}");
    }
}

#[test]
fn transactions_need_the_embedded_mode() {
    let server = Server::start(&[]);
    let path = examples_dir().join("bank.lisp");
    let mut command = ppdb(&["run"]);
    command.arg(&path).args(server_args(server.addr));
    let outcome = run(command);
    assert_eq!(outcome.code(), 1);
    assert!(
        outcome
            .stderr
            .contains("bank.lisp:10:3: database error: txn needs the embedded mode"),
        "{}",
        outcome.stderr
    );
}
