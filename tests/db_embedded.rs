//! The embedded `Db` API on both platforms: it reads the platform clock for expiry, and the
//! simulator's clock moves only when told to.

use std::time::Duration;

use ppdb_core::{Config, Db, Error, Isolation, PutOptions};
use ppdb_platform::{Clock, Platform};
use ppdb_platform_sim::SimPlatform;
use ppdb_platform_std::StdPlatform;

#[test]
fn expiry_follows_the_simulated_clock() {
    let db = Db::open(Config::default(), SimPlatform::new(7)).unwrap();
    let now = db.now();
    db.put_with(
        b"session",
        b"token",
        PutOptions {
            flags: 3,
            expire_at: now + 10,
            ..PutOptions::default()
        },
    )
    .unwrap();
    db.put(b"forever", b"v").unwrap();
    assert_eq!(db.get(b"session").unwrap().unwrap().flags, 3);
    db.platform().clock.advance(Duration::from_secs(9));
    assert!(db.get(b"session").unwrap().is_some());
    db.platform().clock.advance(Duration::from_secs(1));
    assert!(
        db.get(b"session").unwrap().is_none(),
        "expired at exactly expire_at"
    );
    assert_eq!(db.scan(..).count(), 1);
    assert_eq!(db.platform().clock().unix_time_secs(), now + 10);
}

#[test]
fn api_round_trip_on_the_std_platform() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(Config::default(), StdPlatform::new(dir.path())).unwrap();
    let v1 = db.put(b"k", b"v1").unwrap();
    let snap = db.snapshot();
    db.put(b"k", b"v2").unwrap();
    assert_eq!(db.get_at(&snap, b"k").unwrap().unwrap().value, b"v1");
    assert_eq!(
        db.compare_and_swap(b"k", Some(v1), Some(b"v3")),
        Err(Error::Conflict)
    );
    let current = db.get(b"k").unwrap().unwrap().seq;
    db.compare_and_swap(b"k", Some(current), None).unwrap();
    assert!(db.get(b"k").unwrap().is_none());
    db.transaction(|txn| {
        txn.put(b"a", b"1")?;
        txn.put(b"b", b"2")?;
        Ok(())
    })
    .unwrap();
    let mut t = db.begin(Isolation::Snapshot);
    t.put(b"c", b"3").unwrap();
    t.rollback();
    let keys: Vec<Vec<u8>> = db.scan(..).map(|(k, _)| k).collect();
    assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec()]);
    assert!(matches!(db.get(b""), Err(Error::InvalidKey { .. })));
    assert!(db.stats().seq_visible >= 5);
}
