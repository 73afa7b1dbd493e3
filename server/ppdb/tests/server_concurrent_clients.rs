//! Several clients at once, each a thread with its own `memcache` client crate connection,
//! interleaving three workloads:
//!
//! - `incr` of one shared counter: the final value is exactly the number of increments, and
//!   every increment returned a different value (each saw all the ones before it);
//! - `gets` + `cas` retry loops on one shared key: no update is lost, and the server's
//!   `cas_hits` and `cas_badval` match what the clients saw;
//! - sets of keys of their own, read back with the values each thread wrote.

mod common;

use std::collections::HashMap;
use std::thread;
use std::time::Instant;

use common::{exchange, Server};

/// Client threads.
const CLIENTS: u64 = 8;
/// Rounds per client; each round does one of each operation.
const ROUNDS: u64 = 300;

/// What one client saw.
#[derive(Default)]
struct Seen {
    /// The values its increments returned.
    increments: Vec<u64>,
    /// `cas` attempts refused because another client got there first.
    cas_retries: u64,
}

fn client(server: &Server) -> memcache::Client {
    memcache::Client::connect(server.url()).expect("connect the memcache client")
}

/// One `gets` + `cas` loop adding 1 to the number stored at `key`; returns the refused tries.
fn cas_increment(client: &memcache::Client, key: &str) -> u64 {
    let mut retries = 0;
    loop {
        let found: HashMap<String, (Vec<u8>, u32, Option<u64>)> =
            client.gets(&[key]).expect("gets");
        let (value, _, cas) = found.get(key).expect("the cas key exists");
        let number: u64 = String::from_utf8_lossy(value).parse().expect("a number");
        let cas = cas.expect("gets returns a CAS unique");
        let next = (number + 1).to_string();
        if client.cas(key, next.as_str(), 0, cas).expect("cas") {
            return retries;
        }
        retries += 1;
    }
}

/// The value client `c` stores at its key number `i`.
fn own_value(c: u64, i: u64) -> String {
    format!("client {c} key {i} ").repeat(1 + (i % 5) as usize)
}

/// One client's workload.
fn run_client(server: &Server, c: u64) -> Seen {
    let client = client(server);
    let mut seen = Seen::default();
    for i in 0..ROUNDS {
        seen.increments
            .push(client.increment("counter", 1).expect("incr"));
        seen.cas_retries += cas_increment(&client, "cas-counter");
        client
            .set(&format!("own:{c}:{i}"), own_value(c, i).as_str(), 0)
            .expect("set");
        // Read back an earlier key of this client now and then.
        if i % 10 == 9 {
            let back = i / 2;
            let value: Option<String> = client.get(&format!("own:{c}:{back}")).expect("get");
            assert_eq!(value, Some(own_value(c, back)), "client {c} key {back}");
        }
    }
    seen
}

/// `stats` as a map of the numeric fields.
fn stats(server: &Server) -> HashMap<String, u64> {
    let mut stream = server.connect();
    let reply = exchange(&mut stream, b"stats\r\n", b"END\r\n");
    String::from_utf8_lossy(&reply)
        .lines()
        .filter_map(|line| {
            let mut fields = line.strip_prefix("STAT ")?.splitn(2, ' ');
            let name = fields.next()?;
            Some((name.to_string(), fields.next()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn concurrent_clients_lose_no_update() {
    let begin = Instant::now();
    let server = Server::start(&[]);
    let setup = client(&server);
    setup.set("counter", "0", 0).expect("set the counter");
    setup.set("cas-counter", "0", 0).expect("set the cas key");

    let seen: Vec<Seen> = thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let server = &server;
                scope.spawn(move || run_client(server, c))
            })
            .collect();
        clients
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });

    let total = CLIENTS * ROUNDS;
    // incr: the final value, and every value in between returned exactly once.
    let counter: Option<String> = setup.get("counter").expect("get the counter");
    assert_eq!(counter, Some(total.to_string()));
    let mut increments: Vec<u64> = seen.iter().flat_map(|s| s.increments.clone()).collect();
    increments.sort_unstable();
    assert_eq!(increments, (1..=total).collect::<Vec<u64>>());
    for s in &seen {
        assert!(
            s.increments.windows(2).all(|w| w[0] < w[1]),
            "one client's increments went backwards"
        );
    }

    // cas: every successful cas counted once.
    let cas_counter: Option<String> = setup.get("cas-counter").expect("get the cas key");
    assert_eq!(
        cas_counter,
        Some(total.to_string()),
        "a cas update was lost"
    );
    let retries: u64 = seen.iter().map(|s| s.cas_retries).sum();
    let stats = stats(&server);
    assert_eq!(stats["cas_hits"], total);
    assert_eq!(stats["cas_badval"], retries);
    assert_eq!(stats["cas_misses"], 0);
    assert_eq!(stats["incr_hits"], total);

    // Every client's own keys, all read back at the end.
    for c in 0..CLIENTS {
        let keys: Vec<String> = (0..ROUNDS).map(|i| format!("own:{c}:{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let found: HashMap<String, String> = setup.gets(&refs).expect("gets own keys");
        assert_eq!(found.len(), keys.len(), "client {c} lost keys");
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(found[key], own_value(c, i as u64), "{key}");
        }
    }
    eprintln!(
        "{CLIENTS} clients x {ROUNDS} rounds: {total} increments, {total} cas updates with \
         {retries} refused tries, {} own keys; {:.1} s",
        total,
        begin.elapsed().as_secs_f64()
    );
}
