//! `ppdb run FILE`: a script is one evaluation; only what it prints is output; errors name the
//! file, line and column.

mod cli_common;
mod common;

use cli_common::{ppdb, run, run_with_input, server_args};
use common::Server;

fn run_script(server: &Server, text: &str, extra: &[&str]) -> cli_common::Outcome {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("script.lisp");
    std::fs::write(&path, text).expect("write the script");
    let mut command = ppdb(&["run"]);
    command
        .arg(&path)
        .args(server_args(server.addr))
        .args(extra);
    let outcome = run(command);
    // Show errors without the temporary directory.
    cli_common::Outcome {
        stderr: outcome
            .stderr
            .replace(&path.display().to_string(), "script.lisp"),
        ..outcome
    }
}

#[test]
fn scripts_print_and_report_positions() {
    let server = Server::start(&[]);
    let ok = run_script(
        &server,
        "(set \"a\" 1)\n(get \"a\")\n(println \"a is\" (get \"a\"))\n",
        &[],
    );
    assert_eq!(ok.code(), 0, "{}", ok.stderr);
    assert_eq!(ok.out(), "a is 1\n", "values of forms are not echoed");

    let syntax = run_script(&server, "(println 1)\n(define x \"unterminated)\n", &[]);
    assert_eq!(syntax.code(), 1);
    assert_eq!(syntax.out(), "", "nothing runs when the file does not read");
    assert_eq!(
        syntax.stderr.trim(),
        "script.lisp:2:11: syntax error: unterminated string: expected `\"`"
    );

    let runtime = run_script(
        &server,
        "(println \"before\")\n(define (f x)\n  (* x \"2\"))\n(f 1)\n",
        &[],
    );
    assert_eq!(runtime.code(), 1);
    assert_eq!(runtime.out(), "before\n");
    assert_eq!(
        runtime.stderr.trim(),
        "script.lisp:3:3: error: `*`: argument 2 must be a number, got string \"2\""
    );

    // One budget for the whole script: one loop fits in 300 steps, two do not.
    let one = run_script(&server, "(for (i 100) (+ i 1))\n", &["--max-steps", "300"]);
    assert_eq!(one.code(), 0, "{}", one.stderr);
    let two = run_script(
        &server,
        "(for (i 100) (+ i 1))\n(for (i 100) (+ i 1))\n",
        &["--max-steps", "300"],
    );
    assert_eq!(two.code(), 4, "{}", two.stderr);
    assert!(two.stderr.starts_with("script.lisp:2:"), "{}", two.stderr);

    let missing = run(ppdb(&["run", "/no/such/script.lisp", "--memory"]));
    assert_eq!(missing.code(), 1);
    assert!(
        missing.stderr.contains("cannot read /no/such/script.lisp"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_script_from_standard_input() {
    let outcome = run_with_input(ppdb(&["run", "--memory", "-"]), b"(println (+ 40 2))");
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);
    assert_eq!(outcome.out(), "42\n");
}
