//! The interactive REPL, driven through a pseudo-terminal: type, see the answer, continue a
//! form on the next line, complete a name with Tab, recall history with the Up arrow (also in
//! a later session, from the history file), and interrupt an endless loop with Ctrl-C without
//! leaving the REPL.

#![cfg(unix)]

mod cli_common;
mod common;

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::Server;
use rexpect::session::{spawn_command, PtySession};

const UP: &str = "\x1b[A";
const TIMEOUT_MS: u64 = 30_000;

fn repl(server: &Server, history: &Path) -> (PtySession, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ppdb"));
    command
        .arg("cli")
        .args(cli_common::server_args(server.addr))
        .arg("--history")
        .arg(history)
        .env("TERM", "xterm")
        .env_remove("PPDB_URL");
    let mut session = spawn_command(command, Some(TIMEOUT_MS)).expect("start the REPL");
    let prompt = format!("{}> ", server.addr);
    session
        .exp_string("(help) lists what there is")
        .expect("the greeting");
    session.exp_string(&prompt).expect("the prompt");
    (session, prompt)
}

/// Types keys (sent at once: the session buffers what it sends).
fn press(session: &mut PtySession, keys: &str) {
    session.send(keys).expect("type");
    session.flush().expect("type");
}

/// Types a line (Enter is a carriage return on a terminal).
fn type_line(session: &mut PtySession, text: &str) {
    press(session, text);
    press(session, "\r");
}

#[test]
fn type_answer_history_completion_and_ctrl_c() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let (mut p, prompt) = repl(&server, &history);

    type_line(&mut p, "(* 6 7)");
    p.exp_string("42").unwrap();
    p.exp_string(&prompt).unwrap();

    type_line(&mut p, "(set \"greeting\" \"hello there\")");
    p.exp_string("true").unwrap();
    p.exp_string(&prompt).unwrap();
    type_line(&mut p, "(get \"greeting\")");
    p.exp_string("\"hello there\"").unwrap();
    p.exp_string(&prompt).unwrap();

    // An open list continues on the next line.
    type_line(&mut p, "(+ 100");
    type_line(&mut p, "   23)");
    p.exp_string("123").unwrap();
    p.exp_string(&prompt).unwrap();

    // History: Up recalls the last input, Enter runs it again.
    press(&mut p, UP);
    press(&mut p, "\r");
    p.exp_string("123").unwrap();
    p.exp_string(&prompt).unwrap();

    // Tab completes a built-in's name.
    press(&mut p, "(parse-i");
    press(&mut p, "\t");
    thread::sleep(Duration::from_millis(200));
    type_line(&mut p, " \"ff\" 16)");
    p.exp_string("255").unwrap();
    p.exp_string(&prompt).unwrap();

    // Errors are shown, and the REPL goes on.
    type_line(&mut p, "(car '(1))");
    p.exp_string("1:2: error: unbound symbol `car`").unwrap();
    p.exp_string(&prompt).unwrap();

    // Ctrl-C interrupts the evaluation, not the REPL.
    type_line(&mut p, "(while true nil)");
    thread::sleep(Duration::from_millis(500));
    p.send_control('c').unwrap();
    p.exp_string("interrupted").unwrap();
    p.exp_string(&prompt).unwrap();
    type_line(&mut p, "(str \"still \" \"here\")");
    p.exp_string("\"still here\"").unwrap();
    p.exp_string(&prompt).unwrap();

    type_line(&mut p, "(help)");
    p.exp_string("special forms:").unwrap();
    p.exp_string(&prompt).unwrap();

    // Ctrl-D leaves.
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();

    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("(* 6 7)"), "{saved}");
    assert!(saved.contains("(while true nil)"), "{saved}");

    // A later session recalls the earlier one's history.
    let (mut p, prompt) = repl(&server, &history);
    press(&mut p, UP);
    press(&mut p, UP);
    press(&mut p, "\r");
    p.exp_string("\"still here\"").unwrap();
    p.exp_string(&prompt).unwrap();
    type_line(&mut p, "exit");
    p.exp_eof().unwrap();
}
