//! Piped standard input is evaluated form by form (a form may span lines), each result echoed
//! (statements such as `define` and `println` are not); the first error stops it with its
//! position in the input.

mod cli_common;
mod common;

use cli_common::{ppdb, run_with_input, server_args};
use common::Server;

#[test]
fn piped_forms_are_evaluated_and_echoed() {
    let server = Server::start(&[]);
    let mut command = ppdb(&["cli"]);
    command.args(server_args(server.addr));
    let script = b"; a comment line
(define (greet who) (str \"hello, \" who))
(set \"user:1\" (greet \"ann\"))
(get \"user:1\")
(println \"printed\")
(list 1
      2
      (+ 1 2))
(get \"missing\")
(incr \"counter\") (set \"counter\" 10) (incr \"counter\" 5)
";
    let outcome = run_with_input(command, script);
    assert_eq!(outcome.code(), 0, "stderr: {}", outcome.stderr);
    assert_eq!(
        outcome.out(),
        "true\nhello, ann\nprinted\n1\n2\n3\n\n\ntrue\n15\n",
        "raw output: strings as bytes, lists one item per line, nil as an empty line"
    );
    assert!(outcome.stderr.is_empty(), "{}", outcome.stderr);
}

#[test]
fn the_first_error_stops_with_its_position() {
    let server = Server::start(&[]);
    let mut command = ppdb(&["cli"]);
    command.args(server_args(server.addr));
    let script = b"(set \"a\" \"1\")\n\n(+ 1\n   (undefined-fn 2))\n(set \"b\" \"never\")\n";
    let outcome = run_with_input(command, script);
    assert_eq!(outcome.code(), 1);
    assert_eq!(outcome.out(), "true\n");
    assert_eq!(
        outcome.stderr.trim(),
        "<stdin>:4:5: error: unbound symbol `undefined-fn`"
    );
    let mut check = ppdb(&["cli", "-e", "(list (get \"a\") (get \"b\"))", "-o", "json"]);
    check.args(server_args(server.addr));
    let outcome = cli_common::run(check);
    assert_eq!(
        outcome.out(),
        "[\"1\",null]\n",
        "nothing after the error ran"
    );
}

#[test]
fn an_unfinished_form_at_the_end_is_a_syntax_error() {
    let server = Server::start(&[]);
    let mut command = ppdb(&["cli"]);
    command.args(server_args(server.addr));
    let outcome = run_with_input(command, b"(+ 1 2)\n(list 1\n  (+ 2");
    assert_eq!(outcome.code(), 1);
    assert_eq!(outcome.out(), "3\n");
    assert_eq!(
        outcome.stderr.trim(),
        "<stdin>:3:3: syntax error: unclosed `(`: expected `)`"
    );
}
