//! The executor's transcripts (`src/exec/transcripts/*.txt`) replayed over TCP: against the real
//! `ppdb server` binary with its default settings (16 store shards, as users run it), and
//! against a real memcached, so that memcached compatibility is checked on every test run.
//!
//! As in `tools/check-transcripts-against-memcached.py`, each transcript file gets a fresh
//! server and each exchange a new connection; `@sleep N` really waits N seconds (the in-process runner in
//! `src/exec/tests.rs` moves a simulated clock instead). Exchanges tagged `@differs` are
//! skipped on both servers: they hold PPDB's CAS uniques, which depend on its sequence numbers
//! (one store shard in process, sixteen here), or replies where PPDB differs from memcached on
//! purpose (`docs/commands.md`, "Differences"). The files run in parallel to keep the run short.
//!
//! A reply is complete when it matches every expected piece; the test then waits
//! [`QUIET`] more for anything unexpected (an extra reply, or the server closing). memcached
//! must be on `PATH` (`apt-get install -y memcached`); without it the memcached half fails and
//! says so rather than passing without having run.

mod common;
#[path = "../src/exec/transcript.rs"]
mod transcript;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::Server;
use ppdb_memcache::transcript::{check_reply, Exchange, Transcript};

/// How long a reply may take to arrive in full.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait, after a complete reply, for anything more.
const QUIET: Duration = Duration::from_millis(100);

/// A server under test, stopped when dropped.
trait Target {
    fn addr(&self) -> SocketAddr;
}

impl Target for Server {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// A memcached process, killed on drop.
struct Memcached {
    child: Child,
    addr: SocketAddr,
}

impl Target for Memcached {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Starts `memcached -U 0 -l 127.0.0.1 -p <free port>` with its defaults otherwise, retrying
/// if another process takes the port first, and waits until it is idle.
fn start_memcached() -> Memcached {
    for _ in 0..10 {
        let port = free_port();
        let child = Command::new("memcached")
            .args(["-U", "0", "-l", "127.0.0.1", "-p", &port.to_string()])
            // Only used when running as root, where memcached refuses to start without it.
            .args(["-u", "root"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn memcached");
        let mut server = Memcached {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            // Another server (a ppdb of the other test, say) may have taken the port: only
            // the memcached just started reports its pid.
            if let Ok(stats) = request(server.addr, b"stats\r\n", b"END\r\n") {
                let pid = format!("STAT pid {}\r\n", server.child.id());
                if String::from_utf8_lossy(&stats).contains(&pid) {
                    wait_crawler_idle(server.addr);
                    return server;
                }
            }
            if server.child.try_wait().expect("poll memcached").is_some() {
                break; // Lost the race for the port: try another.
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("memcached did not start listening on any of 10 ephemeral ports");
}

/// Waits until memcached's LRU crawler is idle. At start its LRU maintainer crawls every
/// class once; on a busy machine that crawl can still run when the first transcript request
/// arrives, which memcached answers with `BUSY` (the Python script waits 0.3 s instead).
fn wait_crawler_idle(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        // A dump of an unused class lists nothing and answers `END` once the crawler is free.
        let reply = request(addr, b"lru_crawler metadump 2\r\n", b"\r\n").unwrap_or_default();
        if reply == b"END\r\n" {
            // The dump itself finishes its crawl just after sending END.
            thread::sleep(Duration::from_millis(50));
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("memcached's LRU crawler stayed busy for 5 s");
}

/// Sends `bytes` on a new connection and reads until the reply ends with `end`.
fn request(addr: SocketAddr, bytes: &[u8], end: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
    stream.write_all(bytes)?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while !reply.ends_with(end) {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        reply.extend_from_slice(&buf[..n]);
    }
    Ok(reply)
}

/// Sends the exchange's requests on a new connection; returns what came back and whether the
/// server closed the connection.
fn send(addr: SocketAddr, exchange: &Exchange) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    // A server that closes early (a line too long) may reset the connection mid-write; what it
    // replied is still read below.
    let _ = stream.write_all(&exchange.input);
    let deadline = Instant::now() + REPLY_TIMEOUT;
    let mut reply = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let complete = !exchange.close && check_reply(&exchange.reply, &reply).is_ok();
        let wait = if complete {
            QUIET
        } else {
            deadline.saturating_duration_since(Instant::now())
        };
        if wait.is_zero() {
            return (reply, false);
        }
        stream.set_read_timeout(Some(wait)).expect("read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return (reply, true),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (reply, true),
            Err(_) => return (reply, false), // timed out
        }
    }
}

/// Runs one file against a fresh server from `start`; returns the failures and the number of
/// exchanges checked.
fn run_file<T: Target>(file: &Transcript, start: fn() -> T) -> (Vec<String>, usize) {
    let server = start();
    let mut failures = Vec::new();
    let mut checked = 0;
    for exchange in &file.exchanges {
        thread::sleep(Duration::from_secs(exchange.sleep_secs));
        if exchange.tags.iter().any(|t| t == "differs") {
            continue;
        }
        checked += 1;
        let at = format!("{}:{}", file.path.display(), exchange.line);
        let (reply, closed) = send(server.addr(), exchange);
        if let Err(e) = check_reply(&exchange.reply, &reply) {
            let whole = String::from_utf8_lossy(&reply[..reply.len().min(400)]).into_owned();
            failures.push(format!("{at}: {e}\n    whole reply: {whole:?}"));
        }
        if closed != exchange.close {
            failures.push(format!(
                "{at}: closed {closed}, expected {}",
                exchange.close
            ));
        }
    }
    (failures, checked)
}

/// Runs every transcript file in parallel, each against its own server; panics listing every
/// failure.
fn run_all<T: Target>(name: &str, start: fn() -> T) {
    let begin = Instant::now();
    let files = transcript::all();
    let results: Vec<(Vec<String>, usize)> = thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|file| scope.spawn(move || run_file(file, start)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("transcript thread"))
            .collect()
    });
    let checked: usize = results.iter().map(|r| r.1).sum();
    let failures: Vec<String> = results.into_iter().flat_map(|r| r.0).collect();
    eprintln!(
        "{name}: {checked} exchanges of {} files in {:.1} s",
        files.len(),
        begin.elapsed().as_secs_f64()
    );
    assert!(checked > 80, "only {checked} exchanges checked");
    assert!(
        failures.is_empty(),
        "{name}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn transcripts_over_tcp_against_ppdb() {
    run_all("ppdb server", || Server::start(&[]));
}

#[test]
fn transcripts_over_tcp_against_memcached() {
    if let Err(error) = Command::new("memcached").arg("-V").output() {
        panic!(
            "memcached is not available ({error}); this test needs a real memcached on PATH: \
             install it with `apt-get install -y memcached`"
        );
    }
    run_all("memcached", start_memcached);
}
