//! `ppdb bench` against a real memcached on an ephemeral loopback port.
//!
//! The built binary runs a fixed number of requests in the text and meta protocols, with and
//! without pipelining, and its JSON report must show every request answered, no errors, a full
//! hit ratio after the warm-up fill, and real latencies. Two smaller scenarios check the failure
//! paths: no server at all, and a server that answers every get with an error.
//!
//! memcached must be on `PATH` (`apt-get install -y memcached`); without it the test fails and
//! says so rather than passing without having run.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{bench, number};
use serde_json::Value;

/// Requests of every measured run.
const REQUESTS: u64 = 20_000;

/// A memcached process that is killed when this guard is dropped.
struct Memcached {
    child: Child,
    port: u16,
}

impl Drop for Memcached {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (bind to port 0, read it, close).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Starts memcached on a free port, retrying if another process takes the port first.
fn start_memcached() -> Memcached {
    if let Err(error) = Command::new("memcached").arg("-V").output() {
        panic!(
            "memcached is not available ({error}); this test needs a real memcached on PATH: \
             install it with `apt-get install -y memcached`"
        );
    }
    for _ in 0..10 {
        let port = free_port().to_string();
        let child = Command::new("memcached")
            .args([
                "-l",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "0",
                "-t",
                "2",
                "-m",
                "64",
            ])
            // Only used when running as root, where memcached refuses to start without it.
            .args(["-u", "root"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn memcached");
        let mut server = Memcached {
            child,
            port: port.parse().expect("port number"),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
                return server;
            }
            if server.child.try_wait().expect("poll memcached").is_some() {
                break; // Lost the race for the port: try another.
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("memcached did not start listening on any of 10 ephemeral ports");
}

/// The JSON report of a clean run, after checking the exit status.
fn clean_report(args: &[&str]) -> Value {
    let output = bench(args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ppdb bench {args:?} failed: {stderr}\n{stdout}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn text_and_meta_with_and_without_pipelining() {
    let server = start_memcached();
    let port = server.port.to_string();
    let requests = REQUESTS.to_string();
    for protocol in ["text", "meta"] {
        for pipeline in ["1", "8"] {
            let report = clean_report(&[
                "--port",
                &port,
                "--protocol",
                protocol,
                "--pipeline",
                pipeline,
                "--requests",
                &requests,
                "--json",
                "-c",
                "8",
                "-t",
                "2",
                "--keys",
                "10000",
                "--seed",
                "7",
            ]);
            let context = format!("{protocol} pipeline {pipeline}: {report}");
            assert_eq!(report["protocol"], protocol, "{context}");
            assert_eq!(number(&report, &["ops"]), REQUESTS as f64, "{context}");
            let gets = number(&report, &["gets"]);
            let sets = number(&report, &["sets"]);
            assert_eq!(gets + sets, REQUESTS as f64, "{context}");
            assert!(gets > sets && sets > 0.0, "a 90:10 mix: {context}");
            for field in ["errors", "lost", "connection_failures"] {
                assert_eq!(number(&report, &[field]), 0.0, "{field}: {context}");
            }
            assert_eq!(number(&report, &["fill", "keys"]), 10_000.0, "{context}");
            assert_eq!(number(&report, &["fill", "errors"]), 0.0, "{context}");
            assert!(number(&report, &["hit_ratio"]) > 0.999, "{context}");
            assert!(number(&report, &["ops_per_sec"]) > 0.0, "{context}");
            assert!(number(&report, &["bytes_sent"]) > 0.0, "{context}");
            for op in ["get", "set", "all"] {
                let p50 = number(&report, &["latency_us", op, "p50"]);
                let p99 = number(&report, &["latency_us", op, "p99"]);
                let max = number(&report, &["latency_us", op, "max"]);
                assert!(
                    0.0 < p50 && p50 <= p99 && p99 <= max,
                    "{op} latency: {context}"
                );
            }
        }
    }
    drop(server);
}

#[test]
fn no_server_is_a_clear_error() {
    let port = free_port().to_string();
    let output = bench(&["--port", &port, "--requests", "10", "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot connect to 127.0.0.1:"), "{stderr}");
    assert!(output.stdout.is_empty(), "no report without a server");
}

/// Accepts connections forever, answering every `get` line with `SERVER_ERROR busy`.
fn serve_errors(listener: TcpListener) {
    for stream in listener.incoming().flatten() {
        thread::spawn(move || {
            let mut writer = stream.try_clone().expect("clone socket");
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let reply: &[u8] = if line.starts_with("get ") {
                    b"SERVER_ERROR busy\r\n"
                } else {
                    b""
                };
                if writer.write_all(reply).is_err() {
                    break;
                }
            }
        });
    }
}

#[test]
fn error_replies_are_counted_and_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port().to_string();
    thread::spawn(move || serve_errors(listener));
    let output = bench(&[
        "--port",
        &port,
        "--requests",
        "300",
        "--ratio",
        "1:0",
        "--no-fill",
        "--json",
        "-c",
        "2",
        "-t",
        "1",
        "--pipeline",
        "4",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "errors must fail the run: {stdout}"
    );
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(number(&report, &["ops"]), 300.0, "{report}");
    assert_eq!(number(&report, &["errors"]), 300.0, "{report}");
    assert_eq!(report["hit_ratio"], Value::Null, "{report}");
    let message = &report["error_messages"][0];
    assert_eq!(message["count"], 300, "{report}");
    let text = message["message"].as_str().expect("message text");
    assert!(text.contains("SERVER_ERROR busy"), "{report}");
}
