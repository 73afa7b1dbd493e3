//! Configuration sources override each other: defaults < `--config` file < `PPDB_*`
//! environment < flags. Seen from outside: the port the server listens on, and its connection
//! limit.

mod common;

use std::net::TcpListener;

use common::{command, exchange, read_to_close, Server};

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

#[test]
fn file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ppdb.toml");
    let (file_port, env_port, flag_port) = (free_port(), free_port(), free_port());
    std::fs::write(
        &file,
        format!("# ppdb server\nport = {file_port}\nverbose = 1\nconn-limit = 1\nthreads = 2\n"),
    )
    .unwrap();
    let path = file.to_str().unwrap();

    // File only: its port and its connection limit of 1.
    let server = Server::spawn(command(&["--config", path], &[]));
    assert_eq!(server.addr.port(), file_port);
    let mut first = server.connect();
    assert_eq!(exchange(&mut first, b"get x\r\n", b"END\r\n"), b"END\r\n");
    let (reply, _) = read_to_close(&mut server.connect());
    assert_eq!(
        reply, b"ERROR Too many open connections\r\n",
        "conn-limit from the file"
    );
    drop(server);

    // The environment beats the file.
    let env_port_text = env_port.to_string();
    let env = [
        ("PPDB_PORT", env_port_text.as_str()),
        ("PPDB_CONN_LIMIT", "2"),
    ];
    let server = Server::spawn(command(&["--config", path], &env));
    assert_eq!(server.addr.port(), env_port);
    let mut first = server.connect();
    let mut second = server.connect();
    assert_eq!(exchange(&mut first, b"get x\r\n", b"END\r\n"), b"END\r\n");
    assert_eq!(exchange(&mut second, b"get x\r\n", b"END\r\n"), b"END\r\n");
    drop(server);

    // Flags beat both; PPDB_CONFIG names the file as --config does.
    let flag_port_text = flag_port.to_string();
    let env = [("PPDB_CONFIG", path), ("PPDB_PORT", env_port_text.as_str())];
    let server = Server::spawn(command(&["-p", &flag_port_text], &env));
    assert_eq!(server.addr.port(), flag_port);
}
