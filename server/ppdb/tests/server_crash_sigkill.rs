//! Black-box crash test: the real `ppdb server --data-dir DIR --durability sync`, killed with
//! SIGKILL at a random moment while several clients write, must come back with every write it
//! acknowledged.
//!
//! Each cycle starts the server on the same directory, runs `CLIENTS` connections that each set
//! keys of their own (`c<cycle>-t<thread>-<n>`, a unique value each) and bump a counter key of
//! their own (`t<thread>`), recording what the server answered `STORED` to; after a random
//! delay the process gets SIGKILL. The next start must recover: every acknowledged key holds its
//! value, and each counter holds at least its last acknowledged value (a write the server made
//! durable but could not acknowledge before dying may be there too: that is allowed).
//!
//! `PPDB_CRASH_CYCLES` sets the number of cycles (default 50); `PPDB_CRASH_SEED` the seed of the
//! delays (printed, so a failure can be replayed).

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{exchange, Server};

/// Client connections writing during each cycle.
const CLIENTS: usize = 4;

/// What one client got acknowledged: its keys with their values, and its counter's last value.
#[derive(Debug, Default, Clone)]
struct Acked {
    keys: Vec<(String, String)>,
    counter: u64,
}

/// A small deterministic generator for the kill delays.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn start(dir: &str) -> Server {
    Server::start(&["--data-dir", dir, "--durability", "sync"])
}

/// One client: writes until the connection fails, recording what was acknowledged.
fn client(mut stream: TcpStream, cycle: usize, thread: usize, acked: Arc<Mutex<Acked>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let counter_key = format!("t{thread}");
    for n in 0u64.. {
        let key = format!("c{cycle}-t{thread}-{n}");
        let value = format!(
            "v{cycle}.{thread}.{n}.{}",
            "x".repeat((n % 7) as usize * 10)
        );
        let request = format!("set {key} 0 0 {}\r\n{value}\r\n", value.len());
        if stream.write_all(request.as_bytes()).is_err() {
            return;
        }
        if !read_stored(&mut stream) {
            return;
        }
        acked.lock().expect("acked").keys.push((key, value));
        let counter = {
            let a = acked.lock().expect("acked");
            a.counter + 1
        };
        let digits = counter.to_string();
        let request = format!("set {counter_key} 0 0 {}\r\n{digits}\r\n", digits.len());
        if stream.write_all(request.as_bytes()).is_err() || !read_stored(&mut stream) {
            return;
        }
        acked.lock().expect("acked").counter = counter;
    }
}

/// Reads one reply line; true if it is `STORED`.
fn read_stored(stream: &mut TcpStream) -> bool {
    use std::io::Read;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => return false,
        }
    }
    assert!(
        line == b"STORED\r\n",
        "unexpected reply to a set: {:?}",
        String::from_utf8_lossy(&line)
    );
    true
}

/// The value of `key` on the server, if any.
fn get(stream: &mut TcpStream, key: &str) -> Option<String> {
    let reply = exchange(stream, format!("get {key}\r\n").as_bytes(), b"END\r\n");
    let text = String::from_utf8(reply).expect("utf-8 reply");
    let mut lines = text.split("\r\n");
    let header = lines.next()?;
    if header == "END" {
        return None;
    }
    assert!(
        header.starts_with(&format!("VALUE {key} ")),
        "bad reply {text:?}"
    );
    lines.next().map(str::to_string)
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let cycles: usize = std::env::var("PPDB_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("PPDB_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("crash test: {cycles} cycles, PPDB_CRASH_SEED={seed}");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_path = dir.path().to_str().expect("utf-8 path").to_string();
    let mut rng = seed;
    let mut all: Vec<Acked> = Vec::new();
    let started = Instant::now();
    let mut total_acked = 0usize;
    for cycle in 0..cycles {
        let server = start(&dir_path);
        // Everything acknowledged in earlier cycles is there (checked in full after the last
        // cycle; here the previous cycle's writes and every counter).
        {
            let mut stream = server.connect();
            for acked in all.iter().rev().take(CLIENTS) {
                for (key, value) in &acked.keys {
                    assert_eq!(
                        get(&mut stream, key).as_deref(),
                        Some(value.as_str()),
                        "cycle {cycle}: acknowledged key {key} lost (PPDB_CRASH_SEED={seed})"
                    );
                }
            }
            let counters: HashMap<usize, u64> = (0..CLIENTS)
                .map(|t| {
                    let max = all
                        .iter()
                        .skip(t)
                        .step_by(CLIENTS)
                        .map(|a| a.counter)
                        .max()
                        .unwrap_or(0);
                    (t, max)
                })
                .collect();
            for (t, max) in counters {
                let got = get(&mut stream, &format!("t{t}"))
                    .map_or(0, |v| v.parse::<u64>().expect("a counter"));
                assert!(
                    got >= max,
                    "cycle {cycle}: counter t{t} went back from {max} to {got} \
                     (PPDB_CRASH_SEED={seed})"
                );
            }
        }
        // Counters continue from what the server holds.
        let mut handles = Vec::new();
        let mut results = Vec::new();
        for thread in 0..CLIENTS {
            let mut stream = server.connect();
            let start_at = get(&mut stream, &format!("t{thread}"))
                .map_or(0, |v| v.parse::<u64>().expect("a counter"));
            let acked = Arc::new(Mutex::new(Acked {
                keys: Vec::new(),
                counter: start_at,
            }));
            results.push(acked.clone());
            handles.push(thread::spawn(move || client(stream, cycle, thread, acked)));
        }
        let delay = Duration::from_millis(50 + next(&mut rng) % 250);
        thread::sleep(delay);
        drop(server); // SIGKILL
        for handle in handles {
            handle.join().expect("client thread");
        }
        for acked in results {
            let acked = acked.lock().expect("acked").clone();
            total_acked += acked.keys.len();
            all.push(acked);
        }
    }
    // A last start: every acknowledged key of every cycle.
    let server = start(&dir_path);
    let mut stream = server.connect();
    for acked in &all {
        for (key, value) in &acked.keys {
            assert_eq!(
                get(&mut stream, key).as_deref(),
                Some(value.as_str()),
                "acknowledged key {key} lost (PPDB_CRASH_SEED={seed})"
            );
        }
    }
    eprintln!(
        "crash test: {cycles} SIGKILLs, {total_acked} acknowledged writes all recovered in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
