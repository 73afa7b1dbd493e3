//! Tests of the executor: every transcript in `transcripts/` run in process, and the cases a
//! transcript cannot set up (shutdown enabled, a full store under `-M`, counters).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use ppdb_memcache::{Limits, Parsed, Parser};

use super::transcript;
use super::*;
use crate::shared::{Settings, WorkerCounters};
use crate::store::StoreConfig;
use ppdb_memcache::transcript::check_reply;

/// The clock a fresh test server starts at.
const START: u64 = 1_700_000_000;

/// A server in process: one worker, one connection per exchange, a clock moved by hand.
struct Server {
    exec: Executor,
    counters: Arc<WorkerCounters>,
    now: u64,
    next_id: u64,
}

impl Server {
    /// A fresh server with memcached's default settings and one store shard, so that CAS
    /// uniques count up from 1 as in a fresh memcached.
    fn new(settings: Settings) -> Server {
        let value_bytes_max = settings.item_size_max - ppdb_memcache::item_size_bytes(1, 0, 0);
        let store = Store::new(StoreConfig {
            shards: 1,
            memory_bytes_max: settings.memory_bytes_max as usize,
            evict: !settings.evictions_disabled,
            value_bytes_max,
            ..StoreConfig::default()
        })
        .expect("store");
        let shared = Arc::new(Shared::new(settings, Arc::new(store), START));
        let counters = shared.register_worker();
        Server {
            exec: Executor::new(shared),
            counters,
            now: START,
            next_id: 1,
        }
    }

    /// Sends `input` on a new connection; returns the reply bytes and whether the server
    /// closed the connection. Counts connections and bytes as the runtime does.
    fn exchange(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let shared = self.exec.shared().clone();
        shared
            .global
            .curr_connections
            .fetch_add(1, Ordering::Relaxed);
        shared
            .global
            .total_connections
            .fetch_add(1, Ordering::Relaxed);
        let mut ctx = ConnContext {
            id: self.next_id,
            peer: Some(([127, 0, 0, 1], 40000 + self.next_id as u16).into()),
            counters: self.counters.clone(),
        };
        self.next_id += 1;
        let limits = Limits::with_item_size_max(shared.settings.item_size_max);
        let mut parser = Parser::new(limits);
        let (mut out, mut at, mut closed) = (Vec::new(), 0, false);
        loop {
            match parser.parse(&input[at..]) {
                Ok(Parsed::Complete { request, consumed }) => {
                    at += consumed;
                    WorkerCounters::add(&self.counters.bytes_read, consumed as u64);
                    let before = out.len();
                    let action = self.exec.execute(&mut ctx, request, self.now, &mut out);
                    let written = (out.len() - before) as u64;
                    WorkerCounters::add(&self.counters.bytes_written, written);
                    if action != Action::Continue {
                        closed = true;
                        break;
                    }
                }
                Ok(Parsed::Incomplete { .. }) => break,
                Err(_) => {
                    out.clear();
                    closed = true;
                    break;
                }
            }
        }
        shared
            .global
            .curr_connections
            .fetch_sub(1, Ordering::Relaxed);
        (out, closed)
    }

    /// Sends `input` and returns the reply as text.
    fn send(&mut self, input: &str) -> String {
        String::from_utf8_lossy(&self.exchange(input.as_bytes()).0).into_owned()
    }
}

#[test]
fn transcripts_reply_as_written() {
    let mut failures = Vec::new();
    let mut exchanges = 0;
    for file in transcript::all() {
        let mut server = Server::new(Settings::default());
        for exchange in &file.exchanges {
            exchanges += 1;
            server.now += exchange.sleep_secs;
            let at = format!("{}:{}", file.path.display(), exchange.line);
            let (reply, closed) = server.exchange(&exchange.input);
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
    }
    assert!(exchanges > 100, "only {exchanges} exchanges");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn shutdown_when_enabled() {
    let settings = Settings {
        shutdown_enabled: true,
        ..Settings::default()
    };
    let mut server = Server::new(settings);
    assert_eq!(
        server.send("shutdown foo\r\n"),
        "CLIENT_ERROR invalid shutdown mode\r\n"
    );
    let (out, closed) = server.exchange(b"version\r\nshutdown\r\nversion\r\n");
    assert!(closed);
    assert_eq!(out, format!("VERSION {VERSION}\r\n").as_bytes());
    let (out, closed) = server.exchange(b"shutdown graceful\r\nget a\r\n");
    assert!(closed && out.is_empty());
    let settings = server.send("stats settings\r\n");
    assert!(
        settings.contains("STAT shutdown_command yes\r\n"),
        "{settings}"
    );
}

#[test]
fn quit_closes_after_earlier_replies() {
    let mut server = Server::new(Settings::default());
    let (out, closed) = server.exchange(b"version\r\nquit\r\nversion\r\n");
    assert!(closed);
    assert_eq!(out, format!("VERSION {VERSION}\r\n").as_bytes());
}

#[test]
fn full_store_refuses_writes_under_no_evict() {
    let settings = Settings {
        memory_bytes_max: 1 << 20,
        evictions_disabled: true,
        ..Settings::default()
    };
    let mut server = Server::new(settings);
    let value = "x".repeat(100_000);
    let mut refused = None;
    for i in 0..100 {
        let reply = server.send(&format!("set k{i} 0 0 {}\r\n{value}\r\n", value.len()));
        if reply != "STORED\r\n" {
            refused = Some((i, reply));
            break;
        }
    }
    let (i, reply) = refused.expect("the store fills up");
    assert_eq!(reply, "SERVER_ERROR out of memory storing object\r\n");
    assert!(server.counters.store_no_memory.load(Ordering::Relaxed) >= 1);
    // A failed set unlinks the key's old item; noreply silences the error.
    let again = format!("set k0 0 0 {}\r\n{value}\r\n", value.len());
    let _ = server.send(&again);
    assert_eq!(
        server
            .send(&format!("set k{i} 0 0 1 noreply\r\nx\r\n"))
            .len(),
        0
    );
    let stats = server.send("stats\r\n");
    assert!(stats.contains("STAT store_no_memory "), "{stats}");
}

#[test]
fn counters_follow_memcached() {
    let mut server = Server::new(Settings::default());
    server.send("set a 0 0 1\r\n1\r\nget a b a\r\ngets a\r\nincr a 1\r\nincr b 1\r\n");
    server.send("decr a 1\r\ndecr b 1\r\ntouch a 0\r\ntouch b 0\r\ngat 0 a b\r\n");
    server.send("cas a 0 0 1 1\r\nx\r\ncas b 0 0 1 1\r\nx\r\ndelete a\r\ndelete a\r\n");
    server.send("mg a v\r\nms m 1 T0\r\nx\r\nmg m T5\r\nme m\r\nmd m\r\nmn\r\nflush_all\r\n");
    let c = server.counters.clone();
    let get = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    assert_eq!(
        (get(&c.cmd_get), get(&c.get_hits), get(&c.get_misses)),
        (5, 3, 2)
    );
    assert_eq!(
        (get(&c.cmd_touch), get(&c.touch_hits), get(&c.touch_misses)),
        (5, 3, 2)
    );
    assert_eq!((get(&c.incr_hits), get(&c.incr_misses)), (1, 1));
    assert_eq!((get(&c.decr_hits), get(&c.decr_misses)), (1, 1));
    assert_eq!(
        (get(&c.cas_hits), get(&c.cas_badval), get(&c.cas_misses)),
        (0, 1, 1)
    );
    assert_eq!((get(&c.delete_hits), get(&c.delete_misses)), (2, 1));
    assert_eq!(
        (get(&c.cmd_set), get(&c.cmd_meta), get(&c.cmd_flush)),
        (4, 1, 1)
    );
    server.send("stats reset\r\n");
    assert_eq!(get(&c.cmd_get), 0);
    assert!(server.send("stats\r\n").contains("STAT total_items 0\r\n"));
}

#[test]
fn one_client_wins_a_recache() {
    let mut server = Server::new(Settings::default());
    server.send("set k 0 100 1\r\nx\r\n");
    let replies: Vec<String> = (0..3).map(|_| server.send("mg k R200 c\r\n")).collect();
    assert_eq!(replies[0], "HD c1 W\r\n");
    assert_eq!(replies[1], "HD c1 Z\r\n");
    assert_eq!(replies[2], "HD c1 Z\r\n");
}

#[test]
fn concurrent_clients_see_exactly_one_win() {
    let server = Server::new(Settings::default());
    let exec = server.exec.clone();
    let mut setup = Vec::new();
    let mut ctx = ConnContext {
        id: 1,
        peer: None,
        counters: server.counters.clone(),
    };
    let mut parser = Parser::new(Limits::default());
    let input = b"set k 0 0 1\r\nx\r\nmd k I\r\n";
    let mut at = 0;
    while let Ok(Parsed::Complete { request, consumed }) = parser.parse(&input[at..]) {
        at += consumed;
        exec.execute(&mut ctx, request, START, &mut setup);
    }
    assert_eq!(setup, b"STORED\r\nHD\r\n");
    let threads: Vec<_> = (0..8)
        .map(|id| {
            let exec = exec.clone();
            let counters = Arc::new(WorkerCounters::default());
            std::thread::spawn(move || {
                let mut ctx = ConnContext {
                    id,
                    peer: None,
                    counters,
                };
                let mut wins = 0;
                for _ in 0..50 {
                    let mut parser = Parser::new(Limits::default());
                    let Ok(Parsed::Complete { request, .. }) = parser.parse(b"mg k\r\n") else {
                        panic!("mg parses");
                    };
                    let mut out = Vec::new();
                    exec.execute(&mut ctx, request, START, &mut out);
                    wins += usize::from(out.ends_with(b" W\r\n"));
                }
                wins
            })
        })
        .collect();
    let wins: usize = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    assert_eq!(wins, 1);
}
