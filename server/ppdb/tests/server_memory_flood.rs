//! Flooding a server with a small `-m` with several times that much data in distinct keys.
//!
//! With eviction (the default), the resident memory stays within `1.25 × m + 32 MiB` while the
//! flood runs, `stats` counts evictions and keeps `bytes` under `limit_maxbytes`, the keys
//! written last are all readable, and keys read all along (hot) outlive keys written at the
//! same time and never read (cold): the engine evicts by a CLOCK of merge epochs, a read
//! records the current epoch, and an eviction takes the oldest epochs first
//! (`docs/engine.md`, "Memory limit and eviction").
//!
//! With `-M`, a full server answers every new set with exactly
//! `SERVER_ERROR out of memory storing object`, every item it acknowledged stays readable,
//! and deletes still work and make room again.
//!
//! Sets are pipelined over raw sockets, several connections at once, so the flood takes a few
//! seconds even in a debug build.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use common::Server;

/// The memory limit of the flood, in MiB.
const MEMORY_MIB: u64 = 32;
/// How much data the flood writes: this many times the limit.
const FLOOD_FACTOR: u64 = 4;
/// Connections writing at once.
const WRITERS: u64 = 4;
/// Sets per pipelined batch.
const BATCH: u64 = 64;
/// The value sizes, in turn.
const VALUE_SIZES: [usize; 3] = [200, 2_000, 20_000];
/// Keys of each kind in the hot/cold comparison.
const HOT_KEYS: usize = 8;
/// Written last, once the flood is over, and all of it must still be readable: about 64 KiB
/// per shard, far below what one merge epoch of a shard holds (a 256 KiB memtable at `-m 32`),
/// and the newest epoch is evicted only after every older one. (The writers of the flood
/// itself do not finish together: the tail of the first one done may be long evicted.)
const RECENT_BYTES: u64 = 1 << 20;
/// The reply to a set refused under `-M`.
const OUT_OF_MEMORY: &[u8] = b"SERVER_ERROR out of memory storing object\r\n";

/// Held by each test: the two floods would otherwise share the CPUs and both take longer.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A connection with a buffered reader over the same socket.
struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn new(server: &Server) -> Conn {
        let writer = server.connect();
        writer
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        let reader = BufReader::new(writer.try_clone().expect("clone the socket"));
        Conn { writer, reader }
    }

    /// One reply line, with its `\r\n`.
    fn line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.reader
            .read_until(b'\n', &mut line)
            .expect("read a reply line");
        assert!(line.ends_with(b"\r\n"), "incomplete reply line {line:?}");
        line
    }

    /// Sends the sets of `items` in one write and returns their reply lines.
    fn set_all(&mut self, items: &[(String, Vec<u8>)]) -> Vec<Vec<u8>> {
        let mut request = Vec::new();
        for (key, value) in items {
            request.extend_from_slice(format!("set {key} 0 0 {}\r\n", value.len()).as_bytes());
            request.extend_from_slice(value);
            request.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&request).expect("send the sets");
        items.iter().map(|_| self.line()).collect()
    }

    /// `get` of every key: the values found.
    fn get_all(&mut self, keys: &[String]) -> HashMap<String, Vec<u8>> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(100) {
            let request = format!("get {}\r\n", chunk.join(" "));
            self.writer.write_all(request.as_bytes()).expect("send get");
            loop {
                let line = self.line();
                if line == b"END\r\n" {
                    break;
                }
                let text = String::from_utf8(line).expect("a text header");
                let fields: Vec<&str> = text.trim_end().split(' ').collect();
                assert!(
                    fields.len() == 4 && fields[0] == "VALUE",
                    "bad header {text:?}"
                );
                let len: usize = fields[3].parse().expect("value length");
                let mut data = vec![0u8; len + 2];
                self.reader.read_exact(&mut data).expect("value data");
                assert!(data.ends_with(b"\r\n"), "value of {} not ended", fields[1]);
                data.truncate(len);
                found.insert(fields[1].to_string(), data);
            }
        }
        found
    }

    /// `stats` as a map.
    fn stats(&mut self) -> HashMap<String, u64> {
        self.writer.write_all(b"stats\r\n").expect("send stats");
        let mut stats = HashMap::new();
        loop {
            let line = String::from_utf8(self.line()).expect("text");
            if line == "END\r\n" {
                return stats;
            }
            let mut fields = line.trim_end().splitn(3, ' ').skip(1);
            let (Some(name), Some(value)) = (fields.next(), fields.next()) else {
                panic!("bad stats line {line:?}");
            };
            if let Ok(value) = value.parse() {
                stats.insert(name.to_string(), value);
            }
        }
    }
}

/// The value of key number `i` of writer `writer`: recognisable, of one of the sizes in turn.
fn value(writer: u64, i: u64) -> Vec<u8> {
    let size = VALUE_SIZES[(i % VALUE_SIZES.len() as u64) as usize];
    format!("{writer}:{i};")
        .into_bytes()
        .into_iter()
        .cycle()
        .take(size)
        .collect()
}

/// Writes distinct keys `w<writer>:<i>` until `bytes` of values are sent; every set must be
/// `STORED`. Returns the keys with their values, in the order written.
fn flood(server: &Server, writer: u64, bytes: u64) -> Vec<(String, usize)> {
    let mut conn = Conn::new(server);
    let mut written = Vec::new();
    let (mut sent, mut i) = (0u64, 0u64);
    while sent < bytes {
        let items: Vec<(String, Vec<u8>)> = (i..i + BATCH)
            .map(|n| (format!("w{writer}:{n}"), value(writer, n)))
            .collect();
        i += BATCH;
        for (reply, (key, value)) in conn.set_all(&items).iter().zip(&items) {
            assert_eq!(reply, b"STORED\r\n", "set {key}");
            sent += value.len() as u64;
            written.push((key.clone(), value.len()));
        }
    }
    written
}

#[test]
fn flood_with_eviction_stays_bounded_and_keeps_recent_and_hot_keys() {
    let _serial = one_at_a_time();
    let begin = Instant::now();
    let limit_mib = MEMORY_MIB.to_string();
    let server = Server::start(&["-m", &limit_mib]);
    let rss_start_kib = server.rss_kib();
    let bound_kib = MEMORY_MIB * 1024 * 5 / 4 + 32 * 1024;
    let mut conn = Conn::new(&server);

    // Hot and cold keys, written together before the flood.
    let hot: Vec<String> = (0..HOT_KEYS).map(|i| format!("hot:{i}")).collect();
    let cold: Vec<String> = (0..HOT_KEYS).map(|i| format!("cold:{i}")).collect();
    let items: Vec<(String, Vec<u8>)> = hot
        .iter()
        .chain(&cold)
        .map(|key| (key.clone(), key.repeat(100).into_bytes()))
        .collect();
    for reply in conn.set_all(&items) {
        assert_eq!(reply, b"STORED\r\n");
    }

    let done = AtomicBool::new(false);
    let rss_peak_kib = AtomicU64::new(rss_start_kib);
    let hot_reads = AtomicU64::new(0);
    let per_writer = MEMORY_MIB * FLOOD_FACTOR * (1 << 20) / WRITERS;
    let written: Vec<Vec<(String, usize)>> = thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                rss_peak_kib.fetch_max(server.rss_kib(), Ordering::Relaxed);
                thread::sleep(Duration::from_millis(5));
            }
        });
        scope.spawn(|| {
            // Reads the hot keys all along, so each read records a recent epoch.
            let mut reader = Conn::new(&server);
            while !done.load(Ordering::Relaxed) {
                reader.get_all(&hot);
                hot_reads.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(1));
            }
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let server = &server;
                scope.spawn(move || flood(server, w, per_writer))
            })
            .collect();
        let mut written: Vec<_> = writers
            .into_iter()
            .map(|h| h.join().expect("writer"))
            .collect();
        // The recent keys, as writer number WRITERS.
        written.push(flood(&server, WRITERS, RECENT_BYTES));
        done.store(true, Ordering::Relaxed);
        written
    });
    let flood_secs = begin.elapsed().as_secs_f64();
    let rss_peak_kib = rss_peak_kib.load(Ordering::Relaxed).max(server.rss_kib());
    let stats = conn.stats();
    let keys_written: usize = written.iter().map(Vec::len).sum();

    // The keys written last are all there, with their values.
    let recent = written.last().expect("the recent keys");
    let recent_keys: Vec<String> = recent.iter().map(|(key, _)| key.clone()).collect();
    let found = conn.get_all(&recent_keys);
    let recent_lost: Vec<&str> = recent_keys
        .iter()
        .enumerate()
        .filter(|(i, key)| found.get(*key) != Some(&value(WRITERS, *i as u64)))
        .map(|(_, key)| key.as_str())
        .collect();
    // Hot keys survive; cold ones, never read since, are evicted first.
    let hot_found = conn.get_all(&hot).len();
    let cold_found = conn.get_all(&cold).len();
    let first_keys: Vec<String> = written
        .iter()
        .take(WRITERS as usize)
        .flat_map(|keys| keys.iter().take(200).map(|(key, _)| key.clone()))
        .collect();
    let first_found = conn.get_all(&first_keys).len();

    eprintln!(
        "flood: {keys_written} keys, {} MiB in {flood_secs:.1} s; RSS {rss_start_kib} KiB at \
         start, {rss_peak_kib} KiB at most (bound {bound_kib} KiB); evictions {}, bytes {} of \
         {}; recent {}/{} found; hot {hot_found}/{HOT_KEYS} (read {} times), cold \
         {cold_found}/{HOT_KEYS}; first keys {first_found}/{}",
        MEMORY_MIB * FLOOD_FACTOR,
        stats["evictions"],
        stats["bytes"],
        stats["limit_maxbytes"],
        recent.len() - recent_lost.len(),
        recent.len(),
        hot_reads.load(Ordering::Relaxed),
        first_keys.len(),
    );
    assert!(
        recent_lost.is_empty(),
        "recently written keys lost or wrong: {recent_lost:?}"
    );
    assert!(
        rss_peak_kib <= bound_kib,
        "RSS reached {rss_peak_kib} KiB, over the bound of {bound_kib} KiB"
    );
    assert!(stats["evictions"] > 0, "no evictions: {stats:?}");
    assert_eq!(stats["limit_maxbytes"], MEMORY_MIB << 20);
    assert!(
        stats["bytes"] <= stats["limit_maxbytes"],
        "bytes over the limit: {stats:?}"
    );
    assert_eq!(hot_found, HOT_KEYS, "a hot key was evicted");
    assert!(
        cold_found < hot_found,
        "cold keys ({cold_found}) survived as well as hot ones ({hot_found})"
    );
    assert!(
        first_found < first_keys.len() / 2,
        "most of the first keys survived a flood of {FLOOD_FACTOR} times the limit"
    );
}

#[test]
fn full_without_eviction_refuses_sets_and_keeps_what_it_stored() {
    let _serial = one_at_a_time();
    let begin = Instant::now();
    let memory_mib: u64 = 16;
    let server = Server::start(&["-m", &memory_mib.to_string(), "-M"]);
    let mut conn = Conn::new(&server);
    let value_len = 4000;
    let mut stored: Vec<String> = Vec::new();
    let mut refused_in_a_row = 0;
    let mut i = 0u64;
    // Fill with distinct keys until 200 sets in a row are refused: then every shard is full.
    while refused_in_a_row < 200 {
        assert!(
            i < 4 * (memory_mib << 20) / value_len,
            "still not full after {i} sets of {value_len} bytes"
        );
        let items: Vec<(String, Vec<u8>)> = (i..i + BATCH)
            .map(|n| (format!("k{n}"), stored_value(n, value_len as usize)))
            .collect();
        i += BATCH;
        for (reply, (key, _)) in conn.set_all(&items).iter().zip(&items) {
            if reply == b"STORED\r\n" {
                stored.push(key.clone());
                refused_in_a_row = 0;
            } else {
                assert_eq!(
                    String::from_utf8_lossy(reply),
                    String::from_utf8_lossy(OUT_OF_MEMORY),
                    "set {key}"
                );
                refused_in_a_row += 1;
            }
        }
    }
    let refused = i as usize - stored.len();
    // Full: new sets are refused, exactly so.
    let more: Vec<(String, Vec<u8>)> = (0..50)
        .map(|n| (format!("more{n}"), stored_value(n, value_len as usize)))
        .collect();
    for reply in conn.set_all(&more) {
        assert_eq!(reply, OUT_OF_MEMORY);
    }
    let stats = conn.stats();
    assert_eq!(stats["evictions"], 0);
    assert!(stats["store_no_memory"] >= 250, "{stats:?}");
    assert!(stats["bytes"] <= stats["limit_maxbytes"], "{stats:?}");
    assert_eq!(stats["curr_items"], stored.len() as u64);

    // Nothing acknowledged was lost.
    let found = conn.get_all(&stored);
    for key in &stored {
        let n: u64 = key[1..].parse().expect("index");
        assert!(
            found.get(key) == Some(&stored_value(n, value_len as usize)),
            "stored key {key} lost or wrong"
        );
    }

    // Deleting half the keys works and makes room for new ones.
    let (deleted, kept) = stored.split_at(stored.len() / 2);
    let mut request = Vec::new();
    for key in deleted {
        request.extend_from_slice(format!("delete {key}\r\n").as_bytes());
    }
    conn.writer.write_all(&request).expect("send deletes");
    for key in deleted {
        assert_eq!(conn.line(), b"DELETED\r\n", "delete {key}");
    }
    assert!(
        conn.get_all(deleted).is_empty(),
        "deleted keys still readable"
    );
    let fresh: Vec<(String, Vec<u8>)> = (0..50)
        .map(|n| (format!("fresh{n}"), stored_value(n, value_len as usize)))
        .collect();
    let replies = conn.set_all(&fresh);
    let refused_after = replies.iter().filter(|r| *r != b"STORED\r\n").count();
    let bytes_after = conn.stats()["bytes"];
    assert_eq!(
        refused_after,
        0,
        "{refused_after} of {} sets refused after deleting {} keys (bytes {} before the \
         deletes, {bytes_after} after): deletes do not make room",
        fresh.len(),
        deleted.len(),
        stats["bytes"],
    );
    let found = conn.get_all(kept);
    assert_eq!(found.len(), kept.len(), "kept keys lost after the deletes");
    let fresh_keys: Vec<String> = fresh.iter().map(|(key, _)| key.clone()).collect();
    assert_eq!(conn.get_all(&fresh_keys).len(), fresh.len());
    eprintln!(
        "-M: {} keys of {value_len} bytes stored, {refused} refused before 200 in a row, \
         bytes {} of {}; {} deleted, {} new stored after, bytes {bytes_after}; {:.1} s",
        stored.len(),
        stats["bytes"],
        stats["limit_maxbytes"],
        deleted.len(),
        fresh.len(),
        begin.elapsed().as_secs_f64()
    );
}

/// The value of key number `n` in the `-M` test.
fn stored_value(n: u64, len: usize) -> Vec<u8> {
    format!("v{n}.")
        .into_bytes()
        .into_iter()
        .cycle()
        .take(len)
        .collect()
}
