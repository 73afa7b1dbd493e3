//! In-process tests of the runtime: a server on an ephemeral port, driven over raw sockets,
//! with its shared counters in view.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{Server, Stopper};
use crate::shared::{Settings, Shared};
use crate::store::{Store, StoreConfig};

struct Running {
    stream_addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    stopper: Stopper,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn start(settings: Settings) -> Running {
        let store = Arc::new(Store::new(StoreConfig::default()).expect("store"));
        let server = Server::bind(settings, store).expect("bind");
        let running = Running {
            stream_addr: server.local_addr(),
            shared: server.shared().clone(),
            stopper: server.stopper(),
            thread: None,
        };
        Running {
            thread: Some(thread::spawn(move || server.run())),
            ..running
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.stream_addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream
    }

    fn stop(mut self) {
        self.stopper.stop();
        let thread = self.thread.take().expect("running");
        thread.join().expect("no panic").expect("run ends cleanly");
    }

    fn wait_until(&self, what: &str, condition: impl Fn(&Shared) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !condition(&self.shared) {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            thread::sleep(Duration::from_millis(5));
        }
    }
}

fn settings() -> Settings {
    Settings {
        port: 0,
        threads: 2,
        ..Settings::default()
    }
}

fn read_until(stream: &mut TcpStream, end: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.ends_with(end) {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

#[test]
fn counts_connections_bytes_and_rejections() {
    let running = Running::start(Settings {
        connections_max: 2,
        ..settings()
    });
    let mut a = running.connect();
    let mut b = running.connect();
    a.write_all(b"get nothing\r\n").expect("write");
    assert_eq!(read_until(&mut a, b"END\r\n"), b"END\r\n");
    b.write_all(b"get nothing\r\n").expect("write");
    assert_eq!(read_until(&mut b, b"END\r\n"), b"END\r\n");
    let mut c = running.connect();
    assert_eq!(read_to_close(&mut c), super::TOO_MANY_CONNECTIONS);
    let global = &running.shared.global;
    assert_eq!(global.curr_connections.load(Ordering::Relaxed), 2);
    assert_eq!(global.total_connections.load(Ordering::Relaxed), 2);
    assert_eq!(global.rejected_connections.load(Ordering::Relaxed), 1);
    // A worker counts the bytes after its write returns, possibly after the client read them.
    running.wait_until("26 bytes read and 10 written", |s| {
        s.sum(|w| &w.bytes_read) == 26 && s.sum(|w| &w.bytes_written) == 10
    });
    drop((a, b));
    running.wait_until("both connections are closed", |s| {
        s.global.curr_connections.load(Ordering::Relaxed) == 0
    });
    running.stop();
}

#[test]
fn a_line_too_long_is_counted_and_closes_after_earlier_replies() {
    let running = Running::start(settings());
    let mut stream = running.connect();
    let mut request = b"get nothing\r\nset ".to_vec();
    request.extend_from_slice(&[b'a'; 4000]);
    stream.write_all(&request).expect("write");
    assert_eq!(read_to_close(&mut stream), b"END\r\n");
    running.wait_until("the line is counted", |s| {
        s.global.lines_too_long.load(Ordering::Relaxed) == 1
    });
    let mut stats = running.connect();
    stats.write_all(b"stats\r\n").expect("write");
    let reply = read_until(&mut stats, b"END\r\n");
    let reply = String::from_utf8(reply).expect("stats are text");
    assert!(
        reply.contains("STAT lines_too_long 1\r\n") && reply.contains("STAT output_stalls 0\r\n"),
        "{reply}"
    );
    running.stop();
}

#[test]
fn an_unread_pipeline_stalls_once_and_then_drains() {
    let running = Running::start(Settings {
        output_bytes_max: 64 << 10,
        ..settings()
    });
    let mut stream = running.connect();
    let value = vec![b'v'; 100 << 10];
    let mut request = format!("set big 0 0 {}\r\n", value.len()).into_bytes();
    request.extend_from_slice(&value);
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).expect("write");
    assert_eq!(read_until(&mut stream, b"\r\n"), b"STORED\r\n");
    let gets = 300;
    stream
        .write_all(&b"get big\r\n".repeat(gets))
        .expect("write");
    running.wait_until("the connection stalls", |s| {
        s.global.output_stalls.load(Ordering::Relaxed) >= 1
    });
    let reply_len = "VALUE big 0 102400\r\n".len() + value.len() + "\r\nEND\r\n".len();
    let mut received = 0;
    let mut buf = vec![0u8; 1 << 16];
    while received < gets * reply_len {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0);
        received += n;
    }
    assert_eq!(received, gets * reply_len);
    running.stop();
}

#[test]
fn stopping_finishes_what_was_read() {
    let running = Running::start(settings());
    let mut stream = running.connect();
    stream
        .write_all(b"set k 0 0 1\r\nv\r\nget k\r\n")
        .expect("write");
    assert_eq!(
        read_until(&mut stream, b"END\r\n"),
        b"STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n"
    );
    let addr = running.stream_addr;
    running.stop();
    assert!(read_to_close(&mut stream).is_empty(), "closed by the stop");
    assert!(TcpStream::connect(addr).is_err(), "no longer listening");
}
