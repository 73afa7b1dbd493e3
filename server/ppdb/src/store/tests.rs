//! Unit tests of memcached's item semantics on the store.

use super::*;

fn store() -> Store {
    Store::new(StoreConfig {
        shards: 4,
        memory_bytes_max: 0,
        ..StoreConfig::default()
    })
    .unwrap()
}

const NOW: u64 = 1_000_000;

fn set(s: &Store, k: &[u8], v: &[u8]) -> u64 {
    match s
        .store(StoreMode::Set, k, v, 0, Expiry::Never, NOW)
        .unwrap()
    {
        StoreOutcome::Stored(cas) => cas,
        other => panic!("set: {other:?}"),
    }
}

fn value(s: &Store, k: &[u8]) -> Option<Vec<u8>> {
    s.get(k, NOW).map(|i| i.value)
}

#[test]
fn add_replace_append_prepend() {
    let s = store();
    let o = |m, k: &[u8], v: &[u8]| s.store(m, k, v, 5, Expiry::Never, NOW).unwrap();
    assert_eq!(o(StoreMode::Replace, b"k", b"x"), StoreOutcome::NotStored);
    assert_eq!(o(StoreMode::Append, b"k", b"x"), StoreOutcome::NotStored);
    assert!(matches!(
        o(StoreMode::Add, b"k", b"mid"),
        StoreOutcome::Stored(_)
    ));
    assert_eq!(o(StoreMode::Add, b"k", b"again"), StoreOutcome::NotStored);
    s.store(
        StoreMode::Replace,
        b"k",
        b"mid",
        9,
        Expiry::At(NOW + 100),
        NOW,
    )
    .unwrap();
    o(StoreMode::Append, b"k", b">");
    o(StoreMode::Prepend, b"k", b"<");
    let item = s.get(b"k", NOW).unwrap();
    assert_eq!(item.value, b"<mid>");
    assert_eq!(
        (item.flags, item.expire_at),
        (9, NOW + 100),
        "append keeps flags and expiry"
    );
}

#[test]
fn cas_semantics() {
    let s = store();
    assert_eq!(
        s.store(StoreMode::Cas(1), b"k", b"v", 0, Expiry::Never, NOW)
            .unwrap(),
        StoreOutcome::NotFound
    );
    let c1 = set(&s, b"k", b"v1");
    assert_eq!(s.get(b"k", NOW).unwrap().cas, c1);
    let bad = s
        .store(
            StoreMode::Cas(c1 + 1000),
            b"k",
            b"v2",
            0,
            Expiry::Never,
            NOW,
        )
        .unwrap();
    assert_eq!(bad, StoreOutcome::Exists);
    let StoreOutcome::Stored(c2) = s
        .store(StoreMode::Cas(c1), b"k", b"v2", 0, Expiry::Never, NOW)
        .unwrap()
    else {
        panic!("cas with the right unique must store")
    };
    assert_ne!(c1, c2, "every modification changes the CAS unique");
    assert_eq!(value(&s, b"k").unwrap(), b"v2");
}

#[test]
fn arithmetic_wraps_floors_pads_and_refuses_text() {
    let s = store();
    assert_eq!(
        s.arithmetic(b"n", ArithmeticMode::Increment, 1, NOW)
            .unwrap(),
        None
    );
    set(&s, b"n", b"100");
    let dec = s
        .arithmetic(b"n", ArithmeticMode::Decrement, 1, NOW)
        .unwrap();
    assert_eq!(dec, Some(99));
    assert_eq!(value(&s, b"n").unwrap(), b"99 ", "memcached pads in place");
    assert_eq!(
        s.arithmetic(b"n", ArithmeticMode::Decrement, 500, NOW)
            .unwrap(),
        Some(0)
    );
    set(&s, b"n", u64::MAX.to_string().as_bytes());
    assert_eq!(
        s.arithmetic(b"n", ArithmeticMode::Increment, 2, NOW)
            .unwrap(),
        Some(1)
    );
    set(&s, b"t", b"abc");
    let err = s
        .arithmetic(b"t", ArithmeticMode::Increment, 1, NOW)
        .unwrap_err();
    assert_eq!(err, StoreError::NonNumeric);
}

#[test]
fn touch_and_gat_keep_the_cas_unique() {
    let s = store();
    let cas = set(&s, b"k", b"v");
    assert!(s.touch(b"k", Expiry::At(NOW + 10), NOW).unwrap());
    assert!(!s.touch(b"missing", Expiry::At(NOW + 10), NOW).unwrap());
    let item = s
        .get_and_touch(b"k", Expiry::At(NOW + 20), NOW)
        .unwrap()
        .unwrap();
    assert_eq!(
        (item.cas, item.expire_at, item.value.as_slice()),
        (cas, NOW + 20, &b"v"[..])
    );
    assert_eq!(s.get(b"k", NOW).unwrap().cas, cas);
    assert!(
        s.get(b"k", NOW + 20).is_none(),
        "expired at the new deadline"
    );
    // The kept CAS still works for cas.
    let again = s
        .store(StoreMode::Cas(cas), b"k", b"w", 0, Expiry::Never, NOW)
        .unwrap();
    assert!(matches!(again, StoreOutcome::Stored(_)));
}

#[test]
fn expiry_and_lookup_reasons() {
    let s = store();
    s.store(StoreMode::Set, b"k", b"v", 0, Expiry::At(NOW + 5), NOW)
        .unwrap();
    s.store(StoreMode::Set, b"dead", b"v", 0, Expiry::Expired, NOW)
        .unwrap();
    assert_eq!(
        s.get_with(b"k", NOW + 4, |v| v.is_some()),
        (Found::Hit, true)
    );
    assert_eq!(
        s.get_with(b"k", NOW + 5, |v| v.is_some()),
        (Found::Expired, false)
    );
    assert_eq!(s.get_with(b"dead", NOW, |_| ()).0, Found::Expired);
    assert_eq!(s.get_with(b"nope", NOW, |_| ()).0, Found::Miss);
    set(&s, b"f", b"v");
    s.flush_all(NOW, NOW);
    // The flush merges at once, so the item is usually reclaimed already (a miss); the
    // engine's own tests cover `Lookup::Flushed` before a merge.
    assert!(matches!(
        s.get_with(b"f", NOW, |_| ()).0,
        Found::Flushed | Found::Miss
    ));
}

#[test]
fn delete_and_delayed_flush() {
    let s = store();
    set(&s, b"a", b"1");
    assert!(s.delete(b"a", NOW).unwrap());
    assert!(!s.delete(b"a", NOW).unwrap());
    set(&s, b"b", b"2");
    s.flush_all(NOW + 10, NOW);
    assert!(
        s.get(b"b", NOW + 9).is_some(),
        "the flush waits for its time"
    );
    assert!(s.get(b"b", NOW + 10).is_none(), "and then takes effect");
    set(&s, b"c", b"3");
    assert!(
        s.get(b"c", NOW + 11).is_some(),
        "items stored after it live on"
    );
}

#[test]
fn item_counts_follow_commands() {
    let s = store();
    for i in 0..100u32 {
        set(&s, format!("k{i}").as_bytes(), b"v");
    }
    set(&s, b"k1", b"again");
    assert_eq!(s.stats().curr_items, 100);
    assert_eq!(s.stats().total_items, 101);
    for i in 0..10u32 {
        s.delete(format!("k{i}").as_bytes(), NOW).unwrap();
    }
    assert_eq!(s.stats().curr_items, 90);
    s.flush_all(NOW, NOW);
    assert_eq!(s.stats().curr_items, 0);
    set(&s, b"after", b"v");
    assert_eq!(s.stats().curr_items, 1);
}

#[test]
fn memory_limit_evicts_or_refuses() {
    for evict in [true, false] {
        let limit = 4 << 20;
        let s = Store::new(StoreConfig {
            shards: 4,
            memory_bytes_max: limit,
            evict,
            ..StoreConfig::default()
        })
        .unwrap();
        let value = vec![7u8; 1000];
        let mut refused = 0;
        for i in 0..20_000u32 {
            match s.store(
                StoreMode::Set,
                format!("key{i}").as_bytes(),
                &value,
                0,
                Expiry::Never,
                NOW,
            ) {
                Ok(StoreOutcome::Stored(_)) => {}
                Err(StoreError::OutOfMemory) => refused += 1,
                other => panic!("{other:?}"),
            }
        }
        let st = s.stats();
        assert!(st.bytes <= limit as u64, "{st:?}");
        if evict {
            assert_eq!(refused, 0);
            assert!(st.evictions > 10_000, "{st:?}");
            assert!(s.get(b"key19999", NOW).is_some());
        } else {
            assert!(refused > 10_000);
            assert_eq!(st.evictions, 0);
            assert!(
                s.get(b"key0", NOW).is_some(),
                "nothing acknowledged is lost under -M"
            );
        }
        let curr = st.curr_items as i64;
        let stored = if evict {
            20_000 - st.evictions as i64
        } else {
            20_000 - refused
        };
        assert_eq!(curr, stored, "{st:?}");
    }
}

#[test]
fn background_merges_pause_after_a_turn_of_work() {
    let background = StoreConfig {
        background_merges: true,
        ..StoreConfig::default()
    };
    assert!(background.engine_config(0).pause.is_some());
    assert!(StoreConfig::default().engine_config(0).pause.is_none());

    new_turn();
    let began = TURN_START.with(Cell::get).expect("a turn began");
    thread::sleep(MAINTENANCE_TURN * 5);
    pause();
    let next = TURN_START.with(Cell::get).expect("a turn began");
    assert!(
        next >= began + MAINTENANCE_TURN * 5,
        "a pause after the turn starts a new one"
    );
}
