//! `ppdb cli -e EXPR`: each expression is evaluated and its results shown in the chosen
//! output format; standard input is not read.

mod cli_common;
mod common;

use cli_common::{ppdb, run_with_input, server_args};
use common::Server;

fn cli(server: &Server, args: &[&str]) -> cli_common::Outcome {
    let mut command = ppdb(&["cli"]);
    command.args(server_args(server.addr)).args(args);
    run_with_input(command, b"(error \"stdin must not be read\")")
}

#[test]
fn expressions_in_every_output_format() {
    let server = Server::start(&[]);
    let setup = cli(
        &server,
        &[
            "-e",
            "(set \"k1\" \"v1\") (set \"k2\" \"two words\" 0 7)",
            "-e",
            "(set 'n 41)",
        ],
    );
    assert_eq!(setup.code(), 0, "{}", setup.stderr);
    assert_eq!(setup.out(), "true\ntrue\ntrue\n");

    let raw = cli(
        &server,
        &["-e", "(scan \"k\")", "-e", "(incr 'n)", "-o", "raw"],
    );
    assert_eq!(raw.out(), "k1\tv1\nk2\ttwo words\n42\n");

    let table = cli(
        &server,
        &[
            "-e",
            "(scan \"k\")",
            "-e",
            "(keys)",
            "-e",
            "(get 'k1)",
            "-o",
            "table",
        ],
    );
    assert_eq!(
        table.out(),
        "k1  v1\nk2  two words\n1) \"k1\"\n2) \"k2\"\n3) \"n\"\n\"v1\"\n"
    );

    let json = cli(
        &server,
        &[
            "-e",
            "(gets \"k2\")",
            "-e",
            "(list nil 1.5 'sym)",
            "-o",
            "json",
        ],
    );
    let lines: Vec<&str> = json
        .stdout
        .split(|&b| b == b'\n')
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    assert!(lines[0].starts_with("[\"two words\",7,"), "{}", lines[0]);
    assert_eq!(lines[1], "[null,1.5,\"sym\"]");

    // Auto is raw when standard output is not a terminal.
    let auto = cli(&server, &["-e", "(get 'k2)"]);
    assert_eq!(auto.out(), "two words\n");
}

#[test]
fn binary_values_survive_the_protocol() {
    let server = Server::start(&[]);
    let out = cli(
        &server,
        &[
            "-e",
            "(set \"bin key\" \"\\x00\\xff\\r\\nEND\\r\\n\")",
            "-e",
            "(get \"bin key\")",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert_eq!(out.out(), "true\n{\"base64\":\"AP8NCkVORA0K\"}\n");
}
