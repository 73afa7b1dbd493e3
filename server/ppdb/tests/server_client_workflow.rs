//! The common workflow through a real memcached client crate (`memcache`, text protocol): every
//! classic command, many keys, binary-safe values and values near the 1 MiB item limit.

mod common;

use std::collections::HashMap;

use common::Server;

fn client(server: &Server) -> memcache::Client {
    memcache::Client::connect(server.url()).expect("connect the memcache client")
}

#[test]
fn classic_commands_through_a_client_crate() {
    let server = Server::start(&[]);
    let client = client(&server);

    client.set("greeting", "hello", 0).unwrap();
    assert_eq!(
        client.get::<String>("greeting").unwrap().as_deref(),
        Some("hello")
    );
    assert_eq!(client.get::<String>("missing").unwrap(), None);

    // add only if absent, replace only if present (the crate reports NOT_STORED as success,
    // so look at the values).
    client.add("greeting", "again", 0).unwrap();
    assert_eq!(
        client.get::<String>("greeting").unwrap().as_deref(),
        Some("hello")
    );
    client.add("fresh", "new", 0).unwrap();
    assert_eq!(
        client.get::<String>("fresh").unwrap().as_deref(),
        Some("new")
    );
    client.replace("absent", "x", 0).unwrap();
    assert_eq!(client.get::<String>("absent").unwrap(), None);
    client.replace("fresh", "newer", 0).unwrap();
    assert_eq!(
        client.get::<String>("fresh").unwrap().as_deref(),
        Some("newer")
    );

    // append and prepend.
    client.append("greeting", ", world").unwrap();
    client.prepend("greeting", ">> ").unwrap();
    assert_eq!(
        client.get::<String>("greeting").unwrap().as_deref(),
        Some(">> hello, world")
    );

    // gets and cas: a stale unique fails, the current one stores.
    let found: HashMap<String, (Vec<u8>, u32, Option<u64>)> = client.gets(&["fresh"]).unwrap();
    let cas = found["fresh"].2.expect("gets returns a CAS unique");
    client.set("fresh", "changed", 0).unwrap();
    assert!(!client.cas("fresh", "lost", 0, cas).unwrap());
    let found: HashMap<String, (Vec<u8>, u32, Option<u64>)> = client.gets(&["fresh"]).unwrap();
    let cas = found["fresh"].2.expect("gets returns a CAS unique");
    assert!(client.cas("fresh", "won", 0, cas).unwrap());
    assert_eq!(
        client.get::<String>("fresh").unwrap().as_deref(),
        Some("won")
    );

    // incr and decr.
    client.set("counter", 10u64, 0).unwrap();
    assert_eq!(client.increment("counter", 5).unwrap(), 15);
    assert_eq!(
        client.decrement("counter", 20).unwrap(),
        0,
        "decr stops at 0"
    );

    // touch and delete.
    assert!(client.touch("counter", 100).unwrap());
    assert!(!client.touch("missing", 100).unwrap());
    assert!(client.delete("counter").unwrap());
    assert!(!client.delete("counter").unwrap());
    assert_eq!(client.get::<u64>("counter").unwrap(), None);

    // flush_all empties the cache.
    client.flush().unwrap();
    assert_eq!(client.get::<String>("greeting").unwrap(), None);
    assert_eq!(client.get::<String>("fresh").unwrap(), None);
}

#[test]
fn many_keys_and_a_multiget() {
    let server = Server::start(&[]);
    let client = client(&server);
    let keys: Vec<String> = (0..2000).map(|i| format!("key:{i:05}")).collect();
    for (i, key) in keys.iter().enumerate() {
        client.set(key, format!("value {i}"), 0).unwrap();
    }
    for (i, key) in keys.iter().enumerate().step_by(97) {
        assert_eq!(
            client.get::<String>(key).unwrap(),
            Some(format!("value {i}"))
        );
    }
    let some: Vec<&str> = keys.iter().take(500).map(String::as_str).collect();
    let found: HashMap<String, String> = client.gets(&some).unwrap();
    assert_eq!(found.len(), 500);
    assert_eq!(found["key:00042"], "value 42");
}

#[test]
fn binary_values_and_values_near_the_item_limit() {
    let server = Server::start(&[]);
    let client = client(&server);
    let binary: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    client.set("binary", &binary[..], 0).unwrap();
    assert_eq!(client.get::<Vec<u8>>("binary").unwrap(), Some(binary));
    let crlf = b"\r\nEND\r\nVALUE x 0 1\r\n\0".to_vec();
    client.set("tricky", &crlf[..], 0).unwrap();
    assert_eq!(client.get::<Vec<u8>>("tricky").unwrap(), Some(crlf));

    // With a 3-byte key and flags 0, memcached's -I of 1 MiB fits 1048514 bytes of value.
    let largest: Vec<u8> = (0..1_048_514u32).map(|i| (i * 7 % 251) as u8).collect();
    client.set("big", &largest[..], 0).unwrap();
    assert_eq!(client.get::<Vec<u8>>("big").unwrap(), Some(largest.clone()));
    let too_large = [largest.as_slice(), b"x"].concat();
    assert!(client.set("big", &too_large[..], 0).is_err());
    // A failed set removes the old value, as in memcached.
    assert_eq!(client.get::<Vec<u8>>("big").unwrap(), None);
    // The connection is still usable after the refused data block was swallowed.
    client.set("after", "ok", 0).unwrap();
    assert_eq!(
        client.get::<String>("after").unwrap().as_deref(),
        Some("ok")
    );
}
