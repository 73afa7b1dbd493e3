//! Invalid options stop the server before it starts, with a clear message and exit code 2.

mod common;

use std::process::Stdio;

use common::command;

fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = command(args, env)
        .stdin(Stdio::null())
        .output()
        .expect("run ppdb server");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn udp_is_refused() {
    let (code, stderr) = run(&["-U", "1"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("UDP is not supported"), "{stderr}");
}

/// Flags, environment, and a part of the expected message.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_values_exit_with_code_2() {
    let cases: &[Case<'_>] = &[
        (&["-I", "512"], &[], "max-item-size"),
        (&["-I", "lots"], &[], "lots"),
        (&["-t", "0"], &[], "threads"),
        (&["-c", "0"], &[], "conn-limit"),
        (&["-p", "99999"], &[], "99999"),
        (
            &["--config", "/nonexistent/ppdb.toml"],
            &[],
            "/nonexistent/ppdb.toml",
        ),
        (&[], &[("PPDB_THREADS", "many")], "PPDB_THREADS"),
        (&[], &[("PPDB_UDP_PORT", "11211")], "UDP"),
        (&["-s", "/tmp/memcached.sock"], &[], "unix socket"),
        (&["--no-such-flag"], &[], "no-such-flag"),
    ];
    for (args, env, expected) in cases {
        let (code, stderr) = run(args, env);
        assert_eq!(code, Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
    }
}
