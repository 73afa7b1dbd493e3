//! `ppdb bench --rate`: an open loop. Against a server that answers at once, a run sends the
//! rate it was given (not as many as the server could take). Against a server that takes 50 ms
//! per reply, a closed loop measures 50 ms, while an open loop asking for more than that server
//! can do measures the wait of the requests that fell behind their schedule too: its latencies
//! count from when each request was due.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use common::{bench, number};
use serde_json::Value;

/// A server on an ephemeral loopback port that answers every `get` line with `END` (a miss)
/// after `delay`; one thread per connection.
fn start_server(delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port().to_string();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut writer = stream.try_clone().expect("clone socket");
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.starts_with("get ") {
                        thread::sleep(delay);
                        if writer.write_all(b"END\r\n").is_err() {
                            break;
                        }
                    }
                }
            });
        }
    });
    port
}

/// Runs the built `ppdb bench` with `args` (gets only, no fill, JSON) and returns its report.
fn report(port: &str, args: &[&str]) -> Value {
    let mut all = vec!["--port", port, "--ratio", "1:0", "--no-fill", "--json"];
    all.extend_from_slice(args);
    let output = bench(&all);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ppdb bench {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn an_open_loop_sends_the_rate_it_was_given() {
    let port = start_server(Duration::ZERO);
    let report = report(
        &port,
        &[
            "--rate",
            "2000",
            "--duration",
            "1",
            "-c",
            "4",
            "-t",
            "2",
            "--pipeline",
            "4",
        ],
    );
    assert_eq!(number(&report, &["rate"]), 2000.0, "{report}");
    let ops = number(&report, &["ops"]);
    // 2000 requests fall due in the second, and only those are sent (a few may still be
    // waiting for room on a busy machine when the deadline comes).
    assert!((1800.0..=2000.0).contains(&ops), "ops {ops}: {report}");
    assert_eq!(number(&report, &["errors"]), 0.0, "{report}");
    let closed = report_closed_loop(&port);
    assert!(
        number(&closed, &["ops"]) > 2.0 * ops,
        "a closed loop against the same server goes as fast as it can: {closed}"
    );
}

fn report_closed_loop(port: &str) -> Value {
    let report = report(port, &["--duration", "1", "-c", "4", "-t", "2"]);
    assert_eq!(report["rate"], Value::Null, "{report}");
    report
}

#[test]
fn an_open_loop_counts_the_wait_behind_a_slow_server() {
    let port = start_server(Duration::from_millis(50));
    let closed = report(&port, &["--duration", "1", "-c", "1", "-t", "1"]);
    let closed_p50 = number(&closed, &["latency_us", "all", "p50"]);
    assert!(
        (50_000.0..150_000.0).contains(&closed_p50),
        "a closed loop measures the server's 50 ms: {closed}"
    );
    // 100 requests/s on one connection: one due every 10 ms, one answered every 50 ms.
    let open = report(
        &port,
        &["--rate", "100", "--duration", "1", "-c", "1", "-t", "1"],
    );
    let open_p50 = number(&open, &["latency_us", "all", "p50"]);
    assert!(
        open_p50 > 150_000.0,
        "requests queue behind their schedule, and that wait counts: {open}"
    );
    assert_eq!(number(&open, &["connection_failures"]), 0.0, "{open}");
}
