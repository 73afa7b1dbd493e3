//! Starts the real `ppdb server` binary on an ephemeral loopback port for the `server_*` tests,
//! and talks to it over raw sockets.
//!
//! The server is started with `-p 0 -v`: it binds a free port and logs `listening on ADDR` on
//! stderr, which [`Server::start`] waits for. A thread keeps draining stderr (so the server
//! never blocks on a full pipe) into a buffer the tests can search. The process is killed when
//! the [`Server`] is dropped.
//!
//! The `bench_*` tests run `ppdb bench` through [`bench`] and read its JSON with [`number`].

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long the server may take to start listening.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(20);
/// The default socket read timeout of [`Server::connect`].
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A running `ppdb server`, killed on drop.
pub(crate) struct Server {
    child: Child,
    /// The address it listens on.
    pub(crate) addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

/// Environment variables the server reads; cleared so the tests' own environment cannot
/// change what they test.
pub(crate) const PPDB_VARIABLES: &[&str] = &[
    "PPDB_CONFIG",
    "PPDB_PORT",
    "PPDB_LISTEN",
    "PPDB_MEMORY_LIMIT",
    "PPDB_DISABLE_EVICTIONS",
    "PPDB_CONN_LIMIT",
    "PPDB_THREADS",
    "PPDB_MAX_ITEM_SIZE",
    "PPDB_UDP_PORT",
    "PPDB_ENABLE_SHUTDOWN",
    "PPDB_VERBOSE",
    "PPDB_IDLE_TIMEOUT",
    "PPDB_MAX_REQS_PER_EVENT",
    "PPDB_DATA_DIR",
    "PPDB_DURABILITY",
    "PPDB_RECOVERY",
];

/// The `ppdb server` command with a clean environment and `args` (nothing added).
pub(crate) fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ppdb"));
    command.arg("server").args(args);
    for name in PPDB_VARIABLES {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

fn drain<R: Read + Send + 'static>(
    from: R,
    into: Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
) {
    thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            {
                let mut text = into.lock().expect("log buffer");
                text.push_str(&line);
                text.push('\n');
            }
            if let Some(lines) = &lines {
                let _ = lines.send(line);
            }
        }
    });
}

impl Server {
    /// Starts `ppdb server -p 0 -v ARGS` and waits until it listens.
    pub(crate) fn start(args: &[&str]) -> Server {
        let mut all = vec!["-p", "0", "-v"];
        all.extend_from_slice(args);
        Server::spawn(command(&all, &[]))
    }

    /// Starts `command` (which must log at info level) and waits until it listens.
    pub(crate) fn spawn(mut command: Command) -> Server {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start ppdb server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let (lines_tx, lines) = mpsc::channel();
        drain(
            child.stderr.take().expect("stderr"),
            stderr.clone(),
            Some(lines_tx),
        );
        drain(child.stdout.take().expect("stdout"), stdout.clone(), None);
        let deadline = Instant::now() + START_TIMEOUT;
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = listening_address(&line) {
                        break addr;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!(
                        "the server did not start ({status:?}); stderr:\n{}",
                        stderr.lock().expect("log buffer")
                    );
                }
            }
        };
        Server {
            child,
            addr,
            stderr,
            stdout,
        }
    }

    /// A new connection with a read timeout.
    pub(crate) fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect to the server");
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("read timeout");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        stream
    }

    /// `host:port`, for client crates.
    pub(crate) fn url(&self) -> String {
        format!(
            "memcache://{}?protocol=ascii&timeout=10&tcp_nodelay=true",
            self.addr
        )
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().expect("log buffer").clone()
    }

    /// What the server wrote to stdout so far.
    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().expect("log buffer").clone()
    }

    /// Waits until stderr contains `text`.
    pub(crate) fn wait_for_log(&self, text: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.stderr().contains(text) {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The server's resident memory, in KiB (Linux).
    pub(crate) fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// Sends a signal (`TERM`, `INT`...) with kill(1).
    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits for the process to end.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in a `listening on ADDR` log line.
pub(crate) fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = line.split("listening on ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Sends `request` and reads until the reply ends with `end` (or panics after the read
/// timeout).
pub(crate) fn exchange(stream: &mut TcpStream, request: &[u8], end: &[u8]) -> Vec<u8> {
    stream.write_all(request).expect("send the request");
    read_until(stream, end)
}

/// Sends `stats` and returns the whole reply as text.
pub(crate) fn stats(stream: &mut TcpStream) -> String {
    String::from_utf8(exchange(stream, b"stats\r\n", b"END\r\n")).expect("utf-8 stats")
}

/// The value of `STAT name` in a `stats` reply (panics if the line is missing).
pub(crate) fn stat_text<'t>(text: &'t str, name: &str) -> &'t str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("STAT {name} ")))
        .unwrap_or_else(|| panic!("no {name} in stats:\n{text}"))
}

/// The numeric value of `STAT name` in a `stats` reply.
pub(crate) fn stat_number(text: &str, name: &str) -> u64 {
    let value = stat_text(text, name);
    value
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number: {value:?}"))
}

/// Sends `stats` and returns the numeric value of `STAT name`.
pub(crate) fn stat(stream: &mut TcpStream, name: &str) -> u64 {
    stat_number(&stats(stream), name)
}

/// Reads until what was read ends with `end`.
pub(crate) fn read_until(stream: &mut TcpStream, end: &[u8]) -> Vec<u8> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 64 << 10];
    while !reply.ends_with(end) {
        match stream.read(&mut buf) {
            Ok(0) => panic!(
                "the server closed the connection; got {:?}",
                String::from_utf8_lossy(&reply)
            ),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "no reply ending in {:?}: {e}; got {:?}",
                String::from_utf8_lossy(end),
                String::from_utf8_lossy(&reply)
            ),
        }
    }
    reply
}

/// Reads until the server closes the connection. Returns what was read and whether it closed
/// (false: the read timed out first).
pub(crate) fn read_to_close(stream: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut reply = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (reply, true),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (reply, true),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (reply, false),
        }
    }
}

/// Longest any single `ppdb bench` run may take before a test gives up on it.
pub(crate) const BENCH_DEADLINE: Duration = Duration::from_secs(60);

/// Runs the built `ppdb bench` with `args`, killing it if it outlives [`BENCH_DEADLINE`].
pub(crate) fn bench(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ppdb"))
        .arg("bench")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ppdb bench");
    // The reports are small, so the pipes cannot fill up while the run is polled.
    let deadline = Instant::now() + BENCH_DEADLINE;
    while child.try_wait().expect("poll ppdb bench").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ppdb bench {args:?} ran longer than {BENCH_DEADLINE:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("collect ppdb bench output")
}

/// The number at `path` in a `ppdb bench --json` report.
pub(crate) fn number(report: &serde_json::Value, path: &[&str]) -> f64 {
    let value = path.iter().fold(report, |value, key| &value[key]);
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in {report}"))
}
