//! Where the server is: `ppdb://host:port` from `--url` or `PPDB_URL`, with `-H`/`-p`
//! overriding its parts.

mod cli_common;
mod common;

use std::net::TcpListener;

use cli_common::{ppdb, run};
use common::Server;

#[test]
fn url_from_option_and_environment() {
    let server = Server::start(&[]);
    let url = format!("ppdb://{}", server.addr);

    let outcome = run(ppdb(&["cli", "--url", &url, "-e", "(set \"via\" \"url\")"]));
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);

    let mut command = ppdb(&["cli", "-e", "(get \"via\")"]);
    command.env("PPDB_URL", &url);
    let outcome = run(command);
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);
    assert_eq!(outcome.out(), "url\n");

    // -p overrides the URL's port: a dead one.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = ppdb(&["cli", "-p", &dead.to_string(), "-e", "1"]);
    command.env("PPDB_URL", &url);
    let outcome = run(command);
    assert_eq!(outcome.code(), 3);
    assert!(
        outcome.stderr.contains(&format!(":{dead}")),
        "{}",
        outcome.stderr
    );

    // -H overrides the host; the URL's port stays.
    let mut command = ppdb(&["cli", "-H", "127.0.0.1", "-e", "(get \"via\")"]);
    command.env(
        "PPDB_URL",
        format!("ppdb://localhost.invalid:{}", server.addr.port()),
    );
    let outcome = run(command);
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);
    assert_eq!(outcome.out(), "url\n");
}
