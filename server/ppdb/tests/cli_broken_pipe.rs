//! A reader that goes away (`ppdb ... | head`) ends the program quietly with 0.

mod cli_common;
mod common;

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use cli_common::{ppdb, server_args, RUN_TIMEOUT};
use common::Server;

/// Starts `command`, reads the start of its output, closes the pipe, and waits. Returns the
/// exit status, what was read and standard error.
fn read_a_little(mut command: Command) -> (ExitStatus, Vec<u8>, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ppdb");
    let mut stderr = child.stderr.take().expect("stderr piped");
    let errors = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdout = child.stdout.take().expect("stdout piped");
    let mut first = vec![0u8; 64];
    stdout
        .read_exact(&mut first)
        .expect("the start of the output");
    drop(stdout);
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "still running after its reader left"
        );
        thread::sleep(Duration::from_millis(10));
    };
    (status, first, errors.join().expect("stderr reader"))
}

#[test]
fn a_closed_pipe_is_a_clean_exit() {
    let server = Server::start(&[]);

    let mut command = ppdb(&["cli", "-e", "(range 1000000)"]);
    command.args(server_args(server.addr));
    let (status, first, errors) = read_a_little(command);
    assert_eq!(status.code(), Some(0), "{errors}");
    assert!(errors.is_empty(), "{errors}");
    assert!(first.starts_with(b"0\n1\n2\n"));

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("yes.lisp");
    std::fs::write(&script, "(while true (println \"y\"))").unwrap();
    let mut command = ppdb(&["run", "--memory", "--max-steps", "0"]);
    command.arg(&script);
    let (status, first, errors) = read_a_little(command);
    assert_eq!(status.code(), Some(0), "{errors}");
    assert!(errors.is_empty(), "{errors}");
    assert!(first.starts_with(b"y\ny\n"));

    let mut fill = ppdb(&[
        "cli",
        "-e",
        "(for (i 5000) (set (str \"k\" i) \"some value\"))",
    ]);
    fill.args(server_args(server.addr));
    assert_eq!(cli_common::run(fill).code(), 0);
    let mut dump = ppdb(&["dump", "--quiet"]);
    dump.args(server_args(server.addr));
    let (status, first, errors) = read_a_little(dump);
    assert_eq!(status.code(), Some(0), "{errors}");
    assert!(errors.is_empty(), "{errors}");
    assert!(first.starts_with(b"{\"key\":\"k"));
}
