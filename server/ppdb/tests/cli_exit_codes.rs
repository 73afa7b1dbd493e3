//! Exit codes: 0 ok, 1 error, 2 usage, 3 cannot connect, 4 a limit was hit, 130 interrupted.

mod cli_common;
mod common;

use std::net::TcpListener;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use cli_common::{finish, ppdb, run, server_args, signal};
use common::Server;

fn cli(server: &Server, args: &[&str]) -> cli_common::Outcome {
    let mut command = ppdb(&["cli"]);
    command.args(server_args(server.addr)).args(args);
    run(command)
}

#[test]
fn ok_error_and_limit() {
    let server = Server::start(&[]);
    assert_eq!(cli(&server, &["-e", "(+ 1 2)"]).code(), 0);

    let error = cli(&server, &["-e", "(error \"bad {}\" 42)"]);
    assert_eq!(error.code(), 1);
    assert_eq!(error.stderr.trim(), "-e:1:1: error: bad 42");

    let db_error = cli(&server, &["-e", "(txn (set \"a\" \"b\"))"]);
    assert_eq!(db_error.code(), 1);
    assert!(
        db_error.stderr.contains("txn needs the embedded mode"),
        "{}",
        db_error.stderr
    );

    let steps = cli(&server, &["--max-steps", "5000", "-e", "(while true nil)"]);
    assert_eq!(steps.code(), 4);
    assert!(
        steps.stderr.contains("step limit of 5000 exceeded"),
        "{}",
        steps.stderr
    );

    let depth = cli(&server, &["-e", "(define (f n) (+ 1 (f n))) (f 1)"]);
    assert_eq!(depth.code(), 4);
    assert!(
        depth.stderr.contains("recursion depth limit"),
        "{}",
        depth.stderr
    );

    let memory = cli(&server, &["--max-memory", "1", "-e", "(range 1000000)"]);
    assert_eq!(memory.code(), 4);
    assert!(memory.stderr.contains("memory limit"), "{}", memory.stderr);

    let timeout = cli(
        &server,
        &[
            "--timeout",
            "300ms",
            "--max-steps",
            "0",
            "-e",
            "(while true nil)",
        ],
    );
    assert_eq!(timeout.code(), 4);
    assert!(
        timeout.stderr.contains("timeout of 300 ms exceeded"),
        "{}",
        timeout.stderr
    );

    let nesting: String = "(".repeat(100_000);
    let nested = cli(&server, &["-e", &nesting]);
    assert_eq!(nested.code(), 4);
    assert!(
        nested
            .stderr
            .contains("-e:1:1001: limit reached: lists nested deeper than 1000"),
        "{}",
        nested.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let outcome = run(ppdb(&["cli", "--no-such-option"]));
    assert_eq!(outcome.code(), 2);
    let outcome = run(ppdb(&["cli", "--url", "http://nowhere", "-e", "1"]));
    assert_eq!(outcome.code(), 2);
    assert!(
        outcome.stderr.contains("invalid server URL"),
        "{}",
        outcome.stderr
    );
    let outcome = run(ppdb(&["shell", "-e", "1"]));
    assert_eq!(outcome.code(), 2, "shell needs --memory or --data-dir");
    let outcome = run(ppdb(&["cli", "--timeout", "soon"]));
    assert_eq!(outcome.code(), 2);
}

#[test]
fn no_server_exits_3() {
    // A port nobody listens on: bind one, note it, close it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let port = port.to_string();
    let outcome = run(ppdb(&["cli", "-p", &port, "-e", "(+ 1 1)"]));
    assert_eq!(outcome.code(), 3);
    assert!(
        outcome.stderr.contains("cannot connect to 127.0.0.1:"),
        "{}",
        outcome.stderr
    );
    assert_eq!(run(ppdb(&["dump", "-p", &port])).code(), 3);
    assert_eq!(run(ppdb(&["run", "-p", &port, "/dev/null"])).code(), 3);
}

#[test]
fn ctrl_c_during_an_evaluation_exits_130() {
    let server = Server::start(&[]);
    let mut command = ppdb(&["cli", "--max-steps", "0", "-e", "(while true nil)"]);
    command
        .args(server_args(server.addr))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    thread::sleep(Duration::from_millis(500));
    signal(child.id(), "INT");
    let outcome = finish(child);
    assert_eq!(outcome.code(), 130);
    assert!(outcome.stderr.contains("interrupted"), "{}", outcome.stderr);
}

#[test]
fn ctrl_c_while_waiting_for_piped_input_exits_130() {
    let server = Server::start(&[]);
    let mut command = ppdb(&["cli"]);
    command
        .args(server_args(server.addr))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdin = child.stdin.take().unwrap();
    thread::sleep(Duration::from_millis(300));
    signal(child.id(), "INT");
    let outcome = finish(child);
    drop(stdin);
    assert_eq!(outcome.code(), 130);
}
